// MIGRATE's connections to target instances (cluster.c's migrate_cached_sockets): Redis
// connects, writes and reads with blocking calls, the whole server waiting meanwhile. We do
// the same from a handler that must return synchronously: the I/O runs on a worker thread
// (with its own event loop and the cached sockets), and the server thread waits for it with
// Atomics.wait. Sockets stay open for the next MIGRATE to the same host:port (their last
// SELECTed db remembered, as Redis does), at most 64, closed after 10 s unused.

/** What one exchange came to. */
type MigrateOutcome =
  | { status: "ok"; lines: string[] }
  | { status: "connect-error" }
  | { status: "write-error"; timedOut: boolean }
  | { status: "read-error"; timedOut: boolean; lines: string[] };

const STATUS = ["ok", "connect-error", "write-error", "read-error"] as const;

/** MIGRATE_SOCKET_CACHE_ITEMS, MIGRATE_SOCKET_CACHE_TTL (seconds). */
const CACHE_ITEMS = 64;
const CACHE_TTL = 10;

/** Redis reads replies into 1024-byte buffers (syncReadLine): longer lines are cut. */
const LINE_MAX = 1023;

/**
 * The worker's code. It runs in a worker made from its source text (no module of its own to
 * bundle), so it must use nothing from outside its body.
 *
 * Message {op:"exchange", key, host, port, timeoutMs, payload, replies, sab}: connect unless a
 * socket to `key` is open, write `payload`, read `replies` lines, each step given timeoutMs;
 * then fill `sab` (int32 [0] done, [1] status index, [2] timed out, [3] result bytes, text
 * from byte 16: the lines, "\n"-separated) and notify. {op:"close", key}: close that socket.
 */
function migrateWorker(): void {
  interface Conn {
    socket: { write(d: Uint8Array, offset?: number, length?: number): number; end(): void };
    text: string;
    closed: boolean;
    wake: (() => void) | null;
  }
  const conns = new Map<string, Conn>();
  const wakeUp = (c: Conn) => {
    const w = c.wake;
    c.wake = null;
    w?.();
  };
  /** Waits until `ready()`, the connection closes (false) or `ms` pass ("timeout"). */
  const until = (c: Conn, ms: number, ready: () => boolean): Promise<boolean | "timeout"> =>
    new Promise((resolve) => {
      const finish = (v: boolean | "timeout") => {
        clearTimeout(timer);
        c.wake = null;
        resolve(v);
      };
      const check = () => {
        if (ready()) return finish(true);
        if (c.closed) return finish(false);
        c.wake = check;
      };
      const timer = setTimeout(() => finish(ready() ? true : "timeout"), ms);
      check();
    });
  /**
   * Redis connects without waiting (anetTcpNonBlockConnect): only an address that does not
   * resolve fails there ("connect"); a refused or silent target shows as the first write
   * failing ("write", or "timeout" when nothing answered in time).
   */
  const connect = (host: string, port: number, ms: number): Promise<Conn | "connect" | "write" | "timeout"> =>
    new Promise((resolve) => {
      let conn: Conn | null = null;
      const failed = (e: unknown) => {
        clearTimeout(timer);
        const code = String((e as { code?: unknown })?.code ?? "");
        resolve(/ENOTFOUND|EAI_|DNS/.test(code) ? "connect" : "write");
      };
      const lost = () => {
        if (!conn) return;
        conn.closed = true;
        wakeUp(conn);
      };
      const timer = setTimeout(() => {
        conn?.socket.end();
        resolve("timeout");
      }, ms);
      try {
        Bun.connect({
          hostname: host,
          port,
          socket: {
            open(s) {
              conn = { socket: s, text: "", closed: false, wake: null };
              clearTimeout(timer);
              resolve(conn);
            },
            data(_s, d) {
              if (!conn) return;
              conn.text += d.latin1Slice(0, d.length);
              wakeUp(conn);
            },
            drain() {
              if (conn) wakeUp(conn);
            },
            close: lost,
            error: lost,
            connectError(_s, e) {
              failed(e);
            },
          },
        }).catch(failed);
      } catch (e) {
        failed(e);
      }
    });

  interface Exchange {
    key: string;
    host: string;
    port: number;
    timeoutMs: number;
    payload: Uint8Array;
    replies: number;
  }
  const run = async (m: Exchange): Promise<[number, boolean, string[]]> => {
    let c = conns.get(m.key);
    if (c && c.closed) {
      conns.delete(m.key);
      c = undefined;
    }
    if (!c) {
      const made = await connect(m.host, m.port, m.timeoutMs);
      if (made === "connect") return [1, false, []];
      if (made === "write" || made === "timeout") return [2, made === "timeout", []];
      c = made;
      conns.set(m.key, c);
    }
    const conn = c;
    const fail = (status: number, timedOut: boolean, lines: string[]): [number, boolean, string[]] => {
      conn.socket.end();
      conns.delete(m.key);
      return [status, timedOut, lines];
    };
    // Write in 64 KB steps, each within the timeout (connSyncWrite).
    let pos = 0;
    while (pos < m.payload.length) {
      if (conn.closed) return fail(2, false, []);
      const len = Math.min(65536, m.payload.length - pos);
      let sent = 0;
      while (sent < len) {
        const n = conn.socket.write(m.payload, pos + sent, len - sent);
        if (n < 0) return fail(2, false, []);
        sent += n;
        if (sent < len) {
          let drained = false;
          const r = await until(conn, m.timeoutMs, () => {
            const ok = drained;
            drained = true;
            return ok;
          });
          if (r === "timeout") return fail(2, true, []);
          if (r === false) return fail(2, false, []);
        }
      }
      pos += len;
    }
    const lines: string[] = [];
    while (lines.length < m.replies) {
      const r = await until(conn, m.timeoutMs, () => conn.text.includes("\n"));
      if (r !== true) return fail(3, r === "timeout", lines);
      const nl = conn.text.indexOf("\n");
      let line = conn.text.slice(0, nl);
      conn.text = conn.text.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      lines.push(line);
    }
    return [0, false, lines];
  };

  (globalThis as unknown as { onmessage: (e: MessageEvent) => void }).onmessage = async (e: MessageEvent) => {
    const m = e.data as Exchange & { op: string; sab: SharedArrayBuffer };
    if (m.op === "close") {
      conns.get(m.key)?.socket.end();
      conns.delete(m.key);
      return;
    }
    let result: [number, boolean, string[]];
    try {
      result = await run(m);
    } catch {
      result = [3, false, []];
    }
    const [status, timedOut, lines] = result;
    const sab = m.sab;
    const head = new Int32Array(sab, 0, 4);
    const bytes = new Uint8Array(sab, 16);
    const text = lines.join("\n");
    const n = Math.min(text.length, bytes.length);
    for (let i = 0; i < n; i++) bytes[i] = text.charCodeAt(i);
    head[1] = status;
    head[2] = timedOut ? 1 : 0;
    head[3] = n;
    Atomics.store(head, 0, 1);
    Atomics.notify(head, 0);
  };
}

interface CachedSocket {
  /** The db the target has SELECTed on this connection, -1 when unknown. */
  lastDbid: number;
  /** Unix seconds of the last use. */
  lastUse: number;
}

export class MigrateSockets {
  private worker: Worker | null = null;
  private readonly cached = new Map<string, CachedSocket>();

  /** INFO's migrate_cached_sockets. */
  get size(): number {
    return this.cached.size;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const source = `(${migrateWorker.toString()})()`;
    this.worker = new Worker(URL.createObjectURL(new Blob([source], { type: "application/javascript" })));
    // The worker must not keep the process alive on its own.
    this.worker.unref();
    return this.worker;
  }

  /** The db SELECTed on the cached connection to host:port (-1: none cached, or unknown). */
  lastDbid(key: string): number {
    return this.cached.get(key)?.lastDbid ?? -1;
  }

  setLastDbid(key: string, dbid: number): void {
    const s = this.cached.get(key);
    if (s) s.lastDbid = dbid;
  }

  /**
   * Connects to host:port unless a connection is cached, writes `payload`, reads `replies`
   * reply lines: each step within timeoutMs. The caller waits (the server does nothing else
   * meanwhile, as in Redis). A failed connection is dropped from the cache.
   */
  exchange(key: string, host: string, port: number, timeoutMs: number, payload: Buffer, replies: number): MigrateOutcome {
    const worker = this.ensureWorker();
    if (!this.cached.has(key) && this.cached.size >= CACHE_ITEMS) {
      // Too many: drop one at random, as Redis does.
      const keys = [...this.cached.keys()];
      this.close(keys[Math.floor(Math.random() * keys.length)]!);
    }
    const sab = new SharedArrayBuffer(16 + (replies + 1) * (LINE_MAX + 1));
    const head = new Int32Array(sab, 0, 4);
    worker.postMessage({ op: "exchange", key, host, port, timeoutMs, payload, replies, sab });
    // Every step has its own timeout: bound the whole wait by their sum, plus slack.
    const limit = timeoutMs * (replies + 3) + 5000;
    if (Atomics.wait(head, 0, 0, limit) === "timed-out") {
      // The worker is stuck: start a new one next time (its sockets go with it).
      worker.terminate();
      this.worker = null;
      this.cached.clear();
      return { status: "read-error", timedOut: true, lines: [] };
    }
    const status = STATUS[head[1]!]!;
    const text = Buffer.from(new Uint8Array(sab, 16, head[3]!)).latin1Slice();
    const lines = text === "" ? [] : text.split("\n").map((l) => l.slice(0, LINE_MAX));
    const now = Math.floor(Date.now() / 1000);
    if (status === "ok") {
      const s = this.cached.get(key);
      if (s) s.lastUse = now;
      else this.cached.set(key, { lastDbid: -1, lastUse: now });
      return { status, lines };
    }
    this.cached.delete(key);
    if (status === "connect-error") return { status };
    if (status === "write-error") return { status, timedOut: head[2] === 1 };
    return { status, timedOut: head[2] === 1, lines };
  }

  /** migrateCloseSocket. */
  close(key: string): void {
    if (!this.cached.delete(key)) return;
    this.worker?.postMessage({ op: "close", key });
  }

  /** migrateCloseTimedoutSockets (once a second): sockets unused for 10 s are closed. */
  closeIdle(nowSeconds: number): void {
    for (const [key, s] of this.cached) if (nowSeconds - s.lastUse > CACHE_TTL) this.close(key);
  }
}
