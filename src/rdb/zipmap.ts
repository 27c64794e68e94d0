// Zipmap decoding (zipmap.c), the small-hash encoding of Redis 2.x (RDB type 9).
//
//   <zmlen: count if < 254> (<len> key <len> <free> value <free bytes>)... <0xFF>
//   len = 1 byte (0..253), or 254 followed by a u32 LE; 255 ends the map.

import { StructureError } from "../encoding/structure-error.ts";

const S = "zipmap";

/** Decodes the zipmap in buf[start, end) into [field, value, field, value, ...]. */
export function decodeZipmap(buf: Buffer, start: number, end: number): string[] {
  const size = end - start;
  if (size < 2) throw new StructureError(S, 0, `${size} bytes is too short for a zipmap`);
  const announced = buf[start]!;
  const out: string[] = [];
  let p = start + 1;
  const readLen = (): number => {
    if (p >= end) throw new StructureError(S, p - start, "length overruns the zipmap");
    const b = buf[p]!;
    if (b < 254) {
      p += 1;
      return b;
    }
    if (b === 254) {
      if (p + 5 > end) throw new StructureError(S, p - start, "length overruns the zipmap");
      const v = (buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24)) >>> 0;
      p += 5;
      return v;
    }
    return -1; // 255: end marker (not consumed)
  };
  while (true) {
    const klen = readLen();
    if (klen < 0) break;
    if (p + klen > end) throw new StructureError(S, p - start, "key overruns the zipmap");
    const key = buf.latin1Slice(p, p + klen);
    p += klen;
    const vlen = readLen();
    if (vlen < 0) throw new StructureError(S, p - start, "a key without a value");
    if (p >= end) throw new StructureError(S, p - start, "free byte overruns the zipmap");
    const free = buf[p++]!;
    if (p + vlen + free > end) throw new StructureError(S, p - start, "value overruns the zipmap");
    out.push(key, buf.latin1Slice(p, p + vlen));
    p += vlen + free;
  }
  if (p !== end - 1) throw new StructureError(S, p - start, "bytes after the 0xFF terminator");
  if (announced < 254 && announced * 2 !== out.length) {
    throw new StructureError(S, 0, `header says ${announced} pairs, found ${out.length / 2}`);
  }
  return out;
}
