// What the DatasetSnapshot tests compare: a dataset's state and a snapshot's records as sorted
// lines "db|key|value|expire", and the small LCG their seeded writes draw from.

import type { SnapshotRecord } from "../../src/dataset/snapshot.ts";
import type { Database } from "../../src/store/database.ts";
import { HashValue, ListValue, SetValue } from "../../src/store/values.ts";

/** A seeded LCG: each call an integer below n. */
export function lcg(seed: number): (n: number) => number {
  let x = seed >>> 0;
  return (n: number) => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x % n;
  };
}

export function describeValue(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof ListValue) return `list:${v.toArray().join(",")}`;
  if (v instanceof HashValue) return `hash:${[...v].sort().join(";")}`;
  if (v instanceof SetValue) return `set:${[...v].sort().join(",")}`;
  return String(v);
}

/** Every key of the databases as a line, sorted. */
export function state(dbs: Database[]): string[] {
  const out: string[] = [];
  for (const db of dbs) for (const [k, v] of db.entries()) out.push(`${db.id}|${k}|${describeValue(v)}|${db.getExpire(k) ?? -1}`);
  return out.sort();
}

/** A snapshot record as the line state() would give its key. */
export const recordLine = (r: SnapshotRecord) => `${r.db}|${r.key}|${describeValue(r.value)}|${r.expire}`;
