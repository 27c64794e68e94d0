// A replica that only records what its master sends, for comparing the replication streams of
// two masters (redis-server and Replicant) fed the same workload: PSYNC ? -1, skip the RDB
// payload (length or EOF-mark form), then parse the command stream into argv arrays.

import type { Socket } from "bun";
import { encodeCommand } from "../../src/protocol/reply-parser.ts";

export interface FakeReplicaOptions {
  /**
   * Behave as a real replica: announce itself (REPLCONF listening-port, capa eof psync2) before
   * PSYNC, ACK its offset every 50 ms once in the stream, and leave the link's keep-alives (PING,
   * REPLCONF GETACK) out of `commands`. Redis 7 puts a diskless replica online only at an ACK
   * received after the transfer ended. Default: PSYNC straight away, never ACK, record all.
   */
  asReplica?: boolean;
}

export class FakeReplica {
  /** The stream's commands in order, each as its arguments (latin1 strings). */
  readonly commands: string[][] = [];
  private buf: Buffer = Buffer.alloc(0);
  private phase: "handshake" | "rdb" | "stream" = "handshake";
  private okCount = 0;
  private rdbLeft = 0;
  private eofMark: Buffer | null = null;
  private offset = "0";
  private ackTimer: ReturnType<typeof setInterval> | null = null;

  private constructor(
    private readonly socket: Socket<undefined>,
    private readonly asReplica: boolean,
  ) {}

  static async connect(port: number, options: FakeReplicaOptions = {}): Promise<FakeReplica> {
    let r!: FakeReplica;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, chunk) {
          r.onData(chunk);
        },
      },
    });
    r = new FakeReplica(socket, options.asReplica === true);
    // PSYNC only once the REPLCONF replies are in (Redis refuses it with output pending).
    if (r.asReplica) socket.write(Buffer.concat([encodeCommand(["REPLCONF", "listening-port", "1"]), encodeCommand(["REPLCONF", "capa", "eof", "capa", "psync2"])]));
    else socket.write(encodeCommand(["PSYNC", "?", "-1"]));
    return r;
  }

  /** Past the RDB payload: what the master sends from now on is its command stream. */
  get synced(): boolean {
    return this.phase === "stream";
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.phase === "handshake") {
        const nl = this.buf.indexOf(10);
        if (nl < 0) return;
        const line = this.buf.latin1Slice(0, nl).replace(/\r$/, "");
        this.buf = this.buf.subarray(nl + 1);
        // (Empty lines are the master's keep-alives while it prepares the payload.)
        if (line === "+OK") {
          if (this.asReplica && ++this.okCount === 2) this.socket.write(encodeCommand(["PSYNC", "?", "-1"]));
        } else if (line.startsWith("+FULLRESYNC")) {
          this.offset = line.split(" ")[2] ?? "0";
        } else if (line.startsWith("$EOF:")) {
          this.eofMark = Buffer.from(line.slice(5), "latin1");
          this.phase = "rdb";
        } else if (line.startsWith("$")) {
          this.rdbLeft = Number(line.slice(1));
          this.phase = "rdb";
        } else if (line.startsWith("-")) throw new Error(`the master refused the fake replica: ${line}`);
        continue;
      }
      if (this.phase === "rdb") {
        if (this.eofMark) {
          const at = this.buf.indexOf(this.eofMark);
          if (at < 0) return;
          this.buf = this.buf.subarray(at + this.eofMark.length);
        } else {
          const take = Math.min(this.rdbLeft, this.buf.length);
          this.rdbLeft -= take;
          this.buf = this.buf.subarray(take);
          if (this.rdbLeft > 0) return;
        }
        this.startStream();
        continue;
      }
      const cmd = this.parseCommand();
      if (cmd === null) return;
      if (this.asReplica) {
        const name = cmd[0]!.toUpperCase();
        if (name === "PING" || (name === "REPLCONF" && cmd[1]?.toUpperCase() === "GETACK")) continue;
      }
      this.commands.push(cmd);
    }
  }

  private startStream(): void {
    this.phase = "stream";
    if (!this.asReplica) return;
    const ack = () => this.socket.write(encodeCommand(["REPLCONF", "ACK", this.offset]));
    ack();
    this.ackTimer = setInterval(ack, 50);
  }

  /** One command of the stream (a RESP array of bulk strings), or null until it is complete. */
  private parseCommand(): string[] | null {
    const b = this.buf;
    if (b.length === 0) return null;
    if (b[0] !== 0x2a) {
      // An inline newline (keep-alive): skip it.
      const nl = b.indexOf(10);
      if (nl < 0) return null;
      this.buf = b.subarray(nl + 1);
      return this.parseCommand();
    }
    let nl = b.indexOf(10);
    if (nl < 0) return null;
    const n = Number(b.latin1Slice(1, nl - 1));
    let pos = nl + 1;
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      nl = b.indexOf(10, pos);
      if (nl < 0) return null;
      const len = Number(b.latin1Slice(pos + 1, nl - 1));
      const start = nl + 1;
      if (b.length < start + len + 2) return null;
      out.push(b.latin1Slice(start, start + len));
      pos = start + len + 2;
    }
    this.buf = b.subarray(pos);
    return out;
  }

  close(): void {
    if (this.ackTimer) clearInterval(this.ackTimer);
    this.socket.end();
  }
}
