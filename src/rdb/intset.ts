// Intset decoding (intset.c): a sorted array of unique integers of one width, the encoding
// of small all-integer sets (RDB type 11).
//
//   <encoding u32 LE: 2, 4 or 8> <length u32 LE> <length values, little endian, ascending>

import { StructureError } from "./errors.ts";
import { readInt64LE } from "./listpack.ts";

const S = "intset";

/** Decodes the intset in buf[start, end) into decimal strings, validating size and order. */
export function decodeIntset(buf: Uint8Array, start: number, end: number): string[] {
  const size = end - start;
  if (size < 8) throw new StructureError(S, 0, `${size} bytes is too short for an intset`);
  const width = (buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16) | (buf[start + 3]! << 24)) >>> 0;
  if (width !== 2 && width !== 4 && width !== 8) throw new StructureError(S, 0, `invalid element width ${width}`);
  const length = (buf[start + 4]! | (buf[start + 5]! << 8) | (buf[start + 6]! << 16) | (buf[start + 7]! << 24)) >>> 0;
  if (8 + length * width !== size) throw new StructureError(S, 4, `${length} elements of ${width} bytes do not fill ${size} bytes`);
  const out: string[] = new Array(length);
  let prev: number | bigint = -Infinity;
  let p = start + 8;
  for (let i = 0; i < length; i++) {
    let v: number | bigint;
    if (width === 2) v = ((buf[p]! | (buf[p + 1]! << 8)) << 16) >> 16;
    else if (width === 4) v = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
    else v = readInt64LE(buf, p);
    if (!(v > prev)) throw new StructureError(S, p - start, "elements are not strictly ascending");
    prev = v;
    out[i] = String(v);
    p += width;
  }
  return out;
}
