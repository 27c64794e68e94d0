// SetValue's three forms (intset string, packed entries, Set) against a model: Redis's intset
// rules through addMember, iteration order (ascending while an intset, insertion order
// otherwise), width upgrades over the whole int64 range, random picks and pops, encoding
// changes, clones, and the RDB intset body.

import { describe, expect, test } from "bun:test";
import { encodeIntset } from "../../src/rdb/encode-intset.ts";
import { checkIntset } from "../../src/encoding/intset.ts";
import { compareIntStrings, INTSET_FORM_MAX, isIntsetMember, PACKED_SET_MAX_MEMBERS, SetValue } from "../../src/store/set.ts";
import { decodeIntset } from "../rdb/rdb-test-helpers.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Integers around every width boundary, plus random ones of each magnitude. */
function randomInt(rand: () => number): string {
  const edges = [0n, 1n, -1n, 32767n, 32768n, -32768n, -32769n, 2147483647n, 2147483648n, -2147483648n, -2147483649n, 2n ** 53n, -(2n ** 53n), 2n ** 53n + 1n, INT64_MAX, INT64_MIN, INT64_MAX - 1n, INT64_MIN + 1n];
  const k = rand();
  if (k < 0.2) return String(edges[Math.floor(rand() * edges.length)]!);
  const bits = [8, 15, 16, 31, 32, 52, 62][Math.floor(rand() * 7)]!;
  let v = BigInt(Math.floor(rand() * 2 ** Math.min(bits, 52)));
  if (bits > 52) v = v * 2n ** BigInt(bits - 52) + BigInt(Math.floor(rand() * 2 ** (bits - 52)));
  return String(rand() < 0.5 ? -v : v);
}

function expectSame(s: SetValue, model: Set<string>, intsetOrder: boolean): void {
  expect(s.size).toBe(model.size);
  if (intsetOrder) {
    const expected = [...model].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    expect([...s.ordered()]).toEqual(expected);
    if (s.form === "intset") expect([...s]).toEqual(expected);
  } else {
    // A hashtable's order is its own (ascending from the intset it was, then insertions).
    expect([...s.ordered()]).toEqual([...s]);
    expect([...s].sort()).toEqual([...model].sort());
  }
  const viaForEach: string[] = [];
  s.forEach((m) => viaForEach.push(m));
  expect(new Set(viaForEach)).toEqual(model);
}

describe("SetValue forms", () => {
  test("addMember / delete / has agree with a model and keep Redis's intset rules", () => {
    const rand = rng(seedFromEnv("PACKED_SET_SEED"));
    for (let round = 0; round < 60; round++) {
      const maxIntset = [4, 20, 512][round % 3]!;
      const s = new SetValue();
      s.encoding = "intset";
      const model = new Set<string>();
      let expectIntset = true;
      const nonInts = round % 4 === 0 ? 0.05 : 0;
      for (let step = 0; step < 400; step++) {
        const r = rand();
        const m = rand() < nonInts ? ["x", "-0", "01", "+1", " 1", "9223372036854775808", ""][Math.floor(rand() * 7)]! : randomInt(rand);
        if (r < 0.55) {
          const isNew = !model.has(m);
          expect(s.addMember(m, maxIntset)).toBe(isNew);
          if (isNew) {
            model.add(m);
            if (!isIntsetMember(m) || model.size > maxIntset) expectIntset = false;
          }
        } else if (r < 0.75) {
          expect(s.delete(m)).toBe(model.delete(m));
        } else if (r < 0.9) {
          expect(s.has(m)).toBe(model.has(m));
        } else if (model.size) {
          if (rand() < 0.5) expect(model.has(s.randomMember())).toBe(true);
          else {
            const popped = s.popRandom();
            expect(model.delete(popped)).toBe(true);
          }
        }
        expect(s.encoding as string).toBe(expectIntset ? "intset" : "hashtable");
        if (step % 40 === 0) expectSame(s, model, expectIntset);
      }
      expectSame(s, model, expectIntset);
      const copy = s.clone();
      expectSame(copy, model, expectIntset);
      copy.add("only-in-the-copy");
      expect(s.has("only-in-the-copy")).toBe(false);
    }
  });

  test("an intset widens from 2 to 4 to 8 bytes (new members first or last) and never narrows", () => {
    const s = new SetValue();
    s.encoding = "intset";
    for (const m of ["5", "-3", "100"]) s.addMember(m, 512);
    s.addMember("70000", 512); // 4 bytes, appended
    s.addMember("-70000", 512); // prepended
    s.addMember("-9223372036854775808", 512); // 8 bytes
    s.addMember("9223372036854775807", 512);
    s.addMember("9007199254740993", 512); // 2^53 + 1: not a double
    expect([...s]).toEqual(["-9223372036854775808", "-70000", "-3", "5", "100", "70000", "9007199254740993", "9223372036854775807"]);
    expect(s.has("9007199254740992")).toBe(false);
    expect(s.has("9007199254740993")).toBe(true);
    for (const m of ["-9223372036854775808", "9223372036854775807", "9007199254740993", "-70000", "70000"]) expect(s.delete(m)).toBe(true);
    expect([...s]).toEqual(["-3", "5", "100"]);
    const blob = encodeIntset(s, s.size)!;
    expect(decodeIntset(blob, 0, blob.length)).toEqual(["-3", "5", "100"]);
  });

  test("small non-intset sets are packed, large ones a Set, in insertion order", () => {
    const s = new SetValue();
    const order: string[] = [];
    for (let i = 0; i < PACKED_SET_MAX_MEMBERS; i++) {
      s.add(`m${i}`);
      order.push(`m${i}`);
    }
    expect(s.form).toBe("packed");
    s.add("last");
    order.push("last");
    expect(s.form).toBe("set");
    expect([...s]).toEqual(order);
  });

  test("changing the encoding moves between the forms", () => {
    const s = new SetValue(["3", "1", "2"]);
    expect(s.form).toBe("packed");
    s.encoding = "intset";
    expect(s.form).toBe("intset");
    expect([...s]).toEqual(["1", "2", "3"]);
    s.encoding = "hashtable";
    expect(s.form).toBe("packed");
    expect([...s]).toEqual(["1", "2", "3"]);
    const mixed = new SetValue(["1", "a"]);
    mixed.encoding = "intset"; // not every member is an integer: stays packed, ordered() still sorts
    expect(mixed.form).toBe("packed");
    s.addMember("x", 512);
    expect(s.encoding).toBe("hashtable");
    const t = new SetValue();
    t.encoding = "intset";
    t.add("not a number"); // the plain add makes it a hashtable
    expect(t.encoding as string).toBe("hashtable");
    expect([...t]).toEqual(["not a number"]);
  });

  test("past INTSET_FORM_MAX members (a large set-max-intset-entries) a Set, still ascending", () => {
    const s = new SetValue();
    s.encoding = "intset";
    const n = INTSET_FORM_MAX + 10;
    for (let i = n; i > 0; i--) s.addMember(String(i * 3), 1 << 20);
    expect(s.encoding).toBe("intset");
    expect(s.form).toBe("set");
    const ordered = [...s.ordered()];
    expect(ordered.length).toBe(n);
    expect(ordered.slice(0, 3)).toEqual(["3", "6", "9"]);
    for (let i = 1; i < ordered.length; i++) expect(compareIntStrings(ordered[i - 1]!, ordered[i]!)).toBe(-1);
    s.delete("6");
    expect([...s.ordered()].slice(0, 3)).toEqual(["3", "9", "12"]);
  });

  test("random members of each form are uniform", () => {
    for (const members of [["1", "2", "3", "4"], ["a", "b", "c", "d"]]) {
      const s = new SetValue(members);
      if (members[0] === "1") s.encoding = "intset";
      const counts = new Map<string, number>();
      for (let i = 0; i < 40000; i++) {
        const m = s.randomMember();
        counts.set(m, (counts.get(m) ?? 0) + 1);
      }
      expect([...counts.keys()].sort()).toEqual(members);
      for (const c of counts.values()) expect(Math.abs(c - 10000)).toBeLessThan(600);
    }
  });
});

describe("intset bodies from an RDB", () => {
  test("kept as they are, with the reference decoder's validation", () => {
    const rand = rng(seedFromEnv("PACKED_INTSET_RDB_SEED"));
    for (let round = 0; round < 200; round++) {
      const members = new Set<string>();
      const n = Math.floor(rand() * 30);
      for (let i = 0; i < n; i++) members.add(randomInt(rand));
      const blob = encodeIntset(members, members.size)!;
      const width = checkIntset(blob, 0, blob.length);
      const s = SetValue.fromIntset(blob.latin1Slice(8), width, "intset");
      expect([...s]).toEqual(decodeIntset(blob, 0, blob.length));
      // Corrupt it: both decoders agree on the error.
      const bad = Buffer.from(blob);
      bad[Math.floor(rand() * bad.length)]! ^= 1 << Math.floor(rand() * 8);
      let a = "";
      let b = "";
      try {
        decodeIntset(bad, 0, bad.length);
      } catch (e) {
        a = String(e);
      }
      try {
        checkIntset(bad, 0, bad.length);
      } catch (e) {
        b = String(e);
      }
      expect(b).toBe(a);
    }
  });
});
