// Steady-state apply benchmark: one redis-server master with two replicas attached at the same
// time — `redis-server --replicaof` and `dist/replicant --replicaof` — while redis-benchmark
// drives a pipelined write load on the master. Every 50 ms the master's offset and each
// replica's acknowledged offset (INFO replication, slaveN:...offset=) are sampled. Prints, for
// both replicas: the worst and the mean lag in bytes, the lag when the load ends, the time to
// catch up after it, and the ratio of Replicant's to redis-server's.
//
//   bun run build && bun bench/apply-lag.bench.ts [--requests 2000000] [--pipeline 16] [--clients 50]
//                                                 [--tests set,incr,lpush,rpush,lpop,hset,sadd,spop,zadd,xadd]
//                                                 [--reads]
//
// A test written "set+lpush+incr" is one load running those back to back (-t set,lpush,incr).
// --reads: while the writes run, each replica also serves a read load (redis-benchmark GET
// -P 16 -c 50 against it, for as long as the writes last): the lag of a replica that works.
//
// Run by hand, not in the test suite (timing is not a unit test). "Keeps up" means Replicant's
// lag stays bounded (same order as redis-server's) and it catches up within moments of the end.

import { resolve } from "node:path";
import { RespClient } from "../test/helpers/resp-client.ts";
import { freePort, info, removeDir, startRedis, tempDir, waitFor, type ServerProcess } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const args = process.argv.slice(2);
const REQUESTS = opt("requests", "2000000");
const PIPELINE = opt("pipeline", "16");
const CLIENTS = opt("clients", "50");
const TESTS = opt("tests", "set,incr,lpush,rpush,lpop,rpop,hset,sadd,spop,zadd");
const READS = args.includes("--reads");
const BIN = resolve(import.meta.dir, "../dist/replicant");

interface Replica {
  kind: "redis" | "replicant";
  port: number;
  dir: string;
  proc: ReturnType<typeof Bun.spawn>;
  lags: number[];
}

async function startReplica(kind: Replica["kind"], masterPort: number): Promise<Replica> {
  const port = freePort();
  const dir = tempDir(`lag-${kind}-`);
  const common = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--replicaof", "127.0.0.1", String(masterPort)];
  const cmd = kind === "redis" ? ["redis-server", ...common, "--appendonly", "no"] : [BIN, ...common];
  const proc = Bun.spawn(cmd, { stdout: "ignore", stderr: "ignore", cwd: dir });
  const c = await waitFor(`${kind} up`, () => RespClient.connect(port), 30000, 10);
  await waitFor(`${kind} synced`, async () => String(await c.call("INFO", "replication")).includes("master_link_status:up"), 60000, 20);
  c.close();
  return { kind, port, dir, proc, lags: [] };
}

/** The master's offset and each replica's acknowledged offset, by replica port. */
async function offsets(master: ServerProcess): Promise<{ master: number; replicas: Map<number, number> }> {
  const i = await info(master, "replication");
  const replicas = new Map<number, number>();
  for (const [k, v] of Object.entries(i)) {
    if (!/^slave\d+$/.test(k)) continue;
    const port = Number(/port=(\d+)/.exec(v)?.[1]);
    const offset = Number(/offset=(\d+)/.exec(v)?.[1]);
    replicas.set(port, offset);
  }
  return { master: Number(i.master_repl_offset), replicas };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const fmt = (bytes: number) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} kB` : `${bytes} B`);

const master = await startRedis(["--repl-backlog-size", "256mb"]);
const replicas: Replica[] = [];
try {
  replicas.push(await startReplica("redis", master.port));
  replicas.push(await startReplica("replicant", master.port));
  console.log(`load: redis-benchmark -t <each of ${TESTS}> -n ${REQUESTS} -P ${PIPELINE} -c ${CLIENTS} -r 100000 on the master, one test at a time${READS ? "; GET -P 16 -c 50 on each replica meanwhile" : ""}`);
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : a > 0 ? "inf" : "1.00");
  const summary: string[] = [];
  for (const test of TESTS.split(",")) {
    for (const r of replicas) r.lags = [];
    // "set+lpush+incr" runs those tests back to back as one load (redis-benchmark -t set,lpush,incr).
    const bench = Bun.spawn(["redis-benchmark", "-p", String(master.port), "-t", test.replaceAll("+", ","), "-n", REQUESTS, "-P", PIPELINE, "-c", CLIENTS, "-r", "100000", "-q"], { stdout: "pipe", stderr: "ignore" });
    // A read load on each replica for as long as the writes last (killed when they end).
    const readers = READS ? replicas.map((r) => Bun.spawn(["redis-benchmark", "-p", String(r.port), "-t", "get", "-n", "100000000", "-P", "16", "-c", "50", "-r", "100000", "-q"], { stdout: "ignore", stderr: "ignore" })) : [];
    let running = true;
    const done = bench.exited.then(() => (running = false));
    const started = performance.now();
    const worstAt = new Map<string, number>();
    while (running) {
      const o = await offsets(master);
      for (const r of replicas) {
        const acked = o.replicas.get(r.port);
        if (acked === undefined) continue;
        const lag = Math.max(0, o.master - acked);
        if (lag > Math.max(0, ...r.lags)) worstAt.set(r.kind, (performance.now() - started) / 1000);
        r.lags.push(lag);
      }
      await Bun.sleep(50);
    }
    await done;
    for (const reader of readers) reader.kill("SIGKILL");
    const rps = (await new Response(bench.stdout).text()).split(/\r|\n/).filter((l) => l.includes("requests per second")).map((l) => /([\d.]+) requests per second/.exec(l)?.[1] ?? "?");
    const end = await offsets(master);
    // Catch-up: time until each replica acknowledged the master's offset at the end of the load.
    // (Replicas acknowledge once a second, so about a second of stream is the floor of "lag".)
    const catchUp = new Map<string, number>();
    const t0 = performance.now();
    while (catchUp.size < replicas.length && performance.now() - t0 < 120000) {
      const o = await offsets(master);
      for (const r of replicas) if (!catchUp.has(r.kind) && (o.replicas.get(r.port) ?? 0) >= end.master) catchUp.set(r.kind, (performance.now() - t0) / 1000);
      await Bun.sleep(20);
    }
    const [rd, rp] = replicas as [Replica, Replica];
    const line = (r: Replica) => `${r.kind} worst ${fmt(Math.max(0, ...r.lags))} (at ${(worstAt.get(r.kind) ?? 0).toFixed(1)} s), mean ${fmt(Math.round(mean(r.lags)))}, caught up ${catchUp.has(r.kind) ? `${catchUp.get(r.kind)!.toFixed(2)} s` : "NOT within 120 s"}`;
    const out = `${test.padEnd(6)} ${String(rps[0]).padStart(10)} req/s | ${line(rd)} | ${line(rp)} | worst-lag ratio ${ratio(Math.max(0, ...rp.lags), Math.max(0, ...rd.lags))}x`;
    console.log(out);
    summary.push(out);
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
