// The layout of one key's record in an arena chunk. Offsets are bytes from the chunk start,
// which is 8-aligned; word reads use the slab's Uint32Array view at offset >> 2.
//
//   +0  u32 header   bits 0-3 kind, bits 4-7 flags, bits 8-31 LRU clock / LFU data (Redis's
//                    24-bit robj.lru: seconds clock, or 16-bit minutes + 8-bit counter)
//   +4  u32 lengths  bits 0-15 key length, bits 16-31 value length (bytes inline in the chunk)
//   with EXPIRE:
//   +8  f64 expire   absolute Unix ms
//   +16 u32 volatile position (this key's place in VolatileKeys)
//   then the key bytes (or, with KEY_EXTERNAL, a u32 side-table index of the key's buffer)
//   then the value: STRING: its bytes; OBJECT / BIGSTRING: a u32 side-table index;
//                   PACKED: u8 tag, u32 meta, then the packed data (store/at-rest.ts says what
//                   they mean: the keyspace only stores them)
//
// A free chunk has header 0 (kind FREE) and the index of the next free chunk of its slab at +4.

export const enum Kind {
  Free = 0,
  /** A string value held inline. */
  String = 1,
  /** A JS object value (an aggregate: list, hash, set, zset, stream, module) in the side table. */
  Object = 2,
  /** A string value too large for a chunk, in its own buffer in the side table. */
  BigString = 3,
  /**
   * A small aggregate held inline as bytes (tag, meta, packed data): what a load stores, with
   * no JS object. The first command that needs the object turns the record into an Object one.
   */
  Packed = 4,
}

/** Whether a kind's value is held inline in the chunk (its length in the lengths word). */
export function inlineValue(kind: number): boolean {
  return kind === Kind.String || kind === Kind.Packed;
}

/** Bytes before a packed value's data: the tag (u8) and the meta (u32). */
export const PACKED_HEAD = 5;

export const KIND_MASK = 0xf;

export const enum Flag {
  /** The record carries an expiry time and a volatile position. */
  Expire = 0x10,
  /** The key is too long for a chunk: the key area holds a side-table index. */
  KeyExternal = 0x20,
  /**
   * Dead, but kept for the snapshot in progress (it holds the key's state at the snapshot's
   * start and the snapshot has not walked past it yet). Freed when the snapshot ends.
   */
  SnapshotKept = 0x40,
}

export const LRU_SHIFT = 8;

export const HEADER = 8;
export const EXPIRE_EXTRA = 12;
/** Offset of the volatile position (u32) when Flag.Expire is set (the expiry, an f64, is at +8). */
export const VOLATILE_POS_AT = 16;

/** Bytes a key or value stored out of line takes in the chunk (its side-table index). */
export const SIDE_REF = 4;
