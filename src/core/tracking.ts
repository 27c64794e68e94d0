// Client-side caching, as Redis 7.0's tracking.c: which clients may hold which keys, and the
// invalidation messages they get when those keys change.
//
// - Default mode: the keys a tracking client reads (readonly commands, the keys
//   getKeysFromCommand finds) are remembered in one table, key -> client ids, whatever the
//   database. A modification (Server.signalModifiedKey: writes, expiry, our master's stream)
//   sends the key to every client listed, and forgets the entry: a client is told once per read.
// - BCAST mode: no table; every modified key under a prefix a client subscribed to is collected
//   and sent once per turn of the event loop (Redis's beforeSleep), one message per prefix.
// - A flush (FLUSHDB, FLUSHALL, a full sync) sends a null ("everything") to every tracking client.
//
// Messages are RESP3 pushes `>2 invalidate [keys]`, or, for a client that redirects them
// (REDIRECT id) to a RESP2 connection in Pub/Sub mode, messages on `__redis__:invalidate`.
// The client whose command changes a key it tracks gets its message after the command's reply
// (after EXEC's or a script's whole reply), as Redis 7.0 does: those are kept in `pending`.
//
// Nothing here runs while no client tracks: the dispatcher tests `clients`, and
// Server.signalModifiedKey that the table and the prefixes are not both empty.

import type { CommandSpec } from "./command-spec.ts";
import { keysFromLegacyRange } from "./command-keys.ts";
import { CommandFlag } from "./command-spec.ts";
import { isSubscribed } from "./pubsub.ts";
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";

/** A client's tracking mode, set by CLIENT TRACKING ON (Client.tracking is null while off). */
export class ClientTracking {
  /** REDIRECT: the id of the client the messages go to; 0 for this client itself. */
  redirect = 0;
  bcast = false;
  optin = false;
  optout = false;
  noloop = false;
  /** CLIENT CACHING YES (OPTIN) / NO (OPTOUT) given for the next command or transaction. */
  caching = false;
  /** A message found the redirect target gone (CLIENT LIST flag R, broken_redirect). */
  brokenRedirect = false;
  /** BCAST prefixes this client subscribed to. */
  prefixes: Set<string> | null = null;
  /**
   * The command this client runs: when a script it runs reads, Redis remembers the keys the
   * script command declares (EVAL's numkeys keys), not the ones the script touched.
   */
  runningSpec: CommandSpec | null = null;
  runningArgv: string[] | null = null;
}

/** The clients of one BCAST prefix and the keys under it modified during this turn. */
interface PrefixState {
  /** Modified key -> the client that modified it last (null: expiry, eviction), for NOLOOP. */
  keys: Map<string, Client | null>;
  clients: Set<Client>;
}

export interface TrackingOptions {
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
}

const INVALIDATE_CHANNEL = "__redis__:invalidate";
/** Script commands that remember nothing themselves: the reads of their scripts do (call()). */
const SCRIPT_READ_COMMANDS = new Set(["eval_ro", "evalsha_ro", "fcall_ro"]);

/** A message's value: one key, several (a BCAST batch), or null (a flush: every key). */
type Invalidated = string | string[] | null;

export class Tracking {
  /** Clients with tracking on (INFO tracking_clients). */
  clients = 0;
  /** Key -> ids of the clients that may have it cached (default mode). */
  readonly table = new Map<string, Set<number>>();
  /** Client ids across the table (INFO tracking_total_items). */
  totalItems = 0;
  /** BCAST prefix -> its clients and the keys modified under it this turn. */
  readonly prefixes = new Map<string, PrefixState>();
  /**
   * Messages for the client whose command is running, sent after its reply: keys, or null for
   * a flush (Redis's tracking_pending_keys).
   */
  readonly pending: Array<string | null> = [];
  /** Clients given a message outside their own command: their bytes go out this turn. */
  private touched: Client[] = [];
  private flushScheduled = false;
  /** Some prefix collected keys: broadcast them this turn. */
  private broadcastPending = false;
  /** How many times in a row the table stayed over tracking-table-max-keys (more effort each). */
  private overLimitRuns = 0;

  constructor(private readonly server: Server) {}

  // ---- CLIENT TRACKING ON / OFF ----

  /** enableTracking: on (again) with these options; BCAST prefixes add to the ones held. */
  enable(c: Client, redirect: number, options: TrackingOptions, prefixes: readonly string[]): void {
    let t = c.tracking;
    if (t === null) {
      t = new ClientTracking();
      c.tracking = t;
      this.clients++;
    }
    // CACHING survives, as Redis clears every flag but that one.
    t.brokenRedirect = false;
    t.redirect = redirect;
    t.bcast = options.bcast;
    if (options.bcast) {
      if (prefixes.length === 0) this.subscribePrefix(c, t, "");
      for (const p of prefixes) this.subscribePrefix(c, t, p);
    }
    t.optin = options.optin;
    t.optout = options.optout;
    t.noloop = options.noloop;
  }

  private subscribePrefix(c: Client, t: ClientTracking, prefix: string): void {
    let state = this.prefixes.get(prefix);
    if (state === undefined) {
      state = { keys: new Map(), clients: new Set() };
      this.prefixes.set(prefix, state);
    }
    if (state.clients.has(c)) return;
    state.clients.add(c);
    (t.prefixes ??= new Set()).add(prefix);
  }

  /**
   * disableTracking (CLIENT TRACKING OFF, RESET, disconnection). The client's ids stay in the
   * table: they are dropped when their keys are next modified, as Redis does to keep this cheap.
   */
  disable(c: Client): void {
    const t = c.tracking;
    if (t === null) return;
    if (t.bcast && t.prefixes !== null) {
      for (const prefix of t.prefixes) {
        const state = this.prefixes.get(prefix);
        if (state === undefined) continue;
        state.clients.delete(c);
        if (state.clients.size === 0) this.prefixes.delete(prefix);
      }
    }
    c.tracking = null;
    this.clients--;
  }

  // ---- Reads ----

  /**
   * After a readonly command ran (trackingRememberKeys): remembers that its client may cache
   * the keys read. A script's reads count for the client that runs the script, with the keys
   * its command declares; EVAL_RO / FCALL_RO themselves remember nothing (their reads do).
   */
  afterRead(c: Client, spec: CommandSpec, argv: string[]): void {
    if (SCRIPT_READ_COMMANDS.has(spec.name)) return;
    let caller = c;
    if (c.scriptCaller !== null) {
      caller = c.scriptCaller;
      const t = caller.tracking;
      if (t === null || t.runningSpec === null) return;
      spec = t.runningSpec;
      argv = t.runningArgv!;
    }
    const t = caller.tracking;
    if (t === null || t.bcast) return;
    if ((t.optin && !t.caching) || (t.optout && t.caching)) return;
    const keys = keysFromLegacyRange(spec.acl.keys, spec.meta, argv);
    if (keys.length === 0 || spec.flags & CommandFlag.PubSub) return;
    const id = caller.id;
    for (let i = 0; i < keys.length; i++) {
      const key = argv[keys[i]!.pos]!;
      let ids = this.table.get(key);
      if (ids === undefined) {
        ids = new Set();
        this.table.set(key, ids);
      }
      if (!ids.has(id)) {
        ids.add(id);
        this.totalItems++;
      }
    }
  }

  /**
   * After a command was processed (resetClient): CLIENT CACHING applies to the next command,
   * or to the transaction that follows, and any CLIENT subcommand in between.
   */
  afterCommandProcessed(c: Client, spec: CommandSpec | undefined): void {
    const t = c.tracking;
    if (t === null || !t.caching || c.multi !== null || c.blocked) return;
    if (spec !== undefined && spec.name.startsWith("client|")) return;
    t.caching = false;
  }

  // ---- Modifications ----

  /**
   * The client whose command runs, for NOLOOP and for deferring its own messages: the one
   * that runs a script when its script's command runs (Redis's server.current_client).
   */
  private runningClient(): Client | null {
    const c = this.server.currentClient;
    return c !== null && c.scriptCaller !== null ? c.scriptCaller : c;
  }

  /**
   * trackingInvalidateKey: `key` changed (by `by`, null for expiry). Clients that read it are
   * told and forgotten; with `bcast`, the key is also collected for the BCAST prefixes it is
   * under. `running` is the client a message for is deferred until its reply is done.
   */
  invalidateKey(by: Client | null, key: string, bcast: boolean, running: Client | null = this.runningClient(), defer = true): void {
    if (bcast && this.prefixes.size !== 0) this.collectForBroadcast(by, key);
    const ids = this.table.get(key);
    if (ids === undefined) return;
    this.table.delete(key);
    this.totalItems -= ids.size;
    // (Redis goes through the ids in the byte order of their memory: messages for one key to
    // one connection are all the same, so the order cannot be seen; we keep insertion order.)
    const clients = this.server.clients;
    for (const id of ids) {
      const target = clients.get(id);
      // Gone, tracking off, or now in BCAST mode: the entry was stale.
      if (target === undefined || target.tracking === null || target.tracking.bcast) continue;
      if (target === running) {
        if (target.tracking.noloop) continue;
        if (defer) {
          this.pending.push(key);
          continue;
        }
      }
      this.send(target, key);
    }
  }

  /** trackingRememberKeyToBroadcast: the key goes to every prefix it starts with. */
  private collectForBroadcast(by: Client | null, key: string): void {
    for (const [prefix, state] of this.prefixes) {
      if (prefix.length > key.length) continue;
      if (prefix.length !== 0 && !key.startsWith(prefix)) continue;
      // Deleted and set again: a Map keeps the first position, but the last writer counts.
      state.keys.set(key, by);
      this.broadcastPending = true;
    }
    if (this.broadcastPending) this.scheduleFlush();
  }

  /**
   * trackingInvalidateKeysOnFlush: a flush of any database tells every tracking client that
   * all its keys are invalid, and empties the table.
   */
  invalidateAll(): void {
    if (this.clients !== 0) {
      const running = this.runningClient();
      for (const c of this.server.clients.values()) {
        if (c.tracking === null) continue;
        if (c === running) this.pending.push(null);
        else this.send(c, null);
      }
    }
    this.table.clear();
    this.totalItems = 0;
  }

  /** trackingHandlePendingKeyInvalidations: the running client's own messages, after its reply. */
  sendPending(c: Client): void {
    const pending = this.pending;
    for (let i = 0; i < pending.length; i++) this.send(c, pending[i]!);
    pending.length = 0;
  }

  /**
   * trackingLimitUsedSlots: over tracking-table-max-keys, keys are forgotten (their clients told,
   * as if modified) until the table fits; at most 100 per call, 100 more each call it stays over.
   * Redis picks them at random; we take the oldest entries. `running` is the client whose
   * command is about to run (its NOLOOP applies), messages are sent at once.
   */
  limitUsedSlots(running: Client | null): void {
    const max = this.server.config.num("tracking-table-max-keys");
    if (max === 0) return;
    if (this.table.size <= max) {
      this.overLimitRuns = 0;
      return;
    }
    let effort = 100 * (this.overLimitRuns + 1);
    const keys = this.table.keys();
    while (effort-- > 0) {
      const next = keys.next();
      if (next.done) break;
      this.invalidateKey(null, next.value, false, running, false);
      if (this.table.size <= max) {
        this.overLimitRuns = 0;
        return;
      }
    }
    this.overLimitRuns++;
  }

  // ---- Delivery ----

  /**
   * sendTrackingMessage: one invalidation for client `c` (which tracks), to it or to the client
   * it redirects to. A null (flush) is written in `c`'s own protocol, whoever receives it.
   */
  private send(c: Client, keys: Invalidated): void {
    const t = c.tracking!;
    let target = c;
    let redirected = false;
    if (t.redirect !== 0) {
      const redir = this.server.clients.get(t.redirect);
      if (redir === undefined) {
        t.brokenRedirect = true;
        // The tracking client is told it lost its messages (RESP3 only).
        if (c.reply.resp === 3) {
          const r = c.reply;
          r.push(2);
          r.bulk("tracking-redir-broken");
          r.int(t.redirect);
          this.touch(c);
        }
        return;
      }
      target = redir;
      redirected = true;
    }
    const r = target.reply;
    if (r.resp === 3) {
      r.push(2);
      r.bulk("invalidate");
    } else if (redirected && isSubscribed(target)) {
      r.array(3);
      r.bulk("message");
      r.bulk(INVALIDATE_CHANNEL);
    } else {
      // A RESP2 connection cannot take a message among its replies.
      return;
    }
    if (keys === null) r.raw(c.reply.resp === 3 ? RESP3_NULL : RESP2_NULL);
    else if (typeof keys === "string") {
      r.array(1);
      r.bulk(keys);
    } else r.bulkArray(keys);
    this.touch(target);
  }

  /** A client's buffer received a message outside its own command: it goes out this turn. */
  private touch(c: Client): void {
    this.touched.push(c);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.endOfTurn());
  }

  /**
   * Once the current batch of commands is done (Redis's beforeSleep): the BCAST messages, then
   * every client given a message sends its bytes.
   */
  private endOfTurn(): void {
    this.flushScheduled = false;
    if (this.broadcastPending) this.broadcast();
    const touched = this.touched;
    if (touched.length === 0) return;
    this.touched = [];
    const stats = this.server.stats;
    for (const c of touched) {
      if (c.reply.length === 0 || c.conn === null || c.conn.closed) continue;
      stats.netOutputBytes += c.reply.length;
      c.flush();
    }
  }

  /**
   * trackingBroadcastInvalidationMessages: per prefix (in byte order, as Redis's radix tree
   * lists them), the keys modified under it (sorted likewise) to each of its clients; a NOLOOP
   * client is not sent the keys it modified itself.
   */
  private broadcast(): void {
    this.broadcastPending = false;
    if (this.clients === 0) return;
    const names = [...this.prefixes.keys()].sort();
    for (const prefix of names) {
      const state = this.prefixes.get(prefix)!;
      if (state.keys.size === 0) continue;
      const modified = state.keys;
      state.keys = new Map();
      const all = [...modified.keys()].sort();
      for (const c of state.clients) {
        if (c.tracking !== null && c.tracking.noloop) {
          const others = all.filter((k) => modified.get(k) !== c);
          if (others.length !== 0) this.send(c, others);
        } else this.send(c, all);
      }
    }
  }

  // ---- Introspection ----

  /** CLIENT LIST's tracking flags: t, R (redirect broken), B (BCAST). */
  static flags(c: Client): string {
    const t = c.tracking;
    if (t === null) return "";
    return "t" + (t.brokenRedirect ? "R" : "") + (t.bcast ? "B" : "");
  }
}

const RESP2_NULL = Buffer.from("$-1\r\n");
const RESP3_NULL = Buffer.from("_\r\n");
