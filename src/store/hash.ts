// A Redis hash: field -> value, latin1 strings. `encoding` is what OBJECT ENCODING reports and
// follows Redis 7.0's rules (listpack while small, hashtable for good once it grows past
// hash-max-listpack-entries / -value); the hash commands maintain it.
//
// The representation is independent of the reported encoding: a small hash (up to
// PACKED_HASH_MAX_FIELDS fields and PACKED_MAX_CHARS characters, whatever its encoding) is one
// packed string of field/value entries (store/packed-entries.ts), ~8x smaller than a Map of
// strings; past those bounds it becomes a table of fields and values as bytes
// (store/member-table.ts's ByteFieldTable) for good.
//
// Iteration order is insertion order in both forms, which is exactly a listpack's order in
// Redis: new fields are appended, updating a field keeps its place, a deleted and re-added
// field goes to the end. So HGETALL of a listpack hash matches Redis byte for byte.
//
// Field TTLs (Redis 7.4's hash field expiration) are absolute Unix ms per field, kept beside
// the data (most hashes have none). A hash that ever had one set is "listpackex" while small:
// Redis keeps its fields ordered by TTL, soonest first, fields without one last; setting a TTL
// moves the field before the first field whose TTL is none or not smaller, removing one moves
// it to the end. We keep the same order, so HGETALL and DUMP of such a hash match Redis too.
// This class only stores: who may see or delete an expired field is the commands' business
// (commands/hashes/expiry.ts).

import { arrayBytes, mapBytes, objectBytes, setBytes, stringBytes, typedArrayBytes } from "./memory-size.ts";
import { ByteFieldTable } from "./member-table.ts";
import { appendEntries, type BulkSink, entryAt, entryEnd, findEntry, headerAt, insertEntries, PACKED_MAX_CHARS, removeRange, replaceEntry, unpackEntries, writeEntries } from "./packed-entries.ts";

type HashEncoding = "listpack" | "listpackex" | "hashtable";

/** No TTL (what fieldExpireAt returns for a field without one). */
export const NO_FIELD_TTL = -1;

/**
 * O(1) uniform random choice over a changing collection of strings (Redis's dictGetRandomKey /
 * intsetRandom): a dense array of the members, built on the first random access only, then
 * kept in step by the owning collection.
 *
 * Removals are the expensive part of a JS Map/Set (a few hundred ns each), so the index keeps
 * none: a member popped through the index (SPOP) leaves its slot by swap-with-last (array work
 * only); a member removed otherwise (SREM, HDEL) leaves a stale slot, remembered in `stale` so
 * that re-adding it revives the slot instead of duplicating it. A pick that lands on a stale
 * slot drops it and draws again, so picks stay uniform over the live members. The owner drops
 * the whole index once stale slots outnumber live members (rebuilt on the next random access).
 */
class RandomIndex {
  private readonly slots: string[];
  private stale: Set<string> | null = null;
  /** Slot of the member the last random() returned. */
  private lastSlot = -1;

  constructor(members: Iterable<string>) {
    this.slots = Array.from(members);
  }

  /** A member joined the collection. */
  added(member: string): void {
    if (this.stale !== null && this.stale.delete(member)) return;
    this.slots.push(member);
  }

  /**
   * A member left the collection by another way than removeLastPicked(). Returns false when
   * the index is no longer worth keeping (the owner then drops it).
   */
  removed(member: string, liveSize: number): boolean {
    if (this.stale === null) this.stale = new Set();
    this.stale.add(member);
    return this.stale.size <= liveSize + 16;
  }

  /** A uniformly random live member; the collection must not be empty. */
  random(live: { has(member: string): boolean }): string {
    const slots = this.slots;
    for (;;) {
      const i = Math.floor(Math.random() * slots.length);
      const m = slots[i]!;
      if (live.has(m)) {
        this.lastSlot = i;
        return m;
      }
      this.dropSlot(i);
      this.stale!.delete(m);
    }
  }

  /** Forgets the member the last random() returned: the owner is deleting it. */
  removeLastPicked(): void {
    this.dropSlot(this.lastSlot);
    this.lastSlot = -1;
  }

  /** Heap bytes of the index (the members are the collection's strings). */
  memoryUsage(): number {
    return arrayBytes(this.slots.length) + (this.stale === null ? 0 : setBytes(this.stale.size));
  }

  private dropSlot(i: number): void {
    const last = this.slots.pop()!;
    if (i < this.slots.length) this.slots[i] = last;
  }
}

/** Live iterators of HSCAN/SSCAN calls in progress, by the cursor handed to the client. */
export type ScanCursors<T> = Map<number, Iterator<T>>;

/** Most fields a hash keeps packed (Redis's hash-max-listpack-entries is 128 by default). */
export const PACKED_HASH_MAX_FIELDS = 128;

/** What a hash keeps besides its data, allocated on the first random access or scan. */
interface HashExtra {
  /** Map form: random access for HRANDFIELD. */
  randomIndex: RandomIndex | null;
  /** Packed form: offsets of the field entries (null: not computed / stale). */
  offsets: Int32Array | null;
  /** HSCAN iterations in progress over a hashtable-encoded hash (see commands/hashes/scan.ts). */
  scanCursors: ScanCursors<string> | null;
  /** Field -> absolute expiry in Unix ms, for the fields that have one (null: none ever set). */
  ttls: Map<string, number> | null;
  /** See HashValue.registeredMinExpire. */
  registeredMin: number;
}

function newExtra(): HashExtra {
  return { randomIndex: null, offsets: null, scanCursors: null, ttls: null, registeredMin: NO_FIELD_TTL };
}

const KEYS = 0;
const VALUES = 1;
const ENTRIES = 2;

/** Iterates a packed string of field/value entries (a snapshot: the hash may change meanwhile). */
class PackedPairIterator<T> implements IterableIterator<T> {
  private p = 0;
  constructor(
    private readonly s: string,
    private readonly mode: number,
  ) {}

  next(): IteratorResult<T> {
    const s = this.s;
    const p = this.p;
    if (p >= s.length) return { value: undefined, done: true };
    const vp = entryEnd(s, p);
    this.p = entryEnd(s, vp);
    const mode = this.mode;
    const value = mode === KEYS ? entryAt(s, p) : mode === VALUES ? entryAt(s, vp) : [entryAt(s, p), entryAt(s, vp)];
    return { value: value as T, done: false };
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this;
  }
}

/**
 * The fields of a HashValue and its accessor properties. They live on a base class because JSC
 * sizes an instance by the fields its constructor sets plus the non-function properties
 * (accessors) of its class's own prototype: accessors one prototype up cost no slots, so a
 * hash is a 48-byte object instead of 64.
 */
abstract class HashFields {
  /** The packed field/value entries, or a table (fields as bytes) once the hash outgrew them. */
  protected data: string | ByteFieldTable;
  /** Number of fields while packed. */
  protected count: number;
  protected enc: HashEncoding;
  protected extra: HashExtra | null;

  constructor() {
    this.data = "";
    this.count = 0;
    this.enc = "listpack";
    this.extra = null;
  }

  get encoding(): HashEncoding {
    return this.enc;
  }

  /** Only what OBJECT ENCODING reports (and the RDB type it is saved with); the form is the size's. */
  set encoding(e: HashEncoding) {
    this.enc = e;
  }

  /** Whether the fields are in the packed form (for tests and memory reports). */
  get packed(): boolean {
    return typeof this.data === "string";
  }

  get size(): number {
    const d = this.data;
    return typeof d === "string" ? this.count : d.size;
  }

  get scanCursors(): ScanCursors<string> | null {
    return this.extra?.scanCursors ?? null;
  }

  set scanCursors(cursors: ScanCursors<string> | null) {
    if (this.extra === null) {
      if (cursors === null) return;
      this.extra = newExtra();
    }
    this.extra.scanCursors = cursors;
  }
}

export class HashValue extends HashFields {
  constructor(entries?: Iterable<readonly [string, string]>) {
    super();
    if (entries) for (const [f, v] of entries) this.setField(f, v);
  }

  /** Database.prefetch: the fields a pipeline names, read ahead in the table of a large hash. */
  prefetchMembers(buf: Uint8Array, at: Int32Array, n: number): void {
    const data = this.data;
    if (typeof data !== "string") data.prefetch(buf, at, n);
  }

  /**
   * A hash over already packed entries (the RDB reader's path): `packed` must hold `count`
   * distinct fields with their values, in the format of store/packed-entries.ts.
   */
  static fromPacked(packed: string, count: number, encoding: HashEncoding): HashValue {
    const h = new HashValue();
    h.enc = encoding;
    if (count > PACKED_HASH_MAX_FIELDS || packed.length > PACKED_MAX_CHARS) h.data = mapOf(packed);
    else {
      h.data = packed;
      h.count = count;
    }
    return h;
  }

  /**
   * The packed entries when this hash can be held at rest as bytes (store/at-rest.ts): packed
   * and without field TTLs; else null. Caches (offsets, scan cursors) are not part of it.
   */
  get restData(): string | null {
    const d = this.data;
    return typeof d === "string" && this.enc !== "listpackex" && (this.extra === null || this.extra.ttls === null) ? d : null;
  }

  /** The field count that goes with restData. */
  get restMeta(): number {
    return this.count;
  }

  /** The hash restData and restMeta describe, with its OBJECT ENCODING. */
  static fromRest(data: string, count: number, encoding: "listpack" | "hashtable"): HashValue {
    const h = new HashValue();
    h.data = data;
    h.count = count;
    h.enc = encoding;
    return h;
  }

  /** An empty hash that will hold about `n` fields (a Map from the start when that many do not pack). */
  static withCapacity(n: number): HashValue {
    const h = new HashValue();
    if (n > PACKED_HASH_MAX_FIELDS) h.data = new ByteFieldTable(n);
    return h;
  }

  get(field: string): string | undefined {
    const d = this.data;
    if (typeof d !== "string") return d.get(field);
    const p = findEntry(d, field, 2);
    return p < 0 ? undefined : entryAt(d, entryEnd(d, p));
  }

  /**
   * Writes the value of `field` to `sink` as a bulk string straight from where it is held (no
   * string made: HGET of a large hash); false when the field is not there.
   */
  writeValue(field: string, sink: BulkSink): boolean {
    const d = this.data;
    if (typeof d !== "string") return d.writeValue(field, sink);
    const p = findEntry(d, field, 2);
    if (p < 0) return false;
    const v = entryEnd(d, p);
    const h = headerAt(d, v);
    sink.bulkChars(d, v + h, entryEnd(d, v) - v - h);
    return true;
  }

  has(field: string): boolean {
    const d = this.data;
    if (typeof d !== "string") return d.has(field);
    return findEntry(d, field, 2) >= 0;
  }

  /** Map-compatible set. */
  set(field: string, value: string): this {
    this.setField(field, value);
    return this;
  }

  /**
   * Sets a field; returns whether it was new. An existing field loses its TTL (HSET) unless
   * `keepTtl` (HINCRBY): in a listpackex hash it then moves to the end, as in Redis.
   */
  setField(field: string, value: string, keepTtl = false): boolean {
    const extra = this.extra;
    if (extra !== null && extra.ttls !== null && !keepTtl && extra.ttls.has(field)) {
      extra.ttls.delete(field);
      if (this.enc === "listpackex") {
        this.delete(field);
        this.setField(field, value);
        return false;
      }
    }
    const d = this.data;
    if (typeof d !== "string") {
      if (!d.setNew(field, value)) return false;
      this.extra?.randomIndex?.added(field);
      return true;
    }
    const p = findEntry(d, field, 2);
    if (p >= 0) {
      const vp = entryEnd(d, p);
      const ve = entryEnd(d, vp);
      // The same value again (a replayed write, an idempotent update): nothing to rebuild.
      const vs = vp + headerAt(d, vp);
      if (ve - vs === value.length && d.startsWith(value, vs)) return false;
      if (this.extra !== null) this.extra.offsets = null;
      const next = replaceEntry(d, vp, ve, value);
      if (next.length > PACKED_MAX_CHARS) this.data = mapOf(next);
      else this.data = next;
      return false;
    }
    if (this.extra !== null) this.extra.offsets = null;
    if (this.count >= PACKED_HASH_MAX_FIELDS || d.length + field.length + value.length + 10 > PACKED_MAX_CHARS) {
      const m = mapOf(d);
      m.set(field, value);
      this.data = m;
      return true;
    }
    this.data = appendEntries(d, field, value);
    this.count++;
    return true;
  }

  delete(field: string): boolean {
    const d = this.data;
    if (typeof d !== "string") {
      if (!d.delete(field)) return false;
      const extra = this.extra;
      if (extra !== null) {
        if (extra.randomIndex !== null && !extra.randomIndex.removed(field, d.size)) extra.randomIndex = null;
        extra.ttls?.delete(field);
      }
      return true;
    }
    const p = findEntry(d, field, 2);
    if (p < 0) return false;
    if (this.extra !== null) {
      this.extra.offsets = null;
      this.extra.ttls?.delete(field);
    }
    this.data = removeRange(d, p, entryEnd(d, entryEnd(d, p)));
    this.count--;
    return true;
  }

  clear(): void {
    this.data = "";
    this.count = 0;
    this.extra = null;
  }

  keys(): IterableIterator<string> {
    const d = this.data;
    return typeof d === "string" ? new PackedPairIterator<string>(d, KEYS) : d.keys();
  }

  values(): IterableIterator<string> {
    const d = this.data;
    return typeof d === "string" ? new PackedPairIterator<string>(d, VALUES) : d.values();
  }

  entries(): IterableIterator<[string, string]> {
    const d = this.data;
    return typeof d === "string" ? new PackedPairIterator<[string, string]>(d, ENTRIES) : d.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** Calls `fn(value, field)` for each field in order (no iterator objects). */
  forEach(fn: (value: string, field: string) => void): void {
    const d = this.data;
    if (typeof d !== "string") {
      d.forEach((v, f) => fn(v, f));
      return;
    }
    for (let p = 0; p < d.length; ) {
      const vp = entryEnd(d, p);
      fn(entryAt(d, vp), entryAt(d, p));
      p = entryEnd(d, vp);
    }
  }

  /**
   * Writes the fields and/or values in order to `sink` as bulk strings, from the packed string
   * or the table's bytes (HGETALL, HKEYS, HVALS: no string or pair made per field).
   */
  writeTo(sink: BulkSink, keys: boolean, values: boolean): void {
    const d = this.data;
    if (typeof d !== "string") d.writeTo(sink, keys, values);
    else if (keys && values) writeEntries(d, sink);
    else writeEntries(d, sink, 2, keys ? 0 : 1);
  }

  /** A uniformly random field; the hash must not be empty. */
  randomField(): string {
    const d = this.data;
    const extra = (this.extra ??= newExtra());
    if (typeof d !== "string") {
      if (extra.randomIndex === null) extra.randomIndex = new RandomIndex(d.keys());
      return extra.randomIndex.random(d);
    }
    let offsets = extra.offsets;
    if (offsets === null) {
      offsets = new Int32Array(this.count);
      for (let p = 0, i = 0; p < d.length; i++) {
        offsets[i] = p;
        p = entryEnd(d, entryEnd(d, p));
      }
      extra.offsets = offsets;
    }
    return entryAt(d, offsets[Math.floor(Math.random() * offsets.length)]!);
  }

  /** An independent copy (same fields, order, encoding and field TTLs). A packed hash shares its immutable string. */
  clone(): HashValue {
    const h = new HashValue();
    h.enc = this.enc;
    const d = this.data;
    if (typeof d === "string") {
      h.data = d;
      h.count = this.count;
    } else h.data = d.clone();
    const extra = this.extra;
    if (extra && extra.ttls && extra.ttls.size) {
      h.extra = newExtra();
      h.extra.ttls = new Map(extra.ttls);
      h.extra.registeredMin = extra.registeredMin;
    }
    return h;
  }

  /**
   * MEMORY USAGE: the hash's heap bytes (store/memory-size.ts). A packed hash is one string; a
   * table's fields and values are its bytes, counted exactly (no sampling needed).
   */
  memoryUsage(_samples: number): number {
    const d = this.data;
    // (The object measures 64 bytes: its own prototype's accessors take slots too.)
    let bytes = 64;
    if (typeof d === "string") bytes += stringBytes(d);
    else bytes += d.memoryUsage();
    const extra = this.extra;
    if (extra !== null) {
      bytes += objectBytes(5);
      if (extra.ttls !== null) bytes += mapBytes(extra.ttls.size);
      if (extra.offsets !== null) bytes += typedArrayBytes(extra.offsets.byteLength);
      if (extra.randomIndex !== null) bytes += extra.randomIndex.memoryUsage();
    }
    return bytes;
  }

  // ---------------------------------------------------------------- field TTLs

  /** How many fields have a TTL. */
  get fieldTtlCount(): number {
    return this.extra?.ttls?.size ?? 0;
  }

  /** The field's expiry (absolute Unix ms), or NO_FIELD_TTL. */
  fieldExpireAt(field: string): number {
    const ttls = this.extra?.ttls;
    if (!ttls) return NO_FIELD_TTL;
    return ttls.get(field) ?? NO_FIELD_TTL;
  }

  /** Whether the field is logically expired at `now`: its time is before (it stays stored until deleted). */
  isFieldExpired(field: string, now: number): boolean {
    const ttls = this.extra?.ttls;
    if (!ttls || ttls.size === 0) return false;
    const at = ttls.get(field);
    return at !== undefined && at < now;
  }

  /** How many fields are logically expired at `now`. */
  expiredFieldCount(now: number): number {
    const ttls = this.extra?.ttls;
    if (!ttls || ttls.size === 0) return 0;
    let n = 0;
    for (const at of ttls.values()) if (at < now) n++;
    return n;
  }

  /** The fields expired at `now`, in the hash's order. */
  expiredFields(now: number): string[] {
    const out: string[] = [];
    const ttls = this.extra?.ttls;
    if (!ttls || ttls.size === 0) return out;
    for (const f of this.keys()) if (this.isFieldExpired(f, now)) out.push(f);
    return out;
  }

  /** The smallest field expiry, or NO_FIELD_TTL (the header of RDB type 24/25). */
  minFieldExpireAt(): number {
    const ttls = this.extra?.ttls;
    if (!ttls || ttls.size === 0) return NO_FIELD_TTL;
    let min = Infinity;
    for (const at of ttls.values()) if (at < min) min = at;
    return min;
  }

  /**
   * The expiry under which Redis 7.4 has the hash registered for active expiry (db->hexpires),
   * NO_FIELD_TTL if none. Redis updates it lazily (not when it moves by less than 4 s, not on
   * HPERSIST), so it can differ from the smallest field TTL; it is what Redis writes in the
   * header of RDB type 25 and DUMP payloads, so we keep it the same way (commands/hashes/expiry.ts).
   */
  get registeredMinExpire(): number {
    return this.extra?.registeredMin ?? NO_FIELD_TTL;
  }

  set registeredMinExpire(at: number) {
    if (this.extra === null) {
      if (at === NO_FIELD_TTL) return;
      this.extra = newExtra();
    }
    this.extra.registeredMin = at;
  }

  /** Registers the exact smallest field TTL (after a load or an expiry pass). */
  registerMinExpire(): void {
    this.registeredMinExpire = this.minFieldExpireAt();
  }

  /** Calls fn(field, expireAt) for every field with a TTL. */
  forEachFieldTtl(fn: (field: string, expireAt: number) => void): void {
    const ttls = this.extra?.ttls;
    if (ttls) for (const [f, at] of ttls) fn(f, at);
  }

  /**
   * Sets an existing field's expiry. In a listpackex hash the field moves before the first
   * other field whose TTL is none or >= `at` (listpackExUpdateExpiry's order).
   */
  setFieldExpireAt(field: string, at: number): void {
    const extra = (this.extra ??= newExtra());
    const ttls = (extra.ttls ??= new Map());
    ttls.set(field, at);
    if (this.enc !== "listpackex") return;
    let before: string | null = null;
    for (const f of this.keys()) {
      if (f === field) continue;
      const t = ttls.get(f);
      if (t === undefined || t >= at) {
        before = f;
        break;
      }
    }
    this.moveField(field, before);
  }

  /** Removes a field's TTL (HPERSIST); a listpackex field moves to the end. False if it had none. */
  clearFieldExpire(field: string): boolean {
    const ttls = this.extra?.ttls;
    if (!ttls || !ttls.delete(field)) return false;
    if (this.enc === "listpackex") this.moveField(field, null);
    return true;
  }

  /** Moves an existing field before `before` (null: to the end), keeping its value. */
  private moveField(field: string, before: string | null): void {
    const d = this.data;
    if (typeof d === "string") {
      const p = findEntry(d, field, 2);
      if (p < 0) return;
      const value = entryAt(d, entryEnd(d, p));
      let rest = removeRange(d, p, entryEnd(d, entryEnd(d, p)));
      const q = before === null ? -1 : findEntry(rest, before, 2);
      rest = q < 0 ? appendEntries(rest, field, value) : insertEntries(rest, q, field, value);
      this.data = rest;
      if (this.extra !== null) this.extra.offsets = null;
      return;
    }
    // The Map form of a listpackex hash (only with hash-max-listpack-entries above our packed
    // bound): rebuilt in the new order.
    const value = d.get(field);
    if (value === undefined) return;
    const m = new ByteFieldTable(d.size);
    for (const [f, v] of d) {
      if (f === field) continue;
      if (f === before) m.set(field, value);
      m.set(f, v);
    }
    if (!m.has(field)) m.set(field, value);
    this.data = m;
  }
}

/** The table form of packed entries (the values as flat copies). */
function mapOf(packed: string): ByteFieldTable {
  const items = unpackEntries(packed);
  const m = new ByteFieldTable(items.length / 2);
  for (let i = 0; i < items.length; i += 2) m.set(items[i]!, items[i + 1]!);
  return m;
}
