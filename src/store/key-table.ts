// A database's key table (and its expiry table): a Map split into a fixed number of shards by a
// hash of the key.
//
// Why not one Map: a JS Map grows by rehashing all its entries at once. At 1.5M keys that is
// 0.3-1 s with nothing else running (measured on JSC: the inserts at 0.75 * 2^k entries), and
// every client waits. Redis rehashes incrementally; we bound the pause instead: a shard holds
// 1/256th of the keys, so its rehash takes 1/256th of the time (a few ms at 3M keys). The same
// goes for shrinking when keys are deleted (an expiry cycle emptying a big database).
//
// The interface is the part of Map's that the server uses (get/set/has/delete/size, keys /
// values / entries / for-of), so callers read as before. Iteration walks the shards in order,
// each in insertion order, and is live like a Map's: a key added to a shard not yet reached is
// seen, a key deleted before it is reached is not. What the snapshot (replication/snapshot.ts)
// and SCAN rely on holds per key, because a key always lives in the same shard. Loops that must
// be fast (KEYS, SAVE, the snapshot) iterate `parts` directly.

/** Shard count: a power of two (the hash is masked). */
export const KEY_TABLE_SHARDS = 256;
const MASK = KEY_TABLE_SHARDS - 1;

/**
 * The shard of a key: FNV-1a over all its chars, folded. About 15 ns for a 16-char key (Redis
 * hashes the whole key too). Only the spread matters, not cryptographic quality; sampling long
 * keys would put keys that differ in the middle only ("prefix:<id>:suffix") in one shard.
 */
export function keyShard(key: string): number {
  const n = key.length;
  let x = n ^ 0x811c9dc5;
  for (let i = 0; i < n; i++) x = Math.imul(x ^ key.charCodeAt(i), 0x01000193);
  return (x ^ (x >>> 16) ^ (x >>> 8)) & MASK;
}

/**
 * Shards that never held a key share this Map, which is never written to (set() gives the shard
 * a Map of its own first): an empty database costs one array, not 256 Maps.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- read-only, shared by every value type
const NO_KEYS: Map<string, any> = new Map();

export class KeyTable<V> {
  /** The shards, by keyShard(). Read-only for callers (iteration); writes go through set/delete. */
  readonly parts: Array<Map<string, V>>;
  private count = 0;

  constructor() {
    this.parts = new Array(KEY_TABLE_SHARDS);
    for (let i = 0; i < KEY_TABLE_SHARDS; i++) this.parts[i] = NO_KEYS;
  }

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.parts[keyShard(key)]!.get(key);
  }

  has(key: string): boolean {
    return this.parts[keyShard(key)]!.has(key);
  }

  set(key: string, value: V): this {
    const i = keyShard(key);
    let part = this.parts[i]!;
    if (part === NO_KEYS) this.parts[i] = part = new Map();
    const before = part.size;
    part.set(key, value);
    this.count += part.size - before;
    return this;
  }

  /**
   * set(), telling whether the key is new (a load's duplicate check): one hash and one Map
   * operation, not has() + set(). The value is stored either way.
   */
  setNew(key: string, value: V): boolean {
    const i = keyShard(key);
    let part = this.parts[i]!;
    if (part === NO_KEYS) this.parts[i] = part = new Map();
    const before = part.size;
    part.set(key, value);
    if (part.size === before) return false;
    this.count++;
    return true;
  }

  delete(key: string): boolean {
    if (!this.parts[keyShard(key)]!.delete(key)) return false;
    this.count--;
    return true;
  }

  /**
   * Installs a whole shard built elsewhere (a load: see replication/dataset-load.ts), whose keys
   * all belong to shard `index` by keyShard(). The shard must be empty.
   */
  adoptPart(index: number, part: Map<string, V>): void {
    if (this.parts[index]!.size !== 0) throw new Error(`key table shard ${index} is not empty`);
    this.parts[index] = part.size === 0 ? NO_KEYS : part;
    this.count += part.size;
  }

  /** The shard Map that holds (or would hold) `key`, for callers that track Maps by identity. */
  partOf(key: string): Map<string, V> {
    return this.parts[keyShard(key)]!;
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
 * element on JSC). A shard's iterator is created when the walk gets to it, so it sees the
 * shard's Map as it is then.
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
