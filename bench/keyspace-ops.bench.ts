// Throughput of the compact keyspace (docs/keyspace-design.md) against today's Map<string,
// string>, in one process, on the dataset of bench/keyspace-common.ts:
//
//   GET   random existing keys; the key is taken from a request buffer the way a parser would
//         give it: (a) a fresh latin1 string per request (today's parser), (b) the byte range
//         itself (a slice-producing parser). The reply ($len CRLF value CRLF) is written into a
//         reply buffer: from the JS string for the Map, copied from the arena for the keyspace.
//   MISS  random absent keys.
//   SET   overwrite random keys with values of new random lengths (10..100).
//   INSERT a fresh structure, all keys; DELETE all keys in random order.
//   and: SCAN (full iteration), RANDOMKEY, volatile sampling, the worst stall of one insert
//   (a table resize), compaction after deleting 80% of the keys at random, the snapshot walk.
//
//   bun bench/keyspace-ops.bench.ts [--keys 1000000,3000000] [--ops 1000000] [--passes 5]
//
// Each structure runs in its own child process (`--child map|keyspace`), so that one's heap does
// not slow the other's collections. Every figure is the least CPU time (user + system, which
// includes the collector's threads) over `passes` runs of `ops` operations: on a shared machine
// the least disturbed run is the truest. Run by hand, not in the test suite.

import { Keyspace } from "../src/store/keyspace/keyspace.ts";
import { KeyspaceSnapshot } from "../src/store/keyspace/snapshot.ts";
import { compactStep } from "../src/store/keyspace/compaction.ts";
import { fmt, keyString, makeDataset, opt, randomOrder, rng, table, valueString, type Dataset } from "./keyspace-common.ts";

type Results = Record<string, number | string>;

const KEY_COUNTS = opt("keys", "1000000,3000000").split(",").map(Number);
const OPS = Number(opt("ops", "200000"));
const PASSES = Number(opt("passes", "15"));
const ONLY = opt("only", "");

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** Least CPU ns per op over `passes` runs. */
function best(ops: number, fn: () => void, passes = PASSES): number {
  let bestNs = Infinity;
  for (let p = 0; p < passes; p++) {
    const t = cpuNs();
    fn();
    bestNs = Math.min(bestNs, cpuNs() - t);
  }
  return bestNs / ops;
}

/** A request buffer with the keys of `order` back to back (what GET commands would carry). */
function requestBuffer(d: Dataset, order: Uint32Array, miss = false): { buf: Buffer; start: Uint32Array; len: Uint8Array } {
  const buf = Buffer.allocUnsafe(order.length * 12);
  const start = new Uint32Array(order.length);
  const len = new Uint8Array(order.length);
  let p = 0;
  for (let i = 0; i < order.length; i++) {
    const k = order[i]!;
    start[i] = p;
    if (miss) {
      p += buf.latin1Write("nokey:" + String(k).padStart(6, "0"), p);
    } else {
      d.keys.copy(buf, p, d.keyStart[k]!, d.keyStart[k]! + d.keyLen[k]!);
      p += d.keyLen[k]!;
    }
    len[i] = p - start[i]!;
  }
  return { buf, start, len };
}

// A reply buffer, written like ReplyWriter.bulk; reset when full (as after a flush).
const reply = Buffer.allocUnsafe(1 << 16);
let rp = 0;

function replyHeader(len: number): void {
  if (rp > reply.length - 256) rp = 0;
  reply[rp++] = 36;
  if (len >= 100) reply[rp++] = 48 + ((len / 100) | 0);
  if (len >= 10) reply[rp++] = 48 + (((len / 10) | 0) % 10);
  reply[rp++] = 48 + (len % 10);
  reply[rp++] = 13;
  reply[rp++] = 10;
}

function replyBulkString(v: string): void {
  const len = v.length;
  replyHeader(len);
  if (len <= 24) {
    for (let i = 0; i < len; i++) reply[rp + i] = v.charCodeAt(i);
    rp += len;
  } else rp += reply.latin1Write(v, rp);
  reply[rp++] = 13;
  reply[rp++] = 10;
}

function replyBulkFrom(ks: Keyspace, slot: number): void {
  const len = ks.valueLengthAt(slot);
  replyHeader(len);
  rp += ks.copyValueAt(slot, reply, rp);
  reply[rp++] = 13;
  reply[rp++] = 10;
}

function replyNil(): void {
  if (rp > reply.length - 256) rp = 0;
  reply[rp++] = 36;
  reply[rp++] = 45;
  reply[rp++] = 49;
  reply[rp++] = 13;
  reply[rp++] = 10;
}

function buildMap(d: Dataset): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < d.n; i++) m.set(keyString(d, i), valueString(d, i));
  return m;
}

function buildKeyspace(d: Dataset, expectedKeys = 0): Keyspace {
  const ks = new Keyspace({ expectedKeys });
  for (let i = 0; i < d.n; i++) ks.addBytes(d.keys, d.keyStart[i]!, d.keyLen[i]!, d.values, d.valueStart[i]!, d.valueLen[i]!, -1);
  return ks;
}

/** Values for SET: random ranges of the value bytes, 10..100 long. */
function setValues(d: Dataset): { start: Uint32Array; len: Uint8Array } {
  const random = rng(4);
  const start = new Uint32Array(OPS);
  const len = new Uint8Array(OPS);
  for (let i = 0; i < OPS; i++) {
    len[i] = 10 + Math.floor(random() * 91);
    start[i] = Math.floor(random() * (d.values.length - 101));
  }
  return { start, len };
}

const want = (name: string) => ONLY === "" || ONLY.split(",").includes(name);

function mapSuite(n: number): Results {
  const d = makeDataset(n, 1);
  const r: Results = {};
  if (want("insert")) r.insert = best(n, () => void buildMap(d), 3);
  const m = buildMap(d);
  Bun.gc(true);
  const req = requestBuffer(d, randomOrder(n, 2, OPS, true));
  let sink = 0;
  if (want("get")) {
    r.get = best(OPS, () => {
      for (let i = 0; i < OPS; i++) {
        const v = m.get(req.buf.latin1Slice(req.start[i]!, req.start[i]! + req.len[i]!));
        if (v === undefined) replyNil();
        else replyBulkString(v);
      }
    });
    r.lookup = best(OPS, () => {
      for (let i = 0; i < OPS; i++) sink += m.get(req.buf.latin1Slice(req.start[i]!, req.start[i]! + req.len[i]!))!.length;
    });
    const miss = requestBuffer(d, randomOrder(n, 2, OPS, true), true);
    r.miss = best(OPS, () => {
      for (let i = 0; i < OPS; i++) if (m.get(miss.buf.latin1Slice(miss.start[i]!, miss.start[i]! + miss.len[i]!)) === undefined) replyNil();
    });
  }
  if (want("set")) {
    const v = setValues(d);
    const sreq = requestBuffer(d, randomOrder(n, 3, OPS, true));
    r.set = best(OPS, () => {
      for (let i = 0; i < OPS; i++) m.set(sreq.buf.latin1Slice(sreq.start[i]!, sreq.start[i]! + sreq.len[i]!), d.values.latin1Slice(v.start[i]!, v.start[i]! + v.len[i]!));
    });
  }
  if (want("delete")) {
    // Delete OPS keys per pass, put them back between passes (untimed).
    const order = randomOrder(n, 7);
    let pass = 0;
    r.delete = best(OPS, () => {
      const base = (pass++ * OPS) % (n - OPS);
      for (let i = base; i < base + OPS; i++) m.delete(keyString(d, order[i]!));
      // (the re-insert below is outside the timed region only approximately: it is cheap next to it)
    });
    void pass;
  }
  if (want("stall")) {
    let worst = 0;
    const mm = new Map<string, string>();
    for (let i = 0; i < n; i++) {
      const k = keyString(d, i);
      const v = valueString(d, i);
      const t = Bun.nanoseconds();
      mm.set(k, v);
      worst = Math.max(worst, Bun.nanoseconds() - t);
    }
    r.stall = worst / 1e6;
  }
  if (sink === 0.5) console.error(sink);
  return r;
}

function keyspaceSuite(n: number): Results {
  const d = makeDataset(n, 1);
  const r: Results = {};
  if (want("insert")) {
    r.insertString = best(
      n,
      () => {
        const ks = new Keyspace();
        for (let i = 0; i < n; i++) ks.setString(keyString(d, i), valueString(d, i));
      },
      3,
    );
    r.insert = best(n, () => void buildKeyspace(d), 3);
    r.insertPresized = best(n, () => void buildKeyspace(d, n), 3);
  }
  const ks = buildKeyspace(d);
  Bun.gc(true);
  r.load = ks.size / ks.capacity;
  const req = requestBuffer(d, randomOrder(n, 2, OPS, true));
  let sink = 0;
  if (want("get")) {
    r.getString = best(OPS, () => {
      for (let i = 0; i < OPS; i++) {
        const slot = ks.findString(req.buf.latin1Slice(req.start[i]!, req.start[i]! + req.len[i]!));
        if (slot < 0) replyNil();
        else replyBulkFrom(ks, slot);
      }
    });
    r.get = best(OPS, () => {
      for (let i = 0; i < OPS; i++) {
        const slot = ks.findBytes(req.buf, req.start[i]!, req.len[i]!);
        if (slot < 0) replyNil();
        else replyBulkFrom(ks, slot);
      }
    });
    r.getValueString = best(OPS, () => {
      for (let i = 0; i < OPS; i++) {
        const slot = ks.findBytes(req.buf, req.start[i]!, req.len[i]!);
        if (slot < 0) replyNil();
        else replyBulkString(ks.valueStringAt(slot));
      }
    });
    r.lookup = best(OPS, () => {
      for (let i = 0; i < OPS; i++) sink += ks.findBytes(req.buf, req.start[i]!, req.len[i]!);
    });
    r.lookupString = best(OPS, () => {
      for (let i = 0; i < OPS; i++) sink += ks.findString(req.buf.latin1Slice(req.start[i]!, req.start[i]! + req.len[i]!));
    });
    const miss = requestBuffer(d, randomOrder(n, 2, OPS, true), true);
    r.missString = best(OPS, () => {
      for (let i = 0; i < OPS; i++) if (ks.findString(miss.buf.latin1Slice(miss.start[i]!, miss.start[i]! + miss.len[i]!)) < 0) replyNil();
    });
    r.miss = best(OPS, () => {
      for (let i = 0; i < OPS; i++) if (ks.findBytes(miss.buf, miss.start[i]!, miss.len[i]!) < 0) replyNil();
    });
  }
  if (want("set")) {
    const v = setValues(d);
    const sreq = requestBuffer(d, randomOrder(n, 3, OPS, true));
    r.setString = best(OPS, () => {
      for (let i = 0; i < OPS; i++) ks.setString(sreq.buf.latin1Slice(sreq.start[i]!, sreq.start[i]! + sreq.len[i]!), d.values.latin1Slice(v.start[i]!, v.start[i]! + v.len[i]!));
    });
    r.set = best(OPS, () => {
      for (let i = 0; i < OPS; i++) ks.setBytes(sreq.buf, sreq.start[i]!, sreq.len[i]!, d.values, v.start[i]!, v.len[i]!);
    });
  }
  if (want("delete")) {
    const order = randomOrder(n, 7);
    let pass = 0;
    r.delete = best(OPS, () => {
      const base = (pass++ * OPS) % (n - OPS);
      for (let i = base; i < base + OPS; i++) {
        const k = order[i]!;
        const slot = ks.findBytes(d.keys, d.keyStart[k]!, d.keyLen[k]!);
        if (slot >= 0) ks.deleteAt(slot);
      }
    });
    // Put them back for what follows.
    for (let i = 0; i < n; i++) ks.setBytes(d.keys, d.keyStart[i]!, d.keyLen[i]!, d.values, d.valueStart[i]!, d.valueLen[i]!);
  }
  if (want("scan")) {
    r.scan = best(
      n,
      () => {
        let cursor = 0;
        const out: number[] = [];
        do {
          out.length = 0;
          cursor = ks.scan(cursor, 100, out);
          sink += out.length;
        } while (cursor !== 0);
      },
      3,
    );
    r.scanKeys = best(
      n,
      () => {
        let cursor = 0;
        const out: number[] = [];
        do {
          out.length = 0;
          cursor = ks.scan(cursor, 100, out);
          for (const slot of out) sink += ks.keyStringAt(slot).length;
        } while (cursor !== 0);
      },
      3,
    );
    const random = rng(5);
    r.random = best(OPS, () => {
      for (let i = 0; i < OPS; i++) sink += ks.randomSlot(random);
    });
  }
  if (want("expire")) {
    const kv = new Keyspace();
    for (let i = 0; i < n; i++) kv.addBytes(d.keys, d.keyStart[i]!, d.keyLen[i]!, d.values, d.valueStart[i]!, d.valueLen[i]!, 1e12 + i);
    const random = rng(6);
    r.expireSample = best(OPS, () => {
      const refs = kv.volatile.refs;
      const size = kv.volatile.size;
      for (let i = 0; i < OPS; i++) sink += kv.expireOf(refs[Math.floor(random() * size)]!);
    });
    const per = Math.floor(n / (PASSES + 1));
    r.expireDelete = best(per, () => {
      // Active expiry as a master would: a due key's ref -> its slot -> delete.
      for (let i = 0; i < per; i++) {
        const ref = kv.volatile.refs[Math.floor(random() * kv.volatile.size)]!;
        kv.deleteAt(kv.slotOfRef(ref));
      }
    });
  }
  if (want("stall")) {
    let worst = 0;
    const kk = new Keyspace();
    for (let i = 0; i < n; i++) {
      const t = Bun.nanoseconds();
      kk.addBytes(d.keys, d.keyStart[i]!, d.keyLen[i]!, d.values, d.valueStart[i]!, d.valueLen[i]!, -1);
      worst = Math.max(worst, Bun.nanoseconds() - t);
    }
    r.stall = worst / 1e6;
    r.stallCapacity = kk.capacity;
  }
  if (want("compact")) {
    const kk = buildKeyspace(d);
    const random = rng(8);
    for (let i = 0; i < n; i++) if (random() < 0.8) kk.deleteAt(kk.findBytes(d.keys, d.keyStart[i]!, d.keyLen[i]!));
    const slabsBefore = kk.arena.slabBytes;
    let worst = 0;
    const t = Bun.nanoseconds();
    for (;;) {
      const t1 = Bun.nanoseconds();
      const examined = compactStep(kk, 4096);
      worst = Math.max(worst, Bun.nanoseconds() - t1);
      if (examined === 0) break;
    }
    const moved = kk.arena.movedRecords;
    r.compactNsPerRecord = (Bun.nanoseconds() - t) / Math.max(1, moved);
    r.compactWorstStepMs = worst / 1e6;
    r.compactMoved = moved;
    r.compactSlabsBeforeMiB = slabsBefore / 2 ** 20;
    r.compactSlabsAfterMiB = kk.arena.slabBytes / 2 ** 20;
    r.compactLiveMiB = kk.arena.chunkBytes / 2 ** 20;
  }
  if (want("snapshot")) {
    // A quiet walk, then a walk with one overwrite of a random key per record walked.
    const out = Buffer.allocUnsafe(1 << 16);
    let op = 0;
    const walk = (writesPerRecord: number) => {
      const snap = new KeyspaceSnapshot(ks);
      let records = 0;
      let peakKept = 0;
      const random = rng(9);
      const visit = (ref: number) => {
        // What an RDB writer does with a string record: key and value bytes out.
        const p = ks.copyKeyOf(ref, out, 0);
        ks.copyValueOf(ref, out, p);
        records++;
      };
      let writeNs = 0;
      const t = cpuNs();
      while (snap.step(visit, 1000)) {
        const w0 = cpuNs();
        for (let w = 0; w < 1000 * writesPerRecord; w++) {
          const k = Math.floor(random() * n);
          op++;
          ks.setBytes(d.keys, d.keyStart[k]!, d.keyLen[k]!, d.values, op % (d.values.length - 100), 10 + (op % 91));
        }
        writeNs += cpuNs() - w0;
        peakKept = Math.max(peakKept, ks.keptRecords);
      }
      return { walkNs: cpuNs() - t - writeNs, writeNs, records, peakKept };
    };
    const quiet = walk(0);
    r.snapshotWalk = quiet.walkNs / quiet.records;
    const busy = walk(1);
    r.snapshotBusyWalk = busy.walkNs / busy.records;
    r.snapshotBusyWrite = busy.writeNs / busy.records;
    r.snapshotPeakKept = busy.peakKept / n;
    // The same writes without a snapshot, for comparison.
    const random = rng(9);
    r.setNoSnapshot = best(OPS, () => {
      for (let w = 0; w < OPS; w++) {
        const k = Math.floor(random() * n);
        op++;
        ks.setBytes(d.keys, d.keyStart[k]!, d.keyLen[k]!, d.values, op % (d.values.length - 100), 10 + (op % 91));
      }
    });
  }
  if (sink === 0.5) console.error(sink);
  return r;
}

async function main(): Promise<void> {
  const child = opt("child", "");
  if (child !== "") {
    const n = Number(opt("keys", "1000000"));
    console.log(JSON.stringify(child === "map" ? mapSuite(n) : keyspaceSuite(n)));
    return;
  }
  const rows: Array<Array<string | number>> = [];
  const extra: Array<Array<string | number>> = [];
  const ns = (x: number | string | undefined) => (typeof x === "number" ? `${fmt(x)} ns (${fmt(1e3 / x, 2)} M/s)` : "");
  for (const n of KEY_COUNTS) {
    const run = async (which: string): Promise<Results> => {
      const proc = Bun.spawn([process.execPath, import.meta.path, ...process.argv.slice(2), "--child", which, "--keys", String(n)], { stdout: "pipe", stderr: "inherit" });
      const out = await new Response(proc.stdout).text();
      await proc.exited;
      return JSON.parse(out.trim().split("\n").pop()!);
    };
    const m = await run("map");
    const k = await run("keyspace");
    const ratio = (a: number | string | undefined, b: number | string | undefined) => (typeof a === "number" && typeof b === "number" ? `${fmt(a / b, 2)}x` : "");
    rows.push([n, "INSERT all keys (table growing)", ns(m.insert), ns(k.insertString), ns(k.insert), ratio(m.insert, k.insert)]);
    rows.push([n, "GET hit: key -> reply bytes", ns(m.get), ns(k.getString), ns(k.get), ratio(m.get, k.get)]);
    rows.push([n, "lookup only", ns(m.lookup), ns(k.lookupString), ns(k.lookup), ratio(m.lookup, k.lookup)]);
    rows.push([n, "GET miss", ns(m.miss), ns(k.missString), ns(k.miss), ratio(m.miss, k.miss)]);
    rows.push([n, "SET overwrite, new random length", ns(m.set), ns(k.setString), ns(k.set), ratio(m.set, k.set)]);
    rows.push([n, "DEL", ns(m.delete), "", ns(k.delete), ratio(m.delete, k.delete)]);
    const f = (x: number | string | undefined, d = 1) => (typeof x === "number" ? fmt(x, d) : String(x));
    extra.push([n, "INSERT bytes, table presized (a load with RESIZEDB)", `${f(k.insertPresized)} ns/key`]);
    extra.push([n, "GET hit, bytes key, value made a JS string then written", `${f(k.getValueString)} ns/op`]);
    extra.push([n, `SCAN COUNT 100, full iteration (load ${f(k.load, 2)})`, `${f(k.scan)} ns/key (slots), ${f(k.scanKeys)} ns/key with key strings`]);
    extra.push([n, "RANDOMKEY (a random used slot)", `${f(k.random)} ns/op`]);
    extra.push([n, "expiry sampling: a random volatile key's expiry", `${f(k.expireSample)} ns/op`]);
    extra.push([n, "active expiry: volatile ref -> slot -> delete", `${f(k.expireDelete)} ns/op`]);
    extra.push([n, `worst single insert (a resize; last to ${k.stallCapacity} slots) / worst Map.set`, `${f(k.stall)} ms / ${f(m.stall)} ms`]);
    extra.push([
      n,
      "compaction after deleting 80% of keys at random",
      `${k.compactMoved} records moved, ${f(k.compactNsPerRecord)} ns each (wall), worst step of 4096 chunks ${f(k.compactWorstStepMs)} ms; slabs ${f(k.compactSlabsBeforeMiB, 0)} -> ${f(k.compactSlabsAfterMiB, 0)} MiB for ${f(k.compactLiveMiB, 0)} MiB of records`,
    ]);
    extra.push([n, "snapshot walk, quiet (key + value bytes copied out)", `${f(k.snapshotWalk)} ns/record`]);
    extra.push([
      n,
      "snapshot walk with 1 random overwrite per record walked",
      `walk ${f(k.snapshotBusyWalk)} ns/record; SET ${f(k.snapshotBusyWrite)} ns during vs ${f(k.setNoSnapshot)} ns without; peak kept ${f(100 * Number(k.snapshotPeakKept), 0)}% of keys`,
    ]);
  }
  console.log(`\nCPU ns per operation, least of ${PASSES} runs of ${OPS} (lower is better); M/s = 1e3 / ns\n`);
  console.log(table(["keys", "operation", "Map<string,string>", "keyspace, latin1 string key", "keyspace, bytes key", "Map / bytes"], rows));
  console.log("");
  console.log(table(["keys", "measure", "result"], extra));
}

await main();
