// Regressions found by the differential tests (test/differential/): integer arguments parsed as
// Redis does - string2ll refuses "-0" everywhere (BITCOUNT ranges, LRANGE, stream idle times...),
// and getIntFromObjectOrReply's two errors for DB indexes (not an integer / out of the C int
// range).

import { expect, test } from "bun:test";
import { serverPair, transcript } from "../helpers/side-by-side.ts";

const pair = serverPair();

async function same(cmds: string[][]): Promise<void> {
  const [redis, replicant] = await pair.run(cmds);
  expect(transcript(cmds, replicant)).toEqual(transcript(cmds, redis));
}

test('"-0" is not an integer', async () => {
  await same([
    ["SET", "bm", "abc"], ["RPUSH", "l", "a", "b"], ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
    ["BITCOUNT", "bm", "-0", "1"], ["BITCOUNT", "bm", "0", "-0", "BYTE"], ["BITPOS", "bm", "1", "-0"], ["GETRANGE", "bm", "-0", "1"],
    ["LRANGE", "l", "-0", "1"], ["LINDEX", "l", "-0"], ["LPOS", "l", "a", "RANK", "-0"], ["LPOP", "l", "-0"],
    ["XAUTOCLAIM", "s", "g", "c", "-0", "0"], ["XPENDING", "s", "g", "IDLE", "-0", "-", "+", "10"], ["XCLAIM", "s", "g", "c", "-0", "0-1"],
    ["INCRBY", "n", "-0"], ["EXPIRE", "bm", "-0"], ["SETBIT", "bm", "-0", "1"], ["BITFIELD", "bm", "SET", "u8", "0", "-0"],
    ["SELECT", "-0"], ["MOVE", "bm", "-0"],
  ]);
});

test("DB indexes: not an integer, or out of the int range (MOVE, COPY DB, SELECT, SWAPDB)", async () => {
  const cmds: string[][] = [["SET", "k", "v"]];
  for (const n of ["2147483648", "-2147483649", "9223372036854775808", "abc", "16", "-1"]) {
    cmds.push(["MOVE", "k", n], ["COPY", "k", "k2", "DB", n], ["SELECT", n], ["SWAPDB", n, "0"], ["SWAPDB", "0", n]);
  }
  await same(cmds);
});
