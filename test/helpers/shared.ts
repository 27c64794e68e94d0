// The shared folder CI lays beside the clone (../shared): the RDB corpus, other masters' binaries,
// Redis's own test suite. A user's fresh clone has none of it: suites that need it call
// `sharedPath`, which prints one line saying what is skipped and why when it is absent, and
// register no tests then (the rest of the suite still runs and passes).

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const SHARED = resolve(import.meta.dir, "../../../shared");

/**
 * The path of something under ../shared, or null (after printing one line naming `what` is
 * skipped) when it is not there.
 */
export function sharedPath(relative: string, what: string): string | null {
  const p = join(SHARED, relative);
  if (existsSync(p)) return p;
  console.log(`skipped: ${what} (needs ${p}: the shared folder CI lays beside the clone; absent here)`);
  return null;
}
