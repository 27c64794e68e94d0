// Clients blocked on keys (BLPOP, BLMOVE, BLMPOP, BZPOPMIN, XREAD BLOCK...), generically, as
// Redis's blocked.c does it:
//
// - A blocking command that finds no data calls `block(c, keys, timeoutMs, serve)`: the client
//   joins, per key of its database, a FIFO of waiting clients, and reads no more input.
// - Every modification of a key (server.signalModifiedKey) marks it "ready" when somebody waits
//   on it. Redis only signals key creation (dbAdd) and stream writes; signalling every change
//   is a superset, so each `serve` callback checks that it can really serve (type, data, ids)
//   and returns false otherwise.
// - After each top-level command (a whole EXEC counts as one), the dispatcher calls
//   handleReadyKeys(): for every ready key, in signalling order, the waiting clients are offered
//   the key in the order they blocked. A served client has its reply written and sent; its
//   pipelined commands run later (a microtask, Redis's processUnblockedClients in beforeSleep),
//   never in the middle of serving others. Serving can make other keys ready (BLMOVE pushes):
//   the loop runs until nothing is ready.
// - What a served client did is propagated like a command of its own: the callback sets
//   c.propagateAs (LPOP for a served BLPOP, LMOVE for BLMOVE...), and the expiries it hit go out
//   as DEL, wrapped in MULTI/EXEC when there are several.
// - Timeouts (0 = forever) reply with the callback's timeout reply (a null array by default);
//   CLIENT UNBLOCK does the same or sends -UNBLOCKED; becoming a replica unblocks everybody with
//   an error and closes them (a replica must not pop on its own).

import { CommandError } from "./errors.ts";
import type { Database } from "../store/database.ts";
import type { Client } from "./client.ts";
import { commandStats } from "./dispatch.ts";
import { CommandHistogram } from "./latency.ts";
import type { Server } from "./server.ts";

/**
 * Tries to serve a blocked client now that `key` (in the client's database) may have what it
 * waits for. Runs as that client: lookups through the keyspace helpers, reply to c.reply, the
 * form to propagate in c.propagateAs (set it only when data changed: it is what decides). Returns true once the client got its reply (data, or an
 * error such as WRONGTYPE: thrown CommandErrors are replied and count as served); false to
 * keep waiting.
 */
type ServeBlocked = (c: Client, key: string) => boolean;

/** The reply sent on timeout and CLIENT UNBLOCK TIMEOUT. */
type TimeoutReply = (c: Client) => void;

const nullArrayReply: TimeoutReply = (c) => c.reply.nullArray();

/** setTimeout takes at most 2^31-1 ms; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One client's wait: where, for what, until when. */
export class KeyWait {
  timer: ReturnType<typeof setTimeout> | null = null;
  /**
   * The command that blocked, and what its call took (Redis's c->duration): its time goes to
   * its statistics, histogram and slow log when it is served or unblocked (updateStatsOnUnblock).
   */
  argv: string[] = [];
  callUsec = 0;
  constructor(
    readonly dbId: number,
    readonly keys: string[],
    readonly serve: ServeBlocked,
    readonly timeoutReply: TimeoutReply,
    /** Absolute deadline (Unix ms), 0 = none. */
    readonly deadline: number,
  ) {}
}

const UNBLOCKED_BY_CLIENT = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
const UNBLOCKED_ROLE_CHANGE = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";

/** Whether a blocking command of this client may block (Redis's CLIENT_DENY_BLOCKING). */
export function mayBlock(c: Client): boolean {
  return !c.denyBlocking && !c.isMaster;
}

export class Blocking {
  /** db id -> key -> clients waiting on it, in the order they blocked (Sets iterate in insertion order). */
  private readonly waiting = new Map<number, Map<string, Set<Client>>>();
  /** Keys signalled since the last handleReadyKeys, in order, without repeats. */
  private ready: Array<{ dbId: number; key: string }> = [];
  private readonly readyTags = new Set<string>();
  /** Clients that got their reply and must have their pipelined input run. */
  private unblocked: Client[] = [];
  private resumeScheduled = false;
  private handleScheduled = false;
  private handling = false;
  /** Clients currently blocked on keys. */
  count = 0;

  constructor(private readonly server: Server) {}

  /** Number of keys waiting to be handled (the dispatcher's cheap check). */
  get readyCount(): number {
    return this.ready.length;
  }

  /**
   * Blocks `c` on `keys` of its database. `timeoutMs` is relative (0: forever). The running
   * command must not reply: the reply comes from `serve`, the timeout or CLIENT UNBLOCK.
   */
  block(c: Client, keys: readonly string[], timeoutMs: number, serve: ServeBlocked, timeoutReply: TimeoutReply = nullArrayReply): void {
    const dbId = c.db.id;
    let byKey = this.waiting.get(dbId);
    if (!byKey) this.waiting.set(dbId, (byKey = new Map()));
    const distinct: string[] = [];
    for (const key of keys) {
      let clients = byKey.get(key);
      if (!clients) byKey.set(key, (clients = new Set()));
      if (clients.has(c)) continue;
      clients.add(c);
      distinct.push(key);
    }
    const w = new KeyWait(dbId, distinct, serve, timeoutReply, timeoutMs > 0 ? Date.now() + timeoutMs : 0);
    c.keyWait = w;
    c.blocked = true;
    this.count++;
    if (timeoutMs > 0) this.armTimer(c, w);
  }

  private armTimer(c: Client, w: KeyWait): void {
    const left = Math.max(0, w.deadline - Date.now());
    w.timer = setTimeout(() => {
      w.timer = null;
      if (c.keyWait !== w) return;
      if (w.deadline - Date.now() > 0) this.armTimer(c, w);
      // Timeouts are handled outside a busy script (Redis: in beforeSleep, skipped then).
      else this.server.scripting.whenNotBusy(() => {
        if (c.keyWait === w) this.replyTimeout(c, w);
      });
    }, Math.min(left, MAX_TIMER_MS));
  }

  private replyTimeout(c: Client, w: KeyWait): void {
    const mark = c.reply.length;
    w.timeoutReply(c);
    this.finish(c, mark);
  }

  /** A key changed: if somebody waits on it, queue it for handleReadyKeys. */
  signalKeyAsReady(db: Database, key: string): void {
    if (this.count === 0) return;
    const byKey = this.waiting.get(db.id);
    if (!byKey || !byKey.has(key)) return;
    const tag = `${db.id}\0${key}`;
    if (this.readyTags.has(tag)) return;
    this.readyTags.add(tag);
    this.ready.push({ dbId: db.id, key });
    // Changes outside a command (a full sync, a timer) are handled once the stack unwinds.
    if (!this.handleScheduled) {
      this.handleScheduled = true;
      queueMicrotask(() => {
        this.handleScheduled = false;
        this.handleReadyKeys();
      });
    }
  }

  /** Every key waited on in a database (-1: all) may have changed (FLUSHDB, full sync, SWAPDB). */
  signalDatabase(dbId: number): void {
    if (this.count === 0) return;
    for (const [id, byKey] of this.waiting) {
      if (dbId !== -1 && id !== dbId) continue;
      const db = this.server.dbs[id];
      if (db) for (const key of byKey.keys()) this.signalKeyAsReady(db, key);
    }
  }

  /**
   * Serves the clients waiting on ready keys (Redis's handleClientsBlockedOnKeys). Not while a
   * script is busy: the keys it made ready are served when it ends (its command's dispatch).
   */
  handleReadyKeys(): void {
    if (this.handling || this.server.scripting.busy !== null) return;
    this.handling = true;
    try {
      while (this.ready.length !== 0) {
        const batch = this.ready;
        this.ready = [];
        for (const { dbId, key } of batch) {
          this.readyTags.delete(`${dbId}\0${key}`);
          const clients = this.waiting.get(dbId)?.get(key);
          if (!clients) continue;
          // Deleting from a Set while iterating it is well defined: served clients leave it.
          for (const receiver of clients) this.tryServe(receiver, key);
        }
      }
    } finally {
      this.handling = false;
    }
  }

  /** Offers `key` to one waiting client, as a command of that client (stats aside). */
  private tryServe(c: Client, key: string): void {
    const w = c.keyWait;
    if (!w) return;
    if (c.conn?.closed) {
      // Gone but not yet told: nothing to pop for it.
      this.detach(c);
      return;
    }
    const server = this.server;
    const prevClient = server.currentClient;
    server.currentClient = c;
    server.cmdTime = Date.now();
    c.propagateAs = null;
    c.alsoPropagate = null;
    c.preventPropagation = false;
    const repl = server.replication;
    const originating = repl.originating;
    if (originating) repl.beginCommand();
    const replyMark = c.reply.length;
    const started = performance.now();
    const errorsBefore = server.stats.totalErrorReplies;
    let served = false;
    try {
      served = w.serve(c, key);
    } catch (e) {
      served = true;
      if (e instanceof CommandError) this.replyError(c, e.reply);
      else {
        c.reply.truncate(replyMark);
        server.stats.unexpectedErrorReplies++;
        server.log.warning(`Internal error serving a client blocked on '${key}': ${(e as Error)?.stack ?? e}`);
        this.replyError(c, "ERR internal error serving a blocked client");
      }
    }
    // Never the blocking form itself: a serve that changed data names what to propagate in
    // c.propagateAs (Redis's alsoPropagate of LPOP, LMOVE, ZPOPMIN...), extra ops in
    // c.alsoPropagate; expiries it hit were queued as DEL meanwhile.
    if (originating) repl.endCommand(c, c.propagateAs ?? [], c.propagateAs !== null);
    server.currentClient = prevClient;
    // The served client's own invalidations follow its reply (afterCommand for the receiver).
    if (server.tracking.pending.length !== 0) server.tracking.sendPending(c);
    if (served) {
      const replyUs = (performance.now() - started) * 1000;
      this.statsOnUnblock(c, w, replyUs, server.stats.totalErrorReplies !== errorsBefore);
      server.latency.addIfNeeded("command-unblocking", replyUs / 1000);
      this.finish(c, replyMark);
    }
  }

  /** Redis's updateStatsOnUnblock: the blocked command's time, failure, histogram, slow log. */
  private statsOnUnblock(c: Client, w: KeyWait, replyUs: number, failed: boolean): void {
    const server = this.server;
    const total = w.callUsec + replyUs;
    const s = commandStats(c, c.lastCommand);
    s.usec += Math.round(total);
    if (failed) s.failed++;
    if (server.config.bool("latency-tracking")) (s.histogram ??= new CommandHistogram()).record(total * 1000);
    if (w.argv.length !== 0) server.slowlog.record(c, w.argv, total);
  }

  private replyError(c: Client, text: string): void {
    c.reply.error(text);
    const stats = this.server.stats;
    stats.totalErrorReplies++;
    const space = text.indexOf(" ");
    const code = space < 0 ? text : text.slice(0, space);
    stats.errors.set(code, (stats.errors.get(code) ?? 0) + 1);
  }

  /** Removes the client from every key it waited on. */
  private detach(c: Client): KeyWait | null {
    const w = c.keyWait;
    if (!w) return null;
    const byKey = this.waiting.get(w.dbId);
    if (byKey) {
      for (const key of w.keys) {
        const clients = byKey.get(key);
        if (!clients) continue;
        clients.delete(c);
        if (clients.size === 0) byKey.delete(key);
      }
      if (byKey.size === 0) this.waiting.delete(w.dbId);
    }
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    c.keyWait = null;
    c.blocked = false;
    this.count--;
    return w;
  }

  /** The client got its reply: send it, and run its pipelined input soon. */
  /**
   * The blocked command replied (from `replyMark` on): sends it, unless the client asked for no
   * reply to it (CLIENT REPLY OFF, or SKIP for this command: Redis checks when the reply is
   * written, which for a blocked command is now).
   */
  private finish(c: Client, replyMark: number): void {
    if (c.blockedReplySilenced) {
      c.blockedReplySilenced = false;
      c.reply.truncate(replyMark);
    }
    if (!this.detach(c)) return;
    if (c.reply.length) {
      this.server.stats.netOutputBytes += c.reply.length;
      c.flush();
    }
    this.unblocked.push(c);
    if (!this.resumeScheduled) {
      this.resumeScheduled = true;
      queueMicrotask(() => this.resumeUnblocked());
    }
  }

  private resumeUnblocked(): void {
    this.resumeScheduled = false;
    const list = this.unblocked;
    this.unblocked = [];
    for (const c of list) {
      if (c.blocked || c.conn?.closed || !this.server.clients.has(c.id)) continue;
      c.resumeInput();
    }
  }

  /**
   * CLIENT UNBLOCK: replies as on timeout, or with -UNBLOCKED when `withError`. Returns false
   * when the client is not blocked on keys.
   */
  unblock(c: Client, withError: boolean): boolean {
    const w = c.keyWait;
    if (!w) return false;
    const mark = c.reply.length;
    if (withError) this.replyError(c, UNBLOCKED_BY_CLIENT);
    else w.timeoutReply(c);
    // Counted as a failed call either way (networking.c's clientCommand).
    this.statsOnUnblock(c, w, 0, true);
    this.finish(c, mark);
    return true;
  }

  /** Becoming a replica: every blocked client gets -UNBLOCKED and is disconnected. */
  disconnectAll(): void {
    if (this.count === 0) return;
    for (const c of [...this.server.clients.values()]) {
      if (!c.keyWait) continue;
      const mark = c.reply.length;
      this.replyError(c, UNBLOCKED_ROLE_CHANGE);
      c.closeAfterReply = true;
      this.finish(c, mark);
      c.conn?.closeAfterFlush();
    }
  }

  /** A connection closed: forget its wait (no reply). */
  onClientClosed(c: Client): void {
    if (c.keyWait) this.detach(c);
  }

  /** Clients blocked on anything (keys, WAIT), for INFO's blocked_clients. */
  blockedClients(): number {
    let n = this.count;
    for (const c of this.server.clients.values()) if (c.blocked && !c.keyWait) n++;
    return n;
  }

  /** Clients blocked on keys with a timeout (INFO's clients_in_timeout_table, for those). */
  clientsWithTimeout(): number {
    let n = 0;
    if (this.count === 0) return 0;
    for (const c of this.server.clients.values()) if (c.keyWait && c.keyWait.deadline !== 0) n++;
    return n;
  }

  /** Number of clients waiting on a key (tests, DEBUG). */
  waitersOf(dbId: number, key: string): number {
    return this.waiting.get(dbId)?.get(key)?.size ?? 0;
  }
}
