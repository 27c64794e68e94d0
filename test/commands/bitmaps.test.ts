// Bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO) against a
// real redis-server 7.0: every reply identical, in RESP2 and RESP3; then the same writes through
// replication, datasets compared key by key.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { startRedis, startReplicant, waitForSync, type ServerProcess, stopServers } from "../helpers/servers.ts";
import { differences, encodingDifferences, firstRawDifference, rawReplies } from "../helpers/reply-diff.ts";
import { xorshift } from "../helpers/seeded.ts";

const SEED = Number(process.env.SEED ?? 20240607);

type Cmd = Array<string | number>;

const started: ServerProcess[] = [];
let redis: ServerProcess;
let ours: ServerProcess;

beforeAll(async () => {
  redis = await startRedis();
  started.push(redis);
  ours = await startReplicant();
  started.push(ours);
});

afterAll(() => stopServers(started));

describe("bitmaps: replies identical to redis-server", () => {
  test("edge cases", async () => {
    const a = await redis.client();
    const b = await ours.client();
    const ones = "\xff".repeat(700);
    const cmds: Cmd[] = [
      ["FLUSHALL"],
      // SETBIT / GETBIT.
      ["SETBIT", "b", 7, 1],
      ["GET", "b"],
      ["SETBIT", "b", 7, 1],
      ["SETBIT", "b", 7, 0],
      ["SETBIT", "b", 100, 0],
      ["STRLEN", "b"],
      ["GET", "b"],
      ["SETBIT", "b", 0, 1],
      ["GETBIT", "b", 0],
      ["GETBIT", "b", 7],
      ["GETBIT", "b", 100000],
      ["GETBIT", "nosuchkey", 3],
      ["SETBIT", "b", -1, 1],
      ["SETBIT", "b", "x", 1],
      ["SETBIT", "b", "1.5", 1],
      ["SETBIT", "b", 1, 2],
      ["SETBIT", "b", 1, -1],
      ["SETBIT", "b", 1, "x"],
      ["SETBIT", "b", 4294967296, 1],
      ["SETBIT", "b", 4294967295, "x"],
      ["GETBIT", "b", -1],
      ["GETBIT", "b", 4294967296],
      ["GETBIT", "b", "+1"],
      ["SET", "num", "12345"],
      ["SETBIT", "num", 3, 1],
      ["GET", "num"],
      ["GETBIT", "num", 2],
      ["PFADD", "hll", "a"],
      ["LPUSH", "list", "x"],
      ["SETBIT", "list", 1, 1],
      ["GETBIT", "list", 1],
      ["SETBIT", "list", -1, 1],
      ["SETBIT", "ttl", 1, 1],
      ["PEXPIRE", "ttl", 100000],
      ["SETBIT", "ttl", 1000, 1],
      ["TTL", "ttl"],
      // BITCOUNT: byte and bit ranges, negative indexes, 7.0 errors.
      ["SET", "s", "foobar"],
      ["BITCOUNT", "s"],
      ["BITCOUNT", "s", 0, 0],
      ["BITCOUNT", "s", 1, 1],
      ["BITCOUNT", "s", 1, 1, "BYTE"],
      ["BITCOUNT", "s", 5, 30, "BIT"],
      ["BITCOUNT", "s", 5, 30, "bit"],
      ["BITCOUNT", "s", -1, -1],
      ["BITCOUNT", "s", -2, -1, "BIT"],
      ["BITCOUNT", "s", -1, -2],
      ["BITCOUNT", "s", -1, -2, "nonsense"],
      ["BITCOUNT", "s", 0],
      ["BITCOUNT", "s", 0, 1, "BIT", "extra"],
      ["BITCOUNT", "s", 0, 1, "bits"],
      ["BITCOUNT", "s", "a", 1],
      ["BITCOUNT", "s", 1, "a"],
      ["BITCOUNT", "s", -100, 100],
      ["BITCOUNT", "s", 100, 200],
      ["BITCOUNT", "s", 9223372036854775807, -9223372036854775808],
      ["BITCOUNT", "s", -9223372036854775808, 9223372036854775807, "BIT"],
      ["BITCOUNT", "s", "9223372036854775808", 1],
      ["BITCOUNT", "nosuchkey", "a", "b", "c", "d"],
      ["BITCOUNT", "list"],
      ["SET", "ones", ones],
      ["BITCOUNT", "ones"],
      ["BITCOUNT", "ones", 3, 650],
      ["BITCOUNT", "ones", 13, 5000, "BIT"],
      ["SET", "empty", ""],
      ["BITCOUNT", "empty"],
      ["BITCOUNT", "empty", 0, -1],
      ["BITCOUNT", "num"],
      // BITPOS: start/end semantics, the "end not given" case for bit 0.
      ["BITPOS", "nosuchkey", 0],
      ["BITPOS", "nosuchkey", 1],
      ["BITPOS", "nosuchkey", 2],
      ["BITPOS", "nosuchkey", 1, "x", "y"],
      ["BITPOS", "s", 2],
      ["BITPOS", "s", "x"],
      ["BITPOS", "s", 1],
      ["BITPOS", "s", 0],
      ["BITPOS", "s", 1, 2],
      ["BITPOS", "s", 1, 2, -1],
      ["BITPOS", "s", 1, 7, 15, "BIT"],
      ["BITPOS", "s", 0, 7, 15, "bit"],
      ["BITPOS", "s", 1, -3, -1, "BIT"],
      ["BITPOS", "s", 1, 0, 1, "nonsense"],
      ["BITPOS", "s", 1, 0, "x", "nonsense"],
      ["BITPOS", "s", 1, 0, "x"],
      ["BITPOS", "s", 1, 0, 1, "BIT", "extra"],
      ["BITPOS", "s", 1, 100],
      ["BITPOS", "s", 0, 100],
      ["BITPOS", "s", 1, 5, 2],
      ["BITPOS", "ones", 0],
      ["BITPOS", "ones", 0, 0],
      ["BITPOS", "ones", 0, 0, -1],
      ["BITPOS", "ones", 0, 3, 650],
      ["BITPOS", "ones", 0, 17, 5595, "BIT"],
      ["BITPOS", "ones", 1],
      ["BITPOS", "ones", 1, 13, 500, "BIT"],
      ["SETBIT", "ones", 5000, 0],
      ["BITPOS", "ones", 0],
      ["BITPOS", "ones", 0, 3],
      ["BITPOS", "ones", 0, 3, 624],
      ["BITPOS", "ones", 0, 3, 625],
      ["BITPOS", "ones", 0, 4999, 5000, "BIT"],
      ["SET", "zeros", "\x00".repeat(900)],
      ["BITPOS", "zeros", 1],
      ["BITPOS", "zeros", 0],
      ["BITPOS", "zeros", 1, 5, -2],
      ["SETBIT", "zeros", 7001, 1],
      ["BITPOS", "zeros", 1],
      ["BITPOS", "zeros", 1, 3],
      ["BITPOS", "zeros", 1, 7001, 7001, "BIT"],
      ["BITPOS", "zeros", 1, 7002, -1, "BIT"],
      ["SET", "z20k", "\x00".repeat(20000)],
      ["BITPOS", "z20k", 1],
      ["BITPOS", "z20k", 0, 5],
      ["SETBIT", "z20k", 150001, 1],
      ["BITPOS", "z20k", 1],
      ["BITPOS", "z20k", 1, 4095],
      ["BITPOS", "z20k", 1, 18751, 19999],
      ["BITPOS", "z20k", 1, 150002, -1, "BIT"],
      ["SET", "o20k", "\xff".repeat(20000)],
      ["BITPOS", "o20k", 0],
      ["BITPOS", "o20k", 0, 0, -1],
      ["SETBIT", "o20k", 81930, 0],
      ["BITPOS", "o20k", 0],
      ["BITPOS", "o20k", 0, 10242],
      ["BITCOUNT", "o20k"],
      ["BITCOUNT", "o20k", 7, 19000],
      ["BITPOS", "empty", 0],
      ["BITPOS", "empty", 1],
      ["BITPOS", "empty", 0, 0],
      ["BITPOS", "empty", 0, 0, -1],
      ["BITPOS", "list", 1],
      ["SET", "mixed", "\xff\xf0\x00"],
      ["BITPOS", "mixed", 0],
      ["BITPOS", "mixed", 1, 2],
      ["BITPOS", "mixed", 0, 0, 0],
      ["BITPOS", "mixed", 0, 0, 1],
      ["BITPOS", "mixed", 0, 0, 11, "BIT"],
      ["BITPOS", "mixed", 0, 0, 12, "BIT"],
      ["BITPOS", "mixed", 1, 12, 23, "BIT"],
      ["BITPOS", "mixed", 0, 2, 3, "BIT"],
      // BITOP.
      ["SET", "k1", "foobar"],
      ["SET", "k2", "abcdefghij"],
      ["BITOP", "AND", "dest", "k1", "k2"],
      ["GET", "dest"],
      ["BITOP", "or", "dest", "k1", "k2", "nosuchkey"],
      ["GET", "dest"],
      ["BITOP", "XOR", "dest", "k1", "k2", "k1"],
      ["GET", "dest"],
      ["BITOP", "NOT", "dest", "k2"],
      ["GET", "dest"],
      ["BITOP", "AND", "dest", "nosuchkey", "k2"],
      ["GET", "dest"],
      ["BITOP", "NOT", "dest", "k1", "k2"],
      ["BITOP", "NAND", "dest", "k1"],
      ["BITOP", "AND", "dest", "k1", "list"],
      ["BITOP", "AND", "list", "k1"],
      ["TYPE", "list"],
      ["PEXPIRE", "dest", 100000],
      ["BITOP", "OR", "dest", "ones", "k1"],
      ["TTL", "dest"],
      ["BITOP", "OR", "dest", "nosuchkey", "empty"],
      ["EXISTS", "dest"],
      ["BITOP", "XOR", "dest2", "ones", "zeros", "mixed", "num"],
      ["GET", "dest2"],
      ["BITOP", "AND", "k1", "k1"],
      ["GET", "k1"],
      // BITFIELD: types, '#' offsets, overflow semantics.
      ["BITFIELD", "bf"],
      ["EXISTS", "bf"],
      ["BITFIELD", "bf", "SET", "i8", 0, 100, "GET", "i8", 0, "GET", "u4", 0, "GET", "i4", 4],
      ["BITFIELD", "bf", "INCRBY", "i8", 0, 100],
      ["BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", 0, 100, "INCRBY", "i8", 0, -1000],
      ["BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", 0, 1000, "GET", "i8", 0],
      ["BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "u2", "#3", 7, "GET", "u2", "#3"],
      ["BITFIELD", "bf", "SET", "u63", 3, 9223372036854775807, "GET", "u63", 3, "GET", "i64", 2, "GET", "i64", 3],
      ["BITFIELD", "bf", "SET", "i64", 0, -9223372036854775808, "INCRBY", "i64", 0, -1, "GET", "i64", 0],
      ["BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", 0, -1, "INCRBY", "i64", 0, 9223372036854775807, "INCRBY", "i64", 0, 9223372036854775807],
      ["BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", 0, -9223372036854775808, "SET", "u8", 8, -1, "SET", "u8", 16, 256, "SET", "i8", 24, 128],
      ["BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", 0, -1, "SET", "i8", 8, 128, "SET", "i1", 16, -1, "SET", "u1", 16, 1],
      ["BITFIELD", "bf", "OVERFLOW", "WRAP", "SET", "u8", 0, -1, "SET", "i8", 8, 128, "SET", "u3", 16, 9223372036854775807, "SET", "i5", 20, -9223372036854775808],
      ["BITFIELD", "bf", "INCRBY", "u63", 100, -1, "INCRBY", "u63", 100, 9223372036854775807, "INCRBY", "u63", 100, 2],
      ["BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u63", 200, -5, "INCRBY", "u63", 200, 9223372036854775807, "INCRBY", "u63", 200, 1],
      ["BITFIELD", "bf", "INCRBY", "i33", 300, 4294967295, "INCRBY", "i33", 300, 4294967295, "INCRBY", "u40", 400, -3, "GET", "u40", 400],
      ["BITFIELD", "bf", "INCRBY", "i16", 500, 4503599627370496, "INCRBY", "u16", 520, -4503599627370497, "INCRBY", "i32", 540, 9007199254740993],
      ["GET", "bf"],
      ["BITFIELD", "bf", "GET", "u64", 0],
      ["BITFIELD", "bf", "GET", "i65", 0],
      ["BITFIELD", "bf", "GET", "i0", 0],
      ["BITFIELD", "bf", "GET", "x8", 0],
      ["BITFIELD", "bf", "GET", "I8", 0],
      ["BITFIELD", "bf", "GET", "", 0],
      ["BITFIELD", "bf", "GET", "u8\x00junk", 0],
      ["BITFIELD", "bf", "GET", "\x00", 0],
      ["SETBIT", "bf", "1\x00", 1],
      ["BITFIELD", "bf", "GET", "u8", -1],
      ["BITFIELD", "bf", "GET", "u8", "#-1"],
      ["BITFIELD", "bf", "GET", "u8", "#"],
      ["BITFIELD", "bf", "GET", "u8", "#1.5"],
      ["BITFIELD", "bf", "GET", "u8", "4294967296"],
      ["BITFIELD", "bf", "GET", "u8", "#536870912"],
      ["BITFIELD", "bf", "GET", "u8", "#536870911"],
      ["BITFIELD", "bf", "GET", "i64", "#288230376151711744"],
      ["BITFIELD", "bf", "SET", "u8", 0, "x"],
      ["BITFIELD", "bf", "SET", "u8", 0],
      ["BITFIELD", "bf", "INCRBY", "u8", 0],
      ["BITFIELD", "bf", "GET", "u8"],
      ["BITFIELD", "bf", "OVERFLOW"],
      ["BITFIELD", "bf", "OVERFLOW", "bogus", "GET", "u8", 0],
      ["BITFIELD", "bf", "BOGUS", "u8", 0],
      ["BITFIELD", "bf", "get", "u8", 0, "set", "u8", 0, 1, "incrby", "u8", 0, 1, "overflow", "fail"],
      ["BITFIELD", "list", "GET", "u8", 0],
      ["BITFIELD", "list", "SET", "u8", 0, 1],
      ["BITFIELD", "list", "GET", "x8", 0],
      ["BITFIELD", "nosuchkey", "GET", "u8", 0, "GET", "i64", 1000],
      ["EXISTS", "nosuchkey"],
      ["BITFIELD", "grow", "OVERFLOW", "FAIL", "INCRBY", "u2", 100, 10],
      ["GET", "grow"],
      ["BITFIELD", "grow", "INCRBY", "u2", 0, 0],
      ["BITFIELD", "grow", "INCRBY", "u2", 0, 0, "SET", "u2", 200, 0],
      ["GET", "grow"],
      ["BITFIELD", "num", "GET", "u8", 0, "INCRBY", "u8", 0, 1],
      ["GET", "num"],
      ["BITFIELD_RO", "bf", "GET", "u8", 0, "GET", "i64", "#1"],
      ["BITFIELD_RO", "bf", "GET", "u8", 0, "SET", "u8", 0, 1],
      ["BITFIELD_RO", "bf", "OVERFLOW", "SAT", "GET", "u8", 0],
      ["BITFIELD_RO", "bf", "INCRBY", "u8", 0, 1],
      ["BITFIELD_RO", "bf", "GET", "u8"],
      ["BITFIELD_RO", "bf"],
      ["BITFIELD_RO", "list", "GET", "u8", 0],
      ["BITFIELD_RO", "nosuchkey", "GET", "u8", 0],
      ["BITFIELD", "ttl", "SET", "u8", 1000, 1],
      ["TTL", "ttl"],
    ];
    expect(await differences(a, b, cmds, 20)).toEqual([]);
  }, 60000);

  test(`random workload (seed ${SEED})`, async () => {
    console.log(`bitmaps random workload seed=${SEED} (set SEED=... to replay)`);
    const r = xorshift(SEED);
    const keys = ["b0", "b1", "b2", "b3", "b4"];
    const int = () =>
      r.pick<string | number | bigint>([0, 1, -1, 2, -2, 7, 8, 9, 15, 16, -8, -9, 100, -100, r.int(200) - 100, r.int(4000) - 2000, r.int(9000), 9223372036854775807n, -9223372036854775808n, "x", "1.5", "", "+1", "007"]).toString();
    const cmds: Cmd[] = [["FLUSHALL"]];
    for (let i = 0; i < 5000; i++) {
      const k = r.pick(keys);
      const x = r.next();
      if (x < 0.25) cmds.push(["SETBIT", k, r.next() < 0.1 ? r.int(60000) : r.int(400), r.pick([0, 1, 1, 0, 0, 1, 2, -1, "a"])]);
      else if (x < 0.3) cmds.push(["GETBIT", k, r.pick([r.int(400), r.int(60000), -1, "x", 34359738368])]);
      else if (x < 0.4) {
        const c: Cmd = ["BITCOUNT", k];
        const n = r.int(4);
        if (n >= 1) c.push(int(), int());
        if (n >= 2) c.push(r.pick(["BIT", "BYTE", "bit", "foo"]));
        if (n === 3) c.push("extra");
        cmds.push(c);
      } else if (x < 0.55) {
        const c: Cmd = ["BITPOS", k, r.pick([0, 1, 0, 1, 2, "x"])];
        const n = r.int(5);
        if (n >= 1) c.push(int());
        if (n >= 2) c.push(int());
        if (n >= 3) c.push(r.pick(["BIT", "BYTE", "bit", "foo"]));
        if (n === 4) c.push("x");
        cmds.push(c);
      } else if (x < 0.62) {
        const op = r.pick(["AND", "OR", "XOR", "NOT", "and", "nand"]);
        const c: Cmd = ["BITOP", op, r.pick(keys)];
        const n = op === "NOT" ? 1 : 1 + r.int(3);
        for (let j = 0; j < n; j++) c.push(r.pick([...keys, "missing"]));
        cmds.push(c);
      } else if (x < 0.88) {
        const c: Cmd = [r.pick(["BITFIELD", "BITFIELD", "BITFIELD_RO"]), k];
        const n = 1 + r.int(4);
        for (let j = 0; j < n; j++) {
          const type = r.pick(["i", "u", "i", "u", "x"]) + r.pick([1, 2, 3, 5, 8, 13, 16, 31, 32, 33, 52, 53, 63, 64, 0, 65]);
          const offset = r.pick<string | number>([r.int(300), `#${r.int(30)}`, r.int(5000), -1, "#-1", "a"]);
          const o = r.next();
          if (o < 0.3) c.push("GET", type, offset);
          else if (o < 0.6) c.push("SET", type, offset, r.pick<string | number | bigint>([r.int(1000) - 500, 9223372036854775807n, -9223372036854775808n, 2 ** 40, -(2 ** 40), 127, -128, 255, 256, "x"]).toString());
          else if (o < 0.9) c.push("INCRBY", type, offset, r.pick<string | number | bigint>([1, -1, r.int(1000) - 500, 9223372036854775807n, -9223372036854775808n, 2 ** 52, 2 ** 53, -(2 ** 53), 100]).toString());
          else c.push("OVERFLOW", r.pick(["WRAP", "SAT", "FAIL", "wrap", "sat", "fail", "bad"]));
        }
        if (r.next() < 0.03) c.push("GET");
        cmds.push(c);
      } else if (x < 0.94) cmds.push(["GET", k]);
      else if (x < 0.97) cmds.push(["SET", k, r.pick(["", "foobar", "\xff\xf0\x00", "12345", "\xff".repeat(300 + r.int(300)), "\x00".repeat(300 + r.int(300))])]);
      else cmds.push(["DEL", k]);
    }
    for (const k of keys) cmds.push(["GET", k]);
    const a = await redis.client();
    const b = await ours.client();
    expect(await differences(a, b, cmds)).toEqual([]);
    expect(await encodingDifferences(a, b, keys)).toEqual([]);
  }, 60000);

  test(`large bitmaps, written through chunk trees (seed ${SEED})`, async () => {
    // Values of 64 KB and more are edited through a tree of chunks: check every read and write
    // path on them, and that other writers (SET, APPEND, SETRANGE, DEL) invalidate the trees.
    const r = xorshift(SEED + 3);
    const keys = ["L0", "L1", "L2"];
    const big = () => r.int(3_000_000);
    const cmds: Cmd[] = [["FLUSHALL"], ["SETBIT", "L0", 600_000, 1], ["SETBIT", "L1", 1_000_000, 0], ["BITFIELD", "L2", "SET", "u8", 2_000_000, 255]];
    for (let i = 0; i < 2500; i++) {
      const k = r.pick(keys);
      const x = r.next();
      if (x < 0.35) cmds.push(["SETBIT", k, r.next() < 0.5 ? big() : r.int(4000), r.int(2)]);
      else if (x < 0.45) cmds.push(["GETBIT", k, big()]);
      else if (x < 0.52) cmds.push(["BITCOUNT", k, ...(r.next() < 0.5 ? [] : [r.int(400_000) - 200_000, r.int(400_000) - 200_000, r.pick(["BIT", "BYTE"])])]);
      else if (x < 0.6) cmds.push(["BITPOS", k, r.int(2), ...(r.next() < 0.5 ? [] : [r.int(40_000) - 20_000, r.int(400_000) - 200_000, r.pick(["BIT", "BYTE"])])]);
      else if (x < 0.75) {
        const c: Cmd = ["BITFIELD", k];
        for (let j = 1 + r.int(4); j > 0; j--) {
          const type = r.pick(["i", "u"]) + r.pick([1, 7, 8, 16, 33, 63]);
          const offset = r.next() < 0.5 ? big() : r.int(40000);
          c.push(...(r.pick([["GET", type, offset], ["SET", type, offset, r.int(1000) - 500], ["INCRBY", type, offset, r.int(1000) - 500], ["OVERFLOW", r.pick(["SAT", "FAIL", "WRAP"])]]) as Cmd));
        }
        cmds.push(c);
      } else if (x < 0.78) cmds.push(["BITFIELD_RO", k, "GET", "u16", big(), "GET", "i8", r.int(1000)]);
      else if (x < 0.82) cmds.push(["BITOP", r.pick(["AND", "OR", "XOR", "NOT"]), r.pick([...keys, "small"]), k, ...(r.next() < 0.5 ? [r.pick(keys)] : [])].slice(0, r.next() < 0.3 ? 4 : 5) as Cmd);
      else if (x < 0.86) cmds.push(["STRLEN", k]);
      else if (x < 0.88) cmds.push(["SETRANGE", k, r.int(300_000), "overwritten"]);
      else if (x < 0.9) cmds.push(["APPEND", k, "\xff\x00\xaa"]);
      else if (x < 0.91) cmds.push(["SET", k, "\x00".repeat(70_000 + r.int(100))]);
      else if (x < 0.92) cmds.push(["DEL", k]);
      else if (x < 0.93) cmds.push(["PFADD", k, "x"]);
      else cmds.push(["GETRANGE", k, r.int(300_000), r.int(300_000)]);
    }
    for (const k of [...keys, "small"]) cmds.push(["GET", k]);
    const a = await redis.client();
    const b = await ours.client();
    expect(await differences(a, b, cmds)).toEqual([]);
  }, 60000);

  test("RESP3: byte-identical replies (BITFIELD FAIL replies null)", async () => {
    const cmds: Cmd[] = [
      ["HELLO", "3"],
      ["FLUSHALL"],
      ["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 10, "SET", "i8", 8, 1000, "INCRBY", "u8", 0, 1, "GET", "u8", 0],
      ["BITFIELD_RO", "f", "GET", "i16", 0],
      ["SETBIT", "f", 1, 1],
      ["GETBIT", "f", 1],
      ["BITCOUNT", "f", 0, -1, "BIT"],
      ["BITPOS", "f", 1],
      ["BITOP", "NOT", "g", "f"],
      ["GET", "g"],
      ["BITFIELD", "f", "GET", "u3"],
    ];
    const [x, y] = [await rawReplies(redis.port, cmds), await rawReplies(ours.port, cmds)];
    expect(firstRawDifference(x, y)).toBe("");
  }, 60000);
});

describe("bitmaps through replication (redis-server master, Replicant replica)", () => {
  test("SETBIT / BITOP / BITFIELD applied identically", async () => {
    const master = await startRedis();
    started.push(master);
    const replica = await startReplicant(["--replicaof", "127.0.0.1", String(master.port)]);
    started.push(replica);
    await waitForSync(master, replica);
    const m = await master.client();
    const r = xorshift(SEED + 2);
    console.log(`bitmaps replication workload seed=${SEED + 2}`);
    const keys = ["r0", "r1", "r2", "r3"];
    const cmds: Cmd[] = [];
    for (let i = 0; i < 3000; i++) {
      const k = r.pick(keys);
      const x = r.next();
      if (x < 0.4) cmds.push(["SETBIT", k, r.next() < 0.1 ? r.int(100000) : r.int(500), r.int(2)]);
      else if (x < 0.5) cmds.push(["BITOP", r.pick(["AND", "OR", "XOR"]), k, r.pick(keys), r.pick([...keys, "missing"])]);
      else if (x < 0.55) cmds.push(["BITOP", "NOT", k, r.pick(keys)]);
      else if (x < 0.9) {
        // No OVERFLOW FAIL here: a BITFIELD whose writes all FAIL may still create or pad the
        // string on a Redis master without propagating anything (Redis's own divergence).
        const c: Cmd = ["BITFIELD", k];
        for (let j = 1 + r.int(3); j > 0; j--) {
          const type = r.pick(["i", "u"]) + r.pick([1, 4, 8, 16, 32, 33, 63]);
          const offset = r.pick<string | number>([r.int(400), `#${r.int(20)}`]);
          if (r.next() < 0.2) c.push("OVERFLOW", r.pick(["WRAP", "SAT"]));
          c.push(r.pick(["SET", "INCRBY"]), type, offset, r.pick<string | number | bigint>([r.int(1000) - 500, 9223372036854775807n, -9223372036854775808n, 2 ** 40]).toString());
        }
        cmds.push(c);
      } else if (x < 0.93) cmds.push(["SELECT", r.pick([0, 2])]);
      else if (x < 0.96) cmds.push(["PEXPIRE", k, 1000000]);
      else cmds.push(["DEL", k]);
    }
    for (let i = 0; i < cmds.length; i += 500) await m.pipeline(cmds.slice(i, i + 500));
    await m.call("SELECT", 0);
    await waitForSync(master, replica);
    const rc = await replica.client();
    const [sa, sb] = [await snapshotDataset(m), await snapshotDataset(rc)];
    expect(sa.size).toBeGreaterThan(0);
    expect(diffDatasets(sa, sb)).toEqual([]);
  }, 60000);
});
