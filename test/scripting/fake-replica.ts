// A replica that only records what its master sends: PSYNC ? -1, skip the RDB, then parse the
// command stream into argv arrays (for comparing what two masters propagate).

import type { Socket } from "bun";
import { encodeCommand } from "../../src/protocol/reply-parser.ts";

export class FakeReplica {
  private buf = Buffer.alloc(0);
  private phase: "handshake" | "rdb" | "stream" = "handshake";
  private rdbLeft = 0;
  private eofMark: Buffer | null = null;
  readonly commands: string[][] = [];

  private constructor(private socket: Socket<undefined>) {}

  static async connect(port: number): Promise<FakeReplica> {
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
    r = new FakeReplica(socket);
    socket.write(encodeCommand(["PSYNC", "?", "-1"]));
    return r;
  }

  get synced(): boolean {
    return this.phase === "stream";
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.phase === "handshake") {
        const nl = this.buf.indexOf(10);
        if (nl < 0) return;
        const line = this.buf.latin1Slice(0, nl).replace(/\r$/, "");
        this.buf = this.buf.subarray(nl + 1);
        if (line.startsWith("$EOF:")) {
          this.eofMark = Buffer.from(line.slice(5), "latin1");
          this.phase = "rdb";
        } else if (line.startsWith("$")) {
          this.rdbLeft = Number(line.slice(1));
          this.phase = "rdb";
        }
        continue;
      }
      if (this.phase === "rdb") {
        if (this.eofMark) {
          const at = this.buf.indexOf(this.eofMark);
          if (at < 0) return;
          this.buf = this.buf.subarray(at + this.eofMark.length);
        } else {
          if (this.buf.length < this.rdbLeft) return;
          this.buf = this.buf.subarray(this.rdbLeft);
        }
        this.phase = "stream";
        continue;
      }
      const cmd = this.parseCommand();
      if (cmd === null) return;
      this.commands.push(cmd);
    }
  }

  private parseCommand(): string[] | null {
    const b = this.buf;
    if (b.length === 0) return null;
    if (b[0] !== 0x2a) {
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
    this.socket.end();
  }
}
