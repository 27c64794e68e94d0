// Hashes: Replicant against a real redis-server 7.0 (the same commands to both, replies compared
// byte for byte in RESP2 and RESP3 where Redis's order is deterministic - listpacks, in
// insertion order - and as multisets of pairs where it is a hashtable's), OBJECT ENCODING
// transitions, a seeded random workload, HSCAN, and replication both ways: Replicant as the
// replica of a redis-server master (beside a redis-server replica as the reference for
// encodings), and Replicant as the master of a redis-server replica (HINCRBYFLOAT goes out as
// HSET with the result).

import { beforeAll, describe, expect, test } from "bun:test";
import { removeDir, startRedis, startReplicant } from "../helpers/servers.ts";
import { bulkItems, bulkText, RawClient, randomElements, Recorder, splitReply, keyspaceEvents, StreamTap, tapReady, unordered } from "./sets-compare.ts";
import { runDifferential, runDifferentialResp3, type Step } from "../helpers/raw-client.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";
import { checkAsMaster, checkAsReplica, keysOf } from "../helpers/replicated-workload.ts";
import { serverPair } from "../helpers/side-by-side.ts";

const pair = serverPair();
let r2: RawClient;
let p2: RawClient;
beforeAll(() => {
  [r2, p2] = pair.clients;
});

const c = (...args: Array<string | number>): Step => ({ cmd: args.map(String) });
const loose = (...args: Array<string | number>): Step => ({ cmd: args.map(String), compare: unordered(true) });
const shape = (withValues: boolean, distinct: boolean, ...args: Array<string | number>): Step => ({ cmd: args.map(String), compare: randomElements(() => undefined, distinct, withValues) });

async function both(...args: string[]): Promise<void> {
  await Promise.all([r2.call(...args), p2.call(...args)]);
}

/** Hand-written cases: errors, edge values, replies of every shape. Keys use the prefix `e:`. */
function edgeCases(): Step[] {
  const k = "e:h";
  return [
    c("HSET", k, "a", "1", "b", "2", "c", "3"),
    c("HSET", k, "a", "10", "d", "4"),
    c("HMSET", k, "e", "5", "a", "11"),
    c("HGETALL", k),
    c("HKEYS", k),
    c("HVALS", k),
    c("HLEN", k),
    c("OBJECT", "ENCODING", k),
    c("HSET", k),
    c("HSET", k, "a"),
    c("HSET", k, "a", "1", "b"),
    c("HMSET", k, "a"),
    c("HMSET", k, "a", "1", "b"),
    c("HSETNX", k, "a", "zz"),
    c("HSETNX", k, "new", "zz"),
    c("HSETNX", "e:nx", "f", "v"),
    c("HSETNX", k, "a"),
    c("HGET", k, "a"),
    c("HGET", k, "nope"),
    c("HGET", "e:none", "a"),
    c("HMGET", k, "a", "nope", "new", "a"),
    c("HMGET", "e:none", "a", "b"),
    c("HMGET", k),
    c("HGETALL", "e:none"),
    c("HKEYS", "e:none"),
    c("HVALS", "e:none"),
    c("HLEN", "e:none"),
    c("HEXISTS", k, "a"),
    c("HEXISTS", k, "nope"),
    c("HEXISTS", "e:none", "a"),
    c("HSTRLEN", k, "a"),
    c("HSTRLEN", k, "nope"),
    c("HSTRLEN", "e:none", "a"),
    c("HSET", k, "neg", "-12345", "empty", "", "bin", "\x00\xff\r\n"),
    c("HSTRLEN", k, "neg"),
    c("HSTRLEN", k, "empty"),
    c("HGET", k, "bin"),
    c("HGET", k, "empty"),
    // Listpack order: updates keep their place, a re-added field goes to the end.
    c("HDEL", k, "b", "nope", "b"),
    c("HSET", k, "b", "again"),
    c("HINCRBY", k, "c", "5"),
    c("HGETALL", k),
    c("HDEL", "e:none", "a"),
    c("HDEL", "e:nx", "f"),
    c("EXISTS", "e:nx"),
    c("HDEL", k),
    // HINCRBY
    c("HINCRBY", k, "counter", "5"),
    c("HINCRBY", k, "counter", "-7"),
    c("HINCRBY", k, "counter", "0"),
    c("HINCRBY", k, "counter", "-0"),
    c("HINCRBY", k, "counter", "+1"),
    c("HINCRBY", k, "counter", " 1"),
    c("HINCRBY", k, "counter", "1.0"),
    c("HINCRBY", k, "counter", "abc"),
    c("HINCRBY", k, "counter", ""),
    c("HINCRBY", k, "counter", "9223372036854775808"),
    c("HINCRBY", k, "a", "1"),
    c("HINCRBY", k, "b", "1"),
    c("HINCRBY", k, "empty", "1"),
    c("HSET", k, "max", "9223372036854775806", "min", "-9223372036854775807", "lz", "012", "sp", " 3", "big", "9007199254740993"),
    c("HINCRBY", k, "max", "1"),
    c("HINCRBY", k, "max", "1"),
    c("HINCRBY", k, "max", "-9223372036854775808"),
    c("HINCRBY", k, "min", "-1"),
    c("HINCRBY", k, "min", "-1"),
    c("HINCRBY", k, "min", "9223372036854775807"),
    c("HINCRBY", k, "lz", "1"),
    c("HINCRBY", k, "sp", "1"),
    c("HINCRBY", k, "big", "2"),
    c("HINCRBY", k, "big", "-9007199254740995"),
    c("HINCRBY", "e:fresh", "f", "9223372036854775807"),
    c("HINCRBY", "e:fresh", "g", "-9223372036854775808"),
    c("HINCRBY", "e:fresh", "g", "-1"),
    c("HGETALL", "e:fresh"),
    // HINCRBYFLOAT (long double arithmetic, %.17Lf without trailing zeros)
    c("HINCRBYFLOAT", k, "fl", "10.5"),
    c("HINCRBYFLOAT", k, "fl", "0.1"),
    c("HINCRBYFLOAT", k, "fl2", "0.1"),
    c("HINCRBYFLOAT", k, "fl2", "0.2"),
    c("HINCRBYFLOAT", k, "fl", "-5.0e3"),
    c("HINCRBYFLOAT", k, "fl", "1.5e-5"),
    c("HINCRBYFLOAT", k, "fl", "3"),
    c("HINCRBYFLOAT", k, "counter", "1.5"),
    c("HINCRBYFLOAT", k, "max", "1"),
    c("HINCRBYFLOAT", k, "fl", "inf"),
    c("HINCRBYFLOAT", k, "fl", "-inf"),
    c("HINCRBYFLOAT", k, "fl", "+inf"),
    c("HINCRBYFLOAT", k, "fl", "Infinity"),
    c("HINCRBYFLOAT", k, "fl", "nan"),
    c("HINCRBYFLOAT", k, "fl", "NaN"),
    c("HINCRBYFLOAT", k, "fl", "abc"),
    c("HINCRBYFLOAT", k, "fl", ""),
    c("HINCRBYFLOAT", k, "fl", " 1"),
    c("HINCRBYFLOAT", k, "fl", "1 "),
    c("HINCRBYFLOAT", k, "fl", "0x10"),
    c("HINCRBYFLOAT", k, "fl", "1e-5000"),
    c("HINCRBYFLOAT", k, "a", "abc"),
    c("HINCRBYFLOAT", k, "b", "1"),
    c("HINCRBYFLOAT", k, "sp", "1"),
    c("HINCRBYFLOAT", k, "lz", "1"),
    c("HINCRBYFLOAT", k, "neg", "0.5"),
    c("HSET", k, "huge", "1e4931", "inff", "inf", "nanv", "nan", "tiny", "1e-5000", "hex", "0x1p-2"),
    c("HINCRBYFLOAT", k, "huge", "1e4931"),
    c("HINCRBYFLOAT", k, "huge", "-1e4931"),
    c("HINCRBYFLOAT", k, "inff", "1"),
    c("HINCRBYFLOAT", k, "nanv", "1"),
    c("HINCRBYFLOAT", k, "tiny", "1"),
    c("HINCRBYFLOAT", k, "hex", "1"),
    c("HINCRBYFLOAT", "e:fresh2", "f", "-0"),
    c("HINCRBYFLOAT", "e:fresh2", "g", "1e20"),
    c("HINCRBYFLOAT", "e:fresh2", "h", "-1.23456789012345678e-10"),
    c("HGETALL", "e:fresh2"),
    c("HINCRBYFLOAT", k, "fl"),
    // HRANDFIELD
    c("HSET", "e:r", "x", "1", "y", "2", "z", "3"),
    c("HRANDFIELD", "e:none"),
    c("HRANDFIELD", "e:none", "3"),
    c("HRANDFIELD", "e:none", "-3", "WITHVALUES"),
    c("HRANDFIELD", "e:r", "0"),
    c("HRANDFIELD", "e:r", "0", "WITHVALUES"),
    c("HRANDFIELD", "e:r", "3"),
    c("HRANDFIELD", "e:r", "5", "WITHVALUES"),
    c("HRANDFIELD", "e:r", "9223372036854775807"),
    c("HRANDFIELD", "e:r", "4611686018427387903", "withvalues"),
    c("HRANDFIELD", "e:r", "4611686018427387904", "withvalues"),
    c("HRANDFIELD", "e:r", "-4611686018427387904", "withvalues"),
    c("HRANDFIELD", "e:r", "-9223372036854775807", "withvalues"),
    c("HRANDFIELD", "e:r", "-9223372036854775808"),
    c("HRANDFIELD", "e:r", "9223372036854775808"),
    c("HRANDFIELD", "e:r", "abc"),
    c("HRANDFIELD", "e:r", "abc", "WITHVALUES"),
    c("HRANDFIELD", "e:r", "1", "WITHSCORES"),
    c("HRANDFIELD", "e:r", "1", "WITHVALUES", "x"),
    c("HRANDFIELD", "e:r", "-9223372036854775808", "bad"),
    shape(false, false, "HRANDFIELD", "e:r"),
    shape(false, false, "HRANDFIELD", "e:r", "-7"),
    shape(true, false, "HRANDFIELD", "e:r", "-7", "WITHVALUES"),
    shape(false, true, "HRANDFIELD", "e:r", "2"),
    shape(true, true, "HRANDFIELD", "e:r", "2", "WITHVALUES"),
    shape(false, true, "HRANDFIELD", "e:r", "1"),
    c("HSET", "e:r1", "only", "v"),
    c("HRANDFIELD", "e:r1"),
    c("HRANDFIELD", "e:r1", "-3", "WITHVALUES"),
    c("HRANDFIELD", "e:r1", "1", "WITHVALUES"),
    // HSCAN of a listpack: everything at once, MATCH on fields, COUNT not applied
    c("HSCAN", "e:r", "0"),
    c("HSCAN", "e:r", "0", "COUNT", "1"),
    c("HSCAN", "e:r", "0", "MATCH", "[xz]"),
    c("HSCAN", "e:r", "0", "match", "1"),
    c("HSCAN", "e:r", "0", "MATCH", "*", "COUNT", "100"),
    c("HSCAN", "e:r", "0", "COUNT", "0"),
    c("HSCAN", "e:r", "0", "COUNT", "-5"),
    c("HSCAN", "e:r", "0", "COUNT", "x"),
    c("HSCAN", "e:r", "0", "MATCH"),
    // (HSCAN ... NOVALUES is Redis 7.4's: compared with redis-server 7.4 in hash-field-ttl.test.ts.)
    c("HSCAN", "e:r", "0", "NOVALUE"),
    c("HSCAN", "e:r", "7"),
    c("HSCAN", "e:r", "x"),
    c("HSCAN", "e:r", "-1"),
    c("HSCAN", "e:none", "0"),
    c("HSCAN", "e:none", "0", "COUNT", "0"),
    c("HSCAN", "e:none", "zz"),
    c("HSCAN", "e:r"),
    // WRONGTYPE
    c("SET", "e:str", "x"),
    ...[
      ["HSET", "e:str", "a", "1"],
      ["HMSET", "e:str", "a", "1"],
      ["HSETNX", "e:str", "a", "1"],
      ["HGET", "e:str", "a"],
      ["HMGET", "e:str", "a"],
      ["HGETALL", "e:str"],
      ["HKEYS", "e:str"],
      ["HVALS", "e:str"],
      ["HLEN", "e:str"],
      ["HEXISTS", "e:str", "a"],
      ["HSTRLEN", "e:str", "a"],
      ["HDEL", "e:str", "a"],
      ["HINCRBY", "e:str", "a", "1"],
      ["HINCRBY", "e:str", "a", "x"],
      ["HINCRBYFLOAT", "e:str", "a", "1"],
      ["HINCRBYFLOAT", "e:str", "a", "inf"],
      ["HRANDFIELD", "e:str"],
      ["HRANDFIELD", "e:str", "1"],
      ["HRANDFIELD", "e:str", "x"],
      ["HSCAN", "e:str", "0"],
      ["HSCAN", "e:str", "0", "COUNT", "0"],
      ["HSCAN", "e:str", "x"],
    ].map((a) => c(...a)),
    c("SADD", "e:set", "a"),
    c("HGET", "e:set", "a"),
    c("TYPE", "e:str"),
    // wrong number of arguments
    c("HGET", k),
    c("HGETALL"),
    c("HGETALL", k, "x"),
    c("HLEN", k, "x"),
    c("HEXISTS", k),
    c("HSTRLEN", k),
    c("HDEL"),
    c("HINCRBY", k, "a"),
    c("HINCRBYFLOAT", k, "a", "1", "2"),
    c("HRANDFIELD"),
    c("HSCAN"),
    // Long results made it a hashtable: order arbitrary from here on.
    c("OBJECT", "ENCODING", k),
    loose("HGETALL", k),
  ];
}

describe("hashes against redis-server 7.0", () => {
  test("edge cases (RESP2)", async () => {
    const errors = await runDifferential(r2, p2, edgeCases(), 30);
    expect(errors).toEqual([]);
  });

  test("edge cases (RESP3)", async () => {
    const errors = await runDifferentialResp3(pair.redis.port, pair.replicant.port, edgeCases(), 30);
    expect(errors).toEqual([]);
  });

  test("OBJECT ENCODING transitions with hash-max-listpack-entries / -value", async () => {
    const enc = (k: string) => c("OBJECT", "ENCODING", k);
    await both("CONFIG", "SET", "hash-max-listpack-entries", "4");
    await both("CONFIG", "SET", "hash-max-listpack-value", "8");
    try {
      const steps: Step[] = [
        c("HSET", "t:a", "f1", "v1", "f2", "v2", "f3", "v3", "f4", "v4"),
        enc("t:a"),
        c("HSET", "t:a", "f1", "updated"),
        enc("t:a"),
        c("HSET", "t:a", "f5", "v5"),
        enc("t:a"),
        c("HDEL", "t:a", "f1", "f2", "f3", "f4"),
        enc("t:a"),
        // One long argument anywhere converts before anything is written.
        c("HSET", "t:b", "a", "1", "b", "123456789"),
        enc("t:b"),
        c("HSET", "t:c", "longfield9", "x"),
        enc("t:c"),
        c("HSET", "t:c2", "f", "12345678"),
        enc("t:c2"),
        // HSET of many new fields at once converts in the middle.
        c("HSET", "t:d", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"),
        enc("t:d"),
        c("HLEN", "t:d"),
        // HSETNX: an existing field returns before the length check.
        c("HSET", "t:e", "f", "v"),
        c("HSETNX", "t:e", "f", "verylongvalue"),
        enc("t:e"),
        c("HSETNX", "t:e", "g", "verylongvalue"),
        enc("t:e"),
        // HINCRBY / HINCRBYFLOAT: the field name or the result can be too long.
        c("HINCRBY", "t:f", "longfieldname", "1"),
        enc("t:f"),
        c("HINCRBY", "t:g", "f", "123456789"),
        enc("t:g"),
        c("HSET", "t:h", "x", "1"),
        c("HINCRBYFLOAT", "t:h", "x", "0.5"),
        enc("t:h"),
        c("HINCRBYFLOAT", "t:h", "x", "0.123456789"),
        enc("t:h"),
        c("HGETALL", "t:h"),
        // A hashtable never goes back; HRANDFIELD / HSCAN of either encoding.
        loose("HGETALL", "t:a"),
        c("HSCAN", "t:b", "0", "MATCH", "b"),
        // A limit lowered under an existing listpack: any later write converts it, even an update.
        c("HSET", "t:m", "a", "1", "b", "2", "c", "3"),
        c("HSET", "t:n", "a", "1", "b", "2", "c", "3"),
        c("HSET", "t:o", "a", "1", "b", "2", "c", "3"),
        c("CONFIG", "SET", "hash-max-listpack-entries", "2"),
        enc("t:m"),
        c("HSET", "t:m", "a", "9"),
        enc("t:m"),
        c("HINCRBY", "t:n", "a", "1"),
        enc("t:n"),
        c("HSETNX", "t:o", "a", "1"),
        enc("t:o"),
        c("HDEL", "t:o", "a"),
        enc("t:o"),
        c("CONFIG", "SET", "hash-max-listpack-entries", "4"),
        c("CONFIG", "SET", "hash-max-listpack-value", "0"),
        c("HSET", "t:i", "", ""),
        enc("t:i"),
        c("HSET", "t:i", "a", ""),
        enc("t:i"),
        c("CONFIG", "SET", "hash-max-listpack-entries", "0"),
        c("CONFIG", "SET", "hash-max-listpack-value", "64"),
        c("HSET", "t:j", "a", "1"),
        enc("t:j"),
        c("HSETNX", "t:k", "a", "1"),
        enc("t:k"),
        c("HINCRBYFLOAT", "t:l", "a", "1"),
        enc("t:l"),
      ];
      const errors = await runDifferential(r2, p2, steps, 30);
      expect(errors).toEqual([]);
    } finally {
      await both("CONFIG", "SET", "hash-max-listpack-entries", "128");
      await both("CONFIG", "SET", "hash-max-listpack-value", "64");
    }
  });

  for (const [label, entries, value, spread] of [
    ["default limits", 128, 64, 150],
    ["small limits", 6, 10, 12],
  ] as const) {
    test(`random workload, ${label}`, async () => {
      await both("CONFIG", "SET", "hash-max-listpack-entries", String(entries));
      await both("CONFIG", "SET", "hash-max-listpack-value", String(value));
      try {
        const g = gen(seedFromEnv("HASH_RANDOM_SEED"), `w${entries}:`, spread);
        await both("SET", `w${entries}:str`, "x");
        const steps: Step[] = [];
        for (let n = 0; n < 2500; n++) steps.push(...randomSteps(g, false));
        expect(await runDifferential(r2, p2, steps, 10)).toEqual([]);
        const rec = new Recorder();
        const final: Step[] = g.keys.flatMap((k) => [rec.encodingStep(k), { cmd: ["HGETALL", k], compare: rec.orderedIfCompact(k, true) }, c("TTL", k)]);
        expect(await runDifferential(r2, p2, final)).toEqual([]);
        expect(await compareScans(g.keys)).toEqual([]);
      } finally {
        await both("CONFIG", "SET", "hash-max-listpack-entries", "128");
        await both("CONFIG", "SET", "hash-max-listpack-value", "64");
      }
    }, 90000);
  }

  test("keyspace notifications are Redis's", async () => {
    const commands = [
      ["HSET", "n:h", "a", "1", "b", "2"],
      ["HSET", "n:h", "a", "1"],
      ["HMSET", "n:h", "c", "3"],
      ["HSETNX", "n:h", "a", "9"],
      ["HSETNX", "n:h", "d", "4"],
      ["HINCRBY", "n:h", "a", "5"],
      ["HINCRBY", "n:h", "zz", "x"],
      ["HINCRBYFLOAT", "n:h", "b", "0.5"],
      ["HDEL", "n:h", "nope"],
      ["HDEL", "n:h", "a", "b"],
      ["HDEL", "n:h", "c", "d"],
      ["HGET", "n:h", "a"],
    ];
    const [a, b] = await Promise.all([keyspaceEvents(() => pair.redis.client(), commands), keyspaceEvents(() => pair.replicant.client(), commands)]);
    expect(a.length).toBeGreaterThan(10);
    expect(b).toEqual(a);
  });

  test("HSCAN of a hashtable: every field exactly once with its value, also with changes between calls", async () => {
    const args: string[] = [];
    for (let n = 0; n < 300; n++) args.push(`f${n}`, `v${n}`);
    await p2.call("HSET", "sc:h", ...args);
    const seen = new Map<string, number>();
    let cursor = "0";
    let calls = 0;
    do {
      const raw = await p2.call("HSCAN", "sc:h", cursor, "COUNT", "7");
      const [cur, arr] = splitReply(raw).items;
      cursor = bulkText(cur!)!;
      const flat = bulkItems(arr!);
      for (let i = 0; i < flat.length; i += 2) {
        if (flat[i]!.startsWith("f")) expect(flat[i + 1]).toBe(`v${flat[i]!.slice(1)}`);
        seen.set(flat[i]!, (seen.get(flat[i]!) ?? 0) + 1);
      }
      await p2.call("HDEL", "sc:h", `f${calls}`);
      await p2.call("HSET", "sc:h", `new${calls}`, "x");
      calls++;
    } while (cursor !== "0" && calls < 1000);
    expect(cursor).toBe("0");
    for (let n = 0; n < 300; n++) expect(seen.get(`f${n}`)).toBe(1);
    expect(calls).toBeGreaterThan(30);
  });
});

/** Full HSCAN of every key on both servers, compared as sets of pairs (exactly for listpacks). */
async function compareScans(keys: string[]): Promise<string[]> {
  const errors: string[] = [];
  for (const key of keys) {
    const scanAll = async (client: RawClient) => {
      const pairs: string[] = [];
      let cursor = "0";
      let first = "";
      do {
        const raw = await client.call("HSCAN", key, cursor, "COUNT", "5");
        if (!first) first = raw;
        if (raw.startsWith("-")) return { pairs: [raw], first };
        const [cur, arr] = splitReply(raw).items;
        cursor = bulkText(cur!)!;
        const flat = bulkItems(arr!);
        for (let i = 0; i < flat.length; i += 2) pairs.push(`${flat[i]}=${flat[i + 1]}`);
      } while (cursor !== "0");
      return { pairs: [...new Set(pairs)].sort(), first };
    };
    const [a, b] = await Promise.all([scanAll(r2), scanAll(p2)]);
    if (JSON.stringify(a.pairs) !== JSON.stringify(b.pairs)) errors.push(`HSCAN ${key}: ${JSON.stringify(a.pairs).slice(0, 300)} vs ${JSON.stringify(b.pairs).slice(0, 300)}`);
    const enc = bulkText(await r2.call("OBJECT", "ENCODING", key));
    if (enc === "listpack" && a.first !== b.first) errors.push(`HSCAN ${key} (listpack): ${a.first.slice(0, 300)} vs ${b.first.slice(0, 300)}`);
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Random workload

interface Gen {
  rand: () => number;
  int: (lo: number, hi: number) => number;
  pick: <T>(xs: readonly T[]) => T;
  prefix: string;
  spread: number;
  keys: string[];
}

function gen(seed: number, prefix: string, spread: number): Gen {
  const rand = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  return { rand, int, pick, prefix, spread, keys: [0, 1, 2, 3].map((n) => `${prefix}h${n}`) };
}

function hashKey(g: Gen): string {
  const r = g.rand();
  if (r < 0.03) return `${g.prefix}str`;
  if (r < 0.06) return `${g.prefix}none`;
  return g.pick(g.keys);
}

function field(g: Gen): string {
  if (g.rand() < 0.02) return g.pick(["", "a-rather-long-field-name-past-small-limits", "\x00\xff"]);
  return `f${g.int(0, g.spread)}`;
}

function value(g: Gen): string {
  const r = g.rand();
  if (r < 0.35) return String(g.int(-1000, 1000));
  if (r < 0.45) return g.pick(["9223372036854775807", "-9223372036854775808", "9223372036854775800", "0", "-0", "012"]);
  if (r < 0.6) return g.pick(["1.5", "-0.25", "3.0e2", "0.1", "1e-3", "inf", "nan", " 1"]);
  if (r < 0.65) return "v".repeat(g.int(9, 90));
  return `v${g.int(0, 50)}`;
}

function increment(g: Gen): string {
  return g.pick(["1", "-1", "5", "-100", "0", "9223372036854775807", "-9223372036854775808", "4611686018427387904", "1.5", "x"]);
}

function floatIncrement(g: Gen): string {
  return g.pick(["0.1", "-0.2", "1", "2.5e3", "-1e-5", "3", "1e300", "abc", "inf", "17.00000000000000001"]);
}

const cmd = (...args: string[]): Step => ({ cmd: args });

function randomSteps(g: Gen, writesOnly: boolean): Step[] {
  const rec = new Recorder();
  const r = g.rand();
  if (r < 0.28) {
    const pairs: string[] = [];
    const n = g.rand() < 0.1 ? g.int(5, 12) : g.int(1, 3);
    for (let i = 0; i < n; i++) pairs.push(field(g), value(g));
    return [cmd(g.rand() < 0.8 ? "HSET" : "HMSET", hashKey(g), ...pairs)];
  }
  if (r < 0.34) return [cmd("HSETNX", hashKey(g), field(g), value(g))];
  if (r < 0.44) return [cmd("HDEL", hashKey(g), ...Array.from({ length: g.int(1, 4) }, () => field(g)))];
  if (r < 0.52) return [cmd("HINCRBY", hashKey(g), field(g), increment(g))];
  if (r < 0.6) return [cmd("HINCRBYFLOAT", hashKey(g), field(g), floatIncrement(g))];
  if (r < 0.62) return [cmd("EXPIRE", hashKey(g), String(g.int(100, 1000)))];
  if (writesOnly) return [cmd("HSET", hashKey(g), field(g), value(g))];
  const k = hashKey(g);
  const q = g.rand();
  if (q < 0.1) return [cmd("HGET", k, field(g))];
  if (q < 0.18) return [cmd("HMGET", k, ...Array.from({ length: g.int(1, 4) }, () => field(g)))];
  if (q < 0.24) return [cmd("HLEN", k)];
  if (q < 0.3) return [cmd("HEXISTS", k, field(g))];
  if (q < 0.36) return [cmd("HSTRLEN", k, field(g))];
  if (q < 0.56) {
    const which = g.pick(["HGETALL", "HKEYS", "HVALS"]);
    return [rec.encodingStep(k), { cmd: [which, k], compare: rec.orderedIfCompact(k, which === "HGETALL") }];
  }
  if (q < 0.85) {
    const count = g.pick([-5, -1, 1, 2, 5, 50, 1000]);
    const withValues = g.rand() < 0.5;
    return [
      rec.encodingStep(k),
      rec.recordingRead(k, ["HGETALL", k], true),
      {
        cmd: ["HRANDFIELD", k, String(count), ...(withValues ? ["WITHVALUES"] : [])],
        compare: (a, b) => {
          const all = rec.pairs.get(k) ?? new Map<string, string>();
          // The whole hash, in its order: exact for a listpack.
          if (count >= all.size && rec.encoding.get(k) === "listpack") return a === b ? null : `whole listpack: expected ${a}, got ${b}`;
          if (count >= all.size && !withValues) return unordered()(a, b);
          return randomElements(() => all, count > 0, withValues)(a, b);
        },
      },
    ];
  }
  if (q < 0.9) return [rec.recordingRead(k, ["HGETALL", k], true), { cmd: ["HRANDFIELD", k], compare: randomElements(() => rec.pairs.get(k), false, false) }];
  return [
    rec.encodingStep(k),
    {
      cmd: ["HSCAN", k, "0", ...(g.rand() < 0.5 ? ["MATCH", g.pick(["f1*", "*0", "f?", "*"])] : []), ...(g.rand() < 0.5 ? ["COUNT", String(g.int(1, 20))] : [])],
      compare: (a, b) => {
        if (rec.encoding.get(k) !== "hashtable") return a === b ? null : `expected ${a}, got ${b}`;
        const [ca, xa] = splitReply(a).items;
        const [cb, xb] = splitReply(b).items;
        if (bulkText(ca!) === "0" && bulkText(cb!) === "0") return unordered(true)(xa!, xb!);
        return null;
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Replication

function replicationWorkload(seed: number): string[][] {
  const g = gen(seed, "r:", 60);
  const commands: string[][] = [["SET", "r:str", "x"]];
  for (let n = 0; n < 3000; n++) for (const s of randomSteps(g, true)) commands.push(s.cmd);
  // Forms propagated differently from what the client sent, and long-double results.
  commands.push(["HSET", "r:f", "x", "0.1"], ["HINCRBYFLOAT", "r:f", "x", "0.2"], ["HINCRBYFLOAT", "r:f", "y", "1e-10"], ["HINCRBYFLOAT", "r:f", "y", "5.0e3"]);
  commands.push(["HINCRBYFLOAT", "r:f", "z", "1e300"], ["HINCRBYFLOAT", "r:f", "z", "-1e300"], ["EXPIRE", "r:f", "500"], ["HINCRBYFLOAT", "r:f", "x", "3"]);
  commands.push(["HRANDFIELD", "r:f", "-5", "WITHVALUES"], ["HINCRBY", "r:f", "i", "9223372036854775807"], ["HINCRBY", "r:f", "i", "1"]);
  // A hash that stays a listpack (its order is then compared too).
  commands.push(["HSET", "r:lp", "a", "1", "b", "2", "c", "3"], ["HINCRBYFLOAT", "r:lp", "a", "1.5"], ["HINCRBY", "r:lp", "b", "3"], ["HDEL", "r:lp", "a"], ["HSET", "r:lp", "a", "x"]);
  return commands;
}

describe("hashes through replication", () => {
  test("propagated form of HINCRBYFLOAT (HSET with the result) is Redis's, from redis-server and from Replicant", async () => {
    const streams: string[][][] = [];
    for (const start of [startRedis, startReplicant]) {
      const master = await start([]);
      const tap = await StreamTap.open(master.port);
      const mc = await master.client();
      try {
        await tapReady(tap, mc);
        await mc.call("SET", "tap:begin", "1");
        await mc.call("HSET", "p:h", "f", "0.1");
        await mc.call("HINCRBYFLOAT", "p:h", "f", "0.2");
        await mc.call("HINCRBYFLOAT", "p:h", "g", "1e1");
        await mc.call("HINCRBYFLOAT", "p:h", "g", "abc");
        await mc.call("HINCRBY", "p:h", "i", "5");
        await mc.call("HSETNX", "p:h", "i", "7");
        await mc.call("HDEL", "p:h", "nope");
        await mc.call("HDEL", "p:h", "i");
        await mc.call("HMSET", "p:h", "j", "1");
        await mc.call("HRANDFIELD", "p:h", "-2");
        await mc.call("SET", "tap:end", "1");
        const all = await tap.until(["SET", "tap:end"]);
        streams.push(all.slice(all.findIndex((c) => c[1] === "tap:begin") + 1));
      } finally {
        tap.close();
        mc.close();
        await master.stop();
        removeDir(master.dir);
      }
    }
    const expected = [
      ["HSET", "p:h", "f", "0.1"],
      ["HSET", "p:h", "f", "0.3"],
      ["HSET", "p:h", "g", "10"],
      ["HINCRBY", "p:h", "i", "5"],
      ["HDEL", "p:h", "i"],
      ["HMSET", "p:h", "j", "1"],
    ];
    expect(streams[0]).toEqual(expected);
    expect(streams[1]).toEqual(expected);
  }, 60000);

  test("redis-server master, Replicant replica (and a redis-server replica): identical datasets and encodings", async () => {
    await checkAsReplica(["--hash-max-listpack-entries", "16", "--hash-max-listpack-value", "20"], replicationWorkload(seedFromEnv("HASH_REPL_SEED")), {
      minKeys: 3,
      encodings: ["listpack", "hashtable"],
      // Listpack hashes: same order on the replica as on the reference replica.
      async more(rc, fc) {
        for (const k of await keysOf(fc)) {
          if ((await fc.call("OBJECT", "ENCODING", k)) === "listpack") expect(await rc.call("HGETALL", k)).toEqual(await fc.call("HGETALL", k));
        }
      },
    });
  }, 90000);

  test("Replicant master, redis-server replica: HINCRBYFLOAT propagated as HSET with the result", async () => {
    await checkAsMaster(replicationWorkload(seedFromEnv("HASH_MASTER_SEED")), 3);
  }, 90000);
});

describe("hashes held at rest (after a load), read in place", () => {
  const loaded = serverPair(["--enable-debug-command", "yes"]);
  test("HGET, HMGET, HEXISTS, HSTRLEN, HLEN, HGETALL, HKEYS, HVALS and WRONGTYPE are Redis's", async () => {
    const [r, p] = loaded.clients;
    const bin = String.fromCharCode(0, 255, 13, 10, 128);
    const setup: Step[] = [
      c("HSET", "rest:lp", "f1", "v1", "field2", "value2", "n", 12345, bin, bin, "empty", ""),
      c("HSET", "rest:long", "k", "v".repeat(200), "f".repeat(130), "x"),
      c("HSET", "rest:one", "only", "1"),
      c("SADD", "rest:set", "a", "b"),
      c("RPUSH", "rest:list", "a"),
      c("SET", "rest:str", "x"),
      c("DEBUG", "RELOAD"),
    ];
    expect(await runDifferential(r, p, setup, 30)).toEqual([]);
    const reads: Step[] = [];
    for (const k of ["rest:lp", "rest:long", "rest:one", "rest:missing", "rest:set", "rest:list", "rest:str"]) {
      for (const f of ["f1", "field2", "n", bin, "empty", "k", "f".repeat(130), "only", "nope", "", "f"]) {
        reads.push(c("HGET", k, f), c("HEXISTS", k, f), c("HSTRLEN", k, f));
      }
      reads.push(c("HMGET", k, "f1", "nope", bin, "k", "only"), c("HLEN", k));
      // A hashtable's order is its dict's in Redis (rest:long's 200-byte value makes it one): compared as sets.
      if (k === "rest:long") reads.push({ cmd: ["HGETALL", k], compare: unordered(true) }, { cmd: ["HKEYS", k], compare: unordered() }, { cmd: ["HVALS", k], compare: unordered() });
      else reads.push(c("HGETALL", k), c("HKEYS", k), c("HVALS", k));
    }
    expect(await runDifferential(r, p, reads, 30)).toEqual([]);
    expect(await runDifferentialResp3(loaded.redis.port, loaded.replicant.port, reads, 30)).toEqual([]);
  });
});
