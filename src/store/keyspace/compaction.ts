// Giving memory back after deletions: deleting keys at random leaves every slab of a class
// partly empty, and a slab is only released when it is completely empty. A compaction step
// picks one sparse slab (Arena.compactionCandidate), moves its records into free chunks of
// other slabs of the same class, points the index (and VolatileKeys) at their new places, and
// releases the slab. Each record is found in the index by its key's hash and its ref, so no
// key is compared. Meant for the server's cron, one step (one slab, at most a few ms) at a time;
// never during a snapshot (records must not move under it).

import { OFFSET_MASK, REF_SHIFT } from "./arena.ts";
import type { Keyspace } from "./keyspace.ts";
import { Flag, KIND_MASK, Kind, VOLATILE_POS_AT } from "./record.ts";

/** Empties one slab if one is worth it; returns the records moved (0: nothing to do). */
export function compactStep(ks: Keyspace): number {
  const arena = ks.arena;
  const s = arena.compactionCandidate();
  if (s < 0) return 0;
  arena.retire(s);
  const size = arena.slabChunkSize(s);
  const cls = arena.slabClass[s]!;
  const used = arena.usedChunks(s);
  const from = arena.bytes[s]!;
  const words = arena.words[s]!;
  let moved = 0;
  for (let c = 0, off = 0; c < used; c++, off += size) {
    const h = words[off >> 2]!;
    if ((h & KIND_MASK) === Kind.Free) continue;
    const ref = (s << REF_SHIFT) | (off >>> 3);
    const slot = ks.slotOfRef(ref);
    const next = arena.alloc(cls);
    from.copy(arena.bytes[next >>> REF_SHIFT]!, (next & OFFSET_MASK) << 3, off, off + size);
    ks.table[(slot << 1) + 1] = next;
    if (h & Flag.Expire) ks.volatile.update(words[(off + VOLATILE_POS_AT) >> 2]!, next);
    arena.free(ref);
    moved++;
  }
  arena.releaseRetired(s);
  return moved;
}
