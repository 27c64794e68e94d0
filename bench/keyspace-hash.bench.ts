// Key hashing for the compact keyspace (docs/keyspace-design.md): ns per key for the keyed
// HalfSipHash-1-3 we use (over a latin1 string and over a byte range), the unkeyed Murmur3 and
// FNV-1a, and Bun.hash's native hashes (which need a view per key: a subarray).
//
//   bun bench/keyspace-hash.bench.ts [--keys 1000000] [--len 11]
//
// Run by hand, not in the test suite.

import { fnv1aBytes, hashBytes, hashString, murmur3Bytes } from "../src/store/keyspace/key-hash.ts";
import { opt } from "./keyspace-common.ts";

const KEYS = Number(opt("keys", "300000"));
const LENS = opt("len", "11,32").split(",").map(Number);

for (const LEN of LENS) {
  // A request-like buffer: keys back to back, and the same keys as fresh latin1 strings.
  const buf = Buffer.allocUnsafe(KEYS * LEN);
  for (let i = 0; i < KEYS; i++) {
    const k = `key:${String(i).padStart(7, "0")}`.padEnd(LEN, "x").slice(0, LEN);
    buf.latin1Write(k, i * LEN);
  }
  const strings: string[] = [];
  for (let i = 0; i < KEYS; i++) strings.push(buf.latin1Slice(i * LEN, i * LEN + LEN));

  let sink = 0;
  const rows: Array<[string, number]> = [];
  // Least CPU time of 7 runs (user + system: the machine is shared, preemption is not ours).
  const run = (name: string, fn: () => void) => {
    fn(); // warm up
    let best = Infinity;
    for (let r = 0; r < 7; r++) {
      const u0 = process.cpuUsage();
      fn();
      const u = process.cpuUsage(u0);
      best = Math.min(best, ((u.user + u.system) * 1000) / KEYS);
    }
    rows.push([name, best]);
  };
  run("HalfSipHash-1-3, bytes", () => {
    for (let i = 0; i < KEYS; i++) sink ^= hashBytes(buf, i * LEN, LEN);
  });
  run("HalfSipHash-1-3, latin1 string", () => {
    for (let i = 0; i < KEYS; i++) sink ^= hashString(strings[i]!);
  });
  run("HalfSipHash-1-3, string sliced from the buffer + hash", () => {
    for (let i = 0; i < KEYS; i++) sink ^= hashString(buf.latin1Slice(i * LEN, i * LEN + LEN));
  });
  run("Murmur3-32, bytes", () => {
    for (let i = 0; i < KEYS; i++) sink ^= murmur3Bytes(buf, i * LEN, LEN);
  });
  run("FNV-1a, bytes", () => {
    for (let i = 0; i < KEYS; i++) sink ^= fnv1aBytes(buf, i * LEN, LEN);
  });
  run("Bun.hash.xxHash32(subarray)", () => {
    for (let i = 0; i < KEYS; i++) sink ^= Bun.hash.xxHash32(buf.subarray(i * LEN, i * LEN + LEN));
  });
  run("Bun.hash.cityHash32(subarray)", () => {
    for (let i = 0; i < KEYS; i++) sink ^= Bun.hash.cityHash32(buf.subarray(i * LEN, i * LEN + LEN));
  });
  run("Bun.hash.murmur32v3(subarray)", () => {
    for (let i = 0; i < KEYS; i++) sink ^= Bun.hash.murmur32v3(buf.subarray(i * LEN, i * LEN + LEN));
  });
  run("Bun.hash.wyhash(subarray) (bigint)", () => {
    for (let i = 0; i < KEYS; i++) sink ^= Number(Bun.hash.wyhash(buf.subarray(i * LEN, i * LEN + LEN)) & 0xffffffffn);
  });
  run("Bun.hash.rapidhash(subarray) (bigint)", () => {
    for (let i = 0; i < KEYS; i++) sink ^= Number(Bun.hash.rapidhash(buf.subarray(i * LEN, i * LEN + LEN)) & 0xffffffffn);
  });
  run("buf.subarray alone", () => {
    for (let i = 0; i < KEYS; i++) sink ^= buf.subarray(i * LEN, i * LEN + LEN).length;
  });
  console.log(`\n${LEN}-byte keys, ${KEYS} keys (least CPU time of 7 runs):`);
  for (const [name, ns] of rows) console.log(`  ${name.padEnd(56)} ${ns.toFixed(1).padStart(6)} ns/key`);
  if (sink === 0.5) console.log(sink);
}
