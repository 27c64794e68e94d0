// The part of a dual-channel sync's buffered stream that went past its memory limit
// (dual-channel-buffer-memory-limit): appended to a file in `dir` as it arrives, read back in
// pieces when the snapshot is loaded, in order after the part held in memory. Valkey stops
// reading at its output-buffer limit instead, which pushes the stream back onto the master's
// buffer (and may end in the master dropping the replica); a file lets the sync go on.

import { closeSync, openSync, readSync, rmSync, writeSync } from "node:fs";

/** Bytes read back at a time (the stream applies them in slices). */
const READ_PIECE = 1024 * 1024;

export class StreamSpool {
  private fd: number;
  /** Bytes appended so far, and read back so far. */
  written = 0;
  private readPos = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, "w+", 0o600);
  }

  /** Appends stream bytes (throws on a write error, e.g. a full disk: the caller abandons the sync). */
  append(chunk: Uint8Array): void {
    let done = 0;
    while (done < chunk.length) done += writeSync(this.fd, chunk, done, chunk.length - done, this.written + done);
    this.written += chunk.length;
  }

  /** The next piece of what was appended, or null once everything was read back. */
  next(): Buffer | null {
    const n = Math.min(READ_PIECE, this.written - this.readPos);
    if (n <= 0) return null;
    const piece = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, piece, got, n - got, this.readPos + got);
      if (r === 0) throw new Error(`the stream spool ${this.path} ended early`);
      got += r;
    }
    this.readPos += n;
    return piece;
  }

  /** Closes and removes the file. */
  discard(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {}
    this.fd = -1;
    rmSync(this.path, { force: true });
  }
}
