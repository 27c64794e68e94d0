// The bottom layer of the RDB reader (reader.ts): the input buffer and the primitive reads
// (lengths, integers, doubles, strings, LZF, blobs), each checking that its bytes are there
// and otherwise throwing the INCOMPLETE sentinel, which the record loop (reader.ts) catches to
// retry the record once more input arrived. Layers above: reader-streams.ts, reader-values.ts
// (the value types), reader.ts (records, the feed loop, the sink).

import { ENC_INT16, ENC_INT32, ENC_INT8, ENC_LZF, OP_ENTERPRISE_RAM_LRU, rdbTypeName } from "./constants.ts";
import { RdbError } from "./errors.ts";
import { StructureError } from "../encoding/structure-error.ts";
import { lzfDecompressInto, lzfMaxExpansion } from "./lzf.ts";
import type { RdbReaderOptions } from "./reader-options.ts";

/** Thrown (never escapes) when a read runs past the buffered input. */
export const INCOMPLETE: { readonly incomplete: true } = { incomplete: true };

const EMPTY = Buffer.alloc(0);
const TWO_POW_32 = 4294967296;

/** Largest LZF string decompressed into the reused scratch buffer. */
const SCRATCH_MAX = 1 << 20;

export abstract class RdbInput {
  // Input.
  protected buf: Buffer = EMPTY;
  protected pos = 0;
  /** Absolute offset of buf[0] in the RDB. */
  protected base = 0;
  /** Position in `buf` that the last incomplete read needed (exclusive). */
  protected needAt = 0;

  // The record being read, for error messages.
  protected recordStart = 0;
  protected recordType = -1;
  protected recordKey: string | null = null;

  // The last blob read by readBlob(): bytes blobBuf[blobStart, blobEnd).
  protected blobBuf: Buffer = EMPTY;
  protected blobStart = 0;
  protected blobEnd = 0;
  /**
   * Decompressed LZF strings land here (reused: what is read from a blob is copied out before
   * the next read). Strings above SCRATCH_MAX get a buffer of their own, not kept.
   */
  private lzfScratch: Buffer = EMPTY;
  private readonly maxStringLength: number;

  constructor(options: RdbReaderOptions) {
    this.maxStringLength = Math.min(options.maxStringLength ?? 0x7ffffffe, 0x7ffffffe);
  }

  protected describeRecord(): string {
    const start = this.base + this.recordStart;
    if (this.recordType < 0) return `the record at offset ${start}`;
    const what = this.recordType >= 0xf4 || this.recordType === OP_ENTERPRISE_RAM_LRU ? `opcode 0x${this.recordType.toString(16)}` : rdbTypeName(this.recordType);
    const key = this.recordKey === null ? "" : ` key '${printable(this.recordKey)}'`;
    return `the record at offset ${start} (${what}${key})`;
  }

  // ---------------------------------------------------------------- primitive reads

  protected incomplete(needAt: number): never {
    this.needAt = needAt;
    throw INCOMPLETE;
  }

  protected corrupt(message: string, at = this.pos): never {
    const where = this.recordType >= 0 ? ` in ${this.describeRecord()}` : "";
    throw new RdbError("corrupt", this.base + at, `corrupt RDB${where}: ${message}`);
  }

  protected readByte(): number {
    const p = this.pos;
    if (p >= this.buf.length) this.incomplete(p + 1);
    this.pos = p + 1;
    return this.buf[p]!;
  }

  protected ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.incomplete(this.pos + n);
  }

  /** A length that must fit a JS number (counts, sizes). */
  protected readLength(): number {
    const buf = this.buf;
    const p = this.pos;
    if (p >= buf.length) this.incomplete(p + 1);
    const b = buf[p]!;
    if (b < 0x40) {
      this.pos = p + 1;
      return b;
    }
    if (b < 0x80) {
      if (p + 2 > buf.length) this.incomplete(p + 2);
      this.pos = p + 2;
      return ((b & 0x3f) << 8) | buf[p + 1]!;
    }
    if (b === 0x80) {
      if (p + 5 > buf.length) this.incomplete(p + 5);
      this.pos = p + 5;
      return ((buf[p + 1]! << 24) | (buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!) >>> 0;
    }
    if (b === 0x81) {
      if (p + 9 > buf.length) this.incomplete(p + 9);
      const hi = ((buf[p + 1]! << 24) | (buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!) >>> 0;
      const lo = ((buf[p + 5]! << 24) | (buf[p + 6]! << 16) | (buf[p + 7]! << 8) | buf[p + 8]!) >>> 0;
      if (hi > 0x1fffff) this.corrupt(`implausible 64-bit length 0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")}`, p);
      this.pos = p + 9;
      return hi * TWO_POW_32 + lo;
    }
    this.corrupt(`expected a length, found the byte 0x${b.toString(16)}`, p);
  }

  /** A length-encoded unsigned 64-bit value (IDs, module ids): a number when exact, else a bigint. */
  protected readLength64(): number | bigint {
    const buf = this.buf;
    const p = this.pos;
    if (p >= buf.length) this.incomplete(p + 1);
    if (buf[p] !== 0x81) return this.readLength();
    if (p + 9 > buf.length) this.incomplete(p + 9);
    const hi = ((buf[p + 1]! << 24) | (buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!) >>> 0;
    const lo = ((buf[p + 5]! << 24) | (buf[p + 6]! << 16) | (buf[p + 7]! << 8) | buf[p + 8]!) >>> 0;
    this.pos = p + 9;
    if (hi <= 0x1fffff) return hi * TWO_POW_32 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** int64 little endian (millisecond times). Beyond 2^53 the value is approximate. */
  protected readInt64LE(): number {
    this.ensure(8);
    const buf = this.buf;
    const p = this.pos;
    const lo = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
    const hi = buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24);
    this.pos = p + 8;
    return hi * TWO_POW_32 + lo;
  }

  /** A 64-bit big-endian unsigned value (stream IDs in raw form). */
  protected readUint64BE(): number | bigint {
    this.ensure(8);
    const buf = this.buf;
    const p = this.pos;
    const hi = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
    const lo = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!) >>> 0;
    this.pos = p + 8;
    if (hi <= 0x1fffff) return hi * TWO_POW_32 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  protected readDoubleLE(): number {
    this.ensure(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** The length of a plain string (after a non-encoded prefix byte `b` at `p`), or -1 for encoded strings. */
  protected checkStringLength(len: number, at: number): void {
    if (len > this.maxStringLength) {
      throw new RdbError("too-large", this.base + at, `a string of ${len} bytes is longer than this implementation accepts (${this.maxStringLength})`);
    }
  }

  /** An RDB string (raw, integer-encoded or LZF) as a latin1 JS string. */
  protected readString(): string {
    const buf = this.buf;
    let p = this.pos;
    if (p >= buf.length) this.incomplete(p + 1);
    const b = buf[p]!;
    let len: number;
    if (b < 0x40) {
      len = b;
      p += 1;
    } else if (b < 0x80) {
      if (p + 2 > buf.length) this.incomplete(p + 2);
      len = ((b & 0x3f) << 8) | buf[p + 1]!;
      if (len > this.maxStringLength) this.checkStringLength(len, p);
      p += 2;
    } else if (b >= 0xc0) {
      return this.readEncodedString(b);
    } else {
      len = this.readLength();
      this.checkStringLength(len, p);
      p = this.pos;
    }
    const e = p + len;
    if (e > buf.length) this.incomplete(e);
    this.pos = e;
    return buf.latin1Slice(p, e);
  }

  /** Integer-encoded and LZF strings (prefix byte 0b11xxxxxx). */
  protected readEncodedString(b: number): string {
    const buf = this.buf;
    const p = this.pos;
    switch (b & 0x3f) {
      case ENC_INT8:
        if (p + 2 > buf.length) this.incomplete(p + 2);
        this.pos = p + 2;
        return String((buf[p + 1]! << 24) >> 24);
      case ENC_INT16:
        if (p + 3 > buf.length) this.incomplete(p + 3);
        this.pos = p + 3;
        return String(((buf[p + 1]! | (buf[p + 2]! << 8)) << 16) >> 16);
      case ENC_INT32:
        if (p + 5 > buf.length) this.incomplete(p + 5);
        this.pos = p + 5;
        return String(buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24));
      case ENC_LZF: {
        this.readLzfBlob();
        return this.blobBuf.latin1Slice(this.blobStart, this.blobEnd);
      }
      default:
        this.corrupt(`unknown string encoding ${b & 0x3f}`, p);
    }
  }

  /** Reads an LZF string (prefix byte at pos) and decompresses it into the blob fields. */
  protected readLzfBlob(): void {
    const p0 = this.pos;
    this.pos++;
    const clen = this.readLength();
    const ulen = this.readLength();
    this.checkStringLength(clen, p0);
    this.checkStringLength(ulen, p0);
    if (clen === 0) this.corrupt("LZF string with 0 compressed bytes", p0);
    if (ulen > lzfMaxExpansion(clen)) this.corrupt(`LZF string of ${clen} bytes cannot expand to ${ulen}`, p0);
    this.ensure(clen);
    const start = this.pos;
    this.pos += clen;
    let out = this.lzfScratch;
    if (ulen > out.length) {
      out = Buffer.allocUnsafe(ulen <= SCRATCH_MAX ? Math.max(ulen, 65536) : ulen);
      if (ulen <= SCRATCH_MAX) this.lzfScratch = out;
    }
    try {
      lzfDecompressInto(this.buf, start, start + clen, out, ulen);
      this.blobBuf = out;
    } catch (e) {
      if (e instanceof StructureError) this.corrupt(`invalid LZF data: ${e.message}`, p0);
      throw e;
    }
    this.blobStart = 0;
    this.blobEnd = ulen;
  }

  /**
   * An RDB string as bytes, without copying when it is stored raw: sets blobBuf[blobStart,
   * blobEnd). Integer-encoded strings become their decimal digits, as in Redis.
   */
  protected readBlob(): void {
    const buf = this.buf;
    const p = this.pos;
    if (p >= buf.length) this.incomplete(p + 1);
    const b = buf[p]!;
    if (b >= 0xc0) {
      if ((b & 0x3f) === ENC_LZF) return this.readLzfBlob();
      const digits = this.readEncodedString(b);
      this.blobBuf = Buffer.from(digits, "latin1");
      this.blobStart = 0;
      this.blobEnd = this.blobBuf.length;
      return;
    }
    const len = this.readLength();
    this.checkStringLength(len, p);
    const start = this.pos;
    const e = start + len;
    if (e > buf.length) this.incomplete(e);
    this.pos = e;
    this.blobBuf = buf;
    this.blobStart = start;
    this.blobEnd = e;
  }

  /** Skips an RDB string without decoding it (module values). */
  protected skipString(): void {
    const p = this.pos;
    if (p >= this.buf.length) this.incomplete(p + 1);
    const b = this.buf[p]!;
    if (b >= 0xc0) {
      switch (b & 0x3f) {
        case ENC_INT8:
          this.ensure(2);
          this.pos += 2;
          return;
        case ENC_INT16:
          this.ensure(3);
          this.pos += 3;
          return;
        case ENC_INT32:
          this.ensure(5);
          this.pos += 5;
          return;
        case ENC_LZF: {
          this.pos++;
          const clen = this.readLength();
          this.readLength();
          this.checkStringLength(clen, p);
          this.ensure(clen);
          this.pos += clen;
          return;
        }
        default:
          this.corrupt(`unknown string encoding ${b & 0x3f}`, p);
      }
    }
    const len = this.readLength();
    this.checkStringLength(len, p);
    this.ensure(len);
    this.pos += len;
  }
}

/** A key or member for an error message: at most 64 chars, non-printables escaped. */
export function printable(s: string): string {
  const cut = s.length > 64 ? s.slice(0, 64) : s;
  // eslint-disable-next-line no-control-regex
  const escaped = cut.replace(/[\x00-\x1f\x7f-\xff']/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return s.length > 64 ? `${escaped}...` : escaped;
}
