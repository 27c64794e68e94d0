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

// ---------------------------------------------------------------- compression

const HLOG = 14;
const HSIZE = 1 << HLOG;
const MAX_LIT = 32;
/** Farthest back reference: offset field o + 1 with 13 bits of o. */
const MAX_DISTANCE = 1 << 13;
/** Longest back reference: 8-bit extra length + 7 + 2. */
const MAX_MATCH = 255 + 7 + 2;

/**
 * Last position of each 3-byte hash, stored as `generation + position + 1`. Entries written by
 * earlier calls are below the current call's generation and are ignored, so the table never
 * needs clearing between calls (a 64 KB memset per small string would dominate).
 */
const htab = new Int32Array(HSIZE);
let generation = 0;

function hash3(d: Uint8Array, p: number): number {
  return Math.imul((d[p]! << 16) | (d[p + 1]! << 8) | d[p + 2]!, -1640531535) >>> (32 - HLOG);
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
  const outLimit = outStart + maxOut;
  let op = outStart;
  let lit = start; // first byte of the pending literal run
  let ip = start;
  const last3 = end - 2;
  while (ip < last3) {
    const h = hash3(src, ip);
    const cand = htab[h]! - gen - 1;
    htab[h] = gen + (ip - start) + 1;
    if (cand >= 0) {
      const ref = start + cand;
      const distance = ip - ref;
      if (distance > 0 && distance <= MAX_DISTANCE && src[ref] === src[ip] && src[ref + 1] === src[ip + 1] && src[ref + 2] === src[ip + 2]) {
        let len = 3;
        const maxLen = Math.min(end - ip, MAX_MATCH);
        while (len < maxLen && src[ref + len] === src[ip + len]) len++;
        // Flush the literals before the match.
        let pending = ip - lit;
        while (pending > 0) {
          const n = pending > MAX_LIT ? MAX_LIT : pending;
          if (op + 1 + n > outLimit) return 0;
          out[op++] = n - 1;
          for (let i = 0; i < n; i++) out[op++] = src[lit++]!;
          pending -= n;
        }
        const l = len - 2;
        const off = distance - 1;
        if (l < 7) {
          if (op + 2 > outLimit) return 0;
          out[op++] = (l << 5) | (off >> 8);
        } else {
          if (op + 3 > outLimit) return 0;
          out[op++] = (7 << 5) | (off >> 8);
          out[op++] = l - 7;
        }
        out[op++] = off & 0xff;
        // Index the positions inside the match (cheap, improves later matches).
        const matchEnd = ip + len;
        for (let p = ip + 1; p < matchEnd && p < last3; p++) htab[hash3(src, p)] = gen + (p - start) + 1;
        ip = matchEnd;
        lit = ip;
        continue;
      }
    }
    ip++;
  }
  let pending = end - lit;
  while (pending > 0) {
    const n = pending > MAX_LIT ? MAX_LIT : pending;
    if (op + 1 + n > outLimit) return 0;
    out[op++] = n - 1;
    for (let i = 0; i < n; i++) out[op++] = src[lit++]!;
    pending -= n;
  }
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
