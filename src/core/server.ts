// The one explicit server context: configuration, databases, clients, statistics and the
// replication state. Everything else receives it (through the Client, for handlers) instead
// of reaching for globals.

import { NotifyClass, notifyServerKeyspaceEvent, unsubscribeAllSilently } from "./pubsub.ts";
import { randomBytes } from "node:crypto";
import type { Config } from "../config/config.ts";
import { applyRenamedCommands, type CommandTable } from "./command-table.ts";
import { touchWatchers } from "./multi.ts";
import { Database } from "../store/database.ts";
import { AccessClock } from "../store/keyspace/access-clock.ts";
import { Eviction } from "./evict.ts";
import { ReplyBufferPool } from "../protocol/reply-writer.ts";
import { memoryCountedForEviction } from "./memory.ts";
import { Blocking } from "./blocking.ts";
import type { Client } from "./client.ts";
import { Logger } from "./log.ts";
import { notifySystemd, type SupervisionMode } from "./supervision.ts";
import type { Progress } from "./progress.ts";
import type { ReplicationHooks } from "./replication-hooks.ts";
import type { Persistence } from "./persistence-state.ts";
import { LibraryStore } from "./scripts/functions-store.ts";
import { ScriptingState } from "./scripts/state.ts";
import type { TlsContext } from "./tls.ts";
import type { OverheadSample, StartupMemory } from "./memory.ts";
import { MigrateSockets } from "./migrate-sockets.ts";
import { LatencyMonitor, Slowlog, type CommandHistogram } from "./latency.ts";
import { ClientPause } from "./client-pause.ts";
import { stopMonitoring } from "./monitor.ts";
import { releaseCodePages } from "./code-pages.ts";
import { Tracking } from "./tracking.ts";

/** One command's INFO commandstats figures and its latency histogram (latency-tracking). */
export interface CommandStats {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
  histogram: CommandHistogram | null;
}

/** Aggregates held as JS objects up to which collectAfterLoad() collects synchronously (200k: 20-30 ms measured). */
const SYNC_COLLECTION_MAX_OBJECTS = 200_000;
import { Acl } from "./acl/acl.ts";

interface Stats {
  totalConnectionsReceived: number;
  totalCommandsProcessed: number;
  rejectedConnections: number;
  netInputBytes: number;
  netOutputBytes: number;
  netReplInputBytes: number;
  netReplOutputBytes: number;
  syncFull: number;
  syncPartialOk: number;
  syncPartialErr: number;
  expiredKeys: number;
  evictedKeys: number;
  evictedClients: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  totalErrorReplies: number;
  unexpectedErrorReplies: number;
  totalReadsProcessed: number;
  totalWritesProcessed: number;
  /** Per-command calls / failed calls / rejected calls / microseconds, for INFO commandstats. */
  commands: Map<string, CommandStats>;
  /** Error counts by error code (first word), for INFO errorstats. */
  errors: Map<string, number>;
}

function newStats(): Stats {
  return {
    totalConnectionsReceived: 0,
    totalCommandsProcessed: 0,
    rejectedConnections: 0,
    netInputBytes: 0,
    netOutputBytes: 0,
    netReplInputBytes: 0,
    netReplOutputBytes: 0,
    syncFull: 0,
    syncPartialOk: 0,
    syncPartialErr: 0,
    expiredKeys: 0,
    evictedKeys: 0,
    evictedClients: 0,
    keyspaceHits: 0,
    keyspaceMisses: 0,
    totalErrorReplies: 0,
    unexpectedErrorReplies: 0,
    totalReadsProcessed: 0,
    totalWritesProcessed: 0,
    commands: new Map(),
    errors: new Map(),
  };
}

export class Server {
  readonly log = new Logger();
  readonly dbs: Database[];
  readonly commands: CommandTable;
  readonly clients = new Map<number, Client>();
  nextClientId = 1;
  readonly stats: Stats = newStats();
  /** The clients' and scripts' share of used_memory, sampled at most once a millisecond (core/memory.ts). */
  memoryOverheadSample: OverheadSample | null = null;
  /** When maxmemory-clients last walked the clients (core/client-eviction.ts). */
  clientEvictionCheckedAt = -Infinity;
  /** Reply buffers lent to connected clients while they write a batch of replies. */
  readonly replyBuffers = new ReplyBufferPool();
  /** maxmemory: the eviction pool and timer (core/evict.ts). */
  readonly eviction: Eviction = new Eviction(this);
  /**
   * Whether the command being run started over maxmemory with nothing left to evict (Redis's
   * pre_command_oom_state): a script's first write is refused then.
   */
  preCommandOomState = false;
  /** The LRU/LFU clock of every database's keys (Redis's server.lruclock and the policy's form). */
  readonly accessClock = new AccessClock();
  readonly runId = randomBytes(20).toString("hex");
  readonly startedAt = Date.now();
  /** Number of changes to the dataset since the last save (Redis's server.dirty). */
  dirty = 0;
  readonly persistence: Persistence = {
    lastSaveTime: Math.floor(Date.now() / 1000),
    lastBgsaveStatus: "ok",
    lastBgsaveTimeSec: -1,
    bgsaveInProgressSince: 0,
    saves: 0,
    lastLoadKeysLoaded: 0,
    lastLoadKeysExpired: 0,
    aofWriteError: null,
    lastSaveReplOffset: 0,
  };
  /** True while a dataset is being loaded (clients get -LOADING unless the command allows it). */
  loading = false;
  /**
   * Runs before a client's replies are sent while something must reach the disk first (the
   * AOF's pending writes, dataset/aof.ts): null otherwise, so a flush costs one check. True:
   * the replies wait (the AOF flushes the client once its bytes are written, at the end of the
   * event-loop turn: one write and fsync for all the clients of the turn, as Redis's beforeSleep).
   */
  beforeReply: ((c: Client) => boolean) | null = null;
  /** Time snapshot (Unix ms) of the command being executed: expiry checks use it. */
  cmdTime = Date.now();
  /**
   * Unix ms minus performance.now(): call() reads one clock per command (its duration's start)
   * and derives the Unix time from it (each clock read costs ~40 ns here). Set again by the
   * cron (resyncClock), so a wall-clock step is followed within 100 ms.
   */
  private clockOffset = Date.now() - performance.now();

  resyncClock(): void {
    this.clockOffset = Date.now() - performance.now();
  }

  /** The Unix time in ms at the monotonic instant `perfNow` (a performance.now() value). */
  unixMsAt(perfNow: number): number {
    return Math.floor(this.clockOffset + perfNow);
  }
  /** How deep call() is nested (EXEC's commands, a script's): only the outermost takes the time. */
  callDepth = 0;
  /**
   * While processInput runs a client's batch: when the last command ended (performance.now()),
   * the next one's start (core/dispatch.ts call()); -1 otherwise (the clock is read).
   */
  batchClock = -1;
  /** The client whose command is executing (for "is the master asking?" decisions). */
  currentClient: Client | null = null;
  /** The plain TCP port listened on (0: none), and the TLS one (tls-port; 0: none). */
  listeningPort = 0;
  tlsListeningPort = 0;
  /** The TLS context of tls-port and tls-replication, once something uses TLS (core/tls.ts). */
  tls: TlsContext | null = null;
  /**
   * Replication (replication/replication.ts), installed by start: the core sees it through the
   * hooks it needs; the layers above reach the whole of it with replicationOf(server).
   */
  replication!: ReplicationHooks;
  /** Watched keys: "<db>\0<key>" -> clients watching it. */
  readonly watchedKeys = new Map<string, Set<Client>>();
  /** Clients blocked on keys (BLPOP, BZPOPMIN, XREAD BLOCK...) and the keys made ready for them. */
  readonly blocking = new Blocking(this);
  /** Pub/sub subscriptions. */
  readonly channels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();
  /** A writable replica's own keys with a TTL, by database (core/replica-expire.ts). */
  readonly replicaKeysWithExpire = new Map<number, Set<string>>();
  /** Shard channels (SSUBSCRIBE) -> their subscribers (core/pubsub-shard.ts). */
  readonly shardChannels = new Map<string, Set<Client>>();
  /** Set by SHUTDOWN; main() exits when it resolves. */
  shutdownRequested: ((code: number) => void) | null = null;
  /** The server is exiting (a busy script is not continued). */
  exiting = false;
  /** DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may call noscript commands. */
  scriptDisableDenyScript = false;
  /** Stored FUNCTION libraries: name -> code (applied from the master, served by FUNCTION LIST/DUMP). */
  readonly functions = new LibraryStore();
  /** EVAL's script cache and engine, the functions engine (core/scripts/state.ts). */
  readonly scripting: ScriptingState;
  /** SLOWLOG and LATENCY (core/latency.ts). */
  readonly slowlog: Slowlog;
  readonly latency: LatencyMonitor;
  /** Clients in MONITOR mode, in the order they started (core/monitor.ts). */
  readonly monitors = new Set<Client>();
  /** A flush of the monitors' buffers is queued for the end of this turn. */
  monitorFlushPending = false;
  /** Client pauses: CLIENT PAUSE, and FAILOVER / SHUTDOWN holding writes (core/client-pause.ts). */
  readonly pause: ClientPause = new ClientPause(this);
  /** Users, authentication and the ACL log (core/acl/acl.ts). */
  readonly acl: Acl;
  /** Client-side caching: who may cache which keys, and their invalidations (core/tracking.ts). */
  readonly tracking: Tracking = new Tracking(this);

  /**
   * A server for `config`, serving the commands of `commands` (commands/families.ts builds it).
   * Replication is installed after construction (server/assemble.ts): it lives above the core.
   */
  constructor(readonly config: Config, commands: CommandTable) {
    const count = config.num("databases");
    this.dbs = Array.from({ length: count }, (_, i) => new Database(i, this.accessClock));
    // Keys added by commands publish "new" (notify-keyspace-events n), as Redis's dbAdd.
    const publisher = { server: this };
    for (const db of this.dbs) db.newKeyHook = (d, key) => notifyServerKeyspaceEvent(publisher, NotifyClass.New, "new", key, d.id);
    this.commands = commands;
    applyRenamedCommands(this.commands, config);
    this.acl = new Acl(this);
    this.scripting = new ScriptingState(this);
    this.slowlog = new Slowlog(config);
    this.latency = new LatencyMonitor(config);
    this.log.level = config.str("loglevel") as Logger["level"];
    this.log.file = config.str("logfile");
    this.log.role = () => (this.replication.masterHost ? "S" : "M");
    this.applyAccessPolicy();
    config.onChange((name) => {
      if (name === "loglevel") this.log.level = config.str("loglevel") as Logger["level"];
      if (name === "maxmemory-policy" || name === "lfu-log-factor" || name === "lfu-decay-time") this.applyAccessPolicy();
      // updateMaxmemory: evicting starts on the next turn of the event loop, not in CONFIG SET.
      if (name === "maxmemory" && config.num("maxmemory") !== 0) {
        const used = memoryCountedForEviction(this);
        if (config.num("maxmemory") < used) {
          this.log.warning(`WARNING: the new maxmemory value set via CONFIG SET (${config.num("maxmemory")}) is smaller than the current memory usage (${used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.`);
        }
        this.eviction.startTimer();
      }
    });
  }

  /** The load in progress (INFO loading_* fields), while `loading`. */
  loadProgress: Progress | null = null;

  /** The supervisor we report to (supervised systemd / upstart), resolved at start. */
  supervision: SupervisionMode = "no";

  /** A STATUS / READY / STOPPING message to systemd when supervised by it (redisCommunicateSystemd). */
  notifySupervisor(msg: string): void {
    if (this.supervision === "systemd") notifySystemd(msg, this.log);
  }

  /** Active expiry runs (DEBUG SET-ACTIVE-EXPIRE 0 turns it off, for tests). */
  activeExpireEnabled = true;
  /** MIGRATE's cached connections to target instances. */
  readonly migrateSockets = new MigrateSockets();
  /** DEBUG PAUSE-CRON: the cron does nothing while set. */
  cronPaused = false;
  /** DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE and DEBUG RELOAD take any checksum. */
  skipChecksumValidation = false;

  /** When the last "Possible SECURITY ATTACK" was logged (at most one a minute). */
  lastSecurityWarning = 0;

  /**
   * Whether the default user needs no password (Redis's USER_FLAG_NOPASS on DefaultUser): what
   * protected mode looks at.
   */
  defaultUserHasNoPassword(): boolean {
    return this.acl.defaultUser.noPass;
  }

  /**
   * Marks a key as modified (Redis's signalModifiedKey): WATCHers, clients blocked on it, and
   * the clients that may cache it. `by` is the client whose command changed it (null for
   * expiry): BCAST's NOLOOP does not tell a client about its own changes.
   */
  signalModifiedKey(db: Database, key: string, by: Client | null = this.currentClient): void {
    if (this.blocking.count !== 0) this.blocking.signalKeyAsReady(db, key);
    const tracking = this.tracking;
    if (tracking.table.size !== 0 || tracking.prefixes.size !== 0) tracking.invalidateKey(by, key, true);
    if (this.watchedKeys.size === 0) return;
    const tag = `${db.id}\0${key}`;
    const watchers = this.watchedKeys.get(tag);
    if (watchers) touchWatchers(watchers, db, key, tag);
  }

  /**
   * Invalidates every WATCH on a database (DEBUG RELOAD, full sync), and tells the clients that
   * may cache keys that all of them are invalid.
   */
  signalFlushedDb(dbId: number): void {
    if (this.blocking.count !== 0) this.blocking.signalDatabase(dbId);
    this.tracking.invalidateAll();
    if (this.watchedKeys.size === 0) return;
    for (const [k, watchers] of this.watchedKeys) {
      if (dbId === -1 || k.startsWith(`${dbId}\0`)) for (const c of watchers) c.dirtyCas = true;
    }
  }

  /** Cleans up after a client's connection closed: WATCH, pub/sub, replica bookkeeping. */
  onClientClosed(c: Client): void {
    if (c.keyWait) this.blocking.onClientClosed(c);
    if (c.watched) {
      for (const k of c.watched) {
        const set = this.watchedKeys.get(k);
        if (set) {
          set.delete(c);
          if (set.size === 0) this.watchedKeys.delete(k);
        }
      }
      c.watched = null;
    }
    unsubscribeAllSilently(c);
    stopMonitoring(c);
    if (c.tracking !== null) this.tracking.disable(c);
    this.pause.onClientClosed(c);
    this.replication.onClientClosed(c);
  }

  /** Orderly shutdown: stop replication, close clients. (Saving on shutdown comes with the RDB writer.) */
  async shutdown(): Promise<void> {
    this.replication.cancelHandshake();
    for (const c of this.clients.values()) c.conn?.closeAfterFlush();
  }

  /** Highest memory use seen (used_memory_peak): by the cron, INFO and MEMORY. */
  memoryPeak = 0;
  /** Heap and runtime RSS once started (INFO used_memory_startup): what an empty server costs. */
  startupMemory: StartupMemory = { used: 0, runtimeRss: 0 };
  /** Server cron iterations (10 a second). */
  cronLoops = 0;
  /** Samples of total_commands_processed over the last second, for instantaneous_ops_per_sec. */
  private opsSamples: number[] = [];

  /** The access clock follows maxmemory-policy (LRU or LFU form) and the LFU tunables. */
  private applyAccessPolicy(): void {
    const clock = this.accessClock;
    clock.lfu = this.config.str("maxmemory-policy").endsWith("-lfu");
    clock.logFactor = this.config.num("lfu-log-factor");
    clock.decayTime = this.config.num("lfu-decay-time");
    clock.refresh(Date.now());
  }

  /**
   * A large buffer became garbage (a client's big send queue, a huge argument): the cron
   * collects soon, and once more two seconds later (the runtime frees a big string's memory
   * only at a collection after the one that found it dead).
   */
  private collectionsWanted = 0;
  private lastCollection = 0;

  requestCollection(): void {
    this.collectionsWanted = 2;
  }

  /**
   * From the cron: a collection when one was asked for, at most one every two seconds. The
   * runtime would keep the garbage (and its RSS) until enough new allocation triggers one;
   * Redis's allocator gives such memory back at once. A concurrent one (Bun.gc(false), a few
   * ms here; its memory is back within ~2 s): a synchronous full collection stops every client
   * (~0.1 s per 1M objects).
   */
  collectIfWanted(): void {
    if (this.collectionsWanted === 0) return;
    const now = performance.now();
    if (now - this.lastCollection < 2000) return;
    this.collectionsWanted--;
    this.lastCollection = now;
    Bun.gc(false);
  }

  /**
   * After a load replaced the dataset. The load leaves its buffers, its pending records and
   * the replaced dataset behind as old garbage, which the runtime keeps (with its RSS) until
   * a full collection that a concurrent request does not start. A synchronous one costs in
   * proportion to what is alive, and a dataset held at rest (store/at-rest.ts) is almost no
   * JS objects (1M small hashes: ~10 ms): then it runs at once; with many aggregates as
   * objects a client would wait too long, so it is asked of the cron as concurrent ones.
   */
  collectAfterLoad(): void {
    let objects = 0;
    for (const db of this.dbs) objects += db.ks.side.size;
    if (objects <= SYNC_COLLECTION_MAX_OBJECTS) {
      const t0 = performance.now();
      Bun.gc(true);
      this.log.verbose(`Collected the load's garbage in ${(performance.now() - t0).toFixed(1)} ms (${objects} aggregates as objects)`);
    } else {
      Bun.gc(false);
      this.requestCollection();
    }
    this.releaseCodePages("load");
  }

  /**
   * The executable's pages a start or a load touched, back to the OS (core/code-pages.ts).
   * After the start, before anything is served, the runtime also drops the code it compiled to
   * start and returns its allocators' free memory (Bun.shrink, which runs once this callback
   * returns): ~5 MB more. Not after a load: the first commands would wait for their code to
   * compile again, and its full collection is the one collectAfterLoad decides on.
   */
  releaseCodePages(after: "start" | "load"): void {
    if (after === "start") Bun.shrink();
    const t0 = performance.now();
    const released = releaseCodePages();
    if (released > 0) this.log.verbose(`Released ${(released / 1048576).toFixed(1)} MB of code pages used by the ${after} in ${(performance.now() - t0).toFixed(1)} ms`);
  }

  /** Called by the cron 10 times a second. */
  sampleStats(): void {
    this.accessClock.refresh(Date.now());
    this.opsSamples.push(this.stats.totalCommandsProcessed);
    if (this.opsSamples.length > 11) this.opsSamples.shift();
  }

  instantaneousOps(): number {
    const s = this.opsSamples;
    if (s.length < 2) return 0;
    return Math.round(((s[s.length - 1]! - s[0]!) * 10) / (s.length - 1));
  }

  /** Average TTL in ms of the keys with an expiry (a sample, as Redis estimates it). */
  averageTtl(db: Database): number {
    if (db.expiresSize === 0 || this.replication.masterHost !== null) return 0;
    let sum = 0;
    let n = 0;
    const now = Date.now();
    const end = Math.min(db.expiresSize, 1000); // bounded even when most keys are past their time
    for (let pos = 0; pos < end && n < 100; pos++) {
      const when = db.volatileExpireAt(pos);
      if (when > now) {
        sum += when - now;
        n++;
      }
    }
    return n ? Math.round(sum / n) : 0;
  }

  /** Total keys across databases. */
  totalKeys(): number {
    let n = 0;
    for (const db of this.dbs) n += db.size;
    return n;
  }
}
