// Active expiry, as a master does it (expire.c activeExpireCycle, simplified): 10 times a
// second, walk each database's expiry table with a persistent cursor and delete keys whose
// time has passed, within a time budget. Deletions are propagated as DEL (UNLINK with
// lazyfree-lazy-expire). A replica never expires keys itself: it waits for its master's DEL.

import { deleteExpiredKey } from "../commands/keyspace.ts";
import type { Server } from "./server.ts";

/** Keys looked at per database per cycle before checking the time budget. */
const SAMPLE = 64;
/** Redis gives the slow cycle 25% of the 100 ms cron period. */
const BUDGET_MS = 25;

export function activeExpireCycle(server: Server): void {
  if (server.replication.masterHost !== null) return;
  // While writes are paused (FAILOVER) the dataset stays still: no expiry either (Redis 7.0).
  if (server.replication.master.writesPaused) return;
  const started = performance.now();
  const now = Date.now();
  for (const db of server.dbs) {
    if (db.expires.size === 0) {
      db.expireCursor = null;
      continue;
    }
    let expiredInRound = SAMPLE;
    // Keep going on a database while many sampled keys were expired, like Redis's loop.
    while (expiredInRound > SAMPLE / 4 && performance.now() - started < BUDGET_MS) {
      expiredInRound = 0;
      for (let i = 0; i < SAMPLE; i++) {
        if (!db.expireCursor) db.expireCursor = db.expires.entries();
        const next = db.expireCursor.next();
        if (next.done) {
          db.expireCursor = null;
          break;
        }
        const key = next.value[0];
        // Read the expiry again from the live table: the cursor may still walk a table that
        // FLUSHALL / SWAPDB replaced, whose entries say nothing about today's keys.
        const when = db.expires.get(key);
        if (when !== undefined && now > when && db.keys.has(key)) {
          deleteExpiredKey(server, db, key);
          expiredInRound++;
        }
      }
      if (!db.expireCursor) break;
    }
  }
}
