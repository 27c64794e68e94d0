// Listpack decoding (listpack.c), the compact encoding of small hashes, sets, sorted sets, list
// nodes (quicklist 2) and stream nodes since Redis 7.0.
//
//   <total-bytes u32 LE> <num-elements u16 LE, 65535 = unknown> <entry>... <0xFF>
//   entry = <encoding+data> <backlen: size of encoding+data, 1-5 bytes, 7 bits per byte>
//
// Encodings (first byte):
//   0xxxxxxx               7-bit unsigned integer
//   10xxxxxx <data>        string of up to 63 bytes
//   110xxxxx yyyyyyyy      13-bit signed integer
//   1110xxxx yyyyyyyy      string of up to 4095 bytes (12-bit length, big end first)
//   11110000 <u32 LE len>  string
//   11110001..11110100     16/24/32/64-bit signed integer, little endian
//   11111111               end of listpack
//
// Everything is validated while decoding (sizes, backlens, element count, terminator), so a
// corrupt listpack yields a StructureError, never a read outside the blob.

import { StructureError } from "./errors.ts";

/** A decoded element: a string, or an integer (a bigint only beyond +-2^53). */
export type PackedValue = string | number | bigint;

const S = "listpack";

function fail(at: number, start: number, message: string): never {
  throw new StructureError(S, at - start, message);
}

/** Size of the backlen field that follows an entry of `l` bytes. */
export function listpackBacklenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** Reads a 64-bit little-endian signed integer: a number when exact, else a bigint. */
export function readInt64LE(buf: Uint8Array, p: number): number | bigint {
  const lo = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
  const hi = buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24);
  if (hi >= -0x200000 && hi < 0x200000) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) + BigInt(lo);
}

/**
 * Decodes the listpack in buf[start, end) and appends its elements to `out`. Integers are
 * appended as numbers/bigints when `intsAsNumbers`, else as their decimal strings (what a
 * Redis client sees). Returns the number of elements.
 */
export function decodeListpack(buf: Buffer, start: number, end: number, out: PackedValue[], intsAsNumbers: boolean): number {
  const size = end - start;
  if (size < 7) fail(start, start, `${size} bytes is too short for a listpack`);
  const total = (buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16) | (buf[start + 3]! << 24)) >>> 0;
  if (total !== size) fail(start, start, `header says ${total} bytes, the blob has ${size}`);
  const announced = buf[start + 4]! | (buf[start + 5]! << 8);
  if (buf[end - 1] !== 0xff) fail(end - 1, start, "missing the 0xFF terminator");
  const last = end - 1;
  let p = start + 6;
  let count = 0;
  while (p < last) {
    const b = buf[p]!;
    let entryLen: number;
    let value: PackedValue;
    if (b < 0x80) {
      entryLen = 1;
      value = intsAsNumbers ? b : String(b);
    } else if (b < 0xc0) {
      const len = b & 0x3f;
      entryLen = 1 + len;
      if (p + entryLen > last) fail(p, start, "string entry overruns the listpack");
      value = buf.latin1Slice(p + 1, p + 1 + len);
    } else if (b < 0xe0) {
      entryLen = 2;
      if (p + 2 > last) fail(p, start, "integer entry overruns the listpack");
      let v = ((b & 0x1f) << 8) | buf[p + 1]!;
      if (v >= 4096) v -= 8192;
      value = intsAsNumbers ? v : String(v);
    } else if (b < 0xf0) {
      if (p + 2 > last) fail(p, start, "string header overruns the listpack");
      const len = ((b & 0x0f) << 8) | buf[p + 1]!;
      entryLen = 2 + len;
      if (p + entryLen > last) fail(p, start, "string entry overruns the listpack");
      value = buf.latin1Slice(p + 2, p + 2 + len);
    } else {
      switch (b) {
        case 0xf0: {
          if (p + 5 > last) fail(p, start, "string header overruns the listpack");
          const len = (buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24)) >>> 0;
          entryLen = 5 + len;
          if (p + entryLen > last) fail(p, start, "string entry overruns the listpack");
          value = buf.latin1Slice(p + 5, p + 5 + len);
          break;
        }
        case 0xf1: {
          entryLen = 3;
          if (p + 3 > last) fail(p, start, "integer entry overruns the listpack");
          const v = ((buf[p + 1]! | (buf[p + 2]! << 8)) << 16) >> 16;
          value = intsAsNumbers ? v : String(v);
          break;
        }
        case 0xf2: {
          entryLen = 4;
          if (p + 4 > last) fail(p, start, "integer entry overruns the listpack");
          const v = ((buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16)) << 8) >> 8;
          value = intsAsNumbers ? v : String(v);
          break;
        }
        case 0xf3: {
          entryLen = 5;
          if (p + 5 > last) fail(p, start, "integer entry overruns the listpack");
          const v = buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24);
          value = intsAsNumbers ? v : String(v);
          break;
        }
        case 0xf4: {
          entryLen = 9;
          if (p + 9 > last) fail(p, start, "integer entry overruns the listpack");
          const v = readInt64LE(buf, p + 1);
          value = intsAsNumbers ? v : String(v);
          break;
        }
        default:
          fail(p, start, `invalid entry encoding byte 0x${b.toString(16)}`);
      }
    }
    // Check the backlen that follows the entry.
    const q = p + entryLen;
    const backlenSize = listpackBacklenSize(entryLen);
    if (q + backlenSize > last) fail(q, start, "backlen overruns the listpack");
    let backlen = 0;
    for (let i = 0; i < backlenSize; i++) backlen = backlen * 128 + (buf[q + i]! & 127);
    if (backlen !== entryLen) fail(q, start, `backlen says ${backlen}, the entry has ${entryLen} bytes`);
    out.push(value);
    count++;
    p = q + backlenSize;
  }
  if (p !== last) fail(p, start, "entries overrun the terminator");
  if (announced !== 65535 && announced !== count) fail(start + 4, start, `header says ${announced} elements, found ${count}`);
  return count;
}

/** Decodes a listpack into strings (integers as decimal strings). */
export function listpackStrings(buf: Buffer, start = 0, end = buf.length): string[] {
  const out: PackedValue[] = [];
  decodeListpack(buf, start, end, out, false);
  return out as string[];
}
