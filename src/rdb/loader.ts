// Loading an RDB into databases: the sink that stores records into `Database`s (with expiry,
// refusing duplicate keys like Redis), collects AUX fields and function libraries, and helpers
// that read a file (or a buffer) in large chunks and feed the parser synchronously.
//
// Keys whose expiry is already in the past are kept: a replica must not expire keys on its
// own, and a master decides what to do with them after loading (the caller's business).

import { closeSync, openSync, readSync } from "node:fs";
import { RdbError } from "./errors.ts";
import { RdbParser, type PreGaFunctionLibrary, type RdbReaderOptions, type RdbSink } from "./reader.ts";
import type { Database } from "../store/database.ts";
import type { RedisValue } from "../store/values.ts";

/** A function library from a FUNCTION2 record. */
interface FunctionLibrary {
  name: string;
  engine: string;
  code: string;
}

/** Module data found outside the keyspace (MODULE_AUX), kept verbatim. */
interface ModuleAuxRecord {
  moduleId: bigint;
  payload: Buffer;
}

/** Puts records into databases. Use with RdbParser, or through loadRdbFile / loadRdbBuffer. */
export class DatabaseLoadSink implements RdbSink {
  keysLoaded = 0;
  keysWithExpiry = 0;
  /** Empty aggregates skipped (Redis logs "empty keys skipped: N"). */
  emptyKeysSkipped = 0;
  /** Hash fields with a TTL (Redis 7.4 / Valkey 9) loaded. */
  hashFieldTtlsLoaded = 0;
  readonly auxFields = new Map<string, string>();
  /** FUNCTION2 libraries by name. */
  readonly functions = new Map<string, FunctionLibrary>();
  /** Function libraries in the Redis 7.0 RC format (Redis 7.0 GA refuses to load them). */
  readonly preGaFunctions: PreGaFunctionLibrary[] = [];
  readonly moduleAuxRecords: ModuleAuxRecord[] = [];
  /** Set to report byte offsets in errors (loadRdbFile/loadRdbBuffer do it). */
  parser: RdbParser | null = null;

  /**
   * @param allowDuplicates replace a key seen twice instead of failing (Redis's
   *   RDBFLAGS_ALLOW_DUP, used by DEBUG RELOAD); default false, as a normal load.
   */
  constructor(
    readonly dbs: Database[],
    readonly allowDuplicates = false,
  ) {}

  key(db: number, key: string, value: RedisValue, expireMs: number, lruIdle = -1, lfuFreq = -1): void {
    const target = this.dbs[db];
    if (target === undefined) {
      throw new RdbError("unsupported", this.offset(), `the RDB has keys in DB ${db}, but only ${this.dbs.length} databases are configured`);
    }
    if (!target.add(key, value, expireMs)) {
      if (!this.allowDuplicates) {
        throw new RdbError("duplicate-key", this.offset(), `RDB has duplicated key '${key.length > 128 ? `${key.slice(0, 128)}...` : key}' in DB ${db}`);
      }
      target.set(key, value);
      if (expireMs !== -1) target.setExpire(key, expireMs);
    }
    // The RDB's IDLE / FREQ, in the form the policy uses (objectSetLRUOrLFU).
    if (lruIdle >= 0 || lfuFreq >= 0) {
      const access = target.clock.fromIdleOrFreq(lruIdle, lfuFreq);
      if (access >= 0) target.ks.touchAt(target.find(key), access);
    }
    if (expireMs !== -1) this.keysWithExpiry++;
    this.keysLoaded++;
  }

  aux(name: string, value: string): void {
    this.auxFields.set(name, value);
  }

  function(code: string): void {
    // "#!lua name=<lib> ..." : the engine and the library name are in the shebang line.
    const m = /^#!(\S+)[^\n]*?\bname=(\S+)/.exec(code);
    const name = m?.[2] ?? `library${this.functions.size}`;
    this.functions.set(name, { name, engine: m?.[1] ?? "lua", code });
  }

  functionPreGa(library: PreGaFunctionLibrary): void {
    this.preGaFunctions.push(library);
  }

  moduleAux(moduleId: bigint, payload: Buffer): void {
    this.moduleAuxRecords.push({ moduleId, payload });
  }

  /** The value (which holds its TTLs) comes right after: its key joins the db's field-TTL keys. */
  hashFieldTtls(db: number, key: string, ttls: Map<string, number>): void {
    this.hashFieldTtlsLoaded += ttls.size;
    this.dbs[db]?.fieldTtlKeys.add(key);
  }

  emptyKey(): void {
    this.emptyKeysSkipped++;
  }

  /** AUX repl-id (the master's replication id), if present. */
  get replId(): string | undefined {
    return this.auxFields.get("repl-id");
  }

  /** AUX repl-offset, if present and numeric. */
  get replOffset(): number | undefined {
    const v = this.auxFields.get("repl-offset");
    return v === undefined || !/^-?\d+$/.test(v) ? undefined : Number(v);
  }

  /** AUX repl-stream-db, if present and numeric. */
  get replStreamDb(): number | undefined {
    const v = this.auxFields.get("repl-stream-db");
    return v === undefined || !/^-?\d+$/.test(v) ? undefined : Number(v);
  }

  private offset(): number {
    return this.parser ? this.parser.recordOffset : -1;
  }
}

interface RdbLoadResult {
  /** RDB version from the header. */
  version: number;
  /** Bytes of RDB parsed (excluding anything after the checksum). */
  bytes: number;
  /** Bytes after the end of the RDB (an AOF tail...), ignored. */
  trailingBytes: number;
  checksumVerified: boolean;
  sink: DatabaseLoadSink;
}

interface LoadFileOptions extends RdbReaderOptions {
  /** Read size (default 8 MiB). */
  chunkSize?: number;
  /** Called after each chunk is parsed, with the bytes read so far (progress reports). */
  onChunk?(bytesRead: number): void;
  /**
   * For readers that keep nothing (the tools): when the resident memory has grown by more than
   * this many bytes since the start, a full collection runs. The parser's garbage (every value
   * is built, then dropped) would otherwise pile up to several times the live data before the
   * collector's own heuristics take it back.
   */
  memoryBudget?: number;
}

const DEFAULT_CHUNK = 8 * 1024 * 1024;

/** The tools' memoryBudget (see LoadFileOptions): `rdb check` of any file stays near this. */
export const TOOL_MEMORY_BUDGET = 48 * 1024 * 1024;

function result(parser: RdbParser, sink: DatabaseLoadSink): RdbLoadResult {
  return {
    version: parser.version,
    bytes: parser.bytesConsumed,
    trailingBytes: parser.trailingBytes,
    checksumVerified: parser.checksumVerified,
    sink,
  };
}

function makeParser(dbs: Database[], options: RdbReaderOptions): { parser: RdbParser; sink: DatabaseLoadSink } {
  const sink = new DatabaseLoadSink(dbs);
  const parser = new RdbParser(sink, { maxDatabases: dbs.length, ...options });
  sink.parser = parser;
  return { parser, sink };
}

/** Loads an RDB held in memory into `dbs`. Throws RdbError on bad data. */
export function loadRdbBuffer(data: Buffer, dbs: Database[], options: RdbReaderOptions = {}): RdbLoadResult {
  const { parser, sink } = makeParser(dbs, options);
  parser.feed(data);
  parser.end();
  return result(parser, sink);
}

/** Loads an RDB file into `dbs` synchronously, reading it in large chunks. */
export function loadRdbFileSync(path: string, dbs: Database[], options: LoadFileOptions = {}): RdbLoadResult {
  const { parser, sink } = makeParser(dbs, options);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  const fd = openSync(path, "r");
  try {
    while (!parser.done) {
      // A fresh buffer per chunk: the parser may keep a reference to an unfinished record.
      const chunk = Buffer.allocUnsafe(chunkSize);
      const n = readSync(fd, chunk, 0, chunkSize, null);
      if (n <= 0) break;
      parser.feed(n === chunkSize ? chunk : chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  parser.end();
  return result(parser, sink);
}

/**
 * Parses an RDB file into any sink synchronously (the tools' path: check, export), reading it
 * in large chunks. Returns the finished parser (version, checksum status, trailing bytes).
 * Throws RdbError on bad data; `onParser` sees the parser before the first byte is fed.
 */
export function parseRdbFileSync(path: string, sink: RdbSink, options: LoadFileOptions = {}, onParser?: (parser: RdbParser) => void): RdbParser {
  const parser = new RdbParser(sink, options);
  onParser?.(parser);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  const fd = openSync(path, "r");
  let bytesRead = 0;
  const budget = options.memoryBudget;
  let rssLimit = budget === undefined ? Infinity : process.memoryUsage.rss() + budget;
  try {
    while (!parser.done) {
      const chunk = Buffer.allocUnsafe(chunkSize);
      const n = readSync(fd, chunk, 0, chunkSize, null);
      if (n <= 0) break;
      parser.feed(n === chunkSize ? chunk : chunk.subarray(0, n));
      bytesRead += n;
      options.onChunk?.(bytesRead);
      if (process.memoryUsage.rss() > rssLimit) {
        Bun.gc(true);
        // What survived the collection is live (a tool's own tables): the budget is beyond it.
        rssLimit = Math.max(rssLimit, process.memoryUsage.rss() + budget! / 2);
      }
    }
  } finally {
    closeSync(fd);
  }
  parser.end();
  return parser;
}
