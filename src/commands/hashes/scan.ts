// HSCAN and SSCAN (Redis's scanGenericCommand for a hash or a set).
//
// A listpack-encoded hash and an intset-encoded set are returned whole in one call with cursor
// 0, exactly as Redis does (a listpack in insertion order, an intset ascending; COUNT does not
// apply, MATCH does). A hashtable is walked in its Map's insertion order; the cursor is the
// number of entries walked so far, and the live iterator behind a cursor is kept on the value so
// that the next call continues it (a JS Map/Set iterator survives insertions and deletions, so
// elements present for the whole scan are returned, Redis's guarantee). Without a kept iterator
// (another cursor took its place) the walk restarts and skips `cursor` entries. Redis's own
// cursor is a reverse-binary table position; clients treat it as opaque. Same scheme as ZSCAN
// (zsets-scan.ts).
//
// Redis parses the cursor before looking the key up and the options after: a missing key
// replies an empty scan even with bad options, a wrong type wins over a syntax error.

import type { Client } from "../../core/client.ts";
import type { HashValue, ScanCursors } from "../../store/hash.ts";
import type { SetValue } from "../../store/set.ts";
import { CommandError, NOT_INTEGER, SYNTAX } from "../../core/errors.ts";
import { globMatch } from "../../common/glob.ts";
import { readHash, readSet } from "../../core/keyspace.ts";
import { parseScanCursor } from "../zsets/scan.ts";
import { parseLong } from "../zsets/parse.ts";

/** Iterators kept per value; the oldest is dropped past this many concurrent scans. */
const MAX_KEPT_ITERATORS = 16;

interface ScanOptions {
  count: number;
  /** null: match everything (no MATCH, or MATCH "*"). */
  pattern: string | null;
  /** HSCAN ... NOVALUES (Redis 7.4): fields only. */
  noValues: boolean;
}

function parseScanOptions(argv: string[], hash: boolean): ScanOptions {
  let count = 10;
  let pattern: string | null = null;
  let noValues = false;
  for (let i = 3; i < argv.length; ) {
    const opt = argv[i]!.toLowerCase();
    const left = argv.length - i;
    if (hash && opt === "novalues") {
      noValues = true;
      i++;
    } else if (opt === "count" && left >= 2) {
      const n = parseLong(argv[i + 1]!);
      if (n === null) throw new CommandError(NOT_INTEGER);
      if (n < 1) throw new CommandError(SYNTAX);
      count = n;
      i += 2;
    } else if (opt === "match" && left >= 2) {
      const p = argv[i + 1]!;
      pattern = p === "*" ? null : p;
      i += 2;
    } else throw new CommandError(SYNTAX);
  }
  return { count, pattern, noValues };
}

function replyEmptyScan(c: Client): void {
  c.reply.array(2);
  c.reply.bulk("0");
  c.reply.array(0);
}

function replyScan(c: Client, next: number, out: string[]): void {
  c.reply.array(2);
  c.reply.bulk(String(next));
  c.reply.array(out.length);
  for (let i = 0; i < out.length; i++) c.reply.bulk(out[i]!);
}

/**
 * Continues (or starts) a walk over `keys()` of a hashtable-encoded value. `emit` receives each
 * element taken (matching or not is its business). Returns the next cursor (0 at the end).
 */
function walkHashtable(
  holder: { scanCursors: ScanCursors<string> | null },
  fresh: () => Iterator<string>,
  cursor: number,
  count: number,
  emit: (element: string) => void,
): number {
  let state = holder.scanCursors;
  let it: Iterator<string> | undefined;
  if (cursor !== 0 && state) {
    it = state.get(cursor);
    if (it) state.delete(cursor);
  }
  if (!it) {
    it = fresh();
    for (let skipped = 0; skipped < cursor; skipped++) {
      if (it.next().done) return 0;
    }
  }
  let taken = 0;
  for (; taken < count; taken++) {
    const r = it.next();
    if (r.done) return 0;
    emit(r.value);
  }
  const next = cursor + taken;
  if (!state) {
    state = new Map();
    holder.scanCursors = state;
  }
  if (state.size >= MAX_KEPT_ITERATORS) state.delete(state.keys().next().value!);
  state.set(next, it);
  return next;
}

/** HSCAN key cursor [MATCH pattern] [COUNT count] */
export function hscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[2]!);
  const h: HashValue | undefined = readHash(c, argv[1]!);
  if (!h) {
    replyEmptyScan(c);
    return;
  }
  const { count, pattern, noValues } = parseScanOptions(argv, true);
  const out: string[] = [];
  let next = 0;
  // Fields whose TTL passed are skipped (not deleted).
  const now = c.server.cmdTime;
  const withTtls = h.fieldTtlCount !== 0;
  if (h.encoding !== "hashtable") {
    for (const [field, value] of h) {
      if (pattern !== null && !globMatch(pattern, field)) continue;
      if (withTtls && h.isFieldExpired(field, now)) continue;
      if (noValues) out.push(field);
      else out.push(field, value);
    }
  } else {
    next = walkHashtable(h, () => h.keys(), cursor, count, (field) => {
      if (pattern !== null && !globMatch(pattern, field)) return;
      if (withTtls && h.isFieldExpired(field, now)) return;
      const value = h.get(field);
      if (value === undefined) return;
      if (noValues) out.push(field);
      else out.push(field, value);
    });
  }
  replyScan(c, next, out);
}

/** SSCAN key cursor [MATCH pattern] [COUNT count] */
export function sscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[2]!);
  const s: SetValue | undefined = readSet(c, argv[1]!);
  if (!s) {
    replyEmptyScan(c);
    return;
  }
  const { count, pattern } = parseScanOptions(argv, false);
  const out: string[] = [];
  let next = 0;
  if (s.encoding === "intset") {
    for (const member of s.ordered()) {
      if (pattern === null || globMatch(pattern, member)) out.push(member);
    }
  } else {
    next = walkHashtable(s, () => s.values(), cursor, count, (member) => {
      if (pattern === null || globMatch(pattern, member)) out.push(member);
    });
  }
  replyScan(c, next, out);
}
