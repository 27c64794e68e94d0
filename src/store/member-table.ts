// The members of a large aggregate as bytes: an open-addressing index over typed arrays and the
// members' bytes in one buffer, instead of a JS Set of strings.
//
// Why: a lookup in a JS Set of 100k strings follows four dependent pointers (table, entry,
// string cell, characters); under a server's load each is a cache miss, and SISMEMBER on such a
// set measured +1.7 us per request over a small set (redis-server: +0.65). Here a lookup reads
// one index slot (hash and entry number) and the member's bytes: two misses. The members are
// no JS objects either, so a full collection does not walk them.
//
// Layout:
//   index:  Int32Array of [hash, entry + 1] pairs, linear probing, 0 = empty slot; deletions
//           shift the run back (no tombstones). The hash is key-hash.ts's keyed HalfSipHash.
//   entries: ents[e * stride] = the member's offset in `bytes` (-1: deleted), then its length
//           and, with values as bytes, the value's length: one record of 8 or 12 bytes, so a
//           lookup reads one cache line for them, not one per column (measured: HGET of a
//           100k-field hash spent 15% of the server's time in find, three misses there).
//           Numbered in insertion order. A new member always takes the next number, so walks go in
//           insertion order, as a JS Map's or a Redis listpack's do; once half the entries are
//           deleted the live ones are numbered again (renumber), order kept.
//   bytes:  members appended; a deleted member's bytes are dead until the buffer is compacted
//           (entries keep their numbers, so iterators do not notice).
//
// Iteration walks entry numbers: an element present for the whole walk is returned once (SSCAN's
// guarantee), one added meanwhile is returned too. When entries are renumbered (`epoch`
// changes) a walk restarts from the first entry, which may return elements twice, as Redis's
// SSCAN may.
//
// Members are latin1 strings at this interface (one char per byte), like everywhere in the store.

import { hashBytes, hashString } from "./keyspace/key-hash.ts";
import { PREFETCH_MAX } from "./keyspace/keyspace-index.ts";
import { typedArrayBytes } from "./memory-size.ts";
import type { BulkSink } from "./packed-entries.ts";

const MIN_INDEX_SLOTS = 16;
const MIN_ENTRIES = 16;
/** Up to this length a member is written and compared by a JS loop (no native call). */
const SHORT_MEMBER = 24;

const EMPTY = Buffer.alloc(0);

/** MemberTable.prefetch's scratch (used within one call: shared by every table). */
const prefetchSlots = new Int32Array(PREFETCH_MAX);
/**
 * Most members a table is sized for up front: an expected count comes from an RDB's length
 * field, which a corrupt or hostile file may set to billions; past this the table grows as
 * members actually arrive.
 */
const MAX_PRESIZE = 1 << 16;

function slotsFor(n: number): number {
  let slots = MIN_INDEX_SLOTS;
  while (slots * 0.75 < n) slots *= 2;
  return slots;
}

export class MemberTable {
  private index: Int32Array;
  private mask: number;
  /** [offset, length(, tail length)] per entry: see the header. */
  private ents: Int32Array;
  /** 2, or 3 with tails. */
  private readonly stride: number;
  /**
   * With values as bytes (ByteFieldTable): the value's length per entry, its bytes right after
   * the member's (one record, read with the member it follows). Null: members only.
   */
  private readonly tails: boolean;
  /** Entries numbered so far: iteration and random picks range over [0, entryLimit). */
  entryLimit = 0;
  size = 0;
  private bytes: Buffer;
  private top = 0;
  private dead = 0;
  /** Bumped when entries are renumbered (iterators restart). */
  epoch = 0;

  constructor(expected = 0, withTails = false) {
    if (expected > MAX_PRESIZE) expected = MAX_PRESIZE;
    const slots = slotsFor(expected);
    this.index = new Int32Array(slots * 2);
    this.mask = slots - 1;
    const entries = Math.max(MIN_ENTRIES, expected);
    this.tails = withTails;
    this.stride = withTails ? 3 : 2;
    this.ents = new Int32Array(entries * this.stride);
    this.bytes = expected > 0 ? Buffer.allocUnsafe(expected * 16) : EMPTY;
  }

  static from(members: Iterable<string>, expected = 0): MemberTable {
    const t = new MemberTable(expected);
    for (const m of members) t.add(m);
    return t;
  }

  /** The entry holding `member`, or -1. */
  find(member: string): number {
    const h = hashString(member);
    const index = this.index;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const th = index[i << 1]!;
      if (th === 0) return -1;
      if (th === h) {
        const e = index[(i << 1) + 1]! - 1;
        if (this.entryEquals(e, member)) return e;
      }
    }
  }

  /** What prefetch() read, kept so that the compiler cannot drop the reads. */
  prefetched = 0;

  /**
   * Reads ahead, for the members of a pipeline's commands (the third arguments in
   * peekArguments' quadruples; a length of -1: none), the index slot, the entry and the first
   * bytes of each, in passes of independent reads: their cache misses overlap instead of
   * coming one after another in each lookup (KeyspaceIndex.prefetch does the same for keys).
   */
  prefetch(buf: Uint8Array, at: Int32Array, n: number): void {
    const slots = prefetchSlots;
    if (n > PREFETCH_MAX) n = PREFETCH_MAX;
    const index = this.index;
    const mask = this.mask;
    for (let k = 0; k < n; k++) {
      const len = at[(k << 2) + 3]!;
      slots[k] = len < 0 ? -1 : (hashBytes(buf, at[(k << 2) + 2]!, len) & mask) << 1;
    }
    for (let k = 0; k < n; k++) {
      const i = slots[k]!;
      if (i !== -1) slots[k] = index[i] === 0 ? -1 : (index[i + 1]! - 1) * this.stride;
    }
    const ents = this.ents;
    for (let k = 0; k < n; k++) {
      const x = slots[k]!;
      if (x !== -1) slots[k] = ents[x]!;
    }
    const bytes = this.bytes;
    let seen = 0;
    for (let k = 0; k < n; k++) {
      const off = slots[k]!;
      if (off !== -1) seen ^= bytes[off]!;
    }
    this.prefetched = seen;
  }

  has(member: string): boolean {
    return this.find(member) >= 0;
  }

  private entryEquals(e: number, member: string): boolean {
    const len = member.length;
    const x = e * this.stride;
    const ents = this.ents;
    if (ents[x + 1] !== len) return false;
    const b = this.bytes;
    const off = ents[x]!;
    if (len > SHORT_MEMBER) return b.latin1Slice(off, off + len) === member;
    for (let j = 0; j < len; j++) if (b[off + j] !== member.charCodeAt(j)) return false;
    return true;
  }

  /**
   * Entry `e`'s member against `member`, in byte order (a shorter prefix first, as sdscmp):
   * negative, 0 or positive.
   */
  compareEntry(e: number, member: string): number {
    return this.compareEntryFrom(e, member, 0);
  }

  /** Length of the common prefix the last compareEntryFrom found. */
  lastPrefix = 0;

  /**
   * compareEntry when the first `from` bytes are known to be equal (a binary search between
   * two keys that share them with `member`); the common prefix's length is left in lastPrefix.
   */
  compareEntryFrom(e: number, member: string, from: number): number {
    const x = e * this.stride;
    const ents = this.ents;
    const b = this.bytes;
    const off = ents[x]!;
    const len = ents[x + 1]!;
    const n = len < member.length ? len : member.length;
    for (let j = from; j < n; j++) {
      const d = b[off + j]! - member.charCodeAt(j);
      if (d !== 0) {
        this.lastPrefix = j;
        return d;
      }
    }
    this.lastPrefix = n;
    return len - member.length;
  }

  /** Entry `a`'s member against entry `b`'s, in byte order. */
  compareEntries(a: number, b: number): number {
    const ents = this.ents;
    const bytes = this.bytes;
    const oa = ents[a * this.stride]!;
    const la = ents[a * this.stride + 1]!;
    const ob = ents[b * this.stride]!;
    const lb = ents[b * this.stride + 1]!;
    const n = la < lb ? la : lb;
    for (let j = 0; j < n; j++) {
      const d = bytes[oa + j]! - bytes[ob + j]!;
      if (d !== 0) return d;
    }
    return la - lb;
  }

  /**
   * Deletes the first `n` entries of `list` (live, distinct), renumbering at most once, after
   * all of them: a caller holding entry numbers (a sorted set's order) can still name the rest.
   */
  deleteEntries(list: Int32Array, n: number): void {
    const index = this.index;
    const mask = this.mask;
    for (let k = 0; k < n; k++) {
      const e = list[k]!;
      const x = e * this.stride;
      const h = hashBytes(this.bytes, this.ents[x]!, this.ents[x + 1]!);
      for (let i = h & mask; ; i = (i + 1) & mask) {
        if (index[(i << 1) + 1] === e + 1) {
          this.removeSlot(i);
          break;
        }
      }
      this.freeEntry(e, k < n - 1);
    }
  }

  /** Adds `member`; returns whether it was new. */
  add(member: string): boolean {
    return this.addEntry(member) >= 0;
  }

  /**
   * Adds `member`: its new entry, or -(entry + 1) when it was there already. A new entry gets
   * `tail` bytes of room after the member (its value's, at tailOffset).
   */
  addEntry(member: string, tail = 0): number {
    const h = hashString(member);
    const index = this.index;
    const mask = this.mask;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const th = index[i << 1]!;
      if (th === 0) break;
      if (th === h) {
        const e = index[(i << 1) + 1]! - 1;
        if (this.entryEquals(e, member)) return -e - 1;
      }
    }
    const e = this.newEntry(member, tail);
    index[i << 1] = h;
    index[(i << 1) + 1] = e + 1;
    this.size++;
    if (this.size > (this.mask + 1) * 0.75) this.resizeIndex((this.mask + 1) * 2);
    return e;
  }

  /** Adds a member known to be absent (a load, a copy); returns its entry. */
  private newEntry(member: string, tail: number): number {
    const e = this.entryLimit++;
    if ((e + 1) * this.stride > this.ents.length) this.growEntries((this.ents.length / this.stride) * 2);
    const len = member.length;
    if (this.top + len + tail > this.bytes.length) this.makeRoom(len + tail);
    const b = this.bytes;
    const off = this.top;
    if (len > SHORT_MEMBER) b.latin1Write(member, off);
    else for (let j = 0; j < len; j++) b[off + j] = member.charCodeAt(j);
    this.top = off + len + tail;
    const x = e * this.stride;
    this.ents[x] = off;
    this.ents[x + 1] = len;
    if (this.tails) this.ents[x + 2] = tail;
    return e;
  }

  /** Bytes an entry's record takes: its member and its tail. */
  private recordLength(e: number): number {
    const x = e * this.stride;
    return this.tails ? this.ents[x + 1]! + this.ents[x + 2]! : this.ents[x + 1]!;
  }

  /** Where entry `e`'s tail (its value's bytes) starts in `bytes`. */
  protected tailOffset(e: number): number {
    const x = e * this.stride;
    return this.ents[x]! + this.ents[x + 1]!;
  }

  protected tailLength(e: number): number {
    return this.ents[e * 3 + 2]!;
  }

  /** The buffer records live in (valid until the next change of the table). */
  protected get store(): Buffer {
    return this.bytes;
  }

  /**
   * Gives entry `e` a tail of `length` bytes (its bytes are the caller's to write, at
   * tailOffset): in place when it fits the old one, else the member moves to a new record.
   */
  protected resizeTail(e: number, length: number): void {
    const ents = this.ents;
    const x = e * 3;
    const old = ents[x + 2]!;
    if (length <= old) {
      this.dead += old - length;
      ents[x + 2] = length;
      return;
    }
    const len = ents[x + 1]!;
    if (this.top + len + length > this.bytes.length) this.makeRoom(len + length);
    const off = ents[x]!;
    this.bytes.copy(this.bytes, this.top, off, off + len);
    this.dead += len + old;
    ents[x] = this.top;
    ents[x + 2] = length;
    this.top += len + length;
  }

  /** Removes `member`; returns whether it was there. */
  delete(member: string): boolean {
    const h = hashString(member);
    const index = this.index;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const th = index[i << 1]!;
      if (th === 0) return false;
      if (th === h) {
        const e = index[(i << 1) + 1]! - 1;
        if (this.entryEquals(e, member)) {
          this.removeSlot(i);
          this.freeEntry(e);
          return true;
        }
      }
    }
  }

  /** Empties the slot `i` of the index, shifting back the entries of its run that may move. */
  private removeSlot(i: number): void {
    const index = this.index;
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const h = index[j << 1]!;
      if (h === 0) break;
      const k = h & mask;
      // The entry at j may fill i unless its home slot k lies cyclically in (i, j].
      if (i <= j ? i < k && k <= j : i < k || k <= j) continue;
      index[i << 1] = h;
      index[(i << 1) + 1] = index[(j << 1) + 1]!;
      i = j;
    }
    index[i << 1] = 0;
    index[(i << 1) + 1] = 0;
  }

  /** Frees a deleted member's entry; `more`: further deletions follow (no renumbering yet). */
  private freeEntry(e: number, more = false): void {
    this.entryFreed(e);
    this.dead += this.recordLength(e);
    const x = e * this.stride;
    this.ents[x] = -1;
    this.ents[x + 1] = 0;
    if (this.tails) this.ents[x + 2] = 0;
    this.size--;
    if (e === this.entryLimit - 1) this.entryLimit--;
    if (this.size === 0) {
      this.clear();
      return;
    }
    if (more) return;
    if (this.size * 2 < this.entryLimit && this.entryLimit > 64) this.renumber();
    else if (this.size < (this.mask + 1) / 8 && this.mask + 1 > MIN_INDEX_SLOTS) this.resizeIndex((this.mask + 1) / 2);
  }

  clear(): void {
    this.index = new Int32Array(MIN_INDEX_SLOTS * 2);
    this.mask = MIN_INDEX_SLOTS - 1;
    this.ents = new Int32Array(MIN_ENTRIES * this.stride);
    this.entryLimit = 0;
    this.size = 0;
    this.bytes = EMPTY;
    this.top = 0;
    this.dead = 0;
    this.epoch++;
    this.columnsCleared();
  }

  isLive(e: number): boolean {
    return this.ents[e * this.stride]! >= 0;
  }

  protected memberLength(e: number): number {
    return this.ents[e * this.stride + 1]!;
  }

  memberAt(e: number): string {
    const x = e * this.stride;
    const off = this.ents[x]!;
    return this.bytes.latin1Slice(off, off + this.ents[x + 1]!);
  }

  /** Writes entry e's member as a bulk string straight from the bytes. */
  writeMemberAt(e: number, out: BulkSink): void {
    const x = e * this.stride;
    out.bulkRange(this.bytes, this.ents[x]!, this.ents[x + 1]!);
  }

  /** A uniformly random live entry (the table must not be empty). */
  randomEntry(): number {
    // At least half the entries are live (renumber keeps it so): two tries on average.
    for (;;) {
      const e = Math.floor(Math.random() * this.entryLimit);
      if (this.ents[e * this.stride]! >= 0) return e;
    }
  }

  /** The members in entry order. */
  members(): EntryIterator<string> {
    return new EntryIterator(this, (e) => this.memberAt(e));
  }

  forEachMember(fn: (member: string) => void): void {
    for (let e = 0; e < this.entryLimit; e++) if (this.ents[e * this.stride]! >= 0) fn(this.memberAt(e));
  }

  /** An independent copy (same members, same entry numbers). */
  clone(): MemberTable {
    const t = new MemberTable();
    this.copyInto(t);
    return t;
  }

  protected copyInto(t: MemberTable): void {
    t.index = this.index.slice();
    t.mask = this.mask;
    t.ents = this.ents.slice(0, Math.max(MIN_ENTRIES, this.entryLimit) * this.stride);
    t.entryLimit = this.entryLimit;
    t.size = this.size;
    t.bytes = this.top === 0 ? EMPTY : Buffer.from(this.bytes.subarray(0, this.top));
    t.top = this.top;
    t.dead = this.dead;
  }

  // Hooks for the columns a subclass keeps per entry (FieldTable's values).
  protected entryFreed(_e: number): void {}
  protected columnsCleared(): void {}
  /** Renumbering moves entry `from` to `to` (to <= from, in increasing order). */
  protected entryMoved(_from: number, _to: number): void {}
  /** After renumbering: entries from `n` on are gone. */
  protected columnsTruncated(_n: number): void {}
  /** After renumbering: live entry e is now remap[e]. */
  protected renumbered(_remap: Int32Array): void {}

  /** What the table holds, in bytes (MEMORY USAGE, used_memory). */
  memoryUsage(): number {
    return typedArrayBytes(this.index.byteLength) + typedArrayBytes(this.ents.byteLength) + typedArrayBytes(this.bytes.length);
  }

  /**
   * Room for `n` more members of `bytes` bytes in all, sized exactly (a load that holds them
   * already: no untrusted length asks for this, and growing by doubling would leave up to half
   * of each array unused, and rehash the index at every doubling).
   */
  reserve(n: number, bytes: number): void {
    const total = this.size + n;
    const slots = slotsFor(total);
    if (slots > this.mask + 1) this.resizeIndex(slots);
    if ((this.entryLimit + n) * this.stride > this.ents.length) this.growEntries(this.entryLimit + n);
    if (this.top + bytes > this.bytes.length) {
      const next = Buffer.allocUnsafe(this.top + bytes);
      this.bytes.copy(next, 0, 0, this.top);
      this.bytes = next;
    }
    this.columnsReserved(this.entryLimit + n);
  }

  /** reserve(): room for `entries` entries in the subclass's columns. */
  protected columnsReserved(_entries: number): void {}

  private growEntries(capacity: number): void {
    const ents = new Int32Array(capacity * this.stride);
    ents.set(this.ents.subarray(0, Math.min(this.ents.length, ents.length)));
    this.ents = ents;
  }

  /** Room for `len` more bytes: the live bytes packed into a new buffer with headroom. */
  private makeRoom(len: number): void {
    const live = this.top - this.dead;
    const capacity = Math.max(256, (live + len) * 2);
    const next = Buffer.allocUnsafe(capacity);
    if (this.dead === 0) this.bytes.copy(next, 0, 0, this.top);
    else {
      // Compaction: members keep their entries, only their offsets change.
      const b = this.bytes;
      let p = 0;
      for (let e = 0; e < this.entryLimit; e++) {
        const x = e * this.stride;
        const off = this.ents[x]!;
        if (off < 0) continue;
        const n = this.recordLength(e);
        b.copy(next, p, off, off + n);
        this.ents[x] = p;
        p += n;
      }
      this.top = p;
      this.dead = 0;
    }
    this.bytes = next;
  }

  private resizeIndex(slots: number): void {
    const old = this.index;
    const index = new Int32Array(slots * 2);
    const mask = slots - 1;
    for (let i = 0; i < old.length; i += 2) {
      const h = old[i]!;
      if (h === 0) continue;
      let j = h & mask;
      while (index[j << 1] !== 0) j = (j + 1) & mask;
      index[j << 1] = h;
      index[(j << 1) + 1] = old[i + 1]!;
    }
    this.index = index;
    this.mask = mask;
  }

  /** Half the entries are deleted: the live ones are numbered 0..size-1 again (in order), bytes packed. */
  private renumber(): void {
    const remap = new Int32Array(this.entryLimit);
    const stride = this.stride;
    const old = this.ents;
    const ents = new Int32Array(Math.max(MIN_ENTRIES, this.size * 2) * stride);
    const bytes = Buffer.allocUnsafe(Math.max(256, (this.top - this.dead) * 2));
    let n = 0;
    let p = 0;
    for (let e = 0; e < this.entryLimit; e++) {
      const x = e * stride;
      const off = old[x]!;
      if (off < 0) continue;
      const len = this.recordLength(e);
      this.bytes.copy(bytes, p, off, off + len);
      const y = n * stride;
      ents[y] = p;
      ents[y + 1] = old[x + 1]!;
      if (stride === 3) ents[y + 2] = old[x + 2]!;
      if (n !== e) this.entryMoved(e, n);
      remap[e] = n++;
      p += len;
    }
    const index = this.index;
    for (let i = 1; i < index.length; i += 2) if (index[i] !== 0) index[i] = remap[index[i]! - 1]! + 1;
    this.ents = ents;
    this.bytes = bytes;
    this.top = p;
    this.dead = 0;
    this.entryLimit = n;
    this.columnsTruncated(n);
    this.renumbered(remap);
    this.epoch++;
    if (this.size < (this.mask + 1) / 8) this.resizeIndex(slotsFor(this.size * 2));
  }
}

/** Walks a table's entries (see the header for what a walk guarantees), giving pick(entry) for each. */
class EntryIterator<T> implements IterableIterator<T> {
  private e = 0;
  private epoch: number;

  constructor(
    private readonly table: MemberTable,
    private readonly pick: (e: number) => T,
  ) {
    this.epoch = table.epoch;
  }

  next(): IteratorResult<T> {
    const t = this.table;
    if (t.epoch !== this.epoch) {
      this.epoch = t.epoch;
      this.e = 0;
    }
    while (this.e < t.entryLimit) {
      const e = this.e++;
      if (t.isLive(e)) return { value: this.pick(e), done: false };
    }
    return { value: undefined, done: true };
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this;
  }
}

/**
 * A large sorted set's member -> score table: members as bytes, scores in a Float64Array by
 * entry. Its entry numbers are what the set's order (zset-index.ts) holds instead of member
 * strings, so a renumbering tells the owner (`onRenumber`) how they moved.
 */
export class ScoreTable extends MemberTable {
  private scores = new Float64Array(16);
  /** Called after a renumbering with old entry -> new entry (live entries only). */
  onRenumber: ((remap: Int32Array) => void) | null = null;

  static fromEntries(entries: Iterable<[string, number]>, expected = 0): ScoreTable {
    const t = new ScoreTable(expected);
    for (const [k, v] of entries) t.set(k, v);
    return t;
  }

  get(key: string): number | undefined {
    const e = this.find(key);
    return e < 0 ? undefined : this.scores[e];
  }

  scoreAt(e: number): number {
    return this.scores[e]!;
  }

  setScoreAt(e: number, score: number): void {
    this.scores[e] = score;
  }

  /** Adds `key` with `score`, or sets its score: its entry, or -(entry + 1) when it was there already. */
  setEntry(key: string, score: number): number {
    const e = this.addEntry(key);
    const at = e >= 0 ? e : -e - 1;
    if (at >= this.scores.length) this.growScores(Math.max(16, this.scores.length * 2, at + 1));
    this.scores[at] = score;
    return e;
  }

  /** Sets the score of `key`; returns whether the key was new. */
  setNew(key: string, score: number): boolean {
    return this.setEntry(key, score) >= 0;
  }

  set(key: string, score: number): this {
    this.setEntry(key, score);
    return this;
  }

  keys(): EntryIterator<string> {
    return this.members();
  }

  values(): EntryIterator<number> {
    return new EntryIterator(this, (e) => this.scores[e]!);
  }

  entries(): EntryIterator<[string, number]> {
    return new EntryIterator(this, (e) => [this.memberAt(e), this.scores[e]!]);
  }

  [Symbol.iterator](): EntryIterator<[string, number]> {
    return this.entries();
  }

  override clone(): ScoreTable {
    const t = new ScoreTable();
    this.copyInto(t);
    t.scores = this.scores.slice(0, Math.max(16, this.entryLimit));
    return t;
  }

  protected override columnsCleared(): void {
    this.scores = new Float64Array(16);
  }

  protected override columnsReserved(entries: number): void {
    if (entries > this.scores.length) this.growScores(entries);
  }

  private growScores(capacity: number): void {
    const scores = new Float64Array(capacity);
    scores.set(this.scores);
    this.scores = scores;
  }

  protected override entryMoved(from: number, to: number): void {
    this.scores[to] = this.scores[from]!;
  }

  protected override columnsTruncated(n: number): void {
    // Room for as many entries as the renumbered table has (it keeps twice the live ones).
    const scores = new Float64Array(Math.max(16, n * 2));
    scores.set(this.scores.subarray(0, n));
    this.scores = scores;
  }

  protected override renumbered(remap: Int32Array): void {
    this.onRenumber?.(remap);
  }

  override memoryUsage(): number {
    return super.memoryUsage() + typedArrayBytes(this.scores.byteLength);
  }
}

/**
 * The Map<string, string> subset a large hash uses, values as bytes: each value follows its
 * field in the same record, so HGET reads one place (measured: a JS string per value cost HGET
 * a cache miss more than SISMEMBER, the reply reading its characters).
 */
export class ByteFieldTable extends MemberTable {
  constructor(expected = 0) {
    super(expected, true);
  }

  static fromEntries(entries: Iterable<[string, string]>, expected = 0): ByteFieldTable {
    const t = new ByteFieldTable(expected);
    for (const [k, v] of entries) t.setNew(k, v);
    return t;
  }

  get(key: string): string | undefined {
    const e = this.find(key);
    return e < 0 ? undefined : this.valueAt(e);
  }

  /** Writes the value of `key` as a bulk string from its bytes; false when `key` is not there. */
  writeValue(key: string, sink: { bulkRange(src: Uint8Array, start: number, len: number): void }): boolean {
    const e = this.find(key);
    if (e < 0) return false;
    sink.bulkRange(this.store, this.tailOffset(e), this.tailLength(e));
    return true;
  }

  valueAt(e: number): string {
    const off = this.tailOffset(e);
    return this.store.latin1Slice(off, off + this.tailLength(e));
  }

  /** Sets the value of `key`; returns whether the key was new. */
  setNew(key: string, value: string): boolean {
    let e = this.addEntry(key, value.length);
    const added = e >= 0;
    if (!added) {
      e = -e - 1;
      this.resizeTail(e, value.length);
    }
    const b = this.store;
    const off = this.tailOffset(e);
    const len = value.length;
    if (len > SHORT_MEMBER) b.latin1Write(value, off);
    else for (let j = 0; j < len; j++) b[off + j] = value.charCodeAt(j);
    return added;
  }

  set(key: string, value: string): this {
    this.setNew(key, value);
    return this;
  }

  keys(): EntryIterator<string> {
    return this.members();
  }

  values(): EntryIterator<string> {
    return new EntryIterator(this, (e) => this.valueAt(e));
  }

  entries(): EntryIterator<[string, string]> {
    return new EntryIterator(this, (e) => [this.memberAt(e), this.valueAt(e)]);
  }

  [Symbol.iterator](): EntryIterator<[string, string]> {
    return this.entries();
  }

  forEach(fn: (value: string, key: string) => void): void {
    for (let e = 0; e < this.entryLimit; e++) if (this.isLive(e)) fn(this.valueAt(e), this.memberAt(e));
  }

  /** Writes fields and/or values, in entry order, to `sink` straight from the bytes. */
  writeTo(sink: BulkSink, keys: boolean, values: boolean): void {
    for (let e = 0; e < this.entryLimit; e++) {
      if (!this.isLive(e)) continue;
      const b = this.store;
      const off = this.tailOffset(e);
      if (keys) sink.bulkRange(b, off - this.memberLength(e), this.memberLength(e));
      if (values) sink.bulkRange(b, off, this.tailLength(e));
    }
  }

  override clone(): ByteFieldTable {
    const t = new ByteFieldTable();
    this.copyInto(t);
    return t;
  }
}
