// LZF (liblzf, as bundled by Redis) for RDB strings.
//
// Compressed format:
//   000LLLLL <L+1 bytes>            literal run of 1..32 bytes
//   LLLooooo oooooooo               back reference, length L+2 (3..8), offset o+1 (1..8192)
//   111ooooo LLLLLLLL oooooooo      back reference, length L+9 (9..264), offset o+1
//
// The decompressor never writes outside the announced output length and never reads outside
// the input; any violation is a StructureError. The compressor is described below; any valid
// LZF stream decompresses identically in Redis.

import { StructureError } from "../encoding/structure-error.ts";

/** The largest output a valid LZF stream of `compressedLength` bytes can produce. */
export function lzfMaxExpansion(compressedLength: number): number {
  // A 3-byte back reference yields at most 264 bytes: a ratio of 88.
  return compressedLength * 88 + 1;
}

/** Decompresses src[start, end) into a new buffer of exactly `outLength` bytes. */
export function lzfDecompress(src: Uint8Array, start: number, end: number, outLength: number): Buffer {
  const out = Buffer.allocUnsafe(outLength);
  lzfDecompressInto(src, start, end, out, outLength);
  return out;
}

/**
 * Decompresses src[start, end) into out[0, outLength) (out may be longer: a reused scratch
 * buffer). Literal runs and back references are copied byte by byte: they are at most 32 and
 * 264 bytes, where a loop beats creating views for a native copy.
 */
export function lzfDecompressInto(src: Uint8Array, start: number, end: number, out: Uint8Array, outLength: number): void {
  let ip = start;
  let op = 0;
  while (ip < end) {
    let ctrl = src[ip++]!;
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outLength) throw new StructureError("lzf", ip - start, "literal run past the announced length");
      if (ip + ctrl > end) throw new StructureError("lzf", ip - start, "literal run past the end of the input");
      const stop = ip + ctrl;
      while (ip < stop) out[op++] = src[ip++]!;
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
      // Forward byte copy: also right for overlapping references (runs).
      const stop = op + len;
      while (op < stop) out[op++] = out[ref++]!;
    }
  }
  if (op !== outLength) throw new StructureError("lzf", end - start, `decompressed to ${op} bytes, ${outLength} announced`);
}

// ---------------------------------------------------------------- compression
//
// Our own implementation, tuned to make the same choices as the liblzf Redis bundles (so that
// our DUMP payloads and RDB strings are usually byte-identical to Redis's): a 64K-slot table
// indexed by a hash of the next 3 bytes remembers their last position; a candidate is taken if
// it is within 8 KB, not the first input byte, and its 3 bytes match; a match is extended as
// liblzf does (up to 264 bytes, and not over the last 2 input bytes unless it is short); after
// a match only its last 2 positions are indexed. The output-space checks mirror liblzf's, so
// the "not compressible enough" decision is the same too.

const HSIZE = 1 << 16;
const MAX_LIT = 32;
/** Farthest back reference: offset field o + 1 with 13 bits of o. */
const MAX_DISTANCE = 1 << 13;
/** Longest back reference: 8-bit extra length + 7 + 2. */
const MAX_MATCH = 255 + 7 + 2;

/**
 * Last position of each 3-byte hash, stored as `generation + position + 1`. Entries written by
 * earlier calls are below the current call's generation and are ignored, so the table never
 * needs clearing between calls (a 256 KB memset per small string would dominate).
 */
const htab = new Int32Array(HSIZE);
let generation = 0;

function slot(d: Uint8Array, p: number): number {
  const b1 = d[p + 1]!;
  return (((d[p]! << 8) | b1) - 5 * ((b1 << 8) | d[p + 2]!)) & 0xffff;
}

/**
 * Compresses src[start, end) into out[outStart, ...), writing at most `maxOut` bytes. Returns
 * the compressed length, or 0 when the result would not fit in `maxOut` bytes (Redis then
 * stores the string raw; it asks for at least 4 bytes of gain: maxOut = length - 4).
 * No allocation: `out` must hold outStart + maxOut bytes.
 */
export function lzfCompressInto(src: Uint8Array, start: number, end: number, out: Uint8Array, outStart: number, maxOut: number): number {
  const inLen = end - start;
  if (inLen <= 0 || maxOut <= 0) return 0;
  if (generation + inLen + 2 > 0x7fffffff) {
    htab.fill(0);
    generation = 0;
  }
  const gen = generation;
  generation += inLen + 1;
  const outEnd = outStart + maxOut;
  let op = outStart + 1; // out[op - lit - 1] is the control byte of the current literal run
  let lit = 0;
  let ip = start;
  const last3 = end - 2;
  while (ip < last3) {
    const h = slot(src, ip);
    const cand = htab[h]! - gen - 1;
    htab[h] = gen + (ip - start) + 1;
    const ref = start + cand;
    if (cand > 0 && ip - ref <= MAX_DISTANCE && src[ref] === src[ip] && src[ref + 1] === src[ip + 1] && src[ref + 2] === src[ip + 2]) {
      if (op + 4 >= outEnd && op - (lit === 0 ? 1 : 0) + 4 >= outEnd) return 0;
      // Close the literal run (or drop its unused control byte).
      if (lit) out[op - lit - 1] = lit - 1;
      else op--;
      let maxLen = end - ip - 2;
      if (maxLen > MAX_MATCH) maxLen = MAX_MATCH;
      const limit = maxLen > 16 ? Math.max(maxLen, 19) : Math.max(maxLen, 3);
      let len = 3;
      while (len < limit && src[ref + len] === src[ip + len]) len++;
      const off = ip - ref - 1;
      const l = len - 2;
      if (l < 7) {
        out[op++] = (off >> 8) + (l << 5);
      } else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = l - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++;
      ip += len;
      if (ip >= last3) break;
      htab[slot(src, ip - 2)] = gen + (ip - 2 - start) + 1;
      htab[slot(src, ip - 1)] = gen + (ip - 1 - start) + 1;
      continue;
    }
    if (op >= outEnd) return 0;
    lit++;
    out[op++] = src[ip++]!;
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  if (op + 3 > outEnd) return 0;
  while (ip < end) {
    lit++;
    out[op++] = src[ip++]!;
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  if (lit) out[op - lit - 1] = lit - 1;
  else op--;
  return op - outStart;
}

/**
 * Compresses data[start, end). Returns the compressed bytes, or null when they would not be
 * at least 4 bytes shorter than the input (then Redis stores the string raw, and so do we).
 */
export function lzfCompress(data: Uint8Array, start = 0, end = data.length): Buffer | null {
  const inLen = end - start;
  if (inLen <= 4) return null;
  const out = Buffer.allocUnsafe(inLen - 4);
  const n = lzfCompressInto(data, start, end, out, 0, inLen - 4);
  return n === 0 ? null : out.subarray(0, n);
}
