// Fuzzing the RDB reader: random mutations and truncations of real RDB files (the shared corpus
// and a dump written by redis-server here) must either load or fail with an RdbError that
// names a byte offset inside the input: never another exception, never a hang, never an
// allocation sized by an unchecked length. Feeding the same bytes in random chunks must give
// the same outcome (the parser restarts at record boundaries).
//
// Seeded: the seed is printed; RDB_FUZZ_SEED=<n> repeats a run, RDB_FUZZ_CASES=<n> sets its size.
// A failing case is written to a temporary file whose path is in the failure message.

import { afterAll, expect, test } from "bun:test";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RdbError } from "../../src/rdb/errors.ts";
import { loadRdbBuffer } from "../../src/rdb/loader.ts";
import { Database } from "../../src/store/database.ts";
import { removeDir, startRedis, tempDir } from "../helpers/servers.ts";
import { sharedPath } from "../helpers/shared.ts";
import { digest, parseRdb, type ParseOutcome } from "./rdb-test-helpers.ts";
import { rng } from "../helpers/seeded.ts";

const SEED = Number(process.env.RDB_FUZZ_SEED ?? 20261201);
const CASES = Number(process.env.RDB_FUZZ_CASES ?? 3000);
console.log(`rdb fuzz: seed ${SEED}, ${CASES} cases (RDB_FUZZ_SEED=${SEED} RDB_FUZZ_CASES=${CASES} to repeat)`);

const CORPUS = sharedPath("corpus/rdb", "RDB corpus files as fuzzing seeds (the redis-server dump is still fuzzed)");
const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

/** Small corpus files (the mutations are byte-level: big files add time, not coverage). */
function corpusSeeds(): Array<{ name: string; data: Buffer }> {
  const out: Array<{ name: string; data: Buffer }> = [];
  if (CORPUS === null) return out;
  const seen = new Set<string>();
  for (const d of readdirSync(CORPUS).sort()) {
    const p = join(CORPUS, d);
    if (!statSync(p).isDirectory()) continue;
    for (const f of readdirSync(p).sort()) {
      const file = join(p, f);
      if (statSync(file).size > 40000) continue;
      const data = readFileSync(file);
      const h = Bun.hash(data).toString();
      if (seen.has(h)) continue;
      seen.add(h);
      out.push({ name: `${d}/${f}`, data });
    }
  }
  return out;
}

/** A dump written by redis-server with one of everything (small, to keep cases fast). */
async function redisSeed(): Promise<Buffer> {
  const dir = tempDir("rdb-fuzz-");
  cleanup.push(() => removeDir(dir));
  const server = await startRedis(["--list-max-listpack-size", "4", "--list-compress-depth", "1"], { dir });
  cleanup.push(() => server.stop());
  const c = await server.client();
  const cmds: Array<Array<string | number>> = [
    ["SET", "s", "hello"],
    ["SET", "n", 12345],
    ["SET", "lzf", "abcabcabc".repeat(40)],
    ["SET", "e", "x", "PX", 100000],
    ["RPUSH", "l", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1, 2, 3],
    ["SADD", "si", 1, 2, 3, 70000, -5],
    ["SADD", "ss", "x", "y", "z"],
    ["ZADD", "z", 1, "a", 2.5, "b", "inf", "c"],
    ["HSET", "h", "f", "v", "g", "1"],
    ["XADD", "st", "1-1", "a", "1"],
    ["XADD", "st", "2-1", "a", "2", "b", "3"],
    ["XGROUP", "CREATE", "st", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "c1", "COUNT", 1, "STREAMS", "st", ">"],
    ["SELECT", 2],
    ["SET", "other", "db"],
  ];
  const big: Array<string | number> = ["ZADD", "zbig"];
  for (let i = 0; i < 200; i++) big.push(i / 7, `m${i}`);
  const bigH: Array<string | number> = ["HSET", "hbig"];
  for (let i = 0; i < 600; i++) bigH.push(`f${i}`, i);
  await c.pipeline([...cmds.slice(0, -2), big, bigH, ...cmds.slice(-2)]);
  await c.call("FUNCTION", "LOAD", "#!lua name=fz\nredis.register_function('fz', function() return 1 end)");
  await c.call("SAVE");
  await server.stop();
  return readFileSync(join(dir, "dump.rdb"));
}

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x81, 0x3f, 0x40, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xfe, 0xfa, 0xf5, 0x0e, 0x12, 0x13, 0x15, 0x01, 0x02];

function mutate(src: Buffer, r: () => number): { data: Buffer; what: string[] } {
  let data = Buffer.from(src);
  const what: string[] = [];
  const pos = () => Math.floor(r() * data.length);
  const n = 1 + Math.floor(r() * r() * 8);
  for (let i = 0; i < n && data.length > 0; i++) {
    const kind = Math.floor(r() * 8);
    const p = pos();
    switch (kind) {
      case 0:
        data[p] = data[p]! ^ (1 << Math.floor(r() * 8));
        what.push(`flip@${p}`);
        break;
      case 1:
        data[p] = Math.floor(r() * 256);
        what.push(`byte@${p}`);
        break;
      case 2:
        data[p] = INTERESTING[Math.floor(r() * INTERESTING.length)]!;
        what.push(`interesting@${p}`);
        break;
      case 3: {
        const len = 1 + Math.floor(r() * 16);
        const ins = Buffer.alloc(len);
        for (let k = 0; k < len; k++) ins[k] = r() < 0.5 ? INTERESTING[Math.floor(r() * INTERESTING.length)]! : Math.floor(r() * 256);
        data = Buffer.concat([data.subarray(0, p), ins, data.subarray(p)]);
        what.push(`insert${len}@${p}`);
        break;
      }
      case 4: {
        const len = 1 + Math.floor(r() * 32);
        data = Buffer.concat([data.subarray(0, p), data.subarray(p + len)]);
        what.push(`delete${len}@${p}`);
        break;
      }
      case 5: {
        const len = 1 + Math.floor(r() * 64);
        const q = pos();
        data = Buffer.concat([data.subarray(0, q), data.subarray(p, p + len), data.subarray(q)]);
        what.push(`dup${len}@${p}->${q}`);
        break;
      }
      case 6: {
        // A big length prefix where a length may be.
        const big = [0x80, 0xff, 0xff, 0xff, 0xf0, 0x81, 0x00, 0x1f, 0xff][Math.floor(r() * 9)]!;
        data[p] = big;
        what.push(`biglen@${p}`);
        break;
      }
      default:
        data = data.subarray(0, p);
        what.push(`truncate@${p}`);
    }
  }
  return { data, what };
}

function outcomeKey(o: ParseOutcome): string {
  if (o.error) return o.error instanceof RdbError ? `error ${o.error.kind} @${o.error.offset}` : `exception ${o.error}`;
  return `ok ${digest(o.rec)}`;
}

test(
  "mutated and truncated RDBs: a load or an RdbError with an offset, whatever the chunking",
  async () => {
    const seeds = corpusSeeds();
    seeds.push({ name: "redis-server dump", data: await redisSeed() });
    const r = rng(SEED);
    const counts = { ok: 0, truncated: 0, corrupt: 0, checksum: 0, unsupported: 0, "too-large": 0, "duplicate-key": 0 } as Record<string, number>;
    const t0 = performance.now();
    let slowest = 0;
    for (let i = 0; i < CASES; i++) {
      // Favour the redis-server dump (every modern encoding) for a third of the cases.
      const src = r() < 0.33 ? seeds[seeds.length - 1]! : seeds[Math.floor(r() * seeds.length)]!;
      const { data, what } = mutate(src.data, r);
      const verifyChecksum = r() < 0.3;
      const caseStart = performance.now();
      const whole = parseRdb(data, { verifyChecksum });
      const report = (problem: string) => {
        const file = join(tmpdir(), `rdb-fuzz-${SEED}-${i}.rdb`);
        writeFileSync(file, data);
        return `case ${i} (seed ${SEED}, from ${src.name}, mutations ${what.join(" ")}, saved as ${file}): ${problem}`;
      };
      if (whole.error) {
        if (!(whole.error instanceof RdbError)) throw new Error(report(`threw ${whole.error.stack}`));
        const e = whole.error;
        if (!(e.offset >= 0 && e.offset <= data.length)) throw new Error(report(`error offset ${e.offset} outside the input (${data.length} bytes): ${e.message}`));
        if (!/at offset \d+/.test(e.message)) throw new Error(report(`error without an offset: ${e.message}`));
        counts[e.kind] = (counts[e.kind] ?? 0) + 1;
      } else {
        counts.ok!++;
      }
      // Same outcome in random chunks.
      const chunked = parseRdb(data, { verifyChecksum }, () => 1 + Math.floor(r() * r() * 600));
      if (outcomeKey(chunked) !== outcomeKey(whole)) throw new Error(report(`whole: ${outcomeKey(whole)}, chunked: ${outcomeKey(chunked)} (${chunked.error?.message})`));
      // The loader into Databases (duplicate keys, DB limits) throws only RdbErrors too.
      if (i % 4 === 0) {
        try {
          loadRdbBuffer(data, Array.from({ length: 16 }, (_, d) => new Database(d)), { verifyChecksum });
        } catch (e) {
          if (!(e instanceof RdbError)) throw new Error(report(`loader threw ${(e as Error).stack}`));
        }
      }
      slowest = Math.max(slowest, performance.now() - caseStart);
    }
    const ms = performance.now() - t0;
    console.log(`rdb fuzz: ${CASES} cases in ${ms.toFixed(0)} ms (slowest ${slowest.toFixed(1)} ms): ${JSON.stringify(counts)}`);
    // Every kind of outcome shows up, so the mutations reach past the header.
    expect(counts.ok).toBeGreaterThan(0);
    expect(counts.corrupt).toBeGreaterThan(0);
    expect(counts.truncated).toBeGreaterThan(0);
    expect(slowest).toBeLessThan(2000);
  },
  120000,
);

test("hostile lengths: huge counts and sizes fail fast without allocating them", () => {
  const header = Buffer.from("REDIS0009", "latin1");
  const eof = Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
  const cases: Array<[string, number[]]> = [
    ["string of 2^32-1 bytes", [0x00, 0x01, 0x6b, 0x80, 0xff, 0xff, 0xff, 0xff]],
    ["string of 2^53 bytes (64-bit length)", [0x00, 0x01, 0x6b, 0x81, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ["64-bit length beyond 2^53", [0x00, 0x01, 0x6b, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ["list of 2^32-1 elements", [0x01, 0x01, 0x6b, 0x80, 0xff, 0xff, 0xff, 0xff, 0x01, 0x61]],
    ["LZF string expanding 1 byte to 4 GB", [0x00, 0x01, 0x6b, 0xc3, 0x01, 0x80, 0xff, 0xff, 0xff, 0xf0, 0x00]],
    ["LZF string of 2^32-1 compressed bytes", [0x00, 0x01, 0x6b, 0xc3, 0x80, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00]],
    ["quicklist of 2^32-1 nodes", [0x12, 0x01, 0x6b, 0x80, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01]],
    ["intset claiming 2^32-1 members", [0x0b, 0x01, 0x6b, 0x08, 0x02, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]],
    ["listpack claiming 4 GB", [0x10, 0x01, 0x6b, 0x07, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0xff]],
    ["zset with a 250-byte ASCII score", [0x03, 0x01, 0x6b, 0x01, 0x01, 0x6d, 0xfa]],
    ["module value with an unknown opcode", [0x07, 0x01, 0x6b, 0x81, 0, 0, 0, 0, 0, 0, 0x04, 0x00, 0x09]],
    ["SELECTDB 2^32-1", [0xfe, 0x80, 0xff, 0xff, 0xff, 0xff]],
  ];
  for (const [name, body] of cases) {
    const data = Buffer.concat([header, Buffer.from(body), eof]);
    const t0 = performance.now();
    const o = parseRdb(data, { maxDatabases: 16 });
    expect(o.error, name).toBeInstanceOf(RdbError);
    expect((o.error as RdbError).message, name).toMatch(/at offset \d+/);
    expect(performance.now() - t0, name).toBeLessThan(200);
  }
});
