// A database's key table (and its expiry table): one JS Map while it is small, split into more
// Maps (shards) by a hash of the key as it grows, one shard at a time (linear hashing).
//
// Why not always one Map: a JS Map grows by rehashing all its entries at once. At 1.5M keys
// that is 0.3-1 s with nothing else running (measured on JSC: the inserts at 0.75 * 2^k
// entries), and every client waits. Redis rehashes incrementally; we bound the pause instead:
// no shard holds much more than SHARD_TARGET keys on average, so a shard's rehash, and the
// split of a shard in two, take a few milliseconds whatever the size of the database.
//
// Why not always many shards: walking a Map in insertion order reads its keys in the order they
// were allocated, which the CPU prefetches; walking several Maps one after the other reads them
// in an order it cannot guess (measured over 400k keys: 25 ms for one Map, 75-110 ms for 8 to
// 256 shards; over 3M keys 0.2 s against 0.8-1.1 s). KEYS, SAVE, BGSAVE and the snapshot of a
// full sync walk everything. So a table has as few shards as the pause bound allows: one up to
// SHARD_TARGET keys (no hashing at all then), 8 at 400k keys, 64 at 3M.
//
// Linear hashing: with `level` L and `next` p, there are 2^L + p shards; a key's shard is its
// hash's low L+1 bits, or its low L bits when that shard does not exist yet. Growing splits
// shard p (its keys whose bit L is set move to the new shard 2^L + p, in order) and moves p on.
// A shard keeps its Map through a split (the keys that leave are deleted from it), so a walk in
// progress goes on; the keys that moved are met again in the new shard, at the end.
//
// The interface is the part of Map's that the server uses (get/set/has/delete/size, keys /
// values / entries / for-of), so callers read as before. Iteration walks the shards in order,
// each in insertion order, and is live like a Map's: a key added to a shard not reached yet is
// seen, one deleted before it is reached is not. The snapshot (dataset/snapshot.ts) needs
// keys to stay in their shard while it walks: it holds the layout (holdLayout), and splits wait.

/** Keys per shard, on average, beyond which the table grows by one shard. */
export const SHARD_TARGET = 65536;

/** A 32-bit hash of a key: FNV-1a over all its chars (about 15 ns for a 16-char key). */
export function keyHash(key: string): number {
  const n = key.length;
  let x = n ^ 0x811c9dc5;
  for (let i = 0; i < n; i++) x = Math.imul(x ^ key.charCodeAt(i), 0x01000193);
  return (x ^ (x >>> 16)) >>> 0;
}

export class KeyTable<V> {
  /** The shards. Read-only for callers (iteration); writes go through set/delete. */
  readonly parts: Array<Map<string, V>> = [new Map()];
  private count = 0;
  /** Linear hashing: 2^level <= shards < 2^(level+1); `next` is the shard to split next. */
  private level = 0;
  private next = 0;
  /** Holders of the layout (a snapshot walking the shards): no split while > 0. */
  private holds = 0;

  /** A table laid out for about `expected` keys (a load), so that it does not split as it fills. */
  static forSize<V>(expected: number): KeyTable<V> {
    const t = new KeyTable<V>();
    while (t.parts.length * SHARD_TARGET < expected) t.addShardEmpty();
    return t;
  }

  get size(): number {
    return this.count;
  }

  /** The shard of a key. */
  private index(key: string): number {
    const parts = this.parts.length;
    if (parts === 1) return 0;
    const h = keyHash(key);
    const i = h & ((2 << this.level) - 1);
    return i < parts ? i : h & ((1 << this.level) - 1);
  }

  get(key: string): V | undefined {
    return this.parts[this.index(key)]!.get(key);
  }

  has(key: string): boolean {
    return this.parts[this.index(key)]!.has(key);
  }

  set(key: string, value: V): this {
    const part = this.parts[this.index(key)]!;
    const before = part.size;
    part.set(key, value);
    if (part.size !== before) this.added();
    return this;
  }

  /**
   * set(), telling whether the key is new (a load's duplicate check): one Map operation, not
   * has() + set(). The value is stored either way.
   */
  setNew(key: string, value: V): boolean {
    const part = this.parts[this.index(key)]!;
    const before = part.size;
    part.set(key, value);
    if (part.size === before) return false;
    this.added();
    return true;
  }

  delete(key: string): boolean {
    if (!this.parts[this.index(key)]!.delete(key)) return false;
    this.count--;
    return true;
  }

  /** No split until releaseLayout(): every key stays in its shard (a walk relies on it). */
  holdLayout(): void {
    this.holds++;
  }

  releaseLayout(): void {
    if (this.holds > 0) this.holds--;
    // One split now; more with the next inserts if the table grew a lot meanwhile.
    if (this.holds === 0 && this.count > this.parts.length * SHARD_TARGET) this.split();
  }

  private added(): void {
    this.count++;
    if (this.count > this.parts.length * SHARD_TARGET && this.holds === 0) this.split();
  }

  /** Splits shard `next`: its keys with hash bit `level` set move, in order, to a new shard. */
  private split(): void {
    const from = this.parts[this.next]!;
    const to = new Map<string, V>();
    const bit = 1 << this.level;
    for (const [key, value] of from) {
      if ((keyHash(key) & bit) !== 0) to.set(key, value);
    }
    for (const key of to.keys()) from.delete(key);
    this.parts.push(to);
    this.advance();
  }

  /** A new, empty shard (an empty table being laid out: nothing moves). */
  private addShardEmpty(): void {
    this.parts.push(new Map());
    this.advance();
  }

  private advance(): void {
    if (++this.next === 1 << this.level) {
      this.level++;
      this.next = 0;
    }
  }

  keys(): IterableIterator<string> {
    return new ShardWalk(this.parts, (m) => m.keys());
  }

  values(): IterableIterator<V> {
    return new ShardWalk(this.parts, (m) => m.values());
  }

  entries(): IterableIterator<[string, V]> {
    return new ShardWalk(this.parts, (m) => m.entries());
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
}

/**
 * A live walk of the shards in order (a class rather than a generator: 2-3x cheaper per
 * element on JSC). A shard's iterator is created when the walk gets to it, and shards added
 * meanwhile are walked too.
 */
class ShardWalk<V, T> implements IterableIterator<T> {
  private next_ = 0;
  private current: Iterator<T> | null = null;

  constructor(
    private readonly parts: Array<Map<string, V>>,
    private readonly open: (m: Map<string, V>) => Iterator<T>,
  ) {}

  next(): IteratorResult<T> {
    for (;;) {
      if (this.current === null) {
        if (this.next_ >= this.parts.length) return { done: true, value: undefined };
        const part = this.parts[this.next_++]!;
        if (part.size === 0) continue;
        this.current = this.open(part);
      }
      const r = this.current.next();
      if (!r.done) return r;
      this.current = null;
    }
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this;
  }
}
