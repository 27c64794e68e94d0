// End detection of a diskless transfer ("$EOF:<40 bytes>\r\n" ... RDB ... <same 40 bytes>).
// The payload ends when the last 40 bytes received equal the mark; the mark may straddle
// reads, so we keep a 40-byte window of the tail instead of copying the stream.

const EOF_MARK_LENGTH = 40;

export class EofMarkDetector {
  /** The last (up to) 40 bytes received, oldest first. */
  private window = Buffer.alloc(EOF_MARK_LENGTH);
  private filled = 0;
  /** Diskless parsing: bytes withheld from the parser because they may be the mark. */
  private held: Buffer = Buffer.alloc(0);

  constructor(readonly mark: Buffer) {
    if (mark.length !== EOF_MARK_LENGTH) throw new Error("EOF mark must be 40 bytes");
  }

  /** Accounts for a received chunk; true when the stream now ends with the mark. */
  push(chunk: Buffer): boolean {
    const n = chunk.length;
    if (n >= EOF_MARK_LENGTH) {
      chunk.copy(this.window, 0, n - EOF_MARK_LENGTH, n);
      this.filled = EOF_MARK_LENGTH;
    } else {
      const keep = Math.min(this.filled, EOF_MARK_LENGTH - n);
      this.window.copy(this.window, 0, this.filled - keep, this.filled);
      chunk.copy(this.window, keep);
      this.filled = keep + n;
    }
    return this.filled === EOF_MARK_LENGTH && this.window.equals(this.mark);
  }

  /**
   * The parts of the stream that are certainly payload, given the next chunk: everything but
   * the last 40 bytes, which are withheld (and dropped once `ended`, being the mark).
   */
  release(chunk: Buffer, ended: boolean): Buffer[] {
    const out: Buffer[] = [];
    if (chunk.length >= EOF_MARK_LENGTH) {
      if (this.held.length) out.push(this.held);
      if (chunk.length > EOF_MARK_LENGTH) out.push(chunk.subarray(0, chunk.length - EOF_MARK_LENGTH));
      this.held = ended ? Buffer.alloc(0) : Buffer.from(chunk.subarray(chunk.length - EOF_MARK_LENGTH));
    } else {
      const all = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
      if (all.length > EOF_MARK_LENGTH) out.push(all.subarray(0, all.length - EOF_MARK_LENGTH));
      this.held = ended ? Buffer.alloc(0) : Buffer.from(all.subarray(Math.max(0, all.length - EOF_MARK_LENGTH)));
    }
    return out;
  }
}
