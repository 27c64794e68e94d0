// `replicant rdb check`: reads a whole RDB file (like redis-check-rdb) and reports its version,
// AUX fields, keys per database and per type, expiries, functions, module data and the
// checksum status; or the first problem, with its byte offset.
//
// The file is streamed: no record is kept once counted, so memory does not grow with the
// file, except for the duplicate-key check (redis-server refuses a file that holds a key twice
// in a database, and so do we). That check keeps a 64-bit fingerprint per key in typed arrays
// (11 to 21 bytes a key, not the ~100 of a string in a Set). Two keys with the same fingerprint
// are only suspects: the file is then read a second time, keeping the real keys of those
// fingerprints alone, and that pass's report (the error at the duplicate, if it is one) is the
// answer. With 64 bits a second pass is practically never needed (1 in ~10^7 at 1M keys).

import { statSync } from "node:fs";
import { moduleTypeName, rdbTypeName } from "./constants.ts";
import { RdbError } from "./errors.ts";
import { parseRdbFileSync, TOOL_MEMORY_BUDGET } from "./loader.ts";
import type { RdbParser, RdbSink } from "./reader.ts";
import { exportTypeName } from "./export.ts";
import type { RedisValue } from "../store/values.ts";
import { ModuleValue } from "../store/values.ts";

interface DbReport {
  keys: number;
  expires: number;
  /** Keys whose expiry is before the time of the check. */
  alreadyExpired: number;
  /** Keys per TYPE name (string, list, set, zset, hash, stream, module). */
  types: Map<string, number>;
  /** Keys per RDB encoding (the type byte's name: hash_listpack, list_quicklist2...). */
  encodings: Map<string, number>;
}

/** Keys remembered for the duplicate-key check (a 64-bit fingerprint each); beyond, not checked. */
const DUPLICATE_CHECK_LIMIT = 20_000_000;

/** The two 32-bit halves of a key's fingerprint in its database (FNV-1a and a multiply-xorshift). */
function fingerprint(db: number, key: string, out: Uint32Array): void {
  let a = (0x811c9dc5 ^ db) >>> 0;
  let b = (0x9e3779b9 ^ Math.imul(db, 0x85ebca6b) ^ key.length) >>> 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  out[0] = a >>> 0;
  // (0, 0) marks an empty slot: the second half is never 0.
  out[1] = (b ^ (b >>> 16)) >>> 0 || 1;
}

/** A set of fingerprints: open addressing (linear probing) over two Uint32Arrays. */
class FingerprintSet {
  private hi = new Uint32Array(1 << 16);
  private lo = new Uint32Array(1 << 16);
  private count = 0;

  /** Makes room for `n` more (a RESIZEDB hint), so the table does not grow step by step. */
  reserve(n: number): void {
    const want = Math.min(this.count + n, DUPLICATE_CHECK_LIMIT);
    let size = this.hi.length;
    while (want * 4 >= size * 3) size *= 2;
    if (size > this.hi.length) this.grow(size);
  }

  /** Adds one; false if it was there already. */
  add(h: number, l: number): boolean {
    if (this.count * 4 >= this.hi.length * 3) this.grow(this.hi.length * 2);
    const mask = this.hi.length - 1;
    let i = h & mask;
    for (;;) {
      const sl = this.lo[i]!;
      if (sl === 0) break;
      if (sl === l && this.hi[i] === h) return false;
      i = (i + 1) & mask;
    }
    this.hi[i] = h;
    this.lo[i] = l;
    this.count++;
    return true;
  }

  private grow(size: number): void {
    const { hi, lo } = this;
    this.hi = new Uint32Array(size);
    this.lo = new Uint32Array(size);
    const mask = this.hi.length - 1;
    for (let j = 0; j < hi.length; j++) {
      const l = lo[j]!;
      if (l === 0) continue;
      let i = hi[j]! & mask;
      while (this.lo[i] !== 0) i = (i + 1) & mask;
      this.hi[i] = hi[j]!;
      this.lo[i] = l;
    }
  }
}

const fpKey = (h: number, l: number) => `${h}:${l}`;

type ChecksumStatus = "ok" | "zero" | "absent" | "not-checked";

interface CheckReport {
  file: string;
  fileBytes: number;
  version: number;
  valkey: boolean;
  aux: Array<{ name: string; value: string; offset: number }>;
  dbs: Map<number, DbReport>;
  keys: number;
  emptyKeysSkipped: number;
  hashFieldTtls: number;
  functions: string[];
  preGaFunctions: string[];
  /** MODULE_AUX records per module name. */
  moduleAux: Map<string, number>;
  /** Module values per module name. */
  moduleValues: Map<string, number>;
  slotInfos: number;
  /** False when the file had more keys than the duplicate-key check remembers. */
  duplicatesChecked: boolean;
  /** "ok": verified; "zero": the file carries 0 (checking disabled when it was written);
   *  "absent": RDB version < 5; "not-checked": the check was switched off. */
  checksum: ChecksumStatus;
  /** Bytes of RDB (up to and including the checksum). */
  rdbBytes: number;
  /** Bytes after the RDB (an AOF tail...). */
  trailingBytes: number;
  /** The problem found, if any. */
  error: RdbError | null;
}

function functionName(code: string): string {
  const m = /^#!\S+[^\n]*?\bname=(\S+)/.exec(code);
  return m?.[1] ?? "(unnamed)";
}

interface CheckOptions {
  verifyChecksum?: boolean;
  now?: number;
  /** Called every chunk of the file (1 MiB) with the bytes and the keys read so far. */
  onProgress?(bytesRead: number, keysRead: number): void;
  /** Tests: keep only these bits of the first fingerprint half (forces false suspects). */
  fingerprintMask?: number;
}

/** Checks an RDB file; never throws for bad data (the report's `error` says what is wrong). */
export function checkRdbFile(file: string, options: CheckOptions = {}): CheckReport {
  const suspects = new Set<string>();
  const report = checkPass(file, options, null, suspects);
  if (suspects.size === 0) return report;
  // Fingerprints seen twice: read again, keeping the keys behind them to tell a duplicate
  // from two keys that happen to share a fingerprint.
  return checkPass(file, { ...options, onProgress: undefined }, suspects, null);
}

/**
 * One pass over the file. First pass (`exact` null): fingerprints only, repeated ones go to
 * `suspects`. Second pass: the keys whose fingerprint is in `exact` are compared as strings.
 */
function checkPass(file: string, options: CheckOptions, exact: Set<string> | null, suspects: Set<string> | null): CheckReport {
  const now = options.now ?? Date.now();
  const report: CheckReport = {
    file,
    fileBytes: statSync(file).size,
    version: 0,
    valkey: false,
    aux: [],
    dbs: new Map(),
    keys: 0,
    emptyKeysSkipped: 0,
    hashFieldTtls: 0,
    functions: [],
    preGaFunctions: [],
    moduleAux: new Map(),
    moduleValues: new Map(),
    slotInfos: 0,
    duplicatesChecked: true,
    checksum: "not-checked",
    rdbBytes: 0,
    trailingBytes: 0,
    error: null,
  };
  let parser: RdbParser | null = null;
  const dbReport = (db: number): DbReport => {
    let r = report.dbs.get(db);
    if (r === undefined) {
      r = { keys: 0, expires: 0, alreadyExpired: 0, types: new Map(), encodings: new Map() };
      report.dbs.set(db, r);
    }
    return r;
  };
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  // redis-server refuses a file holding a key twice in one database: so does the check.
  const fingerprints = new FingerprintSet();
  const fp = new Uint32Array(2);
  const exactKeys = new Set<string>();
  const sink: RdbSink = {
    aux(name, value) {
      report.aux.push({ name, value, offset: parser?.recordOffset ?? -1 });
    },
    key(db: number, key: string, value: RedisValue, expireMs: number) {
      if (report.duplicatesChecked) {
        if (report.keys >= DUPLICATE_CHECK_LIMIT) {
          report.duplicatesChecked = false;
        } else {
          fingerprint(db, key, fp);
          if (options.fingerprintMask !== undefined) {
            fp[0] = fp[0]! & options.fingerprintMask;
            fp[1] = 1;
          }
          if (exact === null) {
            if (!fingerprints.add(fp[0]!, fp[1]!)) suspects!.add(fpKey(fp[0]!, fp[1]!));
          } else if (exact.has(fpKey(fp[0]!, fp[1]!))) {
            const id = `${db}\0${key}`;
            if (exactKeys.has(id)) {
              const shown = key.length > 128 ? `${key.slice(0, 128)}...` : key;
              throw new RdbError("duplicate-key", parser?.recordOffset ?? -1, `RDB has duplicated key '${shown}' in DB ${db} (redis-server refuses to load such a file)`);
            }
            exactKeys.add(id);
          }
        }
      }
      const r = dbReport(db);
      r.keys++;
      report.keys++;
      if (expireMs !== -1) {
        r.expires++;
        if (expireMs < now) r.alreadyExpired++;
      }
      bump(r.types, exportTypeName(value));
      bump(r.encodings, rdbTypeName(parser?.valueType ?? -1));
      if (value instanceof ModuleValue) bump(report.moduleValues, value.typeName);
    },
    emptyKey() {
      report.emptyKeysSkipped++;
    },
    resizeDb(_db, size) {
      if (exact === null && report.duplicatesChecked) fingerprints.reserve(size);
    },
    hashFieldTtls(_db, _key, ttls) {
      report.hashFieldTtls += ttls.size;
    },
    function(code) {
      report.functions.push(functionName(code));
    },
    functionPreGa(lib) {
      report.preGaFunctions.push(lib.name);
    },
    moduleAux(moduleId) {
      bump(report.moduleAux, moduleTypeName(moduleId));
    },
    slotInfo() {
      report.slotInfos++;
    },
  };
  const verify = options.verifyChecksum ?? true;
  try {
    const onProgress = options.onProgress;
    parseRdbFileSync(
      file,
      sink,
      {
        verifyChecksum: verify,
        maxDatabases: Number.MAX_SAFE_INTEGER,
        chunkSize: 1 << 20,
        memoryBudget: TOOL_MEMORY_BUDGET,
        onChunk: onProgress ? (bytes) => onProgress(bytes, report.keys) : undefined,
      },
      (p) => (parser = p),
    );
  } catch (e) {
    if (!(e instanceof RdbError)) throw e;
    report.error = e;
  }
  const p = parser as RdbParser | null;
  if (p !== null) {
    report.version = p.version;
    report.valkey = p.valkey;
    report.rdbBytes = p.bytesConsumed;
    if (p.done) {
      report.trailingBytes = report.fileBytes - p.bytesConsumed;
      if (p.version < 5) report.checksum = "absent";
      else if (p.checksumVerified) report.checksum = "ok";
      else if (verify) report.checksum = "zero";
    }
  }
  return report;
}

const TYPE_ORDER = ["string", "list", "set", "zset", "hash", "stream", "module"];

function counts(m: Map<string, number>, order?: string[]): string {
  const keys = [...m.keys()].sort((a, b) => {
    const ia = order ? order.indexOf(a) : -1;
    const ib = order ? order.indexOf(b) : -1;
    return ia !== ib ? ia - ib : a < b ? -1 : a > b ? 1 : 0;
  });
  return keys.map((k) => `${k} ${m.get(k)}`).join(", ");
}

function quote(s: string): string {
  // eslint-disable-next-line no-control-regex
  const e = s.replace(/[\x00-\x1f\x7f-\xff\\']/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return `'${e.length > 200 ? `${e.slice(0, 200)}...` : e}'`;
}

/** The report as text lines (what `replicant rdb check` prints on standard output). */
export function formatCheckReport(r: CheckReport): string[] {
  const lines: string[] = [];
  lines.push(`[offset 0] Checking RDB file ${r.file} (${r.fileBytes} bytes)`);
  if (r.version) lines.push(`[offset 9] RDB version ${r.version}${r.valkey ? " (VALKEY magic)" : ""}`);
  for (const a of r.aux) lines.push(`[offset ${a.offset}] AUX FIELD ${a.name} = ${quote(a.value)}`);
  for (const db of [...r.dbs.keys()].sort((a, b) => a - b)) {
    const d = r.dbs.get(db)!;
    lines.push(`[db ${db}] ${d.keys} keys, ${d.expires} with an expiry (${d.alreadyExpired} already expired)`);
    lines.push(`[db ${db}] types: ${counts(d.types, TYPE_ORDER)}`);
    lines.push(`[db ${db}] encodings: ${counts(d.encodings)}`);
  }
  if (r.emptyKeysSkipped) lines.push(`[info] ${r.emptyKeysSkipped} empty keys skipped`);
  if (r.hashFieldTtls) lines.push(`[info] ${r.hashFieldTtls} hash fields with a TTL`);
  if (r.functions.length) lines.push(`[info] ${r.functions.length} function libraries: ${r.functions.join(", ")}`);
  if (r.preGaFunctions.length) lines.push(`[info] ${r.preGaFunctions.length} function libraries in the Redis 7.0 RC format: ${r.preGaFunctions.join(", ")}`);
  if (r.moduleAux.size) lines.push(`[info] module aux data: ${counts(r.moduleAux)}`);
  if (r.moduleValues.size) lines.push(`[info] module values: ${counts(r.moduleValues)}`);
  if (r.slotInfos) lines.push(`[info] ${r.slotInfos} slot info records`);
  if (!r.duplicatesChecked) lines.push(`[info] more than ${DUPLICATE_CHECK_LIMIT} keys: duplicated keys were not looked for beyond that`);
  if (!r.error) {
    const crc =
      r.checksum === "ok"
        ? "Checksum OK"
        : r.checksum === "zero"
          ? "Checksum not checked: the file carries 0 (rdbchecksum was off when it was written)"
          : r.checksum === "absent"
            ? "No checksum (RDB version < 5)"
            : "Checksum not checked";
    lines.push(`[offset ${r.rdbBytes - (r.version >= 5 ? 8 : 0)}] ${crc}`);
    if (r.trailingBytes) lines.push(`[offset ${r.rdbBytes}] ${r.trailingBytes} bytes after the end of the RDB (ignored)`);
    lines.push(`[info] ${r.keys} keys in ${r.dbs.size} databases`);
    lines.push("RDB looks OK");
  } else {
    lines.push(`[info] ${r.keys} keys read before the error`);
  }
  return lines;
}
