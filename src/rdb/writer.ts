// The RDB writer: the store's values serialized the way Redis 7.0 (RDB version 10) writes them,
// so redis-server 7.0 loads what we write and our reader loads it back.
//
// Encodings (rdb.c rdbSaveObject): strings raw, integer-encoded (8/16/32-bit) or LZF (over 20
// bytes, when rdbcompression); lists as quicklist 2 (listpack nodes split as Redis splits
// them per list-max-listpack-size); sets as intset or plain; hashes and sorted sets as one
// listpack while within the *-max-listpack-* limits, else plain (hash) / zset 2 (binary
// scores, greatest first); streams as STREAM_LISTPACKS_2 (writer-stream.ts); module values
// verbatim; function libraries as FUNCTION2 records.
//
// Output goes into one reusable, growing Buffer. The caller drains it between records:
// takeChunk() (a copy, for sockets that keep it) or drainTo() (a view, for a synchronous file
// write). The CRC-64 trailer is computed over the bytes as they are drained. Nothing is
// allocated per byte or per element (strings are written with latin1Write; LZF and listpacks
// work in reused scratch buffers).

import type { Config } from "../config/config.ts";
import { encodingThresholds, type EncodingThresholds } from "./reader-options.ts";
import { formatDouble } from "../protocol/format-double.ts";
import type { Database } from "../store/database.ts";
import { HashValue } from "../store/hash.ts";
import { ListValue } from "../store/list.ts";
import { SetValue } from "../store/set.ts";
import { StreamValue } from "../store/stream.ts";
import { ModuleValue, type RedisValue } from "../store/values.ts";
import { ZSetValue } from "../store/zset.ts";
import {
  ENC_INT16,
  ENC_INT32,
  ENC_INT8,
  ENC_LZF,
  OP_AUX,
  OP_EOF,
  OP_EXPIRETIME_MS,
  OP_FREQ,
  OP_FUNCTION2,
  OP_IDLE,
  OP_RESIZEDB,
  OP_SELECTDB,
  QUICKLIST_NODE_PACKED,
  QUICKLIST_NODE_PLAIN,
  TYPE_HASH,
  TYPE_HASH_LISTPACK,
  TYPE_HASH_LISTPACK_EX,
  TYPE_HASH_METADATA,
  TYPE_LIST_QUICKLIST_2,
  TYPE_MODULE_2,
  TYPE_SET,
  TYPE_SET_INTSET,
  TYPE_STREAM_LISTPACKS_2,
  TYPE_STRING,
  TYPE_ZSET_2,
  TYPE_ZSET_LISTPACK,
} from "./constants.ts";
import { Crc64 } from "./crc64.ts";
import { encodeIntset } from "./encode-intset.ts";
import { int64OfString, listpackIntSize, ListpackEncoder, writeInt64LE } from "./encode-listpack.ts";
import { listpackBacklenSize } from "../encoding/listpack.ts";
import { lzfCompressInto } from "./lzf.ts";
import { writeStreamValue } from "./writer-stream.ts";

/** The RDB version Redis 7.0 writes (and the highest it loads): what we write by default. */
export const RDB_VERSION = 10;
/**
 * Redis 7.4's version, written only when a hash has field TTLs (types 24 and 25 exist from
 * it on): the file then loads on 7.4 and later only, as the data needs.
 */
const RDB_VERSION_FIELD_TTLS = 12;

/** What decides the encodings written (Redis 7.0 config names in comments). */
export interface RdbWriteOptions extends EncodingThresholds {
  /** rdbcompression */
  compression: boolean;
  /** rdbchecksum: false writes a zero trailer (not checked by loaders). */
  checksum: boolean;
  /** RDB_VERSION, or RDB_VERSION_FIELD_TTLS to write hashes with field TTLs (rdbVersionFor). */
  rdbVersion: number;
  /** Elements at least this long go into plain quicklist nodes (packed_threshold, 1 GB). */
  quicklistPackedThreshold: number;
}

const DEFAULT_WRITE_OPTIONS: Readonly<RdbWriteOptions> = Object.freeze({
  compression: true,
  checksum: true,
  hashMaxListpackEntries: 512,
  hashMaxListpackValue: 64,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  listMaxListpackSize: -2,
  rdbVersion: RDB_VERSION,
  quicklistPackedThreshold: 1 << 30,
});

export function rdbWriteOptions(config: Config): RdbWriteOptions {
  return {
    compression: config.bool("rdbcompression"),
    checksum: config.bool("rdbchecksum"),
    ...encodingThresholds(config),
    rdbVersion: RDB_VERSION,
    quicklistPackedThreshold: config.quicklistPackedThreshold,
  };
}

/** Whether a value needs RDB 12 (a hash with field TTLs, or a listpackex one). */
function needsFieldTtlVersion(v: RedisValue): boolean {
  return v instanceof HashValue && (v.fieldTtlCount !== 0 || v.encoding === "listpackex");
}

/** The RDB version for a dataset: 12 when some hash has field TTLs, else Redis 7.0's 10. */
export function rdbVersionFor(dbs: readonly Database[]): number {
  for (const db of dbs) {
    for (const key of db.fieldTtlKeys) {
      const v = db.get(key);
      if (v !== undefined && needsFieldTtlVersion(v)) return RDB_VERSION_FIELD_TTLS;
    }
  }
  return RDB_VERSION;
}

/** Replication info stored in AUX fields (Redis's rdbSaveInfo), so a restart can PSYNC. */
export interface ReplicationAux {
  replStreamDb: number;
  replId: string;
  replOffset: number;
  /** A replica's: its master's version (AUX replicant-master-version; Redis ignores unknown AUX fields). */
  masterVersion?: string | null;
}

/** The AUX fields Redis 7.0 writes at the start of every RDB (rdbSaveInfoAuxFields). */
interface HeaderInfo {
  redisVersion: string;
  /** Unix seconds. */
  ctime: number;
  usedMem: number;
  repl: ReplicationAux | null;
  aofBase?: boolean;
}

const TWO_POW_32 = 4294967296;
/** list-max-listpack-size -1..-5: bytes per node. */
const OPTIMIZATION_LEVEL = [4096, 8192, 16384, 32768, 65536];
const SIZE_SAFETY_LIMIT = 8192;
const SIZE_ESTIMATE_OVERHEAD = 8;
const FILL_MAX = (1 << 15) - 1;
/** Scratch buffers larger than this are dropped after use instead of kept. */
const SCRATCH_KEEP = 4 * 1024 * 1024;

export class RdbWriter {
  buf: Buffer;
  /** End of the bytes written and not yet drained. */
  pos = 0;
  /** Total bytes drained so far plus pos: the RDB's size when finished. */
  private drained = 0;
  private readonly crc: Crc64 | null;
  /** buf[0, crcFrom) is already in the CRC. */
  private crcFrom = 0;
  readonly options: RdbWriteOptions;
  /** Reused for every listpack (hash, zset, list node, stream node). */
  readonly listpack = new ListpackEncoder();
  /** Raw bytes of a string about to be compressed, and the compressed output. */
  private raw: Buffer = Buffer.allocUnsafe(1024);
  private compressed: Buffer = Buffer.allocUnsafe(1024);
  /** Element counts of the quicklist nodes of the list being written. */
  private nodeCounts: number[] = [];
  private intScratch: Array<number | bigint> = [];

  constructor(options: Partial<RdbWriteOptions> = {}, initialSize = 1 << 20) {
    this.options = { ...DEFAULT_WRITE_OPTIONS, ...options };
    this.crc = this.options.checksum ? new Crc64() : null;
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes of RDB produced so far (drained or not). */
  get size(): number {
    return this.drained + this.pos;
  }

  // ---------------------------------------------------------------- draining

  private accountCrc(): void {
    if (this.crc !== null && this.pos > this.crcFrom) this.crc.update(this.buf, this.crcFrom, this.pos);
    this.crcFrom = this.pos;
  }

  /** The bytes written since the last drain, as a new Buffer (safe to keep). */
  takeChunk(): Buffer {
    this.accountCrc();
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.drained += this.pos;
    this.pos = 0;
    this.crcFrom = 0;
    return out;
  }

  /** Hands the bytes written since the last drain to `sink` (a view: use it before returning). */
  drainTo(sink: (buf: Buffer, start: number, end: number) => void): void {
    this.accountCrc();
    if (this.pos > 0) sink(this.buf, 0, this.pos);
    this.drained += this.pos;
    this.pos = 0;
    this.crcFrom = 0;
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  // ---------------------------------------------------------------- primitives

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** rdbSaveLen for lengths below 2^53 (numbers). */
  length(n: number): void {
    this.ensure(9);
    const buf = this.buf;
    let p = this.pos;
    if (n < 64) {
      buf[p++] = n;
    } else if (n < 16384) {
      buf[p++] = 0x40 | (n >> 8);
      buf[p++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      buf[p++] = 0x80;
      buf[p++] = n >>> 24;
      buf[p++] = (n >>> 16) & 0xff;
      buf[p++] = (n >>> 8) & 0xff;
      buf[p++] = n & 0xff;
    } else {
      const hi = Math.floor(n / TWO_POW_32);
      const lo = n >>> 0;
      buf[p++] = 0x81;
      buf[p++] = hi >>> 24;
      buf[p++] = (hi >>> 16) & 0xff;
      buf[p++] = (hi >>> 8) & 0xff;
      buf[p++] = hi & 0xff;
      buf[p++] = lo >>> 24;
      buf[p++] = (lo >>> 16) & 0xff;
      buf[p++] = (lo >>> 8) & 0xff;
      buf[p++] = lo & 0xff;
    }
    this.pos = p;
  }

  /** rdbSaveLen of a uint64 (a number below 2^53 or a bigint; negatives wrap as C's cast does). */
  length64(v: number | bigint): void {
    if (typeof v === "number" && v >= 0) return this.length(v);
    const u = BigInt.asUintN(64, BigInt(v));
    if (u <= 0xffffffffn) return this.length(Number(u));
    this.ensure(9);
    this.buf[this.pos] = 0x81;
    this.buf.writeBigUInt64BE(u, this.pos + 1);
    this.pos += 9;
  }

  /** rdbSaveMillisecondTime: int64 little endian. */
  millis(ms: number | bigint): void {
    this.ensure(8);
    writeInt64LE(this.buf, this.pos, typeof ms === "number" ? Math.trunc(ms) : ms);
    this.pos += 8;
  }

  /** rdbSaveBinaryDoubleValue. */
  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Raw bytes, no length prefix. */
  rawBytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  /**
   * rdbSaveRawString of a latin1 string: integer-encoded when it is a canonical int32 of at
   * most 11 characters, LZF-compressed when longer than 20 bytes and compressible by at least
   * 4 bytes (with rdbcompression), else length-prefixed raw bytes.
   */
  string(s: string): void {
    const len = s.length;
    if (len <= 11 && len > 0) {
      const c0 = s.charCodeAt(0);
      if ((c0 >= 48 && c0 <= 57) || c0 === 45) {
        const v = int64OfString(s);
        if (v !== null && typeof v === "number" && v >= -2147483648 && v <= 2147483647) {
          this.encodedInt(v);
          return;
        }
      }
    }
    if (len > 20 && this.options.compression) {
      if (this.raw.length < len) this.raw = Buffer.allocUnsafe(Math.max(len, this.raw.length * 2));
      this.raw.latin1Write(s, 0, len);
      const ok = this.lzf(this.raw, 0, len);
      if (this.raw.length > SCRATCH_KEEP) this.raw = Buffer.allocUnsafe(1024);
      if (ok) return;
    }
    this.length(len);
    this.ensure(len);
    if (len) this.pos += this.buf.latin1Write(s, this.pos, len);
  }

  /** rdbSaveRawString of bytes (listpacks, intsets, stream IDs): LZF when worth it, else raw. */
  blob(src: Uint8Array, start: number, end: number): void {
    const len = end - start;
    if (len > 20 && this.options.compression && this.lzf(src, start, end)) return;
    this.length(len);
    this.rawBytes(src, start, end);
  }

  /** Writes an LZF string of src[start, end) if it compresses by 4 bytes or more. */
  private lzf(src: Uint8Array, start: number, end: number): boolean {
    const len = end - start;
    const maxOut = len - 4;
    if (this.compressed.length < maxOut) this.compressed = Buffer.allocUnsafe(Math.max(maxOut, this.compressed.length * 2));
    const clen = lzfCompressInto(src, start, end, this.compressed, 0, maxOut);
    if (clen > 0) {
      this.byte(0xc0 | ENC_LZF);
      this.length(clen);
      this.length(len);
      this.rawBytes(this.compressed, 0, clen);
    }
    if (this.compressed.length > SCRATCH_KEEP) this.compressed = Buffer.allocUnsafe(1024);
    return clen > 0;
  }

  /** rdbEncodeInteger: an int32 as an 8/16/32-bit encoded string. */
  private encodedInt(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let p = this.pos;
    if (v >= -128 && v <= 127) {
      buf[p++] = 0xc0 | ENC_INT8;
      buf[p++] = v & 0xff;
    } else if (v >= -32768 && v <= 32767) {
      buf[p++] = 0xc0 | ENC_INT16;
      buf[p++] = v & 0xff;
      buf[p++] = (v >> 8) & 0xff;
    } else {
      buf[p++] = 0xc0 | ENC_INT32;
      buf[p++] = v & 0xff;
      buf[p++] = (v >> 8) & 0xff;
      buf[p++] = (v >> 16) & 0xff;
      buf[p++] = (v >>> 24) & 0xff;
    }
    this.pos = p;
  }

  // ---------------------------------------------------------------- file structure

  /** "REDIS0010" (or 0012, see rdbVersion) and the AUX fields of rdbSaveInfoAuxFields. */
  header(info: HeaderInfo): void {
    this.ensure(9);
    this.pos += this.buf.latin1Write(`REDIS${String(this.options.rdbVersion).padStart(4, "0")}`, this.pos);
    this.aux("redis-ver", info.redisVersion);
    this.aux("redis-bits", "64");
    this.aux("ctime", String(Math.floor(info.ctime)));
    this.aux("used-mem", String(Math.floor(info.usedMem)));
    if (info.repl) {
      this.aux("repl-stream-db", String(info.repl.replStreamDb));
      this.aux("repl-id", info.repl.replId);
      this.aux("repl-offset", String(info.repl.replOffset));
    }
    if (info.repl?.masterVersion) this.aux("replicant-master-version", info.repl.masterVersion);
    this.aux("aof-base", info.aofBase ? "1" : "0");
  }

  aux(name: string, value: string): void {
    this.byte(OP_AUX);
    this.string(name);
    this.string(value);
  }

  /** A function library (RDB_OPCODE_FUNCTION2): its code, "#!<engine> name=<lib>" first. */
  functionLibrary(code: string): void {
    this.byte(OP_FUNCTION2);
    this.string(code);
  }

  selectDb(db: number, size: number, expires: number): void {
    this.byte(OP_SELECTDB);
    this.length(db);
    this.byte(OP_RESIZEDB);
    this.length(size);
    this.length(expires);
  }

  /** The EOF opcode and the CRC-64 trailer (zero without rdbchecksum). */
  end(): void {
    this.byte(OP_EOF);
    this.accountCrc();
    this.ensure(8);
    if (this.crc !== null) this.crc.writeLE(this.buf, this.pos);
    else this.buf.fill(0, this.pos, this.pos + 8);
    this.pos += 8;
    this.crcFrom = this.pos; // the trailer is not part of the CRC
  }

  /**
   * A key/value record (expiry first, if any). Returns false when nothing was written: an
   * empty aggregate, which Redis never holds (and would skip when loading).
   */
  /**
   * One key: its expiry, then its LRU idle seconds or LFU counter when given (>= 0; a server
   * with an LRU or LFU maxmemory policy saves them, rdbSaveKeyValuePair), then the value.
   */
  keyValue(key: string, value: RedisValue, expireMs: number, idleSeconds = -1, lfuFreq = -1): boolean {
    const type = this.valueType(value);
    if (type < 0) return false;
    if (expireMs !== -1) {
      this.byte(OP_EXPIRETIME_MS);
      this.millis(expireMs);
    }
    if (idleSeconds >= 0) {
      this.byte(OP_IDLE);
      this.length(idleSeconds);
    }
    if (lfuFreq >= 0) {
      this.byte(OP_FREQ);
      this.byte(lfuFreq);
    }
    this.byte(type);
    this.string(key);
    this.valueBody(value, type);
    return true;
  }

  /** The type byte then the value, as DUMP payloads hold it (rdbSaveObjectType + rdbSaveObject). */
  typedValue(value: RedisValue): boolean {
    const type = this.valueType(value);
    if (type < 0) return false;
    this.byte(type);
    this.valueBody(value, type);
    return true;
  }

  // ---------------------------------------------------------------- values

  /** The RDB type Redis 7.0 would save this value with; -1 for an empty aggregate. */
  valueType(v: RedisValue): number {
    if (typeof v === "string") return TYPE_STRING;
    const o = this.options;
    if (v instanceof ListValue) return v.length ? TYPE_LIST_QUICKLIST_2 : -1;
    if (v instanceof HashValue) {
      if (v.size === 0) return -1;
      // RDB 12 (Redis 7.4): a listpackex is always type 25, a hashtable with TTLs type 24.
      const ex = o.rdbVersion >= RDB_VERSION_FIELD_TTLS;
      let compact = v.encoding !== "hashtable" && v.size <= o.hashMaxListpackEntries;
      if (compact) {
        const max = o.hashMaxListpackValue;
        for (const [f, val] of v) {
          if (f.length > max || val.length > max) {
            compact = false;
            break;
          }
        }
      }
      if (ex && compact && v.encoding === "listpackex") return TYPE_HASH_LISTPACK_EX;
      if (ex && v.fieldTtlCount !== 0) return compact ? TYPE_HASH_LISTPACK_EX : TYPE_HASH_METADATA;
      return compact ? TYPE_HASH_LISTPACK : TYPE_HASH;
    }
    if (v instanceof SetValue) {
      if (v.size === 0) return -1;
      if (v.encoding !== "intset" || v.size > o.setMaxIntsetEntries) return TYPE_SET;
      for (const m of v) if (int64OfString(m) === null) return TYPE_SET;
      return TYPE_SET_INTSET;
    }
    if (v instanceof ZSetValue) {
      if (v.size === 0) return -1;
      if (v.encoding !== "listpack" || v.size > o.zsetMaxListpackEntries) return TYPE_ZSET_2;
      const max = o.zsetMaxListpackValue;
      if (v.longestMember() > max) return TYPE_ZSET_2;
      return TYPE_ZSET_LISTPACK;
    }
    if (v instanceof StreamValue) return TYPE_STREAM_LISTPACKS_2;
    if (v instanceof ModuleValue) return TYPE_MODULE_2;
    throw new Error("RDB writer: unknown value type");
  }

  valueBody(v: RedisValue, type: number): void {
    switch (type) {
      case TYPE_STRING:
        return this.string(v as string);
      case TYPE_LIST_QUICKLIST_2:
        return this.quicklist(v as ListValue);
      case TYPE_HASH_LISTPACK: {
        const lp = this.listpack;
        lp.reset();
        for (const [f, val] of v as HashValue) {
          lp.appendString(f);
          lp.appendString(val);
        }
        return this.listpackBlob();
      }
      case TYPE_HASH: {
        const h = v as HashValue;
        this.length(h.size);
        for (const [f, val] of h) {
          this.string(f);
          this.string(val);
        }
        return;
      }
      case TYPE_HASH_LISTPACK_EX: {
        // <registered min expire: int64 LE ms, 0 for none> <listpack of field, value, TTL (0: none)>
        const h = v as HashValue;
        const min = h.registeredMinExpire;
        this.millis(min < 0 ? 0 : min);
        const lp = this.listpack;
        lp.reset();
        for (const [f, val] of h) {
          lp.appendString(f);
          lp.appendString(val);
          const at = h.fieldExpireAt(f);
          lp.appendInt(at < 0 ? 0 : at);
        }
        return this.listpackBlob();
      }
      case TYPE_HASH_METADATA: {
        // <min expire: int64 LE ms> <count>, then per field <TTL - min + 1, or 0: none> <field> <value>
        const h = v as HashValue;
        const min = h.minFieldExpireAt();
        this.millis(min);
        this.length(h.size);
        for (const [f, val] of h) {
          const at = h.fieldExpireAt(f);
          this.length(at < 0 ? 0 : at - min + 1);
          this.string(f);
          this.string(val);
        }
        return;
      }
      case TYPE_SET_INTSET: {
        const s = v as SetValue;
        const blob = encodeIntset(s, s.size, this.intScratch);
        if (blob === null) throw new Error("RDB writer: intset member is not an integer");
        return this.blob(blob, 0, blob.length);
      }
      case TYPE_SET: {
        const s = v as SetValue;
        this.length(s.size);
        for (const m of s) this.string(m);
        return;
      }
      case TYPE_ZSET_LISTPACK: {
        const lp = this.listpack;
        lp.reset();
        for (const n = (v as ZSetValue).cursor(0); n.next(); ) {
          lp.appendString(n.member);
          appendScore(lp, n.score);
        }
        return this.listpackBlob();
      }
      case TYPE_ZSET_2: {
        const z = v as ZSetValue;
        this.length(z.size);
        // Greatest first, as Redis (loading then inserts at the head every time).
        for (const n = z.cursor(z.size - 1, true); n.next(); ) {
          this.string(n.member);
          this.double(n.score);
        }
        return;
      }
      case TYPE_STREAM_LISTPACKS_2:
        return writeStreamValue(this, v as StreamValue);
      case TYPE_MODULE_2: {
        const m = v as ModuleValue;
        this.length64(m.moduleId);
        return this.rawBytes(m.payload, 0, m.payload.length);
      }
    }
    throw new Error(`RDB writer: unexpected type ${type}`);
  }

  /** Finishes the listpack encoder's content and writes it as a string. */
  listpackBlob(): void {
    const lp = this.listpack;
    const size = lp.finish();
    this.blob(lp.buf, 0, size);
    if (lp.buf.length > SCRATCH_KEEP) lp.buf = Buffer.allocUnsafe(4096);
  }

  /** A list as quicklist 2: node count, then per node its container and listpack. */
  private quicklist(list: ListValue): void {
    const counts = quicklistNodeCounts(list, this.options.listMaxListpackSize, this.options.quicklistPackedThreshold, this.nodeCounts);
    // Pass 2: the nodes.
    this.length(counts.length);
    let i = 0;
    const lp = this.listpack;
    for (let k = 0; k < counts.length; k++) {
      const c = counts[k]!;
      if (c < 0) {
        this.length(QUICKLIST_NODE_PLAIN);
        this.string(list.at(i++)!);
        continue;
      }
      this.length(QUICKLIST_NODE_PACKED);
      lp.reset();
      for (let j = 0; j < c; j++) lp.appendString(list.at(i++)!);
      this.listpackBlob();
    }
    counts.length = 0;
  }
}

/**
 * Where Redis's quicklist, pushing every element at the tail, starts new nodes
 * (_quicklistNodeAllowInsert with list-max-listpack-size `fill`): the element count of each
 * node in order, -1 for a plain node (an element of quicklist-packed-threshold bytes or more).
 * Filled into `out`, which is returned.
 */
export function quicklistNodeCounts(list: ListValue, listMaxListpackSize: number, packedThreshold: number, out: number[] = []): number[] {
  const n = list.length;
  let fill = listMaxListpackSize;
  if (fill > FILL_MAX) fill = FILL_MAX;
  else if (fill < -5) fill = -5;
  const sizeLimit = fill < 0 ? OPTIMIZATION_LEVEL[-fill - 1]! : -1;
  const counts = out;
  counts.length = 0;
  let nodeBytes = -1; // -1: no current node; a plain node counts as "full"
  let nodeCount = 0;
  for (let i = 0; i < n; i++) {
    const s = list.at(i)!;
    const sz = s.length;
    if (sz >= packedThreshold) {
      if (nodeCount) counts.push(nodeCount);
      counts.push(-1); // a plain node
      nodeCount = 0;
      nodeBytes = -1;
      continue;
    }
    let allow = false;
    if (nodeBytes >= 0) {
      const estimate = nodeBytes + sz + SIZE_ESTIMATE_OVERHEAD;
      if (sizeLimit > 0 && estimate <= sizeLimit) allow = true;
      else if (estimate > SIZE_SAFETY_LIMIT) allow = false;
      else allow = nodeCount < fill;
    }
    if (!allow) {
      if (nodeCount) counts.push(nodeCount);
      nodeCount = 0;
      nodeBytes = 7; // an empty listpack
    }
    nodeBytes += listpackEntrySize(s);
    nodeCount++;
  }
  if (nodeCount) counts.push(nodeCount);
  return counts;
}

/** Bytes an element takes in a listpack (encoding, data and backlen). */
function listpackEntrySize(s: string): number {
  const len = s.length;
  const c0 = len ? s.charCodeAt(0) : 0;
  if (len <= 20 && ((c0 >= 48 && c0 <= 57) || c0 === 45)) {
    const v = int64OfString(s);
    if (v !== null) return listpackIntSize(v) + 1;
  }
  const entry = (len < 64 ? 1 : len < 4096 ? 2 : 5) + len;
  return entry + listpackBacklenSize(entry);
}

/** A zset score in a listpack (zzlInsertAt): an integer when double2ll allows, else d2string. */
export function appendScore(lp: ListpackEncoder, score: number): void {
  if (Number.isInteger(score) && score >= -4611686018427387904 && score <= 4611686018427387904) {
    lp.appendInt(Number.isSafeInteger(score) ? score : BigInt(score));
    return;
  }
  lp.appendStringRaw(formatDouble(score));
}

// ---------------------------------------------------------------- DUMP payloads

/**
 * A DUMP payload (createDumpPayload): type byte and value, the RDB version as 2 bytes little
 * endian, then the CRC-64 of all that, 8 bytes little endian.
 */
export function dumpPayload(value: RedisValue, options: Partial<RdbWriteOptions> = {}): Buffer {
  // The version is the value's own: 12 for a hash with field TTLs (as Redis 7.4 writes it).
  const version = needsFieldTtlVersion(value) ? RDB_VERSION_FIELD_TTLS : RDB_VERSION;
  const w = new RdbWriter({ ...options, checksum: false, rdbVersion: version }, 256);
  if (!w.typedValue(value)) throw new Error("DUMP of an empty aggregate");
  return finishDumpPayload(w, version);
}

/**
 * DUMP payloads of many values, as dumpPayload makes them, with one writer per RDB version
 * reused from value to value (the change feed's snapshot: a writer's scratch buffers cost more
 * than a small value's encoding).
 */
export class DumpPayloadWriter {
  private readonly writers = new Map<number, RdbWriter>();

  payload(value: RedisValue): Buffer {
    const version = needsFieldTtlVersion(value) ? RDB_VERSION_FIELD_TTLS : RDB_VERSION;
    let w = this.writers.get(version);
    if (w === undefined) {
      w = new RdbWriter({ checksum: false, rdbVersion: version }, 4096);
      this.writers.set(version, w);
    }
    if (!w.typedValue(value)) throw new Error("DUMP of an empty aggregate");
    return finishDumpPayload(w, version);
  }
}

/**
 * The trailer of a DUMP or FUNCTION DUMP payload, appended to what `w` (a writer without a
 * checksum of its own) holds: the RDB version as 2 bytes little endian, then the CRC-64 of
 * everything, 8 bytes little endian. Returns the whole payload.
 */
export function finishDumpPayload(w: RdbWriter, version: number): Buffer {
  w.byte(version & 0xff);
  w.byte(version >> 8);
  const crc = new Crc64();
  crc.update(w.buf, 0, w.pos);
  w.ensure(8);
  crc.writeLE(w.buf, w.pos);
  w.pos += 8;
  return w.takeChunk();
}
