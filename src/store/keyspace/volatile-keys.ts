// The keys that have an expiry, as a dense array of record refs: what active expiry samples
// and what `expires=` in INFO counts. Redis keeps a second hash table (db->expires) for this;
// a dense array is enough because nothing looks a key up in it: the expiry time itself is in the
// record, and the record keeps its position here, so adding, removing (swap with the last) and
// following a record that moved are all O(1).

export class VolatileKeys {
  refs: Int32Array<ArrayBufferLike> = new Int32Array(16);
  size = 0;

  /** Appends a ref; returns its position (to be stored in the record). */
  add(ref: number): number {
    if (this.size === this.refs.length) {
      const next = new Int32Array(this.refs.length * 2);
      next.set(this.refs);
      this.refs = next;
    }
    this.refs[this.size] = ref;
    return this.size++;
  }

  /**
   * Removes the entry at `pos` by moving the last one into it. Returns the ref that moved
   * (its record must learn its new position), or -1 when `pos` was the last.
   */
  remove(pos: number): number {
    const last = --this.size;
    if (pos === last) return -1;
    const moved = this.refs[last]!;
    this.refs[pos] = moved;
    return moved;
  }

  /** The record at `pos` moved to `ref`. */
  update(pos: number, ref: number): void {
    this.refs[pos] = ref;
  }

  /** Gives memory back after many removals. */
  shrinkIfSparse(): void {
    if (this.refs.length > 64 && this.size * 4 < this.refs.length) this.refs = this.refs.slice(0, Math.max(16, this.size * 2));
  }
}
