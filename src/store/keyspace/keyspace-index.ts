// The index of a keyspace (keyspace.ts): the open-addressing table over the records of the
// arena, with lookups, reads of a record (by slot, or by ref for walkers), resizing and
// iteration (SCAN, RANDOMKEY). Keyspace extends it with the writes, the snapshot bookkeeping
// and the hand-off from a worker; the layout is described in keyspace.ts.

import { Arena, OFFSET_MASK, REF_SHIFT } from "./arena.ts";
import { hashBytes, hashString } from "./key-hash.ts";
import { AccessClock } from "./access-clock.ts";
import { EXPIRE_EXTRA, Flag, HEADER, KIND_MASK, Kind, LRU_SHIFT, PACKED_HEAD, SIDE_REF } from "./record.ts";
import { nextScanCursor } from "./scan-cursor.ts";
import { MAX_CHUNK } from "./size-classes.ts";
import { SideTable } from "./side-table.ts";
import { VolatileKeys } from "./volatile-keys.ts";

export const NOT_FOUND = -1;
const EMPTY_RANGE = new Uint8Array(0);
export const NO_EXPIRE = -1;

export const MIN_CAPACITY = 8;
/**
 * Below this many bytes a copy is a JS loop; above, one native copy (measured for 10..100-byte
 * values: loop 52 ns, Buffer.copy 32 ns, set(subarray) 69 ns).
 */
const SHORT_COPY = 16;

export interface KeyspaceOptions {
  /** Grow when more than this fraction of the slots are used (default 0.75). */
  maxLoad?: number;
  /** Size the table for this many keys from the start (a load's RESIZEDB hint). */
  expectedKeys?: number;
  /** Slabs and table in SharedArrayBuffers (built by a worker, adopted by another thread). */
  shared?: boolean;
  /** Deep copy of an aggregate, for snapshots (store/clone.ts's cloneValue in the server). */
  cloneObject?: (value: unknown) => unknown;
  /** What an aggregate value costs in bytes (used_memory, maxmemory); Buffers are measured here. */
  measureObject?: (value: unknown) => number;
  /** The server's access clock: new records start with its value (default: a clock of its own). */
  clock?: AccessClock;
}

/** Tables from this capacity on get their successor readied before they grow (smaller ones rehash in well under a millisecond). */
const SPARE_MIN_CAPACITY = 1 << 16;
/** Readying starts this fraction of the capacity before the growth point (a 4M-slot table: 200k inserts ahead). */
const SPARE_LEAD = 0.05;
/**
 * Words of the next table readied per insert: its whole size over the first half of the lead
 * (a 4M-slot table readies an 8M-slot one, 16M words over 100k inserts: 160 a time, a page
 * fault every ~6 inserts). A page per insert was measured to stall a full sync of 3M keys:
 * each 4096-record batch of the load took 50-80 ms of page faults.
 */
function spareIntsPerInsert(capacity: number): number {
  return Math.ceil((capacity * 4) / Math.max(1, (capacity * SPARE_LEAD) / 2));
}

/** The most keys prefetch() reads ahead (a `-P 16` pipeline's). */
export const PREFETCH_MAX = 16;

export class KeyspaceIndex {
  table: Int32Array<ArrayBufferLike>;
  mask: number;
  size = 0;
  protected growAt: number;
  readonly maxLoad: number;
  readonly arena: Arena;
  readonly side: SideTable;
  readonly volatile = new VolatileKeys();
  protected readonly shared: boolean;
  protected readonly cloneObject: (value: unknown) => unknown;
  /** Where new records take their access field from (the database's, set again when it adopts this keyspace). */
  clock: AccessClock;

  constructor(options: KeyspaceOptions = {}) {
    this.maxLoad = options.maxLoad ?? 0.75;
    this.shared = options.shared ?? false;
    this.cloneObject = options.cloneObject ?? ((v) => v);
    this.clock = options.clock ?? new AccessClock();
    const measureObject = options.measureObject ?? (() => 0);
    // A Buffer (a long key or string value): its view and its bytes (memory-size.ts's typedArrayBytes).
    this.side = new SideTable((v) => (v instanceof Uint8Array ? 64 + v.byteLength : measureObject(v)));
    this.arena = new Arena({ shared: this.shared });
    const capacity = capacityFor(options.expectedKeys ?? 0, this.maxLoad);
    this.table = this.newTable(capacity);
    this.mask = capacity - 1;
    this.growAt = Math.floor(capacity * this.maxLoad);
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /**
   * What this keyspace holds, in bytes, as used_memory counts it: the index, the volatile
   * array, the records' chunks and the estimated cost of the side entries.
   */
  get accountedBytes(): number {
    return this.heldBytes(true);
  }

  /** accountedBytes; `measure` false: without measuring marked side entries first (a before/after delta). */
  heldBytes(measure: boolean): number {
    return this.table.byteLength + this.spareBytes + this.volatile.refs.byteLength + this.arena.chunkBytes + (measure ? this.side.bytes : this.side.knownBytes);
  }

  /** An aggregate at `slot` is about to change in place: its cost is measured again. */
  objectChangingAt(slot: number): void {
    this.side.mark(this.sideIndexOf(this.table[(slot << 1) + 1]!));
  }

  // -------------------------------------------------------------------------------------------
  // Lookup

  /**
   * The last key findString found, by reference, with its slot and record: a client reading one
   * key again and again (a hot hash, the request parser handing out the same string) skips the
   * hash and the probe. Entries change slots only by a removal (backward shift) or a resize,
   * which bump `layoutEpoch`; the slot still holding the same record, with no record freed since
   * (the arena's frees: records moved by an overwrite or a compaction), is checked on top, so a
   * table write that forgot the epoch costs a lookup, not a wrong key. Both counters only grow:
   * their sum is compared.
   */
  private lastKey = "";
  private lastSlot = 0;
  private lastRef = 0;
  private lastEpoch = -1;
  /** Bumped when entries may change slots: a removal (backward shift), a resize. */
  protected layoutEpoch = 0;

  findString(key: string): number {
    if (key === this.lastKey && this.lastEpoch === this.layoutEpoch + this.arena.frees) {
      const slot = this.lastSlot;
      if (this.table[(slot << 1) + 1] === this.lastRef) return slot;
    }
    const slot = this.probeString(key);
    if (slot !== NOT_FOUND) {
      this.lastKey = key;
      this.lastSlot = slot;
      this.lastRef = this.table[(slot << 1) + 1]!;
      this.lastEpoch = this.layoutEpoch + this.arena.frees;
    }
    return slot;
  }

  private probeString(key: string): number {
    const h = hashString(key);
    const t = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const th = t[i << 1]!;
      if (th === 0) return NOT_FOUND;
      if (th === h && this.keyEqualsString(t[(i << 1) + 1]!, key)) return i;
    }
  }

  findBytes(buf: Uint8Array, start: number, len: number): number {
    const h = hashBytes(buf, start, len);
    const t = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const th = t[i << 1]!;
      if (th === 0) return NOT_FOUND;
      if (th === h && this.keyEqualsBytes(t[(i << 1) + 1]!, buf, start, len)) return i;
    }
  }

  /** The refs prefetch() read from the table, then follows (at most PREFETCH_MAX). */
  private readonly prefetchRefs = new Int32Array(PREFETCH_MAX);
  /** What prefetch() read, kept so that the compiler cannot drop the reads. */
  prefetched = 0;

  /**
   * Reads, for the keys of a pipeline's commands (request-parser.ts's peekArguments: the
   * quadruple of command k starts at 4k, its key's start and length first), the table slot each
   * hashes to, then the record that slot points at. Lookups done one by one each wait for two
   * cache misses in turn (the slot, then the record); read here in passes of independent reads,
   * the misses of all the keys overlap, and the lookups that follow find both in the cache.
   * Only a hint: a key in another slot (a collision) or no key at all costs a wasted read.
   */
  prefetch(buf: Uint8Array, at: Int32Array, n: number): void {
    const t = this.table;
    const mask = this.mask;
    const refs = this.prefetchRefs;
    if (n > PREFETCH_MAX) n = PREFETCH_MAX;
    // The hashes (no memory read but the request's), the slots (all misses in flight at once),
    // the records.
    for (let k = 0; k < n; k++) refs[k] = (hashBytes(buf, at[k << 2]!, at[(k << 2) + 1]!) & mask) << 1;
    this.followRefs(t, refs, n);
  }

  /** prefetch()'s last two passes: `refs` holds n slot positions (hash & mask, times 2). */
  private followRefs(t: Int32Array, refs: Int32Array, n: number): void {
    for (let k = 0; k < n; k++) {
      const i = refs[k]!;
      refs[k] = t[i] === 0 ? -1 : t[i + 1]!;
    }
    const words = this.arena.words;
    let seen = 0;
    for (let k = 0; k < n; k++) {
      const ref = refs[k]!;
      if (ref !== -1) seen ^= words[ref >>> REF_SHIFT]![((ref & OFFSET_MASK) << 3) >> 2]!;
    }
    this.prefetched = seen;
  }

  /**
   * prefetch() for keys held as strings: `keys[from..]` up to PREFETCH_MAX of them (MGET's, whose
   * lookups would otherwise each wait for their misses in turn).
   */
  prefetchStrings(keys: readonly string[], from: number): void {
    const t = this.table;
    const mask = this.mask;
    const refs = this.prefetchRefs;
    const n = Math.min(PREFETCH_MAX, keys.length - from);
    for (let k = 0; k < n; k++) refs[k] = (hashString(keys[from + k]!) & mask) << 1;
    this.followRefs(t, refs, n);
  }

  refAt(slot: number): number {
    return this.table[(slot << 1) + 1]!;
  }

  /** The slot whose entry points at `ref` (a record found by walking the arena or VolatileKeys). */
  slotOfRef(ref: number): number {
    const h = this.hashOfRecord(ref);
    const t = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const th = t[i << 1]!;
      if (th === 0) return NOT_FOUND;
      if (t[(i << 1) + 1] === ref) return i;
    }
  }

  protected keyEqualsString(ref: number, key: string): boolean {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    const len = key.length;
    if (h & Flag.KeyExternal) {
      const k = this.externalKey(ref);
      if (k.length !== len) return false;
      for (let i = 0; i < len; i++) if (k[i] !== key.charCodeAt(i)) return false;
      return true;
    }
    if ((w[(off >> 2) + 1]! & 0xffff) !== len) return false;
    const b = this.arena.bytes[s]!;
    const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER);
    for (let i = 0; i < len; i++) if (b[p + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  protected keyEqualsBytes(ref: number, buf: Uint8Array, start: number, len: number): boolean {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if (h & Flag.KeyExternal) {
      const k = this.externalKey(ref);
      if (k.length !== len) return false;
      for (let i = 0; i < len; i++) if (k[i] !== buf[start + i]) return false;
      return true;
    }
    if ((w[(off >> 2) + 1]! & 0xffff) !== len) return false;
    const b = this.arena.bytes[s]!;
    const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER);
    for (let i = 0; i < len; i++) if (b[p + i] !== buf[start + i]) return false;
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Reading a record (by slot, or by ref for walkers)

  kindAt(slot: number): Kind {
    return this.kindOf(this.table[(slot << 1) + 1]!);
  }

  kindOf(ref: number): Kind {
    return this.arena.words[ref >>> REF_SHIFT]![((ref & OFFSET_MASK) << 1)]! & KIND_MASK;
  }

  /** Length of a string value. */
  valueLengthAt(slot: number): number {
    return this.valueLengthOf(this.table[(slot << 1) + 1]!);
  }

  valueLengthOf(ref: number): number {
    const s = ref >>> REF_SHIFT;
    const wi = (ref & OFFSET_MASK) << 1;
    const w = this.arena.words[s]!;
    const kind = w[wi]! & KIND_MASK;
    if (kind === Kind.String) return w[wi + 1]! >>> 16;
    if (kind === Kind.BigString) return (this.side.get(this.sideIndexOf(ref)) as Uint8Array).length;
    return 0;
  }

  /** Copies a string value into `out` at `pos` (a reply buffer); returns the bytes copied. */
  copyValueAt(slot: number, out: Uint8Array, pos: number): number {
    return this.copyValueOf(this.table[(slot << 1) + 1]!, out, pos);
  }

  copyValueOf(ref: number, out: Uint8Array, pos: number): number {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if ((h & KIND_MASK) === Kind.String) {
      const lens = w[(off >> 2) + 1]!;
      const len = lens >>> 16;
      const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER) + (h & Flag.KeyExternal ? SIDE_REF : lens & 0xffff);
      copyBytes(this.arena.bytes[s]!, p, len, out, pos);
      return len;
    }
    const big = this.side.get(this.sideIndexOf(ref)) as Uint8Array;
    copyBytes(big, 0, big.length, out, pos);
    return big.length;
  }

  /** A string value as a latin1 JS string (allocates: for commands that still work on strings). */
  /** Where the last stringRangeAt found the value's bytes: this buffer, from this offset. */
  rangeBuffer: Uint8Array = EMPTY_RANGE;
  rangeStart = 0;

  /**
   * A string value's bytes without making a string of them (GET's reply copies them straight
   * from the record): its length, with rangeBuffer / rangeStart set; -1 when the value at
   * `slot` is not a string. Valid until the next change of the keyspace; the caller calls
   * forgetRange() once done (a big value's buffer must not stay referenced from here).
   */
  stringRangeAt(slot: number): number {
    const ref = this.table[(slot << 1) + 1]!;
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    const kind = h & KIND_MASK;
    if (kind === Kind.String) {
      const lens = w[(off >> 2) + 1]!;
      this.rangeBuffer = this.arena.bytes[s]!;
      this.rangeStart = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER) + (h & Flag.KeyExternal ? SIDE_REF : lens & 0xffff);
      return lens >>> 16;
    }
    if (kind !== Kind.BigString) return -1;
    const big = this.side.get(this.sideIndexOf(ref)) as Uint8Array;
    this.rangeBuffer = big;
    this.rangeStart = 0;
    return big.length;
  }

  forgetRange(): void {
    this.rangeBuffer = EMPTY_RANGE;
  }

  /** The meta word of the Packed record the last packedRangeAt found. */
  rangeMeta = 0;

  /**
   * An aggregate held at rest (a Packed record, store/at-rest.ts) read in place, without
   * decoding it into an object: its tag, with rangeBuffer / rangeStart at its packed data,
   * rangeMeta set and the data's length in rangeLength; -1 when the record at `slot` is not
   * Packed. Valid until the next change of the keyspace.
   */
  packedRangeAt(slot: number): number {
    const ref = this.table[(slot << 1) + 1]!;
    if (this.kindOf(ref) !== Kind.Packed) return -1;
    const p = this.packedAt(ref);
    const b = this.arena.bytes[ref >>> REF_SHIFT]!;
    this.rangeBuffer = b;
    this.rangeStart = p + PACKED_HEAD;
    this.rangeLength = (this.arena.words[ref >>> REF_SHIFT]![((ref & OFFSET_MASK) << 1) + 1]! >>> 16) - PACKED_HEAD;
    this.rangeMeta = readU32(b, p + 1);
    return b[p]!;
  }

  /** The data's length in bytes, after packedRangeAt. */
  rangeLength = 0;

  valueStringAt(slot: number): string {
    return this.valueStringOf(this.table[(slot << 1) + 1]!);
  }

  valueStringOf(ref: number): string {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if ((h & KIND_MASK) === Kind.String) {
      const lens = w[(off >> 2) + 1]!;
      const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER) + (h & Flag.KeyExternal ? SIDE_REF : lens & 0xffff);
      return this.arena.bytes[s]!.latin1Slice(p, p + (lens >>> 16));
    }
    return (this.side.get(this.sideIndexOf(ref)) as Buffer).latin1Slice();
  }

  /** Where a Packed record's value starts (its tag). */
  private packedAt(ref: number): number {
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[ref >>> REF_SHIFT]!;
    const h = w[off >> 2]!;
    return off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER) + (h & Flag.KeyExternal ? SIDE_REF : w[(off >> 2) + 1]! & 0xffff);
  }

  /** A Packed record's tag (store/at-rest.ts). */
  packedTagOf(ref: number): number {
    return this.arena.bytes[ref >>> REF_SHIFT]![this.packedAt(ref)]!;
  }

  /** A Packed record's meta word. */
  packedMetaOf(ref: number): number {
    return readU32(this.arena.bytes[ref >>> REF_SHIFT]!, this.packedAt(ref) + 1);
  }

  /** A Packed record's data, as a latin1 string (allocates). */
  packedDataOf(ref: number): string {
    const p = this.packedAt(ref);
    const len = this.arena.words[ref >>> REF_SHIFT]![((ref & OFFSET_MASK) << 1) + 1]! >>> 16;
    return this.arena.bytes[ref >>> REF_SHIFT]!.latin1Slice(p + PACKED_HEAD, p + len);
  }

  /** The object of an Object record. */
  objectAt(slot: number): unknown {
    return this.side.get(this.sideIndexOf(this.table[(slot << 1) + 1]!));
  }

  objectOf(ref: number): unknown {
    return this.side.get(this.sideIndexOf(ref));
  }

  keyStringAt(slot: number): string {
    return this.keyStringOf(this.table[(slot << 1) + 1]!);
  }

  keyStringOf(ref: number): string {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if (h & Flag.KeyExternal) return (this.externalKey(ref) as Buffer).latin1Slice();
    const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER);
    return this.arena.bytes[s]!.latin1Slice(p, p + (w[(off >> 2) + 1]! & 0xffff));
  }

  keyLengthOf(ref: number): number {
    const w = this.arena.words[ref >>> REF_SHIFT]!;
    const wi = (ref & OFFSET_MASK) << 1;
    return w[wi]! & Flag.KeyExternal ? this.externalKey(ref).length : w[wi + 1]! & 0xffff;
  }

  copyKeyOf(ref: number, out: Uint8Array, pos: number): number {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if (h & Flag.KeyExternal) {
      const k = this.externalKey(ref);
      copyBytes(k, 0, k.length, out, pos);
      return k.length;
    }
    const len = w[(off >> 2) + 1]! & 0xffff;
    copyBytes(this.arena.bytes[s]!, off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER), len, out, pos);
    return len;
  }

  /**
   * Bytes the record at `slot` takes: its chunk with its share of the arena's unused space
   * (slabs are filled chunk by chunk), plus a string value or key too long for a chunk (an aggregate's own size is
   * the object's business).
   */
  recordBytesAt(slot: number): number {
    const ref = this.table[(slot << 1) + 1]!;
    const h = this.arena.words[ref >>> REF_SHIFT]![(ref & OFFSET_MASK) << 1]!;
    let n = Math.round((this.arena.chunkSize(ref) * this.arena.slabBytes) / this.arena.chunkBytes);
    if ((h & KIND_MASK) === Kind.BigString) n += this.valueLengthOf(ref);
    if (h & Flag.KeyExternal) n += this.externalKey(ref).length;
    return n;
  }

  /** Absolute Unix ms, or NO_EXPIRE. */
  expireAt(slot: number): number {
    return this.expireOf(this.table[(slot << 1) + 1]!);
  }

  expireOf(ref: number): number {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    if (!(this.arena.words[s]![off >> 2]! & Flag.Expire)) return NO_EXPIRE;
    return this.arena.floats[s]![(off >> 3) + 1]!;
  }

  /** The 24-bit LRU/LFU field of the record `ref`. */
  lruOf(ref: number): number {
    return this.arena.words[ref >>> REF_SHIFT]![(ref & OFFSET_MASK) << 1]! >>> LRU_SHIFT;
  }

  /** The 24-bit LRU/LFU field. */
  lruAt(slot: number): number {
    const ref = this.table[(slot << 1) + 1]!;
    return this.arena.words[ref >>> REF_SHIFT]![(ref & OFFSET_MASK) << 1]! >>> LRU_SHIFT;
  }

  /**
   * Sets the LRU/LFU field (on access). Not a change for snapshots: like Redis's (which skips the
   * update while a child process exists), a snapshot may see the new clock.
   */
  touchAt(slot: number, lru: number): void {
    const ref = this.table[(slot << 1) + 1]!;
    const w = this.arena.words[ref >>> REF_SHIFT]!;
    const wi = (ref & OFFSET_MASK) << 1;
    w[wi] = (w[wi]! & 0xff) | (lru << LRU_SHIFT);
  }

  protected sideIndexOf(ref: number): number {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER) + (h & Flag.KeyExternal ? SIDE_REF : w[(off >> 2) + 1]! & 0xffff);
    return readU32(this.arena.bytes[s]!, p);
  }

  protected externalKey(ref: number): Uint8Array {
    const off = (ref & OFFSET_MASK) << 3;
    const s = ref >>> REF_SHIFT;
    const h = this.arena.words[s]![off >> 2]!;
    return this.side.get(readU32(this.arena.bytes[s]!, off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER))) as Uint8Array;
  }

  protected hashOfRecord(ref: number): number {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if (h & Flag.KeyExternal) {
      const k = this.externalKey(ref);
      return hashBytes(k, 0, k.length);
    }
    return hashBytes(this.arena.bytes[s]!, off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER), w[(off >> 2) + 1]! & 0xffff);
  }

  // -------------------------------------------------------------------------------------------
  // Table size

  // Growth without a long stall. Rehashing into a doubled table is a sequential pass (~12 ns an
  // entry); what makes it slow is the kernel supplying the new table's pages on first write
  // (measured here: 590 ms for a 128 MB table at 6M keys, 80 ms when its pages were already
  // in). So the next table is allocated when the load nears the growth point and its pages are
  // touched a few at a time, a part of a page per insert (and by the cron), before it is needed. It
  // costs its memory while the load sits just below the growth point: maintainSpare() drops
  // it when no key was added for a while.

  /** The next, doubled table being readied (pages touched up to spareTouched), or null. */
  private spare: Int32Array<ArrayBufferLike> | null = null;
  private spareTouched = 0;
  private sizeAtLastMaintenance = 0;

  /** After an insert: ready the next table a page at a time once the load is close to growth. */
  protected readyGrowth(): void {
    if (this.size < this.growAt - ((this.capacity * SPARE_LEAD) | 0) || this.capacity < SPARE_MIN_CAPACITY) return;
    this.touchSpare(spareIntsPerInsert(this.capacity));
  }

  private touchSpare(ints: number): void {
    let spare = this.spare;
    if (spare === null) {
      this.spare = spare = this.newTable(this.capacity * 2);
      this.spareTouched = 0;
    }
    if (this.spareTouched >= spare.length) return;
    const end = Math.min(spare.length, this.spareTouched + ints);
    spare.fill(0, this.spareTouched, end);
    this.spareTouched = end;
  }

  /**
   * From the cron: goes on readying the next table (up to `ints` more of it); with
   * `dropIfIdle` (every few seconds), drops it when no key was added since the last such call.
   */
  maintainSpare(ints: number, dropIfIdle: boolean): void {
    if (this.spare === null) return;
    if (dropIfIdle) {
      const idle = this.size <= this.sizeAtLastMaintenance;
      this.sizeAtLastMaintenance = this.size;
      if (idle) {
        this.spare = null;
        this.spareTouched = 0;
        return;
      }
    }
    this.touchSpare(ints);
  }

  /** Bytes of the next table readied so far (counted in used_memory). */
  get spareBytes(): number {
    return this.spare === null ? 0 : this.spareTouched * 4;
  }

  protected newTable(capacity: number): Int32Array<ArrayBufferLike> {
    return this.shared ? new Int32Array(new SharedArrayBuffer(capacity * 8)) : new Int32Array(capacity * 2);
  }

  protected emptySlotFor(h: number): number {
    const t = this.table;
    const mask = this.mask;
    let i = h & mask;
    while (t[i << 1] !== 0) i = (i + 1) & mask;
    return i;
  }

  /** Rehashes into a table of `capacity` slots (a power of two), from the stored hashes. */
  resize(capacity: number): void {
    const old = this.table;
    const spare = this.spare;
    const t = spare !== null && spare.length === capacity * 2 ? spare : this.newTable(capacity);
    this.spare = null;
    this.spareTouched = 0;
    const mask = capacity - 1;
    for (let j = 0; j < old.length; j += 2) {
      const h = old[j]!;
      if (h === 0) continue;
      let i = h & mask;
      while (t[i << 1] !== 0) i = (i + 1) & mask;
      t[i << 1] = h;
      t[(i << 1) + 1] = old[j + 1]!;
    }
    this.table = t;
    this.mask = mask;
    this.growAt = Math.floor(capacity * this.maxLoad);
    this.layoutEpoch++;
  }

  // -------------------------------------------------------------------------------------------
  // Iteration and sampling

  /**
   * SCAN: visits the keys of buckets (home slots) in reverse-binary cursor order, as Redis's
   * dictScan, until at least `count` keys were visited; pushes their slots to `out`. Returns
   * the next cursor (0: done). A key present for the whole iteration is visited at least once
   * whatever the table does in between (grows, shrinks, shifts entries back on deletions): it
   * is found by its home bucket, which only depends on its hash and the table size.
   * `maxBuckets` bounds the buckets visited in one call (Redis's 10 * count by default).
   */
  scan(cursor: number, count: number, out: number[], maxBuckets = count * 10): number {
    if (this.size === 0) return 0;
    const t = this.table;
    const mask = this.mask;
    let v = cursor >>> 0;
    let visited = 0;
    for (let b = 0; b < maxBuckets; b++) {
      const bucket = v & mask;
      for (let i = bucket; ; i = (i + 1) & mask) {
        const th = t[i << 1]!;
        if (th === 0) break;
        if ((th & mask) === bucket) {
          out.push(i);
          visited++;
        }
      }
      v = nextScanCursor(v, mask);
      if (v === 0 || visited >= count) break;
    }
    return v;
  }

  /** A uniformly random used slot (RANDOMKEY); NOT_FOUND when empty. */
  randomSlot(random: () => number = Math.random): number {
    if (this.size === 0) return NOT_FOUND;
    const t = this.table;
    const capacity = this.capacity;
    for (;;) {
      const i = Math.floor(random() * capacity);
      if (t[i << 1] !== 0) return i;
    }
  }

}

export const EMPTY = new Uint8Array(0);

/** Whether a Packed value of `dataLen` bytes fits a chunk beside a key of `keyLen` (with an expiry). */
export function packedFits(keyLen: number, dataLen: number): boolean {
  return HEADER + EXPIRE_EXTRA + keyLen + PACKED_HEAD + dataLen <= MAX_CHUNK;
}

/** Smallest power-of-two capacity holding `keys` at most `load` full. */
export function capacityFor(keys: number, load: number): number {
  let c = MIN_CAPACITY;
  while (c * load < keys + 1) c *= 2;
  return c;
}

/** Copies bytes: a JS loop when short; Buffer's copy (a memmove, no view allocated) otherwise. */
export function copyBytes(src: Uint8Array, start: number, len: number, dst: Uint8Array, at: number): void {
  if (len <= SHORT_COPY) {
    for (let i = 0; i < len; i++) dst[at + i] = src[start + i]!;
  } else copy.call(src, dst, at, start, start + len);
}

const copy = Buffer.prototype.copy;

export function writeLatin1(s: string, dst: Uint8Array, at: number): void {
  const len = s.length;
  if (len <= SHORT_COPY) {
    for (let i = 0; i < len; i++) dst[at + i] = s.charCodeAt(i);
  } else (dst as Buffer).latin1Write(s, at);
}

export function readU32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

export function writeU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v & 0xff;
  b[p + 1] = (v >>> 8) & 0xff;
  b[p + 2] = (v >>> 16) & 0xff;
  b[p + 3] = v >>> 24;
}
