// RDB load benchmark: redis-server writes a dump of >= 1M keys (DEBUG POPULATE strings plus
// some hashes, lists, sets, sorted sets and keys with TTLs); we time our loader on it
// (loadRdbFileSync into fresh Databases: the work of a full sync) and time redis-server
// loading the same file at start-up (the "DB loaded from disk: N seconds" line of its log).
// Prints keys/s and MB/s of both and the ratio.
//
//   bun bench/rdb-load.bench.ts [--keys 1000000] [--rounds 3] [--file existing.rdb] [--keep-dump path]
//
// Run by hand, not in the test suite (timing is not a unit test).

import { copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadRdbFileSync, parseRdbFileSync } from "../src/rdb/loader.ts";
import { Database } from "../src/store/database.ts";
import { removeDir, startRedis, tempDir, type ServerProcess } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const KEYS = Number(opt("keys", "1000000"));
const ROUNDS = Number(opt("rounds", "3"));
const GIVEN = opt("file", "");
/** Keep the generated dump at this path (to rerun with --file). */
const KEEP = opt("keep-dump", "");

async function populate(master: ServerProcess): Promise<void> {
  const c = await master.client();
  const strings = Math.floor(KEYS * 0.8);
  const populated = await c.call("DEBUG", "POPULATE", strings, "key", 32);
  if (populated !== "OK") throw new Error(`DEBUG POPULATE failed: ${JSON.stringify(populated)}`);
  const rest = KEYS - strings;
  let batch: Array<Array<string | number>> = [];
  const flush = async () => {
    if (batch.length) await c.pipeline(batch);
    batch = [];
  };
  for (let i = 0; i < rest; i++) {
    const kind = i % 10;
    if (kind < 4) batch.push(["HSET", `hash:${i}`, "f1", `v${i}`, "f2", "x".repeat(20), "f3", i, "f4", "yy"]);
    else if (kind < 6) batch.push(["RPUSH", `list:${i}`, "a", "b", `c${i}`, "dddddddd", i]);
    else if (kind < 8) batch.push(["SADD", `set:${i}`, i, i + 1, i + 2, `m${i}`]);
    else if (kind < 9) batch.push(["ZADD", `zset:${i}`, 1, "a", 2.5, "b", i, `m${i}`]);
    else batch.push(["SET", `ttl:${i}`, `v${i}`, "EX", 100000]);
    if (batch.length >= 5000) await flush();
  }
  // A few large aggregates too (hashtable / skiplist encodings).
  for (let k = 0; k < 5; k++) {
    for (let i = 0; i < 2000; i += 500) {
      const h: Array<string | number> = ["HSET", `bighash:${k}`];
      const z: Array<string | number> = ["ZADD", `bigzset:${k}`];
      for (let j = i; j < i + 500; j++) {
        h.push(`field:${j}`, `value:${j}`);
        z.push(j * 1.5, `member:${j}`);
      }
      batch.push(h, z);
    }
  }
  await flush();
  c.close();
}

async function makeDump(dir: string): Promise<string> {
  const master = await startRedis(["--enable-debug-command", "yes"], { dir });
  try {
    await populate(master);
    await master.call("SAVE");
  } finally {
    await master.stop();
  }
  return join(dir, "dump.rdb");
}

async function redisLoadSeconds(file: string): Promise<number> {
  const dir = tempDir("bench-rdb-redis-");
  try {
    copyFileSync(file, join(dir, "dump.rdb"));
    const server = await startRedis(["--dbfilename", "dump.rdb"], { dir });
    try {
      await server.waitForLog(/DB loaded from disk: [0-9.]+ seconds/, 600000);
      return Number(/DB loaded from disk: ([0-9.]+) seconds/.exec(server.output())![1]);
    } finally {
      await server.stop();
    }
  } finally {
    removeDir(dir);
  }
}

function ourLoadSeconds(file: string): { seconds: number; keys: number } {
  const dbs = Array.from({ length: 16 }, (_, i) => new Database(i));
  const t0 = performance.now();
  const r = loadRdbFileSync(file, dbs);
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, keys: r.sink.keysLoaded };
}

/** The parser alone (values built, then dropped: no keyspace Maps). */
function parseOnlySeconds(file: string): number {
  const t0 = performance.now();
  parseRdbFileSync(file, { key() {} });
  return (performance.now() - t0) / 1000;
}

const dir = tempDir("bench-rdb-");
try {
  let file = GIVEN || (await makeDump(dir));
  if (KEEP && !GIVEN) {
    copyFileSync(file, KEEP);
    file = KEEP;
  }
  const bytes = statSync(file).size;
  console.log(`dump: ${file}, ${(bytes / 1e6).toFixed(1)} MB`);
  const ours: number[] = [];
  const parseOnly: number[] = [];
  const theirs: number[] = [];
  let keys = 0;
  for (let r = 0; r < ROUNDS; r++) {
    Bun.gc(true);
    const o = ourLoadSeconds(file);
    keys = o.keys;
    ours.push(o.seconds);
    Bun.gc(true);
    parseOnly.push(parseOnlySeconds(file));
    theirs.push(await redisLoadSeconds(file));
  }
  const best = (xs: number[]) => Math.min(...xs);
  const o = best(ours);
  const t = best(theirs);
  const line = (who: string, s: number) => `${who.padEnd(13)} ${s.toFixed(3)} s  ${(keys / s / 1e6).toFixed(2)} M keys/s  ${(bytes / s / 1e6).toFixed(1)} MB/s`;
  console.log(`${keys} keys, best of ${ROUNDS} rounds (ours: ${ours.map((x) => x.toFixed(3)).join(", ")}; redis: ${theirs.map((x) => x.toFixed(3)).join(", ")})`);
  console.log(line("replicant", o));
  console.log(line("redis-server", t));
  console.log(line("(our parser alone, without the keyspace Maps)", best(parseOnly)));
  console.log(`ratio (replicant / redis-server): ${(o / t).toFixed(2)}`);
} finally {
  removeDir(dir);
}
