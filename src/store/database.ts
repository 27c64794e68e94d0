// One of the 16 (configurable) databases: its keys, values and expiry times in one Keyspace
// (keyspace/keyspace.ts: an open-addressing index over byte records; aggregates are JS
// objects in its side table, or bytes in the record while at rest: store/at-rest.ts). Expiry times are absolute Unix milliseconds. This class does raw
// storage only; the rules of lookup (a replica reads logically expired keys as missing, a
// master deletes them and propagates DEL) live in the command context, which knows who asks.
//
// Strings at the boundary: keys are latin1 JS strings, and a string value is handed out as a
// latin1 JS string (one latin1Slice per read). The slot accessors (find, valueAt, expireAt,
// keyAt) let a caller do one lookup for several reads; a slot is valid until the next write.

import { cloneValue } from "./clone.ts";
import { HashValue } from "./hash.ts";
import { SetValue } from "./set.ts";
import { ZSetValue } from "./zset.ts";
import { Keyspace, NO_EXPIRE, NOT_FOUND, packedFits, type KeptObjects } from "./keyspace/keyspace.ts";
import { restForm, restFormAgain, restFormOf, restTypeName, valueFromRest } from "./at-rest.ts";
import { Kind } from "./keyspace/record.ts";
import { AccessClock } from "./keyspace/access-clock.ts";
import { memoryUsageOf, typeOf, type RedisValue } from "./values.ts";

export { NOT_FOUND } from "./keyspace/keyspace.ts";

const cloneObject = (v: unknown): unknown => cloneValue(v as RedisValue);
/** An aggregate's cost for used_memory: MEMORY USAGE's estimate with its default 5 samples. */
const measureObject = (v: unknown): number => memoryUsageOf(v as RedisValue, 5);

/** An empty keyspace for a database (`expectedKeys`: a load's RESIZEDB hint). */
export function newKeyspace(expectedKeys = 0, clock?: AccessClock): Keyspace {
  return new Keyspace({ expectedKeys, cloneObject, clock, measureObject });
}

/**
 * The value of the record `ref` without changing the record (a snapshot's walk, a dump): an
 * aggregate at rest is decoded into a throwaway object.
 */
export function valueOfRef(ks: Keyspace, ref: number): RedisValue {
  const kind = ks.kindOf(ref);
  if (kind === Kind.Object) return ks.objectOf(ref) as RedisValue;
  if (kind === Kind.Packed) return valueFromRest(ks.packedTagOf(ref), ks.packedMetaOf(ref), ks.packedDataOf(ref));
  return ks.valueStringOf(ref);
}

/**
 * Adds a loaded key to a keyspace (false: it exists): a small aggregate in its packed form is
 * stored at rest, as bytes (store/at-rest.ts).
 */
export function addLoaded(ks: Keyspace, key: string, value: RedisValue, expire: number): boolean {
  if (typeof value === "string") return ks.addString(key, value, expire);
  if (restFormOf(value) && packedFits(key.length, restForm.data.length)) return ks.addPacked(key, restForm.tag, restForm.meta, restForm.data, expire);
  return ks.addObject(key, value, expire);
}

/** The index size from which Database.prefetch reads keys ahead (see worthPrefetching). */
const PREFETCH_MIN_SLOTS = 1 << 16;

export class Database {
  ks: Keyspace;
  /**
   * The dataset snapshot reading this database, if any (BGSAVE, a full sync): at most one at a
   * time. It keeps walking the keyspace it started with when FLUSHDB or SWAPDB replace this one.
   */
  snapshot: { readonly keptObjects: KeptObjects } | null = null;
  /** Where restIdle() resumes its walk of the table; when its last pass ended (clock seconds). */
  private restCursor = 0;
  private restPassEnded = -1;
  /** Where active expiry resumes its walk of the volatile keys (a position in ks.volatile). */
  expirePos = 0;
  /**
   * Told after a command's write adds a key that was not there (Redis's dbAdd: the "new"
   * keyspace event). Loads add keys with add() and do not call it.
   */
  newKeyHook: ((db: Database, key: string) => void) | null = null;
  /**
   * Keys that may hold a hash with field TTLs (Redis 7.4's db->hexpires, loosely): active field
   * expiry walks them and drops entries whose value no longer has any. Added whenever such a
   * hash is stored under a key (a TTL set, RENAME, COPY, MOVE, RESTORE, a load).
   */
  fieldTtlKeys = new Set<string>();
  /** Where active field expiry resumes its walk of fieldTtlKeys (masters only). */
  fieldExpireCursor: Iterator<string> | null = null;

  /**
   * `clock`: the server's access clock (new keys take their LRU/LFU field from it); a database
   * of its own (DUMP's scratch database) has one of its own.
   */
  constructor(
    readonly id: number,
    readonly clock: AccessClock = new AccessClock(),
  ) {
    this.ks = newKeyspace(0, clock);
  }

  get size(): number {
    return this.ks.size;
  }

  /** Keys with an expiry. */
  get expiresSize(): number {
    return this.ks.volatile.size;
  }

  // -------------------------------------------------------------------------------------------
  // By slot: one lookup, several reads (valid until the next write to this database)

  /**
   * Whether reading ahead (prefetch) can pay: an index of 64k slots or more (512 KB, its records
   * a few MB: past a core's own caches), or aggregates held as objects (a large set's, hash's or
   * sorted set's table may be behind any key).
   */
  get worthPrefetching(): boolean {
    return this.ks.capacity >= PREFETCH_MIN_SLOTS || this.ks.side.size !== 0;
  }

  /**
   * Reads ahead what a pipeline's commands will look up (request-parser.ts's peekArguments
   * quadruples in `at`): their keys, and when the first one is a large set, hash or sorted set,
   * the members the commands name in it (a pipeline of HGET / SISMEMBER / ZSCORE on one key).
   */
  prefetch(buf: Uint8Array, at: Int32Array, n: number): void {
    const ks = this.ks;
    ks.prefetch(buf, at, n);
    if (at[3]! < 0) return;
    const slot = ks.findBytes(buf, at[0]!, at[1]!);
    if (slot === NOT_FOUND || ks.kindAt(slot) !== Kind.Object) return;
    const v = ks.objectAt(slot);
    if (v instanceof SetValue || v instanceof HashValue || v instanceof ZSetValue) v.prefetchMembers(buf, at, n);
  }

  /** The slot of a key, or NOT_FOUND. */
  find(key: string): number {
    return this.ks.findString(key);
  }

  /**
   * The value at `slot`, as the commands work on it: an aggregate held at rest as bytes
   * (store/at-rest.ts) is decoded and the record holds the object from then on, so that a
   * command may change it in place. The slot stays valid.
   */
  valueAt(slot: number): RedisValue {
    const ks = this.ks;
    const kind = ks.kindAt(slot);
    if (kind === Kind.Object) return ks.objectAt(slot) as RedisValue;
    if (kind !== Kind.Packed) return ks.valueStringAt(slot);
    const ref = ks.refAt(slot);
    const v = valueFromRest(ks.packedTagOf(ref), ks.packedMetaOf(ref), ks.packedDataOf(ref));
    ks.materializeAt(slot, v as object);
    return v;
  }

  /**
   * The value at `slot` for a reader that only looks (DEBUG DIGEST, SAVE, a dump): an
   * aggregate at rest is decoded into a throwaway object and stays at rest.
   */
  peekValueAt(slot: number): RedisValue {
    return valueOfRef(this.ks, this.ks.refAt(slot));
  }

  /**
   * Puts aggregates not accessed for `minIdleMs` back at rest (store/at-rest.ts), walking the
   * table from where the last call stopped until `deadline` (performance.now() ms): a key
   * written once and then only kept costs its bytes again. Returns how many went to rest.
   * Not while a snapshot reads this database (its copy-on-write follows the objects).
   */
  restIdle(deadline: number, minIdleMs: number): number {
    const ks = this.ks;
    if (ks.side.size === 0 || this.snapshot !== null || ks.snapshotRunning) return 0;
    const clock = this.clock;
    // A pass over the table ended: the next waits a third of the idle time (what it could find
    // before that is little), so a dataset whose objects cannot rest is not walked every tick.
    // (The seconds clock wraps at 2^24: the difference is taken modulo.)
    if (this.restCursor === 0 && this.restPassEnded >= 0 && ((clock.seconds - this.restPassEnded) & 0xffffff) < minIdleMs / 3000) return 0;
    const t = ks.table;
    const end = t.length >> 1;
    let i = this.restCursor;
    let rested = 0;
    for (let visited = 0; i < end; i++, visited++) {
      if ((visited & 255) === 255 && performance.now() >= deadline) break;
      if (t[i << 1] === 0) continue;
      const ref = t[(i << 1) + 1]!;
      if (ks.kindOf(ref) !== Kind.Object || clock.sinceAccessMs(ks.lruOf(ref)) < minIdleMs) continue;
      if (!restFormAgain(ks.objectOf(ref) as RedisValue) || !packedFits(ks.keyLengthOf(ref), restForm.data.length)) continue;
      ks.restAt(i, restForm.tag, restForm.meta, restForm.data);
      rested++;
    }
    if (i >= end) {
      i = 0;
      this.restPassEnded = clock.seconds;
    }
    this.restCursor = i;
    return rested;
  }

  /** TYPE's name for the value at `slot`, decoding nothing. */
  typeAt(slot: number): string {
    const ks = this.ks;
    const kind = ks.kindAt(slot);
    if (kind === Kind.Packed) return restTypeName(ks.packedTagOf(ks.refAt(slot)));
    if (kind === Kind.Object) return typeOf(ks.objectAt(slot) as RedisValue);
    return "string";
  }

  /** Absolute Unix ms, or -1 (no expiry). */
  expireAt(slot: number): number {
    return this.ks.expireAt(slot);
  }

  keyAt(slot: number): string {
    return this.ks.keyStringAt(slot);
  }

  /**
   * MEMORY USAGE of the key at `slot`: its record, its share of the index, and for an
   * aggregate the object (elements sampled, `samples` at most) and its side-table entry (a
   * slot of an array that grows by doubling: 12 bytes on average).
   */
  memoryUsageAt(slot: number, samples: number): number {
    const ks = this.ks;
    // A value at rest is all in its record.
    let n = ks.recordBytesAt(slot) + Math.round(ks.table.byteLength / ks.size);
    if (ks.kindAt(slot) === Kind.Object) n += memoryUsageOf(ks.objectAt(slot) as RedisValue, samples) + 12;
    return n;
  }

  /**
   * The first used slot at or after `from`, or NOT_FOUND: a walk of all keys that writes nothing
   * meanwhile (KEYS, SAVE, DEBUG DIGEST): `for (let s = db.nextSlot(0); s !== NOT_FOUND; s = db.nextSlot(s + 1))`.
   */
  nextSlot(from: number): number {
    const t = this.ks.table;
    const end = t.length >> 1;
    for (let i = from; i < end; i++) if (t[i << 1] !== 0) return i;
    return NOT_FOUND;
  }

  /** Every key and value (for cold paths and tests; nothing may write while it runs). */
  *entries(): Generator<[string, RedisValue]> {
    for (let s = this.nextSlot(0); s !== NOT_FOUND; s = this.nextSlot(s + 1)) yield [this.keyAt(s), this.peekValueAt(s)];
  }

  // -------------------------------------------------------------------------------------------
  // By key

  get(key: string): RedisValue | undefined {
    const slot = this.ks.findString(key);
    return slot === NOT_FOUND ? undefined : this.valueAt(slot);
  }

  has(key: string): boolean {
    return this.ks.findString(key) !== NOT_FOUND;
  }

  /**
   * Must be called before an in-place modification of the value of `key` (aggregates): a
   * snapshot in progress keeps a copy of the state it still needs. The value stays the same
   * object.
   */
  beforeChange(key: string): void {
    if (this.snapshot === null && !this.ks.snapshotRunning) return;
    const slot = this.ks.findString(key);
    if (slot !== NOT_FOUND) this.beforeChangeAt(slot);
  }

  /** beforeChange for a key found at `slot` (no second lookup). */
  beforeChangeAt(slot: number): void {
    const ks = this.ks;
    if (ks.kindAt(slot) !== Kind.Object) return;
    ks.objectChangingAt(slot);
    if (this.snapshot === null && !ks.snapshotRunning) return;
    if (ks.snapshotRunning) ks.beforeObjectChange(slot);
    // A keyspace that replaced the one being walked (FLUSHDB) may hold an object that moved
    // here from a walked one (MOVE): it is still registered with the dataset's snapshot.
    else this.snapshot!.keptObjects.copyFor(ks.objectAt(slot));
  }

  /** Stores a value. The key's expiry is kept (callers clear it when the command says so). */
  set(key: string, value: RedisValue): void {
    this.store(key, value, true);
  }

  /** Stores a value and clears any expiry (a plain SET). */
  setPersistent(key: string, value: RedisValue): void {
    this.store(key, value, false);
  }

  private store(key: string, value: RedisValue, keepTtl: boolean): void {
    const added = typeof value === "string" ? this.ks.setString(key, value, keepTtl) : this.ks.setObject(key, value, keepTtl);
    if (value instanceof HashValue && value.fieldTtlCount !== 0) this.fieldTtlKeys.add(key);
    if (added && this.newKeyHook !== null) this.newKeyHook(this, key);
  }

  /**
   * Adds a key that is not there yet, with its expiry (-1: none), as a load does. Returns false,
   * storing nothing, when the key exists.
   */
  add(key: string, value: RedisValue, expire: number): boolean {
    const added = addLoaded(this.ks, key, value, expire);
    if (added && value instanceof HashValue && value.fieldTtlCount !== 0) this.fieldTtlKeys.add(key);
    return added;
  }

  delete(key: string): boolean {
    return this.ks.deleteString(key);
  }

  getExpire(key: string): number | undefined {
    if (this.ks.volatile.size === 0) return undefined;
    const slot = this.ks.findString(key);
    if (slot === NOT_FOUND) return undefined;
    const when = this.ks.expireAt(slot);
    return when === NO_EXPIRE ? undefined : when;
  }

  /** Sets the expiry of an existing key (nothing happens for a missing one). */
  setExpire(key: string, whenMs: number): void {
    const slot = this.ks.findString(key);
    if (slot !== NOT_FOUND) this.ks.setExpireAt(slot, whenMs);
  }

  removeExpire(key: string): boolean {
    if (this.ks.volatile.size === 0) return false;
    const slot = this.ks.findString(key);
    return slot !== NOT_FOUND && this.ks.persistAt(slot);
  }

  /** Whether the key has an expiry in the past (logically expired), as of `now`. */
  isExpired(key: string, now: number): boolean {
    if (this.ks.volatile.size === 0) return false;
    const slot = this.ks.findString(key);
    if (slot === NOT_FOUND) return false;
    const when = this.ks.expireAt(slot);
    return when !== NO_EXPIRE && now > when;
  }

  // -------------------------------------------------------------------------------------------
  // Sampling

  /** A uniformly random key (RANDOMKEY), or undefined when empty. */
  randomKey(): string | undefined {
    const slot = this.ks.randomSlot();
    return slot === NOT_FOUND ? undefined : this.ks.keyStringAt(slot);
  }

  /** The key with an expiry at position `pos` (0 .. expiresSize - 1) of the volatile keys. */
  volatileKeyAt(pos: number): string {
    return this.ks.keyStringOf(this.ks.volatile.refs[pos]!);
  }

  /** The expiry time of the key at volatile position `pos`. */
  volatileExpireAt(pos: number): number {
    return this.ks.expireOf(this.ks.volatile.refs[pos]!);
  }

  /**
   * SCAN: pushes the keys of the next buckets to `out` and returns the next cursor (0: the
   * iteration is complete). Stateless, with Redis's reverse-binary cursor (keyspace.scan).
   * Redis visits at most 10 * count buckets per call; our table holds fewer keys per bucket
   * than Redis's (it grows at 3/4 full, Redis's when full), so the bound counts the buckets of
   * the table Redis would have for as many keys: a call covers as much of the keyspace as
   * Redis's would.
   */
  scan(cursor: number, count: number, out: string[]): number {
    const ks = this.ks;
    let redisBuckets = 4;
    while (redisBuckets < ks.size) redisBuckets *= 2;
    const ratio = Math.max(1, ks.capacity / redisBuckets);
    const slots = scanSlots;
    slots.length = 0;
    const next = ks.scan(cursor, count, slots, count * 10 * ratio);
    for (const s of slots) out.push(ks.keyStringAt(s));
    slots.length = 0;
    return next;
  }

  // -------------------------------------------------------------------------------------------
  // Whole database

  /** Empties the database. A snapshot still walking the old keyspace keeps it, unchanged. */
  clear(): void {
    this.ks = newKeyspace(0, this.clock);
    this.fieldTtlKeys = new Set();
    this.expirePos = 0;
  }

  /** Takes a keyspace filled by a load (the old one is dropped). */
  install(ks: Keyspace): void {
    this.ks = ks;
    ks.clock = this.clock;
    this.expirePos = 0;
  }

  /** Swaps the contents with another database (SWAPDB, swapdb diskless load). */
  swapContents(other: Database): void {
    const k = this.ks;
    const f = this.fieldTtlKeys;
    this.ks = other.ks;
    this.fieldTtlKeys = other.fieldTtlKeys;
    other.ks = k;
    other.fieldTtlKeys = f;
    this.ks.clock = this.clock;
    k.clock = other.clock;
    this.expirePos = 0;
    other.expirePos = 0;
  }
}

/** Scratch for scan's slots (reused: SCAN runs on one thread, one call at a time). */
const scanSlots: number[] = [];
