// Handing back the executable's pages that only a start or a load needed.
//
// The executable is ~80 MB of code and read-only data, mapped from its file; every page the
// process touches counts in its RSS until the kernel needs the memory back. Starting the
// runtime, evaluating our modules, loading a dataset and the JIT compiling the loader touch
// ~40 MB of it (an empty redis-server's whole RSS is 12 MB), and little of that runs again
// while the server serves. Those pages are clean copies of the file: MADV_PAGEOUT drops them
// now instead of at the next memory shortage, and whatever runs later faults back in, from
// the page cache or the file, what it uses (a few ms, once). Only mappings we cannot write
// are advised: a written private page is anonymous memory, which the advice would swap out
// (the writable one is mostly the bundled program, but advising it gained only ~1.5 MB).

import { readFileSync, readlinkSync } from "node:fs";
import { openLibc } from "../common/libc.ts";

/** Linux's MADV_PAGEOUT (5.4 and later; older kernels answer EINVAL and nothing changes). */
const MADV_PAGEOUT = 21;

/**
 * Advises every read-only or executable mapping of our own executable file out. Returns the
 * RSS it released in bytes (0 when libc or /proc is not there).
 */
export function releaseCodePages(): number {
  const libc = openLibc();
  if (!libc) return 0;
  let maps: string;
  let exe: string;
  try {
    maps = readFileSync("/proc/self/maps", "latin1");
    exe = readlinkSync("/proc/self/exe");
  } catch {
    return 0;
  }
  const before = process.memoryUsage.rss();
  for (const line of maps.split("\n")) {
    // "start-end perms offset dev inode path"
    if (!line.endsWith(exe)) continue;
    const fields = line.split(" ", 2);
    if (fields[1]!.includes("w")) continue;
    const dash = fields[0]!.indexOf("-");
    const start = BigInt(`0x${fields[0]!.slice(0, dash)}`);
    const end = BigInt(`0x${fields[0]!.slice(dash + 1)}`);
    libc.symbols.madvise(start, end - start, MADV_PAGEOUT);
  }
  return Math.max(0, before - process.memoryUsage.rss());
}
