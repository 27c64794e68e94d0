// `replicant rdb check`: reads a whole RDB file (like redis-check-rdb) and reports its version,
// AUX fields, keys per database and per type, expiries, functions, module data and the
// checksum status; or the first problem, with its byte offset.

import { statSync } from "node:fs";
import { moduleTypeName, rdbTypeName } from "./constants.ts";
import { RdbError } from "./errors.ts";
import { parseRdbFileSync } from "./loader.ts";
import type { RdbParser, RdbSink } from "./reader.ts";
import { exportTypeName } from "./export.ts";
import type { RedisValue } from "../store/values.ts";
import { ModuleValue } from "../store/values.ts";

export interface DbReport {
  keys: number;
  expires: number;
  /** Keys whose expiry is before the time of the check. */
  alreadyExpired: number;
  /** Keys per TYPE name (string, list, set, zset, hash, stream, module). */
  types: Map<string, number>;
  /** Keys per RDB encoding (the type byte's name: hash_listpack, list_quicklist2...). */
  encodings: Map<string, number>;
}

/** Keys remembered for the duplicate-key check (about 100 bytes each); beyond, not checked. */
const DUPLICATE_CHECK_LIMIT = 20_000_000;

export type ChecksumStatus = "ok" | "zero" | "absent" | "not-checked";

export interface CheckReport {
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

/** Checks an RDB file; never throws for bad data (the report's `error` says what is wrong). */
export function checkRdbFile(file: string, options: { verifyChecksum?: boolean; now?: number } = {}): CheckReport {
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
  const seen = new Map<number, Set<string>>();
  const sink: RdbSink = {
    aux(name, value) {
      report.aux.push({ name, value, offset: parser?.recordOffset ?? -1 });
    },
    key(db: number, key: string, value: RedisValue, expireMs: number) {
      if (report.duplicatesChecked) {
        if (report.keys >= DUPLICATE_CHECK_LIMIT) {
          report.duplicatesChecked = false;
          seen.clear();
        } else {
          let keys = seen.get(db);
          if (keys === undefined) seen.set(db, (keys = new Set()));
          const before = keys.size;
          keys.add(key);
          if (keys.size === before) {
            const shown = key.length > 128 ? `${key.slice(0, 128)}...` : key;
            throw new RdbError("duplicate-key", parser?.recordOffset ?? -1, `RDB has duplicated key '${shown}' in DB ${db} (redis-server refuses to load such a file)`);
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
    parseRdbFileSync(file, sink, { verifyChecksum: verify, maxDatabases: Number.MAX_SAFE_INTEGER }, (p) => (parser = p));
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
