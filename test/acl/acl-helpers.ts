// Side by side with redis-server 7.0.15: both servers started with the same options, the same
// commands sent on connections of the same users, the raw reply bytes compared.
//
// One normalisation only: ACL rule texts (ACL LIST, GETUSER's "commands") end with single
// command rules in the order of Redis's command dict, which differs from one redis-server
// process to the next; those tokens are sorted on both sides (in place: lengths are kept).

import { expect } from "bun:test";
import type { Socket } from "bun";
import { join } from "node:path";
import { encodeCommand, ReplyParser, RespError, type RespValue } from "../../src/protocol/reply-parser.ts";
import { removeDir, type ServerProcess, startRedis, startReplicant } from "../helpers/servers.ts";

/** A connection that returns each reply's raw bytes (latin1). */
export class RawConn {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  private constructor(private socket: Socket<undefined>) {}

  static async open(port: number): Promise<RawConn> {
    let conn!: RawConn;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, chunk) {
          conn.buf = Buffer.concat([conn.buf, chunk]);
          for (const w of conn.waiters.splice(0)) w();
        },
        close() {
          conn.closed = true;
          for (const w of conn.waiters.splice(0)) w();
        },
        error() {
          conn.closed = true;
        },
      },
    });
    conn = new RawConn(socket);
    return conn;
  }

  /** The next complete reply's bytes; "<closed>" if the server closed the connection first. */
  async next(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = new ReplyParser();
      p.feed(this.buf);
      if (this.buf.length && p.next() !== undefined) {
        const used = this.buf.length - p.remaining().length;
        const out = this.buf.latin1Slice(0, used);
        this.buf = this.buf.subarray(used);
        return out;
      }
      if (this.closed) return "<closed>";
      const left = deadline - Date.now();
      if (left <= 0) return "<timeout>";
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  send(...args: Array<string | number>): Promise<string> {
    if (this.closed) return Promise.resolve("<closed>");
    this.socket.write(encodeCommand(args));
    return this.next();
  }

  close(): void {
    this.socket.end();
  }
}

/** Parses one raw reply back into a value. */
export function parse(raw: string): RespValue {
  const p = new ReplyParser();
  p.feed(Buffer.from(raw, "latin1"));
  return p.next()!;
}

export function show(v: RespValue): unknown {
  if (v instanceof RespError) return `-${v.message}`;
  if (Array.isArray(v)) return v.map(show);
  if (v instanceof Map) return [...v].map(([k, x]) => [show(k), show(x)]);
  return v;
}

const isCommandRule = (t: string) => (t[0] === "+" || t[0] === "-") && t[1] !== "@";

/** Sorts the single-command rules at the end of each rule list in the text (lengths kept). */
export function normalizeRules(text: string): string {
  return text
    .split("\r\n")
    .map((line) =>
      line
        .split(" (")
        .map((part) => {
          const closing = part.endsWith(")") ? ")" : "";
          const tokens = (closing ? part.slice(0, -1) : part).split(" ");
          const idx = tokens.map((t, i) => (isCommandRule(t) ? i : -1)).filter((i) => i >= 0);
          const sorted = idx.map((i) => tokens[i]!).sort();
          idx.forEach((i, k) => (tokens[i] = sorted[k]!));
          return tokens.join(" ") + closing;
        })
        .join(" ("),
    )
    .join("\r\n");
}

export interface Pair {
  redis: ServerProcess;
  rep: ServerProcess;
  /** A connection to each, authenticated as `user` when given. */
  conns(user?: string, pass?: string): Promise<[RawConn, RawConn]>;
  /** The same command on both connections: the (normalised) raw replies must be equal. Returns Replicant's. */
  same(conns: [RawConn, RawConn], ...cmd: Array<string | number>): Promise<string>;
  /** Both replies, not compared. */
  both(conns: [RawConn, RawConn], ...cmd: Array<string | number>): Promise<[string, string]>;
  /** One command on fresh default connections of both, compared. */
  call(...cmd: Array<string | number>): Promise<string>;
  stop(): Promise<void>;
}

/** Both servers with the same options; `configFile` (a name in each one's directory) first. */
export async function startPair(extra: string[] = [], opts: { redisDir?: string; repDir?: string; configFile?: string } = {}): Promise<Pair> {
  const conf = (dir?: string) => (opts.configFile && dir ? join(dir, opts.configFile) : undefined);
  const [redis, rep] = await Promise.all([
    startRedis(extra, { dir: opts.redisDir, configFile: conf(opts.redisDir) }),
    startReplicant(extra, { dir: opts.repDir, configFile: conf(opts.repDir) }),
  ]);
  const opened: RawConn[] = [];
  const pair: Pair = {
    redis,
    rep,
    async conns(user, pass) {
      const cs = (await Promise.all([RawConn.open(redis.port), RawConn.open(rep.port)])) as [RawConn, RawConn];
      opened.push(...cs);
      if (user !== undefined) {
        const replies = await Promise.all(cs.map((c) => c.send("AUTH", user, pass ?? "")));
        expect(replies[1]).toBe(replies[0]!);
      }
      return cs;
    },
    async both(cs, ...cmd) {
      return (await Promise.all([cs[0].send(...cmd), cs[1].send(...cmd)])) as [string, string];
    },
    async same(cs, ...cmd) {
      const [a, b] = await pair.both(cs, ...cmd);
      expect({ cmd, reply: normalizeRules(b) }).toEqual({ cmd, reply: normalizeRules(a) });
      return b;
    },
    async call(...cmd) {
      const cs = await pair.conns();
      const r = await pair.same(cs, ...cmd);
      for (const c of cs) c.close();
      return r;
    },
    async stop() {
      for (const c of opened) c.close();
      await Promise.all([redis.stop(), rep.stop()]);
      removeDir(redis.dir);
      removeDir(rep.dir);
    },
  };
  return pair;
}
