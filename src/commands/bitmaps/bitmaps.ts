// Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
// BITFIELD_RO (bitops.c). Bit 0 is the most significant bit of the first byte.
//
// Strings are immutable latin1 JS strings. Reads use charCodeAt (or a scratch Buffer for long
// ranges); writes rebuild the string around the changed bytes (StringEditor). That is one O(n)
// copy per write (when JSC flattens the new string), where Redis edits in place in O(1): so
// bitmaps of 64 KB and more are written through a tree of 4 KB chunks (bitmaps-chunked.ts),
// which makes SETBIT / BITFIELD O(log n) and lets reads skip flattening.

import type { Client } from "../../core/client.ts";
import { i64Arg, isOption, parseI64 } from "../../core/args.ts";
import { CHUNKED_MIN_LENGTH, cachedTree, skipRunInString, treeFor } from "./chunked.ts";
import { StringEditor } from "./edit.ts";
import { NOT_INTEGER, SYNTAX, fail } from "../../core/errors.ts";
import { deleteKey, readString, setKey, signalModified, writeString } from "../../core/keyspace.ts";
import { noteStringEncoding } from "../strings/encoding.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

const BIT_OFFSET_ERR = "ERR bit offset is not an integer or out of range";
const BIT_VALUE_ERR = "ERR bit is not an integer or out of range";
const BITFIELD_TYPE_ERR = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/**
 * A bit offset argument (getBitOffsetFromArgument): a non-negative integer whose byte is below
 * proto-max-bulk-len (our master is obeyed without that limit). With `bits` > 0 (BITFIELD), the
 * "#n" form means n * bits.
 */
function bitOffsetArg(c: Client, text: string, bits: number): number {
  const useHash = bits > 0 && text.charCodeAt(0) === 35; /* '#' */
  const v = parseI64(useHash ? text.slice(1) : text);
  if (v === null) fail(BIT_OFFSET_ERR);
  let offset: number;
  if (typeof v === "number" && (!useHash || Number.isSafeInteger(v * bits))) {
    offset = useHash ? v * bits : v;
  } else {
    // int64 arithmetic as in C: "#n" multiplies with wrap-around.
    let b = BigInt(v);
    if (useHash) b = BigInt.asIntN(64, b * BigInt(bits));
    if (b < 0n || b > BigInt(Number.MAX_SAFE_INTEGER)) fail(BIT_OFFSET_ERR);
    offset = Number(b);
  }
  if (offset < 0) fail(BIT_OFFSET_ERR);
  if (!c.isMaster && Math.floor(offset / 8) >= c.server.config.num("proto-max-bulk-len")) fail(BIT_OFFSET_ERR);
  return offset;
}

/** A string of `n` zero bytes. */
function zeros(n: number): string {
  return n <= 0 ? "" : "\0".repeat(n);
}

const editor = new StringEditor();

// ---- SETBIT / GETBIT ----

/**
 * The bit commands that write (SETBIT, BITFIELD with a write, BITOP's destination) leave a raw
 * sds behind (lookupStringForBitCommand unshares it even when no bit changes).
 */
function keepRaw(db: Client["db"], key: string): void {
  const v = db.get(key);
  if (typeof v === "string") noteStringEncoding(db, key, v, "raw");
}

function setbit(c: Client, argv: string[]): void {
  const offset = bitOffsetArg(c, argv[2]!, 0);
  const on = parseI64(argv[3]!);
  if (on !== 0 && on !== 1) fail(BIT_VALUE_ERR);
  const key = argv[1]!;
  const s = writeString(c, key);
  const byte = Math.floor(offset / 8);
  const shift = 7 - (offset % 8);
  if (Math.max(s?.length ?? 0, byte + 1) >= CHUNKED_MIN_LENGTH) {
    setbitChunked(c, key, s ?? "", byte, shift, on);
    keepRaw(c.db, key);
    return;
  }
  if (s === undefined || byte >= s.length) {
    // Created or grown: always a modification, even when setting a 0 bit.
    const head = s ?? "";
    setKey(c, key, head + zeros(byte - head.length) + String.fromCharCode(on << shift), true);
    keepRaw(c.db, key);
    notifyKeyspaceEvent(c, NotifyClass.String, "setbit", key);
    c.reply.int(0);
    return;
  }
  const old = s.charCodeAt(byte);
  const bitval = (old >> shift) & 1;
  if (bitval !== on) {
    setKey(c, key, s.slice(0, byte) + String.fromCharCode(old ^ (1 << shift)) + s.slice(byte + 1), true);
    notifyKeyspaceEvent(c, NotifyClass.String, "setbit", key);
  }
  keepRaw(c.db, key);
  c.reply.int(bitval);
}

/** SETBIT on a large bitmap, through its chunk tree. */
function setbitChunked(c: Client, key: string, s: string, byte: number, shift: number, on: number): void {
  const tree = treeFor(c.db, key, s);
  const grown = byte >= tree.length;
  if (grown) tree.grow(byte + 1);
  const old = tree.byteAt(byte);
  const bitval = (old >> shift) & 1;
  if (grown || bitval !== on) {
    const ed = editor;
    ed.reset(tree);
    ed.set(byte, (old & ~(1 << shift)) | (on << shift));
    setKey(c, key, ed.apply(), true);
    ed.reset("");
    notifyKeyspaceEvent(c, NotifyClass.String, "setbit", key);
  }
  c.reply.int(bitval);
}

function getbit(c: Client, argv: string[]): void {
  const offset = bitOffsetArg(c, argv[2]!, 0);
  const s = readString(c, argv[1]!);
  if (s === undefined) {
    c.reply.int(0);
    return;
  }
  const byte = Math.floor(offset / 8);
  c.reply.int(byte < s.length ? (bytesOf(c, argv[1]!, s).byteAt(byte) >> (7 - (offset % 8))) & 1 : 0);
}

// ---- Range helpers for BITCOUNT / BITPOS ----

/** An int64 argument as a number; values beyond 2^53 clamp (string lengths are far below). */
function clampToNumber(v: number | bigint): number {
  if (typeof v === "number") return v;
  return v > 0n ? 2 ** 62 : -(2 ** 62);
}

/** Redis's start/end normalisation: negative from the end, then clamped to [0, totlen-1]. */
function normalizeRange(start: number, end: number, totlen: number): [number, number] {
  if (start < 0) start = totlen + start;
  if (end < 0) end = totlen + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= totlen) end = totlen - 1;
  return [start, end];
}

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

/** Read access to a value's bytes: the string itself, or its chunk tree when there is one. */
interface Bytes {
  readonly length: number;
  byteAt(pos: number): number;
  /** Copies bytes [start, start+len) to `into` at offset 0. */
  copyTo(into: Buffer, start: number, len: number): void;
  /** The first position in [from, to] whose byte is not `skip` (0 or 0xff), or to + 1. */
  skipRun(from: number, to: number, skip: number): number;
}

class StringBytes implements Bytes {
  s = "";
  get length(): number {
    return this.s.length;
  }
  byteAt(pos: number): number {
    return this.s.charCodeAt(pos);
  }
  copyTo(into: Buffer, start: number, len: number): void {
    into.latin1Write(this.s.slice(start, start + len), 0);
  }
  skipRun(from: number, to: number, skip: number): number {
    return skipRunInString(this.s, from, to, skip);
  }
}

const stringBytes = new StringBytes();

/** The bytes of `key`'s value `s` (valid until the next call: the string reader is reused). */
function bytesOf(c: Client, key: string, s: string): Bytes {
  if (s.length >= CHUNKED_MIN_LENGTH) {
    const tree = cachedTree(c.db, key, s);
    if (tree) return tree;
  }
  stringBytes.s = s;
  return stringBytes;
}

/** Reused buffer for scanning long ranges a word at a time (byteOffset 0: word-aligned). */
let scratch = Buffer.from(new ArrayBuffer(64 * 1024));
/** Ranges at least this long are copied to a Buffer and scanned a word at a time. */
const WORD_SCAN_MIN = 256;

/** Copies bytes [start, start+len) into a word-aligned buffer (the scratch one: valid until the next call). */
function copyRange(src: Bytes, start: number, len: number): Buffer {
  let into = scratch;
  if (len + 8 > into.length) {
    into = Buffer.from(new ArrayBuffer(len + 8));
    if (len + 8 <= 1 << 20) scratch = into;
  }
  src.copyTo(into, start, len);
  return into;
}

/** Number of set bits in bytes [start, end]. */
function popcount(src: Bytes, start: number, end: number): number {
  const len = end - start + 1;
  let count = 0;
  if (len < WORD_SCAN_MIN) {
    for (let i = start; i <= end; i++) count += POPCOUNT[src.byteAt(i)]!;
    return count;
  }
  const bytes = copyRange(src, start, len);
  const words = new Int32Array(bytes.buffer, 0, len >>> 2);
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!;
    w = w - ((w >>> 1) & 0x55555555);
    w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
    count += Math.imul((w + (w >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
  }
  for (let i = words.length * 4; i < len; i++) count += POPCOUNT[bytes[i]!]!;
  return count;
}

function bitcount(c: Client, argv: string[]): void {
  const s = readString(c, argv[1]!);
  if (s === undefined) {
    c.reply.int(0);
    return;
  }
  const strlen = s.length;
  let start: number;
  let end: number;
  let firstMask = 0;
  let lastMask = 0;
  if (argv.length === 4 || argv.length === 5) {
    const rawStart = i64Arg(argv[2]!);
    const rawEnd = i64Arg(argv[3]!);
    if (rawStart < 0 && rawEnd < 0 && rawStart > rawEnd) {
      c.reply.int(0);
      return;
    }
    let isBit = false;
    if (argv.length === 5) {
      if (isOption(argv[4]!, "bit")) isBit = true;
      else if (!isOption(argv[4]!, "byte")) fail(SYNTAX);
    }
    [start, end] = normalizeRange(clampToNumber(rawStart), clampToNumber(rawEnd), isBit ? strlen * 8 : strlen);
    if (isBit && start <= end) {
      // Masks of the bits of the edge bytes that fall outside the range.
      firstMask = ~((1 << (8 - (start & 7))) - 1) & 0xff;
      lastMask = (1 << (7 - (end & 7))) - 1;
      start = Math.floor(start / 8);
      end = Math.floor(end / 8);
    }
  } else if (argv.length === 2) {
    start = 0;
    end = strlen - 1;
  } else {
    fail(SYNTAX);
  }
  if (start > end) {
    c.reply.int(0);
    return;
  }
  const src = bytesOf(c, argv[1]!, s);
  let count = popcount(src, start, end);
  if (firstMask) count -= POPCOUNT[src.byteAt(start) & firstMask]!;
  if (lastMask) count -= POPCOUNT[src.byteAt(end) & lastMask]!;
  c.reply.int(count);
}

/** First bit equal to `bit` in bit positions [from, to], or -1. */
function findBit(src: Bytes, bit: number, from: number, to: number): number {
  const skip = bit ? 0 : 0xff;
  let pos = from;
  // Bits of a partial first byte.
  while (pos <= to && pos % 8 !== 0) {
    if (((src.byteAt(Math.floor(pos / 8)) >> (7 - (pos % 8))) & 1) === bit) return pos;
    pos++;
  }
  // Whole bytes that cannot hold the bit.
  const lastFull = Math.floor((to + 1) / 8) - 1; // last byte entirely inside the range
  const byte = src.skipRun(Math.floor(pos / 8), lastFull, skip);
  // The first byte that can: bit by bit (also the partial last byte).
  for (pos = Math.max(pos, byte * 8); pos <= to; pos++) {
    if (((src.byteAt(Math.floor(pos / 8)) >> (7 - (pos % 8))) & 1) === bit) return pos;
  }
  return -1;
}

function bitpos(c: Client, argv: string[]): void {
  const bitArg = parseI64(argv[2]!);
  if (bitArg === null) fail(NOT_INTEGER);
  if (bitArg !== 0 && bitArg !== 1) fail("ERR The bit argument must be 1 or 0.");
  const bit = bitArg;
  const s = readString(c, argv[1]!);
  if (s === undefined) {
    // A missing key is an infinite run of zeros.
    c.reply.int(bit ? -1 : 0);
    return;
  }
  const strlen = s.length;
  let start: number;
  let end: number;
  let isBit = false;
  let endGiven = false;
  if (argv.length >= 4 && argv.length <= 6) {
    const rawStart = clampToNumber(i64Arg(argv[3]!));
    if (argv.length === 6) {
      if (isOption(argv[5]!, "bit")) isBit = true;
      else if (!isOption(argv[5]!, "byte")) fail(SYNTAX);
    }
    let rawEnd: number;
    if (argv.length >= 5) {
      rawEnd = clampToNumber(i64Arg(argv[4]!));
      endGiven = true;
    } else {
      rawEnd = isBit ? strlen * 8 + 7 : strlen - 1;
    }
    [start, end] = normalizeRange(rawStart, rawEnd, isBit ? strlen * 8 : strlen);
  } else if (argv.length === 3) {
    start = 0;
    end = strlen - 1;
  } else {
    fail(SYNTAX);
  }
  if (start > end) {
    c.reply.int(-1);
    return;
  }
  const from = isBit ? start : start * 8;
  const to = isBit ? end : end * 8 + 7;
  const pos = findBit(bytesOf(c, argv[1]!, s), bit, from, to);
  if (pos !== -1) c.reply.int(pos);
  else if (bit === 1 || endGiven) c.reply.int(-1);
  // Looking for a 0 without an explicit end: the string counts as padded with zeros.
  else c.reply.int(to + 1);
}

// ---- BITOP ----

const enum BitOp {
  And,
  Or,
  Xor,
  Not,
}

function bitop(c: Client, argv: string[]): void {
  const name = argv[1]!.toLowerCase();
  const op = name === "and" ? BitOp.And : name === "or" ? BitOp.Or : name === "xor" ? BitOp.Xor : name === "not" ? BitOp.Not : -1;
  if (op === -1) fail(SYNTAX);
  if (op === BitOp.Not && argv.length !== 4) fail("ERR BITOP NOT must be called with a single source key.");
  const sources: string[] = [];
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const s = readString(c, argv[j]!) ?? "";
    sources.push(s);
    if (s.length > maxlen) maxlen = s.length;
  }
  const dest = argv[2]!;
  if (maxlen === 0) {
    if (deleteKey(c, dest)) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", dest);
    c.reply.int(0);
    return;
  }
  // Missing bytes count as zeros: res starts zeroed, shorter sources are zero-extended.
  const res = Buffer.alloc(maxlen);
  bytesOf(c, argv[3]!, sources[0]!).copyTo(res, 0, sources[0]!.length);
  if (op === BitOp.Not) {
    for (let i = 0; i < maxlen; i++) res[i] = ~res[i]! & 0xff;
  } else {
    const src = Buffer.allocUnsafe(maxlen);
    for (let j = 1; j < sources.length; j++) {
      const len = sources[j]!.length;
      bytesOf(c, argv[j + 3]!, sources[j]!).copyTo(src, 0, len);
      if (op === BitOp.And) {
        for (let i = 0; i < len; i++) res[i]! &= src[i]!;
        res.fill(0, len);
      } else if (op === BitOp.Or) {
        for (let i = 0; i < len; i++) res[i]! |= src[i]!;
      } else {
        for (let i = 0; i < len; i++) res[i]! ^= src[i]!;
      }
    }
  }
  setKey(c, dest, res.latin1Slice(0, maxlen));
  // createObject(OBJ_STRING, res): a raw string whatever its content.
  keepRaw(c.db, dest);
  notifyKeyspaceEvent(c, NotifyClass.String, "set", dest);
  c.reply.int(maxlen);
}

// ---- BITFIELD ----

const enum Overflow {
  Wrap,
  Sat,
  Fail,
}

const enum FieldOp {
  Get,
  Set,
  Incrby,
}

interface BitfieldOp {
  offset: number;
  /** SET value / INCRBY increment, as parsed (int64). */
  value: number | bigint;
  opcode: FieldOp;
  overflow: Overflow;
  bits: number;
  signed: boolean;
}

/** "i<bits>" (1..64) or "u<bits>" (1..63). */
function bitfieldType(text: string): { signed: boolean; bits: number } {
  const sign = text.charCodeAt(0);
  if (sign !== 105 /* i */ && sign !== 117 /* u */) fail(BITFIELD_TYPE_ERR);
  const signed = sign === 105;
  // Redis reads the width with strlen(): it stops at a NUL byte.
  const nul = text.indexOf("\0", 1);
  const bits = parseI64(nul === -1 ? text.slice(1) : text.slice(1, nul));
  if (bits === null || typeof bits === "bigint" || bits < 1 || (signed && bits > 64) || (!signed && bits > 63)) fail(BITFIELD_TYPE_ERR);
  return { signed, bits };
}

// The field value of the last readField(), as two uint32 halves (no allocation per op).
let fieldHi = 0;
let fieldLo = 0;

/** Reads `bits` bits at `offset` (zero past the end) into fieldHi/fieldLo. */
function readField(ed: StringEditor, offset: number, bits: number): void {
  let hi = 0;
  let lo = 0;
  let byte = Math.floor(offset / 8);
  let shift = 7 - (offset % 8);
  let cur = ed.get(byte);
  for (let j = 0; j < bits; j++) {
    const b = (cur >> shift) & 1;
    hi = ((hi << 1) | (lo >>> 31)) >>> 0;
    lo = ((lo << 1) | b) >>> 0;
    if (--shift < 0) {
      shift = 7;
      cur = ed.get(++byte);
    }
  }
  fieldHi = hi;
  fieldLo = lo;
}

/** Writes the low `bits` bits of (hi, lo) at `offset`. */
function writeField(ed: StringEditor, offset: number, bits: number, hi: number, lo: number): void {
  let byte = Math.floor(offset / 8);
  let shift = 7 - (offset % 8);
  let cur = ed.get(byte);
  for (let j = bits - 1; j >= 0; j--) {
    const b = j >= 32 ? (hi >>> (j - 32)) & 1 : (lo >>> j) & 1;
    cur = (cur & ~(1 << shift)) | (b << shift);
    if (--shift < 0 || j === 0) {
      ed.set(byte, cur);
      shift = 7;
      cur = ed.get(++byte);
    }
  }
}

const TWO_32 = 4294967296;
const MAX_FAST_INCR = 2 ** 52;

function readUnsigned(ed: StringEditor, offset: number, bits: number): number | bigint {
  readField(ed, offset, bits);
  if (bits <= 52) return fieldHi * TWO_32 + fieldLo;
  return (BigInt(fieldHi) << 32n) | BigInt(fieldLo);
}

function readSigned(ed: StringEditor, offset: number, bits: number): number | bigint {
  const u = readUnsigned(ed, offset, bits);
  if (typeof u === "number") return u >= 2 ** (bits - 1) ? u - 2 ** bits : u;
  return BigInt.asIntN(bits, u);
}

function writeValue(ed: StringEditor, offset: number, bits: number, value: number | bigint): void {
  if (typeof value === "number") {
    // Two's complement of the low `bits` bits (value fits in 53 bits here).
    const u = value < 0 ? value + 2 ** bits : value;
    writeField(ed, offset, bits, Math.floor(u / TWO_32) >>> 0, u >>> 0);
  } else {
    const u = BigInt.asUintN(64, value);
    writeField(ed, offset, bits, Number(u >> 32n) >>> 0, Number(u & 0xffffffffn));
  }
}

/** Outcome of an overflow check: 0 fits, 1 overflow, -1 underflow; `limit` is the value to store. */
let overflowLimit: number | bigint = 0;

/**
 * checkUnsignedBitfieldOverflow / checkSignedBitfieldOverflow with C's int64/uint64 semantics,
 * in BigInt (the general case: 64-bit fields, huge SET values and increments).
 */
function checkOverflowBig(value: bigint, incr: bigint, bits: number, signed: boolean, owtype: Overflow): number {
  const I = (x: bigint) => BigInt.asIntN(64, x);
  if (!signed) {
    const max = (1n << BigInt(bits)) - 1n;
    const maxincr = I(max - value);
    const minincr = I(-value);
    let r = 0;
    if (value > max || (incr > 0n && incr > maxincr)) r = 1;
    else if (incr < 0n && incr < minincr) r = -1;
    if (r !== 0) overflowLimit = owtype === Overflow.Sat ? (r === 1 ? max : 0n) : BigInt.asUintN(bits, value + incr);
    return r;
  }
  const max = bits === 64 ? (1n << 63n) - 1n : (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  const maxincr = I(max - value);
  const minincr = I(min - value);
  let r = 0;
  if (value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) r = 1;
  else if (value < min || (bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) r = -1;
  if (r !== 0) overflowLimit = owtype === Overflow.Sat ? (r === 1 ? max : min) : BigInt.asIntN(bits, value + incr);
  return r;
}

/**
 * The same for fields of at most 32 bits and values/increments below 2^52, in plain numbers:
 * `sum` = value + increment (exact), against the field's range.
 */
function checkOverflowSmall(sum: number, bits: number, signed: boolean, owtype: Overflow): number {
  const size = 2 ** bits;
  const min = signed ? -(size / 2) : 0;
  const max = signed ? size / 2 - 1 : size - 1;
  const r = sum > max ? 1 : sum < min ? -1 : 0;
  if (r !== 0) {
    if (owtype === Overflow.Sat) overflowLimit = r === 1 ? max : min;
    else {
      let w = sum % size;
      if (w < 0) w += size;
      if (signed && w > max) w -= size;
      overflowLimit = w;
    }
  }
  return r;
}

/** SET/INCRBY of one field; replies. Returns 1 if the value changed, 0 if not, -1 if it FAILed. */
function bitfieldWrite(c: Client, ed: StringEditor, op: BitfieldOp): number {
  const { bits, signed, offset } = op;
  const old = signed ? readSigned(ed, offset, bits) : readUnsigned(ed, offset, bits);
  let overflow: number;
  let newval: number | bigint;
  let retval: number | bigint;
  const incr = op.value;
  if (bits <= 32 && typeof incr === "number" && incr <= MAX_FAST_INCR && incr >= -MAX_FAST_INCR && typeof old === "number") {
    if (op.opcode === FieldOp.Incrby) {
      const sum = old + incr;
      overflow = checkOverflowSmall(sum, bits, signed, op.overflow);
      newval = overflow ? overflowLimit : sum;
      retval = newval;
    } else {
      if (!signed && incr < 0) {
        // Cast to uint64 a negative value is huge: always an overflow (SAT stores the maximum).
        overflow = 1;
        const size = 2 ** bits;
        overflowLimit = op.overflow === Overflow.Sat ? size - 1 : ((incr % size) + size) % size;
      } else {
        overflow = checkOverflowSmall(incr, bits, signed, op.overflow);
      }
      newval = overflow ? overflowLimit : incr;
      retval = old;
    }
  } else {
    const oldBig = BigInt(old);
    const incrBig = BigInt(incr);
    if (op.opcode === FieldOp.Incrby) {
      overflow = checkOverflowBig(oldBig, incrBig, bits, signed, op.overflow);
      newval = overflow ? overflowLimit : signed ? BigInt.asIntN(64, oldBig + incrBig) : BigInt.asUintN(64, oldBig + incrBig);
      retval = newval;
    } else {
      const value = signed ? incrBig : BigInt.asUintN(64, incrBig);
      overflow = checkOverflowBig(value, 0n, bits, signed, op.overflow);
      newval = overflow ? overflowLimit : value;
      retval = old;
    }
  }
  if (overflow && op.overflow === Overflow.Fail) {
    c.reply.nullBulk();
    return -1;
  }
  c.reply.int(retval);
  writeValue(ed, offset, bits, newval);
  const same = typeof old === typeof newval ? old === newval : BigInt(old) === BigInt(newval);
  return same ? 0 : 1;
}

function bitfieldGeneric(c: Client, argv: string[], readOnlyCommand: boolean): void {
  const ops: BitfieldOp[] = [];
  let overflow = Overflow.Wrap;
  let readonly = true;
  let highestWriteOffset = 0;
  for (let j = 2; j < argv.length; j++) {
    const remargs = argv.length - j - 1;
    const sub = argv[j]!;
    let opcode: FieldOp;
    if (isOption(sub, "get") && remargs >= 2) opcode = FieldOp.Get;
    else if (isOption(sub, "set") && remargs >= 3) opcode = FieldOp.Set;
    else if (isOption(sub, "incrby") && remargs >= 3) opcode = FieldOp.Incrby;
    else if (isOption(sub, "overflow") && remargs >= 1) {
      const type = argv[++j]!;
      if (isOption(type, "wrap")) overflow = Overflow.Wrap;
      else if (isOption(type, "sat")) overflow = Overflow.Sat;
      else if (isOption(type, "fail")) overflow = Overflow.Fail;
      else fail("ERR Invalid OVERFLOW type specified");
      continue;
    } else fail(SYNTAX);
    const { signed, bits } = bitfieldType(argv[j + 1]!);
    const offset = bitOffsetArg(c, argv[j + 2]!, bits);
    let value: number | bigint = 0;
    if (opcode !== FieldOp.Get) {
      readonly = false;
      if (highestWriteOffset < offset + bits - 1) highestWriteOffset = offset + bits - 1;
      value = i64Arg(argv[j + 3]!);
    }
    ops.push({ offset, value, opcode, overflow, bits, signed });
    j += opcode === FieldOp.Get ? 2 : 3;
  }

  const key = argv[1]!;
  const ed = editor;
  let grown = false;
  if (readonly) {
    const s = readString(c, key) ?? "";
    ed.reset((s.length >= CHUNKED_MIN_LENGTH && cachedTree(c.db, key, s)) || s);
  } else {
    if (readOnlyCommand) fail("ERR BITFIELD_RO only supports the GET subcommand");
    // Create or zero-pad the string up to the farthest bit written (lookupStringForBitCommand).
    const s = writeString(c, key);
    const need = Math.floor(highestWriteOffset / 8) + 1;
    grown = s === undefined || s.length < need;
    if (Math.max(s?.length ?? 0, need) >= CHUNKED_MIN_LENGTH) {
      const tree = treeFor(c.db, key, s ?? "");
      tree.grow(need);
      ed.reset(tree);
    } else if (s === undefined) ed.reset(zeros(need));
    else if (s.length < need) ed.reset(s + zeros(need - s.length));
    else ed.reset(s);
  }

  c.reply.array(ops.length);
  let changes = 0;
  for (const op of ops) {
    if (op.opcode === FieldOp.Get) {
      c.reply.int(op.signed ? readSigned(ed, op.offset, op.bits) : readUnsigned(ed, op.offset, op.bits));
    } else {
      // Redis counts a write as a change when it changed the field or the string was grown.
      const r = bitfieldWrite(c, ed, op);
      if (r === 1 || (r === 0 && grown)) changes++;
    }
  }
  if (!readonly && (changes || grown)) {
    const db = c.db;
    db.set(key, ed.apply());
    // Like Redis, a string created or padded by writes that all FAILed is stored without
    // counting as a change (so it is not propagated either).
    if (changes) {
      signalModified(c, key, db, changes);
      notifyKeyspaceEvent(c, NotifyClass.String, "setbit", key);
    }
  }
  if (!readonly) keepRaw(c.db, key);
  ed.reset("");
}

export const handlers: HandlerMap = {
  setbit,
  getbit,
  bitcount,
  bitpos,
  bitop,
  bitfield(c, argv) {
    bitfieldGeneric(c, argv, false);
  },
  bitfield_ro(c, argv) {
    bitfieldGeneric(c, argv, true);
  },
};
