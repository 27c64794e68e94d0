// MemberTable (the byte form of a large set's members) against a JS Set as the model: adds,
// deletes, lookups of binary members, walks that survive changes, random picks, clones, and the
// shrinking after mass deletions (renumbered entries, packed bytes).

import { describe, expect, test } from "bun:test";
import { ByteFieldTable, MemberTable, ScoreTable } from "../../src/store/member-table.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

const seed = seedFromEnv("MEMBER_TABLE_SEED");

function randomMember(rand: () => number): string {
  const kind = rand();
  if (kind < 0.5) return `m:${Math.floor(rand() * 3000)}`;
  // Binary members, empty ones and long ones (past the short compare).
  const len = kind < 0.9 ? Math.floor(rand() * 8) : 20 + Math.floor(rand() * 80);
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(rand() * 256));
  return s;
}

function expectSame(t: MemberTable, model: Set<string>): void {
  expect(t.size).toBe(model.size);
  const walked = [...t.members()];
  expect(walked.length).toBe(model.size);
  expect(new Set(walked)).toEqual(model);
  for (const m of model) expect(t.has(m)).toBe(true);
}

describe("MemberTable", () => {
  test(`random adds and deletes match a Set (seed ${seed})`, () => {
    const rand = rng(seed);
    const t = new MemberTable();
    const model = new Set<string>();
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 2000; i++) {
        const m = randomMember(rand);
        if (rand() < 0.6) expect(t.add(m)).toBe(!model.has(m)), model.add(m);
        else expect(t.delete(m)).toBe(model.delete(m));
        if (rand() < 0.05) expect(t.has(m)).toBe(model.has(m));
      }
      expectSame(t, model);
      expect(t.has("absent\u00ff")).toBe(model.has("absent\u00ff"));
    }
  });

  test("mass deletion shrinks the table and keeps every member", () => {
    const t = new MemberTable();
    for (let i = 0; i < 50_000; i++) t.add(`member:${i}`);
    const full = t.memoryUsage();
    for (let i = 0; i < 50_000; i++) if (i % 100 !== 0) t.delete(`member:${i}`);
    expect(t.size).toBe(500);
    expect(t.memoryUsage()).toBeLessThan(full / 10);
    expect(t.entryLimit).toBeLessThan(4000);
    for (let i = 0; i < 50_000; i += 100) expect(t.has(`member:${i}`)).toBe(true);
    expect(t.has("member:1")).toBe(false);
    for (let i = 0; i < 50_000; i += 100) t.delete(`member:${i}`);
    expect(t.size).toBe(0);
    expect([...t.members()]).toEqual([]);
  });

  test("a walk returns every member present throughout, despite changes meanwhile", () => {
    const rand = rng(seed + 1);
    const t = new MemberTable();
    for (let i = 0; i < 5000; i++) t.add(`stay:${i}`);
    for (let i = 0; i < 5000; i++) t.add(`go:${i}`);
    const it = t.members();
    const seen = new Set<string>();
    let step = 0;
    for (let r = it.next(); !r.done; r = it.next()) {
      seen.add(r.value);
      // Churn: deletions of the other members (renumbering included) and new members.
      if (step++ % 2 === 0) t.delete(`go:${Math.floor(rand() * 5000)}`);
      if (step % 3 === 0) t.add(`new:${step}`);
    }
    for (let i = 0; i < 5000; i++) expect(seen.has(`stay:${i}`)).toBe(true);
  });

  test("random picks reach every member, clones are independent", () => {
    const t = MemberTable.from(["a", "b", "c", "d"]);
    t.delete("b");
    const picked = new Set<string>();
    for (let i = 0; i < 400; i++) picked.add(t.memberAt(t.randomEntry()));
    expect(picked).toEqual(new Set(["a", "c", "d"]));
    const copy = t.clone();
    copy.add("e");
    t.delete("a");
    expect(new Set(copy.members())).toEqual(new Set(["a", "c", "d", "e"]));
    expect(new Set(t.members())).toEqual(new Set(["c", "d"]));
  });

  test("walks go in insertion order, a deleted and re-added member last (a JS Set's order)", () => {
    const rand = rng(seed + 2);
    const t = new MemberTable();
    const model = new Set<string>();
    for (let i = 0; i < 30_000; i++) {
      const m = `k${Math.floor(rand() * 500)}`;
      if (rand() < 0.5) t.add(m), model.add(m);
      else t.delete(m), model.delete(m);
    }
    expect([...t.members()]).toEqual([...model]);
  });

  test("ScoreTable matches a Map: scores, updates, entries in order, clones, renumbering", () => {
    const rand = rng(seed + 3);
    const t = new ScoreTable();
    const model = new Map<string, number>();
    let renumbered = 0;
    t.onRenumber = () => renumbered++;
    for (let i = 0; i < 40_000; i++) {
      const k = randomMember(rand);
      const r = rand();
      if (r < 0.55) {
        const v = i / 7;
        expect(t.setNew(k, v)).toBe(!model.has(k));
        model.set(k, v);
      } else if (r < 0.9) expect(t.delete(k)).toBe(model.delete(k));
      else expect(t.get(k)).toBe(model.get(k));
    }
    let n = 0;
    for (const k of [...model.keys()]) if (n++ % 4 !== 0) expect(t.delete(k)).toBe(model.delete(k));
    expect(renumbered).toBeGreaterThan(0);
    expect(t.size).toBe(model.size);
    expect([...t.entries()]).toEqual([...model.entries()]);
    expect([...t.values()]).toEqual([...model.values()]);
    const copy = t.clone();
    const [firstKey] = model.keys();
    t.set(firstKey!, -1);
    expect(copy.get(firstKey!)).toBe(model.get(firstKey!));
    const scores = ScoreTable.fromEntries([["a", 1.5], ["b", -0], ["c", Infinity]]);
    expect(Object.is(scores.get("b"), -0)).toBe(true);
    expect([...scores.keys()]).toEqual(["a", "b", "c"]);
  });

  test("entries compare in byte order, and deleteEntries renumbers once, after the last", () => {
    const t = new ScoreTable();
    const members = ["b", "a", "ab", "", "\xff", "abc", "b\x00"];
    for (const m of members) t.set(m, 0);
    const sorted = [...members].sort((x, y) => Buffer.compare(Buffer.from(x, "latin1"), Buffer.from(y, "latin1")));
    for (let i = 0; i < members.length; i++) {
      for (const m of members) expect(Math.sign(t.compareEntry(t.find(members[i]!), m))).toBe(Math.sign(sorted.indexOf(members[i]!) - sorted.indexOf(m)));
      for (const m of members) expect(Math.sign(t.compareEntries(t.find(members[i]!), t.find(m)))).toBe(Math.sign(sorted.indexOf(members[i]!) - sorted.indexOf(m)));
    }
    const big = new ScoreTable();
    for (let i = 0; i < 1000; i++) big.set(`m${i}`, i);
    let remaps = 0;
    big.onRenumber = () => remaps++;
    const gone = new Int32Array(900);
    for (let i = 0; i < 900; i++) gone[i] = big.find(`m${i}`);
    big.deleteEntries(gone, 900);
    expect(remaps).toBe(1);
    expect(big.size).toBe(100);
    for (let i = 0; i < 1000; i++) expect(big.get(`m${i}`)).toBe(i < 900 ? undefined : i);
  });

  test("an expected count from a hostile length field is not allocated up front", () => {
    const t = new MemberTable(2 ** 31);
    expect(t.memoryUsage()).toBeLessThan(4 * 1024 * 1024);
    t.add("x");
    expect(t.has("x")).toBe(true);
  });

  test("ByteFieldTable matches a Map: values growing and shrinking in place or moved, compaction, clones", () => {
    const rand = rng(seed + 4);
    const t = new ByteFieldTable();
    const model = new Map<string, string>();
    for (let i = 0; i < 60_000; i++) {
      const k = `f${Math.floor(rand() * 3000)}`;
      const r = rand();
      if (r < 0.65) {
        const v = randomMember(rand).repeat(1 + Math.floor(rand() * 3));
        expect(t.setNew(k, v)).toBe(!model.has(k));
        model.set(k, v);
      } else if (r < 0.85) expect(t.delete(k)).toBe(model.delete(k));
      else expect(t.get(k)).toBe(model.get(k));
    }
    expect(t.size).toBe(model.size);
    expect([...t.entries()]).toEqual([...model.entries()]);
    const copy = t.clone();
    for (const k of model.keys()) t.set(k, "x");
    expect([...copy.entries()]).toEqual([...model.entries()]);
    const seen: string[] = [];
    t.forEach((v, k) => seen.push(k + "=" + v));
    expect(seen).toEqual([...model.keys()].map((k) => k + "=x"));
  });
});
