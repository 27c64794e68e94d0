// What OBJECT ENCODING / OBJECT REFCOUNT report for a string, as Redis 7.0 decides it.
//
// Our strings are plain JS strings, so the encoding is mostly derived from the content, which
// is what Redis's tryObjectEncoding does for every value a client stores (SET, MSET, GETSET,
// APPEND to a new key, values loaded from an RDB): "int" for a string2ll-valid integer of at
// most 20 chars, "embstr" up to 44 bytes, "raw" beyond. A few commands build their value
// without that step, and Redis then reports something else for the same content:
//   - APPEND to an existing key and SETRANGE: always "raw" (the sds is modified in place);
//   - INCRBYFLOAT: "embstr" even for "3" (createStringObject, not tryObjectEncoding);
//   - COPY: the source's encoding, but never a shared integer (refcount 1).
// Those exceptions are remembered here, per key, together with the exact value they apply to:
// if the key's value is later replaced by any other path (another family, a full sync), the
// recorded value no longer matches and the content rule applies again. Tables are keyed by the
// identity of the database's key Map, so FLUSHDB/FLUSHALL/SWAPDB need no bookkeeping.
//
// Other families that build raw strings in place (SETBIT, SETRANGE-like edits, PFADD) can call
// noteStringEncoding(db, key, value, "raw") to report "raw" as Redis does.

import type { Client } from "../../core/client.ts";
import type { Database } from "../../store/database.ts";
import type { Keyspace } from "../../store/keyspace/keyspace.ts";

type StringEncoding = "int" | "embstr" | "raw";

interface Exception {
  value: string;
  encoding: StringEncoding;
  /** False when Redis holds a private copy of a small integer (refcount 1, not the shared object). */
  shared: boolean;
}

const EMBSTR_SIZE_LIMIT = 44;
const SHARED_INTEGERS = 10000;
/** OBJ_SHARED_REFCOUNT: what OBJECT REFCOUNT says for a shared integer. */
const SHARED_REFCOUNT = 2147483647;

/** Per keyspace (so per database of a server, until FLUSHDB replaces it), its keys whose encoding is an exception. */
const tables = new WeakMap<Keyspace, Map<string, Exception>>();
/** Set once any exception was recorded: until then every helper here is a no-op. */
let anyExceptions = false;
/** Table sizes after their last sweep (stale entries of keys deleted elsewhere are pruned). */
const sweptSize = new WeakMap<Map<string, Exception>, number>();

/** Redis's string2ll acceptance, for the "int" encoding: -?(0|[1-9][0-9]*) within int64, <= 20 chars. */
export function isInt64Text(s: string): boolean {
  const len = s.length;
  if (len === 0 || len > 20) return false;
  let i = 0;
  if (s.charCodeAt(0) === 45) {
    if (len === 1) return false;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return len === 1;
  if (first < 49 || first > 57) return false;
  for (let k = i + 1; k < len; k++) {
    const ch = s.charCodeAt(k);
    if (ch < 48 || ch > 57) return false;
  }
  if (len - i < 19) return true;
  const b = BigInt(s);
  return b >= -9223372036854775808n && b <= 9223372036854775807n;
}

/** The encoding tryObjectEncoding gives to a string with this content. */
function contentEncoding(value: string): StringEncoding {
  if (value.length <= 20 && isInt64Text(value)) return "int";
  return value.length <= EMBSTR_SIZE_LIMIT ? "embstr" : "raw";
}

/** Whether small integers are shared objects (not with an LRU/LFU maxmemory policy). */
function sharingAllowed(c: Client): boolean {
  if (c.server.config.num("maxmemory") === 0) return true;
  const policy = c.server.config.str("maxmemory-policy");
  return !(policy.includes("lru") || policy.includes("lfu"));
}

function isSharedIntegerText(value: string): boolean {
  if (value.length > 4 || !isInt64Text(value)) return false;
  const n = Number(value);
  return n >= 0 && n < SHARED_INTEGERS;
}

/**
 * Records that `key` now holds `value` with an encoding that differs from what its content
 * implies (see the file comment). Recording the content's own encoding just forgets the key.
 */
export function noteStringEncoding(db: Database, key: string, value: string, encoding: StringEncoding, shared = true): void {
  if (encoding === contentEncoding(value) && (shared || !isSharedIntegerText(value))) {
    forgetStringEncoding(db, key);
    return;
  }
  let table = tables.get(db.ks);
  if (!table) {
    table = new Map();
    tables.set(db.ks, table);
  }
  table.set(key, { value, encoding, shared });
  anyExceptions = true;
  const swept = sweptSize.get(table) ?? 0;
  if (table.size > 1024 && table.size > 2 * swept) sweep(db, table);
}

/** Drops entries whose key was deleted or replaced by a path that did not tell us. */
function sweep(db: Database, table: Map<string, Exception>): void {
  for (const [k, e] of table) {
    if (db.get(k) !== e.value) table.delete(k);
  }
  sweptSize.set(table, table.size);
}

/** The key's value was replaced or deleted by a command of ours: back to the content rule. */
export function forgetStringEncoding(db: Database, key: string): void {
  if (!anyExceptions) return;
  const table = tables.get(db.ks);
  if (table !== undefined && table.size !== 0) table.delete(key);
}

/** RENAME / MOVE keep the object: its encoding goes with it. */
export function moveStringEncoding(from: Database, fromKey: string, to: Database, toKey: string): void {
  if (!anyExceptions) return;
  const table = tables.get(from.ks);
  const e = table?.get(fromKey);
  forgetStringEncoding(to, toKey);
  if (e === undefined) return;
  table!.delete(fromKey);
  noteStringEncoding(to, toKey, e.value, e.encoding, e.shared);
}

function exceptionFor(db: Database, key: string, value: string): Exception | undefined {
  if (!anyExceptions) return undefined;
  const table = tables.get(db.ks);
  if (table === undefined) return undefined;
  const e = table.get(key);
  if (e === undefined) return undefined;
  if (e.value === value) return e;
  table.delete(key);
  return undefined;
}

/** OBJECT ENCODING of the string `value` stored at `key`. */
export function stringEncoding(db: Database, key: string, value: string): StringEncoding {
  return exceptionFor(db, key, value)?.encoding ?? contentEncoding(value);
}

/** OBJECT REFCOUNT of the string `value` stored at `key`. */
export function stringRefcount(c: Client, db: Database, key: string, value: string): number {
  const e = exceptionFor(db, key, value);
  if (e !== undefined) return e.encoding === "int" && e.shared && sharingAllowed(c) && isSharedIntegerText(value) ? SHARED_REFCOUNT : 1;
  return sharingAllowed(c) && isSharedIntegerText(value) ? SHARED_REFCOUNT : 1;
}
