// The second connection of a dual-channel full sync (Valkey 8's dual-channel replication, its
// replication.c fullSyncWithPrimary): after the master answered our PSYNC with
// +DUALCHANNELSYNC, the snapshot comes on a connection of its own while the main connection
// PSYNCs from the snapshot's offset and receives the stream meanwhile (the link buffers it).
//
//   >> [AUTH ...] REPLCONF capa eof rdb-only 1 rdb-channel 1 listening-port <port>
//   << [+OK] +OK
//   >> SYNC                                   (inline: no +FULLRESYNC follows on this channel)
//   << [\n ...] $ENDOFF:<offset> <replid> <dbid> <client id>
//   << $EOF:<mark>\r\n <rdb> <mark>             (then the master closes the channel)
//
// This module owns the channel's socket and its handshake; the payload after $ENDOFF goes to
// the link (ReplicaLink.onRdbChannelData), which receives it as it receives a single-channel
// transfer.

import type { Socket } from "bun";
import { SocketConnection } from "../core/connection.ts";
import type { Server } from "../core/server.ts";
import { checkMasterCertificate } from "../core/tls.ts";
import { encodeCommand, ReplyParser } from "../protocol/reply-parser.ts";
import { announcedListeningPort, masterAuthCommand } from "./master-handshake.ts";

/** What the master's $ENDOFF line says: the snapshot's offset and history, our channel's id. */
export interface EndOff {
  offset: number;
  replid: string;
  dbid: number;
  clientId: string;
}

/** What the channel tells its link. */
interface RdbChannelEvents {
  /** $ENDOFF arrived: the main connection may PSYNC from offset + 1. */
  onEndOff(endOff: EndOff): void;
  /** Payload bytes (the "$EOF:" line first). */
  onData(chunk: Buffer): void;
  /** The handshake failed or the channel closed: `reason` as the log says it. */
  onFailure(reason: string): void;
}

const enum Phase {
  Connecting,
  Auth,
  Replconf,
  EndOff,
  Payload,
  Closed,
}

/** Parses "$ENDOFF:<offset> <replid40> <dbid> <client id>" (Valkey's sscanf "%lld %40s %d %llu"). */
export function parseEndOff(line: string): EndOff | null {
  const m = /^\$ENDOFF:(-?\d+) (\S{1,40}) (-?\d+) (\d+)/.exec(line);
  if (!m) return null;
  const offset = Number(m[1]);
  if (!Number.isSafeInteger(offset) || m[2]!.length !== 40) return null;
  return { offset, replid: m[2]!, dbid: Number(m[3]), clientId: m[4]! };
}

export class RdbChannel {
  /** Reply lines until the payload starts; the link reads the "$EOF:" line from it too. */
  readonly replies = new ReplyParser();
  private phase = Phase.Connecting;
  private socket: Socket<undefined> | null = null;
  /** The channel's connection (the load's flow control pauses reading on it). */
  conn: SocketConnection | null = null;

  constructor(
    private readonly server: Server,
    private readonly events: RdbChannelEvents,
  ) {}

  private get log() {
    return this.server.log;
  }

  /** Connects to the master the main connection talks to (same host, port and TLS). */
  open(host: string, port: number): void {
    const tls = this.server.config.bool("tls-replication") ? this.server.tls : null;
    Bun.connect<undefined>({
      hostname: host,
      port,
      tls: tls?.client,
      socket: {
        open: (s) => {
          if (this.phase === Phase.Closed) return void s.terminate();
          if (!tls) this.onOpen(s);
        },
        handshake: (s, _success, authorizationError) => {
          if (this.phase === Phase.Closed) return void s.terminate();
          const refused = checkMasterCertificate(tls!, authorizationError);
          if (refused) {
            this.socket = s;
            return this.fail(`Error condition on socket for dual channel replication: ${refused}`);
          }
          this.onOpen(s);
        },
        data: (_s, chunk) => {
          if (this.phase !== Phase.Closed) this.onData(chunk);
        },
        drain: () => {
          this.conn?.drain();
        },
        close: () => {
          if (this.phase !== Phase.Closed) this.fail(this.phase === Phase.Payload ? "I/O error trying to sync with MASTER: connection closed" : "Master closed the RDB channel during the dual channel handshake");
        },
        error: (_s, err) => {
          if (this.phase !== Phase.Closed) this.fail(`I/O error trying to sync with MASTER: ${err.message}`);
        },
        connectError: (_s, err) => {
          if (this.phase !== Phase.Closed) this.fail(`Error condition on socket for dual channel replication: ${err.message}`);
        },
      },
    }).catch((err: Error) => {
      if (this.phase !== Phase.Closed) this.fail(`Error condition on socket for dual channel replication: ${err.message}`);
    });
  }

  private onOpen(s: Socket<undefined>): void {
    this.socket = s;
    this.conn = new SocketConnection(s, s.remoteAddress, s.remotePort, s.localAddress, s.localPort);
    const auth = masterAuthCommand(this.server);
    if (auth) this.conn.write(encodeCommand(auth));
    this.conn.write(encodeCommand(["REPLCONF", "capa", "eof", "rdb-only", "1", "rdb-channel", "1", "listening-port", String(announcedListeningPort(this.server))]));
    this.phase = auth ? Phase.Auth : Phase.Replconf;
  }

  private onData(chunk: Buffer): void {
    if (this.phase === Phase.Payload) return this.events.onData(chunk);
    this.replies.feed(chunk);
    while (this.phase === Phase.Auth || this.phase === Phase.Replconf || this.phase === Phase.EndOff) {
      const line = this.replies.nextLine();
      if (line === undefined) return;
      // Bare newlines keep the link alive while the master waits to fork.
      if (line === "") continue;
      if (this.phase === Phase.Auth) {
        if (line.startsWith("-")) return this.fail(`Unable to AUTH to MASTER: ${line}`);
        this.phase = Phase.Replconf;
      } else if (this.phase === Phase.Replconf) {
        if (line.startsWith("-")) return this.fail(`Server does not support sync with offset, dual channel sync approach cannot be used: ${line}`);
        this.conn!.write(SYNC);
        this.phase = Phase.EndOff;
      } else {
        const endOff = parseEndOff(line);
        if (endOff === null) return this.fail(`Received unexpected $ENDOFF response: ${line.slice(0, 128)}`);
        this.log.notice(`MASTER <-> REPLICA sync: RDB channel: the snapshot ends at offset ${endOff.offset} of ${endOff.replid}`);
        this.phase = Phase.Payload;
        this.events.onEndOff(endOff);
        if (this.phase !== Phase.Payload) return;
        const rest = this.replies.takeRemaining();
        if (rest.length) this.events.onData(rest);
      }
    }
  }

  private fail(reason: string): void {
    this.close();
    this.events.onFailure(reason);
  }

  /** Closes the channel; no event is reported after this. */
  close(): void {
    this.phase = Phase.Closed;
    const s = this.socket;
    this.socket = null;
    this.conn = null;
    if (s) {
      try {
        s.terminate();
      } catch {}
    }
  }
}

const SYNC = Buffer.from("SYNC\r\n");
