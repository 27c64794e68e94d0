// Buffered synchronous writes to a file descriptor: the RDB tools' and the change feed's output
// (`rdb export`, `feed`). Synchronous on purpose: a tool that writes faster than its reader
// takes stops right there (a full non-blocking pipe is retried after a millisecond), so what it
// holds in memory never exceeds one buffer, however slow the reader.

import { writeSync, writevSync } from "node:fs";

/** The reader of the output went away (`replicant rdb export x.rdb | head`). */
export class OutputClosedError extends Error {
  override readonly name = "OutputClosedError";
}

export class FdWriter {
  private parts: Buffer[] = [];
  private size = 0;
  private closed = false;
  /** Bytes handed to the kernel so far (what flush() wrote). */
  written = 0;

  constructor(
    private readonly fd: number,
    /** Buffered bytes that trigger a flush. */
    private readonly flushAt = 1 << 20,
  ) {}

  /** Bytes accepted but not flushed yet. */
  get buffered(): number {
    return this.size;
  }

  write(b: Buffer | string): void {
    if (this.closed) throw new OutputClosedError("output closed");
    const buf = typeof b === "string" ? Buffer.from(b, "utf8") : b;
    this.parts.push(buf);
    this.size += buf.length;
    if (this.size >= this.flushAt) this.flush();
  }

  flush(): void {
    if (this.size === 0 || this.closed) return;
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    let off = 0;
    while (off < all.length) {
      try {
        off += writeSync(this.fd, all, off, all.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EPIPE") {
          this.closed = true;
          throw new OutputClosedError("output closed");
        }
        if (code !== "EAGAIN") throw e;
        Bun.sleepSync(1);
      }
    }
    this.written += all.length;
  }
}

/**
 * Writes all of `parts` with writev (one system call for them all, more only when the kernel
 * takes part of them), at `position` or, with null, at the file's offset. `parts` is consumed.
 */
export function writevFully(fd: number, parts: Uint8Array[], position: number | null): void {
  let left = 0;
  for (const p of parts) left += p.length;
  let pos = position;
  while (left > 0) {
    const n = pos === null ? writevSync(fd, parts) : writevSync(fd, parts, pos);
    left -= n;
    if (pos !== null) pos += n;
    if (left > 0) trimWritten(parts, n);
  }
}

/** Drops the first `n` bytes of `parts` (what a short writev wrote). */
export function trimWritten(parts: Uint8Array[], n: number): void {
  while (n > 0) {
    const head = parts[0]!;
    if (head.length <= n) {
      n -= head.length;
      parts.shift();
    } else {
      parts[0] = head.subarray(n);
      n = 0;
    }
  }
}
