// The replication backlog: a circular buffer of the last `size` bytes of the replication
// stream, so a replica that reconnects can continue from its offset (PSYNC) instead of a full
// sync. Offsets as Redis keeps them: the first byte of the stream has offset 1;
// `firstByteOffset` is the offset of the oldest byte held, `histlen` how many are held.

export class Backlog {
  private buf: Buffer;
  /** Next write position in buf. */
  private idx = 0;
  histlen = 0;
  /** Replication offset of the oldest byte held (master_repl_offset - histlen + 1). */
  firstByteOffset: number;

  constructor(
    public size: number,
    /** master_repl_offset at creation: the next byte will have offset start + 1. */
    start: number,
  ) {
    this.buf = Buffer.allocUnsafe(size);
    this.firstByteOffset = start + 1;
  }

  /** Appends stream bytes (the caller advances master_repl_offset by the same amount). */
  append(bytes: Uint8Array): void {
    let data = bytes;
    if (data.length >= this.size) {
      // Only the last `size` bytes can be kept.
      const dropped = data.length - this.size;
      this.firstByteOffset += this.histlen + dropped;
      data = data.subarray(dropped);
      data.length && this.buf.set(data, 0);
      this.idx = 0;
      this.histlen = this.size;
      return;
    }
    const first = Math.min(data.length, this.size - this.idx);
    this.buf.set(data.subarray(0, first), this.idx);
    if (first < data.length) this.buf.set(data.subarray(first), 0);
    this.idx = (this.idx + data.length) % this.size;
    const newHist = this.histlen + data.length;
    if (newHist > this.size) {
      this.firstByteOffset += newHist - this.size;
      this.histlen = this.size;
    } else this.histlen = newHist;
  }

  /** Whether the bytes from `offset` (inclusive) up to the end are all held. */
  covers(offset: number): boolean {
    return offset >= this.firstByteOffset && offset <= this.firstByteOffset + this.histlen;
  }

  /** Copies of the bytes from `offset` to the end of what is held (in at most two parts). */
  readFrom(offset: number): Buffer[] {
    const skip = offset - this.firstByteOffset;
    const len = this.histlen - skip;
    if (skip < 0 || len < 0) throw new Error(`offset ${offset} not in the backlog`);
    if (len === 0) return [];
    const start = (this.idx - len + this.size) % this.size;
    if (start + len <= this.size) return [Buffer.from(this.buf.subarray(start, start + len))];
    return [Buffer.from(this.buf.subarray(start)), Buffer.from(this.buf.subarray(0, (start + len) % this.size))];
  }

  /** CONFIG SET repl-backlog-size: keeps the newest bytes that fit. */
  resize(size: number): void {
    if (size === this.size) return;
    const held = this.histlen ? Buffer.concat(this.readFrom(this.firstByteOffset)) : Buffer.alloc(0);
    const end = this.firstByteOffset + this.histlen;
    const keep = held.subarray(Math.max(0, held.length - size));
    this.size = size;
    this.buf = Buffer.allocUnsafe(size);
    this.idx = 0;
    this.histlen = 0;
    this.firstByteOffset = end - keep.length;
    this.append(keep);
  }
}
