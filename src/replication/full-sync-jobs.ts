// Full syncs served to our replicas, without fork(): replicas waiting together share one job.
// The job takes a copy-on-write snapshot of the dataset (no blocking copy), serializes it as an
// RDB in chunks between other work, and sends it disk-based ($<len>, after writing a file read
// back off the event loop) or diskless ($EOF mark, streamed to the sockets) per
// repl-diskless-sync and the replicas' capa. The stream produced after the snapshot point is
// queued per replica (ReplicaSession.pending) and follows the RDB.

import { randomBytes } from "node:crypto";
import type { Server } from "../core/server.ts";
import { Database } from "../store/database.ts";
import { DatasetSnapshot } from "../dataset/snapshot.ts";
import { createSnapshotRdb, type RdbChunkSource } from "../dataset/snapshot-rdb.ts";
import type { Replication } from "./replication.ts";
import type { ReplicaServing } from "./replica-serving.ts";
import { ReplicaState, type ReplicaSession } from "./replica-session.ts";
import { SyncRdbFile } from "./sync-rdb-file.ts";

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
  /** Diskless: the EOF mark around the RDB. */
  mark: Buffer | null;
  /** Disk-based: the file the RDB is written to, then sent from. */
  file: SyncRdbFile | null;
}

/** Chunk size for RDB production; writes wait while a replica has more than this queued. */
const CHUNK = 512 * 1024;

export class FullSyncJobs {
  /** The job under way (one at a time; replicas arriving meanwhile wait for the next). */
  job: SyncJob | null = null;

  constructor(
    private readonly server: Server,
    private readonly repl: Replication,
    private readonly serving: ReplicaServing,
  ) {}

  private get log() {
    return this.server.log;
  }

  /** A replica that needs a full sync: it joins the RDB being produced if it can, else waits for a job. */
  enqueue(session: ReplicaSession): void {
    const job = this.job;
    if (job && !job.diskless && !job.produced) {
      // CASE 1 of Redis's syncCommand: a disk-based RDB is being produced; attach to it if
      // another replica of it is collecting the stream since the snapshot point.
      const peer = job.replicas.find((r) => this.serving.sessions.has(r) && r.state === ReplicaState.WaitBgsaveEnd && (!r.rdbOnly || session.rdbOnly));
      if (peer && (Number(session.capaEof) & Number(peer.capaEof)) === Number(peer.capaEof) && session.req === peer.req) {
        session.state = ReplicaState.WaitBgsaveEnd;
        session.pending = session.rdbOnly ? [] : [...peer.pending];
        session.pendingBytes = session.rdbOnly ? 0 : peer.pendingBytes;
        this.serving.announceFullSync(session, job.offset);
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
    this.maybeStart();
  }

  /** Starts a job for the replicas waiting, once a diskless one waited its delay (from the cron too). */
  maybeStart(): void {
    if (this.job) return;
    const waitingAll = [...this.serving.sessions].filter((s) => s.state === ReplicaState.WaitBgsaveStart);
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
    if (this.server.dbs.some((db) => db.snapshot !== null)) return; // another snapshot runs: next cron
    this.start(waiting, diskless, req);
  }

  private start(replicas: ReplicaSession[], diskless: boolean, req: number): void {
    const repl = this.repl;
    const offset = repl.masterReplOffset;
    const first = replicas[0]!;
    // Filtered RDBs (rdb-filter-only) leave the keys out: a snapshot of nothing.
    const dbs = first.excludeData ? this.server.dbs.map((db) => new Database(db.id, db.clock)) : this.server.dbs;
    const snapshot = new DatasetSnapshot(dbs);
    const source = createSnapshotRdb(this.server, snapshot, offset, !first.excludeFunctions);
    const job: SyncJob = { replicas, diskless, req, produced: false, offset, source, mark: null, file: null };
    this.job = job;
    this.log.notice(`Starting BGSAVE for SYNC with target: ${diskless ? "replicas sockets" : "disk"}`);
    // The stream after this point must follow the RDB: force a SELECT first.
    this.serving.streamDb = -1;
    for (const s of replicas) {
      s.state = ReplicaState.WaitBgsaveEnd;
      s.pending = [];
      s.pendingBytes = 0;
      this.serving.announceFullSync(s, offset);
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
      job.file = new SyncRdbFile(CHUNK);
      this.log.notice(`Background saving started by pid ${process.pid}`);
    }
    this.pump();
  }

  /** Produces RDB chunks while the slowest target can take them; yields between chunks. */
  private pump(): void {
    const job = this.job;
    if (!job) return;
    const targets = job.replicas.filter((s) => this.serving.sessions.has(s));
    if (targets.length === 0) {
      if (job.diskless) this.log.warning("Diskless rdb transfer, last replica dropped, killing fork child.");
      this.end(job);
      return;
    }
    if (job.diskless && targets.some((s) => s.conn.pendingBytes > 4 * CHUNK)) {
      // Backpressure: resume when the slowest socket drains (checked again shortly).
      setTimeout(() => this.pump(), 5);
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
          toFile = job.file!.stage(bytes);
        }
      });
    } catch (e) {
      this.log.warning(`SYNC failed. BGSAVE child returned an error: ${(e as Error).message}`);
      for (const s of targets) this.serving.dropReplica(s, "RDB production failed");
      this.end(job);
      return;
    }
    if (toFile !== null) {
      const chunk: Buffer = toFile;
      job.file!.append(chunk, (err) => {
        if (err) {
          this.log.warning(`SYNC failed. Write error saving DB on disk: ${err.message}`);
          for (const s of job.replicas) if (this.serving.sessions.has(s)) this.serving.dropReplica(s, "RDB write failed");
          this.end(job);
          return;
        }
        if (more) {
          const pause = job.source.takePause();
          if (pause > 0) setTimeout(() => this.pump(), pause);
          else this.pump();
        }
        else this.rdbComplete(job);
      });
      return;
    }
    if (more) {
      // rdb-key-save-delay: the keys just written owe a pause (Redis's child sleeps per key).
      const pause = job.source.takePause();
      if (pause > 0) setTimeout(() => this.pump(), pause);
      else setImmediate(() => this.pump());
      return;
    }
    this.rdbComplete(job);
  }

  /** The whole RDB is produced (and, disk-based, in the file). */
  private rdbComplete(job: SyncJob): void {
    const targets = job.replicas.filter((s) => this.serving.sessions.has(s));
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
      this.end(job);
    } else {
      // No fsync: the file only carries the RDB to the replicas and is removed after (a
      // synchronous fsync of tens of MB would hold every client up).
      this.log.notice(`Background saving terminated with success`);
      this.end(job, false);
      // The file stays open until its last reader is done (a later job has a file of its own).
      const file = job.file!;
      file.readers = targets.length;
      for (const s of targets) this.sendRdbFile(s, file);
      if (targets.length === 0) file.release();
    }
    // Replicas that arrived during the job get the next one.
    setImmediate(() => this.maybeStart());
  }

  /** Disk-based: "$<len>\r\n" then the file, read in chunks as the socket drains. */
  private sendRdbFile(s: ReplicaSession, file: SyncRdbFile): void {
    s.state = ReplicaState.SendBulk;
    s.conn.write(Buffer.from(`$${file.size}\r\n`));
    let pos = 0;
    const step = () => {
      if (!this.serving.sessions.has(s) || s.client.conn?.closed) return file.readerDone();
      if (pos < file.size) {
        if (s.conn.pendingBytes >= 2 * CHUNK) {
          setTimeout(step, 2); // the socket drains
          return;
        }
        // Read off the event loop into this replica's buffer (reused: the socket copies only
        // what it cannot send at once).
        const buf = (s.readBuf ??= Buffer.allocUnsafe(CHUNK));
        file.readAt(
          buf,
          Math.min(CHUNK, file.size - pos),
          pos,
          (n) => {
            s.conn.write(buf.subarray(0, n));
            this.server.stats.netReplOutputBytes += n;
            pos += n;
          },
          (err) => {
            if (err) {
              this.log.warning(`Read error sending DB to replica: ${err.message}`);
              this.serving.dropReplica(s, "read error");
              file.readerDone();
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
        this.serving.putOnline(s);
      }
      file.readerDone();
    };
    step();
  }

  /** The job is over (its file stays for the replicas still reading it, unless closeFile). */
  end(job: SyncJob, closeFile = true): void {
    job.source.abort();
    if (this.job === job) this.job = null;
    if (closeFile) job.file?.release();
  }

  /** An rdb-only replica got its RDB: it is closed once the bytes are out. */
  private rdbOnlyDone(s: ReplicaSession): void {
    this.log.notice(`RDB transfer completed, rdb only replica (${s.name()}) should be disconnected asap`);
    this.serving.sessions.delete(s);
    s.pending = [];
    s.pendingBytes = 0;
    s.conn.closeAfterFlush();
  }
}
