// Sorted sets, memory and speed against redis-server 7.0.
//
// Memory: a redis-server fills each dataset and SAVEs it; a redis-server and a Replicant are then
// started on that RDB file in turn, and what each holds over the same server started empty is
// divided by the keys (small sets) or the members (large sets). Reported: used_memory (Redis's
// allocator count; for Replicant heap + external after a full GC) and the resident memory.
//   string: --keys short strings (`SET s:i vi`), the cost of a key alone for reference
//   small:  --keys sets like `ZADD z:i 1 a 2.5 b i mi` (listpack encoding)
//   medium: sets of 100 members (listpack, at the default 128-entry limit)
//   large:  --large-sets sets of --large-members members (skiplist encoding)
// Speed: redis-benchmark -P 16 ZADD (one set, members element:__rand_int__ of -r 100000, score
// 0), then ZRANK and ZRANGE 0 99 on the set it built, on a redis-server and on a Replicant.
//
//   bun bench/zset-memory.bench.ts [--keys 100000] [--large-sets 4] [--large-members 100000]
//        [--requests 200000] [--rounds 3] [--no-memory] [--no-throughput] [--datasets string,small,medium,large]
//        [--micro]  (also an in-process micro-benchmark of ZSetValue: add, rank, delete)
//
// Replicant runs from REPLICANT_BIN when set, else from the sources (`bun src/main.ts`).
// Run by hand, not in the test suite (timing is not a unit test).

import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RespClient } from "../test/helpers/resp-client.ts";
import { ZSetValue } from "../src/store/zset.ts";
import { info, removeDir, type ServerProcess, startRedis, startReplicant, tempDir, waitFor } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const args = process.argv.slice(2);
const KEYS = Number(opt("keys", "100000"));
const LARGE_SETS = Number(opt("large-sets", "4"));
const LARGE_MEMBERS = Number(opt("large-members", "100000"));
const REQUESTS = Number(opt("requests", "200000"));
/** Throughput rounds, alternating the servers; the best round of each counts (shared machines). */
const ROUNDS = Number(opt("rounds", "3"));
const DATASETS = opt("datasets", "string,small,medium,large").split(",");
const MEMORY = !args.includes("--no-memory");
const THROUGHPUT = !args.includes("--no-throughput");

type Cmd = Array<string | number>;

interface Dataset {
  /** What the per-unit figure divides by. */
  unit: "key" | "member";
  units: number;
  keys: number;
  commands(): Generator<Cmd>;
  sample: string;
}

const DATASET: Record<string, () => Dataset> = {
  /** The reference: what a key costs with a short string value. */
  string: () => ({
    unit: "key",
    units: KEYS,
    keys: KEYS,
    sample: "s:0",
    *commands() {
      for (let i = 0; i < KEYS; i++) yield ["SET", `s:${i}`, `v${i}`];
    },
  }),
  small: () => ({
    unit: "key",
    units: KEYS,
    keys: KEYS,
    sample: "z:0",
    *commands() {
      for (let i = 0; i < KEYS; i++) yield ["ZADD", `z:${i}`, 1, "a", 2.5, "b", i, `m${i}`];
    },
  }),
  medium: () => {
    const sets = Math.max(1, Math.floor(KEYS / 20));
    return {
      unit: "member",
      units: sets * 100,
      keys: sets,
      sample: "zm:0",
      *commands() {
        for (let i = 0; i < sets; i++) {
          const cmd: Cmd = ["ZADD", `zm:${i}`];
          for (let j = 0; j < 100; j++) cmd.push(j * 3 + (i % 7), `member:${j}`);
          yield cmd;
        }
      },
    };
  },
  large: () => ({
    unit: "member",
    units: LARGE_SETS * LARGE_MEMBERS,
    keys: LARGE_SETS,
    sample: "zl:0",
    *commands() {
      for (let k = 0; k < LARGE_SETS; k++) {
        for (let i = 0; i < LARGE_MEMBERS; i += 1000) {
          const cmd: Cmd = ["ZADD", `zl:${k}`];
          // Scores of both kinds: integers and fractions.
          for (let j = i; j < Math.min(LARGE_MEMBERS, i + 1000); j++) cmd.push(j % 3 === 0 ? j : (j * 7919) % 100003 / 7, `element:${String(j).padStart(12, "0")}`);
          yield cmd;
        }
      }
    },
  }),
};

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

interface Footprint {
  used: number;
  rss: number;
}

/** A server started on `rdb` (or empty): used_memory and RSS once it holds `keys` keys. */
async function footprint(kind: "redis" | "replicant", rdb: string | null, keys: number): Promise<Footprint> {
  const dir = tempDir(`bench-zset-${kind}-`);
  if (rdb) copyFileSync(rdb, join(dir, "dump.rdb"));
  const server = kind === "redis" ? await startRedis(["--dbfilename", "dump.rdb"], { dir }) : await startReplicant(["--dbfilename", "dump.rdb"], { dir });
  try {
    const c = await server.client();
    await waitFor(`${kind} loaded`, async () => Number(await c.call("DBSIZE")) === keys, 600000, 50);
    if (kind === "replicant") {
      await c.call("DEBUG", "GC");
      await Bun.sleep(300);
      await c.call("DEBUG", "GC");
    }
    await Bun.sleep(300);
    const m = await info(server, "memory");
    const rss = rssOf(server.proc.pid);
    c.close();
    return { used: Number(m.used_memory), rss };
  } finally {
    await server.stop();
    removeDir(dir);
  }
}

async function makeDump(master: ServerProcess, d: Dataset): Promise<string> {
  const c = await master.client();
  await c.call("FLUSHALL");
  let batch: Cmd[] = [];
  for (const cmd of d.commands()) {
    batch.push(cmd);
    if (batch.length >= 1000) {
      await c.pipeline(batch);
      batch = [];
    }
  }
  if (batch.length) await c.pipeline(batch);
  const encoding = String(await c.call("OBJECT", "ENCODING", d.sample));
  await c.call("SAVE");
  c.close();
  console.log(`  (${d.keys} keys, ${encoding})`);
  return join(master.dir, "dump.rdb");
}

async function memory(): Promise<void> {
  const master = await startRedis(["--dbfilename", "dump.rdb"]);
  try {
    const base = { redis: await footprint("redis", null, 0), replicant: await footprint("replicant", null, 0) };
    const per = (a: number, b: number, n: number) => ((a - b) / n).toFixed(0);
    for (const name of DATASETS) {
      const make = DATASET[name];
      if (!make) throw new Error(`unknown dataset ${name} (known: ${Object.keys(DATASET).join(", ")})`);
      const d = make();
      console.log(`\n${name}: bytes per ${d.unit} over an empty server, loaded from an RDB file`);
      const file = await makeDump(master, d);
      const r = await footprint("redis", file, d.keys);
      const p = await footprint("replicant", file, d.keys);
      console.log(`  ${"".padEnd(12)} ${"used_memory".padStart(12)} ${"rss".padStart(8)}`);
      console.log(`  ${"redis-server".padEnd(12)} ${per(r.used, base.redis.used, d.units).padStart(12)} ${per(r.rss, base.redis.rss, d.units).padStart(8)}`);
      console.log(`  ${"replicant".padEnd(12)} ${per(p.used, base.replicant.used, d.units).padStart(12)} ${per(p.rss, base.replicant.rss, d.units).padStart(8)}`);
      console.log(`  ratio        ${((p.used - base.replicant.used) / (r.used - base.redis.used)).toFixed(2).padStart(11)}x ${((p.rss - base.replicant.rss) / (r.rss - base.redis.rss)).toFixed(2).padStart(7)}x`);
    }
  } finally {
    await master.stop();
    removeDir(master.dir);
  }
}

/** requests/s of one redis-benchmark run against a port. */
async function benchmark(port: number, test: string[]): Promise<number> {
  const proc = Bun.spawn(["redis-benchmark", "-p", String(port), "-n", String(REQUESTS), "-P", "16", "-q", "--csv", ...test], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const lines = out.trim().split("\n").filter((l) => !l.startsWith('"test"'));
  const rps = Number((lines[lines.length - 1] ?? "").split(",")[1]?.replaceAll('"', ""));
  if (!Number.isFinite(rps)) throw new Error(`redis-benchmark ${test.join(" ")}: unexpected output ${out}`);
  return rps;
}

const TESTS: Array<{ name: string; args: string[]; fresh?: string }> = [
  { name: "ZADD", args: ["-r", "100000", "-t", "zadd"], fresh: "myzset" },
  { name: "ZRANK", args: ["-r", "100000", "zrank", "myzset", "element:__rand_int__"] },
  { name: "ZRANGE 0 99", args: ["zrange", "myzset", "0", "99"] },
  { name: "ZSCORE", args: ["-r", "100000", "zscore", "myzset", "element:__rand_int__"] },
  // A listpack-encoded set: at most 100 members.
  { name: "ZADD small", args: ["-r", "100", "zadd", "smallzset", "__rand_int__", "m:__rand_int__"], fresh: "smallzset" },
  { name: "ZRANK small", args: ["-r", "100", "zrank", "smallzset", "m:__rand_int__"] },
  { name: "ZRANGE small", args: ["zrange", "smallzset", "0", "-1", "withscores"] },
];

async function throughput(): Promise<void> {
  const redis = await startRedis();
  const replicant = await startReplicant();
  try {
    console.log(`\nredis-benchmark -n ${REQUESTS} -P 16 (requests/s, best of ${ROUNDS} rounds; one set of up to 100000 members):`);
    console.log(`${"test".padEnd(12)} ${"redis-server".padStart(12)} ${"replicant".padStart(10)}  ratio`);
    const del = async (s: ServerProcess, key: string) => {
      const c = await RespClient.connect(s.port);
      await c.call("DEL", key);
      c.close();
    };
    for (const t of TESTS) {
      const best = [0, 0];
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, s] of [redis, replicant].entries()) {
          // ZADD measures a set being built: each round starts from an empty one (the last
          // round's set stays for the read tests).
          if (t.fresh) await del(s, t.fresh);
          best[i] = Math.max(best[i]!, await benchmark(s.port, t.args));
        }
      }
      console.log(`${t.name.padEnd(12)} ${best[0]!.toFixed(0).padStart(12)} ${best[1]!.toFixed(0).padStart(10)}  ${(best[0]! / best[1]!).toFixed(2)}x slower`);
    }
    for (const key of ["myzset", "smallzset"]) {
      const size = await replicant.call("ZCARD", key);
      console.log(`(${key}: ${size} members, ${await replicant.call("OBJECT", "ENCODING", key)})`);
    }
  } finally {
    await redis.stop();
    await replicant.stop();
    removeDir(redis.dir);
    removeDir(replicant.dir);
  }
}

/** In-process: ZSetValue.add on one growing set (no server, no parsing), best of 5 rounds. */
function micro(): void {
  const n = 100000;
  let seed = 12345;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const members: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    members.push(Buffer.from(`element:${String(i).padStart(12, "0")}`).latin1Slice());
    scores.push(Math.floor(rand() * n));
  }
  // Shuffled insertion order.
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [members[i], members[j]] = [members[j]!, members[i]!];
  }
  const time = (what: string, fn: (z: ZSetValue) => void, setup?: (z: ZSetValue) => void) => {
    let best = Infinity;
    for (let round = 0; round < 5; round++) {
      const z = new ZSetValue();
      z.encoding = "skiplist";
      setup?.(z);
      const t0 = performance.now();
      fn(z);
      best = Math.min(best, performance.now() - t0);
    }
    console.log(`${what.padEnd(44)} ${((best * 1000) / n).toFixed(2).padStart(6)} us per call`);
  };
  console.log(`\nZSetValue micro-benchmark, one skiplist-encoded set of ${n} members (best of 5):`);
  time("add, new members, score 0", (z) => {
    for (let i = 0; i < n; i++) z.add(members[i]!, 0);
  });
  time("add, new members, random scores", (z) => {
    for (let i = 0; i < n; i++) z.add(members[i]!, scores[i]!);
  });
  const fill = (z: ZSetValue) => {
    for (let i = 0; i < n; i++) z.add(members[i]!, scores[i]!);
  };
  time(
    "add, existing members, new random scores",
    (z) => {
      for (let i = 0; i < n; i++) z.add(members[i]!, scores[(i * 7919) % n]!);
    },
    fill,
  );
  time(
    "rank",
    (z) => {
      for (let i = 0; i < n; i++) z.rank(members[i]!);
    },
    fill,
  );
  time(
    "delete",
    (z) => {
      for (let i = 0; i < n; i++) z.delete(members[i]!);
    },
    fill,
  );
}

if (args.includes("--micro")) micro();
if (MEMORY) await memory();
if (THROUGHPUT) await throughput();
process.exit(0);
