// The intset form of a set: its members, signed integers, as one latin1 JS string of
// fixed-width little-endian values in ascending order (2, 4 or 8 chars each) — byte for byte
// the body of a Redis intset (intset.c), so an intset from an RDB loads with one latin1Slice.
// Like Redis, an insertion that needs a wider width re-encodes every member, and a width never
// narrows again.
//
// A value is handled as (hi, lo): hi the signed upper 32 bits, lo the unsigned lower 32 bits,
// exact over the whole int64 range without BigInt on the common paths.

import { finishScratch, scratchBuffer, scratchWith } from "./packed-entries.ts";

const TWO32 = 4294967296;

/**
 * The (hi, lo) that parseIntMember / valueAt read last: one scratch object owned by this
 * module (no allocation per call; its callers use it at once, before the next read).
 */
export const value = { hi: 0, lo: 0 };

/**
 * Parses a canonical int64 decimal string (the caller checked it with isIntsetMember) into
 * `value`.
 */
export function parseIntMember(s: string): void {
  if (s.length <= 15) {
    const v = +s;
    const h = Math.floor(v / TWO32);
    value.hi = h;
    value.lo = v - h * TWO32;
    return;
  }
  const b = BigInt(s);
  value.hi = Number(BigInt.asIntN(32, b >> 32n));
  value.lo = Number(BigInt.asUintN(32, b));
}

/** The width (2, 4 or 8) a value needs (intsetValueEncoding). */
export function widthOf(h: number, l: number): 2 | 4 | 8 {
  if (h === 0) return l <= 0x7fff ? 2 : l <= 0x7fffffff ? 4 : 8;
  if (h === -1) return l >= 0xffff8000 ? 2 : l >= 0x80000000 ? 4 : 8;
  return 8;
}

/** Reads element `i` into `value`. */
function valueAt(s: string, w: number, i: number): void {
  const p = i * w;
  if (w === 2) {
    const v = ((s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8)) << 16) >> 16;
    value.hi = v < 0 ? -1 : 0;
    value.lo = v >>> 0;
  } else if (w === 4) {
    const v = s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8) | (s.charCodeAt(p + 2) << 16) | (s.charCodeAt(p + 3) << 24);
    value.hi = v < 0 ? -1 : 0;
    value.lo = v >>> 0;
  } else {
    value.lo = (s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8) | (s.charCodeAt(p + 2) << 16) | (s.charCodeAt(p + 3) << 24)) >>> 0;
    value.hi = s.charCodeAt(p + 4) | (s.charCodeAt(p + 5) << 8) | (s.charCodeAt(p + 6) << 16) | (s.charCodeAt(p + 7) << 24);
  }
}

/** Decimal string of element `i`. */
export function memberAt(s: string, w: number, i: number): string {
  const p = i * w;
  if (w === 2) return String(((s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8)) << 16) >> 16);
  if (w === 4) return String(s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8) | (s.charCodeAt(p + 2) << 16) | (s.charCodeAt(p + 3) << 24));
  valueAt(s, w, i);
  return decimal(value.hi, value.lo);
}

/** Decimal string of (h, l). */
function decimal(h: number, l: number): string {
  if (h >= -0x200000 && h < 0x200000) return String(h * TWO32 + l);
  return String((BigInt(h) << 32n) + BigInt(l));
}

/**
 * Binary search for (h, l) in the intset `s` of width `w`: its index when present, else
 * -(insertion point) - 1.
 */
export function search(s: string, w: number, h: number, l: number): number {
  let low = 0;
  let high = s.length / w - 1;
  if (w < 8) {
    // Every element fits in 32 bits: compare as numbers (a wider target is never present).
    if (widthOf(h, l) > w) return h < 0 ? -1 : -(high + 1) - 1;
    const t = h < 0 ? l - TWO32 : l;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const p = mid * w;
      const e =
        w === 2
          ? ((s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8)) << 16) >> 16
          : s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8) | (s.charCodeAt(p + 2) << 16) | (s.charCodeAt(p + 3) << 24);
      if (e < t) low = mid + 1;
      else if (e > t) high = mid - 1;
      else return mid;
    }
    return -low - 1;
  }
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const p = mid * 8;
    const eh = s.charCodeAt(p + 4) | (s.charCodeAt(p + 5) << 8) | (s.charCodeAt(p + 6) << 16) | (s.charCodeAt(p + 7) << 24);
    let c = eh - h;
    if (c === 0) {
      const el = (s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8) | (s.charCodeAt(p + 2) << 16) | (s.charCodeAt(p + 3) << 24)) >>> 0;
      c = el - l;
    }
    if (c < 0) low = mid + 1;
    else if (c > 0) high = mid - 1;
    else return mid;
  }
  return -low - 1;
}

function writeValue(buf: Buffer, p: number, w: number, h: number, l: number): void {
  buf[p] = l & 0xff;
  buf[p + 1] = (l >>> 8) & 0xff;
  if (w === 2) return;
  buf[p + 2] = (l >>> 16) & 0xff;
  buf[p + 3] = (l >>> 24) & 0xff;
  if (w === 4) return;
  buf[p + 4] = h & 0xff;
  buf[p + 5] = (h >>> 8) & 0xff;
  buf[p + 6] = (h >>> 16) & 0xff;
  buf[p + 7] = (h >>> 24) & 0xff;
}

/** The intset with (h, l) inserted at index `at` (the same width, which must hold it). */
export function insertAt(s: string, w: number, at: number, h: number, l: number): string {
  const n = s.length;
  const buf = scratchWith(s, n + w);
  const p = at * w;
  if (p < n) buf.copyWithin(p + w, p, n);
  writeValue(buf, p, w, h, l);
  return finishScratch(buf, n + w);
}

/** The intset re-encoded at the wider width `to`, with (h, l) (outside the old range) added. */
export function upgradeAndAdd(s: string, w: number, to: number, h: number, l: number): string {
  const count = s.length / w;
  const buf = scratchBuffer((count + 1) * to);
  const prepend = h < 0;
  let p = prepend ? to : 0;
  for (let i = 0; i < count; i++) {
    valueAt(s, w, i);
    writeValue(buf, p, to, value.hi, value.lo);
    p += to;
  }
  writeValue(buf, prepend ? 0 : p, to, h, l);
  return finishScratch(buf, (count + 1) * to);
}

/** Appends (h, l) at byte `p` of `buf` with width `w` (for builders). */
export function writeAt(buf: Buffer, p: number, w: number, h: number, l: number): void {
  writeValue(buf, p, w, h, l);
}
