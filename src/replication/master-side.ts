// The master side of replication: serving our own replicas (chained replicas, or any replica
// after we are promoted). Redis's master half of replication.c, without fork():
//
// - PSYNC / SYNC: partial resync from the backlog when the replica's history (replid, or
//   replid2 up to second_replid_offset) and offset allow it (+CONTINUE), else a full sync.
// - Full sync: replicas waiting together share one job. The job takes a copy-on-write
//   snapshot of the dataset (no blocking copy), serializes it as an RDB in chunks between
//   other work, and sends it disk-based ($<len>, after writing a file) or diskless ($EOF
//   mark, streamed) per repl-diskless-sync and the replica's capa. The stream produced after
//   the snapshot point is queued per replica and follows the RDB.
// - The stream: bytes we originate (as a master) or forward (as a replica, our master's bytes
//   unchanged) go to the backlog and to every online replica.
// - REPLCONF ACK bookkeeping, PINGs, newlines while preparing, timeouts, output buffer limits,
//   WAIT, min-replicas-to-write, the write pause of a coordinated FAILOVER (master-failover.ts).

import { clientInfoLine } from "../core/client-info.ts";
import { closeSync, openSync, read, unlinkSync, write } from "node:fs";
import { randomBytes } from "node:crypto";
import { encodeCommand } from "../protocol/reply-parser.ts";
import { ClientKind, type Client } from "../core/client.ts";
import { PausePurpose, PauseType } from "../core/client-pause.ts";
import { Database } from "../store/database.ts";
import type { SocketConnection } from "../core/connection.ts";
import type { Server } from "../core/server.ts";
import { Backlog } from "./backlog.ts";
import { DatasetSnapshot } from "../dataset/snapshot.ts";
import { createSnapshotRdb, type RdbChunkSource } from "../dataset/snapshot-rdb.ts";
import type { Replication } from "./replication.ts";

export const enum ReplicaState {
  /** Waiting for a full-sync job to start (gets newlines meanwhile). */
  WaitBgsaveStart = "wait_bgsave",
  /** In a job: its RDB is being produced (stream bytes are queued). */
  WaitBgsaveEnd = "wait_bgsave_end",
  /** The RDB is being sent. */
  SendBulk = "send_bulk",
  /** Diskless RDB sent; waiting for the first ACK before streaming (Redis 7). */
  WaitFirstAck = "wait_first_ack",
  Online = "online",
}

/** INFO's state names (replstateToString). */
export function stateName(s: ReplicaState): string {
  switch (s) {
    case ReplicaState.WaitBgsaveStart:
    case ReplicaState.WaitBgsaveEnd:
      return "wait_bgsave";
    case ReplicaState.SendBulk:
      return "send_bulk";
    case ReplicaState.WaitFirstAck:
    case ReplicaState.Online:
      return "online";
  }
}

export class ReplicaSession {
  state: ReplicaState = ReplicaState.WaitBgsaveStart;
  listeningPort = 0;
  announcedIp = "";
  capaEof = false;
  capaPsync2 = false;
  ackOffset = 0;
  /** Unix ms of the last ACK (or of the sync start). */
  ackTime = Date.now();
  /** The replica used SYNC (no ACKs expected). */
  prePsync = false;
  /** Stream bytes produced since the snapshot point, waiting for the RDB to be sent. */
  pending: Buffer[] = [];
  pendingBytes = 0;
  /** When the output went past the soft limit (ms), 0 if below. */
  softLimitSince = 0;
  /** REPLCONF rdb-only 1: the RDB and nothing else (redis-cli --rdb); closed once sent. */
  rdbOnly = false;
  /** REPLCONF rdb-filter-only: which parts of the RDB are wanted (Redis's slave_req). */
  excludeData = false;
  excludeFunctions = false;
  /** Bytes of the RDB possibly still queued on the socket when it went online. */
  rdbQueuedAtOnline = 0;
  /** Disk-based transfer: the buffer file chunks are read into. */
  readBuf: Buffer | null = null;
  /** Diskless transfer progress, for repl-timeout (ms of the last write the socket took). */
  lastTransferProgress = 0;
  lastQueued = 0;
  /** Unix ms when the replica asked for a sync (diskless delay). */
  readonly since = Date.now();

  constructor(readonly client: Client) {}

  get conn(): SocketConnection {
    return this.client.conn as SocketConnection;
  }

  name(): string {
    const ip = this.announcedIp || this.client.conn?.remoteAddress || "?";
    return `${ip}:${this.listeningPort}`;
  }

  /** The address INFO and ROLE show: the announced ip-address, else the peer's. */
  get host(): string {
    return this.announcedIp || this.client.conn?.remoteAddress || "";
  }

  get port(): number {
    return this.listeningPort;
  }

  /** Online for INFO and FAILOVER (a diskless replica waiting for its first ACK included). */
  get online(): boolean {
    return this.state === ReplicaState.Online || this.state === ReplicaState.WaitFirstAck;
  }

  /** Redis's slave_req: replicas may share an RDB only when they want the same parts. */
  get req(): number {
    return (this.excludeData ? 1 : 0) | (this.excludeFunctions ? 2 : 0);
  }
}

/** A full sync being served to one or more replicas. */
interface SyncJob {
  replicas: ReplicaSession[];
  diskless: boolean;
  req: number;
  /** The RDB is complete (disk-based: being sent from the file). */
  produced: boolean;
  /** master_repl_offset at the snapshot point: +FULLRESYNC <replid> <offset>. */
  offset: number;
  source: RdbChunkSource;
  mark: Buffer | null;
  tmpFile: string | null;
  fd: number;
  fileSize: number;
  /** Disk-based: replicas still reading the file. */
  readers: number;
  /** File operations under way in the thread pool, and a close waiting for them. */
  inflight: number;
  /** Bytes being written to the file (reused from chunk to chunk). */
  ioBuf: Buffer;
  closeWhenIdle: boolean;
  startedAt: number;
}

/** Chunk size for RDB production; writes wait while a replica has more than this queued. */
const CHUNK = 512 * 1024;

export class MasterSide {
  readonly replicas = new Set<ReplicaSession>();
  private job: SyncJob | null = null;
  /** The db the stream last SELECTed (-1: emit SELECT before the next command). */
  streamDb = -1;
  /** Commands collected while a transaction (EXEC) or a multi-op command runs. */
  private collecting: Array<{ db: number; argv: string[] }> | null = null;
  private collectDepth = 0;
  /** WAIT: clients blocked until enough replicas acknowledged an offset. */
  private waiting: Array<{ client: Client; offset: number; replicas: number; timer: ReturnType<typeof setTimeout> | null }> = [];
  private getAckPending = false;
  private cronLoops = 0;
  /** Unix ms since when there are no replicas (repl-backlog-ttl). */
  noReplicasSince = Date.now();
  /** Each client's offset after its last command that propagated (Redis's woff), for WAIT. */
  private readonly lastWriteOffset = new WeakMap<Client, number>();

  constructor(
    private readonly server: Server,
    private readonly repl: Replication,
  ) {}

  private get log() {
    return this.server.log;
  }

  // ------------------------------------------------------------------ PSYNC / SYNC

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
    const session = (c.replica as ReplicaSession | null) ?? new ReplicaSession(c);
    c.replica = session;
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
      if (this.tryPartialResync(session, argv[1]!, offset)) {
        this.server.stats.syncPartialOk++;
        return;
      }
      if (argv[1] !== "?") this.server.stats.syncPartialErr++;
    } else {
      // SYNC: an old implementation (or redis-cli --replica): no REPLCONF ACKs expected.
      session.prePsync = true;
    }
    this.server.stats.syncFull++;
    c.kind = ClientKind.Replica;
    session.state = ReplicaState.WaitBgsaveStart;
    this.addReplica(session);
    if (this.replicas.size === 1 && repl.backlog === null) {
      // A new backlog starts a new history: fresh id, no id2.
      repl.replid = newId();
      repl.clearReplicationId2();
      this.createBacklog();
      this.log.notice(`Replication backlog created, my new replication IDs are '${repl.replid}' and '${repl.replid2}'`);
    }
    const job = this.job;
    if (job && !job.diskless && !job.produced) {
      // CASE 1 of Redis's syncCommand: a disk-based RDB is being produced; attach to it if
      // another replica of it is collecting the stream since the snapshot point.
      const peer = job.replicas.find((r) => this.replicas.has(r) && r.state === ReplicaState.WaitBgsaveEnd && (!r.rdbOnly || session.rdbOnly));
      if (peer && (Number(session.capaEof) & Number(peer.capaEof)) === Number(peer.capaEof) && session.req === peer.req) {
        session.state = ReplicaState.WaitBgsaveEnd;
        session.pending = session.rdbOnly ? [] : [...peer.pending];
        session.pendingBytes = session.rdbOnly ? 0 : peer.pendingBytes;
        if (!session.prePsync) session.conn.write(Buffer.from(`+FULLRESYNC ${repl.replid} ${job.offset}\r\n`));
        job.replicas.push(session);
        this.log.notice("Waiting for end of BGSAVE for SYNC");
      } else {
        this.log.notice("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
      }
      return;
    }
    if (job && job.diskless && !job.produced) {
      this.log.notice("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC");
      return;
    }
    // Disk-based syncs start at once; diskless ones wait repl-diskless-sync-delay for others.
    this.maybeStartJob();
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
    if (!this.replicas.has(s)) {
      this.replicas.add(s);
      this.server.log.verbose(`Replica ${s.name()} added`);
    }
  }

  private createBacklog(): void {
    this.repl.backlog = new Backlog(this.server.config.num("repl-backlog-size"), this.repl.masterReplOffset);
  }

  // ------------------------------------------------------------------ full sync jobs

  private maybeStartJob(): void {
    if (this.job) return;
    const waitingAll = [...this.replicas].filter((s) => s.state === ReplicaState.WaitBgsaveStart);
    if (waitingAll.length === 0) return;
    // One RDB for the replicas that want the same parts of it (the first one's requirements).
    const req = waitingAll[0]!.req;
    const waiting = waitingAll.filter((s) => s.req === req);
    const cfg = this.server.config;
    const allEof = waiting.every((s) => s.capaEof);
    // A filtered RDB is always sent over the socket (it must not replace a dataset file).
    const diskless = (cfg.bool("repl-diskless-sync") || req !== 0) && allEof;
    if (diskless) {
      const delayMs = cfg.num("repl-diskless-sync-delay") * 1000;
      const max = cfg.num("repl-diskless-sync-max-replicas");
      const oldest = Math.min(...waiting.map((s) => s.since));
      if (Date.now() - oldest < delayMs && !(max > 0 && waiting.length >= max)) return;
    }
    if (this.server.dbs.some((db) => db.watcher !== null)) return; // another snapshot runs: next cron
    this.startJob(waiting, diskless, req);
  }

  private startJob(replicas: ReplicaSession[], diskless: boolean, req: number): void {
    const repl = this.repl;
    const offset = repl.masterReplOffset;
    const first = replicas[0]!;
    // Filtered RDBs (rdb-filter-only) leave the keys out: a snapshot of nothing.
    const dbs = first.excludeData ? this.server.dbs.map((db) => new Database(db.id)) : this.server.dbs;
    const snapshot = new DatasetSnapshot(dbs);
    const source = createSnapshotRdb(this.server, snapshot, offset, !first.excludeFunctions);
    const job: SyncJob = { replicas, diskless, req, produced: false, offset, source, mark: null, tmpFile: null, fd: -1, fileSize: 0, readers: 0, inflight: 0, ioBuf: EMPTY, closeWhenIdle: false, startedAt: Date.now() };
    this.job = job;
    this.log.notice(`Starting BGSAVE for SYNC with target: ${diskless ? "replicas sockets" : "disk"}`);
    // The stream after this point must follow the RDB: force a SELECT first.
    this.streamDb = -1;
    for (const s of replicas) {
      s.state = ReplicaState.WaitBgsaveEnd;
      s.pending = [];
      s.pendingBytes = 0;
      if (!s.prePsync) s.conn.write(Buffer.from(`+FULLRESYNC ${repl.replid} ${offset}\r\n`));
    }
    if (diskless) {
      job.mark = Buffer.from(randomBytes(20).toString("hex"), "latin1");
      const now = Date.now();
      for (const s of replicas) {
        // Still "wait_bgsave" for INFO while the RDB streams, as with Redis's fork child.
        s.lastTransferProgress = now;
        s.lastQueued = 0;
        s.conn.write(Buffer.concat([Buffer.from("$EOF:"), job.mark, Buffer.from("\r\n")]));
      }
    } else {
      job.tmpFile = `temp-replica-sync-${process.pid}-${Date.now()}.rdb`;
      job.fd = openSync(job.tmpFile, "w+", 0o644);
      this.log.notice(`Background saving started by pid ${process.pid}`);
    }
    this.pumpJob();
  }

  /** Produces RDB chunks while the slowest target can take them; yields between chunks. */
  private pumpJob(): void {
    const job = this.job;
    if (!job) return;
    const targets = job.replicas.filter((s) => this.replicas.has(s));
    if (targets.length === 0) {
      if (job.diskless) this.log.warning("Diskless rdb transfer, last replica dropped, killing fork child.");
      this.endJob(job);
      return;
    }
    if (job.diskless && targets.some((s) => s.conn.pendingBytes > 4 * CHUNK)) {
      // Backpressure: resume when the slowest socket drains (checked again shortly).
      setTimeout(() => this.pumpJob(), 5);
      return;
    }
    // The bytes are a view of the writer's buffer: sockets copy only what they cannot send at
    // once, so a chunk the kernel takes costs no allocation. The file of a disk-based sync is
    // written off the event loop (a write() that the kernel throttles must not hold clients).
    let more: boolean;
    let toFile: Buffer | null = null;
    try {
      more = job.source.step(CHUNK, (bytes) => {
        if (job.diskless) {
          for (const s of targets) s.conn.write(bytes);
          this.server.stats.netReplOutputBytes += bytes.length * targets.length;
        } else {
          // One buffer per job, reused: a fresh 512 KB per chunk is external memory that
          // makes the collector run full collections of the whole dataset (~50 ms each).
          if (job.ioBuf.length < bytes.length) job.ioBuf = Buffer.allocUnsafe(Math.max(bytes.length, CHUNK));
          bytes.copy(job.ioBuf, 0, 0, bytes.length);
          toFile = job.ioBuf.subarray(0, bytes.length);
        }
      });
    } catch (e) {
      this.log.warning(`SYNC failed. BGSAVE child returned an error: ${(e as Error).message}`);
      for (const s of targets) this.dropReplica(s, "RDB production failed");
      this.endJob(job);
      return;
    }
    if (toFile !== null) {
      const chunk: Buffer = toFile;
      this.fileIo(job, (done) => writeFully(job.fd, chunk, done), (err) => {
        if (err) {
          this.log.warning(`SYNC failed. Write error saving DB on disk: ${err.message}`);
          for (const s of job.replicas) if (this.replicas.has(s)) this.dropReplica(s, "RDB write failed");
          this.endJob(job);
          return;
        }
        job.fileSize += chunk.length;
        if (more) this.pumpJob();
        else this.rdbComplete(job);
      });
      return;
    }
    if (more) {
      setImmediate(() => this.pumpJob());
      return;
    }
    this.rdbComplete(job);
  }

  /**
   * An operation on a job's file in the thread pool. The file is never closed under it: a
   * close asked meanwhile happens when the last operation is done (fd numbers are reused).
   */
  private fileIo(job: SyncJob, op: (done: (err: Error | null) => void) => void, then: (err: Error | null) => void): void {
    job.inflight++;
    op((err) => {
      job.inflight--;
      if (job.closeWhenIdle && job.inflight === 0) this.releaseJobFile(job);
      if (job.fd < 0 && !err) return; // released meanwhile: nothing more to do with it
      then(err);
    });
  }

  /** The whole RDB is produced (and, disk-based, in the file). */
  private rdbComplete(job: SyncJob): void {
    const targets = job.replicas.filter((s) => this.replicas.has(s));
    // The RDB is complete.
    job.produced = true;
    if (job.diskless) {
      this.log.notice("Background RDB transfer terminated with success");
      for (const s of targets) {
        s.conn.write(job.mark!);
        if (s.rdbOnly) {
          this.rdbOnlyDone(s);
          continue;
        }
        // Redis 7: stream only after the replica's first ACK (it has loaded the RDB).
        s.state = ReplicaState.WaitFirstAck;
        this.log.notice(`Streamed RDB transfer with replica ${s.name()} succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming`);
      }
      this.endJob(job);
    } else {
      // No fsync: the file only carries the RDB to the replicas and is removed after (a
      // synchronous fsync of tens of MB would hold every client up).
      this.log.notice(`Background saving terminated with success`);
      this.endJob(job, false);
      // The file stays open until its last reader is done (a later job has a file of its own).
      job.readers = targets.length;
      for (const s of targets) this.sendRdbFile(s, job);
      if (targets.length === 0) this.releaseJobFile(job);
    }
    // Replicas that arrived during the job get the next one.
    setImmediate(() => this.maybeStartJob());
  }


  /** Disk-based: "$<len>\r\n" then the file, read in chunks as the socket drains. */
  private sendRdbFile(s: ReplicaSession, job: SyncJob): void {
    s.state = ReplicaState.SendBulk;
    s.conn.write(Buffer.from(`$${job.fileSize}\r\n`));
    let pos = 0;
    const step = () => {
      if (!this.replicas.has(s) || s.client.conn?.closed) return this.fileSendDone(job);
      if (pos < job.fileSize) {
        if (s.conn.pendingBytes >= 2 * CHUNK) {
          setTimeout(step, 2); // the socket drains
          return;
        }
        // Read off the event loop into this replica's buffer (reused: the socket copies only
        // what it cannot send at once).
        const buf = (s.readBuf ??= Buffer.allocUnsafe(CHUNK));
        this.fileIo(
          job,
          (done) => read(job.fd, buf, 0, Math.min(CHUNK, job.fileSize - pos), pos, (err, n) => {
            if (!err && n > 0) {
              s.conn.write(buf.subarray(0, n));
              this.server.stats.netReplOutputBytes += n;
              pos += n;
            }
            done(err ?? (n > 0 ? null : new Error("unexpected end of the RDB file")));
          }),
          (err) => {
            if (err) {
              this.log.warning(`Read error sending DB to replica: ${err.message}`);
              this.dropReplica(s, "read error");
              this.fileSendDone(job);
              return;
            }
            step();
          },
        );
        return;
      }
      if (s.rdbOnly) this.rdbOnlyDone(s);
      else {
        this.log.notice(`Synchronization with replica ${s.name()} succeeded`);
        this.putOnline(s);
      }
      this.fileSendDone(job);
    };
    step();
  }

  private fileSendDone(job: SyncJob): void {
    if (--job.readers <= 0) this.releaseJobFile(job);
  }

  private releaseJobFile(job: SyncJob): void {
    if (job.fd < 0) return;
    if (job.inflight > 0) {
      job.closeWhenIdle = true;
      return;
    }
    try {
      closeSync(job.fd);
      unlinkSync(job.tmpFile!);
    } catch {}
    job.fd = -1;
  }

  private endJob(job: SyncJob, closeFile = true): void {
    job.source.abort();
    if (this.job === job) this.job = null;
    if (closeFile) this.releaseJobFile(job);
  }

  /** An rdb-only replica got its RDB: it is closed once the bytes are out. */
  private rdbOnlyDone(s: ReplicaSession): void {
    this.log.notice(`RDB transfer completed, rdb only replica (${s.name()}) should be disconnected asap`);
    this.replicas.delete(s);
    s.pending = [];
    s.pendingBytes = 0;
    s.conn.closeAfterFlush();
  }

  /** The RDB is on the replica: send what accumulated since the snapshot, then stream. */
  private putOnline(s: ReplicaSession): void {
    s.state = ReplicaState.Online;
    s.ackTime = Date.now();
    s.rdbQueuedAtOnline = s.conn.pendingBytes;
    for (const b of s.pending) s.conn.write(b);
    this.server.stats.netReplOutputBytes += s.pendingBytes;
    s.pending = [];
    s.pendingBytes = 0;
  }

  // ------------------------------------------------------------------ the stream

  /** Bytes of the replication stream: backlog and replicas. The caller moves the offset. */
  feed(bytes: Buffer): void {
    this.repl.backlog?.append(bytes);
    if (this.replicas.size === 0) return;
    for (const s of this.replicas) {
      if (s.state === ReplicaState.Online) {
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
    return this.repl.backlog !== null || this.replicas.size > 0;
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

  /** Flushes collected commands, wrapped in MULTI/EXEC when there is more than one (Redis 7.0). */
  endCollect(): void {
    if (--this.collectDepth > 0) return;
    const ops = this.collecting ?? [];
    this.collecting = null;
    if (ops.length === 0) return;
    if (ops.length === 1) {
      this.emit(ops[0]!.db, ops[0]!.argv);
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
    const s = (c.replica as ReplicaSession | null) ?? new ReplicaSession(c);
    c.replica = s;
    switch (option) {
      case "listening-port": {
        if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) return "ERR value is not an integer or out of range";
        s.listeningPort = Number(value);
        return null;
      }
      case "ip-address":
        if (value.length >= 46) return `ERR REPLCONF ip-address provided by replica instance is too long: ${value.length} bytes`;
        s.announcedIp = value;
        return null;
      case "capa":
        // Capabilities this master does not know are ignored.
        if (value.toLowerCase() === "eof") s.capaEof = true;
        else if (value.toLowerCase() === "psync2") s.capaPsync2 = true;
        return null;
      case "rdb-only": {
        if (!/^-?\d+$/.test(value)) return "ERR value is not an integer or out of range";
        const n = Number(value);
        if (n < 0 || n > 1) return "ERR value is out of range, value must between 0 and 1"; // sic, Redis's text
        s.rdbOnly = n === 1;
        return null;
      }
      case "rdb-filter-only": {
        const filters = value.split(/\s+/).filter((f) => f.length > 0);
        s.excludeData = true;
        s.excludeFunctions = true;
        for (const f of filters) {
          if (f.toLowerCase() === "functions") s.excludeFunctions = false;
          else return `ERR Unsupported rdb-filter-only option: ${f}`;
        }
        return null;
      }
      default:
        return `ERR Unrecognized REPLCONF option: ${option}`;
    }
  }

  onAck(c: Client, args: string[]): void {
    const s = c.replica as ReplicaSession | null;
    if (!s || c.kind !== ClientKind.Replica) return;
    const offset = Number(args[0]);
    if (Number.isSafeInteger(offset) && offset > s.ackOffset) s.ackOffset = offset;
    s.ackTime = Date.now();
    if (s.state === ReplicaState.WaitFirstAck) this.putOnline(s);
    this.checkWaiting();
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
    if (this.repl.masterHost === null && this.replicas.size > 0 && this.cronLoops % cfg.num("repl-ping-replica-period") === 0 && !this.writesPaused) {
      this.emitUnselected(["PING"]);
    }
    // Newlines to replicas waiting for their RDB (keeps their handshake timeout at bay); none
    // to a diskless target, whose socket carries the RDB.
    for (const s of this.replicas) {
      const presync = s.state === ReplicaState.WaitBgsaveStart || (s.state === ReplicaState.WaitBgsaveEnd && !this.job?.diskless);
      if (presync) s.conn.write(NEWLINE);
    }
    const timeoutMs = cfg.num("repl-timeout") * 1000;
    for (const s of [...this.replicas]) {
      if (s.state === ReplicaState.Online || s.state === ReplicaState.WaitFirstAck) {
        if (s.prePsync) continue;
        if (now - s.ackTime > timeoutMs) {
          this.log.warning(`Disconnecting timedout replica (streaming sync): ${s.name()}`);
          this.dropReplica(s, "timeout");
        }
        continue;
      }
      // A diskless transfer that makes no progress would hold every replica of the job.
      if (s.state === ReplicaState.WaitBgsaveEnd && this.job?.diskless && this.job.replicas.includes(s)) {
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
    if (this.replicas.size > 0) this.noReplicasSince = now;
    const ttl = cfg.num("repl-backlog-ttl");
    if (this.replicas.size === 0 && ttl > 0 && this.repl.backlog && this.repl.masterHost === null && now - this.noReplicasSince > ttl * 1000) {
      this.repl.replid = newId();
      this.repl.clearReplicationId2();
      this.repl.backlog = null;
      this.log.notice(`Replication backlog freed after ${ttl} seconds without connected replicas.`);
    }
    this.maybeStartJob();
    for (const s of [...this.replicas]) this.checkOutputLimits(s);
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
    if (s.state === ReplicaState.Online) {
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
    if (!this.replicas.delete(s)) return;
    s.pending = [];
    s.client.conn?.close();
    this.checkWaiting();
  }

  /** A replica's connection closed. */
  onClientClosed(c: Client): void {
    const s = c.replica as ReplicaSession | null;
    if (!s) return;
    if (this.replicas.delete(s)) this.log.notice(`Connection with replica ${s.name()} lost.`);
    this.checkWaiting();
  }

  /** Closes all replica links (role change, new history): they reconnect and PSYNC. */
  disconnectAll(): void {
    for (const s of [...this.replicas]) this.dropReplica(s, "role change");
    if (this.job) this.endJob(this.job);
  }

  // ------------------------------------------------------------------ WAIT, min-replicas

  /**
   * WAIT numreplicas timeout: until that many replicas acknowledged the client's last write
   * (Redis's c->woff: the offset right after its last command that propagated anything).
   */
  wait(c: Client, numReplicas: number, timeoutMs: number): void {
    const offset = this.lastWriteOffset.get(c) ?? 0;
    const acked = this.countAcked(offset);
    if (acked >= numReplicas || c.multi || c.denyBlocking) {
      c.reply.int(acked);
      return;
    }
    const entry = { client: c, offset, replicas: numReplicas, timer: null as ReturnType<typeof setTimeout> | null };
    if (timeoutMs > 0) entry.timer = setTimeout(() => this.finishWait(entry), timeoutMs);
    this.waiting.push(entry);
    c.blocked = true;
    // Ask the replicas where they are (once per event loop iteration, like Redis's beforeSleep).
    if (!this.getAckPending) {
      this.getAckPending = true;
      setImmediate(() => {
        this.getAckPending = false;
        if (this.replicas.size) this.emitUnselected(["REPLCONF", "GETACK", "*"]);
      });
    }
  }

  /** REPLCONF GETACK * to the replicas now (a SHUTDOWN waiting for lagging replicas). */
  requestAcks(): void {
    // As a replica the stream is our master's, forwarded unchanged: nothing of ours enters it.
    if (this.repl.masterHost === null && this.replicas.size) this.emitUnselected(["REPLCONF", "GETACK", "*"]);
  }

  /** After a client's command: if it moved the stream, WAIT will wait for that offset. */
  noteClientWrite(c: Client, offsetBefore: number): void {
    const offset = this.repl.masterReplOffset;
    if (offset !== offsetBefore) this.lastWriteOffset.set(c, offset);
  }

  private countAcked(offset: number): number {
    let n = 0;
    for (const s of this.replicas) if (s.online && s.ackOffset >= offset) n++;
    return n;
  }

  private checkWaiting(): void {
    if (this.waiting.length === 0) return;
    for (const w of [...this.waiting]) {
      if (this.countAcked(w.offset) >= w.replicas || w.client.conn?.closed) this.finishWait(w);
    }
  }

  private finishWait(w: (typeof this.waiting)[number]): void {
    const i = this.waiting.indexOf(w);
    if (i < 0) return;
    this.waiting.splice(i, 1);
    if (w.timer) clearTimeout(w.timer);
    w.client.blocked = false;
    w.client.reply.int(this.countAcked(w.offset));
    w.client.flush();
    w.client.resumeInput();
  }

  /**
   * Replicas with lag <= min-replicas-max-lag (for min-replicas-to-write), in whole seconds
   * as Redis's refreshGoodSlavesCount.
   */
  goodReplicas(): number {
    const maxLag = this.server.config.num("min-replicas-max-lag");
    const nowSec = Math.floor(Date.now() / 1000);
    let n = 0;
    for (const s of this.replicas) if (s.online && nowSec - Math.floor(s.ackTime / 1000) <= maxLag) n++;
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
    for (const s of this.replicas) if (s.host.toLowerCase() === host.toLowerCase() && s.port === port) return s;
    return null;
  }

  /** A replica that acknowledged everything up to `offset` (FAILOVER to any replica). */
  caughtUpReplica(offset: number): ReplicaSession | null {
    for (const s of this.replicas) if (s.ackOffset === offset && s.host) return s;
    return null;
  }

  // ------------------------------------------------------------------ introspection

  infoLines(): string[] {
    const lines: string[] = [];
    let i = 0;
    const now = Date.now();
    for (const s of this.replicas) {
      const ip = s.announcedIp || s.client.conn?.remoteAddress || "";
      const online = s.state === ReplicaState.Online || s.state === ReplicaState.WaitFirstAck;
      const lag = online ? Math.floor(now / 1000) - Math.floor(s.ackTime / 1000) : 0;
      lines.push(`slave${i++}:ip=${ip},port=${s.listeningPort},state=${stateName(s.state)},offset=${s.ackOffset},lag=${lag}`);
    }
    return lines;
  }

  roleEntries(): Array<[string, number, number]> {
    const out: Array<[string, number, number]> = [];
    for (const s of this.replicas) {
      if (s.state !== ReplicaState.Online && s.state !== ReplicaState.WaitFirstAck) continue;
      out.push([s.announcedIp || s.client.conn?.remoteAddress || "", s.listeningPort, s.ackOffset]);
    }
    return out;
  }
}

const NEWLINE = Buffer.from("\n");
const EMPTY = Buffer.alloc(0);

/** fs.write until every byte is written (a short write is not an error). */
function writeFully(fd: number, bytes: Buffer, done: (err: Error | null) => void, off = 0): void {
  write(fd, bytes, off, bytes.length - off, null, (err, n) => {
    if (err) return done(err);
    if (off + n < bytes.length) return writeFully(fd, bytes, done, off + n);
    done(null);
  });
}

function newId(): string {
  return randomBytes(20).toString("hex");
}
