// MEMORY side by side with redis-server 7.0: the same subcommands, errors, reply shapes and
// field names (STATS, in RESP2 and RESP3), Redis's DOCTOR texts; the figures are our own, so
// they are checked for what they must mean: USAGE against the heap a value really takes,
// STATS adding up and agreeing with INFO memory.

import { beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type RespClient, type RespValue } from "../helpers/resp-client.ts";
import { parseInfo, removeDir, startRedis } from "../helpers/servers.ts";
import { sideBySide } from "../helpers/side-by-side.ts";

const ARGS = ["--enable-debug-command", "yes"];
const pair = sideBySide(ARGS);
const { both, same } = pair;
let r: RespClient;
beforeAll(() => {
  r = pair.clients[1];
});

/** MEMORY STATS as [name, kind] pairs: the names in order, and whether each is an integer or a double (a bulk string in RESP2). */
function statsShape(reply: unknown): unknown[] {
  const flat = reply as unknown[];
  const out: unknown[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const v = flat[i + 1];
    out.push([flat[i], Array.isArray(v) ? statsShape(v) : typeof v]);
  }
  return out;
}

function statsMap(reply: unknown): Record<string, number> {
  const flat = reply as unknown[];
  const out: Record<string, number> = {};
  for (let i = 0; i < flat.length; i += 2) if (!Array.isArray(flat[i + 1])) out[flat[i] as string] = Number(flat[i + 1]);
  return out;
}

const EMPTY_DOCTOR =
  "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";

test("MEMORY HELP, DOCTOR on an empty instance, PURGE and the errors are Redis's", async () => {
  await same("MEMORY", "HELP");
  expect(await same("MEMORY", "DOCTOR")).toBe(EMPTY_DOCTOR);
  await same("MEMORY", "PURGE");
  await same("MEMORY");
  await same("MEMORY", "NOSUCH");
  await same("MEMORY", "USAGE");
  await same("MEMORY", "STATS", "x");
  await same("MEMORY", "DOCTOR", "x");
  await same("MEMORY", "PURGE", "x");
  await same("MEMORY", "MALLOC-STATS", "x");
  await same("MEMORY", "HELP", "x");
});

test("MEMORY MALLOC-STATS: what redis-server says without jemalloc", async () => {
  const reply = await r.call("MEMORY", "MALLOC-STATS");
  expect(reply).toBe("Stats not supported for the current allocator");
  // A redis-server built with libc malloc (MALLOC=libc) answers the same.
  const libc = resolve(import.meta.dir, "../../../shared/masters/redis-7.4.1");
  if (!existsSync(libc)) return console.log("skipped the libc redis-server comparison: ../shared/masters/redis-7.4.1 is not there");
  const other = await startRedis([], { bin: libc });
  try {
    expect(await other.call("MEMORY", "MALLOC-STATS")).toBe(reply);
  } finally {
    await other.stop();
    removeDir(other.dir);
  }
});

test("MEMORY USAGE: nil for a missing key, SAMPLES parsed as Redis does", async () => {
  await same("SET", "k", "v");
  await same("MEMORY", "USAGE", "nosuch");
  await same("MEMORY", "USAGE", "nosuch", "SAMPLES", "3");
  for (const bad of [["SAMPLES"], ["SAMPLES", "-1"], ["SAMPLES", "x"], ["SAMPLES", "99999999999999999999"], ["FOO"], ["SAMPLES", "1", "SAMPLES"]]) {
    await same("MEMORY", "USAGE", "k", ...bad);
    await same("MEMORY", "USAGE", "nosuch", ...bad);
  }
  const [a, b] = await both("MEMORY", "USAGE", "k", "samples", "0");
  expect(typeof a).toBe("number");
  expect(typeof b).toBe("number");
  // A logically expired key is still measured (Redis looks the key up without expiring it).
  await same("DEBUG", "SET-ACTIVE-EXPIRE", "0");
  await same("SET", "gone", "x", "PX", "1");
  await Bun.sleep(20);
  const [ra, rb] = await both("MEMORY", "USAGE", "gone");
  expect([typeof ra, typeof rb]).toEqual(["number", "number"]);
  await same("DEBUG", "SET-ACTIVE-EXPIRE", "1");
  await same("DEL", "k", "gone");
});

test("MEMORY STATS: Redis's fields, in its order and types, db.N maps included (RESP2 and RESP3)", async () => {
  await same("FLUSHALL");
  expect(statsShape(await r.call("MEMORY", "STATS"))).toEqual(statsShape(await pair.clients[0].call("MEMORY", "STATS")));
  await same("SET", "a", "1");
  await same("SET", "b", "2", "EX", "100");
  await same("SELECT", "3");
  await same("SET", "c", "3");
  await same("SELECT", "0");
  const [theirs, mine] = await Promise.all(pair.clients.map((c) => c.call("MEMORY", "STATS")));
  expect(statsShape(mine)).toEqual(statsShape(theirs));
  const names = statsShape(mine).map((p) => (p as unknown[])[0]);
  expect(names.slice(0, 12)).toEqual(["peak.allocated", "total.allocated", "startup.allocated", "replication.backlog", "clients.slaves", "clients.normal", "cluster.links", "aof.buffer", "lua.caches", "functions.caches", "db.0", "db.3"]);
  for (const c of pair.clients) await c.call("HELLO", "3");
  try {
    const [m3a, m3b] = await Promise.all(pair.clients.map((c) => c.call("MEMORY", "STATS")));
    expect(m3b).toBeInstanceOf(Map);
    expect([...(m3b as Map<RespValue, RespValue>).keys()]).toEqual([...(m3a as Map<RespValue, RespValue>).keys()]);
    expect((m3b as Map<RespValue, RespValue>).get("db.0")).toBeInstanceOf(Map);
  } finally {
    for (const c of pair.clients) await c.call("HELLO", "2");
  }
  await same("FLUSHALL");
});

test("MEMORY STATS adds up and agrees with INFO memory", async () => {
  await r.call("FLUSHALL");
  await r.call("DEBUG", "POPULATE", "20000", "key", "50");
  await r.call("EXPIRE", "key:1", "1000");
  await r.call("MEMORY", "PURGE");
  const s = statsMap(await r.call("MEMORY", "STATS"));
  const info = parseInfo(await r.call("INFO", "memory"));
  expect(s["keys.count"]).toBe(20000);
  expect(s["overhead.total"]! + s["dataset.bytes"]!).toBe(s["total.allocated"]!);
  expect(s["peak.allocated"]!).toBeGreaterThanOrEqual(s["total.allocated"]!);
  expect(s["startup.allocated"]).toBe(Number(info.used_memory_startup));
  // The same figures (the heap may move a little between the two calls).
  expect(Math.abs(Number(info.used_memory) - s["total.allocated"]!)).toBeLessThan(s["total.allocated"]! * 0.05);
  expect(Math.abs(Number(info.used_memory_overhead) - s["overhead.total"]!)).toBeLessThan(s["overhead.total"]! * 0.05);
  expect(s["dataset.bytes"]!).toBeGreaterThan(20000 * 50);
  expect(s["keys.bytes-per-key"]!).toBeGreaterThan(50);
  expect(s["clients.normal"]!).toBeGreaterThan(0);
  expect(Math.abs(s["dataset.percentage"]! - Number(info.used_memory_dataset_perc!.replace("%", "")))).toBeLessThan(5);
  await r.call("FLUSHALL");
});

async function usedAfterGc(): Promise<number> {
  await r.call("MEMORY", "PURGE");
  await r.call("MEMORY", "PURGE");
  return Number(parseInfo(await r.call("INFO", "memory")).used_memory);
}

async function fill(keys: number, make: (i: number) => Array<string | number>): Promise<void> {
  // In small batches: a client's input buffer grows with a big pipeline (and is not data).
  for (let i = 0; i < keys; i += 50) {
    const batch: Array<Array<string | number>> = [];
    for (let j = i; j < Math.min(keys, i + 50); j++) batch.push(make(j));
    await r.pipeline(batch);
  }
}

/**
 * Heap growth per key, after full collections, of keys made by `make` (what a key really
 * costs). A first round warms the code paths up (compiled code and caches are not data).
 */
async function measuredPerKey(keys: number, make: (i: number) => Array<string | number>): Promise<number> {
  await fill(keys, make);
  await r.call("FLUSHALL");
  const before = await usedAfterGc();
  await fill(keys, make);
  return ((await usedAfterGc()) - before) / keys;
}

test("MEMORY USAGE follows what a value really costs in our store (within 20%)", async () => {
  const shapes: Array<[string, number, (i: number) => Array<string | number>]> = [
    ["string", 5000, (i) => ["SET", `s:${i}`, "x".repeat(500) + i]],
    ["packed hash", 5000, (i) => ["HSET", `h:${i}`, "a", i, "bb", "x".repeat(30), "ccc", "v"]],
    ["packed list", 5000, (i) => ["RPUSH", `l:${i}`, "a", i, "bb", "x".repeat(20)]],
    ["intset", 5000, (i) => ["SADD", `i:${i}`, ...Array.from({ length: 20 }, (_, j) => 100000 + i * 100 + j)]],
    ["packed zset", 5000, (i) => ["ZADD", `z:${i}`, 1, "a", 2.5, `m${i}`, 3, "ccc"]],
    ["big hash", 40, (i) => ["HSET", `H:${i}`, ...Array.from({ length: 600 }, (_, j) => [`field:${j}`, `value:${i}:${j}`]).flat()]],
    ["big list", 40, (i) => ["RPUSH", `L:${i}`, ...Array.from({ length: 1500 }, (_, j) => `element:${i}:${j}`)]],
    ["big set", 40, (i) => ["SADD", `S:${i}`, ...Array.from({ length: 800 }, (_, j) => `member:${i}:${j}`)]],
    ["big zset", 40, (i) => ["ZADD", `Z:${i}`, ...Array.from({ length: 800 }, (_, j) => [j / 3, `member:${i}:${j}`]).flat()]],
    ["stream", 500, (i) => ["XADD", `X:${i}`, "1-1", ...Array.from({ length: 40 }, (_, j) => [`f${j}`, `v${j}`]).flat()]],
  ];
  for (const [name, keys, make] of shapes) {
    await r.call("FLUSHALL");
    const measured = await measuredPerKey(keys, make);
    const key = String(make(1)[1]);
    const usage = Number(await r.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
    const error = Math.abs(usage - measured) / measured;
    if (error > 0.2) throw new Error(`${name}: MEMORY USAGE ${usage}, measured ${measured.toFixed(0)} per key`);
  }
  // Sampling: the default (5) extrapolates from the first elements, as Redis does.
  await r.call("DEL", "mixed");
  await r.call("RPUSH", "mixed", ...Array.from({ length: 700 }, (_, j) => (j < 640 ? "s" + j : "y".repeat(5000))));
  const sampled = Number(await r.call("MEMORY", "USAGE", "mixed"));
  const all = Number(await r.call("MEMORY", "USAGE", "mixed", "SAMPLES", "0"));
  expect(all).toBeGreaterThan(sampled * 5);
  await r.call("FLUSHALL");
});

test("MEMORY DOCTOR with data: no longer the empty-instance text, one of Redis's reports", async () => {
  await r.call("FLUSHALL");
  await r.call("DEBUG", "POPULATE", "100000", "key", "100");
  await r.call("MEMORY", "PURGE");
  const report = String(await r.call("MEMORY", "DOCTOR"));
  expect(report).not.toBe(EMPTY_DOCTOR);
  expect(report.startsWith("Hi Sam, I can't find any memory issue in your instance.") || report.startsWith("Sam, I detected a few issues in this Redis instance memory implants:\n\n")).toBe(true);
  // Dropping most of it leaves the peak far above: Redis's "Peak memory" report.
  await r.call("FLUSHALL");
  await r.call("DEBUG", "POPULATE", "40000", "key", "100");
  await r.call("MEMORY", "PURGE");
  expect(String(await r.call("MEMORY", "DOCTOR"))).toContain(" * Peak memory: In the past this instance used more than 150% the memory that is currently using.");
  await r.call("FLUSHALL");
});
