// Server-assisted client-side caching (tracking.c): CLIENT TRACKING clients are told when a
// key they read may have changed. On a replica this is what lets a cache in front of it stay
// right: the master's writes, applied here, invalidate like any other.
//
// Default mode: the keys a tracking client reads (read-only commands, by their key specs) are
// remembered in one table, key -> client ids, for every database (as Redis: keys, not
// db+key); a modification of a key sends "invalidate" to those clients once and forgets the
// key. BCAST mode: nothing is remembered; every modified key matching a prefix a client
// registered is sent to it, batched, once per event-loop turn. OPTIN / OPTOUT: only the reads
// after CLIENT CACHING yes (OPTIN) / not after CLIENT CACHING no (OPTOUT) count. NOLOOP: no
// invalidation for keys the client modified itself. Messages are RESP3 pushes, or for a
// REDIRECT to a RESP2 client in Pub/Sub mode, messages on __redis__:invalidate. A flush
// (FLUSHALL, FLUSHDB, SWAPDB, a full sync) sends a null invalidation to every tracking client.

import type { ReplyWriter } from "../protocol/reply-writer.ts";
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";

/** A client's tracking options (Redis's CLIENT_TRACKING_* flags and fields). */
export interface ClientTracking {
  /** The client getting this one's messages (REDIRECT), 0 for itself. */
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  /** CLIENT CACHING yes (OPTIN) / no (OPTOUT) was given for the next command. */
  caching: boolean;
  noloop: boolean;
  /** The redirect client is gone. */
  brokenRedirect: boolean;
  /** BCAST prefixes. */
  prefixes: Set<string>;
}

interface PrefixState {
  /** Keys modified since the last broadcast, with who modified them last (for NOLOOP). */
  keys: Map<string, Client | null>;
  clients: Set<Client>;
}

const CHANNEL = "__redis__:invalidate";

/** Bytes by byte value, as a radix tree orders keys. */
const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class Tracking {
  /** Key -> ids of the clients that read it (TrackingTable). */
  private readonly table = new Map<string, Set<number>>();
  /** Client ids across the table (TrackingTableTotalItems). */
  private items = 0;
  /** BCAST prefixes (PrefixTable). */
  private readonly prefixTable = new Map<string, PrefixState>();
  /** Tracking clients (server.tracking_clients). */
  clients = 0;
  /** Invalidations for the running client, sent after its reply (server.tracking_pending_keys); null: a flush. */
  private pending: Array<string | null> = [];
  private broadcastScheduled = false;
  /** trackingLimitUsedSlots' effort grows with each call that stays over the limit. */
  private limitCounter = 0;

  constructor(private readonly server: Server) {}

  get totalKeys(): number {
    return this.table.size;
  }

  get totalItems(): number {
    return this.items;
  }

  get totalPrefixes(): number {
    return this.prefixTable.size;
  }

  // ------------------------------------------------------------------ enabling and disabling

  /** enableTracking. */
  enable(c: Client, redirect: number, options: { bcast: boolean; optin: boolean; optout: boolean; noloop: boolean }, prefixes: string[]): void {
    let t = c.tracking;
    if (t === null) {
      this.clients++;
      t = c.tracking = { redirect: 0, bcast: false, optin: false, optout: false, caching: false, noloop: false, brokenRedirect: false, prefixes: new Set() };
    }
    t.redirect = redirect;
    t.brokenRedirect = false;
    t.bcast = options.bcast;
    t.optin = options.optin;
    t.optout = options.optout;
    t.noloop = options.noloop;
    if (options.bcast) {
      if (prefixes.length === 0) this.enableBcastPrefix(c, t, "");
      for (const p of prefixes) this.enableBcastPrefix(c, t, p);
    }
  }

  private enableBcastPrefix(c: Client, t: ClientTracking, prefix: string): void {
    let bs = this.prefixTable.get(prefix);
    if (!bs) this.prefixTable.set(prefix, (bs = { keys: new Map(), clients: new Set() }));
    bs.clients.add(c);
    t.prefixes.add(prefix);
  }

  /** disableTracking (CLIENT TRACKING off, RESET, a closed connection). */
  disable(c: Client): void {
    const t = c.tracking;
    if (t === null) return;
    for (const p of t.prefixes) {
      const bs = this.prefixTable.get(p);
      if (!bs) continue;
      bs.clients.delete(c);
      if (bs.clients.size === 0) this.prefixTable.delete(p);
    }
    c.tracking = null;
    this.clients--;
    // Nobody left to tell: what was remembered can go.
    if (this.clients === 0) {
      this.table.clear();
      this.items = 0;
    }
  }

  /** checkPrefixCollisionsOrReply: the error for prefixes that overlap each other or the client's own, or null. */
  prefixCollision(c: Client, prefixes: string[]): string | null {
    const overlap = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
    for (let i = 0; i < prefixes.length; i++) {
      const p = prefixes[i]!;
      for (const existing of [...(c.tracking?.prefixes ?? [])].sort(byBytes)) {
        if (overlap(existing, p)) return `ERR Prefix '${p}' overlaps with an existing prefix '${existing}'. Prefixes for a single client must not overlap.`;
      }
      for (let j = i + 1; j < prefixes.length; j++) {
        if (overlap(p, prefixes[j]!)) return `ERR Prefix '${p}' overlaps with another provided prefix '${prefixes[j]}'. Prefixes for a single client must not overlap.`;
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ remembering reads

  /** trackingRememberKeys: after a read-only command of a tracking client (not BCAST). */
  rememberKeys(c: Client, keys: readonly string[]): void {
    const t = c.tracking!;
    if ((t.optin && !t.caching) || (t.optout && t.caching)) return;
    for (const key of keys) {
      let ids = this.table.get(key);
      if (!ids) this.table.set(key, (ids = new Set()));
      if (!ids.has(c.id)) {
        ids.add(c.id);
        this.items++;
      }
    }
  }

  // ------------------------------------------------------------------ invalidating

  /** trackingInvalidateKey: `key` was modified (by `by`, the running client, if any). */
  invalidateKey(key: string, bcast = true): void {
    const by = this.server.currentClient;
    if (bcast && this.prefixTable.size !== 0) this.rememberKeyToBroadcast(by, key);
    const ids = this.table.get(key);
    if (ids === undefined) return;
    this.table.delete(key);
    this.items -= ids.size;
    for (const id of ids) {
      const target = this.server.clients.get(id);
      // Gone, no longer tracking, or switched to BCAST (its pending reads no longer count).
      if (!target || target.tracking === null || target.tracking.bcast) continue;
      if (target.tracking.noloop && target === by) continue;
      // The running client gets it after its reply, not in the middle of it.
      if (target === by) this.pending.push(key);
      else this.send(target, [key]);
    }
  }

  private rememberKeyToBroadcast(by: Client | null, key: string): void {
    for (const [prefix, bs] of this.prefixTable) {
      if (!key.startsWith(prefix)) continue;
      bs.keys.set(key, by);
      this.scheduleBroadcast();
    }
  }

  /** trackingInvalidateKeysOnFlush: every tracking client is told that everything changed. */
  invalidateAll(): void {
    if (this.clients > 0) {
      const current = this.server.currentClient;
      for (const c of this.server.clients.values()) {
        if (c.tracking === null) continue;
        if (c === current) this.pending.push(null);
        else this.send(c, null);
      }
    }
    this.table.clear();
    this.items = 0;
  }

  /** trackingHandlePendingKeyInvalidations: after the running client's reply. */
  flushPending(c: Client): void {
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    for (const key of pending) this.send(c, key === null ? null : [key]);
  }

  /** trackingLimitUsedSlots: over tracking-table-max-keys, the oldest keys are invalidated (some each call). */
  limitUsedSlots(): void {
    const max = this.server.config.num("tracking-table-max-keys");
    if (max === 0 || this.table.size <= max) {
      this.limitCounter = 0;
      return;
    }
    let effort = 100 * (this.limitCounter + 1);
    for (const key of this.table.keys()) {
      if (effort-- <= 0) break;
      this.invalidateKey(key, false);
      if (this.table.size <= max) {
        this.limitCounter = 0;
        return;
      }
    }
    this.limitCounter++;
  }

  // ------------------------------------------------------------------ BCAST

  private scheduleBroadcast(): void {
    if (this.broadcastScheduled) return;
    this.broadcastScheduled = true;
    // Once per event-loop turn (Redis: in beforeSleep), after the commands of this turn.
    setImmediate(() => {
      this.broadcastScheduled = false;
      this.broadcast();
    });
  }

  /** trackingBroadcastInvalidationMessages. */
  private broadcast(): void {
    for (const prefix of [...this.prefixTable.keys()].sort(byBytes)) {
      const bs = this.prefixTable.get(prefix)!;
      if (bs.keys.size === 0) continue;
      const keys = [...bs.keys.keys()].sort(byBytes);
      for (const c of bs.clients) {
        if (c.tracking?.noloop) {
          const mine = keys.filter((k) => bs.keys.get(k) !== c);
          if (mine.length > 0) this.send(c, mine);
        } else this.send(c, keys);
      }
      bs.keys = new Map();
    }
  }

  // ------------------------------------------------------------------ delivery

  /**
   * sendTrackingMessage: ["invalidate", keys | null] to the client or to its REDIRECT target
   * (a RESP3 push, or a message on __redis__:invalidate for a RESP2 target in Pub/Sub mode;
   * nothing for a RESP2 client otherwise, which has no way to receive it).
   */
  private send(c: Client, keys: string[] | null): void {
    const t = c.tracking;
    let target = c;
    let redirected = false;
    if (t && t.redirect !== 0) {
      const r = this.server.clients.get(t.redirect);
      if (!r) {
        t.brokenRedirect = true;
        if (c.reply.resp > 2) {
          c.reply.push(2);
          c.reply.bulk("tracking-redir-broken");
          c.reply.int(t.redirect);
          this.deliver(c);
        }
        return;
      }
      target = r;
      redirected = true;
    }
    const r = target.reply;
    if (r.resp > 2) {
      r.push(2);
      r.bulk("invalidate");
    } else if (redirected && (target.channels?.size || target.patterns?.size)) {
      r.push(3);
      r.bulk("message");
      r.bulk(CHANNEL);
    } else return;
    // A flush is the tracking client's null (its protocol's), as Redis sends it.
    if (keys === null) nullOf(r, c.reply.resp);
    else {
      r.array(keys.length);
      for (const k of keys) r.bulk(k);
    }
    this.deliver(target);
  }

  /** Sends what was written to a client that is not the one running (the running one's goes with its reply). */
  private deliver(c: Client): void {
    if (c === this.server.currentClient || c.reply.length === 0) return;
    this.server.stats.netOutputBytes += c.reply.length;
    c.flush();
  }
}

/** The null of a protocol version, written as is into `r` (whatever r's own version). */
function nullOf(r: ReplyWriter, resp: number): void {
  if (resp > 2) r.raw(Buffer.from("_\r\n"));
  else r.raw(Buffer.from("$-1\r\n"));
}

