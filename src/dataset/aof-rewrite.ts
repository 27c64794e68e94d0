// BGREWRITEAOF (aof.c's rewriteAppendOnlyFileBackground and backgroundRewriteDoneHandler): the
// dataset is written, from a snapshot as BGSAVE does it, as a new AOF base file in
// appenddirname (<appendfilename>.<seq>.base.rdb, an RDB with aof-base=1, or .base.aof in
// command form when aof-use-rdb-preamble is no), then the manifest is rewritten to name it and
// the files it replaces are removed. A redis-server started with appendonly yes on that
// directory loads it. With the AOF on (dataset/aof.ts), a new incr file is opened in the same
// turn as the snapshot is taken, so the base and the incr files after it meet exactly; the
// manifest then names the new base and the incr files from that one on.
// One snapshot runs at a time: while a BGSAVE (or a full sync being served) holds the dataset,
// the rewrite is scheduled and started by the cron once it is free.

import { existsSync, fdatasync, mkdirSync, openSync, readFileSync, unlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { AofCommandWriter } from "./snapshot-aof.ts";
import { SnapshotRdbWriter } from "./snapshot-rdb.ts";
import { DatasetSnapshot } from "./snapshot.ts";
import { bgsaveInProgress, commitFile, discardTemp, strerror, writeAll } from "./persistence.ts";
import type { Server } from "../core/server.ts";
import { aofOf, AofState } from "./aof.ts";

const CHUNK = 256 * 1024;
const AUTOSYNC_BYTES = 4 * 1024 * 1024;

interface RewriteJob {
  writer: { step(maxBytes: number, sink: (buf: Buffer, start: number, end: number) => void): boolean; abort(): void };
  fd: number;
  tmp: string;
  dir: string;
  baseName: string;
  seq: number;
  /** Files of the old manifest, removed once the new one is written. */
  replaced: string[];
  startedMs: number;
  aborted: boolean;
  /** Bytes written since the last fdatasync (aof-rewrite-incremental-fsync), and one is running. */
  sinceSync: number;
  syncing: boolean;
  /** With the AOF on: the incr file opened at the start (the first one after the new base). */
  firstIncr: string | null;
  /** The AOF is on (or waiting for this rewrite): the manifest is the AOF's. */
  withAof: boolean;
}

/** What INFO persistence reports about AOF rewrites. */
interface AofRewriteState {
  job: RewriteJob | null;
  scheduled: boolean;
  rewrites: number;
  lastStatus: "ok" | "err";
  consecutiveFailures: number;
  /** Seconds the last rewrite took, -1 before the first. */
  lastTimeSec: number;
  /** aofRewriteLimited's delay and next allowed time (Unix ms). */
  nextDelayMinutes: number;
  nextRewriteMs: number;
}

/** Each server's rewrite state (dataset-layer state the core does not know, keyed by the Server). */
const states = new WeakMap<Server, AofRewriteState>();

export function aofRewriteState(server: Server): AofRewriteState {
  let s = states.get(server);
  if (!s) states.set(server, (s = { job: null, scheduled: false, rewrites: 0, lastStatus: "ok", consecutiveFailures: 0, lastTimeSec: -1, nextDelayMinutes: 0, nextRewriteMs: 0 }));
  return s;
}

export function aofRewriteInProgress(server: Server): boolean {
  return aofRewriteState(server).job !== null;
}

/** The dataset is held by another snapshot (a BGSAVE, a full sync being served). */
function datasetBusy(server: Server): boolean {
  return bgsaveInProgress(server) || server.dbs.some((db) => db.snapshot !== null);
}

/** The manifest's files: the current base's sequence number and every file it names. */
function readManifest(path: string): { baseSeq: number; files: string[] } {
  if (!existsSync(path)) return { baseSeq: 0, files: [] };
  let baseSeq = 0;
  const files: string[] = [];
  for (const line of readFileSync(path, "latin1").split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== "file" || words.length < 2) continue;
    files.push(words[1]!);
    const seq = Number(words[words.indexOf("seq") + 1]);
    if (words[words.indexOf("type") + 1] === "b" && Number.isFinite(seq)) baseSeq = Math.max(baseSeq, seq);
  }
  return { baseSeq, files };
}

/**
 * Starts a rewrite (rewriteAppendOnlyFileBackground): "started", "scheduled" when the dataset
 * is busy (or `schedule`: inside EXEC), "in-progress", or "error" (the directory cannot be made).
 */
export function startAofRewrite(server: Server, schedule = false): "started" | "scheduled" | "in-progress" | "error" {
  const st = aofRewriteState(server);
  if (st.job) return "in-progress";
  if (schedule || datasetBusy(server)) {
    st.scheduled = true;
    // Asked by hand: a failed rewrite may be retried at once.
    st.consecutiveFailures = 0;
    return "scheduled";
  }
  const config = server.config;
  const dirName = config.str("appenddirname");
  const dir = resolve(process.cwd(), dirName);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    server.log.warning(`Can't open or create append-only dir ${dirName}: ${strerror(e)}`);
    st.lastStatus = "err";
    return "error";
  }
  const fileName = config.str("appendfilename");
  const aof = aofOf(server);
  const withAof = aof.state !== AofState.Off;
  const manifest = withAof ? { baseSeq: aof.manifest.base?.seq ?? 0, files: [] } : readManifest(join(dir, `${fileName}.manifest`));
  const rdbPreamble = config.bool("aof-use-rdb-preamble");
  const seq = manifest.baseSeq + 1;
  const baseName = `${fileName}.${seq}.base.${rdbPreamble ? "rdb" : "aof"}`;
  const tmp = resolve(process.cwd(), `temp-rewriteaof-bg-${process.pid}.aof`);
  let fd: number;
  try {
    fd = openSync(tmp, "w", 0o644);
  } catch (e) {
    server.log.warning(`Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): ${strerror(e)}`);
    st.lastStatus = "err";
    st.consecutiveFailures++;
    return "error";
  }
  let firstIncr: string | null = null;
  if (withAof) {
    // The stream from here on goes to a new incr file: the snapshot below holds the rest.
    aof.flush();
    if (!aof.openNewIncr(aof.position())) {
      discardTemp(fd, tmp);
      st.lastStatus = "err";
      st.consecutiveFailures++;
      return "error";
    }
    aof.startAccepting();
    aof.rewriting = () => st.job !== null;
    firstIncr = aof.currentIncrName;
  }
  const snapshot = new DatasetSnapshot(server.dbs);
  const writer = rdbPreamble ? new SnapshotRdbWriter(server, snapshot, null, true, true) : new AofCommandWriter(snapshot, [...server.functions.values()].map((l) => l.code), server.log);
  const job: RewriteJob = { writer, fd, tmp, dir, baseName, seq, replaced: manifest.files, startedMs: Date.now(), aborted: false, firstIncr, withAof, sinceSync: 0, syncing: false };
  st.job = job;
  st.scheduled = false;
  st.rewrites++;
  server.log.notice(`Background append only file rewriting started by pid ${process.pid}`);
  setImmediate(() => pump(server, job));
  return "started";
}

function pump(server: Server, job: RewriteJob): void {
  if (job.aborted) return;
  let more: boolean;
  try {
    more = job.writer.step(CHUNK, (buf, start, end) => {
      writeAll(job.fd, buf, start, end);
      job.sinceSync += end - start;
    });
  } catch (e) {
    return finish(server, job, strerror(e));
  }
  // aof-rewrite-incremental-fsync: the data goes to disk every 4 MB (REDIS_AUTOSYNC_BYTES), off
  // the event loop, the next chunk after it (the kernel never holds a large dirty backlog).
  if (more && job.sinceSync >= AUTOSYNC_BYTES && server.config.bool("aof-rewrite-incremental-fsync")) {
    job.sinceSync = 0;
    job.syncing = true;
    fdatasync(job.fd, (err) => {
      job.syncing = false;
      if (job.aborted) return discardTemp(job.fd, job.tmp);
      if (err) return finish(server, job, strerror(err));
      pump(server, job);
    });
    return;
  }
  if (more) {
    setImmediate(() => pump(server, job));
    return;
  }
  // The data on disk first, off the event loop; then the renames (the atomic part).
  job.syncing = true;
  fdatasync(job.fd, (err) => {
    job.syncing = false;
    if (job.aborted) return discardTemp(job.fd, job.tmp);
    if (err) return finish(server, job, strerror(err));
    finish(server, job, null);
  });
}

/** backgroundRewriteDoneHandler. */
function finish(server: Server, job: RewriteJob, error: string | null): void {
  const st = aofRewriteState(server);
  if (st.job === job) st.job = null;
  st.lastTimeSec = Math.floor((Date.now() - job.startedMs) / 1000);
  const log = server.log;
  const tmpName = `temp-rewriteaof-bg-${process.pid}.aof`;
  if (error === null) {
    log.notice(`Successfully created the temporary AOF base file ${tmpName}`);
    log.notice("Background AOF rewrite terminated with success");
    try {
      commitFile(job.fd, job.tmp, join(job.dir, job.baseName));
      job.fd = -1;
      log.notice(`Successfully renamed the temporary AOF base file ${tmpName} into ${job.baseName}`);
      if (job.withAof) {
        const aof = aofOf(server);
        if (aof.state === AofState.Off) throw new Error("the AOF was turned off");
        job.replaced = aof.rewriteDone(job.baseName, job.seq, job.firstIncr);
      } else writeOffManifest(server, job);
    } catch (e) {
      error = strerror(e);
    }
  }
  return finishRest(server, job, error);
}

/** The manifest of a rewrite with the AOF off: the new base alone. */
function writeOffManifest(server: Server, job: RewriteJob): void {
  const fileName = server.config.str("appendfilename");
  const manifest = join(job.dir, `${fileName}.manifest`);
  const tmpManifest = join(job.dir, `temp-${fileName}.manifest`);
  const mfd = openSync(tmpManifest, "w", 0o644);
  const line = Buffer.from(`file ${job.baseName} seq ${job.seq} type b\n`, "latin1");
  writeAll(mfd, line, 0, line.length);
  commitFile(mfd, tmpManifest, manifest);
}

function finishRest(server: Server, job: RewriteJob, error: string | null): void {
  const st = aofRewriteState(server);
  const log = server.log;
  if (error !== null) {
    job.writer.abort();
    discardTemp(job.fd, job.tmp);
    log.warning(`Background AOF rewrite failed: ${error}`);
    st.lastStatus = "err";
    st.consecutiveFailures++;
    // The AOF still waits for its first base: the stream stops going to the temp incr file
    // (the next attempt's snapshot holds it) and a rewrite is tried again.
    const aof = aofOf(server);
    if (aof.state === AofState.WaitRewrite) {
      aof.accepting = false;
      st.scheduled = true;
    }
    return;
  }
  // The files the new manifest no longer names (aofDelHistoryFiles).
  for (const f of job.replaced) {
    if (f === job.baseName) continue;
    try {
      unlinkSync(join(job.dir, f));
      log.notice(`Removing the history file ${f} in the background`);
    } catch {}
  }
  st.lastStatus = "ok";
  st.consecutiveFailures = 0;
  log.notice("Background AOF rewrite finished successfully");
}

/** Stops a rewrite in progress (at shutdown: it ends with the process, as a child would): its temp file goes. */
export function abortAofRewrite(server: Server): void {
  const st = aofRewriteState(server);
  const job = st.job;
  if (!job) return;
  job.aborted = true;
  st.job = null;
  job.writer.abort();
  // An fdatasync running on the fd closes it when it returns (the fd must not be reused under it).
  if (!job.syncing) discardTemp(job.fd, job.tmp);
}

/**
 * serverCron's AOF part, 10 times a second: the AOF's retries and everysec fsync; a scheduled
 * rewrite once the dataset is free; an automatic one when the AOF grew by
 * auto-aof-rewrite-percentage since the last (and is past auto-aof-rewrite-min-size).
 */
export function aofRewriteCron(server: Server): void {
  const aof = aofOf(server);
  aof.cron();
  const st = aofRewriteState(server);
  if (st.job || server.loading || datasetBusy(server)) return;
  if (st.scheduled) {
    startAofRewrite(server);
    return;
  }
  if (aof.wantsAutoRewrite() && !rewriteLimited(server, st)) {
    const base = aof.rewriteBaseSize || 1;
    server.log.notice(`Starting automatic rewriting of AOF on ${Math.floor(((aof.currentSize - base) * 100) / base)}% growth`);
    startAofRewrite(server);
  }
}

/** aofRewriteLimited: after 3 failures in a row, automatic rewrites wait 1, 2, 4... up to 60 minutes. */
function rewriteLimited(server: Server, st: AofRewriteState): boolean {
  if (st.consecutiveFailures < 3) {
    st.nextDelayMinutes = 0;
    st.nextRewriteMs = 0;
    return false;
  }
  const now = Date.now();
  if (st.nextRewriteMs !== 0) {
    if (now < st.nextRewriteMs) return true;
    st.nextRewriteMs = 0;
    return false;
  }
  st.nextDelayMinutes = Math.min(st.nextDelayMinutes === 0 ? 1 : st.nextDelayMinutes * 2, 60);
  st.nextRewriteMs = now + st.nextDelayMinutes * 60_000;
  server.log.warning(`Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ${st.nextDelayMinutes} minutes`);
  return true;
}

/** rewriteAppendOnlyFile: the whole dataset written as an AOF base at `path`, synchronously (at start). */
export function writeAofBaseSync(server: Server, path: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    const snapshot = new DatasetSnapshot(server.dbs);
    const writer = server.config.bool("aof-use-rdb-preamble") ? new SnapshotRdbWriter(server, snapshot, null, true, true) : new AofCommandWriter(snapshot, [...server.functions.values()].map((l) => l.code), server.log);
    while (writer.step(CHUNK, (buf, start, end) => writeAll(fd, buf, start, end)));
    commitFile(fd, tmp, path);
  } catch (e) {
    discardTemp(fd, tmp);
    throw e;
  }
}

/**
 * startAppendOnly (CONFIG SET appendonly yes): the AOF waits for a rewrite, started now (or
 * scheduled while the dataset is busy); a rewrite running with the AOF off is replaced. Returns
 * an error text, or null.
 */
export function startAppendOnly(server: Server): string | null {
  const aof = aofOf(server);
  if (aof.state !== AofState.Off) return null;
  const loaded = aof.loadManifestIfAny();
  if (loaded !== null) return loaded;
  aof.state = AofState.WaitRewrite;
  aof.accepting = false;
  const st = aofRewriteState(server);
  if (st.job) {
    server.log.warning("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
    abortAofRewrite(server);
  }
  // Inside EXEC or a script (Redis's in_exec) the rewrite starts from the cron, after the
  // transaction, as Redis schedules it.
  const inTransaction = server.currentClient?.denyBlocking ?? false;
  const r = startAofRewrite(server, inTransaction);
  if (r === "error") {
    aof.state = AofState.Off;
    server.log.warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
    return "ERR Background AOF rewrite failed to start";
  }
  if (r === "scheduled") {
    server.log.warning(inTransaction ? "AOF was enabled during a transaction. An AOF background was scheduled to start when possible." : "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
  }
  aof.lastWriteOk = true;
  return null;
}

/** stopAppendOnly (CONFIG SET appendonly no): written, fsynced, closed; a rewrite for it stops. */
export function stopAppendOnly(server: Server): void {
  const aof = aofOf(server);
  if (aof.state === AofState.Off) return;
  aof.stop();
  const st = aofRewriteState(server);
  st.scheduled = false;
  if (st.job?.withAof) abortAofRewrite(server);
}

/** restartAOFAfterSYNC: a full sync replaced the dataset, the AOF starts over from a rewrite. */
export function restartAofAfterSync(server: Server): void {
  if (aofOf(server).state === AofState.Off) return;
  stopAppendOnly(server);
  if (startAppendOnly(server) !== null) {
    // As Redis: appendonly yes without an AOF would be a lie.
    server.log.warning("FATAL: this replica instance finished the synchronization with its master, but the AOF can't be turned on. Exiting now.");
    process.exit(1);
  }
}
