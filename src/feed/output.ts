// Where the records go: standard output, or a file (--out) whose length is part of the
// checkpoint. With a file, a restart cuts it back to the checkpoint's length before anything is
// written (records after the checkpoint are written again from the stream), and a checkpoint is
// only written once the file is durable up to the length it records (fsync first): so the file
// holds every record up to the checkpoint exactly once, whenever the process was killed.

import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync } from "node:fs";
import { FdWriter } from "../common/fd-writer.ts";
import { FeedError } from "./errors.ts";

export class FeedOutput {
  private readonly writer: FdWriter;

  private constructor(
    private readonly fd: number,
    readonly path: string | null,
    /** The file's length when it was opened (after the cut), for --out. */
    private readonly base: number,
  ) {
    this.writer = new FdWriter(fd);
  }

  static stdout(): FeedOutput {
    return new FeedOutput(1, null, 0);
  }

  /**
   * The output file, cut back to `length` (a checkpoint's), or emptied when there is no
   * checkpoint. A file shorter than the checkpoint says is not the file it was written with.
   */
  static file(path: string, length: number | null): FeedOutput {
    if (length === null) return new FeedOutput(openSync(path, "w"), path, 0);
    let fd: number;
    try {
      fd = openSync(path, "r+");
    } catch (e) {
      throw new FeedError(`cannot open ${path}, which the checkpoint says holds ${length} bytes: ${(e as Error).message}`);
    }
    const size = fstatSync(fd).size;
    if (size < length) {
      closeSync(fd);
      throw new FeedError(`${path} has ${size} bytes, fewer than the ${length} the checkpoint says were written: not the output of this checkpoint`);
    }
    ftruncateSync(fd, length);
    fsyncSync(fd);
    closeSync(fd);
    // Append mode: every write lands after the cut.
    return new FeedOutput(openSync(path, "a"), path, length);
  }

  /** Bytes of records in the output (the file's length, for --out). */
  get length(): number {
    return this.base + this.writer.written + this.writer.buffered;
  }

  write(record: Buffer | string): void {
    this.writer.write(record);
  }

  flush(): void {
    this.writer.flush();
  }

  /** Everything written is on disk (a no-op on standard output). */
  sync(): void {
    this.writer.flush();
    if (this.path !== null) fsyncSync(this.fd);
  }

  close(): void {
    this.writer.flush();
    if (this.path !== null) closeSync(this.fd);
  }
}
