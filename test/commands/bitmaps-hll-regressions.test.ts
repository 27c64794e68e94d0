// Regressions found by the differential tests (test/differential/), bitmaps and HyperLogLog:
// the bit commands and PF* leave a raw sds behind, whatever the value's size.

import { expect, test } from "bun:test";
import { serverPair, transcript } from "../helpers/side-by-side.ts";

const pair = serverPair();

async function same(cmds: string[][]): Promise<void> {
  const [redis, replicant] = await pair.run(cmds);
  expect(transcript(cmds, replicant)).toEqual(transcript(cmds, redis));
}

test("SETBIT / BITFIELD / BITOP: OBJECT ENCODING raw, also without a change and on int/embstr values", async () => {
  const enc = (k: string) => ["OBJECT", "ENCODING", k];
  await same([
    ["SETBIT", "new", "7", "1"], enc("new"),
    ["SET", "int", "12"], ["SETBIT", "int", "1", "0"], enc("int"),
    ["SET", "emb", "abc"], ["SETBIT", "emb", "1", "1"], enc("emb"),
    ["SET", "emb2", "abc"], ["GETBIT", "emb2", "1"], enc("emb2"),
    ["SET", "bf", "xyz"], ["BITFIELD", "bf", "GET", "u8", "0"], enc("bf"),
    ["BITFIELD", "bf", "SET", "u8", "0", "120"], enc("bf"),
    ["SET", "bf2", "7"], ["BITFIELD", "bf2", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "100"], enc("bf2"),
    ["SET", "src", "ab"], ["BITOP", "NOT", "dst", "src"], enc("dst"),
    ["BITOP", "AND", "dst2", "src", "src"], enc("dst2"),
    // A later SET goes back to the content's encoding.
    ["SET", "dst", "ab"], enc("dst"),
  ]);
});

test("PFADD / PFCOUNT / PFMERGE: raw; RESTORE of the same bytes gives the content's encoding again", async () => {
  const enc = (k: string) => ["OBJECT", "ENCODING", k];
  const [dump] = await pair.run([["PFADD", "h", "a"], ["DUMP", "h"]]);
  const payload = dump[1]!.split("\r\n")[1]!;
  await same([
    ["PFADD", "h"], enc("h"),
    ["PFADD", "h", "a", "b"], enc("h"),
    ["PFCOUNT", "h"], enc("h"),
    ["PFMERGE", "m", "h"], enc("m"),
    ["PFADD", "h2"], ["PFADD", "h2", "x"], enc("h2"),
    ["SET", "plain", "x"], ["PFADD", "plain", "a"], enc("plain"),
  ]);
  // A restored HLL string is an embstr (tryObjectEncoding), even over a raw one with the same bytes.
  const cmds = [["PFADD", "h", "a"], enc("h"), ["RESTORE", "h", "0", payload, "REPLACE"], enc("h"), ["RESTORE", "h3", "0", payload], enc("h3"), ["PFCOUNT", "h3"], enc("h3")];
  const [redis, replicant] = await pair.run(cmds);
  expect(transcript(cmds, replicant)).toEqual(transcript(cmds, redis));
  expect(redis[3]).toBe("$6\r\nembstr\r\n");
});

test("sparse HLLs whose runs overflow the 16384 registers are corrupt for PFMERGE, PFCOUNT of several keys and TODENSE (as Debian's 7.0.15)", async () => {
  const hll = (ops: number[]) => Buffer.from([0x48, 0x59, 0x4c, 0x4c, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, ...ops]).latin1Slice();
  const xzero = (n: number) => [0x40 | ((n - 1) >> 8), (n - 1) & 0xff];
  const val = (v: number, len: number) => [0x80 | ((v - 1) << 2) | (len - 1)];
  const cases = [
    [...xzero(16384)],
    [...xzero(16384), ...val(1, 1)], // a VAL run starting right past the end
    [...xzero(16383), ...val(1, 2)],
    [...xzero(16384), 0x00],
    [...xzero(16000), ...val(2, 1)],
  ];
  const cmds: string[][] = [];
  for (const ops of cases) {
    cmds.push(["SET", "h", hll(ops)], ["PFMERGE", "d", "h"], ["PFCOUNT", "h"], ["PFCOUNT", "h", "h"], ["PFDEBUG", "TODENSE", "h"], ["SET", "h", hll(ops)], ["PFADD", "h", "zz"], ["DEL", "d"]);
  }
  await same(cmds);
});
