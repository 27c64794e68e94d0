// The HyperLogLog data structure of Redis (hyperloglog.c), byte for byte: clients can GET an
// HLL and feed it to another server, and replicas apply PFADD/PFMERGE themselves, so every
// byte (header, sparse opcodes, dense 6-bit registers, cached cardinality) must be what Redis
// produces.
//
// Layout: a 16-byte header "HYLL" | encoding (0 dense, 1 sparse) | 3 unused bytes | cached
// cardinality (8 bytes little endian; the MSB of the last byte set = cache invalid), then
// - dense: 16384 registers of 6 bits, packed little-endian (register 0 in the low bits of
//   byte 0), 12288 bytes;
// - sparse: run-length opcodes: ZERO 00xxxxxx (1..64 zero registers), XZERO 01xxxxxx yyyyyyyy
//   (1..16384 zero registers), VAL 1vvvvvxx (1..4 registers of value 1..32).
//
// The functions here work on byte buffers; hyperloglog.ts converts from/to the latin1 strings
// that the keyspace holds.

import { murmurHash64A } from "./murmur.ts";

const HLL_P = 14;
const HLL_Q = 64 - HLL_P;
export const HLL_REGISTERS = 1 << HLL_P;
const HLL_BITS = 6;
export const HLL_REGISTER_MAX = (1 << HLL_BITS) - 1;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + Math.floor((HLL_REGISTERS * HLL_BITS + 7) / 8);
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
const HLL_SPARSE_VAL_MAX_VALUE = 32;
const HLL_SPARSE_VAL_MAX_LEN = 4;
const HLL_SPARSE_ZERO_MAX_LEN = 64;
const HLL_SPARSE_XZERO_MAX_LEN = 16384;
const HLL_ALPHA_INF = 0.721347520444481703680;
const SEED = 0xadc83b19;
/** Offset of the "cache invalid" byte (card[7]) in the header. */
export const HLL_CARD_MSB = 15;

export const INVALID_HLL = "INVALIDOBJ Corrupted HLL object detected";
export const NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value.";

/**
 * An HLL being edited: `buf` holds `len` meaningful bytes (plus slack for sparse growth and the
 * one byte past the dense registers that Redis's register macros read).
 */
export class HllBytes {
  constructor(
    public buf: Buffer,
    public len: number,
  ) {}

  get encoding(): number {
    return this.buf[4]!;
  }

  /** Makes room for `extra` more bytes (sparse edits grow by up to 3 bytes). */
  reserve(extra: number): void {
    const need = this.len + extra + 1;
    if (need <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  toLatin1(): string {
    return this.buf.latin1Slice(0, this.len);
  }

  invalidateCache(): void {
    this.buf[HLL_CARD_MSB]! |= 0x80;
  }

  static fromLatin1(s: string, slack = 8): HllBytes {
    const buf = Buffer.alloc(s.length + slack);
    buf.latin1Write(s, 0);
    return new HllBytes(buf, s.length);
  }
}

/** A new, empty HLL: sparse, one XZERO opcode covering all 16384 registers. */
export function createHll(): HllBytes {
  const sparseLen = HLL_HDR_SIZE + Math.floor((HLL_REGISTERS + (HLL_SPARSE_XZERO_MAX_LEN - 1)) / HLL_SPARSE_XZERO_MAX_LEN) * 2;
  const h = new HllBytes(Buffer.alloc(sparseLen + 32), sparseLen);
  const b = h.buf;
  b[0] = 72; // H
  b[1] = 89; // Y
  b[2] = 76; // L
  b[3] = 76; // L
  b[4] = HLL_SPARSE;
  let p = HLL_HDR_SIZE;
  let left = HLL_REGISTERS;
  while (left) {
    const xzero = Math.min(HLL_SPARSE_XZERO_MAX_LEN, left);
    const l = xzero - 1;
    b[p] = (l >> 8) | 0x40;
    b[p + 1] = l & 0xff;
    p += 2;
    left -= xzero;
  }
  return h;
}

/** Redis's isHLLObjectOrReply test on a string value (the type check is the caller's). */
export function isValidHll(s: string): boolean {
  if (s.length < HLL_HDR_SIZE) return false;
  if (s.charCodeAt(0) !== 72 || s.charCodeAt(1) !== 89 || s.charCodeAt(2) !== 76 || s.charCodeAt(3) !== 76) return false;
  const enc = s.charCodeAt(4);
  if (enc > HLL_SPARSE) return false;
  if (enc === HLL_DENSE && s.length !== HLL_DENSE_SIZE) return false;
  return true;
}

// ---- Hashing ----

/** The last element's 64-bit hash, low half then high half (scratch: reused for every element). */
const HASH = new Uint32Array(2);

/**
 * Redis's hllPatLen: hashes the element to its register index and run length, both returned in
 * one number (no allocation per element): read them with patternIndex / patternCount.
 */
export function hllPattern(ele: string): number {
  murmurHash64A(ele, SEED, HASH);
  const lo = HASH[0]!;
  const index = lo & (HLL_REGISTERS - 1);
  // hash >>= P; hash |= 1 << Q; count = 1 + trailing zeros.
  const low = lo >>> HLL_P; // bits 14..31: 18 bits
  let count: number;
  if (low !== 0) count = 1 + ctz32(low);
  else {
    const hi = HASH[1]!;
    count = hi !== 0 ? 1 + (32 - HLL_P) + ctz32(hi) : HLL_Q + 1;
  }
  return (count << HLL_P) | index;
}

/** The register index of an hllPattern() result. */
export function patternIndex(pattern: number): number {
  return pattern & (HLL_REGISTERS - 1);
}

/** The run length (the register value to set, 1..HLL_Q + 1) of an hllPattern() result. */
export function patternCount(pattern: number): number {
  return pattern >>> HLL_P;
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

// ---- Dense representation ----

/** Register `regnum` of dense registers starting at `base` (reads the byte after the last one as Redis does). */
export function denseGet(b: Uint8Array, base: number, regnum: number): number {
  const bit = regnum * HLL_BITS;
  const byte = base + (bit >>> 3);
  const fb = bit & 7;
  return ((b[byte]! >> fb) | ((b[byte + 1] ?? 0) << (8 - fb))) & HLL_REGISTER_MAX;
}

export function denseSetRegister(b: Uint8Array, base: number, regnum: number, val: number): void {
  const bit = regnum * HLL_BITS;
  const byte = base + (bit >>> 3);
  const fb = bit & 7;
  const fb8 = 8 - fb;
  b[byte] = (b[byte]! & ~(HLL_REGISTER_MAX << fb)) | (val << fb);
  b[byte + 1] = (b[byte + 1]! & ~(HLL_REGISTER_MAX >> fb8)) | (val >> fb8);
}

/** hllDenseSet: raises the register to `count` if larger. Returns 1 when changed. */
export function denseSet(b: Uint8Array, base: number, index: number, count: number): number {
  if (count > denseGet(b, base, index)) {
    denseSetRegister(b, base, index, count);
    return 1;
  }
  return 0;
}

// ---- Sparse representation ----

const isZero = (op: number) => (op & 0xc0) === 0;
const isXZero = (op: number) => (op & 0xc0) === 0x40;
const isVal = (op: number) => (op & 0x80) !== 0;
const zeroLen = (op: number) => (op & 0x3f) + 1;
const valValue = (op: number) => ((op >> 2) & 0x1f) + 1;
const valLen = (op: number) => (op & 0x3) + 1;
const valOp = (val: number, len: number) => (((val - 1) << 2) | (len - 1) | 0x80) & 0xff;

/** hllSparseToDense: converts in place (h.buf/h.len replaced). False if the sparse data is corrupt. */
export function sparseToDense(h: HllBytes): boolean {
  const src = h.buf;
  if (src[4] === HLL_DENSE) return true;
  const dense = Buffer.alloc(HLL_DENSE_SIZE + 1);
  src.copy(dense, 0, 0, HLL_HDR_SIZE); // magic, unused bytes and cached cardinality
  dense[4] = HLL_DENSE;
  let idx = 0;
  let p = HLL_HDR_SIZE;
  const end = h.len;
  while (p < end) {
    const op = src[p]!;
    if (isZero(op)) {
      idx += zeroLen(op);
      p++;
    } else if (isXZero(op)) {
      idx += (((op & 0x3f) << 8) | (src[p + 1] ?? 0)) + 1;
      p += 2;
    } else {
      let runlen = valLen(op);
      const regval = valValue(op);
      // A run past the last register is corruption (Debian's 7.0.15 has the CVE-2025-32023 fix).
      if (runlen + idx > HLL_REGISTERS) return false;
      while (runlen--) {
        denseSetRegister(dense, HLL_HDR_SIZE, idx, regval);
        idx++;
      }
      p++;
    }
  }
  if (idx !== HLL_REGISTERS) return false;
  h.buf = dense;
  h.len = HLL_DENSE_SIZE;
  return true;
}

/**
 * hllSparseSet: sets register `index` to `count` if larger, splitting/merging opcodes exactly
 * as Redis does, promoting to dense when the value does not fit a VAL opcode or the sparse
 * form would exceed `sparseMaxBytes`. Returns 1 if changed, 0 if not, -1 if corrupt.
 */
export function sparseSet(h: HllBytes, index: number, count: number, sparseMaxBytes: number): number {
  if (count > HLL_SPARSE_VAL_MAX_VALUE) return promote(h, index, count);
  h.reserve(3);
  let b = h.buf;
  const sparse = HLL_HDR_SIZE;
  let end = h.len;
  let p = sparse;
  let first = 0;
  let prev = -1;
  let span = 0;
  // Step 1: find the opcode covering `index`.
  while (p < end) {
    const op = b[p]!;
    let oplen = 1;
    if (isZero(op)) span = zeroLen(op);
    else if (isVal(op)) span = valLen(op);
    else {
      span = (((op & 0x3f) << 8) | b[p + 1]!) + 1;
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return -1;

  let next = isXZero(b[p]!) ? p + 2 : p + 1;
  if (next >= end) next = -1;

  const op = b[p]!;
  let isZ = false;
  let isXZ = false;
  let isV = false;
  let runlen: number;
  if (isZero(op)) {
    isZ = true;
    runlen = zeroLen(op);
  } else if (isXZero(op)) {
    isXZ = true;
    runlen = (((op & 0x3f) << 8) | b[p + 1]!) + 1;
  } else {
    isV = true;
    runlen = valLen(op);
  }

  let updated = false;
  if (isV) {
    const oldcount = valValue(op);
    if (oldcount >= count) return 0; // case A
    if (runlen === 1) {
      b[p] = valOp(count, 1); // case B
      updated = true;
    }
  }
  if (!updated && isZ && runlen === 1) {
    b[p] = valOp(count, 1); // case C
    updated = true;
  }

  if (!updated) {
    // Case D: split the opcode into up to three (at most 5 bytes).
    const seq = SEQ;
    let n = 0;
    const last = first + span - 1;
    if (isZ || isXZ) {
      if (index !== first) {
        const len = index - first;
        if (len > HLL_SPARSE_ZERO_MAX_LEN) {
          seq[n++] = ((len - 1) >> 8) | 0x40;
          seq[n++] = (len - 1) & 0xff;
        } else seq[n++] = len - 1;
      }
      seq[n++] = valOp(count, 1);
      if (index !== last) {
        const len = last - index;
        if (len > HLL_SPARSE_ZERO_MAX_LEN) {
          seq[n++] = ((len - 1) >> 8) | 0x40;
          seq[n++] = (len - 1) & 0xff;
        } else seq[n++] = len - 1;
      }
    } else {
      const curval = valValue(op);
      if (index !== first) seq[n++] = valOp(curval, index - first);
      seq[n++] = valOp(count, 1);
      if (index !== last) seq[n++] = valOp(curval, last - index);
    }
    // Step 3: replace the old opcode with the sequence.
    const oldlen = isXZ ? 2 : 1;
    const deltalen = n - oldlen;
    if (deltalen > 0 && h.len + deltalen > sparseMaxBytes) return promote(h, index, count);
    if (deltalen !== 0 && next !== -1) b.copyWithin(next + deltalen, next, end);
    h.len += deltalen;
    for (let i = 0; i < n; i++) b[p + i] = seq[i]!;
    end += deltalen;
  }

  // Step 4: merge adjacent VAL opcodes with the same value, scanning up to 5 opcodes from prev.
  b = h.buf;
  p = prev !== -1 ? prev : sparse;
  let scanlen = 5;
  while (p < end && scanlen--) {
    const o = b[p]!;
    if (isXZero(o)) {
      p += 2;
      continue;
    } else if (isZero(o)) {
      p++;
      continue;
    }
    if (p + 1 < end && isVal(b[p + 1]!)) {
      const v1 = valValue(o);
      const v2 = valValue(b[p + 1]!);
      if (v1 === v2) {
        const len = valLen(o) + valLen(b[p + 1]!);
        if (len <= HLL_SPARSE_VAL_MAX_LEN) {
          b[p + 1] = valOp(v1, len);
          b.copyWithin(p, p + 1, end);
          h.len--;
          end--;
          continue;
        }
      }
    }
    p++;
  }
  // Redis keeps a zero byte after the sds content (its terminator); keep ours the same so
  // that reads past a truncated opcode see what Redis sees.
  b[h.len] = 0;
  h.invalidateCache();
  return 1;
}

const SEQ = new Uint8Array(5);

function promote(h: HllBytes, index: number, count: number): number {
  if (!sparseToDense(h)) return -1;
  return denseSet(h.buf, HLL_HDR_SIZE, index, count);
}

/** hllAdd: adds an element to a sparse or dense HLL. 1 changed, 0 not, -1 corrupt. */
export function hllAdd(h: HllBytes, ele: string, sparseMaxBytes: number): number {
  const pattern = hllPattern(ele);
  const index = patternIndex(pattern);
  const count = patternCount(pattern);
  const enc = h.buf[4];
  if (enc === HLL_DENSE) return denseSet(h.buf, HLL_HDR_SIZE, index, count);
  if (enc === HLL_SPARSE) return sparseSet(h, index, count, sparseMaxBytes);
  return -1;
}

// ---- Merge and count ----

/**
 * hllMerge: max[i] = MAX(max[i], register i). False if the sparse data is corrupt.
 * `lenient`: the check before the CVE-2025-32023 fix, which Redis 6.2.16, 7.2.6, 7.4.1 and Valkey
 * 8.0.1 still have: a run past the last register stops the walk instead of failing, so trailing
 * garbage after exactly 16384 registers passes. A PFMERGE such a master accepted and propagated
 * must apply on its replicas too.
 */
export function hllMerge(max: Uint8Array, b: Uint8Array, len: number, lenient = false): boolean {
  if (b[4] === HLL_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const val = denseGet(b, HLL_HDR_SIZE, i);
      if (val > max[i]!) max[i] = val;
    }
    return true;
  }
  let p = HLL_HDR_SIZE;
  let i = 0;
  while (p < len) {
    const op = b[p]!;
    if (isZero(op)) {
      i += zeroLen(op);
      p++;
    } else if (isXZero(op)) {
      i += (((op & 0x3f) << 8) | (p + 1 < len ? b[p + 1]! : 0)) + 1;
      p += 2;
    } else {
      let runlen = valLen(op);
      const regval = valValue(op);
      // A run past the last register is corruption (Debian's 7.0.15 has the CVE-2025-32023 fix).
      if (runlen + i > HLL_REGISTERS) {
        if (lenient) break;
        return false;
      }
      while (runlen--) {
        if (regval > max[i]!) max[i] = regval;
        i++;
      }
      p++;
    }
  }
  return i === HLL_REGISTERS;
}

const HISTO = new Int32Array(64);

function denseRegHisto(b: Uint8Array, base: number, histo: Int32Array): void {
  let r = base;
  for (let j = 0; j < 1024; j++) {
    const b0 = b[r]!, b1 = b[r + 1]!, b2 = b[r + 2]!, b3 = b[r + 3]!, b4 = b[r + 4]!, b5 = b[r + 5]!;
    const b6 = b[r + 6]!, b7 = b[r + 7]!, b8 = b[r + 8]!, b9 = b[r + 9]!, b10 = b[r + 10]!, b11 = b[r + 11]!;
    histo[b0 & 63]!++;
    histo[((b0 >> 6) | (b1 << 2)) & 63]!++;
    histo[((b1 >> 4) | (b2 << 4)) & 63]!++;
    histo[(b2 >> 2) & 63]!++;
    histo[b3 & 63]!++;
    histo[((b3 >> 6) | (b4 << 2)) & 63]!++;
    histo[((b4 >> 4) | (b5 << 4)) & 63]!++;
    histo[(b5 >> 2) & 63]!++;
    histo[b6 & 63]!++;
    histo[((b6 >> 6) | (b7 << 2)) & 63]!++;
    histo[((b7 >> 4) | (b8 << 4)) & 63]!++;
    histo[(b8 >> 2) & 63]!++;
    histo[b9 & 63]!++;
    histo[((b9 >> 6) | (b10 << 2)) & 63]!++;
    histo[((b10 >> 4) | (b11 << 4)) & 63]!++;
    histo[(b11 >> 2) & 63]!++;
    r += 12;
  }
}

/** Returns false if the opcodes do not cover exactly 16384 registers. */
function sparseRegHisto(b: Uint8Array, len: number, histo: Int32Array): boolean {
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const op = b[p]!;
    if (isZero(op)) {
      const runlen = zeroLen(op);
      idx += runlen;
      histo[0]! += runlen;
      p++;
    } else if (isXZero(op)) {
      const runlen = (((op & 0x3f) << 8) | (p + 1 < len ? b[p + 1]! : 0)) + 1;
      idx += runlen;
      histo[0]! += runlen;
      p += 2;
    } else {
      const runlen = valLen(op);
      idx += runlen;
      histo[valValue(op)]! += runlen;
      p++;
    }
  }
  return idx === HLL_REGISTERS;
}

function hllSigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime: number;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

function hllTau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime: number;
  let y = 1.0;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (zPrime !== z);
  return z / 3;
}

/** The "new" estimator of Redis 7 (Ertl) from a register histogram. */
function estimate(histo: Int32Array): number {
  const m = HLL_REGISTERS;
  let z = m * hllTau((m - histo[HLL_Q + 1]!) / m);
  for (let j = HLL_Q; j >= 1; --j) {
    z += histo[j]!;
    z *= 0.5;
  }
  z += m * hllSigma(histo[0]! / m);
  return Math.round((HLL_ALPHA_INF * m * m) / z);
}

/** hllCount of an HLL in sparse or dense form; -1 if the sparse form is invalid. */
export function hllCount(b: Uint8Array, len: number): number {
  const histo = HISTO;
  histo.fill(0);
  if (b[4] === HLL_DENSE) denseRegHisto(b, HLL_HDR_SIZE, histo);
  else if (!sparseRegHisto(b, len, histo)) return -1;
  return estimate(histo);
}

/** hllCount of raw registers (one byte each), as the multi-key PFCOUNT merges them. */
export function hllCountRaw(registers: Uint8Array): number {
  const histo = HISTO;
  histo.fill(0);
  for (let i = 0; i < HLL_REGISTERS; i++) histo[registers[i]!]!++;
  return estimate(histo);
}

/** PFDEBUG DECODE's text for a sparse HLL. */
export function decodeSparse(b: Uint8Array, len: number): string {
  const parts: string[] = [];
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const op = b[p]!;
    if (isZero(op)) {
      parts.push(`z:${zeroLen(op)}`);
      p++;
    } else if (isXZero(op)) {
      parts.push(`Z:${(((op & 0x3f) << 8) | (p + 1 < len ? b[p + 1]! : 0)) + 1}`);
      p += 2;
    } else {
      parts.push(`v:${valValue(op)},${valLen(op)}`);
      p++;
    }
  }
  return parts.join(" ");
}
