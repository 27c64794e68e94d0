// Small aggregates at rest (store/at-rest.ts): a loaded hash, set, list or sorted set in its
// packed form is held as bytes in its keyspace record (Kind.Packed) until a command needs the
// object. Pinned here: every form round-trips with its OBJECT ENCODING; TYPE, snapshots, SAVE's
// walk and DEBUG DIGEST read it without turning it into an object; the first lookup does, and
// keeps the key's expiry and access field; expiry changes, compaction and a snapshot running
// across the change keep the bytes intact.

import { describe, expect, test } from "bun:test";
import { addLoaded, Database, NOT_FOUND, valueOfRef } from "../../src/store/database.ts";
import { isHashTag, isSetTag, restForm, restFormOf } from "../../src/store/at-rest.ts";
import { restPackedCount } from "../../src/store/set.ts";
import { findValueBytes, foundValue, hasEntryBytes, writeEntryBytes } from "../../src/store/packed-entries.ts";
import { HashValue, ListValue, SetValue, ZSetValue, type RedisValue } from "../../src/store/values.ts";
import { Kind } from "../../src/store/keyspace/record.ts";
import { KeyspaceSnapshot } from "../../src/store/keyspace/snapshot.ts";
import { compactStep } from "../../src/store/keyspace/compaction.ts";
import { AccessClock } from "../../src/store/keyspace/access-clock.ts";
import { rng } from "../helpers/seeded.ts";

/** A value's contents and encoding, comparable with toEqual. */
function describeValue(v: RedisValue): unknown {
  if (typeof v === "string") return { string: v };
  if (v instanceof HashValue) return { hash: [...v.entries()], enc: v.encoding };
  if (v instanceof SetValue) return { set: [...v].sort(), enc: v.encoding, size: v.size };
  if (v instanceof ListValue) return { list: [...v], enc: v.encoding };
  if (v instanceof ZSetValue) return { zset: [...v.entries()], enc: v.encoding };
  return { other: String(v) };
}

function samples(): Array<[string, RedisValue]> {
  const bin = String.fromCharCode(0, 255, 13, 10, 128);
  const hashLp = new HashValue([["f1", "v1"], ["f2", "x".repeat(20)], [bin, ""]]);
  const hashHt = new HashValue([["a", "1"]]);
  hashHt.encoding = "hashtable";
  const intset = new SetValue(["1", "-5", "70000", "9000000000"]);
  intset.encoding = "intset";
  const setLp = new SetValue(["a", "b", bin]);
  setLp.encoding = "listpack";
  const setHt = new SetValue(["m1", "m2", "3"]);
  const list = ListValue.from(["a", "b", "", bin, "12345"]);
  const listLp = ListValue.from(["x"]);
  listLp.encoding = "listpack";
  const zset = ZSetValue.fromEntries(["a", "b", bin], [1, -2.5, 1e300], "listpack", true) as ZSetValue;
  return [
    ["hash:lp", hashLp],
    ["hash:ht", hashHt],
    ["set:int", intset],
    ["set:lp", setLp],
    ["set:ht", setHt],
    ["list:ql", list],
    ["list:lp", listLp],
    ["zset:lp", zset],
  ];
}

describe("aggregates at rest", () => {
  test("every packed form is stored as bytes and comes back equal, with its encoding", () => {
    const db = new Database(0);
    const want = new Map<string, unknown>();
    for (const [key, v] of samples()) {
      expect(restFormOf(v)).toBe(true);
      want.set(key, describeValue(v));
      expect(db.add(key, v, key === "set:lp" ? 2e12 : -1)).toBe(true);
      expect(db.ks.kindAt(db.find(key))).toBe(Kind.Packed);
    }
    expect(db.ks.side.size).toBe(0);
    for (const key of want.keys()) {
      const slot = db.find(key);
      expect(db.typeAt(slot)).toBe(key.split(":")[0]!);
      // Peeking decodes without changing the record.
      expect(describeValue(db.peekValueAt(slot))).toEqual(want.get(key));
      expect(db.ks.kindAt(slot)).toBe(Kind.Packed);
    }
    for (const key of want.keys()) {
      const slot = db.find(key);
      const v = db.valueAt(slot);
      expect(describeValue(v)).toEqual(want.get(key));
      // From then on the record holds the object: the same one on every lookup.
      expect(db.ks.kindAt(slot)).toBe(Kind.Object);
      expect(db.valueAt(db.find(key))).toBe(v);
    }
    expect(db.getExpire("set:lp")).toBe(2e12);
    expect(db.expiresSize).toBe(1);
  });

  test("a hash at rest is read in place (HGETALL / HKEYS / HVALS / HGET) and stays at rest", () => {
    const db = new Database(0);
    const all = [...samples(), ["hash:long", new HashValue([["k", "v".repeat(200)], ["f".repeat(130), ""]])] as [string, RedisValue]];
    for (const [key, v] of all) {
      const entries = v instanceof HashValue ? [...v.entries()] : null;
      expect(db.add(key, v, -1)).toBe(true);
      const slot = db.find(key);
      const tag = db.ks.packedRangeAt(slot);
      expect(isHashTag(tag)).toBe(entries !== null);
      if (entries === null) continue;
      expect(db.ks.rangeMeta).toBe(entries.length);
      for (const [stride, first, want] of [
        [1, 0, entries.flat()],
        [2, 0, entries.map((e) => e[0])],
        [2, 1, entries.map((e) => e[1])],
      ] as const) {
        const out: string[] = [];
        const sink = { bulkChars: () => expect.unreachable(), bulkRange: (b: Uint8Array, start: number, len: number) => out.push(Buffer.from(b.subarray(start, start + len)).toString("latin1")) };
        db.ks.packedRangeAt(slot);
        writeEntryBytes(db.ks.rangeBuffer, db.ks.rangeStart, db.ks.rangeStart + db.ks.rangeLength, sink, stride, first);
        expect(out).toEqual([...want]);
      }
      // HGET's lookup in place: every field's value, and -1 for absent ones.
      db.ks.packedRangeAt(slot);
      const { rangeBuffer: b, rangeStart: start, rangeLength: len } = db.ks;
      for (const [f, v] of entries) {
        const p = findValueBytes(b, start, start + len, f);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(Buffer.from(b.subarray(p, p + foundValue.length)).toString("latin1")).toBe(v);
      }
      for (const absent of ["nope", "", "f1x", "v1", "f".repeat(129)]) if (!entries.some(([f]) => f === absent)) expect(findValueBytes(b, start, start + len, absent)).toBe(-1);
      expect(db.ks.kindAt(slot)).toBe(Kind.Packed);
    }
    expect(db.ks.packedRangeAt(db.find("hash:lp"))).toBeGreaterThanOrEqual(0);
    db.valueAt(db.find("hash:lp"));
    expect(db.ks.packedRangeAt(db.find("hash:lp"))).toBe(-1);
  });

  test("a set at rest as packed entries is read in place (SISMEMBER / SCARD); an intset is not", () => {
    const db = new Database(0);
    const bin = String.fromCharCode(0, 255, 13, 10, 128);
    const sets: Array<[string, SetValue]> = [["lp", new SetValue(["a", "", bin, "x".repeat(200)])], ["ht", new SetValue(["m1", "m2", "3"])], ["int", new SetValue(["1", "-5", "70000"])]];
    sets[0]![1].encoding = "listpack";
    sets[2]![1].encoding = "intset";
    for (const [key, v] of sets) {
      const members = [...v];
      expect(db.add(key, v, -1)).toBe(true);
      const slot = db.find(key);
      expect(isSetTag(db.ks.packedRangeAt(slot))).toBe(true);
      const count = restPackedCount(db.ks.rangeMeta);
      if (key === "int") {
        expect(count).toBe(-1);
        continue;
      }
      expect(count).toBe(members.length);
      const { rangeBuffer: b, rangeStart: start, rangeLength: len } = db.ks;
      for (const m of members) expect(hasEntryBytes(b, start, start + len, m)).toBe(true);
      for (const m of ["nope", "m", "m12", "x".repeat(199), bin.slice(1)]) expect(hasEntryBytes(b, start, start + len, m)).toBe(false);
      expect(db.ks.kindAt(slot)).toBe(Kind.Packed);
    }
    expect(isSetTag(db.ks.packedRangeAt(db.find("int")))).toBe(true);
  });

  test("big forms, field TTLs and strings are not held at rest", () => {
    const big = new HashValue(Array.from({ length: 1000 }, (_, i): [string, string] => [`f${i}`, "v"]));
    expect(restFormOf(big)).toBe(false);
    const ttl = new HashValue([["f", "v"]]);
    ttl.setFieldExpireAt("f", 2e12);
    expect(restFormOf(ttl)).toBe(false);
    expect(restFormOf("string")).toBe(false);
    const db = new Database(0);
    addLoaded(db.ks, "big", big, -1);
    expect(db.ks.kindAt(db.find("big"))).toBe(Kind.Object);
    // A key too long for a chunk keeps the object.
    const long = "k".repeat(9000);
    addLoaded(db.ks, long, new HashValue([["f", "v"]]), -1);
    expect(db.ks.kindAt(db.find(long))).toBe(Kind.Object);
  });

  test("the first lookup keeps the key's expiry and access field, also with a snapshot running", () => {
    const db = new Database(0);
    const random = rng(7);
    const n = 3000;
    for (let i = 0; i < n; i++) db.add(`h:${i}`, new HashValue([["f", `v${i}`], ["g", "x".repeat(i % 50)]]), i % 3 === 0 ? 1e12 + i : -1);
    for (let i = 0; i < n; i += 5) db.ks.touchAt(db.find(`h:${i}`), 1000 + i);
    const snap = new KeyspaceSnapshot(db.ks);
    const seen = new Map<string, string>();
    const visit = (ref: number) => {
      const v = valueOfRef(db.ks, ref) as HashValue;
      seen.set(db.ks.keyStringOf(ref), `${v.get("f")}|${db.ks.expireOf(ref)}`);
    };
    snap.step(visit, 500);
    // Materialize and change keys on both sides of the walk.
    for (let k = 0; k < 1500; k++) {
      const i = Math.floor(random() * n);
      const slot = db.find(`h:${i}`);
      const h = db.valueAt(slot) as HashValue;
      db.beforeChangeAt(slot);
      h.setField("f", "changed");
      expect(db.expireAt(db.find(`h:${i}`))).toBe(i % 3 === 0 ? 1e12 + i : -1);
      if (i % 5 === 0) expect(db.ks.lruAt(db.find(`h:${i}`))).toBe(1000 + i);
    }
    while (snap.step(visit, 300));
    expect(seen.size).toBe(n);
    for (let i = 0; i < n; i++) expect(seen.get(`h:${i}`)).toBe(`v${i}|${i % 3 === 0 ? 1e12 + i : -1}`);
    expect(db.ks.keptRecords).toBe(0);
  });

  test("expiry changes and compaction keep the bytes", () => {
    const db = new Database(0);
    const n = 5000;
    for (let i = 0; i < n; i++) db.add(`l:${i}`, ListValue.from([`a${i}`, "b", "c".repeat(i % 30)]), -1);
    for (let i = 0; i < n; i += 2) db.setExpire(`l:${i}`, 2e12 + i);
    for (let i = 0; i < n; i += 4) db.removeExpire(`l:${i}`);
    for (let i = 1; i < n; i += 3) db.delete(`l:${i}`);
    while (compactStep(db.ks, 64) > 0);
    for (let i = 0; i < n; i++) {
      const slot = db.find(`l:${i}`);
      if (i % 3 === 1) {
        expect(slot).toBe(NOT_FOUND);
        continue;
      }
      expect(db.ks.kindAt(slot)).toBe(Kind.Packed);
      expect(db.expireAt(slot)).toBe(i % 4 === 0 ? -1 : i % 2 === 0 ? 2e12 + i : -1);
      expect([...(db.peekValueAt(slot) as ListValue)]).toEqual([`a${i}`, "b", "c".repeat(i % 30)]);
    }
  });

  test("objects idle long enough go back to rest; recent ones, scanned ones and snapshots' stay", () => {
    const t0 = 1.7e12;
    const clock = new AccessClock(t0);
    const db = new Database(0, clock);
    for (let i = 0; i < 2000; i++) db.set(`s:${i}`, new SetValue([`a${i}`, "b"]));
    db.setExpire("s:3", 2e12);
    db.set("big", new SetValue(Array.from({ length: 1000 }, (_, i) => `m${i}`)));
    const scanned = new SetValue(["x"]);
    scanned.scanCursors = new Map();
    db.set("scanned", scanned);
    expect(db.restIdle(Infinity, 30_000)).toBe(0);
    clock.refresh(t0 + 60_000);
    db.ks.touchAt(db.find("s:7"), clock.seconds);
    // A snapshot reading the database holds the objects where they are.
    const snap = new KeyspaceSnapshot(db.ks);
    expect(db.restIdle(Infinity, 30_000)).toBe(0);
    snap.end();
    expect(db.restIdle(Infinity, 30_000)).toBe(1999);
    expect(db.ks.kindAt(db.find("s:7"))).toBe(Kind.Object);
    expect(db.ks.kindAt(db.find("big"))).toBe(Kind.Object);
    expect(db.ks.kindAt(db.find("scanned"))).toBe(Kind.Object);
    expect(db.ks.side.size).toBe(3);
    for (let i = 0; i < 2000; i++) expect([...(db.get(`s:${i}`) as SetValue)].sort()).toEqual([`a${i}`, "b"].sort());
    expect(db.getExpire("s:3")).toBe(2e12);
    // A deadline stops the walk where it is; the next call goes on from there.
    clock.refresh(t0 + 120_000);
    expect(db.restIdle(performance.now() - 1, 30_000)).toBeLessThan(1000);
  });

  test("restForm describes the value it was last asked about", () => {
    const l = ListValue.from(["a", "b"]);
    expect(restFormOf(l)).toBe(true);
    expect(restForm.meta).toBe(2);
  });
});
