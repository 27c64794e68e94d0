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
//
// Layers (each class extends the one below; one parser object, monomorphic calls):
//   reader-input.ts    RdbInput: the buffer, primitive reads, INCOMPLETE, error positions
//   reader-streams.ts  RdbStreamReader: stream values
//   reader-values.ts   RdbValueReader: every other value type, and their encodings
//   reader.ts          RdbParser: feed/resume, header, records, checksum, the sink and batching

import { Crc64 } from "./crc64.ts";
import { MODULE_OPCODE_UINT, OP_AUX, OP_ENTERPRISE_RAM_LRU, OP_EOF, OP_EXPIRETIME, OP_EXPIRETIME_MS, OP_FREQ, OP_FUNCTION2, OP_FUNCTION_PRE_GA, OP_IDLE, OP_MODULE_AUX, OP_RESIZEDB, OP_SELECTDB, OP_SLOT_INFO, RDB_MAX_VERSION, VALKEY_MAX_VERSION, VALKEY_MIN_VERSION, moduleTypeName } from "./constants.ts";
import { RdbError } from "./errors.ts";
import { StructureError } from "../encoding/structure-error.ts";
import type { RedisValue } from "../store/values.ts";
import { INCOMPLETE } from "./reader-input.ts";
import type { RdbReaderOptions, RdbSink } from "./reader-options.ts";
import { RdbValueReader } from "./reader-values.ts";

export type { PreGaFunctionLibrary, RdbReaderOptions, RdbSink } from "./reader-options.ts";

const STAGE_HEADER = 0;
const STAGE_RECORDS = 1;
const STAGE_CHECKSUM = 2;
const STAGE_DONE = 3;
/** Least a merge copies from the queued chunks when a record straddles buffers (see merge()). */
const BRIDGE_BYTES = 64 * 1024;

export class RdbParser extends RdbValueReader {
  /** The RDB version from the header (1-12, or 80 for Valkey 9). */
  version = 0;
  /** Aggregates that were empty and skipped (Redis does the same, see #8453). */
  emptyKeysSkipped = 0;
  /** Bytes received after the end of the RDB (an AOF tail, trailing garbage): ignored. */
  trailingBytes = 0;
  /** Whether the checksum was verified (false when disabled, zero in the file, or version < 5). */
  checksumVerified = false;

  private readonly sink: RdbSink;
  private readonly verifyChecksum: boolean;
  private readonly maxDatabases: number;

  // Input (the buffer itself, reader-input.ts).
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Don't retry the incomplete record before this many bytes of it are buffered. */
  private retryAt = 0;
  /**
   * A deadline stopped parsing at a record boundary with input left (see feed's `deadline`):
   * resume() goes on. Nothing else differs, the state of a boundary is complete.
   */
  private stopped = false;

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

  constructor(sink: RdbSink, options: RdbReaderOptions = {}) {
    super(options);
    this.sink = sink;
    this.verifyChecksum = options.verifyChecksum ?? true;
    this.maxDatabases = options.maxDatabases ?? 16;
    this.keyBatch = Math.max(1, Math.floor(options.keyBatch ?? 256));
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
  protected deliverFieldTtls(key: string, ttls: Map<string, number>): void {
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
    while (this.pendingBytes > 0) {
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
    // A record straddles the end of the buffer: the unparsed tail and as much of the queued
    // chunks as the record needs (BRIDGE_BYTES at least) are copied into one buffer; the rest
    // stays queued as views, taken as they are at the next record boundary. (Copying whole
    // chunks cost a fresh multi-MB buffer per chunk of a file: page faults, most of a load's
    // time after the parse itself.)
    const tail = this.buf.length - this.pos;
    const want = Math.max(this.retryAt, tail + BRIDGE_BYTES);
    if (want >= tail + this.pendingBytes) {
      const parts = [this.buf.subarray(this.pos), ...this.pending];
      this.base += this.pos;
      this.buf = Buffer.concat(parts);
      this.pos = 0;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    const bridge = Buffer.allocUnsafe(want);
    this.buf.copy(bridge, 0, this.pos);
    let filled = tail;
    const rest: Buffer[] = [];
    for (const p of this.pending) {
      if (filled === want) {
        rest.push(p);
        continue;
      }
      const n = Math.min(p.length, want - filled);
      p.copy(bridge, filled, 0, n);
      filled += n;
      if (n < p.length) rest.push(p.subarray(n));
    }
    this.base += this.pos;
    this.buf = bridge;
    this.pos = 0;
    this.pending = rest;
    this.pendingBytes -= want - tail;
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
      this.trailingBytes += this.buf.length - this.pos + this.pendingBytes;
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
}
