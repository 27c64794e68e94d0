// A Redis sorted set, in one of Redis's two encodings (t_zset.c), both ordered by (score,
// member): by score, then by member bytes (latin1 strings compare by char code, which is byte
// order, and a shorter prefix sorts first, exactly like sdscmp).
//
// - "listpack" (small sets): ONE latin1 string holds every (score, member) entry in order, in a
//   self-describing format scanned with charCodeAt (see "Packed entries" below). Lookups are
//   linear, as on Redis's listpack; an update rebuilds the string. A JS string per member
//   (~48 bytes each) is what this saves: a set of 3 short members costs one object and one
//   string of ~25 bytes.
// - "skiplist" (large sets): `ZIndex`, a member -> score table of bytes (ScoreTable) plus a
//   chunked sorted array of the table's entry numbers and scores (a B+-tree's leaves, with
//   the first key of every leaf in flat arrays and the leaf sizes in a Fenwick tree), so
//   insert, delete, rank, by-rank and range lookups are O(log n) with few cache misses, and a
//   member costs 12 bytes of order instead of a skiplist node.
//
// Conversions follow Redis 7.0 (done by the commands through `encoding`): listpack ->
// skiplist when a set outgrows the zset-max-listpack-* limits, back only for sets built by a
// STORE command or loaded from an RDB file. Where the two encodings of Redis behave
// differently the difference is reproduced:
// - a listpack stores an integral score as an integer, so -0 becomes 0 when a command writes
//   it (a listpack loaded from a file keeps a "-0" it holds as a string);
// - lex range lookups scan a listpack linearly, while the skiplist encoding searches its order
//   (a level descent in Redis, a binary search here; they only differ on sets whose scores
//   are not all equal, where Redis documents no result).
//
// Members read out of a listpack (cursors, conversions to another set) are substrings of its
// string; a set converted to the skiplist encoding copies its members out.
//
// Modules: zset-order.ts (comparison, ranges, cursors), zset-packed.ts (the listpack
// encoding's format), zset-listpack-load.ts (RDB listpacks straight into it), zset-index.ts
// (the skiplist encoding's ZIndex); this one, ZSetValue over both.

import { objectBytes, stringBytes } from "./memory-size.ts";
import { packListpack, listpackLoad } from "./zset-listpack-load.ts";
import { ZIndex, IndexCursor, EMPTY_CURSOR, rankFromMin, rankBeyondMax, rankFromLexMin, rankBeyondLexMax } from "./zset-index.ts";
import { zcompare, type ScoreRange, scoreGteMin, scoreLteMax, type LexRange, lexGteMin, lexLteMax, lexRangeEmpty, scoreRangeEmpty, type ZSetEncoding, type ZCursor } from "./zset-order.ts";
import { decoded, lookup, forgetLookup, decodeAt, skipAt, findPacked, decodedAfter, ensureScratch, rebuild, packSorted, PackedCursor } from "./zset-packed.ts";

// The order and ranges are part of the sorted set's interface (commands import them from here).
export { LEX_MAX, LEX_MIN, lexGteMin, lexLteMax, scoreGteMin, scoreLteMax, zcompare, type LexBound, type LexRange, type ScoreRange, type ZCursor } from "./zset-order.ts";

// ZSetValue

/**
 * The methods of ZSetValue. They live on a base class because JavaScriptCore sizes a new
 * object's inline storage from its prototype's property count: with ~30 methods on its own
 * prototype every set would cost 64 bytes instead of 32.
 */
abstract class ZSetCore {
  /** The packed entries (listpack encoding) or the index (skiplist encoding). */
  private rep: string | ZIndex = "";
  /** Entries in the packed string (unused for an index). */
  private count = 0;

  /** Every change of representation goes through here (it invalidates findPacked's cache). */
  private setRep(r: string | ZIndex): void {
    forgetLookup(this);
    this.rep = r;
  }

  get size(): number {
    const rep = this.rep;
    return typeof rep === "string" ? this.count : rep.dict.size;
  }

  /** What OBJECT ENCODING reports. Setting it converts (Redis's zsetConvert). */
  get encoding(): ZSetEncoding {
    return typeof this.rep === "string" ? "listpack" : "skiplist";
  }

  set encoding(e: ZSetEncoding) {
    const rep = this.rep;
    if (e === "skiplist") {
      if (typeof rep !== "string") return;
      const members: string[] = [];
      const scores: number[] = [];
      // Members copied out of the packed string (not substrings pinning it).
      const buf = ensureScratch(rep.length);
      buf.latin1Write(rep, 0, rep.length);
      for (let o = 0; o < rep.length; ) {
        o = decodeAt(rep, o);
        members.push(buf.latin1Slice(decoded.member, decoded.member + decoded.len));
        scores.push(decoded.score);
      }
      this.setRep(ZIndex.fromSorted(members, scores, null, members.length));
      this.count = 0;
    } else {
      if (typeof rep === "string") return;
      const members: string[] = [];
      const scores: number[] = [];
      this.toArrays(members, scores);
      // zzlInsertAt stores an integral score as an integer: -0 becomes 0.
      this.setRep(packSorted(members, scores, null, members.length, true));
      this.count = members.length;
    }
  }

  /** Live ZSCAN iterators of a skiplist-encoded set (commands/zsets/scan.ts). */
  get scanState(): unknown {
    const rep = this.rep;
    return typeof rep === "string" ? null : rep.scanState;
  }

  set scanState(s: unknown) {
    const rep = this.rep;
    if (typeof rep !== "string") rep.scanState = s;
  }

  /** Database.prefetch: the members a pipeline names, read ahead in a large set's table. */
  prefetchMembers(buf: Uint8Array, at: Int32Array, n: number): void {
    const rep = this.rep;
    if (typeof rep !== "string") rep.dict.prefetch(buf, at, n);
  }

  /** The member -> score map of a skiplist-encoded set, in insertion order (ZSCAN). */
  dictEntries(): IterableIterator<[string, number]> {
    const rep = this.rep;
    if (typeof rep === "string") return this.entries();
    return rep.dict.entries();
  }

  score(member: string): number | undefined {
    const rep = this.rep;
    if (typeof rep !== "string") return rep.dict.get(member);
    const o = findPacked(this, rep, member);
    if (o < 0) return undefined;
    decodeAt(rep, o);
    return decoded.score;
  }

  has(member: string): boolean {
    return this.score(member) !== undefined;
  }

  /**
   * Adds or updates a member. Returns true if it was new. In listpack encoding an integral
   * score is stored as an integer by Redis, so -0 is kept as 0.
   */
  add(member: string, score: number): boolean {
    const old = this.score(member);
    if (old !== undefined) {
      if (old !== score) this.updateScore(member, old, score);
      return false;
    }
    this.insert(member, score);
    return true;
  }

  /** Inserts a member known to be absent (listpack: -0 stored as 0). */
  insert(member: string, score: number): void {
    const rep = this.rep;
    if (typeof rep !== "string") {
      rep.add(member, score);
      return;
    }
    if (score === 0) score = 0;
    let o = 0;
    while (o < rep.length) {
      const next = decodeAt(rep, o);
      if (decodedAfter(rep, score, member)) break;
      o = next;
    }
    this.setRep(rebuild(rep, 0, 0, o, member, score));
    this.count++;
  }

  /** Changes the score of a present member (listpack: -0 stored as 0). */
  updateScore(member: string, oldScore: number, newScore: number): void {
    const rep = this.rep;
    if (typeof rep !== "string") {
      rep.move(member, oldScore, newScore);
      return;
    }
    if (newScore === 0) newScore = 0;
    const found = findPacked(this, rep, member);
    if (found < 0) throw new Error("ZSetValue.updateScore: member missing");
    const foundEnd = lookup.end;
    // The new place: before the first other entry after (newScore, member). Entries before the
    // old one are all below (oldScore, member), entries after it all above.
    let insAt = rep.length;
    const up = newScore > oldScore;
    for (let o = up ? foundEnd : 0; o < (up ? rep.length : found); ) {
      const next = decodeAt(rep, o);
      if (decodedAfter(rep, newScore, member)) {
        insAt = o;
        break;
      }
      o = next;
    }
    if (!up && insAt === rep.length) insAt = found;
    if (insAt === found) insAt = foundEnd; // same place
    this.setRep(rebuild(rep, found, foundEnd, insAt, member, newScore));
  }

  delete(member: string): boolean {
    const rep = this.rep;
    if (typeof rep !== "string") {
      const old = rep.dict.get(member);
      if (old === undefined) return false;
      rep.delete(member, old);
      return true;
    }
    const o = findPacked(this, rep, member);
    if (o < 0) return false;
    this.setRep(rebuild(rep, o, lookup.end, -1, "", 0));
    this.count--;
    return true;
  }

  /** 0-based rank of a member in ascending order, or undefined. */
  rank(member: string): number | undefined {
    const rep = this.rep;
    if (typeof rep !== "string") {
      const score = rep.dict.get(member);
      if (score === undefined) return undefined;
      return rep.rankOf(score, member);
    }
    return findPacked(this, rep, member) < 0 ? undefined : lookup.rank;
  }

  /** A walk from `rank` (ascending order), towards higher ranks or lower (reverse). */
  cursor(rank: number, reverse = false): ZCursor {
    const rep = this.rep;
    if (typeof rep === "string") return new PackedCursor(rep, rank, this.count, reverse);
    if (rank < 0 || rank >= rep.dict.size) return EMPTY_CURSOR;
    const li = rep.findRank(rank);
    return new IndexCursor(rep, li, rep.foundPos, reverse);
  }

  /** Member at a rank (0 <= rank < size). */
  memberAt(rank: number): string {
    const c = this.cursor(rank);
    c.next();
    return c.member;
  }

  /** Score at a rank (0 <= rank < size). */
  scoreAt(rank: number): number {
    const c = this.cursor(rank);
    c.next();
    return c.score;
  }

  /** Every member and score in ascending order, into the given arrays. */
  toArrays(members: string[], scores: number[]): void {
    const c = this.cursor(0);
    while (c.next()) {
      members.push(c.member);
      scores.push(c.score);
    }
  }

  /** Length of the longest member. */
  longestMember(): number {
    const rep = this.rep;
    let max = 0;
    if (typeof rep === "string") {
      for (let o = 0; o < rep.length; ) {
        o = skipAt(rep, o);
        if (decoded.len > max) max = decoded.len;
      }
    } else {
      for (const m of rep.dict.keys()) if (m.length > max) max = m.length;
    }
    return max;
  }

  private inScoreRange(r: ScoreRange): boolean {
    if (scoreRangeEmpty(r) || this.size === 0) return false;
    return scoreGteMin(this.scoreAt(this.size - 1), r) && scoreLteMax(this.scoreAt(0), r);
  }

  /** Rank of the first member inside the score range, or -1 (zslFirstInRange). */
  firstInScoreRange(r: ScoreRange): number {
    if (!this.inScoreRange(r)) return -1;
    const rep = this.rep;
    if (typeof rep === "string") {
      let i = 0;
      for (let o = 0; o < rep.length; i++) {
        o = decodeAt(rep, o);
        if (scoreGteMin(decoded.score, r)) return scoreLteMax(decoded.score, r) ? i : -1;
      }
      return -1;
    }
    const rank = rankFromMin(rep, r);
    return rank < rep.size && scoreLteMax(this.scoreAt(rank), r) ? rank : -1;
  }

  /** Rank of the last member inside the score range, or -1 (zslLastInRange). */
  lastInScoreRange(r: ScoreRange): number {
    if (!this.inScoreRange(r)) return -1;
    const rep = this.rep;
    if (typeof rep === "string") {
      // zzlLastInRange: the last entry <= max, if it is >= min.
      let i = 0;
      let last = -1;
      let lastScore = 0;
      for (let o = 0; o < rep.length; i++) {
        o = decodeAt(rep, o);
        if (!scoreLteMax(decoded.score, r)) break;
        last = i;
        lastScore = decoded.score;
      }
      return last >= 0 && scoreGteMin(lastScore, r) ? last : -1;
    }
    const rank = rankBeyondMax(rep, r) - 1;
    return rank >= 0 && scoreGteMin(this.scoreAt(rank), r) ? rank : -1;
  }

  private inLexRange(r: LexRange): boolean {
    if (lexRangeEmpty(r) || this.size === 0) return false;
    return lexGteMin(this.memberAt(this.size - 1), r) && lexLteMax(this.memberAt(0), r);
  }

  /** Rank of the first member inside the lex range, or -1 (listpack: linear scan; skiplist: search). */
  firstInLexRange(r: LexRange): number {
    if (!this.inLexRange(r)) return -1;
    const rep = this.rep;
    if (typeof rep === "string") {
      const c = this.cursor(0);
      for (let i = 0; c.next(); i++) {
        if (lexGteMin(c.member, r)) return lexLteMax(c.member, r) ? i : -1;
      }
      return -1;
    }
    const rank = rankFromLexMin(rep, r);
    return rank < rep.size && lexLteMax(this.memberAt(rank), r) ? rank : -1;
  }

  /** Rank of the last member inside the lex range, or -1 (listpack: scan from the end). */
  lastInLexRange(r: LexRange): number {
    if (!this.inLexRange(r)) return -1;
    const rep = this.rep;
    if (typeof rep === "string") {
      const c = this.cursor(this.count - 1, true);
      for (let i = this.count - 1; c.next(); i--) {
        if (lexLteMax(c.member, r)) return lexGteMin(c.member, r) ? i : -1;
      }
      return -1;
    }
    const rank = rankBeyondLexMax(rep, r) - 1;
    return rank >= 0 && lexGteMin(this.memberAt(rank), r) ? rank : -1;
  }

  /** Removes the members whose score is in range; returns how many. */
  deleteRangeByScore(r: ScoreRange): number {
    const rep = this.rep;
    if (typeof rep === "string") {
      // zzlDeleteRangeByScore: the run from the first entry >= min while <= max.
      let from = -1;
      let to = rep.length;
      let removed = 0;
      for (let o = 0; o < rep.length; ) {
        const next = decodeAt(rep, o);
        if (from < 0) {
          if (scoreGteMin(decoded.score, r)) from = o;
        }
        if (from >= 0) {
          if (!scoreLteMax(decoded.score, r)) {
            to = o;
            break;
          }
          removed++;
        }
        o = next;
      }
      if (removed === 0) return 0;
      this.setRep(rebuild(rep, from, to, -1, "", 0));
      this.count -= removed;
      return removed;
    }
    const start = rankFromMin(rep, r);
    let end = start;
    if (start < rep.size) end = Math.max(start, rankBeyondMax(rep, r));
    rep.removeRange(start, end - start);
    return end - start;
  }

  /** Removes the members inside the lex range; returns how many. */
  deleteRangeByLex(r: LexRange): number {
    const rep = this.rep;
    if (typeof rep === "string") {
      // zzlDeleteRangeByLex: from the first element in range (linear), while <= max.
      const first = this.firstInLexRange(r);
      if (first < 0) return 0;
      let o = 0;
      for (let i = 0; i < first; i++) o = skipAt(rep, o);
      const from = o;
      let removed = 0;
      while (o < rep.length) {
        const next = skipAt(rep, o);
        if (!lexLteMax(rep.slice(decoded.member, decoded.member + decoded.len), r)) break;
        removed++;
        o = next;
      }
      this.setRep(rebuild(rep, from, o, -1, "", 0));
      this.count -= removed;
      return removed;
    }
    if (lexRangeEmpty(r)) return 0;
    const start = rankFromLexMin(rep, r);
    // The run from the first member >= min while <= max (as zslDeleteRangeByLex walks it).
    let end = start;
    const c = this.cursor(start);
    while (c.next() && lexLteMax(c.member, r)) end++;
    rep.removeRange(start, end - start);
    return end - start;
  }

  /** Removes the members with 0-based rank in [start, end] (valid, inclusive); returns how many. */
  deleteRangeByRank(start: number, end: number): number {
    const rep = this.rep;
    const n = end - start + 1;
    if (typeof rep === "string") {
      let o = 0;
      for (let i = 0; i < start; i++) o = skipAt(rep, o);
      const from = o;
      for (let i = 0; i < n; i++) o = skipAt(rep, o);
      this.setRep(rebuild(rep, from, o, -1, "", 0));
      this.count -= n;
      return n;
    }
    rep.removeRange(start, n);
    return n;
  }

  /** Members and scores in ascending order. */
  *entries(): IterableIterator<[string, number]> {
    const c = this.cursor(0);
    while (c.next()) yield [c.member, c.score];
  }

  /** An independent copy (a listpack shares its immutable string). */
  /** MEMORY USAGE: the set's heap bytes (store/memory-size.ts); a listpack-encoded set is one string. */
  memoryUsage(samples: number): number {
    const rep = this.rep;
    return objectBytes(2) + (typeof rep === "string" ? stringBytes(rep) : rep.memoryUsage(samples));
  }

  clone(): ZSetValue {
    const z = new ZSetValue();
    const rep = this.rep;
    z.rep = typeof rep === "string" ? rep : rep.clone();
    z.count = this.count;
    return z;
  }

  /**
   * A set from loaded entries (any order). A listpack keeps the scores as given (a "-0"
   * loaded from a listpack stays -0) unless `negativeZeroToZero`. Returns the set, or the
   * first duplicate member found.
   */
  static fromEntries(members: string[], scores: number[], encoding: ZSetEncoding, negativeZeroToZero: boolean): ZSetValue | { duplicate: string } {
    const n = members.length;
    let order: number[] | null = null;
    let ascending = true;
    let descending = true;
    for (let i = 1; i < n && (ascending || descending); i++) {
      const c = zcompare(scores[i - 1]!, members[i - 1]!, scores[i]!, members[i]!);
      if (c >= 0) ascending = false;
      if (c <= 0) descending = false;
    }
    if (!ascending) {
      order = new Array<number>(n);
      if (descending) for (let i = 0; i < n; i++) order[i] = n - 1 - i;
      else {
        for (let i = 0; i < n; i++) order[i] = i;
        order.sort((a, b) => zcompare(scores[a]!, members[a]!, scores[b]!, members[b]!) || a - b);
      }
    }
    const z = new ZSetValue();
    if (encoding === "skiplist") {
      const index = new ZIndex();
      index.reserveFor(members, n);
      for (let i = 0; i < n; i++) {
        index.dict.set(members[i]!, scores[i]!);
        if (index.dict.size !== i + 1) return { duplicate: members[i]! };
      }
      index.fillSorted(scores, order, n);
      z.rep = index;
      return z;
    }
    // Duplicates, reported in the given order.
    if (n <= 8) {
      for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (members[i] === members[j]) return { duplicate: members[i]! };
    } else {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) {
        seen.add(members[i]!);
        if (seen.size !== i + 1) return { duplicate: members[i]! };
      }
    }
    z.rep = packSorted(members, scores, order, n, negativeZeroToZero);
    z.count = n;
    return z;
  }

  /**
   * A listpack-encoded set straight from an RDB listpack blob in buf[start, end) (its "-0"
   * scores kept), or null when the blob needs the generic decoding: anything corrupt or out
   * of order, more than maxEntries pairs, scores not in Redis's plain text forms.
   */
  static fromListpack(buf: Buffer, start: number, end: number, maxEntries: number): ZSetValue | null {
    const packed = packListpack(buf, start, end, maxEntries);
    if (packed === null) return null;
    const z = new ZSetValue();
    z.rep = packed;
    z.count = listpackLoad.count;
    return z;
  }

  /** The packed entries when this set can be held at rest as bytes (store/at-rest.ts); else null. */
  get restData(): string | null {
    const rep = this.rep;
    return typeof rep === "string" ? rep : null;
  }

  /** The entry count that goes with restData. */
  get restMeta(): number {
    return this.count;
  }

  /** The set restData and restMeta describe. */
  static fromRest(data: string, count: number): ZSetValue {
    const z = new ZSetValue();
    z.rep = data;
    z.count = count;
    return z;
  }

  /** Checks the structure's invariants (order, counts, dict agreement); for tests. */
  checkInvariants(): void {
    const rep = this.rep;
    if (typeof rep !== "string") {
      rep.checkInvariants();
      return;
    }
    let n = 0;
    let prevS = 0;
    let prevM: string | null = null;
    const seen = new Set<string>();
    for (let o = 0; o < rep.length; n++) {
      o = decodeAt(rep, o);
      if (o > rep.length) throw new Error("packed entry runs past the end");
      const m = rep.slice(decoded.member, decoded.member + decoded.len);
      if (prevM !== null && zcompare(prevS, prevM, decoded.score, m) >= 0) throw new Error(`order broken at ${m}`);
      if (seen.has(m)) throw new Error(`duplicate ${m}`);
      seen.add(m);
      prevS = decoded.score;
      prevM = m;
    }
    if (n !== this.count) throw new Error(`count ${this.count} != ${n} entries`);
    for (let i = 0; i < rep.length; i++) if (rep.charCodeAt(i) > 0xff) throw new Error("packed string is not latin1");
  }
}

/** A sorted set (see the top of this file). */
export class ZSetValue extends ZSetCore {}

