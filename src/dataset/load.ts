// Loading a full-sync RDB into fresh databases, from the socket (diskless) or from the file
// (disk-based, and the dataset file at start-up). The old dataset stays in place until the new
// one loaded completely, so a corrupt or truncated payload aborts the sync without losing what
// we hold.
//
// The parse runs in slices of LOAD_SLICE_MS between event-loop turns, never per record: the
// parser stops at a record boundary once its deadline passed (rdb/reader.ts) and resumes on
// the next turn. Clients get -LOADING (or, with swapdb, the old data) meanwhile, and the bytes
// of the replication stream that follow the payload wait their turn behind it, in order.

import { openSync, readSync, closeSync } from "node:fs";
import { RdbParser, type RdbSink } from "../rdb/reader.ts";
import { encodingThresholds } from "../rdb/reader-options.ts";
import { RdbError } from "../rdb/errors.ts";
import type { Server } from "../core/server.ts";
import { addLoaded, newKeyspace, type Database } from "../store/database.ts";
import type { AccessClock } from "../store/keyspace/access-clock.ts";
import type { Keyspace } from "../store/keyspace/keyspace.ts";
import type { RedisValue } from "../store/values.ts";

export interface LoadedDataset {
  dbs: Database[];
  keysLoaded: number;
  /** Keys dropped because they had expired (see DatasetLoadOptions.dropExpiredBefore). */
  keysExpired: number;
  aux: Map<string, string>;
  replStreamDb: number | undefined;
  functions: Map<string, { engine: string; code: string }>;
}

export interface DatasetLoad {
  /**
   * Queues a chunk of the payload. It is parsed in slices of a few milliseconds between
   * event-loop turns (clients keep being served: Redis processes events while it loads too),
   * in order. A parse error goes to onError, now or on a later turn.
   */
  feed(chunk: Buffer): void;
  /** Resolves once everything fed so far is parsed, or the load failed or was aborted. */
  drain(): Promise<void>;
  /** Reads and parses a whole file, a slice per event-loop turn. False on error or abort. */
  feedFile(path: string, stillWanted: () => boolean, atStartup?: boolean): Promise<boolean>;
  /**
   * The payload ended and drain() resolved: checks it was complete, then puts the keys into
   * the databases (in slices too) and returns the dataset. Rejects on an incomplete payload
   * or a duplicated key; resolves null if aborted meanwhile.
   */
  finish(): Promise<LoadedDataset | null>;
  abort(): void;
  /** Keys loaded so far (for progress reports). */
  readonly keysLoaded: number;
  /** Keys the RDB announced so far (RESIZEDB hints of the databases seen): 0 when none. */
  readonly keysExpected: number;
  /** Bytes of the payload parsed so far. */
  readonly bytesParsed: number;
  /** Called with the bytes read so far while feedFile reads a file. */
  onFileProgress: ((bytesRead: number) => void) | null;
  /** Called for each AUX field as it is read (redis-ver is logged at the start of a load). */
  onAux: ((name: string, value: string) => void) | null;
  /**
   * Called with true when more than BACKLOG_PAUSE bytes wait to be parsed (the socket feeding
   * us should stop reading: the kernel holds the rest, as it would for Redis), false once
   * the parse caught up.
   */
  onBacklog: ((behind: boolean) => void) | null;
  /** A parse error found on a later turn than the feed() of its bytes. */
  onError: ((e: Error) => void) | null;
}

/** Bytes read from a file per read (the parser stops mid-chunk when its slice is used up). */
const FILE_CHUNK = 2 * 1024 * 1024;
/**
 * Parsing time per event-loop turn. A client's request waits at most about this long behind a
 * load (plus whatever else the turn holds): Redis serves events every 2 MB of loading, about
 * the same.
 */
const LOAD_SLICE_MS = 10;
/** Fed bytes waiting to be parsed beyond which onBacklog(true) is called. */
const BACKLOG_PAUSE = 4 * 1024 * 1024;

/** Resolves on the next turn of the event loop (after I/O). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The keyspace one database's records go into as they are parsed: installed in the database
 * only once the load completed (a load is never visible half done).
 */
class LoadTarget {
  keyspace: Keyspace | null = null;
  /** The RDB's RESIZEDB hints (they precede the keys): the table is laid out for that many keys at once. */
  hintKeys = 0;
  hintExpires = 0;

  constructor(readonly clock: AccessClock) {}

  /** Adds a record; throws on a duplicated key (the load is then abandoned, as Redis does). */
  add(db: number, key: string, value: RedisValue, expireMs: number, accessField: number): void {
    const ks = (this.keyspace ??= newKeyspace(this.hintKeys, this.clock));
    if (!addLoaded(ks, key, value, expireMs)) throw new Error(`RDB has duplicated key '${key.slice(0, 128)}' in DB ${db}`);
    if (accessField >= 0) ks.touchAt(ks.findString(key), accessField);
  }
}

/**
 * Collects the records of the payload and keeps what the replication needs from AUX.
 *
 * Records go straight into their database's new keyspace as they are parsed: the key and value
 * strings the parser made are garbage at once (young, cheap to collect), and a small aggregate
 * is stored as bytes (store/at-rest.ts). (An earlier design kept the records in arrays and filled
 * the tables later, for JS Maps; the survivors then made old garbage that stayed resident.)
 * The keyspaces join the databases at the end: a load is never visible half done.
 */
class DatasetSink implements RdbSink {
  keysLoaded = 0;
  keysExpired = 0;
  keysExpected = 0;
  readonly auxFields = new Map<string, string>();
  readonly functions = new Map<string, { engine: string; code: string }>();
  /** Per database: the keyspace being filled. */
  private readonly targets: Array<LoadTarget | undefined> = [];

  constructor(
    private readonly dbs: Database[],
    /** A master drops keys already expired at this time (Unix ms); a replica keeps them (-1). */
    private readonly dropExpiredBefore: number,
  ) {}

  key(db: number, key: string, value: RedisValue, expireMs: number, lruIdle: number, lfuFreq: number): void {
    if (!this.dbs[db]) throw new Error(`RDB selects DB ${db}, beyond the configured databases`);
    if (expireMs !== -1 && expireMs < this.dropExpiredBefore) {
      this.keysExpired++;
      return;
    }
    const target = this.dbs[db];
    const access = lruIdle >= 0 || lfuFreq >= 0 ? target.clock.fromIdleOrFreq(lruIdle, lfuFreq) : -1;
    (this.targets[db] ??= new LoadTarget(target.clock)).add(db, key, value, expireMs, access);
    this.keysLoaded++;
  }

  /** The payload is complete: the keyspaces join their databases. */
  install(): void {
    for (let db = 0; db < this.targets.length; db++) {
      const t = this.targets[db];
      if (t === undefined) continue;
      this.dbs[db]!.install(t.keyspace ?? newKeyspace(0, t.clock));
      this.targets[db] = undefined;
    }
  }

  onAux: ((name: string, value: string) => void) | null = null;

  aux(name: string, value: string): void {
    this.auxFields.set(name, value);
    this.onAux?.(name, value);
  }

  resizeDb(db: number, size: number, expires: number): void {
    this.keysExpected += size;
    if (!this.dbs[db]) return;
    const t = (this.targets[db] ??= new LoadTarget(this.dbs[db].clock));
    t.hintKeys += size;
    t.hintExpires += expires;
  }

  /** A hash with field TTLs comes next (the value holds them): active field expiry must know its key. */
  hashFieldTtls(db: number, key: string): void {
    this.dbs[db]?.fieldTtlKeys.add(key);
  }

  function(code: string): void {
    // "#!lua name=<lib> ..." : the library name is in the shebang line.
    const m = /^#!(\w+)[^\n]*\bname=([^\s]+)/.exec(code);
    const name = m?.[2] ?? `library${this.functions.size}`;
    this.functions.set(name, { engine: m?.[1] ?? "lua", code });
  }
}

interface DatasetLoadOptions {
  /**
   * Drop keys whose expiry is before this time (Unix ms), as a master loading its dataset file
   * does (Redis's rdbLoad when iAmMaster()); a replica keeps them and waits for its master's
   * DELs. Default: keep everything.
   */
  dropExpiredBefore?: number;
}

export function beginDatasetLoad(server: Server, dbs: Database[], options: DatasetLoadOptions = {}): DatasetLoad {
  const sink = new DatasetSink(dbs, options.dropExpiredBefore ?? -1);
  const parser = new RdbParser(sink, { maxDatabases: dbs.length, ...encodingThresholds(server.config) });
  let aborted = false;
  let failure: Error | null = null;
  /** Chunks fed and not yet handed to the parser (it takes one at a time, see work()). */
  const queue: Buffer[] = [];
  let queuedBytes = 0;
  let scheduled = false;
  let behind = false;
  let waiters: Array<() => void> = [];

  const fail = (e: unknown) => {
    failure = e instanceof Error ? e : new Error(String(e));
    queue.length = 0;
    queuedBytes = 0;
    load.onError?.(failure);
    const done = waiters;
    waiters = [];
    for (const w of done) w();
  };
  const schedule = () => {
    if (!behind && queuedBytes > BACKLOG_PAUSE) {
      behind = true;
      load.onBacklog?.(true);
    }
    if (scheduled) return;
    scheduled = true;
    const next = () => {
      scheduled = false;
      work();
    };
    // key-load-delay: the records of the last slice owe a pause (Redis sleeps per key).
    if (owedMs > 0) setTimeout(next, owedMs);
    else setImmediate(next);
    owedMs = 0;
  };
  /** Milliseconds the records of the last slice owe (key-load-delay), paid before the next. */
  let owedMs = 0;
  /**
   * Parses for one slice; schedules the next turn if input is left. A slice ends after
   * LOAD_SLICE_MS or once loading-process-events-interval-bytes were parsed (whole chunks: the
   * bytes of a chunk are parsed together); with key-load-delay, after the parser's smallest
   * step (128 records), which then owe their delay as a pause before the next slice.
   */
  const work = () => {
    if (aborted || failure) return;
    const keyDelayUs = server.config.num("key-load-delay");
    const eventBytes = server.config.num("loading-process-events-interval-bytes");
    const deadline = keyDelayUs > 0 ? 0 : performance.now() + LOAD_SLICE_MS;
    const keysBefore = sink.keysLoaded;
    const bytesBefore = parser.bytesConsumed;
    const endSlice = () => {
      if (keyDelayUs > 0) owedMs = ((sink.keysLoaded - keysBefore) * keyDelayUs) / 1000;
      schedule();
    };
    try {
      if (parser.suspended && !parser.resume(deadline)) return endSlice();
      let fed = parser.bytesConsumed !== bytesBefore;
      while (queue.length > 0) {
        if (fed && (performance.now() >= deadline || parser.bytesConsumed - bytesBefore >= eventBytes)) return endSlice();
        const chunk = queue.shift()!;
        queuedBytes -= chunk.length;
        fed = true;
        if (!parser.feed(chunk, deadline)) return endSlice();
      }
    } catch (e) {
      fail(e);
      return;
    }
    if (keyDelayUs > 0 && sink.keysLoaded !== keysBefore) {
      // The delay the last records owe is paid before the load is seen as caught up.
      owedMs = ((sink.keysLoaded - keysBefore) * keyDelayUs) / 1000;
      return schedule();
    }
    if (behind) {
      behind = false;
      load.onBacklog?.(false);
    }
    const done = waiters;
    waiters = [];
    for (const w of done) w();
  };
  // A slice scheduled (a key-load-delay pause owed, input behind) is work still to do.
  const idle = () => queue.length === 0 && !parser.suspended && !scheduled;

  const load: DatasetLoad = {
    get keysLoaded() {
      return sink.keysLoaded;
    },
    get keysExpected() {
      return sink.keysExpected;
    },
    get bytesParsed() {
      return parser.bytesConsumed;
    },
    onFileProgress: null,
    onBacklog: null,
    onError: null,
    set onAux(fn: ((name: string, value: string) => void) | null) {
      sink.onAux = fn;
    },
    get onAux() {
      return sink.onAux;
    },
    feed(chunk) {
      if (aborted || failure || chunk.length === 0) return;
      queue.push(chunk);
      queuedBytes += chunk.length;
      // Behind already: the chunk waits for the scheduled slice (one slice per turn).
      if (!scheduled) work();
      else schedule();
    },
    drain() {
      if (idle() || aborted || failure) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    async feedFile(path, stillWanted, atStartup = false) {
      let fd = -1;
      let read = 0;
      const onError = load.onError;
      let error: Error | null = null;
      load.onError = (e) => (error = e);
      try {
        fd = openSync(path, "r");
        while (!aborted && error === null) {
          // A fresh buffer per chunk: the parser may keep a reference to its tail.
          const buf = Buffer.allocUnsafe(FILE_CHUNK);
          const n = readSync(fd, buf, 0, FILE_CHUNK, null);
          if (n <= 0) break;
          load.feed(n === FILE_CHUNK ? buf : buf.subarray(0, n));
          read += n;
          // A small file parsed at once is loaded without a turn of the event loop: atomic for
          // clients (Redis too only processes events every 2 MB of loading).
          if (n < FILE_CHUNK && idle()) {
            load.onFileProgress?.(read);
            break;
          }
          // Serve clients (-LOADING) and the master link between slices.
          await nextTurn();
          await load.drain();
          if (!stillWanted()) return false;
          load.onFileProgress?.(read);
        }
        if (error !== null) throw error;
        return !aborted;
      } catch (e) {
        if (atStartup) logLoadFailure(server, e);
        else server.log.warning(`Error loading the RDB: ${(e as Error).message}`);
        return false;
      } finally {
        load.onError = onError;
        if (fd >= 0) closeSync(fd);
      }
    },
    async finish() {
      // What is still queued or suspended is parsed in its slices first (not at once by end()).
      await load.drain();
      if (aborted) return null;
      if (failure) throw failure;
      parser.end();
      sink.install();
      const db = sink.auxFields.get("repl-stream-db");
      return {
        dbs,
        keysLoaded: sink.keysLoaded,
        keysExpired: sink.keysExpired,
        aux: sink.auxFields,
        replStreamDb: db === undefined ? undefined : Number(db),
        functions: sink.functions,
      };
    },
    abort() {
      aborted = true;
      queue.length = 0;
      queuedBytes = 0;
      const done = waiters;
      waiters = [];
      for (const w of done) w();
    },
  };
  return load;
}

/**
 * A dataset file that failed to load at start-up (the server then exits), logged with the words of Redis's rdbLoad /
 * rdbReportError that operators and log watchers look for ("RDB CRC error", "Short read"),
 * followed by what we found.
 */
export function logLoadFailure(server: Server, e: unknown): void {
  const log = server.log;
  const message = (e as Error)?.message ?? String(e);
  if (!(e instanceof RdbError)) {
    log.warning(`Error loading the RDB: ${message}`);
    return;
  }
  const at = Math.max(e.offset, 0);
  if (e.kind === "checksum") {
    log.warning(`Wrong RDB checksum: ${message}. Aborting now.`);
    log.warning(`Internal error in RDB reading offset ${at} -> RDB CRC error`);
  } else if (e.kind === "truncated") {
    log.warning(`Short read or OOM loading DB. Unrecoverable error, aborting now. (${message})`);
  } else {
    log.warning(`Internal error in RDB reading offset ${at} -> ${message}`);
  }
  log.warning("Terminating server after rdb file reading failure.");
}
