// Glob matching (common/glob.ts) against redis-server's stringmatchlen, through KEYS on the
// same keys: random patterns over a small alphabet with every special character, seeded; and
// the patterns that take exponential time with plain backtracking, which must come back at once.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { globMatch, globMatcher } from "../../src/common/glob.ts";
import type { RespClient } from "../helpers/resp-client.ts";
import { removeDir, type ServerProcess, startRedis, startReplicant } from "../helpers/servers.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

let redis: ServerProcess;
let ours: ServerProcess;
let a: RespClient;
let b: RespClient;

beforeAll(async () => {
  [redis, ours] = await Promise.all([startRedis(), startReplicant()]);
  [a, b] = await Promise.all([redis.client(), ours.client()]);
});

afterAll(async () => {
  for (const s of [redis, ours]) {
    await s?.stop();
    if (s) removeDir(s.dir);
  }
});

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

test("nocase folds ASCII letters only (C's tolower), as CONFIG GET does", () => {
  expect(globMatch("MAXMEMORY*", "maxmemory-policy", true)).toBe(true);
  expect(globMatch("[A-C]x", "bx", true)).toBe(true);
  expect(globMatch("\u00c9", "\u00e9", true)).toBe(false);
  // An empty string matches only an empty pattern (Redis's loop never starts).
  expect(globMatch("*", "")).toBe(false);
  expect(globMatch("", "")).toBe(true);
});

test("patterns that backtrack exponentially come back at once (Redis's Regression for pattern matching long nested loops)", async () => {
  const key = "a".repeat(50000);
  const stars = `${"a*".repeat(30)}b`;
  expect(globMatch(stars, key)).toBe(false);
  expect(globMatch(`${"*a".repeat(30)}`, key)).toBe(true);
  // Deeper than 1000 nested stars does not match (Redis 7.2's cap), without overflowing the stack.
  expect(globMatch("a*".repeat(5000), "a".repeat(6000))).toBe(false);
  await b.call("SET", "a".repeat(40), "1");
  expect(await b.call("KEYS", `${"a*".repeat(12)}b`)).toEqual([]);
  expect(await b.call("PING")).toBe("PONG");
}, 10000);

test("globMatcher (the fast paths for literal-and-star patterns) answers as globMatch", () => {
  const seed = seedFromEnv("GLOB_MATCHER_SEED");
  const rand = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const chars = ["a", "b", ":", "\\", "*"];
  const tokens = ["a", "b", ":", "ab", "a:", "*", "*", "*", "**", "\\*", "\\\\", "\\a", "\\", "?", "[ab]"];
  const texts = new Set<string>([""]);
  while (texts.size < 400) texts.add(Array.from({ length: Math.floor(rand() * 8) }, () => pick(chars)).join(""));
  const diffs: string[] = [];
  for (let i = 0; i < 3000 && diffs.length < 10; i++) {
    const pattern = Array.from({ length: Math.floor(rand() * 6) }, () => pick(tokens)).join("");
    const m = globMatcher(pattern);
    for (const t of texts) {
      if (m(t) !== globMatch(pattern, t)) diffs.push(`${JSON.stringify(pattern)} on ${JSON.stringify(t)}: matcher ${m(t)}`);
    }
  }
  expect(diffs.slice(0, 10)).toEqual([]);
});
