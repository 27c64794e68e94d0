// The replica side of replication: Redis's replica state machine (replication.c
// replicationCron / connectWithMaster / syncWithMaster / slaveTryPartialResynchronization /
// readSyncBulkPayload), driven by socket events and a once-a-second cron.
//
//   CONNECT -> CONNECTING -> RECEIVE_PONG -> (AUTH, REPLCONF port/ip/capa pipelined, replies
//   read in order) -> RECEIVE_PSYNC -> TRANSFER (full sync) -> CONNECTED
//                                    \-> CONNECTED (+CONTINUE, partial resync)
//
// In CONNECTED the master's stream goes through the same dispatcher as clients, with the
// master's privileges; the replication offset advances by exactly the bytes of each applied
// command. A dropped link keeps the data and caches the master (replid + offset), so the next
// attempt asks for a partial resync.

import type { Socket } from "bun";
import { closeSync, fsync, openSync, renameSync, unlinkSync, ftruncateSync } from "node:fs";
import { join } from "node:path";
import { encodeCommand, ReplyParser } from "../protocol/reply-parser.ts";
import { ProtocolError } from "../protocol/request-parser.ts";
import { Client, ClientKind } from "../core/client.ts";
import { processCommand } from "../core/dispatch.ts";
import type { Server } from "../core/server.ts";
import { Database } from "../store/database.ts";
import { SocketConnection } from "../core/connection.ts";
import type { Replication } from "./replication.ts";
import { beginDatasetLoad, type DatasetLoad } from "../dataset/load.ts";
import { EofMarkDetector } from "./eof-mark.ts";
import { checkMasterCertificate } from "../core/tls.ts";
import type { Progress } from "../core/progress.ts";
import { watchLoad } from "../dataset/persistence.ts";

export const enum ReplState {
  None = "none",
  Connect = "connect",
  Connecting = "connecting",
  ReceivePong = "receive_pong",
  ReceiveAuth = "receive_auth",
  ReceivePort = "receive_port",
  ReceiveIp = "receive_ip",
  ReceiveCapa = "receive_capa",
  ReceivePsync = "receive_psync",
  Transfer = "transfer",
  Connected = "connected",
}

/** The state ROLE reports for a replica: connect, connecting, sync, connected, handshake. */
export function roleState(s: ReplState): string {
  switch (s) {
    case ReplState.Connect:
      return "connect";
    case ReplState.Connecting:
      return "connecting";
    case ReplState.Transfer:
      return "sync";
    case ReplState.Connected:
      return "connected";
    case ReplState.None:
      return "none";
    default:
      return "handshake";
  }
}

/** What we know of the master we last followed, to ask for a partial resync. */
export interface CachedMaster {
  replid: string;
  offset: number;
  db: number;
}

interface LinkSocketData {
  link: ReplicaLink;
  generation: number;
}

/** How the RDB payload of a full sync is being received. */
interface Transfer {
  /** Bytes announced by `$<len>`, or -1 with an EOF mark. */
  size: number;
  read: number;
  mark: EofMarkDetector | null;
  /** Disk mode: the temp file being written. */
  tmpFile: string | null;
  fd: number;
  writer: ReturnType<ReturnType<typeof Bun.file>["writer"]> | null;
  /**
   * The parse in progress, straight from the socket: always in diskless mode, and in disk mode
   * when we hold no data (the payload is then parsed while it is written, not read back).
   */
  load: DatasetLoad | null;
  /** Diskless swapdb: the old dataset kept (and served) until the new one is complete. */
  swapdb: boolean;
  /** The master closed the link while we were loading the complete payload. */
  linkLost: boolean;
  /** Bytes that arrived after the payload: the start of the command stream. */
  tail: Buffer[];
  done: boolean;
  /** Bytes and keys so far, for the log and INFO (server/progress.ts). */
  progress: Progress;
}

export class ReplicaLink {
  state: ReplState = ReplState.None;
  private socket: Socket<LinkSocketData> | null = null;
  private conn: SocketConnection | null = null;
  /** Incremented per connection attempt, so events of an old socket are ignored. */
  private generation = 0;
  private handshake = new ReplyParser();
  /** Replies still expected for the pipelined handshake commands, in order. */
  private expectedReplies: ReplState[] = [];
  /** Unix ms of the last I/O with the master during handshake/transfer. */
  private lastIo = 0;
  /** The master client once connected (stream applied through it). */
  masterClient: Client | null = null;
  cached: CachedMaster | null = null;
  /** Replid / offset given by +FULLRESYNC. */
  private masterReplid = "";
  private masterInitialOffset = -1;
  /** True when the master answered PSYNC with an error and we fell back to SYNC. */
  private prePsync = false;
  private transfer: Transfer | null = null;
  /** Bytes read from the master's stream (slave_read_repl_offset) vs applied (the offset). */
  readReplOffset = 0;
  /** Unix ms when a connected master was lost (master_link_down_since_seconds); 0 while up or never up. */
  linkDownSince = 0;
  /** Bytes of a MULTI block applied but not yet counted (the offset moves at EXEC, as in Redis). */
  private multiBytes = 0;
  /** Stream bytes received and not applied yet (see queueStream). */
  private streamQueue: Buffer[] = [];
  private streamQueued = 0;
  private streamPumping = false;
  private streamPaused = false;
  /** Transfer progress for INFO. */
  syncTotalBytes = -1;
  syncReadBytes = 0;
  syncStartedAt = 0;
  /** Unix ms of the last data from the connected master. */
  lastInteraction = 0;

  constructor(
    private readonly server: Server,
    private readonly repl: Replication,
  ) {}

  private get log() {
    return this.server.log;
  }

  // ------------------------------------------------------------------ REPLICAOF

  /**
   * REPLICAOF host port: follow a (new) master. At start-up (`fromConfig`) there is no history
   * of ours to offer unless the dataset file had one (restoreFromRdbAux set `cached`).
   */
  setMaster(host: string, port: number, fromConfig = false): void {
    const wasMaster = this.repl.masterHost === null;
    this.repl.masterHost = host;
    this.repl.masterPort = port;
    // Switching masters: cache the current one, the new master may continue our history.
    if (this.masterClient) this.dropMasterClient(true, false);
    this.repl.onBecomingReplica();
    this.cancelHandshake();
    if (wasMaster && !this.cached && !fromConfig) {
      // Our own history becomes the cached master: the new master may continue it.
      this.cached = { replid: this.repl.replid, offset: this.repl.masterReplOffset, db: 0 };
    }
    // linkDownSince is left alone: a link that was never up stays "down since ever" (INFO's -1,
    // which Sentinel's replica selection reads), as Redis's repl_down_since is set only when a
    // connected master is lost (dropMasterClient above, for a switch while connected).
    this.log.notice(`Connecting to MASTER ${host}:${port}`);
    this.connect();
  }

  /** REPLICAOF NO ONE: stop following; our history continues under a new id. */
  unsetMaster(): void {
    if (this.repl.masterHost === null) return;
    this.repl.masterHost = null;
    this.repl.masterPort = 0;
    if (this.masterClient) this.dropMasterClient(false, false);
    this.cached = null;
    this.cancelHandshake();
    this.repl.shiftReplicationId();
    this.state = ReplState.None;
    this.linkDownSince = 0;
    this.repl.onBecomingMaster();
  }

  // ------------------------------------------------------------------ cron

  /** Called once a second (Redis's replicationCron, replica half). */
  cron(): void {
    if (this.repl.masterHost === null) return;
    const now = Date.now();
    const timeoutMs = this.server.config.num("repl-timeout") * 1000;
    const inHandshake = this.state !== ReplState.Connect && this.state !== ReplState.Transfer && this.state !== ReplState.Connected && this.state !== ReplState.None;
    if (inHandshake && now - this.lastIo > timeoutMs) {
      this.log.warning("Timeout connecting to the MASTER...");
      this.cancelHandshake();
      this.state = ReplState.Connect;
    }
    if (this.state === ReplState.Transfer && now - this.lastIo > timeoutMs) {
      this.log.warning(
        "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.",
      );
      this.cancelHandshake();
      this.state = ReplState.Connect;
    }
    if (this.state === ReplState.Connected && now - this.lastInteraction > timeoutMs) {
      this.log.warning("MASTER timeout: no data nor PING received...");
      this.dropMasterClient(true, true);
    }
    if (this.state === ReplState.Connect) {
      this.log.notice(`Connecting to MASTER ${this.repl.masterHost}:${this.repl.masterPort}`);
      this.connect();
    }
    if (this.state === ReplState.Connected && !this.prePsync) this.sendAck();
    // While a full sync is being loaded, newlines keep the master from timing us out.
    if (this.state === ReplState.Transfer && this.transfer?.done) this.conn?.write(NEWLINE);
  }

  // ------------------------------------------------------------------ connect & handshake

  private connect(): void {
    const host = this.repl.masterHost!;
    const port = this.repl.masterPort;
    const generation = ++this.generation;
    this.state = ReplState.Connecting;
    this.lastIo = Date.now();
    this.handshake = new ReplyParser();
    this.log.notice("MASTER <-> REPLICA sync started");
    // tls-replication: the link is TLS, with the context start-up (or CONFIG SET) built.
    const tls = this.server.config.bool("tls-replication") ? this.server.tls : null;
    if (this.server.config.bool("tls-replication") && !tls) {
      this.log.warning("Error condition on socket for SYNC: TLS is not configured");
      this.state = ReplState.Connect;
      return;
    }
    Bun.connect<LinkSocketData>({
      hostname: host,
      port,
      data: { link: this, generation },
      tls: tls?.client,
      socket: {
        open: (s) => {
          if (s.data.generation !== this.generation) return void s.terminate();
          // Over TLS the handshake with the master starts once our TLS handshake is done.
          if (!tls) this.onOpen(s);
        },
        handshake: (s, _success, authorizationError) => {
          if (s.data.generation !== this.generation) return void s.terminate();
          const refused = checkMasterCertificate(tls!, authorizationError);
          if (refused) {
            this.log.warning(`Error condition on socket for SYNC: ${refused}`);
            this.socket = s;
            this.failHandshake();
            return;
          }
          this.onOpen(s);
        },
        data: (s, chunk) => {
          if (s.data.generation !== this.generation) return;
          this.onData(chunk);
        },
        drain: (s) => {
          if (s.data.generation !== this.generation) return;
          this.conn?.drain();
        },
        close: (s) => {
          if (s.data.generation !== this.generation) return;
          this.onClose("connection closed");
        },
        error: (s, err) => {
          if (s.data.generation !== this.generation) return;
          this.onClose(err.message);
        },
        connectError: (s, err) => {
          if (s.data.generation !== this.generation) return;
          this.log.warning(`Error condition on socket for SYNC: ${err.message}`);
          this.socket = null;
          this.conn = null;
          this.state = ReplState.Connect;
        },
      },
    }).catch((err: Error) => {
      if (generation !== this.generation) return;
      this.log.warning(`Error condition on socket for SYNC: ${err.message}`);
      this.socket = null;
      this.conn = null;
      if (this.state === ReplState.Connecting) this.state = ReplState.Connect;
    });
  }

  private onOpen(s: Socket<LinkSocketData>): void {
    this.socket = s;
    this.conn = new SocketConnection(s, s.remoteAddress, s.remotePort, s.localAddress, s.localPort);
    this.log.notice("Non blocking connect for SYNC fired the event.");
    this.lastIo = Date.now();
    this.state = ReplState.ReceivePong;
    this.send(["PING"]);
  }

  private send(args: string[]): void {
    this.conn?.write(encodeCommand(args));
  }

  private onData(chunk: Buffer): void {
    const stats = this.server.stats;
    stats.netReplInputBytes += chunk.length;
    this.lastIo = Date.now();
    switch (this.state) {
      case ReplState.Connected:
        this.receiveStream(chunk);
        return;
      case ReplState.Transfer:
        this.onTransferData(chunk);
        return;
      default:
        this.handshake.feed(chunk);
        this.advanceHandshake();
    }
  }

  private advanceHandshake(): void {
    while (this.state !== ReplState.Transfer && this.state !== ReplState.Connected && this.state !== ReplState.Connect) {
      const line = this.handshake.nextLine();
      if (line === undefined) return;
      if (!this.onHandshakeLine(line)) return;
    }
  }

  /** Handles one reply line of the handshake. Returns false to stop reading lines. */
  private onHandshakeLine(line: string): boolean {
    switch (this.state) {
      case ReplState.ReceivePong: {
        if (line === "") return true;
        if (line.startsWith("-") && !line.startsWith("-NOAUTH") && !line.startsWith("-NOPERM") && !line.startsWith("-ERR operation not permitted")) {
          this.log.warning(`Error reply to PING from master: '${line}'`);
          this.failHandshake();
          return false;
        }
        this.log.notice("Master replied to PING, replication can continue...");
        this.sendHandshakeCommands();
        return true;
      }
      case ReplState.ReceiveAuth:
      case ReplState.ReceivePort:
      case ReplState.ReceiveIp:
      case ReplState.ReceiveCapa: {
        if (line === "") return true;
        const which = this.expectedReplies.shift()!;
        if (line.startsWith("-")) {
          if (which === ReplState.ReceiveAuth) {
            // As Redis logs it, with the reply's '-'.
            this.log.warning(`Unable to AUTH to MASTER: ${line}`);
            this.failHandshake();
            return false;
          }
          const what = which === ReplState.ReceivePort ? "listening-port" : which === ReplState.ReceiveIp ? "ip-address" : "capa";
          this.log.notice(`(Non critical) Master does not understand REPLCONF ${what}: ${line}`);
        }
        if (this.expectedReplies.length) this.state = this.expectedReplies[0]!;
        else this.sendPsync();
        return true;
      }
      case ReplState.ReceivePsync:
        return this.onPsyncReply(line);
      default:
        return false;
    }
  }

  /** Redis 7 pipelines AUTH and the REPLCONFs after PONG, then reads their replies in order. */
  private sendHandshakeCommands(): void {
    const cfg = this.server.config;
    const expected: ReplState[] = [];
    const masterauth = cfg.str("masterauth");
    if (masterauth) {
      const user = cfg.str("masteruser");
      this.send(user ? ["AUTH", user, masterauth] : ["AUTH", masterauth]);
      expected.push(ReplState.ReceiveAuth);
    }
    // The port our own replicas would use: over TLS, our TLS port (as Redis announces it).
    const port =
      cfg.num("replica-announce-port") ||
      (cfg.bool("tls-replication") && this.server.tlsListeningPort ? this.server.tlsListeningPort : this.server.listeningPort);
    this.send(["REPLCONF", "listening-port", String(port)]);
    expected.push(ReplState.ReceivePort);
    const ip = cfg.str("replica-announce-ip");
    if (ip) {
      this.send(["REPLCONF", "ip-address", ip]);
      expected.push(ReplState.ReceiveIp);
    }
    this.send(["REPLCONF", "capa", "eof", "capa", "psync2"]);
    expected.push(ReplState.ReceiveCapa);
    this.expectedReplies = expected;
    this.state = expected[0]!;
  }

  private sendPsync(): void {
    this.prePsync = false;
    if (this.cached) {
      const offset = String(this.cached.offset + 1);
      this.log.notice(`Trying a partial resynchronization (request ${this.cached.replid}:${offset}).`);
      // A master handing over (FAILOVER) asks the target to take over with the same PSYNC.
      this.send(this.repl.failover.inProgress ? ["PSYNC", this.cached.replid, offset, "FAILOVER"] : ["PSYNC", this.cached.replid, offset]);
    } else {
      this.log.notice("Partial resynchronization not possible (no cached master)");
      this.send(this.repl.failover.inProgress ? ["PSYNC", "?", "-1", "FAILOVER"] : ["PSYNC", "?", "-1"]);
    }
    this.state = ReplState.ReceivePsync;
  }

  private onPsyncReply(line: string): boolean {
    // The master may send newlines to keep the link alive before it replies.
    if (line === "") return true;
    if (line.startsWith("+FULLRESYNC")) {
      const parts = line.split(" ");
      if (parts.length < 3 || parts[1]!.length !== 40) {
        this.log.warning("Master replied with wrong +FULLRESYNC syntax.");
        this.masterReplid = "";
        this.masterInitialOffset = -1;
      } else {
        this.masterReplid = parts[1]!;
        this.masterInitialOffset = Number(parts[2]);
        this.log.notice(`Full resync from master: ${this.masterReplid}:${this.masterInitialOffset}`);
      }
      // A full sync discards the cached history.
      if (this.cached) this.log.notice("Discarding previously cached master state.");
      this.cached = null;
      this.repl.failover.onPsyncReply(true);
      this.beginTransfer();
      return false;
    }
    if (line.startsWith("+CONTINUE")) {
      this.log.notice("Successful partial resynchronization with master.");
      this.server.notifySupervisor("STATUS=MASTER <-> REPLICA sync: Partial Resynchronization accepted. Ready to accept connections in read-write mode.\n");
      const newId = line.slice(10).trim();
      const cached = this.cached!;
      if (newId.length === 40 && newId !== cached.replid) {
        this.log.warning(`Master replication ID changed to ${newId}`);
        this.repl.replid2 = cached.replid;
        this.repl.secondReplidOffset = this.repl.masterReplOffset + 1;
        this.repl.replid = newId;
        cached.replid = newId;
        this.repl.disconnectReplicas();
      }
      this.log.notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
      this.resurrectCachedMaster();
      this.repl.failover.onPsyncReply(true);
      return false;
    }
    if (this.repl.failover.inProgress) {
      // The failover target refused: we are a master again (FAILOVER aborted).
      this.log.warning(`Unexpected reply to PSYNC FAILOVER from the failover target: ${line}`);
      this.repl.failover.onPsyncReply(false);
      return false;
    }
    if (line.startsWith("-NOMASTERLINK") || line.startsWith("-LOADING")) {
      this.log.notice(`Master is currently unable to PSYNC but should be in the future: ${line}`);
      this.failHandshake();
      return false;
    }
    if (!line.startsWith("-ERR")) this.log.warning(`Unexpected reply to PSYNC from master: ${line}`);
    else this.log.notice(`Master does not support PSYNC or is in error state (reply: ${line})`);
    // Fall back to SYNC: the payload follows directly, and there is no replid / offset.
    this.cached = null;
    this.prePsync = true;
    this.masterReplid = "";
    this.masterInitialOffset = -1;
    this.log.notice("Retrying with SYNC...");
    this.conn?.write(Buffer.from("SYNC\r\n"));
    this.beginTransfer();
    return false;
  }

  // ------------------------------------------------------------------ transfer

  private useDisklessLoad(): boolean {
    const mode = this.server.config.str("repl-diskless-load");
    return mode === "swapdb" || (mode === "on-empty-db" && this.server.totalKeys() === 0);
  }

  private beginTransfer(): void {
    this.state = ReplState.Transfer;
    this.transfer = null;
    this.syncTotalBytes = -1;
    this.syncReadBytes = 0;
    this.syncStartedAt = Date.now();
    const rest = this.handshake.takeRemaining();
    if (rest.length) this.onTransferData(rest);
  }

  private onTransferData(chunk: Buffer): void {
    if (this.transfer === null) {
      // Still waiting for the "$..." line; newlines before it are keep-alives.
      this.handshake.feed(chunk);
      while (true) {
        const line = this.handshake.nextLine();
        if (line === undefined) return;
        if (line === "") continue;
        if (line.startsWith("-")) {
          this.log.warning(`MASTER aborted replication with an error: ${line.slice(1)}`);
          this.failHandshake();
          return;
        }
        if (!line.startsWith("$")) {
          this.log.warning(`Bad protocol from MASTER, the first byte is not '$' (we received '${line.slice(0, 64)}'), are you sure the host and port are right?`);
          this.failHandshake();
          return;
        }
        if (!this.startPayload(line)) return;
        const rest = this.handshake.takeRemaining();
        // An empty payload ("$0") is complete at once.
        if (rest.length || this.transfer!.size === 0) this.onPayload(rest);
        return;
      }
    }
    if (this.transfer.done) {
      // Loading the payload: bytes of the stream that follows wait their turn.
      this.transfer.tail.push(chunk);
      return;
    }
    this.onPayload(chunk);
  }

  /** Sets up reception after the "$<len>" or "$EOF:<mark>" line. */
  private startPayload(line: string): boolean {
    const diskless = this.useDisklessLoad();
    let size = -1;
    let mark: EofMarkDetector | null = null;
    if (line.startsWith("$EOF:") && line.length >= 45) {
      mark = new EofMarkDetector(Buffer.from(line.slice(5, 45), "latin1"));
      this.log.notice(`MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF ${diskless ? "to parser" : "to disk"}`);
    } else {
      size = Number(line.slice(1));
      if (!Number.isSafeInteger(size) || size < 0) {
        this.log.warning(`Bad protocol from MASTER, invalid bulk length '${line.slice(0, 64)}'`);
        this.failHandshake();
        return false;
      }
      this.log.notice(`MASTER <-> REPLICA sync: receiving ${size} bytes from master ${diskless ? "to parser" : "to disk"}`);
    }
    this.syncTotalBytes = size;
    const progress = this.log.progress("MASTER <-> REPLICA sync", size);
    const t: Transfer = { size, read: 0, mark, tmpFile: null, fd: -1, writer: null, load: null, swapdb: false, linkLost: false, tail: [], done: false, progress };
    this.transfer = t;
    if (diskless) {
      t.swapdb = this.server.config.str("repl-diskless-load") === "swapdb";
      if (t.swapdb) {
        this.log.notice("MASTER <-> REPLICA sync: Loading DB in memory (swapdb: serving the old data meanwhile)");
      } else {
        this.log.notice("MASTER <-> REPLICA sync: Loading DB in memory");
        this.server.loading = true;
      }
      t.load = beginDatasetLoad(this.server, this.freshDatabases());
      this.watch(t.load, progress);
      this.feedFromSocket(t.load);
    } else {
      const tmp = `temp-${Math.floor(Date.now() / 1000)}.${process.pid}.rdb`;
      try {
        t.fd = openSync(tmp, "wx", 0o644);
      } catch (e) {
        this.log.warning(`Opening the temp file needed for MASTER <-> REPLICA synchronization: ${(e as Error).message}`);
        this.failHandshake();
        return false;
      }
      t.tmpFile = tmp;
      t.writer = Bun.file(t.fd).writer({ highWaterMark: 1024 * 1024 });
      // With nothing to keep serving, parsing while the file is written costs no extra memory
      // and saves reading it back: the sync takes as long as the transfer, not transfer + load.
      // (With data held, Redis's order stands: write, then flush the old data and load.)
      if (this.server.totalKeys() === 0) {
        t.load = beginDatasetLoad(this.server, this.freshDatabases());
        this.watch(t.load, progress);
        this.feedFromSocket(t.load);
      }
    }
    return true;
  }

  /** Progress of the load of a full sync: INFO loading_* while loading, and log lines. */
  private watch(load: DatasetLoad, progress: Progress): void {
    watchLoad(this.server, load, progress);
    this.server.loadProgress = progress;
  }

  /** A load fed from the socket: parse errors abort the transfer; a backlog pauses reading. */
  private feedFromSocket(load: DatasetLoad): void {
    const generation = this.generation;
    const conn = this.conn;
    load.onBacklog = (behind) => {
      if (generation === this.generation) conn?.setReading(!behind);
    };
    load.onError = (e) => {
      if (generation !== this.generation || this.transfer?.load !== load) return;
      this.log.warning(`MASTER <-> REPLICA sync: aborting the transfer: ${e.message}`);
      this.abortTransfer();
    };
  }

  private freshDatabases(): Database[] {
    return this.server.dbs.map((db) => new Database(db.id));
  }

  /** Receives payload bytes; detects the end; keeps what follows as the stream's start. */
  private onPayload(chunk: Buffer): void {
    const t = this.transfer!;
    let complete: boolean;
    try {
      if (t.mark) {
        // Nothing follows the mark: a Redis 7 master starts the stream after our first ACK.
        complete = t.mark.push(chunk);
        t.read += chunk.length;
        if (t.writer) t.writer.write(chunk);
        if (t.load) for (const part of t.mark.release(chunk, complete)) t.load.feed(part);
      } else {
        const left = t.size - t.read;
        let payload = chunk;
        if (chunk.length > left) {
          payload = chunk.subarray(0, left);
          t.tail.push(chunk.subarray(left));
        }
        t.read += payload.length;
        if (t.writer) t.writer.write(payload);
        if (t.load) t.load.feed(payload);
        complete = t.read >= t.size;
      }
    } catch (e) {
      this.log.warning(`MASTER <-> REPLICA sync: aborting the transfer: ${(e as Error).message}`);
      this.abortTransfer();
      return;
    }
    this.syncReadBytes = t.read;
    t.progress.update(t.read, t.load?.keysLoaded ?? 0, t.load?.keysExpected ?? 0);
    if (!complete) return;
    t.done = true;
    void this.finishTransfer();
  }

  private async finishTransfer(): Promise<void> {
    const t = this.transfer!;
    const generation = this.generation;
    if (t.writer) {
      // Disk mode: make the file durable, move it into place, then load it.
      try {
        await t.writer.end();
        // The file was written with the mark at its end: cut it off.
        if (t.mark) ftruncateSync(t.fd, t.read - 40);
        // In the thread pool: a synchronous fsync of a file this size would stop every client
        // for as long as the disk takes.
        const fd = t.fd;
        await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
        if (generation !== this.generation || this.transfer !== t) return;
        closeSync(t.fd);
        t.fd = -1;
        t.writer = null;
      } catch (e) {
        if (generation !== this.generation || this.transfer !== t) return;
        this.log.warning(`Failed trying to sync the temp DB to disk in MASTER <-> REPLICA synchronization: ${(e as Error).message}`);
        this.abortTransfer();
        return;
      }
      if (generation !== this.generation) return;
      const finalName = this.server.config.str("dbfilename");
      try {
        renameSync(t.tmpFile!, finalName);
        t.tmpFile = null;
      } catch (e) {
        this.log.warning(`Failed trying to rename the temp DB into ${finalName} in MASTER <-> REPLICA synchronization: ${(e as Error).message}`);
        this.abortTransfer();
        return;
      }
      if (t.load) {
        this.log.notice("MASTER <-> REPLICA sync: Loading DB in memory (parsed while it was received)");
      } else {
        this.log.notice("MASTER <-> REPLICA sync: Flushing old data");
        this.log.notice("MASTER <-> REPLICA sync: Loading DB in memory");
        this.server.loading = true;
        const load = beginDatasetLoad(this.server, this.freshDatabases());
        t.load = load;
        // Read back from the file: a progress of its own.
        t.progress.end();
        t.progress = this.log.progress("Loading the synced RDB", t.read);
        this.watch(load, t.progress);
        const ok = await load.feedFile(join(process.cwd(), finalName), () => generation === this.generation);
        if (generation !== this.generation) return;
        if (!ok) {
          this.log.warning("Failed trying to load the MASTER synchronization DB from disk, check server logs.");
          this.abortTransfer();
          return;
        }
      }
    }
    // The dataset changes only when no script is busy (it would see its data replaced).
    if (this.server.scripting.busy !== null) {
      await new Promise<void>((resolve) => this.server.scripting.whenNotBusy(resolve));
      if (generation !== this.generation) return;
    }
    const load = t.load!;
    // The parse may still be a few slices behind the bytes received.
    await load.drain();
    if (generation !== this.generation || this.transfer !== t) return;
    let result;
    try {
      result = await load.finish();
    } catch (e) {
      if (generation !== this.generation || this.transfer !== t) return;
      this.log.warning(`Failed trying to load the MASTER synchronization DB from socket: ${(e as Error).message}`);
      this.abortTransfer();
      return;
    }
    if (result === null || generation !== this.generation || this.transfer !== t) return;
    if (t.swapdb) this.log.notice("MASTER <-> REPLICA sync: Swapping active DB with loaded DB");
    // The new dataset replaces the old one only now that it loaded completely.
    for (let i = 0; i < this.server.dbs.length; i++) this.server.dbs[i]!.swapContents(result.dbs[i]!);
    this.server.signalFlushedDb(-1);
    this.server.loading = false;
    this.server.loadProgress = null;
    t.progress.end();
    this.server.persistence.lastLoadKeysLoaded = result.keysLoaded;
    this.server.persistence.lastLoadKeysExpired = 0;
    this.server.functions.clear();
    for (const [name, f] of result.functions) this.server.functions.set(name, f);
    this.log.notice(`Done loading RDB, keys loaded: ${result.keysLoaded}, keys expired: 0.`);

    // After a full sync we take the master's id and offset; a new history starts.
    this.repl.noteMasterVersion(result.aux);
    this.repl.replid = this.masterReplid || this.repl.replid;
    this.repl.masterReplOffset = this.masterInitialOffset;
    this.repl.clearReplicationId2();
    this.repl.onFullSyncLoaded();
    const tail = t.tail;
    this.transfer = null;
    this.createMasterClient(result.replStreamDb ?? 0, this.masterInitialOffset);
    this.log.notice("MASTER <-> REPLICA sync: Finished with success");
    this.server.notifySupervisor("STATUS=MASTER <-> REPLICA sync: Finished with success. Ready to accept connections in read-write mode.\n");
    // The transfer left its buffers (and the replaced dataset) behind as garbage. Ask for a
    // collection now, so resident memory drops soon (what container limits and operators watch
    // after a full sync), but a concurrent one: a synchronous full collection would stop every
    // client for ~0.15 s per 1M keys.
    Bun.gc(false);
    if (t.linkLost) {
      this.log.warning("Connection with master lost.");
      this.dropMasterClient(true, true);
      return;
    }
    // What the master sent while we loaded: applied in order, in slices (it can be many MB).
    for (const chunk of tail) this.queueStream(chunk);
  }

  private abortTransfer(): void {
    this.server.loading = false;
    this.server.loadProgress = null;
    this.failHandshake();
  }

  // ------------------------------------------------------------------ connected

  private createMasterClient(db: number, offset: number): void {
    this.dropStreamQueue();
    const c = new Client(this.server, this.conn, ClientKind.Master);
    c.db = this.server.dbs[db] ?? this.server.dbs[0]!;
    this.masterClient = c;
    this.readReplOffset = offset;
    this.repl.masterReplOffset = offset;
    this.state = ReplState.Connected;
    this.linkDownSince = 0;
    this.lastInteraction = Date.now();
    this.multiBytes = 0;
    this.server.clients.set(c.id, c);
    if (!this.prePsync) this.sendAck();
  }

  private resurrectCachedMaster(): void {
    const cached = this.cached!;
    this.cached = null;
    this.createMasterClient(cached.db, cached.offset);
    this.repl.onPartialResync();
    const rest = this.handshake.takeRemaining();
    if (rest.length) this.receiveStream(rest);
  }

  /** Bytes of the master's stream received: applied now, or queued behind bytes not applied yet. */
  private receiveStream(chunk: Buffer): void {
    if (!this.masterClient) return;
    if (this.streamQueue.length === 0 && !this.streamPumping) {
      this.lastInteraction = Date.now();
      this.readReplOffset += chunk.length;
      this.applyStream(chunk);
      return;
    }
    this.queueStream(chunk);
  }

  /**
   * Queues stream bytes to be applied in slices of STREAM_SLICE_MS, in order, between turns of
   * the event loop (the stream that piled up during a full sync can take seconds to apply:
   * clients are served meanwhile, as Redis serves them between reads of its master's link).
   * Reading from the master pauses while too much waits.
   */
  private queueStream(chunk: Buffer): void {
    if (!this.masterClient) return;
    this.lastInteraction = Date.now();
    this.readReplOffset += chunk.length;
    this.streamQueue.push(chunk);
    this.streamQueued += chunk.length;
    if (!this.streamPaused && this.streamQueued > STREAM_QUEUE_PAUSE) {
      this.streamPaused = true;
      this.conn?.setReading(false);
    }
    if (this.streamPumping) return;
    this.streamPumping = true;
    setImmediate(() => this.pumpStream());
  }

  private pumpStream(): void {
    const c = this.masterClient;
    const deadline = performance.now() + STREAM_SLICE_MS;
    while (c !== null && this.masterClient === c && this.streamQueue.length > 0 && performance.now() < deadline) {
      const chunk = this.streamQueue.shift()!;
      this.streamQueued -= chunk.length;
      this.applyStream(chunk);
    }
    if (c !== null && this.masterClient === c && this.streamQueue.length > 0) {
      setImmediate(() => this.pumpStream());
      return;
    }
    this.streamPumping = false;
    if (this.streamPaused) {
      this.streamPaused = false;
      if (this.masterClient === c) this.conn?.setReading(true);
    }
  }

  /** Forgets stream bytes not applied (the link is gone: a PSYNC asks for them again). */
  private dropStreamQueue(): void {
    this.streamQueue = [];
    this.streamQueued = 0;
    this.streamPaused = false;
  }

  /** Applies bytes of the master's command stream; the offset moves by each command's bytes. */
  private applyStream(chunk: Buffer): void {
    const c = this.masterClient;
    if (!c) return;
    // The raw bytes are what our backlog and sub-replicas receive, once applied.
    this.repl.onStreamBytesReceived(chunk);
    c.parser.feed(chunk);
    this.processStream(c);
  }

  /** Whether processStream waits for a busy script already. */
  private streamWaiting = false;

  /**
   * Runs the complete commands received from the master. While a script is busy nothing is
   * applied (Redis's processInputBuffer stops for the master then): the stream accumulates and
   * runs when the script ends; a script the master sent that yields ends the same way.
   */
  private processStream(c: Client): void {
    const scripting = this.server.scripting;
    try {
      while (this.masterClient === c) {
        if (scripting.busy !== null) {
          if (!this.streamWaiting) {
            this.streamWaiting = true;
            scripting.whenNotBusy(() => {
              this.streamWaiting = false;
              if (this.masterClient === c) this.processStream(c);
            });
          }
          return;
        }
        const argv = c.parser.next();
        if (argv === null) break;
        processCommand(c, argv);
        const bytes = c.parser.lastCommandBytes;
        if (c.pendingScript !== null) {
          c.pendingScript.then(() => {
            c.blocked = false;
            if (this.masterClient !== c) return;
            this.commandApplied(c, bytes);
            this.processStream(c);
          });
          return;
        }
        this.commandApplied(c, bytes);
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.log.warning(`Protocol error (${e.reason}) from MASTER: closing the link and discarding the cached master.`);
      this.dropMasterClient(false, true);
      return;
    }
  }

  /** A command of the master's stream was applied: the offset moves (at EXEC for a MULTI block). */
  private commandApplied(c: Client, bytes: number): void {
    if (c.multi) {
      this.multiBytes += bytes;
      return;
    }
    const applied = bytes + this.multiBytes;
    this.multiBytes = 0;
    this.repl.masterReplOffset += applied;
    this.repl.onStreamApplied(applied);
  }

  /** REPLCONF ACK <offset>: sent every second and when the master asks (GETACK). */
  sendAck(): void {
    if (!this.conn || this.state !== ReplState.Connected) return;
    this.conn.write(encodeCommand(["REPLCONF", "ACK", String(this.repl.masterReplOffset)]));
  }

  // ------------------------------------------------------------------ failures

  private onClose(reason: string): void {
    if (this.state === ReplState.Connected) {
      this.log.warning(`Connection with master lost.`);
      this.dropMasterClient(true, true);
      return;
    }
    if (this.state === ReplState.Transfer && this.transfer?.done) {
      // The payload is complete and being loaded: finish loading, then continue with PSYNC.
      this.log.warning(`Connection with master lost while loading the synchronization DB (${reason}).`);
      this.transfer.linkLost = true;
      return;
    }
    if (this.state !== ReplState.None && this.state !== ReplState.Connect) {
      this.log.warning(`I/O error trying to sync with MASTER: ${reason}`);
      this.failHandshake();
    }
  }

  /** A failed handshake or transfer: clean up and try again from the cron. */
  private failHandshake(): void {
    this.cancelHandshake();
    if (this.repl.masterHost !== null) this.state = ReplState.Connect;
  }

  /** Closes the connection of an attempt in progress and removes its temp file. */
  cancelHandshake(): void {
    const t = this.transfer;
    if (t) {
      if (t.writer) {
        try {
          void t.writer.end();
        } catch {}
      }
      if (t.fd >= 0) {
        try {
          closeSync(t.fd);
        } catch {}
      }
      if (t.tmpFile) {
        try {
          unlinkSync(t.tmpFile);
        } catch {}
      }
      t.load?.abort();
      t.progress.end();
      if (!t.swapdb) this.server.loading = false;
      this.server.loadProgress = null;
      this.transfer = null;
    }
    if (this.state !== ReplState.Connected) this.closeSocket();
    this.expectedReplies = [];
  }

  private closeSocket(): void {
    this.generation++;
    const s = this.socket;
    this.socket = null;
    this.conn = null;
    if (s) {
      try {
        s.terminate();
      } catch {}
    }
  }

  /** The connected master is gone: keep our data and, if asked, cache the state for PSYNC. */
  private dropMasterClient(cache: boolean, reconnect: boolean): void {
    const c = this.masterClient;
    if (!c) return;
    this.masterClient = null;
    this.dropStreamQueue();
    this.server.clients.delete(c.id);
    if (cache && !this.prePsync) {
      this.log.notice("Caching the disconnected master state.");
      this.cached = { replid: this.repl.replid, offset: this.repl.masterReplOffset, db: c.db.id };
    } else {
      this.cached = null;
    }
    this.closeSocket();
    this.linkDownSince = Date.now();
    if (this.repl.masterHost !== null) {
      this.state = ReplState.Connect;
      if (reconnect) {
        this.log.notice(`Reconnecting to MASTER ${this.repl.masterHost}:${this.repl.masterPort} after failure`);
        this.connect();
      }
    } else this.state = ReplState.None;
    this.repl.onMasterLinkDown();
  }

  /** Drops a connected link on purpose (CLIENT KILL): it comes back with a partial resync. */
  dropLinkForReconnect(): void {
    if (this.state === ReplState.Connected) this.dropMasterClient(true, true);
  }

  lastIoSecondsAgo(): number {
    return Math.floor((Date.now() - this.lastIo) / 1000);
  }

  /** Current transfer, for INFO (master_sync_in_progress). */
  get syncInProgress(): boolean {
    return this.state === ReplState.Transfer;
  }
}

const NEWLINE = Buffer.from("\n");
/** Time spent applying queued stream bytes per turn of the event loop. */
const STREAM_SLICE_MS = 10;
/** Queued stream bytes beyond which reading from the master pauses. */
const STREAM_QUEUE_PAUSE = 16 * 1024 * 1024;

export { ClientKind };
