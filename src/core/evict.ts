// maxmemory: evicting keys when used memory passes the limit, as Redis 7.0's evict.c does.
//
// Before each command (dispatch.ts) and from a timer started by CONFIG SET maxmemory or by a
// cycle that ran out of time, performEvictions() deletes keys chosen by maxmemory-policy until
// the memory counted for eviction (core/memory.ts) is back under the limit, within a time
// budget set by maxmemory-eviction-tenacity. Commands flagged deny-oom are refused with -OOM
// when nothing more can be evicted. A replica keeps its master's data as is unless
// replica-ignore-maxmemory is off; nothing is evicted while loading or while clients are paused.
//
// Candidates: the approximated LRU / LFU / TTL of Redis, a pool of the 16 best candidates fed
// by maxmemory-samples random keys of each database per round (all keys, or the keys with an
// expiry for the volatile-* policies); the random policies take one random key, visiting the
// databases in turn. Each evicted key: deleted, "evicted" keyspace event, WATCH / tracking
// invalidation, DEL (UNLINK with lazyfree-lazy-eviction) to replicas and the backlog,
// evicted_keys counted.

import type { Server } from "./server.ts";
import { NOT_FOUND, type Database } from "../store/database.ts";
import { memoryCountedForEviction } from "./memory.ts";
import { evictClients } from "./client-eviction.ts";
import { NotifyClass, notifyServerKeyspaceEvent } from "./pubsub.ts";

export const enum EvictResult {
  /** Under the limit, or evicting is not allowed now. */
  Ok,
  /** Still over the limit: the time budget ran out, the timer goes on. */
  Running,
  /** Over the limit with nothing left to evict: deny-oom commands are refused. */
  Fail,
}

const enum Policy {
  NoEviction,
  Lru,
  Lfu,
  Ttl,
  Random,
}

/** EVPOOL_SIZE. */
const POOL_SIZE = 16;

interface Candidate {
  /** Higher is evicted first: idle ms (LRU), 255 - counter (LFU), the reverse of the expiry (TTL). */
  score: number;
  key: string;
  db: number;
}

/** Per-server eviction state (Redis's EvictionPoolLRU, next_db, the eviction timer). */
export class Eviction {
  /** Sorted by score, ascending: the best candidate is last. */
  private readonly pool: Candidate[] = [];
  /** Where the random policies look next. */
  private nextDb = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** When memory first exceeded the limit in the current episode (ms), 0 when under it. */
  private exceededSince = 0;
  /** total_eviction_exceeded_time, in ms. */
  private exceededTotal = 0;

  constructor(private readonly server: Server) {}

  /** total_eviction_exceeded_time (ms) and current_eviction_exceeded_time (ms). */
  exceededTimes(): { total: number; current: number } {
    const current = this.exceededSince === 0 ? 0 : performance.now() - this.exceededSince;
    return { total: Math.floor(this.exceededTotal + current), current: Math.floor(current) };
  }

  /** Starts the timer that evicts until memory is under the limit (startEvictionTimeProc). */
  startTimer(): void {
    if (this.timer !== null) return;
    const tick = () => {
      this.timer = null;
      if (this.perform() === EvictResult.Running) this.startTimer();
    };
    this.timer = setTimeout(tick, 0);
  }

  /** isSafeToPerformEvictions. */
  private safe(): boolean {
    const server = this.server;
    if (server.loading || server.scripting.busy !== null) return false;
    if (server.replication.masterHost !== null && server.config.bool("replica-ignore-maxmemory")) return false;
    return !server.pause.active;
  }

  /** performEvictions. */
  perform(): EvictResult {
    const server = this.server;
    const maxmemory = server.config.num("maxmemory");
    if (maxmemory === 0 || !this.safe()) return EvictResult.Ok;
    let counted = memoryCountedForEviction(server);
    // Clients over maxmemory-clients go before keys (processCommand runs evictClients first; the
    // per-command check is throttled, this one is not).
    if (counted > maxmemory && server.config.num("maxmemory-clients") !== 0) {
      evictClients(server, false);
      counted = memoryCountedForEviction(server, true);
    }
    let result: EvictResult;
    if (counted <= maxmemory) result = EvictResult.Ok;
    else if (policyOf(server) === Policy.NoEviction) result = EvictResult.Fail;
    else result = this.evict(counted - maxmemory);
    this.trackExceeded(result);
    return result;
  }

  private evict(toFree: number): EvictResult {
    const server = this.server;
    const started = performance.now();
    const limitMs = timeLimitMs(server.config.num("maxmemory-eviction-tenacity"));
    const lazy = server.config.bool("lazyfree-lazy-eviction");
    let freed = 0;
    let evicted = 0;
    while (freed < toFree) {
      const pick = this.pick();
      if (pick === null) {
        server.latency.addIfNeeded("eviction-cycle", performance.now() - started);
        return EvictResult.Fail;
      }
      const db = server.dbs[pick.db]!;
      // What the deletion itself gave back (Redis measures around dbSyncDelete only: the
      // invalidation messages the eviction sends next must not count against it, or tracking
      // clients would make eviction feed itself).
      const before = db.ks.heldBytes(false);
      const delStarted = performance.now();
      db.delete(pick.key);
      server.latency.addIfNeeded("eviction-del", performance.now() - delStarted);
      freed += before - db.ks.heldBytes(false);
      server.stats.evictedKeys++;
      server.signalModifiedKey(db, pick.key, null);
      notifyServerKeyspaceEvent({ server }, NotifyClass.Evicted, "evicted", pick.key, db.id);
      server.replication.propagateAlone(db, [lazy ? "UNLINK" : "DEL", pick.key]);
      evicted++;
      if (evicted % 16 === 0 && performance.now() - started > limitMs) {
        this.startTimer();
        break;
      }
    }
    server.latency.addIfNeeded("eviction-cycle", performance.now() - started);
    return this.timer !== null ? EvictResult.Running : EvictResult.Ok;
  }

  private trackExceeded(result: EvictResult): void {
    if (result === EvictResult.Ok) {
      if (this.exceededSince !== 0) {
        this.exceededTotal += performance.now() - this.exceededSince;
        this.exceededSince = 0;
      }
    } else if (this.exceededSince === 0) this.exceededSince = performance.now();
  }

  /** The next key to evict under the policy, or null when there is none. */
  private pick(): { db: number; key: string } | null {
    const server = this.server;
    const policy = policyOf(server);
    const volatileOnly = server.config.str("maxmemory-policy").startsWith("volatile-");
    const dbs = server.dbs;
    if (policy === Policy.Random) {
      for (let i = 0; i < dbs.length; i++) {
        const j = ++this.nextDb % dbs.length;
        const db = dbs[j]!;
        if (volatileOnly) {
          if (db.expiresSize === 0) continue;
          return { db: j, key: db.volatileKeyAt(Math.floor(Math.random() * db.expiresSize)) };
        }
        const key = db.randomKey();
        if (key !== undefined) return { db: j, key };
      }
      return null;
    }
    const samples = server.config.num("maxmemory-samples");
    const pool = this.pool;
    for (;;) {
      let keys = 0;
      for (let j = 0; j < dbs.length; j++) {
        const db = dbs[j]!;
        const n = volatileOnly ? db.expiresSize : db.size;
        if (n === 0) continue;
        keys += n;
        this.populate(j, db, policy, volatileOnly, samples);
      }
      if (keys === 0) return null;
      // Best first; a candidate gone meanwhile (deleted, or its expiry removed) is skipped.
      while (pool.length !== 0) {
        const c = pool.pop()!;
        const db = dbs[c.db]!;
        const slot = db.find(c.key);
        if (slot !== NOT_FOUND && (!volatileOnly || db.expireAt(slot) !== -1)) return c;
      }
    }
  }

  /** evictionPoolPopulate: samples keys of one database into the pool. */
  private populate(dbId: number, db: Database, policy: Policy, volatileOnly: boolean, samples: number): void {
    const ks = db.ks;
    const clock = ks.clock;
    const pool = this.pool;
    const n = volatileOnly ? db.expiresSize : db.size;
    for (let s = 0; s < samples && s < n; s++) {
      const ref = volatileOnly ? ks.volatile.refs[Math.floor(Math.random() * db.expiresSize)]! : ks.refAt(ks.randomSlot());
      let score: number;
      if (policy === Policy.Lru) score = clock.idleMs(ks.lruOf(ref));
      else if (policy === Policy.Lfu) score = 255 - clock.lfuCounter(ks.lruOf(ref));
      else score = Number.MAX_SAFE_INTEGER - ks.expireOf(ref);
      // Worse than every candidate of a full pool: not taken.
      if (pool.length === POOL_SIZE && score <= pool[0]!.score) continue;
      const key = ks.keyStringOf(ref);
      let dup = false;
      for (let k = 0; k < pool.length; k++) {
        if (pool[k]!.db === dbId && pool[k]!.key === key) {
          dup = true;
          break;
        }
      }
      if (dup) continue;
      if (pool.length === POOL_SIZE) pool.shift();
      let at = pool.length;
      while (at > 0 && pool[at - 1]!.score > score) at--;
      pool.splice(at, 0, { score, key, db: dbId });
    }
  }
}

function policyOf(server: Server): Policy {
  const p = server.config.str("maxmemory-policy");
  if (p === "noeviction") return Policy.NoEviction;
  if (p.endsWith("-lru")) return Policy.Lru;
  if (p.endsWith("-lfu")) return Policy.Lfu;
  if (p === "volatile-ttl") return Policy.Ttl;
  return Policy.Random;
}

/** evictionTimeLimitUs, in ms: 50 us per step up to 10, then +15% a step; 100 means no limit. */
function timeLimitMs(tenacity: number): number {
  if (tenacity <= 10) return (50 * tenacity) / 1000;
  if (tenacity < 100) return (500 * 1.15 ** (tenacity - 10)) / 1000;
  return Infinity;
}
