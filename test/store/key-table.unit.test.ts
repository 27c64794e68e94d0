// The key table (store/key-table.ts): one Map while small, split in shards by linear hashing as
// it grows. What the server relies on: Map's answers and size at every size, iteration that is
// live (a key present throughout is met, at least once, even across splits), no split while a
// walker holds the layout, tables laid out ahead for a load, and shards that stay near their
// target size.

import { describe, expect, test } from "bun:test";
import { KeyTable, SHARD_TARGET, keyHash } from "../../src/store/key-table.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

describe("KeyTable", () => {
  test("answers as a Map through a seeded mix of set / delete / setNew, across splits", () => {
    const seed = seedFromEnv("KEY_TABLE_SEED");
    const rand = rng(seed);
    const table = new KeyTable<number>();
    const map = new Map<string, number>();
    const space = SHARD_TARGET * 5;
    for (let i = 0; i < SHARD_TARGET * 12; i++) {
      const key = `k:${Math.floor(rand() * space)}`;
      const r = rand();
      if (r < 0.6) {
        table.set(key, i);
        map.set(key, i);
      } else if (r < 0.8) {
        expect(table.setNew(key, i)).toBe(!map.has(key));
        map.set(key, i);
      } else {
        expect(table.delete(key)).toBe(map.delete(key));
      }
    }
    expect(table.size).toBe(map.size);
    expect(table.parts.length).toBeGreaterThan(1);
    let sum = 0;
    for (const p of table.parts) sum += p.size;
    expect(sum).toBe(map.size);
    for (const [k, v] of map) expect(table.get(k)).toBe(v);
    expect(table.has("nope")).toBe(false);
    const keys = [...table.keys()];
    expect(keys.length).toBe(map.size);
    expect(new Set(keys).size).toBe(map.size);
    expect(new Map(table.entries())).toEqual(map);
    expect([...table.values()].length).toBe(map.size);
  });

  test("one Map (no hashing) up to SHARD_TARGET keys, then a shard more per SHARD_TARGET", () => {
    const table = new KeyTable<number>();
    for (let i = 0; i < SHARD_TARGET; i++) table.set(`key:${i}`, i);
    expect(table.parts.length).toBe(1);
    // Insertion order is kept while there is one shard.
    expect([...table.keys()].slice(0, 3)).toEqual(["key:0", "key:1", "key:2"]);
    table.set("one more", 0);
    expect(table.parts.length).toBe(2);
    for (let i = 0; i < SHARD_TARGET * 6; i++) table.set(`more:${i}`, i);
    expect(table.parts.length).toBe(Math.ceil(table.size / SHARD_TARGET));
    const sizes = table.parts.map((p) => p.size);
    // Linear hashing: a shard not split yet this round holds about twice a split one.
    expect(Math.max(...sizes)).toBeLessThan(SHARD_TARGET * 2.5);
    expect(Math.min(...sizes)).toBeGreaterThan(SHARD_TARGET * 0.4);
  });

  test("a walk goes on across splits: every key present throughout is met", () => {
    const table = new KeyTable<number>();
    for (let i = 0; i < SHARD_TARGET * 2; i++) table.set(`old:${i}`, i);
    const it = table.keys();
    const seen = new Set<string>();
    for (let i = 0; i < SHARD_TARGET / 2; i++) seen.add(it.next().value as string);
    const before = table.parts.length;
    for (let i = 0; i < SHARD_TARGET * 3; i++) table.set(`new:${i}`, i);
    expect(table.parts.length).toBeGreaterThan(before);
    for (let r = it.next(); !r.done; r = it.next()) seen.add(r.value);
    for (let i = 0; i < SHARD_TARGET * 2; i++) expect(seen.has(`old:${i}`)).toBe(true);
  });

  test("holdLayout: no split while held; forSize lays a table out for a load", () => {
    const table = new KeyTable<number>();
    table.holdLayout();
    for (let i = 0; i < SHARD_TARGET * 3; i++) table.set(`key:${i}`, i);
    expect(table.parts.length).toBe(1);
    table.releaseLayout();
    expect(table.parts.length).toBe(2);
    table.set("x", 1);
    expect(table.parts.length).toBe(3);
    for (let i = 0; i < SHARD_TARGET * 3; i++) expect(table.get(`key:${i}`)).toBe(i);

    const laid = KeyTable.forSize<number>(SHARD_TARGET * 5);
    expect(laid.parts.length).toBe(5);
    for (let i = 0; i < SHARD_TARGET * 5; i++) laid.set(`key:${i}`, i);
    expect(laid.parts.length).toBe(5);
    expect(laid.size).toBe(SHARD_TARGET * 5);
  });

  test("the hash spreads keys that differ only in the middle of a long key", () => {
    const buckets = new Array(64).fill(0);
    for (let i = 0; i < 64 * 100; i++) buckets[keyHash(`${"p".repeat(40)}:${i}:${"s".repeat(40)}`) & 63]++;
    expect(Math.min(...buckets)).toBeGreaterThan(50);
    expect(Math.max(...buckets)).toBeLessThan(150);
  });
});
