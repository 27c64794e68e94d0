// Serving our own replicas (chained replicas, or any replica after we are promoted): Redis's
// master half of replication.c. The replicas themselves are ReplicaSessions; this is what they
// share:
//
// - PSYNC / SYNC: partial resync from the backlog when the replica's history (replid, or
//   replid2 up to second_replid_offset) and offset allow it (+CONTINUE), else a full sync
//   (full-sync-jobs.ts).
// - The stream: bytes we originate (as a master) or forward (as a replica, our master's bytes
//   unchanged) go to the backlog and to every online replica.
// - REPLCONF ACK bookkeeping, PINGs, newlines while preparing, timeouts, output buffer limits,
//   WAIT (wait-for-acks.ts), min-replicas-to-write, the write pause of a coordinated FAILOVER
//   (master-failover.ts) or a SHUTDOWN waiting for its replicas.

import { clientInfoLine } from "../core/client-info.ts";
import { randomBytes } from "node:crypto";
import { encodeCommand } from "../protocol/reply-parser.ts";
import { ClientKind, type Client } from "../core/client.ts";
import { PausePurpose, PauseType } from "../core/client-pause.ts";
import type { Server } from "../core/server.ts";
import { Backlog } from "./backlog.ts";
import type { Replication } from "./replication.ts";
import { FullSyncJobs } from "./full-sync-jobs.ts";
import { ReplicaSession, ReplicaState, stateName } from "./replica-session.ts";
import { WaitForAcks } from "./wait-for-acks.ts";

export class ReplicaServing {
  /** Our replicas, from their SYNC / PSYNC until their link closes. */
  readonly sessions = new Set<ReplicaSession>();
  private readonly fullSyncs: FullSyncJobs;
  /** Clients in WAIT, and each client's last write offset. */
  readonly waits: WaitForAcks;
  /** The db the stream last SELECTed (-1: emit SELECT before the next command). */
  streamDb = -1;
  /** Commands collected while a transaction (EXEC) or a multi-op command runs. */
  private collecting: Array<{ db: number; argv: string[] }> | null = null;
  private collectDepth = 0;
  private cronLoops = 0;
  /** Unix ms since when there are no replicas (repl-backlog-ttl). */
  noReplicasSince = Date.now();

  constructor(
    private readonly server: Server,
    private readonly repl: Replication,
  ) {
    this.fullSyncs = new FullSyncJobs(server, repl, this);
    this.waits = new WaitForAcks(this);
  }

  private get log() {
    return this.server.log;
  }

  // ------------------------------------------------------------------ PSYNC / SYNC

  /**
   * Dual channel (Valkey 8): the stream since each RDB channel's snapshot point, kept until its
   * main channel PSYNCs from there (or for DUAL_CHANNEL_GRACE_MS), by the RDB channel's client id.
   */
  private readonly waitingPsync = new Map<number, PinnedStream>();

  /**
   * A full sync's snapshot point reached this replica: +FULLRESYNC (PSYNC), nothing (SYNC), or
   * for a dual-channel RDB channel $ENDOFF (the offset its main channel will PSYNC from, our
   * history, the db, its client id), after which the stream is kept for that PSYNC.
   */
  announceFullSync(s: ReplicaSession, offset: number): void {
    const repl = this.repl;
    if (s.rdbChannel) {
      s.conn.write(Buffer.from(`$ENDOFF:${offset} ${repl.replid} 0 ${s.client.id}\r\n`));
      this.waitingPsync.set(s.client.id, { offset, replid: repl.replid, chunks: [], bytes: 0, since: Date.now() });
    } else if (!s.prePsync) s.conn.write(Buffer.from(`+FULLRESYNC ${repl.replid} ${offset}\r\n`));
  }

  /** REPLCONF set-rdb-client-id <id> on a dual-channel main channel. */
  private setRdbClientId(c: Client, value: string): string | null {
    const id = Number(value);
    if (!/^\d+$/.test(value) || !this.waitingPsync.has(id)) return `ERR Unrecognized RDB client id ${value}`;
    ReplicaSession.of(c).rdbClientId = id;
    return null;
  }

  /**
   * The main channel's PSYNC from its RDB channel's snapshot point: +CONTINUE, the stream kept
   * since then, and the stream from now on while the replica loads (bg_transfer, online at its
   * first ACK). False when it does not continue that snapshot (the usual checks follow).
   */
  private continueDualChannel(s: ReplicaSession, replid: string, offset: number): boolean {
    const pin = this.waitingPsync.get(s.rdbClientId);
    if (!pin || replid.toLowerCase() !== pin.replid || pin.replid !== this.repl.replid || offset !== pin.offset + 1) return false;
    this.waitingPsync.delete(s.rdbClientId);
    const c = s.client;
    c.kind = ClientKind.Replica;
    s.state = ReplicaState.BgTransfer;
    s.ackTime = Date.now();
    this.addReplica(s);
    s.conn.write(Buffer.from(`+CONTINUE ${this.repl.replid}\r\n`));
    for (const b of pin.chunks) s.conn.write(b);
    this.server.stats.netReplOutputBytes += pin.bytes;
    this.log.notice(`Partial resynchronization request from ${s.name()} accepted (dual channel). Sending ${pin.bytes} bytes of stream starting from offset ${offset}.`);
    return true;
  }

  /** PSYNC <replid> <offset> [FAILOVER] or SYNC from a client that wants to become our replica. */
  syncCommand(c: Client, argv: string[]): void {
    if (c.kind === ClientKind.Replica) return;
    const repl = this.repl;
    const isPsync = argv[0]!.toLowerCase() === "psync";
    // A coordinated failover: our master asks us to take over (PSYNC <our replid> <offset> FAILOVER).
    if (isPsync && argv.length > 3 && argv[3]!.toLowerCase() === "failover") {
      this.log.warning(`Failover request received for replid ${argv[1]}.`);
      if (repl.masterHost === null) {
        c.reply.error("ERR PSYNC FAILOVER can't be sent to a master.");
        return;
      }
      if (argv[1]!.toLowerCase() !== repl.replid) {
        c.reply.error("ERR PSYNC FAILOVER replid must match my replid.");
        return;
      }
      repl.link.unsetMaster();
      this.log.notice(`MASTER MODE enabled (failover request from '${clientInfoLine(c)}')`);
    }
    if (repl.failover.active) {
      c.reply.error("NOMASTERLINK Can't SYNC while failing over");
      return;
    }
    if (repl.masterHost !== null && !repl.isLinkUp()) {
      c.reply.error("NOMASTERLINK Can't SYNC while not connected with my master");
      return;
    }
    if (c.reply.length > 0 || (c.conn && c.conn.pendingBytes > 0)) {
      c.reply.error("ERR SYNC and PSYNC are invalid with pending output");
      return;
    }
    const session = ReplicaSession.of(c);
    if (session.req !== 0 && !session.capaEof) {
      c.reply.error("ERR Filtered replica requires EOF capability");
      return;
    }
    this.log.notice(`Replica ${session.name()} asks for synchronization`);
    if (isPsync) {
      const offset = Number(argv[2]);
      if (!/^-?\d+$/.test(argv[2]!) || !Number.isSafeInteger(offset)) {
        c.reply.error("ERR value is not an integer or out of range");
        this.log.warning(`Replica ${session.name()} asks for synchronization but with a wrong offset`);
        return;
      }
      if ((session.rdbClientId >= 0 && this.continueDualChannel(session, argv[1]!, offset)) || this.tryPartialResync(session, argv[1]!, offset)) {
        this.server.stats.syncPartialOk++;
        return;
      }
      if (argv[1] !== "?") this.server.stats.syncPartialErr++;
      // A Valkey 8 replica that can take the snapshot on a second connection is told so; the
      // sync continues there (its RDB channel's SYNC) and on this connection's next PSYNC.
      if (session.capaDualChannel && this.server.config.bool("dual-channel-replication-enabled") && this.server.config.bool("repl-diskless-sync")) {
        this.log.notice(`Replica ${session.name()} is capable of dual channel synchronization, and partial sync isn't possible. Full sync will continue with dedicated RDB channel.`);
        c.conn?.write(Buffer.from("+DUALCHANNELSYNC\r\n"));
        return;
      }
    } else {
      // SYNC: an old implementation (or redis-cli --replica): no REPLCONF ACKs expected.
      session.prePsync = true;
    }
    this.server.stats.syncFull++;
    c.kind = ClientKind.Replica;
    session.state = ReplicaState.WaitBgsaveStart;
    this.addReplica(session);
    if (this.sessions.size === 1 && repl.backlog === null) {
      // A new backlog starts a new history: fresh id, no id2.
      repl.replid = newId();
      repl.clearReplicationId2();
      this.createBacklog();
      this.log.notice(`Replication backlog created, my new replication IDs are '${repl.replid}' and '${repl.replid2}'`);
    }
    this.fullSyncs.enqueue(session);
  }

  private tryPartialResync(s: ReplicaSession, replid: string, offset: number): boolean {
    const repl = this.repl;
    const idMatches = replid.toLowerCase() === repl.replid || (replid.toLowerCase() === repl.replid2 && offset <= repl.secondReplidOffset);
    if (!idMatches) {
      if (replid !== "?") {
        if (replid.toLowerCase() !== repl.replid && replid.toLowerCase() !== repl.replid2) {
          this.log.notice(`Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '${replid}', my replication IDs are '${repl.replid}' and '${repl.replid2}')`);
        } else {
          this.log.notice(`Partial resynchronization not accepted: Requested offset for second ID was ${offset}, but I can reply up to ${repl.secondReplidOffset}`);
        }
      } else this.log.notice(`Full resync requested by replica ${s.name()}`);
      return false;
    }
    const b = repl.backlog;
    if (!b || offset < b.firstByteOffset || offset > b.firstByteOffset + b.histlen) {
      this.log.notice(`Unable to partial resync with replica ${s.name()} for lack of backlog (Replica request was: ${offset}).`);
      if (offset > repl.masterReplOffset) this.log.warning(`Warning: replica ${s.name()} tried to PSYNC with an offset that is greater than the master replication offset.`);
      return false;
    }
    const c = s.client;
    c.kind = ClientKind.Replica;
    s.state = ReplicaState.Online;
    s.ackTime = Date.now();
    this.addReplica(s);
    s.conn.write(Buffer.from(s.capaPsync2 ? `+CONTINUE ${repl.replid}\r\n` : "+CONTINUE\r\n"));
    let sent = 0;
    for (const part of b.readFrom(offset)) {
      s.conn.write(part);
      sent += part.length;
    }
    this.server.stats.netReplOutputBytes += sent;
    this.log.notice(`Partial resynchronization request from ${s.name()} accepted. Sending ${sent} bytes of backlog starting from offset ${offset}.`);
    return true;
  }

  private addReplica(s: ReplicaSession): void {
    if (!this.sessions.has(s)) {
      this.sessions.add(s);
      this.server.log.verbose(`Replica ${s.name()} added`);
    }
  }

  private createBacklog(): void {
    this.repl.backlog = new Backlog(this.server.config.num("repl-backlog-size"), this.repl.masterReplOffset);
  }

  // ------------------------------------------------------------------ full sync jobs
  /** The RDB is on the replica: send what accumulated since the snapshot, then stream. */
  putOnline(s: ReplicaSession): void {
    s.state = ReplicaState.Online;
    s.ackTime = Date.now();
    s.rdbQueuedAtOnline = s.conn.pendingBytes;
    for (const b of s.pending) s.conn.write(b);
    this.server.stats.netReplOutputBytes += s.pendingBytes;
    s.pending = [];
    s.pendingBytes = 0;
  }

  // ------------------------------------------------------------------ the stream

  /**
   * Bytes of the replication stream: backlog, AOF and replicas. The caller moved the offset
   * (`endOffset`: the offset after these bytes).
   */
  feed(bytes: Buffer, endOffset = this.repl.masterReplOffset): void {
    this.repl.backlog?.append(bytes);
    this.repl.aof.append(bytes, endOffset, this.repl.replid);
    for (const pin of this.waitingPsync.values()) {
      pin.chunks.push(bytes);
      pin.bytes += bytes.length;
    }
    if (this.sessions.size === 0) return;
    for (const s of this.sessions) {
      if (s.state === ReplicaState.Online || s.state === ReplicaState.BgTransfer) {
        s.conn.write(bytes);
        this.server.stats.netReplOutputBytes += bytes.length;
      } else if (s.state !== ReplicaState.WaitBgsaveStart && !s.rdbOnly) {
        s.pending.push(bytes);
        s.pendingBytes += bytes.length;
      }
      this.checkOutputLimits(s);
    }
  }

  /** Whether commands we execute must be written to the stream at all. */
  get streaming(): boolean {
    // The AOF records the stream too: a master with appendonly yes generates it (dataset/aof.ts).
    return this.repl.backlog !== null || this.sessions.size > 0 || this.repl.aof.accepting;
  }

  /** A command we originate (as a master): encoded, with a SELECT when the db changes. */
  propagate(db: number, argv: string[]): void {
    if (this.collecting) {
      this.collecting.push({ db, argv });
      return;
    }
    this.emit(db, argv);
  }

  private emit(db: number, argv: string[]): void {
    if (!this.streaming) return;
    if (db !== this.streamDb) {
      this.emitRaw(encodeCommand(["SELECT", String(db)]));
      this.streamDb = db;
    }
    this.emitRaw(encodeCommand(argv));
  }

  /**
   * A command fed with the currently selected db, whatever it is (Redis feeds PING and
   * REPLCONF GETACK with server.slaveseldb: no SELECT precedes them, even when it is -1).
   */
  private emitUnselected(argv: string[]): void {
    if (!this.streaming) return;
    this.emitRaw(encodeCommand(argv));
  }

  /** DEBUG REPLICATE: a command into the stream as is, in the db it has selected. */
  feedAsIs(argv: string[]): void {
    this.emitUnselected(argv);
  }

  private emitRaw(bytes: Buffer): void {
    this.repl.masterReplOffset += bytes.length;
    this.feed(bytes);
  }

  /** Starts collecting propagated commands (EXEC, or a command that propagates several). */
  beginCollect(): void {
    if (this.collectDepth++ === 0) this.collecting = [];
  }

  /**
   * Flushes collected commands, wrapped in MULTI/EXEC when there is more than one (Redis 7.0),
   * unless `bare` (a command that touches arbitrary keys, run directly); `drop`: discarded.
   */
  endCollect(bare = false, drop = false): void {
    if (--this.collectDepth > 0) return;
    const ops = this.collecting ?? [];
    this.collecting = null;
    if (ops.length === 0 || drop) return;
    if (ops.length === 1 || bare) {
      for (const op of ops) this.emit(op.db, op.argv);
      return;
    }
    this.emit(ops[0]!.db, ["MULTI"]);
    for (const op of ops) this.emit(op.db, op.argv);
    this.emit(this.streamDb, ["EXEC"]);
  }

  // ------------------------------------------------------------------ replica feedback

  /**
   * REPLCONF <option> <value> in a replica's handshake. Returns null when accepted, else the
   * error to reply (Redis's texts).
   */
  onReplconf(c: Client, option: string, value: string): string | null {
    if (option === "set-rdb-client-id") return this.setRdbClientId(c, value);
    return ReplicaSession.of(c).configure(option, value);
  }

  onAck(c: Client, args: string[]): void {
    const s = c.replica as ReplicaSession | null;
    if (!s || c.kind !== ClientKind.Replica) return;
    const offset = Number(args[0]);
    if (Number.isSafeInteger(offset) && offset > s.ackOffset) s.ackOffset = offset;
    s.ackTime = Date.now();
    if (s.state === ReplicaState.WaitFirstAck) this.putOnline(s);
    if (s.state === ReplicaState.BgTransfer) {
      s.state = ReplicaState.Online;
      this.log.notice(`Synchronization with replica ${s.name()} succeeded`);
    }
    this.waits.check();
  }

  // ------------------------------------------------------------------ cron, limits, drops

  /** Once a second. */
  cron(): void {
    this.cronLoops++;
    const cfg = this.server.config;
    const now = Date.now();
    // PING replicas every repl-ping-replica-period: only as a master (a replica forwards its
    // master's stream unchanged; its own PINGs would alter the offsets), and not while the
    // writes are paused for a failover (the offsets must stay still).
    if (this.repl.masterHost === null && this.sessions.size > 0 && this.cronLoops % cfg.num("repl-ping-replica-period") === 0 && !this.writesPaused) {
      this.emitUnselected(["PING"]);
    }
    // Newlines to replicas waiting for their RDB (keeps their handshake timeout at bay); none
    // to a diskless target, whose socket carries the RDB.
    for (const s of this.sessions) {
      const presync = s.state === ReplicaState.WaitBgsaveStart || (s.state === ReplicaState.WaitBgsaveEnd && !this.fullSyncs.job?.diskless);
      if (presync) s.conn.write(NEWLINE);
    }
    // Dual channel: a snapshot's stream whose main channel never PSYNCed (Valkey's grace
    // period), or that grew past the replica output-buffer limit, is let go (its PSYNC then
    // gets +DUALCHANNELSYNC and the replica starts over).
    const hard = cfg.outputBufferLimits.replica.hard;
    for (const [id, pin] of this.waitingPsync) {
      if (now - pin.since > DUAL_CHANNEL_GRACE_MS) this.log.warning(`Replica main channel failed to establish PSYNC within the grace period (${DUAL_CHANNEL_GRACE_MS / 1000} seconds). Freeing RDB client ${id}.`);
      else if (hard > 0 && pin.bytes > hard) this.log.warning(`The stream kept for RDB client ${id} passed the replica output buffer limit: freed.`);
      else continue;
      this.waitingPsync.delete(id);
    }
    const timeoutMs = cfg.num("repl-timeout") * 1000;
    for (const s of [...this.sessions]) {
      if (s.state === ReplicaState.Online || s.state === ReplicaState.WaitFirstAck) {
        if (s.prePsync) continue;
        if (now - s.ackTime > timeoutMs) {
          this.log.warning(`Disconnecting timedout replica (streaming sync): ${s.name()}`);
          this.dropReplica(s, "timeout");
        }
        continue;
      }
      // A diskless transfer that makes no progress would hold every replica of the job.
      if (s.state === ReplicaState.WaitBgsaveEnd && this.fullSyncs.job?.diskless && this.fullSyncs.job.replicas.includes(s)) {
        const queued = s.conn.pendingBytes;
        if (queued === 0 || queued < s.lastQueued) s.lastTransferProgress = now;
        s.lastQueued = queued;
        if (now - s.lastTransferProgress > timeoutMs) {
          this.log.warning(`Disconnecting timedout replica (full sync): ${s.name()}`);
          this.dropReplica(s, "timeout");
        }
      }
    }
    // Free the backlog of a master without replicas after repl-backlog-ttl.
    if (this.sessions.size > 0) this.noReplicasSince = now;
    const ttl = cfg.num("repl-backlog-ttl");
    if (this.sessions.size === 0 && ttl > 0 && this.repl.backlog && this.repl.masterHost === null && now - this.noReplicasSince > ttl * 1000) {
      this.repl.replid = newId();
      this.repl.clearReplicationId2();
      this.repl.backlog = null;
      this.log.notice(`Replication backlog freed after ${ttl} seconds without connected replicas.`);
    }
    this.fullSyncs.maybeStart();
    for (const s of [...this.sessions]) this.checkOutputLimits(s);
  }

  /**
   * client-output-buffer-limit replica, as Redis's checkClientOutputBufferLimits: what the
   * replica has not been sent of the stream (queued since the snapshot point during a full
   * sync, or on the socket once online; the RDB itself does not count). Hard limit: at once;
   * soft limit: when exceeded for more than its seconds without a break.
   */
  private checkOutputLimits(s: ReplicaSession): void {
    const limit = this.server.config.outputBufferLimits.replica;
    if (limit.hard === 0 && limit.soft === 0) return;
    let used = s.pendingBytes;
    if (s.state === ReplicaState.Online || s.state === ReplicaState.BgTransfer) {
      const queued = s.conn.pendingBytes;
      // The RDB's tail may still be queued ahead of the stream: never count it.
      if (queued < s.rdbQueuedAtOnline) s.rdbQueuedAtOnline = queued;
      used += queued - s.rdbQueuedAtOnline;
    }
    const hard = limit.hard > 0 && used >= limit.hard;
    let soft = limit.soft > 0 && used >= limit.soft;
    if (soft) {
      const nowSec = Math.floor(Date.now() / 1000);
      if (!s.softLimitSince) {
        s.softLimitSince = nowSec;
        soft = false;
      } else if (nowSec - s.softLimitSince <= limit.softSeconds) soft = false;
    } else s.softLimitSince = 0;
    if (hard || soft) {
      this.log.warning(`Client ${clientInfoLine(s.client)} scheduled to be closed ASAP for overcoming of output buffer limits.`);
      this.dropReplica(s, "output buffer limit");
    }
  }

  dropReplica(s: ReplicaSession, _why: string): void {
    if (!this.sessions.delete(s)) return;
    s.pending = [];
    s.client.conn?.close();
    this.waits.check();
  }

  /** A replica's connection closed. */
  onClientClosed(c: Client): void {
    const s = c.replica as ReplicaSession | null;
    if (!s) return;
    if (this.sessions.delete(s)) this.log.notice(`Connection with replica ${s.name()} lost.`);
    this.waits.check();
  }

  /** Closes all replica links (role change, new history): they reconnect and PSYNC. */
  disconnectAll(): void {
    for (const s of [...this.sessions]) this.dropReplica(s, "role change");
    if (this.fullSyncs.job) this.fullSyncs.end(this.fullSyncs.job);
  }

  // ------------------------------------------------------------------ WAIT, min-replicas

  /** WAIT numreplicas timeout (as a master). */
  wait(c: Client, numReplicas: number, timeoutMs: number): void {
    this.waits.wait(c, numReplicas, timeoutMs);
  }

  /** REPLCONF GETACK * to the replicas now (a SHUTDOWN waiting for lagging replicas). */
  requestAcks(): void {
    // As a replica the stream is our master's, forwarded unchanged: nothing of ours enters it.
    if (this.repl.masterHost === null && this.sessions.size) this.sendGetAck();
  }

  /** REPLCONF GETACK * into the stream, in whatever db it has selected. */
  sendGetAck(): void {
    this.emitUnselected(["REPLCONF", "GETACK", "*"]);
  }

  /**
   * Replicas with lag <= min-replicas-max-lag (for min-replicas-to-write), in whole seconds
   * as Redis's refreshGoodSlavesCount.
   */
  goodReplicas(): number {
    const maxLag = this.server.config.num("min-replicas-max-lag");
    const nowSec = Math.floor(Date.now() / 1000);
    let n = 0;
    for (const s of this.sessions) if (s.online && nowSec - Math.floor(s.ackTime / 1000) <= maxLag) n++;
    return n;
  }

  // ------------------------------------------------------------------ write pause (FAILOVER)

  /**
   * Writes are paused by FAILOVER or SHUTDOWN (their shared purpose of core/client-pause.ts:
   * commands that may replicate wait there, as Redis's BLOCKED_POSTPONE). CLIENT PAUSE is a
   * purpose of its own and does not show here.
   */
  get writesPaused(): boolean {
    return this.server.pause.holds(PausePurpose.Replication);
  }

  pauseWrites(): void {
    this.server.pause.pause(PausePurpose.Replication, Infinity, PauseType.Write);
  }

  /** Ends the pause; the postponed commands run on the next turn, in arrival order. */
  unpauseWrites(): void {
    this.server.pause.unpause(PausePurpose.Replication);
  }

  /** FAILOVER TO host port: the replica with that address (Redis's findReplica). */
  findReplica(host: string, port: number): ReplicaSession | null {
    for (const s of this.sessions) if (s.host.toLowerCase() === host.toLowerCase() && s.port === port) return s;
    return null;
  }

  /** A replica that acknowledged everything up to `offset` (FAILOVER to any replica). */
  caughtUpReplica(offset: number): ReplicaSession | null {
    for (const s of this.sessions) if (s.ackOffset === offset && s.host) return s;
    return null;
  }

  // ------------------------------------------------------------------ introspection

  infoLines(): string[] {
    const lines: string[] = [];
    let i = 0;
    const now = Date.now();
    for (const s of this.sessions) {
      const ip = s.announcedIp || s.client.conn?.remoteAddress || "";
      const online = s.state === ReplicaState.Online || s.state === ReplicaState.WaitFirstAck;
      const lag = online ? Math.floor(now / 1000) - Math.floor(s.ackTime / 1000) : 0;
      lines.push(`slave${i++}:ip=${ip},port=${s.listeningPort},state=${stateName(s.state)},offset=${s.ackOffset},lag=${lag}`);
    }
    return lines;
  }

  roleEntries(): Array<[string, number, number]> {
    const out: Array<[string, number, number]> = [];
    for (const s of this.sessions) {
      if (s.state !== ReplicaState.Online && s.state !== ReplicaState.WaitFirstAck) continue;
      out.push([s.announcedIp || s.client.conn?.remoteAddress || "", s.listeningPort, s.ackOffset]);
    }
    return out;
  }
}

const NEWLINE = Buffer.from("\n");

/** How long the stream since an RDB channel's snapshot waits for its main channel's PSYNC (Valkey's 60 s). */
const DUAL_CHANNEL_GRACE_MS = 60_000;

/** The stream since a dual-channel RDB channel's snapshot point (ReplicaServing.waitingPsync). */
interface PinnedStream {
  offset: number;
  replid: string;
  chunks: Buffer[];
  bytes: number;
  since: number;
}

function newId(): string {
  return randomBytes(20).toString("hex");
}
