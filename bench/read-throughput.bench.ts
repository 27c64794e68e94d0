// Read throughput benchmark: one redis-server master filled by redis-benchmark writes (strings,
// a big list, hash, set and sorted set), two replicas of it — `redis-server --replicaof` and
// `dist/replicant --replicaof` — and redis-benchmark running read commands against each replica
// in turn (alternated, best of the rounds), without and with pipelining. Prints requests per
// second for both, the ratio, and the geometric mean of the ratios over issue 11's commands
// (GET, EXISTS, MGET, HGET, HGETALL, SISMEMBER, ZSCORE, LRANGE, TTL; target >= 1.0x).
//
//   bun run build && bun bench/read-throughput.bench.ts [--requests 200000] [--rounds 2] [--clients 50]
//     [--pipelines 1,16] [--only GET,HGETALL]
//
// Run by hand, not in the test suite (timing is not a unit test).

import { resolve } from "node:path";
import { RespClient } from "../test/helpers/resp-client.ts";
import { freePort, removeDir, startRedis, tempDir, waitFor, type ServerProcess } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const REQUESTS = opt("requests", "200000");
const ROUNDS = Number(opt("rounds", "2"));
const CLIENTS = opt("clients", "50");
const PIPELINES = opt("pipelines", "1,16").split(",").map(Number);
const ONLY = opt("only", "").split(",").filter(Boolean);
const BIN = resolve(import.meta.dir, "../dist/replicant");

/** Read commands, as redis-benchmark arguments (__rand_int__ is replaced per request). */
const ALL_READS: Array<[string, string[]]> = [
  ["GET", ["GET", "key:__rand_int__"]],
  ["MGET 10", ["MGET", ...Array.from({ length: 10 }, () => "key:__rand_int__")]],
  ["EXISTS", ["EXISTS", "key:__rand_int__"]],
  ["LRANGE 0 99", ["LRANGE", "mylist", "0", "99"]],
  ["LINDEX", ["LINDEX", "mylist", "5000"]],
  ["HGET", ["HGET", "myhash", "element:__rand_int__"]],
  ["SISMEMBER", ["SISMEMBER", "myset", "element:__rand_int__"]],
  ["ZSCORE", ["ZSCORE", "myzset", "element:__rand_int__"]],
  ["ZRANGE 0 99", ["ZRANGE", "myzset", "0", "99", "WITHSCORES"]],
  ["ZRANK", ["ZRANK", "myzset", "element:__rand_int__"]],
  ["HGETALL", ["HGETALL", "small:__rand_int__"]],
  ["TTL", ["TTL", "key:__rand_int__"]],
];
const READS = ONLY.length ? ALL_READS.filter(([label]) => ONLY.includes(label.split(" ")[0]!)) : ALL_READS;
/** The commands issue 11's target is a geometric mean over. */
const TARGET = new Set(["GET", "EXISTS", "MGET 10", "HGET", "HGETALL", "SISMEMBER", "ZSCORE", "LRANGE 0 99", "TTL"]);

async function fill(master: ServerProcess): Promise<void> {
  for (const t of ["set", "lpush", "hset", "sadd", "zadd"]) {
    const p = Bun.spawn(["redis-benchmark", "-p", String(master.port), "-t", t, "-n", "200000", "-r", "100000", "-P", "32", "-q"], { stdout: "ignore", stderr: "ignore" });
    await p.exited;
  }
  // Small hashes (4 fields, listpack in both servers) for HGETALL; a TTL on a tenth of the keys.
  for (const cmd of [["HSET", "small:__rand_int__", "f1", "v1", "field2", "value2", "f3", "33333", "field4", "a-longer-value-4"], ["EXPIRE", "key:__rand_int__", "100000"]]) {
    const n = cmd[0] === "EXPIRE" ? "10000" : "200000";
    const p = Bun.spawn(["redis-benchmark", "-p", String(master.port), "-n", n, "-r", "100000", "-P", "32", "-q", ...cmd], { stdout: "ignore", stderr: "ignore" });
    await p.exited;
  }
}

async function startReplica(kind: "redis" | "replicant", master: ServerProcess) {
  const port = freePort();
  const dir = tempDir(`read-${kind}-`);
  const common = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--replicaof", "127.0.0.1", String(master.port)];
  const cmd = kind === "redis" ? ["redis-server", ...common, "--appendonly", "no"] : [BIN, ...common];
  const proc = Bun.spawn(cmd, { stdout: "ignore", stderr: "ignore", cwd: dir });
  const c = await waitFor(`${kind} up`, () => RespClient.connect(port), 30000, 10);
  const want = Number(await master.call("DBSIZE"));
  await waitFor(
    `${kind} synced`,
    async () => String(await c.call("INFO", "replication")).includes("master_link_status:up") && Number(await c.call("DBSIZE")) === want,
    120000,
    20,
  );
  c.close();
  return { kind, port, dir, proc } as const;
}

async function rps(port: number, command: string[], pipeline: number): Promise<number> {
  const p = Bun.spawn(["redis-benchmark", "-p", String(port), "-n", REQUESTS, "-c", CLIENTS, "-P", String(pipeline), "-r", "100000", "-q", ...command], { stdout: "pipe", stderr: "ignore" });
  const text = await new Response(p.stdout).text();
  await p.exited;
  const m = /([\d.]+) requests per second/.exec(text.split(/\r|\n/).filter((l) => l.includes("requests per second")).at(-1) ?? "");
  return m ? Number(m[1]) : 0;
}

const master = await startRedis();
const replicas: Array<Awaited<ReturnType<typeof startReplica>>> = [];
try {
  console.log("filling the master (redis-benchmark set/lpush/hset/sadd/zadd, 200k requests each, -r 100000)...");
  await fill(master);
  replicas.push(await startReplica("redis", master));
  replicas.push(await startReplica("replicant", master));
  for (const pipeline of PIPELINES) {
    console.log(`\nread throughput, -c ${CLIENTS} -P ${pipeline}, best of ${ROUNDS} (requests/s):`);
    const ratios: number[] = [];
    for (const [label, command] of READS) {
      const best = { redis: 0, replicant: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? replicas : [...replicas].reverse();
        for (const r of order) best[r.kind] = Math.max(best[r.kind], await rps(r.port, command, pipeline));
      }
      const ratio = best.redis > 0 ? best.replicant / best.redis : 0;
      if (TARGET.has(label)) ratios.push(ratio);
      console.log(`  ${label.padEnd(12)} redis-server ${best.redis.toFixed(0).padStart(9)}   replicant ${best.replicant.toFixed(0).padStart(9)}   ratio ${ratio.toFixed(2)}x${ratio < 1 ? "  (below 1.0)" : ""}`);
    }
    if (ratios.length) console.log(`  geometric mean over ${ratios.length} of issue 11's commands: ${Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length).toFixed(2)}x`);
  }
} finally {
  for (const r of replicas) {
    r.proc.kill("SIGKILL");
    await r.proc.exited;
    removeDir(r.dir);
  }
  await master.stop();
  removeDir(master.dir);
}
