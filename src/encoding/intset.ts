// Intset validation (intset.c): a sorted array of unique integers of one width, the encoding of
// small all-integer sets (RDB type 11).
//
//   <encoding u32 LE: 2, 4 or 8> <length u32 LE> <length values, little endian, ascending>
//
// The store keeps an intset's body as it is (store/packed-intset.ts), so loading one is a
// check of the blob and one latin1Slice of its body: nothing is decoded per element.

import { StructureError } from "./structure-error.ts";

const S = "intset";

/**
 * Checks the intset in buf[start, end) (size, width, strictly ascending elements) and returns
 * its element width; its body, buf[start + 8, end), holds the elements.
 */
export function checkIntset(buf: Uint8Array, start: number, end: number): 2 | 4 | 8 {
  const size = end - start;
  if (size < 8) throw new StructureError(S, 0, `${size} bytes is too short for an intset`);
  const width = (buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16) | (buf[start + 3]! << 24)) >>> 0;
  if (width !== 2 && width !== 4 && width !== 8) throw new StructureError(S, 0, `invalid element width ${width}`);
  const length = (buf[start + 4]! | (buf[start + 5]! << 8) | (buf[start + 6]! << 16) | (buf[start + 7]! << 24)) >>> 0;
  if (8 + length * width !== size) throw new StructureError(S, 4, `${length} elements of ${width} bytes do not fill ${size} bytes`);
  let p = start + 8;
  if (width === 2) {
    let prev = -Infinity;
    for (let i = 0; i < length; i++, p += 2) {
      const v = ((buf[p]! | (buf[p + 1]! << 8)) << 16) >> 16;
      if (!(v > prev)) throw new StructureError(S, p - start, "elements are not strictly ascending");
      prev = v;
    }
  } else if (width === 4) {
    let prev = -Infinity;
    for (let i = 0; i < length; i++, p += 4) {
      const v = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
      if (!(v > prev)) throw new StructureError(S, p - start, "elements are not strictly ascending");
      prev = v;
    }
  } else {
    let prevHi = -Infinity;
    let prevLo = 0;
    for (let i = 0; i < length; i++, p += 8) {
      const lo = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
      const hi = buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24);
      if (!(hi > prevHi || (hi === prevHi && lo > prevLo))) throw new StructureError(S, p - start, "elements are not strictly ascending");
      prevHi = hi;
      prevLo = lo;
    }
  }
  return width;
}
