// The order of a sorted set and what walks it: (score, member) comparison (by score, then by
// member bytes, like sdscmp), the score and lex ranges of ZRANGEBYSCORE / ZRANGEBYLEX, and the
// cursor interface both encodings (zset-packed.ts, zset-index.ts) implement.

import type { BulkSink } from "./packed-entries.ts";

/** Order of (score, member): by score, then by member bytes. */
export function zcompare(s1: number, m1: string, s2: number, m2: string): number {
  if (s1 < s2) return -1;
  if (s1 > s2) return 1;
  return m1 < m2 ? -1 : m1 > m2 ? 1 : 0;
}

/** A score interval as ZRANGEBYSCORE parses it: "(" makes an end exclusive. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

export function scoreGteMin(value: number, r: ScoreRange): boolean {
  return r.minex ? value > r.min : value >= r.min;
}

export function scoreLteMax(value: number, r: ScoreRange): boolean {
  return r.maxex ? value < r.max : value <= r.max;
}

/** The "-" and "+" ends of a lex range: below and above every string. */
export const LEX_MIN: unique symbol = Symbol("lex-min");
export const LEX_MAX: unique symbol = Symbol("lex-max");
export type LexBound = string | typeof LEX_MIN | typeof LEX_MAX;

/** A member interval as ZRANGEBYLEX parses it ("[a", "(a", "-", "+"). */
export interface LexRange {
  min: LexBound;
  max: LexBound;
  minex: boolean;
  maxex: boolean;
}

/** Redis's sdscmplex: byte order, with LEX_MIN / LEX_MAX as the infinities. */
function lexCompare(a: LexBound, b: LexBound): number {
  if (a === b) return 0;
  if (a === LEX_MIN || b === LEX_MAX) return -1;
  if (a === LEX_MAX || b === LEX_MIN) return 1;
  return a < b ? -1 : 1;
}

export function lexGteMin(value: string, r: LexRange): boolean {
  const c = lexCompare(value, r.min);
  return r.minex ? c > 0 : c >= 0;
}

export function lexLteMax(value: string, r: LexRange): boolean {
  const c = lexCompare(value, r.max);
  return r.maxex ? c < 0 : c <= 0;
}

/** Whether a lex range can hold anything at all (min below max). */
export function lexRangeEmpty(r: LexRange): boolean {
  const c = lexCompare(r.min, r.max);
  return c > 0 || (c === 0 && (r.minex || r.maxex));
}

export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

export type ZSetEncoding = "listpack" | "skiplist";

/**
 * A walk over a set in rank order (ascending or descending). `next()` steps onto the next
 * entry and fills `member` / `score`; false when there is none. A cursor is only valid while
 * its set is not modified.
 */
export interface ZCursor {
  readonly member: string;
  score: number;
  next(): boolean;
  /** Writes the current member as a bulk string (from its bytes, where the set holds bytes). */
  writeMember(out: BulkSink): void;
}
