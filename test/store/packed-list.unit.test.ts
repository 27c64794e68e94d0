// ListValue's two forms (packed string, ring buffer) against an array model: every operation
// on both sides of the limits, the conversions both ways (with hysteresis), clones, long and
// binary elements, and lists built from packed entries (the RDB reader's path).

import { describe, expect, test } from "bun:test";
import { ListValue, PACKED_LIST_MAX_CHARS, PACKED_LIST_MAX_ENTRIES } from "../../src/store/list.ts";
import { packedBuilder } from "../../src/store/packed-entries.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

function randomValue(rand: () => number): string {
  const k = rand();
  if (k < 0.6) return `v${Math.floor(rand() * 8)}`;
  if (k < 0.9) return String.fromCharCode(...Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
  return "L".repeat(1000 + Math.floor(rand() * 2000));
}

describe("ListValue forms", () => {
  test("random operations agree with an array, in both forms and across the conversions", () => {
    const rand = rng(seedFromEnv("PACKED_LIST_SEED"));
    let sawPacked = 0;
    let sawRing = 0;
    for (let round = 0; round < 30; round++) {
      const list = new ListValue();
      let model: string[] = [];
      for (let step = 0; step < 2000; step++) {
        const growing = Math.floor(step / 300) % 2 === 0;
        const op = rand();
        if (op < (growing ? 0.25 : 0.1)) {
          const v = randomValue(rand);
          list.pushTail(v);
          model.push(v);
        } else if (op < (growing ? 0.5 : 0.2)) {
          const v = randomValue(rand);
          list.pushHead(v);
          model.unshift(v);
        } else if (op < 0.4) {
          expect(list.popHead()).toBe(model.shift());
        } else if (op < 0.6) {
          expect(list.popTail()).toBe(model.pop());
        } else if (op < 0.65) {
          const i = Math.floor(rand() * (model.length + 1));
          const v = randomValue(rand);
          list.insertAt(i, v);
          model.splice(i, 0, v);
        } else if (op < 0.7 && model.length) {
          const i = Math.floor(rand() * model.length);
          const n = 1 + Math.floor(rand() * Math.min(5, model.length - i));
          list.removeRange(i, n);
          model.splice(i, n);
        } else if (op < 0.73) {
          const n = Math.floor(rand() * 4);
          list.removeHead(n);
          model.splice(0, n);
        } else if (op < 0.76) {
          const n = Math.floor(rand() * 4);
          list.removeTail(n);
          model.splice(Math.max(0, model.length - n), n);
        } else if (op < 0.78) {
          const v = `v${Math.floor(rand() * 8)}`;
          const limit = Math.floor(rand() * 3);
          const fromTail = rand() < 0.5;
          let removed = 0;
          const drop = (x: string) => {
            if (x !== v || (limit !== 0 && removed >= limit)) return false;
            removed++;
            return true;
          };
          if (!fromTail) model = model.filter((x) => !drop(x));
          else model = model.reverse().filter((x) => !drop(x)).reverse();
          expect(list.removeMatching(v, limit, fromTail)).toBe(removed);
        } else if (op < 0.81 && model.length) {
          const i = Math.floor(rand() * model.length);
          const v = randomValue(rand);
          list.set(i, v);
          model[i] = v;
        } else if (op < 0.85) {
          const copy = list.clone();
          expect(copy.toArray()).toEqual(model);
          copy.pushTail("only in the copy");
          expect(list.length).toBe(model.length);
        } else {
          expect(list.length).toBe(model.length);
          const i = Math.floor(rand() * (model.length + 2)) - 1;
          expect(list.at(i)).toBe(i >= 0 ? model[i] : undefined);
          expect(list.indexOf("v3")).toBe(model.indexOf("v3"));
          if (model.length) {
            const a = Math.floor(rand() * model.length);
            const b = a + Math.floor(rand() * (model.length - a));
            expect(list.slice(a, b)).toEqual(model.slice(a, b + 1));
          }
        }
        if (list.packed) sawPacked++;
        else sawRing++;
        if (list.packed) {
          expect(list.length).toBeLessThanOrEqual(PACKED_LIST_MAX_ENTRIES);
        }
        if (step % 100 === 0) {
          expect(list.toArray()).toEqual(model);
          expect([...list]).toEqual(model);
        }
      }
      expect(list.toArray()).toEqual(model);
    }
    expect(sawPacked).toBeGreaterThan(1000);
    expect(sawRing).toBeGreaterThan(1000);
  });

  test("packed up to the limits, a ring buffer past them, packed again at half of them", () => {
    const list = new ListValue();
    for (let i = 0; i < PACKED_LIST_MAX_ENTRIES; i++) list.pushTail(`e${i}`);
    expect(list.packed).toBe(true);
    list.pushHead("first");
    expect(list.packed).toBe(false);
    while (list.length > PACKED_LIST_MAX_ENTRIES / 2 + 1) list.popTail();
    expect(list.packed).toBe(false);
    list.popTail();
    expect(list.packed).toBe(true);
    expect(list.get(0)).toBe("first");
    expect(list.get(1)).toBe("e0");

    const long = new ListValue();
    long.pushTail("x".repeat(PACKED_LIST_MAX_CHARS / 2));
    expect(long.packed).toBe(true);
    long.pushTail("y".repeat(PACKED_LIST_MAX_CHARS / 2));
    expect(long.packed).toBe(false);
    long.set(0, "short");
    long.popTail();
    expect(long.packed).toBe(true);
    expect(long.toArray()).toEqual(["short"]);
  });

  test("index reads across several lists (the shared offsets table follows whichever is read)", () => {
    const a = ListValue.from(["a0", "a1", "a2"]);
    const b = ListValue.from(["b0", "b1"]);
    const c = ListValue.from(["a0", "a1", "a2"]); // same contents as a
    expect([a.get(2), b.get(1), a.get(0), c.get(1), b.get(0)]).toEqual(["a2", "b1", "a0", "a1", "b0"]);
    a.set(1, "changed");
    expect([c.get(1), a.get(1), a.get(2)]).toEqual(["a1", "changed", "a2"]);
  });

  test("fromPacked: small lists stay packed, big ones become a ring buffer", () => {
    for (const n of [1, PACKED_LIST_MAX_ENTRIES, PACKED_LIST_MAX_ENTRIES + 1, 5000]) {
      packedBuilder.reset();
      const expected: string[] = [];
      for (let i = 0; i < n; i++) {
        packedBuilder.addInteger(i * 1001 - 5000);
        expected.push(String(i * 1001 - 5000));
      }
      const list = ListValue.fromPacked(packedBuilder.finish(), n);
      expect(list.packed).toBe(n <= PACKED_LIST_MAX_ENTRIES);
      expect(list.toArray()).toEqual(expected);
      expect(list.popTail()).toBe(expected[n - 1]);
    }
  });
});
