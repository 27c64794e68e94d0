// A whole dataset read through ordinary commands, for comparing a replica with its master and
// with a reference replica: per database and key, the type, the value in a canonical form
// (sorted where Redis's order is a hashtable's), the TTL, OBJECT ENCODING, and for streams the
// entries plus XINFO STREAM FULL (groups, PELs, consumers) with the fields that legitimately
// differ masked.

import type { RespClient, RespValue } from "../helpers/resp-client.ts";
import { mask } from "../commands/streams-workload.ts";

export interface KeyState {
  type: string;
  value: unknown;
  pttl: number;
  /** When the key expires (Unix ms, the read time plus its PTTL): snapshots taken seconds apart compare. */
  deadline: number;
  encoding: string;
}

/** db -> key -> state */
export type Snapshot = Map<number, Map<string, KeyState>>;

function sortedPairs(flat: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}

export interface SnapshotOptions {
  /** Mask what a Redis 7.0 replica does not follow (a group's entries-read and lag). */
  vsMaster: boolean;
  /** Read Redis 7.4's field TTLs of hashes too. */
  fieldTtls?: boolean;
  /**
   * The Redis version of the other side of the comparison (70015 for 7.0.15; Valkey 8: 70204).
   * Replicant answers reads as Redis 7.0 does; what an older or newer server shows differently
   * for the same data is brought to one form: 6.2 has no stream entries-read, lag, entries-added,
   * max-deleted-entry-id, recorded-first-entry-id and formats a -0 score as "-0"; 7.2 prints
   * scores in their shortest form (comparableScore). A consumer's
   * active-time (7.2 on) is left out: Replicant's XINFO has Redis 7.0's fields, and the value
   * is the local time at which each server ran the command anyway.
   */
  compat?: number;
}

/**
 * A score as the shortest text of its double: Redis 7.2 and later reply "0.1" where 7.0 (and
 * Replicant) reply "0.10000000000000001"; 6.2 replies "-0" for a negative zero.
 */
function comparableScore(x: string): string {
  if (x === "-0") return "0";
  const n = Number(x);
  return Number.isNaN(n) ? x : String(n);
}

/** XINFO STREAM FULL fields Redis 6.2 does not have. */
const NOT_IN_6_2 = new Set(["entries-read", "lag", "entries-added", "max-deleted-entry-id", "recorded-first-entry-id", "active-time"]);

function normalizeStreamInfo(v: RespValue, compat: number): RespValue {
  if (!Array.isArray(v)) return v;
  const out: RespValue[] = [];
  for (let i = 0; i < v.length; i++) {
    const item = v[i]!;
    if (typeof item === "string" && i + 1 < v.length && !Array.isArray(v[i + 1])) {
      if (compat < 70000 && NOT_IN_6_2.has(item)) {
        i++;
        continue;
      }
      if (item === "active-time") {
        i++;
        continue;
      }
    }
    out.push(normalizeStreamInfo(item, compat));
  }
  return out;
}

/** Reads every key of the given databases; a consumer's seen-time is always masked. */
export async function snapshot(c: RespClient, databases: number[], opts: SnapshotOptions): Promise<Snapshot> {
  const { vsMaster, fieldTtls = false, compat = 70015 } = opts;
  const out: Snapshot = new Map();
  for (const db of databases) {
    await c.call("SELECT", db);
    const keys = new Set<string>();
    let cursor = "0";
    do {
      const [next, batch] = (await c.call("SCAN", cursor, "COUNT", 1000)) as [string, string[]];
      for (const k of batch) keys.add(k);
      cursor = next;
    } while (cursor !== "0");
    const m = new Map<string, KeyState>();
    for (const key of [...keys].sort()) {
      const [type, pttl, encoding] = (await c.pipeline([["TYPE", key], ["PTTL", key], ["OBJECT", "ENCODING", key]])) as [string, number, string];
      const deadline = pttl >= 0 ? Date.now() + pttl : pttl;
      if (type === "none") continue;
      let value: unknown;
      switch (type) {
        case "string":
          value = await c.call("GET", key);
          break;
        case "list":
          value = await c.call("LRANGE", key, 0, -1);
          break;
        case "set":
          value = ((await c.call("SMEMBERS", key)) as string[]).sort();
          break;
        case "hash": {
          const pairs = sortedPairs((await c.call("HGETALL", key)) as string[]);
          // Redis 7.4's field TTLs, as absolute ms (HPEXPIRETIME: -1 for a field without one).
          if (fieldTtls && pairs.length) {
            const times = (await c.call("HPEXPIRETIME", key, "FIELDS", pairs.length, ...pairs.map((p) => p[0]!))) as number[];
            for (let i = 0; i < pairs.length; i++) pairs[i]!.push(String(times[i]));
          }
          value = pairs;
          break;
        }
        case "zset":
          value = ((await c.call("ZRANGE", key, 0, -1, "WITHSCORES")) as string[]).map((x, i) => (i % 2 === 1 ? comparableScore(x) : x));
          break;
        case "stream":
          value = {
            entries: await c.call("XRANGE", key, "-", "+"),
            full: normalizeStreamInfo(vsMaster ? dropIdleConsumers(mask(await c.call("XINFO", "STREAM", key, "FULL", "COUNT", 0), true)) : mask(await c.call("XINFO", "STREAM", key, "FULL", "COUNT", 0), false), compat),
          };
          break;
        default:
          value = `<${type}>`;
      }
      m.set(key, { type, value, pttl, deadline, encoding: comparableEncoding(type, encoding, compat) });
    }
    out.set(db, m);
  }
  await c.call("SELECT", 0);
  return out;
}

/**
 * Without the consumers that own no pending entry: Redis 7.0 does not propagate a consumer
 * that XREADGROUP / XCLAIM / XAUTOCLAIM created without delivering it anything, so the master
 * has consumers its replicas never heard of.
 */
function dropIdleConsumers(v: RespValue): RespValue {
  if (!Array.isArray(v)) return v;
  const out: RespValue[] = [];
  for (let i = 0; i < v.length; i++) {
    const item = v[i]!;
    if (item === "consumers" && Array.isArray(v[i + 1])) {
      const consumers = (v[i + 1] as RespValue[][]).filter((cons) => cons[cons.indexOf("pel-count") + 1] !== 0);
      out.push(item, consumers);
      i++;
    } else out.push(dropIdleConsumers(item));
  }
  return out;
}

/**
 * OBJECT ENCODING in the terms of Redis 7.0 (what Replicant reports): 6.2 calls a listpack a
 * ziplist; 7.2 added listpack-encoded small lists and sets of strings where 7.0 has a
 * quicklist and a hashtable.
 */
function comparableEncoding(type: string, encoding: string, compat: number): string {
  if (encoding === "ziplist") return "listpack";
  if (compat >= 70200 && encoding === "listpack") {
    if (type === "list") return "quicklist";
    if (type === "set") return "hashtable";
  }
  return encoding;
}

function stringify(v: unknown): string {
  return JSON.stringify(v, (_k, x: RespValue | unknown) => (typeof x === "bigint" ? x.toString() : x instanceof Map ? [...x.entries()] : x));
}

/**
 * Differences between two snapshots: missing keys, types, values, TTLs beyond the tolerance,
 * and (with `encodings`) OBJECT ENCODING.
 */
export function diffSnapshots(a: Snapshot, b: Snapshot, opts: { encodings: boolean; ttlToleranceMs?: number; limit?: number }): string[] {
  const diffs: string[] = [];
  const tolerance = opts.ttlToleranceMs ?? 1500;
  const limit = opts.limit ?? 25;
  for (const db of new Set([...a.keys(), ...b.keys()])) {
    const ka = a.get(db) ?? new Map<string, KeyState>();
    const kb = b.get(db) ?? new Map<string, KeyState>();
    for (const key of [...new Set([...ka.keys(), ...kb.keys()])].sort()) {
      if (diffs.length >= limit) return diffs;
      const x = ka.get(key);
      const y = kb.get(key);
      const where = `db${db} ${JSON.stringify(key)}`;
      if (!x || !y) diffs.push(`${where}: only in the ${x ? "first" : "second"}`);
      else if (x.type !== y.type) diffs.push(`${where}: type ${x.type} vs ${y.type}`);
      else if (stringify(x.value) !== stringify(y.value)) {
        const sx = stringify(x.value);
        const sy = stringify(y.value);
        let i = 0;
        while (i < sx.length && sx[i] === sy[i]) i++;
        const from = Math.max(0, i - 80);
        diffs.push(`${where}: value differs at ${i}: ...${sx.slice(from, i + 80)} vs ...${sy.slice(from, i + 80)}`);
      }
      else if ((x.pttl < 0 || y.pttl < 0) && x.pttl !== y.pttl) diffs.push(`${where}: pttl ${x.pttl} vs ${y.pttl}`);
      else if (Math.abs(x.deadline - y.deadline) > tolerance) diffs.push(`${where}: pttl ${x.pttl} vs ${y.pttl} (expiring ${x.deadline - y.deadline} ms apart)`);
      else if (opts.encodings && x.encoding !== y.encoding) diffs.push(`${where}: encoding ${x.encoding} vs ${y.encoding}`);
    }
  }
  return diffs;
}

export function keyCount(s: Snapshot): number {
  let n = 0;
  for (const m of s.values()) n += m.size;
  return n;
}

/** How many keys of each type the snapshot holds, to show what was compared. */
export function typeCounts(s: Snapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of s.values()) for (const k of m.values()) out[`${k.type}/${k.encoding}`] = (out[`${k.type}/${k.encoding}`] ?? 0) + 1;
  return out;
}
