// appendonly yes, against redis-server 7.0 (docs/aof.md, "Cost"):
// - write throughput: redis-benchmark SET (-d 64, -r 100000, 50 clients) at -P 1 and -P 16 with
//   appendonly no, appendfsync everysec and always, on a Replicant and a redis-server started
//   side by side; rounds alternate the servers and the best round of each counts (shared machines);
// - load time: an AOF of --load-requests SETs written by each server, then each server restarted
//   on its own AOF: the time its log gives for the incr file.
//
//   bun bench/aof.bench.ts [--requests 100000] [--rounds 3] [--load-requests 1000000]
//
// Replicant runs from REPLICANT_BIN when set, else from the sources (`bun src/main.ts`).
// Run by hand, not in the test suite (timing is not a unit test).

import { removeDir, type ServerProcess, startRedis, startReplicant, tempDir, waitFor } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const REQUESTS = Number(opt("requests", "100000"));
const ROUNDS = Number(opt("rounds", "3"));
const LOAD_REQUESTS = Number(opt("load-requests", "1000000"));

const MODES: Array<[string, string[]]> = [
  ["appendonly no", ["--appendonly", "no"]],
  ["everysec", ["--appendonly", "yes", "--appendfsync", "everysec", "--auto-aof-rewrite-percentage", "0"]],
  ["always", ["--appendonly", "yes", "--appendfsync", "always", "--auto-aof-rewrite-percentage", "0"]],
];

/** redis-benchmark's requests per second for SET. */
function benchmark(port: number, pipeline: number, requests: number): number {
  const p = Bun.spawnSync(["redis-benchmark", "-p", String(port), "-t", "set", "-n", String(requests), "-P", String(pipeline), "-r", "100000", "-d", "64", "-q"], { stdout: "pipe", stderr: "pipe" });
  const line = p.stdout.toString().split(/[\r\n]/).filter((l) => l.startsWith("SET:")).pop() ?? "";
  return Number(line.split(/\s+/)[1] ?? 0);
}

async function both(extra: string[]): Promise<[ServerProcess, ServerProcess]> {
  return [await startRedis(["--save", "", ...extra]), await startReplicant(["--save", "", ...extra])];
}

async function stop(servers: ServerProcess[]): Promise<void> {
  for (const s of servers) {
    await s.stop();
    removeDir(s.dir);
  }
}

console.log(`SET/s, best of ${ROUNDS} rounds of ${REQUESTS} requests (ratio: Replicant / redis-server)`);
for (const [label, extra] of MODES) {
  const servers = await both(extra);
  for (const pipeline of [1, 16]) {
    const best = [0, 0];
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < 2; i++) best[i] = Math.max(best[i]!, benchmark(servers[i]!.port, pipeline, REQUESTS));
    }
    console.log(`${label.padEnd(14)} -P ${String(pipeline).padEnd(2)}  redis-server ${best[0]!.toFixed(0).padStart(8)}  Replicant ${best[1]!.toFixed(0).padStart(8)}  ratio ${(best[1]! / best[0]!).toFixed(2)}`);
  }
  await stop(servers);
}

console.log(`\nloading an AOF of ${LOAD_REQUESTS} SETs (everysec), each server its own`);
for (const start of [startRedis, startReplicant]) {
  const dir = tempDir("aof-bench-");
  const aofArgs = ["--save", "", "--appendonly", "yes", "--auto-aof-rewrite-percentage", "0"];
  let s = await start(aofArgs, { dir });
  benchmark(s.port, 32, LOAD_REQUESTS);
  await s.call("SHUTDOWN", "NOSAVE").catch(() => {});
  await s.stop();
  s = await start(aofArgs, { dir });
  await waitFor("the load", () => /DB loaded from incr file \S+: ([\d.]+) seconds/.test(s.output()), 120_000);
  const seconds = /DB loaded from incr file \S+: ([\d.]+) seconds/.exec(s.output())![1];
  console.log(`${start === startRedis ? "redis-server" : "Replicant   "}  ${seconds} s`);
  await s.stop();
  removeDir(dir);
}
process.exit(0);
