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
//
// Modules: keyspace-index.ts (the table: lookups, reads, resizing, iteration), this one (the
// writes, the snapshot bookkeeping, the hand-off from a worker), and the parts named above.

import { Arena, OFFSET_MASK, REF_SHIFT, type ArenaState } from "./arena.ts";
import { hashBytes, hashString } from "./key-hash.ts";
import { EXPIRE_EXTRA, Flag, HEADER, inlineValue, KIND_MASK, Kind, LRU_SHIFT, PACKED_HEAD, SIDE_REF, VOLATILE_POS_AT } from "./record.ts";
import { classOf, MAX_CHUNK } from "./size-classes.ts";
import { capacityFor, copyBytes, EMPTY, KeyspaceIndex, MIN_CAPACITY, NO_EXPIRE, NOT_FOUND, readU32, writeLatin1, writeU32, type KeyspaceOptions } from "./keyspace-index.ts";

export { NO_EXPIRE, NOT_FOUND, packedFits } from "./keyspace-index.ts";

/** What a worker posts back: everything but the side table, without copying the big arrays. */
interface KeyspaceState {
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
  /** The aggregates kept records point at (shared by the keyspaces of one dataset snapshot). */
  keptObjects: KeptObjects;
}

/**
 * The aggregates that kept records point at, each with its keyspace and kept record: an
 * aggregate about to change in place is first copied for its kept record, if the walk has not
 * passed it yet. By identity, so that an object moved to another key (RENAME) or to another
 * database of the same snapshot (MOVE) is covered too: the snapshots of one dataset share one.
 */
export class KeptObjects {
  private readonly byObject = new Map<unknown, { ks: Keyspace; ref: number }>();

  add(obj: unknown, ks: Keyspace, ref: number): void {
    this.byObject.set(obj, { ks, ref });
  }

  /** Before `obj` changes in place: its kept record, if any, gets a copy. */
  copyFor(obj: unknown): void {
    if (this.byObject.size === 0) return;
    const e = this.byObject.get(obj);
    if (e === undefined) return;
    this.byObject.delete(obj);
    e.ks.keepCopy(e.ref, obj);
  }
}

export class Keyspace extends KeyspaceIndex {
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
  /** A Packed value's tag and meta (its data is vStr). */
  private vTag = 0;
  private vMeta = 0;

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

  /** addBytes for a key and value given as a latin1 string (a load through the string reader). */
  addString(key: string, value: string, expire: number): boolean {
    this.keyFromString(key);
    this.vKind = Kind.String;
    this.vStr = value;
    this.vLen = value.length;
    return this.put(false, expire, false);
  }

  addObject(key: string, value: object, expire: number): boolean {
    this.keyFromString(key);
    this.vKind = Kind.Object;
    this.vObj = value;
    return this.put(false, expire, false);
  }

  /**
   * Adds a key with a Packed value (tag, meta, latin1 data: store/at-rest.ts), as a load does.
   * The caller checks packedFits() first. Returns false, storing nothing, when the key exists.
   */
  addPacked(key: string, tag: number, meta: number, data: string, expire: number): boolean {
    this.keyFromString(key);
    this.packedFromArgs(tag, meta, data);
    return this.put(false, expire, false);
  }

  private packedFromArgs(tag: number, meta: number, data: string): void {
    this.vKind = Kind.Packed;
    this.vTag = tag;
    this.vMeta = meta;
    this.vStr = data;
    this.vLen = PACKED_HEAD + data.length;
  }

  /**
   * The Packed value at `slot` becomes the object `obj` (the same value, decoded by the
   * caller), keeping the key, its expiry and its access field. The slot stays valid.
   */
  materializeAt(slot: number, obj: object): void {
    this.recordKeyInProgress(slot);
    this.vKind = Kind.Object;
    this.vObj = obj;
    this.replaceValue(slot, true);
    this.kBuf = EMPTY;
    this.vObj = undefined;
  }

  /**
   * The object at `slot` goes back to rest: the record holds the Packed value (tag, meta,
   * data: store/at-rest.ts) instead, keeping the key, its expiry and its access field. The
   * caller checks packedFits() first, and that no snapshot runs (its bookkeeping follows objects).
   */
  restAt(slot: number, tag: number, meta: number, data: string): void {
    this.recordKeyInProgress(slot);
    this.packedFromArgs(tag, meta, data);
    this.replaceValue(slot, true);
    this.kBuf = EMPTY;
    this.vStr = null;
  }

  /** The key in progress is the record's own at `slot` (writeRecord copies it before the old chunk goes). */
  private recordKeyInProgress(slot: number): void {
    const ref = this.table[(slot << 1) + 1]!;
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const h = w[off >> 2]!;
    this.kStr = null;
    this.kBuf = this.arena.bytes[s]!;
    this.kStart = off + (h & Flag.Expire ? HEADER + EXPIRE_EXTRA : HEADER);
    this.kLen = w[(off >> 2) + 1]! & 0xffff;
    this.kHash = this.table[slot << 1]!;
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
    const added = this.putInProgress(keepTtl, expire, overwrite);
    // Forget the write's key and value: a huge value must not stay alive until the next write.
    this.kStr = null;
    this.vStr = null;
    this.kBuf = EMPTY;
    this.vBuf = EMPTY;
    this.vObj = undefined;
    return added;
  }

  private putInProgress(keepTtl: boolean, expire: number, overwrite: boolean): boolean {
    let slot = this.probe();
    if (slot >= 0) {
      if (!overwrite) {
        return false;
      }
      this.replaceValue(slot, keepTtl);
      return false;
    }
    if (this.size >= this.growAt) {
      this.resize(this.capacity * 2);
      slot = ~this.emptySlotFor(this.kHash);
    }
    const ref = this.writeRecord(expire === NO_EXPIRE ? 0 : Flag.Expire, this.clock.createValue, expire, -1, -1);
    const i = ~slot;
    this.table[i << 1] = this.kHash;
    this.table[(i << 1) + 1] = ref;
    this.size++;
    this.readyGrowth();
    if (expire !== NO_EXPIRE) this.setVolatilePos(ref, this.volatile.add(ref));
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
    } else if (kind === Kind.Packed) valueInline = this.vLen;
    const ref = this.arena.alloc(classOf(kOff + keyInline + valueInline));
    const s = ref >>> REF_SHIFT;
    const off = (ref & OFFSET_MASK) << 3;
    const w = this.arena.words[s]!;
    const b = this.arena.bytes[s]!;
    w[off >> 2] = kind | flags | (lru << LRU_SHIFT);
    w[(off >> 2) + 1] = (flags & Flag.KeyExternal ? 0 : keyInline) | ((inlineValue(kind) ? valueInline : 0) << 16);
    if (flags & Flag.Expire) this.arena.floats[s]![(off >> 3) + 1] = expire;
    let p = off + kOff;
    if (flags & Flag.KeyExternal) writeU32(b, p, keySide);
    else if (this.kStr !== null) writeLatin1(this.kStr, b, p);
    else copyBytes(this.kBuf, this.kStart, this.kLen, b, p);
    p += keyInline;
    if (kind === Kind.String) {
      if (this.vStr !== null) writeLatin1(this.vStr, b, p);
      else copyBytes(this.vBuf, this.vStart, this.vLen, b, p);
    } else if (kind === Kind.Packed) this.writePacked(b, p);
    else {
      if (valueSide < 0) valueSide = this.side.add(kind === Kind.Object ? this.vObj : this.valueCopy());
      writeU32(b, p, valueSide);
    }
    return ref;
  }

  private writePacked(b: Uint8Array, p: number): void {
    b[p] = this.vTag;
    writeU32(b, p + 1, this.vMeta);
    writeLatin1(this.vStr!, b, p + PACKED_HEAD);
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
    let oldSide = inlineValue(oldKind) ? -1 : this.sideIndexOf(ref);
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
    }
    if (hadExpire && !keepExpire) this.removeVolatile(vpos);
    if (oldSide >= 0) this.releaseSide(oldSide);
  }

  /** Whether the new value (in progress) fits the record's chunk class exactly. */
  private fitsInPlace(ref: number, withExpire: boolean, keySide: number): boolean {
    const kOff = withExpire ? HEADER + EXPIRE_EXTRA : HEADER;
    const keyInline = keySide >= 0 ? SIDE_REF : this.kLen;
    if (this.vKind === Kind.String && kOff + keyInline + this.vLen > MAX_CHUNK) return false; // becomes a BigString
    const valueInline = inlineValue(this.vKind) ? this.vLen : SIDE_REF;
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
    w[(off >> 2) + 1] = (lens & 0xffff) | ((inlineValue(kind) ? this.vLen : 0) << 16);
    const p = off + kOff + keyInline;
    if (kind === Kind.String) {
      if (this.vStr !== null) writeLatin1(this.vStr, b, p);
      else copyBytes(this.vBuf, this.vStart, this.vLen, b, p);
    } else if (kind === Kind.Packed) this.writePacked(b, p);
    else writeU32(b, p, valueSide >= 0 ? valueSide : this.side.add(this.vObj));
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
      const h = (w[(ref & OFFSET_MASK) << 1]! |= Flag.SnapshotKept);
      this.book.kept.push(ref);
      // Its side entries are released only at the end, so the object is still readable.
      if ((h & KIND_MASK) === Kind.Object) this.book.keptObjects.add(this.objectOf(ref), this, ref);
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
    if (!inlineValue(h & KIND_MASK)) this.releaseSide(this.sideIndexOf(ref));
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
    this.layoutEpoch++;
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
    const bodyLen = (h & Flag.KeyExternal ? SIDE_REF : lens & 0xffff) + (inlineValue(kind) ? lens >>> 16 : SIDE_REF);
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
    // A kept record and the live one now share their side entries: a change to the object
    // copies it for the kept record first (beforeObjectChange).
    this.retireRecord(ref);
    return next;
  }

  /**
   * Must be called before an aggregate stored at `slot` is changed in place. While a snapshot
   * still needs the current state, the snapshot's record gets a copy of the object; the live
   * record keeps the object itself, so a caller may go on with the reference it holds.
   */
  beforeObjectChange(slot: number): void {
    const book = this.book;
    if (book === null) return;
    const ref = this.table[(slot << 1) + 1]!;
    if (this.arena.isUnwalked(ref)) {
      // The record stays for the snapshot (retired as kept, sharing the object); the key gets
      // a new record.
      const h = this.arena.words[ref >>> REF_SHIFT]![(ref & OFFSET_MASK) << 1]!;
      const pos = h & Flag.Expire ? this.arena.words[ref >>> REF_SHIFT]![(((ref & OFFSET_MASK) << 3) + VOLATILE_POS_AT) >> 2]! : -1;
      const next = this.relayout(slot, (h & Flag.Expire) !== 0, this.expireOf(ref));
      if (pos >= 0) this.volatile.update(pos, next);
    }
    book.keptObjects.copyFor(this.objectAt(slot));
  }

  /** @internal The kept record `ref` gets its own copy of `obj` (see KeptObjects). */
  keepCopy(ref: number, obj: unknown): void {
    const book = this.book;
    // Ended, or walked past it: nobody reads the kept record any more.
    if (book === null || !this.arena.isUnwalked(ref)) return;
    const copy = this.side.add(this.cloneObject(obj));
    this.setSideIndex(ref, copy);
    book.deferredSide.push(copy);
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
  // Snapshots (driven by snapshot.ts)

  /** @internal */
  beginSnapshotBook(keptObjects: KeptObjects): void {
    if (this.book !== null) throw new Error("a snapshot of this keyspace is already running");
    this.book = { kept: [], deferredSide: [], keptObjects };
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
