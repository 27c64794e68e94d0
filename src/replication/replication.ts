// Replication state of this node, both roles: who our master is and how the link stands
// (replica side), our replication ids and offsets, and the hooks through which executed
// commands reach the replication stream (master side).
//
// Ids and offsets follow Redis's PSYNC2 model: `replid` names the history we hold and
// `masterReplOffset` is how many bytes of it we have; after a promotion the previous id is
// kept as `replid2`, valid up to `secondReplidOffset`, so replicas of the old master can
// continue with us.

import { randomBytes } from "node:crypto";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import type { Database } from "../store/database.ts";
import type { CommandSpec } from "../commands/types.ts";
import { ReplicaLink, ReplState } from "./replica-link.ts";
import { Backlog } from "./backlog.ts";

export const ZERO_REPLID = "0000000000000000000000000000000000000000";

export function newReplicationId(): string {
  return randomBytes(20).toString("hex");
}

export class Replication {
  /** The master we replicate from; null when we are a master. */
  masterHost: string | null = null;
  masterPort = 0;
  replid = newReplicationId();
  replid2 = ZERO_REPLID;
  masterReplOffset = 0;
  secondReplidOffset = -1;
  /** The replica-side link (state machine, transfer, stream apply). */
  readonly link: ReplicaLink;
  /** The last bytes of the replication stream, for partial resyncs (null until needed). */
  backlog: Backlog | null = null;
  /** Bytes of our master's stream received but not yet applied (forwarded once applied). */
  private unapplied: Buffer[] = [];
  private unappliedOffset = 0;

  constructor(readonly server: Server) {
    this.link = new ReplicaLink(server, this);
  }

  get state(): ReplState {
    return this.link.state;
  }

  isLinkUp(): boolean {
    return this.link.state === ReplState.Connected;
  }

  /** Shifts to a new history: the current id becomes replid2 (Redis's shiftReplicationId). */
  shiftReplicationId(): void {
    this.replid2 = this.replid;
    this.secondReplidOffset = this.masterReplOffset + 1;
    this.replid = newReplicationId();
  }

  clearReplicationId2(): void {
    this.replid2 = ZERO_REPLID;
    this.secondReplidOffset = -1;
  }

  /** Once a second from the server cron (`everySecond`), and 10 times a second otherwise. */
  cronTick(everySecond: boolean): void {
    if (everySecond) this.link.cron();
  }

  // ---- Role changes and the replica link's events (the master side hangs off these). ----

  onBecomingReplica(): void {
    this.disconnectReplicas();
  }

  onBecomingMaster(): void {
    this.disconnectReplicas();
  }

  /** A full sync replaced our history: the backlog restarts at the master's offset. */
  onFullSyncLoaded(): void {
    this.disconnectReplicas();
    this.unapplied = [];
    this.unappliedOffset = 0;
    // Replicas keep a backlog regardless of sub-replicas, to serve PSYNC after a promotion.
    this.backlog = new Backlog(this.server.config.num("repl-backlog-size"), this.masterReplOffset);
  }

  onPartialResync(): void {
    this.unapplied = [];
    this.unappliedOffset = 0;
    if (!this.backlog) this.backlog = new Backlog(this.server.config.num("repl-backlog-size"), this.masterReplOffset);
  }

  onMasterLinkDown(): void {
    this.unapplied = [];
    this.unappliedOffset = 0;
  }

  /** Raw bytes of our master's stream, as received (forwarded once applied). */
  onStreamBytesReceived(chunk: Buffer): void {
    this.unapplied.push(chunk);
  }

  /** `bytes` more of our master's stream were applied: they enter our backlog byte for byte. */
  onStreamApplied(bytes: number): void {
    let left = bytes;
    while (left > 0 && this.unapplied.length) {
      const head = this.unapplied[0]!;
      const avail = head.length - this.unappliedOffset;
      const take = Math.min(avail, left);
      const part = head.subarray(this.unappliedOffset, this.unappliedOffset + take);
      this.feedStream(part);
      left -= take;
      if (take === avail) {
        this.unapplied.shift();
        this.unappliedOffset = 0;
      } else this.unappliedOffset += take;
    }
  }

  /** Stream bytes we hold from now on: into the backlog and to our sub-replicas. */
  private feedStream(bytes: Buffer): void {
    this.backlog?.append(bytes);
  }

  /** INFO replication's slaveN lines (the master side fills this in). */
  replicaInfoLines(): string[] {
    return [];
  }

  /** Replicas with lag <= min-replicas-max-lag. */
  goodReplicasCount(): number {
    return 0;
  }

  /** ROLE's replica list: [ip, port, acked offset] per online replica. */
  replicaRoleEntries(): Array<[string, number, number]> {
    return [];
  }

  /** CLIENT KILL TYPE master: drop the link to our master (it reconnects with PSYNC). */
  killMasterLink(): void {
    this.link.dropLinkForReconnect();
  }

  /** REPLCONF ACK <offset> from one of our replicas. */
  onReplicaAck(_c: Client, _args: string[]): void {}

  /** REPLCONF <option> <value> from a replica in its handshake. False if unknown. */
  onReplconf(_c: Client, option: string, _value: string): boolean {
    return ["listening-port", "ip-address", "capa", "rdb-only", "rdb-filter-only"].includes(option);
  }

  /** WAIT numreplicas timeout (as a master). */
  wait(c: Client, _numReplicas: number, _timeoutMs: number): void {
    c.reply.int(0);
  }

  failoverState(): string {
    return "no-failover";
  }

  /** A client connection closed (sub-replicas are forgotten here). */
  onClientClosed(_c: Client): void {}

  /**
   * Start-up with a dataset file that says which history it holds (AUX repl-id / repl-offset /
   * repl-stream-db): as a replica we ask our master to continue from there (partial resync).
   */
  restoreFromRdbAux(aux: Map<string, string>): void {
    const id = aux.get("repl-id");
    const offset = Number(aux.get("repl-offset"));
    const db = Number(aux.get("repl-stream-db") ?? "0");
    if (!this.server.config.replicaOf || id?.length !== 40 || !Number.isSafeInteger(offset) || offset < 0) return;
    this.replid = id;
    this.masterReplOffset = offset;
    this.link.cached = { replid: id, offset, db: Number.isInteger(db) && db >= 0 ? db : 0 };
  }

  /** Closes the links of our sub-replicas (they reconnect and PSYNC). */
  disconnectReplicas(): void {}

  // ---- Master-side hooks (the command stream this node originates). ----
  // A replica never originates commands: it forwards its master's bytes (see ReplicaLink).
  // Serving sub-replicas and the backlog is the master side's job (issue 5); until it lands,
  // these are where a master would feed them.

  /** A key found expired on a master: propagate DEL as Redis's propagateDeletion does. */
  propagateExpiry(_db: Database, _key: string): void {}

  /** A command changed data (or asked to propagate extra commands). */
  propagateCommand(_c: Client, _spec: CommandSpec, _argv: string[]): void {}

  beginTransaction(_c: Client): void {}

  endTransaction(_c: Client): void {}
}
