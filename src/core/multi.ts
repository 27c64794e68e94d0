// MULTI / EXEC / DISCARD / WATCH / UNWATCH. Queueing happens in the dispatcher (which also
// flags the transaction when a command is rejected); EXEC runs the queue atomically: nothing
// else runs in between, since commands execute synchronously on one thread.

import type { Client } from "./client.ts";
import type { Database } from "../store/database.ts";

// WATCH of a key that is already logically expired (Redis 7.0's watchedKey.expired): its
// deletion by expiry is no change for that client, but a key that expires after the WATCH
// makes EXEC fail even before it is deleted (isWatchedKeyExpired).

/** Removes the client's watches, leaving its dirty flag as it is (Redis's unwatchAllKeys). */
function removeWatches(c: Client): void {
  const watched = c.watched;
  if (!watched) return;
  const server = c.server;
  for (const k of watched) {
    const set = server.watchedKeys.get(k);
    if (!set) continue;
    set.delete(c);
    if (set.size === 0) server.watchedKeys.delete(k);
  }
  c.watched = null;
  c.watchedExpired = null;
}

export function unwatchAll(c: Client): void {
  removeWatches(c);
  c.dirtyCas = false;
}

/** discardTransaction: leaves MULTI and forgets the watches. */
export function discardTransaction(c: Client): void {
  c.multi = null;
  unwatchAll(c);
}

/** Whether the client watched `tag` while its key was already expired. */
export function watchedWhileExpired(c: Client, tag: string): boolean {
  return c.watchedExpired !== null && c.watchedExpired.has(tag);
}

export function setWatchedWhileExpired(c: Client, tag: string, expired: boolean): void {
  if (expired) (c.watchedExpired ??= new Set()).add(tag);
  else c.watchedExpired?.delete(tag);
}

/**
 * touchWatchedKey: `key` of `db` changed; its watchers' next EXEC fails. A watcher that watched
 * the key already expired is not touched by its deletion (and, as in Redis, a change of such a
 * key that leaves it in place stops the walk of the remaining watchers).
 */
export function touchWatchers(watchers: Set<Client>, db: Database, key: string, tag: string): void {
  for (const c of watchers) {
    if (watchedWhileExpired(c, tag)) {
      if (!db.has(key)) {
        setWatchedWhileExpired(c, tag, false);
        continue;
      }
      break;
    }
    c.dirtyCas = true;
    // Dirty already: no need to be told again (Redis unwatches the client right away).
    removeWatches(c);
  }
}

/** isWatchedKeyExpired: a key watched while alive has expired since (even if not yet deleted). */
export function watchedKeyExpired(c: Client): boolean {
  const watched = c.watched;
  if (!watched || c.server.loading) return false;
  const now = c.server.cmdTime;
  for (const tag of watched) {
    if (watchedWhileExpired(c, tag)) continue;
    const sep = tag.indexOf("\0");
    const db = c.server.dbs[Number(tag.slice(0, sep))];
    if (db !== undefined && db.isExpired(tag.slice(sep + 1), now)) return true;
  }
  return false;
}
