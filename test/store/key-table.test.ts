// The key table (store/key-table.ts): a Map split in shards by a hash of the key. What the
// server relies on: Map's answers and size, iteration that is live shard by shard (a key added
// ahead of the walk is seen, one deleted ahead is not), a key always in the same shard, and a
// spread that keeps every shard small.

import { describe, expect, test } from "bun:test";
import { KEY_TABLE_SHARDS, KeyTable, keyShard } from "../../src/store/key-table.ts";
import { rng } from "../differential/workload.ts";
import { seedFromEnv } from "../commands/zsets-diff-client.ts";

describe("KeyTable", () => {
  test("answers as a Map through a seeded mix of set / delete / setNew", () => {
    const seed = seedFromEnv("KEY_TABLE_SEED");
    const rand = rng(seed);
    const table = new KeyTable<number>();
    const map = new Map<string, number>();
    for (let i = 0; i < 20000; i++) {
      const key = `k:${Math.floor(rand() * 3000)}`;
      const r = rand();
      if (r < 0.5) {
        table.set(key, i);
        map.set(key, i);
      } else if (r < 0.7) {
        expect(table.setNew(key, i)).toBe(!map.has(key));
        map.set(key, i);
      } else {
        expect(table.delete(key)).toBe(map.delete(key));
      }
      expect(table.size).toBe(map.size);
    }
    for (const [k, v] of map) expect(table.get(k)).toBe(v);
    expect(table.has("nope")).toBe(false);
    expect([...table.keys()].sort()).toEqual([...map.keys()].sort());
    expect([...table.values()].sort((a, b) => a - b)).toEqual([...map.values()].sort((a, b) => a - b));
    expect(new Map(table.entries())).toEqual(map);
    expect(new Map([...table])).toEqual(map);
  });

  test("iteration walks the shards in order, each in insertion order, and is live", () => {
    const table = new KeyTable<string>();
    for (let i = 0; i < 2000; i++) table.set(`key:${i}`, "v");
    const order = [...table.keys()];
    for (let i = 1; i < order.length; i++) expect(keyShard(order[i - 1]!)).toBeLessThanOrEqual(keyShard(order[i]!));
    // Walk half-way, then change the table ahead of and behind the walk.
    const it = table.keys();
    const seen: string[] = [];
    for (let i = 0; i < 1000; i++) seen.push(it.next().value as string);
    const lastShard = keyShard(seen[seen.length - 1]!);
    const ahead = order.find((k) => keyShard(k) > lastShard + 1)!;
    table.delete(ahead);
    let added = "";
    for (let i = 0; added === ""; i++) if (keyShard(`new:${i}`) > lastShard) added = `new:${i}`;
    table.set(added, "v");
    for (let r = it.next(); !r.done; r = it.next()) seen.push(r.value);
    expect(seen).not.toContain(ahead);
    expect(seen).toContain(added);
    expect(new Set(seen).size).toBe(seen.length);
  });

  test("keys spread over every shard; adoptPart installs a shard built elsewhere", () => {
    const table = new KeyTable<number>();
    for (let i = 0; i < 256 * 200; i++) table.set(`user:${i}:profile`, i);
    const sizes = table.parts.map((p) => p.size);
    expect(sizes.length).toBe(KEY_TABLE_SHARDS);
    expect(Math.min(...sizes)).toBeGreaterThan(100);
    expect(Math.max(...sizes)).toBeLessThan(300);
    // Long keys differing in the middle only: still spread.
    const long = new KeyTable<number>();
    for (let i = 0; i < 256 * 50; i++) long.set(`${"p".repeat(40)}:${i}:${"s".repeat(40)}`, i);
    expect(Math.min(...long.parts.map((p) => p.size))).toBeGreaterThan(10);

    const t = new KeyTable<number>();
    const shard = keyShard("a");
    t.adoptPart(shard, new Map([["a", 1]]));
    expect(t.get("a")).toBe(1);
    expect(t.size).toBe(1);
    expect(() => t.adoptPart(shard, new Map())).toThrow();
  });
});
