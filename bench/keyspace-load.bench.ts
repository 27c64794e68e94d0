// Loading a full-sync payload into the compact keyspace (docs/keyspace-design.md), on this thread
// and on a Bun Worker, against today's loader and redis-server:
//
//   1. redis-server is filled with the dataset of bench/keyspace-common.ts (a fraction of the
//      keys with an expiry) and SAVEs: that dump is the payload.
//   2. Each way of loading runs in a fresh child process:
//      - today:   src/rdb/reader.ts (RdbParser) into Map<string, RedisValue> + expiry Map;
//      - main:    the byte decoder (bench/keyspace-rdb-strings.ts) into a Keyspace, this thread;
//      - main-shared: the same into SharedArrayBuffer tables (what the worker builds);
//      - worker:  the payload posted (transferred) to a Worker that decodes into a shared
//                 Keyspace and posts its tables back; this thread adopts them. Measured: total
//                 time, the worker's decode, the hand-over (post -> adopted), the longest gap of
//                 a 1 ms timer on this thread meanwhile (is it free to serve?), RSS after.
//      Then the lookup speed on the result (adopted SharedArrayBuffer tables vs ordinary ones).
//   3. redis-server loads the same dump at start-up ("DB loaded from disk").
//
//   bun bench/keyspace-load.bench.ts [--keys 1000000] [--ttl 0.2] [--rounds 3]
//
// Run by hand, not in the test suite.

import { readFileSync } from "node:fs";
import { copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseRdbFileSync } from "../src/rdb/loader.ts";
import { hashKey } from "../src/store/keyspace/key-hash.ts";
import { Keyspace } from "../src/store/keyspace/keyspace.ts";
import type { RedisValue } from "../src/store/values.ts";
import { removeDir, startRedis, tempDir } from "../test/helpers/servers.ts";
import { fmt, makeDataset, memoryNow, opt, pipelineLoad, randomOrder, table } from "./keyspace-common.ts";
import { decodeStringRdb } from "./keyspace-rdb-strings.ts";

const KEYS = Number(opt("keys", "1000000"));
const TTL = Number(opt("ttl", "0.2"));
const ROUNDS = Number(opt("rounds", "3"));

interface ChildResult {
  way: string;
  /** CPU time of the whole process (all threads, the worker's too) over the load. */
  cpuMs: number;
  /** The longest timer gap in a second of doing nothing first: the machine's noise floor. */
  idleGapMs: number;
  totalMs: number;
  decodeMs?: number;
  handoverMs?: number;
  maxTimerGapMs: number;
  rssMiB: number;
  keys: number;
  lookupNs?: number;
}

/** Lookups of random keys ("key:%07d") by bytes, least CPU ns per op over 7 runs. */
function lookupNs(ks: Keyspace, n: number): number {
  const OPS = 200000;
  const order = randomOrder(n, 11, OPS, true);
  const req = Buffer.allocUnsafe(OPS * 11);
  for (let i = 0; i < OPS; i++) req.latin1Write("key:" + String(order[i]).padStart(7, "0"), i * 11);
  let best = Infinity;
  let sink = 0;
  for (let p = 0; p < 7; p++) {
    const u0 = process.cpuUsage();
    for (let i = 0; i < OPS; i++) sink += ks.findBytes(req, i * 11, 11);
    const u1 = process.cpuUsage(u0);
    best = Math.min(best, (u1.user + u1.system) * 1000);
  }
  if (sink === 0.5) console.error(sink);
  return best / OPS;
}

/** Watches this thread's event loop: the longest gap between 1 ms timer ticks. */
function gapWatch(): () => number {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  return () => {
    clearInterval(timer);
    return Math.max(worst, performance.now() - last);
  };
}

async function child(way: string, file: string): Promise<ChildResult> {
  const before = await memoryNow();
  const payload = readFileSync(file);
  // The worker gets the payload as one transferred ArrayBuffer (a socket's chunks would be
  // posted as they come, each transferred): made before the clock starts.
  const transferable = way === "worker" ? payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.length) : null;
  const idle = gapWatch();
  await Bun.sleep(1000);
  const idleGapMs = idle();
  const stop = gapWatch();
  await Bun.sleep(5);
  const cpu0 = process.cpuUsage();
  const cpuMs = () => {
    const u = process.cpuUsage(cpu0);
    return (u.user + u.system) / 1000;
  };
  const t = performance.now();
  let result: ChildResult;
  if (way === "today") {
    const keys = new Map<string, RedisValue>();
    const expires = new Map<string, number>();
    parseRdbFileSync(file, {
      key(_db, key, value, expireMs) {
        keys.set(key, value);
        if (expireMs !== -1) expires.set(key, expireMs);
      },
    });
    const totalMs = performance.now() - t;
    const cpu = cpuMs();
    const gap = stop();
    const rss = (await memoryNow()).rss - before.rss;
    result = { way, cpuMs: cpu, idleGapMs, totalMs, maxTimerGapMs: gap, rssMiB: rss / 2 ** 20, keys: keys.size };
    if (keys.size < 0) console.log(expires);
  } else if (way === "main" || way === "main-shared") {
    const shared = way === "main-shared";
    const { keys, dbs } = decodeStringRdb(payload, (expectedKeys) => new Keyspace({ expectedKeys, shared }));
    const totalMs = performance.now() - t;
    const cpu = cpuMs();
    const gap = stop();
    const ks = dbs.get(0)!;
    const rss = (await memoryNow()).rss - before.rss;
    result = { way, cpuMs: cpu, idleGapMs, totalMs, maxTimerGapMs: gap, rssMiB: rss / 2 ** 20, keys, lookupNs: lookupNs(ks, keys) };
  } else {
    const worker = new Worker(new URL("./keyspace-load-worker.ts", import.meta.url).href);
    const copy = transferable!;
    const done = new Promise<{ keys: number; decodeMs: number; states: Array<{ db: number; state: any }>; postedAt: number }>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(e);
    });
    const postStart = performance.now();
    worker.postMessage({ payload: copy, hashKey: hashKey() }, [copy]);
    const msg = await done;
    const received = performance.now();
    const ks = Keyspace.adopt(msg.states[0]!.state);
    const adopted = performance.now();
    const totalMs = adopted - t;
    const cpu = cpuMs();
    const gap = stop();
    worker.terminate();
    await Bun.sleep(50);
    const rss = (await memoryNow()).rss - before.rss;
    result = {
      way,
      cpuMs: cpu,
      idleGapMs,
      totalMs,
      decodeMs: msg.decodeMs,
      handoverMs: adopted - (msg.postedAt - performance.timeOrigin),
      maxTimerGapMs: gap,
      rssMiB: rss / 2 ** 20,
      keys: msg.keys,
      lookupNs: lookupNs(ks, msg.keys),
    };
    void postStart;
    void received;
  }
  return result;
}

async function makeDump(dir: string): Promise<string> {
  const server = await startRedis([], { dir });
  try {
    await pipelineLoad(server.port, makeDataset(KEYS, 1), TTL);
    await server.call("SAVE");
  } finally {
    await server.stop();
  }
  return join(dir, "dump.rdb");
}

async function redisLoadSeconds(file: string): Promise<number> {
  const dir = tempDir("bench-ks-redis-");
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

async function main(): Promise<void> {
  const way = opt("child", "");
  if (way !== "") {
    console.log(JSON.stringify(await child(way, opt("file", ""))));
    return;
  }
  const dir = tempDir("bench-ks-load-");
  try {
    const file = await makeDump(dir);
    console.error(`dump: ${(statSync(file).size / 1e6).toFixed(1)} MB, ${KEYS} keys, ${TTL * 100}% with an expiry`);
    const best = new Map<string, ChildResult>();
    let redisBest = Infinity;
    for (let r = 0; r < ROUNDS; r++) {
      for (const w of ["today", "main", "main-shared", "worker"]) {
        const proc = Bun.spawn([process.execPath, import.meta.path, "--child", w, "--file", file], { stdout: "pipe", stderr: "inherit" });
        const out = await new Response(proc.stdout).text();
        await proc.exited;
        const res: ChildResult = JSON.parse(out.trim().split("\n").pop()!);
        console.error(`round ${r} ${w}: ${fmt(res.totalMs, 0)} ms`);
        const prev = best.get(w);
        if (prev === undefined || res.totalMs < prev.totalMs) best.set(w, res);
      }
      redisBest = Math.min(redisBest, await redisLoadSeconds(file));
    }
    const rows = [...best.values()].map((r) => [
      r.way,
      r.keys,
      fmt(r.totalMs, 0),
      fmt(r.cpuMs, 0),
      fmt(r.totalMs / redisBest / 1000, 2) + "x",
      r.decodeMs !== undefined ? fmt(r.decodeMs, 0) : "",
      r.handoverMs !== undefined ? fmt(r.handoverMs, 1) : "",
      `${fmt(r.maxTimerGapMs, 1)} (idle: ${fmt(r.idleGapMs, 1)})`,
      fmt(r.rssMiB, 0),
      r.lookupNs !== undefined ? fmt(r.lookupNs, 0) : "",
    ]);
    rows.push(["redis-server 7.0 (start-up load)", KEYS, fmt(redisBest * 1000, 0), "", "1.00x", "", "", "", "", ""]);
    console.log(`\nbest of ${ROUNDS} rounds each\n`);
    console.log(table(["way", "keys", "load ms", "CPU ms (all threads)", "vs redis", "worker decode ms", "hand-over ms", "longest 1 ms-timer gap on this thread", "RSS MiB after", "lookup ns (bytes key)"], rows));
  } finally {
    removeDir(dir);
  }
}

await main();
