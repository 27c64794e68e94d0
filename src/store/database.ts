// One of the 16 (configurable) databases: the keyspace and the expiry table.
// Expiry times are absolute Unix milliseconds. This class does raw storage only; the rules of
// lookup (a replica reads logically expired keys as missing, a master deletes them and
// propagates DEL) live in the command context, which knows who is asking.

import type { RedisValue } from "./values.ts";

export class Database {
  keys = new Map<string, RedisValue>();
  expires = new Map<string, number>();
  /** Counts of successful / failed lookups for INFO keyspace_hits / keyspace_misses. */

  constructor(readonly id: number) {}

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
    this.keys.set(key, value);
  }

  /** Stores a value and clears any expiry (a plain SET). */
  setPersistent(key: string, value: RedisValue): void {
    this.keys.set(key, value);
    if (this.expires.size !== 0) this.expires.delete(key);
  }

  delete(key: string): boolean {
    if (!this.keys.delete(key)) return false;
    if (this.expires.size !== 0) this.expires.delete(key);
    return true;
  }

  getExpire(key: string): number | undefined {
    return this.expires.size === 0 ? undefined : this.expires.get(key);
  }

  setExpire(key: string, whenMs: number): void {
    this.expires.set(key, whenMs);
  }

  removeExpire(key: string): boolean {
    return this.expires.delete(key);
  }

  /** Whether the key has an expiry in the past (logically expired), as of `now`. */
  isExpired(key: string, now: number): boolean {
    if (this.expires.size === 0) return false;
    const when = this.expires.get(key);
    return when !== undefined && now > when;
  }

  clear(): void {
    this.keys = new Map();
    this.expires = new Map();
  }

  /** Swaps the contents with another database (SWAPDB, swapdb diskless load). */
  swapContents(other: Database): void {
    const k = this.keys;
    const e = this.expires;
    this.keys = other.keys;
    this.expires = other.expires;
    other.keys = k;
    other.expires = e;
  }
}
