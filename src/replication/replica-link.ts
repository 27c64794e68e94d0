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
import { encodeCommand } from "../protocol/reply-parser.ts";
import { Client, ClientKind } from "../core/client.ts";
import type { Server } from "../core/server.ts";
import { SocketConnection } from "../core/connection.ts";
import { checkMasterCertificate } from "../core/tls.ts";
import { beginDatasetLoad } from "../dataset/load.ts";
import type { Replication } from "./replication.ts";
import { EofMarkDetector } from "./eof-mark.ts";
import { type CachedMaster, ReplState } from "./link-state.ts";
import { MasterHandshake } from "./master-handshake.ts";
import { MasterStream } from "./master-stream.ts";
import type { DelayedStream } from "./delayed-stream.ts";
import { type EndOff, RdbChannel } from "./rdb-channel.ts";
import { PendingStream } from "./stream-spool.ts";
import type { ReplyParser } from "../protocol/reply-parser.ts";
import { adoptMasterHistory, DisklessTransfer, DiskTransfer, freshDatabases, installDataset, type SyncTransfer, watchSyncLoad } from "./sync-transfer.ts";

interface LinkSocketData {
  link: ReplicaLink;
  generation: number;
}

export class ReplicaLink {
  state: ReplState = ReplState.None;
  private socket: Socket<LinkSocketData> | null = null;
  private conn: SocketConnection | null = null;
  /** Incremented per connection attempt, so events of an old socket are ignored. */
  private generation = 0;
  /** The handshake with the master: its replies, and what +FULLRESYNC or SYNC told. */
  private readonly handshake: MasterHandshake;
  /** Unix ms of the last I/O with the master during handshake/transfer. */
  private lastIo = 0;
  cached: CachedMaster | null = null;
  private transfer: SyncTransfer | null = null;
  /** The master's stream once the link is up, applied through our master's client. */
  private readonly stream: MasterStream;
  /** Unix ms when a connected master was lost (master_link_down_since_seconds); 0 while up or never up. */
  linkDownSince = 0;
  /**
   * A dual-channel full sync in progress (Valkey 8): the RDB channel, the snapshot's end it
   * announced, and the main connection's stream received meanwhile, applied after the load.
   */
  private dual: DualSync | null = null;
  /** Bytes of stream buffered by the dual-channel sync in progress, and the most a sync buffered (INFO replicas_repl_buffer_size / _peak, Valkey's). */
  dualBufferBytes = 0;
  dualBufferPeak = 0;
  /** Of those, the bytes that went to a file past repl-load-buffer-memory-limit (INFO replicas_repl_buffer_spilled). */
  dualSpilledBytes = 0;
  /** Transfer progress for INFO. */
  syncTotalBytes = -1;
  syncReadBytes = 0;
  syncStartedAt = 0;

  constructor(
    private readonly server: Server,
    private readonly repl: Replication,
  ) {
    this.stream = new MasterStream(server, repl, this);
    this.handshake = new MasterHandshake(server, repl, this);
  }

  /** Our master's client while the link is up (the stream is applied through it). */
  get masterClient(): Client | null {
    return this.stream.client;
  }

  /** Bytes read from the master's stream (slave_read_repl_offset); the applied ones are the offset. */
  get readReplOffset(): number {
    return this.stream.readReplOffset;
  }

  /** Unix ms of the last data from the connected master. */
  get lastInteraction(): number {
    return this.stream.lastInteraction;
  }

  /** A delayed replica with a spool (replica-apply-delay): received bytes run ahead of applied ones. */
  get delayed(): boolean {
    return this.stream.delay !== null;
  }

  /** The database the master's next applied command runs in, when known (RDB repl-stream-db). */
  get streamDb(): number | null {
    return this.stream.delayed.streamDb;
  }

  /** The delayed replica's controls (REPLICADELAY). */
  get delayControl(): DelayedStream {
    return this.stream.delayed;
  }

  /** Start-up: continue a delay spool left by the earlier run (see DelayedStream.resumeDelay). */
  resumeDelay(replid: string, applied: number, db: number): { replid: string; offset: number } | null {
    return this.stream.delayed.resumeDelay(replid, applied, db);
  }

  /** Shutdown: the delay spool's files are closed and kept. */
  closeDelay(): void {
    this.stream.delayed.closeDelay();
  }

  /** INFO replication's lines of a delayed replica. */
  delayInfoLines(): string[] {
    return this.stream.delayed.infoLines();
  }

  /** The socket to our master, for the stream's flow control. */
  get connection(): SocketConnection | null {
    return this.conn;
  }

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
    // A delayed replica applies what it holds first (as Postgres's promotion does); to promote
    // at an earlier point, REPLICADELAY DISCARD (after APPLY up to it) comes before.
    if (this.stream.delay !== null) {
      if (this.stream.delayed.holdingSnapshot) this.log.warning("Delayed replica: promoted before the held full sync was due: it is dropped (and the stream after it); what came before it is applied.");
      this.stream.delay.dropNext();
      this.stream.delayed.releaseEarly(Infinity, Infinity, true);
      this.stream.delayed.endDelay();
    }
    this.repl.shiftReplicationId();
    this.state = ReplState.None;
    this.linkDownSince = 0;
    this.repl.onBecomingMaster();
  }

  // ------------------------------------------------------------------ cron

  /** Called once a second (Redis's replicationCron, replica half). */
  cron(): void {
    if (this.repl.masterHost === null) return;
    this.stream.delayed.delayCron();
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
    if (this.state === ReplState.Connected && now - this.stream.lastInteraction > timeoutMs) {
      this.log.warning("MASTER timeout: no data nor PING received...");
      this.dropMasterClient(true, true);
    }
    if (this.state === ReplState.Connect) {
      this.log.notice(`Connecting to MASTER ${this.repl.masterHost}:${this.repl.masterPort}`);
      this.connect();
    }
    if (this.state === ReplState.Connected && !this.handshake.prePsync) this.sendAck();
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
    this.handshake.restart();
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

  /** A command to the master (the handshake's). */
  send(args: string[]): void {
    this.conn?.write(encodeCommand(args));
  }

  private onData(chunk: Buffer): void {
    const stats = this.server.stats;
    stats.netReplInputBytes += chunk.length;
    this.lastIo = Date.now();
    switch (this.state) {
      case ReplState.Connected:
        this.stream.receive(chunk);
        return;
      case ReplState.Transfer:
        if (this.dual !== null) this.bufferStream(chunk);
        else this.onTransferData(chunk);
        return;
      default:
        this.handshake.receive(chunk);
    }
  }

  // ------------------------------------------------------------------ transfer

  private useDisklessLoad(): boolean {
    const mode = this.server.config.str("repl-diskless-load");
    return mode === "swapdb" || (mode === "on-empty-db" && this.server.totalKeys() === 0);
  }

  /** +FULLRESYNC, or SYNC sent: the payload of a full sync follows (MasterHandshake). */
  beginTransfer(): void {
    this.state = ReplState.Transfer;
    this.transfer = null;
    this.syncTotalBytes = -1;
    this.syncReadBytes = 0;
    this.syncStartedAt = Date.now();
    const rest = this.handshake.replies.takeRemaining();
    if (rest.length) this.onTransferData(rest);
  }

  // ------------------------------------------------------------------ dual channel

  /**
   * The master answered +DUALCHANNELSYNC (MasterHandshake): the snapshot comes on a second
   * connection, whose $ENDOFF tells the offset the main connection then PSYNCs from.
   */
  beginDualChannel(): void {
    const generation = this.generation;
    const channel = new RdbChannel(this.server, {
      onEndOff: (endOff) => {
        if (generation !== this.generation || this.dual?.channel !== channel) return;
        this.lastIo = Date.now();
        this.dual.endOff = endOff;
        this.handshake.sendRdbClientId(endOff.clientId);
      },
      onData: (chunk) => {
        if (generation !== this.generation || this.dual?.channel !== channel) return;
        this.server.stats.netReplInputBytes += chunk.length;
        this.lastIo = Date.now();
        this.onTransferData(chunk);
      },
      onFailure: (reason) => {
        if (generation !== this.generation || this.dual?.channel !== channel) return;
        this.log.warning(reason);
        this.log.warning("Aborting dual channel sync");
        this.failHandshake();
      },
    });
    this.dual = { channel, endOff: null, continued: false, whenContinued: null, paused: false };
    this.state = ReplState.DualChannelRdb;
    this.transfer = null;
    this.syncTotalBytes = -1;
    this.syncReadBytes = 0;
    this.syncStartedAt = Date.now();
    this.lastIo = Date.now();
    channel.open(this.repl.masterHost!, this.repl.masterPort);
  }

  /** What the RDB channel's $ENDOFF said, once it arrived. */
  get dualEndOff(): EndOff | null {
    return this.dual?.endOff ?? null;
  }

  /** The main channel's PSYNC was accepted: its stream is buffered until the snapshot is loaded. */
  onDualContinue(): void {
    const dual = this.dual!;
    dual.continued = true;
    this.state = ReplState.Transfer;
    this.dualBufferBytes = 0;
    this.dualBufferPeak = 0;
    this.dualSpilledBytes = 0;
    this.pendingStream = this.newPendingStream();
    const rest = this.handshake.replies.takeRemaining();
    if (rest.length) this.bufferStream(rest);
    dual.whenContinued?.(true);
  }

  /**
   * The stream received while a full sync loads (a dual-channel sync's main connection from
   * +CONTINUE, a single-channel sync's after the payload), applied once the load is done.
   */
  private pendingStream: PendingStream | null = null;

  private newPendingStream(): PendingStream {
    return new PendingStream(this.server.config.num("repl-load-buffer-memory-limit"), `temp-repl-stream-${process.pid}-${Date.now()}.stream`);
  }

  /**
   * Keeps stream bytes received while a full sync loads: in memory up to
   * repl-load-buffer-memory-limit, then appended to a file in `dir` (stream-spool.ts), so the
   * master's buffer for us stays small however long the load takes. With the limit at 0 they
   * all stay in memory; a dual-channel sync then stops reading past client-output-buffer-limit
   * replica's hard limit, as Valkey's replica does (the rest waits in the master's buffer).
   */
  private bufferStream(chunk: Buffer): void {
    const pending = (this.pendingStream ??= this.newPendingStream());
    let first: boolean;
    try {
      first = pending.push(chunk);
    } catch (e) {
      this.log.warning(`Keeping the replication stream received during the load in ${pending.spool?.path ?? "a file"} failed: ${(e as Error).message}`);
      this.failHandshake();
      return;
    }
    if (first) this.log.notice(`MASTER <-> REPLICA sync: the stream received during the load passed repl-load-buffer-memory-limit: the rest goes to ${pending.spool!.path}`);
    const dual = this.dual;
    if (dual === null) return;
    this.dualBufferBytes = pending.bytes;
    if (pending.bytes > this.dualBufferPeak) this.dualBufferPeak = pending.bytes;
    this.dualSpilledBytes = pending.spilled;
    const hard = this.server.config.outputBufferLimits.replica.hard;
    if (pending.spool === null && this.server.config.num("repl-load-buffer-memory-limit") === 0 && hard > 0 && pending.memory > hard && !dual.paused) {
      this.log.warning("Replication buffer limit reached, stopping buffering.");
      dual.paused = true;
      this.conn?.setReading(false);
    }
  }

  /** Where the transfer's "$..." line is read: the RDB channel's replies in a dual-channel sync. */
  private get transferReplies(): ReplyParser {
    return this.dual?.channel.replies ?? this.handshake.replies;
  }

  private onTransferData(chunk: Buffer): void {
    if (this.transfer === null) {
      // Still waiting for the "$..." line; newlines before it are keep-alives.
      const replies = this.transferReplies;
      replies.feed(chunk);
      while (true) {
        const line = replies.nextLine();
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
        const rest = replies.takeRemaining();
        // An empty payload ("$0") is complete at once.
        if (rest.length || this.transfer!.size === 0) this.onPayload(rest);
        return;
      }
    }
    if (this.transfer.done) {
      // Loading the payload: bytes of the stream that follows wait their turn.
      this.bufferStream(chunk);
      return;
    }
    this.onPayload(chunk);
  }

  /** Sets up reception after the "$<len>" or "$EOF:<mark>" line. */
  private startPayload(line: string): boolean {
    // A delayed replica holding data keeps a full sync on disk until it is due (holdTransfer).
    const held = this.stream.delayed.wouldHoldSnapshot();
    const diskless = !held && this.useDisklessLoad();
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
    if (diskless) {
      const swapdb = this.server.config.str("repl-diskless-load") === "swapdb";
      const t = new DisklessTransfer(size, mark, progress, swapdb);
      this.transfer = t;
      // swapdb keeps the old data aside until the new is complete; it is also served meanwhile
      // (async loading) only when it is a point of the same history: the master's replid is
      // ours. A new master's data means clients get -LOADING, as Redis's readSyncBulkPayload.
      this.asyncLoading = swapdb && this.handshake.masterReplid === this.repl.replid;
      if (this.asyncLoading) {
        this.log.notice("MASTER <-> REPLICA sync: Loading DB in memory (swapdb: serving the old data meanwhile)");
      } else {
        this.log.notice("MASTER <-> REPLICA sync: Loading DB in memory");
        this.server.loading = true;
      }
      this.loadFromSocket(t, this.transferConn);
    } else {
      const t = new DiskTransfer(size, mark, progress);
      t.held = held;
      this.transfer = t;
      this.asyncLoading = false;
      try {
        t.openFile();
      } catch (e) {
        this.log.warning(`Opening the temp file needed for MASTER <-> REPLICA synchronization: ${(e as Error).message}`);
        this.failHandshake();
        return false;
      }
      // With nothing to keep serving, parsing while the file is written costs no extra memory
      // and saves reading it back: the sync takes as long as the transfer, not transfer + load.
      // (With data held, Redis's order stands: write, then flush the old data and load.)
      if (this.server.totalKeys() === 0 && !held) this.loadFromSocket(t, this.transferConn);
    }
    return true;
  }

  /** The connection the payload comes on: the RDB channel's in a dual-channel sync. */
  private get transferConn(): SocketConnection | null {
    return this.dual !== null ? this.dual.channel.conn : this.conn;
  }

  /** Parses the payload as it arrives: parse errors abort the transfer; a backlog pauses reading on `conn`. */
  private loadFromSocket(t: SyncTransfer, conn: SocketConnection | null): void {
    const load = beginDatasetLoad(this.server, freshDatabases(this.server));
    t.load = load;
    watchSyncLoad(this.server, load, t.progress);
    const generation = this.generation;
    load.onBacklog = (behind) => {
      if (generation === this.generation) conn?.setReading(!behind);
    };
    load.onError = (e) => {
      if (generation !== this.generation || this.transfer?.load !== load) return;
      this.log.warning(`MASTER <-> REPLICA sync: aborting the transfer: ${e.message}`);
      this.abortTransfer();
    };
  }

  /** Receives payload bytes; detects the end; keeps what follows as the stream's start. */
  private onPayload(chunk: Buffer): void {
    const t = this.transfer!;
    let complete: boolean;
    try {
      complete = t.receive(chunk);
    } catch (e) {
      this.log.warning(`MASTER <-> REPLICA sync: aborting the transfer: ${(e as Error).message}`);
      this.abortTransfer();
      return;
    }
    this.syncReadBytes = t.read;
    t.progress.update(t.read, t.load?.keysLoaded ?? 0, t.load?.keysExpected ?? 0);
    if (!complete) return;
    t.done = true;
    // Nothing follows the snapshot on a dual-channel sync's RDB channel (the master closes it).
    this.dual?.channel.close();
    void this.finishTransfer();
  }

  /**
   * The payload is complete: disk mode makes the file durable, moves it into place and loads it
   * unless it was parsed already; then the dataset is swapped in, our history becomes the
   * master's, and the stream starts with what arrived meanwhile. Any step may find the attempt
   * superseded (a new connection, or a cancelled transfer): it stops there.
   */
  private async finishTransfer(): Promise<void> {
    const t = this.transfer!;
    const generation = this.generation;
    const current = () => generation === this.generation && this.transfer === t;
    if (t instanceof DiskTransfer) {
      try {
        await t.flushToDisk();
        if (!current()) return;
        t.closeFile();
      } catch (e) {
        if (!current()) return;
        this.log.warning(`Failed trying to sync the temp DB to disk in MASTER <-> REPLICA synchronization: ${(e as Error).message}`);
        this.abortTransfer();
        return;
      }
      if (generation !== this.generation) return;
      if (t.held) return this.holdTransfer(t);
      const finalName = this.server.config.str("dbfilename");
      try {
        t.moveIntoPlace(finalName);
      } catch (e) {
        this.log.warning(`Failed trying to rename the temp DB into ${finalName} in MASTER <-> REPLICA synchronization: ${(e as Error).message}`);
        this.abortTransfer();
        return;
      }
      if (t.load) {
        this.log.notice("MASTER <-> REPLICA sync: Loading DB in memory (parsed while it was received)");
      } else {
        const ok = await t.loadFile(this.server, finalName, () => generation === this.generation);
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
    if (!current()) return;
    let result;
    try {
      result = await load.finish();
    } catch (e) {
      if (!current()) return;
      this.log.warning(`Failed trying to load the MASTER synchronization DB from socket: ${(e as Error).message}`);
      this.abortTransfer();
      return;
    }
    if (result === null || !current()) return;
    // Dual channel: the snapshot is applied once the main channel's PSYNC was accepted (the
    // master may answer it after the load); the old data stays if it is refused.
    const dual = this.dual;
    if (dual !== null && !dual.continued) {
      const accepted = await new Promise<boolean>((resolve) => (dual.whenContinued = resolve));
      if (!accepted || !current()) return;
    }
    // A new history: what the delay spool held of the old one is gone with it.
    this.stream.delayed.endDelay();
    installDataset(this.server, t, result);
    // A dual-channel snapshot's history is what $ENDOFF said (the RDB's own aux fields are not
    // used, as Valkey's replica does not).
    const replid = dual !== null ? dual.endOff!.replid : this.handshake.masterReplid;
    const offset = dual !== null ? dual.endOff!.offset : this.handshake.masterInitialOffset;
    adoptMasterHistory(this.repl, result.aux, replid, offset);
    const pending = this.pendingStream;
    this.pendingStream = null;
    this.transfer = null;
    this.dual = null;
    this.dualBufferBytes = 0;
    this.createMasterClient(dual !== null ? dual.endOff!.dbid : (result.replStreamDb ?? 0), offset);
    if (dual?.paused) this.conn?.setReading(true);
    this.log.notice("MASTER <-> REPLICA sync: Finished with success");
    this.server.notifySupervisor("STATUS=MASTER <-> REPLICA sync: Finished with success. Ready to accept connections in read-write mode.\n");
    // The transfer left its buffers (and the replaced dataset) behind as garbage: collected
    // now, so resident memory drops at once (what container limits and operators watch after
    // a full sync), without stopping clients long (see there).
    this.server.collectAfterLoad();
    this.continueAfterTransfer(t, pending);
  }

  /**
   * The link is up after a full sync: what the master sent meanwhile (after the payload, and
   * while it loaded) goes to the stream in order, applied in slices (it can be many MB); or
   * the link was lost meanwhile, and a PSYNC follows.
   */
  private continueAfterTransfer(t: SyncTransfer, pending: PendingStream | null): void {
    if (t.linkLost) {
      this.log.warning("Connection with master lost.");
      pending?.discard();
      this.dropMasterClient(true, true);
      return;
    }
    for (const chunk of t.tail) this.stream.queue(chunk);
    if (pending !== null) {
      for (const chunk of pending.chunks) this.stream.queue(chunk);
      if (pending.spool !== null) this.stream.queueSpool(pending.spool);
    }
  }

  /**
   * A delayed replica's full sync, complete and durable on disk: held (with the stream that
   * follows it) until it is older than the delay, the data we hold served meanwhile
   * (DelayedStream.holdSnapshot). The link goes on as after any full sync.
   */
  private holdTransfer(t: DiskTransfer): void {
    const dual = this.dual;
    const replid = dual !== null ? dual.endOff!.replid : this.handshake.masterReplid;
    const offset = dual !== null ? dual.endOff!.offset : this.handshake.masterInitialOffset;
    const db = this.stream.delayed.streamDb ?? this.cached?.db ?? 0;
    if (!this.stream.delayed.holdSnapshot(t.detachFile(), replid, offset, db)) {
      this.abortTransfer();
      return;
    }
    const pending = this.pendingStream;
    this.pendingStream = null;
    this.transfer = null;
    this.dual = null;
    this.dualBufferBytes = 0;
    t.progress.end();
    this.cached = null;
    this.createMasterClient(0, offset);
    if (dual?.paused) this.conn?.setReading(true);
    this.log.notice("MASTER <-> REPLICA sync: Finished with success (held: applied once older than replica-apply-delay)");
    this.continueAfterTransfer(t, pending);
  }

  private abortTransfer(): void {
    this.server.loading = false;
    this.server.loadProgress = null;
    this.failHandshake();
  }

  // ------------------------------------------------------------------ connected

  private createMasterClient(db: number, offset: number): void {
    const c = new Client(this.server, this.conn, ClientKind.Master);
    c.db = this.server.dbs[db] ?? this.server.dbs[0]!;
    this.stream.attach(c, offset);
    // A delayed replica continues after what it received; what it applied stays where it is.
    if (this.stream.delay === null) this.repl.masterReplOffset = offset;
    this.state = ReplState.Connected;
    this.linkDownSince = 0;
    this.server.clients.set(c.id, c);
    if (!this.handshake.prePsync) this.sendAck();
  }

  /** +CONTINUE: the cached master is our master again; its stream continues (MasterHandshake). */
  resurrectCachedMaster(): void {
    const cached = this.cached!;
    this.cached = null;
    this.createMasterClient(cached.db, cached.offset);
    this.repl.onPartialResync();
    const rest = this.handshake.replies.takeRemaining();
    if (rest.length) this.stream.receive(rest);
  }

  /** REPLCONF ACK <offset>: sent every second and when the master asks (GETACK). */
  sendAck(): void {
    if (!this.conn || this.state !== ReplState.Connected) return;
    // A delayed replica acknowledges what it holds in its spool (see docs/delayed-replica.md).
    const offset = this.stream.delay !== null ? this.stream.readReplOffset : this.repl.masterReplOffset;
    this.conn.write(encodeCommand(["REPLCONF", "ACK", String(offset)]));
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
  failHandshake(): void {
    this.cancelHandshake();
    if (this.repl.masterHost !== null) this.state = ReplState.Connect;
  }

  /** Closes the connection of an attempt in progress and removes its temp file. */
  cancelHandshake(): void {
    const dual = this.dual;
    if (dual !== null) {
      this.dual = null;
      this.dualBufferBytes = 0;
      dual.channel.close();
      dual.whenContinued?.(false);
    }
    this.pendingStream?.discard();
    this.pendingStream = null;
    const t = this.transfer;
    if (t) {
      t.discard();
      this.server.loading = false;
      this.asyncLoading = false;
      this.server.loadProgress = null;
      this.transfer = null;
    }
    if (this.state !== ReplState.Connected) this.closeSocket();
    this.handshake.cancel();
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
  dropMasterClient(cache: boolean, reconnect: boolean): void {
    const c = this.stream.client;
    if (!c) return;
    this.stream.detach();
    this.server.clients.delete(c.id);
    if (cache && !this.handshake.prePsync) {
      this.log.notice("Caching the disconnected master state.");
      // A delayed replica continues after what it received (of a held full sync's history, if any).
      const received = this.stream.delayed.delayedReceived;
      this.cached = { replid: received?.replid ?? this.repl.replid, offset: received?.offset ?? this.repl.masterReplOffset, db: this.stream.delayed.streamDb ?? c.db.id };
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

  /** A swapdb full sync that serves the old data meanwhile (INFO async_loading). */
  asyncLoading = false;

  /** Current transfer, for INFO (master_sync_in_progress). */
  get syncInProgress(): boolean {
    return this.state === ReplState.Transfer;
  }
}

const NEWLINE = Buffer.from("\n");

/** A dual-channel full sync in progress (ReplicaLink.dual). */
interface DualSync {
  channel: RdbChannel;
  /** The snapshot's end, from the RDB channel's $ENDOFF. */
  endOff: EndOff | null;
  /** The main channel's PSYNC was accepted (+CONTINUE): its stream is being buffered. */
  continued: boolean;
  /** A loaded snapshot waiting for that answer: told true (accepted) or false (abandoned). */
  whenContinued: ((accepted: boolean) => void) | null;
  /** Reading the main connection was paused at the buffer's limit. */
  paused: boolean;
}
