// A fixed subset of Redis's own test suite (test/redis-suite/run.ts QUICK_SUITES, about three
// minutes) on every run of the suite: no failure beyond expected-failures.txt. The whole of it:
// `bun run test:redis`. Skipped, with one line saying why, without ../shared/redis-tests.

import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { missingPrerequisite, QUICK_SUITES, runSuites } from "./run.ts";

const bin = resolve(import.meta.dir, "../..", process.env.REPLICANT_BIN ?? "dist/replicant");
const missing = missingPrerequisite(bin);
if (missing !== null) console.log(`Redis's own test suite skipped: ${missing}`);

test.skipIf(missing !== null)("Redis's own suites (a fixed subset): no failure beyond expected-failures.txt", () => {
  const { unexpected, nowPassing, table } = runSuites(bin, QUICK_SUITES);
  console.log(table);
  for (const e of nowPassing) console.log(`now passing (remove it from expected-failures.txt): ${e.suite} | ${e.test}`);
  expect(unexpected).toEqual([]);
}, 900_000);
