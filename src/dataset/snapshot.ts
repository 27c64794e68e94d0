// A point-in-time view of the whole dataset, taken without copying it and without stopping
// the server: what Redis gets from fork(), we get from copy-on-write at the grain of records.
//
// Each database's keyspace is walked by a KeyspaceSnapshot (store/keyspace/snapshot.ts), a
// chunk at a time, between other work. While it runs the keyspace never changes in place a
// record the walk has not reached: a change writes a new record and keeps the old one for the
// walk, and an aggregate about to change in place is copied for it first (Database.beforeChange,
// lookupWrite). So the walk yields every key of the start exactly once, in its state at the
// start, however long it takes; keys created since are never yielded.
//
// FLUSHALL gives a database a new keyspace and SWAPDB exchanges them: the snapshot keeps
// walking the keyspaces it started with.

import { valueOfRef, type Database } from "../store/database.ts";
import { KeptObjects, type Keyspace } from "../store/keyspace/keyspace.ts";
import { KeyspaceSnapshot } from "../store/keyspace/snapshot.ts";
import type { RedisValue } from "../store/values.ts";

/** Receives snapshot records one at a time (see DatasetSnapshot.nextInto). */
export interface RecordSink {
  /** `access`: the key's LRU/LFU field (store/keyspace/access-clock.ts). */
  record(db: number, key: string, value: RedisValue, expire: number, access: number): void;
}

export interface SnapshotRecord {
  db: number;
  key: string;
  value: RedisValue;
  /** Absolute Unix ms, or -1. */
  expire: number;
}

/** The walk of one database's keyspace. */
class KeyspaceWalk {
  readonly snapshot: KeyspaceSnapshot;
  /** The sink of the nextInto call in progress. */
  sink: RecordSink | null = null;
  /** Records handed to the sink during the current step. */
  emitted = 0;
  /** One closure per walk (not per record): reads a record and hands it to the sink. */
  readonly visit: (ref: number) => void;

  constructor(
    readonly dbIndex: number,
    readonly ks: Keyspace,
    keptObjects: KeptObjects,
  ) {
    this.snapshot = new KeyspaceSnapshot(ks, keptObjects);
    this.visit = (ref) => {
      const value = valueOfRef(ks, ref);
      this.sink!.record(this.dbIndex, ks.keyStringOf(ref), value, ks.expireOf(ref), ks.lruOf(ref));
      this.emitted++;
    };
  }
}

export class DatasetSnapshot {
  private readonly walks: KeyspaceWalk[];
  private current = 0;
  private finished = false;
  /** The aggregates the walks' kept records point at, across databases (see KeptObjects). */
  readonly keptObjects = new KeptObjects();

  constructor(private readonly dbs: Database[]) {
    for (const db of dbs) if (db.snapshot !== null) throw new Error("a snapshot is already running on this dataset");
    this.walks = dbs.map((db) => new KeyspaceWalk(db.id, db.ks, this.keptObjects));
    for (const db of dbs) db.snapshot = this;
  }

  /** Keys kept (copied on write) for the snapshot so far and not released yet, for statistics. */
  get copiedOnWrite(): number {
    let n = 0;
    for (const w of this.walks) n += w.ks.keptRecords;
    return n;
  }

  /** Per-database sizes at the start of the snapshot. */
  dbSizes(): Array<{ db: number; size: number; expires: number }> {
    return this.walks.map((w) => ({ db: w.dbIndex, size: w.snapshot.size, expires: w.snapshot.volatileSize }));
  }

  /**
   * Appends up to `max` records to `out`, in database order. Returns false once everything
   * has been produced (this call's records included; the snapshot is then detached). A call
   * may return no record and true.
   * Records may reference live values: serialize them before anything else runs.
   */
  next(max: number, out: SnapshotRecord[]): boolean {
    const collect: RecordSink = {
      record(db, key, value, expire) {
        out.push({ db, key, value, expire });
      },
    };
    return this.nextInto(max, collect);
  }

  /**
   * As next(), handing each record to `sink` (no object per record: the RDB writer's path).
   * Values may be live: the sink must serialize them before returning.
   */
  nextInto(max: number, sink: RecordSink): boolean {
    let n = 0;
    while (n < max && this.current < this.walks.length) {
      const w = this.walks[this.current]!;
      w.sink = sink;
      w.emitted = 0;
      const more = w.snapshot.step(w.visit, max - n);
      n += w.emitted;
      w.sink = null;
      if (!more) this.current++;
    }
    if (this.current >= this.walks.length) {
      this.detach();
      return false;
    }
    return true;
  }

  /** Ends the walks (when done or abandoned): the keyspaces free what they kept for them. */
  detach(): void {
    if (this.finished) return;
    this.finished = true;
    for (const db of this.dbs) if (db.snapshot === this) db.snapshot = null;
    for (const w of this.walks) w.snapshot.end();
  }

  get isFinished(): boolean {
    return this.finished;
  }
}
