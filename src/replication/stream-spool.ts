// The stream a replica receives while it loads a full sync, past what it keeps in memory
// (repl-load-buffer-memory-limit): appended to a file in `dir` as it arrives, read back in
// pieces once the load is done, in order after the part held in memory. Valkey's dual-channel
// replica stops reading at its output-buffer limit instead, which pushes the stream back onto
// the master's buffer (and may end in the master dropping the replica); a file lets the sync go
// on without the replica's memory growing with the load's length.

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

/**
 * The master's stream a replica receives while it loads a full sync (a single-channel sync's
 * bytes after the payload, a dual-channel sync's main connection): in memory up to
 * `memoryLimit` bytes (0: no limit), then appended to a StreamSpool at `spoolPath`; handed to
 * the stream, in order, once the load is done.
 */
export class PendingStream {
  readonly chunks: Buffer[] = [];
  private memoryBytes = 0;
  spool: StreamSpool | null = null;
  /** All bytes received, in memory and spooled. */
  bytes = 0;

  constructor(
    private readonly memoryLimit: number,
    private readonly spoolPath: string,
  ) {}

  get memory(): number {
    return this.memoryBytes;
  }

  get spilled(): number {
    return this.spool?.written ?? 0;
  }

  /**
   * Keeps `chunk`; returns true when it was the first to go to the file (the caller logs it).
   * Throws when the file cannot be opened or written.
   */
  push(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.spool === null) {
      if (this.memoryLimit === 0 || this.memoryBytes + chunk.length <= this.memoryLimit) {
        this.chunks.push(chunk);
        this.memoryBytes += chunk.length;
        return false;
      }
      this.spool = new StreamSpool(this.spoolPath);
      this.spool.append(chunk);
      return true;
    }
    this.spool.append(chunk);
    return false;
  }

  /** Removes the file, if any (the bytes are not wanted any more). */
  discard(): void {
    this.spool?.discard();
  }
}
