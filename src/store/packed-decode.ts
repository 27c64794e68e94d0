// RDB structures decoded straight into the packed forms of the store, without a JS string per
// element: a listpack's entries into a PackedBuilder (packed-entries.ts), an intset's body into
// the intset form (packed-intset.ts). The validation and its messages are those of
// rdb/listpack.ts and rdb/intset.ts (decodeListpack, decodeIntset), so a corrupt structure
// reports the same error whichever decoder read it.

import { StructureError } from "../rdb/errors.ts";
import { listpackBacklenSize, readInt64LE } from "../rdb/listpack.ts";
import type { PackedBuilder } from "./packed-entries.ts";

function lpFail(at: number, start: number, message: string): never {
  throw new StructureError("listpack", at - start, message);
}

/**
 * Appends the elements of the listpack in buf[start, end) to `out` as packed entries
 * (integers as their decimal strings). Returns the number of elements.
 */
export function listpackIntoBuilder(buf: Buffer, start: number, end: number, out: PackedBuilder): number {
  const size = end - start;
  if (size < 7) lpFail(start, start, `${size} bytes is too short for a listpack`);
  const total = (buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16) | (buf[start + 3]! << 24)) >>> 0;
  if (total !== size) lpFail(start, start, `header says ${total} bytes, the blob has ${size}`);
  const announced = buf[start + 4]! | (buf[start + 5]! << 8);
  if (buf[end - 1] !== 0xff) lpFail(end - 1, start, "missing the 0xFF terminator");
  const last = end - 1;
  let p = start + 6;
  let count = 0;
  while (p < last) {
    const b = buf[p]!;
    let entryLen: number;
    if (b < 0x80) {
      entryLen = 1;
      out.addInteger(b);
    } else if (b < 0xc0) {
      const len = b & 0x3f;
      entryLen = 1 + len;
      if (p + entryLen > last) lpFail(p, start, "string entry overruns the listpack");
      out.addBytes(buf, p + 1, p + 1 + len);
    } else if (b < 0xe0) {
      entryLen = 2;
      if (p + 2 > last) lpFail(p, start, "integer entry overruns the listpack");
      let v = ((b & 0x1f) << 8) | buf[p + 1]!;
      if (v >= 4096) v -= 8192;
      out.addInteger(v);
    } else if (b < 0xf0) {
      if (p + 2 > last) lpFail(p, start, "string header overruns the listpack");
      const len = ((b & 0x0f) << 8) | buf[p + 1]!;
      entryLen = 2 + len;
      if (p + entryLen > last) lpFail(p, start, "string entry overruns the listpack");
      out.addBytes(buf, p + 2, p + 2 + len);
    } else {
      switch (b) {
        case 0xf0: {
          if (p + 5 > last) lpFail(p, start, "string header overruns the listpack");
          const len = (buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24)) >>> 0;
          entryLen = 5 + len;
          if (p + entryLen > last) lpFail(p, start, "string entry overruns the listpack");
          out.addBytes(buf, p + 5, p + 5 + len);
          break;
        }
        case 0xf1:
          entryLen = 3;
          if (p + 3 > last) lpFail(p, start, "integer entry overruns the listpack");
          out.addInteger(((buf[p + 1]! | (buf[p + 2]! << 8)) << 16) >> 16);
          break;
        case 0xf2:
          entryLen = 4;
          if (p + 4 > last) lpFail(p, start, "integer entry overruns the listpack");
          out.addInteger(((buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16)) << 8) >> 8);
          break;
        case 0xf3:
          entryLen = 5;
          if (p + 5 > last) lpFail(p, start, "integer entry overruns the listpack");
          out.addInteger(buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24));
          break;
        case 0xf4:
          entryLen = 9;
          if (p + 9 > last) lpFail(p, start, "integer entry overruns the listpack");
          out.addInteger(readInt64LE(buf, p + 1));
          break;
        default:
          lpFail(p, start, `invalid entry encoding byte 0x${b.toString(16)}`);
      }
    }
    const q = p + entryLen;
    const backlenSize = listpackBacklenSize(entryLen);
    if (q + backlenSize > last) lpFail(q, start, "backlen overruns the listpack");
    let backlen = 0;
    for (let i = 0; i < backlenSize; i++) backlen = backlen * 128 + (buf[q + i]! & 127);
    if (backlen !== entryLen) lpFail(q, start, `backlen says ${backlen}, the entry has ${entryLen} bytes`);
    count++;
    p = q + backlenSize;
  }
  if (p !== last) lpFail(p, start, "entries overrun the terminator");
  if (announced !== 65535 && announced !== count) lpFail(start + 4, start, `header says ${announced} elements, found ${count}`);
  return count;
}

/** Element width of the intset intsetBody read last (module state: no object per call). */
export let intsetWidth: 2 | 4 | 8 = 2;

/** The intset in buf[start, end), validated: its body (the intset form); its width in `intsetWidth`. */
export function intsetBody(buf: Buffer, start: number, end: number): string {
  const S = "intset";
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
  intsetWidth = width;
  return length === 0 ? "" : buf.latin1Slice(start + 8, end);
}
