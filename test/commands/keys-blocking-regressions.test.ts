// Regressions found by the differential tests (test/differential/): SWAPDB and FLUSHDB wake the
// clients blocked on keys of the databases they change, as redis-server 7.0 does
// (scanDatabaseForReadyKeys, scanDatabaseForDeletedStreams): a BLPOP on a key the swap brings
// in is served, an XREADGROUP on a stream that went away gets -UNBLOCKED.

import { expect, test } from "bun:test";
import { RespClient, type RespValue } from "../helpers/resp-client.ts";
import { serverPair } from "../helpers/side-by-side.ts";

const pair = serverPair();

/** Runs `setup` on a client of each server, then a blocking call on another, then `trigger`. */
async function blockedReply(port: number, setup: string[][], blocking: string[], trigger: string[][]): Promise<{ reply: RespValue; ms: number }> {
  const a = await RespClient.connect(port);
  const b = await RespClient.connect(port);
  try {
    await a.pipeline([["FLUSHALL"], ...setup]);
    await b.call("SELECT", "1");
    const started = Date.now();
    const pending = b.call(...blocking);
    await Bun.sleep(50);
    await a.pipeline(trigger);
    const reply = await pending;
    return { reply, ms: Date.now() - started };
  } finally {
    a.close();
    b.close();
  }
}

async function both(setup: string[][], blocking: string[], trigger: string[][]): Promise<RespValue> {
  const [x, y] = await Promise.all([blockedReply(pair.redis.port, setup, blocking, trigger), blockedReply(pair.replicant.port, setup, blocking, trigger)]);
  expect(y.reply).toEqual(x.reply);
  // Woken by the swap or flush, not by the 3 s timeout.
  expect(x.ms).toBeLessThan(2000);
  expect(y.ms).toBeLessThan(2000);
  return y.reply;
}

test("SWAPDB serves a BLPOP waiting on a key the swapped-in database holds", async () => {
  const reply = await both([["SELECT", "0"], ["RPUSH", "k", "x"]], ["BLPOP", "k", "3"], [["SWAPDB", "0", "1"]]);
  expect(reply).toEqual(["k", "x"]);
});

test("SWAPDB serves a BZPOPMIN in either database of the swap", async () => {
  const reply = await both([["SELECT", "2"], ["ZADD", "z", "1", "m"]], ["BZPOPMIN", "z", "3"], [["SWAPDB", "1", "2"]]);
  expect(reply).toEqual(["z", "m", "1"]);
});

test("SWAPDB and FLUSHDB unblock an XREADGROUP whose stream went away", async () => {
  const setup = [["SELECT", "1"], ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]];
  const blocking = ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "3000", "STREAMS", "s", ">"];
  const swapped = await both(setup, blocking, [["SWAPDB", "0", "1"]]);
  expect(String(swapped)).toContain("UNBLOCKED");
  const flushed = await both(setup, blocking, [["SELECT", "1"], ["FLUSHDB"]]);
  expect(String(flushed)).toContain("UNBLOCKED");
});
