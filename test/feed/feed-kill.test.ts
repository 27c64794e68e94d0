// `replicant feed` killed with SIGKILL at random moments, ten times, under a write load on a
// redis-server master (strings, big binary values, lists, hashes, sets, sorted sets, streams,
// four dbs, MULTI/EXEC, expiring keys), restarted each time with the same checkpoint and
// output file: the records, replayed on an empty redis-server, rebuild the master's dataset
// exactly (DEBUG DIGEST and key by key), and their offsets strictly increase (no duplicate).
// FEED_SEED=<n> replays a run.

import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RespClient } from "../helpers/resp-client.ts";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";
import { info, removeDir, startRedis, stopServers, tempDir, type ServerProcess } from "../helpers/servers.ts";
import { offsetsStrictlyIncrease, parseRecords, readRecords, replay, startFeed, type ReadRecord } from "./feed-helpers.ts";
import { killAllFeeds } from "./feed-helpers.ts";

const started: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  killAllFeeds();
  await stopServers(started);
  for (const d of dirs) removeDir(d);
});

/** A random write (or a short transaction) for db `db`'s client. */
function randomOps(rand: () => number, n: number): Array<Array<string | number | Buffer>> {
  const key = (kind: string) => `${kind}:${Math.floor(rand() * 40)}`;
  const r = Math.floor(rand() * 100);
  const bytes = (len: number) => Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256)));
  if (r < 15) return [["SET", key("s"), `v${n}`]];
  if (r < 20) return [["SET", key("s"), `ttl${n}`, "EX", 30 + Math.floor(rand() * 300)]];
  if (r < 22) return [["SET", key("t"), `short${n}`, "PX", 50 + Math.floor(rand() * 400)]];
  if (r < 24) return [["SET", key("big"), Buffer.concat([bytes(64), Buffer.alloc(50_000 + Math.floor(rand() * 250_000), n % 251)])]];
  if (r < 28) return [["INCRBY", key("n"), Math.floor(rand() * 100)]];
  if (r < 31) return [["APPEND", key("s"), bytes(8)]];
  if (r < 40) return [["RPUSH", key("l"), `e${n}`, bytes(5)]];
  if (r < 43) return [["LPOP", key("l")]];
  if (r < 51) return [["HSET", key("h"), `f${Math.floor(rand() * 30)}`, `v${n}`]];
  if (r < 53) return [["HDEL", key("h"), `f${Math.floor(rand() * 30)}`]];
  if (r < 60) return [["SADD", key("set"), `m${Math.floor(rand() * 50)}`, Math.floor(rand() * 1000)]];
  if (r < 62) return [["SREM", key("set"), `m${Math.floor(rand() * 50)}`]];
  if (r < 70) return [["ZADD", key("z"), (rand() * 1000 - 500).toFixed(3), `m${Math.floor(rand() * 50)}`]];
  if (r < 72) return [["ZREM", key("z"), `m${Math.floor(rand() * 50)}`]];
  if (r < 78) return [["XADD", key("x"), "*", "f", `v${n}`]];
  if (r < 79) return [["XTRIM", key("x"), "MAXLEN", 20]];
  if (r < 82) return [["EXPIRE", key("h"), 60 + Math.floor(rand() * 600)]];
  if (r < 84) return [["DEL", key(["s", "l", "h", "set", "z"][Math.floor(rand() * 5)]!)]];
  if (r < 86) return [["RENAME", key("n"), key("n")]];
  // A transaction of a few writes.
  return [["MULTI"], ["INCR", key("n")], ["HSET", key("h"), "tx", `v${n}`], ["RPUSH", key("l"), `tx${n}`], ["EXEC"]];
}

test("SIGKILL ten times under a write load: the records rebuild the master's dataset, no gap, no duplicate", async () => {
  const rand = rng(seedFromEnv("FEED_SEED"));
  const master = await startRedis(["--repl-backlog-size", "256mb", "--enable-debug-command", "yes"]);
  started.push(master);
  const dir = tempDir("feed-kill-");
  dirs.push(dir);
  const out = join(dir, "feed.jsonl");
  const cp = join(dir, "feed.cp");
  const clients = await Promise.all([0, 1, 2, 3].map(async (db) => {
    const c = await RespClient.connect(master.port);
    await c.call("SELECT", db);
    return c;
  }));
  // Some data before the feed starts: the snapshot.
  let n = 0;
  for (let i = 0; i < 400; i++) await clients[i % 4]!.pipeline(randomOps(rand, n++));

  let loading = true;
  const load = (async () => {
    while (loading) {
      const c = clients[Math.floor(rand() * 4)]!;
      const batch: Array<Array<string | number | Buffer>> = [];
      for (let i = 0; i < 20; i++) batch.push(...randomOps(rand, n++));
      await c.pipeline(batch);
      await Bun.sleep(5 + Math.floor(rand() * 20));
    }
  })();

  const args = ["--replicaof", "127.0.0.1", String(master.port), "--checkpoint", cp, "--out", out, "--checkpoint-interval", "50"];
  const stderr: string[] = [];
  for (let kill = 0; kill < 10; kill++) {
    const feed = startFeed(args);
    await Bun.sleep(300 + Math.floor(rand() * 1200));
    feed.proc.kill("SIGKILL");
    await feed.exited;
    stderr.push(feed.stderr());
  }
  const last = startFeed(args);
  await Bun.sleep(500);
  loading = false;
  await load;
  const masterOffset = Number((await info(master, "replication")).master_repl_offset);
  await new Promise((r) => setTimeout(r, 100));
  // Caught up: the checkpoint reached the end of the load.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (existsSync(cp) && JSON.parse(readFileSync(cp, "utf8")).offset >= masterOffset) break;
    await Bun.sleep(50);
  }
  last.proc.kill("SIGTERM");
  expect(await last.exited).toBe(0);
  stderr.push(last.stderr());
  const log = stderr.join("");
  expect(JSON.parse(readFileSync(cp, "utf8")).offset).toBeGreaterThanOrEqual(masterOffset);
  // Restarts after the first checkpoint continued the stream (partial resyncs).
  expect(log.match(/continuing from/g)?.length ?? 0).toBeGreaterThanOrEqual(5);

  const records = readRecords(out);
  expect(offsetsStrictlyIncrease(records)).toBeNull();
  // One snapshot, first: the resumes never took another.
  expect(records.filter((r) => r.replid !== undefined).length).toBe(1);
  expect(records[0]!.args).toEqual(["FLUSHALL"]);
  expect(records.filter((r) => r.args[0]!.toUpperCase() === "MULTI").length).toBeGreaterThan(10);

  const target = await startRedis(["--enable-debug-command", "yes"]);
  started.push(target);
  await replay(records, target.port);
  const a = await RespClient.connect(master.port);
  const b = await RespClient.connect(target.port);
  const [sa, sb] = [await snapshotDataset(a, 4), await snapshotDataset(b, 4)];
  expect(diffDatasets(sa, sb)).toEqual([]);
  const digest = await a.call("DEBUG", "DIGEST");
  expect(String(digest)).toMatch(/^[0-9a-f]{40}$/);
  expect(digest).not.toBe("0".repeat(40));
  expect(await b.call("DEBUG", "DIGEST")).toBe(digest);
  console.log(`${records.length} records, ${sa.size} dbs, master offset ${masterOffset}, ${n} writes`);
  for (const c of [...clients, a, b]) c.close();
}, 240_000);

// On standard output the records after the last checkpoint come again after a restart, with the
// same offsets: a consumer that drops what it has (offset <= the last one it applied; a
// record with `replid` starts a snapshot over) and an incomplete last line gets every record
// exactly once (docs/feed.md, "Guarantees").
test("standard output, SIGKILL four times: a consumer deduplicating by offset rebuilds the master exactly", async () => {
  const rand = rng(seedFromEnv("FEED_STDOUT_SEED"));
  const master = await startRedis(["--repl-backlog-size", "64mb"]);
  started.push(master);
  const dir = tempDir("feed-kill-stdout-");
  dirs.push(dir);
  const cp = join(dir, "feed.cp");
  const clients = await Promise.all([0, 1].map(async (db) => {
    const c = await RespClient.connect(master.port);
    await c.call("SELECT", db);
    return c;
  }));
  let n = 0;
  for (let i = 0; i < 100; i++) await clients[i % 2]!.pipeline(randomOps(rand, n++));
  let loading = true;
  const load = (async () => {
    while (loading) {
      const batch: Array<Array<string | number | Buffer>> = [];
      for (let i = 0; i < 10; i++) batch.push(...randomOps(rand, n++));
      await clients[Math.floor(rand() * 2)]!.pipeline(batch);
      await Bun.sleep(5 + Math.floor(rand() * 10));
    }
  })();
  const args = ["--replicaof", "127.0.0.1", String(master.port), "--checkpoint", cp, "--checkpoint-interval", "300"];
  const runs: Buffer[] = [];
  for (let kill = 0; kill < 4; kill++) {
    const feed = startFeed(args);
    await Bun.sleep(600 + Math.floor(rand() * 900));
    feed.proc.kill("SIGKILL");
    await feed.exited;
    runs.push(feed.stdout());
  }
  const last = startFeed(args);
  await Bun.sleep(300);
  loading = false;
  await load;
  const masterOffset = Number((await info(master, "replication")).master_repl_offset);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !(existsSync(cp) && JSON.parse(readFileSync(cp, "utf8")).offset >= masterOffset)) await Bun.sleep(50);
  last.proc.kill("SIGTERM");
  expect(await last.exited).toBe(0);
  runs.push(last.stdout());

  // The consumer.
  const applied: ReadRecord[] = [];
  let lastOffset = -1;
  let repeated = 0;
  for (const run of runs) {
    const text = run.toString("utf8");
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    for (const r of parseRecords(Buffer.from(complete, "utf8"), "jsonl")) {
      if (r.replid !== undefined) lastOffset = -1;
      if (!r.snapshot && r.offset <= lastOffset) {
        repeated++;
        continue;
      }
      applied.push(r);
      lastOffset = r.offset;
    }
  }
  console.log(`${applied.length} records applied, ${repeated} repeated ones dropped`);
  // The kills did leave records past a checkpoint, which came again.
  expect(repeated).toBeGreaterThan(0);
  const target = await startRedis();
  started.push(target);
  await replay(applied, target.port);
  const a = await RespClient.connect(master.port);
  const b = await RespClient.connect(target.port);
  expect(diffDatasets(await snapshotDataset(a, 2), await snapshotDataset(b, 2))).toEqual([]);
  for (const c of [...clients, a, b]) c.close();
}, 240_000);

