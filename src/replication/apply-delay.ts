// A delayed replica (replica-apply-delay <seconds>): the master's stream is written to a spool
// as it arrives (delay-spool.ts) and applied once it is older than the delay, through a client
// of its own that keeps the stream's state (selected database, a MULTI in progress, a command
// read halfway) across drops of the link. MySQL's SOURCE_DELAY, Postgres's
// recovery_min_apply_delay: a FLUSHALL or a bad deploy can be stopped (REPLICADELAY DROP) before
// it reaches this copy.
//
// Offsets: bytes received (slave_read_repl_offset, what we ACK and what a PSYNC continues after)
// run ahead of bytes applied (slave_repl_offset, master_repl_offset, what our RDBs record and
// what our own replicas receive: they see the delayed stream). See docs/delayed-replica.md.

import { Client, ClientKind } from "../core/client.ts";
import type { Server } from "../core/server.ts";
import { RequestParser } from "../protocol/request-parser.ts";
import { DelaySpool, type SpoolCursor } from "./delay-spool.ts";

/** One pending command, as REPLICADELAY LIST shows it. */
export interface PendingCommand {
  /** Stream offsets of its first byte and of the byte after its last (the master's offset after it). */
  start: number;
  end: number;
  arrival: number;
  db: number;
  argv: string[];
}

export class ApplyDelay {
  /** Applies the released stream (the master's privileges, replies discarded). */
  readonly applier: Client;
  /** The next byte not yet released to the applier. */
  private readonly cursor: SpoolCursor;
  private readonly receivedCounter = new CommandCounter();
  private readonly releasedCounter = new CommandCounter();
  /** Commands received and released so far (INFO's pending commands is the difference). */
  private received = 0;
  private released = 0;
  /** Bytes before this stream offset are released whatever their age (REPLICADELAY APPLY). */
  releaseUpTo = 0;
  /** Bytes received before this unix ms are released whatever the delay (REPLICADELAY APPLY BEFORE). */
  releaseArrivedBefore = 0;

  constructor(
    server: Server,
    readonly spool: DelaySpool,
    /** Where applying continues from (a command boundary). */
    from: number,
    db: number,
  ) {
    this.applier = new Client(server, null, ClientKind.Master);
    this.applier.db = server.dbs[db] ?? server.dbs[0]!;
    this.cursor = spool.cursor(from);
    this.releaseUpTo = from;
    // A spool from an earlier run: count what it holds after `from` (INFO's pending commands).
    const scan = spool.cursor(from);
    for (let piece = scan.take(Infinity, false); piece !== null; piece = scan.take(Infinity, false)) this.received += this.receivedCounter.count(piece);
    scan.close();
  }

  /** Bytes of the stream received now: to the spool (throws on a write error). */
  hold(chunk: Buffer, now: number, replid: string): void {
    this.spool.append(chunk, now, replid);
    this.received += this.receivedCounter.count(chunk);
  }

  /**
   * The next bytes due by `now` with a delay of `delayMs` (or released by REPLICADELAY APPLY),
   * or null when none is due yet.
   */
  nextDue(now: number, delayMs: number): Buffer | null {
    const arrival = this.cursor.peekArrival();
    if (arrival === null) return null;
    const at = this.cursor.offset;
    let piece: Buffer | null;
    if (arrival + delayMs <= now || arrival < this.releaseArrivedBefore) piece = this.cursor.take(Infinity, false);
    else if (at < this.releaseUpTo) piece = this.cursor.take(this.releaseUpTo, false);
    else return null;
    if (piece === null) return null;
    // Counted as received (dropped commands included), then what the applier gets.
    this.released += this.releasedCounter.count(piece);
    return this.spool.maskDrops(piece, at);
  }

  /** When the next pending bytes fall due (unix ms), or null when nothing is pending. */
  nextDueAt(delayMs: number): number | null {
    const arrival = this.cursor.peekArrival();
    if (arrival === null) return null;
    if (this.cursor.offset < this.releaseUpTo || arrival < this.releaseArrivedBefore) return 0;
    return arrival + delayMs;
  }

  /** Every received byte was handed to the applier. */
  get drained(): boolean {
    return this.cursor.offset >= this.spool.end;
  }

  get pendingBytes(): number {
    return this.spool.end - this.cursor.offset;
  }

  get pendingCommands(): number {
    return Math.max(0, this.received - this.released);
  }

  /** Arrival (unix ms) of the oldest byte not yet released, or null. */
  get oldestArrival(): number | null {
    return this.cursor.peekArrival();
  }

  /**
   * Up to `count` commands not yet released, oldest first (dropped ones left out), read from the
   * spool from `applied` (the last applied command's end: a command boundary).
   */
  list(applied: number, count: number): PendingCommand[] {
    const out: PendingCommand[] = [];
    const from = Math.max(applied, this.spool.start);
    const reader = this.spool.cursor(from);
    const parser = new RequestParser({ maxBulkLength: Number.MAX_SAFE_INTEGER, fromMaster: true });
    let offset = from;
    let db = this.applier.db.id;
    let arrival = reader.peekArrival() ?? 0;
    try {
      while (out.length < count) {
        const argv = parser.next();
        if (argv === null) {
          arrival = reader.peekArrival() ?? arrival;
          const piece = reader.take();
          if (piece === null) break;
          parser.feed(piece);
          continue;
        }
        const start = offset;
        offset += parser.lastCommandBytes;
        if (argv[0]!.toLowerCase() === "select") db = Number(argv[1]);
        if (offset <= this.cursor.offset) continue;
        if (this.spool.isDropped(start, offset)) continue;
        out.push({ start, end: offset, arrival, db, argv });
      }
    } finally {
      reader.close();
    }
    return out;
  }

  /**
   * REPLICADELAY DROP: the pending command that ends at stream offset `end` will not be applied.
   * Returns false when no whole pending command ends there (already released, or not a boundary).
   */
  drop(applied: number, end: number): boolean {
    if (end <= this.cursor.offset || end > this.spool.end) return false;
    const from = Math.max(applied, this.spool.start);
    const reader = this.spool.cursor(from);
    const parser = new RequestParser({ maxBulkLength: Number.MAX_SAFE_INTEGER, fromMaster: true });
    let offset = from;
    try {
      for (;;) {
        const argv = parser.next();
        if (argv === null) {
          const piece = reader.take(end);
          if (piece === null) return false;
          parser.feed(piece);
          continue;
        }
        const start = offset;
        offset += parser.lastCommandBytes;
        if (offset < end) continue;
        // The command's first byte must not have reached the applier yet.
        if (offset !== end || start < this.cursor.offset) return false;
        this.spool.drop(start, end);
        return true;
      }
    } finally {
      reader.close();
    }
  }

  /** Closes the spool's files (kept for the next start). */
  close(): void {
    this.cursor.close();
    this.spool.close();
  }

  /** Removes the spool. */
  destroy(): void {
    this.cursor.close();
    this.spool.destroy();
  }
}

/**
 * Counts the commands that end in each chunk of a RESP command stream, across chunks, without
 * decoding arguments (bulk bodies are skipped by their length): INFO's pending commands on the
 * received stream's hot path. Keep-alive newlines are not commands.
 */
class CommandCounter {
  /** Arguments left in the multibulk in progress; 0 between commands. */
  private argsLeft = 0;
  /** Body bytes (with their CRLF) still to skip; -1 when a header line comes next. */
  private skip = -1;
  /** A header line cut by a chunk's end. */
  private line = "";

  count(chunk: Uint8Array): number {
    let done = 0;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.skip > 0) {
        const step = Math.min(this.skip, n - i);
        this.skip -= step;
        i += step;
        if (this.skip === 0) {
          this.skip = -1;
          if (--this.argsLeft === 0) done++;
        }
        continue;
      }
      const lf = chunk.indexOf(10, i);
      if (lf < 0) {
        this.line += Buffer.from(chunk.buffer, chunk.byteOffset + i, n - i).toString("latin1");
        break;
      }
      let kind: number;
      let value = 0;
      if (this.line.length === 0) {
        // The usual case, the whole line in this chunk: read it in place.
        kind = lf > i ? chunk[i]! : 13;
        for (let j = i + 1; j < lf; j++) {
          const d = chunk[j]! - 48;
          if (d >= 0 && d <= 9) value = value * 10 + d;
        }
      } else {
        const line = this.line + Buffer.from(chunk.buffer, chunk.byteOffset + i, lf - i).toString("latin1");
        this.line = "";
        kind = line.charCodeAt(0);
        value = Number.parseInt(line.slice(1), 10) || 0;
      }
      i = lf + 1;
      if (kind === 42 /* '*' */ && this.argsLeft === 0) {
        this.argsLeft = value;
      } else if (kind === 36 /* '$' */ && this.argsLeft > 0) {
        this.skip = value + 2;
      }
    }
    return done;
  }
}
