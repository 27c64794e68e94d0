// The handshake with our master (Redis's syncWithMaster and slaveTryPartialResynchronization):
// PING, then AUTH and the REPLCONFs pipelined (Redis 7) with their replies read in order, then
// PSYNC with our cached master's history, or SYNC when the master does not know PSYNC. The
// answer starts a full sync (+FULLRESYNC: the transfer follows) or continues the link
// (+CONTINUE: partial resync).

import { ReplyParser } from "../protocol/reply-parser.ts";
import type { Server } from "../core/server.ts";
import { ReplState } from "./link-state.ts";
import type { ReplicaLink } from "./replica-link.ts";
import type { Replication } from "./replication.ts";

/** AUTH with masterauth (and masteruser) for a connection to our master, or null without one. */
export function masterAuthCommand(server: Server): string[] | null {
  const masterauth = server.config.str("masterauth");
  if (!masterauth) return null;
  const user = server.config.str("masteruser");
  return user ? ["AUTH", user, masterauth] : ["AUTH", masterauth];
}

/** The port our own replicas would use, as REPLCONF listening-port announces it: over TLS, our TLS port (as Redis). */
export function announcedListeningPort(server: Server): number {
  const cfg = server.config;
  return cfg.num("replica-announce-port") || (cfg.bool("tls-replication") && server.tlsListeningPort ? server.tlsListeningPort : server.listeningPort);
}

export class MasterHandshake {
  /** The master's replies, until the payload of a full sync or the stream starts. */
  replies = new ReplyParser();
  /** Replies still expected for the pipelined handshake commands, in order. */
  private expectedReplies: ReplState[] = [];
  /** Replid / offset given by +FULLRESYNC. */
  masterReplid = "";
  masterInitialOffset = -1;
  /** True when the master answered PSYNC with an error and we fell back to SYNC. */
  prePsync = false;
  /** The PSYNC in flight is a dual-channel sync's main-channel one (from the snapshot's offset). */
  private dualPsync = false;

  constructor(
    private readonly server: Server,
    private readonly repl: Replication,
    private readonly link: ReplicaLink,
  ) {}

  private get log() {
    return this.server.log;
  }

  /** A new connection: nothing read yet. */
  restart(): void {
    this.replies = new ReplyParser();
  }

  /** The attempt is abandoned: no more replies expected. */
  cancel(): void {
    this.expectedReplies = [];
    this.dualPsync = false;
  }

  /** Bytes from the master during the handshake. */
  receive(chunk: Buffer): void {
    this.replies.feed(chunk);
    this.advance();
  }

  private advance(): void {
    while (this.link.state !== ReplState.Transfer && this.link.state !== ReplState.Connected && this.link.state !== ReplState.Connect) {
      const line = this.replies.nextLine();
      if (line === undefined) return;
      if (!this.onLine(line)) return;
    }
  }

  /** Handles one reply line of the handshake. Returns false to stop reading lines. */
  private onLine(line: string): boolean {
    switch (this.link.state) {
      case ReplState.ReceivePong: {
        if (line === "") return true;
        if (line.startsWith("-") && !line.startsWith("-NOAUTH") && !line.startsWith("-NOPERM") && !line.startsWith("-ERR operation not permitted")) {
          this.log.warning(`Error reply to PING from master: '${line}'`);
          this.link.failHandshake();
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
            this.link.failHandshake();
            return false;
          }
          const what = which === ReplState.ReceivePort ? "listening-port" : which === ReplState.ReceiveIp ? "ip-address" : "capa";
          this.log.notice(`(Non critical) Master does not understand REPLCONF ${what}: ${line}`);
        }
        if (this.expectedReplies.length) this.link.state = this.expectedReplies[0]!;
        else this.sendPsync();
        return true;
      }
      case ReplState.ReceivePsync:
        return this.dualPsync ? this.onDualPsyncReply(line) : this.onPsyncReply(line);
      case ReplState.ReceiveRdbClientId: {
        if (line === "") return true;
        if (line.startsWith("-")) {
          this.log.warning(`Master does not understand REPLCONF identify: ${line}`);
          this.link.failHandshake();
          return false;
        }
        const endOff = this.link.dualEndOff!;
        const offset = String(endOff.offset + 1);
        this.log.notice(`Trying a partial resynchronization using main channel (request ${endOff.replid}:${offset}).`);
        this.link.send(["PSYNC", endOff.replid, offset]);
        this.dualPsync = true;
        this.link.state = ReplState.ReceivePsync;
        return true;
      }
      default:
        return false;
    }
  }

  /**
   * Dual channel: the RDB channel received $ENDOFF (the snapshot's end and its client id):
   * the main connection names that channel, then PSYNCs from the snapshot's offset.
   */
  sendRdbClientId(clientId: string): void {
    this.link.send(["REPLCONF", "set-rdb-client-id", clientId]);
    this.link.state = ReplState.ReceiveRdbClientId;
  }

  /** The main channel's PSYNC reply: +CONTINUE starts buffering the stream; anything else aborts. */
  private onDualPsyncReply(line: string): boolean {
    if (line === "") return true;
    this.dualPsync = false;
    if (line.startsWith("+CONTINUE")) {
      this.log.notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization, RDB load in background.");
      this.link.onDualContinue();
      return false;
    }
    // +DUALCHANNELSYNC again: the master's backlog no longer holds the snapshot's offset.
    this.log.warning(`Aborting dual channel sync. Main channel psync result: ${line.slice(0, 128)}`);
    this.link.failHandshake();
    return false;
  }

  /** Redis 7 pipelines AUTH and the REPLCONFs after PONG, then reads their replies in order. */
  private sendHandshakeCommands(): void {
    const cfg = this.server.config;
    const expected: ReplState[] = [];
    const auth = masterAuthCommand(this.server);
    if (auth) {
      this.link.send(auth);
      expected.push(ReplState.ReceiveAuth);
    }
    this.link.send(["REPLCONF", "listening-port", String(announcedListeningPort(this.server))]);
    expected.push(ReplState.ReceivePort);
    const ip = cfg.str("replica-announce-ip");
    if (ip) {
      this.link.send(["REPLCONF", "ip-address", ip]);
      expected.push(ReplState.ReceiveIp);
    }
    // Valkey 8 masters with dual-channel-replication-enabled answer a full sync's PSYNC with
    // +DUALCHANNELSYNC when we offer it; other masters ignore the capa.
    this.link.send(cfg.bool("dual-channel-replication-enabled") ? ["REPLCONF", "capa", "eof", "capa", "psync2", "capa", "dual-channel"] : ["REPLCONF", "capa", "eof", "capa", "psync2"]);
    expected.push(ReplState.ReceiveCapa);
    this.expectedReplies = expected;
    this.link.state = expected[0]!;
  }

  private sendPsync(): void {
    this.prePsync = false;
    this.dualPsync = false;
    if (this.link.cached) {
      const offset = String(this.link.cached.offset + 1);
      this.log.notice(`Trying a partial resynchronization (request ${this.link.cached.replid}:${offset}).`);
      // A master handing over (FAILOVER) asks the target to take over with the same PSYNC.
      this.link.send(this.repl.failover.inProgress ? ["PSYNC", this.link.cached.replid, offset, "FAILOVER"] : ["PSYNC", this.link.cached.replid, offset]);
    } else {
      this.log.notice("Partial resynchronization not possible (no cached master)");
      this.link.send(this.repl.failover.inProgress ? ["PSYNC", "?", "-1", "FAILOVER"] : ["PSYNC", "?", "-1"]);
    }
    this.link.state = ReplState.ReceivePsync;
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
      if (this.link.cached) this.log.notice("Discarding previously cached master state.");
      this.link.cached = null;
      this.repl.failover.onPsyncReply(true);
      this.link.beginTransfer();
      return false;
    }
    if (line.startsWith("+DUALCHANNELSYNC")) {
      this.log.notice("PSYNC is not possible, initialize RDB channel.");
      if (this.link.cached) this.log.notice("Discarding previously cached master state.");
      this.link.cached = null;
      this.link.beginDualChannel();
      return false;
    }
    if (line.startsWith("+CONTINUE")) {
      this.log.notice("Successful partial resynchronization with master.");
      this.server.notifySupervisor("STATUS=MASTER <-> REPLICA sync: Partial Resynchronization accepted. Ready to accept connections in read-write mode.\n");
      const newId = line.slice(10).trim();
      const cached = this.link.cached!;
      if (newId.length === 40 && newId !== cached.replid) {
        this.log.warning(`Master replication ID changed to ${newId}`);
        this.repl.replid2 = cached.replid;
        this.repl.secondReplidOffset = this.repl.masterReplOffset + 1;
        this.repl.replid = newId;
        cached.replid = newId;
        this.repl.disconnectReplicas();
      }
      this.log.notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
      this.link.resurrectCachedMaster();
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
      this.link.failHandshake();
      return false;
    }
    if (!line.startsWith("-ERR")) this.log.warning(`Unexpected reply to PSYNC from master: ${line}`);
    else this.log.notice(`Master does not support PSYNC or is in error state (reply: ${line})`);
    // Fall back to SYNC: the payload follows directly, and there is no replid / offset.
    this.link.cached = null;
    this.prePsync = true;
    this.masterReplid = "";
    this.masterInitialOffset = -1;
    this.log.notice("Retrying with SYNC...");
    this.link.connection?.write(Buffer.from("SYNC\r\n"));
    this.link.beginTransfer();
    return false;
  }
}
