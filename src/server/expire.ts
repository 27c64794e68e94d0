// Active expiry, as a master does it (expire.c activeExpireCycle, simplified): 10 times a
// second, walk each database's expiry table with a persistent cursor and delete keys whose
// time has passed, within a time budget. Deletions are propagated as DEL (UNLINK with
// lazyfree-lazy-expire). A replica never expires keys itself: it waits for its master's DEL.

import type { Server } from "./server.ts";

/** Keys looked at per database per cycle before checking the time budget. */
const SAMPLE = 64;
/** Redis gives the slow cycle 25% of the 100 ms cron period. */
const BUDGET_MS = 25;

export function activeExpireCycle(server: Server): void {
  if (server.replication.masterHost !== null) return;
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
        const [key, when] = next.value;
        if (now > when && db.keys.has(key)) {
          db.delete(key);
          server.stats.expiredKeys++;
          server.signalModifiedKey(db, key);
          server.replication.propagateExpiry(db, key);
          expiredInRound++;
        }
      }
      if (!db.expireCursor) break;
    }
  }
}
