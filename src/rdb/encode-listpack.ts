// Listpack encoding (listpack.c), the inverse of listpack.ts: small hashes, sorted sets, list
// nodes (quicklist 2) and stream nodes as Redis 7.0 writes them.
//
// Elements are appended the way Redis's lpAppend does: a string that is the canonical decimal
// form of an int64 (lpStringToInt64) is stored as an integer in the smallest encoding, any
// other string as a 6/12/32-bit-length string; each entry is followed by its backlen.
//
// One encoder is reused for every listpack: it writes into its own growing buffer, and
// finish() fills in the header and returns the total size. No allocation per element.

import { listpackBacklenSize } from "../encoding/listpack.ts";

const HEADER = 6;
const TWO_POW_32 = 4294967296;
const MIN_I64 = -9223372036854775808n;
const MAX_I64 = 9223372036854775807n;

/**
 * The int64 a string stands for when Redis would store it as an integer (the canonical
 * decimal form: no sign but '-', no leading zeros, no "-0", within int64), else null.
 * Numbers are exact below 2^53; beyond that a bigint is returned.
 */
export function int64OfString(s: string): number | bigint | null {
  const len = s.length;
  if (len === 0 || len > 20) return null;
  let i = 0;
  const c0 = s.charCodeAt(0);
  if (c0 === 45 /* - */) {
    if (len === 1) return null;
    i = 1;
  } else if (c0 < 48 || c0 > 57) return null;
  const first = s.charCodeAt(i);
  if (first === 48 /* 0 */) return len === 1 ? 0 : null;
  if (first < 49 || first > 57) return null;
  let v = first - 48;
  for (let j = i + 1; j < len; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
    v = v * 10 + (c - 48);
  }
  const digits = len - i;
  if (digits <= 15) return i ? -v : v;
  const b = BigInt(s);
  if (b < MIN_I64 || b > MAX_I64) return null;
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

/** Writes a signed 64-bit integer (number below 2^53, or bigint) little endian. */
export function writeInt64LE(buf: Buffer, p: number, v: number | bigint): void {
  if (typeof v === "bigint") {
    buf.writeBigInt64LE(BigInt.asIntN(64, v), p);
    return;
  }
  const lo = v >>> 0;
  const hi = Math.floor(v / TWO_POW_32) | 0;
  buf[p] = lo & 0xff;
  buf[p + 1] = (lo >>> 8) & 0xff;
  buf[p + 2] = (lo >>> 16) & 0xff;
  buf[p + 3] = lo >>> 24;
  buf[p + 4] = hi & 0xff;
  buf[p + 5] = (hi >>> 8) & 0xff;
  buf[p + 6] = (hi >>> 16) & 0xff;
  buf[p + 7] = (hi >>> 24) & 0xff;
}

/** Bytes of the encoding + data of an integer element (lpEncodeIntegerGetType), backlen excluded. */
export function listpackIntSize(v: number | bigint): number {
  if (typeof v === "bigint") {
    if (v < -2147483648n || v > 2147483647n) return 9;
    v = Number(v);
  }
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

export class ListpackEncoder {
  buf: Buffer;
  /** Write position (the header is filled in by finish()). */
  pos = HEADER;
  count = 0;

  constructor(initialSize = 4096) {
    this.buf = Buffer.allocUnsafe(Math.max(initialSize, 64));
  }

  /** Starts a new listpack (the previous one's bytes are overwritten). */
  reset(): void {
    this.pos = HEADER;
    this.count = 0;
  }

  /** Bytes the listpack would have if finished now (lpBytes). */
  get bytes(): number {
    return this.pos + 1;
  }

  private ensure(n: number): void {
    const need = this.pos + n + 1;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Appends a string element, stored as an integer when Redis would (lpAppend). */
  appendString(s: string): void {
    const c0 = s.length ? s.charCodeAt(0) : 0;
    if (s.length <= 20 && ((c0 >= 48 && c0 <= 57) || c0 === 45)) {
      const v = int64OfString(s);
      if (v !== null) {
        this.appendInt(v);
        return;
      }
    }
    this.appendStringRaw(s);
  }

  /** Appends a string element as a string, whatever it looks like. */
  appendStringRaw(s: string): void {
    const len = s.length;
    const header = len < 64 ? 1 : len < 4096 ? 2 : 5;
    const entry = header + len;
    const back = listpackBacklenSize(entry);
    this.ensure(entry + back);
    const buf = this.buf;
    let p = this.pos;
    if (header === 1) {
      buf[p++] = 0x80 | len;
    } else if (header === 2) {
      buf[p++] = 0xe0 | (len >> 8);
      buf[p++] = len & 0xff;
    } else {
      buf[p++] = 0xf0;
      buf[p++] = len & 0xff;
      buf[p++] = (len >>> 8) & 0xff;
      buf[p++] = (len >>> 16) & 0xff;
      buf[p++] = len >>> 24;
    }
    if (len) p += buf.latin1Write(s, p, len);
    this.pos = writeBacklen(buf, p, entry);
    this.count++;
  }

  /** Appends an integer element (lpAppendInteger). */
  appendInt(v: number | bigint): void {
    this.ensure(10);
    const buf = this.buf;
    let p = this.pos;
    const size = listpackIntSize(v);
    if (size === 9) {
      buf[p] = 0xf4;
      writeInt64LE(buf, p + 1, v);
      p += 9;
    } else {
      let n = Number(v);
      switch (size) {
        case 1:
          buf[p++] = n;
          break;
        case 2:
          if (n < 0) n += 8192;
          buf[p++] = 0xc0 | (n >> 8);
          buf[p++] = n & 0xff;
          break;
        case 3:
          buf[p++] = 0xf1;
          buf[p++] = n & 0xff;
          buf[p++] = (n >> 8) & 0xff;
          break;
        case 4:
          buf[p++] = 0xf2;
          buf[p++] = n & 0xff;
          buf[p++] = (n >> 8) & 0xff;
          buf[p++] = (n >> 16) & 0xff;
          break;
        default:
          buf[p++] = 0xf3;
          buf[p++] = n & 0xff;
          buf[p++] = (n >> 8) & 0xff;
          buf[p++] = (n >> 16) & 0xff;
          buf[p++] = (n >>> 24) & 0xff;
      }
    }
    buf[p++] = size; // backlen of an integer entry (<= 9) is one byte
    this.pos = p;
    this.count++;
  }

  /** Terminates the listpack and fills in its header. Returns its size: buf[0, size). */
  finish(): number {
    this.ensure(0);
    const buf = this.buf;
    buf[this.pos] = 0xff;
    const total = this.pos + 1;
    buf[0] = total & 0xff;
    buf[1] = (total >>> 8) & 0xff;
    buf[2] = (total >>> 16) & 0xff;
    buf[3] = total >>> 24;
    const n = this.count < 65535 ? this.count : 65535;
    buf[4] = n & 0xff;
    buf[5] = n >>> 8;
    return total;
  }
}

/** Writes the backlen of an entry of `l` bytes at p (lpEncodeBacklen). Returns the new position. */
function writeBacklen(buf: Buffer, p: number, l: number): number {
  if (l <= 127) {
    buf[p] = l;
    return p + 1;
  }
  if (l < 16383) {
    buf[p] = l >>> 7;
    buf[p + 1] = (l & 127) | 128;
    return p + 2;
  }
  if (l < 2097151) {
    buf[p] = l >>> 14;
    buf[p + 1] = ((l >>> 7) & 127) | 128;
    buf[p + 2] = (l & 127) | 128;
    return p + 3;
  }
  if (l < 268435455) {
    buf[p] = l >>> 21;
    buf[p + 1] = ((l >>> 14) & 127) | 128;
    buf[p + 2] = ((l >>> 7) & 127) | 128;
    buf[p + 3] = (l & 127) | 128;
    return p + 4;
  }
  buf[p] = Math.floor(l / 268435456);
  buf[p + 1] = ((l >>> 21) & 127) | 128;
  buf[p + 2] = ((l >>> 14) & 127) | 128;
  buf[p + 3] = ((l >>> 7) & 127) | 128;
  buf[p + 4] = (l & 127) | 128;
  return p + 5;
}
