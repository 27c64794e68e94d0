// What a record cannot hold in its chunk: aggregate values (JS objects, as today's store/
// classes), string values larger than a chunk, keys longer than a chunk. A record names its
// entry by index. Indexes are reused (a stack of free ones), so the table stays as large as the
// most entries held at once.

export class SideTable {
  private readonly entries: unknown[] = [];
  private readonly free: number[] = [];
  private live = 0;

  get size(): number {
    return this.live;
  }

  add(value: unknown): number {
    this.live++;
    const i = this.free.pop();
    if (i !== undefined) {
      this.entries[i] = value;
      return i;
    }
    this.entries.push(value);
    return this.entries.length - 1;
  }

  get(i: number): unknown {
    return this.entries[i];
  }

  set(i: number, value: unknown): void {
    this.entries[i] = value;
  }

  /** The entries by index (undefined where free), for a hand-over to another thread. */
  entriesForExport(): unknown[] {
    return this.entries.slice();
  }

  /** Takes the entries of an exported table, keeping their indexes (records point at them). */
  adopt(entries: unknown[]): void {
    this.entries.length = 0;
    this.free.length = 0;
    this.live = 0;
    for (let i = 0; i < entries.length; i++) {
      this.entries.push(entries[i]);
      if (entries[i] === undefined) this.free.push(i);
      else this.live++;
    }
  }

  release(i: number): void {
    this.entries[i] = undefined;
    this.free.push(i);
    this.live--;
  }
}
