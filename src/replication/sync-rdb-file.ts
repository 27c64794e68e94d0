// The RDB file of a disk-based full sync we serve: written chunk by chunk, then read back by
// each replica of the job as its socket drains; closed and removed once the last one is done.
// Reads and writes run in the thread pool (a write() the kernel throttles must not hold
// clients), and the file is never closed under one of them (fd numbers are reused).

import { closeSync, openSync, read, unlinkSync, write } from "node:fs";

type Done = (err: Error | null) => void;

export class SyncRdbFile {
  private readonly path = `temp-replica-sync-${process.pid}-${Date.now()}.rdb`;
  private fd: number;
  /** Bytes written so far: the whole RDB once the job produced it. */
  size = 0;
  /** Replicas still reading the file. */
  readers = 0;
  /** File operations under way in the thread pool, and a close waiting for them. */
  private inflight = 0;
  private closeWhenIdle = false;
  /** Bytes being written to the file (reused from chunk to chunk). */
  private ioBuf: Buffer = EMPTY;

  /** Creates the file; throws when it cannot. */
  constructor(private readonly chunkSize: number) {
    this.fd = openSync(this.path, "w+", 0o644);
  }

  /**
   * A copy of the RDB writer's bytes (a view of its buffer, reused for the next chunk) to write
   * with append. One buffer per file, reused: a fresh 512 KB per chunk is external memory that
   * makes the collector run full collections of the whole dataset (~50 ms each).
   */
  stage(bytes: Buffer): Buffer {
    if (this.ioBuf.length < bytes.length) this.ioBuf = Buffer.allocUnsafe(Math.max(bytes.length, this.chunkSize));
    bytes.copy(this.ioBuf, 0, 0, bytes.length);
    return this.ioBuf.subarray(0, bytes.length);
  }

  /** Writes a staged chunk at the end; `then` is not called if the file was released meanwhile. */
  append(chunk: Buffer, then: Done): void {
    this.io(
      (done) => writeFully(this.fd, chunk, done),
      (err) => {
        if (!err) this.size += chunk.length;
        then(err);
      },
    );
  }

  /**
   * Reads up to `length` bytes at `pos` into `buf`; `got` takes them as soon as they are read,
   * `then` follows unless the file was released meanwhile. Reading nothing is an error.
   */
  readAt(buf: Buffer, length: number, pos: number, got: (n: number) => void, then: Done): void {
    this.io(
      (done) =>
        read(this.fd, buf, 0, length, pos, (err, n) => {
          if (!err && n > 0) got(n);
          done(err ?? (n > 0 ? null : new Error("unexpected end of the RDB file")));
        }),
      then,
    );
  }

  /** One reader is done with the file; the last one releases it. */
  readerDone(): void {
    if (--this.readers <= 0) this.release();
  }

  /** Closes and removes the file, once the operations under way are done. */
  release(): void {
    if (this.fd < 0) return;
    if (this.inflight > 0) {
      this.closeWhenIdle = true;
      return;
    }
    try {
      closeSync(this.fd);
      unlinkSync(this.path);
    } catch {}
    this.fd = -1;
  }

  private io(op: (done: Done) => void, then: Done): void {
    this.inflight++;
    op((err) => {
      this.inflight--;
      if (this.closeWhenIdle && this.inflight === 0) this.release();
      if (this.fd < 0 && !err) return; // released meanwhile: nothing more to do with it
      then(err);
    });
  }
}

const EMPTY = Buffer.alloc(0);

/** fs.write until every byte is written (a short write is not an error). */
function writeFully(fd: number, bytes: Buffer, done: Done, off = 0): void {
  write(fd, bytes, off, bytes.length - off, null, (err, n) => {
    if (err) return done(err);
    if (off + n < bytes.length) return writeFully(fd, bytes, done, off + n);
    done(null);
  });
}
