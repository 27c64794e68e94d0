// A point-in-time view of a keyspace, read while writes go on (BGSAVE, a full sync): what Redis
// gets from fork(), at the grain of records instead of pages.
//
// The snapshot walks the arena, not the index: the slabs that existed at its start ("old"
// slabs), chunk by chunk, in id order. The keyspace keeps three promises while it runs
// (keyspace.ts, arena.ts):
//   - new records go to fresh slabs, so every record in an old slab existed at the start;
//   - a record the walk has not reached is never changed in place: a change writes a new
//     record and leaves the old one, flagged SnapshotKept, where it was;
//   - side-table entries (aggregates, big strings) are released only at the end, and an
//     aggregate a kept record still points at is copied before it changes.
// So every non-free chunk the walk finds in an old slab holds the key's state at the start,
// and every key of the start is found exactly once: a key changed before the walk reached it
// is found as its kept record, a key changed after as its record in place, and the new records
// a change writes are in fresh slabs, never walked.
//
// Nothing is recorded per key walked; per key changed ahead of the walk, one record is copied.
// FLUSHDB and SWAPDB replace or exchange Keyspace objects: a snapshot keeps walking the one it
// started with.

import { KeptObjects, type Keyspace } from "./keyspace.ts";
import { REF_SHIFT } from "./arena.ts";
import { KIND_MASK, Kind } from "./record.ts";

export class KeyspaceSnapshot {
  private slab = 0;
  private chunk = 0;
  done = false;
  /** Keys at the start (for the RDB's RESIZEDB hint). */
  readonly size: number;
  readonly volatileSize: number;

  /**
   * @param keptObjects shared by the snapshots of one dataset, so that an aggregate moved
   *   from one keyspace to another is still copied before it changes (KeptObjects).
   */
  constructor(
    readonly keyspace: Keyspace,
    keptObjects: KeptObjects = new KeptObjects(),
  ) {
    keyspace.beginSnapshotBook(keptObjects);
    this.size = keyspace.size;
    this.volatileSize = keyspace.volatile.size;
  }

  /**
   * Hands up to `budget` records to `visit` (by ref: read them with the keyspace's *Of
   * accessors; do not write to the keyspace from `visit`). Returns false once the walk is
   * complete (the snapshot has then ended).
   */
  step(visit: (ref: number) => void, budget: number): boolean {
    if (this.done) return false;
    const arena = this.keyspace.arena;
    const limit = arena.snapshotSlabLimit;
    while (this.slab < limit) {
      const s = this.slab;
      if (!arena.isOld(s)) {
        this.slab++;
        this.chunk = 0;
        continue;
      }
      const size = arena.slabChunkSize(s);
      const used = arena.usedChunks(s);
      const words = arena.words[s]!;
      while (this.chunk < used) {
        const off = this.chunk * size;
        this.chunk++;
        if ((words[off >> 2]! & KIND_MASK) === Kind.Free) continue;
        // Walked from here on: a write to it may now happen in place.
        arena.walkSlab = s;
        arena.walkOffset = off + size;
        visit((s << REF_SHIFT) | (off >>> 3));
        if (--budget === 0) return true;
      }
      this.slab++;
      this.chunk = 0;
      arena.walkSlab = this.slab;
      arena.walkOffset = 0;
    }
    this.end();
    return false;
  }

  /** Ends the snapshot (complete or abandoned): kept records and deferred entries are freed. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.keyspace.endSnapshotBook();
  }
}
