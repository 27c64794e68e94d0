// A Redis list: a growable ring buffer of latin1 strings. O(1) push/pop at both ends and O(1)
// index, which covers LPUSH/RPUSH/LPOP/RPOP/LINDEX/LSET/LRANGE; inserts and removals in the
// middle shift the shorter side, like Redis's quicklist they are O(n).
//
// The capacity is a power of two so an index wraps with a mask. It doubles when full and
// halves when a quarter full (above a small floor), so a list that was once huge does not keep
// its slots; the hysteresis keeps push/pop at a boundary amortized O(1). Freed slots are set
// to undefined so the strings they held can be collected.

export type ListEncoding = "listpack" | "quicklist";

/** Below this capacity a list never shrinks (the churn would cost more than the slots). */
const SHRINK_FLOOR = 64;

export class ListValue {
  private items: Array<string | undefined>;
  private head = 0;
  private mask: number;
  length = 0;
  /**
   * What OBJECT ENCODING reports. Redis 7.0 keeps every list in a quicklist (the listpack
   * encoding of small lists arrived in 7.2), so that is the default; the RDB reader may say
   * "listpack" when it emulates a 7.2 view.
   */
  encoding: ListEncoding = "quicklist";

  constructor(capacity = 4) {
    let cap = 4;
    while (cap < capacity) cap *= 2;
    this.items = new Array(cap);
    this.mask = cap - 1;
  }

  static from(values: Iterable<string>): ListValue {
    const arr = Array.isArray(values) ? (values as string[]) : [...values];
    const list = new ListValue(arr.length);
    for (let i = 0; i < arr.length; i++) list.items[i] = arr[i];
    list.length = arr.length;
    return list;
  }

  /** Current number of slots (for tests of the growth policy). */
  get capacity(): number {
    return this.items.length;
  }

  private resize(cap: number): void {
    const old = this.items;
    const next: Array<string | undefined> = new Array(cap);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & this.mask];
    this.items = next;
    this.head = 0;
    this.mask = cap - 1;
  }

  private maybeShrink(): void {
    const cap = this.items.length;
    if (cap > SHRINK_FLOOR && this.length < cap >>> 2) this.resize(cap >>> 1);
  }

  pushTail(value: string): void {
    if (this.length === this.items.length) this.resize(this.items.length * 2);
    this.items[(this.head + this.length) & this.mask] = value;
    this.length++;
  }

  pushHead(value: string): void {
    if (this.length === this.items.length) this.resize(this.items.length * 2);
    this.head = (this.head - 1) & this.mask;
    this.items[this.head] = value;
    this.length++;
  }

  popHead(): string | undefined {
    if (this.length === 0) return undefined;
    const v = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.length--;
    if (this.items.length > SHRINK_FLOOR) this.maybeShrink();
    return v;
  }

  popTail(): string | undefined {
    if (this.length === 0) return undefined;
    const i = (this.head + this.length - 1) & this.mask;
    const v = this.items[i];
    this.items[i] = undefined;
    this.length--;
    if (this.items.length > SHRINK_FLOOR) this.maybeShrink();
    return v;
  }

  /** Element at a 0-based index from the head (no negative indexes here). */
  at(index: number): string | undefined {
    if (index < 0 || index >= this.length) return undefined;
    return this.items[(this.head + index) & this.mask];
  }

  /** Element at an index known to be valid (0 <= index < length). */
  get(index: number): string {
    return this.items[(this.head + index) & this.mask]!;
  }

  /** Replaces the element at a valid index. */
  set(index: number, value: string): void {
    this.items[(this.head + index) & this.mask] = value;
  }

  /** Inserts so that the new element ends up at `index` (0..length), shifting the shorter side. */
  insertAt(index: number, value: string): void {
    if (index <= 0) return this.pushHead(value);
    if (index >= this.length) return this.pushTail(value);
    if (this.length === this.items.length) this.resize(this.items.length * 2);
    const items = this.items;
    const mask = this.mask;
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

  /** Removes the first `count` elements (clamped to the length). */
  removeHead(count: number): void {
    const n = Math.min(count, this.length);
    if (n <= 0) return;
    for (let i = 0; i < n; i++) this.items[(this.head + i) & this.mask] = undefined;
    this.head = (this.head + n) & this.mask;
    this.length -= n;
    this.maybeShrink();
  }

  /** Removes the last `count` elements (clamped to the length). */
  removeTail(count: number): void {
    const n = Math.min(count, this.length);
    if (n <= 0) return;
    for (let i = this.length - n; i < this.length; i++) this.items[(this.head + i) & this.mask] = undefined;
    this.length -= n;
    this.maybeShrink();
  }

  /** Removes `count` elements starting at `index` (both already valid), shifting the shorter side. */
  removeRange(index: number, count: number): void {
    if (count <= 0) return;
    if (index <= 0) return this.removeHead(count);
    if (index + count >= this.length) return this.removeTail(this.length - index);
    const items = this.items;
    const mask = this.mask;
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
  }

  /** Elements in [start, end] (inclusive, already clamped to valid indexes). */
  slice(start: number, end: number): string[] {
    const out: string[] = [];
    for (let i = start; i <= end; i++) out.push(this.items[(this.head + i) & this.mask]!);
    return out;
  }

  toArray(): string[] {
    return this.length ? this.slice(0, this.length - 1) : [];
  }

  *[Symbol.iterator](): IterableIterator<string> {
    for (let i = 0; i < this.length; i++) yield this.items[(this.head + i) & this.mask]!;
  }

  /**
   * Removes elements equal to `value` (LREM): at most `limit` of them (0: all), scanning from
   * the head, or from the tail when `fromTail`. One compacting pass. Returns how many went.
   */
  removeMatching(value: string, limit: number, fromTail: boolean): number {
    const n = this.length;
    const items = this.items;
    const mask = this.mask;
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
    if (removed) this.maybeShrink();
    return removed;
  }

  /** Index of the first element equal to `value` from the head, or -1. */
  indexOf(value: string): number {
    for (let i = 0; i < this.length; i++) if (this.items[(this.head + i) & this.mask] === value) return i;
    return -1;
  }
}
