// LZF (liblzf, as bundled by Redis) for RDB strings.
//
// Compressed format:
//   000LLLLL <L+1 bytes>            literal run of 1..32 bytes
//   LLLooooo oooooooo               back reference, length L+2 (3..8), offset o+1 (1..8192)
//   111ooooo LLLLLLLL oooooooo      back reference, length L+9 (9..264), offset o+1
//
// The decompressor never writes outside the announced output length and never reads outside
// the input; any violation is a StructureError. The compressor is our own (a simple hash of
// 3-byte prefixes); any valid LZF stream decompresses identically in Redis.

import { StructureError } from "./errors.ts";

/** The largest output a valid LZF stream of `compressedLength` bytes can produce. */
export function lzfMaxExpansion(compressedLength: number): number {
  // A 3-byte back reference yields at most 264 bytes: a ratio of 88.
  return compressedLength * 88 + 1;
}

/** Decompresses src[start, end) into a new buffer of exactly `outLength` bytes. */
export function lzfDecompress(src: Uint8Array, start: number, end: number, outLength: number): Buffer {
  const out = Buffer.allocUnsafe(outLength);
  let ip = start;
  let op = 0;
  while (ip < end) {
    let ctrl = src[ip++]!;
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outLength) throw new StructureError("lzf", ip - start, "literal run past the announced length");
      if (ip + ctrl > end) throw new StructureError("lzf", ip - start, "literal run past the end of the input");
      if (ctrl > 8) {
        out.set(src.subarray(ip, ip + ctrl), op);
        op += ctrl;
        ip += ctrl;
      } else {
        for (let i = 0; i < ctrl; i++) out[op++] = src[ip++]!;
      }
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (ip >= end) throw new StructureError("lzf", ip - start, "back reference cut short");
      if (len === 7) {
        len += src[ip++]!;
        if (ip >= end) throw new StructureError("lzf", ip - start, "back reference cut short");
      }
      ref -= src[ip++]!;
      len += 2;
      if (op + len > outLength) throw new StructureError("lzf", ip - start, "back reference past the announced length");
      if (ref < 0) throw new StructureError("lzf", ip - start, "back reference before the start of the output");
      if (op >= ref + len) {
        out.copyWithin(op, ref, ref + len);
        op += len;
      } else {
        // Overlapping copy (a run): byte by byte.
        for (let i = 0; i < len; i++) out[op++] = out[ref++]!;
      }
    }
  }
  if (op !== outLength) throw new StructureError("lzf", end - start, `decompressed to ${op} bytes, ${outLength} announced`);
  return out;
}

const HLOG = 14;
const HSIZE = 1 << HLOG;
const MAX_LIT = 32;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);
/** Positions + 1 of the last occurrence of each 3-byte hash (0 = none); reused between calls. */
const htab = new Int32Array(HSIZE);

/**
 * Compresses data[start, end). Returns the compressed bytes, or null when they would not be
 * at least 4 bytes shorter than the input (then Redis stores the string raw, and so do we).
 */
export function lzfCompress(data: Uint8Array, start = 0, end = data.length): Buffer | null {
  const inLen = end - start;
  if (inLen <= 4) return null;
  const outLimit = inLen - 4;
  const out = Buffer.allocUnsafe(outLimit + 3);
  htab.fill(0);
  let ip = start;
  let op = 1; // out[0] is the control byte of the first literal run
  let lit = 0;
  const inEnd = end;
  while (ip < inEnd - 2) {
    const h = (((data[ip]! << 16) | (data[ip + 1]! << 8) | data[ip + 2]!) * 2654435761) >>> (32 - HLOG);
    const refPlus1 = htab[h]!;
    htab[h] = ip - start + 1;
    const ref = refPlus1 - 1 + start;
    const off = ip - ref - 1;
    if (
      refPlus1 !== 0 &&
      off < MAX_OFF &&
      data[ref] === data[ip] &&
      data[ref + 1] === data[ip + 1] &&
      data[ref + 2] === data[ip + 2]
    ) {
      let len = 3;
      const maxLen = Math.min(inEnd - ip, MAX_REF);
      while (len < maxLen && data[ref + len] === data[ip + len]) len++;
      // Close the literal run (or drop its empty control byte).
      if (op + 3 + 1 >= outLimit) return null;
      if (lit) out[op - lit - 1] = lit - 1;
      else op--;
      const l = len - 2;
      if (l < 7) {
        out[op++] = (off >> 8) + (l << 5);
      } else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = l - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // control byte of the next literal run
      // Index the positions inside the match, then continue after it.
      const matchEnd = ip + len;
      ip++;
      while (ip < matchEnd && ip < inEnd - 2) {
        const h2 = (((data[ip]! << 16) | (data[ip + 1]! << 8) | data[ip + 2]!) * 2654435761) >>> (32 - HLOG);
        htab[h2] = ip - start + 1;
        ip++;
      }
      ip = matchEnd;
    } else {
      if (op >= outLimit) return null;
      lit++;
      out[op++] = data[ip++]!;
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1;
        lit = 0;
        op++;
      }
    }
  }
  while (ip < inEnd) {
    if (op >= outLimit) return null;
    lit++;
    out[op++] = data[ip++]!;
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  if (lit) out[op - lit - 1] = lit - 1;
  else op--;
  if (op > outLimit) return null;
  return out.subarray(0, op);
}
