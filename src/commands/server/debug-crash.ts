// DEBUG SEGFAULT / PANIC / ASSERT / OOM: the server dies on purpose, as redis-server does, for
// tests of supervisors, crash logging and replicas' reconnection. The log gets a bug report
// in Redis's frame (START / END lines, what failed, the client, INFO), written synchronously;
// then the process ends by the same signal as Redis's: SIGSEGV for SEGFAULT, SIGABRT otherwise.

import { clientInfoLine } from "../../core/client-info.ts";
import { infoString } from "./info.ts";
import type { Client } from "../../core/client.ts";
import { REDIS_COMPAT_VERSION } from "../../common/version.ts";

function bugReport(c: Client, argv: string[], lines: string[]): void {
  const log = c.server.log;
  log.raw("\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===\n");
  for (const l of lines) log.warning(l);
  log.raw(`\n------ INFO OUTPUT ------\n${infoString(c.server, ["all"]).replaceAll("\r\n", "\n")}\n`);
  log.raw(`------ CURRENT CLIENT INFO ------\n${clientInfoLine(c)}\n`);
  log.raw(argv.map((a, i) => `argv[${i}]: '${a}'\n`).join(""));
  log.raw(
    "\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n\n" +
      "       Please report the crash by opening an issue on github:\n\n" +
      "           https://github.com/redis/redis/issues (for Replicant: its own tracker)\n\n",
  );
}

export function debugSegfault(c: Client, argv: string[]): never {
  bugReport(c, argv, [`Redis ${REDIS_COMPAT_VERSION} crashed by signal: 11, si_code: 2`, "Crashed running the instruction at: DEBUG SEGFAULT"]);
  process.kill(process.pid, "SIGSEGV");
  // The signal is delivered before this runs; should it not be, end the same way.
  process.abort();
}

function panic(c: Client, argv: string[], lines: string[]): never {
  bugReport(c, argv, lines);
  process.abort();
}

export function debugPanic(c: Client, argv: string[]): never {
  panic(c, argv, ["------------------------------------------------", "!!! Software Failure. Press left mouse button to continue", `Guru Meditation: DEBUG PANIC called at Unix time ${Math.floor(Date.now() / 1000)} #debug.c:0`]);
}

export function debugAssert(c: Client, argv: string[]): never {
  panic(c, argv, ["=== ASSERTION FAILED ===", "==> debug.c:0 '1 == 2' is not true"]);
}

/** DEBUG OOM: Redis asks for SIZE_MAX/2 bytes, which its OOM handler turns into a panic. */
export function debugOom(c: Client, argv: string[]): never {
  panic(c, argv, ["------------------------------------------------", "!!! Software Failure. Press left mouse button to continue", "Guru Meditation: Redis aborting for OUT OF MEMORY. Allocating 9223372036854775807 bytes! #server.c:0"]);
}
