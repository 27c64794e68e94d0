// Giving memory back after deletions: deleting keys at random leaves every slab of a class
// partly empty, and a slab is only released when it is completely empty. Compaction picks one
// sparse slab (Arena.compactionCandidate), moves its records into free chunks of other slabs of
// the same class, points the index (and VolatileKeys) at their new places, and releases the
// slab. Each record is found in the index by its key's hash and its ref, so no key is compared.
//
// It works in steps of a bounded number of chunks, for the server's cron: between steps the
// slab being emptied takes no new records, and its records can be read, overwritten in place
// or deleted as any other (a record the step has not reached is moved later, one it passed is
// gone from it). A snapshot starting meanwhile ends the compaction (records must not move
// under it); the slab is then an ordinary one again.

import { OFFSET_MASK, REF_SHIFT } from "./arena.ts";
import type { Keyspace } from "./keyspace.ts";
import { Flag, KIND_MASK, Kind, VOLATILE_POS_AT } from "./record.ts";

/**
 * Examines up to `budget` chunks of the slab being emptied (picking one first if none is);
 * returns the chunks examined: 0 when there is nothing worth compacting.
 */
export function compactStep(ks: Keyspace, budget = 4096): number {
  const arena = ks.arena;
  let s = arena.compacting;
  if (s < 0) {
    s = arena.compactionCandidate();
    if (s < 0) return 0;
    arena.retire(s);
  }
  const size = arena.slabChunkSize(s);
  const cls = arena.slabClass[s]!;
  const used = arena.usedChunks(s);
  const from = arena.bytes[s]!;
  const words = arena.words[s]!;
  let c = arena.compactChunk;
  const end = Math.min(used, c + budget);
  const examined = end - c;
  for (let off = c * size; c < end; c++, off += size) {
    const h = words[off >> 2]!;
    if ((h & KIND_MASK) === Kind.Free) continue;
    const ref = (s << REF_SHIFT) | (off >>> 3);
    const slot = ks.slotOfRef(ref);
    const next = arena.alloc(cls);
    from.copy(arena.bytes[next >>> REF_SHIFT]!, (next & OFFSET_MASK) << 3, off, off + size);
    ks.table[(slot << 1) + 1] = next;
    if (h & Flag.Expire) ks.volatile.update(words[(off + VOLATILE_POS_AT) >> 2]!, next);
    arena.free(ref);
    arena.movedRecords++;
  }
  arena.compactChunk = c;
  if (c >= used) arena.releaseRetired(s);
  return Math.max(1, examined);
}
