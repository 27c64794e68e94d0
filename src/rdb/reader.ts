// The RDB reader: a push parser that turns the bytes of an RDB (a file, a disk-based transfer
// or a diskless socket stream alike) into calls on an RdbSink, one per record.
//
// Design
// - One Buffer and an offset; every read checks the bytes are there and otherwise throws the
//   INCOMPLETE sentinel. The record being read is then abandoned (nothing was told to the
//   sink yet) and retried from its first byte once more input arrived. State that spans
//   records (current db, pending expiry/LRU/LFU of the next key) only changes when a record
//   completes, so any record boundary is a restart point.
// - Retries are never quadratic: after a failed attempt on B buffered bytes of a record we wait
//   until both the bytes known to be missing arrived and the buffer doubled (or end() is
//   called). Only the record being read is ever buffered whole.
// - The CRC-64 is updated over completed records only, at the end of each feed().
// - Values are built as the store's types (src/store), with the `encoding` Redis 7.0 would
//   report after loading them (thresholds from the options).
// - No await, no closures per record, no BigInt on the hot paths (64-bit fields are read as
//   two uint32 and only become bigints beyond 2^53).

import { Crc64 } from "./crc64.ts";
import {
  ENC_INT16,
  ENC_INT32,
  ENC_INT8,
  ENC_LZF,
  MODULE_OPCODE_DOUBLE,
  MODULE_OPCODE_EOF,
  MODULE_OPCODE_FLOAT,
  MODULE_OPCODE_SINT,
  MODULE_OPCODE_STRING,
  MODULE_OPCODE_UINT,
  OP_AUX,
  OP_ENTERPRISE_RAM_LRU,
  OP_EOF,
  OP_EXPIRETIME,
  OP_EXPIRETIME_MS,
  OP_FREQ,
  OP_FUNCTION2,
  OP_FUNCTION_PRE_GA,
  OP_IDLE,
  OP_MODULE_AUX,
  OP_RESIZEDB,
  OP_SELECTDB,
  OP_SLOT_INFO,
  QUICKLIST_NODE_PACKED,
  QUICKLIST_NODE_PLAIN,
  RDB_MAX_VERSION,
  STREAM_ITEM_FLAG_DELETED,
  STREAM_ITEM_FLAG_SAMEFIELDS,
  TYPE_HASH,
  TYPE_HASH_LISTPACK,
  TYPE_HASH_LISTPACK_EX,
  TYPE_HASH_LISTPACK_EX_PRE_GA,
  TYPE_HASH_METADATA,
  TYPE_HASH_METADATA_PRE_GA,
  TYPE_HASH_ZIPLIST,
  TYPE_HASH_ZIPMAP,
  TYPE_LIST,
  TYPE_LIST_QUICKLIST,
  TYPE_LIST_QUICKLIST_2,
  TYPE_LIST_ZIPLIST,
  TYPE_MODULE_2,
  TYPE_MODULE_PRE_GA,
  TYPE_SET,
  TYPE_SET_INTSET,
  TYPE_SET_LISTPACK,
  TYPE_STREAM_LISTPACKS,
  TYPE_STREAM_LISTPACKS_2,
  TYPE_STREAM_LISTPACKS_3,
  TYPE_STRING,
  TYPE_ZSET,
  TYPE_ZSET_2,
  TYPE_ZSET_LISTPACK,
  TYPE_ZSET_ZIPLIST,
  VALKEY_MAX_VERSION,
  VALKEY_MIN_VERSION,
  VALKEY_TYPE_HASH_2,
  moduleTypeName,
  rdbTypeName,
} from "./constants.ts";
import { RdbError } from "./errors.ts";
import { checkIntset } from "../encoding/intset.ts";
import { decodeListpack, type PackedValue } from "../encoding/listpack.ts";
import { StructureError } from "../encoding/structure-error.ts";
import { lzfDecompressInto, lzfMaxExpansion } from "./lzf.ts";
import { decodeZiplist } from "./ziplist.ts";
import { decodeZipmap } from "./zipmap.ts";
import { HashValue, PACKED_HASH_MAX_FIELDS } from "../store/hash.ts";
import { ListValue, PACKED_LIST_MAX_CHARS, PACKED_LIST_MAX_ENTRIES } from "../store/list.ts";
import { PACKED_SET_MAX_MEMBERS, SetValue } from "../store/set.ts";
import { packedBuilder, type PackedBuilder } from "../store/packed-entries.ts";
import {
  MAX_ID,
  PendingList,
  StreamValue,
  asI64,
  compareIds,
  formatId,
  idPart,
  newConsumerGroup,
  type Consumer,
  type StreamId,
} from "../store/stream.ts";
import { ModuleValue, type RedisValue } from "../store/values.ts";
import { ZSetValue } from "../store/zset.ts";

export { RdbError } from "./errors.ts";

/** Plain hashes and sets of at most this many elements are loaded into the store's packed forms. */
const PACKED_LOAD_MAX = Math.min(PACKED_HASH_MAX_FIELDS, PACKED_SET_MAX_MEMBERS);

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
   * Key records are handed to the sink in batches of this many (default 4096; 1 = at once).
   * Order is kept: a batch is flushed before any other sink call, at the end of the RDB and
   * before an error is thrown. Inside `key`, `valueType` and `recordOffset` describe the
   * record being delivered. Why: inserting into a big keyspace Map while the parser allocates
   * makes every young-generation GC rescan that Map; batching keeps the Map untouched during
   * parsing (loads of 1M keys 10-15% faster in bench/rdb-load.bench.ts).
   */
  keyBatch?: number;
}

/** Thrown (never escapes) when a read runs past the buffered input. */
const INCOMPLETE: { readonly incomplete: true } = { incomplete: true };

const EMPTY = Buffer.alloc(0);
const TWO_POW_32 = 4294967296;
const UINT64_MAX = 18446744073709551615n;

/** Largest LZF string decompressed into the reused scratch buffer. */
const SCRATCH_MAX = 1 << 20;

const STAGE_HEADER = 0;
const STAGE_RECORDS = 1;
const STAGE_CHECKSUM = 2;
const STAGE_DONE = 3;

/** Whether a string is what Redis's string2ll accepts: the canonical decimal form of an int64. */
export function isInt64String(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20) return false;
  let i = 0;
  if (s.charCodeAt(0) === 45 /* - */) {
    if (n === 1) return false;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48 /* 0 */) return n === 1; // "0" only: no leading zeros, no "-0"
  if (first < 49 || first > 57) return false;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return false;
  }
  const digits = n - i;
  if (digits < 19) return true;
  if (digits > 19) return false;
  const body = i ? s.slice(1) : s;
  return i ? body <= "9223372036854775808" : body <= "9223372036854775807";
}

/** Parses a score as Redis's strtod would for scores it wrote ("inf", "-inf", "%.17g"). */
function parseScore(s: string): number {
  const v = Number(s);
  if (v === v && s.length !== 0) return v;
  const l = s.trim().toLowerCase();
  if (l === "inf" || l === "+inf" || l === "infinity" || l === "+infinity") return Infinity;
  if (l === "-inf" || l === "-infinity") return -Infinity;
  const f = parseFloat(l);
  return f; // NaN when unparsable: the caller rejects it
}

/** uint64 addition of two id parts (wrapping like C), normalised to number when exact. */
function addIdPart(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === "number" && typeof b === "number") {
    const s = a + b;
    if (s <= Number.MAX_SAFE_INTEGER && s >= 0) return s;
  }
  return idPart(BigInt.asUintN(64, BigInt(a) + BigInt(b)));
}

export class RdbParser {
  /** The RDB version from the header (1-12, or 80 for Valkey 9). */
  version = 0;
  /** Whether the file carries the "VALKEY" magic. */
  valkey = false;
  /** Aggregates that were empty and skipped (Redis does the same, see #8453). */
  emptyKeysSkipped = 0;
  /** Bytes received after the end of the RDB (an AOF tail, trailing garbage): ignored. */
  trailingBytes = 0;
  /** Whether the checksum was verified (false when disabled, zero in the file, or version < 5). */
  checksumVerified = false;

  private readonly sink: RdbSink;
  private readonly verifyChecksum: boolean;
  private readonly maxDatabases: number;
  private readonly hashMaxEntries: number;
  private readonly hashMaxValue: number;
  private readonly zsetMaxEntries: number;
  private readonly zsetMaxValue: number;
  private readonly intsetMaxEntries: number;
  private readonly setLpMaxEntries: number; // -1: no listpack sets (7.0)
  private readonly setLpMaxValue: number;
  private readonly listMaxSize: number;
  private readonly listpackLists: boolean;
  private readonly maxStringLength: number;

  // Input.
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Absolute offset of buf[0] in the RDB. */
  private base = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Don't retry the incomplete record before this many bytes of it are buffered. */
  private retryAt = 0;
  /**
   * A deadline stopped parsing at a record boundary with input left (see feed's `deadline`):
   * resume() goes on. Nothing else differs, the state of a boundary is complete.
   */
  private stopped = false;
  /** Position in `buf` that the last incomplete read needed (exclusive). */
  private needAt = 0;

  // Parse state (changes only at record boundaries).
  private stage = STAGE_HEADER;
  private db = 0;
  private expireMs = -1;
  private lruIdle = -1;
  private lfuFreq = -1;
  private crc: Crc64 | null = null;
  /** Absolute offset up to which the CRC was computed. */
  private crcPos = 0;
  private failure: Error | null = null;

  // Key records waiting to be handed to the sink (see keyBatch): parallel arrays.
  private readonly keyBatch: number;
  private batchCount = 0;
  private readonly batchDb: number[] = [];
  private readonly batchKey: string[] = [];
  private readonly batchValue: RedisValue[] = [];
  private readonly batchExpire: number[] = [];
  private readonly batchLru: number[] = [];
  private readonly batchLfu: number[] = [];
  private readonly batchType: number[] = [];
  private readonly batchOffset: number[] = [];
  private delivering = false;
  private deliverIndex = 0;
  /** The record being read must be delivered at once (its field TTLs were just sent). */
  private deliverNow = false;

  // The record being read, for error messages.
  private recordStart = 0;
  private recordType = -1;
  private recordKey: string | null = null;

  // The last blob read by readBlob(): bytes blobBuf[blobStart, blobEnd).
  private blobBuf: Buffer = EMPTY;
  private blobStart = 0;
  private blobEnd = 0;
  /**
   * Decompressed LZF strings land here (reused: what is read from a blob is copied out before
   * the next read). Strings above SCRATCH_MAX get a buffer of their own, not kept.
   */
  private lzfScratch: Buffer = EMPTY;

  constructor(sink: RdbSink, options: RdbReaderOptions = {}) {
    this.sink = sink;
    this.verifyChecksum = options.verifyChecksum ?? true;
    this.maxDatabases = options.maxDatabases ?? 16;
    this.hashMaxEntries = options.hashMaxListpackEntries ?? 512;
    this.hashMaxValue = options.hashMaxListpackValue ?? 64;
    this.zsetMaxEntries = options.zsetMaxListpackEntries ?? 128;
    this.zsetMaxValue = options.zsetMaxListpackValue ?? 64;
    this.intsetMaxEntries = Math.min(options.setMaxIntsetEntries ?? 512, 1 << 30);
    this.setLpMaxEntries = options.setMaxListpackEntries ?? -1;
    this.setLpMaxValue = options.setMaxListpackValue ?? 64;
    this.listMaxSize = options.listMaxListpackSize ?? -2;
    this.listpackLists = options.listpackLists ?? false;
    this.maxStringLength = Math.min(options.maxStringLength ?? 0x7ffffffe, 0x7ffffffe);
    this.keyBatch = Math.max(1, Math.floor(options.keyBatch ?? 4096));
  }

  /** True once the EOF opcode and the checksum (version >= 5) were consumed. */
  get done(): boolean {
    return this.stage === STAGE_DONE;
  }

  /** Bytes of the RDB consumed so far (complete records only). */
  get bytesConsumed(): number {
    return this.base + this.pos;
  }

  /**
   * The RDB type byte of the record being delivered (meaningful inside the sink's `key` and
   * `emptyKey` calls): tells the on-disk encoding, e.g. 13 for a ziplist hash.
   */
  get valueType(): number {
    return this.delivering ? this.batchType[this.deliverIndex]! : this.recordType;
  }

  /** Absolute offset of the first byte of the record being delivered (inside sink calls). */
  get recordOffset(): number {
    return this.delivering ? this.batchOffset[this.deliverIndex]! : this.base + this.recordStart;
  }

  /** Hands the batched key records to the sink, in order. */
  private flushKeys(): void {
    const n = this.batchCount;
    if (n === 0) return;
    this.batchCount = 0;
    const sink = this.sink;
    const dbs = this.batchDb;
    const keys = this.batchKey;
    const values = this.batchValue;
    const expires = this.batchExpire;
    const lrus = this.batchLru;
    const lfus = this.batchLfu;
    this.delivering = true;
    try {
      for (let i = 0; i < n; i++) {
        this.deliverIndex = i;
        sink.key(dbs[i]!, keys[i]!, values[i]!, expires[i]!, lrus[i]!, lfus[i]!);
      }
    } finally {
      this.delivering = false;
      keys.length = 0;
      values.length = 0;
    }
  }

  /** Field TTLs go to the sink right before their key: both are delivered at once. */
  private deliverFieldTtls(key: string, ttls: Map<string, number>): void {
    this.flushKeys();
    this.sink.hashFieldTtls?.(this.db, key, ttls);
    this.deliverNow = true;
  }

  /**
   * Parses the complete records in the input so far. Throws RdbError on bad data.
   *
   * With a `deadline` (a performance.now() time), parsing stops at the first record boundary
   * past it and returns false: the rest stays buffered until resume() (a caller slicing a long
   * load between event-loop turns). Chunks fed meanwhile wait behind it. Returns true when
   * everything fed so far was parsed (or waits for more input).
   */
  feed(chunk: Buffer, deadline = Infinity): boolean {
    if (this.failure) throw this.failure;
    if (this.stage === STAGE_DONE) {
      this.trailingBytes += chunk.length;
      return true;
    }
    if (chunk.length === 0) return !this.stopped;
    const unparsed = this.buf.length - this.pos;
    if (unparsed === 0 && this.pendingBytes === 0) {
      this.base += this.buf.length;
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.stopped) return false;
      if (unparsed + this.pendingBytes < this.retryAt) return true;
      this.merge();
    }
    return this.parse(deadline);
  }

  /** After feed() or resume() returned false: parses on (until `deadline`). Same result. */
  resume(deadline = Infinity): boolean {
    if (this.failure) throw this.failure;
    if (!this.stopped) return true;
    this.stopped = false;
    return this.parse(deadline);
  }

  /** Whether a deadline stopped the parse with buffered input left (resume() goes on). */
  get suspended(): boolean {
    return this.stopped;
  }

  /** run() over the buffer, then over what was queued behind it, until done, stopped or short. */
  private parse(deadline: number): boolean {
    for (;;) {
      this.run(deadline);
      if (this.stopped) return false;
      if (this.stage === STAGE_DONE || this.pendingBytes === 0) return true;
      // Short of input with chunks queued (they came while stopped): take them in.
      if (this.buf.length - this.pos + this.pendingBytes < this.retryAt) return true;
      this.merge();
    }
  }

  /** The input is finished: throws RdbError if the RDB is incomplete. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.stopped) this.resume();
    if (this.stage === STAGE_DONE) return;
    if (this.pendingBytes > 0) {
      this.merge();
      this.run(Infinity);
      if (this.stage === STAGE_DONE) return;
    }
    const at = this.base + this.buf.length;
    let what: string;
    if (this.stage === STAGE_HEADER) what = "the header (magic and version)";
    else if (this.stage === STAGE_CHECKSUM) what = "the 8-byte checksum after the EOF opcode";
    else if (this.pos === this.buf.length) what = "the next record (an opcode or a value type, or EOF 0xFF)";
    else what = this.describeRecord();
    const missing = this.needAt > this.buf.length ? `; ${this.needAt - this.buf.length} more bytes were needed` : "";
    this.flushKeysBeforeError();
    throw this.fail(new RdbError("truncated", at, `RDB truncated: the input ended while reading ${what}${missing}`));
  }

  private describeRecord(): string {
    const start = this.base + this.recordStart;
    if (this.recordType < 0) return `the record at offset ${start}`;
    const what = this.recordType >= 0xf4 || this.recordType === OP_ENTERPRISE_RAM_LRU ? `opcode 0x${this.recordType.toString(16)}` : rdbTypeName(this.recordType);
    const key = this.recordKey === null ? "" : ` key '${printable(this.recordKey)}'`;
    return `the record at offset ${start} (${what}${key})`;
  }

  private merge(): void {
    if (this.pos === this.buf.length && this.pending.length === 1) {
      // At a record boundary: the queued chunk becomes the buffer as it is (no copy).
      this.base += this.buf.length;
      this.buf = this.pending[0]!;
      this.pos = 0;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    const parts = [this.buf.subarray(this.pos), ...this.pending];
    this.base += this.pos;
    this.buf = Buffer.concat(parts);
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }

  private fail(e: unknown): Error {
    const err = e instanceof Error ? e : new Error(String(e));
    this.failure = err;
    return err;
  }

  private run(deadline: number): void {
    let records = 0;
    try {
      while (this.stage !== STAGE_DONE) {
        // The clock is read every 128 records (~30 ns each time), at a record boundary.
        if ((++records & 127) === 0 && deadline !== Infinity && this.pos < this.buf.length && performance.now() >= deadline) {
          this.stopped = true;
          break;
        }
        this.recordStart = this.pos;
        this.recordKey = null;
        this.recordType = -1;
        if (this.stage === STAGE_RECORDS) this.readRecord();
        else if (this.stage === STAGE_HEADER) this.readHeader();
        else this.readChecksum();
      }
    } catch (e) {
      this.pos = this.recordStart;
      this.deliverNow = false;
      if (e !== INCOMPLETE) {
        const err = e instanceof StructureError ? new RdbError("corrupt", this.base + this.recordStart, `corrupt RDB in ${this.describeRecord()}: ${e.message}`) : e;
        // The records before the problem still reach the sink (the tools print them). A sink
        // error among them comes first in the file: it is the one reported.
        if (!this.delivering) this.flushKeysBeforeError();
        throw this.fail(err);
      }
      const buffered = this.buf.length - this.pos;
      const missing = this.needAt - this.buf.length;
      this.retryAt = Math.max(buffered + missing, 2 * buffered);
    }
    this.updateCrc();
    if (this.stage === STAGE_DONE) {
      this.flushKeysBeforeError();
      this.trailingBytes += this.buf.length - this.pos;
      this.pending = [];
      this.pendingBytes = 0;
    }
  }

  /** flushKeys, with a sink error recorded as the parser's failure. */
  private flushKeysBeforeError(): void {
    try {
      this.flushKeys();
    } catch (e) {
      throw this.fail(e);
    }
  }

  private updateCrc(): void {
    const crc = this.crc;
    if (crc === null) return;
    const upTo = this.base + this.pos;
    if (upTo > this.crcPos) {
      crc.update(this.buf, this.crcPos - this.base, this.pos);
      this.crcPos = upTo;
    }
  }

  // ---------------------------------------------------------------- primitive reads

  private incomplete(needAt: number): never {
    this.needAt = needAt;
    throw INCOMPLETE;
  }

  private corrupt(message: string, at = this.pos): never {
    const where = this.recordType >= 0 ? ` in ${this.describeRecord()}` : "";
    throw new RdbError("corrupt", this.base + at, `corrupt RDB${where}: ${message}`);
  }

  private readByte(): number {
    const p = this.pos;
    if (p >= this.buf.length) this.incomplete(p + 1);
    this.pos = p + 1;
    return this.buf[p]!;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.incomplete(this.pos + n);
  }

  /** A length that must fit a JS number (counts, sizes). */
  private readLength(): number {
    const buf = this.buf;
    const p = this.pos;
    if (p >= buf.length) this.incomplete(p + 1);
    const b = buf[p]!;
    if (b < 0x40) {
      this.pos = p + 1;
      return b;
    }
    if (b < 0x80) {
      if (p + 2 > buf.length) this.incomplete(p + 2);
      this.pos = p + 2;
      return ((b & 0x3f) << 8) | buf[p + 1]!;
    }
    if (b === 0x80) {
      if (p + 5 > buf.length) this.incomplete(p + 5);
      this.pos = p + 5;
      return ((buf[p + 1]! << 24) | (buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!) >>> 0;
    }
    if (b === 0x81) {
      if (p + 9 > buf.length) this.incomplete(p + 9);
      const hi = ((buf[p + 1]! << 24) | (buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!) >>> 0;
      const lo = ((buf[p + 5]! << 24) | (buf[p + 6]! << 16) | (buf[p + 7]! << 8) | buf[p + 8]!) >>> 0;
      if (hi > 0x1fffff) this.corrupt(`implausible 64-bit length 0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")}`, p);
      this.pos = p + 9;
      return hi * TWO_POW_32 + lo;
    }
    this.corrupt(`expected a length, found the byte 0x${b.toString(16)}`, p);
  }

  /** A length-encoded unsigned 64-bit value (IDs, module ids): a number when exact, else a bigint. */
  private readLength64(): number | bigint {
    const buf = this.buf;
    const p = this.pos;
    if (p >= buf.length) this.incomplete(p + 1);
    if (buf[p] !== 0x81) return this.readLength();
    if (p + 9 > buf.length) this.incomplete(p + 9);
    const hi = ((buf[p + 1]! << 24) | (buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!) >>> 0;
    const lo = ((buf[p + 5]! << 24) | (buf[p + 6]! << 16) | (buf[p + 7]! << 8) | buf[p + 8]!) >>> 0;
    this.pos = p + 9;
    if (hi <= 0x1fffff) return hi * TWO_POW_32 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** int64 little endian (millisecond times). Beyond 2^53 the value is approximate. */
  private readInt64LE(): number {
    this.ensure(8);
    const buf = this.buf;
    const p = this.pos;
    const lo = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
    const hi = buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24);
    this.pos = p + 8;
    return hi * TWO_POW_32 + lo;
  }

  /** A 64-bit big-endian unsigned value (stream IDs in raw form). */
  private readUint64BE(): number | bigint {
    this.ensure(8);
    const buf = this.buf;
    const p = this.pos;
    const hi = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
    const lo = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!) >>> 0;
    this.pos = p + 8;
    if (hi <= 0x1fffff) return hi * TWO_POW_32 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  private readDoubleLE(): number {
    this.ensure(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** The length of a plain string (after a non-encoded prefix byte `b` at `p`), or -1 for encoded strings. */
  private checkStringLength(len: number, at: number): void {
    if (len > this.maxStringLength) {
      throw new RdbError("too-large", this.base + at, `a string of ${len} bytes is longer than this implementation accepts (${this.maxStringLength})`);
    }
  }

  /** An RDB string (raw, integer-encoded or LZF) as a latin1 JS string. */
  private readString(): string {
    const buf = this.buf;
    let p = this.pos;
    if (p >= buf.length) this.incomplete(p + 1);
    const b = buf[p]!;
    let len: number;
    if (b < 0x40) {
      len = b;
      p += 1;
    } else if (b < 0x80) {
      if (p + 2 > buf.length) this.incomplete(p + 2);
      len = ((b & 0x3f) << 8) | buf[p + 1]!;
      if (len > this.maxStringLength) this.checkStringLength(len, p);
      p += 2;
    } else if (b >= 0xc0) {
      return this.readEncodedString(b);
    } else {
      len = this.readLength();
      this.checkStringLength(len, p);
      p = this.pos;
    }
    const e = p + len;
    if (e > buf.length) this.incomplete(e);
    this.pos = e;
    return buf.latin1Slice(p, e);
  }

  /** Integer-encoded and LZF strings (prefix byte 0b11xxxxxx). */
  private readEncodedString(b: number): string {
    const buf = this.buf;
    const p = this.pos;
    switch (b & 0x3f) {
      case ENC_INT8:
        if (p + 2 > buf.length) this.incomplete(p + 2);
        this.pos = p + 2;
        return String((buf[p + 1]! << 24) >> 24);
      case ENC_INT16:
        if (p + 3 > buf.length) this.incomplete(p + 3);
        this.pos = p + 3;
        return String(((buf[p + 1]! | (buf[p + 2]! << 8)) << 16) >> 16);
      case ENC_INT32:
        if (p + 5 > buf.length) this.incomplete(p + 5);
        this.pos = p + 5;
        return String(buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24));
      case ENC_LZF: {
        this.readLzfBlob();
        return this.blobBuf.latin1Slice(this.blobStart, this.blobEnd);
      }
      default:
        this.corrupt(`unknown string encoding ${b & 0x3f}`, p);
    }
  }

  /** Reads an LZF string (prefix byte at pos) and decompresses it into the blob fields. */
  private readLzfBlob(): void {
    const p0 = this.pos;
    this.pos++;
    const clen = this.readLength();
    const ulen = this.readLength();
    this.checkStringLength(clen, p0);
    this.checkStringLength(ulen, p0);
    if (clen === 0) this.corrupt("LZF string with 0 compressed bytes", p0);
    if (ulen > lzfMaxExpansion(clen)) this.corrupt(`LZF string of ${clen} bytes cannot expand to ${ulen}`, p0);
    this.ensure(clen);
    const start = this.pos;
    this.pos += clen;
    let out = this.lzfScratch;
    if (ulen > out.length) {
      out = Buffer.allocUnsafe(ulen <= SCRATCH_MAX ? Math.max(ulen, 65536) : ulen);
      if (ulen <= SCRATCH_MAX) this.lzfScratch = out;
    }
    try {
      lzfDecompressInto(this.buf, start, start + clen, out, ulen);
      this.blobBuf = out;
    } catch (e) {
      if (e instanceof StructureError) this.corrupt(`invalid LZF data: ${e.message}`, p0);
      throw e;
    }
    this.blobStart = 0;
    this.blobEnd = ulen;
  }

  /**
   * An RDB string as bytes, without copying when it is stored raw: sets blobBuf[blobStart,
   * blobEnd). Integer-encoded strings become their decimal digits, as in Redis.
   */
  private readBlob(): void {
    const buf = this.buf;
    const p = this.pos;
    if (p >= buf.length) this.incomplete(p + 1);
    const b = buf[p]!;
    if (b >= 0xc0) {
      if ((b & 0x3f) === ENC_LZF) return this.readLzfBlob();
      const digits = this.readEncodedString(b);
      this.blobBuf = Buffer.from(digits, "latin1");
      this.blobStart = 0;
      this.blobEnd = this.blobBuf.length;
      return;
    }
    const len = this.readLength();
    this.checkStringLength(len, p);
    const start = this.pos;
    const e = start + len;
    if (e > buf.length) this.incomplete(e);
    this.pos = e;
    this.blobBuf = buf;
    this.blobStart = start;
    this.blobEnd = e;
  }

  /** Skips an RDB string without decoding it (module values). */
  private skipString(): void {
    const p = this.pos;
    if (p >= this.buf.length) this.incomplete(p + 1);
    const b = this.buf[p]!;
    if (b >= 0xc0) {
      switch (b & 0x3f) {
        case ENC_INT8:
          this.ensure(2);
          this.pos += 2;
          return;
        case ENC_INT16:
          this.ensure(3);
          this.pos += 3;
          return;
        case ENC_INT32:
          this.ensure(5);
          this.pos += 5;
          return;
        case ENC_LZF: {
          this.pos++;
          const clen = this.readLength();
          this.readLength();
          this.checkStringLength(clen, p);
          this.ensure(clen);
          this.pos += clen;
          return;
        }
        default:
          this.corrupt(`unknown string encoding ${b & 0x3f}`, p);
      }
    }
    const len = this.readLength();
    this.checkStringLength(len, p);
    this.ensure(len);
    this.pos += len;
  }

  // ---------------------------------------------------------------- records

  private readHeader(): void {
    this.ensure(9);
    const buf = this.buf;
    const p = this.pos;
    const magic5 = buf.latin1Slice(p, p + 5);
    let digits: string;
    if (magic5 === "REDIS") {
      digits = buf.latin1Slice(p + 5, p + 9);
    } else if (magic5 === "VALKE" && buf[p + 5] === 0x59 /* Y */) {
      digits = buf.latin1Slice(p + 6, p + 9);
      this.valkey = true;
    } else {
      throw new RdbError("corrupt", this.base + p, `not an RDB file: expected the magic "REDIS" or "VALKEY", found ${JSON.stringify(buf.latin1Slice(p, p + 9))}`);
    }
    if (!/^[0-9]+$/.test(digits)) {
      throw new RdbError("corrupt", this.base + p, `not an RDB file: the version ${JSON.stringify(digits)} is not a number`);
    }
    const version = Number(digits);
    if (this.valkey) {
      if (version < VALKEY_MIN_VERSION || version > VALKEY_MAX_VERSION) {
        throw new RdbError("unsupported", this.base + p, `unsupported Valkey RDB version ${version} (this reader handles ${VALKEY_MIN_VERSION} to ${VALKEY_MAX_VERSION})`);
      }
    } else if (version < 1 || version > RDB_MAX_VERSION) {
      throw new RdbError("unsupported", this.base + p, `unsupported RDB version ${version} (this reader handles 1 to ${RDB_MAX_VERSION})`);
    }
    this.version = version;
    this.pos = p + 9;
    if (this.verifyChecksum && version >= 5) this.crc = new Crc64();
    this.stage = STAGE_RECORDS;
  }

  private readChecksum(): void {
    if (this.version < 5) {
      this.stage = STAGE_DONE;
      return;
    }
    this.ensure(8);
    const buf = this.buf;
    const p = this.pos;
    this.updateCrc(); // the CRC covers everything up to and including the EOF opcode
    let zero = true;
    for (let i = 0; i < 8; i++) if (buf[p + i] !== 0) zero = false;
    if (!zero && this.crc !== null) {
      if (!this.crc.matchesLE(buf, p)) {
        const found = buf.readBigUInt64LE(p);
        throw new RdbError(
          "checksum",
          this.base + p,
          `RDB checksum mismatch: the file says 0x${found.toString(16).padStart(16, "0")}, the content hashes to 0x${this.crc.value.toString(16).padStart(16, "0")}`,
        );
      }
      this.checksumVerified = true;
    }
    this.pos = p + 8;
    this.stage = STAGE_DONE;
  }

  private readRecord(): void {
    const type = this.readByte();
    this.recordType = type;
    if (type < 0x20) {
      // A key/value pair.
      const key = this.readString();
      this.recordKey = key;
      const value = this.readValue(type, key);
      if (value === null) {
        this.emptyKeysSkipped++;
        this.flushKeys();
        this.sink.emptyKey?.(this.db, key);
      } else if (this.deliverNow || this.keyBatch === 1) {
        this.deliverNow = false;
        this.sink.key(this.db, key, value, this.expireMs, this.lruIdle, this.lfuFreq);
      } else {
        const i = this.batchCount++;
        this.batchDb[i] = this.db;
        this.batchKey[i] = key;
        this.batchValue[i] = value;
        this.batchExpire[i] = this.expireMs;
        this.batchLru[i] = this.lruIdle;
        this.batchLfu[i] = this.lfuFreq;
        this.batchType[i] = type;
        this.batchOffset[i] = this.base + this.recordStart;
        if (i + 1 >= this.keyBatch) this.flushKeys();
      }
      this.expireMs = -1;
      this.lruIdle = -1;
      this.lfuFreq = -1;
      return;
    }
    switch (type) {
      case OP_EXPIRETIME_MS:
        this.expireMs = this.readInt64LE();
        return;
      case OP_EXPIRETIME: {
        this.ensure(4);
        const secs = this.buf.readInt32LE(this.pos);
        this.pos += 4;
        this.expireMs = secs * 1000;
        return;
      }
      case OP_FREQ:
        this.lfuFreq = this.readByte();
        return;
      case OP_IDLE: {
        const idle = this.readLength64();
        this.lruIdle = typeof idle === "number" ? idle : Number(idle);
        return;
      }
      case OP_SELECTDB: {
        const db = this.readLength();
        if (db >= this.maxDatabases) {
          throw new RdbError("unsupported", this.base + this.recordStart, `the RDB selects DB ${db}, but only ${this.maxDatabases} databases are configured`);
        }
        this.db = db;
        this.flushKeys();
        this.sink.selectDb?.(db);
        return;
      }
      case OP_RESIZEDB: {
        const size = this.readLength();
        const expires = this.readLength();
        this.flushKeys();
        this.sink.resizeDb?.(this.db, size, expires);
        return;
      }
      case OP_SLOT_INFO: {
        const slot = this.readLength();
        const size = this.readLength();
        const expires = this.readLength();
        this.flushKeys();
        this.sink.slotInfo?.(slot, size, expires);
        return;
      }
      case OP_AUX: {
        const name = this.readString();
        const value = this.readString();
        this.flushKeys();
        this.sink.aux?.(name, value);
        return;
      }
      case OP_MODULE_AUX: {
        const id = this.readLength64();
        const moduleId = BigInt(id);
        const payloadStart = this.pos;
        const whenAt = this.pos;
        const whenOpcode = this.readLength();
        if (whenOpcode !== MODULE_OPCODE_UINT) this.corrupt(`module aux data of '${moduleTypeName(moduleId)}' starts with opcode ${whenOpcode}, expected ${MODULE_OPCODE_UINT} (when)`, whenAt);
        this.readLength64(); // when
        this.skipModuleValue(moduleTypeName(moduleId));
        const payload = Buffer.from(this.buf.subarray(payloadStart, this.pos));
        this.flushKeys();
        this.sink.moduleAux?.(moduleId, payload);
        return;
      }
      case OP_FUNCTION_PRE_GA: {
        const name = this.readString();
        const engine = this.readString();
        const hasDescription = this.readLength();
        const description = hasDescription ? this.readString() : null;
        const code = this.readString();
        this.flushKeys();
        this.sink.functionPreGa?.({ name, engine, description, code });
        return;
      }
      case OP_FUNCTION2: {
        const code = this.readString();
        this.flushKeys();
        this.sink.function?.(code);
        return;
      }
      case OP_EOF:
        this.stage = STAGE_CHECKSUM;
        return;
      case OP_ENTERPRISE_RAM_LRU:
        // Redis Enterprise annotation of the next key (one length operand): not ours to use.
        this.readLength64();
        return;
      default:
        this.corrupt(`unknown record type ${type} (0x${type.toString(16)})`, this.pos - 1);
    }
  }

  /** Reads a value of the given RDB type; null for an empty aggregate (to be skipped). */
  private readValue(type: number, key: string): RedisValue | null {
    switch (type) {
      case TYPE_STRING:
        return this.readString();
      case TYPE_LIST:
        return this.readLinkedList();
      case TYPE_SET:
        return this.readPlainSet();
      case TYPE_ZSET:
      case TYPE_ZSET_2:
        return this.readPlainZset(type === TYPE_ZSET_2);
      case TYPE_HASH:
        return this.readPlainHash();
      case TYPE_MODULE_PRE_GA: {
        const id = BigInt(this.readLength64());
        throw new RdbError(
          "unsupported",
          this.base + this.recordStart,
          `module '${moduleTypeName(id)}' not supported: key '${printable(key)}' holds a value in the pre-GA module format (RDB type 6, Redis 4.0 release candidates), which cannot be skipped without the module`,
        );
      }
      case TYPE_MODULE_2:
        return this.readModuleValue();
      case TYPE_HASH_ZIPMAP:
        return this.readZipmapHash();
      case TYPE_LIST_ZIPLIST:
        return this.readZiplistList();
      case TYPE_SET_INTSET:
        return this.readIntset();
      case TYPE_ZSET_ZIPLIST:
      case TYPE_ZSET_LISTPACK:
        return this.readPackedZset(type === TYPE_ZSET_LISTPACK);
      case TYPE_HASH_ZIPLIST:
      case TYPE_HASH_LISTPACK:
        return this.readPackedHash(type === TYPE_HASH_LISTPACK);
      case TYPE_LIST_QUICKLIST:
      case TYPE_LIST_QUICKLIST_2:
        return this.readQuicklist(type === TYPE_LIST_QUICKLIST_2);
      case TYPE_STREAM_LISTPACKS:
      case TYPE_STREAM_LISTPACKS_2:
      case TYPE_STREAM_LISTPACKS_3:
        return this.readStream(type);
      case TYPE_SET_LISTPACK:
        return this.readListpackSet();
      case TYPE_HASH_METADATA_PRE_GA:
        if (this.valkey && type === VALKEY_TYPE_HASH_2) return this.readValkeyHash2(key);
        return this.readHashWithTtls(false, key);
      case TYPE_HASH_METADATA:
        return this.readHashWithTtls(true, key);
      case TYPE_HASH_LISTPACK_EX_PRE_GA:
      case TYPE_HASH_LISTPACK_EX:
        if (this.valkey) break;
        return this.readListpackExHash(type === TYPE_HASH_LISTPACK_EX, key);
    }
    this.corrupt(`unknown value type ${type}`, this.recordStart);
  }

  // ---------------------------------------------------------------- encodings

  private listEncoding(list: ListValue, nodes: number, bytes: number): ListValue {
    if (!this.listpackLists) {
      list.encoding = "quicklist";
      return list;
    }
    // Redis 7.2 converts a single-node quicklist to a listpack when it is within half the
    // node limits (listTypeTryConvertQuicklist).
    const fill = this.listMaxSize;
    let small: boolean;
    if (nodes > 1) small = false;
    else if (fill >= 0) small = list.length <= fill / 2;
    else {
      const limit = [4096, 8192, 16384, 32768, 65536][Math.min(-fill, 5) - 1]!;
      small = bytes + 7 + list.length * 2 <= limit / 2;
    }
    list.encoding = small ? "listpack" : "quicklist";
    return list;
  }

  private hashEncoding(hash: HashValue, maxLen: number): HashValue {
    hash.encoding = hash.size <= this.hashMaxEntries && maxLen <= this.hashMaxValue ? "listpack" : "hashtable";
    return hash;
  }

  /** Encoding of a set built from members of unknown shape (plain sets, 7.0 view of listpack sets). */
  private setEncoding(set: SetValue, maxLen: number): SetValue {
    const n = set.size;
    let allInts = n <= this.intsetMaxEntries;
    if (allInts) {
      for (const m of set) {
        if (!isInt64String(m)) {
          allInts = false;
          break;
        }
      }
    }
    if (allInts) set.encoding = "intset";
    else if (this.setLpMaxEntries >= 0 && n <= this.intsetMaxEntries && n <= this.setLpMaxEntries && maxLen <= this.setLpMaxValue) set.encoding = "listpack";
    else set.encoding = "hashtable";
    return set;
  }

  // ---------------------------------------------------------------- plain aggregates

  private readLinkedList(): ListValue | null {
    const n = this.readLength();
    if (n === 0) return null;
    const items: string[] = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const s = this.readString();
      bytes += s.length;
      items.push(s);
    }
    return this.listEncoding(ListValue.from(items), 1, bytes);
  }

  private readPlainSet(): SetValue | null {
    const n = this.readLength();
    if (n === 0) return null;
    let maxLen = 0;
    if (n > PACKED_LOAD_MAX) {
      const set = SetValue.withCapacity(n);
      for (let i = 0; i < n; i++) {
        const m = this.readString();
        if (m.length > maxLen) maxLen = m.length;
        set.add(m);
        if (set.size !== i + 1) this.corrupt(`duplicate set member '${printable(m)}'`);
      }
      return this.setEncoding(set, maxLen);
    }
    // Few members: their bytes go straight into the packed form (see store/set.ts).
    const b = packedBuilder;
    b.reset();
    for (let i = 0; i < n; i++) {
      const len = this.readStringInto(b);
      if (len > maxLen) maxLen = len;
      if (b.isLastDuplicate(1)) this.corrupt(`duplicate set member '${printable(b.entryString(i))}'`);
    }
    return this.setEncoding(SetValue.fromPacked(b.finish(), n, "hashtable"), maxLen);
  }

  private readPlainZset(binaryScores: boolean): ZSetValue | null {
    const n = this.readLength();
    if (n === 0) return null;
    const members: string[] = [];
    const scores: number[] = [];
    let maxLen = 0;
    for (let i = 0; i < n; i++) {
      const member = this.readString();
      const score = binaryScores ? this.readDoubleLE() : this.readAsciiDouble();
      if (score !== score) this.corrupt(`NaN score for member '${printable(member)}'`);
      if (member.length > maxLen) maxLen = member.length;
      members.push(member);
      scores.push(score);
    }
    // Within the limits Redis converts it to a listpack, where an integral score is stored as
    // an integer: -0 becomes 0 (double2ll).
    const listpack = n <= this.zsetMaxEntries && maxLen <= this.zsetMaxValue;
    const zset = ZSetValue.fromEntries(members, scores, listpack ? "listpack" : "skiplist", true);
    if (!(zset instanceof ZSetValue)) this.corrupt(`duplicate sorted set member '${printable(zset.duplicate)}'`);
    return zset;
  }

  /** Type-3 zset scores: a length byte (253 NaN, 254 +inf, 255 -inf) then ASCII. */
  private readAsciiDouble(): number {
    const len = this.readByte();
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    this.ensure(len);
    const s = this.buf.latin1Slice(this.pos, this.pos + len);
    this.pos += len;
    return parseScore(s);
  }

  private readPlainHash(): HashValue | null {
    const n = this.readLength();
    if (n === 0) return null;
    let maxLen = 0;
    if (n > PACKED_LOAD_MAX) {
      const hash = HashValue.withCapacity(n);
      for (let i = 0; i < n; i++) {
        const field = this.readString();
        const value = this.readString();
        if (field.length > maxLen) maxLen = field.length;
        if (value.length > maxLen) maxLen = value.length;
        if (!hash.setField(field, value)) this.corrupt(`duplicate hash field '${printable(field)}'`);
      }
      return this.hashEncoding(hash, maxLen);
    }
    // Few fields: their bytes go straight into the packed form (see store/hash.ts).
    const b = packedBuilder;
    b.reset();
    for (let i = 0; i < n; i++) {
      const flen = this.readStringInto(b);
      const duplicate = b.isLastDuplicate(2);
      const vlen = this.readStringInto(b);
      if (flen > maxLen) maxLen = flen;
      if (vlen > maxLen) maxLen = vlen;
      if (duplicate) this.corrupt(`duplicate hash field '${printable(b.entryString(2 * i))}'`);
    }
    return this.hashEncoding(HashValue.fromPacked(b.finish(), n, "listpack"), maxLen);
  }

  /**
   * An RDB string appended to a packed builder, without a JS string in between (integer
   * encodings as their digits, LZF through the blob scratch). Returns its length.
   */
  private readStringInto(b: PackedBuilder): number {
    const buf = this.buf;
    const p = this.pos;
    if (p >= buf.length) this.incomplete(p + 1);
    const first = buf[p]!;
    if (first >= 0xc0) {
      switch (first & 0x3f) {
        case ENC_INT8:
          if (p + 2 > buf.length) this.incomplete(p + 2);
          this.pos = p + 2;
          return b.addInteger((buf[p + 1]! << 24) >> 24);
        case ENC_INT16:
          if (p + 3 > buf.length) this.incomplete(p + 3);
          this.pos = p + 3;
          return b.addInteger(((buf[p + 1]! | (buf[p + 2]! << 8)) << 16) >> 16);
        case ENC_INT32:
          if (p + 5 > buf.length) this.incomplete(p + 5);
          this.pos = p + 5;
          return b.addInteger(buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24));
      }
    }
    this.readBlob();
    return b.addBytes(this.blobBuf, this.blobStart, this.blobEnd);
  }

  // ---------------------------------------------------------------- packed aggregates

  private readZipmapHash(): HashValue | null {
    this.readBlob();
    const pairs = decodeZipmap(this.blobBuf, this.blobStart, this.blobEnd);
    if (pairs.length === 0) return null;
    const b = packedBuilder;
    b.reset();
    let maxLen = 0;
    for (let i = 0; i < pairs.length; i++) {
      const s = pairs[i]!;
      if (s.length > maxLen) maxLen = s.length;
      b.addString(s);
    }
    if (b.findDuplicate(2) >= 0) this.corrupt("duplicate fields in a zipmap hash");
    return this.hashEncoding(HashValue.fromPacked(b.finish(), pairs.length / 2, "listpack"), maxLen);
  }

  private readZiplistList(): ListValue | null {
    this.readBlob();
    const items: PackedValue[] = [];
    const bytes = this.blobEnd - this.blobStart;
    decodeZiplist(this.blobBuf, this.blobStart, this.blobEnd, items, false);
    if (items.length === 0) return null;
    return this.listEncoding(ListValue.from(items as string[]), 1, bytes);
  }

  private readIntset(): SetValue | null {
    this.readBlob();
    // Validated, then kept as it is: the intset body is the intset form (store/packed-intset.ts).
    const width = checkIntset(this.blobBuf, this.blobStart, this.blobEnd);
    const n = (this.blobEnd - this.blobStart - 8) / width;
    if (n === 0) return null;
    const body = this.blobBuf.latin1Slice(this.blobStart + 8, this.blobEnd);
    return SetValue.fromIntset(body, width, n > this.intsetMaxEntries ? "hashtable" : "intset");
  }

  private readListpackSet(): SetValue | null {
    this.readBlob();
    const b = packedBuilder;
    b.reset();
    const n = b.addListpack(this.blobBuf, this.blobStart, this.blobEnd);
    if (n === 0) return null;
    if (b.findDuplicate(1) >= 0) this.corrupt("duplicate members in a listpack set");
    const set = SetValue.fromPacked(b.finish(), n, "hashtable");
    if (this.setLpMaxEntries >= 0) {
      set.encoding = set.size > this.setLpMaxEntries ? "hashtable" : "listpack";
      return set;
    }
    return this.setEncoding(set, 0);
  }

  private readPackedZset(listpack: boolean): ZSetValue | null {
    this.readBlob();
    // Straight into the packed form when the listpack is as Redis writes it (no string per
    // member); the generic decoding below otherwise, which also reports what is wrong.
    if (listpack) {
      const direct = ZSetValue.fromListpack(this.blobBuf, this.blobStart, this.blobEnd, this.zsetMaxEntries);
      if (direct !== null) return direct;
    }
    const items: PackedValue[] = [];
    if (listpack) decodeListpack(this.blobBuf, this.blobStart, this.blobEnd, items, true);
    else decodeZiplist(this.blobBuf, this.blobStart, this.blobEnd, items, true);
    if (items.length === 0) return null;
    if (items.length % 2 !== 0) this.corrupt(`a packed sorted set with an odd number of elements (${items.length})`);
    const n = items.length / 2;
    const members: string[] = [];
    const scores: number[] = [];
    for (let i = 0; i < items.length; i += 2) {
      const m = items[i]!;
      const member = typeof m === "string" ? m : String(m);
      const s = items[i + 1]!;
      const score = typeof s === "number" ? s : typeof s === "string" ? parseScore(s) : Number(s);
      if (score !== score) this.corrupt(`invalid score for member '${printable(member)}'`);
      members.push(member);
      scores.push(score);
    }
    // A listpack keeps a "-0" score it holds as a string, as Redis's does.
    const zset = ZSetValue.fromEntries(members, scores, n > this.zsetMaxEntries ? "skiplist" : "listpack", false);
    if (!(zset instanceof ZSetValue)) this.corrupt(`duplicate sorted set member '${printable(zset.duplicate)}'`);
    return zset;
  }

  private readPackedHash(listpack: boolean): HashValue | null {
    this.readBlob();
    // The entries go straight into the packed form of store/hash.ts: no string per field.
    const b = packedBuilder;
    b.reset();
    let n: number;
    if (listpack) n = b.addListpack(this.blobBuf, this.blobStart, this.blobEnd);
    else {
      const items: PackedValue[] = [];
      decodeZiplist(this.blobBuf, this.blobStart, this.blobEnd, items, false);
      for (const item of items) b.addString(item as string);
      n = items.length;
    }
    if (n === 0) return null;
    if (n % 2 !== 0) this.corrupt(`a packed hash with an odd number of elements (${n})`);
    if (b.findDuplicate(2) >= 0) this.corrupt("duplicate fields in a packed hash");
    const fields = n / 2;
    return HashValue.fromPacked(b.finish(), fields, fields > this.hashMaxEntries ? "hashtable" : "listpack");
  }

  private readQuicklist(v2: boolean): ListValue | null {
    const nodes = this.readLength();
    if (nodes === 0) return null;
    // Elements go straight into the packed form of store/list.ts (no string per element),
    // unless the list is too big for it.
    const b = packedBuilder;
    b.reset();
    let items: PackedValue[] | null = null;
    let bytes = 0;
    let nonEmptyNodes = 0;
    for (let i = 0; i < nodes; i++) {
      let container = QUICKLIST_NODE_PACKED;
      if (v2) {
        container = this.readLength();
        if (container !== QUICKLIST_NODE_PACKED && container !== QUICKLIST_NODE_PLAIN) {
          this.corrupt(`quicklist node container ${container} (expected 1 plain or 2 packed)`);
        }
      }
      this.readBlob();
      const size = this.blobEnd - this.blobStart;
      if (size === 0) this.corrupt("empty quicklist node");
      bytes += size;
      if (container === QUICKLIST_NODE_PLAIN) {
        b.addBytes(this.blobBuf, this.blobStart, this.blobEnd);
        nonEmptyNodes++;
        continue;
      }
      const before = b.count;
      if (v2) b.addListpack(this.blobBuf, this.blobStart, this.blobEnd);
      else {
        items ??= [];
        items.length = 0;
        decodeZiplist(this.blobBuf, this.blobStart, this.blobEnd, items, false);
        for (let j = 0; j < items.length; j++) b.addString(items[j] as string);
      }
      if (b.count > before) nonEmptyNodes++; // empty nodes are skipped silently, as Redis does
    }
    const count = b.count;
    if (count === 0) return null;
    const list = count <= PACKED_LIST_MAX_ENTRIES && b.pos <= PACKED_LIST_MAX_CHARS ? ListValue.fromPacked(b.finish(), count) : ListValue.from(b.strings());
    return this.listEncoding(list, nonEmptyNodes, bytes);
  }

  // ---------------------------------------------------------------- hashes with field TTLs

  private readHashWithTtls(relative: boolean, key: string): HashValue | null {
    const minExpire = relative ? this.readInt64LE() : 0;
    const n = this.readLength();
    if (n === 0) return null;
    const hash = HashValue.withCapacity(n);
    let ttls: Map<string, number> | null = null;
    let maxLen = 0;
    for (let i = 0; i < n; i++) {
      const raw = this.readLength64();
      const ttl = typeof raw === "number" ? raw : Number(raw);
      const field = this.readString();
      const value = this.readString();
      if (field.length > maxLen) maxLen = field.length;
      if (value.length > maxLen) maxLen = value.length;
      hash.set(field, value);
      if (hash.size !== i + 1) this.corrupt(`duplicate hash field '${printable(field)}'`);
      if (ttl !== 0) (ttls ??= new Map()).set(field, relative ? ttl + minExpire - 1 : ttl);
    }
    this.hashEncoding(hash, maxLen);
    // A small one is a listpackex, whose fields Redis inserts in TTL order as it loads them.
    if (hash.encoding === "listpack") hash.encoding = "listpackex";
    if (ttls) {
      for (const [f, at] of ttls) hash.setFieldExpireAt(f, at);
      hash.registerMinExpire();
      this.deliverFieldTtls(key, ttls);
    }
    return hash;
  }

  /** A listpack of field, value, TTL triples (0: none), already in TTL order (types 23, 25). */
  private readListpackExHash(withMinExpire: boolean, key: string): HashValue | null {
    if (withMinExpire) this.readInt64LE(); // a hint (possibly stale): Redis ignores it too
    this.readBlob();
    const items: PackedValue[] = [];
    decodeListpack(this.blobBuf, this.blobStart, this.blobEnd, items, true);
    if (items.length === 0) return null;
    if (items.length % 3 !== 0) this.corrupt(`a listpack hash with TTLs whose element count ${items.length} is not a multiple of 3`);
    const hash = new HashValue();
    let ttls: Map<string, number> | null = null;
    for (let i = 0; i < items.length; i += 3) {
      const f = items[i]!;
      const field = typeof f === "string" ? f : String(f);
      const v = items[i + 1]!;
      hash.set(field, typeof v === "string" ? v : String(v));
      const t = items[i + 2]!;
      const ttl = typeof t === "string" ? Number(t) : Number(t);
      if (ttl !== 0 && ttl === ttl) (ttls ??= new Map()).set(field, ttl);
    }
    if (hash.size * 3 !== items.length) this.corrupt("duplicate fields in a listpack hash");
    // TTLs set while still "hashtable", so the file's order stays as it is.
    hash.encoding = "hashtable";
    if (ttls) {
      for (const [f, at] of ttls) hash.setFieldExpireAt(f, at);
      hash.registerMinExpire();
      this.deliverFieldTtls(key, ttls);
    }
    hash.encoding = hash.size > this.hashMaxEntries ? "hashtable" : "listpackex";
    return hash;
  }

  /** Valkey 9 hash with field expiries (type 22 under the VALKEY magic): field, value, int64 TTL (-1 none). */
  private readValkeyHash2(key: string): HashValue | null {
    const n = this.readLength();
    if (n === 0) return null;
    const hash = HashValue.withCapacity(n);
    let ttls: Map<string, number> | null = null;
    let maxLen = 0;
    for (let i = 0; i < n; i++) {
      const field = this.readString();
      const value = this.readString();
      const ttl = this.readInt64LE();
      if (field.length > maxLen) maxLen = field.length;
      if (value.length > maxLen) maxLen = value.length;
      hash.set(field, value);
      if (hash.size !== i + 1) this.corrupt(`duplicate hash field '${printable(field)}'`);
      if (ttl !== -1) (ttls ??= new Map()).set(field, ttl);
    }
    this.hashEncoding(hash, maxLen);
    if (ttls) {
      for (const [f, at] of ttls) hash.setFieldExpireAt(f, at);
      this.deliverFieldTtls(key, ttls);
    }
    return hash;
  }

  // ---------------------------------------------------------------- modules

  private readModuleValue(): ModuleValue {
    const id = BigInt(this.readLength64());
    const name = moduleTypeName(id);
    const payloadStart = this.pos;
    this.skipModuleValue(name);
    return new ModuleValue(name, id, Buffer.from(this.buf.subarray(payloadStart, this.pos)));
  }

  /** Walks module annotations (type opcode + datum) up to and including the EOF opcode. */
  private skipModuleValue(name: string): void {
    while (true) {
      const at = this.pos;
      const opcode = this.readLength();
      switch (opcode) {
        case MODULE_OPCODE_EOF:
          return;
        case MODULE_OPCODE_SINT:
        case MODULE_OPCODE_UINT:
          this.readLength64();
          break;
        case MODULE_OPCODE_FLOAT:
          this.ensure(4);
          this.pos += 4;
          break;
        case MODULE_OPCODE_DOUBLE:
          this.ensure(8);
          this.pos += 8;
          break;
        case MODULE_OPCODE_STRING:
          this.skipString();
          break;
        default:
          this.corrupt(`unknown opcode ${opcode} in the value of module '${name}'`, at);
      }
    }
  }

  // ---------------------------------------------------------------- streams

  private readStreamNodeKey(): StreamId {
    this.readBlob();
    if (this.blobEnd - this.blobStart !== 16) this.corrupt(`stream node key of ${this.blobEnd - this.blobStart} bytes (expected a 16-byte ID)`);
    const b = this.blobBuf;
    const p = this.blobStart;
    const msHi = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    const msLo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    const seqHi = ((b[p + 8]! << 24) | (b[p + 9]! << 16) | (b[p + 10]! << 8) | b[p + 11]!) >>> 0;
    const seqLo = ((b[p + 12]! << 24) | (b[p + 13]! << 16) | (b[p + 14]! << 8) | b[p + 15]!) >>> 0;
    return {
      ms: msHi <= 0x1fffff ? msHi * TWO_POW_32 + msLo : (BigInt(msHi) << 32n) | BigInt(msLo),
      seq: seqHi <= 0x1fffff ? seqHi * TWO_POW_32 + seqLo : (BigInt(seqHi) << 32n) | BigInt(seqLo),
    };
  }

  private readStream(type: number): StreamValue {
    const stream = new StreamValue();
    const nodes = this.readLength();
    let prev: StreamId | null = null;
    const elems: PackedValue[] = [];
    for (let node = 0; node < nodes; node++) {
      const master = this.readStreamNodeKey();
      if (prev !== null && compareIds(prev, master) >= 0) this.corrupt(`stream node ${formatId(master)} is not after the entry ${formatId(prev)}`);
      this.readBlob();
      elems.length = 0;
      decodeListpack(this.blobBuf, this.blobStart, this.blobEnd, elems, true);
      if (elems.length === 0) this.corrupt("empty listpack inside a stream");
      prev = this.decodeStreamNode(elems, master, stream, prev);
    }
    stream.finishLoad();
    const length = this.readLength();
    stream.lastId = { ms: this.readLength64(), seq: this.readLength64() };
    if (type >= TYPE_STREAM_LISTPACKS_2) {
      stream.firstId = { ms: this.readLength64(), seq: this.readLength64() };
      stream.maxDeletedId = { ms: this.readLength64(), seq: this.readLength64() };
      stream.entriesAdded = this.readLength64();
    } else {
      // Redis 5/6 streams: entries-added starts as the length, first-id is the first live
      // entry (streamGetEdgeID: the maximum ID when there is none).
      stream.firstId = stream.firstLiveId() ?? MAX_ID;
      stream.maxDeletedId = { ms: 0, seq: 0 };
      stream.entriesAdded = length;
    }
    // `length` is not checked against the entries: Redis 5.0 development builds wrote streams
    // whose length still counted XDEL'd entries (corpus: replicator/dump-stream*.rdb), and Redis
    // itself loads them. The store derives the length from the live entries.
    if (length !== 0 && stream.nodeCount === 0) this.corrupt("stream length inconsistent with its (empty) list of nodes");

    const groups = this.readLength();
    for (let g = 0; g < groups; g++) {
      const name = this.readString();
      const lastId: StreamId = { ms: this.readLength64(), seq: this.readLength64() };
      // entries-read: a uint64 in the file holding a long long (-1 = unknown).
      const entriesRead = type >= TYPE_STREAM_LISTPACKS_2 ? asI64(this.readLength64()) : stream.estimateDistanceFromFirstEverEntry(lastId);
      if (stream.groups.has(name)) this.corrupt(`duplicate consumer group '${printable(name)}'`);
      const group = newConsumerGroup(name, lastId, entriesRead);
      stream.groups.set(name, group);
      const pelSize = this.readLength();
      for (let i = 0; i < pelSize; i++) {
        const id: StreamId = { ms: this.readUint64BE(), seq: this.readUint64BE() };
        const deliveryTime = this.readInt64LE();
        const deliveryCount = this.readLength64();
        const k = formatId(id);
        if (group.pending.has(k)) this.corrupt(`duplicate PEL entry ${k} in group '${printable(name)}'`);
        group.pending.set(k, { id, consumer: "", deliveryTime, deliveryCount });
      }
      const consumers = this.readLength();
      for (let c = 0; c < consumers; c++) {
        const cname = this.readString();
        const seenTime = this.readInt64LE();
        const activeTime = type >= TYPE_STREAM_LISTPACKS_3 ? this.readInt64LE() : -1;
        if (group.consumers.has(cname)) this.corrupt(`duplicate consumer '${printable(cname)}' in group '${printable(name)}'`);
        const consumer: Consumer = { name: cname, seenTime, activeTime, pending: new PendingList() };
        group.consumers.set(cname, consumer);
        const n = this.readLength();
        for (let i = 0; i < n; i++) {
          const ms = this.readUint64BE();
          const seq = this.readUint64BE();
          const k = formatId({ ms, seq });
          const pe = group.pending.get(k);
          if (pe === undefined) this.corrupt(`consumer '${printable(cname)}' owns ${k}, which is not in the group PEL`);
          if (pe.consumer !== "" || consumer.pending.has(k)) this.corrupt(`PEL entry ${k} owned twice`);
          pe.consumer = cname;
          consumer.pending.set(k, pe);
        }
      }
      for (const pe of group.pending.values()) {
        if (pe.consumer === "") this.corrupt(`PEL entry ${formatId(pe.id)} of group '${printable(name)}' has no consumer`);
      }
    }
    return stream;
  }

  /**
   * Decodes one stream listpack (master entry, then entries) into one node of the stream,
   * tombstones included, so the node layout is the master's. Returns the last entry's ID.
   */
  private decodeStreamNode(elems: PackedValue[], master: StreamId, stream: StreamValue, prevId: StreamId | null): StreamId | null {
    let i = 0;
    const n = elems.length;
    const int = (what: string): number | bigint => {
      if (i >= n) this.corrupt(`stream listpack ends before the ${what}`);
      const v = elems[i++]!;
      if (typeof v === "string") this.corrupt(`stream listpack has a string where the ${what} (an integer) belongs`);
      return v;
    };
    const str = (what: string): string => {
      if (i >= n) this.corrupt(`stream listpack ends before the ${what}`);
      const v = elems[i++]!;
      return typeof v === "string" ? v : String(v);
    };
    const smallInt = (what: string): number => {
      const v = int(what);
      if (typeof v !== "number" || v < 0 || v > n) this.corrupt(`stream listpack has an implausible ${what} (${v})`);
      return v;
    };
    const count = smallInt("entry count");
    const deleted = smallInt("deleted count");
    const masterFieldCount = smallInt("master field count");
    const masterFields: string[] = new Array(masterFieldCount);
    for (let f = 0; f < masterFieldCount; f++) masterFields[f] = str("master field");
    if (int("master terminator") !== 0) this.corrupt("stream listpack master entry is not terminated by 0");
    const total = count + deleted;
    if (total === 0) this.corrupt(`stream node ${formatId(master)} holds no entries`);
    stream.beginNode(master, masterFields);
    let live = 0;
    for (let e = 0; e < total; e++) {
      const flags = int("entry flags");
      const msDiff = int("entry ID (ms)");
      const seqDiff = int("entry ID (seq)");
      const ms = addIdPart(master.ms, msDiff);
      const seq = addIdPart(master.seq, seqDiff);
      let fields: string[];
      let lpCount: number;
      const f = typeof flags === "number" ? flags : Number(flags);
      if (f & STREAM_ITEM_FLAG_SAMEFIELDS) {
        fields = new Array(masterFieldCount * 2);
        for (let k = 0; k < masterFieldCount; k++) {
          fields[2 * k] = masterFields[k]!;
          fields[2 * k + 1] = str("entry value");
        }
        lpCount = masterFieldCount + 3;
      } else {
        const nf = smallInt("entry field count");
        fields = new Array(nf * 2);
        for (let k = 0; k < nf * 2; k++) fields[k] = str("entry field or value");
        lpCount = nf * 2 + 4;
      }
      if (int("lp-count") !== lpCount) this.corrupt(`stream entry ${ms}-${seq} has a wrong lp-count`);
      const id: StreamId = { ms, seq };
      if (prevId !== null && compareIds(prevId, id) >= 0) this.corrupt(`stream entry ${formatId(id)} is not after ${formatId(prevId)}`);
      if (f & STREAM_ITEM_FLAG_DELETED) {
        stream.appendTombstone(id, fields);
      } else {
        stream.append(id, fields);
        live++;
      }
      prevId = id;
    }
    if (i !== n) this.corrupt(`stream listpack has ${n - i} unexpected trailing elements`);
    if (live !== count) this.corrupt(`stream listpack announces ${count} entries, holds ${live}`);
    return prevId;
  }
}

/** A key or member for an error message: at most 64 chars, non-printables escaped. */
function printable(s: string): string {
  const cut = s.length > 64 ? s.slice(0, 64) : s;
  // eslint-disable-next-line no-control-regex
  const escaped = cut.replace(/[\x00-\x1f\x7f-\xff']/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return s.length > 64 ? `${escaped}...` : escaped;
}
