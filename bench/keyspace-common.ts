// Shared pieces of the keyspace benchmarks (bench/keyspace-*.bench.ts): options, timing, the
// dataset ("key:%07d" -> 10..100 random printable bytes, seeded) and memory readings.

import { readFileSync } from "node:fs";

export { flag, opt } from "./options.ts";

export function timeNs(fn: () => void): number {
  const t = Bun.nanoseconds();
  fn();
  return Bun.nanoseconds() - t;
}

/** mulberry32, as test/helpers/seeded.ts. */
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
 * The dataset as bytes, the way a request buffer or an RDB payload holds it. Shapes:
 *   strings  key i is "key:%07d" (11 bytes), its value 10..100 random printable bytes;
 *   tiny     "k:<i>" -> "v<i>", the short strings of docs/performance.md (Redis: 92 B/key);
 *   hash     "h:<i>" -> a hash of 4 fields (the shape of bench/aggregate-memory.bench.ts),
 *            built by `hashFields`; the value bytes are unused.
 */
export type Shape = "strings" | "tiny" | "hash";

export interface Dataset {
  n: number;
  shape: Shape;
  keys: Buffer;
  keyStart: Uint32Array;
  keyLen: Uint8Array;
  values: Buffer;
  valueStart: Uint32Array;
  valueLen: Uint8Array;
}

export function makeDataset(n: number, seed = 1, shape: Shape = "strings"): Dataset {
  const random = rng(seed);
  const keys = Buffer.allocUnsafe(n * 11);
  const keyStart = new Uint32Array(n);
  const keyLen = new Uint8Array(n);
  const valueLen = new Uint8Array(n);
  const valueStart = new Uint32Array(n);
  let kp = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    keyStart[i] = kp;
    const key = shape === "strings" ? "key:" + String(i).padStart(7, "0") : (shape === "tiny" ? "k:" : "h:") + i;
    kp += keys.latin1Write(key, kp);
    keyLen[i] = kp - keyStart[i]!;
    const len = shape === "strings" ? 10 + Math.floor(random() * 91) : shape === "tiny" ? 1 + String(i).length : 0;
    valueLen[i] = len;
    valueStart[i] = total;
    total += len;
  }
  const values = Buffer.allocUnsafe(total);
  if (shape === "strings") for (let p = 0; p < total; p++) values[p] = 33 + Math.floor(random() * 94);
  else if (shape === "tiny") for (let i = 0; i < n; i++) values.latin1Write("v" + i, valueStart[i]!);
  return { n, shape, keys, keyStart, keyLen, values, valueStart, valueLen };
}

/** The fields of hash i (shape "hash"), as field/value pairs. */
export function hashFields(i: number): Array<[string, string]> {
  return [
    ["f1", `v${i}`],
    ["f2", "x".repeat(20)],
    ["f3", String(i)],
    ["f4", "yy"],
  ];
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

/**
 * Memory after full collections and a pause: the allocator returns freed pages to the OS on a
 * timer (bmalloc's scavenger), so RSS read right after a build still counts garbage (measured:
 * 129 B/key right after a 1M-key build, 93 B/key half a second later, stable after).
 */
export async function memoryNow(): Promise<MemoryReading> {
  for (let i = 0; i < 3; i++) {
    Bun.gc(true);
    await Bun.sleep(300);
  }
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

/** Expiry times far in the future: nothing expires during a bench. */
export const EXPIRE_BASE = 4_000_000_000_000;

/** Whether key i gets an expiry when a fraction `ttl` of the keys have one (spread evenly). */
export function hasTtl(i: number, ttl: number): boolean {
  return ttl > 0 && (i * 2654435761) % 1000 < ttl * 1000;
}

/** SET (and PEXPIREAT) for every key over one connection, 10k commands per write. */
export async function pipelineLoad(port: number, d: Dataset, ttl: number): Promise<void> {
  let expected = 0;
  let received = 0;
  let resolveDone: () => void = () => {};
  let waiting = false;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        received += chunk.length;
        if (waiting && received >= expected) resolveDone();
      },
    },
  });
  const pending: Buffer[] = [];
  const BATCH = 10000;
  for (let start = 0; start < d.n; start += BATCH) {
    const parts: string[] = [];
    for (let i = start; i < Math.min(d.n, start + BATCH); i++) {
      const k = keyString(d, i);
      if (d.shape === "hash") {
        const f = hashFields(i).flat();
        parts.push(`*${2 + f.length}\r\n$4\r\nHSET\r\n$${k.length}\r\n${k}\r\n` + f.map((x) => `$${x.length}\r\n${x}\r\n`).join(""));
        expected += 4; // :4\r\n
      } else {
        const v = valueString(d, i);
        parts.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`);
        expected += 5; // +OK\r\n
      }
      if (hasTtl(i, ttl)) {
        const when = String(EXPIRE_BASE + i);
        parts.push(`*3\r\n$9\r\nPEXPIREAT\r\n$${k.length}\r\n${k}\r\n$${when.length}\r\n${when}\r\n`);
        expected += 4; // :1\r\n
      }
    }
    pending.push(Buffer.from(parts.join(""), "latin1"));
    // Keep a few batches in flight.
    while (pending.length > 0) {
      const buf = pending[0]!;
      const n = socket.write(buf);
      if (n === buf.length) pending.shift();
      else {
        if (n > 0) pending[0] = buf.subarray(n);
        await Bun.sleep(1);
      }
    }
    while (expected - received > 4 * 1024 * 1024) await Bun.sleep(1);
  }
  if (received < expected) {
    await new Promise<void>((resolve) => {
      resolveDone = resolve;
      waiting = true;
      if (received >= expected) resolve();
    });
  }
  socket.end();
}

