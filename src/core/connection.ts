// A socket with a write queue. Bun's socket.write() is unbuffered: it takes what the kernel
// accepts and returns that count. We keep the unsent tail in a FIFO, resend it from the
// `drain` handler with the offset/length overload, and end() only once the queue is empty
// (Bun's end(data) drops whatever does not fit: see shared/BUN-NOTES.md).

import type { Socket } from "bun";

export interface Connection {
  /** Queues bytes for sending; the buffer may be reused by the caller after this returns. */
  write(bytes: Uint8Array): void;
  /** Sends what is queued, then closes. */
  closeAfterFlush(): void;
  /** Closes now, dropping anything unsent. */
  close(): void;
  readonly pendingBytes: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly closed: boolean;
}

export class SocketConnection implements Connection {
  private queue: Uint8Array[] = [];
  /** Bytes of queue[0] already sent. */
  private headOffset = 0;
  pendingBytes = 0;
  closed = false;
  private ending = false;
  /** Called after a drain empties the queue (backpressure release for senders that wait). */
  onWritable: (() => void) | null = null;

  constructor(
    readonly socket: Socket<any>,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly localAddress: string,
    readonly localPort: number,
  ) {}

  write(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    if (this.queue.length === 0) {
      const n = this.socket.write(bytes);
      if (n < 0) {
        this.closed = true;
        return;
      }
      if (n === bytes.length) return;
      // Keep our own copy of the tail: the caller may reuse its buffer.
      this.queue.push(Buffer.from(bytes.subarray(n)));
      this.pendingBytes += bytes.length - n;
      return;
    }
    this.queue.push(Buffer.from(bytes));
    this.pendingBytes += bytes.length;
  }

  /** Queues a buffer that the caller will not touch again (no defensive copy). */
  writeOwned(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    if (this.queue.length === 0) {
      const n = this.socket.write(bytes);
      if (n < 0) {
        this.closed = true;
        return;
      }
      if (n === bytes.length) return;
      this.queue.push(bytes);
      this.headOffset = n;
      this.pendingBytes += bytes.length - n;
      return;
    }
    this.queue.push(bytes);
    this.pendingBytes += bytes.length;
  }

  /** Called from the socket's drain handler. */
  drain(): void {
    while (this.queue.length) {
      const head = this.queue[0]!;
      const left = head.length - this.headOffset;
      const n = this.socket.write(head, this.headOffset, left);
      if (n < 0) {
        this.closed = true;
        return;
      }
      this.pendingBytes -= n;
      if (n < left) {
        this.headOffset += n;
        return;
      }
      this.queue.shift();
      this.headOffset = 0;
    }
    if (this.ending) {
      this.ending = false;
      this.socket.end();
      return;
    }
    this.onWritable?.();
  }

  /**
   * Stops (false) or restarts (true) reading from the socket: the peer then meets TCP
   * backpressure instead of us buffering what it sends (a full sync parsed slower than it
   * arrives). Bun's sockets have pause() / resume(), absent from bun-types 1.x.
   */
  setReading(on: boolean): void {
    const s = this.socket as unknown as { pause?: () => void; resume?: () => void };
    if (this.closed) return;
    if (on) s.resume?.();
    else s.pause?.();
  }

  closeAfterFlush(): void {
    if (this.closed) return;
    if (this.queue.length === 0) {
      this.closed = true;
      this.socket.end();
    } else this.ending = true;
  }

  close(): void {
    if (this.closed && !this.ending) return;
    this.closed = true;
    this.ending = false;
    this.queue = [];
    this.pendingBytes = 0;
    this.socket.terminate();
  }
}
