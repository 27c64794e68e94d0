// maxmemory-clients: closing the clients that hold the most memory when all normal and pub/sub
// clients together hold more than the limit (Redis 7.0's evictClients). Checked before each
// command (at most once a millisecond: it walks the clients) and by the cron. Clients that said
// CLIENT NO-EVICT ON, our master's link, replicas are never evicted.

import { ClientKind, type Client } from "./client.ts";
import { clientInfoLine } from "./client-info.ts";
import { clientMemory } from "./memory.ts";
import type { Server } from "./server.ts";

/** Under this the limit is raised, so that a bad setting cannot cut off every client. */
const MIN_LIMIT = 128 * 1024;

/** The limit in bytes (maxmemory-clients, or its percentage of maxmemory), 0 for none. */
function clientEvictionLimit(server: Server): number {
  const setting = server.config.num("maxmemory-clients");
  let limit: number;
  if (setting < 0) {
    const maxmemory = server.config.num("maxmemory");
    if (maxmemory === 0) return 0;
    limit = Math.floor((maxmemory * -setting) / 100);
  } else if (setting > 0) limit = setting;
  else return 0;
  return Math.max(limit, MIN_LIMIT);
}

/** clientEvictionAllowed: normal and pub/sub clients (a MONITOR is a normal one). */
function evictable(c: Client): boolean {
  return !c.noEvict && c.kind !== ClientKind.Master && c.kind !== ClientKind.Replica && c.conn !== null && !c.conn.closed;
}

/**
 * Evicts clients, largest first, until the evictable ones hold less than the limit. `throttled`:
 * skip when the clients were walked less than a millisecond ago (the per-command check).
 */
export function evictClients(server: Server, throttled: boolean): void {
  const limit = clientEvictionLimit(server);
  if (limit === 0) return;
  if (throttled) {
    const now = performance.now();
    if (now - server.clientEvictionCheckedAt < 1) return;
    server.clientEvictionCheckedAt = now;
  }
  let total = 0;
  const candidates: Array<{ c: Client; bytes: number }> = [];
  for (const c of server.clients.values()) {
    if (!evictable(c)) continue;
    const bytes = clientMemory(c);
    total += bytes;
    candidates.push({ c, bytes });
  }
  if (total < limit) return;
  candidates.sort((a, b) => b.bytes - a.bytes);
  for (const { c, bytes } of candidates) {
    if (total < limit) return;
    server.log.notice(`Evicting client: ${clientInfoLine(c)}`);
    c.conn?.close();
    server.stats.evictedClients++;
    total -= bytes;
  }
  server.log.warning("Over client maxmemory after evicting all evictable clients");
}
