// Replication state of this node, both roles: who our master is and how the link stands
// (replica side, ReplicaLink: `link`), our replication ids and offsets, the backlog, and our
// own replicas (master side, ReplicaServing: `replicas`).
//
// Ids and offsets follow Redis's PSYNC2 model: `replid` names the history we hold and
// `masterReplOffset` is how many bytes of it we have; after a promotion the previous id is
// kept as `replid2`, valid up to `secondReplidOffset`, so replicas of the old master can
// continue with us.
//
// The stream has two sources: as a master we originate it (commands we execute, encoded);
// as a replica we forward our master's bytes unchanged, once applied, so our backlog and our
// replicas hold exactly the same bytes at the same offsets as our master's.

import { randomBytes } from "node:crypto";
import type { ReplicationHooks } from "../core/replication-hooks.ts";
import type { ReplicationAux } from "../rdb/writer.ts";
import type { Client } from "../core/client.ts";
import type { Server } from "../core/server.ts";
import type { Database } from "../store/database.ts";
import { ReplicaLink } from "./replica-link.ts";
import { ReplState } from "./link-state.ts";
import { Backlog } from "./backlog.ts";
import { ReplicaServing } from "./replica-serving.ts";
import { Failover } from "./master-failover.ts";
import { aofOf, type AppendOnlyFile, type StreamPosition } from "../dataset/aof.ts";
import { restartAofAfterSync } from "../dataset/aof-rewrite.ts";

const ZERO_REPLID = "0000000000000000000000000000000000000000";

export function newReplicationId(): string {
  return randomBytes(20).toString("hex");
}

export class Replication implements ReplicationHooks {
  /** The master we replicate from; null when we are a master. */
  masterHost: string | null = null;
  masterPort = 0;
  replid = newReplicationId();
  replid2 = ZERO_REPLID;
  masterReplOffset = 0;
  secondReplidOffset = -1;
  /** The replica-side link (state machine, transfer, stream apply). */
  readonly link: ReplicaLink;
  /** Our own replicas: PSYNC serving, full syncs, the stream we feed them, WAIT, the write pause. */
  readonly replicas: ReplicaServing;
  /** A coordinated FAILOVER under way, if any. */
  readonly failover: Failover;
  /** The last bytes of the replication stream, for partial resyncs (null until needed). */
  backlog: Backlog | null = null;
  /**
   * The server version our master's last full sync came from (its RDB's AUX redis-ver, or
   * "valkey-<ver>"), kept in our own RDBs (AUX replicant-master-version) across restarts. A few
   * commands of an older master mean something else today: see masterPredates70.
   */
  masterVersion: string | null = null;
  /** Bytes of our master's stream received but not yet applied (forwarded once applied). */
  private unapplied: Buffer[] = [];
  private unappliedOffset = 0;
  /** The AOF (appendonly yes): it gets the stream our backlog gets (dataset/aof.ts). */
  readonly aof: AppendOnlyFile;

  constructor(readonly server: Server) {
    this.aof = aofOf(server);
    this.aof.position = () => this.streamPosition();
    // As rdbAux: a master without a backlog is in no replication chain.
    this.aof.chained = () => this.masterHost !== null || this.link.cached !== null || this.backlog !== null;
    this.link = new ReplicaLink(server, this);
    this.replicas = new ReplicaServing(server, this);
    this.failover = new Failover(server, this);
    server.config.onChange((name) => {
      if (name === "repl-backlog-size") this.backlog?.resize(server.config.num("repl-backlog-size"));
    });
  }

  get state(): ReplState {
    return this.link.state;
  }

  /** Whether our master is a Redis before 7.0 (6.2: XCLAIM keeps deleted entries pending). */
  get masterPredates70(): boolean {
    const v = this.masterVersion;
    if (v === null || v.startsWith("valkey")) return false;
    return Number(v.split(".")[0]) < 7;
  }

  /** Takes the master's version from a full sync's AUX fields (or our own RDB's). */
  noteMasterVersion(aux: Map<string, string>): void {
    const own = aux.get("replicant-master-version");
    const redis = aux.get("redis-ver");
    const valkey = aux.get("valkey-ver");
    this.masterVersion = own ?? (valkey !== undefined ? `valkey-${valkey}` : (redis ?? null));
  }

  isLinkUp(): boolean {
    return this.link.state === ReplState.Connected;
  }

  /** Shifts to a new history: the current id becomes replid2 (Redis's shiftReplicationId). */
  shiftReplicationId(): void {
    this.replid2 = this.replid;
    this.secondReplidOffset = this.masterReplOffset + 1;
    this.replid = newReplicationId();
    this.server.log.warning(`Setting secondary replication ID to ${this.replid2}, valid up to offset: ${this.secondReplidOffset}. New replication ID is ${this.replid}`);
  }

  clearReplicationId2(): void {
    this.replid2 = ZERO_REPLID;
    this.secondReplidOffset = -1;
  }

  /** 10 times a second; `everySecond` once a second (Redis's replicationCron). */
  cronTick(everySecond: boolean): void {
    // A failover is checked ten times a second (Redis runs replicationCron at 10 Hz then).
    if (this.failover.active) this.failover.tick();
    if (!everySecond) return;
    this.link.cron();
    this.replicas.cron();
  }

  // ---- Role changes and the replica link's events ----

  onBecomingReplica(): void {
    // Clients blocked in BLPOP & co. must not be served by pops of our own (Redis's disconnectAllBlockedClients).
    this.server.blocking.disconnectAll();
    // Our replicas must follow the new history: they reconnect and PSYNC.
    this.replicas.disconnectAll();
  }

  onBecomingMaster(): void {
    this.replicas.disconnectAll();
    // The backlog's time to live counts from now: replicas need a moment to reconnect.
    this.replicas.noReplicasSince = Date.now();
    // The next command we originate starts with a SELECT.
    this.replicas.streamDb = -1;
    if (!this.backlog) this.backlog = new Backlog(this.server.config.num("repl-backlog-size"), this.masterReplOffset);
  }

  /** A full sync replaced our history: the backlog restarts at the master's offset. */
  onFullSyncLoaded(): void {
    this.replicas.disconnectAll();
    this.unapplied = [];
    this.unappliedOffset = 0;
    // Replicas keep a backlog regardless of sub-replicas, to serve PSYNC after a promotion.
    this.backlog = new Backlog(this.server.config.num("repl-backlog-size"), this.masterReplOffset);
    // The AOF starts over from the new dataset (Redis's restartAOFAfterSYNC), once the master's
    // client exists (its db is the stream's, which the new incr file must select): after this
    // synchronous step, before any byte of the stream is applied (they are applied in later turns).
    queueMicrotask(() => restartAofAfterSync(this.server));
  }

  onPartialResync(): void {
    // A delayed replica's applier keeps its place in the stream across links (apply-delay.ts).
    if (!this.link.delayed) {
      this.unapplied = [];
      this.unappliedOffset = 0;
    }
    if (!this.backlog) this.backlog = new Backlog(this.server.config.num("repl-backlog-size"), this.masterReplOffset);
  }

  onMasterLinkDown(): void {
    if (this.link.delayed) return;
    this.unapplied = [];
    this.unappliedOffset = 0;
  }

  /** Raw bytes of our master's stream, as received (forwarded once applied). */
  onStreamBytesReceived(chunk: Buffer): void {
    this.unapplied.push(chunk);
  }

  /** `bytes` more of our master's stream were applied: forward them byte for byte. */
  onStreamApplied(bytes: number): void {
    let left = bytes;
    // masterReplOffset already counts these bytes: the offset after each piece is known.
    let end = this.masterReplOffset - bytes;
    while (left > 0 && this.unapplied.length) {
      const head = this.unapplied[0]!;
      const avail = head.length - this.unappliedOffset;
      const take = Math.min(avail, left);
      end += take;
      this.replicas.feed(head.subarray(this.unappliedOffset, this.unappliedOffset + take), end);
      left -= take;
      if (take === avail) {
        this.unapplied.shift();
        this.unappliedOffset = 0;
      } else this.unappliedOffset += take;
    }
  }

  /** Closes the links of our replicas (they reconnect and PSYNC). */
  disconnectReplicas(): void {
    this.replicas.disconnectAll();
  }

  // ---- Commands we originate (as a master) ----

  /** Whether executed commands must be recorded at all (a master with a backlog, replicas or an AOF). */
  get originating(): boolean {
    return this.masterHost === null && !this.originationSuspended && this.replicas.streaming;
  }

  /** DEBUG LOADAOF replays the AOF: what it runs is not propagated (Redis calls the commands directly). */
  private originationSuspended = false;
  suspendOrigination(on: boolean): void {
    this.originationSuspended = on;
  }

  /** master_repl_offset when the outermost command began (for WAIT's per-client offset). */
  private offsetAtCommand = 0;
  private commandDepth = 0;

  /** Before a command runs: collect what it propagates (several ops go out as MULTI/EXEC). */
  beginCommand(): void {
    if (this.commandDepth++ === 0) this.offsetAtCommand = this.masterReplOffset;
    this.replicas.beginCollect();
  }

  /** After a command ran: its extra ops, then itself (rewritten form if any), then flush. */
  endCommand(c: Client, argv: string[], changed: boolean): void {
    const extra = c.alsoPropagate;
    if (extra) for (const op of extra) this.replicas.propagate(c.db.id, op);
    if (changed && !c.preventPropagation) this.replicas.propagate(c.db.id, c.propagateAs ?? argv);
    // SCAN and RANDOMKEY run directly (CMD_TOUCHES_ARBITRARY_KEYS): the DELs of the expired keys
    // they met go out one by one, not as a MULTI/EXEC (propagatePendingCommands).
    this.replicas.endCollect(this.commandDepth === 1 && argv.length !== 0 && touchesArbitraryKeys(argv[0]!));
    if (--this.commandDepth === 0) this.replicas.waits.noteClientWrite(c, this.offsetAtCommand, this.masterReplOffset);
  }

  /**
   * DEBUG REPLICATE: argv fed to our replicas as is, in whatever db the stream has selected
   * (replicationFeedSlaves with server.slaveseldb). A replica feeds nothing of its own.
   */
  debugReplicate(argv: string[]): void {
    if (this.originating) this.replicas.feedAsIs(argv);
  }

  /** A key found expired on a master: DEL (UNLINK with lazyfree-lazy-expire), as Redis's propagateDeletion. */
  propagateExpiry(db: Database, key: string): void {
    this.propagateAlone(db, [this.server.config.bool("lazyfree-lazy-expire") ? "UNLINK" : "DEL", key]);
  }

  /** A write of our own outside any command (active expiry): propagated as one unit of its own. */
  propagateAlone(db: Database, argv: string[]): void {
    if (!this.originating) return;
    this.replicas.propagate(db.id, argv);
  }

  beginTransaction(_c: Client): void {
    this.replicas.beginCollect();
  }

  /**
   * What EXEC's commands propagated goes out as one unit; nothing when we stopped being a master
   * meanwhile (a REPLICAOF inside the transaction): Redis propagates only as a master.
   */
  endTransaction(_c: Client): void {
    this.replicas.endCollect(false, !this.originating);
  }

  // ---- Our replicas ----

  /** PSYNC / SYNC from a client. */
  syncCommand(c: Client, argv: string[]): void {
    this.replicas.syncCommand(c, argv);
  }

  /** REPLCONF <option> <value> from a replica in its handshake: null, or the error to reply. */
  onReplconf(c: Client, option: string, value: string): string | null {
    return this.replicas.onReplconf(c, option, value);
  }

  /** REPLCONF ACK <offset> from one of our replicas. */
  onReplicaAck(c: Client, args: string[]): void {
    this.replicas.onAck(c, args);
  }

  /** WAIT numreplicas timeout (as a master). */
  wait(c: Client, numReplicas: number, timeoutMs: number): void {
    this.replicas.wait(c, numReplicas, timeoutMs);
  }

  /** INFO replication's slaveN lines. */
  replicaInfoLines(): string[] {
    return this.replicas.infoLines();
  }

  /** ROLE's replica list: [ip, port, acked offset]. */
  replicaRoleEntries(): Array<[string, number, number]> {
    return this.replicas.roleEntries();
  }

  /** Replicas with lag <= min-replicas-max-lag. */
  goodReplicasCount(): number {
    return this.replicas.goodReplicas();
  }

  failoverState(): string {
    return this.failover.state;
  }

  /** CLIENT KILL TYPE master: drop the link to our master (it reconnects with PSYNC). */
  killMasterLink(): void {
    this.link.dropLinkForReconnect();
  }

  backlogBytes(): number {
    return this.backlog ? this.backlog.size : 0;
  }

  cancelHandshake(): void {
    this.link.cancelHandshake();
    this.link.closeDelay();
  }

  /**
   * The replication info to store in an RDB (Redis's rdbPopulateSaveInfo), or null when there
   * is none worth keeping: a master without a backlog is in no replication chain.
   */
  rdbAux(replOffset: number): ReplicationAux | null {
    let db: number;
    if (this.masterHost === null) {
      if (!this.backlog) return null;
      const sel = this.replicas.streamDb;
      db = sel === -1 ? 0 : sel;
    } else if (this.link.streamDb !== null) {
      db = this.link.streamDb;
    } else if (this.link.cached) {
      db = this.link.cached.db;
    } else {
      return null;
    }
    return { replStreamDb: db, replId: this.replid, replOffset, masterVersion: this.masterHost !== null ? this.masterVersion : null };
  }

  /** A client connection closed. */
  onClientClosed(c: Client): void {
    if (c.replica) this.replicas.onClientClosed(c);
  }

  /** Where our stream stands: what a new AOF incr file records (dataset/aof.ts). */
  streamPosition(): StreamPosition {
    // A replica's stream (or the one it will continue: a cached master, at start-up before the
    // link is set up) is in its master client's db; ours in the db we last selected.
    const replica = this.masterHost !== null || this.link.cached !== null;
    const db = replica ? (this.link.streamDb ?? this.link.cached?.db ?? 0) : this.replicas.streamDb;
    return { replid: this.replid, offset: this.masterReplOffset, db, masterVersion: replica ? this.masterVersion : null };
  }

  /**
   * Start-up with an AOF whose last incr file says where its stream ends (its last complete
   * command): as restoreFromRdbAux, so a replica PSYNCs from there.
   */
  restoreFromAof(p: StreamPosition): void {
    if (this.restoreHistory(p.replid, p.offset, Math.max(p.db, 0)) && p.masterVersion !== null) this.masterVersion = p.masterVersion;
  }

  /**
   * Start-up with a dataset file that says which history it holds (AUX repl-id / repl-offset /
   * repl-stream-db), as Redis's loadDataFromDisk:
   * - as a replica we ask our master to continue from there (a cached master for PSYNC);
   * - as a master the file's history becomes our replid2, valid up to its offset, with a
   *   backlog starting there: replicas that were in sync with us continue by partial resync.
   */
  restoreFromRdbAux(aux: Map<string, string>): void {
    const id = aux.get("repl-id");
    const offsetText = aux.get("repl-offset");
    const dbText = aux.get("repl-stream-db");
    if (id?.length !== 40 || offsetText === undefined || dbText === undefined) return;
    const offset = Number(offsetText);
    const db = Number(dbText);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isInteger(db) || db < 0) return;
    if (this.restoreHistory(id, offset, db)) {
      const own = aux.get("replicant-master-version");
      if (own !== undefined) this.masterVersion = own;
    }
  }

  /** The history a file holds becomes ours; true when we are a replica (a cached master). */
  private restoreHistory(id: string, offset: number, db: number): boolean {
    if (this.server.config.replicaOf) {
      this.replid = id;
      this.masterReplOffset = offset;
      this.link.cached = { replid: id, offset, db };
      this.server.persistence.lastSaveReplOffset = offset;
      // A delayed replica's spool continues from the file's offset: PSYNC asks for what follows it.
      const resumed = this.link.resumeDelay(id, offset, db);
      if (resumed !== null) {
        this.replid = resumed.replid;
        this.link.cached = { replid: resumed.replid, offset: resumed.offset, db };
      }
      return true;
    }
    this.replid2 = id;
    this.secondReplidOffset = offset + 1;
    this.masterReplOffset = offset;
    this.backlog = new Backlog(this.server.config.num("repl-backlog-size"), offset);
    this.replicas.noReplicasSince = Date.now();
    return false;
  }
}

/**
 * The whole of a server's replication, for the layers above it (commands, start). The core
 * holds it as its ReplicationHooks; start installs a Replication there, so this is that object.
 */
export function replicationOf(server: Server): Replication {
  return server.replication as Replication;
}

/** Redis's CMD_TOUCHES_ARBITRARY_KEYS commands (a served blocked client's argv may be empty). */
function touchesArbitraryKeys(name: string): boolean {
  const n = name.length;
  return (n === 4 || n === 9) && (name.toLowerCase() === "scan" || name.toLowerCase() === "randomkey");
}
