// The Lua language and libraries: every snippet of lua-snippets.ts runs with EVAL on a real
// redis-server and on Replicant, in RESP2 and in RESP3; the replies (values, error texts with
// their positions) must be byte-identical.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { compareCommands, describeMismatches, startPair, type Pair } from "./compare.ts";
import { COMMANDS, COMPILER_LIMITS, LANGUAGE, LIBRARIES, MULTILINE } from "./lua-snippets.ts";

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
});

afterAll(async () => {
  await pair?.stop();
});

async function check(scripts: string[], resp3 = false): Promise<void> {
  const cmds = scripts.map((s) => ["EVAL", s, "0"]);
  const ms = resp3 ? await compareCommands(pair.r3, pair.p3, cmds) : await compareCommands(pair.r2, pair.p2, cmds);
  if (ms.length) console.log(describeMismatches(ms));
  expect(ms.length).toBe(0);
}

describe("Lua language", () => {
  test("language snippets (RESP2)", () => check(LANGUAGE));
  test("language snippets (RESP3)", () => check(LANGUAGE, true));
  test("error lines in multi-line scripts", () => check(MULTILINE));
  test("long and deeply nested code", () => check(COMPILER_LIMITS));
});

describe("libraries", () => {
  test("library snippets (RESP2)", () => check(LIBRARIES));
  test("library snippets (RESP3)", () => check(LIBRARIES, true));
});

describe("redis.call from scripts", () => {
  test("command snippets (RESP2)", () => check(COMMANDS));
  test("command snippets (RESP3)", () => check(COMMANDS, true));
});
