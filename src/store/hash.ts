// A Redis hash: field -> value, latin1 strings. `encoding` is what OBJECT ENCODING reports and
// follows Redis 7.0's rules (listpack while small, hashtable for good once it grows past
// hash-max-listpack-entries / -value); the hash commands maintain it.
//
// Iteration order is insertion order (a Map's), which is exactly a listpack's order in Redis:
// new fields are appended, updating a field keeps its place, a deleted and re-added field
// goes to the end. So HGETALL of a listpack hash matches Redis byte for byte.

export type HashEncoding = "listpack" | "hashtable";

/**
 * O(1) uniform random choice over a changing collection of strings (Redis's dictGetRandomKey /
 * intsetRandom): a dense array of the members, built on the first random access only, then
 * kept in step by the owning collection.
 *
 * Removals are the expensive part of a JS Map/Set (a few hundred ns each), so the index keeps
 * none: a member popped through the index (SPOP) leaves its slot by swap-with-last (array work
 * only); a member removed otherwise (SREM, HDEL) leaves a stale slot, remembered in `stale` so
 * that re-adding it revives the slot instead of duplicating it. A pick that lands on a stale
 * slot drops it and draws again, so picks stay uniform over the live members. The owner drops
 * the whole index once stale slots outnumber live members (rebuilt on the next random access).
 */
export class RandomIndex {
  private readonly slots: string[];
  private stale: Set<string> | null = null;
  /** Slot of the member the last random() returned. */
  private lastSlot = -1;

  constructor(members: Iterable<string>) {
    this.slots = Array.from(members);
  }

  /** A member joined the collection. */
  added(member: string): void {
    if (this.stale !== null && this.stale.delete(member)) return;
    this.slots.push(member);
  }

  /**
   * A member left the collection by another way than removeLastPicked(). Returns false when
   * the index is no longer worth keeping (the owner then drops it).
   */
  removed(member: string, liveSize: number): boolean {
    if (this.stale === null) this.stale = new Set();
    this.stale.add(member);
    return this.stale.size <= liveSize + 16;
  }

  /** A uniformly random live member; the collection must not be empty. */
  random(live: { has(member: string): boolean }): string {
    const slots = this.slots;
    for (;;) {
      const i = Math.floor(Math.random() * slots.length);
      const m = slots[i]!;
      if (live.has(m)) {
        this.lastSlot = i;
        return m;
      }
      this.dropSlot(i);
      this.stale!.delete(m);
    }
  }

  /** Forgets the member the last random() returned: the owner is deleting it. */
  removeLastPicked(): void {
    this.dropSlot(this.lastSlot);
    this.lastSlot = -1;
  }

  private dropSlot(i: number): void {
    const last = this.slots.pop()!;
    if (i < this.slots.length) this.slots[i] = last;
  }
}

/** Live iterators of HSCAN/SSCAN calls in progress, by the cursor handed to the client. */
export type ScanCursors<T> = Map<number, Iterator<T>>;

export class HashValue extends Map<string, string> {
  encoding: HashEncoding = "listpack";
  /** Random access for HRANDFIELD, built lazily (null until then). */
  private randomIndex: RandomIndex | null = null;
  /** HSCAN iterations in progress over a hashtable-encoded hash (see commands/hashes-scan.ts). */
  scanCursors: ScanCursors<string> | null = null;

  override set(field: string, value: string): this {
    // Called by the Map constructor before fields exist: the optional chain covers that.
    if (this.randomIndex && !super.has(field)) this.randomIndex.added(field);
    return super.set(field, value);
  }

  /** Sets a field; returns whether it was new (one hash lookup, unlike has + set). */
  setField(field: string, value: string): boolean {
    const before = this.size;
    super.set(field, value);
    if (this.size === before) return false;
    this.randomIndex?.added(field);
    return true;
  }

  override delete(field: string): boolean {
    if (!super.delete(field)) return false;
    if (this.randomIndex && !this.randomIndex.removed(field, this.size)) this.randomIndex = null;
    return true;
  }

  override clear(): void {
    super.clear();
    this.randomIndex = null;
    this.scanCursors = null;
  }

  /** A uniformly random field; the hash must not be empty. */
  randomField(): string {
    if (!this.randomIndex) this.randomIndex = new RandomIndex(this.keys());
    return this.randomIndex.random(this);
  }
}
