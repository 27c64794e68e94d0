// A minimal RESP client for tests, tools and benchmarks: send commands, await replies in order.
// Errors come back as RespError values (not thrown), so tests can compare them with Redis's.

import type { Socket, TLSOptions } from "bun";
import { encodeCommand, ReplyParser, RespError, type RespValue } from "../../src/protocol/reply-parser.ts";

export { RespError, type RespValue };

type Pending = { resolve: (v: RespValue) => void; reject: (e: Error) => void };

export class RespClient {
  private parser = new ReplyParser();
  private pending: Pending[] = [];
  private closed = false;
  private closeError: Error | null = null;
  private queue: Buffer[] = [];
  /** Pushed messages (RESP3 '>' or pub/sub) that arrive with no request waiting. */
  readonly pushes: RespValue[] = [];

  private constructor(private socket: Socket<undefined>) {}

  /** Connects over TCP, or over TLS with `tls` (resolved once the TLS handshake is done). */
  static async connect(port: number, host = "127.0.0.1", tls?: TLSOptions): Promise<RespClient> {
    let client: RespClient | undefined;
    // Bun takes no bytes before the handshake ends: a TLS client is usable from then on.
    let handshakeDone: () => void = () => {};
    let handshakeFailed: (e: Error) => void = () => {};
    const handshake = new Promise<void>((resolve, reject) => {
      handshakeDone = resolve;
      handshakeFailed = reject;
    });
    const socket = await Bun.connect({
      hostname: host,
      port,
      tls,
      socket: {
        handshake() {
          handshakeDone();
        },
        data(_s, chunk) {
          client?.onData(chunk);
        },
        drain() {
          client?.flush();
        },
        close() {
          client?.onClose(new Error("connection closed"));
          handshakeFailed(new Error("connection closed during the TLS handshake"));
        },
        error(_s, err) {
          client?.onClose(err);
          handshakeFailed(err);
        },
      },
    });
    client = new RespClient(socket);
    if (tls) await handshake;
    else handshake.catch(() => {});
    return client;
  }

  private onData(chunk: Buffer): void {
    this.parser.feed(chunk);
    while (true) {
      const v = this.parser.next();
      if (v === undefined) break;
      const p = this.pending.shift();
      if (p) p.resolve(v);
      else this.pushes.push(v);
    }
  }

  private onClose(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = err;
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  private flush(): void {
    while (this.queue.length) {
      const b = this.queue[0]!;
      const n = this.socket.write(b);
      if (n < 0) return;
      if (n < b.length) {
        this.queue[0] = b.subarray(n);
        return;
      }
      this.queue.shift();
    }
  }

  /** Sends raw bytes (for protocol tests). */
  writeRaw(bytes: Buffer | string): void {
    this.queue.push(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
    if (this.queue.length === 1) this.flush();
  }

  /** Waits for the next reply without sending anything (after writeRaw). */
  reply(): Promise<RespValue> {
    // Replies that arrived before anyone waited for them are queued in `pushes`.
    if (this.pushes.length) return Promise.resolve(this.pushes.shift()!);
    if (this.closed) return Promise.reject(this.closeError ?? new Error("closed"));
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  call(...args: Array<string | number | Uint8Array>): Promise<RespValue> {
    if (this.closed) return Promise.reject(this.closeError ?? new Error("closed"));
    const p = new Promise<RespValue>((resolve, reject) => this.pending.push({ resolve, reject }));
    this.writeRaw(encodeCommand(args));
    return p;
  }

  /** Sends many commands at once and resolves with all replies in order. */
  pipeline(commands: Array<Array<string | number | Uint8Array>>): Promise<RespValue[]> {
    const ps = commands.map(() => new Promise<RespValue>((resolve, reject) => this.pending.push({ resolve, reject })));
    this.writeRaw(Buffer.concat(commands.map((c) => encodeCommand(c))));
    return Promise.all(ps);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (!this.closed) this.socket.end();
    this.closed = true;
  }
}
