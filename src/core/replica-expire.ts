// A writable replica (replica-read-only no) expires the keys its own clients gave a TTL
// (Redis's rememberSlaveKeyWithExpire / expireSlaveKeys): a replica otherwise never expires
// keys itself (it waits for its master's DEL), so those would stay stored forever. The master's
// keys are left alone. The keys remembered are kept per database on the Server; they are
// forgotten when they lose their TTL or their key.

import { keysWithSpecs } from "./command-keys.ts";
import type { CommandSpec } from "./command-spec.ts";
import type { Client } from "./client.ts";
import { deleteExpiredKey } from "./keyspace.ts";
import type { Server } from "./server.ts";

/** After a write of a replica's own client: remember the keys it left with a TTL. */
export function rememberReplicaKeysWithExpire(c: Client, spec: CommandSpec, argv: string[]): void {
  const db = c.db;
  if (db.expiresSize === 0) return;
  for (const ref of keysWithSpecs(spec.acl.keys, argv)) {
    const key = argv[ref.pos];
    if (key === undefined || db.getExpire(key) === undefined) continue;
    const keys = c.server.replicaKeysWithExpire;
    let mine = keys.get(db.id);
    if (!mine) keys.set(db.id, (mine = new Set()));
    mine.add(key);
  }
}

/** Keys looked at per cron run before checking the time budget (expireSlaveKeys' 1 ms). */
const BUDGET_MS = 1;

/** The cron's part on a replica: delete the remembered keys whose time has passed. */
export function expireReplicaKeys(server: Server): void {
  const keys = server.replicaKeysWithExpire;
  if (keys.size === 0) return;
  const started = performance.now();
  const now = Date.now();
  for (const [dbId, mine] of keys) {
    const db = server.dbs[dbId];
    if (db === undefined) {
      keys.delete(dbId);
      continue;
    }
    for (const key of mine) {
      const when = db.getExpire(key);
      if (when === undefined) mine.delete(key);
      else if (when <= now) {
        deleteExpiredKey(server, db, key);
        mine.delete(key);
      }
      if (performance.now() - started > BUDGET_MS) return;
    }
    if (mine.size === 0) keys.delete(dbId);
  }
}
