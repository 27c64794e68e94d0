// The RDB reader on hand-built files: every opcode, every string encoding, header versions,
// checksum handling, restart at every byte, and the error (kind, offset, wording) for each
// kind of bad input. Real files (corpus, redis-server dumps) are in corpus.test.ts and
// reader-redis.test.ts.

import { describe, expect, test } from "bun:test";
import { moduleIdFor } from "../../src/rdb/constants.ts";
import { Crc64 } from "../../src/rdb/crc64.ts";
import { RdbError } from "../../src/rdb/errors.ts";
import { loadRdbBuffer } from "../../src/rdb/loader.ts";
import { RdbParser, type RdbSink } from "../../src/rdb/reader.ts";
import { lzfCompress } from "../../src/rdb/lzf.ts";
import { Database } from "../../src/store/database.ts";
import { ModuleValue } from "../../src/store/values.ts";
import { HashValue } from "../../src/store/hash.ts";
import { ListValue } from "../../src/store/list.ts";
import { RdbWriter } from "../../src/rdb/writer.ts";
import { digest, parseRdb, plain } from "./rdb-test-helpers.ts";

// ------------------------------------------------------------------ a small RDB builder

type Bytes = number[] | Buffer | string;

function bytes(...parts: Bytes[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p as number[]))));
}

function len(n: number): Buffer {
  if (n < 0x40) return Buffer.from([n]);
  if (n < 0x4000) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  if (n <= 0xffffffff) {
    const b = Buffer.alloc(5);
    b[0] = 0x80;
    b.writeUInt32BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0x81;
  b.writeBigUInt64BE(BigInt(n), 1);
  return b;
}

const str = (s: string) => bytes(len(s.length), s);
const int8 = (v: number) => Buffer.from([0xc0, v & 0xff]);
const int16 = (v: number) => bytes([0xc1], Buffer.from(new Int16Array([v]).buffer));
const int32 = (v: number) => bytes([0xc2], Buffer.from(new Int32Array([v]).buffer));
function lzf(s: string): Buffer {
  const c = lzfCompress(Buffer.from(s, "latin1"))!;
  return bytes([0xc3], len(c.length), len(s.length), c);
}
const i64le = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(v));
  return b;
};

/** A listpack of strings (6-bit string entries only: enough for tests). */
function listpack(items: string[]): Buffer {
  const body: Buffer[] = [];
  for (const s of items) {
    if (s.length > 63) throw new Error("test listpack: short strings only");
    const enc = bytes([0x80 | s.length], s);
    body.push(enc, Buffer.from([enc.length]));
  }
  const content = Buffer.concat(body);
  const total = 6 + content.length + 1;
  const head = Buffer.alloc(6);
  head.writeUInt32LE(total, 0);
  head.writeUInt16LE(items.length, 4);
  return Buffer.concat([head, content, Buffer.from([0xff])]);
}

/** A whole RDB: magic, records, EOF and (v >= 5) the CRC-64, or a given trailer. */
function rdb(version: number, records: Bytes[], trailer?: Buffer): Buffer {
  const body = bytes(`REDIS${String(version).padStart(4, "0")}`, ...records, [0xff]);
  if (version < 5) return body;
  if (trailer) return Buffer.concat([body, trailer]);
  const crc = new Crc64();
  crc.update(body);
  const t = Buffer.alloc(8);
  crc.writeLE(t, 0);
  return Buffer.concat([body, t]);
}

function expectError(data: Buffer, kind: RdbError["kind"], message: RegExp | string, offset?: number): RdbError {
  const o = parseRdb(data);
  expect(o.error).toBeInstanceOf(RdbError);
  const e = o.error as RdbError;
  expect(e.kind).toBe(kind);
  if (typeof message === "string") expect(e.message).toContain(message);
  else expect(e.message).toMatch(message);
  if (offset !== undefined) expect(e.offset).toBe(offset);
  expect(e.message).toContain(`(at offset ${e.offset})`);
  return e;
}

function ok(data: Buffer) {
  const o = parseRdb(data);
  if (o.error) throw o.error;
  return o;
}

// ------------------------------------------------------------------ tests

describe("header and trailer", () => {
  test("versions 1 to 12 and VALKEY080 are read; 0, 13 and others are refused", () => {
    for (let v = 1; v <= 12; v++) expect(ok(rdb(v, [[0x00], str("k"), str("v")])).parser.version).toBe(v);
    const valkey = bytes("VALKEY080", [0xff], Buffer.alloc(8));
    expect(ok(valkey).parser.valkey).toBe(true);
    expectError(rdb(13, []), "unsupported", "unsupported RDB version 13 (this reader handles 1 to 12)", 0);
    expectError(bytes("VALKEY081", [0xff], Buffer.alloc(8)), "unsupported", "unsupported Valkey RDB version 81", 0);
    expectError(bytes("REDIS000x", [0xff]), "corrupt", 'the version "000x" is not a number', 0);
    expectError(bytes("RUBBISH01", [0xff]), "corrupt", 'not an RDB file: expected the magic "REDIS" or "VALKEY"', 0);
  });

  test("the CRC-64: verified; 0 means not checked; a mismatch is an error at the trailer", () => {
    const good = rdb(9, [[0x00], str("k"), str("v")]);
    expect(ok(good).parser.checksumVerified).toBe(true);
    const zero = rdb(9, [[0x00], str("k"), str("v")], Buffer.alloc(8));
    const z = ok(zero);
    expect(z.parser.checksumVerified).toBe(false);
    expect(z.parser.done).toBe(true);
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 1;
    expectError(bad, "checksum", /RDB checksum mismatch: the file says 0x[0-9a-f]{16}, the content hashes to 0x[0-9a-f]{16}/, good.length - 8);
    const o = parseRdb(bad, { verifyChecksum: false });
    expect(o.error).toBeNull();
    // Before version 5 there is no trailer at all.
    expect(ok(rdb(4, [[0x00], str("k"), str("v")])).parser.checksumVerified).toBe(false);
  });

  test("bytes after the RDB (an AOF tail) are counted and ignored", () => {
    const data = Buffer.concat([rdb(10, [[0x00], str("k"), str("v")]), Buffer.from("*1\r\n$4\r\nPING\r\n")]);
    const o = ok(data);
    expect(o.parser.trailingBytes).toBe(14);
    expect(o.rec.keys.length).toBe(1);
  });
});

describe("opcodes", () => {
  test("AUX, SELECTDB, RESIZEDB, EXPIRETIME (s), EXPIRETIME_MS, FREQ, IDLE, SLOT_INFO, FUNCTION2, FUNCTION (7.0 RC), MODULE_AUX, Enterprise RAM_LRU", () => {
    const mod = moduleIdFor("test__mod", 3);
    const modLen = (() => {
      const b = Buffer.alloc(9);
      b[0] = 0x81;
      b.writeBigUInt64BE(mod, 1);
      return b;
    })();
    const o = ok(
      rdb(12, [
        [0xfa], str("redis-ver"), str("7.4.0"),
        [0xfa], str("ctime"), int32(1700000000),
        [0xf5], str("#!lua name=lib1\nredis.register_function('f', function() return 1 end)"),
        [0xf6], str("oldlib"), str("LUA"), len(1), str("a description"), str("return 1"),
        [0xf7], modLen, len(2), len(2), len(1), len(42), len(5), str("aux!"), len(0),
        [0xfe], len(3),
        [0xfb], len(5), len(2),
        [0xf4], len(1234), len(5), len(2),
        [0xfd], Buffer.from(new Int32Array([1600000000]).buffer), [0x00], str("secs"), str("v"),
        [0xfc], i64le(1700000000123), [0xf9], [7], [0x00], str("ms"), str("v"),
        [0xf8], len(99), [0x00], str("idle"), str("v"),
        [107], len(12345), [0x00], str("ent"), str("v"),
      ]),
    );
    const r = o.rec;
    expect([...r.auxFields]).toEqual([["redis-ver", "7.4.0"], ["ctime", "1700000000"]]);
    expect(r.functions).toEqual(["#!lua name=lib1\nredis.register_function('f', function() return 1 end)"]);
    expect(r.preGaFunctions).toEqual([{ name: "oldlib", engine: "LUA", description: "a description", code: "return 1" }]);
    expect(r.moduleAuxRecords.map((m) => m.moduleId)).toEqual([mod]);
    expect([...r.selected]).toEqual([3]);
    expect(r.resizes).toEqual([[3, 5, 2]]);
    expect(r.slotInfos).toEqual([[1234, 5, 2]]);
    const k = (name: string) => r.get(name, 3)!;
    expect(k("secs").expireMs).toBe(1600000000000);
    expect([k("ms").expireMs, k("ms").lfuFreq, k("ms").lruIdle]).toEqual([1700000000123, 7, -1]);
    expect([k("idle").expireMs, k("idle").lfuFreq, k("idle").lruIdle]).toEqual([-1, -1, 99]);
    expect(k("ent").expireMs).toBe(-1);
  });

  test("SELECTDB beyond the configured databases, unknown opcodes and types are refused", () => {
    const e = parseRdb(rdb(9, [[0xfe], len(16)]), { maxDatabases: 16 }).error as RdbError;
    expect(e.kind).toBe("unsupported");
    expect(e.message).toBe("the RDB selects DB 16, but only 16 databases are configured (at offset 9)");
    expectError(rdb(9, [[0xf0]]), "corrupt", "unknown record type 240 (0xf0)", 9);
    expectError(rdb(9, [[0x1a], str("k")]), "corrupt", "unknown value type 26", 9);
    expectError(rdb(9, [[0xf7], len(1), len(9)]), "corrupt", "module aux data of '", 11);
  });
});

describe("strings", () => {
  test("raw (6, 14, 32-bit lengths), int8/16/32, LZF, empty, binary", () => {
    const long14 = "x".repeat(300);
    const long32 = "y".repeat(20000);
    const bin = "\x00\xff\x80\r\n";
    const o = ok(
      rdb(9, [
        [0x00], str("short"), str("abc"),
        [0x00], str("l14"), str(long14),
        [0x00], str("l32"), str(long32),
        [0x00], int8(-7), int8(-128),
        [0x00], int16(300), int16(-32768),
        [0x00], int32(70000), int32(-2147483648),
        [0x00], str("lzf"), lzf("abcabcabcabcabcabcabcabc".repeat(10)),
        [0x00], lzf("k".repeat(100)), str(""),
        [0x00], str(bin), str(bin),
      ]),
    );
    const v = (k: string) => plain(o.rec.get(k)!.value);
    expect(v("short")).toBe("abc");
    expect(v("l14")).toBe(long14);
    expect(v("l32")).toBe(long32);
    expect(v("-7")).toBe("-128");
    expect(v("300")).toBe("-32768");
    expect(v("70000")).toBe("-2147483648");
    expect(v("lzf")).toBe("abcabcabcabcabcabcabcabc".repeat(10));
    expect(v("k".repeat(100))).toBe("");
    expect(v(bin)).toBe(bin);
  });

  test("bad encodings: unknown string encoding, LZF that does not add up, implausible lengths", () => {
    expectError(rdb(9, [[0x00], [0xc4]]), "corrupt", "unknown string encoding 4", 10);
    expectError(rdb(9, [[0x00], str("k"), [0xc3], len(0), len(5)]), "corrupt", "LZF string with 0 compressed bytes", 12);
    expectError(rdb(9, [[0x00], str("k"), [0xc3], len(2), len(1000), [0x01, 0x61]]), "corrupt", "LZF string of 2 bytes cannot expand to 1000");
    expectError(rdb(9, [[0x00], str("k"), [0xc3], len(2), len(3), [0x00, 0x61]]), "corrupt", /invalid LZF data: lzf: decompressed to 1 bytes, 3 announced/);
    expectError(rdb(9, [[0x00], str("k"), [0x81, 0xff, 0xff, 0, 0, 0, 0, 0, 0]]), "corrupt", "implausible 64-bit length");
    const e = parseRdb(rdb(9, [[0x00], str("k"), len(5000)]), { maxStringLength: 4096 }).error as RdbError;
    expect(e.kind).toBe("too-large");
    expect(e.message).toContain("a string of 5000 bytes is longer than this implementation accepts (4096)");
  });
});

describe("aggregates", () => {
  test("plain list, set, zset (ASCII scores with nan/inf markers, binary scores), hash", () => {
    const o = ok(
      rdb(9, [
        [0x01], str("list"), len(3), str("a"), int8(5), str("c"),
        [0x02], str("set"), len(2), str("m1"), str("m2"),
        [0x03], str("zset"), len(3), str("lo"), [255], str("hi"), [254], str("mid"), [3], "1.5",
        [0x05], str("zset2"), len(1), str("pi"), Buffer.from(new Float64Array([3.25]).buffer),
        [0x04], str("hash"), len(2), str("f1"), str("v1"), str("f2"), int16(1000),
      ]),
    );
    const v = (k: string) => plain(o.rec.get(k)!.value);
    expect(v("list")).toEqual(["a", "5", "c"]);
    expect(v("set")).toEqual(["m1", "m2"]);
    expect(v("zset")).toEqual([["lo", -Infinity], ["mid", 1.5], ["hi", Infinity]]);
    expect(v("zset2")).toEqual([["pi", 3.25]]);
    expect(v("hash")).toEqual([["f1", "v1"], ["f2", "1000"]]);
    expectError(rdb(9, [[0x03], str("z"), len(1), str("m"), [253]]), "corrupt", "NaN score for member 'm'");
  });

  test("packed encodings: listpack hash/set/zset, quicklist 2 (plain and packed nodes)", () => {
    const o = ok(
      rdb(11, [
        [0x10], str("h"), str(listpack(["f", "v", "g", "w"]).toString("latin1")),
        [0x14], str("s"), str(listpack(["a", "b"]).toString("latin1")),
        [0x11], str("z"), str(listpack(["m", "2.5", "n", "10"]).toString("latin1")),
        [0x12], str("l"), len(2), len(1), str("plain element"), len(2), str(listpack(["x", "y"]).toString("latin1")),
      ]),
    );
    const v = (k: string) => plain(o.rec.get(k)!.value);
    expect(v("h")).toEqual([["f", "v"], ["g", "w"]]);
    expect(v("s")).toEqual(["a", "b"]);
    expect(v("z")).toEqual([["m", 2.5], ["n", 10]]);
    expect(v("l")).toEqual(["plain element", "x", "y"]);
    expect(o.rec.get("l")!.type).toBe(18);
  });

  test("empty aggregates are skipped (as Redis does) and reported", () => {
    const o = ok(rdb(9, [[0x01], str("el"), len(0), [0x04], str("eh"), len(0), [0x00], str("k"), str("v")]));
    expect(o.rec.keys.map((k) => k.key)).toEqual(["k"]);
    expect(o.rec.empty.map((e) => [e.key, e.type])).toEqual([["el", 1], ["eh", 4]]);
    expect(o.parser.emptyKeysSkipped).toBe(2);
  });

  test("corrupt embedded structures name the record, the structure and both offsets", () => {
    const lp = listpack(["f", "v"]);
    lp[6] = 0xfe; // not a valid listpack entry encoding byte
    const data = rdb(11, [[0x00], str("before"), str("x"), [0x10], str("h"), str(lp.toString("latin1"))]);
    const e = expectError(data, "corrupt", "corrupt RDB in the record at offset 19 (hash_listpack key 'h'): listpack: invalid entry encoding byte 0xfe (at byte 6 of the listpack)", 19);
    expect(e.offset).toBe(19);
    expectError(rdb(9, [[0x02], str("s"), len(2), str("m"), str("m")]), "corrupt", "duplicate set member 'm'");
    expectError(rdb(9, [[0x04], str("h"), len(2), str("f"), str("1"), str("f"), str("2")]), "corrupt", "duplicate hash field 'f'");
  });

  test("module values (type 7) are skipped through their annotations and kept opaque; type 6 is refused", () => {
    const id = moduleIdFor("mymodtype", 2);
    const idLen = bytes([0x81], (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(id); return b; })());
    // opcodes: 1 sint, 2 uint, 3 float, 4 double, 5 string, 0 EOF
    const payload = bytes(len(1), len(7), len(2), len(8), len(3), [0, 0, 0x80, 0x3f], len(4), Buffer.from(new Float64Array([2.5]).buffer), len(5), str("data"), len(0));
    const o = ok(rdb(9, [[0x07], str("m"), idLen, payload, [0x00], str("after"), str("v")]));
    const m = o.rec.get("m")!.value as ModuleValue;
    expect(m).toBeInstanceOf(ModuleValue);
    expect([m.typeName, m.moduleId]).toEqual(["mymodtype", id]);
    expect(m.payload.equals(payload)).toBe(true);
    expect(plain(o.rec.get("after")!.value)).toBe("v");
    expectError(rdb(9, [[0x07], str("m"), idLen, len(9)]), "corrupt", "unknown opcode 9 in the value of module 'mymodtype'");
    expectError(rdb(9, [[0x06], str("m"), idLen]), "unsupported", "module 'mymodtype' not supported: key 'm' holds a value in the pre-GA module format");
  });
});

describe("push parsing", () => {
  test("fed one byte at a time, the result is the same as in one piece", () => {
    const data = rdb(11, [
      [0xfa], str("redis-ver"), str("7.2.0"),
      [0xfe], len(0), [0xfb], len(3), len(1),
      [0xfc], i64le(1800000000000), [0x00], str("k"), lzf("z".repeat(500)),
      [0x12], str("l"), len(1), len(2), str(listpack(["a", "b", "c"]).toString("latin1")),
      [0x04], str("h"), len(1), str("f"), int32(123456),
    ]);
    const whole = ok(data);
    const bytewise = parseRdb(data, {}, () => 1);
    expect(bytewise.error).toBeNull();
    expect(digest(bytewise.rec)).toBe(digest(whole.rec));
    expect(bytewise.parser.bytesConsumed).toBe(data.length);
  });

  test("truncation at any byte is reported as truncated, with what was being read", () => {
    const data = rdb(9, [[0xfa], str("a"), str("b"), [0x00], str("key"), str("value"), [0x02], str("s"), len(1), str("m")]);
    for (let cut = 0; cut < data.length; cut++) {
      const e = parseRdb(data.subarray(0, cut)).error as RdbError;
      expect(e).toBeInstanceOf(RdbError);
      expect(e.kind).toBe("truncated");
      expect(e.message).toMatch(/^RDB truncated: the input ended while reading (the header|the next record|the record at offset \d+|the 8-byte checksum)/);
      expect(e.offset).toBe(cut);
    }
    const mid = parseRdb(data.subarray(0, 20)).error as RdbError;
    expect(mid.message).toBe("RDB truncated: the input ended while reading the record at offset 14 (string key 'key'); 5 more bytes were needed (at offset 20)");
  });

  test("after an error the parser stays failed", () => {
    const p = parseRdb(rdb(9, [[0xf0]]));
    expect(() => p.parser.feed(Buffer.from([0]))).toThrow("unknown record type 240");
  });
});

describe("sliced parsing (a deadline per feed)", () => {
  /** An RDB of `n` keys of mixed types, with its records as a plain sink sees them. */
  function bigRdb(n: number): Buffer {
    const w = new RdbWriter({ checksum: true });
    w.header({ redisVersion: "7.0.15", ctime: 1700000000, usedMem: 0, repl: null });
    w.selectDb(0, n, n / 10);
    for (let i = 0; i < n; i++) {
      const value = i % 3 === 0 ? `value:${i}` : i % 3 === 1 ? ListValue.from(["a", String(i)]) : new HashValue([["f", String(i)]]);
      w.keyValue(`key:${i}`, value, i % 10 === 0 ? 1800000000000 + i : -1);
    }
    w.end();
    return w.takeChunk();
  }
  const records = () => {
    const out: string[] = [];
    const sink: RdbSink = { key: (db, key, value, exp) => out.push(`${db}|${key}|${JSON.stringify(plain(value))}|${exp}`) };
    return { out, sink };
  };

  test("stopped at record boundaries by a past deadline and resumed, the records are those of one feed", () => {
    const data = bigRdb(20000);
    const whole = records();
    new RdbParser(whole.sink).feed(data);
    const sliced = records();
    const parser = new RdbParser(sliced.sink);
    // Chunks fed while the parser is stopped wait behind what it holds.
    const chunks = [data.subarray(0, 70000), data.subarray(70000, 150000), data.subarray(150000)];
    let stops = 0;
    for (const chunk of chunks) {
      if (!parser.feed(chunk, 0)) stops++;
      expect(parser.suspended).toBe(true);
    }
    while (!parser.resume(0)) stops++;
    expect(parser.suspended).toBe(false);
    parser.end();
    expect(stops).toBeGreaterThan(20000 / 128 - 5);
    expect(parser.done).toBe(true);
    expect(parser.checksumVerified).toBe(true);
    expect(sliced.out).toEqual(whole.out);
  });

  test("big chunks split mid-record: only a bridge is copied, records, checksum and trailing bytes as one feed", () => {
    const data = bigRdb(40000);
    const whole = records();
    new RdbParser(whole.sink).feed(data);
    const extra = Buffer.from("trailing");
    for (const cuts of [[1001, 300000], [7, 200001, 200002], [data.length - 3]]) {
      const got = records();
      const parser = new RdbParser(got.sink);
      let from = 0;
      // Every cut but the first arrives while the parser holds an unfinished record.
      for (const cut of [...cuts, data.length]) {
        parser.feed(data.subarray(from, cut));
        from = cut;
      }
      parser.feed(extra);
      parser.end();
      expect(parser.checksumVerified).toBe(true);
      expect(parser.trailingBytes).toBe(extra.length);
      expect(got.out).toEqual(whole.out);
    }
    // Chunks queued behind a stopped parse, each cut inside a record, then end().
    const got = records();
    const parser = new RdbParser(got.sink);
    for (let p = 0; p < data.length; p += 99991) parser.feed(data.subarray(p, p + 99991), 0);
    parser.end();
    expect(got.out).toEqual(whole.out);
    expect(parser.bytesConsumed).toBe(data.length);
  });

  test("a record larger than the bridge, spread over many queued chunks", () => {
    const w = new RdbWriter({ checksum: true });
    w.header({ redisVersion: "7.0.15", ctime: 1700000000, usedMem: 0, repl: null });
    w.selectDb(0, 2, 0);
    // Not compressible (LZF would shrink a repeated character below the bridge's size).
    let x = 2463534242;
    const big = Array.from({ length: 300000 }, () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return String.fromCharCode((x >>> 8) & 0xff);
    }).join("");
    w.keyValue("big", big, -1);
    w.keyValue("small", "s", -1);
    w.end();
    const data = w.takeChunk();
    expect(data.length).toBeGreaterThan(150000);
    const got = records();
    const parser = new RdbParser(got.sink);
    for (let p = 0; p < data.length; p += 30000) parser.feed(data.subarray(p, p + 30000));
    parser.end();
    expect(got.out.length).toBe(2);
    expect(got.out[0]).toBe(`0|big|${JSON.stringify(big)}|-1`);
    expect(parser.checksumVerified).toBe(true);
  });

  test("end() finishes a stopped parse; without a deadline nothing changes", () => {
    const data = bigRdb(3000);
    const a = records();
    const p = new RdbParser(a.sink);
    expect(p.feed(data, 0)).toBe(false);
    p.end();
    expect(a.out.length).toBe(3000);
    const b = records();
    const q = new RdbParser(b.sink);
    expect(q.feed(data)).toBe(true);
    expect(q.suspended).toBe(false);
    expect(b.out).toEqual(a.out);
  });
});

describe("batched delivery of key records (keyBatch)", () => {
  /** Every sink call, in order, with the valueType / recordOffset seen inside key(). */
  function calls(data: Buffer, keyBatch: number, chunk?: number): { log: string[]; error: string | null } {
    const log: string[] = [];
    let parser: RdbParser;
    const sink: RdbSink = {
      key: (db, key, _v, exp) => log.push(`key ${db} ${key} ${exp} type=${parser.valueType} at=${parser.recordOffset}`),
      aux: (n, v) => log.push(`aux ${n}=${v}`),
      selectDb: (db) => log.push(`select ${db}`),
      resizeDb: (db, a, b) => log.push(`resize ${db} ${a} ${b}`),
      emptyKey: (db, key) => log.push(`empty ${db} ${key} type=${parser.valueType}`),
      hashFieldTtls: (db, key, t) => log.push(`ttls ${db} ${key} ${[...t].join()}`),
      function: (code) => log.push(`function ${code}`),
    };
    parser = new RdbParser(sink, { keyBatch });
    try {
      if (chunk) for (let p = 0; p < data.length; p += chunk) parser.feed(data.subarray(p, p + chunk));
      else parser.feed(data);
      parser.end();
      return { log, error: null };
    } catch (e) {
      return { log, error: (e as Error).message };
    }
  }
  const records: Bytes[] = [
    [0xfa], str("redis-ver"), str("7.4.0"),
    [0x00], str("a"), str("1"), [0x00], str("b"), str("2"), [0x00], str("c"), str("3"), [0x00], str("d"), str("4"),
    [0xfe], len(1), [0xfb], len(2), len(0),
    [0x00], str("e"), str("5"), [0x01], str("empty"), len(0),
    [0x18], str("h"), i64le(1000), len(2), len(0), str("f"), str("v"), len(5), str("g"), str("w"),
    [0x00], str("f"), str("6"), [0xf5], str("#!lua name=x\nreturn 1"), [0x00], str("g"), str("7"),
  ];

  test("the sink sees the same calls in the same order, whatever the batch size and chunking", () => {
    const data = rdb(12, records);
    const one = calls(data, 1);
    expect(one.error).toBeNull();
    expect(one.log).toContain("ttls 1 h g,1004");
    for (const batch of [2, 3, 4096]) {
      expect(calls(data, batch)).toEqual(one);
      expect(calls(data, batch, 7)).toEqual(one);
    }
  });

  test("records before an error are delivered first; a sink error in a batch is the one reported", () => {
    const broken = rdb(9, [[0x00], str("a"), str("1"), [0x00], str("b"), str("2"), [0xf0]]);
    const r = calls(broken, 4096);
    expect(r.log.map((l) => l.split(" type")[0])).toEqual(["key 0 a -1", "key 0 b -1"]);
    expect(r.error).toContain("unknown record type 240");
    const truncated = calls(rdb(9, [[0x00], str("a"), str("1"), [0x00], str("b")]).subarray(0, 16), 4096);
    expect(truncated.log.length).toBe(1);
    expect(truncated.error).toContain("RDB truncated");
    const dbs = [new Database(0)];
    const dup = rdb(9, [[0x00], str("k"), str("1"), [0x00], str("k"), str("2"), [0xf0]]);
    expect(() => loadRdbBuffer(dup, dbs)).toThrow("RDB has duplicated key 'k' in DB 0 (at offset 14)");
  });
});

describe("loading into databases", () => {
  test("keys and expiries land in their database; a duplicate key is refused as redis-server does", () => {
    const dbs = Array.from({ length: 16 }, (_, i) => new Database(i));
    const r = loadRdbBuffer(rdb(9, [[0xfe], len(2), [0xfc], i64le(1900000000000), [0x00], str("k"), str("v"), [0xfa], str("repl-id"), str("abc")]), dbs);
    expect(dbs[2]!.get("k")).toBe("v");
    expect(dbs[2]!.getExpire("k")).toBe(1900000000000);
    expect(r.sink.replId).toBe("abc");
    expect(r.checksumVerified).toBe(true);
    const again = Array.from({ length: 16 }, (_, i) => new Database(i));
    expect(() => loadRdbBuffer(rdb(9, [[0x00], str("k"), str("v"), [0x00], str("k"), str("w")]), again)).toThrow("RDB has duplicated key 'k' in DB 0");
  });
});
