// Serializing a DatasetSnapshot as an AOF of commands (aof.c's rewriteAppendOnlyFileRio): the
// base file BGREWRITEAOF writes when aof-use-rdb-preamble is no. The commands are Redis 7.0's
// for each type, with its batching (64 items a command): FUNCTION LOAD per library, SELECT per
// database, SET / RPUSH / SADD / ZADD / HMSET, XADD + XSETID + XGROUP CREATE / CREATECONSUMER +
// XCLAIM for streams, PEXPIREAT for keys with a TTL (and HPEXPIREAT for hash fields with one,
// as Redis 7.4 writes them). Produced a chunk at a time, like snapshot-rdb.ts.

import { formatDouble } from "../protocol/format-double.ts";
import { encodeCommand } from "../protocol/reply-parser.ts";
import { formatId, sortedByName, type StreamValue } from "../store/stream.ts";
import { HashValue, ListValue, ModuleValue, SetValue, ZSetValue, type RedisValue } from "../store/values.ts";
import type { DatasetSnapshot, RecordSink } from "./snapshot.ts";
import type { Logger } from "../core/log.ts";

/** AOF_REWRITE_ITEMS_PER_CMD. */
const ITEMS_PER_CMD = 64;

export class AofCommandWriter implements RecordSink {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private currentDb = -1;
  private finished = false;
  keysWritten = 0;
  readonly keysTotal: number;

  constructor(
    private readonly snapshot: DatasetSnapshot,
    libraries: Iterable<string>,
    private readonly log: Logger,
  ) {
    let total = 0;
    for (const s of snapshot.dbSizes()) total += s.size;
    this.keysTotal = total;
    for (const code of libraries) this.emit(["FUNCTION", "LOAD", code]);
  }

  private emit(argv: string[]): void {
    const b = encodeCommand(argv);
    this.chunks.push(b);
    this.bytes += b.length;
  }

  /** argv prefix + items, in commands of at most 64 items (`stride` strings each). */
  private batched(prefix: string[], items: Iterable<string[]>): void {
    let argv = [...prefix];
    let n = 0;
    for (const item of items) {
      argv.push(...item);
      if (++n === ITEMS_PER_CMD) {
        this.emit(argv);
        argv = [...prefix];
        n = 0;
      }
    }
    if (n > 0) this.emit(argv);
  }

  record(db: number, key: string, value: RedisValue, expire: number): void {
    if (db !== this.currentDb) {
      this.currentDb = db;
      this.emit(["SELECT", String(db)]);
    }
    if (typeof value === "string") this.emit(["SET", key, value]);
    else if (value instanceof ListValue) this.batched(["RPUSH", key], (function* () {
      for (const e of value) yield [e];
    })());
    else if (value instanceof SetValue) this.batched(["SADD", key], (function* () {
      for (const m of value.ordered()) yield [m];
    })());
    else if (value instanceof ZSetValue) this.batched(["ZADD", key], (function* () {
      for (const n = value.cursor(0); n.next(); ) yield [formatDouble(n.score), n.member];
    })());
    else if (value instanceof HashValue) {
      this.batched(["HMSET", key], (function* () {
        for (const [f, v] of value) yield [f, v];
      })());
      value.forEachFieldTtl((field, at) => this.emit(["HPEXPIREAT", key, String(at), "FIELDS", "1", field]));
    } else if (value instanceof ModuleValue) {
      // A module rewrites its own values; without the module there is nothing to call.
      this.log.warning(`AOF rewrite: skipping key '${key}', a value of module type ${value.typeName} that has no command form here`);
      return;
    } else this.stream(key, value);
    if (expire !== -1) this.emit(["PEXPIREAT", key, String(expire)]);
    this.keysWritten++;
  }

  /** rewriteStreamObject. */
  private stream(key: string, s: StreamValue): void {
    if (s.length > 0) for (const e of s.entries) this.emit(["XADD", key, formatId(e.id), ...e.fields]);
    // An empty stream: made with XADD MAXLEN 0 (then XSETID puts the real last ID).
    else this.emit(["XADD", key, "MAXLEN", "0", "0-1", "x", "y"]);
    this.emit(["XSETID", key, formatId(s.lastId), "ENTRIESADDED", String(s.entriesAdded), "MAXDELETEDID", formatId(s.maxDeletedId)]);
    for (const g of sortedByName(s.groups)) {
      this.emit(["XGROUP", "CREATE", key, g.name, formatId(g.lastId), "ENTRIESREAD", String(g.entriesRead)]);
      for (const c of sortedByName(g.consumers)) {
        if (c.pending.size === 0) {
          this.emit(["XGROUP", "CREATECONSUMER", key, g.name, c.name]);
          continue;
        }
        for (const p of c.pending.ordered()) {
          this.emit(["XCLAIM", key, g.name, c.name, "0", formatId(p.id), "TIME", String(p.deliveryTime), "RETRYCOUNT", String(p.deliveryCount), "JUSTID", "FORCE"]);
        }
      }
    }
  }

  /** Produces about maxBytes more and hands them to `sink`; false once everything was written. */
  step(maxBytes: number, sink: (buf: Buffer, start: number, end: number) => void): boolean {
    while (!this.finished && this.bytes < maxBytes) {
      if (!this.snapshot.nextInto(16, this)) this.finished = true;
    }
    const out = Buffer.concat(this.chunks, this.bytes);
    this.chunks = [];
    this.bytes = 0;
    if (out.length > 0) sink(out, 0, out.length);
    return !this.finished;
  }

  abort(): void {
    this.finished = true;
    this.snapshot.detach();
  }
}
