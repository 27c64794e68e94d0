// The master's command stream -> records. Every byte of the stream counts in the master's
// replication offset (Redis's master_repl_offset), records or not: a record's offset is the
// offset right after its command. What is not a record:
// - SELECT: it changes the db that the next records carry;
// - PING (the master's keep-alive) and REPLCONF (GETACK is answered with our offset);
// - newlines between commands (counted by the parser into the next command's bytes).
//
// MULTI ... EXEC: the records of a transaction are held until its EXEC arrived and then written
// together, MULTI and EXEC included (a replay stays atomic). A Redis replica moves its offset
// only at EXEC (replicationCommandProcessed skips clients in MULTI), and so does our position:
// a checkpoint never falls inside a transaction, and a resumed feed never starts in one. Each
// record still has its own offset (the end of its command), so offsets strictly increase.

import { RequestParser } from "../protocol/request-parser.ts";
import type { RecordFilter } from "./filter.ts";
import type { FeedRecord } from "./records.ts";

interface StreamEvents {
  record(r: FeedRecord): void;
  /** REPLCONF GETACK: the master asks for our offset now (the one before the GETACK, as Redis's replconfCommand sends). */
  getAck(offset: number): void;
}

/** Case-insensitive compare of a latin1 argument with a lowercase ASCII name. */
function is(arg: string, lower: string): boolean {
  return arg.length === lower.length && arg.toLowerCase() === lower;
}

export class CommandStream {
  private readonly parser = new RequestParser({ maxBulkLength: Number.MAX_SAFE_INTEGER, fromMaster: true });
  /** Offset of the last byte parsed (inside a transaction too). */
  private offset: number;
  private db: number;
  /** The position a resumed feed may continue from: the last transaction boundary. */
  boundaryOffset: number;
  boundaryDb: number;
  /** A transaction being read: its records (MULTI first), or null. */
  private transaction: FeedRecord[] | null = null;

  constructor(
    offset: number,
    db: number,
    private readonly filter: RecordFilter,
    private readonly events: StreamEvents,
  ) {
    this.offset = this.boundaryOffset = offset;
    this.db = this.boundaryDb = db;
  }

  /** Bytes of the stream; emits the records of the complete commands. Throws ProtocolError. */
  feed(chunk: Buffer): void {
    const parser = this.parser;
    parser.feed(chunk);
    for (let argv = parser.next(); argv !== null; argv = parser.next()) {
      const before = this.offset;
      this.offset += parser.lastCommandBytes;
      this.command(argv, before);
      if (this.transaction === null) {
        this.boundaryOffset = this.offset;
        this.boundaryDb = this.db;
      }
    }
  }

  private command(argv: string[], before: number): void {
    const name = argv[0]!;
    if (is(name, "select")) {
      this.db = Number(argv[1]);
      return;
    }
    if (is(name, "ping")) return;
    if (is(name, "replconf")) {
      // As a Redis replica: the offset sent is the one before the GETACK itself.
      if (argv.length > 1 && is(argv[1]!, "getack")) this.events.getAck(this.transaction === null ? before : this.boundaryOffset);
      return;
    }
    const record: FeedRecord = { offset: this.offset, db: this.db, args: argv };
    if (is(name, "multi")) {
      this.transaction = [record];
      return;
    }
    if (this.transaction !== null) {
      if (!is(name, "exec")) {
        this.transaction.push(record);
        return;
      }
      const tx = this.transaction;
      this.transaction = null;
      const selected = tx.slice(1).filter((r) => this.filter.command(r.db, r.args as string[]));
      if (selected.length === 0) return;
      this.events.record(tx[0]!);
      for (const r of selected) this.events.record(r);
      this.events.record(record);
      return;
    }
    if (this.filter.command(this.db, argv)) this.events.record(record);
  }

  /** The offset to ACK: the last boundary (as Redis's reploff, which moves at EXEC). */
  get ackOffset(): number {
    return this.transaction === null ? this.offset : this.boundaryOffset;
  }
}
