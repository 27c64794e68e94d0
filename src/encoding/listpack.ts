// Listpack decoding (listpack.c), the compact encoding of small hashes, sets, sorted sets, list
// nodes (quicklist 2) and stream nodes since Redis 7.0. The one validating reader of the
// format: the RDB reader and the store (which loads listpacks straight into its packed forms)
// both walk a listpack with a ListpackReader, so a corrupt listpack is reported with the same
// error whoever read it.
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
// Everything is validated while reading (sizes, backlens, element count, terminator), so a
// corrupt listpack yields a StructureError, never a read outside the blob.
//
// Why a reader object rather than a callback per element: RDB loading decodes millions of
// listpacks, and a walk with next() keeps the consumer's loop monomorphic and free of closures
// and of an object per element (the entry is described by the reader's fields).

import { StructureError } from "./structure-error.ts";

/** A decoded element: a string, or an integer (a bigint only beyond +-2^53). */
export type PackedValue = string | number | bigint;

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

/** `ListpackReader.strStart` of an integer entry (its value is in `int`). */
export const LP_INTEGER = -1;
/** `ListpackReader.strStart` of a 64-bit integer beyond +-2^53 (read it with `wideInt()`). */
export const LP_WIDE_INTEGER = -2;

const EMPTY = Buffer.alloc(0);

/**
 * A validating walk over one listpack:
 *
 *   reader.open(buf, start, end);
 *   while (reader.next()) { ...reader.strStart / strLen, or reader.int... }
 *
 * next() reads and checks one entry (and at the terminator, the element count). A reader is
 * reused for every listpack; each consumer module owns one (they never nest).
 */
export class ListpackReader {
  private buf: Buffer = EMPTY;
  /** First byte of the listpack (error offsets are relative to it). */
  private start = 0;
  /** Offset of the 0xFF terminator. */
  private last = 0;
  /** Offset of the next entry. */
  private p = 0;
  private announced = 0;
  /** Entries read so far. */
  count = 0;
  /** Offset of the last entry nextSlow() read (the only reader of LP_WIDE_INTEGER entries). */
  private entryAt = 0;
  /** A string entry's first byte, or LP_INTEGER / LP_WIDE_INTEGER. */
  strStart = 0;
  /** A string entry's length in bytes. */
  strLen = 0;
  /** An integer entry's value (exact: LP_WIDE_INTEGER entries are read with wideInt()). */
  int = 0;

  /** Starts on the listpack in buf[start, end), checking its header and terminator. */
  open(buf: Buffer, start: number, end: number): void {
    const size = end - start;
    this.start = start;
    if (size < 7) this.fail(start, `${size} bytes is too short for a listpack`);
    const total = (buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16) | (buf[start + 3]! << 24)) >>> 0;
    if (total !== size) this.fail(start, `header says ${total} bytes, the blob has ${size}`);
    if (buf[end - 1] !== 0xff) this.fail(end - 1, "missing the 0xFF terminator");
    this.buf = buf;
    this.last = end - 1;
    this.p = start + 6;
    this.announced = buf[start + 4]! | (buf[start + 5]! << 8);
    this.count = 0;
  }

  /** Reads the next entry into strStart/strLen/int; false at the (checked) end. */
  next(): boolean {
    // The common entries (integers of up to 13 bits, strings under 64 bytes: one backlen
    // byte) are read here, in a method small enough for the JIT to inline into the consumer's
    // loop (hence the literal -1 for LP_INTEGER); all others, and every entry that fails a
    // check, are read by nextSlow().
    const p = this.p;
    const buf = this.buf;
    const b = buf[p]!;
    if (b >= 0xe0) return this.nextSlow();
    const len = b < 0x80 ? 1 : b < 0xc0 ? 1 + (b & 0x3f) : 2;
    const q = p + len;
    if (buf[q] !== len || q >= this.last) return this.nextSlow();
    if (b < 0x80) {
      this.strStart = -1;
      this.int = b;
    } else if (b < 0xc0) {
      this.strStart = p + 1;
      this.strLen = len - 1;
    } else {
      const v = ((b & 0x1f) << 8) | buf[p + 1]!;
      this.strStart = -1;
      this.int = v >= 4096 ? v - 8192 : v;
    }
    this.p = q + 1;
    this.count++;
    return true;
  }

  /** next() for every entry: all encodings, every check, with its error. */
  private nextSlow(): boolean {
    const buf = this.buf;
    const p = this.p;
    const last = this.last;
    if (p >= last) {
      if (p !== last) this.fail(p, "entries overrun the terminator");
      const announced = this.announced;
      if (announced !== 65535 && announced !== this.count) this.fail(this.start + 4, `header says ${announced} elements, found ${this.count}`);
      this.buf = EMPTY; // do not pin the blob
      return false;
    }
    const b = buf[p]!;
    let entryLen: number;
    if (b < 0x80) {
      entryLen = 1;
      this.strStart = LP_INTEGER;
      this.int = b;
    } else if (b < 0xc0) {
      const len = b & 0x3f;
      entryLen = 1 + len;
      if (p + entryLen > last) this.fail(p, "string entry overruns the listpack");
      this.strStart = p + 1;
      this.strLen = len;
    } else if (b < 0xe0) {
      entryLen = 2;
      if (p + 2 > last) this.fail(p, "integer entry overruns the listpack");
      const v = ((b & 0x1f) << 8) | buf[p + 1]!;
      this.strStart = LP_INTEGER;
      this.int = v >= 4096 ? v - 8192 : v;
    } else if (b < 0xf0) {
      if (p + 2 > last) this.fail(p, "string header overruns the listpack");
      const len = ((b & 0x0f) << 8) | buf[p + 1]!;
      entryLen = 2 + len;
      if (p + entryLen > last) this.fail(p, "string entry overruns the listpack");
      this.strStart = p + 2;
      this.strLen = len;
    } else {
      switch (b) {
        case 0xf0: {
          if (p + 5 > last) this.fail(p, "string header overruns the listpack");
          const len = (buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24)) >>> 0;
          entryLen = 5 + len;
          if (p + entryLen > last) this.fail(p, "string entry overruns the listpack");
          this.strStart = p + 5;
          this.strLen = len;
          break;
        }
        case 0xf1:
          entryLen = 3;
          if (p + 3 > last) this.fail(p, "integer entry overruns the listpack");
          this.strStart = LP_INTEGER;
          this.int = ((buf[p + 1]! | (buf[p + 2]! << 8)) << 16) >> 16;
          break;
        case 0xf2:
          entryLen = 4;
          if (p + 4 > last) this.fail(p, "integer entry overruns the listpack");
          this.strStart = LP_INTEGER;
          this.int = ((buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16)) << 8) >> 8;
          break;
        case 0xf3:
          entryLen = 5;
          if (p + 5 > last) this.fail(p, "integer entry overruns the listpack");
          this.strStart = LP_INTEGER;
          this.int = buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24);
          break;
        case 0xf4: {
          entryLen = 9;
          if (p + 9 > last) this.fail(p, "integer entry overruns the listpack");
          const lo = (buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24)) >>> 0;
          const hi = buf[p + 5]! | (buf[p + 6]! << 8) | (buf[p + 7]! << 16) | (buf[p + 8]! << 24);
          if (hi >= -0x200000 && hi < 0x200000) {
            this.strStart = LP_INTEGER;
            this.int = hi * 4294967296 + lo;
          } else this.strStart = LP_WIDE_INTEGER;
          break;
        }
        default:
          this.fail(p, `invalid entry encoding byte 0x${b.toString(16)}`);
      }
    }
    // The backlen that follows the entry.
    const q = p + entryLen;
    const backlenSize = listpackBacklenSize(entryLen);
    if (q + backlenSize > last) this.fail(q, "backlen overruns the listpack");
    let backlen = 0;
    for (let i = 0; i < backlenSize; i++) backlen = backlen * 128 + (buf[q + i]! & 127);
    if (backlen !== entryLen) this.fail(q, `backlen says ${backlen}, the entry has ${entryLen} bytes`);
    this.entryAt = p;
    this.p = q + backlenSize;
    this.count++;
    return true;
  }

  /** Offset of the next entry (after next(): of the end of the entry just read, backlen included). */
  get offset(): number {
    return this.p;
  }

  /** Drops the listpack (a walk given up before its end), so the reader does not keep its buffer alive. */
  release(): void {
    this.buf = EMPTY;
  }

  /** The value of an LP_WIDE_INTEGER entry. */
  wideInt(): bigint {
    return BigInt(readInt64LE(this.buf, this.entryAt + 1));
  }

  /** The entry just read as a value: its string, or its integer (as decimal text unless `intsAsNumbers`). */
  value(intsAsNumbers: boolean): PackedValue {
    const s = this.strStart;
    if (s >= 0) return this.buf.latin1Slice(s, s + this.strLen);
    const v = s === LP_INTEGER ? this.int : this.wideInt();
    return intsAsNumbers ? v : String(v);
  }

  private fail(at: number, message: string): never {
    const start = this.start;
    this.buf = EMPTY;
    throw new StructureError("listpack", at - start, message);
  }
}

const reader = new ListpackReader();

/**
 * Decodes the listpack in buf[start, end) and appends its elements to `out`. Integers are
 * appended as numbers/bigints when `intsAsNumbers`, else as their decimal strings (what a
 * Redis client sees). Returns the number of elements.
 */
export function decodeListpack(buf: Buffer, start: number, end: number, out: PackedValue[], intsAsNumbers: boolean): number {
  const lp = reader;
  lp.open(buf, start, end);
  while (lp.next()) out.push(lp.value(intsAsNumbers));
  return lp.count;
}

/** Decodes a listpack into strings (integers as decimal strings). */
export function listpackStrings(buf: Buffer, start = 0, end = buf.length): string[] {
  const out: PackedValue[] = [];
  decodeListpack(buf, start, end, out, false);
  return out as string[];
}
