// Incremental parser of client requests: RESP multibulk (`*N\r\n$len\r\narg\r\n...`) and
// inline commands, with Redis's limits and error texts. Feed it the socket's chunks; take
// complete commands with next(). The state survives between chunks, so a command spread over
// many reads is parsed once, and a large bulk argument is gathered as a list of chunks and
// joined once, never re-scanned or re-copied per read.
//
// Arguments come out as latin1 strings: one JS char per byte, so any binary value round-trips.
// `lastCommandBytes` tells how many bytes of the stream the last command took: the replication
// offset of a replica advances by exactly that much.

import { splitArgs } from "../config/split-args.ts";

export class ProtocolError extends Error {
  /** The error line Redis sends before closing the connection. */
  constructor(
    readonly reply: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Redis's PROTO_INLINE_MAX_SIZE: longest inline request or length line without a newline. */
const INLINE_MAX = 64 * 1024;
/** Bulk arguments at least this large are gathered as chunks instead of by concatenation. */
const BIG_ARG = 32 * 1024;

const CR = 13;
const LF = 10;

interface RequestParserOptions {
  /** proto-max-bulk-len; the master's stream is not limited (Redis skips the check for it). */
  maxBulkLength: number;
  /** true for the link to our master: inline commands are a desync, newlines are keep-alives. */
  fromMaster?: boolean;
  /** Called for each part of a command when authentication is still required (Redis's unauth limits). */
  authRequired?: () => boolean;
  /**
   * Called once a body of HUGE_ARG bytes or more was read: its buffers (and the argument, once
   * the command is done) are garbage the runtime may keep until a collection.
   */
  onHugeArgument?: () => void;
}

/** What counts as a huge argument (onHugeArgument). */
const HUGE_ARG = 32 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/** skipAofAnnotation's results besides the bytes skipped. */
export const AOF_LINE_PARTIAL = -1;
export const AOF_LINE_BAD = -2;

/** What `args` holds between commands (never pushed to: a multibulk header replaces it). */
const NO_ARGS: string[] = [];

export class RequestParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Arguments still expected by the multibulk in progress (0: none in progress). */
  private argsLeft = 0;
  private args: string[] = NO_ARGS;
  /** Arguments of the current multibulk read so far. */
  private argAt = 0;
  /** Length of the bulk argument whose body we are waiting for, or -1. */
  private bulkLen = -1;
  /** A large bulk body being gathered: the chunks and how many bytes they hold. */
  private bigParts: Buffer[] | null = null;
  private bigHave = 0;
  /** Bytes of the current command consumed so far (across chunks). */
  private cmdBytes = 0;
  /** Bytes the last command returned by next() occupied in the stream. */
  lastCommandBytes = 0;
  /** Bytes of empty inline lines (keep-alive newlines) skipped since the last command. */
  private skippedBytes = 0;

  constructor(private readonly options: RequestParserOptions) {}

  /** Bytes received but not yet returned as part of a complete command. */
  get pendingBytes(): number {
    return this.buf.length - this.pos + this.bigHave;
  }

  /**
   * Bytes of the arguments of a command not complete yet, already taken out of the buffer
   * (Redis's argv-mem: the argv of a multibulk request being read).
   */
  get partialArgsBytes(): number {
    return this.argsLeft > 0 ? this.cmdBytes : 0;
  }

  /**
   * The whole read buffer, the commands already returned from it included: what Redis's
   * CLIENT LIST shows as qbuf for the client whose command runs (its query buffer is trimmed
   * only after the batch).
   */
  get bufferedBytes(): number {
    return this.buf.length === 0 ? this.batchBytes : this.buf.length + this.bigHave;
  }

  /** The read buffer's size when the last command completed (it may have been released since). */
  private batchBytes = 0;

  feed(chunk: Buffer): void {
    if (this.bigParts) {
      this.bigParts.push(chunk);
      this.bigHave += chunk.length;
      // The body plus its CRLF: join once, then parse on from there.
      if (this.bigHave >= this.bulkLen + 2) {
        this.buf = Buffer.concat(this.bigParts, this.bigHave);
        this.pos = 0;
        this.bigParts = null;
        this.bigHave = 0;
      }
      return;
    }
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
    } else {
      // The unparsed tail is at most a partial line or a small partial body.
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    }
    this.pos = 0;
  }

  /**
   * For the AOF loader, at a command boundary (loadSingleAppendOnlyFile): an annotation line
   * (`#TS:<unix time>` of aof-timestamp-enabled, any line starting with `#`) is skipped, and
   * anything but a multibulk is a bad format (no inline commands in an AOF). Returns the bytes
   * skipped; 0 when a multibulk (or nothing yet, or the rest of one) comes next; AOF_LINE_PARTIAL
   * when the annotation's line is not complete yet; AOF_LINE_BAD for a bad format.
   */
  skipAofAnnotation(): number {
    if (this.argsLeft !== 0 || this.bigParts || this.pos >= this.buf.length) return 0;
    const first = this.buf[this.pos];
    if (first === 42 /* '*' */) return 0;
    if (first !== 35 /* '#' */) return AOF_LINE_BAD;
    const lf = this.buf.indexOf(LF, this.pos);
    if (lf < 0) return AOF_LINE_PARTIAL;
    const n = lf + 1 - this.pos;
    this.pos = lf + 1;
    return n;
  }

  /**
   * The next complete command, or null when more bytes are needed. An empty array is never
   * returned: empty multibulks and empty inline lines are skipped (their bytes are counted into
   * the next command's lastCommandBytes). Throws ProtocolError on malformed input.
   */
  next(): string[] | null {
    if (this.bigParts) return null;
    const buf = this.buf;
    const end = buf.length;
    while (true) {
      if (this.argsLeft === 0) {
        if (this.pos >= end) return null;
        if (buf[this.pos] === 42 /* '*' */) {
          // Fast path for "*<1-9 digits>\r\n" without a native call; the general one otherwise.
          let i = this.pos + 1;
          let n: number | null = 0;
          while (i < end) {
            const d = buf[i]! - 48;
            if (d < 0 || d > 9) break;
            n = n * 10 + d;
            i++;
          }
          const digits = i - this.pos - 1;
          let lineEnd: number;
          if (i + 1 < end && buf[i] === CR && buf[i + 1] === LF && digits > 0 && digits <= 9 && !(digits > 1 && buf[this.pos + 1] === 48)) {
            lineEnd = i;
          } else {
            lineEnd = this.findCR(buf, this.pos, end);
            if (lineEnd < 0) {
              if (end - this.pos > INLINE_MAX) throw new ProtocolError("Protocol error: too big mbulk count string", "too big mbulk count string");
              return null;
            }
            n = parseLength(buf, this.pos + 1, lineEnd);
          }
          if (n === null || n > 2147483647) throw new ProtocolError("Protocol error: invalid multibulk length", "invalid mbulk count");
          if (n > 10 && this.options.authRequired?.()) throw new ProtocolError("Protocol error: unauthenticated multibulk length", "unauth mbulk count");
          this.cmdBytes += lineEnd + 2 - this.pos;
          this.pos = lineEnd + 2;
          if (n <= 0) continue;
          this.argsLeft = n;
          // Sized up front (a few elements; a huge count grows as arguments actually arrive).
          this.args = n <= 16 ? new Array<string>(n) : [];
          this.argAt = 0;
        } else {
          const cmd = this.inline(buf, end);
          if (cmd === null) return null;
          if (cmd.length === 0) continue;
          return this.complete(cmd);
        }
      }
      // Inside a multibulk: length lines and bodies.
      while (this.argsLeft > 0) {
        if (this.bulkLen < 0) {
          if (this.pos >= end) return null;
          if (buf[this.pos] !== 36 /* '$' */) {
            if (this.findCR(buf, this.pos, end) < 0) {
              if (end - this.pos > INLINE_MAX) throw new ProtocolError("Protocol error: too big bulk count string", "too big bulk count string");
              return null;
            }
            const got = String.fromCharCode(buf[this.pos]!);
            throw new ProtocolError(`Protocol error: expected '$', got '${got}'`, "expected $ but got something else");
          }
          // Fast path for the common "$<digits>\r\n": scan and parse in one pass, no native call.
          let i = this.pos + 1;
          let n = 0;
          let digits = 0;
          while (i < end) {
            const d = buf[i]! - 48;
            if (d < 0 || d > 9) break;
            n = n * 10 + d;
            digits++;
            i++;
          }
          let lineEnd: number;
          if (i + 1 < end && buf[i] === CR && buf[i + 1] === LF && digits > 0 && digits <= 15 && !(digits > 1 && buf[this.pos + 1] === 48)) {
            lineEnd = i;
          } else {
            // Anything unusual (incomplete, negative, malformed): the general path.
            lineEnd = this.findCR(buf, this.pos, end);
            if (lineEnd < 0) {
              if (end - this.pos > INLINE_MAX) throw new ProtocolError("Protocol error: too big bulk count string", "too big bulk count string");
              return null;
            }
            const parsed = parseLength(buf, this.pos + 1, lineEnd);
            if (parsed === null || parsed < 0) throw new ProtocolError("Protocol error: invalid bulk length", "invalid bulk length");
            n = parsed;
          }
          if (!this.options.fromMaster && n > this.options.maxBulkLength) {
            throw new ProtocolError("Protocol error: invalid bulk length", "invalid bulk length");
          }
          if (n > 16384 && this.options.authRequired?.()) throw new ProtocolError("Protocol error: unauthenticated bulk length", "unauth bulk length");
          this.cmdBytes += lineEnd + 2 - this.pos;
          this.pos = lineEnd + 2;
          this.bulkLen = n;
        }
        const need = this.bulkLen + 2;
        if (end - this.pos < need) {
          if (this.bulkLen >= BIG_ARG) {
            // Gather the rest of this body as chunks; feed() joins them once complete.
            const part = buf.subarray(this.pos);
            this.bigParts = [part];
            this.bigHave = part.length;
            this.buf = EMPTY;
            this.pos = 0;
          }
          return null;
        }
        if (this.options.fromMaster && (buf[this.pos + this.bulkLen] !== CR || buf[this.pos + this.bulkLen + 1] !== LF)) {
          // Redis skips the two bytes after a body unchecked; from our master a missing CRLF
          // means the stream is desynced, and applying on would corrupt the copy.
          throw new ProtocolError("Protocol error: invalid bulk format", "master stream: bulk body not followed by CRLF");
        }
        // A command's name is most often the previous command's again: the same string is
        // reused (no new string, and its hash for the command table's lookup is already known).
        const at = this.argAt++;
        if (at === 0) this.args[0] = this.commandName(buf, this.pos, this.bulkLen);
        else if (at === 1) this.args[1] = this.firstArgument(buf, this.pos, this.bulkLen);
        else this.args[at] = buf.latin1Slice(this.pos, this.pos + this.bulkLen);
        if (this.bulkLen >= HUGE_ARG) this.options.onHugeArgument?.();
        this.pos += need;
        this.cmdBytes += need;
        this.bulkLen = -1;
        this.argsLeft--;
      }
      return this.complete(this.args);
    }
  }

  /** The bytes peekArguments' positions are in (valid until the next feed). */
  get readBuffer(): Buffer {
    return this.buf;
  }

  /**
   * Where the second and third arguments (a key and, for HGET, SISMEMBER, ZSCORE..., a member)
   * of each complete multibulk command buffered from here start and how long they are: up to
   * `max` commands, as quadruples (start, length, start, length; a missing third: length -1) in
   * `out`. Changes nothing: a hint for prefetching what a pipeline's commands will look up
   * (their lookups then wait on memory together, not one after another). Stops at anything
   * that is not a plain, complete multibulk of two arguments or more (the parser proper deals
   * with it).
   */
  peekArguments(out: Int32Array, max: number): number {
    if (this.argsLeft !== 0 || this.bigParts) return 0;
    const buf = this.buf;
    const end = buf.length;
    let p = this.pos;
    let n = 0;
    while (n < max && p < end && buf[p] === 42 /* '*' */) {
      let count = 0;
      let i = p + 1;
      for (let d = buf[i]! - 48; i < end && d >= 0 && d <= 9 && count < 1024; d = buf[++i]! - 48) count = count * 10 + d;
      if (i + 1 >= end || buf[i] !== CR || count < 2 || count >= 1024) return n;
      p = i + 2;
      const q = n << 2;
      out[q + 3] = -1;
      for (let a = 0; a < count; a++) {
        if (p >= end || buf[p] !== 36 /* '$' */) return n;
        let len = 0;
        let j = p + 1;
        for (let d = buf[j]! - 48; j < end && d >= 0 && d <= 9 && len < 0x10000000; d = buf[++j]! - 48) len = len * 10 + d;
        if (j + 1 >= end || buf[j] !== CR) return n;
        if (a === 1 || a === 2) {
          out[q + (a - 1) * 2] = j + 2;
          out[q + (a - 1) * 2 + 1] = len;
        }
        p = j + 4 + len;
        if (p > end) return n;
      }
      n++;
    }
    return n;
  }

  /** The previous command's name, reused by commandName when the same bytes come again. */
  private lastName = "";

  private commandName(buf: Buffer, start: number, len: number): string {
    const last = this.lastName;
    if (last.length === len) {
      let j = 0;
      while (j < len && buf[start + j] === last.charCodeAt(j)) j++;
      if (j === len) return last;
    }
    const name = buf.latin1Slice(start, start + len);
    // Only short names are kept (a long first argument is no command name worth keeping alive).
    if (len <= 32) this.lastName = name;
    return name;
  }

  /** The previous command's first argument (its key, most often), reused as lastName is. */
  private lastFirst = "";

  /**
   * A client that reads one key again and again (a hot hash, a counter) sends the same first
   * argument: the same string is handed out, with no new string made, and the keyspace then
   * knows it by reference (KeyspaceIndex.findString's last key). Compared from its last byte, where keys
   * that differ most often do (key:1, key:2), so another key costs a compare or two.
   */
  private firstArgument(buf: Buffer, start: number, len: number): string {
    const last = this.lastFirst;
    if (last.length === len && len > 0) {
      let j = len - 1;
      while (j >= 0 && buf[start + j] === last.charCodeAt(j)) j--;
      if (j < 0) return last;
    }
    const arg = buf.latin1Slice(start, start + len);
    if (len <= 64) this.lastFirst = arg;
    return arg;
  }

  private complete(argv: string[]): string[] {
    this.lastCommandBytes = this.cmdBytes + this.skippedBytes;
    this.batchBytes = this.buf.length;
    this.cmdBytes = 0;
    this.skippedBytes = 0;
    // Not a new array: the next multibulk header makes its own (one array per command, not two).
    this.args = NO_ARGS;
    // Release a fully consumed buffer early so a big one is not pinned until the next read.
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    }
    return argv;
  }

  private inline(buf: Buffer, end: number): string[] | null {
    const nl = buf.indexOf(LF, this.pos);
    if (nl < 0 || nl >= end) {
      if (end - this.pos > INLINE_MAX) throw new ProtocolError("Protocol error: too big inline request", "too big inline request");
      return null;
    }
    let lineEnd = nl;
    if (lineEnd > this.pos && buf[lineEnd - 1] === CR) lineEnd--;
    const length = lineEnd - this.pos;
    const consumed = nl + 1 - this.pos;
    if (length !== 0 && this.options.fromMaster) {
      throw new ProtocolError("Protocol error: master using the inline protocol", "Master using the inline protocol. Desync?");
    }
    const text = buf.latin1Slice(this.pos, lineEnd);
    this.pos = nl + 1;
    if (length === 0) {
      this.skippedBytes += consumed;
      return [];
    }
    const argv = splitArgs(text);
    if (argv === null) throw new ProtocolError("Protocol error: unbalanced quotes in request", "unbalanced quotes in inline request");
    if (argv.length === 0) {
      this.skippedBytes += consumed;
      return [];
    }
    this.cmdBytes += consumed;
    return argv;
  }

  private findCR(buf: Buffer, from: number, end: number): number {
    const i = buf.indexOf(CR, from);
    // The line is complete only when its LF has arrived too.
    if (i < 0 || i + 1 >= end) return -1;
    return i;
  }
}

/** Parses a decimal length as Redis's string2ll does (no '+', no leading zeros, no spaces). */
function parseLength(buf: Buffer, start: number, end: number): number | null {
  if (start >= end || end - start > 20) return null;
  let i = start;
  let negative = false;
  if (buf[i] === 45 /* '-' */) {
    negative = true;
    i++;
    if (i >= end) return null;
  }
  if (buf[i] === 48 /* '0' */ && end - i > 1) return null;
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  if (n > Number.MAX_SAFE_INTEGER) return null;
  return negative ? -n : n;
}
