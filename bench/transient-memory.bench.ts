// Transient memory benchmark: does memory used for a moment go back to the OS? Side by side
// with redis-server 7.0.15 in the same run, each server standalone with the same small dataset
// (its "steady" RSS), then, one after the other:
//
// - big value: a 256 MB string is SET, read back once with GET, and deleted;
// - unread replies: a client asks for ~512 MB of replies (GET of a 1 MB value, 512 times) and
//   never reads them, the server queues them, then the client goes away.
//
// For each: the peak RSS (sampled every 50 ms) and the RSS 10 s after the end, against the
// steady RSS (issue 11's target: back within 1.2x of it 10 s after the peak).
//
//   bun run build && bun bench/transient-memory.bench.ts [--big-mb 256] [--replies-mb 512]
//
// Run by hand, not in the test suite (timing and RSS are not unit tests).

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { RespClient } from "../test/helpers/resp-client.ts";
import { freePort, removeDir, startRedis, tempDir, waitFor, type ServerProcess } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const BIG_MB = Number(opt("big-mb", "256"));
const REPLIES_MB = Number(opt("replies-mb", "512"));
const BIN = resolve(import.meta.dir, "../dist/replicant");
const SETTLE_MS = 10_000;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

/** Samples the RSS of `pid` every 50 ms until stopped; returns the highest seen. */
function peakSampler(pid: number): { stop(): number } {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch {}
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssOf(pid));
    },
  };
}

async function startReplicantServer(): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const port = freePort();
  const dir = tempDir("transient-replicant-");
  const proc = Bun.spawn([BIN, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir], { stdout: "ignore", stderr: "ignore", cwd: dir });
  const c = await waitFor("replicant up", () => RespClient.connect(port), 30000, 10);
  c.close();
  return {
    port,
    pid: proc.pid,
    async stop() {
      proc.kill();
      await proc.exited;
      removeDir(dir);
    },
  };
}

async function fill(port: number): Promise<void> {
  const c = await RespClient.connect(port);
  const batch: string[][] = [];
  for (let i = 0; i < 100_000; i++) batch.push(["SET", `key:${i}`, `value:${i}`.padEnd(32, "x")]);
  for (let i = 0; i < batch.length; i += 5000) await c.pipeline(batch.slice(i, i + 5000));
  c.close();
}

interface Row {
  steady: number;
  bigPeak: number;
  bigAfter: number;
  repliesPeak: number;
  repliesAfter: number;
}

async function measure(port: number, pid: number): Promise<Row> {
  await fill(port);
  await Bun.sleep(2000);
  const steady = rssOf(pid);

  // Big value: SET, GET, DEL.
  const c = await RespClient.connect(port);
  let sampler = peakSampler(pid);
  await c.call("SET", "big", Buffer.alloc(BIG_MB * 1048576, 97).toString("latin1"));
  const got = await c.call("GET", "big");
  if (typeof got !== "string" && !(got instanceof Uint8Array)) throw new Error("GET big failed");
  await c.call("DEL", "big");
  const bigPeak = sampler.stop();
  await Bun.sleep(SETTLE_MS);
  const bigAfter = rssOf(pid);

  // Unread replies: 1 MB value, GET it many times on a socket that never reads.
  await c.call("SET", "blob", Buffer.alloc(1048576, 98).toString("latin1"));
  sampler = peakSampler(pid);
  const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
  sock.pause?.();
  const request = Buffer.from("*2\r\n$3\r\nGET\r\n$4\r\nblob\r\n".repeat(REPLIES_MB));
  sock.write(request);
  // Until the server holds most of them queued (omem in CLIENT LIST), or 20 s.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const list = String(await c.call("CLIENT", "LIST"));
    const omem = Math.max(...[...list.matchAll(/omem=(\d+)/g)].map((m) => Number(m[1])));
    if (omem >= REPLIES_MB * 1048576 * 0.8) break;
    await Bun.sleep(100);
  }
  sock.terminate();
  await Bun.sleep(500);
  const repliesPeak = sampler.stop();
  await Bun.sleep(SETTLE_MS);
  const repliesAfter = rssOf(pid);
  c.close();
  return { steady, bigPeak, bigAfter, repliesPeak, repliesAfter };
}

function print(kind: string, r: Row): void {
  console.log(
    `  ${kind.padEnd(9)} steady ${mb(r.steady).padStart(7)} | big value peak ${mb(r.bigPeak).padStart(8)}, after 10 s ${mb(r.bigAfter).padStart(7)} (${(r.bigAfter / r.steady).toFixed(2)}x steady) | unread replies peak ${mb(r.repliesPeak).padStart(8)}, after 10 s ${mb(r.repliesAfter).padStart(7)} (${(r.repliesAfter / r.steady).toFixed(2)}x steady)`,
  );
}

console.log(`transient memory: a ${BIG_MB} MB value set, read and deleted; ${REPLIES_MB} MB of replies queued for a client that never reads, then closed`);
let redis: ServerProcess | null = null;
try {
  redis = await startRedis([]);
  print("redis", await measure(redis.port, redis.proc.pid));
} finally {
  await redis?.stop();
}
const ours = await startReplicantServer();
try {
  print("replicant", await measure(ours.port, ours.pid));
} finally {
  await ours.stop();
}
