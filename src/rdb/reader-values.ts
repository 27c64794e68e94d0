// The value types of an RDB, read into the store's types with the `encoding` Redis 7.0 would
// report after loading them (thresholds from the options): strings, lists (linked, ziplist,
// quicklist 1 and 2), sets (plain, intset, listpack), sorted sets (plain, ziplist, listpack),
// hashes (plain, zipmap, ziplist, listpack, with field TTLs), module values; streams come from
// reader-streams.ts. Packed encodings go straight into the store's packed forms where they
// can (no JS string per element). A layer of the RDB reader below its record loop (reader.ts).

import {
  ENC_INT16,
  ENC_INT32,
  ENC_INT8,
  MODULE_OPCODE_DOUBLE,
  MODULE_OPCODE_EOF,
  MODULE_OPCODE_FLOAT,
  MODULE_OPCODE_SINT,
  MODULE_OPCODE_STRING,
  MODULE_OPCODE_UINT,
  QUICKLIST_NODE_PACKED,
  QUICKLIST_NODE_PLAIN,
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
  VALKEY_TYPE_HASH_2,
  moduleTypeName,
} from "./constants.ts";
import { RdbError } from "./errors.ts";
import { checkIntset } from "../encoding/intset.ts";
import { decodeListpack, type PackedValue } from "../encoding/listpack.ts";
import { decodeZiplist } from "./ziplist.ts";
import { decodeZipmap } from "./zipmap.ts";
import { HashValue, PACKED_HASH_MAX_FIELDS } from "../store/hash.ts";
import { ListValue, PACKED_LIST_MAX_CHARS, PACKED_LIST_MAX_ENTRIES } from "../store/list.ts";
import { PACKED_SET_MAX_MEMBERS, SetValue } from "../store/set.ts";
import { packedBuilder, type PackedBuilder } from "../store/packed-entries.ts";
import { ModuleValue, type RedisValue } from "../store/values.ts";
import { ZSetValue } from "../store/zset.ts";
import { printable } from "./reader-input.ts";
import type { RdbReaderOptions } from "./reader-options.ts";
import { RdbStreamReader } from "./reader-streams.ts";

/** Plain hashes and sets of at most this many elements are loaded into the store's packed forms. */
const PACKED_LOAD_MAX = Math.min(PACKED_HASH_MAX_FIELDS, PACKED_SET_MAX_MEMBERS);

/** Whether a string is what Redis's string2ll accepts: the canonical decimal form of an int64. */
function isInt64String(s: string): boolean {
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

export abstract class RdbValueReader extends RdbStreamReader {
  /** Whether the file carries the "VALKEY" magic. */
  valkey = false;

  private readonly hashMaxEntries: number;
  private readonly hashMaxValue: number;
  protected readonly zsetMaxEntries: number;
  private readonly zsetMaxValue: number;
  private readonly intsetMaxEntries: number;
  private readonly setLpMaxEntries: number; // -1: no listpack sets (7.0)
  private readonly setLpMaxValue: number;
  private readonly listMaxSize: number;
  private readonly listpackLists: boolean;

  constructor(options: RdbReaderOptions) {
    super(options);
    this.hashMaxEntries = options.hashMaxListpackEntries ?? 512;
    this.hashMaxValue = options.hashMaxListpackValue ?? 64;
    this.zsetMaxEntries = options.zsetMaxListpackEntries ?? 128;
    this.zsetMaxValue = options.zsetMaxListpackValue ?? 64;
    this.intsetMaxEntries = Math.min(options.setMaxIntsetEntries ?? 512, 1 << 30);
    this.setLpMaxEntries = options.setMaxListpackEntries ?? -1;
    this.setLpMaxValue = options.setMaxListpackValue ?? 64;
    this.listMaxSize = options.listMaxListpackSize ?? -2;
    this.listpackLists = options.listpackLists ?? false;
  }

  /** Hands a hash's field TTLs to the sink before its key (reader.ts owns the sink). */
  protected abstract deliverFieldTtls(key: string, ttls: Map<string, number>): void;

  /** Reads a value of the given RDB type; null for an empty aggregate (to be skipped). */
  protected readValue(type: number, key: string): RedisValue | null {
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

  protected listEncoding(list: ListValue, nodes: number, bytes: number): ListValue {
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

  protected hashEncoding(hash: HashValue, maxLen: number): HashValue {
    hash.encoding = hash.size <= this.hashMaxEntries && maxLen <= this.hashMaxValue ? "listpack" : "hashtable";
    return hash;
  }

  /** Encoding of a set built from members of unknown shape (plain sets, 7.0 view of listpack sets). */
  protected setEncoding(set: SetValue, maxLen: number): SetValue {
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

  protected readLinkedList(): ListValue | null {
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

  protected readPlainSet(): SetValue | null {
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

  protected readPlainZset(binaryScores: boolean): ZSetValue | null {
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
  protected readAsciiDouble(): number {
    const len = this.readByte();
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    this.ensure(len);
    const s = this.buf.latin1Slice(this.pos, this.pos + len);
    this.pos += len;
    return parseScore(s);
  }

  protected readPlainHash(): HashValue | null {
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
  protected readStringInto(b: PackedBuilder): number {
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

  protected readZipmapHash(): HashValue | null {
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

  protected readZiplistList(): ListValue | null {
    this.readBlob();
    const items: PackedValue[] = [];
    const bytes = this.blobEnd - this.blobStart;
    decodeZiplist(this.blobBuf, this.blobStart, this.blobEnd, items, false);
    if (items.length === 0) return null;
    return this.listEncoding(ListValue.from(items as string[]), 1, bytes);
  }

  protected readIntset(): SetValue | null {
    this.readBlob();
    // Validated, then kept as it is: the intset body is the intset form (store/packed-intset.ts).
    const width = checkIntset(this.blobBuf, this.blobStart, this.blobEnd);
    const n = (this.blobEnd - this.blobStart - 8) / width;
    if (n === 0) return null;
    const body = this.blobBuf.latin1Slice(this.blobStart + 8, this.blobEnd);
    return SetValue.fromIntset(body, width, n > this.intsetMaxEntries ? "hashtable" : "intset");
  }

  protected readListpackSet(): SetValue | null {
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

  protected readPackedZset(listpack: boolean): ZSetValue | null {
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

  protected readPackedHash(listpack: boolean): HashValue | null {
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

  protected readQuicklist(v2: boolean): ListValue | null {
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

  protected readHashWithTtls(relative: boolean, key: string): HashValue | null {
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
  protected readListpackExHash(withMinExpire: boolean, key: string): HashValue | null {
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
  protected readValkeyHash2(key: string): HashValue | null {
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

  protected readModuleValue(): ModuleValue {
    const id = BigInt(this.readLength64());
    const name = moduleTypeName(id);
    const payloadStart = this.pos;
    this.skipModuleValue(name);
    return new ModuleValue(name, id, Buffer.from(this.buf.subarray(payloadStart, this.pos)));
  }

  /** Walks module annotations (type opcode + datum) up to and including the EOF opcode. */
  protected skipModuleValue(name: string): void {
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
}
