// The redis-cli modes operators run against a server, against redis-server and Replicant
// holding the same keys: --bigkeys (the same summary), --memkeys (the same keys and counts; the
// sizes are each server's own), --stat and --latency-history (the same columns, running),
// --scan, --rdb (an RDB file redis-server can check).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { removeDir, type ServerProcess, startRedis, startReplicant, tempDir } from "../helpers/servers.ts";

let servers: [ServerProcess, ServerProcess];

beforeAll(async () => {
  servers = await Promise.all([startRedis([]), startReplicant(["--repl-diskless-sync-delay", "0"])]);
  for (const s of servers) {
    const c = await s.client();
    // Distinct sizes, so that "biggest" has one answer whatever the scan order.
    const batch: Array<Array<string | number>> = [];
    for (let i = 0; i < 300; i++) batch.push(["SET", `key:${i}`, "x".repeat(10 + i)]);
    for (let i = 1; i <= 3; i++) {
      batch.push(["RPUSH", `list${i}`, ...Array.from({ length: i * 50 }, (_, j) => String(j))]);
      batch.push(["HSET", `hash${i}`, ...Array.from({ length: i * 40 }, (_, j) => String(j))]);
      batch.push(["SADD", `set${i}`, ...Array.from({ length: i * 30 }, (_, j) => String(j))]);
      batch.push(["ZADD", `zset${i}`, ...Array.from({ length: i * 20 }, (_, j) => String(j))]);
      for (let j = 0; j < i; j++) batch.push(["XADD", `stream${i}`, "*", "f", "v"]);
    }
    await c.pipeline(batch);
  }
});

afterAll(async () => {
  for (const s of servers ?? []) {
    await s.stop();
    removeDir(s.dir);
  }
});

async function cli(args: string[], ms?: number): Promise<string> {
  const line = Bun.which("stdbuf") ? ["stdbuf", "-oL", "redis-cli", ...args] : ["redis-cli", ...args];
  const p = Bun.spawn(line, { stdout: "pipe", stderr: "pipe" });
  if (ms !== undefined) setTimeout(() => p.kill(), ms);
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  return out + err;
}

/** The same redis-cli run against both servers at once: [redis-server's output, Replicant's]. */
function cliOnBoth(args: string[], ms?: number): Promise<[string, string]> {
  return Promise.all([cli(["-p", String(servers[0].port), ...args], ms), cli(["-p", String(servers[1].port), ...args], ms)]);
}

const summary = (out: string) => out.slice(out.indexOf("-------- summary -------"));

test("redis-cli --bigkeys: the same summary", async () => {
  const [a, b] = await cliOnBoth(["--bigkeys"]);
  expect(summary(b)).toBe(summary(a));
  expect(summary(b)).toContain("Biggest string found '\"key:299\"' has 309 bytes");
});

test("redis-cli --memkeys: the same keys found, counted the same (sizes are each server's)", async () => {
  const [a, b] = await cliOnBoth(["--memkeys"]);
  // Which key is biggest depends on each one's memory model (allocator size classes there, JS
  // objects here): the "Biggest" lines are not compared, the counts are.
  const shape = (out: string) =>
    summary(out)
      .split("\n")
      .filter((l) => !l.startsWith("Biggest"))
      .join("\n")
      .replace(/\d+ bytes/g, "N bytes")
      .replace(/avg size [\d.]+/g, "avg size N");
  expect(shape(b)).toBe(shape(a));
  const [a0, b0] = await cliOnBoth(["--memkeys-samples", "0"]);
  expect(shape(b0)).toBe(shape(a0));
});

test("redis-cli --stat and --latency-history run with the same columns", async () => {
  const [a, b] = await cliOnBoth(["--stat", "-i", "0.2"], 900);
  const head = (out: string) => out.split("\n").slice(0, 2);
  expect(head(b)).toEqual(head(a));
  const row = /^(\d+)\s+[\d.]+[KMG]?\s+\d+\s+\d+\s+\d+ \(\+\d+\)\s+\d+/;
  expect(b.split("\n")[2]).toMatch(row);
  expect(b.split("\n")[2]!.split(/\s+/)[0]).toBe(a.split("\n")[2]!.split(/\s+/)[0]);
  const [la, lb] = await cliOnBoth(["--latency-history", "-i", "1"], 2300);
  for (const out of [la, lb]) expect(out.split("\n")[0]).toMatch(/^\d+ \d+ [\d.]+ \d+$/);
});

test("redis-cli --scan and --rdb", async () => {
  const [a, b] = await cliOnBoth(["--scan", "--pattern", "*list*"]);
  expect(b.split("\n").sort()).toEqual(a.split("\n").sort());
  const dir = tempDir();
  try {
    const file = join(dir, "dump.rdb");
    const out = await cli(["-p", String(servers[1].port), "--rdb", file]);
    expect(out).toContain("Transfer finished with success");
    expect(existsSync(file) && statSync(file).size).toBeGreaterThan(100);
    const check = Bun.spawnSync(["redis-check-rdb", file]);
    expect(check.stdout.toString()).toContain("RDB looks OK!");
  } finally {
    removeDir(dir);
  }
});
