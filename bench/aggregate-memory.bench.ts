// Memory of small aggregates: for each dataset (small hashes, lists, sets, intsets; short strings
// as the reference) a
// redis-server master is filled with N keys, then a redis-server replica and a Replicant replica
// sync from it in turn; the resident memory each gains over a replica of an empty master,
// divided by N, is the cost of one key (key + value). Then redis-benchmark (-P 16) measures
// HSET/HGET/SADD/LPUSH/LPOP/LRANGE_100 on a redis-server and on a Replicant (as a master).
//
//   bun bench/aggregate-memory.bench.ts [--keys 100000] [--datasets string,hash,list,set,intset]
//        [--requests 200000] [--no-throughput] [--no-memory]
//
// Replicant runs from REPLICANT_BIN when set, else from the sources (`bun src/main.ts`).
// Run by hand, not in the test suite.

import { readFileSync } from "node:fs";
import { RespClient } from "../test/helpers/resp-client.ts";
import { info, removeDir, startRedis, startReplicant, waitFor, type ServerProcess } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const args = process.argv.slice(2);
const KEYS = Number(opt("keys", "100000"));
const DATASETS = opt("datasets", "string,hash,list,set,intset").split(",");
const REQUESTS = Number(opt("requests", "200000"));
const MEMORY = !args.includes("--no-memory");
const THROUGHPUT = !args.includes("--no-throughput");

type Cmd = Array<string | number>;

/** The datasets: key i of each (the shapes of bench/full-sync.bench.ts's aggregates). */
const SHAPES: Record<string, (i: number) => Cmd> = {
  /** The reference: what a key costs with a short string value. */
  string: (i) => ["SET", `k:${i}`, `v${i}`],
  hash: (i) => ["HSET", `h:${i}`, "f1", `v${i}`, "f2", "x".repeat(20), "f3", i, "f4", "yy"],
  list: (i) => ["RPUSH", `l:${i}`, "a", "b", `c${i}`, "dddddddd", i],
  set: (i) => ["SADD", `s:${i}`, i, i + 1, i + 2, `m${i}`],
  intset: (i) => ["SADD", `is:${i}`, i, i + 1, i + 2, i * 7 + 1000],
  /** Large lists (ring buffers of strings here): 1000 keys of N/1000 elements, reported per element. */
  biglist: (i) => ["RPUSH", `bl:${i % 1000}`, `element:${i}`],
};

/** Datasets whose unit is an element, not a key (the key count is then fixed). */
const ELEMENT_DATASETS: Record<string, number> = { biglist: 1000 };

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

async function populate(master: ServerProcess, shape: (i: number) => Cmd, n: number): Promise<void> {
  const c = await master.client();
  await c.call("FLUSHALL");
  let batch: Cmd[] = [];
  for (let i = 0; i < n; i++) {
    batch.push(shape(i));
    if (batch.length >= 5000) {
      await c.pipeline(batch);
      batch = [];
    }
  }
  if (batch.length) await c.pipeline(batch);
  c.close();
}

/** Starts a replica of `master`, waits for the whole dataset, returns its RSS a second later. */
async function replicaRss(kind: "redis" | "replicant", master: ServerProcess, keys: number): Promise<number> {
  const extra = ["--replicaof", "127.0.0.1", String(master.port)];
  const replica = kind === "redis" ? await startRedis(extra) : await startReplicant(extra);
  try {
    const c = await replica.client();
    await waitFor(
      `${kind} replica synced`,
      async () => {
        const r = String(await c.call("INFO", "replication"));
        return r.includes("master_link_status:up") && Number(await c.call("DBSIZE")) === keys;
      },
      600000,
      20,
    );
    // No collection is asked for: what a replica holds a second after its sync is measured.
    await Bun.sleep(1000);
    const rss = rssOf(replica.proc.pid);
    c.close();
    return rss;
  } finally {
    await replica.stop();
    removeDir(replica.dir);
  }
}

async function memory(): Promise<void> {
  const master = await startRedis(["--repl-diskless-sync", "yes"]);
  try {
    await populate(master, () => ["PING"], 0);
    const base = { redis: await replicaRss("redis", master, 0), replicant: await replicaRss("replicant", master, 0) };
    console.log(`empty replica rss: redis-server ${(base.redis / 1e6).toFixed(1)} MB, replicant ${(base.replicant / 1e6).toFixed(1)} MB`);
    console.log(`\nbytes per key (key + value, resident memory over an empty replica), ${KEYS} keys:`);
    console.log(`${"dataset".padEnd(8)} ${"redis-server".padStart(12)} ${"replicant".padStart(10)}  ratio   whole RSS, MB (redis-server / replicant / ratio)`);
    for (const name of DATASETS) {
      const shape = SHAPES[name];
      if (!shape) throw new Error(`unknown dataset ${name} (known: ${Object.keys(SHAPES).join(", ")})`);
      await populate(master, shape, KEYS);
      const m = await info(master, "memory");
      const keys = ELEMENT_DATASETS[name] ?? KEYS;
      const r = (await replicaRss("redis", master, keys)) - base.redis;
      const p = (await replicaRss("replicant", master, keys)) - base.replicant;
      const encoding = await master.call("OBJECT", "ENCODING", String(shape(0)[1]));
      console.log(
        `${name.padEnd(8)} ${(r / KEYS).toFixed(0).padStart(12)} ${(p / KEYS).toFixed(0).padStart(10)}  ${(p / r).toFixed(2)}x` +
          `   ${((r + base.redis) / 1e6).toFixed(0)} / ${((p + base.replicant) / 1e6).toFixed(0)} / ${((p + base.replicant) / (r + base.redis)).toFixed(2)}x` +
          `   (${ELEMENT_DATASETS[name] ? "per element: " : ""}${String(shape(0).join(" ")).slice(0, 50)}; ${encoding}; master used_memory ${m.used_memory_human})`,
      );
    }
  } finally {
    await master.stop();
    removeDir(master.dir);
  }
}

/** requests/s of one redis-benchmark test against a port. */
async function benchmark(port: number, test: string[]): Promise<number> {
  const proc = Bun.spawn(["redis-benchmark", "-p", String(port), "-n", String(REQUESTS), "-P", "16", "-c", "20", "-q", "--csv", ...test], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  // --csv: a header line, then "test","rps",...
  const lines = out.trim().split("\n").filter((l) => !l.startsWith('"test"'));
  const last = lines[lines.length - 1] ?? "";
  const rps = Number(last.split(",")[1]?.replaceAll('"', ""));
  if (!Number.isFinite(rps)) throw new Error(`redis-benchmark ${test.join(" ")}: unexpected output ${out}`);
  return rps;
}

/** The tests, each run on a fresh FLUSHALL'd server; fields/members drawn from 100 (small aggregates). */
const TESTS: Array<{ name: string; setup?: Cmd[]; args: string[] }> = [
  { name: "HSET", args: ["-r", "100", "hset", "myhash", "f:__rand_int__", "v:__rand_int__"] },
  { name: "HGET", setup: Array.from({ length: 100 }, (_, i) => ["HSET", "myhash", `f:${String(i).padStart(12, "0")}`, `v${i}`]), args: ["-r", "100", "hget", "myhash", "f:__rand_int__"] },
  { name: "SADD", args: ["-r", "100", "sadd", "myset", "m:__rand_int__"] },
  { name: "SADD int", args: ["-r", "100", "sadd", "myintset", "__rand_int__"] },
  { name: "LPUSH", args: ["-t", "lpush"] },
  { name: "LPOP", args: ["-t", "lpop"] },
  { name: "LRANGE_100", args: ["-t", "lrange_100"] },
];

async function throughput(): Promise<void> {
  const redis = await startRedis();
  const replicant = await startReplicant();
  try {
    console.log(`\nredis-benchmark -n ${REQUESTS} -P 16 -c 20 (requests/s):`);
    console.log(`${"test".padEnd(11)} ${"redis-server".padStart(12)} ${"replicant".padStart(10)}  ratio`);
    for (const t of TESTS) {
      const rps: number[] = [];
      for (const s of [redis, replicant]) {
        const c = await RespClient.connect(s.port);
        await c.call("FLUSHALL");
        if (t.setup) await c.pipeline(t.setup);
        // LPOP and LRANGE need a list: redis-benchmark's lpush test fills mylist first.
        if (t.name === "LPOP" || t.name === "LRANGE_100") await benchmark(s.port, ["-t", "lpush"]);
        c.close();
        rps.push(await benchmark(s.port, t.args));
      }
      console.log(`${t.name.padEnd(11)} ${rps[0]!.toFixed(0).padStart(12)} ${rps[1]!.toFixed(0).padStart(10)}  ${(rps[0]! / rps[1]!).toFixed(2)}x slower`);
    }
  } finally {
    await redis.stop();
    await replicant.stop();
    removeDir(redis.dir);
    removeDir(replicant.dir);
  }
}

if (MEMORY) await memory();
if (THROUGHPUT) await throughput();
process.exit(0);
