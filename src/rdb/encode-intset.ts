// Intset encoding (intset.c), the inverse of intset.ts: a set of integers as Redis 7.0 keeps
// small all-integer sets (RDB type 11).
//
//   <encoding u32 LE: 2, 4 or 8> <length u32 LE> <values of that width, little endian, ascending>

import { int64OfString, writeInt64LE } from "./encode-listpack.ts";

function compareInt(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Encodes members (canonical int64 strings) as an intset into a new buffer, or returns null
 * when one of them is not an integer Redis would keep in an intset.
 */
export function encodeIntset(members: Iterable<string>, count: number, scratch?: Array<number | bigint>): Buffer | null {
  const values = scratch ?? [];
  values.length = 0;
  let width = 2;
  for (const m of members) {
    const v = int64OfString(m);
    if (v === null) return null;
    values.push(v);
    if (width < 8) {
      if (typeof v === "bigint" || v < -2147483648 || v > 2147483647) width = 8;
      else if (width === 2 && (v < -32768 || v > 32767)) width = 4;
    }
  }
  if (values.length !== count) return null;
  values.sort(compareInt);
  const n = values.length;
  const out = Buffer.allocUnsafe(8 + n * width);
  out.writeUInt32LE(width, 0);
  out.writeUInt32LE(n, 4);
  let p = 8;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (width === 2) out.writeInt16LE(v as number, p);
    else if (width === 4) out.writeInt32LE(v as number, p);
    else writeInt64LE(out, p, v);
    p += width;
  }
  values.length = 0;
  return out;
}
