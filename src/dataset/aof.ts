// `appendonly yes`: Redis 7.0's multi-part AOF (aof.c), written from the replication stream.
//
// The directory appenddirname holds a base (the dataset at the last rewrite, an RDB or
// commands), incremental files (what happened since) and the manifest naming them
// (aof-manifest.ts). What goes into the incremental file is exactly the replication stream:
// the bytes a replica applies of its master's stream (the backlog's bytes), or, as a master,
// the stream we generate for our replicas (generated even without replicas while the AOF is
// on). So every byte of an incremental file has a replication offset, and the manifest line of
// the file says which (startoffset, replid, streamstart: our keys, skipped by redis-server) once
// the stream is in a replication history (a replica's, a master's with a backlog); before that
// the line is redis-server's own.
//
// Writing (feedAppendOnlyFile + flushAppendOnlyFile): the stream chunks are kept as they are
// (no copy) and written with one writev at the end of the event-loop turn; the replies of the
// turn wait for it (Client.flush asks Server.beforeReply), as Redis writes its AOF in beforeSleep
// before any reply: one write (and with appendfsync always one fsync) for all the clients of the
// turn. everysec fsyncs once a second off the event loop (the thread pool), no never.
//
// A new incremental file starts where its stream can be loaded on its own after the base: a
// fresh client loads each file in db 0, so a file whose stream has another db selected begins
// with a SELECT (the preamble; streamstart says where the stream bytes begin). A file is also
// started when the stream is not the continuation of the file's (another replid after a
// promotion or a +CONTINUE with a new id, or a jump of the offset): its offsets stay exact.

import { closeSync, existsSync, fdatasync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, writevSync } from "node:fs";
import { join, resolve } from "node:path";
import { encodeCommand } from "../protocol/reply-parser.ts";
import type { Client } from "../core/client.ts";
import type { Server } from "../core/server.ts";
import { currentSeqs, emptyManifest, formatManifest, parseManifest, type AofFileInfo, type AofManifest } from "./aof-manifest.ts";
import { strerror } from "./persistence.ts";
import { trimWritten } from "../common/fd-writer.ts";

/** Where the replication stream stands (given by replication, which owns it). */
export interface StreamPosition {
  replid: string;
  /** master_repl_offset: the offset after the last byte of the stream. */
  offset: number;
  /** The db the stream has selected (-1: a SELECT comes before the next command). */
  db: number;
  masterVersion: string | null;
}

export const enum AofState {
  Off = 0,
  On = 1,
  /** Turned on at runtime (or restarted after a full sync): waiting for the first rewrite. */
  WaitRewrite = 2,
}

/** "*2\r\n$6\r\nSELECT\r\n" lower-cased: a chunk that starts with it selects its own db. */
const SELECT_HEAD = "*2\r\n$6\r\nselect\r\n";

export class AppendOnlyFile {
  state = AofState.Off;
  manifest: AofManifest = emptyManifest();
  /** Whether stream bytes are written now (on, or waiting for a rewrite that has started). */
  accepting = false;
  /** The incremental file written now (its manifest entry; the temp incr file's while waiting). */
  private incr: AofFileInfo | null = null;
  private fd = -1;
  /** Stream bytes of the current incr file (after its preamble), written or pending. */
  private streamBytes = 0;
  /** Its size on disk plus what is pending (aof_last_incr_size). */
  private incrSize = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushQueued = false;
  private unsynced = false;
  private fsyncing = false;
  /** Closing an fd waits for the fsync running on it (the fd number must not be reused under it). */
  private afterFsync: (() => void) | null = null;
  private lastFsyncMs = Date.now();
  /** aof_last_write_status. */
  lastWriteOk = true;
  private lastWriteErrorLogMs = 0;
  /** aof_current_size (base + incr files) and aof_rewrite_base_size. */
  currentSize = 0;
  rewriteBaseSize = 0;
  /** aof_delayed_fsync. */
  delayedFsync = 0;
  /** Installed by replication: where the stream stands now. */
  position: () => StreamPosition = () => ({ replid: "0".repeat(40), offset: 0, db: -1, masterVersion: null });
  /**
   * Installed by replication: whether the stream belongs to a replication history worth
   * continuing (a replica's, or a master's with a backlog). Only then an incr file carries our
   * keys: a standalone master's manifest is redis-server's, line for line (as its RDB has no
   * repl-id AUX without a backlog).
   */
  chained: () => boolean = () => false;
  /** Whether a rewrite is running (no-appendfsync-on-rewrite): installed by aof-rewrite.ts. */
  rewriting: () => boolean = () => false;
  private readonly flushNow = () => this.flush();
  /** Clients whose replies wait for the pending bytes to be written (and fsynced with always). */
  private waitingReplies = new Set<Client>();
  private readonly beforeReplyHook = (c: Client): boolean => {
    // A client about to be closed gets its replies now (its connection closes after them).
    if (c.closeAfterReply || c.conn === null) {
      this.flush();
      return false;
    }
    this.waitingReplies.add(c);
    return true;
  };

  constructor(private readonly server: Server) {}

  get dir(): string {
    return resolve(process.cwd(), this.server.config.str("appenddirname"));
  }
  get fileName(): string {
    return this.server.config.str("appendfilename");
  }
  get manifestPath(): string {
    return join(this.dir, `${this.fileName}.manifest`);
  }

  // ---------------------------------------------------------------- the stream

  /**
   * Bytes of the replication stream; `endOffset` is the offset after them. Kept as they are
   * (the caller does not reuse them) until the flush at the end of the turn.
   */
  append(bytes: Buffer, endOffset: number, replid: string): void {
    if (!this.accepting) return;
    const incr = this.incr!;
    const s = incr.stream;
    const start = endOffset - bytes.length;
    if (s !== undefined && (s.replid !== replid || s.startOffset + this.streamBytes !== start)) {
      if (this.state === AofState.On) this.rotate(bytes, start, replid);
      // The temp incr file of a first rewrite is one file: its offsets so far are no longer known.
      else incr.stream = undefined;
    }
    // A file without our keys (a standalone master's, redis-server's, a temp incr file whose
    // stream moved on) is appended to as it is, as Redis does; once the stream is in a
    // replication history (a replica attached, a promotion), its offsets are known from here on.
    if (this.incr!.stream === undefined && this.chained()) this.annotate(start, replid);
    // A replica's applied units are consecutive slices of the chunks read from its master: one
    // slice of them each, so the writev has a few large pieces, not one per command. (The
    // offsets first: reading `.buffer` makes the runtime create an ArrayBuffer object for a
    // small Buffer that had none, a cost per command on a master.)
    const n = this.pending.length;
    const last = n > 0 ? this.pending[n - 1]! : null;
    if (last !== null && last.byteOffset + last.length === bytes.byteOffset && bytes.byteOffset !== 0 && last.buffer === bytes.buffer) {
      this.pending[n - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + bytes.length);
    } else this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.streamBytes += bytes.length;
    this.incrSize += bytes.length;
    this.currentSize += bytes.length;
    if (!this.flushQueued) {
      this.flushQueued = true;
      this.server.beforeReply = this.beforeReplyHook;
      setImmediate(this.flushNow);
    }
  }

  /**
   * A new incr file for a stream that does not continue the current file's. (Called inside a
   * command's propagation: the bytes go to the file, the waiting replies wait for the end of the
   * turn, when this command's own bytes are written too.)
   */
  private rotate(first: Buffer, start: number, replid: string): void {
    this.write();
    const p = this.position();
    // The chunk selects its db itself, or the stream's db is the one before it (a replica's
    // applied unit holds no SELECT but at its start).
    const db = startsWithSelect(first) ? -1 : p.db;
    this.openNewIncr({ replid, offset: start, db, masterVersion: p.masterVersion }, "Creating AOF incr file %s: the replication stream moved to another history");
  }

  /**
   * The current incr file's stream offsets are known from its current end: its manifest line
   * gets our keys, with streamstart there (what comes before is loaded, and has no offsets).
   */
  private annotate(start: number, replid: string): void {
    const incr = this.incr!;
    incr.stream = { startOffset: start, replid, streamStart: this.incrSize, masterVersion: this.position().masterVersion };
    this.streamBytes = 0;
    // The temp incr file of a first rewrite is named (with its keys) when the rewrite ends.
    if (this.state !== AofState.On) return;
    try {
      this.persistManifest(this.manifest);
    } catch (e) {
      // The file stays as it is in the manifest on disk: a restart finds no offsets (a full sync).
      this.server.log.warning(`Can't persist the AOF manifest: ${strerror(e)}`);
    }
  }

  /** flushAppendOnlyFile, then the replies that waited for it. */
  flush(): void {
    this.flushQueued = false;
    this.server.beforeReply = null;
    this.write();
    if (this.waitingReplies.size === 0) return;
    const clients = this.waitingReplies;
    this.waitingReplies = new Set();
    for (const c of clients) c.flush();
  }

  /** flushAppendOnlyFile: writes what is pending; appendfsync always fsyncs it. */
  private write(): void {
    if (this.pendingBytes === 0 || this.fd < 0) return;
    const parts = this.pending;
    let left = this.pendingBytes;
    try {
      while (left > 0) {
        const n = writevSync(this.fd, parts);
        left -= n;
        if (left > 0) trimWritten(parts, n);
      }
      this.pending = [];
      this.pendingBytes = 0;
      if (!this.lastWriteOk) this.server.log.warning("AOF write error looks solved, Redis can write again.");
      this.lastWriteOk = true;
      this.server.persistence.aofWriteError = null;
    } catch (e) {
      if (this.server.config.str("appendfsync") === "always") {
        // As Redis: the replies of these writes are about to go out, and they cannot be undone.
        this.server.log.warning(`Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting... (${strerror(e)})`);
        process.exit(1);
      }
      // Kept for the next attempt (the cron retries), as Redis keeps its aof_buf.
      this.pendingBytes = left;
      this.lastWriteOk = false;
      // Writes are refused (-MISCONF) until a write succeeds again (writeCommandsDeniedByDiskError).
      this.server.persistence.aofWriteError = strerror(e);
      const now = Date.now();
      if (now - this.lastWriteErrorLogMs > 30_000) {
        this.lastWriteErrorLogMs = now;
        this.server.log.warning(`Error writing to the AOF file: ${strerror(e)}`);
      }
      return;
    }
    this.unsynced = true;
    const mode = this.server.config.str("appendfsync");
    if (mode === "always" && !this.fsyncPostponed()) {
      try {
        fdatasyncSync(this.fd);
        this.unsynced = false;
        this.lastFsyncMs = Date.now();
      } catch (e) {
        // Redis exits here: an acknowledged write might not be on disk.
        this.server.log.warning(`Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${strerror(e)}. Exiting...`);
        process.exit(1);
      }
    }
  }

  private fsyncPostponed(): boolean {
    return this.server.config.bool("no-appendfsync-on-rewrite") && this.rewriting();
  }

  /** 10 times a second: pending bytes that failed to write, and appendfsync everysec. */
  cron(): void {
    if (this.state === AofState.Off) return;
    if (this.pendingBytes > 0) this.flush();
    if (this.fd < 0 || !this.unsynced || this.server.config.str("appendfsync") !== "everysec") return;
    const now = Date.now();
    if (now - this.lastFsyncMs < 1000 || this.fsyncPostponed()) return;
    if (this.fsyncing) {
      this.delayedFsync++;
      return;
    }
    this.fsyncing = true;
    this.unsynced = false;
    this.lastFsyncMs = now;
    const fd = this.fd;
    // Off the event loop, as Redis's bio thread: the writes go on meanwhile.
    fdatasync(fd, (err) => {
      this.fsyncing = false;
      const after = this.afterFsync;
      this.afterFsync = null;
      if (after !== null) after();
      if (err && fd === this.fd) {
        this.unsynced = true;
        this.server.log.warning(`Error syncing the AOF file: ${strerror(err)}`);
      }
    });
  }

  // ---------------------------------------------------------------- files and manifest

  /** persistAofManifest: temp file, fsync, rename, fsync the directory. */
  persistManifest(m: AofManifest): void {
    const tmp = join(this.dir, `temp-${this.fileName}.manifest`);
    const fd = openSync(tmp, "w", 0o644);
    try {
      const text = Buffer.from(formatManifest(m), "latin1");
      let p = 0;
      while (p < text.length) p += writeSync(fd, text, p, text.length - p);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.manifestPath);
    fsyncDirectory(this.dir);
  }

  /**
   * openNewIncrAofForAppend: a new incr file from `at` (its SELECT preamble when the stream
   * has another db than 0 selected). On: named in the manifest at once; waiting for the first
   * rewrite: the temp incr file, named when the rewrite ends.
   */
  openNewIncr(at: StreamPosition, logFormat = "Creating AOF incr file %s on background rewrite"): boolean {
    const waiting = this.state === AofState.WaitRewrite;
    const m = this.manifest;
    const seq = currentSeqs(m).incr + 1;
    const name = waiting ? tempIncrName(this.fileName) : `${this.fileName}.${seq}.incr.aof`;
    let fd: number;
    try {
      mkdirSync(this.dir, { recursive: true });
      fd = openSync(join(this.dir, name), "w", 0o644);
    } catch (e) {
      this.server.log.warning(`Can't open the append-only file ${name}: ${strerror(e)}`);
      return false;
    }
    const preamble = at.db > 0 ? encodeCommand(["SELECT", String(at.db)]) : null;
    const info: AofFileInfo = {
      name,
      seq,
      type: "i",
    };
    if (this.chained()) info.stream = { startOffset: at.offset, replid: at.replid, streamStart: preamble ? preamble.length : 0, masterVersion: at.masterVersion };
    if (!waiting) {
      try {
        this.persistManifest({ ...m, incr: [...m.incr, info], incrSeq: seq });
      } catch (e) {
        this.server.log.warning(`Can't persist the AOF manifest: ${strerror(e)}`);
        closeSync(fd);
        try {
          unlinkSync(join(this.dir, name));
        } catch {}
        return false;
      }
      m.incr.push(info);
      m.incrSeq = seq;
    }
    this.server.log.notice(logFormat.replace("%s", name));
    this.closeCurrent();
    this.fd = fd;
    this.incr = info;
    this.streamBytes = 0;
    this.incrSize = 0;
    if (preamble) this.queue(preamble);
    return true;
  }

  /** Bytes of ours (not the stream's: a SELECT preamble) written to the current incr file now. */
  private queue(bytes: Buffer): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.incrSize += bytes.length;
    this.currentSize += bytes.length;
    this.write();
  }

  /** The current incr fd goes: fsynced and closed off the event loop (aof_background_fsync_and_close). */
  private closeCurrent(): void {
    const fd = this.fd;
    if (fd < 0) return;
    this.write();
    this.fd = -1;
    const close = () =>
      fdatasync(fd, () => {
        try {
          closeSync(fd);
        } catch {}
      });
    this.whenNoFsync(close);
  }

  /** Runs `f` now, or once the everysec fsync running in the thread pool returned. */
  private whenNoFsync(f: () => void): void {
    if (!this.fsyncing) return f();
    const before = this.afterFsync;
    this.afterFsync = () => {
      before?.();
      f();
    };
  }

  /** The name of the incr file written now. */
  get currentIncrName(): string | null {
    return this.incr?.name ?? null;
  }

  /** The stream accepted from now (a rewrite started while waiting for it). */
  startAccepting(): void {
    this.accepting = true;
  }

  /**
   * A rewrite that ran while the AOF was on (or waiting for it) ended with `baseName` written:
   * the new manifest (backgroundRewriteDoneHandler). Returns the files to delete.
   */
  rewriteDone(baseName: string, baseSeq: number, firstIncr: string | null): string[] {
    const m = this.manifest;
    // Redis's order (each put at the head of the history list): the replaced incr files, then
    // the old base, then the older history.
    const history: string[] = [];
    const next: AofManifest = { base: { name: baseName, seq: baseSeq, type: "b" }, history: [], incr: [], incrSeq: m.incrSeq };
    if (this.state === AofState.WaitRewrite) {
      // The temp incr file becomes the first incr file of the new manifest.
      const seq = currentSeqs(m).incr + 1;
      const name = `${this.fileName}.${seq}.incr.aof`;
      renameSync(join(this.dir, this.incr!.name), join(this.dir, name));
      for (const f of m.incr) history.push(f.name);
      this.incr = { ...this.incr!, name, seq };
      next.incr.push(this.incr);
      next.incrSeq = seq;
    } else {
      // The incr files before the one opened at the rewrite's start are in the new base.
      let kept = false;
      for (const f of m.incr) {
        if (f.name === firstIncr) kept = true;
        if (kept) next.incr.push(f);
        else history.push(f.name);
      }
    }
    if (m.base) history.push(m.base.name);
    for (const f of m.history) history.push(f.name);
    // aof-disable-auto-gc: the replaced files stay, named as history (type h) in the manifest.
    const keep = this.server.config.bool("aof-disable-auto-gc");
    if (keep) {
      for (const name of history) {
        const old = [m.base, ...m.history, ...m.incr].find((f) => f?.name === name);
        if (old && name !== baseName) next.history.push({ name, seq: old.seq, type: "h" });
      }
    }
    this.persistManifest(next);
    this.manifest = next;
    if (this.state === AofState.WaitRewrite) this.state = AofState.On;
    let base = 0;
    try {
      base = statSync(join(this.dir, baseName)).size;
    } catch {}
    this.currentSize = base + this.incrSize;
    this.rewriteBaseSize = this.currentSize;
    return keep ? [] : history.filter((f) => f !== baseName && !next.incr.some((i) => i.name === f));
  }

  /**
   * aofDelHistoryFiles, when aof-disable-auto-gc is turned off: the history files the manifest
   * names go, from the manifest first, then from the disk.
   */
  deleteHistory(): void {
    const m = this.manifest;
    if (this.state === AofState.Off || this.server.config.bool("aof-disable-auto-gc") || m.history.length === 0) return;
    const history = m.history;
    try {
      this.persistManifest({ ...m, history: [] });
    } catch (e) {
      this.server.log.warning(`Can't persist the AOF manifest: ${strerror(e)}`);
      return;
    }
    m.history = [];
    for (const f of history) {
      this.server.log.notice(`Removing the history file ${f.name} in the background`);
      try {
        unlinkSync(join(this.dir, f.name));
      } catch {}
    }
  }

  // ---------------------------------------------------------------- on / off

  /**
   * aofOpenIfNeededOnServerStart, after the AOF was loaded: the last incr file is reopened for
   * appending when its offsets continue at `at` (else a new one starts), a base is written first
   * when there is none. Returns an error text (the start stops).
   */
  openOnStart(at: StreamPosition, writeBase: (path: string) => void): string | null {
    const dir = this.dir;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      return `Can't open or create append-only dir ${this.server.config.str("appenddirname")}: ${strerror(e)}`;
    }
    const m = this.manifest;
    this.state = AofState.On;
    if (!m.base && m.incr.length === 0) {
      const name = `${this.fileName}.1.base.${this.server.config.bool("aof-use-rdb-preamble") ? "rdb" : "aof"}`;
      try {
        writeBase(join(dir, name));
      } catch (e) {
        return `Can't write the AOF base file ${name}: ${(e as Error).message}`;
      }
      m.base = { name, seq: 1, type: "b" };
      this.server.log.notice(`Creating AOF base file ${name} on server start`);
      this.currentSize = this.rewriteBaseSize = statSync(join(dir, name)).size;
    }
    const last = m.incr[m.incr.length - 1];
    const s = last?.stream;
    let size = 0;
    if (last) {
      try {
        size = statSync(join(dir, last.name)).size;
      } catch {}
    }
    // The last incr file is appended to when its offsets continue at `at`, or when it has none
    // (one redis-server wrote, or a test made): Redis always reopens it, and a new file on each
    // start would leave a torn file in the middle of the manifest (only the last may be cut).
    if (last && (s === undefined || (s.replid === at.replid && s.startOffset + (size - s.streamStart) === at.offset))) {
      try {
        this.fd = openSync(join(dir, last.name), "a", 0o644);
        this.persistManifest(m);
      } catch (e) {
        return `Can't open the append-only file ${last.name}: ${strerror(e)}`;
      }
      this.incr = last;
      this.streamBytes = s ? size - s.streamStart : 0;
      this.incrSize = size;
      this.server.log.notice(`Opening AOF incr file ${last.name} on server start`);
      // Without offsets the file's end may have any db selected (the loader's client continues
      // in it): a stream that assumes one says which first.
      if (s === undefined && at.db >= 0) this.queue(encodeCommand(["SELECT", String(at.db)]));
    } else if (!this.openNewIncr(at, "Creating AOF incr file %s on server start")) {
      return "Can't open the append-only file";
    }
    this.accepting = true;
    return null;
  }

  /** stopAppendOnly: flushed, fsynced, closed. */
  stop(): void {
    if (this.state === AofState.Off) return;
    this.flush();
    if (this.fd >= 0) {
      try {
        fsyncSync(this.fd);
      } catch (e) {
        this.server.log.warning(`Fail to fsync the AOF file: ${strerror(e)}`);
      }
      const fd = this.fd;
      this.whenNoFsync(() => closeSync(fd));
    }
    if (this.incr && this.state === AofState.WaitRewrite) {
      try {
        unlinkSync(join(this.dir, this.incr.name));
      } catch {}
    }
    this.fd = -1;
    this.incr = null;
    this.pending = [];
    this.pendingBytes = 0;
    this.state = AofState.Off;
    this.accepting = false;
    this.lastWriteOk = true;
    this.server.persistence.aofWriteError = null;
  }

  /** At shutdown: everything written and fsynced (Redis: "Calling fsync() on the AOF file."). */
  shutdown(): void {
    if (this.state === AofState.Off || this.fd < 0) return;
    this.server.log.notice("Calling fsync() on the AOF file.");
    this.flush();
    try {
      fsyncSync(this.fd);
    } catch {}
  }

  /** The manifest on disk when the AOF is turned on at runtime: null, or the error. */
  loadManifestIfAny(): string | null {
    try {
      const known = this.manifest.incrSeq;
      this.manifest = this.loadManifest() ?? emptyManifest();
      // Redis keeps its manifest in memory while the AOF is off (a rewrite meanwhile leaves only
      // a base on disk): the incr numbering continues where it was.
      this.manifest.incrSeq = Math.max(this.manifest.incrSeq, known);
      return null;
    } catch (e) {
      return `ERR Can't read the AOF manifest: ${(e as Error).message}`;
    }
  }

  /** The manifest on disk, read at start (exits on a bad one, as Redis). */
  loadManifest(): AofManifest | null {
    const path = this.manifestPath;
    if (!existsSync(path)) return null;
    this.manifest = parseManifest(readFileSync(path, "latin1"));
    return this.manifest;
  }

  /** INFO persistence's lines for an AOF that is on (or waiting for its rewrite). */
  infoLines(rewriteScheduled: boolean): string[] {
    return [
      `aof_current_size:${this.currentSize}`,
      `aof_base_size:${this.rewriteBaseSize}`,
      `aof_pending_rewrite:${rewriteScheduled ? 1 : 0}`,
      `aof_buffer_length:${this.pendingBytes}`,
      `aof_pending_bio_fsync:${this.fsyncing ? 1 : 0}`,
      `aof_delayed_fsync:${this.delayedFsync}`,
    ];
  }

  /** Whether the current incr file grew enough for auto-aof-rewrite-percentage / min-size. */
  wantsAutoRewrite(): boolean {
    if (this.state !== AofState.On) return false;
    const perc = this.server.config.num("auto-aof-rewrite-percentage");
    if (perc === 0 || this.currentSize <= this.server.config.num("auto-aof-rewrite-min-size")) return false;
    const base = this.rewriteBaseSize || 1;
    return ((this.currentSize - base) * 100) / base >= perc;
  }
}

function tempIncrName(fileName: string): string {
  return `temp-${fileName}.incr`;
}

function startsWithSelect(b: Buffer): boolean {
  if (b.length < SELECT_HEAD.length) return false;
  return b.toString("latin1", 0, SELECT_HEAD.length).toLowerCase() === SELECT_HEAD;
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Each server's AOF (dataset-layer state the core does not know, keyed by the Server). */
const files = new WeakMap<Server, AppendOnlyFile>();

export function aofOf(server: Server): AppendOnlyFile {
  let a = files.get(server);
  if (!a) files.set(server, (a = new AppendOnlyFile(server)));
  return a;
}

