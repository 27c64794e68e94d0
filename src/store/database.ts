// One of the 16 (configurable) databases: the keyspace and the expiry table.
// Expiry times are absolute Unix milliseconds. This class does raw storage only; the rules of
// lookup (a replica reads logically expired keys as missing, a master deletes them and
// propagates DEL) live in the command context, which knows who is asking.

import { HashValue } from "./hash.ts";
import { KeyTable } from "./key-table.ts";
import type { RedisValue } from "./values.ts";

/**
 * Told before a key of a watched keyspace changes (value, expiry or deletion), so that a
 * snapshot in progress can preserve the old state first (copy-on-write). Only set while a
 * snapshot runs: the cost otherwise is one null check per write.
 */
export interface ChangeWatcher {
  beforeChange(keys: KeyTable<RedisValue>, expires: KeyTable<number>, key: string): void;
}

export class Database {
  keys = new KeyTable<RedisValue>();
  expires = new KeyTable<number>();
  watcher: ChangeWatcher | null = null;
  /** Where active expiry resumes its walk of the expiry table (masters only). */
  expireCursor: Iterator<[string, number]> | null = null;
  /**
   * Told after a command's write adds a key that was not there (Redis's dbAdd: the "new"
   * keyspace event). Loads fill the key Map directly and do not call it.
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

  constructor(readonly id: number) {}

  /** Must be called before an in-place modification of the value of `key` (aggregates). */
  beforeChange(key: string): void {
    this.watcher?.beforeChange(this.keys, this.expires, key);
  }

  get size(): number {
    return this.keys.size;
  }

  get(key: string): RedisValue | undefined {
    return this.keys.get(key);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** Stores a value. The key's expiry is kept (callers clear it when the command says so). */
  set(key: string, value: RedisValue): void {
    this.watcher?.beforeChange(this.keys, this.expires, key);
    const added = this.newKeyHook !== null && !this.keys.has(key);
    this.keys.set(key, value);
    if (value instanceof HashValue && value.fieldTtlCount !== 0) this.fieldTtlKeys.add(key);
    if (added) this.newKeyHook!(this, key);
  }

  /** Stores a value and clears any expiry (a plain SET). */
  setPersistent(key: string, value: RedisValue): void {
    this.watcher?.beforeChange(this.keys, this.expires, key);
    const added = this.newKeyHook !== null && !this.keys.has(key);
    this.keys.set(key, value);
    if (this.expires.size !== 0) this.expires.delete(key);
    if (value instanceof HashValue && value.fieldTtlCount !== 0) this.fieldTtlKeys.add(key);
    if (added) this.newKeyHook!(this, key);
  }

  delete(key: string): boolean {
    if (this.watcher && this.keys.has(key)) this.watcher.beforeChange(this.keys, this.expires, key);
    if (!this.keys.delete(key)) return false;
    if (this.expires.size !== 0) this.expires.delete(key);
    return true;
  }

  getExpire(key: string): number | undefined {
    return this.expires.size === 0 ? undefined : this.expires.get(key);
  }

  setExpire(key: string, whenMs: number): void {
    this.watcher?.beforeChange(this.keys, this.expires, key);
    this.expires.set(key, whenMs);
  }

  removeExpire(key: string): boolean {
    if (this.watcher && this.expires.has(key)) this.watcher.beforeChange(this.keys, this.expires, key);
    return this.expires.delete(key);
  }

  /** Whether the key has an expiry in the past (logically expired), as of `now`. */
  isExpired(key: string, now: number): boolean {
    if (this.expires.size === 0) return false;
    const when = this.expires.get(key);
    return when !== undefined && now > when;
  }

  /** Empties the database. A snapshot still iterating the old maps keeps them, unchanged. */
  clear(): void {
    this.keys = new KeyTable();
    this.expires = new KeyTable();
    this.fieldTtlKeys = new Set();
  }

  /** Swaps the contents with another database (SWAPDB, swapdb diskless load). */
  swapContents(other: Database): void {
    const k = this.keys;
    const e = this.expires;
    const f = this.fieldTtlKeys;
    this.keys = other.keys;
    this.expires = other.expires;
    this.fieldTtlKeys = other.fieldTtlKeys;
    other.keys = k;
    other.expires = e;
    other.fieldTtlKeys = f;
  }
}
