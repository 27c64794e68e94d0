// One replica of ours, as we serve it (Redis's client fields of a replica: replstate, the
// REPLCONF options of its handshake, its ACKed offset): what it asked for, where it stands in a
// full sync, and the stream bytes waiting for its RDB to be sent.

import type { Client } from "../core/client.ts";
import type { SocketConnection } from "../core/connection.ts";

export const enum ReplicaState {
  /** Waiting for a full-sync job to start (gets newlines meanwhile). */
  WaitBgsaveStart = "wait_bgsave",
  /** In a job: its RDB is being produced (stream bytes are queued). */
  WaitBgsaveEnd = "wait_bgsave_end",
  /** The RDB is being sent. */
  SendBulk = "send_bulk",
  /** Diskless RDB sent; waiting for the first ACK before streaming (Redis 7). */
  WaitFirstAck = "wait_first_ack",
  /**
   * Dual channel (Valkey 8): the main channel PSYNCed from the snapshot's offset and gets the
   * stream while the replica loads the RDB its RDB channel received; online at its first ACK.
   */
  BgTransfer = "bg_transfer",
  Online = "online",
}

/** INFO's state names (replstateToString). */
export function stateName(s: ReplicaState): string {
  switch (s) {
    case ReplicaState.WaitBgsaveStart:
    case ReplicaState.WaitBgsaveEnd:
      return "wait_bgsave";
    case ReplicaState.SendBulk:
      return "send_bulk";
    case ReplicaState.BgTransfer:
      return "bg_transfer";
    case ReplicaState.WaitFirstAck:
    case ReplicaState.Online:
      return "online";
  }
}

export class ReplicaSession {
  state: ReplicaState = ReplicaState.WaitBgsaveStart;
  listeningPort = 0;
  announcedIp = "";
  capaEof = false;
  capaPsync2 = false;
  ackOffset = 0;
  /** Unix ms of the last ACK (or of the sync start). */
  ackTime = Date.now();
  /** The replica used SYNC (no ACKs expected). */
  prePsync = false;
  /** Stream bytes produced since the snapshot point, waiting for the RDB to be sent. */
  pending: Buffer[] = [];
  pendingBytes = 0;
  /** When the output went past the soft limit (ms), 0 if below. */
  softLimitSince = 0;
  /** REPLCONF rdb-only 1: the RDB and nothing else (redis-cli --rdb); closed once sent. */
  rdbOnly = false;
  /** REPLCONF capa dual-channel: a Valkey 8 replica that can take its snapshot on a second connection. */
  capaDualChannel = false;
  /** REPLCONF rdb-channel 1: this connection is such a replica's RDB channel ($ENDOFF before the RDB). */
  rdbChannel = false;
  /** REPLCONF set-rdb-client-id: the RDB channel whose snapshot this main channel continues from. */
  rdbClientId = -1;
  /** REPLCONF rdb-filter-only: which parts of the RDB are wanted (Redis's slave_req). */
  excludeData = false;
  excludeFunctions = false;
  /** Bytes of the RDB possibly still queued on the socket when it went online. */
  rdbQueuedAtOnline = 0;
  /** Disk-based transfer: the buffer file chunks are read into. */
  readBuf: Buffer | null = null;
  /** Diskless transfer progress, for repl-timeout (ms of the last write the socket took). */
  lastTransferProgress = 0;
  lastQueued = 0;
  /** Unix ms when the replica asked for a sync (diskless delay). */
  readonly since = Date.now();

  constructor(readonly client: Client) {}

  /** The session of a client that started a replica's handshake (created on its first REPLCONF / SYNC). */
  static of(c: Client): ReplicaSession {
    const s = (c.replica as ReplicaSession | null) ?? new ReplicaSession(c);
    c.replica = s;
    return s;
  }

  get conn(): SocketConnection {
    return this.client.conn as SocketConnection;
  }

  name(): string {
    const ip = this.announcedIp || this.client.conn?.remoteAddress || "?";
    return `${ip}:${this.listeningPort}`;
  }

  /** The address INFO and ROLE show: the announced ip-address, else the peer's. */
  get host(): string {
    return this.announcedIp || this.client.conn?.remoteAddress || "";
  }

  get port(): number {
    return this.listeningPort;
  }

  /** Online for INFO and FAILOVER (a diskless replica waiting for its first ACK included). */
  get online(): boolean {
    return this.state === ReplicaState.Online || this.state === ReplicaState.WaitFirstAck;
  }

  /** Redis's slave_req: replicas may share an RDB only when they want the same parts. */
  get req(): number {
    return (this.excludeData ? 1 : 0) | (this.excludeFunctions ? 2 : 0);
  }

  /**
   * REPLCONF <option> <value> in the replica's handshake. Returns null when accepted, else the
   * error to reply (Redis's texts).
   */
  configure(option: string, value: string): string | null {
    switch (option) {
      case "listening-port": {
        if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) return "ERR value is not an integer or out of range";
        this.listeningPort = Number(value);
        return null;
      }
      case "ip-address":
        if (value.length >= 46) return `ERR REPLCONF ip-address provided by replica instance is too long: ${value.length} bytes`;
        this.announcedIp = value;
        return null;
      case "capa":
        // Capabilities this master does not know are ignored.
        if (value.toLowerCase() === "eof") this.capaEof = true;
        else if (value.toLowerCase() === "psync2") this.capaPsync2 = true;
        else if (value.toLowerCase() === "dual-channel") this.capaDualChannel = true;
        return null;
      case "rdb-channel": {
        if (!/^-?\d+$/.test(value)) return "ERR value is not an integer or out of range";
        this.rdbChannel = Number(value) === 1;
        return null;
      }
      case "rdb-only": {
        if (!/^-?\d+$/.test(value)) return "ERR value is not an integer or out of range";
        const n = Number(value);
        if (n < 0 || n > 1) return "ERR value is out of range, value must between 0 and 1"; // sic, Redis's text
        this.rdbOnly = n === 1;
        return null;
      }
      case "rdb-filter-only": {
        const filters = value.split(/\s+/).filter((f) => f.length > 0);
        this.excludeData = true;
        this.excludeFunctions = true;
        for (const f of filters) {
          if (f.toLowerCase() === "functions") this.excludeFunctions = false;
          else return `ERR Unsupported rdb-filter-only option: ${f}`;
        }
        return null;
      }
      default:
        return `ERR Unrecognized REPLCONF option: ${option}`;
    }
  }
}
