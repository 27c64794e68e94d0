// A full sync's snapshot -> records. The master's RDB payload (framed by "$<len>" or by an EOF
// mark, as the server's replica link receives it: replication/sync-transfer.ts) is parsed as it
// arrives by the same push parser that loads files (rdb/reader.ts), one key at a time, and each
// key becomes one record that rebuilds it on an empty server:
//
//   RESTORE <key> 0 <payload>                    (no expiry)
//   RESTORE <key> <unix ms> <payload> ABSTTL     (an expiring key)
//
// The payload is DUMP's (rdb/writer.ts dumpPayload: the value's RDB encoding, RDB version, CRC).
// Function libraries become FUNCTION LOAD REPLACE <code>. Every record of a snapshot carries the
// snapshot's offset (the one +FULLRESYNC gave) and "snapshot": true. The first one empties the
// target (FLUSHALL, or FLUSHDB with --db) so that a snapshot taken again after a gap
// (--on-gap resnapshot) replaces what the consumer had; with --match there is none (it would
// empty keys the selection leaves alone): see docs/feed.md.

import { EofMarkDetector } from "../replication/eof-mark.ts";
import { RdbParser, type RdbSink } from "../rdb/reader.ts";
import { DumpPayloadWriter } from "../rdb/writer.ts";
import { TOOL_MEMORY_BUDGET } from "../rdb/loader.ts";
import type { RedisValue } from "../store/values.ts";
import type { RecordFilter } from "./filter.ts";
import type { FeedRecord } from "./records.ts";

class SnapshotSink implements RdbSink {
  /** AUX repl-stream-db: the db the stream continues in (0 when absent). */
  streamDb = 0;
  keys = 0;
  private readonly payloads = new DumpPayloadWriter();

  constructor(
    private readonly offset: number,
    private readonly filter: RecordFilter,
    private readonly emit: (r: FeedRecord) => void,
  ) {}

  key(db: number, key: string, value: RedisValue, expireMs: number): void {
    if (!this.filter.key(db, key)) return;
    this.keys++;
    const payload = this.payloads.payload(value);
    const args = expireMs === -1 ? ["RESTORE", key, "0", payload] : ["RESTORE", key, String(expireMs), payload, "ABSTTL"];
    this.emit({ offset: this.offset, db, args, snapshot: true });
  }

  aux(name: string, value: string): void {
    if (name === "repl-stream-db" && /^\d+$/.test(value)) this.streamDb = Number(value);
  }

  function(code: string): void {
    this.emit({ offset: this.offset, db: this.filter.db ?? 0, args: ["FUNCTION", "LOAD", "REPLACE", code], snapshot: true });
  }
}

/** Receives a full sync's payload; parses it into records when the snapshot is wanted. */
export class SnapshotReceiver {
  private readonly mark: EofMarkDetector | null;
  private readonly size: number;
  private read = 0;
  private readonly parser: RdbParser | null;
  private readonly sink: SnapshotSink | null;
  private rssLimit: number;
  /** Bytes that followed the payload (the start of the stream, disk-based transfers). */
  tail: Buffer | null = null;
  done = false;

  /** `header`: the "$<len>" or "$EOF:<mark>" line. Throws on anything else. */
  constructor(header: string, offset: number, filter: RecordFilter | null, emit: (r: FeedRecord) => void) {
    if (header.startsWith("$EOF:") && header.length === 45) {
      this.mark = new EofMarkDetector(Buffer.from(header.slice(5), "latin1"));
      this.size = -1;
    } else if (/^\$\d+$/.test(header)) {
      this.mark = null;
      this.size = Number(header.slice(1));
    } else {
      throw new Error(`bad payload header from the master: '${header.slice(0, 64)}'`);
    }
    this.sink = filter ? new SnapshotSink(offset, filter, emit) : null;
    // One key at a time (keyBatch 1): memory holds one value, however large the dataset.
    this.parser = this.sink ? new RdbParser(this.sink, { maxDatabases: Number.MAX_SAFE_INTEGER, keyBatch: 1 }) : null;
    this.rssLimit = process.memoryUsage.rss() + TOOL_MEMORY_BUDGET;
  }

  get streamDb(): number {
    return this.sink?.streamDb ?? 0;
  }

  get keys(): number {
    return this.sink?.keys ?? 0;
  }

  /** Payload bytes; sets `done` (and `tail`) at its end. Throws RdbError on a bad payload. */
  receive(chunk: Buffer): void {
    if (this.mark) {
      const complete = this.mark.push(chunk);
      if (this.parser) for (const part of this.mark.release(chunk, complete)) this.parser.feed(part);
      this.done = complete;
    } else {
      const left = this.size - this.read;
      let payload = chunk;
      if (chunk.length > left) {
        payload = chunk.subarray(0, left);
        this.tail = chunk.subarray(left);
      }
      this.read += payload.length;
      this.parser?.feed(payload);
      this.done = this.read >= this.size;
    }
    if (this.done) this.parser?.end();
    // The parser's garbage (every value is built, encoded, dropped) is taken back before it
    // piles up (as the RDB tools do, rdb/loader.ts parseRdbFileSync).
    if (this.parser && process.memoryUsage.rss() > this.rssLimit) {
      Bun.gc(true);
      this.rssLimit = Math.max(this.rssLimit, process.memoryUsage.rss() + TOOL_MEMORY_BUDGET / 2);
    }
  }
}
