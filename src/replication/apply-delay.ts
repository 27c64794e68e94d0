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
import { rmSync } from "node:fs";
import { join } from "node:path";
import { RequestParser } from "../protocol/request-parser.ts";
import { type DelaySpool, SPOOL_DIR, type SpoolCursor } from "./delay-spool.ts";

/** One pending command, as REPLICADELAY LIST shows it. */
export interface PendingCommand {
  /** Stream offsets of its first byte and of the byte after its last (the master's offset after it). */
  start: number;
  end: number;
  arrival: number;
  db: number;
  argv: string[];
}

/**
 * A full sync received while commands of the old history were still pending, or while we held
 * data worth protecting: its RDB file waits (in NEXT_DIR) until it too is older than the delay,
 * and the stream that follows it is spooled beside it. Loading it then is the full sync.
 */
interface HeldSnapshot {
  /** The RDB file. */
  file: string;
  arrival: number;
  /** The history the snapshot starts: the master's replid and offset (+FULLRESYNC / $ENDOFF). */
  replid: string;
  offset: number;
  /** The stream after it. */
  spool: DelaySpool;
  counter: CommandCounter;
  received: number;
}

export class ApplyDelay {
  /** Applies the released stream (the master's privileges, replies discarded). */
  readonly applier: Client;
  /** The next byte not yet released to the applier. */
  private cursor: SpoolCursor;
  private receivedCounter = new CommandCounter();
  private releasedCounter = new CommandCounter();
  /** A full sync waiting its turn, and what followed it (see HeldSnapshot). */
  next: HeldSnapshot | null = null;
  /** The held snapshot is being loaded (nothing else applies meanwhile). */
  loadingSnapshot = false;
  /** Commands received and released so far (INFO's pending commands is the difference). */
  private received = 0;
  private released = 0;
  /** Bytes before this stream offset are released whatever their age (REPLICADELAY APPLY). */
  releaseUpTo = 0;
  /** Bytes received before this unix ms are released whatever the delay (REPLICADELAY APPLY BEFORE). */
  releaseArrivedBefore = 0;

  constructor(
    server: Server,
    public spool: DelaySpool,
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

  /** Bytes of the stream received now: to the spool, or after the held snapshot (throws on a write error). */
  hold(chunk: Buffer, now: number, replid: string): void {
    const next = this.next;
    if (next !== null) {
      next.spool.append(chunk, now, next.replid);
      next.received += next.counter.count(chunk);
      return;
    }
    this.spool.append(chunk, now, replid);
    this.received += this.receivedCounter.count(chunk);
  }

  /** A full sync to hold: its file, and an empty spool for what follows it (replaces one held before). */
  holdSnapshot(file: string, arrival: number, replid: string, offset: number, spool: DelaySpool): void {
    this.next?.spool.destroy();
    this.next = { file, arrival, replid, offset, spool, counter: new CommandCounter(), received: 0 };
    if (spool.end > offset) {
      const scan = spool.cursor(offset);
      for (let piece = scan.take(Infinity, false); piece !== null; piece = scan.take(Infinity, false)) this.next.received += this.next.counter.count(piece);
      scan.close();
    }
  }

  /** The replication ID and offset a PSYNC continues after: the newest history's received end. */
  get receivedEnd(): { replid: string; offset: number } {
    const s = this.next?.spool ?? this.spool;
    return { replid: this.next?.replid ?? s.replid, offset: s.end };
  }

  /** Whether the held snapshot is due (everything before it released, and old enough or released). */
  snapshotDue(now: number, delayMs: number): boolean {
    const next = this.next;
    if (next === null || this.loadingSnapshot || !this.drained) return false;
    return next.arrival + delayMs <= now || next.arrival < this.releaseArrivedBefore;
  }

  /**
   * The held snapshot was loaded (our history is now its): its stream becomes the spool, applied
   * from its start; the old spool goes.
   */
  adoptNext(db: Client["db"]): void {
    const next = this.next!;
    this.next = null;
    this.cursor.close();
    this.spool.destroy();
    rmSync(join(next.spool.dir, "snapshot.json"), { force: true });
    next.spool.moveTo(SPOOL_DIR);
    this.spool = next.spool;
    this.cursor = next.spool.cursor(next.offset);
    this.receivedCounter = next.counter;
    this.releasedCounter = new CommandCounter();
    this.received = next.received;
    this.released = 0;
    this.releaseUpTo = next.offset;
    this.applier.db = db;
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
    if (arrival === null) {
      const next = this.next;
      if (next === null || this.loadingSnapshot) return null;
      return next.arrival < this.releaseArrivedBefore ? 0 : next.arrival + delayMs;
    }
    if (this.cursor.offset < this.releaseUpTo || arrival < this.releaseArrivedBefore) return 0;
    return arrival + delayMs;
  }

  /** Every received byte was handed to the applier. */
  get drained(): boolean {
    return this.cursor.offset >= this.spool.end;
  }

  /** Stream bytes not released yet (those after a held snapshot included, the snapshot not). */
  get pendingBytes(): number {
    const next = this.next;
    return this.spool.end - this.cursor.offset + (next === null ? 0 : next.spool.end - next.offset);
  }

  get pendingCommands(): number {
    return Math.max(0, this.received - this.released) + (this.next?.received ?? 0);
  }

  /** Arrival (unix ms) of the oldest byte (or held snapshot) not yet released, or null. */
  get oldestArrival(): number | null {
    return this.cursor.peekArrival() ?? this.next?.arrival ?? null;
  }

  /**
   * Up to `count` commands not yet released, oldest first (dropped ones left out): read from the
   * spool from `applied` (the last applied command's end: a command boundary), then after a held
   * snapshot from its start (the database there is the one the stream selects; 0 until it does).
   */
  list(applied: number, count: number): PendingCommand[] {
    const out: PendingCommand[] = [];
    this.scan(Math.max(applied, this.spool.start), this.spool, this.cursor.offset, this.applier.db.id, (cmd) => {
      out.push(cmd);
      return out.length < count;
    });
    const next = this.next;
    if (next !== null && out.length < count) {
      this.scan(next.offset, next.spool, next.offset, 0, (cmd) => {
        out.push(cmd);
        return out.length < count;
      });
    }
    return out;
  }

  /**
   * REPLICADELAY DROP: the pending command that ends at stream offset `end` will not be applied.
   * Returns false when no whole pending command ends there (already released, or not a boundary).
   */
  drop(applied: number, end: number): boolean {
    const tryIn = (spool: DelaySpool, from: number, released: number): boolean => {
      if (end <= released || end > spool.end || end <= from) return false;
      let found: PendingCommand | null = null;
      this.scan(from, spool, released, 0, (cmd) => {
        if (cmd.end >= end) {
          if (cmd.end === end) found = cmd;
          return false;
        }
        return true;
      }, true);
      if (found === null) return false;
      spool.drop((found as PendingCommand).start, end);
      return true;
    };
    if (tryIn(this.spool, Math.max(applied, this.spool.start), this.cursor.offset)) return true;
    const next = this.next;
    return next !== null && tryIn(next.spool, next.offset, next.offset);
  }

  /**
   * Parses `spool` from `from` (a command boundary) and hands each command not yet released
   * (whose first byte is at or after `released`; with `whole`, only those) to `each` until it
   * returns false. Dropped commands are passed over.
   */
  private scan(from: number, spool: DelaySpool, released: number, db: number, each: (cmd: PendingCommand) => boolean, whole = false): void {
    const reader = spool.cursor(from);
    const parser = new RequestParser({ maxBulkLength: Number.MAX_SAFE_INTEGER, fromMaster: true });
    let offset = from;
    let arrival = reader.peekArrival() ?? 0;
    try {
      for (;;) {
        const argv = parser.next();
        if (argv === null) {
          arrival = reader.peekArrival() ?? arrival;
          const piece = reader.take();
          if (piece === null) return;
          parser.feed(piece);
          continue;
        }
        const start = offset;
        offset += parser.lastCommandBytes;
        if (argv[0]!.toLowerCase() === "select") db = Number(argv[1]);
        if (offset <= released || (whole && start < released)) continue;
        if (spool.isDropped(start, offset)) continue;
        if (!each({ start, end: offset, arrival, db, argv })) return;
      }
    } finally {
      reader.close();
    }
  }

  /** Closes the spool's files (kept for the next start). */
  close(): void {
    this.cursor.close();
    this.spool.close();
    this.next?.spool.close();
  }

  /** Removes the spool (and a held snapshot with what followed it). */
  destroy(): void {
    this.cursor.close();
    this.spool.destroy();
    this.dropNext();
  }

  /** Forgets the held snapshot and what followed it. */
  dropNext(): void {
    const next = this.next;
    if (next === null) return;
    this.next = null;
    next.spool.destroy();
    rmSync(next.file, { force: true });
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
