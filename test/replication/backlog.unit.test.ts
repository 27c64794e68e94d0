import { describe, expect, test } from "bun:test";
import { Backlog } from "../../src/replication/backlog.ts";

function seededBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe("Backlog", () => {
  test("offsets as Redis keeps them", () => {
    const b = new Backlog(16, 100);
    expect(b.firstByteOffset).toBe(101);
    expect(b.histlen).toBe(0);
    b.append(Buffer.from("hello"));
    expect(b.histlen).toBe(5);
    expect(b.covers(101)).toBe(true);
    expect(b.covers(106)).toBe(true); // nothing to send, but continuable
    expect(b.covers(107)).toBe(false);
    expect(Buffer.concat(b.readFrom(103)).toString()).toBe("llo");
  });

  test("wraps around and keeps exactly the last `size` bytes", () => {
    const size = 1000;
    const b = new Backlog(size, 0);
    const stream = seededBytes(12345, 7);
    let pos = 0;
    const steps = [1, 7, 999, 1000, 1001, 3, 2500, 64];
    let i = 0;
    while (pos < stream.length) {
      const n = Math.min(steps[i++ % steps.length]!, stream.length - pos);
      b.append(stream.subarray(pos, pos + n));
      pos += n;
      const held = Math.min(pos, size);
      expect(b.histlen).toBe(held);
      expect(b.firstByteOffset).toBe(pos - held + 1);
      const from = b.firstByteOffset + Math.floor(held / 3);
      expect(Buffer.concat(b.readFrom(from)).equals(stream.subarray(from - 1, pos))).toBe(true);
    }
  });

  test("resize keeps the newest bytes", () => {
    const b = new Backlog(100, 0);
    const s = seededBytes(250, 3);
    b.append(s);
    b.resize(40);
    expect(b.histlen).toBe(40);
    expect(b.firstByteOffset).toBe(211);
    expect(Buffer.concat(b.readFrom(211)).equals(s.subarray(210))).toBe(true);
    b.resize(400);
    b.append(s.subarray(0, 10));
    expect(b.histlen).toBe(50);
    expect(Buffer.concat(b.readFrom(211)).equals(Buffer.concat([s.subarray(210), s.subarray(0, 10)]))).toBe(true);
  });
});
