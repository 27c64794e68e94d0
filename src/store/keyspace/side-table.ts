// What a record cannot hold in its chunk: aggregate values (JS objects, as today's store/
// classes), string values larger than a chunk, keys longer than a chunk. A record names its
// entry by index. Indexes are reused (a stack of free ones), so the table stays as large as the
// most entries held at once.
//
// The table also keeps what its entries cost (used_memory, maxmemory): each entry's estimate,
// measured lazily. An entry added, replaced or about to be changed in place is marked; the
// marked ones are measured a few at a time when the total is asked for (and by the cron, for
// a bounded time), so a write pays one mark and a load of a million aggregates costs no stall:
// until they are measured, new entries count as the average measured one.

/** Estimates what an entry costs in bytes. */
type EntryMeasure = (value: unknown) => number;

export class SideTable {
  private readonly entries: unknown[] = [];
  private readonly free: number[] = [];
  private live = 0;
  /** Per entry, its last measured cost; and the sum of them. */
  private readonly costs: number[] = [];
  private measured = 0;
  /** Entries to measure again (each once: `marked` flags them; stale indexes are skipped). */
  private readonly toMeasure: number[] = [];
  private marked = new Uint8Array(64);
  /** Marked entries never measured yet (they count as the average until they are). */
  private unmeasured = 0;

  constructor(private readonly measure: EntryMeasure = () => 0) {}

  get size(): number {
    return this.live;
  }

  add(value: unknown): number {
    this.live++;
    let i = this.free.pop();
    if (i !== undefined) this.entries[i] = value;
    else {
      i = this.entries.length;
      this.entries.push(value);
      this.costs.push(0);
    }
    this.mark(i);
    return i;
  }

  get(i: number): unknown {
    return this.entries[i];
  }

  set(i: number, value: unknown): void {
    this.entries[i] = value;
    this.mark(i);
  }

  /** The entry will change in place (or just did): its cost is measured again. */
  mark(i: number): void {
    let m = this.marked;
    if (i >= m.length) {
      const grown = new Uint8Array(Math.max(m.length * 2, i + 1));
      grown.set(m);
      this.marked = m = grown;
    }
    if (m[i] === 0) {
      m[i] = 1;
      this.toMeasure.push(i);
      if (this.costs[i] === 0) this.unmeasured++;
    }
  }

  /** Measures up to `max` marked entries. */
  private measureSome(max: number): void {
    const list = this.toMeasure;
    const m = this.marked;
    for (let k = 0; k < max && list.length !== 0; k++) {
      const i = list.pop()!;
      if (m[i] === 0) continue; // released, or measured through a later mark
      m[i] = 0;
      if (this.costs[i] === 0) this.unmeasured--;
      const v = this.entries[i];
      const cost = v === undefined ? 0 : this.measure(v);
      this.measured += cost - this.costs[i]!;
      this.costs[i] = cost;
    }
  }

  /** Measures marked entries until `deadline` (performance.now() ms): the cron's share. */
  measureUntil(deadline: number): void {
    while (this.toMeasure.length !== 0 && performance.now() < deadline) this.measureSome(256);
  }

  /** What the entries cost, in bytes (measures a few marked ones first; see the header). */
  get bytes(): number {
    if (this.toMeasure.length !== 0) this.measureSome(256);
    return this.knownBytes;
  }

  /** The cost as known now, measuring nothing (unmeasured new entries at the average). */
  get knownBytes(): number {
    if (this.unmeasured === 0) return this.measured;
    const known = this.live - this.unmeasured;
    const average = known > 0 ? this.measured / known : 64;
    return this.measured + Math.round(this.unmeasured * average);
  }

  /** The entries by index (undefined where free), for a hand-over to another thread. */
  entriesForExport(): unknown[] {
    return this.entries.slice();
  }

  /** Takes the entries of an exported table, keeping their indexes (records point at them). */
  adopt(entries: unknown[]): void {
    this.entries.length = 0;
    this.free.length = 0;
    this.costs.length = 0;
    this.toMeasure.length = 0;
    this.marked = new Uint8Array(Math.max(64, entries.length));
    this.measured = 0;
    this.unmeasured = 0;
    this.live = 0;
    for (let i = 0; i < entries.length; i++) {
      this.entries.push(entries[i]);
      this.costs.push(0);
      if (entries[i] === undefined) this.free.push(i);
      else {
        this.live++;
        this.mark(i);
      }
    }
  }

  release(i: number): void {
    this.entries[i] = undefined;
    this.free.push(i);
    this.live--;
    if (this.marked[i] === 1) {
      this.marked[i] = 0;
      if (this.costs[i] === 0) this.unmeasured--;
    }
    this.measured -= this.costs[i]!;
    this.costs[i] = 0;
  }
}
