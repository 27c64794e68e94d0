// Incremental parser of RESP2/RESP3 replies, for the side of a connection that sends commands:
// the replica's handshake with its master, the test client and the benchmarks. Values come out
// as plain JS data: simple strings and bulk strings as latin1 strings, errors as RespError,
// integers as numbers (bigint past 2^53), arrays/sets/pushes as arrays, maps as Map.

export class RespError {
  constructor(readonly message: string) {}
  toString(): string {
    return this.message;
  }
}

export type RespValue = string | number | bigint | null | boolean | RespError | RespValue[] | Map<RespValue, RespValue>;

/** Thrown by parseOne when the buffer holds only part of a reply. */
const INCOMPLETE = Symbol("incomplete");

class ReplyParseError extends Error {}

export class ReplyParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Chunks waiting to be joined while a known-size reply is incomplete. */
  private waiting: Buffer[] = [];
  private waitingBytes = 0;
  /** Bytes (from pos) the incomplete reply needs at least, when known. */
  private needed = 0;

  feed(chunk: Buffer): void {
    if (this.needed > 0) {
      // A big bulk reply in progress: gather chunks, join once it is complete.
      this.waiting.push(chunk);
      this.waitingBytes += chunk.length;
      if (this.buf.length - this.pos + this.waitingBytes < this.needed) return;
      chunk = Buffer.concat(this.waiting, this.waitingBytes);
      this.waiting = [];
      this.waitingBytes = 0;
      this.needed = 0;
    }
    if (this.pos >= this.buf.length) this.buf = chunk;
    else this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    this.pos = 0;
  }

  /** Bytes received and not yet consumed by a complete reply. */
  remaining(): Buffer {
    return this.buf.subarray(this.pos);
  }

  /** Takes the unconsumed bytes away from the parser (e.g. when a raw payload follows). */
  takeRemaining(): Buffer {
    const rest = this.buf.subarray(this.pos);
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    return rest;
  }

  /** The next complete reply, or undefined when more bytes are needed. */
  next(): RespValue | undefined {
    const start = this.pos;
    try {
      return this.parseOne();
    } catch (e) {
      if (e === INCOMPLETE) {
        if (this.needed > 0) this.needed -= start;
        this.pos = start;
        return undefined;
      }
      throw e;
    }
  }

  /** The next line (up to CRLF or LF), for line-oriented handshake replies; undefined if incomplete. */
  nextLine(): string | undefined {
    const nl = this.buf.indexOf(10, this.pos);
    if (nl < 0) return undefined;
    const end = nl > this.pos && this.buf[nl - 1] === 13 ? nl - 1 : nl;
    const line = this.buf.latin1Slice(this.pos, end);
    this.pos = nl + 1;
    return line;
  }

  private line(): string {
    const nl = this.buf.indexOf(10, this.pos);
    if (nl < 0) throw INCOMPLETE;
    const end = nl > this.pos && this.buf[nl - 1] === 13 ? nl - 1 : nl;
    const text = this.buf.latin1Slice(this.pos, end);
    this.pos = nl + 1;
    return text;
  }

  private count(text: string): number {
    const n = Number(text);
    if (!Number.isInteger(n) || n < -1) throw new ReplyParseError(`bad length '${text}'`);
    return n;
  }

  private parseOne(): RespValue {
    if (this.pos >= this.buf.length) throw INCOMPLETE;
    const type = this.buf[this.pos++]!;
    switch (type) {
      case 43: // '+'
        return this.line();
      case 45: // '-'
        return new RespError(this.line());
      case 58: {
        // ':'
        const t = this.line();
        const n = Number(t);
        return Number.isSafeInteger(n) ? n : BigInt(t);
      }
      case 36: // '$'
      case 61: {
        // '=' verbatim
        const n = this.count(this.line());
        if (n === -1) return null;
        if (this.buf.length - this.pos < n + 2) {
          // Remember how much is needed (absolute; made relative to the reply start on throw).
          if (n > 65536) this.needed = this.pos + n + 2;
          throw INCOMPLETE;
        }
        const s = this.buf.latin1Slice(this.pos, this.pos + n);
        this.pos += n + 2;
        return type === 61 ? s.slice(4) : s;
      }
      case 42: // '*'
      case 126: // '~'
      case 62: {
        // '>'
        const n = this.count(this.line());
        if (n === -1) return null;
        const out: RespValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.parseOne());
        return out;
      }
      case 37: {
        // '%'
        const n = this.count(this.line());
        const m = new Map<RespValue, RespValue>();
        for (let i = 0; i < n; i++) {
          const k = this.parseOne();
          m.set(k, this.parseOne());
        }
        return m;
      }
      case 95: // '_'
        this.line();
        return null;
      case 35: // '#'
        return this.line() === "t";
      case 44: {
        // ','
        const t = this.line();
        return t === "inf" ? Infinity : t === "-inf" ? -Infinity : Number(t);
      }
      case 40: // '(' big number
        return BigInt(this.line());
      case 124: {
        // '|' attribute: parse and ignore, then the real reply
        const n = this.count(this.line());
        for (let i = 0; i < n * 2; i++) this.parseOne();
        return this.parseOne();
      }
      default:
        throw new ReplyParseError(`unexpected reply type byte ${type} ('${String.fromCharCode(type)}')`);
    }
  }
}

/**
 * Encodes a command as a RESP multibulk (arguments are latin1 strings or bytes). Every command a
 * master propagates (to replicas, the backlog, the AOF) goes through here: arguments that are
 * all strings (the usual case) are written straight into one buffer of the exact size, with no
 * Buffer per argument and no slice (2.5x faster measured on SET key value).
 */
export function encodeCommand(args: ReadonlyArray<string | number | Uint8Array>): Buffer {
  const n = args.length;
  let exact = decimalDigits(n) + 3;
  for (let i = 0; i < n; i++) {
    const a = args[i]!;
    if (typeof a !== "string") return encodeMixed(args);
    // latin1: one byte per character.
    exact += decimalDigits(a.length) + 5 + a.length;
  }
  const out = Buffer.allocUnsafe(exact);
  let o = out.latin1Write(`*${n}\r\n`, 0);
  for (let i = 0; i < n; i++) {
    const a = args[i] as string;
    o += out.latin1Write(`$${a.length}\r\n`, o);
    o += out.latin1Write(a, o);
    out[o++] = 13;
    out[o++] = 10;
  }
  return out;
}

function decimalDigits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : String(n).length;
}

function encodeMixed(args: ReadonlyArray<string | number | Uint8Array>): Buffer {
  let size = 16;
  const parts: Buffer[] = [];
  for (const a of args) {
    const b = typeof a === "string" ? Buffer.from(a, "latin1") : typeof a === "number" ? Buffer.from(String(a)) : Buffer.from(a);
    parts.push(b);
    size += b.length + 16;
  }
  const out = Buffer.allocUnsafe(size);
  let o = out.latin1Write(`*${args.length}\r\n`, 0);
  for (const b of parts) {
    o += out.latin1Write(`$${b.length}\r\n`, o);
    b.copy(out, o);
    o += b.length;
    out[o++] = 13;
    out[o++] = 10;
  }
  return out.subarray(0, o);
}
