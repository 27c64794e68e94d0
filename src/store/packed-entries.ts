// Packed entries: a sequence of byte strings held in ONE latin1 JS string, the compact form of
// small hashes and sets (what a listpack is to Redis). A JS string costs ~40 bytes plus its
// length while a Map entry of two strings costs ~150, so a small aggregate kept this way is a
// few times smaller; lookups scan it (startsWith at each entry, no allocation) and writes
// rebuild it, both O(n) like a listpack's scans and reallocs.
//
//   entry = <length header> <bytes>
//   header: length < 0x80     1 char   the length
//           length < 0x4000   2 chars  0x80 | length >> 8, length & 0xff
//           otherwise         5 chars  0xC0, then the length over 4 chars, big end first
//
// A hash alternates field and value entries (stride 2), a set holds one entry per member.
//
// Strings are always built by writing bytes into a scratch Buffer and taking one latin1Slice:
// the result is flat and exactly sized. (Concatenation would build a rope that keeps its
// pieces alive, and a slice of a bigger string keeps the whole of it alive: see
// `flatSlice`.) Strings read out of a packed string are slices of it, cheap for replies; a
// value that moves into a Map or Set representation is copied flat first.

import { ListpackReader, LP_INTEGER } from "../encoding/listpack.ts";
import { writeDecimal } from "../common/decimal.ts";

/**
 * Most characters a packed string holds: past this an aggregate moves to a Map/Set, so that a
 * rebuild never copies much (a default listpack hash is at most ~128 * 2 * 66 bytes).
 */
export const PACKED_MAX_CHARS = 16384;

/**
 * Where an aggregate writes its elements as bulk strings without making a string of each
 * (the reply writer): from a range of a latin1 string (a packed form) or of bytes (a table).
 */
export interface BulkSink {
  bulkChars(s: string, start: number, len: number): void;
  bulkRange(src: Uint8Array, start: number, len: number): void;
}

/**
 * Writes the entries of packed string `s` to `sink` as bulk strings: all of them (stride 1), or
 * with stride 2 only those at even (first = 0) or odd (first = 1) positions.
 */
export function writeEntries(s: string, sink: BulkSink, stride: 1 | 2 = 1, first: 0 | 1 = 0): void {
  let i = 0;
  for (let p = 0; p < s.length; i++) {
    const start = p + headerAt(s, p);
    const end = entryEnd(s, p);
    if (stride === 1 || (i & 1) === first) sink.bulkChars(s, start, end - start);
    p = end;
  }
}

/**
 * writeEntries over the same entries held as bytes (an aggregate at rest in a keyspace record):
 * `b` from `start` to `end`.
 */
export function writeEntryBytes(b: Uint8Array, start: number, end: number, sink: BulkSink, stride: 1 | 2 = 1, first: 0 | 1 = 0): void {
  let i = 0;
  for (let p = start; p < end; i++) {
    const from = byteEntryAt(b, p);
    if (stride === 1 || (i & 1) === first) sink.bulkRange(b, from, byteEntry.length);
    p = from + byteEntry.length;
  }
}

/** The length of the entry byteEntryAt read last. */
const byteEntry = { length: 0 };

/** Where the data of the entry whose header is at `p` in bytes `b` starts (its length in byteEntry). */
function byteEntryAt(b: Uint8Array, p: number): number {
  const c = b[p]!;
  if (c < 0x80) {
    byteEntry.length = c;
    return p + 1;
  }
  if (c < 0xc0) {
    byteEntry.length = ((c & 0x3f) << 8) | b[p + 1]!;
    return p + 2;
  }
  byteEntry.length = ((b[p + 1]! << 24) | (b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!) >>> 0;
  return p + 5;
}

/** The length of the value findValueBytes found last. */
export const foundValue = { length: 0 };

/**
 * In the field/value entries held as bytes in `b` from `start` to `end` (a hash at rest), where
 * the value of `field` starts (its length in foundValue.length), or -1 when there is no such
 * field.
 */
export function findValueBytes(b: Uint8Array, start: number, end: number, field: string): number {
  const flen = field.length;
  for (let p = start; p < end; ) {
    const from = byteEntryAt(b, p);
    const len = byteEntry.length;
    let same = len === flen;
    for (let i = 0; same && i < len; i++) same = b[from + i] === field.charCodeAt(i);
    // The value's entry.
    const valueFrom = byteEntryAt(b, from + len);
    if (same) {
      foundValue.length = byteEntry.length;
      return valueFrom;
    }
    p = valueFrom + byteEntry.length;
  }
  return -1;
}

/** Whether the entries held as bytes in `b` from `start` to `end` (a set at rest) include `member`. */
export function hasEntryBytes(b: Uint8Array, start: number, end: number, member: string): boolean {
  const mlen = member.length;
  for (let p = start; p < end; ) {
    const from = byteEntryAt(b, p);
    const len = byteEntry.length;
    if (len === mlen) {
      let i = 0;
      while (i < len && b[from + i] === member.charCodeAt(i)) i++;
      if (i === len) return true;
    }
    p = from + len;
  }
  return false;
}

/** Header size for an entry of `len` bytes. */
export function headerSize(len: number): number {
  return len < 0x80 ? 1 : len < 0x4000 ? 2 : 5;
}

/** Length of the entry whose header starts at `p`. */
function entryLength(s: string, p: number): number {
  const c = s.charCodeAt(p);
  if (c < 0x80) return c;
  if (c < 0xc0) return ((c & 0x3f) << 8) | s.charCodeAt(p + 1);
  return ((s.charCodeAt(p + 1) << 24) | (s.charCodeAt(p + 2) << 16) | (s.charCodeAt(p + 3) << 8) | s.charCodeAt(p + 4)) >>> 0;
}

/** Size of the header at `p` (1, 2 or 5). */
export function headerAt(s: string, p: number): number {
  const c = s.charCodeAt(p);
  return c < 0x80 ? 1 : c < 0xc0 ? 2 : 5;
}

/** Offset just past the entry whose header starts at `p`. */
export function entryEnd(s: string, p: number): number {
  const c = s.charCodeAt(p);
  if (c < 0x80) return p + 1 + c;
  if (c < 0xc0) return p + 2 + (((c & 0x3f) << 8) | s.charCodeAt(p + 1));
  return p + 5 + entryLength(s, p);
}

/** The bytes of the entry at `p` (a slice of `s`). */
export function entryAt(s: string, p: number): string {
  const c = s.charCodeAt(p);
  if (c < 0x80) return s.slice(p + 1, p + 1 + c);
  const h = c < 0xc0 ? 2 : 5;
  return s.slice(p + h, p + h + entryLength(s, p));
}

/**
 * Offset of the header of the first entry equal to `key` among the entries at positions
 * 0, stride, 2*stride... (stride 2: the fields of a hash), or -1.
 */
export function findEntry(s: string, key: string, stride: 1 | 2): number {
  const n = s.length;
  const klen = key.length;
  if (klen === 0) return findEmpty(s, stride);
  // The last and first characters are compared before the whole key: keys of one aggregate
  // often share a prefix ("user:...") and a length, and differ at the end.
  const last = key.charCodeAt(klen - 1);
  const first = key.charCodeAt(0);
  let p = 0;
  while (p < n) {
    const c = s.charCodeAt(p);
    let start: number;
    let len: number;
    if (c < 0x80) {
      start = p + 1;
      len = c;
    } else if (c < 0xc0) {
      start = p + 2;
      len = ((c & 0x3f) << 8) | s.charCodeAt(p + 1);
    } else {
      start = p + 5;
      len = entryLength(s, p);
    }
    if (len === klen && s.charCodeAt(start + klen - 1) === last && s.charCodeAt(start) === first && (klen < 3 || s.startsWith(key, start))) return p;
    p = start + len;
    if (stride === 2) {
      const v = s.charCodeAt(p);
      p += v < 0x80 ? 1 + v : v < 0xc0 ? 2 + (((v & 0x3f) << 8) | s.charCodeAt(p + 1)) : 5 + entryLength(s, p);
    }
  }
  return -1;
}

function findEmpty(s: string, stride: 1 | 2): number {
  for (let p = 0; p < s.length; ) {
    if (s.charCodeAt(p) === 0) return p;
    p = entryEnd(s, p);
    if (stride === 2) p = entryEnd(s, p);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Building

const SCRATCH_KEEP = 1 << 16;
let scratch: Buffer = Buffer.allocUnsafe(4096);
/**
 * The string whose bytes scratch[0, length) holds (the last one built there), or null: a
 * burst of writes to one aggregate then skips copying it back in before each rebuild.
 */
let scratchHolds: string | null = null;

/** A scratch buffer of at least `n` bytes (shared: valid until the next call). */
export function scratchBuffer(n: number): Buffer {
  scratchHolds = null;
  if (scratch.length < n) {
    let cap = scratch.length * 2;
    while (cap < n) cap *= 2;
    scratch = Buffer.allocUnsafe(cap);
  }
  return scratch;
}

/** The scratch buffer (at least `n` bytes) with the bytes of `s` at its start. */
export function scratchWith(s: string, n: number): Buffer {
  if (scratchHolds === s && scratch.length >= n) return scratch;
  const buf = scratchBuffer(Math.max(n, s.length));
  const len = s.length;
  if (len > 32) buf.latin1Write(s, 0, len);
  else for (let i = 0; i < len; i++) buf[i] = s.charCodeAt(i);
  scratchHolds = s;
  return buf;
}

/** Takes the string out of buf[0, len) and lets an oversized scratch buffer go. */
export function finishScratch(buf: Buffer, len: number): string {
  const s = len === 0 ? "" : buf.latin1Slice(0, len);
  if (buf === scratch) {
    if (buf.length > SCRATCH_KEEP) {
      scratch = Buffer.allocUnsafe(4096);
      scratchHolds = null;
    } else scratchHolds = s;
  }
  return s;
}

/** Writes a header for `len` at `p`; returns the position after it. */
function writeHeader(buf: Buffer, p: number, len: number): number {
  if (len < 0x80) {
    buf[p] = len;
    return p + 1;
  }
  if (len < 0x4000) {
    buf[p] = 0x80 | (len >>> 8);
    buf[p + 1] = len & 0xff;
    return p + 2;
  }
  buf[p] = 0xc0;
  buf[p + 1] = len >>> 24;
  buf[p + 2] = (len >>> 16) & 0xff;
  buf[p + 3] = (len >>> 8) & 0xff;
  buf[p + 4] = len & 0xff;
  return p + 5;
}

/** Writes header + bytes of `v` at `p`; returns the position after them. */
export function writeEntry(buf: Buffer, p: number, v: string): number {
  const len = v.length;
  p = writeHeader(buf, p, len);
  if (len > 16) return p + buf.latin1Write(v, p, len);
  for (let i = 0; i < len; i++) buf[p + i] = v.charCodeAt(i);
  return p + len;
}

/** `s` with entries appended. */
export function appendEntries(s: string, a: string, b?: string): string {
  const extra = headerSize(a.length) + a.length + (b === undefined ? 0 : headerSize(b.length) + b.length);
  const buf = scratchWith(s, s.length + extra);
  let p = writeEntry(buf, s.length, a);
  if (b !== undefined) p = writeEntry(buf, p, b);
  return finishScratch(buf, p);
}

/** `s` with entries `a` (and `b`) inserted at offset `p` (an entry boundary). */
export function insertEntries(s: string, p: number, a: string, b?: string): string {
  const n = s.length;
  const extra = headerSize(a.length) + a.length + (b === undefined ? 0 : headerSize(b.length) + b.length);
  const buf = scratchWith(s, n + extra);
  if (p < n) buf.copyWithin(p + extra, p, n);
  let q = writeEntry(buf, p, a);
  if (b !== undefined) q = writeEntry(buf, q, b);
  return finishScratch(buf, n + extra);
}

/** `s` with the entry at `p` (ending at `end`) replaced by `v`. */
export function replaceEntry(s: string, p: number, end: number, v: string): string {
  const n = s.length;
  const size = headerSize(v.length) + v.length;
  const total = n - (end - p) + size;
  const buf = scratchWith(s, Math.max(n, total));
  if (p + size !== end) buf.copyWithin(p + size, end, n);
  writeEntry(buf, p, v);
  return finishScratch(buf, total);
}

/** `s` without the bytes in [from, to). */
export function removeRange(s: string, from: number, to: number): string {
  if (from === 0) return to === s.length ? "" : flatSlice(s, to, s.length);
  const n = s.length;
  const buf = scratchWith(s, n);
  buf.copyWithin(from, to, n);
  return finishScratch(buf, n - (to - from));
}

/**
 * A flat copy of s[from, to): a plain slice would keep all of `s` alive for as long as it
 * lives (JSC substrings share their base), which matters for a value that is kept.
 */
export function flatSlice(s: string, from: number, to: number): string {
  const len = to - from;
  if (len <= 0) return "";
  const buf = scratchBuffer(len);
  if (len > 32) buf.latin1Write(from === 0 && to === s.length ? s : s.slice(from, to), 0, len);
  else for (let i = 0; i < len; i++) buf[i] = s.charCodeAt(from + i);
  return finishScratch(buf, len);
}

/**
 * Flat copies of every entry of `s`, in order, through one scratch copy of `s` (for a
 * conversion to a Map or Set: no entry may keep the packed string alive).
 */
export function unpackEntries(s: string): string[] {
  const n = s.length;
  const buf = scratchWith(s, n);
  const out: string[] = [];
  let p = 0;
  while (p < n) {
    const len = entryLength(s, p);
    const start = p + headerSize(len);
    out.push(buf.latin1Slice(start, start + len));
    p = start + len;
  }
  if (buf.length > SCRATCH_KEEP) {
    scratch = Buffer.allocUnsafe(4096);
    scratchHolds = null;
  }
  return out;
}

/**
 * Builds packed strings entry by entry (the RDB reader's path: entries come straight from the
 * file's bytes) with an O(n) duplicate check. One shared instance; `finish` hands out the string.
 */
/** The reader of addListpack (one per module: readers never nest). */
const listpackReader = new ListpackReader();

export class PackedBuilder {
  buf: Buffer = Buffer.allocUnsafe(4096);
  pos = 0;
  count = 0;
  /** Entry header offsets, for the duplicate check. */
  private offsets = new Int32Array(256);
  /** Incremental duplicate check (isLastDuplicate): open addressing, entry index + 1 per slot. */
  private keyTable = new Int32Array(16);
  private keyTableSize = 0;
  private keysInTable = 0;

  reset(): void {
    this.pos = 0;
    this.count = 0;
    if (this.keyTableSize !== 0) {
      this.keyTable.fill(0, 0, this.keyTableSize);
      this.keyTableSize = 0;
      this.keysInTable = 0;
    }
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private mark(): void {
    if (this.count === this.offsets.length) {
      const next = new Int32Array(this.offsets.length * 2);
      next.set(this.offsets);
      this.offsets = next;
    }
    this.offsets[this.count++] = this.pos;
  }

  addString(v: string): void {
    this.ensure(5 + v.length);
    this.mark();
    this.pos = writeEntry(this.buf, this.pos, v);
  }

  /** Appends the bytes src[start, end) as an entry; returns their length. */
  addBytes(src: Uint8Array, start: number, end: number): number {
    const len = end - start;
    this.ensure(5 + len);
    this.mark();
    const p = writeHeader(this.buf, this.pos, len);
    if (len > 16) this.buf.set(src.subarray(start, end), p);
    else for (let i = 0; i < len; i++) this.buf[p + i] = src[start + i]!;
    this.pos = p + len;
    return len;
  }

  /** An integer as its decimal digits (how a listpack integer reads as a string); returns their count. */
  addInteger(v: number | bigint): number {
    if (typeof v === "bigint" || !Number.isSafeInteger(v)) {
      const text = String(v);
      this.addString(text);
      return text.length;
    }
    this.ensure(5 + 17);
    this.mark();
    const buf = this.buf;
    let p = this.pos + 1;
    const start = p;
    if (v < 0) {
      buf[p++] = 45;
      v = -v;
    }
    p = writeDecimal(buf, p, v);
    buf[this.pos] = p - start;
    this.pos = p;
    return p - start;
  }

  /**
   * Appends the elements of the listpack in buf[start, end) (integers as their decimal
   * digits), validating it: a corrupt one throws the StructureError of encoding/listpack.ts.
   * Returns the number of elements.
   */
  addListpack(buf: Buffer, start: number, end: number): number {
    const lp = listpackReader;
    lp.open(buf, start, end);
    while (lp.next()) {
      const s = lp.strStart;
      if (s >= 0) this.addBytes(buf, s, s + lp.strLen);
      else this.addInteger(s === LP_INTEGER ? lp.int : lp.wideInt());
    }
    return lp.count;
  }

  /**
   * Whether the entry just added equals an earlier one among the entries at positions 0,
   * stride, 2*stride... (call it after adding each such entry, and only then). O(1) amortized.
   */
  isLastDuplicate(stride: 1 | 2): boolean {
    const k = this.count - 1;
    if (this.keysInTable * 2 + 2 > this.keyTableSize) this.growKeyTable(stride, k);
    const table = this.keyTable;
    const mask = this.keyTableSize - 1;
    const buf = this.buf;
    const p = this.offsets[k]!;
    const len = readHeaderLength(buf, p);
    const start = p + headerSize(len);
    let slot = hashBytes(buf, start, len) & mask;
    for (;;) {
      const other = table[slot]!;
      if (other === 0) {
        table[slot] = k + 1;
        this.keysInTable++;
        return false;
      }
      const q = this.offsets[other - 1]!;
      const olen = readHeaderLength(buf, q);
      if (olen === len && buf.compare(buf, q + headerSize(olen), q + headerSize(olen) + olen, start, start + len) === 0) return true;
      slot = (slot + 1) & mask;
    }
  }

  /** Doubles the incremental table and re-inserts the keys before entry `upTo`. */
  private growKeyTable(stride: 1 | 2, upTo: number): void {
    let size = Math.max(16, this.keyTableSize * 2);
    while (size < (this.keysInTable + 1) * 2) size *= 2;
    if (this.keyTable.length < size) this.keyTable = new Int32Array(size);
    else this.keyTable.fill(0, 0, size);
    this.keyTableSize = size;
    const table = this.keyTable;
    const mask = size - 1;
    const buf = this.buf;
    for (let k = 0; k < upTo; k += stride) {
      const p = this.offsets[k]!;
      const len = readHeaderLength(buf, p);
      let slot = hashBytes(buf, p + headerSize(len), len) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = k + 1;
    }
  }

  /** Offset (in the built bytes) of the header of entry `i`. */
  offsetOf(i: number): number {
    return this.offsets[i]!;
  }

  /**
   * Index of the first entry among positions 0, stride, 2*stride... equal to an earlier one
   * at those positions, or -1. Hashes the bytes into a table sized for the count.
   */
  findDuplicate(stride: 1 | 2): number {
    const keys = Math.ceil(this.count / stride);
    if (keys < 2) return -1;
    let size = 8;
    while (size < keys * 2) size *= 2;
    if (dupScratch.length < size) dupScratch = new Int32Array(size);
    const table = dupScratch;
    table.fill(0, 0, size);
    const mask = size - 1;
    const buf = this.buf;
    for (let k = 0; k < this.count; k += stride) {
      const p = this.offsets[k]!;
      const len = readHeaderLength(buf, p);
      const start = p + headerSize(len);
      let slot = hashBytes(buf, start, len) & mask;
      for (;;) {
        const other = table[slot]!;
        if (other === 0) {
          table[slot] = k + 1;
          break;
        }
        const q = this.offsets[other - 1]!;
        const olen = readHeaderLength(buf, q);
        if (olen === len && buf.compare(buf, q + headerSize(olen), q + headerSize(olen) + olen, start, start + len) === 0) return k;
        slot = (slot + 1) & mask;
      }
    }
    return -1;
  }

  /** The bytes of entry `i` as a string (for error messages). */
  entryString(i: number): string {
    const p = this.offsets[i]!;
    const len = readHeaderLength(this.buf, p);
    const start = p + headerSize(len);
    return this.buf.latin1Slice(start, start + len);
  }

  /** Flat strings of every entry added (for a value too big for a packed form). */
  strings(): string[] {
    const out: string[] = new Array(this.count);
    const buf = this.buf;
    for (let i = 0; i < this.count; i++) {
      const p = this.offsets[i]!;
      const len = readHeaderLength(buf, p);
      const start = p + headerSize(len);
      out[i] = buf.latin1Slice(start, start + len);
    }
    this.finish();
    return out;
  }

  /** The packed string of everything added. */
  finish(): string {
    const s = this.pos === 0 ? "" : this.buf.latin1Slice(0, this.pos);
    if (this.buf.length > SCRATCH_KEEP) this.buf = Buffer.allocUnsafe(4096);
    if (this.offsets.length > 4096) this.offsets = new Int32Array(256);
    if (this.keyTable.length > 4096) {
      this.keyTable = new Int32Array(16);
      this.keyTableSize = 0;
      this.keysInTable = 0;
    }
    return s;
  }
}

/** FNV-1a of buf[start, start + len), non-negative. */
function hashBytes(buf: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + len; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 1;
}

function readHeaderLength(buf: Uint8Array, p: number): number {
  const c = buf[p]!;
  if (c < 0x80) return c;
  if (c < 0xc0) return ((c & 0x3f) << 8) | buf[p + 1]!;
  return ((buf[p + 1]! << 24) | (buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!) >>> 0;
}

/** Open-addressing table of the duplicate check (entry index + 1; 0 is empty). */
let dupScratch = new Int32Array(512);

/** The shared builder (single-threaded: one value is built at a time). */
export const packedBuilder = new PackedBuilder();
