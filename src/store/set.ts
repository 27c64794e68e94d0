// A Redis set of latin1 strings. `encoding` is what OBJECT ENCODING reports (intset while all
// members are integers and few, hashtable; "listpack" only for a set loaded from a 7.2+ RDB when
// configured so, treated like a hashtable by the commands); the set commands maintain it.
//
// Order matters where Redis's is deterministic: an intset is a sorted array of integers, so
// SMEMBERS, SSCAN, SINTER... of an intset reply in ascending numeric order; `ordered()` gives
// that order. Listpack and hashtable sets iterate in insertion order (Redis's hashtable order is
// arbitrary; a listpack's is insertion order).
//
// Three representations, chosen by encoding and size (the encoding alone is what clients see):
// - intset-encoded: the intset form (store/packed-intset.ts), 2-8 chars per member, ascending,
//   up to INTSET_FORM_MAX members (past that, only when set-max-intset-entries allows more, a
//   JS Set with a sorted copy made on demand);
// - small otherwise (up to PACKED_SET_MAX_MEMBERS members and PACKED_MAX_CHARS characters):
//   packed entries (store/packed-entries.ts) in insertion order;
// - otherwise a MemberTable (store/member-table.ts: the members as bytes under a hash index), for
//   good.

import type { ScanCursors } from "./hash.ts";
import { MemberTable } from "./member-table.ts";
import { appendEntries, entryAt, entryEnd, findEntry, finishScratch, flatSlice, headerAt, PACKED_MAX_CHARS, packedBuilder, removeRange, scratchBuffer, unpackEntries } from "./packed-entries.ts";
import * as intset from "./packed-intset.ts";
import { arrayBytes, objectBytes, stringBytes, typedArrayBytes } from "./memory-size.ts";

type SetEncoding = "intset" | "listpack" | "hashtable";

const MAX_I64 = "9223372036854775807";
const MIN_I64_DIGITS = "9223372036854775808";

/**
 * Whether a member can live in an intset: the canonical decimal form of a signed 64-bit
 * integer (Redis's string2ll: no '+', no leading zeros, no "-0", no spaces).
 */
export function isIntsetMember(s: string): boolean {
  const len = s.length;
  if (len === 0 || len > 20) return false;
  let i = 0;
  const negative = s.charCodeAt(0) === 45; /* '-' */
  if (negative) {
    i = 1;
    if (len === 1) return false;
  }
  const first = s.charCodeAt(i);
  if (first === 48 /* '0' */) return len === 1;
  if (first < 49 || first > 57) return false;
  for (let j = i + 1; j < len; j++) {
    const ch = s.charCodeAt(j);
    if (ch < 48 || ch > 57) return false;
  }
  const digits = len - i;
  if (digits < 19) return true;
  if (digits > 19) return false;
  const body = negative ? s.slice(1) : s;
  return body <= (negative ? MIN_I64_DIGITS : MAX_I64);
}

/** Orders canonical integer strings numerically (exact for the whole int64 range). */
export function compareIntStrings(a: string, b: string): number {
  const na = a.charCodeAt(0) === 45;
  const nb = b.charCodeAt(0) === 45;
  if (na !== nb) return na ? -1 : 1;
  if (a.length !== b.length) return na ? b.length - a.length : a.length - b.length;
  if (a === b) return 0;
  return (a < b) !== na ? -1 : 1;
}

/** set-max-intset-entries as setTypeAdd applies it (capped at 2^30 by intset internals). */
export function intsetLimit(configured: number): number {
  return configured >= 1 << 30 ? 1 << 30 : configured;
}

/**
 * Redis's setTypeCreate: an empty set of the encoding its first member calls for (intset for
 * an integer, hashtable otherwise; the caller adds the member itself).
 */
export function newSetFor(firstMember: string): SetValue {
  const s = new SetValue();
  s.encoding = isIntsetMember(firstMember) ? "intset" : "hashtable";
  return s;
}

/** Most members a non-intset set keeps packed. */
export const PACKED_SET_MAX_MEMBERS = 128;

/** Most members kept in the intset form (64 KB of 8-byte members: a rebuild stays cheap). */
export const INTSET_FORM_MAX = 8192;

/** `meta & 15`: the representation. 2, 4 and 8 are the intset form's widths. */
const REP_SET = 0;
const REP_PACKED = 1;

/**
 * For a set at rest (restData / restMeta): its member count when its data is packed entries
 * (store/packed-entries.ts, one entry per member), else -1 (the intset form).
 */
export function restPackedCount(meta: number): number {
  return (meta & 15) === REP_PACKED ? meta >>> 4 : -1;
}

/** What a set keeps besides its data, allocated on the first random access or scan. */
interface SetExtra {
  /** Packed form: offsets of the entries (null: not computed / stale). */
  offsets: Int32Array | null;
  /** Set form of an intset-encoded set: the members in ascending order (null: stale). */
  sorted: string[] | null;
  /** SSCAN iterations in progress over a hashtable-encoded set (see commands/hashes/scan.ts). */
  scanCursors: ScanCursors<string> | null;
}

/** Iterates packed entries (a snapshot: the set may change meanwhile). */
class PackedMemberIterator implements IterableIterator<string> {
  private p = 0;
  constructor(private readonly s: string) {}
  next(): IteratorResult<string> {
    const p = this.p;
    if (p >= this.s.length) return { value: undefined, done: true };
    this.p = entryEnd(this.s, p);
    return { value: entryAt(this.s, p), done: false };
  }
  [Symbol.iterator](): IterableIterator<string> {
    return this;
  }
}

/** Iterates the intset form in ascending order (a snapshot). */
class IntsetIterator implements IterableIterator<string> {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly w: number,
  ) {}
  next(): IteratorResult<string> {
    const i = this.i;
    if (i * this.w >= this.s.length) return { value: undefined, done: true };
    this.i = i + 1;
    return { value: intset.memberAt(this.s, this.w, i), done: false };
  }
  [Symbol.iterator](): IterableIterator<string> {
    return this;
  }
}

/**
 * The fields of a SetValue and its accessor properties, on a base class so that a set is a
 * 48-byte object (JSC gives an instance a slot per accessor of its class's own prototype;
 * see HashFields in hash.ts).
 */
abstract class SetFields {
  /** Packed entries, the intset form, or a table (see `meta`). */
  protected data: string | MemberTable;
  /** Low 4 bits: REP_SET, REP_PACKED or the intset width; above: the member count when packed. */
  protected meta: number;
  protected enc: SetEncoding;
  protected extra: SetExtra | null;

  constructor() {
    this.data = "";
    this.meta = REP_PACKED;
    this.enc = "hashtable";
    this.extra = null;
  }

  protected abstract tryIntsetForm(): void;
  protected abstract leaveIntsetForm(): void;

  get encoding(): SetEncoding {
    return this.enc;
  }

  /**
   * What OBJECT ENCODING reports. Declaring a set "intset" moves it into the intset form when
   * every member is an integer (an empty set always is); any other encoding leaves that form.
   */
  set encoding(e: SetEncoding) {
    if (e === this.enc) return;
    this.enc = e;
    if (this.extra !== null) this.extra.sorted = null;
    const rep = this.meta & 15;
    if (e === "intset") {
      if (rep <= REP_PACKED) this.tryIntsetForm();
    } else if (rep > REP_PACKED) this.leaveIntsetForm();
  }

  /** The representation, for tests and memory reports. */
  get form(): "intset" | "packed" | "set" {
    const rep = this.meta & 15;
    return rep === REP_SET ? "set" : rep === REP_PACKED ? "packed" : "intset";
  }

  get size(): number {
    const d = this.data;
    if (typeof d !== "string") return d.size;
    const rep = this.meta & 15;
    return rep === REP_PACKED ? this.meta >>> 4 : d.length / rep;
  }

  get scanCursors(): ScanCursors<string> | null {
    return this.extra?.scanCursors ?? null;
  }

  set scanCursors(cursors: ScanCursors<string> | null) {
    if (this.extra === null) {
      if (cursors === null) return;
      this.extra = { offsets: null, sorted: null, scanCursors: null };
    }
    this.extra.scanCursors = cursors;
  }
}

export class SetValue extends SetFields {
  constructor(members?: Iterable<string>) {
    super();
    if (members) for (const m of members) this.add(m);
  }

  /** Database.prefetch: the members a pipeline names, read ahead in the table of a large set. */
  prefetchMembers(buf: Uint8Array, at: Int32Array, n: number): void {
    const data = this.data;
    if (typeof data !== "string") data.prefetch(buf, at, n);
  }

  /** A set over an intset body (little-endian values of `width` bytes, ascending, distinct). */
  static fromIntset(body: string, width: 2 | 4 | 8, encoding: SetEncoding): SetValue {
    const s = new SetValue();
    s.data = body;
    s.meta = width;
    s.enc = "intset";
    if (body.length / width > INTSET_FORM_MAX) s.toSetForm();
    if (encoding !== "intset") s.encoding = encoding;
    return s;
  }

  /** A set over packed entries (`count` distinct members, store/packed-entries.ts format). */
  static fromPacked(packed: string, count: number, encoding: SetEncoding): SetValue {
    const s = new SetValue();
    s.data = packed;
    s.meta = REP_PACKED | (count << 4);
    if (count > PACKED_SET_MAX_MEMBERS || packed.length > PACKED_MAX_CHARS) s.toSetForm();
    s.encoding = encoding;
    return s;
  }

  /**
   * The data when this set can be held at rest as bytes (store/at-rest.ts): the packed entries
   * or the intset form; else null.
   */
  get restData(): string | null {
    const d = this.data;
    return typeof d === "string" ? d : null;
  }

  /** The representation word that goes with restData (form and count). */
  get restMeta(): number {
    return this.meta;
  }

  /** The set restData and restMeta describe, with its OBJECT ENCODING. */
  static fromRest(data: string, meta: number, encoding: SetEncoding): SetValue {
    const s = new SetValue();
    s.data = data;
    s.meta = meta;
    s.enc = encoding;
    return s;
  }

  /** An empty set that will hold about `n` members (a Set from the start when that many do not pack). */
  static withCapacity(n: number): SetValue {
    const s = new SetValue();
    if (n > PACKED_SET_MAX_MEMBERS) {
      s.data = new MemberTable(n);
      s.meta = REP_SET;
    }
    return s;
  }

  has(member: string): boolean {
    const d = this.data;
    if (typeof d !== "string") return d.has(member);
    const rep = this.meta & 15;
    if (rep === REP_PACKED) return findEntry(d, member, 1) >= 0;
    if (!isIntsetMember(member)) return false;
    intset.parseIntMember(member);
    return intset.search(d, rep, intset.value.hi, intset.value.lo) >= 0;
  }

  /** Set-compatible add: no encoding rules (a non-integer makes an intset a hashtable). */
  add(member: string): this {
    if (this.enc === "intset" && !isIntsetMember(member)) this.encoding = "hashtable";
    this.addAny(member);
    return this;
  }

  /**
   * Redis's setTypeAdd: adds a member and keeps the encoding as Redis 7.0 does (an intset
   * becomes a hashtable for good when a non-integer arrives or it grows past
   * `maxIntsetEntries`). Returns whether the member was new.
   */
  addMember(member: string, maxIntsetEntries: number): boolean {
    if (this.enc === "intset" && !isIntsetMember(member)) this.encoding = "hashtable";
    if (!this.addAny(member)) return false;
    if (this.enc === "intset" && this.size > maxIntsetEntries) this.encoding = "hashtable";
    return true;
  }

  /** Adds in whatever form the set is in (an intset-form set only receives integers here). */
  private addAny(member: string): boolean {
    const d = this.data;
    const extra = this.extra;
    if (typeof d !== "string") {
      if (!d.add(member)) return false;
      if (extra !== null) extra.sorted = null;
      return true;
    }
    const rep = this.meta & 15;
    if (rep === REP_PACKED) {
      if (findEntry(d, member, 1) >= 0) return false;
      if (extra !== null) extra.offsets = null;
      const count = this.meta >>> 4;
      if (count >= PACKED_SET_MAX_MEMBERS || d.length + member.length + 5 > PACKED_MAX_CHARS) {
        this.toSetForm();
        (this.data as MemberTable).add(member);
        return true;
      }
      this.data = appendEntries(d, member);
      this.meta += 16;
      return true;
    }
    intset.parseIntMember(member);
    const h = intset.value.hi;
    const l = intset.value.lo;
    const at = intset.search(d, rep, h, l);
    if (at >= 0) return false;
    const need = intset.widthOf(h, l);
    if (need > rep) {
      this.data = intset.upgradeAndAdd(d, rep, need, h, l);
      this.meta = need;
    } else this.data = intset.insertAt(d, rep, -at - 1, h, l);
    if (this.size > INTSET_FORM_MAX) this.toSetForm();
    return true;
  }

  delete(member: string): boolean {
    const d = this.data;
    const extra = this.extra;
    if (typeof d !== "string") {
      if (!d.delete(member)) return false;
      if (extra !== null) extra.sorted = null;
      return true;
    }
    const rep = this.meta & 15;
    if (rep === REP_PACKED) {
      const p = findEntry(d, member, 1);
      if (p < 0) return false;
      if (extra !== null) extra.offsets = null;
      this.data = removeRange(d, p, entryEnd(d, p));
      this.meta -= 16;
      return true;
    }
    if (!isIntsetMember(member)) return false;
    intset.parseIntMember(member);
    const at = intset.search(d, rep, intset.value.hi, intset.value.lo);
    if (at < 0) return false;
    this.data = removeRange(d, at * rep, (at + 1) * rep);
    return true;
  }

  clear(): void {
    const rep = this.meta & 15;
    this.data = "";
    this.meta = this.enc === "intset" ? (rep > REP_PACKED ? rep : 2) : REP_PACKED;
    this.extra = null;
  }

  values(): IterableIterator<string> {
    const d = this.data;
    if (typeof d !== "string") return d.members();
    const rep = this.meta & 15;
    return rep === REP_PACKED ? new PackedMemberIterator(d) : new IntsetIterator(d, rep);
  }

  keys(): IterableIterator<string> {
    return this.values();
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.values();
  }

  forEach(fn: (member: string) => void): void {
    const d = this.data;
    if (typeof d !== "string") {
      d.forEachMember(fn);
      return;
    }
    const rep = this.meta & 15;
    if (rep === REP_PACKED) for (let p = 0; p < d.length; p = entryEnd(d, p)) fn(entryAt(d, p));
    else for (let i = 0, n = d.length / rep; i < n; i++) fn(intset.memberAt(d, rep, i));
  }

  /** The members in the order Redis iterates them (ascending for an intset). */
  ordered(): Iterable<string> {
    if (this.enc !== "intset" || typeof this.data === "string") return this;
    const extra = this.ensureExtra();
    if (extra.sorted === null) extra.sorted = [...this.data.members()].sort(compareIntStrings);
    return extra.sorted;
  }

  /** A uniformly random member; the set must not be empty. */
  randomMember(): string {
    const d = this.data;
    if (typeof d !== "string") return d.memberAt(d.randomEntry());
    const rep = this.meta & 15;
    if (rep === REP_PACKED) return entryAt(d, this.randomOffset(d));
    return intset.memberAt(d, rep, Math.floor((Math.random() * d.length) / rep));
  }

  /** Removes and returns a uniformly random member (SPOP); the set must not be empty. */
  popRandom(): string {
    const d = this.data;
    if (typeof d !== "string") {
      const m = d.memberAt(d.randomEntry());
      if (this.extra !== null) this.extra.sorted = null;
      d.delete(m);
      return m;
    }
    const rep = this.meta & 15;
    if (rep === REP_PACKED) {
      const p = this.randomOffset(d);
      const end = entryEnd(d, p);
      // A flat copy: a slice would keep this version of the packed string alive.
      const m = flatSlice(d, p + headerAt(d, p), end);
      this.extra!.offsets = null;
      this.data = removeRange(d, p, end);
      this.meta -= 16;
      return m;
    }
    const i = Math.floor((Math.random() * d.length) / rep);
    const m = intset.memberAt(d, rep, i);
    this.data = removeRange(d, i * rep, (i + 1) * rep);
    return m;
  }

  /**
   * MEMORY USAGE: the set's heap bytes (store/memory-size.ts). The intset and packed forms are
   * one string; a table's bytes are known exactly (no sampling needed).
   */
  memoryUsage(_samples: number): number {
    const d = this.data;
    let bytes = objectBytes(4);
    if (typeof d === "string") bytes += stringBytes(d);
    else bytes += d.memoryUsage();
    const extra = this.extra;
    if (extra !== null) {
      bytes += objectBytes(4);
      if (extra.offsets !== null) bytes += typedArrayBytes(extra.offsets.byteLength);
      if (extra.sorted !== null) bytes += arrayBytes(extra.sorted.length);
    }
    return bytes;
  }

  /** An independent copy (same members, order and encoding); packed forms share their string. */
  clone(): SetValue {
    const s = new SetValue();
    const d = this.data;
    s.data = typeof d === "string" ? d : d.clone();
    s.meta = this.meta;
    s.enc = this.enc;
    return s;
  }

  private ensureExtra(): SetExtra {
    return (this.extra ??= { offsets: null, sorted: null, scanCursors: null });
  }

  /** Offset of a uniformly random entry of the packed form `d`. */
  private randomOffset(d: string): number {
    const extra = this.ensureExtra();
    let offsets = extra.offsets;
    if (offsets === null) {
      offsets = new Int32Array(this.meta >>> 4);
      for (let p = 0, i = 0; p < d.length; i++) {
        offsets[i] = p;
        p = entryEnd(d, p);
      }
      extra.offsets = offsets;
    }
    return offsets[Math.floor(Math.random() * offsets.length)]!;
  }

  /** Packed or intset form -> Set form (flat copies of the members, same order). */
  private toSetForm(): void {
    const d = this.data;
    if (typeof d !== "string") return;
    const rep = this.meta & 15;
    const members = rep === REP_PACKED ? unpackEntries(d) : [...new IntsetIterator(d, rep)];
    this.data = MemberTable.from(members, members.length);
    this.meta = REP_SET;
    this.extra = null;
  }

  /** Intset form -> packed form (or a Set when too big), ascending. */
  protected leaveIntsetForm(): void {
    const d = this.data as string;
    const rep = this.meta & 15;
    const n = d.length / rep;
    this.extra = null;
    if (n > PACKED_SET_MAX_MEMBERS) {
      this.toSetForm();
      return;
    }
    const b = packedBuilder;
    b.reset();
    for (let i = 0; i < n; i++) b.addString(intset.memberAt(d, rep, i));
    const packed = b.finish();
    this.data = packed;
    this.meta = REP_PACKED | (n << 4);
  }

  /** Packed or Set form -> intset form, when every member is an integer and there are few enough. */
  protected tryIntsetForm(): void {
    const members = [...this];
    if (members.length > INTSET_FORM_MAX) return;
    for (const m of members) if (!isIntsetMember(m)) return;
    members.sort(compareIntStrings);
    let width: 2 | 4 | 8 = 2;
    for (const m of members) {
      intset.parseIntMember(m);
      const w = intset.widthOf(intset.value.hi, intset.value.lo);
      if (w > width) width = w;
    }
    const buf = scratchBuffer(members.length * width);
    for (let i = 0; i < members.length; i++) {
      intset.parseIntMember(members[i]!);
      intset.writeAt(buf, i * width, width, intset.value.hi, intset.value.lo);
    }
    this.data = finishScratch(buf, members.length * width);
    this.meta = width;
    this.extra = null;
  }
}
