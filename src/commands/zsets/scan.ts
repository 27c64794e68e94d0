// ZSCAN. A listpack-encoded set is returned whole in one call with cursor 0, exactly as Redis
// does (member and score as the listpack stores it). A skiplist-encoded set is walked in its
// member map's insertion order; the cursor is the number of entries walked so far, and the
// live iterator behind a cursor is kept on the set so that the next call continues it (a JS
// Map iterator survives insertions and deletions, so elements present for the whole scan are
// returned). Without a kept iterator (another cursor took its place) the walk restarts and
// skips `cursor` entries, which is still right unless elements were removed meanwhile.
// Redis's own cursor is a reverse-binary hash table position; clients treat it as opaque.

import type { Client } from "../../core/client.ts";
import type { ZSetValue } from "../../store/zset.ts";
import { CommandError, SYNTAX } from "../../core/errors.ts";
import { globMatch } from "../../common/glob.ts";
import { readZSet } from "../../core/keyspace.ts";
import { formatScore, d2string } from "./format.ts";
import { parseLong } from "./parse.ts";

const MAX_KEPT_ITERATORS = 16;

type ScanState = Map<number, IterableIterator<[string, number]>>;

/** parseScanCursorOrReply: strtoul, no leading space, nothing after the digits. */
export function parseScanCursor(text: string): number {
  const invalid = () => new CommandError("ERR invalid cursor");
  if (text.length === 0) return 0; // strtoul("") = 0 and eptr at the end
  const first = text.charCodeAt(0);
  if (first === 32 || (first >= 9 && first <= 13)) throw invalid();
  let i = 0;
  let negative = false;
  if (first === 43 || first === 45) {
    negative = first === 45;
    i = 1;
  }
  if (i === text.length) {
    // Only a sign: no conversion, eptr points at the sign.
    throw invalid();
  }
  for (let k = i; k < text.length; k++) {
    const ch = text.charCodeAt(k);
    if (ch < 48 || ch > 57) throw invalid();
  }
  const v = BigInt(text.slice(i));
  if (v > 18446744073709551615n) throw invalid();
  const u = negative && v !== 0n ? 18446744073709551616n - v : v;
  return Number(u);
}

/** ZSCAN key cursor [MATCH pattern] [COUNT count] */
export function zscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[2]!);
  const z = readZSet(c, argv[1]!);
  if (!z) {
    c.reply.array(2);
    c.reply.bulk("0");
    c.reply.array(0);
    return;
  }
  let count = 10;
  let pattern: string | null = null;
  for (let i = 3; i < argv.length; ) {
    const opt = argv[i]!.toLowerCase();
    const left = argv.length - i;
    if (opt === "count" && left >= 2) {
      const n = parseLong(argv[i + 1]!);
      if (n === null) throw new CommandError("ERR value is not an integer or out of range");
      if (n < 1) throw new CommandError(SYNTAX);
      count = n;
      i += 2;
    } else if (opt === "match" && left >= 2) {
      const p = argv[i + 1]!;
      pattern = p === "*" ? null : p;
      i += 2;
    } else throw new CommandError(SYNTAX);
  }
  const out: string[] = [];
  let next = 0;
  if (z.encoding === "listpack") {
    for (const [member, score] of z.entries()) {
      if (pattern !== null && !globMatch(pattern, member)) continue;
      out.push(member, d2string(score));
    }
  } else {
    next = scanSkiplist(z, cursor, count, pattern, out);
  }
  c.reply.array(2);
  c.reply.bulk(String(next));
  c.reply.array(out.length);
  for (let i = 0; i < out.length; i++) c.reply.bulk(out[i]!);
}

function scanSkiplist(z: ZSetValue, cursor: number, count: number, pattern: string | null, out: string[]): number {
  let state = z.scanState as ScanState | null;
  let it: IterableIterator<[string, number]> | undefined;
  if (cursor !== 0 && state) {
    it = state.get(cursor);
    if (it) state.delete(cursor);
  }
  if (!it) {
    it = z.dictEntries();
    for (let skipped = 0; skipped < cursor; skipped++) {
      if (it.next().done) return 0;
    }
  }
  let taken = 0;
  for (; taken < count; taken++) {
    const r = it.next();
    if (r.done) return 0;
    const [member, score] = r.value;
    if (pattern !== null && !globMatch(pattern, member)) continue;
    out.push(member, formatScore(score));
  }
  const next = cursor + taken;
  if (!state) {
    state = new Map();
    z.scanState = state;
  }
  if (state.size >= MAX_KEPT_ITERATORS) state.delete(state.keys().next().value!);
  state.set(next, it);
  return next;
}
