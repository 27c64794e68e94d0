// Loading: a listpack blob (RDB type 17) straight into the packed form, without a JS string
// per member. A corrupt listpack throws the StructureError of encoding/listpack.ts (the one
// every reader of a listpack reports); anything else unusual (an order, a score format or an
// integer this path does not take, a duplicate) returns null and the caller decodes the
// generic way, which reports what is wrong.

import { ListpackReader, LP_WIDE_INTEGER } from "../encoding/listpack.ts";
import { writeScore } from "./zset-packed.ts";

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

/** Where a listpack is packed (this module's own, reused). */
let scratch = Buffer.allocUnsafe(4096);

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
 * above). Its entry count is left in `listpackLoad.count`.
 */
export function packListpack(buf: Buffer, start: number, end: number, maxEntries: number): string | null {
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
  listpackLoad.count = entries;
  return out.latin1Slice(0, o);
}

/** The entry count of the set packListpack packed last (scratch: read at once by the caller). */
export const listpackLoad = { count: 0 };

/** Gives up on the listpack being read (the generic path then reads it): null. */
function abandon(): null {
  listpackReader.release();
  return null;
}
