// The RDB payload of a full sync, as we receive it from our master (Redis's readSyncBulkPayload),
// one class per mode after Garnet's ReplicaDiskbasedSync / ReplicaDisklessSync:
//
// - DiskTransfer: written to a temp file, made durable and renamed over dbfilename, then loaded
//   (or parsed while it is written, when we hold no data to keep serving);
// - DisklessTransfer (repl-diskless-load swapdb / on-empty-db): parsed straight from the socket,
//   the old dataset served meanwhile with swapdb.
//
// Either way the payload is framed by "$<len>" or by an EOF mark ("$EOF:<mark>" ... <mark>), and
// the finishing steps shared by both modes are the functions at the end: the loaded dataset
// replaces ours (installDataset), and our history becomes the master's (adoptMasterHistory).

import { closeSync, fsync, ftruncateSync, openSync, renameSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "../core/client.ts";
import type { Server } from "../core/server.ts";
import type { Progress } from "../core/progress.ts";
import { beginDatasetLoad, type DatasetLoad, type LoadedDataset } from "../dataset/load.ts";
import { watchLoad } from "../dataset/persistence.ts";
import { Database } from "../store/database.ts";
import type { EofMarkDetector } from "./eof-mark.ts";
import type { Replication } from "./replication.ts";

/** How the RDB payload of a full sync is being received. */
export abstract class SyncTransfer {
  /** Payload bytes received so far (the EOF mark included). */
  read = 0;
  /**
   * The parse in progress, straight from the socket: always in diskless mode, and in disk mode
   * when we hold no data (the payload is then parsed while it is written, not read back).
   */
  load: DatasetLoad | null = null;
  /** The master closed the link while we were loading the complete payload. */
  linkLost = false;
  /** Bytes that arrived after the payload: the start of the command stream. */
  tail: Buffer[] = [];
  done = false;
  /** Diskless swapdb: the old dataset kept (and served) until the new one is complete. */
  abstract readonly swapdb: boolean;

  constructor(
    /** Bytes announced by `$<len>`, or -1 with an EOF mark. */
    readonly size: number,
    readonly mark: EofMarkDetector | null,
    /** Bytes and keys so far, for the log and INFO (core/progress.ts). */
    public progress: Progress,
  ) {}

  /** Payload bytes from the socket: whether the payload is complete now. Throws on a parse error. */
  receive(chunk: Buffer): boolean {
    if (this.mark) {
      // Nothing follows the mark: a Redis 7 master starts the stream after our first ACK.
      const complete = this.mark.push(chunk);
      this.read += chunk.length;
      this.store(chunk);
      if (this.load) for (const part of this.mark.release(chunk, complete)) this.load.feed(part);
      return complete;
    }
    const left = this.size - this.read;
    let payload = chunk;
    if (chunk.length > left) {
      payload = chunk.subarray(0, left);
      this.tail.push(chunk.subarray(left));
    }
    this.read += payload.length;
    this.store(payload);
    if (this.load) this.load.feed(payload);
    return this.read >= this.size;
  }

  /** Where payload bytes go besides the parse (disk mode: the temp file). */
  protected abstract store(bytes: Buffer): void;

  /** The attempt is abandoned: files closed and removed, the parse stopped. */
  discard(): void {
    this.releaseFiles();
    this.load?.abort();
    this.progress.end();
  }

  protected releaseFiles(): void {}
}

/** Parsed straight from the socket into fresh databases. */
export class DisklessTransfer extends SyncTransfer {
  constructor(size: number, mark: EofMarkDetector | null, progress: Progress, readonly swapdb: boolean) {
    super(size, mark, progress);
  }

  protected store(_bytes: Buffer): void {}
}

/** Written to a temp file, which becomes the dataset file once complete and durable. */
export class DiskTransfer extends SyncTransfer {
  readonly swapdb = false;
  /** A delayed replica's full sync, kept on disk until due (ReplicaLink.holdTransfer). */
  held = false;
  private tmpFile: string | null = null;
  private fd = -1;
  private writer: ReturnType<ReturnType<typeof Bun.file>["writer"]> | null = null;

  /** Creates the temp file the payload goes to; throws when it cannot. */
  openFile(): void {
    const tmp = `temp-${Math.floor(Date.now() / 1000)}.${process.pid}.rdb`;
    this.fd = openSync(tmp, "wx", 0o644);
    this.tmpFile = tmp;
    this.writer = Bun.file(this.fd).writer({ highWaterMark: 1024 * 1024 });
  }

  protected store(bytes: Buffer): void {
    this.writer!.write(bytes);
  }

  /** The payload is complete: written out without the EOF mark, and fsynced. */
  async flushToDisk(): Promise<void> {
    await this.writer!.end();
    // The file was written with the mark at its end: cut it off.
    if (this.mark) ftruncateSync(this.fd, this.read - 40);
    // In the thread pool: a synchronous fsync of a file this size would stop every client
    // for as long as the disk takes.
    const fd = this.fd;
    await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
  }

  closeFile(): void {
    closeSync(this.fd);
    this.fd = -1;
    this.writer = null;
  }

  /** The durable temp file becomes the dataset file (dbfilename). Throws when it cannot. */
  moveIntoPlace(finalName: string): void {
    renameSync(this.tmpFile!, finalName);
    this.tmpFile = null;
  }

  /** The durable temp file, handed over (it is no longer removed with the transfer). */
  detachFile(): string {
    const f = this.tmpFile!;
    this.tmpFile = null;
    return f;
  }

  /** Loads the dataset file back (the payload was not parsed while received). False on error or abort. */
  async loadFile(server: Server, finalName: string, stillWanted: () => boolean): Promise<boolean> {
    server.log.notice("MASTER <-> REPLICA sync: Flushing old data");
    server.log.notice("MASTER <-> REPLICA sync: Loading DB in memory");
    server.loading = true;
    const load = beginDatasetLoad(server, freshDatabases(server));
    this.load = load;
    // Read back from the file: a progress of its own.
    this.progress.end();
    this.progress = server.log.progress("Loading the synced RDB", this.read);
    watchSyncLoad(server, load, this.progress);
    return load.feedFile(join(process.cwd(), finalName), stillWanted);
  }

  protected override releaseFiles(): void {
    if (this.writer) {
      try {
        void this.writer.end();
      } catch {}
    }
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {}
    }
    if (this.tmpFile) {
      try {
        unlinkSync(this.tmpFile);
      } catch {}
    }
  }
}

/** Empty databases for a load, so the current ones keep being served until it completes. */
export function freshDatabases(server: Server): Database[] {
  return server.dbs.map((db) => new Database(db.id, db.clock));
}

/** Progress of the load of a full sync: INFO loading_* while loading, and log lines. */
export function watchSyncLoad(server: Server, load: DatasetLoad, progress: Progress): void {
  watchLoad(server, load, progress);
  server.loadProgress = progress;
}

/** The loaded dataset replaces ours, now that it loaded completely (functions included). */
export function installDataset(server: Server, t: SyncTransfer, result: LoadedDataset): void {
  if (t.swapdb) server.log.notice("MASTER <-> REPLICA sync: Swapping active DB with loaded DB");
  for (let i = 0; i < server.dbs.length; i++) server.dbs[i]!.swapContents(result.dbs[i]!);
  server.signalFlushedDb(-1);
  server.loading = false;
  server.loadProgress = null;
  t.progress.end();
  server.persistence.lastLoadKeysLoaded = result.keysLoaded;
  server.persistence.lastLoadKeysExpired = 0;
  server.functions.clear();
  for (const [name, f] of result.functions) server.functions.set(name, f);
  server.log.notice(`Done loading RDB, keys loaded: ${result.keysLoaded}, keys expired: 0.`);
}

/**
 * After a full sync we take the master's id and offset (from +FULLRESYNC, none after SYNC):
 * a new history starts, and the backlog with it.
 */
export function adoptMasterHistory(repl: Replication, aux: Map<string, string>, masterReplid: string, offset: number): void {
  repl.noteMasterVersion(aux);
  repl.replid = masterReplid || repl.replid;
  repl.masterReplOffset = offset;
  repl.clearReplicationId2();
  repl.onFullSyncLoaded();
}

/**
 * Loads a delayed replica's held full sync once due (DelayedStream), as a disk-based full sync
 * loads: the file becomes dbfilename, clients get -LOADING meanwhile, and our history becomes
 * the snapshot's (`replid` at `offset`); `applier` is put in the stream's database first (a new
 * AOF incr file, queued by adoptMasterHistory, selects it). Returns that database, or null.
 */
export async function loadHeldSnapshot(server: Server, repl: Replication, file: string, replid: string, offset: number, applier: Client | null): Promise<number | null> {
  const log = server.log;
  const finalName = server.config.str("dbfilename");
  let size: number;
  try {
    size = statSync(file).size;
    renameSync(file, finalName);
  } catch (e) {
    log.warning(`Delayed replica: the held full sync ${file} cannot become ${finalName}: ${(e as Error).message}`);
    return null;
  }
  const t = new DiskTransfer(size, null, log.progress("Loading the held full sync", size));
  t.read = size;
  const failed = (why: string) => {
    log.warning(`Delayed replica: loading the held full sync failed: ${why}`);
    server.loading = false;
    server.loadProgress = null;
    t.progress.end();
    return null;
  };
  if (!(await t.loadFile(server, finalName, () => true))) return failed("see above");
  if (server.scripting.busy !== null) await new Promise<void>((resolve) => server.scripting.whenNotBusy(resolve));
  const load = t.load!;
  await load.drain();
  let result;
  try {
    result = await load.finish();
  } catch (e) {
    return failed((e as Error).message);
  }
  if (result === null) return failed("aborted");
  installDataset(server, t, result);
  const db = result.replStreamDb ?? 0;
  if (applier) applier.db = server.dbs[db] ?? server.dbs[0]!;
  adoptMasterHistory(repl, result.aux, replid, offset);
  server.collectAfterLoad();
  return db;
}
