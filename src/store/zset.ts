// A Redis sorted set, in one of Redis's two encodings (t_zset.c), both ordered by (score,
// member): by score, then by member bytes (latin1 strings compare by char code, which is byte
// order, and a shorter prefix sorts first, exactly like sdscmp).
//
// - "listpack" (small sets): ONE latin1 string holds every (score, member) entry in order, in a
//   self-describing format scanned with charCodeAt (see "Packed entries" below). Lookups are
//   linear, as on Redis's listpack; an update rebuilds the string. A JS string per member
//   (~48 bytes each) is what this saves: a set of 3 short members costs one object and one
//   string of ~25 bytes.
// - "skiplist" (large sets): a member -> score Map plus `ZIndex`, a chunked sorted array (a
//   B+-tree's leaves: runs of up to LEAF_MAX entries in parallel member/score arrays, with the
//   first key of every leaf in flat arrays and the leaf sizes in a Fenwick tree), so insert,
//   delete, rank, by-rank and range lookups are O(log n) with few cache misses, and a member
//   costs two array slots instead of a skiplist node.
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

import { ListpackReader, LP_WIDE_INTEGER } from "../encoding/listpack.ts";
import { arrayBytes, mapBytes, objectBytes, sampledBytes, stringBytes, typedArrayBytes } from "./memory-size.ts";

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
export function lexCompare(a: LexBound, b: LexBound): number {
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
  member: string;
  score: number;
  next(): boolean;
}

// ---------------------------------------------------------------------------------------------
// Packed entries (the listpack encoding)
//
// Entry: score, member length, member bytes. Score: one tag byte
//   0x00..0xFB  the integer 0..251 itself
//   0xFC        a signed 32-bit integer, 4 bytes big endian
//   0xFD        a float32 holding the score exactly, 4 bytes
//   0xFE        a float64, 8 bytes
// Member length: one byte below 0xFF, else 0xFF and 4 bytes big endian. Floats are stored in
// the machine's byte order (the string never leaves the process). -0 is stored as a float.

const SC_INT_MAX = 0xfb;
const SC_INT32 = 0xfc;
const SC_FLOAT32 = 0xfd;
const SC_FLOAT64 = 0xfe;

const F64 = new Float64Array(1);
const F64B = new Uint8Array(F64.buffer);
const F32 = new Float32Array(1);
const F32B = new Uint8Array(F32.buffer);

// What decodeAt found (commands run one at a time, so module state is safe).
let dScore = 0;
let dMember = 0;
let dLen = 0;

/** Decodes the entry at offset o into dScore/dMember/dLen; returns the next entry's offset. */
function decodeAt(p: string, o: number): number {
  const t = p.charCodeAt(o);
  if (t <= SC_INT_MAX) {
    dScore = t;
    o += 1;
  } else if (t === SC_INT32) {
    dScore = (p.charCodeAt(o + 1) << 24) | (p.charCodeAt(o + 2) << 16) | (p.charCodeAt(o + 3) << 8) | p.charCodeAt(o + 4);
    o += 5;
  } else if (t === SC_FLOAT32) {
    F32B[0] = p.charCodeAt(o + 1);
    F32B[1] = p.charCodeAt(o + 2);
    F32B[2] = p.charCodeAt(o + 3);
    F32B[3] = p.charCodeAt(o + 4);
    dScore = F32[0]!;
    o += 5;
  } else {
    for (let i = 0; i < 8; i++) F64B[i] = p.charCodeAt(o + 1 + i);
    dScore = F64[0]!;
    o += 9;
  }
  let len = p.charCodeAt(o);
  if (len < 0xff) o += 1;
  else {
    len = ((p.charCodeAt(o + 1) << 24) | (p.charCodeAt(o + 2) << 16) | (p.charCodeAt(o + 3) << 8) | p.charCodeAt(o + 4)) >>> 0;
    o += 5;
  }
  dMember = o;
  dLen = len;
  return o + len;
}

/** Skips the entry at offset o (no score decoding); sets dMember/dLen. */
function skipAt(p: string, o: number): number {
  const t = p.charCodeAt(o);
  o += t <= SC_INT_MAX ? 1 : t === SC_FLOAT64 ? 9 : 5;
  let len = p.charCodeAt(o);
  if (len < 0xff) o += 1;
  else {
    len = ((p.charCodeAt(o + 1) << 24) | (p.charCodeAt(o + 2) << 16) | (p.charCodeAt(o + 3) << 8) | p.charCodeAt(o + 4)) >>> 0;
    o += 5;
  }
  dMember = o;
  dLen = len;
  return o + len;
}

/** Byte order of the packed member at [ms, ms + len) against m. */
function comparePacked(p: string, ms: number, len: number, m: string): number {
  const ml = m.length;
  const n = len < ml ? len : ml;
  for (let i = 0; i < n; i++) {
    const d = p.charCodeAt(ms + i) - m.charCodeAt(i);
    if (d !== 0) return d;
  }
  return len - ml;
}

/** Whether p[q, q + ml) is m, compared from the end (members often differ in their last bytes). */
function sameTail(p: string, q: number, m: string, ml: number): boolean {
  if (ml > 32) return p.startsWith(m, q);
  for (let i = ml - 2; i >= 0; i--) if (p.charCodeAt(q + i) !== m.charCodeAt(i)) return false;
  return true;
}

// What findPacked found: the entry's rank and the offset after it.
let fRank = 0;
let fEnd = 0;
// The last lookup, valid until its set changes (ZSetCore.setRep clears it): ZADD's score
// lookup, then its update, find the member once.
let cacheOwner: object | null = null;
let cacheMember = "";
let cacheOffset = -1;
let cacheRank = 0;
let cacheEnd = 0;

/**
 * Offset of the entry holding member m, or -1 (zzlFind). A linear scan like Redis's; it reads
 * two bytes per entry and compares the member's last byte before the whole member.
 */
function findPacked(owner: object, p: string, m: string): number {
  if (owner === cacheOwner && m === cacheMember) {
    fRank = cacheRank;
    fEnd = cacheEnd;
    return cacheOffset;
  }
  const o = scanPacked(p, m);
  cacheOwner = owner;
  cacheMember = m;
  cacheOffset = o;
  cacheRank = fRank;
  cacheEnd = fEnd;
  return o;
}

function scanPacked(p: string, m: string): number {
  const ml = m.length;
  const last = ml > 0 ? m.charCodeAt(ml - 1) : -1;
  const end = p.length;
  let r = 0;
  for (let o = 0; o < end; r++) {
    const t = p.charCodeAt(o);
    let q = o + (t <= SC_INT_MAX ? 1 : t === SC_FLOAT64 ? 9 : 5);
    let len = p.charCodeAt(q);
    if (len < 0xff) q += 1;
    else {
      len = ((p.charCodeAt(q + 1) << 24) | (p.charCodeAt(q + 2) << 16) | (p.charCodeAt(q + 3) << 8) | p.charCodeAt(q + 4)) >>> 0;
      q += 5;
    }
    if (len === ml && (ml === 0 || (p.charCodeAt(q + ml - 1) === last && sameTail(p, q, m, ml)))) {
      fRank = r;
      fEnd = q + len;
      return o;
    }
    o = q + len;
  }
  return -1;
}

/** Whether the entry just decoded sorts after (score, member). */
function decodedAfter(p: string, score: number, member: string): boolean {
  return dScore > score || (dScore === score && comparePacked(p, dMember, dLen, member) > 0);
}

let scratch = Buffer.allocUnsafe(4096);

function ensureScratch(n: number): Buffer {
  if (scratch.length < n) scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2));
  return scratch;
}

function encodedScoreSize(s: number): number {
  if (Number.isInteger(s) && !(s === 0 && 1 / s < 0)) {
    if (s >= 0 && s <= SC_INT_MAX) return 1;
    if (s >= -2147483648 && s <= 2147483647) return 5;
  }
  return Math.fround(s) === s ? 5 : 9;
}

function entrySize(member: string, score: number): number {
  return encodedScoreSize(score) + (member.length < 0xff ? 1 : 5) + member.length;
}

/** Writes a score's encoding at o; returns the end offset. */
function writeScore(buf: Buffer, o: number, s: number): number {
  if (Number.isInteger(s) && !(s === 0 && 1 / s < 0) && s >= -2147483648 && s <= 2147483647) {
    if (s >= 0 && s <= SC_INT_MAX) {
      buf[o] = s;
      return o + 1;
    }
    buf[o] = SC_INT32;
    buf[o + 1] = (s >>> 24) & 0xff;
    buf[o + 2] = (s >>> 16) & 0xff;
    buf[o + 3] = (s >>> 8) & 0xff;
    buf[o + 4] = s & 0xff;
    return o + 5;
  }
  if (Math.fround(s) === s) {
    F32[0] = s;
    buf[o] = SC_FLOAT32;
    buf[o + 1] = F32B[0]!;
    buf[o + 2] = F32B[1]!;
    buf[o + 3] = F32B[2]!;
    buf[o + 4] = F32B[3]!;
    return o + 5;
  }
  F64[0] = s;
  buf[o] = SC_FLOAT64;
  for (let i = 0; i < 8; i++) buf[o + 1 + i] = F64B[i]!;
  return o + 9;
}

/** Writes one entry at offset o of buf (big enough); returns the end offset. */
function writeEntry(buf: Buffer, o: number, member: string, s: number): number {
  o = writeScore(buf, o, s);
  const len = member.length;
  if (len < 0xff) buf[o++] = len;
  else {
    buf[o] = 0xff;
    buf[o + 1] = (len >>> 24) & 0xff;
    buf[o + 2] = (len >>> 16) & 0xff;
    buf[o + 3] = (len >>> 8) & 0xff;
    buf[o + 4] = len & 0xff;
    o += 5;
  }
  if (len > 0) o += buf.latin1Write(member, o, len);
  return o;
}

/**
 * p with [delFrom, delTo) removed and an entry (member, score) inserted at offset insAt (an
 * entry boundary of p outside the removed part; -1 for none). One flat string made by
 * latin1Slice (a rope of slices, even once resolved, keeps costing memory): p is copied into
 * the scratch buffer once and its parts moved there.
 */
function rebuild(p: string, delFrom: number, delTo: number, insAt: number, member: string, score: number): string {
  const len = p.length;
  const removed = delTo - delFrom;
  const add = insAt >= 0 ? entrySize(member, score) : 0;
  const buf = ensureScratch(len + add);
  if (len > 0) buf.latin1Write(p, 0, len);
  if (insAt < 0) {
    if (removed > 0) buf.copyWithin(delFrom, delTo, len);
  } else if (removed === 0 || insAt <= delFrom) {
    // p[0, insAt) entry p[insAt, delFrom) p[delTo, len)
    if (removed > 0) buf.copyWithin(delFrom + add, delTo, len);
    buf.copyWithin(insAt + add, insAt, removed > 0 ? delFrom : len);
    writeEntry(buf, insAt, member, score);
  } else {
    // p[0, delFrom) p[delTo, insAt) entry p[insAt, len)
    buf.copyWithin(delFrom, delTo, insAt);
    buf.copyWithin(insAt - removed + add, insAt, len);
    writeEntry(buf, insAt - removed, member, score);
  }
  return buf.latin1Slice(0, len - removed + add);
}

/** The packed string of sorted entries (members[i], scores[i]) for i in order. */
function packSorted(members: string[], scores: ArrayLike<number>, order: ArrayLike<number> | null, n: number, negativeZeroToZero: boolean): string {
  let size = 0;
  for (let i = 0; i < n; i++) {
    const k = order ? order[i]! : i;
    let s = scores[k]!;
    if (negativeZeroToZero && s === 0) s = 0;
    size += entrySize(members[k]!, s);
  }
  const buf = ensureScratch(size);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const k = order ? order[i]! : i;
    let s = scores[k]!;
    if (negativeZeroToZero && s === 0) s = 0;
    o = writeEntry(buf, o, members[k]!, s);
  }
  return buf.latin1Slice(0, o);
}

/** Offsets of every entry of p (for backward walks). */
function entryOffsets(p: string): number[] {
  const out: number[] = [];
  for (let o = 0; o < p.length; o = skipAt(p, o)) out.push(o);
  return out;
}

class PackedCursor implements ZCursor {
  member = "";
  score = 0;
  /** Forward: offset of the next entry; reverse: index into `offsets`. */
  private at: number;
  private readonly offsets: number[] | null;
  constructor(
    private readonly p: string,
    rank: number,
    count: number,
    reverse: boolean,
  ) {
    if (rank < 0 || rank >= count) {
      this.offsets = null;
      this.at = p.length;
    } else if (reverse) {
      this.offsets = entryOffsets(p);
      this.at = rank;
    } else {
      this.offsets = null;
      let o = 0;
      for (let i = 0; i < rank; i++) o = skipAt(p, o);
      this.at = o;
    }
  }
  next(): boolean {
    const p = this.p;
    const offsets = this.offsets;
    if (offsets !== null) {
      if (this.at < 0) return false;
      decodeAt(p, offsets[this.at--]!);
    } else {
      if (this.at >= p.length) return false;
      this.at = decodeAt(p, this.at);
    }
    this.member = p.slice(dMember, dMember + dLen);
    this.score = dScore;
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Loading: a listpack blob (RDB type 17) straight into the packed form, without a JS string
// per member. A corrupt listpack throws the StructureError of encoding/listpack.ts (the one
// every reader of a listpack reports); anything else unusual (an order, a score format or an
// integer this path does not take, a duplicate) returns null and the caller decodes the
// generic way, which reports what is wrong.

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * A score written as text ("%.17g", "inf", "-inf"), when one exact operation gives it: at most
 * 15 digits times a power of ten up to 10^22 (Clinger's fast path, correctly rounded). NaN
 * otherwise (the caller then parses it as a string).
 */
function parseScoreBytes(b: Buffer, s: number, e: number): number {
  let i = s;
  let negative = false;
  if (i < e && (b[i] === 45 || b[i] === 43)) {
    negative = b[i] === 45;
    i++;
  }
  if (e - i === 3 && (b[i]! | 32) === 105 && (b[i + 1]! | 32) === 110 && (b[i + 2]! | 32) === 102) return negative ? -Infinity : Infinity;
  let m = 0;
  let digits = 0;
  let frac = 0;
  while (i < e && b[i]! >= 48 && b[i]! <= 57) {
    m = m * 10 + (b[i]! - 48);
    digits++;
    i++;
  }
  if (i < e && b[i] === 46) {
    i++;
    while (i < e && b[i]! >= 48 && b[i]! <= 57) {
      m = m * 10 + (b[i]! - 48);
      digits++;
      frac++;
      i++;
    }
  }
  if (digits === 0 || digits > 15) return NaN;
  let exp = 0;
  if (i < e && (b[i]! | 32) === 101) {
    i++;
    let expNegative = false;
    if (i < e && (b[i] === 45 || b[i] === 43)) {
      expNegative = b[i] === 45;
      i++;
    }
    const at = i;
    while (i < e && b[i]! >= 48 && b[i]! <= 57 && i - at < 4) {
      exp = exp * 10 + (b[i]! - 48);
      i++;
    }
    if (i === at) return NaN;
    if (expNegative) exp = -exp;
  }
  if (i !== e) return NaN;
  const p10 = exp - frac;
  let v: number;
  if (p10 === 0) v = m;
  else if (p10 > 0 && p10 <= 22) v = m * POW10[p10]!;
  else if (p10 < 0 && p10 >= -22) v = m / POW10[-p10]!;
  else return NaN;
  return negative ? -v : v;
}

/** Byte order of out[a, a + la) and out[b, b + lb). */
function compareBytes(out: Buffer, a: number, la: number, b: number, lb: number): number {
  const n = la < lb ? la : lb;
  for (let i = 0; i < n; i++) {
    const d = out[a + i]! - out[b + i]!;
    if (d !== 0) return d;
  }
  return la - lb;
}

/** FNV-1a of out[a, a + len), for the duplicate check of larger sets. */
function hashBytes(out: Buffer, a: number, len: number): number {
  let h = 2166136261;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ out[a + i]!, 16777619);
  return h >>> 0;
}

/** The reader of packListpack (one per module: readers never nest). */
const listpackReader = new ListpackReader();
const seenHashes = new Set<number>();
/** Member offsets and lengths of the entries written so far (for the checks). */
let loadMemberAt = new Int32Array(256);
let loadMemberLen = new Int32Array(256);

/** Grows the scratch buffer to hold `need` bytes, keeping its first `keep`. */
function growScratch(need: number, keep: number): Buffer {
  if (scratch.length >= need) return scratch;
  const grown = Buffer.allocUnsafe(Math.max(need, scratch.length * 2));
  scratch.copy(grown, 0, 0, keep);
  scratch = grown;
  return grown;
}

/**
 * The packed string of a sorted set stored as a listpack in buf[start, end), or null (see
 * above). Its entry count is left in `loadedCount`.
 */
function packListpack(buf: Buffer, start: number, end: number, maxEntries: number): string | null {
  const lp = listpackReader;
  lp.open(buf, start, end);
  let out = growScratch((end - start) * 2 + 64, 0);
  let o = 0;
  let entries = 0;
  // The member of the pair being read: a byte range of buf, or an integer's digits.
  let memberStart = 0;
  let memberLen = 0;
  let memberText: string | null = null;
  let prevScore = 0;
  let prevAt = -1;
  let prevLen = 0;
  while (lp.next()) {
    const strStart = lp.strStart;
    if (strStart === LP_WIDE_INTEGER) return abandon(); // beyond 2^53: the generic path
    const strLen = lp.strLen;
    if ((lp.count & 1) === 1) {
      // A member: kept until its score is read.
      if (strStart >= 0) {
        memberStart = strStart;
        memberLen = strLen;
        memberText = null;
      } else {
        memberText = String(lp.int);
        memberLen = memberText.length;
      }
      continue;
    }
    let score = lp.int;
    if (strStart >= 0) {
      score = parseScoreBytes(buf, strStart, strStart + strLen);
      // Longer forms ("%.17g" of most fractions): the generic path's Number() of the text.
      if (score !== score && strLen > 0) score = Number(buf.latin1Slice(strStart, strStart + strLen));
      if (score !== score) return abandon();
    }
    if (++entries > maxEntries) return abandon();
    out = growScratch(o + 14 + memberLen, o);
    o = writeScore(out, o, score);
    if (memberLen < 0xff) out[o++] = memberLen;
    else {
      out[o] = 0xff;
      out[o + 1] = (memberLen >>> 24) & 0xff;
      out[o + 2] = (memberLen >>> 16) & 0xff;
      out[o + 3] = (memberLen >>> 8) & 0xff;
      out[o + 4] = memberLen & 0xff;
      o += 5;
    }
    const at = o;
    if (memberText !== null) o += out.latin1Write(memberText, o, memberLen);
    else if (memberLen <= 16) for (let i = 0; i < memberLen; i++) out[o++] = buf[memberStart + i]!;
    else o += buf.copy(out, o, memberStart, memberStart + memberLen);
    // In order (strictly ascending), as Redis writes them; else the generic path sorts.
    if (prevAt >= 0 && (score < prevScore || (score === prevScore && compareBytes(out, prevAt, prevLen, at, memberLen) >= 0))) return abandon();
    prevScore = score;
    prevAt = at;
    prevLen = memberLen;
    if (entries > loadMemberAt.length) {
      const a = new Int32Array(loadMemberAt.length * 2);
      a.set(loadMemberAt);
      loadMemberAt = a;
      const l = new Int32Array(loadMemberLen.length * 2);
      l.set(loadMemberLen);
      loadMemberLen = l;
    }
    loadMemberAt[entries - 1] = at;
    loadMemberLen[entries - 1] = memberLen;
  }
  if ((lp.count & 1) === 1 || entries === 0) return null;
  // Duplicate members (equal scores are excluded by the order check, not others).
  if (entries <= 8) {
    for (let i = 1; i < entries; i++) {
      for (let j = 0; j < i; j++) if (loadMemberLen[i] === loadMemberLen[j] && compareBytes(out, loadMemberAt[i]!, loadMemberLen[i]!, loadMemberAt[j]!, loadMemberLen[j]!) === 0) return null;
    }
  } else {
    seenHashes.clear();
    for (let i = 0; i < entries; i++) {
      seenHashes.add(hashBytes(out, loadMemberAt[i]!, loadMemberLen[i]!));
      if (seenHashes.size !== i + 1) return null; // a duplicate, or a collision: the generic path decides
    }
  }
  loadedCount = entries;
  return out.latin1Slice(0, o);
}

let loadedCount = 0;

/** Gives up on the listpack being read (the generic path then reads it): null. */
function abandon(): null {
  listpackReader.release();
  return null;
}

// ---------------------------------------------------------------------------------------------
// ZIndex (the skiplist encoding's ordered structure)

/** Most entries in a leaf; a full leaf splits in two. */
const LEAF_MAX = 128;
/** A leaf this small merges with a neighbour when both fit in MERGE_MAX. */
const LEAF_MIN = LEAF_MAX >> 2;
const MERGE_MAX = (LEAF_MAX * 3) >> 2;

class Leaf {
  n = 0;
  readonly members: string[] = [];
  /** Grows up to LEAF_MAX: a set of a few members does not pay for a full leaf. */
  scores: Float64Array;
  constructor(capacity: number) {
    this.scores = new Float64Array(capacity);
  }
  /** Makes room for `n` entries. */
  reserve(n: number): void {
    if (n <= this.scores.length) return;
    const grown = new Float64Array(Math.min(LEAF_MAX, Math.max(n, this.scores.length * 2)));
    grown.set(this.scores.subarray(0, this.n));
    this.scores = grown;
  }
}

/** Capacity of a leaf started by a single insert. */
const LEAF_START = 4;

/** Lower bound in a leaf: the first position whose entry is >= (score, member). */
function leafLowerBound(leaf: Leaf, score: number, member: string): number {
  const scores = leaf.scores;
  const members = leaf.members;
  let lo = 0;
  let hi = leaf.n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const s = scores[mid]!;
    if (s < score || (s === score && members[mid]! < member)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A monotone predicate on entries: false for a prefix of the order, true after it. */
type EntryTest = (score: number, member: string) => boolean;

class ZIndex {
  readonly dict = new Map<string, number>();
  leaves: Leaf[] = [];
  /** First key of every leaf, kept in flat arrays for the top-level binary search. */
  firstScore: number[] = [];
  firstMember: string[] = [];
  /** Fenwick tree of leaf sizes (1-based), over `cap` slots (a power of two). */
  private fen = new Int32Array(2);
  private cap = 1;
  /** Live ZSCAN iterators, see commands/zsets/scan.ts. */
  scanState: unknown = null;

  get size(): number {
    return this.dict.size;
  }

  // ---- Fenwick tree

  rebuildCounts(): void {
    const c = this.leaves.length;
    let cap = 1;
    while (cap < c) cap <<= 1;
    if (cap !== this.cap || this.fen.length !== cap + 1) {
      this.fen = new Int32Array(cap + 1);
      this.cap = cap;
    } else this.fen.fill(0);
    const fen = this.fen;
    for (let i = 1; i <= cap; i++) {
      if (i <= c) fen[i]! += this.leaves[i - 1]!.n;
      const j = i + (i & -i);
      if (j <= cap) fen[j]! += fen[i]!;
    }
  }

  private countAdd(li: number, delta: number): void {
    const fen = this.fen;
    const cap = this.cap;
    for (let i = li + 1; i <= cap; i += i & -i) fen[i]! += delta;
  }

  /** Entries in the leaves before leaf li. */
  prefix(li: number): number {
    const fen = this.fen;
    let s = 0;
    for (let i = li; i > 0; i -= i & -i) s += fen[i]!;
    return s;
  }

  /** Leaf holding a rank (0 <= rank < size); the position in it is left in `foundPos`. */
  findRank(rank: number): number {
    const fen = this.fen;
    let pos = 0;
    let rem = rank;
    for (let step = this.cap; step > 0; step >>= 1) {
      const nxt = pos + step;
      if (nxt <= this.cap && fen[nxt]! <= rem) {
        pos = nxt;
        rem -= fen[nxt]!;
      }
    }
    this.foundPos = rem;
    return pos;
  }

  foundPos = 0;

  // ---- locating

  /** The leaf where (score, member) is or would go: the last whose first key <= it, else 0. */
  leafFor(score: number, member: string): number {
    const fs = this.firstScore;
    const fm = this.firstMember;
    let lo = 0;
    let hi = fs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const s = fs[mid]!;
      if (s < score || (s === score && fm[mid]! <= member)) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * First entry for which `test` holds (test false on a prefix of the order): its leaf, with
   * the position in `foundPos`; leaves.length when there is none.
   */
  firstWhere(test: EntryTest): number {
    const fs = this.firstScore;
    const fm = this.firstMember;
    // First leaf whose first entry passes.
    let lo = 0;
    let hi = fs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (test(fs[mid]!, fm[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    if (lo > 0) {
      const leaf = this.leaves[lo - 1]!;
      let a = 1;
      let b = leaf.n;
      while (a < b) {
        const mid = (a + b) >> 1;
        if (test(leaf.scores[mid]!, leaf.members[mid]!)) b = mid;
        else a = mid + 1;
      }
      if (a < leaf.n) {
        this.foundPos = a;
        return lo - 1;
      }
    }
    this.foundPos = 0;
    return lo;
  }

  /** Rank of the first entry passing `test` (size when none). */
  rankWhere(test: EntryTest): number {
    const li = this.firstWhere(test);
    if (li >= this.leaves.length) return this.size;
    return this.prefix(li) + this.foundPos;
  }

  // ---- updates

  /** Inserts (score, member) into the order (the dict is the caller's). */
  insert(score: number, member: string): void {
    if (this.leaves.length === 0) {
      const leaf = new Leaf(LEAF_START);
      leaf.members.push(member);
      leaf.scores[0] = score;
      leaf.n = 1;
      this.leaves.push(leaf);
      this.firstScore.push(score);
      this.firstMember.push(member);
      this.rebuildCounts();
      return;
    }
    let li = this.leafFor(score, member);
    let leaf = this.leaves[li]!;
    let pos = leafLowerBound(leaf, score, member);
    if (leaf.n === LEAF_MAX) {
      const last = li === this.leaves.length - 1;
      if (last && pos === LEAF_MAX) {
        // Appending in order: start a new leaf, keep this one full.
        const fresh = new Leaf(LEAF_START);
        this.leaves.push(fresh);
        this.firstScore.push(score);
        this.firstMember.push(member);
        fresh.members.push(member);
        fresh.scores[0] = score;
        fresh.n = 1;
        this.rebuildCounts();
        return;
      }
      if (li === 0 && pos === 0) {
        const fresh = new Leaf(LEAF_START);
        this.leaves.unshift(fresh);
        this.firstScore.unshift(score);
        this.firstMember.unshift(member);
        fresh.members.push(member);
        fresh.scores[0] = score;
        fresh.n = 1;
        this.rebuildCounts();
        return;
      }
      this.split(li);
      const half = this.leaves[li]!.n;
      if (pos > half) {
        li++;
        pos -= half;
        leaf = this.leaves[li]!;
      } else leaf = this.leaves[li]!;
      this.insertAt(li, leaf, pos, score, member);
      this.rebuildCounts();
      return;
    }
    this.insertAt(li, leaf, pos, score, member);
    this.countAdd(li, 1);
  }

  private insertAt(li: number, leaf: Leaf, pos: number, score: number, member: string): void {
    const n = leaf.n;
    leaf.reserve(n + 1);
    const members = leaf.members;
    const scores = leaf.scores;
    // Shifting by hand: splice allocates its result array, copyWithin costs a native call.
    members.push(member);
    for (let i = n; i > pos; i--) {
      members[i] = members[i - 1]!;
      scores[i] = scores[i - 1]!;
    }
    members[pos] = member;
    scores[pos] = score;
    leaf.n = n + 1;
    if (pos === 0) {
      this.firstScore[li] = score;
      this.firstMember[li] = member;
    }
  }

  /** Splits a full leaf into halves (the caller rebuilds the counts). */
  private split(li: number): void {
    const leaf = this.leaves[li]!;
    const half = leaf.n >> 1;
    const right = new Leaf(LEAF_MAX);
    const moved = leaf.n - half;
    for (let i = 0; i < moved; i++) right.members.push(leaf.members[half + i]!);
    right.scores.set(leaf.scores.subarray(half, leaf.n));
    right.n = moved;
    leaf.members.length = half;
    leaf.n = half;
    this.leaves.splice(li + 1, 0, right);
    this.firstScore.splice(li + 1, 0, right.scores[0]!);
    this.firstMember.splice(li + 1, 0, right.members[0]!);
  }

  /** Removes (score, member), which must be present. */
  remove(score: number, member: string): void {
    const li = this.leafFor(score, member);
    const leaf = this.leaves[li]!;
    const pos = leafLowerBound(leaf, score, member);
    // (The score, not the member: comparing the member would read a string from memory.)
    if (pos >= leaf.n || leaf.scores[pos] !== score) throw new Error("ZIndex: removing a missing entry");
    this.removeAt(li, pos);
  }

  /** Removes the entry at position pos of leaf li, merging or dropping the leaf as needed. */
  removeAt(li: number, pos: number): void {
    const leaf = this.leaves[li]!;
    const n = leaf.n;
    if (n === 1) {
      this.leaves.splice(li, 1);
      this.firstScore.splice(li, 1);
      this.firstMember.splice(li, 1);
      this.rebuildCounts();
      return;
    }
    const members = leaf.members;
    const scores = leaf.scores;
    for (let i = pos + 1; i < n; i++) {
      members[i - 1] = members[i]!;
      scores[i - 1] = scores[i]!;
    }
    members.pop();
    leaf.n = n - 1;
    if (pos === 0) {
      this.firstScore[li] = leaf.scores[0]!;
      this.firstMember[li] = leaf.members[0]!;
    }
    if (leaf.n < LEAF_MIN && this.mergeAround(li)) this.rebuildCounts();
    else this.countAdd(li, -1);
  }

  /** Merges a small leaf into a neighbour when they fit together; true if it did. */
  private mergeAround(li: number): boolean {
    const leaves = this.leaves;
    const leaf = leaves[li]!;
    if (li + 1 < leaves.length && leaf.n + leaves[li + 1]!.n <= MERGE_MAX) {
      this.mergeInto(li, li + 1);
      return true;
    }
    if (li > 0 && leaves[li - 1]!.n + leaf.n <= MERGE_MAX) {
      this.mergeInto(li - 1, li);
      return true;
    }
    return false;
  }

  /** Appends leaf b (= a + 1) to leaf a and drops b. */
  private mergeInto(a: number, b: number): void {
    const left = this.leaves[a]!;
    const right = this.leaves[b]!;
    for (let i = 0; i < right.n; i++) left.members.push(right.members[i]!);
    left.reserve(left.n + right.n);
    left.scores.set(right.scores.subarray(0, right.n), left.n);
    left.n += right.n;
    this.leaves.splice(b, 1);
    this.firstScore.splice(b, 1);
    this.firstMember.splice(b, 1);
  }

  /** Removes `count` entries from rank `start` on (all present); deletes them from the dict. */
  removeRange(start: number, count: number): void {
    if (count <= 0) return;
    let li = this.findRank(start);
    let pos = this.foundPos;
    let left = count;
    const dict = this.dict;
    const firstTouched = li;
    while (left > 0) {
      const leaf = this.leaves[li]!;
      const take = Math.min(left, leaf.n - pos);
      for (let i = pos; i < pos + take; i++) dict.delete(leaf.members[i]!);
      leaf.members.splice(pos, take);
      leaf.scores.copyWithin(pos, pos + take, leaf.n);
      leaf.n -= take;
      left -= take;
      li++;
      pos = 0;
    }
    // Drop emptied leaves, refresh first keys, merge small neighbours.
    let w = firstTouched;
    const leaves = this.leaves;
    const end = li;
    for (let r = firstTouched; r < end; r++) {
      const leaf = leaves[r]!;
      if (leaf.n > 0) leaves[w++] = leaf;
    }
    const removedLeaves = end - w;
    if (removedLeaves > 0) leaves.splice(w, removedLeaves);
    this.firstScore.length = leaves.length;
    this.firstMember.length = leaves.length;
    for (let i = firstTouched; i < leaves.length; i++) {
      this.firstScore[i] = leaves[i]!.scores[0]!;
      this.firstMember[i] = leaves[i]!.members[0]!;
    }
    // Around the cut: at most two leaves there are undersized.
    for (let i = Math.max(0, firstTouched - 1); i <= Math.min(w, leaves.length - 1) && i < leaves.length; i++) {
      if (leaves[i]!.n < LEAF_MIN && this.mergeAround(i)) i--;
    }
    this.rebuildCounts();
  }

  /** Builds from entries already in order (no duplicates). */
  static fromSorted(members: string[], scores: ArrayLike<number>, order: ArrayLike<number> | null, n: number): ZIndex {
    const z = new ZIndex();
    for (let i = 0; i < n; i++) {
      const k = order ? order[i]! : i;
      z.dict.set(members[k]!, scores[k]!);
    }
    z.fillSorted(members, scores, order, n);
    return z;
  }

  fillSorted(members: string[], scores: ArrayLike<number>, order: ArrayLike<number> | null, n: number): void {
    let leaf: Leaf | null = null;
    for (let i = 0; i < n; i++) {
      const k = order ? order[i]! : i;
      if (leaf === null || leaf.n === LEAF_MAX) {
        leaf = new Leaf(Math.min(LEAF_MAX, n - i));
        this.leaves.push(leaf);
        this.firstScore.push(scores[k]!);
        this.firstMember.push(members[k]!);
      }
      leaf.members.push(members[k]!);
      leaf.scores[leaf.n++] = scores[k]!;
    }
    this.rebuildCounts();
  }

  /**
   * Heap bytes: the member -> score Map, the member strings (estimated from the first
   * `samples`, as Redis samples a skiplist's first nodes; the leaves hold the same strings),
   * and the leaves with their arrays.
   */
  memoryUsage(samples: number): number {
    const n = this.dict.size;
    let bytes = objectBytes(8) + mapBytes(n) + sampledBytes(this.dict.keys(), n, samples, stringBytes);
    for (const leaf of this.leaves) bytes += objectBytes(3) + arrayBytes(leaf.n) + typedArrayBytes(leaf.scores.byteLength);
    return bytes + 3 * arrayBytes(this.leaves.length) + typedArrayBytes(this.fen.byteLength);
  }

  clone(): ZIndex {
    const z = new ZIndex();
    for (const [m, s] of this.dict) z.dict.set(m, s);
    for (const leaf of this.leaves) {
      const copy = new Leaf(leaf.scores.length);
      for (let i = 0; i < leaf.n; i++) copy.members.push(leaf.members[i]!);
      copy.scores.set(leaf.scores.subarray(0, leaf.n));
      copy.n = leaf.n;
      z.leaves.push(copy);
    }
    z.firstScore = this.firstScore.slice();
    z.firstMember = this.firstMember.slice();
    z.rebuildCounts();
    return z;
  }

  checkInvariants(): void {
    let count = 0;
    let prevS = 0;
    let prevM: string | null = null;
    if (this.firstScore.length !== this.leaves.length || this.firstMember.length !== this.leaves.length) throw new Error("first-key arrays out of step");
    for (let li = 0; li < this.leaves.length; li++) {
      const leaf = this.leaves[li]!;
      if (leaf.n === 0) throw new Error(`empty leaf ${li}`);
      if (leaf.n > LEAF_MAX) throw new Error(`overfull leaf ${li}`);
      if (leaf.members.length !== leaf.n) throw new Error(`leaf ${li}: ${leaf.members.length} members for n=${leaf.n}`);
      if (!Object.is(this.firstScore[li], leaf.scores[0]) || this.firstMember[li] !== leaf.members[0]) throw new Error(`stale first key of leaf ${li}`);
      if (this.prefix(li) !== count) throw new Error(`count prefix of leaf ${li} is ${this.prefix(li)}, not ${count}`);
      if (this.findRank(count) !== li || this.foundPos !== 0) throw new Error(`rank ${count} not found at the start of leaf ${li}`);
      for (let i = 0; i < leaf.n; i++) {
        const m = leaf.members[i]!;
        const s = leaf.scores[i]!;
        if (prevM !== null && zcompare(prevS, prevM, s, m) >= 0) throw new Error(`order broken at ${m}`);
        if (!Object.is(this.dict.get(m), s)) throw new Error(`dict disagrees at ${m}`);
        prevS = s;
        prevM = m;
        count++;
      }
    }
    if (count !== this.dict.size) throw new Error(`size ${count} != dict ${this.dict.size}`);
    if (this.prefix(this.leaves.length) !== count) throw new Error("count total wrong");
  }
}

class IndexCursor implements ZCursor {
  member = "";
  score = 0;
  constructor(
    private readonly z: ZIndex,
    private li: number,
    private pos: number,
    private readonly reverse: boolean,
  ) {}
  next(): boolean {
    const leaves = this.z.leaves;
    const li = this.li;
    if (li < 0 || li >= leaves.length) return false;
    const leaf = leaves[li]!;
    const pos = this.pos;
    this.member = leaf.members[pos]!;
    this.score = leaf.scores[pos]!;
    if (this.reverse) {
      if (pos > 0) this.pos = pos - 1;
      else {
        this.li = li - 1;
        if (li > 0) this.pos = leaves[li - 1]!.n - 1;
      }
    } else if (pos + 1 < leaf.n) this.pos = pos + 1;
    else {
      this.li = li + 1;
      this.pos = 0;
    }
    return true;
  }
}

const EMPTY_CURSOR: ZCursor = {
  member: "",
  score: 0,
  next: () => false,
};

// Predicates for ZIndex.firstWhere, bound to one range at a time.
let curScore: ScoreRange = { min: 0, max: 0, minex: false, maxex: false };
let curLex: LexRange = { min: LEX_MIN, max: LEX_MAX, minex: false, maxex: false };
const passesMin: EntryTest = (s) => (curScore.minex ? s > curScore.min : s >= curScore.min);
const beyondMax: EntryTest = (s) => (curScore.maxex ? s >= curScore.max : s > curScore.max);
const passesLexMin: EntryTest = (_s, m) => lexGteMin(m, curLex);
const beyondLexMax: EntryTest = (_s, m) => !lexLteMax(m, curLex);

// ---------------------------------------------------------------------------------------------
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
    if (cacheOwner === this) cacheOwner = null;
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
        members.push(buf.latin1Slice(dMember, dMember + dLen));
        scores.push(dScore);
      }
      this.setRep(ZIndex.fromSorted(members, scores, null, members.length));
      this.count = 0;
    } else {
      if (typeof rep === "string") return;
      const members: string[] = [];
      const scores: number[] = [];
      for (const leaf of rep.leaves) {
        for (let i = 0; i < leaf.n; i++) {
          members.push(leaf.members[i]!);
          scores.push(leaf.scores[i]!);
        }
      }
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
    return dScore;
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
      rep.dict.set(member, score);
      rep.insert(score, member);
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
      rep.remove(oldScore, member);
      rep.insert(newScore, member);
      rep.dict.set(member, newScore);
      return;
    }
    if (newScore === 0) newScore = 0;
    const found = findPacked(this, rep, member);
    if (found < 0) throw new Error("ZSetValue.updateScore: member missing");
    const foundEnd = fEnd;
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
      rep.remove(old, member);
      rep.dict.delete(member);
      return true;
    }
    const o = findPacked(this, rep, member);
    if (o < 0) return false;
    this.setRep(rebuild(rep, o, fEnd, -1, "", 0));
    this.count--;
    return true;
  }

  /** 0-based rank of a member in ascending order, or undefined. */
  rank(member: string): number | undefined {
    const rep = this.rep;
    if (typeof rep !== "string") {
      const score = rep.dict.get(member);
      if (score === undefined) return undefined;
      const li = rep.leafFor(score, member);
      return rep.prefix(li) + leafLowerBound(rep.leaves[li]!, score, member);
    }
    return findPacked(this, rep, member) < 0 ? undefined : fRank;
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
        if (dLen > max) max = dLen;
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
        if (scoreGteMin(dScore, r)) return scoreLteMax(dScore, r) ? i : -1;
      }
      return -1;
    }
    curScore = r;
    const rank = rep.rankWhere(passesMin);
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
        if (!scoreLteMax(dScore, r)) break;
        last = i;
        lastScore = dScore;
      }
      return last >= 0 && scoreGteMin(lastScore, r) ? last : -1;
    }
    curScore = r;
    const rank = rep.rankWhere(beyondMax) - 1;
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
    curLex = r;
    const rank = rep.rankWhere(passesLexMin);
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
    curLex = r;
    const rank = rep.rankWhere(beyondLexMax) - 1;
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
          if (scoreGteMin(dScore, r)) from = o;
        }
        if (from >= 0) {
          if (!scoreLteMax(dScore, r)) {
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
    curScore = r;
    const start = rep.rankWhere(passesMin);
    let end = start;
    if (start < rep.size) end = Math.max(start, rep.rankWhere(beyondMax));
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
        if (!lexLteMax(rep.slice(dMember, dMember + dLen), r)) break;
        removed++;
        o = next;
      }
      this.setRep(rebuild(rep, from, o, -1, "", 0));
      this.count -= removed;
      return removed;
    }
    if (lexRangeEmpty(r)) return 0;
    curLex = r;
    const start = rep.rankWhere(passesLexMin);
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
      for (let i = 0; i < n; i++) {
        index.dict.set(members[i]!, scores[i]!);
        if (index.dict.size !== i + 1) return { duplicate: members[i]! };
      }
      index.fillSorted(members, scores, order, n);
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
    z.count = loadedCount;
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
      const m = rep.slice(dMember, dMember + dLen);
      if (prevM !== null && zcompare(prevS, prevM, dScore, m) >= 0) throw new Error(`order broken at ${m}`);
      if (seen.has(m)) throw new Error(`duplicate ${m}`);
      seen.add(m);
      prevS = dScore;
      prevM = m;
    }
    if (n !== this.count) throw new Error(`count ${this.count} != ${n} entries`);
    for (let i = 0; i < rep.length; i++) if (rep.charCodeAt(i) > 0xff) throw new Error("packed string is not latin1");
  }
}

/** A sorted set (see the top of this file). */
export class ZSetValue extends ZSetCore {}
