// Ziplist decoding (ziplist.c), the compact encoding of small lists, hashes and sorted sets
// before Redis 7.0 (RDB types 10, 12, 13, and quicklist 1 nodes).
//
//   <zlbytes u32 LE> <zltail u32 LE> <zllen u16 LE, 65535 = unknown> <entry>... <0xFF>
//   entry = <prevlen: 1 byte < 254, or 0xFE + u32 LE> <encoding> <data>
//
// Encodings (first byte):
//   00pppppp                  string of up to 63 bytes
//   01pppppp qqqqqqqq         string, 14-bit length (big end first)
//   10000000 <u32 BE>         string, 32-bit length
//   11000000 / 11010000 / 11100000   int16 / int32 / int64, little endian
//   11110000                  int24, 11111110 int8
//   1111xxxx (0001..1101)     immediate 0..12 (xxxx - 1)
//
// Validated while decoding: bounds, prevlen chain, tail offset, count, terminator.

import { StructureError } from "../encoding/structure-error.ts";
import { readInt64LE, type PackedValue } from "../encoding/listpack.ts";

const S = "ziplist";
const HEADER = 10;

function fail(at: number, start: number, message: string): never {
  throw new StructureError(S, at - start, message);
}

/**
 * Decodes the ziplist in buf[start, end), appending its elements to `out` (integers as numbers
 * when `intsAsNumbers`, else as decimal strings). Returns the number of elements.
 */
export function decodeZiplist(buf: Buffer, start: number, end: number, out: PackedValue[], intsAsNumbers: boolean): number {
  const size = end - start;
  if (size < HEADER + 1) fail(start, start, `${size} bytes is too short for a ziplist`);
  const zlbytes = (buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16) | (buf[start + 3]! << 24)) >>> 0;
  if (zlbytes !== size) fail(start, start, `header says ${zlbytes} bytes, the blob has ${size}`);
  const zltail = (buf[start + 4]! | (buf[start + 5]! << 8) | (buf[start + 6]! << 16) | (buf[start + 7]! << 24)) >>> 0;
  const announced = buf[start + 8]! | (buf[start + 9]! << 8);
  const last = end - 1;
  if (buf[last] !== 0xff) fail(last, start, "missing the 0xFF terminator");
  let p = start + HEADER;
  let prevEntrySize = 0;
  let lastEntry = start + HEADER;
  let count = 0;
  while (p < last) {
    const entryStart = p;
    // prevlen
    let prevlen = buf[p]!;
    if (prevlen < 254) {
      p += 1;
    } else if (prevlen === 254) {
      if (p + 5 > last) fail(p, start, "prevlen overruns the ziplist");
      prevlen = (buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24)) >>> 0;
      p += 5;
    } else {
      fail(p, start, "unexpected 0xFF where an entry starts");
    }
    if (prevlen !== prevEntrySize) fail(entryStart, start, `prevlen says ${prevlen}, the previous entry has ${prevEntrySize} bytes`);
    if (p >= last) fail(p, start, "entry encoding overruns the ziplist");
    const b = buf[p]!;
    let value: PackedValue;
    switch (b >> 6) {
      case 0: {
        const len = b & 0x3f;
        if (p + 1 + len > last) fail(p, start, "string entry overruns the ziplist");
        value = buf.latin1Slice(p + 1, p + 1 + len);
        p += 1 + len;
        break;
      }
      case 1: {
        if (p + 2 > last) fail(p, start, "string header overruns the ziplist");
        const len = ((b & 0x3f) << 8) | buf[p + 1]!;
        if (p + 2 + len > last) fail(p, start, "string entry overruns the ziplist");
        value = buf.latin1Slice(p + 2, p + 2 + len);
        p += 2 + len;
        break;
      }
      case 2: {
        if (b !== 0x80) fail(p, start, `invalid string encoding byte 0x${b.toString(16)}`);
        if (p + 5 > last) fail(p, start, "string header overruns the ziplist");
        const len = ((buf[p + 1]! << 24) | (buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!) >>> 0;
        if (p + 5 + len > last) fail(p, start, "string entry overruns the ziplist");
        value = buf.latin1Slice(p + 5, p + 5 + len);
        p += 5 + len;
        break;
      }
      default: {
        let v: number | bigint;
        let n: number;
        if (b === 0xc0) {
          n = 2;
          if (p + 1 + n > last) fail(p, start, "integer entry overruns the ziplist");
          v = ((buf[p + 1]! | (buf[p + 2]! << 8)) << 16) >> 16;
        } else if (b === 0xd0) {
          n = 4;
          if (p + 1 + n > last) fail(p, start, "integer entry overruns the ziplist");
          v = buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24);
        } else if (b === 0xe0) {
          n = 8;
          if (p + 1 + n > last) fail(p, start, "integer entry overruns the ziplist");
          v = readInt64LE(buf, p + 1);
        } else if (b === 0xf0) {
          n = 3;
          if (p + 1 + n > last) fail(p, start, "integer entry overruns the ziplist");
          v = ((buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16)) << 8) >> 8;
        } else if (b === 0xfe) {
          n = 1;
          if (p + 1 + n > last) fail(p, start, "integer entry overruns the ziplist");
          v = (buf[p + 1]! << 24) >> 24;
        } else if (b >= 0xf1 && b <= 0xfd) {
          n = 0;
          v = (b & 0x0f) - 1;
        } else {
          fail(p, start, `invalid entry encoding byte 0x${b.toString(16)}`);
        }
        value = intsAsNumbers ? v : String(v);
        p += 1 + n;
      }
    }
    out.push(value);
    count++;
    prevEntrySize = p - entryStart;
    lastEntry = entryStart;
  }
  if (p !== last) fail(p, start, "entries overrun the terminator");
  if (zltail !== lastEntry - start) fail(start + 4, start, `tail offset says ${zltail}, the last entry is at ${lastEntry - start}`);
  if (announced !== 65535 && announced !== count) fail(start + 8, start, `header says ${announced} elements, found ${count}`);
  return count;
}
