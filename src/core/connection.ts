// A socket with a write queue. Bun's socket.write() is unbuffered: it takes what the kernel
// accepts and returns that count. We keep the unsent tail in a FIFO, resend it from the
// `drain` handler with the offset/length overload, and end() only once the queue is empty
// (Bun's end(data) drops whatever does not fit: see shared/BUN-NOTES.md).

import type { Socket } from "bun";

/** A send queue past this size leaves enough garbage behind to ask for a collection. */
const LARGE_QUEUE = 32 * 1024 * 1024;

export interface Connection {
  /** Queues bytes for sending; the buffer may be reused by the caller after this returns. */
  write(bytes: Uint8Array): void;
  /** Queues a buffer the caller gives up (no copy). */
  writeOwned(bytes: Uint8Array): void;
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
  /**
   * Called when the queue held more than LARGE_QUEUE bytes at some point and is now empty
   * (drained or dropped): that memory is garbage the runtime may hold on to until a collection.
   */
  onLargeRelease: (() => void) | null = null;
  /** Most bytes queued since the queue was last empty. */
  private peakPending = 0;

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
      this.notePeak();
      return;
    }
    this.queue.push(Buffer.from(bytes));
    this.pendingBytes += bytes.length;
    this.notePeak();
  }

  /** The peer closed the socket: what was queued for it is dropped. */
  peerClosed(): void {
    this.closed = true;
    this.queue = [];
    this.pendingBytes = 0;
    this.queueEmptied();
  }

  private notePeak(): void {
    if (this.pendingBytes > this.peakPending) this.peakPending = this.pendingBytes;
  }

  /** The queue is empty now: tell whoever cares if it had grown large. */
  private queueEmptied(): void {
    if (this.peakPending > LARGE_QUEUE) this.onLargeRelease?.();
    this.peakPending = 0;
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
      this.notePeak();
      return;
    }
    this.queue.push(bytes);
    this.pendingBytes += bytes.length;
    this.notePeak();
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
    this.queueEmptied();
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
    this.queueEmptied();
    this.socket.terminate();
  }
}
