// Memory per key at rest for the compact keyspace (docs/keyspace-design.md), against today's
// Map<string, string> (+ Map<string, number> of expiries) and against redis-server holding the
// same keys: "key:%07d" -> 10..100 random printable bytes (seeded), optionally with an expiry
// on a fraction of the keys.
//
// Each structure is built in a fresh child process (`--child <variant>`): the dataset bytes are
// made first, then memory is read (after Bun.gc(true)), the keys inserted, memory read again;
// the difference divided by the keys is the cost of a key. redis-server gets the same
// commands through a pipeline; its INFO used_memory and RSS are read before and after.
//
//   bun bench/keyspace-memory.bench.ts [--keys 1000000,3000000] [--ttl 0,0.5]
//        [--shape strings,tiny,hash] [--variants map,keyspace,keyspace-0.875,redis]
//
// Shapes (bench/keyspace-common.ts): strings (the default above), tiny ("k:<i>" -> "v<i>", the
// short strings of docs/performance.md), hash (4-field hashes: the keyspace keeps them as JS
// objects in its side table, as Map does).
//
// Run by hand, not in the test suite.

import { Keyspace } from "../src/store/keyspace/keyspace.ts";
import { startRedis } from "../test/helpers/servers.ts";
import { HashValue } from "../src/store/hash.ts";
import { EXPIRE_BASE, flag, fmt, hashFields, hasTtl, keyString, makeDataset, memoryNow, opt, pipelineLoad, rssOf, table, timeNs, valueString, type Dataset, type Shape } from "./keyspace-common.ts";

interface Result {
  variant: string;
  shape?: Shape;
  keys: number;
  ttl: number;
  rssPerKey: number;
  heapPerKey: number;
  buffersPerKey: number;
  /** redis-server's INFO used_memory per key; for ours, the bytes of table + arena touched. */
  accountedPerKey: number;
  buildMs: number;
  note: string;
}

function buildMap(d: Dataset, ttl: number): { keep: unknown; note: string } {
  const keys = new Map<string, unknown>();
  const expires = new Map<string, number>();
  for (let i = 0; i < d.n; i++) {
    const k = keyString(d, i);
    keys.set(k, d.shape === "hash" ? new HashValue(hashFields(i)) : valueString(d, i));
    if (hasTtl(i, ttl)) expires.set(k, EXPIRE_BASE + i);
  }
  return { keep: [keys, expires], note: "" };
}

function buildKeyspace(d: Dataset, ttl: number, maxLoad: number): { keep: unknown; note: string; accounted: number } {
  const ks = new Keyspace({ maxLoad });
  for (let i = 0; i < d.n; i++) {
    const expire = hasTtl(i, ttl) ? EXPIRE_BASE + i : -1;
    if (d.shape === "hash") ks.addObjectBytes(d.keys, d.keyStart[i]!, d.keyLen[i]!, new HashValue(hashFields(i)), expire);
    else ks.addBytes(d.keys, d.keyStart[i]!, d.keyLen[i]!, d.values, d.valueStart[i]!, d.valueLen[i]!, expire);
  }
  const tableBytes = ks.table.byteLength;
  const arenaBytes = ks.arena.touchedBytes;
  const accounted = tableBytes + arenaBytes + ks.volatile.refs.byteLength;
  const note = `table ${fmt(tableBytes / d.n)} B/key (load ${fmt(ks.size / ks.capacity, 2)}), chunks ${fmt(ks.arena.chunkBytes / d.n)} B/key, volatile ${fmt(ks.volatile.refs.byteLength / d.n)} B/key`;
  return { keep: ks, note, accounted };
}

async function child(variant: string, n: number, ttl: number, shape: Shape): Promise<void> {
  const d = makeDataset(n, 1, shape);
  const before = await memoryNow();
  let keep: unknown;
  let note = "";
  let accounted = 0;
  const buildNs = timeNs(() => {
    if (variant === "map") ({ keep, note } = buildMap(d, ttl));
    else {
      const load = variant === "keyspace" ? 0.75 : Number(variant.split("-")[1]);
      ({ keep, note, accounted } = buildKeyspace(d, ttl, load));
    }
  });
  const after = await memoryNow();
  const result: Result = {
    variant,
    keys: n,
    ttl,
    rssPerKey: (after.rss - before.rss) / n,
    heapPerKey: (after.heapUsed - before.heapUsed) / n,
    buffersPerKey: (after.arrayBuffers - before.arrayBuffers) / n,
    accountedPerKey: accounted / n,
    buildMs: buildNs / 1e6,
    note,
  };
  if (keep === 0) console.log(keep);
  console.log(JSON.stringify(result));
}

async function redis(n: number, ttl: number, shape: Shape): Promise<Result> {
  const server = await startRedis();
  try {
    const infoNum = async (field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(String(await server.call("INFO", "memory")))![1]);
    const d = makeDataset(n, 1, shape);
    const usedBefore = await infoNum("used_memory");
    const rssBefore = rssOf(server.proc.pid);
    const t = Bun.nanoseconds();
    await pipelineLoad(server.port, d, ttl);
    const buildMs = (Bun.nanoseconds() - t) / 1e6;
    await Bun.sleep(1000);
    const usedAfter = await infoNum("used_memory");
    const rssAfter = rssOf(server.proc.pid);
    return {
      variant: "redis-server 7.0",
      keys: n,
      ttl,
      rssPerKey: (rssAfter - rssBefore) / n,
      heapPerKey: NaN,
      buffersPerKey: NaN,
      accountedPerKey: (usedAfter - usedBefore) / n,
      buildMs,
      note: "accounted = INFO used_memory",
    };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const childVariant = opt("child", "");
  if (childVariant !== "") {
    await child(childVariant, Number(opt("keys", "1000000")), Number(opt("ttl", "0")), opt("shape", "strings") as Shape);
    return;
  }
  const keyCounts = opt("keys", "1000000,3000000").split(",").map(Number);
  const ttls = opt("ttl", "0").split(",").map(Number);
  const variants = opt("variants", "map,keyspace,redis").split(",");
  const shapes = opt("shape", "strings").split(",") as Shape[];
  const results: Result[] = [];
  for (const shape of shapes)
  for (const n of keyCounts) {
    for (const ttl of ttls) {
      for (const variant of variants) {
        let r: Result;
        if (variant === "redis") r = await redis(n, ttl, shape);
        else {
          const proc = Bun.spawn([process.execPath, import.meta.path, "--child", variant, "--keys", String(n), "--ttl", String(ttl), "--shape", shape], { stdout: "pipe", stderr: "inherit" });
          const out = await new Response(proc.stdout).text();
          await proc.exited;
          r = JSON.parse(out.trim().split("\n").pop()!);
        }
        r.shape = shape;
        results.push(r);
        if (!flag("quiet")) console.error(`${r.variant} ${n} keys ttl ${ttl}: ${fmt(r.rssPerKey)} B/key RSS ${r.note}`);
      }
    }
  }
  console.log(
    table(
      ["shape", "keys", "ttl", "structure", "RSS B/key", "JS heap B/key", "accounted B/key", "build ms", "notes"],
      results.map((r) => [r.shape ?? "", r.keys, r.ttl, r.variant, fmt(r.rssPerKey), Number.isNaN(r.heapPerKey) ? "" : fmt(r.heapPerKey), r.accountedPerKey ? fmt(r.accountedPerKey) : "", fmt(r.buildMs, 0), r.note]),
    ),
  );
}

await main();
