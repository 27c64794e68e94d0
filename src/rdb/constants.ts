// RDB format constants (src/rdb.h of Redis 7.4, plus the Valkey 9 numbering where it differs).
//
// A file is: magic ("REDIS" + 4 ASCII digits, or "VALKEY" + 3 digits), then a sequence of
// records each introduced by one byte: an opcode (>= 0xf4) or a value type (0..25), then the
// EOF opcode and, from version 5 on, an 8-byte little-endian CRC-64 of everything before it.

/** Highest Redis RDB version this reader understands (Redis 7.4 writes 12). */
export const RDB_MAX_VERSION = 12;
/** Valkey 9 writes "VALKEY080": its own numbering, above every Redis version. */
export const VALKEY_MIN_VERSION = 80;
export const VALKEY_MAX_VERSION = 80;

// Opcodes.
export const OP_SLOT_INFO = 0xf4; // 7.4+: slot id, slot size, expires slot size (cluster resize hint)
export const OP_FUNCTION2 = 0xf5; // 7.0+: one function library (its code, with the "#!engine name=" line)
export const OP_FUNCTION_PRE_GA = 0xf6; // 7.0 release candidates: name, engine, description, code
export const OP_MODULE_AUX = 0xf7; // module data outside the keyspace
export const OP_IDLE = 0xf8; // LRU idle time (seconds) of the next key
export const OP_FREQ = 0xf9; // LFU frequency (one byte) of the next key
export const OP_AUX = 0xfa; // name/value string pair
export const OP_RESIZEDB = 0xfb; // db size, expires size (hints)
export const OP_EXPIRETIME_MS = 0xfc; // absolute expiry of the next key, int64 LE milliseconds
export const OP_EXPIRETIME = 0xfd; // absolute expiry of the next key, int32 LE seconds (old)
export const OP_SELECTDB = 0xfe;
export const OP_EOF = 0xff;
/** Redis Enterprise's RAM_LRU opcode: one length operand; skipped (as librdb does). */
export const OP_ENTERPRISE_RAM_LRU = 107;

// Value types.
export const TYPE_STRING = 0;
export const TYPE_LIST = 1;
export const TYPE_SET = 2;
export const TYPE_ZSET = 3;
export const TYPE_HASH = 4;
export const TYPE_ZSET_2 = 5;
export const TYPE_MODULE_PRE_GA = 6;
export const TYPE_MODULE_2 = 7;
export const TYPE_HASH_ZIPMAP = 9;
export const TYPE_LIST_ZIPLIST = 10;
export const TYPE_SET_INTSET = 11;
export const TYPE_ZSET_ZIPLIST = 12;
export const TYPE_HASH_ZIPLIST = 13;
export const TYPE_LIST_QUICKLIST = 14;
export const TYPE_STREAM_LISTPACKS = 15;
export const TYPE_HASH_LISTPACK = 16;
export const TYPE_ZSET_LISTPACK = 17;
export const TYPE_LIST_QUICKLIST_2 = 18;
export const TYPE_STREAM_LISTPACKS_2 = 19;
export const TYPE_SET_LISTPACK = 20;
export const TYPE_STREAM_LISTPACKS_3 = 21;
export const TYPE_HASH_METADATA_PRE_GA = 22; // 7.4 RC: [ttl][field][value]..., absolute TTLs
export const TYPE_HASH_LISTPACK_EX_PRE_GA = 23; // 7.4 RC: listpack of field, value, ttl triples
export const TYPE_HASH_METADATA = 24; // 7.4: min expire, then TTLs relative to it
export const TYPE_HASH_LISTPACK_EX = 25; // 7.4: min expire, then the listpack of triples
/** Under the VALKEY magic, type 22 is Valkey 9's hash with field expiries (field, value, int64 TTL). */
export const VALKEY_TYPE_HASH_2 = 22;

// Quicklist 2 node containers.
export const QUICKLIST_NODE_PLAIN = 1;
export const QUICKLIST_NODE_PACKED = 2;

// Module value annotations (RDB_TYPE_MODULE_2 and MODULE_AUX payloads).
export const MODULE_OPCODE_EOF = 0;
export const MODULE_OPCODE_SINT = 1;
export const MODULE_OPCODE_UINT = 2;
export const MODULE_OPCODE_FLOAT = 3;
export const MODULE_OPCODE_DOUBLE = 4;
export const MODULE_OPCODE_STRING = 5;

// String encodings (the low 6 bits after a 0b11 length prefix).
export const ENC_INT8 = 0;
export const ENC_INT16 = 1;
export const ENC_INT32 = 2;
export const ENC_LZF = 3;

// Stream entry flags inside a stream listpack.
export const STREAM_ITEM_FLAG_DELETED = 1;
export const STREAM_ITEM_FLAG_SAMEFIELDS = 2;

const TYPE_NAMES: Record<number, string> = {
  0: "string",
  1: "list",
  2: "set",
  3: "zset",
  4: "hash",
  5: "zset2",
  6: "module_pre_ga",
  7: "module2",
  9: "hash_zipmap",
  10: "list_ziplist",
  11: "set_intset",
  12: "zset_ziplist",
  13: "hash_ziplist",
  14: "list_quicklist",
  15: "stream_listpacks",
  16: "hash_listpack",
  17: "zset_listpack",
  18: "list_quicklist2",
  19: "stream_listpacks2",
  20: "set_listpack",
  21: "stream_listpacks3",
  22: "hash_metadata_pre_ga",
  23: "hash_listpack_ex_pre_ga",
  24: "hash_metadata",
  25: "hash_listpack_ex",
};

/** A readable name for a type byte, for error messages. */
export function rdbTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `unknown type ${type}`;
}

const MODULE_NAME_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * The 9-character module type name a 64-bit module id carries in its top 54 bits
 * (the low 10 bits are the encoding version), as moduleTypeNameByID in module.c.
 */
export function moduleTypeName(moduleId: bigint): string {
  let id = moduleId >> 10n;
  let name = "";
  for (let j = 0; j < 9; j++) {
    name = MODULE_NAME_CHARSET[Number(id & 63n)] + name;
    id >>= 6n;
  }
  return name;
}

/** The encoding version (low 10 bits) of a module id. */
export function moduleEncodingVersion(moduleId: bigint): number {
  return Number(moduleId & 1023n);
}

/** The 64-bit module id for a 9-character type name and an encoding version (the inverse). */
export function moduleIdFor(name: string, encver: number): bigint {
  if (name.length !== 9) throw new Error("module type names have 9 characters");
  let id = 0n;
  for (const ch of name) {
    const v = MODULE_NAME_CHARSET.indexOf(ch);
    if (v < 0) throw new Error(`invalid module type name character '${ch}'`);
    id = (id << 6n) | BigInt(v);
  }
  return (id << 10n) | BigInt(encver & 1023);
}
