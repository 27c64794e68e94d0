// HyperLogLog commands against a real redis-server 7.0: every reply must be identical, and the
// HLL values themselves (GET) byte-identical: header, sparse opcodes, dense registers, cached
// cardinality. Then the same writes through replication (PFCOUNT included: a master propagates
// it when it refreshes the cached cardinality).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { startRedis, startReplicant, waitForSync, type ServerProcess, stopServers } from "../helpers/servers.ts";
import { differences, encodingDifferences, firstRawDifference, rawReplies } from "../helpers/reply-diff.ts";
import { xorshift } from "../helpers/seeded.ts";

const SEED = Number(process.env.SEED ?? 20240607);

type Cmd = Array<string | number>;

const started: ServerProcess[] = [];
let redis: ServerProcess;
let ours: ServerProcess;

beforeAll(async () => {
  redis = await startRedis();
  started.push(redis);
  ours = await startReplicant();
  started.push(ours);
});

afterAll(() => stopServers(started));

/** A sparse HLL header ("HYLL", encoding 1, cache valid and 0) followed by the given opcodes. */
function sparseHll(opcodes: number[]): string {
  return "HYLL\x01\x00\x00\x00" + "\x00".repeat(8) + String.fromCharCode(...opcodes);
}

/** A dense HLL with every register 0 except the given ones (cache flagged invalid). */
function denseHll(registers: Record<number, number>): string {
  const b = Buffer.alloc(16 + 12288 + 1);
  b.write("HYLL", 0, "latin1");
  b[15] = 0x80;
  for (const [r, v] of Object.entries(registers)) {
    const bit = Number(r) * 6;
    const byte = 16 + (bit >> 3);
    const fb = bit & 7;
    b[byte]! |= (v << fb) & 0xff;
    b[byte + 1]! |= v >> (8 - fb);
  }
  return b.latin1Slice(0, 16 + 12288);
}

function elements(prefix: string, n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);
}

describe("HyperLogLog: replies and values identical to redis-server", () => {
  test("edge cases", async () => {
    const a = await redis.client();
    const b = await ours.client();
    const binary = ["", "\x00", "\xff\xfe\xfd", "a".repeat(7), "b".repeat(8), "c".repeat(9), "d".repeat(15), "e".repeat(16), "\x80".repeat(23), "x".repeat(1000)];
    const cmds: Cmd[] = [
      ["FLUSHALL"],
      // Creation, with and without elements.
      ["PFADD", "h"],
      ["PFADD", "h"],
      ["GET", "h"],
      ["PFCOUNT", "h"],
      ["GET", "h"],
      ["PFADD", "h", "a", "b", "c"],
      ["PFADD", "h", "a", "b", "c"],
      ["GET", "h"],
      ["PFCOUNT", "h"],
      ["GET", "h"],
      ["PFCOUNT", "h"],
      ["PFCOUNT", "nosuchkey"],
      ["PFCOUNT", "nosuchkey", "h"],
      ["PFCOUNT", "h", "nosuchkey", "h"],
      ["PFADD", "bin", ...binary],
      ["GET", "bin"],
      ["PFCOUNT", "bin"],
      ["PFDEBUG", "DECODE", "bin"],
      ["PFDEBUG", "ENCODING", "bin"],
      // Sparse to dense through hll-sparse-max-bytes.
      ["PFADD", "big", ...elements("e", 300)],
      ["PFDEBUG", "ENCODING", "big"],
      ["PFADD", "big", ...elements("e", 3000, 300)],
      ["PFDEBUG", "ENCODING", "big"],
      ["GET", "big"],
      ["PFCOUNT", "big"],
      ["GET", "big"],
      ["PFADD", "big", "one-more"],
      ["PFADD", "big", ...elements("f", 5)],
      ["PFADD", "big", ...elements("g", 40)],
      ["GET", "big"],
      ["PFCOUNT", "big"],
      ["PFCOUNT", "big", "h", "bin"],
      ["PFADD", "huge", ...elements("m", 20000)],
      ["PFCOUNT", "huge"],
      ["GET", "huge"],
      // PFMERGE: missing destination and sources, sparse and dense mixes.
      ["PFMERGE", "m0"],
      ["GET", "m0"],
      ["PFMERGE", "m1", "nosuchkey"],
      ["GET", "m1"],
      ["PFMERGE", "m2", "h", "bin"],
      ["GET", "m2"],
      ["PFDEBUG", "ENCODING", "m2"],
      ["PFMERGE", "m3", "h", "big"],
      ["PFDEBUG", "ENCODING", "m3"],
      ["GET", "m3"],
      ["PFMERGE", "h", "bin"],
      ["GET", "h"],
      ["PFCOUNT", "m3", "huge"],
      ["PFMERGE", "big", "huge"],
      ["PFCOUNT", "big"],
      ["GET", "big"],
      // PFDEBUG.
      ["PFDEBUG", "ENCODING", "nosuchkey"],
      ["PFDEBUG", "GETREG", "bin"],
      ["PFDEBUG", "ENCODING", "bin"],
      ["GET", "bin"],
      ["PFDEBUG", "DECODE", "bin"],
      ["PFDEBUG", "DECODE", "h"],
      ["PFDEBUG", "TODENSE", "h"],
      ["PFDEBUG", "TODENSE", "h"],
      ["GET", "h"],
      ["PFDEBUG", "encoding", "h"],
      ["PFDEBUG", "NOSUCHSUB", "h"],
      ["PFDEBUG", "GETREG", "h", "extra"],
      ["PFDEBUG", "GETREG"],
      // Wrong types and invalid HLL strings.
      ["SET", "str", "hello"],
      ["PFADD", "str", "x"],
      ["PFCOUNT", "str"],
      ["PFCOUNT", "h", "str"],
      ["PFMERGE", "str", "h"],
      ["PFMERGE", "m4", "str"],
      ["PFDEBUG", "ENCODING", "str"],
      ["LPUSH", "list", "x"],
      ["PFADD", "list", "x"],
      ["PFCOUNT", "list"],
      ["PFCOUNT", "list", "h"],
      ["PFMERGE", "list", "h"],
      ["PFMERGE", "m5", "list"],
      ["PFDEBUG", "ENCODING", "list"],
      ["SET", "badenc", "HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"],
      ["PFCOUNT", "badenc"],
      ["SET", "shortdense", "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00abc"],
      ["PFCOUNT", "shortdense"],
      ["SET", "short", "HYLL\x01"],
      ["PFADD", "short", "x"],
      // Corrupt sparse data: opcodes covering 100 registers only.
      ["SET", "corrupt", sparseHll([0x40, 99])],
      ["PFCOUNT", "corrupt"],
      ["PFCOUNT", "corrupt", "h"],
      ["PFMERGE", "m6", "corrupt"],
      ["EXISTS", "m6"],
      ["PFADD", "corrupt", ...elements("q", 50)],
      ["GET", "corrupt"],
      ["PFDEBUG", "TODENSE", "corrupt"],
      ["PFDEBUG", "GETREG", "corrupt"],
      ["PFDEBUG", "DECODE", "corrupt"],
      // Valid hand-made sparse data with VAL runs, including the merge of adjacent values.
      ["SET", "crafted", sparseHll([0x80 | (2 << 2) | 3, 0x40 | 0x3f, 0xff - 4, 0x3f, 0x80])],
      ["PFDEBUG", "DECODE", "crafted"],
      ["PFCOUNT", "crafted"],
      ["PFADD", "crafted", ...elements("c", 30)],
      ["PFDEBUG", "DECODE", "crafted"],
      ["GET", "crafted"],
      // A valid cached cardinality is trusted as it is.
      ["SET", "cached", "HYLL\x01\x00\x00\x00\x39\x30\x00\x00\x00\x00\x00\x00\x7f\xff"],
      ["PFCOUNT", "cached"],
      ["SET", "cachedbig", "HYLL\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f\x7f\xff"],
      ["PFCOUNT", "cachedbig"],
      // Dense registers above 32 (only reachable through crafted values) force dense targets.
      ["SET", "dense40", denseHll({ 0: 40, 5: 63, 16383: 33, 100: 1 })],
      ["PFCOUNT", "dense40"],
      ["GET", "dense40"],
      ["PFMERGE", "m7", "dense40"],
      ["PFDEBUG", "ENCODING", "m7"],
      ["GET", "m7"],
      ["PFMERGE", "bin", "dense40", "crafted"],
      ["GET", "bin"],
      // TTLs survive PFADD / PFMERGE / PFCOUNT.
      ["PFADD", "ttl", "a"],
      ["PEXPIRE", "ttl", 100000],
      ["PFADD", "ttl", "b"],
      ["PFCOUNT", "ttl"],
      ["PFMERGE", "ttl", "h"],
      ["TTL", "ttl"],
      ["PFSELFTEST", "extra"],
      // Smaller sparse limit: earlier promotion.
      ["CONFIG", "SET", "hll-sparse-max-bytes", "60"],
      ["PFADD", "small", ...elements("s", 10)],
      ["PFDEBUG", "ENCODING", "small"],
      ["PFADD", "small", ...elements("s", 30, 10)],
      ["PFDEBUG", "ENCODING", "small"],
      ["GET", "small"],
      ["PFMERGE", "small2", "small"],
      ["PFDEBUG", "ENCODING", "small2"],
      ["PFMERGE", "sparse-dest", "h", "bin"],
      ["CONFIG", "SET", "hll-sparse-max-bytes", "0"],
      ["PFADD", "zero", "a"],
      ["PFDEBUG", "ENCODING", "zero"],
      ["CONFIG", "SET", "hll-sparse-max-bytes", "3000"],
      ["PFADD", "zero", "b"],
      ["GET", "zero"],
    ];
    expect(await differences(a, b, cmds, 20)).toEqual([]);
    expect(await b.call("PFSELFTEST")).toBe("OK");
  }, 60000);

  test(`random workload (seed ${SEED})`, async () => {
    console.log(`hyperloglog random workload seed=${SEED} (set SEED=... to replay)`);
    const r = xorshift(SEED);
    const keys = ["h0", "h1", "h2", "h3", "h4", "h5"];
    const cmds: Cmd[] = [["FLUSHALL"]];
    for (let i = 0; i < 4000; i++) {
      const k = r.pick(keys);
      const x = r.next();
      if (x < 0.55) {
        // 1..40 elements: both the dense string-edit path (<= 32) and the buffer path.
        const n = r.next() < 0.8 ? 1 + r.int(6) : 1 + r.int(40);
        const space = r.pick([50, 500, 5000, 100000]);
        cmds.push(["PFADD", k, ...Array.from({ length: n }, () => `el:${r.int(space)}`)]);
      } else if (x < 0.7) cmds.push(["PFCOUNT", k]);
      else if (x < 0.75) cmds.push(["PFCOUNT", k, r.pick(keys), r.pick(keys)]);
      else if (x < 0.8) cmds.push(["PFMERGE", k, r.pick(keys), r.pick([...keys, "missing"])]);
      else if (x < 0.9) cmds.push(["GET", k]);
      else if (x < 0.93) cmds.push(["PFDEBUG", "ENCODING", k]);
      else if (x < 0.94) cmds.push(["PFDEBUG", "TODENSE", k]);
      else if (x < 0.95) cmds.push(["PFDEBUG", "DECODE", k]);
      else if (x < 0.96) cmds.push(["DEL", k]);
      else if (x < 0.965) cmds.push(["SET", k, r.pick(["not an hll", "HYLL"])]);
      else if (x < 0.97) cmds.push(["CONFIG", "SET", "hll-sparse-max-bytes", String(r.pick([100, 500, 3000, 3000]))]);
      else cmds.push(["PFCOUNT", ...keys]);
    }
    for (const k of keys) cmds.push(["GET", k], ["PFCOUNT", k], ["GET", k]);
    cmds.push(["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]);
    const a = await redis.client();
    const b = await ours.client();
    expect(await differences(a, b, cmds)).toEqual([]);
    expect(await encodingDifferences(a, b, keys)).toEqual([]);
  }, 60000);

  test("RESP3: byte-identical replies", async () => {
    const r = xorshift(SEED + 1);
    const cmds: Cmd[] = [["HELLO", "3"], ["FLUSHALL"], ["PFCOUNT", "none"], ["PFDEBUG", "ENCODING", "none"]];
    for (let i = 0; i < 300; i++) {
      const k = `r${r.int(3)}`;
      const x = r.next();
      if (x < 0.5) cmds.push(["PFADD", k, ...Array.from({ length: 1 + r.int(8) }, () => `v${r.int(3000)}`)]);
      else if (x < 0.7) cmds.push(["PFCOUNT", k]);
      else if (x < 0.8) cmds.push(["PFMERGE", k, `r${r.int(3)}`]);
      else if (x < 0.9) cmds.push(["GET", k]);
      else cmds.push(["PFDEBUG", r.pick(["ENCODING", "DECODE", "GETREG"]), k]);
    }
    const [x, y] = [await rawReplies(redis.port, cmds), await rawReplies(ours.port, cmds)];
    expect(firstRawDifference(x, y)).toBe("");
  }, 60000);
});

describe("HyperLogLog through replication (redis-server master, Replicant replica)", () => {
  test("PFADD / PFMERGE / PFCOUNT / PFDEBUG applied byte for byte", async () => {
    const master = await startRedis();
    started.push(master);
    const replica = await startReplicant(["--replicaof", "127.0.0.1", String(master.port)]);
    started.push(replica);
    await waitForSync(master, replica);
    const m = await master.client();
    const r = xorshift(SEED + 2);
    console.log(`hyperloglog replication workload seed=${SEED + 2}`);
    const keys = ["p0", "p1", "p2", "p3"];
    const cmds: Cmd[] = [];
    for (let i = 0; i < 2000; i++) {
      const k = r.pick(keys);
      const x = r.next();
      if (x < 0.6) cmds.push(["PFADD", k, ...Array.from({ length: 1 + r.int(r.next() < 0.9 ? 5 : 50) }, () => `w${r.int(r.pick([100, 20000]))}`)]);
      // PFCOUNT refreshes the cached cardinality on the master, which then propagates it.
      else if (x < 0.8) cmds.push(["PFCOUNT", k]);
      else if (x < 0.85) cmds.push(["PFCOUNT", k, r.pick(keys)]);
      else if (x < 0.93) cmds.push(["PFMERGE", k, r.pick(keys), r.pick(keys)]);
      else if (x < 0.95) cmds.push(["PFDEBUG", "TODENSE", k]);
      else if (x < 0.96) cmds.push(["PFDEBUG", "GETREG", k]);
      else if (x < 0.97) cmds.push(["SELECT", r.pick([0, 1])]);
      else if (x < 0.98) cmds.push(["PEXPIRE", k, 1000000]);
      else cmds.push(["DEL", k]);
    }
    for (let i = 0; i < cmds.length; i += 500) await m.pipeline(cmds.slice(i, i + 500));
    await m.call("SELECT", 0);
    // The last PFADDs left invalid caches: count them on the master only; the replica must
    // apply the propagated PFCOUNTs and end up with the same bytes.
    for (const db of [0, 1]) {
      await m.call("SELECT", db);
      for (const k of keys) await m.call("PFCOUNT", k);
    }
    await m.call("SELECT", 0);
    await waitForSync(master, replica);
    const rc = await replica.client();
    const [sa, sb] = [await snapshotDataset(m), await snapshotDataset(rc)];
    expect(sa.size).toBeGreaterThan(0);
    expect(diffDatasets(sa, sb)).toEqual([]);
    // Caches were refreshed on the master: the replica's copies hold the same valid cache.
    for (const k of keys) {
      const v = await rc.call("GET", k);
      if (typeof v === "string") expect(v.charCodeAt(15) & 0x80).toBe(0);
    }
  }, 60000);
});
