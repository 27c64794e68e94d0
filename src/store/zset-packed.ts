// The listpack encoding of a sorted set: ONE latin1 string holds every (score, member) entry
// in order, scanned with charCodeAt (see zset.ts for why). This module owns the format: the
// entry codec, the linear lookup (zzlFind) with its one-entry cache, rebuilds, and the cursor.

import type { BulkSink } from "./packed-entries.ts";
import { type ZCursor } from "./zset-order.ts";

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

/**
 * What decodeAt / skipAt found: module scratch behind a const (no object per entry; commands
 * run one at a time, and a caller reads it before the next decode).
 */
export const decoded = { score: 0, member: 0, len: 0 };

/** Decodes the entry at offset o into decoded.score/decoded.member/decoded.len; returns the next entry's offset. */
export function decodeAt(p: string, o: number): number {
  const t = p.charCodeAt(o);
  if (t <= SC_INT_MAX) {
    decoded.score = t;
    o += 1;
  } else if (t === SC_INT32) {
    decoded.score = (p.charCodeAt(o + 1) << 24) | (p.charCodeAt(o + 2) << 16) | (p.charCodeAt(o + 3) << 8) | p.charCodeAt(o + 4);
    o += 5;
  } else if (t === SC_FLOAT32) {
    F32B[0] = p.charCodeAt(o + 1);
    F32B[1] = p.charCodeAt(o + 2);
    F32B[2] = p.charCodeAt(o + 3);
    F32B[3] = p.charCodeAt(o + 4);
    decoded.score = F32[0]!;
    o += 5;
  } else {
    for (let i = 0; i < 8; i++) F64B[i] = p.charCodeAt(o + 1 + i);
    decoded.score = F64[0]!;
    o += 9;
  }
  let len = p.charCodeAt(o);
  if (len < 0xff) o += 1;
  else {
    len = ((p.charCodeAt(o + 1) << 24) | (p.charCodeAt(o + 2) << 16) | (p.charCodeAt(o + 3) << 8) | p.charCodeAt(o + 4)) >>> 0;
    o += 5;
  }
  decoded.member = o;
  decoded.len = len;
  return o + len;
}

/** Skips the entry at offset o (no score decoding); sets decoded.member/decoded.len. */
export function skipAt(p: string, o: number): number {
  const t = p.charCodeAt(o);
  o += t <= SC_INT_MAX ? 1 : t === SC_FLOAT64 ? 9 : 5;
  let len = p.charCodeAt(o);
  if (len < 0xff) o += 1;
  else {
    len = ((p.charCodeAt(o + 1) << 24) | (p.charCodeAt(o + 2) << 16) | (p.charCodeAt(o + 3) << 8) | p.charCodeAt(o + 4)) >>> 0;
    o += 5;
  }
  decoded.member = o;
  decoded.len = len;
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

/** What findPacked found: the entry's rank and the offset after it (scratch, as `decoded`). */
export const lookup = { rank: 0, end: 0 };
// The last lookup, valid until its set changes (ZSetCore.setRep clears it): ZADD's score
// lookup, then its update, find the member once.
let cacheOwner: object | null = null;
let cacheMember = "";
let cacheOffset = -1;
let cacheRank = 0;
let cacheEnd = 0;

/** Forgets the cached lookup of `owner`'s set (its packed string changed). */
export function forgetLookup(owner: object): void {
  if (cacheOwner === owner) cacheOwner = null;
}

/**
 * Offset of the entry holding member m, or -1 (zzlFind). A linear scan like Redis's; it reads
 * two bytes per entry and compares the member's last byte before the whole member.
 */
export function findPacked(owner: object, p: string, m: string): number {
  if (owner === cacheOwner && m === cacheMember) {
    lookup.rank = cacheRank;
    lookup.end = cacheEnd;
    return cacheOffset;
  }
  const o = scanPacked(p, m);
  cacheOwner = owner;
  cacheMember = m;
  cacheOffset = o;
  cacheRank = lookup.rank;
  cacheEnd = lookup.end;
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
      lookup.rank = r;
      lookup.end = q + len;
      return o;
    }
    o = q + len;
  }
  return -1;
}

/** Whether the entry just decoded sorts after (score, member). */
export function decodedAfter(p: string, score: number, member: string): boolean {
  return decoded.score > score || (decoded.score === score && comparePacked(p, decoded.member, decoded.len, member) > 0);
}

let scratch = Buffer.allocUnsafe(4096);

export function ensureScratch(n: number): Buffer {
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
export function writeScore(buf: Buffer, o: number, s: number): number {
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
export function rebuild(p: string, delFrom: number, delTo: number, insAt: number, member: string, score: number): string {
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
export function packSorted(members: string[], scores: ArrayLike<number>, order: ArrayLike<number> | null, n: number, negativeZeroToZero: boolean): string {
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

export class PackedCursor implements ZCursor {
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
  writeMember(out: BulkSink): void {
    out.bulkChars(this.member, 0, this.member.length);
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
    this.member = p.slice(decoded.member, decoded.member + decoded.len);
    this.score = decoded.score;
    return true;
  }
}
