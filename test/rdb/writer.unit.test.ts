// The RDB writer's building blocks and its round trip through our own reader: LZF, listpack
// and intset encoders (decoded by the reader's decoders), every value type written and read
// back with the same value, encoding, expiry and stream layout, the file structure (AUX
// fields, RESIZEDB, checksum), and DUMP payloads.
//
// Random content is seeded; the seed is printed (RDB_WRITER_SEED to choose one).

import { describe, expect, test } from "bun:test";
import { Crc64 } from "../../src/rdb/crc64.ts";
import { encodeIntset } from "../../src/rdb/encode-intset.ts";
import { int64OfString, ListpackEncoder } from "../../src/rdb/encode-listpack.ts";
import { decodeListpack, listpackStrings, type PackedValue } from "../../src/encoding/listpack.ts";
import { lzfCompress, lzfCompressInto, lzfDecompress } from "../../src/rdb/lzf.ts";
import { dumpPayload, RdbWriter, RDB_VERSION, type RdbWriteOptions } from "../../src/rdb/writer.ts";
import { HashValue } from "../../src/store/hash.ts";
import { ListValue } from "../../src/store/list.ts";
import { SetValue } from "../../src/store/set.ts";
import { StreamValue, newConsumer, newConsumerGroup } from "../../src/store/stream.ts";
import { ModuleValue, type RedisValue } from "../../src/store/values.ts";
import { ZSetValue } from "../../src/store/zset.ts";
import { decodeIntset, parseRdb, plain } from "./rdb-test-helpers.ts";
import { rng } from "../helpers/seeded.ts";

const SEED = Number(process.env.RDB_WRITER_SEED ?? (process.env.RANDOM_SEEDS === "1" ? Date.now() % 1000000 : 20261201));
console.log(`writer: seed ${SEED} (RDB_WRITER_SEED=${SEED} to repeat)`);

function randomBytes(r: () => number, n: number, alphabet = 256): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * alphabet);
  return b;
}

describe("LZF compressor", () => {
  test("round trips random, repetitive and run-heavy inputs (decompressed by our decompressor)", () => {
    const r = rng(SEED);
    const inputs: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const n = 1 + Math.floor(r() * 20000);
      const kind = i % 4;
      if (kind === 0) inputs.push(randomBytes(r, n));
      else if (kind === 1) inputs.push(randomBytes(r, n, 4));
      else if (kind === 2) inputs.push(Buffer.from("abcdefghij".repeat(Math.ceil(n / 10)).slice(0, n)));
      else {
        const b = Buffer.alloc(n, 0x61);
        for (let j = 0; j < n; j += 97) b[j] = Math.floor(r() * 256);
        inputs.push(b);
      }
    }
    inputs.push(Buffer.alloc(100000, 7)); // long runs: back references of the maximum length
    let compressed = 0;
    for (const input of inputs) {
      const c = lzfCompress(input);
      if (c === null) continue;
      compressed++;
      expect(c.length).toBeLessThanOrEqual(input.length - 4);
      expect(lzfDecompress(c, 0, c.length, input.length).equals(input)).toBe(true);
    }
    expect(compressed).toBeGreaterThan(100);
  });

  test("never writes past the output limit, and gives up on incompressible data", () => {
    const r = rng(SEED + 1);
    const input = randomBytes(r, 5000);
    const out = Buffer.alloc(6000, 0xee);
    expect(lzfCompressInto(input, 0, input.length, out, 100, input.length - 4)).toBe(0);
    for (let i = 100 + input.length - 4; i < out.length; i++) expect(out[i]).toBe(0xee);
    expect(lzfCompress(Buffer.from("abcd"))).toBeNull();
  });

  test("compresses a sub-range of a larger buffer at an output offset", () => {
    const data = Buffer.from(`xxxx${"hello hello hello hello hello "}yyyy`);
    const out = Buffer.alloc(64);
    const n = lzfCompressInto(data, 4, data.length - 4, out, 10, 26);
    expect(n).toBeGreaterThan(0);
    expect(lzfDecompress(out, 10, 10 + n, data.length - 8).toString()).toBe("hello hello hello hello hello ");
  });
});

describe("listpack encoder", () => {
  const samples = [
    "0", "1", "127", "128", "-1", "-4096", "4095", "4096", "-4097", "32767", "-32768", "32768", "8388607", "-8388608", "8388608",
    "2147483647", "-2147483648", "2147483648", "9007199254740993", "9223372036854775807", "-9223372036854775808",
    "9223372036854775808", "-0", "01", "+1", " 1", "1 ", "1.5", "", "a", "x".repeat(63), "y".repeat(64), "z".repeat(4095),
    "w".repeat(4096), "\x00\xff", "12345678901234567890",
  ];

  test("strings come back byte for byte; integers where Redis stores integers", () => {
    const lp = new ListpackEncoder(16);
    for (const s of samples) lp.appendString(s);
    const size = lp.finish();
    const bytes = Buffer.from(lp.buf.subarray(0, size));
    expect(listpackStrings(bytes)).toEqual(samples);
    const typed: PackedValue[] = [];
    decodeListpack(bytes, 0, bytes.length, typed, true);
    for (let i = 0; i < samples.length; i++) expect(typeof typed[i] === "string").toBe(int64OfString(samples[i]!) === null);
  });

  test("integer encodings are the smallest of lpEncodeIntegerGetType", () => {
    const sizeOf = (v: string) => {
      const lp = new ListpackEncoder();
      lp.appendString(v);
      return lp.finish() - 7; // header + terminator
    };
    // encoding + data + 1 byte of backlen
    expect(sizeOf("127")).toBe(2);
    expect(sizeOf("-1")).toBe(3);
    expect(sizeOf("4095")).toBe(3);
    expect(sizeOf("32767")).toBe(4);
    expect(sizeOf("8388607")).toBe(5);
    expect(sizeOf("2147483647")).toBe(6);
    expect(sizeOf("2147483648")).toBe(10);
    expect(sizeOf("abc")).toBe(5);
  });

  test("the element count saturates at 65535", () => {
    const lp = new ListpackEncoder();
    for (let i = 0; i < 70000; i++) lp.appendInt(i % 100);
    const size = lp.finish();
    expect(lp.buf.readUInt16LE(4)).toBe(65535);
    const out: PackedValue[] = [];
    expect(decodeListpack(lp.buf, 0, size, out, true)).toBe(70000);
  });
});

describe("intset encoder", () => {
  test("chooses the narrowest width and sorts", () => {
    const cases: Array<[string[], number]> = [
      [["3", "-1", "2"], 2],
      [["40000", "1"], 4],
      [["-9223372036854775808", "9223372036854775807", "0"], 8],
    ];
    for (const [members, width] of cases) {
      const blob = encodeIntset(members, members.length)!;
      expect(blob.readUInt32LE(0)).toBe(width);
      expect(decodeIntset(blob, 0, blob.length)).toEqual([...members].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
    }
    expect(encodeIntset(["1", "x"], 2)).toBeNull();
  });
});

function sampleStream(): StreamValue {
  const s = new StreamValue();
  const limits = { maxEntries: 4, maxBytes: 4096 };
  for (let i = 1; i <= 10; i++) {
    const fields = i % 3 === 0 ? ["f", `v${i}`, "extra", String(i)] : ["f", `v${i}`];
    s.add({ ms: 1000 + i, seq: i % 2 }, fields, limits);
  }
  s.deleteEntry({ ms: 1002, seq: 0 });
  s.deleteEntry({ ms: 1006, seq: 0 });
  s.maxDeletedId = { ms: 1006, seq: 0 };
  const g = newConsumerGroup("grp", { ms: 1005, seq: 1 }, 5);
  const alice = newConsumer("alice", 1700000000123);
  for (const id of [{ ms: 1001, seq: 1 }, { ms: 1003, seq: 1 }]) {
    const pe = { id, consumer: "alice", deliveryTime: 1700000000999, deliveryCount: 2 };
    g.pending.set(`${id.ms}-${id.seq}`, pe);
    alice.pending.set(`${id.ms}-${id.seq}`, pe);
  }
  g.consumers.set("alice", alice);
  g.consumers.set("bob", newConsumer("bob", 1700000000456));
  s.groups.set("grp", g);
  s.groups.set("another", newConsumerGroup("another", { ms: 0, seq: 0 }, -1));
  return s;
}

function sampleDataset(): Array<{ key: string; value: RedisValue; expire: number }> {
  const list = ListValue.from(Array.from({ length: 3000 }, (_, i) => (i % 4 === 0 ? String(i * 31) : `item-${i}`)));
  const small = new HashValue();
  small.set("f1", "v1");
  small.set("7", "-8");
  const big = new HashValue();
  for (let i = 0; i < 600; i++) big.set(`field${i}`, `value${i}`);
  big.encoding = "hashtable";
  const iset = new SetValue();
  for (const m of ["5", "-3", "100000"]) iset.add(m);
  iset.encoding = "intset";
  const sset = new SetValue();
  for (const m of ["a", "b", "1"]) sset.add(m);
  const zl = new ZSetValue();
  for (const [m, s] of [["a", 1], ["b", 2.5], ["c", -Infinity], ["d", 1e300], ["e", 4611686018427387904]] as const) zl.add(m, s);
  const zs = new ZSetValue();
  zs.encoding = "skiplist";
  for (let i = 0; i < 200; i++) zs.add(`m${i}`, i / 7);
  return [
    { key: "s:int", value: "-123456", expire: -1 },
    { key: "s:long", value: "12345678901234", expire: -1 },
    { key: "s:lzf", value: "abc".repeat(1000), expire: Date.now() + 100000 },
    { key: "s:empty", value: "", expire: -1 },
    { key: "\x00binary\xff", value: "\x00\x01\x02", expire: -1 },
    { key: "123", value: "integer key", expire: -1 },
    { key: "list", value: list, expire: -1 },
    { key: "h:small", value: small, expire: -1 },
    { key: "h:big", value: big, expire: 4102444800000 },
    { key: "set:int", value: iset, expire: -1 },
    { key: "set:str", value: sset, expire: -1 },
    { key: "z:lp", value: zl, expire: -1 },
    { key: "z:sl", value: zs, expire: -1 },
    { key: "stream", value: sampleStream(), expire: -1 },
  ];
}

/**
 * plain() with the orders that legitimately differ made canonical: set members (an intset is
 * written sorted) and consumer groups (written in name order, as Redis's radix tree keeps them).
 */
function canon(v: RedisValue): unknown {
  const p = plain(v) as unknown;
  if (v instanceof SetValue) return [...(p as string[])].sort();
  if (v instanceof StreamValue) {
    const o = p as { groups: Array<{ name: string }> };
    o.groups.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  return p;
}

function writeRdb(records: Array<{ key: string; value: RedisValue; expire: number }>, options: Partial<RdbWriteOptions> = {}): Buffer {
  const w = new RdbWriter(options, 64);
  w.header({ redisVersion: "7.0.15", ctime: 1700000000, usedMem: 12345, repl: { replStreamDb: 3, replId: "a".repeat(40), replOffset: 777 } });
  w.functionLibrary("#!lua name=mylib\nredis.register_function('f', function() return 1 end)");
  const chunks: Buffer[] = [];
  let expires = 0;
  for (const r of records) if (r.expire !== -1) expires++;
  w.selectDb(0, records.length, expires);
  for (const r of records) {
    w.keyValue(r.key, r.value, r.expire);
    chunks.push(w.takeChunk()); // drained record by record: the CRC spans chunks
  }
  w.selectDb(5, 1, 0);
  w.keyValue("in-db5", "x", -1);
  w.end();
  chunks.push(w.takeChunk());
  return Buffer.concat(chunks);
}

describe("RDB files written by the writer, read back by our reader", () => {
  test("every type: same values, encodings, expiries, AUX fields, functions, checksum", () => {
    const records = sampleDataset();
    const data = writeRdb(records);
    expect(data.latin1Slice(0, 9)).toBe("REDIS0010");
    const { rec, parser, error } = parseRdb(data);
    expect(error).toBeNull();
    expect(parser.checksumVerified).toBe(true);
    expect(Object.fromEntries(rec.auxFields)).toEqual({
      "redis-ver": "7.0.15",
      "redis-bits": "64",
      ctime: "1700000000",
      "used-mem": "12345",
      "repl-stream-db": "3",
      "repl-id": "a".repeat(40),
      "repl-offset": "777",
      "aof-base": "0",
    });
    expect(rec.functions).toEqual(["#!lua name=mylib\nredis.register_function('f', function() return 1 end)"]);
    expect(rec.resizes).toEqual([[0, records.length, 2], [5, 1, 0]]);
    for (const r of records) {
      const got = rec.get(r.key);
      expect(got).toBeDefined();
      expect(canon(got!.value)).toEqual(canon(r.value));
      expect(got!.expireMs).toBe(r.expire);
      if (typeof r.value !== "string" && !(r.value instanceof StreamValue) && !(r.value instanceof ModuleValue)) {
        expect(`${r.key}:${(got!.value as { encoding: string }).encoding}`).toBe(`${r.key}:${(r.value as { encoding: string }).encoding}`);
      }
    }
    expect(rec.get("in-db5", 5)?.value).toBe("x");
    // The RDB types chosen for each encoding.
    const types = Object.fromEntries(rec.keys.map((k) => [k.key, k.type]));
    expect(types).toMatchObject({ list: 18, "h:small": 16, "h:big": 4, "set:int": 11, "set:str": 2, "z:lp": 17, "z:sl": 5, stream: 19 });
  });

  test("the stream keeps its node layout, tombstones and groups", () => {
    const s = sampleStream();
    const data = writeRdb([{ key: "st", value: s, expire: -1 }]);
    const { rec, error } = parseRdb(data);
    expect(error).toBeNull();
    const got = rec.get("st")!.value as StreamValue;
    expect(got.nodeCount).toBe(s.nodeCount);
    expect(got.length).toBe(8);
    expect(got.radixTreeNodes()).toBe(s.radixTreeNodes());
    expect(canon(got)).toEqual(canon(s));
    expect(got.groups.get("another")!.entriesRead).toBe(-1);
  });

  test("rdbcompression no: no LZF strings; rdbchecksum no: a zero trailer", () => {
    const records = sampleDataset();
    const plainFile = writeRdb(records, { compression: false, checksum: false });
    expect(plainFile.subarray(plainFile.length - 8).equals(Buffer.alloc(8))).toBe(true);
    const { rec, error, parser } = parseRdb(plainFile);
    expect(error).toBeNull();
    expect(parser.checksumVerified).toBe(false);
    expect(plain(rec.get("s:lzf")!.value)).toBe("abc".repeat(1000));
    expect(plainFile.length).toBeGreaterThan(writeRdb(records).length);
  });

  test("a corrupted byte is caught by the checksum", () => {
    const data = writeRdb([{ key: "k", value: "value", expire: -1 }]);
    data[data.length - 12]! ^= 1;
    expect(parseRdb(data).error?.message).toContain("checksum");
  });

  test("list nodes split as Redis's quicklist does (list-max-listpack-size)", () => {
    // 20-byte elements take 22 bytes in a listpack; with -2 (8 KB) a node takes elements while
    // 7 + 22k + 20 + 8 <= 8192: 372 per node. A positive fill counts elements.
    const list = ListValue.from(Array.from({ length: 1000 }, (_, i) => `element-${String(i).padStart(11, "0")}`));
    for (const [fill, nodes] of [[-2, 3], [10, 100], [-5, 1], [0, 1000]] as const) {
      const data = writeRdb([{ key: "l", value: list, expire: -1 }], { listMaxListpackSize: fill, compression: false });
      const at = data.indexOf(Buffer.from("\x12\x01l", "latin1")) + 3;
      const first = data[at]!;
      const count = first < 0x40 ? first : ((first & 0x3f) << 8) | data[at + 1]!;
      expect(`${fill}: ${count}`).toBe(`${fill}: ${nodes}`);
      expect(plain(parseRdb(data).rec.get("l")!.value)).toEqual(list.toArray());
    }
  });

  test("an empty aggregate is not written", () => {
    const w = new RdbWriter();
    expect(w.keyValue("empty", new HashValue(), -1)).toBe(false);
    expect(w.pos).toBe(0);
  });

  test("module values are written verbatim", () => {
    const payload = Buffer.from([0x02, 0x05, 0x00]); // UINT 5, EOF
    const mv = new ModuleValue("mymodtype", 1234567n << 10n, payload);
    const data = writeRdb([{ key: "m", value: mv, expire: -1 }]);
    const got = parseRdb(data).rec.get("m")!.value as ModuleValue;
    expect(got.moduleId).toBe(mv.moduleId);
    expect(got.payload.equals(payload)).toBe(true);
  });
});

describe("DUMP payloads", () => {
  test("type byte + value + version 10 + CRC64, as createDumpPayload", () => {
    const p = dumpPayload("hello");
    // Redis 7.0: DUMP of "hello" (checked against redis-server 7.0.15).
    expect(p.toString("hex")).toBe("000568656c6c6f0a006372df766534200a");
    expect(p.readUInt16LE(p.length - 10)).toBe(RDB_VERSION);
    const crc = new Crc64();
    crc.update(p, 0, p.length - 8);
    expect(crc.matchesLE(p, p.length - 8)).toBe(true);
  });
});
