// The reader's interfaces: what it reports (RdbSink) and the options that decide the encoding
// of the values it builds (RdbReaderOptions). Apart from reader.ts so that every layer of the
// reader (reader-input.ts, reader-streams.ts, reader-values.ts, reader.ts) can name them.

import type { Config } from "../config/config.ts";
import type { RedisValue } from "../store/values.ts";

/** The encoding thresholds of values (what a load converts to and what a writer packs). */
export interface EncodingThresholds {
  hashMaxListpackEntries: number; // hash-max-listpack-entries
  hashMaxListpackValue: number; // hash-max-listpack-value
  zsetMaxListpackEntries: number; // zset-max-listpack-entries
  zsetMaxListpackValue: number; // zset-max-listpack-value
  setMaxIntsetEntries: number; // set-max-intset-entries
  listMaxListpackSize: number; // list-max-listpack-size
}

/** The server's thresholds, as both RDB writes and loads use them (rdbLoadObject converts). */
export function encodingThresholds(config: Config): EncodingThresholds {
  return {
    hashMaxListpackEntries: config.num("hash-max-listpack-entries"),
    hashMaxListpackValue: config.num("hash-max-listpack-value"),
    zsetMaxListpackEntries: config.num("zset-max-listpack-entries"),
    zsetMaxListpackValue: config.num("zset-max-listpack-value"),
    setMaxIntsetEntries: config.num("set-max-intset-entries"),
    listMaxListpackSize: config.num("list-max-listpack-size"),
  };
}

/** A Redis 7.0 release-candidate function library (FUNCTION_PRE_GA opcode). */
export interface PreGaFunctionLibrary {
  name: string;
  engine: string;
  description: string | null;
  code: string;
}

/** Receives the content of an RDB, record by record. Only `key` is required. */
export interface RdbSink {
  /** A key/value record. expireMs = absolute unix ms or -1. lru idle secs / lfu freq or -1. */
  key(db: number, key: string, value: RedisValue, expireMs: number, lruIdle: number, lfuFreq: number): void;
  /** AUX fields: redis-ver, redis-bits, ctime, used-mem, repl-id, repl-offset, repl-stream-db, aof-base, lua... */
  aux?(name: string, value: string): void;
  /** RESIZEDB hint for the current db. */
  resizeDb?(db: number, size: number, expires: number): void;
  selectDb?(db: number): void;
  /** A function library (FUNCTION2): its code, starting with "#!<engine> name=<library>". */
  function?(code: string): void;
  /** A Redis 7.0 RC function library (FUNCTION_PRE_GA); Redis 7.0 GA refuses these. */
  functionPreGa?(library: PreGaFunctionLibrary): void;
  /** MODULE_AUX data: the module id and the serialized bytes after it (when-opcode, when, data, EOF). */
  moduleAux?(moduleId: bigint, payload: Buffer): void;
  /** SLOT_INFO (7.4+ cluster dumps): sizing hints for one slot. */
  slotInfo?(slot: number, size: number, expiresSize: number): void;
  /** Called before `key` for a 7.4 / Valkey 9 hash whose fields have TTLs: field -> absolute unix ms. */
  hashFieldTtls?(db: number, key: string, ttls: Map<string, number>): void;
  /** An empty aggregate, which Redis skips with a notice (old bug #8453) and so do we. */
  emptyKey?(db: number, key: string): void;
}

/** Thresholds that decide the `encoding` of loaded values (Redis 7.0 names and defaults). */
export interface RdbReaderOptions {
  /** Verify the CRC-64 trailer (default true). A zero trailer always means "not checked". */
  verifyChecksum?: boolean;
  /** SELECTDB beyond this is an error, as in Redis (default 16). */
  maxDatabases?: number;
  hashMaxListpackEntries?: number; // 512
  hashMaxListpackValue?: number; // 64
  zsetMaxListpackEntries?: number; // 128
  zsetMaxListpackValue?: number; // 64
  setMaxIntsetEntries?: number; // 512
  /**
   * Redis 7.2+ listpack sets: when set, sets load as "listpack" within these limits (7.2 rules).
   * Unset (default): Redis 7.0 rules, which know intset and hashtable only.
   */
  setMaxListpackEntries?: number;
  setMaxListpackValue?: number; // 64
  /** list-max-listpack-size (default -2); only used with `listpackLists`. */
  listMaxListpackSize?: number;
  /**
   * Redis 7.2+ rule: small lists are "listpack". Default false: Redis 7.0 reports every list as
   * "quicklist" (checked against redis-server 7.0.15).
   */
  listpackLists?: boolean;
  /** Longest string accepted (default 2^31 - 2, the most a JS string can hold). */
  maxStringLength?: number;
  /**
   * Key records are handed to the sink in batches of this many (default 256; 1 = at once).
   * Order is kept: a batch is flushed before any other sink call, at the end of the RDB and
   * before an error is thrown. Inside `key`, `valueType` and `recordOffset` describe the
   * record being delivered. Why: parsing and inserting in separate runs keeps each loop's code
   * and data hot. Not more: a load that yields every few milliseconds (dataset/load.ts) can
   * only stop between batches, and 4096 records cost 50-90 ms while the code was still cold.
   */
  keyBatch?: number;
}
