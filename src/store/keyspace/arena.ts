// The bytes of a keyspace: records (record.ts) in chunks of fixed-size slabs, one size class per
// slab (size-classes.ts). A record is named by its ref: its byte offset in 8-byte units across
// all slabs, so the slab is `ref >>> REF_SHIFT` and the offset `(ref & OFFSET_MASK) << 3`.
//
//   ref (32 bits):  | slab id (15 bits) | offset in the slab / 8 (17 bits) |
//
// Slabs are ArrayBuffers of up to 1 MiB, allocated whole: the kernel commits their pages when
// first written, so a slab that holds three records costs a page or two, not a megabyte, and a
// released slab goes back to the OS (measured: bench/keyspace-memory.bench.ts). The first
// slabs of a class are smaller (64 KiB, then doubling): the runtime counts an ArrayBuffer's
// whole size in its heap (used_memory), and 16 databases with a few keys each should not
// count megabytes per class they use. With 32-bit refs
// an arena addresses 32 GiB of records; values above MAX_CHUNK live outside it.
//
// Allocation takes a chunk from the newest slab of the class that has room (its free list, then
// never-used chunks), so it is O(1). A slab left empty is released. Deleting keys at random
// leaves every slab partly empty instead: `compactionCandidate` picks slabs whose records fit
// in the free chunks of their class, and the keyspace moves them (it owns the index that must
// follow them) and releases the slab.
//
// While a snapshot runs (snapshot.ts), the slabs that existed at its start are "old": new
// records go to fresh slabs only, so every record the snapshot finds in an old slab existed at
// its start. The snapshot walks old slabs in id order; `walkSlab` / `walkOffset` say how far.

import { CLASS_COUNT, CLASS_SIZES } from "./size-classes.ts";

const SLAB_SHIFT = 20;
const SLAB_SIZE = 1 << SLAB_SHIFT;
/** The first slab of a class; the next ones double up to SLAB_SIZE. */
const FIRST_SLAB_SIZE = 1 << 16;
export const REF_SHIFT = SLAB_SHIFT - 3;
export const OFFSET_MASK = (1 << REF_SHIFT) - 1;
const MAX_SLABS = 1 << (32 - REF_SHIFT);

const NO_CLASS = 255;
const OLD = 1;
const RETIRED = 2;

const EMPTY_BYTES = Buffer.alloc(0);
const EMPTY_WORDS = new Int32Array(0);
const EMPTY_FLOATS = new Float64Array(0);

interface ArenaOptions {
  /** Slabs in SharedArrayBuffers, for an arena built by a worker and adopted by this thread. */
  shared?: boolean;
}

/** The finished slabs of an arena, as a worker hands them over (see Arena.export / adopt). */
export interface ArenaState {
  buffers: Array<ArrayBufferLike | null>;
  slabClass: Uint8Array;
  slabLive: Int32Array;
  slabFree: Int32Array;
  slabBump: Int32Array;
}

export class Arena {
  /** Per slab id: the same memory as bytes, 32-bit words and 64-bit floats. */
  bytes: Buffer[] = [];
  words: Int32Array[] = [];
  floats: Float64Array[] = [];
  /** Per slab id: its class (NO_CLASS when the id is unused), live chunks, free-list head, chunks ever used. */
  slabClass = new Uint8Array(16).fill(NO_CLASS);
  slabLive = new Int32Array(16);
  slabFree = new Int32Array(16).fill(-1);
  slabBump = new Int32Array(16);
  /** Per slab id: how many chunks it holds (its size / its class's chunk size). */
  slabCapacity = new Int32Array(16);
  /** Slab ids in use or released: ids below this have metadata. */
  slabCount = 0;
  private readonly freeIds: number[] = [];
  /** Per class: slabs with a free chunk, the newest last (allocation takes from it). */
  private partial: number[][] = [];
  private inPartial = new Uint8Array(16);
  /** Live chunks per class. */
  readonly classLive = new Float64Array(CLASS_COUNT);
  /** Slabs per class, and the chunks they hold together. */
  readonly classSlabs = new Int32Array(CLASS_COUNT);
  readonly classCapacity = new Float64Array(CLASS_COUNT);
  /** Bytes of all slabs. */
  slabBytes = 0;
  /** Bytes of the chunks holding records (live, or kept for a snapshot). */
  private liveBytes = 0;
  readonly shared: boolean;

  // Snapshot bookkeeping (see the header comment).
  snapshotActive = false;
  /** Per slab id: OLD when the slab existed at the snapshot's start, RETIRED while compaction empties it. */
  private slabState = new Uint8Array(16);
  /** Old slabs ids are below this. */
  snapshotSlabLimit = 0;
  walkSlab = 0;
  walkOffset = 0;

  constructor(options: ArenaOptions = {}) {
    this.shared = options.shared ?? false;
    for (let c = 0; c < CLASS_COUNT; c++) this.partial.push([]);
  }

  /** A chunk of class `cls`; returns its ref. Its bytes are whatever was there. */
  alloc(cls: number): number {
    const list = this.partial[cls]!;
    let s: number;
    if (list.length === 0) {
      s = this.newSlab(cls);
      list.push(s);
      this.inPartial[s] = 1;
    } else s = list[list.length - 1]!;
    const size = CLASS_SIZES[cls]!;
    let index = this.slabFree[s]!;
    if (index >= 0) this.slabFree[s] = this.words[s]![((index * size) >> 2) + 1]!;
    else index = this.slabBump[s]!++;
    this.slabLive[s]!++;
    this.classLive[cls]!++;
    this.liveBytes += size;
    if (this.slabFree[s]! < 0 && this.slabBump[s]! >= this.slabCapacity[s]!) {
      list.pop();
      this.inPartial[s] = 0;
    }
    return (s << REF_SHIFT) | ((index * size) >>> 3);
  }

  /** Chunks freed so far (KeyspaceIndex.findString's last-lookup is valid while it stays). */
  frees = 0;

  /** Returns a chunk to its slab; a slab left empty is released (not during a snapshot). */
  free(ref: number): void {
    this.frees++;
    const s = ref >>> REF_SHIFT;
    const offset = (ref & OFFSET_MASK) << 3;
    const cls = this.slabClass[s]!;
    const w = this.words[s]!;
    w[offset >> 2] = 0;
    w[(offset >> 2) + 1] = this.slabFree[s]!;
    this.slabFree[s] = (offset / CLASS_SIZES[cls]!) | 0;
    this.slabLive[s]!--;
    this.classLive[cls]!--;
    this.liveBytes -= CLASS_SIZES[cls]!;
    if (this.slabState[s] !== 0) return; // old slabs take no new records now; retired ones are being emptied
    if (this.slabLive[s] === 0 && this.classSlabs[cls]! > 1) {
      this.releaseSlab(s);
      return;
    }
    if (this.inPartial[s] === 0) {
      this.partial[cls]!.push(s);
      this.inPartial[s] = 1;
    }
  }

  chunkSize(ref: number): number {
    return CLASS_SIZES[this.slabClass[ref >>> REF_SHIFT]!]!;
  }

  classOfRef(ref: number): number {
    return this.slabClass[ref >>> REF_SHIFT]!;
  }

  /** Bytes of chunks holding records (live or kept for a snapshot). */
  get chunkBytes(): number {
    return this.liveBytes;
  }

  /** Bytes of chunks ever used, live or free: about what is resident. */
  get touchedBytes(): number {
    let n = 0;
    for (let s = 0; s < this.slabCount; s++) if (this.slabClass[s] !== NO_CLASS) n += this.slabBump[s]! * CLASS_SIZES[this.slabClass[s]!]!;
    return n;
  }

  private newSlab(cls: number): number {
    let s = this.freeIds.pop();
    if (s === undefined) {
      if (this.slabCount === MAX_SLABS) throw new RangeError("keyspace arena full (32 GiB of records)");
      s = this.slabCount++;
      if (s >= this.slabClass.length) this.growMetadata();
    }
    const size = Math.min(SLAB_SIZE, FIRST_SLAB_SIZE * 2 ** Math.min(this.classSlabs[cls]!, 4));
    const buffer = this.shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
    this.setViews(s, buffer);
    this.slabClass[s] = cls;
    this.slabCapacity[s] = Math.floor(size / CLASS_SIZES[cls]!);
    this.classCapacity[cls]! += this.slabCapacity[s]!;
    this.slabBytes += size;
    this.slabLive[s] = 0;
    this.slabFree[s] = -1;
    this.slabBump[s] = 0;
    this.slabState[s] = 0;
    this.classSlabs[cls]!++;
    return s;
  }

  private setViews(s: number, buffer: ArrayBufferLike | null): void {
    const bytes = buffer === null ? EMPTY_BYTES : Buffer.from(buffer);
    const words = buffer === null ? EMPTY_WORDS : new Int32Array(buffer);
    const floats = buffer === null ? EMPTY_FLOATS : new Float64Array(buffer);
    if (s < this.bytes.length) {
      this.bytes[s] = bytes;
      this.words[s] = words;
      this.floats[s] = floats;
    } else {
      while (this.bytes.length < s) {
        this.bytes.push(EMPTY_BYTES);
        this.words.push(EMPTY_WORDS);
        this.floats.push(EMPTY_FLOATS);
      }
      this.bytes.push(bytes);
      this.words.push(words);
      this.floats.push(floats);
    }
  }

  private releaseSlab(s: number): void {
    const cls = this.slabClass[s]!;
    if (this.inPartial[s] === 1) {
      const list = this.partial[cls]!;
      list.splice(list.lastIndexOf(s), 1);
      this.inPartial[s] = 0;
    }
    this.classSlabs[cls]!--;
    this.classCapacity[cls]! -= this.slabCapacity[s]!;
    this.slabBytes -= this.bytes[s]!.length;
    this.slabClass[s] = NO_CLASS;
    this.setViews(s, null);
    this.freeIds.push(s);
  }

  private growMetadata(): void {
    const n = Math.min(MAX_SLABS, this.slabClass.length * 2);
    const grow = <T extends Uint8Array | Int32Array>(a: T, fill: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.fill(fill);
      b.set(a);
      return b;
    };
    this.slabClass = grow(this.slabClass, NO_CLASS);
    this.slabLive = grow(this.slabLive, 0);
    this.slabFree = grow(this.slabFree, -1);
    this.slabBump = grow(this.slabBump, 0);
    this.slabCapacity = grow(this.slabCapacity, 0);
    this.inPartial = grow(this.inPartial, 0);
    this.slabState = grow(this.slabState, 0);
  }

  // -------------------------------------------------------------------------------------------
  // Compaction

  /**
   * A slab worth emptying into the other slabs of its class: the sparsest one, when the free
   * chunks of the others can hold its records and the class wastes at least a slab and an
   * eighth of its space. -1 when none (or while a snapshot runs).
   */
  compactionCandidate(): number {
    if (this.snapshotActive) return -1;
    let best = -1;
    let bestLive = Infinity;
    for (let s = 0; s < this.slabCount; s++) {
      const cls = this.slabClass[s]!;
      if (cls === NO_CLASS || this.classSlabs[cls]! < 2) continue;
      const capacity = this.slabCapacity[s]!;
      const total = this.classCapacity[cls]!;
      const free = total - this.classLive[cls]!;
      if (free < capacity || free * 8 < total) continue;
      const live = this.slabLive[s]!;
      // Its records must fit in the other slabs' free chunks.
      if (free - (capacity - live) < live) continue;
      if (live < bestLive) {
        bestLive = live;
        best = s;
      }
    }
    return best;
  }

  /** The slab compaction is emptying (-1: none), and the next chunk it will look at. */
  compacting = -1;
  compactChunk = 0;
  /** Records moved by compaction so far. */
  movedRecords = 0;

  /** Stops allocating from slab `s`: compaction empties it. */
  retire(s: number): void {
    this.compacting = s;
    this.compactChunk = 0;
    if (this.inPartial[s] === 1) {
      const list = this.partial[this.slabClass[s]!]!;
      list.splice(list.lastIndexOf(s), 1);
      this.inPartial[s] = 0;
    }
    this.slabState[s] = RETIRED;
  }

  /** Releases a retired slab whose records were all moved out. */
  releaseRetired(s: number): void {
    this.slabState[s] = 0;
    this.compacting = -1;
    this.releaseSlab(s);
  }

  /** Chunks of slab `s` that were ever used (live or free), and their size. */
  usedChunks(s: number): number {
    return this.slabClass[s] === NO_CLASS ? 0 : this.slabBump[s]!;
  }

  slabChunkSize(s: number): number {
    return CLASS_SIZES[this.slabClass[s]!]!;
  }

  isSlabInUse(s: number): boolean {
    return s < this.slabCount && this.slabClass[s] !== NO_CLASS;
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots

  beginSnapshot(): void {
    this.snapshotActive = true;
    // A compaction in progress ends: its slab becomes an old slab like the others.
    this.compacting = -1;
    this.snapshotSlabLimit = this.slabCount;
    for (let s = 0; s < this.slabCount; s++) this.slabState[s] = this.slabClass[s] === NO_CLASS ? 0 : OLD;
    this.walkSlab = 0;
    this.walkOffset = 0;
    // New records go to fresh slabs: forget which old slabs have room.
    for (let c = 0; c < CLASS_COUNT; c++) {
      for (const s of this.partial[c]!) this.inPartial[s] = 0;
      this.partial[c] = [];
    }
  }

  isOld(s: number): boolean {
    return this.slabState[s] === OLD;
  }

  /** Whether the snapshot in progress still has to read the record at `ref`. */
  isUnwalked(ref: number): boolean {
    const s = ref >>> REF_SHIFT;
    if (this.slabState[s] !== OLD) return false;
    return s > this.walkSlab || (s === this.walkSlab && (ref & OFFSET_MASK) << 3 >= this.walkOffset);
  }

  /** The snapshot ended: old slabs take records again; empty ones are released. */
  endSnapshot(): void {
    this.snapshotActive = false;
    for (let s = 0; s < this.snapshotSlabLimit; s++) {
      if (this.slabState[s] !== OLD) continue;
      this.slabState[s] = 0;
      const cls = this.slabClass[s]!;
      if (this.slabLive[s] === 0 && this.classSlabs[cls]! > 1) {
        this.releaseSlab(s);
        continue;
      }
      if (this.inPartial[s] === 0 && (this.slabFree[s]! >= 0 || this.slabBump[s]! < this.slabCapacity[s]!)) {
        // Older slabs go first in the list: allocation fills the newest (last) one.
        this.partial[cls]!.unshift(s);
        this.inPartial[s] = 1;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Handing an arena over from a worker

  /** The slabs and their metadata, to be posted to another thread (shared arenas only). */
  export(): ArenaState {
    if (!this.shared) throw new Error("only a shared arena can be handed to another thread");
    const buffers: Array<ArrayBufferLike | null> = [];
    for (let s = 0; s < this.slabCount; s++) buffers.push(this.slabClass[s] === NO_CLASS ? null : this.bytes[s]!.buffer);
    return {
      buffers,
      slabClass: this.slabClass.slice(0, this.slabCount),
      slabLive: this.slabLive.slice(0, this.slabCount),
      slabFree: this.slabFree.slice(0, this.slabCount),
      slabBump: this.slabBump.slice(0, this.slabCount),
    };
  }

  /** An arena over slabs another thread built (no copy of the slabs). */
  static adopt(state: ArenaState): Arena {
    const a = new Arena({ shared: true });
    const n = state.buffers.length;
    while (a.slabClass.length < n) a.growMetadata();
    a.slabCount = n;
    for (let s = 0; s < n; s++) {
      const buffer = state.buffers[s] ?? null;
      a.setViews(s, buffer);
      const cls = state.slabClass[s]!;
      a.slabClass[s] = cls;
      a.slabLive[s] = state.slabLive[s]!;
      a.slabFree[s] = state.slabFree[s]!;
      a.slabBump[s] = state.slabBump[s]!;
      if (cls === NO_CLASS) {
        a.freeIds.push(s);
        continue;
      }
      a.classSlabs[cls]!++;
      a.classLive[cls]! += a.slabLive[s]!;
      a.liveBytes += a.slabLive[s]! * CLASS_SIZES[cls]!;
      a.slabCapacity[s] = Math.floor(buffer!.byteLength / CLASS_SIZES[cls]!);
      a.classCapacity[cls]! += a.slabCapacity[s]!;
      a.slabBytes += buffer!.byteLength;
      if (a.slabFree[s]! >= 0 || a.slabBump[s]! < a.slabCapacity[s]!) {
        a.partial[cls]!.push(s);
        a.inPartial[s] = 1;
      }
    }
    return a;
  }
}
