// `replicant rdb export`: every key of an RDB as one record (db, key, type, value, expiry), as
// JSON lines or as a stream of MessagePack objects. The format is described in
// docs/rdb-tools.md; in short:
//
// - Redis strings (keys, values, fields, members, stream fields, group and consumer names) are
//   byte strings. In JSON a string whose bytes are valid UTF-8 is a JSON string; any other is
//   an object {"base64": "<the bytes in base64>"}. In MessagePack the first kind is a str, the
//   second a bin.
// - Values: string -> string; list -> array; set -> array (file order); zset -> array of
//   [member, score] in rank order (scores are numbers; "inf" / "-inf" as strings in JSON);
//   hash -> array of [field, value] or [field, value, expireMs] for fields with a TTL (7.4+);
//   stream -> object (entries, ids, groups); module -> object (module name, encver, raw payload).
// - `expire_ms`: absolute unix time in milliseconds, or null.
//
// The parser drives everything: no dataset is kept, each record is encoded and written as it
// is read, so exporting a large file needs memory for one record at a time.

import { isUtf8 } from "node:buffer";
import { closeSync, openSync } from "node:fs";
import { Packr } from "msgpackr";
import { FdWriter } from "../common/fd-writer.ts";
import { globMatcher } from "../common/glob.ts";
import { moduleEncodingVersion } from "./constants.ts";
import { parseRdbFileSync, TOOL_MEMORY_BUDGET } from "./loader.ts";
import type { RdbParser, RdbSink } from "./reader.ts";
import { HashValue } from "../store/hash.ts";
import { ListValue } from "../store/list.ts";
import { SetValue } from "../store/set.ts";
import { StreamValue, formatId, type IdPart } from "../store/stream.ts";
import { ModuleValue, type RedisValue } from "../store/values.ts";
import { ZSetValue } from "../store/zset.ts";

export type ExportFormat = "jsonl" | "msgpack";

/** How byte strings become output values: JSON strings/objects, or msgpack str/bin. */
export interface ByteStringCodec<T> {
  /** A byte string held as a latin1 string (one char per byte). */
  bytes(s: string): T;
  /** A byte string held as a Buffer. */
  buffer(b: Buffer): T;
}

/**
 * The text of a latin1 (one char per byte) string when its bytes are valid UTF-8, else null.
 * isUtf8 rather than a fatal TextDecoder: no exception per binary value (a snapshot's DUMP
 * payloads are mostly binary), and a leading BOM is kept, not stripped.
 */
function utf8Text(s: string): string | null {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s;
  const b = Buffer.from(s, "latin1");
  return isUtf8(b) ? b.toString("utf8") : null;
}

/** JSON representation of a byte string: its UTF-8 text, or {"base64": ...}. */
export const jsonBytes: ByteStringCodec<string | { base64: string }> = {
  bytes(s) {
    const text = utf8Text(s);
    return text !== null ? text : { base64: Buffer.from(s, "latin1").toString("base64") };
  },
  buffer(b) {
    return isUtf8(b) ? b.toString("utf8") : { base64: b.toString("base64") };
  },
};

/** MessagePack representation of a byte string: str when valid UTF-8, else bin. */
export const msgpackBytes: ByteStringCodec<string | Buffer> = {
  bytes(s) {
    const text = utf8Text(s);
    return text !== null ? text : Buffer.from(s, "latin1");
  },
  buffer(b) {
    return isUtf8(b) ? b.toString("utf8") : b;
  },
};

/** A 64-bit quantity as a number when exact, else its decimal string. */
function int(v: IdPart): number | string {
  if (typeof v === "number") return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function score(v: number, json: boolean): number | string {
  if (json && !Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

/** The TYPE name of a value ("module" for module values, whose type name is given apart). */
export function exportTypeName(v: RedisValue): string {
  if (typeof v === "string") return "string";
  if (v instanceof ListValue) return "list";
  if (v instanceof HashValue) return "hash";
  if (v instanceof SetValue) return "set";
  if (v instanceof ZSetValue) return "zset";
  if (v instanceof StreamValue) return "stream";
  return "module";
}

/**
 * A value as plain data (arrays, objects, numbers, and byte strings through `codec`).
 * `fieldTtls`: hash field -> absolute unix ms (7.4 / Valkey 9 hashes with field expiries).
 */
export function plainValue<T>(v: RedisValue, codec: ByteStringCodec<T>, json: boolean, fieldTtls?: Map<string, number>): unknown {
  const b = (s: string) => codec.bytes(s);
  if (typeof v === "string") return b(v);
  if (v instanceof ListValue) return v.toArray().map(b);
  if (v instanceof SetValue) {
    const out: T[] = [];
    for (const m of v) out.push(b(m));
    return out;
  }
  if (v instanceof HashValue) {
    const out: unknown[] = [];
    for (const [f, val] of v) {
      const ttl = fieldTtls?.get(f);
      out.push(ttl === undefined ? [b(f), b(val)] : [b(f), b(val), ttl]);
    }
    return out;
  }
  if (v instanceof ZSetValue) {
    const out: unknown[] = [];
    for (const n = v.cursor(0); n.next(); ) out.push([b(n.member), score(n.score, json)]);
    return out;
  }
  if (v instanceof StreamValue) {
    const entries: unknown[] = [];
    for (const e of v.entries) entries.push([formatId(e.id), e.fields.map(b)]);
    const groups: unknown[] = [];
    for (const g of v.groups.values()) {
      const pending: unknown[] = [];
      for (const pe of g.pending.values()) pending.push([formatId(pe.id), b(pe.consumer), pe.deliveryTime, pe.deliveryCount]);
      const consumers: unknown[] = [];
      for (const c of g.consumers.values()) {
        consumers.push({ name: b(c.name), seen_time: c.seenTime, active_time: c.activeTime, pending: [...c.pending.values()].map((pe) => formatId(pe.id)) });
      }
      groups.push({ name: b(g.name), last_id: formatId(g.lastId), entries_read: int(g.entriesRead), pending, consumers });
    }
    return {
      length: v.length,
      last_id: formatId(v.lastId),
      first_id: formatId(v.firstId),
      max_deleted_id: formatId(v.maxDeletedId),
      entries_added: int(v.entriesAdded),
      entries,
      groups,
    };
  }
  const m = v as ModuleValue;
  const payload = json ? { base64: m.payload.toString("base64") } : m.payload;
  return { module: m.typeName, encver: moduleEncodingVersion(m.moduleId), module_id: m.moduleId.toString(), payload };
}

interface ExportOptions {
  format?: ExportFormat;
  /** Only keys of this database. */
  db?: number;
  /** Only keys matching this glob-style pattern (as KEYS / SCAN MATCH). */
  match?: string;
  /** Output file; default: standard output. */
  out?: string;
  /** Called every chunk of the file (1 MiB) with the bytes read and the keys read so far. */
  onProgress?(bytesRead: number, keysRead: number): void;
}

interface ExportSummary {
  version: number;
  keysRead: number;
  keysExported: number;
  checksumVerified: boolean;
}

/** Exports the keys of an RDB file. Throws RdbError on bad data (after writing what was read). */
export function exportRdbFile(path: string, options: ExportOptions = {}): ExportSummary {
  const format = options.format ?? "jsonl";
  const json = format === "jsonl";
  const packr = new Packr({ useRecords: false, variableMapSize: true });
  const fd = options.out ? openSync(options.out, "w") : 1;
  const out = new FdWriter(fd);
  let keysRead = 0;
  let keysExported = 0;
  let pendingTtls: { db: number; key: string; ttls: Map<string, number> } | null = null;
  const matches = options.match === undefined ? null : globMatcher(options.match);
  const sink: RdbSink = {
    hashFieldTtls(db, key, ttls) {
      pendingTtls = { db, key, ttls };
    },
    key(db, key, value, expireMs) {
      keysRead++;
      const ttls = pendingTtls !== null && pendingTtls.db === db && pendingTtls.key === key ? pendingTtls.ttls : undefined;
      pendingTtls = null;
      if (options.db !== undefined && db !== options.db) return;
      if (matches !== null && !matches(key)) return;
      keysExported++;
      const type = exportTypeName(value);
      const record = {
        db,
        key: json ? jsonBytes.bytes(key) : msgpackBytes.bytes(key),
        type,
        expire_ms: expireMs === -1 ? null : expireMs,
        value: json ? plainValue(value, jsonBytes, true, ttls) : plainValue(value, msgpackBytes, false, ttls),
      };
      if (json) out.write(`${JSON.stringify(record)}\n`);
      else out.write(packr.pack(record));
    },
  };
  try {
    const onProgress = options.onProgress;
    const parser: RdbParser = parseRdbFileSync(path, sink, {
      maxDatabases: Number.MAX_SAFE_INTEGER,
      chunkSize: 1 << 20,
      memoryBudget: TOOL_MEMORY_BUDGET,
      onChunk: onProgress ? (bytes) => onProgress(bytes, keysRead) : undefined,
    });
    return { version: parser.version, keysRead, keysExported, checksumVerified: parser.checksumVerified };
  } finally {
    out.flush();
    if (options.out) closeSync(fd);
  }
}
