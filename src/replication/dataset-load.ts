// Loading a full-sync RDB into fresh databases, from the socket (diskless) or from the file
// (disk-based). The old dataset stays in place until the new one loaded completely, so a
// corrupt or truncated payload aborts the sync without losing what we hold.

import { openSync, readSync, closeSync } from "node:fs";
import { RdbParser, type RdbSink } from "../rdb/reader.ts";
import type { Server } from "../server/server.ts";
import type { Database } from "../store/database.ts";
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
  /** Parses a chunk of the payload (throws on corrupt data). */
  feed(chunk: Buffer): void;
  /** Reads and parses a whole file in large chunks, yielding to the event loop between them. */
  feedFile(path: string, stillWanted: () => boolean): Promise<boolean>;
  /** The payload ended: checks it was complete and returns the loaded dataset. */
  finish(): LoadedDataset;
  abort(): void;
  /** Keys loaded so far (for progress reports). */
  readonly keysLoaded: number;
  /** Keys the RDB announced so far (RESIZEDB hints of the databases seen): 0 when none. */
  readonly keysExpected: number;
  /** Called with the bytes read so far while feedFile reads a file. */
  onFileProgress: ((bytesRead: number) => void) | null;
  /** Called for each AUX field as it is read (redis-ver is logged at the start of a load). */
  onAux: ((name: string, value: string) => void) | null;
}

const FILE_CHUNK = 8 * 1024 * 1024;

/** Puts records into the target databases and keeps what the replication needs from AUX. */
class DatasetSink implements RdbSink {
  keysLoaded = 0;
  keysExpired = 0;
  keysExpected = 0;
  readonly auxFields = new Map<string, string>();
  readonly functions = new Map<string, { engine: string; code: string }>();
  constructor(
    private readonly dbs: Database[],
    /** A master drops keys already expired at this time (Unix ms); a replica keeps them (-1). */
    private readonly dropExpiredBefore: number,
  ) {}

  key(db: number, key: string, value: RedisValue, expireMs: number): void {
    const target = this.dbs[db];
    if (!target) throw new Error(`RDB selects DB ${db}, beyond the configured databases`);
    if (expireMs !== -1 && expireMs < this.dropExpiredBefore) {
      this.keysExpired++;
      return;
    }
    // One Map operation, not has() + set(): a duplicate shows as an unchanged size. Overwriting
    // the first value does not matter, the load is abandoned (fresh databases, as Redis does).
    const keys = target.keys;
    const before = keys.size;
    keys.set(key, value);
    if (keys.size === before) throw new Error(`RDB has duplicated key '${key.slice(0, 128)}' in DB ${db}`);
    if (expireMs !== -1) target.expires.set(key, expireMs);
    this.keysLoaded++;
  }

  onAux: ((name: string, value: string) => void) | null = null;

  aux(name: string, value: string): void {
    this.auxFields.set(name, value);
    this.onAux?.(name, value);
  }

  resizeDb(_db: number, size: number): void {
    this.keysExpected += size;
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

export interface DatasetLoadOptions {
  /**
   * Drop keys whose expiry is before this time (Unix ms), as a master loading its dataset file
   * does (Redis's rdbLoad when iAmMaster()); a replica keeps them and waits for its master's
   * DELs. Default: keep everything.
   */
  dropExpiredBefore?: number;
}

export function beginDatasetLoad(server: Server, dbs: Database[], options: DatasetLoadOptions = {}): DatasetLoad {
  const sink = new DatasetSink(dbs, options.dropExpiredBefore ?? -1);
  const parser = new RdbParser(sink, {
    maxDatabases: dbs.length,
    hashMaxListpackEntries: server.config.num("hash-max-listpack-entries"),
    hashMaxListpackValue: server.config.num("hash-max-listpack-value"),
    zsetMaxListpackEntries: server.config.num("zset-max-listpack-entries"),
    zsetMaxListpackValue: server.config.num("zset-max-listpack-value"),
    setMaxIntsetEntries: server.config.num("set-max-intset-entries"),
    listMaxListpackSize: server.config.num("list-max-listpack-size"),
  });
  let aborted = false;
  return {
    get keysLoaded() {
      return sink.keysLoaded;
    },
    get keysExpected() {
      return sink.keysExpected;
    },
    onFileProgress: null,
    set onAux(fn: ((name: string, value: string) => void) | null) {
      sink.onAux = fn;
    },
    get onAux() {
      return sink.onAux;
    },
    feed(chunk) {
      if (!aborted) parser.feed(chunk);
    },
    async feedFile(path, stillWanted) {
      let fd = -1;
      let read = 0;
      try {
        fd = openSync(path, "r");
        while (!aborted) {
          // A fresh buffer per chunk: the parser may keep a reference to its tail.
          const buf = Buffer.allocUnsafe(FILE_CHUNK);
          const n = readSync(fd, buf, 0, FILE_CHUNK, null);
          if (n <= 0) break;
          parser.feed(buf.subarray(0, n));
          read += n;
          this.onFileProgress?.(read);
          // The whole file is read: finish without a turn of the event loop, so a small load is
          // atomic for clients (Redis too only processes events every 2 MB of loading).
          if (n < FILE_CHUNK) break;
          // Serve clients (-LOADING) and the master link between chunks, not per record.
          await new Promise((r) => setImmediate(r));
          if (!stillWanted()) return false;
        }
        return !aborted;
      } catch (e) {
        server.log.warning(`Error loading the RDB: ${(e as Error).message}`);
        return false;
      } finally {
        if (fd >= 0) closeSync(fd);
      }
    },
    finish() {
      parser.end();
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
    },
  };
}
