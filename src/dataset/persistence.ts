// The dataset file (dir/dbfilename): loading it at start-up, and saving it as Redis 7.0 does:
//
// - SAVE: synchronous, straight from the live databases (nothing else runs meanwhile).
// - BGSAVE and save points (`save <seconds> <changes>`): in the background from a
//   copy-on-write DatasetSnapshot, a chunk per event-loop turn (no fork, clients keep being
//   served; the file is the dataset as it was when the BGSAVE started).
// - SHUTDOWN (and SIGTERM/SIGINT): a final synchronous save when save points are configured
//   or SAVE is asked, unless NOSAVE; a failed save cancels the shutdown unless FORCE.
//
// Every save writes temp-<pid>.rdb, fsyncs it, renames it over the dataset file and fsyncs the
// directory, so the file on disk is always a complete RDB. The RDB carries repl-id /
// repl-offset / repl-stream-db (rdbPopulateSaveInfo) so a restarted replica can PSYNC.

import { usedMemory } from "../core/memory.ts";
import { closeSync, fdatasync, fdatasyncSync, fsync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Server } from "../core/server.ts";
import { beginDatasetLoad, logLoadFailure, type DatasetLoad } from "./load.ts";
import type { Progress } from "../core/progress.ts";
import { DatasetSnapshot } from "./snapshot.ts";
import { replicationAuxFor, savedAccess, savedIdle, SnapshotRdbWriter } from "./snapshot-rdb.ts";
import { rdbVersionFor, rdbWriteOptions, RdbWriter } from "../rdb/writer.ts";
import { Database, NOT_FOUND } from "../store/database.ts";
import { REDIS_COMPAT_VERSION } from "../common/version.ts";

/**
 * Reports a load as it goes: "Loading RDB produced by version ..." as soon as the AUX field is
 * read (not after the load), the RDB's used-mem for INFO, and the progress of a file read.
 */
export function watchLoad(server: Server, load: DatasetLoad, progress: Progress): void {
  load.onAux = (name, value) => {
    if (name === "redis-ver") server.log.notice(`Loading RDB produced by version ${value}`);
    else if (name === "valkey-ver") server.log.notice(`Loading RDB produced by valkey version ${value}`);
    else if (name === "used-mem") progress.rdbUsedMem = Number(value) || 0;
  };
  load.onFileProgress = (bytes) => progress.update(bytes, load.keysLoaded, load.keysExpected);
}

/**
 * Loads the dataset file at start-up. Returns the length of the RDB (an AOF with an RDB
 * preamble has commands after it), or null if the file is unusable (Redis exits).
 * `aofBase`: the RDB of an AOF, whose replication history is the manifest's (dataset/aof-load.ts).
 */
export async function loadDatasetFile(server: Server, path: string, aofBase = false): Promise<number | null> {
  const started = performance.now();
  const fresh = server.dbs.map((db) => new Database(db.id, db.clock));
  // A master drops the keys that expired while it was down; a replica keeps them (its master's
  // DELs will come), as Redis decides in rdbLoad.
  const asMaster = server.replication.masterHost === null && server.config.replicaOf === null;
  const load = beginDatasetLoad(server, fresh, asMaster ? { dropExpiredBefore: Date.now() } : {});
  server.loading = true;
  const progress = server.log.progress("Loading RDB", statSync(path).size);
  server.loadProgress = progress;
  watchLoad(server, load, progress);
  try {
    const ok = await load.feedFile(path, () => true, true);
    if (!ok) return null;
    const result = await load.finish();
    if (result === null) return null;
    for (let i = 0; i < server.dbs.length; i++) server.dbs[i]!.swapContents(result.dbs[i]!);
    for (const [name, f] of result.functions) server.functions.set(name, f);
    server.persistence.lastLoadKeysLoaded = result.keysLoaded;
    server.persistence.lastLoadKeysExpired = result.keysExpired;
    server.log.notice(`Done loading RDB, keys loaded: ${result.keysLoaded}, keys expired: ${result.keysExpired}.`);
    server.log.notice(`DB loaded from disk: ${((performance.now() - started) / 1000).toFixed(3)} seconds`);
    if (!aofBase) server.replication.restoreFromRdbAux(result.aux);
    server.collectAfterLoad();
    return load.bytesParsed;
  } catch (e) {
    logLoadFailure(server, e);
    return null;
  } finally {
    server.loading = false;
    server.loadProgress = null;
    progress.end();
  }
}

// ---------------------------------------------------------------- saving

/** Redis's REDIS_AUTOSYNC_BYTES: with rdb-save-incremental-fsync, fdatasync every 4 MB. */
const AUTOSYNC_BYTES = 4 * 1024 * 1024;
/** Bytes produced per event-loop turn by a BGSAVE (a few milliseconds of work). */
const BGSAVE_CHUNK = 256 * 1024;
/** CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save points wait this long (seconds). */
const BGSAVE_RETRY_DELAY = 5;

interface Bgsave {
  rdb: SnapshotRdbWriter;
  fd: number;
  tmp: string;
  target: string;
  startedMs: number;
  bytes: number;
  sinceSync: number;
  /** An incremental fdatasync is running in the thread pool (at most one at a time). */
  syncing: boolean;
  progress: Progress;
  /** Called when the running fdatasync completes (the fd must not be closed under it). */
  afterSync: (() => void) | null;
  dirtyBefore: number;
  /** The replication offset the snapshot holds. */
  replOffset: number;
  aborted: boolean;
}

interface SaveState {
  bgsave: Bgsave | null;
  /** BGSAVE asked while it could not start (inside EXEC): started by the next cron. */
  scheduled: boolean;
  /** Unix seconds of the last BGSAVE attempt (lastbgsave_try). */
  lastBgsaveTry: number;
}

/** Each server's save state (dataset-layer state the core does not know, keyed by the Server). */
const states = new WeakMap<Server, SaveState>();

function stateOf(server: Server): SaveState {
  let s = states.get(server);
  if (!s) {
    s = { bgsave: null, scheduled: false, lastBgsaveTry: 0 };
    states.set(server, s);
  }
  return s;
}

/** Whether a BGSAVE is running. */
export function bgsaveInProgress(server: Server): boolean {
  return stateOf(server).bgsave !== null;
}

/** current_save_keys_processed / current_save_keys_total for INFO persistence. */
export function saveProgress(server: Server): { processed: number; total: number } {
  const b = stateOf(server).bgsave;
  return b ? { processed: b.rdb.keysWritten, total: b.rdb.keysTotal } : { processed: 0, total: 0 };
}

function datasetPath(server: Server): string {
  return resolve(process.cwd(), server.config.str("dbfilename"));
}

const STRERROR: Record<string, string> = {
  EISDIR: "Is a directory",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  ENOSPC: "No space left on device",
  EROFS: "Read-only file system",
  EDQUOT: "Disk quota exceeded",
  EIO: "Input/output error",
  EMFILE: "Too many open files",
  EEXIST: "File exists",
  ENOTDIR: "Not a directory",
  EFBIG: "File too large",
};

/** An I/O error as C's strerror would word it (what Redis logs). */
export function strerror(e: unknown): string {
  const code = (e as { code?: string }).code;
  return (code && STRERROR[code]) ?? (e as Error).message;
}

function fsyncDir(path: string): void {
  const fd = openSync(dirname(path), "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function writeAll(fd: number, buf: Buffer, start: number, end: number): void {
  let p = start;
  while (p < end) p += writeSync(fd, buf, p, end - p);
}

/** fsync, close, rename over the target, fsync the directory (the atomic end of every save). */
export function commitFile(fd: number, tmp: string, target: string): void {
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, target);
  fsyncDir(target);
}

export function discardTemp(fd: number, tmp: string): void {
  if (fd >= 0) {
    try {
      closeSync(fd);
    } catch {}
  }
  try {
    unlinkSync(tmp);
  } catch {}
}

/** The RDB of the whole live dataset, written synchronously to `path` (Redis's rdbSave). */
export function writeDatasetFile(server: Server, path: string): void {
  const name = `temp-${process.pid}.rdb`;
  const tmp = resolve(dirname(path), name);
  let fd = -1;
  try {
    fd = openSync(tmp, "w", 0o644);
  } catch (e) {
    throw new Error(`Failed opening the temp RDB file ${name} (in server root dir ${process.cwd()}) for saving: ${strerror(e)}`);
  }
  let op = "rdbSaveRio";
  // Synchronous, like Redis's SAVE: the progress shows in the log (and on a terminal) only.
  const progress = server.log.progress("Saving", -1, true);
  try {
    const incremental = server.config.bool("rdb-save-incremental-fsync");
    const w = new RdbWriter({ ...rdbWriteOptions(server.config), rdbVersion: rdbVersionFor(server.dbs) }, 4 * 1024 * 1024);
    let sinceSync = 0;
    const sink = (buf: Buffer, start: number, end: number) => {
      writeAll(fd, buf, start, end);
      sinceSync += end - start;
      if (incremental && sinceSync >= AUTOSYNC_BYTES) {
        fdatasyncSync(fd);
        sinceSync = 0;
      }
    };
    w.header({ redisVersion: REDIS_COMPAT_VERSION, ctime: Date.now() / 1000, usedMem: usedMemory(server), repl: replicationAuxFor(server) });
    for (const lib of server.functions.values()) w.functionLibrary(lib.code);
    const drainAt = 2 * 1024 * 1024;
    let written = 0;
    let keysWritten = 0;
    const keysTotal = server.totalKeys();
    const access = savedAccess(server);
    const clock = server.accessClock;
    for (const db of server.dbs) {
      if (db.size === 0) continue;
      w.selectDb(db.id, db.size, db.expiresSize);
      for (let s = db.nextSlot(0); s !== NOT_FOUND; s = db.nextSlot(s + 1)) {
        const field = access === null ? 0 : db.ks.lruAt(s);
        w.keyValue(db.keyAt(s), db.peekValueAt(s), db.expireAt(s), access === "lru" ? savedIdle(clock, field) : -1, access === "lfu" ? clock.lfuCounter(field) : -1);
        keysWritten++;
        if (w.pos >= drainAt) {
          written += w.pos;
          w.drainTo(sink);
          progress.update(written, keysWritten, keysTotal);
        }
      }
    }
    w.end();
    w.drainTo(sink);
    op = "fsync";
    commitFile(fd, tmp, path);
    fd = -1;
  } catch (e) {
    discardTemp(fd, tmp);
    throw new Error(`Write error saving DB on disk(${op}): ${strerror(e)}`);
  } finally {
    progress.end();
  }
}

/** After a successful save (rdbSave / backgroundSaveDoneHandler). */
function savedOk(server: Server, dirtyBefore: number | null, replOffset: number): void {
  const p = server.persistence;
  p.lastSaveReplOffset = replOffset;
  server.dirty = dirtyBefore === null ? 0 : Math.max(0, server.dirty - dirtyBefore);
  p.lastSaveTime = Math.floor(Date.now() / 1000);
  p.lastBgsaveStatus = "ok";
}

/** SAVE: a synchronous save. Returns false (and logs why) if it failed. */
export function saveSync(server: Server): boolean {
  const path = datasetPath(server);
  const replOffset = server.replication.masterReplOffset;
  try {
    writeDatasetFile(server, path);
  } catch (e) {
    // (A failed SAVE leaves rdb_last_bgsave_status alone, as in Redis.)
    server.log.warning((e as Error).message);
    return false;
  }
  server.log.notice("DB saved on disk");
  savedOk(server, null, replOffset);
  return true;
}

type BgsaveStart = "started" | "in-progress" | "busy";

/**
 * Starts a background save (rdbSaveBackground). "in-progress" when one already runs,
 * "busy" when another snapshot (a full sync being served) holds the dataset.
 */
export function startBgsave(server: Server): BgsaveStart {
  const st = stateOf(server);
  if (st.bgsave) return "in-progress";
  if (server.dbs.some((db) => db.snapshot !== null)) return "busy";
  server.persistence.saves++;
  st.lastBgsaveTry = Math.floor(Date.now() / 1000);
  const target = datasetPath(server);
  const name = `temp-${process.pid}-bg.rdb`;
  const tmp = resolve(dirname(target), name);
  let fd: number;
  try {
    fd = openSync(tmp, "w", 0o644);
  } catch (e) {
    // As with a fork child that fails: BGSAVE was started, the error shows in the log and INFO.
    server.persistence.lastBgsaveStatus = "err";
    server.log.warning(`Failed opening the temp RDB file ${name} (in server root dir ${process.cwd()}) for saving: ${strerror(e)}`);
    server.log.warning("Background saving error");
    return "started";
  }
  const snapshot = new DatasetSnapshot(server.dbs);
  let rdb: SnapshotRdbWriter;
  try {
    rdb = new SnapshotRdbWriter(server, snapshot, replicationAuxFor(server));
  } catch (e) {
    snapshot.detach();
    discardTemp(fd, tmp);
    throw e;
  }
  const progress = server.log.progress("Background saving", -1, true);
  const job: Bgsave = { rdb, fd, tmp, target, startedMs: Date.now(), bytes: 0, sinceSync: 0, syncing: false, progress, afterSync: null, dirtyBefore: server.dirty, replOffset: server.replication.masterReplOffset, aborted: false };
  st.bgsave = job;
  st.scheduled = false;
  server.persistence.bgsaveInProgressSince = job.startedMs;
  server.log.notice(`Background saving started by pid ${process.pid}`);
  setImmediate(() => pumpBgsave(server, job));
  return "started";
}

function pumpBgsave(server: Server, job: Bgsave): void {
  if (job.aborted) return;
  const incremental = server.config.bool("rdb-save-incremental-fsync");
  let more: boolean;
  try {
    more = job.rdb.step(BGSAVE_CHUNK, (buf, start, end) => {
      writeAll(job.fd, buf, start, end);
      job.bytes += end - start;
      job.sinceSync += end - start;
      // Incremental fsync off the event loop: a synchronous one would hold clients up.
      if (incremental && job.sinceSync >= AUTOSYNC_BYTES && !job.syncing) {
        job.syncing = true;
        job.sinceSync = 0;
        fdatasync(job.fd, () => {
          job.syncing = false;
          const next = job.afterSync;
          job.afterSync = null;
          next?.();
        });
      }
    });
  } catch (e) {
    finishBgsave(server, job, strerror(e));
    return;
  }
  job.progress.update(job.bytes, job.rdb.keysWritten, job.rdb.keysTotal);
  if (more) {
    // rdb-key-save-delay: the keys just written owe a pause (Redis's child sleeps per key).
    const pause = job.rdb.takePause();
    if (pause > 0) setTimeout(() => pumpBgsave(server, job), pause);
    else setImmediate(() => pumpBgsave(server, job));
    return;
  }
  whenSynced(job, () => {
    if (job.aborted) return;
    // The last fsync in the thread pool too (without rdb-save-incremental-fsync it covers the
    // whole file: seconds on a slow disk, with every client waiting if it were synchronous).
    job.syncing = true;
    fsync(job.fd, (err) => {
      job.syncing = false;
      const next = job.afterSync;
      job.afterSync = null;
      if (next) {
        next(); // aborted meanwhile: the file is being discarded
        return;
      }
      if (job.aborted) return;
      if (err) {
        finishBgsave(server, job, strerror(err));
        return;
      }
      try {
        closeSync(job.fd);
        job.fd = -1;
        renameSync(job.tmp, job.target);
        fsyncDir(job.target);
      } catch (e) {
        finishBgsave(server, job, strerror(e));
        return;
      }
      finishBgsave(server, job, null);
    });
  });
}

/** Runs `f` once no fdatasync of the job is in flight. */
function whenSynced(job: Bgsave, f: () => void): void {
  if (job.syncing) job.afterSync = f;
  else f();
}

/** Closes and removes the job's temp file (after a running fdatasync, if any). */
function discardJobFile(job: Bgsave): void {
  const fd = job.fd;
  job.fd = -1;
  try {
    unlinkSync(job.tmp);
  } catch {}
  if (fd < 0) return;
  whenSynced(job, () => {
    try {
      closeSync(fd);
    } catch {}
  });
}

function finishBgsave(server: Server, job: Bgsave, error: string | null): void {
  job.progress.end();
  const st = stateOf(server);
  if (st.bgsave === job) st.bgsave = null;
  const p = server.persistence;
  p.bgsaveInProgressSince = 0;
  p.lastBgsaveTimeSec = Math.floor((Date.now() - job.startedMs) / 1000);
  if (error !== null) {
    job.rdb.abort();
    discardJobFile(job);
    server.log.warning(`Write error saving DB on disk: ${error}`);
    server.log.warning("Background saving error");
    p.lastBgsaveStatus = "err";
    return;
  }
  server.log.notice("DB saved on disk");
  server.log.notice("Background saving terminated with success");
  savedOk(server, job.dirtyBefore, job.replOffset);
}

/** BGSAVE inside EXEC: "Background saving scheduled", started by the next cron. */
export function scheduleBgsave(server: Server): void {
  stateOf(server).scheduled = true;
}

/** Stops a BGSAVE in progress (SHUTDOWN, FLUSHALL): its temp file is removed. */
export function abortBgsave(server: Server): void {
  const st = stateOf(server);
  const job = st.bgsave;
  if (!job) return;
  job.aborted = true;
  st.bgsave = null;
  job.progress.end();
  job.rdb.abort();
  discardJobFile(job);
  server.persistence.bgsaveInProgressSince = 0;
}

/**
 * After FLUSHALL (flushAllDataAndResetRDB): a BGSAVE in progress is stopped, and with save
 * points configured the (now empty) dataset is saved at once.
 */
export function flushAllSave(server: Server): void {
  abortBgsave(server);
  if (server.config.savePoints.length > 0) saveSync(server);
}

/** Save points (serverCron): a BGSAVE when one of them is reached. Called 10 times a second. */
export function persistenceCron(server: Server): void {
  const st = stateOf(server);
  if (st.bgsave || server.loading) return;
  if (st.scheduled) {
    if (!server.dbs.some((db) => db.snapshot !== null)) startBgsave(server);
    return;
  }
  const points = server.config.savePoints;
  if (points.length === 0) return;
  const now = Math.floor(Date.now() / 1000);
  const p = server.persistence;
  for (const sp of points) {
    if (server.dirty >= sp.changes && now - p.lastSaveTime > sp.seconds && (now - st.lastBgsaveTry > BGSAVE_RETRY_DELAY || p.lastBgsaveStatus === "ok")) {
      if (server.dbs.some((db) => db.snapshot !== null)) return; // a full sync is being served: next time
      server.log.notice(`${sp.changes} changes in ${sp.seconds} seconds. Saving...`);
      startBgsave(server);
      return;
    }
  }
}

export interface ShutdownFlags {
  save: boolean;
  nosave: boolean;
  force: boolean;
  /** Do not wait for lagging replicas (commands/server/shutdown.ts). */
  now: boolean;
}

/**
 * The persistence part of Redis's finishShutdown: abort a BGSAVE, then save if save points are
 * configured (or SAVE was asked) unless NOSAVE. Returns false when the shutdown must be
 * cancelled (the save failed without FORCE).
 */
export function shutdownSave(server: Server, flags: ShutdownFlags): boolean {
  if (bgsaveInProgress(server)) {
    server.log.warning("There is a child saving an .rdb. Killing it!");
    abortBgsave(server);
  }
  if ((server.config.savePoints.length > 0 && !flags.nosave) || flags.save) {
    server.log.notice("Saving the final RDB snapshot before exiting.");
    server.notifySupervisor("STATUS=Saving the final RDB snapshot\n");
    if (!saveSync(server)) {
      if (flags.force) {
        server.log.warning("Error trying to save the DB. Exit anyway.");
      } else {
        server.log.warning("Error trying to save the DB, can't exit.");
        server.notifySupervisor("STATUS=Error trying to save the DB, can't exit.\n");
        server.log.warning("Errors trying to shut down the server. Check the logs for more information.");
        return false;
      }
    }
  }
  return true;
}

/** Flags for a shutdown by signal, from shutdown-on-sigterm / shutdown-on-sigint. */
export function signalShutdownFlags(server: Server, signal: "SIGTERM" | "SIGINT"): ShutdownFlags {
  const words = server.config.str(signal === "SIGTERM" ? "shutdown-on-sigterm" : "shutdown-on-sigint").split(" ");
  return { save: words.includes("save"), nosave: words.includes("nosave"), force: words.includes("force"), now: words.includes("now") };
}
