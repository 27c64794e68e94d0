// RDB files and DUMP payloads written by Replicant, loaded by the real redis-server 7.0.
//
// A redis-server builds a dataset of every type and encoding (strings of every integer width,
// LZF-compressible and binary; lists of one and many quicklist nodes and with oversized
// elements; intsets of each width and hashtable sets; listpack and skiplist sorted sets;
// listpack and hashtable hashes; streams with several nodes, tombstones, consumer groups,
// PELs and consumers; TTLs; several databases; a function library). Then:
//   1. Replicant loads redis-server's RDB at start-up and SAVEs; a second redis-server loads
//      Replicant's file: every key is compared (type, value, PEXPIRETIME, OBJECT ENCODING,
//      XINFO STREAM FULL) and so are the function libraries. Once with rdbcompression no too.
//   2. DUMP from redis-server, RESTORE into Replicant (which SAVEs for another redis-server).
//   3. DUMP from Replicant, RESTORE into redis-server.
// Each scenario also runs with small encoding thresholds (both servers configured alike).
//
// Random content is seeded; the seed is printed (RDB_WRITER_REDIS_SEED to choose one).

import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { RespError, type RespClient, type RespValue } from "../helpers/resp-client.ts";
import { removeDir, startRedis, startReplicant, tempDir, type ServerProcess, stopServers, tracker } from "../helpers/servers.ts";
import { rng } from "../helpers/seeded.ts";

const SEED = Number(process.env.RDB_WRITER_REDIS_SEED ?? (process.env.RANDOM_SEEDS === "1" ? Date.now() % 1000000 : 20261201));
console.log(`writer-redis: seed ${SEED} (RDB_WRITER_REDIS_SEED=${SEED} to repeat)`);

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));
const track = tracker(started);
async function stop(s: ServerProcess): Promise<void> {
  await s.stop();
  removeDir(s.dir);
  started.splice(started.indexOf(s), 1);
}

type Cmd = Array<string | number>;

function randomBytes(r: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(r() * 256));
  return s;
}

const FUNCTION_CODE = "#!lua name=writerlib\nredis.register_function('writer_echo', function(keys, args) return args[1] end)";

function dataset(seed: number): Cmd[][] {
  const r = rng(seed);
  const db0: Cmd[] = [];
  for (const n of [0, 1, -1, 127, -128, 128, 32767, -32768, 32768, 2147483647, -2147483648, 2147483648, 12345678901, 9223372036854775807n, -9223372036854775808n]) {
    db0.push(["SET", `s:int:${n}`, String(n)]);
  }
  db0.push(["SET", "s:small", "hello"], ["SET", "s:empty", ""], ["SET", "s:21", "a".repeat(21)], ["SET", "s:lzf", "abcdefgh".repeat(500)]);
  db0.push(["SET", "s:rand", randomBytes(r, 3000)], ["SET", "\x00\xff\r\nbinary", randomBytes(r, 30)], ["SET", "42", "integer key"], ["SET", "007", "x"]);
  db0.push(["SET", "s:huge", "z".repeat(70000)], ["SET", "s:exp", "e", "PX", 3600_000 + Math.floor(r() * 1000)], ["SET", "s:float", "3.14"]);
  db0.push(["RPUSH", "l:small", "a", "1", "-5", "300", "70000", "5000000000", "bb"]);
  const big: Cmd = ["RPUSH", "l:big"];
  for (let i = 0; i < 3000; i++) big.push(i % 3 === 0 ? String(i * 7919) : `element-${i}-${randomBytes(r, 3).replace(/[^a-z]/g, "q")}`);
  db0.push(big, ["RPUSH", "l:fat", "x".repeat(10000), "y", randomBytes(r, 9000), "z"], ["LPUSH", "l:exp", "1", "2"], ["PEXPIRE", "l:exp", 900_000]);
  db0.push(["SADD", "set:i16", 1, 2, 3, -4], ["SADD", "set:i32", 100000, -200000, 7], ["SADD", "set:i64", "9223372036854775807", "-9223372036854775808", "5"]);
  db0.push(["SADD", "set:str", "alpha", "beta", "gamma"], ["SADD", "set:mixed", "1", "two", "3"]);
  const bigSet: Cmd = ["SADD", "set:bigint"];
  for (let i = 0; i < 700; i++) bigSet.push(i * 3);
  db0.push(bigSet);
  db0.push(["ZADD", "z:small", 1, "one", 2.5, "two.5", -3, "neg", 0, "zero", "inf", "top", "-inf", "bottom", 1e-10, "tiny", 123456789.123, "big", "-0", "negzero", 1e300, "huge"]);
  const bigZ: Cmd = ["ZADD", "z:big"];
  for (let i = 0; i < 300; i++) bigZ.push((r() * 2000 - 1000).toFixed(3), `m${i}`);
  db0.push(bigZ, ["ZADD", "z:big", "-0", "negzero"], ["ZADD", "z:longmember", 1, "m".repeat(100), 2, "short"]);
  db0.push(["HSET", "h:small", "f1", "v1", "f2", "2", "3", "-4"]);
  const bigH: Cmd = ["HSET", "h:big"];
  for (let i = 0; i < 600; i++) bigH.push(`field:${i}`, i % 2 ? String(i) : `value-${i}-${"v".repeat(i % 30)}`);
  db0.push(bigH, ["HSET", "h:longvalue", "f", "v".repeat(100)], ["HSET", "h:exp", "a", "b"], ["PEXPIRE", "h:exp", 600_000]);
  for (let i = 1; i <= 400; i++) db0.push(["XADD", "st:main", `${1000 + i}-${i % 3}`, "f", `v${i}`, ...(i % 5 === 0 ? ["extra", String(i)] : [])]);
  db0.push(["XDEL", "st:main", "1010-1", "1011-2", "1150-0", "1001-1"]);
  db0.push(["XGROUP", "CREATE", "st:main", "g1", "0"], ["XGROUP", "CREATE", "st:main", "g2", "$"], ["XGROUP", "CREATE", "st:main", "g3", "1100-0"]);
  db0.push(["XREADGROUP", "GROUP", "g1", "alice", "COUNT", 5, "STREAMS", "st:main", ">"], ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", 3, "STREAMS", "st:main", ">"]);
  db0.push(["XACK", "st:main", "g1", "1003-0"], ["XGROUP", "CREATECONSUMER", "st:main", "g2", "carol"], ["XCLAIM", "st:main", "g1", "bob", 0, "1004-1", "RETRYCOUNT", 7]);
  db0.push(["XADD", "st:trimmed", "*", "a", "1"], ["XADD", "st:trimmed", "*", "a", "2"], ["XADD", "st:trimmed", "*", "a", "3"], ["XTRIM", "st:trimmed", "MAXLEN", 1]);
  db0.push(["XGROUP", "CREATE", "st:empty", "g", "$", "MKSTREAM"], ["XADD", "st:allgone", "5-5", "k", "v"], ["XDEL", "st:allgone", "5-5"]);
  db0.push(["XADD", "st:bigids", "18446744073709551614-18446744073709551615", "k", "v"], ["XADD", "st:bigids", "18446744073709551615-1", "k", "w"]);
  const db3: Cmd[] = [["SET", "in-db3", "3"], ["RPUSH", "l:db3", "x"], ["SET", "s:exp", "other db", "PX", 5_000_000]];
  const db15: Cmd[] = [["HSET", "h:db15", "k", "v"]];
  return [db0, [], [], db3, [], [], [], [], [], [], [], [], [], [], [], db15];
}

/** The small-threshold configuration, given alike to redis-server and Replicant. */
const SMALL = ["--hash-max-listpack-entries", "4", "--hash-max-listpack-value", "8", "--zset-max-listpack-entries", "4", "--zset-max-listpack-value", "8", "--set-max-intset-entries", "4", "--list-max-listpack-size", "3"];
const SCENARIOS: Array<{ name: string; config: string[] }> = [
  { name: "default thresholds", config: [] },
  { name: "small thresholds", config: SMALL },
];

async function build(c: RespClient, dbs: Cmd[][]): Promise<void> {
  for (let db = 0; db < dbs.length; db++) {
    if (dbs[db]!.length === 0) continue;
    await c.call("SELECT", db);
    for (const cmd of dbs[db]!) {
      const reply = await c.call(...cmd);
      if (reply instanceof RespError) throw new Error(`${cmd.join(" ").slice(0, 80)}: ${reply.message}`);
    }
  }
  await c.call("SELECT", 0);
  const loaded = await c.call("FUNCTION", "LOAD", FUNCTION_CODE);
  if (loaded instanceof RespError) throw new Error(loaded.message);
}

/** Keys per db (SCAN). */
async function keysOf(c: RespClient): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (let db = 0; db < 16; db++) {
    await c.call("SELECT", db);
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = (await c.call("SCAN", cursor, "COUNT", 1000)) as [string, string[]];
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    if (keys.length) out.set(db, keys.sort());
  }
  await c.call("SELECT", 0);
  return out;
}

/** What only redis-server can report exactly, per key: OBJECT ENCODING and PEXPIRETIME. */
async function details(c: RespClient, keys: Map<number, string[]>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [db, list] of keys) {
    await c.call("SELECT", db);
    for (const k of list) out[`${db}:${JSON.stringify(k)}`] = `${String(await c.call("OBJECT", "ENCODING", k))} ${String(await c.call("PEXPIRETIME", k))}`;
  }
  await c.call("SELECT", 0);
  return out;
}

async function compareRedis(a: ServerProcess, b: ServerProcess, keys: Map<number, string[]>): Promise<void> {
  const ca = await a.client();
  const cb = await b.client();
  expect(diffDatasets(await snapshotDataset(ca), await snapshotDataset(cb))).toEqual([]);
  expect(await details(cb, keys)).toEqual(await details(ca, keys));
  expect(await cb.call("FUNCTION", "LIST", "WITHCODE")).toEqual(await ca.call("FUNCTION", "LIST", "WITHCODE"));
}

/** A redis-server that loads `file` at start-up (copied into its own directory). */
async function redisLoading(file: string, config: string[]): Promise<ServerProcess> {
  const dir = tempDir("redis-load-");
  copyFileSync(file, join(dir, "dump.rdb"));
  return track(startRedis([...config, "--dbfilename", "dump.rdb"], { dir }));
}

async function checkRdb(file: string): Promise<string> {
  const p = Bun.spawn(["redis-check-rdb", file], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return out;
}

async function transfer(from: RespClient, to: RespClient, keys: Map<number, string[]>): Promise<void> {
  for (const [db, list] of keys) {
    await from.call("SELECT", db);
    await to.call("SELECT", db);
    for (const k of list) {
      const payload = (await from.call("DUMP", k)) as string;
      const at = Number(await from.call("PEXPIRETIME", k));
      const reply: RespValue = await to.call("RESTORE", k, at > 0 ? at : 0, payload, "ABSTTL");
      expect(`${k}: ${String(reply)}`).toBe(`${k}: OK`);
    }
  }
  await from.call("SELECT", 0);
  await to.call("SELECT", 0);
}

describe("RDB written by Replicant, loaded by redis-server", () => {
  for (const scenario of SCENARIOS) {
    test(`${scenario.name}: redis RDB -> Replicant (load, SAVE) -> redis, key by key`, async () => {
      const source = await track(startRedis(scenario.config));
      const sc = await source.client();
      await build(sc, dataset(SEED));
      const keys = await keysOf(sc);
      expect(await sc.call("SAVE")).toBe("OK");

      const rdir = tempDir("replicant-writer-");
      copyFileSync(join(source.dir, "dump.rdb"), join(rdir, "dump.rdb"));
      const replicant = await track(startReplicant([...scenario.config, "--save", "", "--enable-protected-configs", "yes"], { dir: rdir }));
      const rc = await replicant.client();
      expect(await rc.call("DBSIZE")).toBe(keys.get(0)!.length);
      expect(await rc.call("SAVE")).toBe("OK");
      const written = join(rdir, "dump.rdb");
      expect(await checkRdb(written)).toContain("RDB looks OK");
      const loaded = await redisLoading(written, scenario.config);
      await compareRedis(source, loaded, keys);
      await stop(loaded);

      // Without compression: no LZF strings, same content.
      expect(await rc.call("CONFIG", "SET", "rdbcompression", "no")).toBe("OK");
      expect(await rc.call("CONFIG", "SET", "dbfilename", "plain.rdb")).toBe("OK");
      expect(await rc.call("SAVE")).toBe("OK");
      const plainFile = join(rdir, "plain.rdb");
      expect((await Bun.file(plainFile).size) > (await Bun.file(written).size)).toBe(true);
      const loaded2 = await redisLoading(plainFile, scenario.config);
      await compareRedis(source, loaded2, keys);
      await stop(loaded2);

      // 3. DUMP from Replicant, RESTORE into redis-server.
      const target = await track(startRedis(scenario.config));
      const tc = await target.client();
      await tc.call("FUNCTION", "LOAD", FUNCTION_CODE);
      await transfer(rc, tc, keys);
      await compareRedis(source, target, keys);
      await stop(target);
      await stop(replicant);
      await stop(source);
    }, 120000);

    test(`${scenario.name}: DUMP from redis-server, RESTORE into Replicant, SAVE, load in redis-server`, async () => {
      const source = await track(startRedis(scenario.config));
      const sc = await source.client();
      await build(sc, dataset(SEED + 1));
      const keys = await keysOf(sc);
      const replicant = await track(startReplicant([...scenario.config, "--save", ""]));
      const rc = await replicant.client();
      await transfer(sc, rc, keys);
      // DUMP payloads are byte-identical to redis-server's (same encodings, same list node
      // split, same LZF output), except where Redis's hash table order shows (hashtable-encoded
      // sets and hashes iterate in dict order, ours in insertion order).
      const different: string[] = [];
      for (const [db, list] of keys) {
        await sc.call("SELECT", db);
        await rc.call("SELECT", db);
        for (const k of list) {
          const enc = String(await sc.call("OBJECT", "ENCODING", k));
          const type = String(await sc.call("TYPE", k));
          if (enc === "hashtable") continue;
          if (String(await rc.call("DUMP", k)) !== String(await sc.call("DUMP", k))) different.push(`${db}:${type}:${enc}:${k}`);
        }
      }
      await sc.call("SELECT", 0);
      await rc.call("SELECT", 0);
      expect(different).toEqual([]);
      expect(await rc.call("SAVE")).toBe("OK");
      const loaded = await redisLoading(join(replicant.dir, "dump.rdb"), scenario.config);
      await loaded.call("FUNCTION", "LOAD", FUNCTION_CODE);
      await compareRedis(source, loaded, keys);
      await stop(loaded);
      await stop(replicant);
      await stop(source);
    }, 120000);
  }
});

describe("RESTORE errors are Redis's", () => {
  test("checksum, version, format, BUSYKEY, options", async () => {
    const redis = await track(startRedis());
    const replicant = await track(startReplicant(["--save", ""]));
    const pc = await redis.client();
    const rc = await replicant.client();
    await pc.call("SET", "k", "v");
    await rc.call("SET", "k", "v");
    const good = (await pc.call("DUMP", "k")) as string;
    const flipped = good.slice(0, 2) + String.fromCharCode(good.charCodeAt(2) ^ 1) + good.slice(3);
    const future = Buffer.from(good, "latin1");
    future[future.length - 10] = 11;
    const bad = Buffer.from("\x00\x01a", "latin1");
    const cases: Cmd[] = [
      ["RESTORE", "k", 0, good],
      ["RESTORE", "n", 0, flipped],
      ["RESTORE", "n", 0, future.toString("latin1")],
      ["RESTORE", "n", 0, "short"],
      ["RESTORE", "n", -1, good],
      ["RESTORE", "n", "abc", good],
      ["RESTORE", "n", 0, good, "IDLETIME", -1],
      ["RESTORE", "n", 0, good, "FREQ", 256],
      ["RESTORE", "n", 0, good, "IDLETIME", 1, "FREQ", 1],
      ["RESTORE", "n", 0, good, "BOGUS"],
      ["RESTORE", "k", 0, good, "REPLACE"],
      ["RESTORE", "gone", 1, good, "ABSTTL"],
      ["DUMP", "nosuchkey"],
    ];
    for (const cmd of cases) {
      const a = await pc.call(...cmd);
      const b = await rc.call(...cmd);
      expect(`${cmd.slice(0, 2).join(" ")} ${cmd.slice(4).join(" ")}: ${String(b)}`).toBe(`${cmd.slice(0, 2).join(" ")} ${cmd.slice(4).join(" ")}: ${String(a)}`);
    }
    // A payload with a valid checksum around garbage.
    const { Crc64 } = await import("../../src/rdb/crc64.ts");
    const body = Buffer.concat([Buffer.from([0x04, 0x05]), bad, Buffer.from([10, 0])]);
    const crc = new Crc64();
    crc.update(body);
    const trailer = Buffer.alloc(8);
    crc.writeLE(trailer, 0);
    const garbage = Buffer.concat([body, trailer]).toString("latin1");
    expect(String(await rc.call("RESTORE", "g", 0, garbage))).toBe(String(await pc.call("RESTORE", "g", 0, garbage)));
  }, 60000);
});
