// Regressions found while building the differential tests (test/differential/): WATCH and key
// expiry as Redis 7.0 has them (multi.c watchedKey.expired, isWatchedKeyExpired) - a key that
// expires after WATCH makes EXEC fail even before it is deleted, the deletion of a key that was
// already expired when watched is no change, and FLUSHDB / SWAPDB follow the same rules.

import { expect, test } from "bun:test";
import { serverPair, transcript } from "../helpers/side-by-side.ts";
import { RawClient } from "../differential/runner.ts";

const pair = serverPair();

/** Runs the steps one by one on both servers (a number is a pause in ms); returns both transcripts. */
async function scenario(steps: Array<string[] | number>): Promise<[string[], string[]]> {
  const run = async (port: number) => {
    const c = await RawClient.connect(port);
    const out: string[] = [];
    try {
      await c.call("FLUSHALL");
      for (const s of steps) {
        if (typeof s === "number") await Bun.sleep(s);
        else out.push(`${s.join(" ")} -> ${JSON.stringify(await c.call(...s))}`);
      }
    } finally {
      c.close();
    }
    return out;
  };
  return Promise.all([run(pair.redis.port), run(pair.replicant.port)]);
}

async function same(steps: Array<string[] | number>): Promise<string[]> {
  const [redis, replicant] = await scenario(steps);
  expect(replicant).toEqual(redis);
  return redis;
}

test("the lazy deletion of a key that was already expired when watched does not fail EXEC", async () => {
  const t = await same([["SET", "k", "v", "PXAT", "1"], ["WATCH", "k"], ["GET", "k"], ["MULTI"], ["PING"], ["EXEC"]]);
  expect(t.at(-1)).toBe('EXEC -> "*1\\r\\n+PONG\\r\\n"');
});

test("a key that expires after WATCH fails EXEC, deleted or not", async () => {
  const t = await same([["SET", "k", "v", "PX", "30"], ["WATCH", "k"], 60, ["MULTI"], ["PING"], ["EXEC"]]);
  expect(t.at(-1)).toBe('EXEC -> "*-1\\r\\n"');
});

test("an expired watched key that is overwritten fails EXEC; FLUSHDB of it does not", async () => {
  await same([["SET", "k", "v", "PXAT", "1"], ["WATCH", "k"], ["SET", "k", "w"], ["MULTI"], ["PING"], ["EXEC"]]);
  const t = await same([["SET", "k", "v", "PXAT", "1"], ["SET", "live", "v"], ["WATCH", "k"], ["FLUSHDB"], ["MULTI"], ["PING"], ["EXEC"]]);
  expect(t.at(-1)).toBe('EXEC -> "*1\\r\\n+PONG\\r\\n"');
  await same([["SET", "live", "v"], ["WATCH", "live"], ["FLUSHDB"], ["MULTI"], ["PING"], ["EXEC"]]);
});

test("SWAPDB: a missing watched key replaced by an expired one, an expired one by an expired one, by a live one", async () => {
  const steps = (other: string[][], watched: string[][]) => [
    ["SELECT", "1"], ...other, ["SELECT", "0"], ...watched, ["WATCH", "k"], ["SWAPDB", "0", "1"], ["MULTI"], ["PING"], ["EXEC"],
  ];
  const expiredK = [["SET", "k", "v", "PXAT", "1"]];
  const liveK = [["SET", "k", "v"]];
  await same(steps(expiredK, []));
  await same(steps(expiredK, expiredK));
  await same(steps(liveK, expiredK));
  await same(steps([], expiredK));
  await same(steps(liveK, liveK));
});

test("a transaction watching several keys, one of them expired when watched, the other modified", async () => {
  const cmds = [["SET", "a", "v", "PXAT", "1"], ["SET", "b", "v"], ["WATCH", "a", "b"], ["GET", "a"], ["INCR", "b"], ["MULTI"], ["PING"], ["EXEC"]];
  const [redis, replicant] = await pair.run(cmds);
  expect(transcript(cmds, replicant)).toEqual(transcript(cmds, redis));
});

test("the commands of an EXEC see the time EXEC started: a key set with PX 1 inside it is still there later in it", async () => {
  const burn = ["EVAL", "local i = 0 while i < 2000000 do i = i + 1 end return i", "0"];
  const t = await same([["MULTI"], ["SET", "k", "v", "PX", "1"], burn, ["GET", "k"], ["PTTL", "k"], ["EXEC"], ["GET", "k"]]);
  expect(t.at(-2)).toContain("$1\\r\\nv\\r\\n");
});
