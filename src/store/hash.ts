// A Redis hash: field -> value, latin1 strings. `encoding` is what OBJECT ENCODING reports and
// follows Redis 7.0's rules (listpack while small, hashtable for good once it grows past
// hash-max-listpack-entries / -value); the hash commands maintain it.
//
// Iteration order is insertion order (a Map's), which is exactly a listpack's order in Redis:
// new fields are appended, updating a field keeps its place, a deleted and re-added field
// goes to the end. So HGETALL of a listpack hash matches Redis byte for byte.

export type HashEncoding = "listpack" | "hashtable";

/**
 * O(1) uniform random choice over a changing collection of strings (Redis's dictGetRandomKey):
 * a dense array plus each member's slot, removal by swapping with the last slot. Built on the
 * first random access only, then kept in sync by the owning collection.
 */
export class RandomIndex {
  private readonly slots: string[] = [];
  private readonly slotOf = new Map<string, number>();

  constructor(members: Iterable<string>) {
    for (const m of members) this.add(m);
  }

  add(member: string): void {
    this.slotOf.set(member, this.slots.length);
    this.slots.push(member);
  }

  remove(member: string): void {
    const i = this.slotOf.get(member);
    if (i === undefined) return;
    this.slotOf.delete(member);
    const last = this.slots.pop()!;
    if (i < this.slots.length) {
      this.slots[i] = last;
      this.slotOf.set(last, i);
    }
  }

  /** A uniformly random member; the collection must not be empty. */
  random(): string {
    return this.slots[Math.floor(Math.random() * this.slots.length)]!;
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
    if (this.randomIndex && !super.has(field)) this.randomIndex.add(field);
    return super.set(field, value);
  }

  /** Sets a field; returns whether it was new (one hash lookup, unlike has + set). */
  setField(field: string, value: string): boolean {
    const before = this.size;
    super.set(field, value);
    if (this.size === before) return false;
    this.randomIndex?.add(field);
    return true;
  }

  override delete(field: string): boolean {
    if (!super.delete(field)) return false;
    this.randomIndex?.remove(field);
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
    return this.randomIndex.random();
  }
}
