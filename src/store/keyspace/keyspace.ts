// A database's keyspace without a JS object per key: an open-addressing index over one typed
// array, pointing at records in a byte arena (arena.ts, record.ts). Keys and string values are
// bytes; aggregates stay JS objects in a side table (side-table.ts) the record points at.
//
//   table (Int32Array, 2 words per slot, capacity a power of two):
//     slot i:  [2i] hash of the key (0: empty)   [2i+1] ref of the record in the arena
//
// Linear probing from the home slot `hash & mask`; the table grows past `maxLoad` (0.75) and
// shrinks below 1/8 full, rehashing from the stored hashes (no key is read). Deletion shifts the
// following entries back instead of leaving tombstones, so a probe ends at the first empty slot
// and the table never needs cleaning. An entry only ever moves between its home slot and the
// first empty slot after it, which is what makes SCAN by home bucket (scan below) stable.
//
// Handles: lookups return a slot (or NOT_FOUND). A slot is valid until the next write to this
// keyspace (a write may move entries and records), so read what you need, then write.
//
// Keys come in two forms, a latin1 JS string (one char per byte) or a byte range of a buffer
// (a request buffer, an RDB payload); both hash and compare alike (key-hash.ts).
//
// Snapshots (snapshot.ts): while one runs, a record it has not read yet is never changed in
// place. A change writes a new record and leaves the old one, flagged SnapshotKept, for the
// snapshot; side-table entries are released only when it ends. What a write costs during a
// snapshot is therefore one record copy per key changed, the first time it changes.

import { Arena, OFFSET_MASK, REF_SHIFT, type ArenaState } from "./arena.ts";
import { hashBytes, hashString } from "./key-hash.ts";
import { EXPIRE_EXTRA, Flag, HEADER, KIND_MASK, Kind, LRU_SHIFT, SIDE_REF, VOLATILE_POS_AT } from "./record.ts";
import { nextScanCursor } from "./scan-cursor.ts";
import { SideTable } from "./side-table.ts";
import { classOf, MAX_CHUNK } from "./size-classes.ts";
import { VolatileKeys } from "./volatile-keys.ts";

export const NOT_FOUND = -1;
export const NO_EXPIRE = -1;

const MIN_CAPACITY = 8;
/**
 * Below this many bytes a copy is a JS loop; above, one native copy (measured for 10..100-byte
 * values: loop 52 ns, Buffer.copy 32 ns, set(subarray) 69 ns).
 */
const SHORT_COPY = 16;

export interface KeyspaceOptions {
  /** Grow when more than this fraction of the slots are used (default 0.75). */
  maxLoad?: number;
  /** Size the table for this many keys from the start (a load's RESIZEDB hint). */
  expectedKeys?: number;
  /** Slabs and table in SharedArrayBuffers (built by a worker, adopted by another thread). */
  shared?: boolean;
  /** Deep copy of an aggregate, for snapshots (store/clone.ts's cloneValue in the server). */
  cloneObject?: (value: unknown) => unknown;
}

/** What a worker posts back: everything but the side table, without copying the big arrays. */
export interface KeyspaceState {
  table: Int32Array<ArrayBufferLike>;
  size: number;
  maxLoad: number;
  arena: ArenaState;
  volatileRefs: Int32Array<ArrayBufferLike>;
  volatileSize: number;
  side: unknown[];
}

/** State kept while a snapshot runs (see the header comment). */
interface SnapshotBook {
  /** Records kept for the snapshot: freed when it ends. */
  kept: number[];
  /** Side-table entries to release when it ends. */
  deferredSide: number[];
  /** Side entries a kept record and a live record both point at: clone before changing. */
  sharedSide: Set<number>;
}

export class Keyspace {
  table: Int32Array<ArrayBufferLike>;
  mask: number;
  size = 0;
  private growAt: number;
  readonly maxLoad: number;
  readonly arena: Arena;
  readonly side = new SideTable();
  readonly volatile = new VolatileKeys();
  private readonly shared: boolean;
  private readonly cloneObject: (value: unknown) => unknown;
  private book: SnapshotBook | null = null;

  // The key and value of the write in progress, as fields rather than arguments: every public
  // setter fills them from its own argument forms and calls one put(), without allocating.
  private kStr: string | null = null;
  private kBuf: Uint8Array = EMPTY;
  private kStart = 0;
  private kLen = 0;
  private kHash = 0;
  private vKind: Kind = Kind.String;
  private vStr: string | null = null;
  private vBuf: Uint8Array = EMPTY;
  private vStart = 0;
  private vLen = 0;
  private vObj: unknown = undefined;

  constructor(options: KeyspaceOptions = {}) {
    this.maxLoad = options.maxLoad ?? 0.75;
    this.shared = options.shared ?? false;
    this.cloneObject = options.cloneObject ?? ((v) => v);
    this.arena = new Arena({ shared: this.shared });
    const capacity = capacityFor(options.expectedKeys ?? 0, this.maxLoad);
    this.table = this.newTable(capacity);
    this.mask = capacity - 1;
    this.growAt = Math.floor(capacity * this.maxLoad);
  }

  get capacity(): number {
    return this.mask + 1;
  }

  // -------------------------------------------------------------------------------------------
  // Lookup

  findString(key: string): number {
    const h = hashString(key);
    const t = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const th = t[i << 1]!;
      if (th === 0) return NOT_FOUND;
      if (th === h && this.keyEqualsString(t[(i << 1) + 1]!, key)) return i;
    }
  }

  findBytes(buf: Uint8Array, start: number, len: number): number {
    const h = hashBytes(buf, start, len);
    const t = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const th = t[i << 1]!;
      if (th === 0) return NOT_FOUND;
      if (th === h && this.keyEqualsBytes(t[(i << 1) + 1]!, buf, start, len)) return i;
    }
  }

  refAt(slot: number): number {
    return this.table[(slot << 1) + 1]!;
  }

  /** The slot whose entry points at `ref` (a record found by walking the arena or VolatileKeys). */
  slotOfRef(ref: number): number {
    const h = this.hashOfRecord(ref);
    const t = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const th = t[i << 1]!;
      if (th === 0) return NOT_FOUND;
      if (t[(i << 1) + 1] === ref) return i;
    }
  }

  private keyEqualsString(ref: number, key: string): boolean {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    const len = key.length;
    if (h & Flag.KeyExternal) {
      const k = this.externalKey(ref);
      if (k.length !== len) return false;
      for (let i = 0; i < len; i++) if (k[i] !== key.charCodeAt(i)) return false;
      return true;
    }
    if ((w[(off >> 2) + 1]! & 0xffff) !== len) return false;
    const b = this.arena.bytes[s]!;
    const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER);
    for (let i = 0; i < len; i++) if (b[p + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  private keyEqualsBytes(ref: number, buf: Uint8Array, start: number, len: number): boolean {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if (h & Flag.KeyExternal) {
      const k = this.externalKey(ref);
      if (k.length !== len) return false;
      for (let i = 0; i < len; i++) if (k[i] !== buf[start + i]) return false;
      return true;
    }
    if ((w[(off >> 2) + 1]! & 0xffff) !== len) return false;
    const b = this.arena.bytes[s]!;
    const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER);
    for (let i = 0; i < len; i++) if (b[p + i] !== buf[start + i]) return false;
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Reading a record (by slot, or by ref for walkers)

  kindAt(slot: number): Kind {
    return this.kindOf(this.table[(slot << 1) + 1]!);
  }

  kindOf(ref: number): Kind {
    return this.arena.words[ref >>> REF_SHIFT]![((ref & OFFSET_MASK) << 1)]! & KIND_MASK;
  }

  /** Length of a string value. */
  valueLengthAt(slot: number): number {
    return this.valueLengthOf(this.table[(slot << 1) + 1]!);
  }

  valueLengthOf(ref: number): number {
    const s = ref >>> REF_SHIFT;
    const wi = (ref & OFFSET_MASK) << 1;
    const w = this.arena.words[s]!;
    const kind = w[wi]! & KIND_MASK;
    if (kind === Kind.String) return w[wi + 1]! >>> 16;
    if (kind === Kind.BigString) return (this.side.get(this.sideIndexOf(ref)) as Uint8Array).length;
    return 0;
  }

  /** Copies a string value into `out` at `pos` (a reply buffer); returns the bytes copied. */
  copyValueAt(slot: number, out: Uint8Array, pos: number): number {
    return this.copyValueOf(this.table[(slot << 1) + 1]!, out, pos);
  }

  copyValueOf(ref: number, out: Uint8Array, pos: number): number {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if ((h & KIND_MASK) === Kind.String) {
      const lens = w[(off >> 2) + 1]!;
      const len = lens >>> 16;
      const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER) + (h & Flag.KeyExternal ? SIDE_REF : lens & 0xffff);
      copyBytes(this.arena.bytes[s]!, p, len, out, pos);
      return len;
    }
    const big = this.side.get(this.sideIndexOf(ref)) as Uint8Array;
    copyBytes(big, 0, big.length, out, pos);
    return big.length;
  }

  /** A string value as a latin1 JS string (allocates: for commands that still work on strings). */
  valueStringAt(slot: number): string {
    return this.valueStringOf(this.table[(slot << 1) + 1]!);
  }

  valueStringOf(ref: number): string {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if ((h & KIND_MASK) === Kind.String) {
      const lens = w[(off >> 2) + 1]!;
      const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER) + (h & Flag.KeyExternal ? SIDE_REF : lens & 0xffff);
      return this.arena.bytes[s]!.latin1Slice(p, p + (lens >>> 16));
    }
    return (this.side.get(this.sideIndexOf(ref)) as Buffer).latin1Slice();
  }

  /** The object of an Object record. */
  objectAt(slot: number): unknown {
    return this.side.get(this.sideIndexOf(this.table[(slot << 1) + 1]!));
  }

  objectOf(ref: number): unknown {
    return this.side.get(this.sideIndexOf(ref));
  }

  keyStringAt(slot: number): string {
    return this.keyStringOf(this.table[(slot << 1) + 1]!);
  }

  keyStringOf(ref: number): string {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if (h & Flag.KeyExternal) return (this.externalKey(ref) as Buffer).latin1Slice();
    const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER);
    return this.arena.bytes[s]!.latin1Slice(p, p + (w[(off >> 2) + 1]! & 0xffff));
  }

  keyLengthOf(ref: number): number {
    const w = this.arena.words[ref >>> REF_SHIFT]!;
    const wi = (ref & OFFSET_MASK) << 1;
    return w[wi]! & Flag.KeyExternal ? this.externalKey(ref).length : w[wi + 1]! & 0xffff;
  }

  copyKeyOf(ref: number, out: Uint8Array, pos: number): number {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if (h & Flag.KeyExternal) {
      const k = this.externalKey(ref);
      copyBytes(k, 0, k.length, out, pos);
      return k.length;
    }
    const len = w[(off >> 2) + 1]! & 0xffff;
    copyBytes(this.arena.bytes[s]!, off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER), len, out, pos);
    return len;
  }

  /** Absolute Unix ms, or NO_EXPIRE. */
  expireAt(slot: number): number {
    return this.expireOf(this.table[(slot << 1) + 1]!);
  }

  expireOf(ref: number): number {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    if (!(this.arena.words[s]![off >> 2]! & Flag.Expire)) return NO_EXPIRE;
    return this.arena.floats[s]![(off >> 3) + 1]!;
  }

  /** The 24-bit LRU/LFU field. */
  lruAt(slot: number): number {
    const ref = this.table[(slot << 1) + 1]!;
    return this.arena.words[ref >>> REF_SHIFT]![(ref & OFFSET_MASK) << 1]! >>> LRU_SHIFT;
  }

  /**
   * Sets the LRU/LFU field (on access). Not a change for snapshots: like Redis's (which skips the
   * update while a child process exists), a snapshot may see the new clock.
   */
  touchAt(slot: number, lru: number): void {
    const ref = this.table[(slot << 1) + 1]!;
    const w = this.arena.words[ref >>> REF_SHIFT]!;
    const wi = (ref & OFFSET_MASK) << 1;
    w[wi] = (w[wi]! & 0xff) | (lru << LRU_SHIFT);
  }

  private sideIndexOf(ref: number): number {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER) + (h & Flag.KeyExternal ? SIDE_REF : w[(off >> 2) + 1]! & 0xffff);
    return readU32(this.arena.bytes[s]!, p);
  }

  private externalKey(ref: number): Uint8Array {
    const off = (ref & OFFSET_MASK) << 3;
    const s = ref >>> REF_SHIFT;
    const h = this.arena.words[s]![off >> 2]!;
    return this.side.get(readU32(this.arena.bytes[s]!, off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER))) as Uint8Array;
  }

  private hashOfRecord(ref: number): number {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if (h & Flag.KeyExternal) {
      const k = this.externalKey(ref);
      return hashBytes(k, 0, k.length);
    }
    return hashBytes(this.arena.bytes[s]!, off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER), w[(off >> 2) + 1]! & 0xffff);
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /** SET: stores a string value; clears the expiry unless keepTtl. Returns whether the key is new. */
  setString(key: string, value: string, keepTtl = false): boolean {
    this.keyFromString(key);
    this.vKind = Kind.String;
    this.vStr = value;
    this.vLen = value.length;
    return this.put(keepTtl, NO_EXPIRE, true);
  }

  /** setString from byte ranges (a request buffer, an RDB payload). */
  setBytes(key: Uint8Array, keyStart: number, keyLen: number, value: Uint8Array, valueStart: number, valueLen: number, keepTtl = false): boolean {
    this.keyFromBytes(key, keyStart, keyLen);
    this.vKind = Kind.String;
    this.vStr = null;
    this.vBuf = value;
    this.vStart = valueStart;
    this.vLen = valueLen;
    return this.put(keepTtl, NO_EXPIRE, true);
  }

  /** Stores an aggregate (a JS object); clears the expiry unless keepTtl. */
  setObject(key: string, value: object, keepTtl = false): boolean {
    this.keyFromString(key);
    this.vKind = Kind.Object;
    this.vObj = value;
    return this.put(keepTtl, NO_EXPIRE, true);
  }

  /**
   * Adds a key that must not exist yet, with its expiry (NO_EXPIRE for none): what a load does.
   * Returns false, storing nothing, when the key exists (a corrupt RDB has duplicates).
   */
  addBytes(key: Uint8Array, keyStart: number, keyLen: number, value: Uint8Array, valueStart: number, valueLen: number, expire: number): boolean {
    this.keyFromBytes(key, keyStart, keyLen);
    this.vKind = Kind.String;
    this.vStr = null;
    this.vBuf = value;
    this.vStart = valueStart;
    this.vLen = valueLen;
    return this.put(false, expire, false);
  }

  addObjectBytes(key: Uint8Array, keyStart: number, keyLen: number, value: object, expire: number): boolean {
    this.keyFromBytes(key, keyStart, keyLen);
    this.vKind = Kind.Object;
    this.vObj = value;
    return this.put(false, expire, false);
  }

  private keyFromString(key: string): void {
    this.kStr = key;
    this.kLen = key.length;
    this.kHash = hashString(key);
  }

  private keyFromBytes(buf: Uint8Array, start: number, len: number): void {
    this.kStr = null;
    this.kBuf = buf;
    this.kStart = start;
    this.kLen = len;
    this.kHash = hashBytes(buf, start, len);
  }

  /** Finds the key of the write in progress: its slot, or ~(the empty slot that would take it). */
  private probe(): number {
    const h = this.kHash;
    const t = this.table;
    const mask = this.mask;
    const key = this.kStr;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const th = t[i << 1]!;
      if (th === 0) return ~i;
      if (th === h && (key !== null ? this.keyEqualsString(t[(i << 1) + 1]!, key) : this.keyEqualsBytes(t[(i << 1) + 1]!, this.kBuf, this.kStart, this.kLen))) return i;
    }
  }

  private put(keepTtl: boolean, expire: number, overwrite: boolean): boolean {
    let slot = this.probe();
    if (slot >= 0) {
      if (!overwrite) {
        this.vObj = undefined;
        return false;
      }
      this.replaceValue(slot, keepTtl);
      this.vObj = undefined;
      return false;
    }
    if (this.size >= this.growAt) {
      this.resize(this.capacity * 2);
      slot = ~this.emptySlotFor(this.kHash);
    }
    const ref = this.writeRecord(expire === NO_EXPIRE ? 0 : Flag.Expire, 0, expire, -1, -1);
    const i = ~slot;
    this.table[i << 1] = this.kHash;
    this.table[(i << 1) + 1] = ref;
    this.size++;
    if (expire !== NO_EXPIRE) this.setVolatilePos(ref, this.volatile.add(ref));
    this.vObj = undefined;
    return true;
  }

  /**
   * Writes a new record for the key and value in progress. `keySide` / `valueSide` reuse
   * side-table entries an old record of the key had (-1: make new ones as needed).
   */
  private writeRecord(flags: number, lru: number, expire: number, keySide: number, valueSide: number): number {
    let kind = this.vKind;
    const kOff = flags & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER;
    let keyInline = this.kLen;
    if (keySide >= 0 || kOff + keyInline + SIDE_REF > MAX_CHUNK) {
      flags |= Flag.KeyExternal;
      keyInline = SIDE_REF;
      if (keySide < 0) keySide = this.side.add(this.keyCopy());
    }
    let valueInline = SIDE_REF;
    if (kind === Kind.String) {
      if (kOff + keyInline + this.vLen <= MAX_CHUNK) valueInline = this.vLen;
      else kind = Kind.BigString;
    }
    const ref = this.arena.alloc(classOf(kOff + keyInline + valueInline));
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const b = this.arena.bytes[s]!;
    w[off >> 2] = kind | flags | (lru << LRU_SHIFT);
    w[(off >> 2) + 1] = (flags & Flag.KeyExternal ? 0 : keyInline) | ((kind === Kind.String ? valueInline : 0) << 16);
    if (flags & Flag.Expire) this.arena.floats[s]![(off >> 3) + 1] = expire;
    let p = off + kOff;
    if (flags & Flag.KeyExternal) writeU32(b, p, keySide);
    else if (this.kStr !== null) writeLatin1(this.kStr, b, p);
    else copyBytes(this.kBuf, this.kStart, this.kLen, b, p);
    p += keyInline;
    if (kind === Kind.String) {
      if (this.vStr !== null) writeLatin1(this.vStr, b, p);
      else copyBytes(this.vBuf, this.vStart, this.vLen, b, p);
    } else {
      if (valueSide < 0) valueSide = this.side.add(kind === Kind.Object ? this.vObj : this.valueCopy());
      writeU32(b, p, valueSide);
    }
    return ref;
  }

  private keyCopy(): Uint8Array {
    const k = this.allocOutside(this.kLen);
    if (this.kStr !== null) writeLatin1(this.kStr, k, 0);
    else copyBytes(this.kBuf, this.kStart, this.kLen, k, 0);
    return k;
  }

  private valueCopy(): Uint8Array {
    const v = this.allocOutside(this.vLen);
    if (this.vStr !== null) writeLatin1(this.vStr, v, 0);
    else copyBytes(this.vBuf, this.vStart, this.vLen, v, 0);
    return v;
  }

  private allocOutside(len: number): Buffer {
    return this.shared ? Buffer.from(new SharedArrayBuffer(len)) : Buffer.allocUnsafeSlow(len);
  }

  /** A new value for an existing key (put found it at `slot`). */
  private replaceValue(slot: number, keepTtl: boolean): void {
    const ref = this.table[(slot << 1) + 1]!;
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    const oldKind = h & KIND_MASK;
    const hadExpire = (h & Flag.Expire) !== 0;
    const keepExpire = keepTtl && hadExpire;
    const expire = keepExpire ? this.arena.floats[s]![(off >> 3) + 1]! : NO_EXPIRE;
    const vpos = hadExpire ? w[(off + VOLATILE_POS_AT) >> 2]! : -1;
    const keySide = h & Flag.KeyExternal ? this.keySideOf(ref) : -1;
    // The old value's side entry: kept when the same object is stored again.
    let oldSide = oldKind === Kind.String ? -1 : this.sideIndexOf(ref);
    let valueSide = -1;
    if (oldSide >= 0 && this.vKind === Kind.Object && oldKind === Kind.Object && this.side.get(oldSide) === this.vObj) {
      valueSide = oldSide;
      oldSide = -1;
    }
    const snapshotNeedsOld = this.book !== null && this.arena.isUnwalked(ref);
    if (!snapshotNeedsOld && this.fitsInPlace(ref, keepExpire, keySide)) {
      this.rewriteValueInPlace(ref, keepExpire, valueSide);
    } else {
      const next = this.writeRecord(keepExpire ? Flag.Expire : 0, h >>> LRU_SHIFT, expire, keySide, valueSide);
      this.table[(slot << 1) + 1] = next;
      if (keepExpire) {
        this.setVolatilePos(next, vpos);
        this.volatile.update(vpos, next);
      }
      this.retireRecord(ref);
      if (snapshotNeedsOld && valueSide >= 0) this.book!.sharedSide.add(valueSide);
    }
    if (hadExpire && !keepExpire) this.removeVolatile(vpos);
    if (oldSide >= 0) this.releaseSide(oldSide);
  }

  /** Whether the new value (in progress) fits the record's chunk class exactly. */
  private fitsInPlace(ref: number, withExpire: boolean, keySide: number): boolean {
    const kOff = withExpire ? HEADER + EXPIRE_EXTRA : HEADER;
    const keyInline = keySide >= 0 ? SIDE_REF : this.kLen;
    if (this.vKind === Kind.String && kOff + keyInline + this.vLen > MAX_CHUNK) return false; // becomes a BigString
    const valueInline = this.vKind === Kind.String ? this.vLen : SIDE_REF;
    return classOf(kOff + keyInline + valueInline) === this.arena.classOfRef(ref);
  }

  /** Rewrites the value (and drops the expiry unless kept) of a record in its own chunk. */
  private rewriteValueInPlace(ref: number, keepExpire: boolean, valueSide: number): void {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const b = this.arena.bytes[s]!;
    const h = w[off >> 2]!;
    const lens = w[(off >> 2) + 1]!;
    const keyInline = h & Flag.KeyExternal ? SIDE_REF : lens & 0xffff;
    let kOff = h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER;
    let flags = h & 0xf0;
    if ((h & Flag.Expire) !== 0 && !keepExpire) {
      // The key moves back over the expiry fields.
      b.copyWithin(off + HEADER, off + kOff, off + kOff + keyInline);
      kOff = HEADER;
      flags &= ~Flag.Expire;
    }
    const kind = this.vKind;
    w[off >> 2] = kind | flags | (h & ~0xff);
    w[(off >> 2) + 1] = (lens & 0xffff) | ((kind === Kind.String ? this.vLen : 0) << 16);
    const p = off + kOff + keyInline;
    if (kind === Kind.String) {
      if (this.vStr !== null) writeLatin1(this.vStr, b, p);
      else copyBytes(this.vBuf, this.vStart, this.vLen, b, p);
    } else writeU32(b, p, valueSide >= 0 ? valueSide : this.side.add(this.vObj));
  }

  private keySideOf(ref: number): number {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const h = this.arena.words[s]![off >> 2]!;
    return readU32(this.arena.bytes[s]!, off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER));
  }

  private setVolatilePos(ref: number, pos: number): void {
    const off = (ref & OFFSET_MASK) << 3;
    this.arena.words[ref >>> REF_SHIFT]![(off + VOLATILE_POS_AT) >> 2] = pos;
  }

  private removeVolatile(pos: number): void {
    const moved = this.volatile.remove(pos);
    if (moved !== -1) this.setVolatilePos(moved, pos);
  }

  /** A record stops being live: freed, or kept when the snapshot in progress still needs it. */
  private retireRecord(ref: number): void {
    if (this.book !== null && this.arena.isUnwalked(ref)) {
      const w = this.arena.words[ref >>> REF_SHIFT]!;
      w[(ref & OFFSET_MASK) << 1]! |= Flag.SnapshotKept;
      this.book.kept.push(ref);
    } else this.arena.free(ref);
  }

  private releaseSide(i: number): void {
    if (this.book !== null) this.book.deferredSide.push(i);
    else this.side.release(i);
  }

  /** DEL. */
  deleteAt(slot: number): void {
    const ref = this.table[(slot << 1) + 1]!;
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const h = this.arena.words[s]![off >> 2]!;
    if (h & Flag.Expire) this.removeVolatile(this.arena.words[s]![(off + VOLATILE_POS_AT) >> 2]!);
    if ((h & KIND_MASK) !== Kind.String) this.releaseSide(this.sideIndexOf(ref));
    if (h & Flag.KeyExternal) this.releaseSide(this.keySideOf(ref));
    this.retireRecord(ref);
    this.removeSlot(slot);
  }

  deleteString(key: string): boolean {
    const slot = this.findString(key);
    if (slot === NOT_FOUND) return false;
    this.deleteAt(slot);
    return true;
  }

  /** Backward-shift deletion of the table entry at `slot`. */
  private removeSlot(slot: number): void {
    const t = this.table;
    const mask = this.mask;
    let i = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & mask;
      const hj = t[j << 1]!;
      if (hj === 0) break;
      const home = hj & mask;
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      t[i << 1] = hj;
      t[(i << 1) + 1] = t[(j << 1) + 1]!;
      i = j;
    }
    t[i << 1] = 0;
    t[(i << 1) + 1] = 0;
    this.size--;
    if (this.capacity > MIN_CAPACITY && this.size * 8 < this.capacity) this.resize(capacityFor(this.size, this.maxLoad / 2));
  }

  /** EXPIRE and friends: sets the absolute expiry (Unix ms). */
  setExpireAt(slot: number, when: number): void {
    const ref = this.table[(slot << 1) + 1]!;
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if (h & Flag.Expire && !(this.book !== null && this.arena.isUnwalked(ref))) {
      this.arena.floats[s]![(off >> 3) + 1] = when;
      return;
    }
    const pos = h & Flag.Expire ? w[(off + VOLATILE_POS_AT) >> 2]! : -1;
    const next = this.relayout(slot, true, when);
    if (pos >= 0) this.volatile.update(pos, next);
    this.setVolatilePos(next, pos >= 0 ? pos : this.volatile.add(next));
  }

  /** PERSIST: drops the expiry; returns whether there was one. */
  persistAt(slot: number): boolean {
    const ref = this.table[(slot << 1) + 1]!;
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    if (!(h & Flag.Expire)) return false;
    const pos = w[(off + VOLATILE_POS_AT) >> 2]!;
    this.relayout(slot, false, NO_EXPIRE);
    this.removeVolatile(pos);
    return true;
  }

  /**
   * Rewrites the record at `slot` with or without the expiry fields, keeping key and value
   * (and their side entries). In place when the chunk class stays and no snapshot needs the
   * old record; otherwise in a new chunk. Returns the record's ref.
   */
  private relayout(slot: number, withExpire: boolean, when: number): number {
    const ref = this.table[(slot << 1) + 1]!;
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    const lens = w[(off >> 2) + 1]!;
    const kind = h & KIND_MASK;
    const bodyLen = (h & Flag.KeyExternal ? SIDE_REF : lens & 0xffff) + (kind === Kind.String ? lens >>> 16 : SIDE_REF);
    const oldKOff = h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER;
    const newKOff = withExpire ? HEADER + EXPIRE_EXTRA : HEADER;
    const flags = withExpire ? h | Flag.Expire : h & ~Flag.Expire;
    const snapshotNeedsOld = this.book !== null && this.arena.isUnwalked(ref);
    if (!snapshotNeedsOld && classOf(newKOff + bodyLen) === this.arena.classOfRef(ref)) {
      const b = this.arena.bytes[s]!;
      b.copyWithin(off + newKOff, off + oldKOff, off + oldKOff + bodyLen);
      w[off >> 2] = flags;
      if (withExpire) this.arena.floats[s]![(off >> 3) + 1] = when;
      return ref;
    }
    const next = this.arena.alloc(classOf(newKOff + bodyLen));
    const ns = next >>> REF_SHIFT;
    const noff = (next & OFFSET_MASK) << 3;
    const nw = this.arena.words[ns]!;
    nw[noff >> 2] = flags & ~Flag.SnapshotKept;
    nw[(noff >> 2) + 1] = lens;
    if (withExpire) {
      this.arena.floats[ns]![(noff >> 3) + 1] = when;
      if (h & Flag.Expire) nw[(noff + VOLATILE_POS_AT) >> 2] = w[(off + VOLATILE_POS_AT) >> 2]!;
    }
    copyBytes(this.arena.bytes[s]!, off + oldKOff, bodyLen, this.arena.bytes[ns]!, noff + newKOff);
    this.table[(slot << 1) + 1] = next;
    this.retireRecord(ref);
    // The kept record and the live one now share their side entries: a change to the object
    // must copy it first (beforeObjectChange).
    if (snapshotNeedsOld && kind === Kind.Object) this.book!.sharedSide.add(this.sideIndexOf(next));
    return next;
  }

  /**
   * Must be called before an aggregate stored at `slot` is changed in place. While a snapshot
   * still needs the current state, the record gets a copy of the object to change; read the
   * object again (objectAt) after this call.
   */
  beforeObjectChange(slot: number): void {
    const book = this.book;
    if (book === null) return;
    const ref = this.table[(slot << 1) + 1]!;
    const side = this.sideIndexOf(ref);
    if (this.arena.isUnwalked(ref)) {
      // The old record stays for the snapshot with the original; the new one gets the copy.
      const copy = this.side.add(this.cloneObject(this.side.get(side)));
      const h = this.arena.words[ref >>> REF_SHIFT]![(ref & OFFSET_MASK) << 1]!;
      const pos = h & Flag.Expire ? this.arena.words[ref >>> REF_SHIFT]![(((ref & OFFSET_MASK) << 3) + VOLATILE_POS_AT) >> 2]! : -1;
      const next = this.relayout(slot, (h & Flag.Expire) !== 0, this.expireOf(ref));
      book.sharedSide.delete(side);
      this.setSideIndex(next, copy);
      if (pos >= 0) this.volatile.update(pos, next);
      book.deferredSide.push(side);
    } else if (book.sharedSide.delete(side)) {
      this.setSideIndex(ref, this.side.add(this.cloneObject(this.side.get(side))));
      book.deferredSide.push(side);
    }
  }

  private setSideIndex(ref: number, index: number): void {
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    const p = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER) + (h & Flag.KeyExternal ? SIDE_REF : w[(off >> 2) + 1]! & 0xffff);
    writeU32(this.arena.bytes[s]!, p, index);
  }

  // -------------------------------------------------------------------------------------------
  // Table size

  private newTable(capacity: number): Int32Array<ArrayBufferLike> {
    return this.shared ? new Int32Array(new SharedArrayBuffer(capacity * 8)) : new Int32Array(capacity * 2);
  }

  private emptySlotFor(h: number): number {
    const t = this.table;
    const mask = this.mask;
    let i = h & mask;
    while (t[i << 1] !== 0) i = (i + 1) & mask;
    return i;
  }

  /** Rehashes into a table of `capacity` slots (a power of two), from the stored hashes. */
  resize(capacity: number): void {
    const old = this.table;
    const t = this.newTable(capacity);
    const mask = capacity - 1;
    for (let j = 0; j < old.length; j += 2) {
      const h = old[j]!;
      if (h === 0) continue;
      let i = h & mask;
      while (t[i << 1] !== 0) i = (i + 1) & mask;
      t[i << 1] = h;
      t[(i << 1) + 1] = old[j + 1]!;
    }
    this.table = t;
    this.mask = mask;
    this.growAt = Math.floor(capacity * this.maxLoad);
  }

  // -------------------------------------------------------------------------------------------
  // Iteration and sampling

  /**
   * SCAN: visits the keys of buckets (home slots) in reverse-binary cursor order, as Redis's
   * dictScan, until at least `count` keys were visited; pushes their slots to `out`. Returns
   * the next cursor (0: done). A key present for the whole iteration is visited at least once
   * whatever the table does in between (grows, shrinks, shifts entries back on deletions): it
   * is found by its home bucket, which only depends on its hash and the table size.
   */
  scan(cursor: number, count: number, out: number[]): number {
    if (this.size === 0) return 0;
    const t = this.table;
    const mask = this.mask;
    let v = cursor >>> 0;
    let visited = 0;
    const maxBuckets = count * 10;
    for (let b = 0; b < maxBuckets; b++) {
      const bucket = v & mask;
      for (let i = bucket; ; i = (i + 1) & mask) {
        const th = t[i << 1]!;
        if (th === 0) break;
        if ((th & mask) === bucket) {
          out.push(i);
          visited++;
        }
      }
      v = nextScanCursor(v, mask);
      if (v === 0 || visited >= count) break;
    }
    return v;
  }

  /** A uniformly random used slot (RANDOMKEY); NOT_FOUND when empty. */
  randomSlot(random: () => number = Math.random): number {
    if (this.size === 0) return NOT_FOUND;
    const t = this.table;
    const capacity = this.capacity;
    for (;;) {
      const i = Math.floor(random() * capacity);
      if (t[i << 1] !== 0) return i;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots (driven by snapshot.ts)

  /** @internal */
  beginSnapshotBook(): void {
    if (this.book !== null) throw new Error("a snapshot of this keyspace is already running");
    this.book = { kept: [], deferredSide: [], sharedSide: new Set() };
    this.arena.beginSnapshot();
  }

  /** @internal */
  endSnapshotBook(): void {
    const book = this.book;
    if (book === null) return;
    this.book = null;
    for (const ref of book.kept) this.arena.free(ref);
    for (const i of book.deferredSide) this.side.release(i);
    this.arena.endSnapshot();
  }

  get snapshotRunning(): boolean {
    return this.book !== null;
  }

  /** Records kept for the running snapshot (what the snapshot costs in memory). */
  get keptRecords(): number {
    return this.book?.kept.length ?? 0;
  }

  // -------------------------------------------------------------------------------------------
  // Handing a keyspace built by a worker to this thread

  export(): KeyspaceState {
    return {
      table: this.table,
      size: this.size,
      maxLoad: this.maxLoad,
      arena: this.arena.export(),
      volatileRefs: this.volatile.refs,
      volatileSize: this.volatile.size,
      side: this.side.entriesForExport(),
    };
  }

  static adopt(state: KeyspaceState, options: Omit<KeyspaceOptions, "shared" | "maxLoad" | "expectedKeys"> = {}): Keyspace {
    const ks = new Keyspace({ ...options, maxLoad: state.maxLoad, shared: true });
    (ks as { arena: Arena }).arena = Arena.adopt(state.arena);
    ks.table = state.table;
    ks.mask = state.table.length / 2 - 1;
    ks.growAt = Math.floor((ks.mask + 1) * ks.maxLoad);
    ks.size = state.size;
    ks.volatile.refs = state.volatileRefs;
    ks.volatile.size = state.volatileSize;
    // Posted Buffers arrive as plain Uint8Arrays (over the same shared memory): Buffers again.
    ks.side.adopt(state.side.map((e) => (e instanceof Uint8Array && !Buffer.isBuffer(e) ? Buffer.from(e.buffer, e.byteOffset, e.byteLength) : e)));
    return ks;
  }
}

const EMPTY = new Uint8Array(0);

/** Smallest power-of-two capacity holding `keys` at most `load` full. */
function capacityFor(keys: number, load: number): number {
  let c = MIN_CAPACITY;
  while (c * load < keys + 1) c *= 2;
  return c;
}

/** Copies bytes: a JS loop when short; Buffer's copy (a memmove, no view allocated) otherwise. */
function copyBytes(src: Uint8Array, start: number, len: number, dst: Uint8Array, at: number): void {
  if (len <= SHORT_COPY) {
    for (let i = 0; i < len; i++) dst[at + i] = src[start + i]!;
  } else copy.call(src, dst, at, start, start + len);
}

const copy = Buffer.prototype.copy;

function writeLatin1(s: string, dst: Uint8Array, at: number): void {
  const len = s.length;
  if (len <= SHORT_COPY) {
    for (let i = 0; i < len; i++) dst[at + i] = s.charCodeAt(i);
  } else (dst as Buffer).latin1Write(s, at);
}

function readU32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function writeU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v & 0xff;
  b[p + 1] = (v >>> 8) & 0xff;
  b[p + 2] = (v >>> 16) & 0xff;
  b[p + 3] = v >>> 24;
}
