// A Redis list of latin1 strings, in one of two forms:
//
// - packed (small lists: up to PACKED_LIST_MAX_ENTRIES elements and PACKED_LIST_MAX_CHARS
//   characters): one latin1 string of length-prefixed entries (store/packed-entries.ts), like
//   a single-node quicklist. A JS string per element costs ~40 bytes plus its length, a packed
//   entry 1-2 bytes plus its length. Pushes and changes rebuild the string (O(n), bounded by
//   the limits, as a listpack realloc); a pop keeps the rest as a slice of it (no copy until
//   the next rebuild); index access goes through a shared offsets table of the last packed
//   string indexed, so LRANGE/LINDEX over one list are O(1) per element.
// - a ring buffer of strings (larger lists): O(1) push/pop at both ends and O(1) index, which
//   covers LPUSH/RPUSH/LPOP/RPOP/LINDEX/LSET/LRANGE; inserts and removals in the middle shift
//   the shorter side, like Redis's quicklist they are O(n). The capacity is a power of two so
//   an index wraps with a mask. It doubles when full and halves when a quarter full (above a
//   small floor), so a list that was once huge does not keep its slots; the hysteresis keeps
//   push/pop at a boundary amortized O(1). Freed slots are set to undefined so the strings
//   they held can be collected.
//
// A list moves to the ring buffer when it outgrows the packed limits, and back when it
// shrinks to half of them (so a list hovering at a limit does not convert on every change).
// Strings handed out by pops are flat copies (a slice would keep the packed string alive);
// strings read in place (LRANGE, LINDEX) are slices, for replies.

import {
  appendEntries,
  entryEnd,
  finishScratch,
  headerAt,
  headerSize,
  flatSlice,
  packedBuilder,
  removeRange as removePackedRange,
  replaceEntry,
  scratchWith,
  unpackEntries,
  writeEntry,
} from "./packed-entries.ts";
import { arrayBytes, objectBytes, stringBytes } from "./memory-size.ts";

type ListEncoding = "listpack" | "quicklist";

/** Below this capacity a ring buffer never shrinks (the churn would cost more than the slots). */
const SHRINK_FLOOR = 64;

/** Most elements of a packed list (Redis's list-max-listpack-size -2 allows ~8 KB per node). */
export const PACKED_LIST_MAX_ENTRIES = 128;
/** Most characters of a packed list. */
export const PACKED_LIST_MAX_CHARS = 8192;

// ---------------------------------------------------------------------------------------------
// Offsets of the entries of the packed string indexed last (shared by all lists: an index
// walk over one list is one scan, then O(1) per element).

let indexedString: string | null = null;
let indexedOffsets = new Int32Array(PACKED_LIST_MAX_ENTRIES + 1);

/** offsets[i]: where entry i starts; offsets[count] = s.length. */
function offsetsOf(s: string, count: number): Int32Array {
  if (s === indexedString) return indexedOffsets;
  if (indexedOffsets.length < count + 1) indexedOffsets = new Int32Array(count + 1);
  const offsets = indexedOffsets;
  let p = 0;
  for (let i = 0; i < count; i++) {
    offsets[i] = p;
    p = entryEnd(s, p);
  }
  offsets[count] = p;
  indexedString = s;
  return offsets;
}

/** The entry starting at `p` and ending at `end`, as a slice. */
function sliceEntry(s: string, p: number, end: number): string {
  return s.slice(p + headerAt(s, p), end);
}

/** `s` with entry `v` inserted at offset `p`. */
function insertEntry(s: string, p: number, v: string): string {
  const n = s.length;
  const size = headerSize(v.length) + v.length;
  const buf = scratchWith(s, n + size);
  if (p < n) buf.copyWithin(p + size, p, n);
  writeEntry(buf, p, v);
  return finishScratch(buf, n + size);
}

/** Packed entries of `values[from, to)`. */
function pack(values: ArrayLike<string>, from: number, to: number): string {
  const b = packedBuilder;
  b.reset();
  for (let i = from; i < to; i++) b.addString(values[i]!);
  return b.finish();
}

/** Iterates packed entries (a snapshot: the list may change meanwhile). */
class PackedListIterator implements IterableIterator<string> {
  private p = 0;
  constructor(private readonly s: string) {}
  next(): IteratorResult<string> {
    const p = this.p;
    if (p >= this.s.length) return { value: undefined, done: true };
    const end = entryEnd(this.s, p);
    this.p = end;
    return { value: sliceEntry(this.s, p, end), done: false };
  }
  [Symbol.iterator](): IterableIterator<string> {
    return this;
  }
}

/**
 * The fields of a ListValue and its accessor properties, on a base class so that a list is a
 * 48-byte object (JSC gives an instance a slot per accessor of its class's own prototype;
 * see HashFields in hash.ts).
 */
abstract class ListFields {
  /** The packed entries, or the ring buffer's slots (a power of two of them). */
  protected data: string | Array<string | undefined>;
  /** Ring buffer: slot of the first element. */
  protected head: number;
  length: number;
  /**
   * What OBJECT ENCODING reports. Redis 7.0 keeps every list in a quicklist (the listpack
   * encoding of small lists arrived in 7.2), so that is the default; the RDB reader may say
   * "listpack" when it emulates a 7.2 view.
   */
  encoding: ListEncoding;

  constructor(capacity: number) {
    this.head = 0;
    this.length = 0;
    this.encoding = "quicklist";
    if (capacity <= PACKED_LIST_MAX_ENTRIES) this.data = "";
    else {
      let cap = 4;
      while (cap < capacity) cap *= 2;
      this.data = new Array(cap);
    }
  }

  /** Ring buffer slots (0 while packed; for tests of the growth policy). */
  get capacity(): number {
    return typeof this.data === "string" ? 0 : this.data.length;
  }

  /** Whether the list is in the packed form (for tests and memory reports). */
  get packed(): boolean {
    return typeof this.data === "string";
  }
}

export class ListValue extends ListFields {
  /** An empty list; room for `capacity` elements (a ring buffer from the start past the packed limit). */
  constructor(capacity = 4) {
    super(capacity);
  }

  static from(values: Iterable<string>): ListValue {
    const arr = Array.isArray(values) ? (values as string[]) : [...values];
    const list = new ListValue(arr.length);
    if (typeof list.data === "string") {
      let chars = 0;
      for (let i = 0; i < arr.length; i++) chars += arr[i]!.length + 2;
      if (chars <= PACKED_LIST_MAX_CHARS) {
        list.data = pack(arr, 0, arr.length);
        list.length = arr.length;
        return list;
      }
      list.data = new Array(ringCapacity(arr.length));
    }
    const items = list.data as Array<string | undefined>;
    for (let i = 0; i < arr.length; i++) items[i] = arr[i];
    list.length = arr.length;
    return list;
  }

  /** A list over `count` packed entries (the RDB reader's path). */
  static fromPacked(packed: string, count: number): ListValue {
    if (count > PACKED_LIST_MAX_ENTRIES || packed.length > PACKED_LIST_MAX_CHARS) return ListValue.from(unpackEntries(packed));
    const list = new ListValue();
    list.data = packed;
    list.length = count;
    return list;
  }

  /** The packed entries when this list can be held at rest as bytes (store/at-rest.ts); else null. */
  get restData(): string | null {
    const d = this.data;
    return typeof d === "string" ? d : null;
  }

  /** The element count that goes with restData. */
  get restMeta(): number {
    return this.length;
  }

  /** The list restData describes (`count` entries), with its OBJECT ENCODING. */
  static fromRest(data: string, count: number, encoding: ListEncoding): ListValue {
    const list = new ListValue();
    list.data = data;
    list.length = count;
    list.encoding = encoding;
    return list;
  }

  // ------------------------------------------------------------------------------ conversions

  /** Packed -> ring buffer (flat copies of the elements), with room for `extra` more. */
  private toRing(extra: number): Array<string | undefined> {
    const values = unpackEntries(this.data as string);
    const items: Array<string | undefined> = new Array(ringCapacity(values.length + extra));
    for (let i = 0; i < values.length; i++) items[i] = values[i];
    this.data = items;
    this.head = 0;
    return items;
  }

  /** After a removal from a ring buffer: back to the packed form once small enough. */
  private maybePack(): void {
    if (this.length > PACKED_LIST_MAX_ENTRIES / 2) return;
    const items = this.data as Array<string | undefined>;
    const mask = items.length - 1;
    let chars = 0;
    for (let i = 0; i < this.length; i++) chars += items[(this.head + i) & mask]!.length + 2;
    if (chars > PACKED_LIST_MAX_CHARS / 2) return;
    this.data = pack(this.toArray(), 0, this.length);
    this.head = 0;
  }

  private resize(cap: number): void {
    const old = this.data as Array<string | undefined>;
    const mask = old.length - 1;
    const next: Array<string | undefined> = new Array(cap);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & mask];
    this.data = next;
    this.head = 0;
  }

  private maybeShrink(): void {
    const cap = (this.data as Array<string | undefined>).length;
    if (cap > SHRINK_FLOOR && this.length < cap >>> 2) this.resize(cap >>> 1);
  }

  /** Whether a packed list can take one more element of `len` chars. */
  private fits(s: string, len: number): boolean {
    return this.length < PACKED_LIST_MAX_ENTRIES && s.length + len + 2 <= PACKED_LIST_MAX_CHARS;
  }

  // ------------------------------------------------------------------------------ ends

  pushTail(value: string): void {
    let items = this.data;
    if (typeof items === "string") {
      if (this.fits(items, value.length)) {
        this.data = appendEntries(items, value);
        this.length++;
        return;
      }
      items = this.toRing(1);
    }
    if (this.length === items.length) {
      this.resize(items.length * 2);
      items = this.data as Array<string | undefined>;
    }
    items[(this.head + this.length) & (items.length - 1)] = value;
    this.length++;
  }

  pushHead(value: string): void {
    let items = this.data;
    if (typeof items === "string") {
      if (this.fits(items, value.length)) {
        this.data = insertEntry(items, 0, value);
        this.length++;
        return;
      }
      items = this.toRing(1);
    }
    if (this.length === items.length) {
      this.resize(items.length * 2);
      items = this.data as Array<string | undefined>;
    }
    this.head = (this.head - 1) & (items.length - 1);
    items[this.head] = value;
    this.length++;
  }

  popHead(): string | undefined {
    if (this.length === 0) return undefined;
    const items = this.data;
    if (typeof items === "string") {
      const end = entryEnd(items, 0);
      const v = flatSlice(items, headerAt(items, 0), end);
      // The rest as a slice, without a copy: it keeps the old string alive until the next
      // write rebuilds it (the popped element is a flat copy: it may be kept elsewhere).
      this.data = end === items.length ? "" : items.slice(end);
      this.length--;
      return v;
    }
    const v = items[this.head];
    items[this.head] = undefined;
    this.head = (this.head + 1) & (items.length - 1);
    this.length--;
    if (items.length > SHRINK_FLOOR) this.maybeShrink();
    if (this.length <= PACKED_LIST_MAX_ENTRIES / 2) this.maybePack();
    return v;
  }

  popTail(): string | undefined {
    if (this.length === 0) return undefined;
    const items = this.data;
    if (typeof items === "string") {
      const p = offsetsOf(items, this.length)[this.length - 1]!;
      const v = flatSlice(items, p + headerAt(items, p), items.length);
      this.data = p === 0 ? "" : items.slice(0, p);
      this.length--;
      return v;
    }
    const i = (this.head + this.length - 1) & (items.length - 1);
    const v = items[i];
    items[i] = undefined;
    this.length--;
    if (items.length > SHRINK_FLOOR) this.maybeShrink();
    if (this.length <= PACKED_LIST_MAX_ENTRIES / 2) this.maybePack();
    return v;
  }

  // ------------------------------------------------------------------------------ index

  /** Element at a 0-based index from the head (no negative indexes here). */
  at(index: number): string | undefined {
    if (index < 0 || index >= this.length) return undefined;
    return this.get(index);
  }

  /** Element at an index known to be valid (0 <= index < length). */
  get(index: number): string {
    const items = this.data;
    if (typeof items === "string") {
      const offsets = offsetsOf(items, this.length);
      return sliceEntry(items, offsets[index]!, offsets[index + 1]!);
    }
    return items[(this.head + index) & (items.length - 1)]!;
  }

  /** Replaces the element at a valid index. */
  set(index: number, value: string): void {
    const items = this.data;
    if (typeof items === "string") {
      const offsets = offsetsOf(items, this.length);
      this.data = replaceEntry(items, offsets[index]!, offsets[index + 1]!, value);
      if (this.data.length > PACKED_LIST_MAX_CHARS) this.toRing(0);
      return;
    }
    items[(this.head + index) & (items.length - 1)] = value;
  }

  /** Inserts so that the new element ends up at `index` (0..length), shifting the shorter side. */
  insertAt(index: number, value: string): void {
    if (index <= 0) return this.pushHead(value);
    if (index >= this.length) return this.pushTail(value);
    let items = this.data;
    if (typeof items === "string") {
      if (this.fits(items, value.length)) {
        this.data = insertEntry(items, offsetsOf(items, this.length)[index]!, value);
        this.length++;
        return;
      }
      items = this.toRing(1);
    }
    if (this.length === items.length) {
      this.resize(items.length * 2);
      items = this.data as Array<string | undefined>;
    }
    const mask = items.length - 1;
    if (index < this.length / 2) {
      this.head = (this.head - 1) & mask;
      const head = this.head;
      for (let i = 0; i < index; i++) items[(head + i) & mask] = items[(head + i + 1) & mask];
    } else {
      const head = this.head;
      for (let i = this.length; i > index; i--) items[(head + i) & mask] = items[(head + i - 1) & mask];
    }
    items[(this.head + index) & mask] = value;
    this.length++;
  }

  // ------------------------------------------------------------------------------ removals

  /** Removes the first `count` elements (clamped to the length). */
  removeHead(count: number): void {
    const n = Math.min(count, this.length);
    if (n <= 0) return;
    const items = this.data;
    if (typeof items === "string") {
      this.data = removePackedRange(items, 0, offsetsOf(items, this.length)[n]!);
      this.length -= n;
      return;
    }
    const mask = items.length - 1;
    for (let i = 0; i < n; i++) items[(this.head + i) & mask] = undefined;
    this.head = (this.head + n) & mask;
    this.length -= n;
    this.maybeShrink();
    this.maybePack();
  }

  /** Removes the last `count` elements (clamped to the length). */
  removeTail(count: number): void {
    const n = Math.min(count, this.length);
    if (n <= 0) return;
    const items = this.data;
    if (typeof items === "string") {
      this.data = removePackedRange(items, offsetsOf(items, this.length)[this.length - n]!, items.length);
      this.length -= n;
      return;
    }
    const mask = items.length - 1;
    for (let i = this.length - n; i < this.length; i++) items[(this.head + i) & mask] = undefined;
    this.length -= n;
    this.maybeShrink();
    this.maybePack();
  }

  /** Removes `count` elements starting at `index` (both already valid), shifting the shorter side. */
  removeRange(index: number, count: number): void {
    if (count <= 0) return;
    if (index <= 0) return this.removeHead(count);
    if (index + count >= this.length) return this.removeTail(this.length - index);
    const items = this.data;
    if (typeof items === "string") {
      const offsets = offsetsOf(items, this.length);
      this.data = removePackedRange(items, offsets[index]!, offsets[index + count]!);
      this.length -= count;
      return;
    }
    const mask = items.length - 1;
    const head = this.head;
    const after = this.length - index - count;
    if (index < after) {
      // Move the head side right by `count`.
      for (let i = index - 1; i >= 0; i--) items[(head + i + count) & mask] = items[(head + i) & mask];
      for (let i = 0; i < count; i++) items[(head + i) & mask] = undefined;
      this.head = (head + count) & mask;
    } else {
      for (let i = index; i < index + after; i++) items[(head + i) & mask] = items[(head + i + count) & mask];
      for (let i = this.length - count; i < this.length; i++) items[(head + i) & mask] = undefined;
    }
    this.length -= count;
    this.maybeShrink();
    this.maybePack();
  }

  /**
   * Removes elements equal to `value` (LREM): at most `limit` of them (0: all), scanning from
   * the head, or from the tail when `fromTail`. One compacting pass. Returns how many went.
   */
  removeMatching(value: string, limit: number, fromTail: boolean): number {
    if (typeof this.data === "string") {
      const values = this.toArray();
      const kept: string[] = [];
      let removed = 0;
      const n = values.length;
      for (let k = 0; k < n; k++) {
        const i = fromTail ? n - 1 - k : k;
        if (values[i] === value && (limit === 0 || removed < limit)) {
          removed++;
          values[i] = undefined as unknown as string;
        }
      }
      if (removed === 0) return 0;
      for (let i = 0; i < n; i++) if (values[i] !== undefined) kept.push(values[i]!);
      this.data = pack(kept, 0, kept.length);
      this.length = kept.length;
      return removed;
    }
    const n = this.length;
    const items = this.data;
    const mask = items.length - 1;
    const head = this.head;
    let removed = 0;
    if (!fromTail) {
      let w = 0;
      for (let r = 0; r < n; r++) {
        const v = items[(head + r) & mask]!;
        if (v === value && (limit === 0 || removed < limit)) {
          removed++;
          continue;
        }
        if (w !== r) items[(head + w) & mask] = v;
        w++;
      }
      for (let i = w; i < n; i++) items[(head + i) & mask] = undefined;
      this.length = w;
    } else {
      let w = n - 1;
      for (let r = n - 1; r >= 0; r--) {
        const v = items[(head + r) & mask]!;
        if (v === value && (limit === 0 || removed < limit)) {
          removed++;
          continue;
        }
        if (w !== r) items[(head + w) & mask] = v;
        w--;
      }
      // Elements now occupy [w + 1, n): move the head forward.
      for (let i = 0; i <= w; i++) items[(head + i) & mask] = undefined;
      this.head = (head + w + 1) & mask;
      this.length = n - (w + 1);
    }
    if (removed) {
      this.maybeShrink();
      this.maybePack();
    }
    return removed;
  }

  // ------------------------------------------------------------------------------ reads

  /** Elements in [start, end] (inclusive, already clamped to valid indexes). */
  slice(start: number, end: number): string[] {
    const out: string[] = [];
    for (let i = start; i <= end; i++) out.push(this.get(i));
    return out;
  }

  /** Every element, in order (flat copies for a packed list: safe to keep). */
  toArray(): string[] {
    const items = this.data;
    if (typeof items === "string") return unpackEntries(items);
    const out: string[] = new Array(this.length);
    const mask = items.length - 1;
    for (let i = 0; i < this.length; i++) out[i] = items[(this.head + i) & mask]!;
    return out;
  }

  [Symbol.iterator](): IterableIterator<string> {
    const items = this.data;
    if (typeof items === "string") return new PackedListIterator(items);
    return this.ringValues(items);
  }

  private *ringValues(items: Array<string | undefined>): IterableIterator<string> {
    const mask = items.length - 1;
    for (let i = 0; i < this.length; i++) yield items[(this.head + i) & mask]!;
  }

  /** Index of the first element equal to `value` from the head, or -1. */
  indexOf(value: string): number {
    const items = this.data;
    if (typeof items === "string") {
      const len = value.length;
      for (let p = 0, i = 0; p < items.length; i++) {
        const end = entryEnd(items, p);
        const start = p + headerAt(items, p);
        if (end - start === len && items.startsWith(value, start)) return i;
        p = end;
      }
      return -1;
    }
    const mask = items.length - 1;
    for (let i = 0; i < this.length; i++) if (items[(this.head + i) & mask] === value) return i;
    return -1;
  }

  /**
   * MEMORY USAGE: the list's heap bytes (store/memory-size.ts). A packed list is one string; a
   * ring buffer's element strings are estimated from its first `samples` runs of
   * PACKED_LIST_MAX_ENTRIES elements, the way Redis samples a quicklist's first nodes.
   */
  memoryUsage(samples: number): number {
    const items = this.data;
    if (typeof items === "string") return objectBytes(4) + stringBytes(items);
    const mask = items.length - 1;
    const sampled = Math.min(this.length, samples * PACKED_LIST_MAX_ENTRIES);
    let chars = 0;
    for (let i = 0; i < sampled; i++) chars += stringBytes(items[(this.head + i) & mask]!);
    return objectBytes(4) + arrayBytes(items.length) + (sampled === 0 ? 0 : Math.round((chars / sampled) * this.length));
  }

  /** An independent copy (a packed list shares its immutable string). */
  clone(): ListValue {
    const items = this.data;
    let copy: ListValue;
    if (typeof items === "string") {
      copy = new ListValue();
      copy.data = items;
      copy.length = this.length;
    } else copy = ListValue.from(this.toArray());
    copy.encoding = this.encoding;
    return copy;
  }
}

/** Ring capacity for `n` elements: a power of two >= n (at least 4). */
function ringCapacity(n: number): number {
  let cap = 4;
  while (cap < n) cap *= 2;
  return cap;
}
