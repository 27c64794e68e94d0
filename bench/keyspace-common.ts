// Shared pieces of the keyspace benchmarks (bench/keyspace-*.bench.ts): options, timing, the
// dataset ("key:%07d" -> 10..100 random printable bytes, seeded) and memory readings.

import { readFileSync } from "node:fs";

const args = process.argv.slice(2);

export function opt(name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
}

export function flag(name: string): boolean {
  return args.includes(`--${name}`);
}

export function timeNs(fn: () => void): number {
  const t = Bun.nanoseconds();
  fn();
  return Bun.nanoseconds() - t;
}

/** mulberry32, as test/store/seeded.ts. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The dataset as bytes, the way a request buffer or an RDB payload holds it: key i is
 * "key:%07d" (11 bytes), its value 10..100 random printable bytes. Offsets index both.
 */
export interface Dataset {
  n: number;
  keys: Buffer;
  keyStart: Uint32Array;
  keyLen: Uint8Array;
  values: Buffer;
  valueStart: Uint32Array;
  valueLen: Uint8Array;
}

export function makeDataset(n: number, seed = 1, minLen = 10, maxLen = 100): Dataset {
  const random = rng(seed);
  const keys = Buffer.allocUnsafe(n * 11);
  const keyStart = new Uint32Array(n);
  const keyLen = new Uint8Array(n);
  const valueLen = new Uint8Array(n);
  const valueStart = new Uint32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    keyStart[i] = i * 11;
    keyLen[i] = 11;
    keys.latin1Write("key:" + String(i).padStart(7, "0"), i * 11);
    const len = minLen + Math.floor(random() * (maxLen - minLen + 1));
    valueLen[i] = len;
    valueStart[i] = total;
    total += len;
  }
  const values = Buffer.allocUnsafe(total);
  for (let p = 0; p < total; p++) values[p] = 33 + Math.floor(random() * 94);
  return { n, keys, keyStart, keyLen, values, valueStart, valueLen };
}

export function keyString(d: Dataset, i: number): string {
  return d.keys.latin1Slice(d.keyStart[i]!, d.keyStart[i]! + d.keyLen[i]!);
}

export function valueString(d: Dataset, i: number): string {
  return d.values.latin1Slice(d.valueStart[i]!, d.valueStart[i]! + d.valueLen[i]!);
}

/** A random permutation of 0..n-1 (or `count` random indexes with repeats when given). */
export function randomOrder(n: number, seed: number, count = n, repeats = false): Uint32Array {
  const random = rng(seed);
  const out = new Uint32Array(count);
  if (repeats) {
    for (let i = 0; i < count; i++) out[i] = Math.floor(random() * n);
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

export interface MemoryReading {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
}

/** Memory after a full collection (twice: finalizers of the first free more). */
export function memoryNow(): MemoryReading {
  Bun.gc(true);
  Bun.gc(true);
  const m = process.memoryUsage();
  return { rss: rssNow(), heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

export function rssNow(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

export function fmt(n: number, digits = 1): string {
  return n.toFixed(digits);
}

export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  return [line(header), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map((r) => line(r.map(String)))].join("\n");
}
