// A point-in-time view of the whole dataset, taken without copying it and without stopping
// the server: what Redis gets from fork(), we get from copy-on-write at the key level.
//
// Each database's live Map is walked with its own iterator, a chunk at a time, between other
// work. Before any key changes (value, expiry, deletion, in-place modification of an
// aggregate), the database tells the snapshot (ChangeWatcher); if the walk has not reached
// that key yet, its old state is kept aside (aggregates are cloned, strings shared). Keys
// created after the snapshot started are remembered and skipped. The result is exactly the
// dataset as it was at the start, however long the walk takes.
//
// Databases are tracked by the identity of their key Map, so FLUSHALL (new Maps) and SWAPDB
// (Maps exchanged) during a snapshot are handled: the snapshot keeps walking the Maps it
// started with, and changes reach it through whichever database now holds them.

import { cloneValue } from "../store/clone.ts";
import type { ChangeWatcher, Database } from "../store/database.ts";
import type { RedisValue } from "../store/values.ts";

export interface SnapshotRecord {
  db: number;
  key: string;
  value: RedisValue;
  /** Absolute Unix ms, or -1. */
  expire: number;
}

interface Preserved {
  value: RedisValue;
  expire: number;
}

class MapWalk {
  readonly iterator: Iterator<[string, RedisValue]>;
  /** Keys already emitted (or found absent at the start). */
  readonly visited = new Set<string>();
  /** Old state of keys changed before the walk reached them. */
  readonly preserved = new Map<string, Preserved>();
  /** Keys that did not exist when the snapshot started. */
  readonly absent = new Set<string>();
  iteratorDone = false;
  done = false;
  /** Sizes at the start (for RESIZEDB hints). */
  readonly size: number;
  readonly expiresSize: number;

  constructor(
    readonly dbIndex: number,
    readonly keys: Map<string, RedisValue>,
    readonly expires: Map<string, number>,
  ) {
    this.iterator = keys.entries();
    this.size = keys.size;
    this.expiresSize = expires.size;
  }
}

export class DatasetSnapshot implements ChangeWatcher {
  private readonly walks: MapWalk[];
  private readonly byMap = new Map<Map<string, RedisValue>, MapWalk>();
  private current = 0;
  private finished = false;
  /** Keys preserved (copied on write) during the snapshot, for statistics. */
  copiedOnWrite = 0;

  constructor(private readonly dbs: Database[]) {
    this.walks = dbs.map((db) => new MapWalk(db.id, db.keys, db.expires));
    for (const w of this.walks) this.byMap.set(w.keys, w);
    for (const db of dbs) {
      if (db.watcher) throw new Error("a snapshot is already running on this dataset");
      db.watcher = this;
    }
  }

  /** Per-database sizes at the start of the snapshot. */
  dbSizes(): Array<{ db: number; size: number; expires: number }> {
    return this.walks.map((w) => ({ db: w.dbIndex, size: w.size, expires: w.expiresSize }));
  }

  beforeChange(keys: Map<string, RedisValue>, expires: Map<string, number>, key: string): void {
    const w = this.byMap.get(keys);
    if (!w || w.done || w.visited.has(key) || w.preserved.has(key) || w.absent.has(key)) return;
    const v = keys.get(key);
    if (v === undefined) {
      w.absent.add(key);
      return;
    }
    w.preserved.set(key, { value: cloneValue(v), expire: expires.get(key) ?? -1 });
    this.copiedOnWrite++;
  }

  /**
   * Appends up to `max` records to `out`, in database order. Returns false once everything
   * has been produced (this call's records included; the snapshot is then detached).
   * Records may reference live values: serialize them before anything else runs.
   */
  next(max: number, out: SnapshotRecord[]): boolean {
    let n = 0;
    while (n < max && this.current < this.walks.length) {
      const w = this.walks[this.current]!;
      if (!w.iteratorDone) {
        const r = w.iterator.next();
        if (r.done) {
          w.iteratorDone = true;
          continue;
        }
        const [key, value] = r.value;
        if (w.visited.has(key) || w.absent.has(key)) continue;
        w.visited.add(key);
        const kept = w.preserved.get(key);
        if (kept) {
          w.preserved.delete(key);
          out.push({ db: w.dbIndex, key, value: kept.value, expire: kept.expire });
        } else {
          out.push({ db: w.dbIndex, key, value, expire: w.expires.get(key) ?? -1 });
        }
        n++;
        continue;
      }
      // Keys deleted before the walk reached them: their preserved state completes the view.
      const left = w.preserved.entries().next();
      if (!left.done) {
        const [key, kept] = left.value;
        w.preserved.delete(key);
        w.visited.add(key);
        out.push({ db: w.dbIndex, key, value: kept.value, expire: kept.expire });
        n++;
        continue;
      }
      w.done = true;
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
      w.visited.clear();
      w.preserved.clear();
      w.absent.clear();
    }
  }

  get isFinished(): boolean {
    return this.finished;
  }
}
