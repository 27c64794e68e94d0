// DEBUG subcommands that describe how a value is held (debug.c): OBJECT, SDSLEN, LISTPACK,
// QUICKLIST, HTSTATS, HTSTATS-KEY. The encodings are the ones OBJECT ENCODING reports; where
// Redis shows its memory layout, we show what the same value is in Redis's format (the
// listpacks and quicklist nodes the RDB writer produces, which are what Redis holds) or in
// ours (string sizes and table sizes from store/memory-size.ts).

import { listpackOf, listpackRepr, quicklistRepr } from "../../rdb/listpack-repr.ts";
import { dumpPayload, quicklistNodeCounts, rdbWriteOptions } from "../../rdb/writer.ts";
import { ListpackEncoder } from "../../rdb/encode-listpack.ts";
import type { Client } from "../../core/client.ts";
import { stringBytes, tableSlots } from "../../store/memory-size.ts";
import { HashValue, ListValue, SetValue, ZSetValue } from "../../store/values.ts";
import { fail, NO_SUCH_KEY } from "../../core/errors.ts";
import { objectEncodingOf } from "../keys/keys.ts";

/** The key's value as stored, even logically expired (Redis's dictFind / objectCommandLookup), or "no such key". */
function storedValue(c: Client, key: string) {
  const v = c.db.get(key);
  if (v === undefined) fail(NO_SUCH_KEY);
  return v;
}

/** A stable stand-in for a pointer (Redis prints addresses; we have none to show). */
function pseudoAddress(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
  return 0x7f0000000000 + (h >>> 0) * 16;
}

/** The quicklist nodes Redis would hold for a list: [element count (-1: plain), bytes]. */
function quicklistNodes(c: Client, list: ListValue): Array<[number, number]> {
  const counts = quicklistNodeCounts(list, c.server.config.num("list-max-listpack-size"), c.server.config.quicklistPackedThreshold);
  const out: Array<[number, number]> = [];
  const lp = new ListpackEncoder(256);
  let i = 0;
  for (const n of counts) {
    if (n < 0) {
      out.push([n, list.at(i++)!.length]);
      continue;
    }
    lp.reset();
    for (let j = 0; j < n; j++) lp.appendString(list.at(i++)!);
    out.push([n, lp.finish()]);
  }
  return out;
}

/** DEBUG OBJECT: "Value at:... refcount:... encoding:... serializedlength:... lru:... lru_seconds_idle:..." (+ quicklist fields). */
export function debugObject(c: Client, key: string): void {
  const v = storedValue(c, key);
  // rdbSavedObjectLen: the value as an RDB serializes it, without its type byte.
  const serialized = dumpPayload(v, rdbWriteOptions(c.server.config)).length - 11;
  const encoding = objectEncodingOf(c.db, key, v);
  let extra = "";
  if (v instanceof ListValue && encoding === "quicklist") {
    const nodes = quicklistNodes(c, v);
    const size = nodes.reduce((sum, [, bytes]) => sum + bytes, 0);
    const config = c.server.config;
    extra = ` ql_nodes:${nodes.length} ql_avg_node:${(v.length / nodes.length).toFixed(2)} ql_listpack_max:${config.num("list-max-listpack-size")} ql_compressed:${config.num("list-compress-depth") !== 0 ? 1 : 0} ql_uncompressed_size:${size}`;
  }
  const db = c.db;
  const lru = db.ks.lruAt(db.find(key));
  c.reply.simple(`Value at:0x${pseudoAddress(key).toString(16)} refcount:1 encoding:${encoding} serializedlength:${serialized} lru:${lru} lru_seconds_idle:${Math.floor(db.clock.idleMs(lru) / 1000)}${extra}`);
}

/** DEBUG SDSLEN: the key's and value's string lengths and what they cost here (no free space: strings are exact). */
export function debugSdslen(c: Client, key: string): void {
  const v = storedValue(c, key);
  if (typeof v !== "string" || objectEncodingOf(c.db, key, v) === "int") fail("ERR Not an sds encoded string.");
  c.reply.simple(`key_sds_len:${key.length}, key_sds_avail:0, key_zmalloc: ${stringBytes(key)}, val_sds_len:${v.length}, val_sds_avail:0, val_zmalloc: ${stringBytes(v)}`);
}

/** DEBUG LISTPACK: lpRepr of the value's listpack, on standard output. */
export function debugListpack(c: Client, key: string): void {
  const v = storedValue(c, key);
  const encoding = objectEncodingOf(c.db, key, v);
  if (encoding !== "listpack" && encoding !== "listpackex") fail("ERR Not a listpack encoded object.");
  let bytes: Buffer;
  if (v instanceof ListValue) {
    // A list reported as listpack (a 7.2 view): one node.
    const lp = new ListpackEncoder(256);
    for (const e of v) lp.appendString(e);
    bytes = Buffer.from(lp.buf.subarray(0, lp.finish()));
  } else bytes = listpackOf(v as HashValue | SetValue | ZSetValue, encoding === "listpackex");
  process.stdout.write(listpackRepr(bytes, pseudoAddress(key)));
  c.reply.simple("Listpack structure printed on stdout");
}

/** DEBUG QUICKLIST key [full]: quicklistRepr of the list's nodes, on standard output. */
export function debugQuicklist(c: Client, key: string, full: string | undefined): void {
  const v = storedValue(c, key);
  if (!(v instanceof ListValue) || objectEncodingOf(c.db, key, v) !== "quicklist") fail("ERR Not a quicklist encoded object.");
  // atoi: a leading number, 0 otherwise.
  const detail = full === undefined ? 0 : Number.parseInt(full, 10) || 0;
  const config = c.server.config;
  process.stdout.write(quicklistRepr(v, config.num("list-max-listpack-size"), config.quicklistPackedThreshold, detail !== 0, pseudoAddress(key)));
  c.reply.simple("Quicklist structure printed on stdout");
}

/**
 * dictGetStats's text for one of our tables: its size and element count. A JavaScript Map is
 * not a chained hash table, so the chain statistics Redis adds have no counterpart.
 */
function tableStats(size: number, slots: number): string {
  if (size === 0) return "Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n";
  return `Hash table 0 stats (main hash table):\n table size: ${slots}\n number of elements: ${size}\n`;
}

/** DEBUG HTSTATS dbid: the keyspace's and the expiry table's stats. */
export function debugHtstats(c: Client, dbid: number): void {
  const db = c.server.dbs[dbid];
  if (db === undefined) fail("ERR Out of range database");
  c.reply.verbatim(`[Dictionary HT]\n${tableStats(db.size, tableSlots(db.size))}[Expires HT]\n${tableStats(db.expiresSize, tableSlots(db.expiresSize))}`);
}

/** DEBUG HTSTATS-KEY: the same for a value held in a hash table (hashtable / skiplist encodings). */
export function debugHtstatsKey(c: Client, key: string): void {
  const v = storedValue(c, key);
  const encoding = objectEncodingOf(c.db, key, v);
  if (encoding !== "hashtable" && encoding !== "skiplist") fail("ERR The value stored at the specified key is not represented using an hash table");
  const size = (v as HashValue | SetValue | ZSetValue).size;
  c.reply.verbatim(tableStats(size, tableSlots(size)));
}
