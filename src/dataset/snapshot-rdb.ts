// Serializing a DatasetSnapshot as an RDB, a chunk at a time: for the full syncs we serve
// (full-sync-jobs.ts) and for BGSAVE (dataset/persistence.ts). Each call writes records until
// about maxBytes are ready, so a dataset of millions of keys is produced over many event-loop
// turns and clients are never blocked for long (a single huge value is written in one go).
//
// The RDB is what Redis 7.0 writes for a fork-based save: header and AUX fields (with the
// replication info rdbPopulateSaveInfo gives, so a restarted replica can PSYNC), function
// libraries, then per non-empty database SELECTDB + RESIZEDB and its keys, EOF and CRC-64.

import { usedMemory } from "../core/memory.ts";
import { REDIS_COMPAT_VERSION } from "../common/version.ts";
import { rdbVersionFor, rdbWriteOptions, RdbWriter, type ReplicationAux } from "../rdb/writer.ts";
import type { Server } from "../core/server.ts";
import type { AccessClock } from "../store/keyspace/access-clock.ts";
import type { RedisValue } from "../store/values.ts";
import type { DatasetSnapshot, RecordSink } from "./snapshot.ts";

export interface RdbChunkSource {
  /** The next chunk of about maxBytes, or null when the RDB is complete. */
  next(maxBytes: number): Buffer | null;
  /**
   * Produces about maxBytes more and hands them to `sink` as a view of the writer's buffer
   * (valid only during the call: copy what must outlive it). False once the RDB is complete.
   */
  step(maxBytes: number, sink: (bytes: Buffer) => void): boolean;
  /** Stops early (the snapshot is released). */
  abort(): void;
  /** Milliseconds to wait before the next step (rdb-key-save-delay), then 0. */
  takePause(): number;
}

/**
 * The replication info to store in an RDB (Redis's rdbPopulateSaveInfo), or null when there
 * is none worth keeping: a master without a backlog is in no replication chain.
 */
export function replicationAuxFor(server: Server, replOffset = server.replication.masterReplOffset): ReplicationAux | null {
  return server.replication.rdbAux(replOffset);
}

/** Longest one fill runs before handing its bytes over (the event loop gets a turn). */
const FILL_BUDGET_MS = 5;
/** With rdb-key-save-delay, the delay one fill owes at most before it stops (microseconds). */
const DELAY_BUDGET_US = 5000;

/**
 * An RDB being produced from a snapshot. `step` writes about maxBytes more and hands them to
 * `sink` (a view of the writer's buffer, to be used before returning); it returns false once
 * the RDB is complete (the final bytes included).
 */
/** What an RDB records of each key's access: idle seconds under an LRU policy, the LFU counter under an LFU one. */
type SavedAccess = "lru" | "lfu" | null;

export function savedAccess(server: Server): SavedAccess {
  const policy = server.config.str("maxmemory-policy");
  return policy.endsWith("-lru") ? "lru" : policy.endsWith("-lfu") ? "lfu" : null;
}

/** The idle time an RDB records (seconds). */
export function savedIdle(clock: AccessClock, access: number): number {
  return Math.floor(clock.idleMs(access) / 1000);
}

export class SnapshotRdbWriter implements RecordSink {
  readonly writer: RdbWriter;
  private readonly sizes = new Map<number, { size: number; expires: number }>();
  /** Which access data the records carry (IDLE under an LRU policy, FREQ under an LFU one), as Redis saves them. */
  private readonly accessPolicy: SavedAccess;
  private currentDb = -1;
  private finished = false;
  keysWritten = 0;
  readonly keysTotal: number;

  constructor(
    private readonly server: Server,
    private readonly snapshot: DatasetSnapshot,
    repl: ReplicationAux | null,
    /** Function libraries included (a replica's rdb-filter-only may leave them out). */
    withFunctions = true,
    /** The base of an AOF (BGREWRITEAOF): the aof-base AUX field says so. */
    aofBase = false,
  ) {
    this.writer = new RdbWriter({ ...rdbWriteOptions(server.config), rdbVersion: rdbVersionFor(server.dbs) });
    this.accessPolicy = savedAccess(server);
    let total = 0;
    for (const s of snapshot.dbSizes()) {
      this.sizes.set(s.db, { size: s.size, expires: s.expires });
      total += s.size;
    }
    this.keysTotal = total;
    const w = this.writer;
    w.header({ redisVersion: REDIS_COMPAT_VERSION, ctime: Date.now() / 1000, usedMem: usedMemory(server), repl, aofBase });
    if (withFunctions) for (const lib of server.functions.values()) w.functionLibrary(lib.code);
  }

  get done(): boolean {
    return this.finished;
  }

  /**
   * Writes records until about maxBytes are buffered, or FILL_BUDGET_MS have passed (so one
   * turn never blocks clients for long, whatever the values). Returns false when the RDB is
   * complete.
   */
  private fill(maxBytes: number): boolean {
    const w = this.writer;
    const keyDelay = this.server.config.num("rdb-key-save-delay");
    if (keyDelay !== 0) return this.fillSlowly(maxBytes, keyDelay);
    const deadline = performance.now() + FILL_BUDGET_MS;
    let batches = 0;
    while (!this.finished && w.pos < maxBytes) {
      if ((++batches & 15) === 0 && performance.now() > deadline) break;
      // Small batches: bounds how far past maxBytes a chunk of large values can go.
      const more = this.snapshot.nextInto(16, this);
      if (!more) {
        w.end();
        this.finished = true;
      }
    }
    return !this.finished;
  }

  /**
   * rdb-key-save-delay (Redis's debugDelay after each key, in the fork child; a negative value
   * sleeps 1 us with probability 1/-delay): a key at a time, the delay owed is not slept here,
   * where it would block clients, but returned as a pause before the next step (takePause).
   */
  private fillSlowly(maxBytes: number, keyDelay: number): boolean {
    const w = this.writer;
    let owed = 0;
    while (!this.finished && w.pos < maxBytes && owed < DELAY_BUDGET_US) {
      const before = this.keysWritten;
      if (!this.snapshot.nextInto(1, this)) {
        w.end();
        this.finished = true;
      }
      if (this.keysWritten !== before) owed += keyDelay > 0 ? keyDelay : Math.random() * -keyDelay < 1 ? 1 : 0;
    }
    this.pauseMs += owed / 1000;
    return !this.finished;
  }

  /** Delay owed by the keys written (rdb-key-save-delay), in milliseconds. */
  private pauseMs = 0;

  takePause(): number {
    const ms = this.pauseMs;
    this.pauseMs = 0;
    return ms;
  }

  /** One record (RecordSink): serialized at once, the value may be live. */
  record(db: number, key: string, value: RedisValue, expire: number, access: number): void {
    const w = this.writer;
    if (db !== this.currentDb) {
      this.currentDb = db;
      const s = this.sizes.get(db) ?? { size: 0, expires: 0 };
      w.selectDb(db, s.size, s.expires);
    }
    const policy = this.accessPolicy;
    const clock = this.server.accessClock;
    if (w.keyValue(key, value, expire, policy === "lru" ? savedIdle(clock, access) : -1, policy === "lfu" ? clock.lfuCounter(access) : -1)) this.keysWritten++;
  }

  step(maxBytes: number, sink: (buf: Buffer, start: number, end: number) => void): boolean {
    const more = this.fill(maxBytes);
    this.writer.drainTo(sink);
    return more;
  }

  /** The next chunk as a Buffer of its own, or null after the last one. */
  nextChunk(maxBytes: number): Buffer | null {
    if (this.finished && this.writer.pos === 0) return null;
    this.fill(maxBytes);
    return this.writer.takeChunk();
  }

  abort(): void {
    this.finished = true;
    this.snapshot.detach();
  }
}

export function createSnapshotRdb(server: Server, snapshot: DatasetSnapshot, replOffset: number, withFunctions = true): RdbChunkSource {
  let rdb: SnapshotRdbWriter;
  try {
    const aux = replicationAuxFor(server, replOffset) ?? { replStreamDb: 0, replId: server.replication.replid, replOffset };
    rdb = new SnapshotRdbWriter(server, snapshot, aux, withFunctions);
  } catch (e) {
    snapshot.detach();
    throw e;
  }
  return {
    next(maxBytes: number): Buffer | null {
      try {
        return rdb.nextChunk(maxBytes);
      } catch (e) {
        rdb.abort();
        throw e;
      }
    },
    step(maxBytes: number, sink: (bytes: Buffer) => void): boolean {
      try {
        return rdb.step(maxBytes, (buf, start, end) => sink(buf.subarray(start, end)));
      } catch (e) {
        rdb.abort();
        throw e;
      }
    },
    abort() {
      rdb.abort();
    },
    takePause() {
      return rdb.takePause();
    },
  };
}
