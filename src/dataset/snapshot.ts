// A point-in-time view of the whole dataset, taken without copying it and without stopping
// the server: what Redis gets from fork(), we get from copy-on-write at the key level.
//
// Each database's live key table is walked with its own iterator, a chunk at a time, between
// other work. Before any key changes (value, expiry, deletion, in-place modification of an
// aggregate), the database tells the snapshot (ChangeWatcher), which keeps the key's old state
// aside when the walk may still need it. The result is exactly the dataset as it was at the
// start, however long the walk takes.
//
// What makes this cheap is that nothing is recorded per key walked, only per key changed. It
// rests on the iteration order of a JS Map (insertion order, live), which holds for the key
// table shard by shard (store/key-table.ts; the snapshot holds the table's layout, so a key
// stays in its shard, and the walk takes the shards in order, each with a live Map iterator):
//
// - A key that existed at the start keeps its place while its value or expiry changes; the
//   iterator yields it there exactly once, unless it is deleted first.
// - A key inserted after the start (new, or deleted and inserted again) goes to the end of its
//   shard, and the iterator yields it there (or never, if the walk is past that shard).
//
// So on a key's first change, its old state is kept (a string is shared, an aggregate cloned)
// and the key is noted in `changed`. When the iterator later yields it at its original place,
// the walk had not reached it: the kept state is emitted. Keys noted as created after the start,
// or yielded again after a deletion, are skipped. When the iterator ends, a kept key it never
// yielded was either emitted before its first change (discard) or deleted before the walk got
// to it (emit): if it is still present and was never deleted, it was emitted. Only for kept keys
// that were deleted is the question open; the walk answers it at the end by one pass over the
// list of the keys it emitted (an array of references, far cheaper than a Set), and only when
// there are such keys.
//
// Cloning an aggregate that was in fact emitted already is wasted work; for large aggregates
// (where it would stall the server) the walk records the emitted objects by identity, so their
// first change is known to need nothing.
//
// Databases are tracked by the identity of their key table, so FLUSHALL (new tables) and SWAPDB
// (tables exchanged) during a snapshot are handled: the snapshot keeps walking the tables it
// started with, and changes reach it through whichever database now holds them.

import { cloneValue } from "../store/clone.ts";
import type { ChangeWatcher, Database } from "../store/database.ts";
import type { KeyTable } from "../store/key-table.ts";
import { HashValue, ListValue, SetValue, StreamValue, ZSetValue, type RedisValue } from "../store/values.ts";

/** Receives snapshot records one at a time (see DatasetSnapshot.nextInto). */
export interface RecordSink {
  record(db: number, key: string, value: RedisValue, expire: number): void;
}

export interface SnapshotRecord {
  db: number;
  key: string;
  value: RedisValue;
  /** Absolute Unix ms, or -1. */
  expire: number;
}

const enum Fate {
  /** Did not exist at the start: never emitted. */
  Created,
  /** Emitted already (or resolved): nothing more to do. */
  Done,
  /** Not emitted yet when first changed: `value`/`expire` are its state at the start. */
  Kept,
  /** State at the start kept, but whether the walk had already emitted it is not known. */
  Unknown,
}

interface Changed {
  fate: Fate;
  value: RedisValue | undefined;
  expire: number;
  /** Deleted since the first change (a later yield of the key is a re-insertion). */
  deleted: boolean;
}

/** Shared entries for the fates that carry no state. */
const CREATED: Changed = Object.freeze({ fate: Fate.Created, value: undefined, expire: -1, deleted: false }) as Changed;
const DONE: Changed = Object.freeze({ fate: Fate.Done, value: undefined, expire: -1, deleted: false }) as Changed;

/** Aggregates at least this large are remembered by identity once emitted (see above). */
const LARGE = 128;

function isLarge(v: RedisValue): boolean {
  if (v instanceof HashValue || v instanceof SetValue) return v.size >= LARGE;
  if (v instanceof ListValue) return v.length >= LARGE;
  if (v instanceof ZSetValue) return v.size >= LARGE;
  if (v instanceof StreamValue) return v.length >= LARGE;
  return false; // module values are immutable blobs: never cloned
}

/** Emitted keys, in fixed-size pieces (no large array copies while growing). */
const PIECE = 65536;

/** Keys checked per step when resolving deleted keys against the emitted list. */
const RESOLVE_STEP = 65536;

class MapWalk {
  /** The shard being walked, and its live iterator (created when the walk gets there). */
  private part = 0;
  private partIterator: Iterator<[string, RedisValue]> | null = null;
  readonly changed = new Map<string, Changed>();
  /** Keys emitted by the walk whose emission a value cannot tell (strings, small aggregates). */
  private readonly emitted: string[][] = [];
  private piece: string[] = [];
  /** Large aggregates emitted, by identity. */
  readonly emittedLarge = new Set<RedisValue>();
  iteratorDone = false;
  /** After the iterator: kept states still to emit (Kept, and Unknown ones found unemitted). */
  leftovers: Array<[string, Changed]> | null = null;
  /** Deleted keys of unknown fate, being looked up in the emitted list. */
  private unresolved: Map<string, Changed> | null = null;
  private resolvePiece = 0;
  private resolveIndex = 0;
  done = false;
  /** Sizes at the start (for RESIZEDB hints). */
  readonly size: number;
  readonly expiresSize: number;

  constructor(
    readonly dbIndex: number,
    readonly keys: KeyTable<RedisValue>,
    readonly expires: KeyTable<number>,
  ) {
    this.size = keys.size;
    this.expiresSize = expires.size;
    this.emitted.push(this.piece);
  }

  /** The next entry of the table, shard after shard; undefined at the end. */
  nextEntry(): [string, RedisValue] | undefined {
    const parts = this.keys.parts;
    while (this.part < parts.length) {
      if (this.partIterator === null) {
        const part = parts[this.part]!;
        if (part.size === 0) {
          // Whatever this shard receives from now on was created after the start.
          this.part++;
          continue;
        }
        this.partIterator = part.entries();
      }
      const r = this.partIterator.next();
      if (!r.done) return r.value;
      this.partIterator = null;
      this.part++;
    }
    return undefined;
  }

  noteEmitted(key: string, value: RedisValue): void {
    if (typeof value !== "string" && isLarge(value)) {
      this.emittedLarge.add(value);
      return;
    }
    if (this.piece.length === PIECE) {
      this.piece = [];
      this.emitted.push(this.piece);
    }
    this.piece.push(key);
  }

  /** The iterator ended: sort the kept states into emit, discard, or look up. */
  finishIteration(): void {
    this.iteratorDone = true;
    const leftovers: Array<[string, Changed]> = [];
    let unresolved: Map<string, Changed> | null = null;
    for (const [key, e] of this.changed) {
      if (e.fate === Fate.Kept) leftovers.push([key, e]);
      else if (e.fate === Fate.Unknown) {
        // Never yielded at its place: emitted before the change, unless it was deleted.
        if (e.deleted || !this.keys.has(key)) (unresolved ??= new Map()).set(key, e);
      }
    }
    this.changed.clear();
    this.emittedLarge.clear();
    this.leftovers = leftovers;
    this.unresolved = unresolved;
    if (!unresolved) this.releaseEmitted();
  }

  /** One step of the lookup of deleted keys in the emitted list. True when finished. */
  resolveStep(): boolean {
    const unresolved = this.unresolved;
    if (!unresolved) return true;
    let budget = RESOLVE_STEP;
    while (budget > 0 && unresolved.size > 0 && this.resolvePiece < this.emitted.length) {
      const piece = this.emitted[this.resolvePiece]!;
      const end = Math.min(piece.length, this.resolveIndex + budget);
      for (let i = this.resolveIndex; i < end; i++) {
        const key = piece[i]!;
        if (unresolved.has(key)) unresolved.delete(key); // emitted before it was deleted
      }
      budget -= end - this.resolveIndex;
      if (end === piece.length) {
        this.resolvePiece++;
        this.resolveIndex = 0;
      } else this.resolveIndex = end;
    }
    if (unresolved.size > 0 && this.resolvePiece < this.emitted.length) return false;
    // Whatever the walk never emitted was deleted before it got there: its kept state counts.
    for (const entry of unresolved) this.leftovers!.push(entry);
    this.unresolved = null;
    this.releaseEmitted();
    return true;
  }

  private releaseEmitted(): void {
    this.emitted.length = 0;
    this.piece = [];
  }

  clear(): void {
    this.changed.clear();
    this.emittedLarge.clear();
    this.releaseEmitted();
    this.leftovers = null;
    this.unresolved = null;
  }
}

export class DatasetSnapshot implements ChangeWatcher {
  private readonly walks: MapWalk[];
  private readonly byTable = new Map<KeyTable<RedisValue>, MapWalk>();
  private current = 0;
  private finished = false;
  /** Keys whose old state was kept (copied on write) during the snapshot, for statistics. */
  copiedOnWrite = 0;

  constructor(private readonly dbs: Database[]) {
    for (const db of dbs) if (db.watcher) throw new Error("a snapshot is already running on this dataset");
    this.walks = dbs.map((db) => new MapWalk(db.id, db.keys, db.expires));
    // Keys must stay in their shard while they are walked (store/key-table.ts).
    for (const w of this.walks) {
      this.byTable.set(w.keys, w);
      w.keys.holdLayout();
    }
    for (const db of dbs) db.watcher = this;
  }

  /** Per-database sizes at the start of the snapshot. */
  dbSizes(): Array<{ db: number; size: number; expires: number }> {
    return this.walks.map((w) => ({ db: w.dbIndex, size: w.size, expires: w.expiresSize }));
  }

  beforeChange(keys: KeyTable<RedisValue>, expires: KeyTable<number>, key: string): void {
    const w = this.byTable.get(keys);
    // Once the iterator has ended every key present was emitted or created since.
    if (w === undefined || w.iteratorDone) return;
    const seen = w.changed.get(key);
    if (seen !== undefined) {
      if ((seen.fate === Fate.Kept || seen.fate === Fate.Unknown) && !seen.deleted && !keys.has(key)) seen.deleted = true;
      return;
    }
    const v = keys.get(key);
    if (v === undefined) {
      w.changed.set(key, CREATED);
      return;
    }
    const expire = expires.size === 0 ? -1 : (expires.get(key) ?? -1);
    if (typeof v !== "string" && isLarge(v)) {
      if (w.emittedLarge.has(v)) {
        w.emittedLarge.delete(v);
        w.changed.set(key, DONE);
        return;
      }
      // Large and not emitted (it was large at the start: any change since would be noted).
      w.changed.set(key, { fate: Fate.Kept, value: cloneValue(v), expire, deleted: false });
    } else {
      w.changed.set(key, { fate: Fate.Unknown, value: cloneValue(v), expire, deleted: false });
    }
    this.copiedOnWrite++;
  }

  /**
   * Appends up to `max` records to `out`, in database order. Returns false once everything
   * has been produced (this call's records included; the snapshot is then detached). A call
   * may return no record and true (a step of bookkeeping was done).
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
      if (!w.iteratorDone) {
        const entry = w.nextEntry();
        if (entry === undefined) {
          w.finishIteration();
          continue;
        }
        const key = entry[0];
        if (w.changed.size !== 0) {
          const e = w.changed.get(key);
          if (e !== undefined) {
            // Yielded at its original place (never deleted): the walk had not reached it.
            if ((e.fate === Fate.Kept || e.fate === Fate.Unknown) && !e.deleted) {
              w.changed.set(key, DONE);
              sink.record(w.dbIndex, key, e.value!, e.expire);
              n++;
            }
            continue;
          }
        }
        const value = entry[1];
        w.noteEmitted(key, value);
        sink.record(w.dbIndex, key, value, w.expires.size === 0 ? -1 : (w.expires.get(key) ?? -1));
        n++;
        continue;
      }
      if (!w.resolveStep()) return true; // one bounded step per call
      const left = w.leftovers!.pop();
      if (left !== undefined) {
        const [key, kept] = left;
        sink.record(w.dbIndex, key, kept.value!, kept.expire);
        n++;
        continue;
      }
      w.done = true;
      w.clear();
      this.current++;
    }
    if (this.current >= this.walks.length) {
      this.detach();
      return false;
    }
    return true;
  }

  /** Stops watching the databases (when done or abandoned). */
  detach(): void {
    if (this.finished) return;
    this.finished = true;
    for (const db of this.dbs) if (db.watcher === this) db.watcher = null;
    for (const w of this.walks) {
      w.clear();
      w.keys.releaseLayout();
    }
  }

  get isFinished(): boolean {
    return this.finished;
  }
}
