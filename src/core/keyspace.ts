// Key lookup and modification with Redis's semantics, shared by every command family.
//
// Expiry, as Redis 7.0 does it (db.c expireIfNeeded):
// - on a replica, keys are never deleted by expiry: a logically expired key reads as missing
//   to normal clients, but the master's own commands still see it (the master will send DEL);
// - on a master (standalone or promoted), an expired key found on access is deleted and the
//   deletion is propagated as DEL to replicas and the backlog.
//
// Every modification must go through these helpers (or call signalModified) so that WATCH is
// invalidated and server.dirty counts the change.

import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import { NOT_FOUND, type Database } from "../store/database.ts";
import { HashValue, ListValue, SetValue, StreamValue, ZSetValue, type RedisValue } from "../store/values.ts";
import { CommandError, WRONGTYPE } from "./errors.ts";
import { NotifyClass, notifyKeyspaceEvent, notifyServerKeyspaceEvent } from "./pubsub.ts";

/**
 * Whether a key must be treated as missing because it has expired; deletes it when we are a
 * master. Call only for keys that exist.
 */
export function expireIfNeeded(c: Client, db: Database, key: string, forWrite = false): boolean {
  if (db.expiresSize === 0) return false;
  const slot = db.find(key);
  return slot !== NOT_FOUND && expireSlotIfNeeded(c, db, key, slot, forWrite);
}

/** expireIfNeeded for a key found at `slot`; when it returns false nothing was written. */
function expireSlotIfNeeded(c: Client, db: Database, key: string, slot: number, forWrite: boolean): boolean {
  const when = db.expireAt(slot);
  if (when === -1) return false;
  const server = c.server;
  if (!(server.cmdTime > when)) return false;
  // Nothing expires while the AOF loads (keyIsExpired): its commands replay a past in order.
  if (server.loading) return false;
  if (server.replication.masterHost !== null) {
    // The master's stream is applied on the data as the master sees it.
    if (c.isMaster) return false;
    // A writable replica deletes on write access (Redis's force_delete_expired).
    if (!forWrite) return true;
  }
  // While clients are paused (CLIENT PAUSE, FAILOVER) the dataset stays still: the key reads as
  // expired but stays, to be expired at the end of the pause (or by a new master).
  if (server.pause.active) return true;
  deleteExpiredKey(server, db, key);
  return true;
}

/**
 * Deletes a key whose time has passed, as a master does (deleteExpiredKeyAndPropagate): the
 * "expired" keyspace event, WATCH invalidation, DEL (or UNLINK) to the replicas and backlog.
 */
export function deleteExpiredKey(server: Server, db: Database, key: string): void {
  db.delete(key);
  notifyServerKeyspaceEvent({ server }, NotifyClass.Expired, "expired", key, db.id);
  // Nobody's change (Redis passes no client): BCAST NOLOOP clients hear of it too.
  server.signalModifiedKey(db, key, null);
  server.replication.propagateExpiry(db, key);
  server.stats.expiredKeys++;
}

/**
 * Lookup for reading: counts keyspace hits/misses; expired keys read as missing; a miss
 * publishes "keymiss" (notify-keyspace-events m), as Redis's lookupKeyRead does.
 */
export function lookupRead(c: Client, key: string, db: Database = c.db): RedisValue | undefined {
  const slot = lookupReadSlot(c, key, db);
  return slot === NOT_FOUND ? undefined : db.valueAt(slot);
}

/**
 * lookupRead for commands that need the key's slot only (EXISTS, TOUCH, TYPE, GET): the same
 * statistics and events, and a value at rest stays at rest (Database.typeAt). `touch` false is
 * Redis's LOOKUP_NOTOUCH (EXISTS, TYPE, TTL, SCAN's TYPE filter): the key's LRU clock / LFU
 * counter stays as it is. The slot is valid until the next write.
 */
export function lookupReadSlot(c: Client, key: string, db: Database = c.db, touch = true): number {
  const slot = db.find(key);
  if (slot === NOT_FOUND || (db.expiresSize !== 0 && expireSlotIfNeeded(c, db, key, slot, false))) {
    c.server.stats.keyspaceMisses++;
    notifyKeyspaceEvent(c, NotifyClass.KeyMiss, "keymiss", key, db.id);
    return NOT_FOUND;
  }
  c.server.stats.keyspaceHits++;
  if (touch) touchSlot(db, slot);
  return slot;
}

/**
 * An access updates the key's LRU clock or LFU counter (Redis's lookupKey without
 * LOOKUP_NOTOUCH). Our snapshots need no exception for it (Redis skips it while a child exists).
 */
function touchSlot(db: Database, slot: number): void {
  const ks = db.ks;
  const clock = ks.clock;
  ks.touchAt(slot, clock.lfu ? clock.accessed(ks.lruAt(slot)) : clock.seconds);
}

/**
 * OBJECT's lookup (Redis's LOOKUP_NOTOUCH | LOOKUP_NONOTIFY): no "keymiss" event, and the
 * access field stays as it is (OBJECT IDLETIME / FREQ report it).
 */
export function lookupReadNoNotify(c: Client, key: string, db: Database = c.db): RedisValue | undefined {
  const slot = db.find(key);
  if (slot === NOT_FOUND || (db.expiresSize !== 0 && expireSlotIfNeeded(c, db, key, slot, false))) {
    c.server.stats.keyspaceMisses++;
    return undefined;
  }
  c.server.stats.keyspaceHits++;
  return db.valueAt(slot);
}

/**
 * Lookup for writing: no statistics; expired keys are deleted first when we may do so. The
 * caller may modify an aggregate in place: a snapshot in progress is told first (it keeps a
 * copy; the value returned stays the live one).
 */
export function lookupWrite(c: Client, key: string, db: Database = c.db): RedisValue | undefined {
  const slot = db.find(key);
  if (slot === NOT_FOUND) return undefined;
  if (db.expiresSize !== 0 && expireSlotIfNeeded(c, db, key, slot, true)) return undefined;
  touchSlot(db, slot);
  const v = db.valueAt(slot);
  if (typeof v !== "string") db.beforeChangeAt(slot);
  return v;
}

type Ctor<T> = abstract new (...args: never[]) => T;

function checkType<T>(v: RedisValue | undefined, cls: Ctor<T>): T | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof cls)) throw new CommandError(WRONGTYPE);
  return v;
}

export function readString(c: Client, key: string): string | undefined {
  const v = lookupRead(c, key);
  if (v !== undefined && typeof v !== "string") throw new CommandError(WRONGTYPE);
  return v;
}

export function writeString(c: Client, key: string): string | undefined {
  const v = lookupWrite(c, key);
  if (v !== undefined && typeof v !== "string") throw new CommandError(WRONGTYPE);
  return v;
}

/** What readInPlace returns for an aggregate read in its record (ks.rangeBuffer / rangeStart / rangeLength / rangeMeta). */
export const AT_REST = null;

/**
 * Lookup for reading with the type check (readHash, readSet...), except that an aggregate held
 * at rest (store/at-rest.ts) whose tag is `cls`'s (`isTag`) and whose form the caller reads as
 * bytes (`readable(meta)`) stays so: AT_REST, its packed data at db.ks.rangeBuffer from
 * rangeStart for rangeLength bytes, its meta word in rangeMeta. A read makes no object that
 * would then stay. Undefined when missing; WRONGTYPE for another type.
 */
export function readInPlace<T>(c: Client, key: string, cls: Ctor<T>, isTag: (tag: number) => boolean, readable: (meta: number) => boolean = always): T | typeof AT_REST | undefined {
  const db = c.db;
  const slot = lookupReadSlot(c, key, db);
  if (slot === NOT_FOUND) return undefined;
  const tag = db.ks.packedRangeAt(slot);
  if (tag >= 0) {
    if (!isTag(tag)) throw new CommandError(WRONGTYPE);
    if (readable(db.ks.rangeMeta)) return AT_REST;
  }
  return checkType(db.valueAt(slot), cls);
}

const always = () => true;

export const readList = (c: Client, key: string) => checkType(lookupRead(c, key), ListValue);
export const writeList = (c: Client, key: string) => checkType(lookupWrite(c, key), ListValue);
export const readHash = (c: Client, key: string) => checkType(lookupRead(c, key), HashValue);
export const writeHash = (c: Client, key: string) => checkType(lookupWrite(c, key), HashValue);
export const readSet = (c: Client, key: string) => checkType(lookupRead(c, key), SetValue);
export const writeSet = (c: Client, key: string) => checkType(lookupWrite(c, key), SetValue);
export const readZSet = (c: Client, key: string) => checkType(lookupRead(c, key), ZSetValue);
export const writeZSet = (c: Client, key: string) => checkType(lookupWrite(c, key), ZSetValue);
export const readStream = (c: Client, key: string) => checkType(lookupRead(c, key), StreamValue);
export const writeStream = (c: Client, key: string) => checkType(lookupWrite(c, key), StreamValue);

/** Records a modification of `key`: WATCH invalidation and the dirty counter. */
export function signalModified(c: Client, key: string, db: Database = c.db, changes = 1): void {
  c.server.signalModifiedKey(db, key);
  c.server.dirty += changes;
}

/**
 * Stores a value under a key (Redis's setKey): replaces any old value; clears the expiry
 * unless keepTtl. Counts one change and invalidates WATCH. Like Redis's (which looks the key
 * up for writing first), an expired old value is deleted as expired before it is replaced:
 * "expired" event, DEL to the replicas.
 */
export function setKey(c: Client, key: string, value: RedisValue, keepTtl = false, db: Database = c.db): void {
  if (db.expiresSize !== 0) expireIfNeeded(c, db, key, true);
  if (keepTtl) db.set(key, value);
  else db.setPersistent(key, value);
  signalModified(c, key, db);
}

/** Deletes a key if present (Redis's dbDelete + signal). Returns whether it existed. */
export function deleteKey(c: Client, key: string, db: Database = c.db): boolean {
  if (!db.delete(key)) return false;
  signalModified(c, key, db);
  return true;
}

