// HashValue's two forms (packed string, Map) against a Map model: every operation, iteration
// order across the conversion, the limits that end the packed form, binary content, random
// fields, clones, and the RDB path (listpack bytes straight into the packed form).

import { describe, expect, test } from "bun:test";
import { ListpackEncoder } from "../../src/rdb/encode-listpack.ts";
import { decodeListpack, type PackedValue } from "../../src/encoding/listpack.ts";
import { HashValue, PACKED_HASH_MAX_FIELDS } from "../../src/store/hash.ts";
import { packedBuilder, PACKED_MAX_CHARS, unpackEntries } from "../../src/store/packed-entries.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

function expectSame(h: HashValue, model: Map<string, string>): void {
  expect(h.size).toBe(model.size);
  expect([...h]).toEqual([...model]);
  expect([...h.keys()]).toEqual([...model.keys()]);
  expect([...h.values()]).toEqual([...model.values()]);
  const viaForEach: Array<[string, string]> = [];
  h.forEach((v, f) => viaForEach.push([f, v]));
  expect(viaForEach).toEqual([...model]);
  // writeTo (HGETALL / HKEYS / HVALS) writes the same strings straight from either form.
  for (const [keys, values, want] of [
    [true, true, [...model].flat()],
    [true, false, [...model.keys()]],
    [false, true, [...model.values()]],
  ] as const) {
    const out: string[] = [];
    h.writeTo({ bulkChars: (s, start, len) => out.push(s.slice(start, start + len)), bulkRange: (b, start, len) => out.push(Buffer.from(b.subarray(start, start + len)).toString("latin1")) }, keys, values);
    expect(out).toEqual([...want]);
  }
}

/** A string of `len` chars drawn from the whole latin1 range (or from a few letters). */
function randomString(rand: () => number, len: number, binary: boolean): string {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(binary ? Math.floor(rand() * 256) : 97 + Math.floor(rand() * 4));
  return s;
}

describe("HashValue packed form", () => {
  test("random operations agree with a Map, through the conversion to a Map", () => {
    const rand = rng(seedFromEnv("PACKED_HASH_SEED"));
    for (let round = 0; round < 40; round++) {
      const h = new HashValue();
      const model = new Map<string, string>();
      const fieldSpace = [3, 30, 300][round % 3]!;
      const binary = round % 2 === 1;
      for (let step = 0; step < 600; step++) {
        const r = rand();
        const field = round % 5 === 0 ? randomString(rand, Math.floor(rand() * 3), binary) : `f${Math.floor(rand() * fieldSpace)}`;
        if (r < 0.5) {
          const lenPick = rand();
          const len = lenPick < 0.7 ? Math.floor(rand() * 10) : lenPick < 0.95 ? 100 + Math.floor(rand() * 200) : 1000 + Math.floor(rand() * 3000);
          const value = randomString(rand, len, binary);
          expect(h.setField(field, value)).toBe(!model.has(field));
          model.set(field, value);
        } else if (r < 0.7) {
          expect(h.delete(field)).toBe(model.delete(field));
        } else if (r < 0.85) {
          expect(h.get(field)).toBe(model.get(field));
          expect(h.has(field)).toBe(model.has(field));
        } else if (r < 0.95) {
          if (model.size) expect(model.has(h.randomField())).toBe(true);
        } else {
          const copy = h.clone();
          expectSame(copy, model);
          copy.setField("only-in-the-copy", "x");
          expect(h.has("only-in-the-copy")).toBe(model.has("only-in-the-copy"));
        }
        if (step % 50 === 0) expectSame(h, model);
      }
      expectSame(h, model);
    }
  });

  test("stays packed up to the field and character limits, then is a Map for good, in the same order", () => {
    const h = new HashValue();
    const order: string[] = [];
    for (let i = 0; i < PACKED_HASH_MAX_FIELDS; i++) {
      h.setField(`field:${i}`, `v${i}`);
      order.push(`field:${i}`);
    }
    expect(h.packed).toBe(true);
    h.setField("one more", "v");
    order.push("one more");
    expect(h.packed).toBe(false);
    expect([...h.keys()]).toEqual(order);
    for (let i = 0; i < 250; i++) h.delete(`field:${i}`);
    expect(h.packed).toBe(false);

    const long = new HashValue();
    long.setField("a", "x".repeat(PACKED_MAX_CHARS / 2));
    expect(long.packed).toBe(true);
    long.setField("b", "y".repeat(PACKED_MAX_CHARS / 2));
    expect(long.packed).toBe(false);
    expect([...long.keys()]).toEqual(["a", "b"]);
    const grown = new HashValue([["a", "1"]]);
    grown.setField("a", "z".repeat(PACKED_MAX_CHARS + 1));
    expect(grown.packed).toBe(false);
    expect(grown.get("a")!.length).toBe(PACKED_MAX_CHARS + 1);
  });

  test("the encoding is only what is reported; updates keep a field's place; a re-added field goes last", () => {
    const h = new HashValue([
      ["a", "1"],
      ["b", "2"],
      ["c", "3"],
    ]);
    expect(h.encoding).toBe("listpack");
    h.encoding = "hashtable";
    expect(h.packed).toBe(true);
    h.setField("a", "one");
    h.delete("b");
    h.setField("b", "two");
    expect([...h]).toEqual([
      ["a", "one"],
      ["c", "3"],
      ["b", "two"],
    ]);
    h.clear();
    expect(h.size).toBe(0);
    expect([...h]).toEqual([]);
  });

  test("iterators walk the hash as it was when they started", () => {
    const h = new HashValue([
      ["a", "1"],
      ["b", "2"],
    ]);
    const it = h.keys();
    expect(it.next().value).toBe("a");
    h.delete("b");
    h.setField("c", "3");
    expect(it.next().value).toBe("b");
    expect(it.next().done).toBe(true);
  });

  test("empty fields and values, and every byte value, round-trip", () => {
    const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
    const h = new HashValue();
    h.setField("", "");
    h.setField(all, all);
    h.setField("\x80\xff", "");
    expect(h.get("")).toBe("");
    expect(h.get(all)).toBe(all);
    expect(h.get("\x80\xff")).toBe("");
    expect(h.get("\x80")).toBeUndefined();
    expect(h.size).toBe(3);
  });

  test("fromPacked: a hash over built entries, a Map when too big (5-char length headers)", () => {
    const b = packedBuilder;
    b.reset();
    b.addString("f");
    b.addString("v".repeat(20000));
    b.addString("g");
    b.addInteger(-1234567890123);
    const packed = b.finish();
    expect(unpackEntries(packed)).toEqual(["f", "v".repeat(20000), "g", "-1234567890123"]);
    const h = HashValue.fromPacked(packed, 2, "hashtable");
    expect(h.packed).toBe(false);
    expect(h.get("g")).toBe("-1234567890123");
    expect(h.get("f")!.length).toBe(20000);
    expect(h.encoding).toBe("hashtable");
  });

  test("addInteger writes the decimal digits of every digit count and sign (both sides of 2^31)", () => {
    const values: number[] = [0, -0, 1, -1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
    for (let x = 1; x <= 1e15; x *= 10) values.push(x - 1, x, x + 1, -x);
    for (let i = 0; i < 500; i++) values.push(Math.floor((Math.random() - 0.5) * 2 ** (1 + (i % 53))));
    const b = packedBuilder;
    b.reset();
    for (const v of values) b.addInteger(v);
    expect(unpackEntries(b.finish())).toEqual(values.map((v) => String(v)));
  });

  test("the builder finds duplicate fields (hash stride) and members (set stride)", () => {
    const b = packedBuilder;
    b.reset();
    for (const s of ["f", "x", "g", "f", "h", "y"]) b.addString(s);
    expect(b.findDuplicate(2)).toBe(-1); // the fields are f, g, h: "f" as a value is no duplicate
    b.reset();
    for (const s of ["f", "1", "g", "2", "f", "3"]) b.addString(s);
    expect(b.findDuplicate(2)).toBe(4);
    b.reset();
    for (let i = 0; i < 1000; i++) b.addString(`m${i}`);
    expect(b.findDuplicate(1)).toBe(-1);
    b.addString("m500");
    expect(b.findDuplicate(1)).toBe(1000);
    expect(b.entryString(1000)).toBe("m500");
  });
});

describe("listpack bytes into packed entries", () => {
  test("the same elements as decodeListpack (strings and every integer width)", () => {
    const rand = rng(seedFromEnv("PACKED_LISTPACK_SEED"));
    const enc = new ListpackEncoder();
    for (let round = 0; round < 300; round++) {
      enc.reset();
      const n = Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) {
        const k = rand();
        if (k < 0.3) enc.appendString(randomString(rand, Math.floor(rand() * (rand() < 0.1 ? 5000 : 70)), true));
        else if (k < 0.9) {
          const mag = [1, 100, 5000, 40000, 1e7, 3e9, 1e15, 9e18][Math.floor(rand() * 8)]!;
          const v = Math.floor((rand() * 2 - 1) * mag);
          enc.appendInt(Number.isSafeInteger(v) ? v : BigInt(v));
        } else enc.appendInt(rand() < 0.5 ? -9223372036854775808n : 9223372036854775807n);
      }
      const size = enc.finish();
      const bytes = Buffer.from(enc.buf.subarray(0, size));
      const expected: PackedValue[] = [];
      decodeListpack(bytes, 0, bytes.length, expected, false);
      packedBuilder.reset();
      expect(packedBuilder.addListpack(bytes, 0, bytes.length)).toBe(expected.length);
      expect(unpackEntries(packedBuilder.finish())).toEqual(expected as string[]);
    }
  });

  test("a corrupt listpack fails with decodeListpack's error", () => {
    const rand = rng(seedFromEnv("PACKED_LISTPACK_CORRUPT_SEED"));
    const enc = new ListpackEncoder();
    let failures = 0;
    for (let round = 0; round < 2000; round++) {
      enc.reset();
      for (let i = 0; i < 6; i++) {
        if (rand() < 0.5) enc.appendString(randomString(rand, Math.floor(rand() * 80), false));
        else enc.appendInt(Math.floor((rand() - 0.5) * 2 ** (1 + Math.floor(rand() * 50))));
      }
      const size = enc.finish();
      const bytes = Buffer.from(enc.buf.subarray(0, size));
      const flips = 1 + Math.floor(rand() * 3);
      for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      let expected = "";
      const items: PackedValue[] = [];
      try {
        decodeListpack(bytes, 0, bytes.length, items, false);
      } catch (e) {
        expected = String(e);
      }
      let got = "";
      packedBuilder.reset();
      try {
        packedBuilder.addListpack(bytes, 0, bytes.length);
      } catch (e) {
        got = String(e);
      }
      expect(got).toBe(expected);
      if (expected) failures++;
      else expect(unpackEntries(packedBuilder.finish())).toEqual(items as string[]);
    }
    expect(failures).toBeGreaterThan(500);
  });
});
