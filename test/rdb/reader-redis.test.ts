// RDB files written by the real redis-server (7.0) under settings that force each encoding;
// each is read by our parser and compared with what a second redis-server reports after
// loading the same file at start-up: keys, types, values, absolute expiries (PEXPIRETIME),
// OBJECT ENCODING (our reader is given the same thresholds), LFU counters / LRU idle times,
// streams (entries, node count, groups, PELs, consumers) and function libraries.
//
// Random content is seeded; the seed is printed (RDB_REDIS_SEED to choose one).

import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RdbReaderOptions } from "../../src/rdb/reader.ts";
import { formatDouble } from "../../src/protocol/format-double.ts";
import { HashValue } from "../../src/store/hash.ts";
import { ListValue } from "../../src/store/list.ts";
import { SetValue } from "../../src/store/set.ts";
import { StreamValue } from "../../src/store/stream.ts";
import { ZSetValue } from "../../src/store/zset.ts";
import type { RespClient, RespValue } from "../helpers/resp-client.ts";
import { removeDir, startRedis, tempDir, type ServerProcess } from "../helpers/servers.ts";
import { parseRdb, plain, type ParseOutcome, type RecordedKey } from "./rdb-test-helpers.ts";
import { rng } from "../helpers/seeded.ts";

const SEED = Number(process.env.RDB_REDIS_SEED ?? 20261201);
console.log(`reader-redis: seed ${SEED} (RDB_REDIS_SEED=${SEED} to repeat)`);

const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

type Cmd = Array<string | number>;

/** Random bytes as a latin1 string. */
function randomBytes(r: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(r() * 256));
  return s;
}

const FUNCTION_CODE = "#!lua name=rdbtestlib\nredis.register_function('rdbtest_echo', function(keys, args) return args[1] end)";

/** A dataset touching every type and the interesting sizes; `big` makes aggregates larger. */
function dataset(seed: number): Cmd[][] {
  const r = rng(seed);
  const db0: Cmd[] = [];
  // Strings: integer encodings, raw, compressible (LZF), incompressible, binary, empty.
  for (const n of [0, 1, -1, 127, -128, 255, 32767, -32768, 65535, 2147483647, -2147483648, 4294967296, 9223372036854775807n, -9223372036854775808n]) {
    db0.push(["SET", `s:int:${n}`, String(n)]);
  }
  db0.push(["SET", "s:int-as-key", "v"], ["SET", "12345", "integer key"], ["SET", "007", "leading zero"]);
  db0.push(["SET", "s:raw", "hello world"], ["SET", "s:empty", ""]);
  db0.push(["SET", "s:lzf", "abcdefgh".repeat(500)], ["SET", "s:rand", randomBytes(r, 5000)], ["SET", "\x00\xff\r\nbinary key", randomBytes(r, 40)]);
  db0.push(["SET", "s:exp", "expiring", "PX", 3600_000 + Math.floor(r() * 1000)], ["SET", "s:exp-s", "x", "EX", 7200]);
  db0.push(["SET", "s:float", "3.14"], ["SET", "s:huge", "z".repeat(70000)]);
  // Lists: small, many nodes (2000 elements), large elements, integers of every width.
  db0.push(["RPUSH", "l:small", "a", "1", "-5", "bb", "123456789012"]);
  const big: Cmd = ["RPUSH", "l:big"];
  for (let i = 0; i < 2000; i++) big.push(i % 3 === 0 ? String(i * 7919) : `element-${i}-${randomBytes(r, 4).replace(/[^a-z]/g, "q")}`);
  db0.push(big, ["RPUSH", "l:fat", "x".repeat(10000), "y", randomBytes(r, 3000)], ["LPUSH", "l:exp", "1"], ["PEXPIRE", "l:exp", 900_000]);
  // Sets: intset (16/32/64-bit), strings, a large intset, mixed.
  db0.push(["SADD", "set:i16", 1, 2, 3, -4], ["SADD", "set:i32", 100000, -200000], ["SADD", "set:i64", "9223372036854775807", "-9223372036854775808", "5"]);
  db0.push(["SADD", "set:str", "alpha", "beta", "gamma"], ["SADD", "set:mixed", "1", "two", "3"]);
  const bigSet: Cmd = ["SADD", "set:bigint"];
  for (let i = 0; i < 700; i++) bigSet.push(i * 3);
  db0.push(bigSet);
  // Sorted sets: listpack-sized with varied scores, a large one, one with a long member.
  db0.push(["ZADD", "z:small", 1, "one", 2.5, "two.5", -3, "neg", 0, "zero", "inf", "top", "-inf", "bottom", 1e-10, "tiny", 123456789.123, "big"]);
  const bigZ: Cmd = ["ZADD", "z:big"];
  for (let i = 0; i < 300; i++) bigZ.push((r() * 2000 - 1000).toFixed(3), `m${i}`);
  db0.push(bigZ, ["ZADD", "z:longmember", 1, "m".repeat(100), 2, "short"]);
  // Hashes: small, large, long value, integer fields.
  db0.push(["HSET", "h:small", "f1", "v1", "f2", "2", "3", "-4"]);
  const bigH: Cmd = ["HSET", "h:big"];
  for (let i = 0; i < 600; i++) bigH.push(`field:${i}`, i % 2 ? String(i) : `value-${i}`);
  db0.push(bigH, ["HSET", "h:longvalue", "f", "v".repeat(100)], ["HSET", "h:exp", "a", "b"], ["PEXPIRE", "h:exp", 600_000]);
  // Streams: several nodes, deletions, trimming, groups with PELs and consumers.
  const sx: Cmd[] = [];
  for (let i = 1; i <= 300; i++) sx.push(["XADD", "st:main", `${1000 + i}-${i % 3}`, "f", `v${i}`, ...(i % 5 === 0 ? ["extra", String(i)] : [])]);
  sx.push(["XDEL", "st:main", "1010-1", "1011-2", "1150-0"]);
  sx.push(["XGROUP", "CREATE", "st:main", "g1", "0"], ["XGROUP", "CREATE", "st:main", "g2", "$"], ["XGROUP", "CREATE", "st:main", "g3", "1100-0"]);
  sx.push(["XREADGROUP", "GROUP", "g1", "alice", "COUNT", 5, "STREAMS", "st:main", ">"], ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", 3, "STREAMS", "st:main", ">"]);
  sx.push(["XACK", "st:main", "g1", "1002-2"], ["XGROUP", "CREATECONSUMER", "st:main", "g2", "carol"]);
  sx.push(["XADD", "st:trimmed", "*", "a", "1"], ["XADD", "st:trimmed", "*", "a", "2"], ["XADD", "st:trimmed", "*", "a", "3"], ["XTRIM", "st:trimmed", "MAXLEN", 1]);
  sx.push(["XGROUP", "CREATE", "st:empty", "g", "$", "MKSTREAM"]);
  sx.push(["XADD", "st:allgone", "5-5", "k", "v"], ["XDEL", "st:allgone", "5-5"]);
  db0.push(...sx);
  // Other databases.
  const db3: Cmd[] = [["SET", "in-db3", "3"], ["RPUSH", "l:db3", "x"], ["SET", "s:exp", "other db", "PX", 5_000_000]];
  const db15: Cmd[] = [["HSET", "h:db15", "k", "v"]];
  return [db0, [], [], db3, [], [], [], [], [], [], [], [], [], [], [], db15];
}

/** The quicklist 2 nodes of list `key` in raw RDB bytes: [container, lzf?] per node. */
function quicklistNodes(data: Buffer, key: string): Array<{ plain: boolean; lzf: boolean }> {
  const at = data.indexOf(Buffer.from(`\x12${String.fromCharCode(key.length)}${key}`, "latin1"));
  if (at < 0) throw new Error(`no quicklist 2 record for ${key}`);
  let p = at + 2 + key.length;
  const len = (): number => {
    const b = data[p]!;
    if (b < 0x40) return (p += 1), b;
    if (b < 0x80) return (p += 2), ((b & 0x3f) << 8) | data[p - 1]!;
    if (b === 0x80) return (p += 5), data.readUInt32BE(p - 4);
    throw new Error(`unexpected length byte ${b}`);
  };
  const nodes = len();
  const out: Array<{ plain: boolean; lzf: boolean }> = [];
  for (let i = 0; i < nodes; i++) {
    const container = len();
    const lzf = data[p] === 0xc3;
    if (lzf) {
      p++;
      const clen = len();
      len();
      p += clen;
    } else {
      const n = len();
      p += n;
    }
    out.push({ plain: container === 1, lzf });
  }
  return out;
}

interface Scenario {
  name: string;
  /** redis-server directives for both the writer and the loader. */
  config: string[];
  /** The matching reader thresholds. */
  options: RdbReaderOptions;
  /** Commands before the dataset (DEBUG settings). */
  before?: Cmd[];
  /** Checks on the parse beyond the comparison with the loading server. */
  extra?(o: ParseOutcome & { data: Buffer }): void;
}

const SCENARIOS: Scenario[] = [
  {
    name: "default encodings, compressed quicklist nodes (list-compress-depth 1)",
    config: ["--list-compress-depth", "1"],
    options: {},
    extra(o) {
      expect(o.parser.checksumVerified).toBe(true);
      const types = new Set(o.rec.keys.map((k) => k.type));
      // string, quicklist 2, intset, set, zset listpack, zset2, hash listpack, hash, stream v2
      for (const t of [0, 18, 11, 2, 17, 5, 16, 4, 19]) expect(types).toContain(t);
      // The big list has several nodes, stored LZF-compressed (inner nodes compressed in memory
      // by list-compress-depth and the others by rdbcompression look the same on disk).
      const nodes = quicklistNodes(o.data, "l:big");
      expect(nodes.length).toBeGreaterThan(2);
      expect(nodes.every((n) => n.lzf && !n.plain)).toBe(true);
    },
  },
  {
    name: "every aggregate in its big encoding (max-listpack-entries 0, max-intset-entries 0, one element per node)",
    config: ["--hash-max-listpack-entries", "0", "--zset-max-listpack-entries", "0", "--set-max-intset-entries", "0", "--list-max-listpack-size", "1"],
    options: { hashMaxListpackEntries: 0, zsetMaxListpackEntries: 0, setMaxIntsetEntries: 0, listMaxListpackSize: 1 },
    extra(o) {
      for (const k of o.rec.keys) expect([0, 2, 4, 5, 18, 19]).toContain(k.type);
    },
  },
  {
    name: "no compression, no checksum (rdbcompression no, rdbchecksum no)",
    config: ["--rdbcompression", "no", "--rdbchecksum", "no"],
    options: {},
    extra(o) {
      expect(o.parser.checksumVerified).toBe(false);
      expect(o.parser.done).toBe(true);
    },
  },
  {
    name: "plain quicklist nodes (DEBUG QUICKLIST-PACKED-THRESHOLD 1000)",
    config: [],
    before: [["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000"]],
    options: {},
    extra(o) {
      // l:fat = [10000 x's, "y", 3000 random bytes]: plain, packed, plain.
      expect(quicklistNodes(o.data, "l:fat").map((n) => n.plain)).toEqual([true, false, true]);
    },
  },
  {
    name: "LFU counters (maxmemory-policy allkeys-lfu)",
    config: ["--maxmemory-policy", "allkeys-lfu"],
    options: {},
    extra(o) {
      for (const k of o.rec.keys) expect(k.lfuFreq).toBeGreaterThanOrEqual(0);
    },
  },
  {
    name: "LRU idle times (maxmemory-policy allkeys-lru)",
    config: ["--maxmemory-policy", "allkeys-lru"],
    options: {},
    extra(o) {
      for (const k of o.rec.keys) expect(k.lruIdle).toBeGreaterThanOrEqual(0);
    },
  },
];

// ------------------------------------------------------------------ what the server reports

function pairs(flat: RespValue): Array<[string, RespValue]> {
  const a = flat as RespValue[];
  const out: Array<[string, RespValue]> = [];
  for (let i = 0; i < a.length; i += 2) out.push([String(a[i]), a[i + 1]!]);
  return out;
}

function fieldMap(flat: RespValue): Map<string, RespValue> {
  return new Map(pairs(flat));
}

interface ServerKey {
  type: string;
  value: unknown;
  expireMs: number;
  encoding: string;
  freq: number | null;
  idle: number;
  stream?: unknown;
}

async function serverStream(c: RespClient, key: string): Promise<unknown> {
  const entries = ((await c.call("XRANGE", key, "-", "+")) as RespValue[]).map((e) => {
    const [id, fields] = e as [string, string[]];
    return [id, fields];
  });
  const info = fieldMap(await c.call("XINFO", "STREAM", key));
  const full = fieldMap(await c.call("XINFO", "STREAM", key, "FULL"));
  const groups = ((full.get("groups") as RespValue[]) ?? []).map((g) => {
    const gm = fieldMap(g);
    return {
      name: gm.get("name"),
      lastId: gm.get("last-delivered-id"),
      entriesRead: gm.get("entries-read") ?? null,
      pending: (gm.get("pending") as RespValue[][]).map(([id, consumer, time, count]) => [id, consumer, Number(time), Number(count)]),
      consumers: (gm.get("consumers") as RespValue[]).map((cr) => {
        const cm = fieldMap(cr);
        return { name: cm.get("name"), seenTime: Number(cm.get("seen-time")), pending: (cm.get("pending") as RespValue[][]).map(([id]) => id) };
      }),
    };
  });
  return {
    entries,
    length: Number(info.get("length")),
    nodes: Number(info.get("radix-tree-keys")),
    lastId: info.get("last-generated-id"),
    maxDeletedId: info.get("max-deleted-entry-id"),
    entriesAdded: Number(info.get("entries-added")),
    firstId: info.get("recorded-first-entry-id"),
    groups,
  };
}

async function serverKeys(c: RespClient, lfu: boolean): Promise<Map<string, ServerKey>> {
  const out = new Map<string, ServerKey>();
  for (let db = 0; db < 16; db++) {
    await c.call("SELECT", db);
    let cursor = "0";
    const keys: string[] = [];
    do {
      const [next, batch] = (await c.call("SCAN", cursor, "COUNT", 1000)) as [string, string[]];
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    for (const key of keys) {
      // OBJECT FREQ / IDLETIME first: reading the value touches the key's LFU/LRU clock.
      const freq = lfu ? Number(await c.call("OBJECT", "FREQ", key)) : null;
      const idle = lfu ? -1 : Number(await c.call("OBJECT", "IDLETIME", key));
      const type = String(await c.call("TYPE", key));
      let value: unknown;
      if (type === "string") value = await c.call("GET", key);
      else if (type === "list") value = await c.call("LRANGE", key, 0, -1);
      else if (type === "set") value = ((await c.call("SMEMBERS", key)) as string[]).sort();
      else if (type === "zset") value = await c.call("ZRANGE", key, 0, -1, "WITHSCORES");
      else if (type === "hash") value = pairs(await c.call("HGETALL", key)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      else if (type === "stream") value = await serverStream(c, key);
      const expireMs = Number(await c.call("PEXPIRETIME", key));
      const encoding = String(await c.call("OBJECT", "ENCODING", key));
      out.set(`${db}/${key}`, { type, value, expireMs, encoding, freq, idle });
    }
  }
  await c.call("SELECT", 0);
  return out;
}

// ------------------------------------------------------------------ our view of the same keys

function ourType(k: RecordedKey): string {
  const v = k.value;
  if (typeof v === "string") return "string";
  if (v instanceof ListValue) return "list";
  if (v instanceof SetValue) return "set";
  if (v instanceof ZSetValue) return "zset";
  if (v instanceof HashValue) return "hash";
  if (v instanceof StreamValue) return "stream";
  return "module";
}

function ourStream(s: StreamValue): unknown {
  const id = (x: { ms: unknown; seq: unknown }) => `${x.ms}-${x.seq}`;
  return {
    entries: [...s.entries].map((e) => [id(e.id), e.fields]),
    length: s.length,
    nodes: s.nodeCount,
    lastId: id(s.lastId),
    maxDeletedId: id(s.maxDeletedId),
    entriesAdded: Number(s.entriesAdded),
    firstId: id(s.firstId),
    groups: [...s.groups.values()].map((g) => ({
      name: g.name,
      lastId: id(g.lastId),
      entriesRead: g.entriesRead === -1 ? null : Number(g.entriesRead),
      pending: [...g.pending.values()].map((pe) => [id(pe.id), pe.consumer, pe.deliveryTime, pe.deliveryCount]),
      consumers: [...g.consumers.values()].map((c) => ({ name: c.name, seenTime: c.seenTime, pending: [...c.pending.values()].map((pe) => id(pe.id)) })),
    })),
  };
}

function ourValue(k: RecordedKey): unknown {
  const v = k.value;
  if (v instanceof StreamValue) return ourStream(v);
  const p = plain(v);
  if (v instanceof SetValue) return [...(p as string[])].sort();
  if (v instanceof HashValue) return [...(p as Array<[string, string]>)].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (v instanceof ZSetValue) return (p as Array<[string, number]>).flatMap(([m, s]) => [m, formatDouble(s)]);
  return p;
}

function ourEncoding(k: RecordedKey): string | null {
  const v = k.value;
  if (typeof v === "string" || v instanceof StreamValue) return null;
  return (v as { encoding?: string }).encoding ?? null;
}

// ------------------------------------------------------------------ the scenarios

async function writeDump(s: Scenario, dir: string): Promise<Buffer> {
  const writer = await startRedis([...s.config, "--enable-debug-command", "yes"], { dir });
  cleanup.push(() => writer.stop());
  const c = await writer.client();
  for (const cmd of s.before ?? []) expect(await c.call(...cmd)).toBe("OK");
  const dbs = dataset(SEED);
  for (let db = 0; db < dbs.length; db++) {
    if (dbs[db]!.length === 0) continue;
    await c.call("SELECT", db);
    const replies = await c.pipeline(dbs[db]!);
    for (let i = 0; i < replies.length; i++) {
      if (replies[i] && typeof replies[i] === "object" && (replies[i] as { message?: string }).message !== undefined && !Array.isArray(replies[i])) {
        throw new Error(`${JSON.stringify(dbs[db]![i]).slice(0, 100)} -> ${String(replies[i])}`);
      }
    }
  }
  await c.call("SELECT", 0);
  expect(await c.call("FUNCTION", "LOAD", FUNCTION_CODE)).toBe("rdbtestlib");
  expect(await c.call("SAVE")).toBe("OK");
  await writer.stop();
  return readFileSync(join(dir, "dump.rdb"));
}

async function loadingServer(s: Scenario, dir: string): Promise<ServerProcess> {
  const loader = await startRedis([...s.config, "--dbfilename", "dump.rdb"], { dir });
  cleanup.push(() => loader.stop());
  await loader.waitForLog("DB loaded from disk");
  return loader;
}

describe("RDB files written by redis-server", () => {
  for (const s of SCENARIOS) {
    test(s.name, async () => {
      const dir = tempDir("rdb-redis-");
      cleanup.push(() => removeDir(dir));
      const data = await writeDump(s, dir);
      const o = parseRdb(data, s.options);
      if (o.error) throw o.error;
      s.extra?.({ ...o, data });
      const loader = await loadingServer(s, dir);
      const c = await loader.client();
      const lfu = s.config.includes("allkeys-lfu");
      const theirs = await serverKeys(c, lfu);
      const ours = new Map(o.rec.keys.map((k) => [`${k.db}/${k.key}`, k]));
      // Streams emptied by XDEL and empty streams are kept by Redis; nothing is skipped.
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
      const problems: string[] = [];
      for (const [id, t] of theirs) {
        const k = ours.get(id)!;
        const mine = { type: ourType(k), value: ourValue(k), expireMs: k.expireMs };
        const want = { type: t.type, value: t.value, expireMs: t.expireMs };
        if (JSON.stringify(mine) !== JSON.stringify(want)) problems.push(`${id}: ours ${JSON.stringify(mine).slice(0, 400)}\n  redis ${JSON.stringify(want).slice(0, 400)}`);
        const enc = ourEncoding(k);
        if (enc !== null && enc !== t.encoding) problems.push(`${id}: encoding ${enc}, redis-server says ${t.encoding}`);
        if (t.freq !== null && k.lfuFreq !== t.freq) problems.push(`${id}: LFU ${k.lfuFreq}, redis-server says ${t.freq}`);
        if (t.idle >= 0 && s.config.includes("allkeys-lru") && Math.abs(k.lruIdle - t.idle) > 30) problems.push(`${id}: idle ${k.lruIdle}, redis-server says ${t.idle}`);
      }
      expect(problems).toEqual([]);
      // Functions.
      const libs = (await c.call("FUNCTION", "LIST", "WITHCODE")) as RespValue[];
      const codes = libs.map((l) => fieldMap(l).get("library_code"));
      expect(o.rec.functions).toEqual(codes as string[]);
      expect(o.rec.auxFields.get("redis-ver")).toBe("7.0.15");
    }, 60000);
  }
});
