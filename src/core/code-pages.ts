// Handing back the executable's pages that only a start or a load needed.
//
// The executable is ~80 MB of code and read-only data, mapped from its file; every page the
// process touches counts in its RSS until the kernel needs the memory back. Starting the
// runtime, evaluating our modules, loading a dataset and the JIT compiling the loader touch
// ~40 MB of it (an empty redis-server's whole RSS is 12 MB), and little of that runs again
// while the server serves. Those pages are clean copies of the file: MADV_DONTNEED unmaps them
// from the process, and whatever runs later maps back what it uses from the page cache (a
// minor fault). MADV_PAGEOUT, which also takes them out of the page cache, saved ~2 MB more but
// made the first client after a start or a load wait 30-75 ms more (the disk). Only mappings
// that hold no anonymous page are advised: a page the process wrote (the relocated read-only
// data, anything writable) would come back as the file has it.

import { readFileSync, readlinkSync } from "node:fs";
import { openLibc } from "../common/libc.ts";

/** Linux's MADV_DONTNEED: unmapped, kept in the page cache (a fault maps them back). */
const MADV_DONTNEED = 4;

/**
 * Process-wide: the executable's mappings that hold none but file pages, found once (at the
 * start, while the process is small: reading smaps walks every page table, ~30 ms once a
 * dataset is loaded). They do not change: nothing writes to a mapping it cannot write.
 */
let fileOnly: Array<[bigint, bigint]> | null = null;

function fileOnlyMappings(): Array<[bigint, bigint]> {
  if (fileOnly !== null) return fileOnly;
  fileOnly = [];
  let smaps: string;
  let exe: string;
  try {
    smaps = readFileSync("/proc/self/smaps", "latin1");
    exe = readlinkSync("/proc/self/exe");
  } catch {
    return fileOnly;
  }
  // Each mapping: "start-end perms offset dev inode path", then "Name: value kB" lines.
  let start = 0n;
  let end = 0n;
  let ours = false;
  for (const line of smaps.split("\n")) {
    const dash = line.indexOf("-");
    if (dash > 0 && dash < 17 && line.indexOf(" ") > dash) {
      ours = line.endsWith(exe);
      if (ours) {
        const space = line.indexOf(" ");
        start = BigInt(`0x${line.slice(0, dash)}`);
        end = BigInt(`0x${line.slice(dash + 1, space)}`);
      }
    } else if (ours && line.startsWith("Anonymous:")) {
      if (/^Anonymous:\s+0 kB/.test(line)) fileOnly.push([start, end]);
      ours = false;
    }
  }
  return fileOnly;
}

/**
 * Advises every mapping of our own executable file that holds none but file pages out.
 * Returns the RSS it released in bytes (0 when libc or /proc is not there).
 */
export function releaseCodePages(): number {
  const libc = openLibc();
  if (!libc) return 0;
  const before = process.memoryUsage.rss();
  for (const [start, end] of fileOnlyMappings()) libc.symbols.madvise(start, end - start, MADV_DONTNEED);
  return Math.max(0, before - process.memoryUsage.rss());
}
