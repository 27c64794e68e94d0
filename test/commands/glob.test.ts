// Glob matching against redis-server's stringmatchlen, through KEYS on the same keys: random
// patterns over a small alphabet with every special character, seeded; and a pattern that takes
// exponential time with plain backtracking, which must come back at once. (common/glob.ts's own
// cases: test/common/glob.unit.test.ts.)

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { RespClient } from "../helpers/resp-client.ts";
import { type ServerProcess, startRedis, startReplicant, stopServers } from "../helpers/servers.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

let redis: ServerProcess;
let ours: ServerProcess;
let a: RespClient;
let b: RespClient;

beforeAll(async () => {
  [redis, ours] = await Promise.all([startRedis(), startReplicant()]);
  [a, b] = await Promise.all([redis.client(), ours.client()]);
});

afterAll(() => stopServers([redis, ours]));

const ALPHABET = ["a", "b", "A", "-", "^", "]", "[", "\\", "*", "?", "\u00e9", "\u00c9", "z"];

test("KEYS with random patterns: the same keys as redis-server", async () => {
  const seed = seedFromEnv("GLOB_SEED");
  const rand = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const keys = new Set<string>([""]);
  while (keys.size < 300) keys.add(Array.from({ length: Math.floor(rand() * 6) }, () => pick(ALPHABET)).join(""));
  const sets = [...keys].filter((k) => k !== "").map((k) => ["SET", k, "1"]);
  await Promise.all([a.pipeline(sets), b.pipeline(sets)]);
  const tokens = [...ALPHABET, "*", "*", "?", "[a-b]", "[^a]", "[b-a]", "[\\]]", "[a-", "\\*", "[^", "[]", "[A-Z]"];
  const diffs: string[] = [];
  for (let i = 0; i < 1500; i++) {
    const pattern = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => pick(tokens)).join("");
    const [x, y] = await Promise.all([a.call("KEYS", pattern), b.call("KEYS", pattern)]);
    const sx = JSON.stringify((x as string[]).sort());
    const sy = JSON.stringify((y as string[]).sort());
    if (sx !== sy) diffs.push(`${JSON.stringify(pattern)}: redis ${sx} / replicant ${sy}`);
    if (diffs.length > 10) break;
  }
  expect(diffs).toEqual([]);
}, 60000);

test("KEYS with a pattern that backtracks exponentially comes back at once", async () => {
  await b.call("SET", "a".repeat(40), "1");
  expect(await b.call("KEYS", `${"a*".repeat(12)}b`)).toEqual([]);
  expect(await b.call("PING")).toBe("PONG");
}, 10000);
