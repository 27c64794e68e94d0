// Master-side full-sync benchmark: the time to serve a full sync of >= 1M keys to a fresh
// redis-server replica, with Replicant as the master vs redis-server as the master, holding
// the same dataset (one RDB file, loaded by both), alternated in one run. While each sync is
// served a client PINGs the master (and writes to it with --writes) and the worst latency is
// recorded: building the RDB must not stop the master from serving clients.
//
//   bun bench/master-sync.bench.ts [--keys 1000000] [--rounds 2] [--disk] [--writes]
//
// Replicant runs as REPLICANT_BIN, or from the sources through bun. Run by hand, not in the
// test suite (timing is not a unit test).

import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { RespClient } from "../test/helpers/resp-client.ts";
import { freePort, info, removeDir, replicantCommand, startRedis, tempDir, waitFor, type ServerProcess } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const args = process.argv.slice(2);
const KEYS = Number(opt("keys", "1000000"));
const ROUNDS = Number(opt("rounds", "2"));
const DISK = args.includes("--disk");
const WRITES = args.includes("--writes");
const MASTER_OPTS = ["--repl-diskless-sync", DISK ? "no" : "yes", "--repl-diskless-sync-delay", "0"];

async function populate(master: ServerProcess): Promise<void> {
  const c = await master.client();
  // 80% plain strings via DEBUG POPULATE (fast), the rest aggregates written pipelined.
  const strings = Math.floor(KEYS * 0.8);
  await c.call("DEBUG", "POPULATE", strings, "key", 32);
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
  await flush();
  c.close();
}

/** Starts Replicant on an RDB file and waits until it has loaded it. */
async function startReplicantOn(rdb: string): Promise<{ port: number; dir: string; proc: ReturnType<typeof Bun.spawn> }> {
  const port = freePort();
  const dir = tempDir("bench-master-");
  copyFileSync(rdb, join(dir, "dump.rdb"));
  const proc = Bun.spawn([...replicantCommand(), "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", ...MASTER_OPTS], {
    cwd: dir,
    stdout: process.env.BENCH_LOG ? Bun.file(`${process.env.BENCH_LOG}.out`) : "ignore",
    stderr: process.env.BENCH_LOG ? Bun.file(`${process.env.BENCH_LOG}.err`) : "ignore",
  });
  await waitFor(
    "replicant to load the dataset",
    async () => {
      const c = await RespClient.connect(port);
      try {
        return Number(await c.call("DBSIZE")) >= KEYS;
      } finally {
        c.close();
      }
    },
    300000,
    200,
  );
  return { port, dir, proc };
}

interface Sample {
  seconds: number;
  worstMs: number;
  probes: number;
}

/** A fresh redis-server replica of the master on `port`, timed until in sync; PINGs meanwhile. */
async function serveOnce(port: number): Promise<Sample> {
  const probe = await RespClient.connect(port);
  let stop = false;
  let worst = 0;
  let probes = 0;
  const prober = (async () => {
    let i = 0;
    while (!stop) {
      const t = performance.now();
      if (WRITES && i % 2 === 1) await probe.call("SET", `probe:${i % 1000}`, i);
      else await probe.call("PING");
      worst = Math.max(worst, performance.now() - t);
      probes++;
      i++;
      await Bun.sleep(5);
    }
  })();
  const replicaPort = freePort();
  const dir = tempDir("bench-replica-");
  const t0 = performance.now();
  const proc = Bun.spawn(
    ["redis-server", "--port", String(replicaPort), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", String(port)],
    { cwd: dir, stdout: "ignore", stderr: "ignore" },
  );
  try {
    const rc = await waitFor("replica up", () => RespClient.connect(replicaPort), 30000, 5);
    await waitFor(
      "replica in sync",
      async () => {
        const r = String(await rc.call("INFO", "replication"));
        return r.includes("master_link_status:up");
      },
      600000,
      10,
    );
    const seconds = (performance.now() - t0) / 1000;
    const size = Number(await rc.call("DBSIZE"));
    if (size < KEYS) throw new Error(`replica DBSIZE ${size} < ${KEYS}`);
    rc.close();
    return { seconds, worstMs: worst, probes };
  } finally {
    stop = true;
    await prober;
    probe.close();
    proc.kill("SIGKILL");
    await proc.exited;
    removeDir(dir);
  }
}

/** Worst latency of the same probes with no sync going on (what the machine itself adds). */
async function idleWorst(port: number, ms: number): Promise<number> {
  const c = await RespClient.connect(port);
  let worst = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    await c.call("PING");
    worst = Math.max(worst, performance.now() - t);
    await Bun.sleep(5);
  }
  c.close();
  return worst;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const redisMaster = await startRedis(["--enable-debug-command", "yes", ...MASTER_OPTS]);
let replicant: Awaited<ReturnType<typeof startReplicantOn>> | null = null;
try {
  console.log(`populating redis-server with ${KEYS} keys...`);
  await populate(redisMaster);
  await redisMaster.call("SAVE");
  const m = await info(redisMaster);
  console.log(`dataset: ${m.db0} used_memory_human=${m.used_memory_human}`);
  replicant = await startReplicantOn(join(redisMaster.dir, "dump.rdb"));
  console.log(`replicant loaded the same RDB (port ${replicant.port})`);
  const idleRedis = await idleWorst(redisMaster.port, 3000);
  const idleReplicant = await idleWorst(replicant.port, 3000);
  console.log(`idle worst PING latency (3 s, no sync): redis-server ${idleRedis.toFixed(1)} ms   replicant ${idleReplicant.toFixed(1)} ms`);
  const results: Record<string, Sample[]> = { redis: [], replicant: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 === 0 ? (["replicant", "redis"] as const) : (["redis", "replicant"] as const)) {
      const s = await serveOnce(kind === "redis" ? redisMaster.port : replicant.port);
      results[kind]!.push(s);
      console.log(`round ${round + 1} master=${kind.padEnd(9)} full sync ${s.seconds.toFixed(2)} s   worst client latency ${s.worstMs.toFixed(1)} ms (${s.probes} probes)`);
    }
  }
  const rt = median(results.redis!.map((s) => s.seconds));
  const pt = median(results.replicant!.map((s) => s.seconds));
  const rl = Math.max(...results.redis!.map((s) => s.worstMs));
  const pl = Math.max(...results.replicant!.map((s) => s.worstMs));
  console.log(`\nserving a full sync of ${KEYS} keys (${DISK ? "disk-based" : "diskless"}${WRITES ? ", PING+SET probes" : ", PING probes"}), median of ${ROUNDS}:`);
  console.log(`  redis-server master ${rt.toFixed(2)} s   replicant master ${pt.toFixed(2)} s   ratio ${(pt / rt).toFixed(2)}x`);
  console.log(`  worst client latency during the sync: redis-server ${rl.toFixed(1)} ms   replicant ${pl.toFixed(1)} ms`);
} finally {
  if (replicant) {
    replicant.proc.kill("SIGKILL");
    await replicant.proc.exited;
    removeDir(replicant.dir);
  }
  await redisMaster.stop();
  removeDir(redisMaster.dir);
}
