// Glob matching (common/glob.ts) on its own: case folding, the patterns that take exponential
// time with plain backtracking (which must come back at once), and the fast matchers for
// literal-and-star patterns against the general one. (Against redis-server, through KEYS:
// test/commands/glob.test.ts.)

import { expect, test } from "bun:test";
import { globMatch, globMatcher } from "../../src/common/glob.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

test("nocase folds ASCII letters only (C's tolower), as CONFIG GET does", () => {
  expect(globMatch("MAXMEMORY*", "maxmemory-policy", true)).toBe(true);
  expect(globMatch("[A-C]x", "bx", true)).toBe(true);
  expect(globMatch("\u00c9", "\u00e9", true)).toBe(false);
  // An empty string matches only an empty pattern (Redis's loop never starts).
  expect(globMatch("*", "")).toBe(false);
  expect(globMatch("", "")).toBe(true);
});

test("patterns that backtrack exponentially come back at once (Redis's Regression for pattern matching long nested loops)", () => {
  const key = "a".repeat(50000);
  const stars = `${"a*".repeat(30)}b`;
  expect(globMatch(stars, key)).toBe(false);
  expect(globMatch(`${"*a".repeat(30)}`, key)).toBe(true);
  // Deeper than 1000 nested stars does not match (Redis 7.2's cap), without overflowing the stack.
  expect(globMatch("a*".repeat(5000), "a".repeat(6000))).toBe(false);
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
