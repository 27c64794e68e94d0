// How good MEMORY USAGE's estimates are: for each shape of value, a Replicant is filled with N
// keys of it; the heap it gains (INFO used_memory after MEMORY PURGE, i.e. after a full
// collection, the runtime's own measure) divided by N is what a key really costs, next to
// what MEMORY USAGE says of one of them (SAMPLES 0 and the default 5). redis-server's MEMORY
// USAGE of the same key is printed for reference (its allocator, its encodings).
//
//   bun bench/memory-usage.bench.ts [--keys 20000] [--shapes "string 8;hash 5 (packed)"]
//
// Replicant runs from REPLICANT_BIN when set, else from the sources. Run by hand.

import { RespClient } from "../test/helpers/resp-client.ts";
import { parseInfo, removeDir, startRedis, startReplicant } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const KEYS = Number(opt("keys", "20000"));

type Cmd = Array<string | number>;
const pad = (i: number, n: number) => String(i).padStart(n, "0");

/** Commands that build key i of a shape (several commands for the big ones). */
const SHAPES: Record<string, { keys?: number; build: (i: number) => Cmd[] }> = {
  "string 8": { build: (i) => [["SET", `k:${i}`, pad(i, 8)]] },
  "string 100": { build: (i) => [["SET", `k:${i}`, "v".repeat(92) + pad(i, 8)]] },
  "string 2000": { build: (i) => [["SET", `k:${i}`, "v".repeat(1992) + pad(i, 8)]] },
  "hash 5 (packed)": { build: (i) => [["HSET", `h:${i}`, "f1", `v${i}`, "f2", "x".repeat(20), "f3", i, "f4", "yy", "f5", "z"]] },
  "hash 1000 (Map)": { keys: 40, build: (i) => [["HSET", `h:${i}`, ...Array.from({ length: 1000 }, (_, j) => [`field:${j}`, `value:${i}:${j}`]).flat()]] },
  "list 5 (packed)": { build: (i) => [["RPUSH", `l:${i}`, "a", "b", `c${i}`, "dddddddd", i]] },
  "list 2000 (ring)": { keys: 20, build: (i) => [["RPUSH", `l:${i}`, ...Array.from({ length: 2000 }, (_, j) => `element:${i}:${j}`)]] },
  "set 4 (packed)": { build: (i) => [["SADD", `s:${i}`, `m${i}`, `n${i}`, "abc", "defgh"]] },
  "intset 100": { build: (i) => [["SADD", `is:${i}`, ...Array.from({ length: 100 }, (_, j) => 100000 + i * 1000 + j)]] },
  "set 1000 (Set)": { keys: 40, build: (i) => [["SADD", `s:${i}`, ...Array.from({ length: 1000 }, (_, j) => `member:${i}:${j}`)]] },
  "zset 5 (listpack)": { build: (i) => [["ZADD", `z:${i}`, 1, "a", 2, "b", 3.5, `c${i}`, 4, "d", 5, "e"]] },
  "zset 2000 (skiplist)": { keys: 20, build: (i) => [["ZADD", `z:${i}`, ...Array.from({ length: 2000 }, (_, j) => [j * 1.5, `member:${i}:${j}`]).flat()]] },
  "stream 500 entries": {
    keys: 40,
    build: (i) => Array.from({ length: 500 }, (_, j) => ["XADD", `x:${i}`, "*", "sensor", `s${j % 10}`, "value", String(j * 3.25)]),
  },
  "stream, group, 200 pending": {
    keys: 40,
    build: (i) => [
      ...Array.from({ length: 200 }, (_, j) => ["XADD", `x:${i}`, "*", "f", `v${j}`]),
      ["XGROUP", "CREATE", `x:${i}`, "g", "0"],
      ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "200", "STREAMS", `x:${i}`, ">"],
    ],
  },
};
const wanted = opt("shapes", Object.keys(SHAPES).join(";")).split(";");

async function fill(c: RespClient, keys: number, build: (i: number) => Cmd[]): Promise<void> {
  let batch: Cmd[] = [];
  for (let i = 0; i < keys; i++) {
    batch.push(...build(i));
    if (batch.length >= 200) {
      await c.pipeline(batch);
      batch = [];
    }
  }
  if (batch.length) await c.pipeline(batch);
}

async function usedAfterGc(c: RespClient): Promise<number> {
  await c.call("MEMORY", "PURGE");
  await c.call("MEMORY", "PURGE");
  return Number(parseInfo(await c.call("INFO", "memory")).used_memory);
}

const replicant = await startReplicant([]);
const redis = await startRedis([]);
const [r, m] = await Promise.all([replicant.client(), redis.client()]);
console.log(`${"shape".padEnd(28)} ${"keys".padStart(6)} ${"measured".padStart(10)} ${"USAGE 0".padStart(10)} ${"USAGE 5".padStart(10)} ${"error".padStart(7)} ${"redis".padStart(10)}`);
try {
  for (const name of wanted) {
    const shape = SHAPES[name];
    if (!shape) throw new Error(`no shape ${name}`);
    const keys = shape.keys ?? KEYS;
    await r.call("FLUSHALL");
    await m.call("FLUSHALL");
    const before = await usedAfterGc(r);
    await fill(r, keys, shape.build);
    await fill(m, Math.min(keys, 5), shape.build);
    const after = await usedAfterGc(r);
    const measured = (after - before) / keys;
    const key = String(shape.build(1)[0]![1]);
    const all = Number(await r.call("MEMORY", "USAGE", key, "SAMPLES", 0));
    const five = Number(await r.call("MEMORY", "USAGE", key));
    const theirs = Number(await m.call("MEMORY", "USAGE", key, "SAMPLES", 0));
    const err = ((all - measured) / measured) * 100;
    console.log(`${name.padEnd(28)} ${String(keys).padStart(6)} ${measured.toFixed(0).padStart(10)} ${String(all).padStart(10)} ${String(five).padStart(10)} ${`${err >= 0 ? "+" : ""}${err.toFixed(0)}%`.padStart(7)} ${String(theirs).padStart(10)}`);
  }
} finally {
  r.close();
  m.close();
  for (const s of [replicant, redis]) {
    await s.stop();
    removeDir(s.dir);
  }
}
