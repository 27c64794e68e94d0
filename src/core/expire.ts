// Active expiry, as a master does it (expire.c activeExpireCycle, simplified): 10 times a
// second, walk each database's volatile keys (the keys with an expiry, a dense array in its
// keyspace) from a persistent position and delete keys whose time has passed, within a time
// budget. Deletions are propagated as DEL (UNLINK with lazyfree-lazy-expire). A replica never
// expires its master's keys: it waits for its master's DEL (a writable replica's own keys:
// replica-expire.ts).
//
// Hash fields with a TTL (Redis 7.4's activeExpireHashFieldCycle) are expired the same way,
// from the database's field-TTL keys: each field deleted is one HDEL propagated on its own
// (no MULTI), one "hexpired" event per hash and pass, "del" when the hash empties (no DEL is
// propagated for it: the replicas drop the key with its last HDEL).

import { NotifyClass, notifyServerKeyspaceEvent } from "./pubsub.ts";
import { deleteExpiredKey } from "./keyspace.ts";
import { expireReplicaKeys } from "./replica-expire.ts";
import type { Database } from "../store/database.ts";
import { HashValue } from "../store/hash.ts";
import type { Server } from "./server.ts";

/** Keys looked at per database per cycle before checking the time budget. */
const SAMPLE = 64;
/** Redis gives the slow cycle 25% of the 100 ms cron period. */
const BUDGET_MS = 25;

export function activeExpireCycle(server: Server): void {
  if (!server.activeExpireEnabled || server.loading) return;
  if (server.replication.masterHost !== null) {
    expireReplicaKeys(server);
    return;
  }
  // While clients are paused (CLIENT PAUSE, FAILOVER) the dataset stays still (Redis 7.0).
  if (server.pause.active) return;
  const started = performance.now();
  const now = Date.now();
  for (const db of server.dbs) {
    if (db.expiresSize === 0) {
      db.expirePos = 0;
      continue;
    }
    let expiredInRound = SAMPLE;
    // Keep going on a database while many sampled keys were expired, like Redis's loop.
    while (expiredInRound > SAMPLE / 4 && performance.now() - started < BUDGET_MS) {
      expiredInRound = 0;
      let passDone = false;
      for (let i = 0; i < SAMPLE; i++) {
        const pos = db.expirePos;
        if (pos >= db.expiresSize) {
          db.expirePos = 0;
          passDone = true;
          break;
        }
        if (now > db.volatileExpireAt(pos)) {
          // The last volatile key moves into `pos` (swap-remove): look at it next.
          deleteExpiredKey(server, db, db.volatileKeyAt(pos));
          expiredInRound++;
        } else db.expirePos = pos + 1;
      }
      if (passDone) break;
    }
  }
  for (const db of server.dbs) {
    if (db.fieldTtlKeys.size === 0) {
      db.fieldExpireCursor = null;
      continue;
    }
    if (performance.now() - started >= BUDGET_MS) break;
    expireHashFields(server, db, now, started);
  }
  server.latency.addIfNeeded("expire-cycle", performance.now() - started);
}

/** One pass over (part of) a database's hashes with field TTLs. */
function expireHashFields(server: Server, db: Database, now: number, started: number): void {
  for (let i = 0; i < SAMPLE * 4; i++) {
    if (!db.fieldExpireCursor) db.fieldExpireCursor = db.fieldTtlKeys.values();
    const next = db.fieldExpireCursor.next();
    if (next.done) {
      db.fieldExpireCursor = null;
      return;
    }
    const key = next.value;
    const h = db.get(key);
    if (!(h instanceof HashValue) || h.fieldTtlCount === 0) {
      db.fieldTtlKeys.delete(key);
      continue;
    }
    // A key past its own TTL is the key expiry's business.
    if (db.isExpired(key, now)) continue;
    const fields = h.expiredFields(now);
    if (fields.length === 0) continue;
    db.beforeChange(key);
    for (const f of fields) {
      h.delete(f);
      server.replication.propagateAlone(db, ["HDEL", key, f]);
    }
    const publisher = { server };
    notifyServerKeyspaceEvent(publisher, NotifyClass.Hash, "hexpired", key, db.id);
    if (h.size === 0) {
      notifyServerKeyspaceEvent(publisher, NotifyClass.Generic, "del", key, db.id);
      db.delete(key);
      db.fieldTtlKeys.delete(key);
    } else if (h.fieldTtlCount === 0) db.fieldTtlKeys.delete(key);
    h.registerMinExpire();
    server.signalModifiedKey(db, key);
    if ((i & 15) === 15 && performance.now() - started >= BUDGET_MS) return;
  }
}
