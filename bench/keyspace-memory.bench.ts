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
// Variants: map, keyspace, keyspace-0.875 (another maximum load), redis; and map-del80,
// keyspace-del80, keyspace-del80-compact: 80% of the keys deleted at random after the build
// (and the arena compacted), bytes per key left.
//
// Shapes (bench/keyspace-common.ts): strings (the default above), tiny ("k:<i>" -> "v<i>", the
// short strings of docs/performance.md), hash (4-field hashes: the keyspace keeps them as JS
// objects in its side table, as Map does).
//
// Run by hand, not in the test suite.

import { Keyspace } from "../src/store/keyspace/keyspace.ts";
import { startRedis } from "../test/helpers/servers.ts";
import { HashValue } from "../src/store/hash.ts";
import { compactStep } from "../src/store/keyspace/compaction.ts";
import { EXPIRE_BASE, flag, fmt, hashFields, hasTtl, keyString, makeDataset, memoryNow, opt, pipelineLoad, rng, rssOf, table, timeNs, valueString, type Dataset, type Shape } from "./keyspace-common.ts";

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
  // "-del80": then 80% of the keys deleted at random; "-compact": and the arena compacted.
  // Bytes are then per key left.
  const base = variant.split("-")[0]!;
  const buildNs = timeNs(() => {
    if (base === "map") ({ keep, note } = buildMap(d, ttl));
    else {
      const load = variant.startsWith("keyspace-0.") ? Number(variant.split("-")[1]) : 0.75;
      ({ keep, note, accounted } = buildKeyspace(d, ttl, load));
    }
  });
  let left = n;
  if (variant.includes("-del80")) {
    const random = rng(12);
    left = 0;
    for (let i = 0; i < n; i++) {
      if (random() >= 0.8) {
        left++;
        continue;
      }
      if (base === "map") {
        const [keys, expires] = keep as [Map<string, unknown>, Map<string, number>];
        keys.delete(keyString(d, i));
        expires.delete(keyString(d, i));
      } else {
        const ks = keep as Keyspace;
        ks.deleteAt(ks.findBytes(d.keys, d.keyStart[i]!, d.keyLen[i]!));
      }
    }
    if (base === "keyspace") {
      const ks = keep as Keyspace;
      if (variant.includes("-compact")) while (compactStep(ks) > 0);
      accounted = ks.table.byteLength + ks.arena.touchedBytes + ks.volatile.refs.byteLength;
      note = `table ${fmt(ks.table.byteLength / left)} B/key left, slabs ${fmt(ks.arena.slabBytes / 2 ** 20, 0)} MiB, records ${fmt(ks.arena.chunkBytes / 2 ** 20, 0)} MiB`;
    }
  }
  const after = await memoryNow();
  const result: Result = {
    variant,
    keys: left,
    ttl,
    rssPerKey: (after.rss - before.rss) / left,
    heapPerKey: (after.heapUsed - before.heapUsed) / left,
    buffersPerKey: (after.arrayBuffers - before.arrayBuffers) / left,
    accountedPerKey: accounted / left,
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
