// Snapshot of a server's whole dataset through ordinary commands (SCAN, TYPE, type-specific
// reads, PTTL), so two servers - a redis-server master and Replicant - can be compared key by
// key, value by value, TTL by TTL.

import type { RespClient, RespValue } from "./resp-client.ts";

export interface KeySnapshot {
  type: string;
  /** A canonical form of the value (sorted where the type is unordered). */
  value: unknown;
  /** Remaining TTL in ms, or -1. */
  pttl: number;
}

/** db index -> key -> snapshot */
export type DatasetSnapshot = Map<number, Map<string, KeySnapshot>>;

async function readValue(c: RespClient, key: string, type: string): Promise<unknown> {
  switch (type) {
    case "string":
      return c.call("GET", key);
    case "list":
      return c.call("LRANGE", key, 0, -1);
    case "set":
      return ((await c.call("SMEMBERS", key)) as string[]).sort();
    case "hash": {
      const flat = (await c.call("HGETALL", key)) as string[];
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      return pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    }
    case "zset":
      return c.call("ZRANGE", key, 0, -1, "WITHSCORES");
    case "stream": {
      const entries = await c.call("XRANGE", key, "-", "+");
      const info = (await c.call("XINFO", "STREAM", key, "FULL")) as RespValue[];
      // Drop fields that legitimately differ between servers (none expected), keep groups.
      return { entries, full: info };
    }
    default:
      return `<${type}>`;
  }
}

export async function snapshotDataset(c: RespClient, databases = 16): Promise<DatasetSnapshot> {
  const out: DatasetSnapshot = new Map();
  for (let db = 0; db < databases; db++) {
    await c.call("SELECT", db);
    const keys = new Set<string>();
    let cursor = "0";
    do {
      const [next, batch] = (await c.call("SCAN", cursor, "COUNT", 1000)) as [string, string[]];
      for (const k of batch) keys.add(k);
      cursor = next;
    } while (cursor !== "0");
    if (keys.size === 0) continue;
    const m = new Map<string, KeySnapshot>();
    for (const key of [...keys].sort()) {
      const type = String(await c.call("TYPE", key));
      if (type === "none") continue;
      const value = await readValue(c, key, type);
      const pttl = Number(await c.call("PTTL", key));
      m.set(key, { type, value, pttl });
    }
    out.set(db, m);
  }
  await c.call("SELECT", 0);
  return out;
}

/**
 * Differences between two snapshots (empty when equal). TTLs may differ by `ttlToleranceMs`
 * (they are read at slightly different moments).
 */
export function diffDatasets(a: DatasetSnapshot, b: DatasetSnapshot, ttlToleranceMs = 2000, limit = 20): string[] {
  const diffs: string[] = [];
  const dbs = new Set([...a.keys(), ...b.keys()]);
  for (const db of [...dbs].sort((x, y) => x - y)) {
    const ka = a.get(db) ?? new Map();
    const kb = b.get(db) ?? new Map();
    for (const key of new Set([...ka.keys(), ...kb.keys()])) {
      if (diffs.length >= limit) return diffs;
      const x = ka.get(key);
      const y = kb.get(key);
      if (!x || !y) {
        diffs.push(`db${db} ${JSON.stringify(key)}: only in ${x ? "first" : "second"}`);
        continue;
      }
      if (x.type !== y.type) diffs.push(`db${db} ${JSON.stringify(key)}: type ${x.type} vs ${y.type}`);
      else if (JSON.stringify(x.value, bigintSafe) !== JSON.stringify(y.value, bigintSafe)) {
        diffs.push(`db${db} ${JSON.stringify(key)}: value ${JSON.stringify(x.value, bigintSafe).slice(0, 300)} vs ${JSON.stringify(y.value, bigintSafe).slice(0, 300)}`);
      } else if ((x.pttl === -1) !== (y.pttl === -1) || Math.abs(x.pttl - y.pttl) > ttlToleranceMs) {
        diffs.push(`db${db} ${JSON.stringify(key)}: pttl ${x.pttl} vs ${y.pttl}`);
      }
    }
  }
  return diffs;
}

function bigintSafe(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Map) return [...v.entries()];
  return v;
}

export function datasetSize(s: DatasetSnapshot): number {
  let n = 0;
  for (const m of s.values()) n += m.size;
  return n;
}
