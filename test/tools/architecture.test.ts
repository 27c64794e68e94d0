// The architecture check as part of the suite, so that CI fails on a folder import cycle, an
// exported `let` or an export no other file imports (test/tools/check-architecture.ts; run it
// by hand for the full report).

import { expect, test } from "bun:test";
import { join } from "node:path";

test("the architecture check passes (no folder cycle, no exported let, no unused export)", () => {
  const r = Bun.spawnSync([process.execPath, join(import.meta.dir, "check-architecture.ts")], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) console.log(r.stdout.toString() + r.stderr.toString());
  expect(r.exitCode).toBe(0);
}, 60000);
