// Full-sync benchmark: one redis-server master holding >= 1M keys of mixed types; replicas of
// it are started in turn — `redis-server --replicaof` and `dist/replicant --replicaof`,
// alternated, several rounds — and timed from process start to "link up with the master's
// offset". Prints both times, the ratio, and the resident memory of both after the sync.
//
//   bun run build && bun bench/full-sync.bench.ts [--keys 1000000] [--rounds 3] [--load disabled|on-empty-db|swapdb]
//
// Run by hand, not in the test suite (timing is not a unit test).

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { RespClient } from "../test/helpers/resp-client.ts";
import { freePort, info, removeDir, startRedis, tempDir, waitFor, type ServerProcess } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const KEYS = Number(opt("keys", "1000000"));
const ROUNDS = Number(opt("rounds", "3"));
const LOAD = opt("load", "disabled");
const BIN = resolve(import.meta.dir, "../dist/replicant");

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

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
  for (let i = 0; i < 200; i++) batch.push(["XADD", `stream:${i % 20}`, "*", "field", `value${i}`]);
  await flush();
  c.close();
}

interface Sample {
  seconds: number;
  rss: number;
}

async function syncOnce(kind: "redis" | "replicant", masterPort: number): Promise<Sample> {
  const port = freePort();
  const dir = tempDir(`bench-${kind}-`);
  const common = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--replicaof", "127.0.0.1", String(masterPort), "--repl-diskless-load", LOAD];
  const cmd = kind === "redis" ? ["redis-server", ...common, "--appendonly", "no"] : [BIN, ...common];
  const t0 = performance.now();
  const proc = Bun.spawn(cmd, { stdout: "ignore", stderr: "ignore", cwd: dir });
  try {
    const c = await waitFor(`${kind} up`, () => RespClient.connect(port), 30000, 5);
    await waitFor(
      `${kind} synced`,
      async () => {
        const r = String(await c.call("INFO", "replication"));
        return r.includes("master_link_status:up");
      },
      600000,
      10,
    );
    const seconds = (performance.now() - t0) / 1000;
    await Bun.sleep(1000);
    const rss = rssOf(proc.pid);
    const dbsize = Number(await c.call("DBSIZE"));
    if (dbsize < KEYS) throw new Error(`${kind}: DBSIZE ${dbsize} < ${KEYS}`);
    c.close();
    return { seconds, rss };
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
    removeDir(dir);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const master = await startRedis(["--enable-debug-command", "yes", "--repl-diskless-sync", "yes"]);
try {
  console.log(`populating the master with ${KEYS} keys...`);
  const t = performance.now();
  await populate(master);
  const m = await info(master);
  console.log(`master: ${m.db0} used_memory_human=${m.used_memory_human} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  const results: Record<string, Sample[]> = { redis: [], replicant: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 === 0 ? (["redis", "replicant"] as const) : (["replicant", "redis"] as const)) {
      const s = await syncOnce(kind, master.port);
      results[kind]!.push(s);
      console.log(`round ${round + 1} ${kind.padEnd(9)} sync ${s.seconds.toFixed(2)} s  rss ${(s.rss / 1e6).toFixed(1)} MB`);
    }
  }
  const rt = median(results.redis!.map((s) => s.seconds));
  const pt = median(results.replicant!.map((s) => s.seconds));
  const rm = median(results.redis!.map((s) => s.rss));
  const pm = median(results.replicant!.map((s) => s.rss));
  console.log(`\nfull sync of ${KEYS} keys (repl-diskless-load ${LOAD}), median of ${ROUNDS}:`);
  console.log(`  redis-server ${rt.toFixed(2)} s   replicant ${pt.toFixed(2)} s   ratio ${(pt / rt).toFixed(2)}x (target <= 0.8)`);
  console.log(`  rss after sync: redis-server ${(rm / 1e6).toFixed(1)} MB   replicant ${(pm / 1e6).toFixed(1)} MB   ratio ${(pm / rm).toFixed(2)}x (target <= 1.0)`);
} finally {
  await master.stop();
  removeDir(master.dir);
}
