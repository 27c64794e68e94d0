// A Redis list: a growable ring buffer of latin1 strings. O(1) push/pop at both ends and O(1)
// index, which covers LPUSH/RPUSH/LPOP/RPOP/LINDEX/LSET/LRANGE; inserts and removals in the
// middle shift the shorter side, like Redis's quicklist they are O(n).

export type ListEncoding = "listpack" | "quicklist";

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

  private grow(): void {
    const old = this.items;
    const cap = old.length * 2;
    const next: Array<string | undefined> = new Array(cap);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & this.mask];
    this.items = next;
    this.head = 0;
    this.mask = cap - 1;
  }

  pushTail(value: string): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) & this.mask] = value;
    this.length++;
  }

  pushHead(value: string): void {
    if (this.length === this.items.length) this.grow();
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
    return v;
  }

  popTail(): string | undefined {
    if (this.length === 0) return undefined;
    const i = (this.head + this.length - 1) & this.mask;
    const v = this.items[i];
    this.items[i] = undefined;
    this.length--;
    return v;
  }

  /** Element at a 0-based index from the head (no negative indexes here). */
  at(index: number): string | undefined {
    if (index < 0 || index >= this.length) return undefined;
    return this.items[(this.head + index) & this.mask];
  }

  set(index: number, value: string): void {
    this.items[(this.head + index) & this.mask] = value;
  }

  /** Inserts so that the new element ends up at `index` (0..length). */
  insertAt(index: number, value: string): void {
    if (index <= 0) return this.pushHead(value);
    if (index >= this.length) return this.pushTail(value);
    if (this.length === this.items.length) this.grow();
    if (index < this.length / 2) {
      this.head = (this.head - 1) & this.mask;
      for (let i = 0; i < index; i++) this.items[(this.head + i) & this.mask] = this.items[(this.head + i + 1) & this.mask];
    } else {
      for (let i = this.length; i > index; i--) this.items[(this.head + i) & this.mask] = this.items[(this.head + i - 1) & this.mask];
    }
    this.items[(this.head + index) & this.mask] = value;
    this.length++;
  }

  /** Removes `count` elements starting at `index`. */
  removeRange(index: number, count: number): void {
    if (count <= 0) return;
    if (index === 0) {
      for (let i = 0; i < count; i++) this.popHead();
      return;
    }
    if (index + count >= this.length) {
      const n = this.length - index;
      for (let i = 0; i < n; i++) this.popTail();
      return;
    }
    for (let i = index; i + count < this.length; i++) {
      this.items[(this.head + i) & this.mask] = this.items[(this.head + i + count) & this.mask];
    }
    for (let i = this.length - count; i < this.length; i++) this.items[(this.head + i) & this.mask] = undefined;
    this.length -= count;
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
    return removed;
  }

  /** Index of the first element equal to `value` from the head, or -1. */
  indexOf(value: string): number {
    for (let i = 0; i < this.length; i++) if (this.items[(this.head + i) & this.mask] === value) return i;
    return -1;
  }
}
