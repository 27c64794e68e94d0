// Builds RESP2 / RESP3 replies into one growable buffer per client. Handlers append replies;
// the connection takes the bytes once per batch of commands and writes them in one syscall.
// Strings are latin1 (one char per byte), written with latin1Write: no intermediate copies.

import { writeDecimal } from "../common/decimal.ts";
import { formatDouble } from "./format-double.ts";

const INITIAL_CAPACITY = 16 * 1024;
/** A buffer grown past this by one big reply is dropped after the flush. */
const KEEP_CAPACITY = 1024 * 1024;

type Protocol = 2 | 3;

/** Up to this length a string is copied into the reply by a JS loop rather than latin1Write. */
const SHORT_STRING = 24;

const NO_BUFFER = Buffer.alloc(0);

/**
 * Reply buffers shared by a server's clients: a client takes one when it starts writing a batch
 * of replies and gives it back once they are sent, so that idle connections hold none (Redis
 * shrinks an idle client's reply buffer in its cron to the same end).
 */
export class ReplyBufferPool {
  private readonly free: Buffer[] = [];

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(INITIAL_CAPACITY);
  }

  give(buf: Buffer): void {
    // Only the standard size is kept; a few are enough (one per client writing at once).
    if (buf.length === INITIAL_CAPACITY && this.free.length < 64) this.free.push(buf);
  }
}

export class ReplyWriter {
  /** Empty until the first reply of a batch; back to the pool (if any) once sent. */
  private buf: Buffer = NO_BUFFER;
  length = 0;
  /** RESP version of the client: 2 by default, 3 after HELLO 3. */
  resp: Protocol = 2;

  constructor(private readonly pool: ReplyBufferPool | null = null) {}

  /** Bytes the buffer holds room for (CLIENT LIST's rbs). */
  get capacity(): number {
    return this.buf.length;
  }
  /** Replies counted, for the "commands processed" bookkeeping of MULTI and scripts. */

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    if (this.buf.length === 0 && need <= INITIAL_CAPACITY) {
      this.buf = this.pool !== null ? this.pool.take() : Buffer.allocUnsafe(INITIAL_CAPACITY);
      return;
    }
    let cap = Math.max(this.buf.length * 2, INITIAL_CAPACITY);
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** Appends protocol text that is known to be ASCII (headers, numbers, simple strings). */
  private ascii(text: string): void {
    this.ensure(text.length);
    this.length += this.buf.latin1Write(text, this.length);
  }

  /** The bytes written so far, as a view (valid until the next append or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /**
   * The bytes written so far, handed over for good when the buffer grew past the standard size
   * (the caller queues them without copying; this writer starts a new buffer), else null: a
   * standard buffer goes back to the pool, so its bytes must be copied (view()).
   */
  takeLarge(): Uint8Array | null {
    if (this.buf.length <= INITIAL_CAPACITY) return null;
    const out = this.buf.subarray(0, this.length);
    this.buf = NO_BUFFER;
    this.length = 0;
    return out;
  }

  /** Forgets the bytes written so far (after they were sent or copied). */
  reset(): void {
    this.length = 0;
    if (this.pool !== null) {
      if (this.buf.length !== 0) this.pool.give(this.buf);
      this.buf = NO_BUFFER;
    } else if (this.buf.length > KEEP_CAPACITY) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  }

  /** Drops everything written after `mark` (to replace a partial reply, e.g. on an error). */
  /** Moves the bytes from `start` to the end down to `to` (< start), dropping those between. */
  moveTail(start: number, to: number): void {
    this.buf.copyWithin(to, start, this.length);
    this.length = to + (this.length - start);
  }

  truncate(mark: number): void {
    this.length = mark;
  }

  simple(text: string): void {
    this.ascii(`+${text}\r\n`);
  }

  ok(): void {
    this.ascii("+OK\r\n");
  }

  /** An error line; `text` includes its code, e.g. "ERR syntax error" or "WRONGTYPE ...". */
  error(text: string): void {
    // Like Redis, newlines inside an error would break the protocol: replace them.
    const clean = text.includes("\r") || text.includes("\n") ? text.replace(/[\r\n]/g, " ") : text;
    this.ascii(`-${clean}\r\n`);
  }

  int(n: number | bigint): void {
    if (typeof n === "number" && n >= 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n)) this.header(58 /* ':' */, n);
    else this.ascii(`:${n}\r\n`);
  }

  /** `<type byte><n>\r\n` for a small non-negative integer, without building a string. */
  private header(type: number, n: number): void {
    this.ensure(24);
    const buf = this.buf;
    let p = this.length;
    buf[p++] = type;
    p = writeDecimal(buf, p, n);
    buf[p++] = 13;
    buf[p++] = 10;
    this.length = p;
  }

  /** Room for a bulk string of `len` bytes, and its "$<len>\r\n" header: where its bytes go. */
  private bulkHeader(len: number): number {
    this.ensure(len + 24);
    const buf = this.buf;
    let p = this.length;
    buf[p++] = 36; // '$'
    p = writeDecimal(buf, p, len);
    buf[p++] = 13;
    buf[p++] = 10;
    return p;
  }

  /** Ends a bulk string whose bytes end at `p`. */
  private bulkEnd(p: number): void {
    this.buf[p++] = 13;
    this.buf[p++] = 10;
    this.length = p;
  }

  /** A bulk string from a latin1 string (bytes = chars). */
  bulk(value: string): void {
    const len = value.length;
    let p = this.bulkHeader(len);
    const buf = this.buf;
    // Short values: a JS loop beats the native call; long ones: one latin1Write (a memcpy).
    if (len <= SHORT_STRING) {
      for (let i = 0; i < len; i++) buf[p + i] = value.charCodeAt(i);
      p += len;
    } else {
      p += buf.latin1Write(value, p);
    }
    this.bulkEnd(p);
  }

  /** A bulk string of the `len` characters of latin1 string `s` from `start` (no slice made). */
  bulkChars(s: string, start: number, len: number): void {
    let p = this.bulkHeader(len);
    const buf = this.buf;
    if (len <= SHORT_STRING) {
      for (let i = 0; i < len; i++) buf[p + i] = s.charCodeAt(start + i);
      p += len;
    } else p += buf.latin1Write(start === 0 && len === s.length ? s : s.slice(start, start + len), p);
    this.bulkEnd(p);
  }

  /** A bulk string of `len` bytes of `src` from `start` (a value read in place, no string made). */
  bulkRange(src: Uint8Array, start: number, len: number): void {
    const p = this.bulkHeader(len);
    const buf = this.buf;
    if (len <= SHORT_STRING) {
      for (let i = 0; i < len; i++) buf[p + i] = src[start + i]!;
    } else buf.set(src.subarray(start, start + len), p);
    this.bulkEnd(p + len);
  }

  bulkBytes(value: Uint8Array): void {
    this.bulkRange(value, 0, value.length);
  }

  /** A bulk string holding a number (e.g. a score or an INCRBYFLOAT result as a string). */
  bulkNumber(n: number): void {
    this.bulk(String(n));
  }

  bulkOrNull(value: string | undefined | null): void {
    if (value === undefined || value === null) this.nullBulk();
    else this.bulk(value);
  }

  /** The "no value" reply: `$-1` in RESP2, `_` in RESP3. */
  nullBulk(): void {
    this.ascii(this.resp === 3 ? "_\r\n" : "$-1\r\n");
  }

  /** The "no array" reply: `*-1` in RESP2, `_` in RESP3. */
  nullArray(): void {
    this.ascii(this.resp === 3 ? "_\r\n" : "*-1\r\n");
  }

  array(count: number): void {
    if (count >= 0) this.header(42 /* '*' */, count);
    else this.ascii(`*${count}\r\n`);
  }

  /** A map of `count` pairs: `%count` in RESP3, a flat array of 2*count in RESP2. */
  map(count: number): void {
    if (this.resp === 3) this.header(37 /* '%' */, count);
    else this.header(42 /* '*' */, count * 2);
  }

  /** A set: `~count` in RESP3, an array in RESP2. */
  set(count: number): void {
    this.header(this.resp === 3 ? 126 /* '~' */ : 42 /* '*' */, count);
  }

  /** A push message (pub/sub): `>count` in RESP3, an array in RESP2. */
  push(count: number): void {
    this.ascii(this.resp === 3 ? `>${count}\r\n` : `*${count}\r\n`);
  }

  /** A double as Redis 7.0 sends it: `%.17g` in a bulk string (RESP2) or `,` (RESP3). */
  double(d: number): void {
    const text = formatDouble(d);
    if (this.resp === 3) this.ascii(`,${text}\r\n`);
    else this.bulk(text);
  }

  bool(b: boolean): void {
    if (this.resp === 3) this.ascii(b ? "#t\r\n" : "#f\r\n");
    else this.ascii(b ? ":1\r\n" : ":0\r\n");
  }

  /** A big number: `(digits` in RESP3, a bulk string in RESP2 (addReplyBigNum). */
  bigNumber(digits: string): void {
    if (this.resp === 3) this.ascii(`(${digits}\r\n`);
    else this.bulk(digits);
  }

  /** RESP3's null `_`; RESP2's null bulk (addReplyNull). */
  null(): void {
    this.nullBulk();
  }

  /** An attribute map of `count` pairs before a reply: RESP3 only (callers skip it in RESP2). */
  attribute(count: number): void {
    this.ascii(`|${count}\r\n`);
  }

  /** Verbatim text (INFO, CLIENT LIST...): `=len\r\ntxt:...` in RESP3, a bulk string in RESP2. */
  verbatim(text: string, format = "txt"): void {
    if (this.resp === 3) {
      this.ensure(text.length + 32);
      this.length += this.buf.latin1Write(`=${text.length + 4}\r\n${format}:`, this.length);
      this.length += this.buf.latin1Write(text, this.length);
      this.buf[this.length++] = 13;
      this.buf[this.length++] = 10;
    } else this.bulk(text);
  }

  /**
   * Starts an array whose length is known only once its elements are written (Redis's
   * addReplyDeferredLen): returns a mark for endDeferredArray.
   */
  beginDeferredArray(): number {
    return this.length;
  }

  /** Writes the `*count` header in front of what was written since `mark` (one move of those bytes). */
  endDeferredArray(mark: number, count: number): void {
    const header = `*${count}\r\n`;
    this.ensure(header.length);
    this.buf.copyWithin(mark + header.length, mark, this.length);
    this.buf.latin1Write(header, mark);
    this.length += header.length;
  }

  /** An array of bulk strings. */
  bulkArray(values: readonly string[]): void {
    this.array(values.length);
    for (let i = 0; i < values.length; i++) this.bulk(values[i]!);
  }

  /** Raw protocol bytes, passed through as they are (e.g. a queued reply). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
}

/**
 * Where a reply goes when nobody reads it: the master's commands are applied silently, as Redis
 * does for its master client. Same interface, all writes dropped.
 */
export class DiscardingReplyWriter extends ReplyWriter {
  override simple(): void {}
  override ok(): void {}
  override error(): void {}
  override int(): void {}
  override bulk(): void {}
  override bulkBytes(): void {}
  override bulkNumber(): void {}
  override bulkOrNull(): void {}
  override nullBulk(): void {}
  override nullArray(): void {}
  override array(): void {}
  override map(): void {}
  override set(): void {}
  override push(): void {}
  override double(): void {}
  override bool(): void {}
  override bigNumber(): void {}
  override null(): void {}
  override attribute(): void {}
  override verbatim(): void {}
  override bulkArray(): void {}
  override beginDeferredArray(): number {
    return 0;
  }
  override endDeferredArray(): void {}
  override raw(): void {}
}
