import { describe, expect, test } from "bun:test";
import { EofMarkDetector } from "../../src/replication/eof-mark.ts";

describe("EofMarkDetector", () => {
  const mark = Buffer.from("0123456789abcdefghij0123456789abcdefghij");
  const payload = Buffer.concat([Buffer.from("REDIS0010"), Buffer.alloc(5000, 0x61), Buffer.from("0123456789abcdefghij"), Buffer.alloc(77, 0x62)]);
  const stream = Buffer.concat([payload, mark]);

  for (const size of [1, 3, 39, 40, 41, 64, 1000, stream.length]) {
    test(`chunks of ${size}: end found exactly at the mark, payload intact`, () => {
      const d = new EofMarkDetector(mark);
      const released: Buffer[] = [];
      let ended = false;
      for (let pos = 0; pos < stream.length; pos += size) {
        expect(ended).toBe(false);
        const chunk = stream.subarray(pos, pos + size);
        ended = d.push(chunk);
        released.push(...d.release(chunk, ended));
      }
      expect(ended).toBe(true);
      expect(Buffer.concat(released).equals(payload)).toBe(true);
    });
  }

  test("a partial mark inside the payload does not end it", () => {
    const d = new EofMarkDetector(mark);
    expect(d.push(Buffer.concat([Buffer.alloc(100), mark.subarray(0, 39)]))).toBe(false);
    expect(d.push(Buffer.from("x"))).toBe(false);
  });
});
