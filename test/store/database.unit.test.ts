import { describe, expect, test } from "bun:test";
import { Database } from "../../src/store/database.ts";
import { HashValue } from "../../src/store/hash.ts";
import { SetValue } from "../../src/store/set.ts";
import { ListValue } from "../../src/store/values.ts";
import { ZSetValue } from "../../src/store/zset.ts";
import { rng } from "../helpers/seeded.ts";

/** Seeded integers below n. */
function ints(seed: number): (n: number) => number {
  const random = rng(seed);
  return (n) => Math.floor(random() * n);
}

describe("Database over a Keyspace", () => {
  test("strings come back as latin1 strings, aggregates as the same object, expiries kept or cleared", () => {
    const db = new Database(0);
    const bytes = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    db.setPersistent(bytes, bytes);
    expect(db.get(bytes)).toBe(bytes);
    const l = ListValue.from(["a"]);
    db.set("l", l);
    expect(db.get("l")).toBe(l);
    db.setExpire("l", 2e12);
    db.set("l", l);
    expect(db.getExpire("l")).toBe(2e12);
    db.setPersistent("l", "s");
    expect(db.getExpire("l")).toBeUndefined();
    expect(db.expiresSize).toBe(0);
    db.setExpire("missing", 1); // no key, no expiry
    expect(db.has("missing")).toBe(false);
    expect(db.add(bytes, "again", -1)).toBe(false);
    expect(db.add("new", "v", 5)).toBe(true);
    expect(db.isExpired("new", 6)).toBe(true);
    expect(db.size).toBe(3);
  });

  test("SCAN: one call with a large COUNT sweeps a small database, as Redis's does", () => {
    const db = new Database(0);
    for (let i = 0; i < 50; i++) db.set(`k${i}`, "v");
    const out: string[] = [];
    expect(db.scan(0, 100, out)).toBe(0);
    expect(out.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `k${i}`).sort());
  });

  for (const seed of [1, 7, 2024]) {
    test(`SCAN: every key present for the whole iteration is returned, across resizes (seed ${seed})`, () => {
      const r = ints(seed);
      const db = new Database(0);
      const stable = new Set<string>();
      for (let i = 0; i < 2000; i++) {
        db.set(`s${i}`, "v");
        stable.add(`s${i}`);
      }
      const seen = new Set<string>();
      let cursor = 0;
      let fresh = 0;
      do {
        const out: string[] = [];
        cursor = db.scan(cursor, 1 + r(30), out);
        for (const k of out) seen.add(k);
        // Churn: inserts and deletes of other keys, enough to grow and shrink the table.
        const burst = r(400);
        if (r(2) === 0) for (let j = 0; j < burst; j++) db.set(`t${fresh++}`, "x");
        else for (let j = 0; j < burst && fresh > 0; j++) db.delete(`t${r(fresh)}`);
      } while (cursor !== 0);
      for (const k of stable) expect(seen.has(k)).toBe(true);
    });
  }

  test("RANDOMKEY reaches every key; the volatile keys are positions 0 .. expiresSize - 1", () => {
    const db = new Database(0);
    for (let i = 0; i < 20; i++) db.set(`k${i}`, "v");
    const drawn = new Set<string>();
    for (let i = 0; i < 2000; i++) drawn.add(db.randomKey()!);
    expect(drawn.size).toBe(20);
    db.setExpire("k3", 100);
    db.setExpire("k5", 200);
    const volatile = new Map<string, number>();
    for (let p = 0; p < db.expiresSize; p++) volatile.set(db.volatileKeyAt(p), db.volatileExpireAt(p));
    expect(volatile).toEqual(new Map([["k3", 100], ["k5", 200]]));
    db.delete("k3");
    expect(db.expiresSize).toBe(1);
    expect(db.volatileKeyAt(0)).toBe("k5");
    expect(new Database(1).randomKey()).toBeUndefined();
  });

  test("prefetch reads ahead and changes nothing, whatever the keys name", () => {
    const db = new Database(0);
    for (let i = 0; i < 1000; i++) db.setPersistent(`key:${i}`, `v${i}`);
    const hash = new HashValue();
    const set = new SetValue();
    const zset = new ZSetValue();
    for (let i = 0; i < 1000; i++) {
      hash.setField(`f${i}`, `v${i}`);
      set.add(`m${i}`);
      zset.add(`m${i}`, i);
    }
    db.set("h", hash);
    db.set("s", set);
    db.set("z", zset);
    const commands = [["key:1"], ["h", "f1"], ["s", "m2"], ["z", "m3"], ["missing", "x"], ["key:2", "not-a-member"], ["h", "absent"], ["h", ""]];
    const order = [[1, 6, 7, 0], [2, 2, 4], [3, 0], [4, 1], [5, 1], [0, 1]];
    for (const picks of order) {
      let text = "";
      for (const k of picks) text += commands[k]!.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
      const buf = Buffer.from(text, "latin1");
      const at = new Int32Array(picks.length * 4);
      let pos = 0;
      picks.forEach((k, i) => {
        const args = commands[k]!;
        for (let j = 0; j < 2; j++) {
          if (j >= args.length) {
            at[i * 4 + 3] = -1;
            continue;
          }
          pos = text.indexOf("\r\n", pos) + 2;
          at[i * 4 + j * 2] = pos;
          at[i * 4 + j * 2 + 1] = args[j]!.length;
          pos += args[j]!.length + 2;
        }
      });
      db.prefetch(buf, at, picks.length);
    }
    // MGET's form: keys as strings, from any position, more than one pass's worth.
    const keys = ["MGET", ...Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? `missing:${i}` : `key:${i}`)), "h"];
    for (let from = 1; from < keys.length; from += 7) db.ks.prefetchStrings(keys, from);
    expect(db.size).toBe(1003);
    expect(db.get("key:1")).toBe("v1");
    expect(hash.get("f1")).toBe("v1");
    expect(set.has("m2")).toBe(true);
    expect(zset.score("m3")).toBe(3);
    expect(hash.size + set.size + zset.size).toBe(3000);
  });
});
