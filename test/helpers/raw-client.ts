// A RESP client that returns each reply as its raw bytes (latin1), so two servers can be
// compared byte for byte in RESP2 and RESP3, and a runner that sends the same commands to a real
// redis-server and to Replicant and reports the first differences. (RespClient, in
// resp-client.ts, is the one that parses replies into values.)

import type { Socket } from "bun";
import { encodeCommand } from "../../src/protocol/reply-parser.ts";

/** Index just after the complete reply starting at `pos`, or -1 if incomplete. */
export function replyEnd(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const type = buf[pos]!;
  const nl = buf.indexOf(10, pos);
  if (nl < 0) return -1;
  const line = buf.latin1Slice(pos + 1, nl - 1);
  let at = nl + 1;
  switch (type) {
    case 0x24: // $
    case 0x3d: // =
    case 0x21: {
      // !
      const n = Number(line);
      if (n < 0) return at;
      return buf.length >= at + n + 2 ? at + n + 2 : -1;
    }
    case 0x2a: // *
    case 0x7e: // ~
    case 0x3e: // >
    case 0x25: // %
    case 0x7c: {
      // |
      let n = Number(line);
      if (n < 0) return at;
      if (type === 0x25 || type === 0x7c) n *= 2;
      for (let i = 0; i < n; i++) {
        at = replyEnd(buf, at);
        if (at < 0) return -1;
      }
      return type === 0x7c ? replyEnd(buf, at) : at;
    }
    default:
      return at;
  }
}

/**
 * Writes what the kernel takes of the queue, oldest first; the rest stays for the next drain
 * (Bun's socket.write is partial and keeps no queue of its own).
 */
function writeQueued(socket: Socket<undefined>, queue: Buffer[]): void {
  while (queue.length) {
    const b = queue[0]!;
    const n = socket.write(b);
    if (n < b.length) {
      queue[0] = b.subarray(Math.max(n, 0));
      return;
    }
    queue.shift();
  }
}

/** What a RawClient's calls return once the server has closed the connection. */
const CLOSED_REPLY = "-ERR connection closed (RawClient)\r\n";

export class RawClient {
  private buf: Buffer = Buffer.alloc(0);
  private pending: Array<(s: string) => void> = [];
  private queue: Buffer[] = [];
  /** Once the server closed the connection, every reply (pending or new) is this error. */
  private closed = false;
  private constructor(private socket: Socket<undefined>) {}

  static async connect(port: number): Promise<RawClient> {
    let client!: RawClient;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, chunk) {
          client.onData(chunk);
        },
        drain() {
          client.flush();
        },
        close() {
          client.onClose();
        },
      },
    });
    client = new RawClient(socket);
    return client;
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      const end = replyEnd(this.buf, pos);
      if (end < 0) break;
      const p = this.pending.shift();
      p?.(this.buf.latin1Slice(pos, end));
      pos = end;
    }
    this.buf = this.buf.subarray(pos);
  }

  private onClose(): void {
    this.closed = true;
    for (const p of this.pending.splice(0)) p(CLOSED_REPLY);
  }

  private flush(): void {
    writeQueued(this.socket, this.queue);
  }

  /** Sends commands at once; resolves with each raw reply. */
  pipeline(commands: string[][]): Promise<string[]> {
    if (this.closed) return Promise.resolve(commands.map(() => CLOSED_REPLY));
    const ps = commands.map(() => new Promise<string>((resolve) => this.pending.push(resolve)));
    this.queue.push(Buffer.concat(commands.map((c) => encodeCommand(c))));
    if (this.queue.length === 1) this.flush();
    return Promise.all(ps);
  }

  async call(...args: string[]): Promise<string> {
    return (await this.pipeline([args]))[0]!;
  }

  close(): void {
    this.socket.end();
  }
}

/** A step of a differential run: a command, and how to compare its replies. */
export interface Step {
  cmd: string[];
  /** Custom comparison (random replies); returns an error text or null. Default: byte equality. */
  compare?: (expected: string, actual: string) => string | null;
}

const show = (s: string) => JSON.stringify(s.length > 400 ? `${s.slice(0, 400)}...` : s);

/** Runs steps against both servers in pipelined batches; returns the mismatches (at most `limit`). */
export async function runDifferential(redis: RawClient, replicant: RawClient, steps: Step[], limit = 10, batch = 200): Promise<string[]> {
  const errors: string[] = [];
  for (let i = 0; i < steps.length && errors.length < limit; i += batch) {
    const chunk = steps.slice(i, i + batch);
    const cmds = chunk.map((s) => s.cmd);
    const [a, b] = await Promise.all([redis.pipeline(cmds), replicant.pipeline(cmds)]);
    for (let k = 0; k < chunk.length && errors.length < limit; k++) {
      const step = chunk[k]!;
      const err = step.compare ? step.compare(a[k]!, b[k]!) : a[k] === b[k] ? null : `expected ${show(a[k]!)}, got ${show(b[k]!)}`;
      if (err) errors.push(`#${i + k} ${JSON.stringify(step.cmd).slice(0, 300)}: ${err}`);
    }
  }
  return errors;
}

/**
 * runDifferential in RESP3, on fresh connections (HELLO 3 first): the steps' keys with the
 * prefix `e:` get `e3:` instead, so that the RESP2 run's keys are not in the way.
 */
export async function runDifferentialResp3(redisPort: number, replicantPort: number, steps: Step[], limit = 10): Promise<string[]> {
  const [a, b] = await Promise.all([RawClient.connect(redisPort), RawClient.connect(replicantPort)]);
  try {
    await Promise.all([a.call("HELLO", "3"), b.call("HELLO", "3")]);
    const renamed = steps.map((s) => ({ ...s, cmd: s.cmd.map((x) => (x.startsWith("e:") ? `e3:${x.slice(2)}` : x)) }));
    return await runDifferential(a, b, renamed, limit);
  } finally {
    a.close();
    b.close();
  }
}

/** Parses a raw RESP2 array of bulk strings (flat) into strings; null for a null reply. */
export function parseFlat(raw: string): string[] | null {
  if (raw.startsWith("*-1") || raw.startsWith("_")) return null;
  const out: string[] = [];
  const buf = Buffer.from(raw, "latin1");
  let pos = 0;
  const walk = (): void => {
    const type = buf[pos]!;
    const nl = buf.indexOf(10, pos);
    const line = buf.latin1Slice(pos + 1, nl - 1);
    pos = nl + 1;
    if (type === 0x2a || type === 0x7e) {
      const n = Number(line);
      for (let i = 0; i < n; i++) walk();
    } else if (type === 0x24) {
      const n = Number(line);
      if (n >= 0) {
        out.push(buf.latin1Slice(pos, pos + n));
        pos += n + 2;
      }
    } else out.push(line);
  };
  walk();
  return out;
}

/**
 * A connection that keeps every byte it receives as latin1 `text`, in order: replies and pushed
 * messages alike, for tests that compare whole streams (pub/sub, client tracking) byte for byte.
 * Subclasses add how they know the server is done (a PING token, a SUBSCRIBE round trip).
 */
export class Transcript {
  text = "";
  private socket!: Socket<undefined>;
  private waiters: Array<() => void> = [];
  /** What the kernel has not taken yet (Bun keeps no write queue): written again on drain. */
  private queue: Buffer[] = [];

  static async open<T extends Transcript>(this: new () => T, port: number): Promise<T> {
    const t = new this();
    t.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, d) => {
          t.text += d.toString("latin1");
          for (const w of t.waiters.splice(0)) w();
        },
        drain: () => t.flush(),
      },
    });
    return t;
  }

  /** Sends the commands in one write. */
  send(...commands: Array<Array<string | number>>): void {
    this.queue.push(Buffer.concat(commands.map((c) => encodeCommand(c))));
    if (this.queue.length === 1) this.flush();
  }

  private flush(): void {
    writeQueued(this.socket, this.queue);
  }

  /** Waits until `done()` holds, rechecking whenever bytes arrive (and every 50 ms). */
  async waitUntil(done: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received so far: ${JSON.stringify(this.text.slice(-300))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.socket.end();
  }
}
