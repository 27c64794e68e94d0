// FAILOVER [TO <host> <port> [FORCE]] [ABORT] [TIMEOUT <ms>] (Redis 6.2+): a coordinated
// switch of roles between this master and one of its replicas, without losing writes.
//
// 1. The command pauses writes (commands that may replicate wait, as Redis's CLIENT PAUSE
//    WRITE), so the offset stops moving: state waiting-for-sync.
// 2. Ten times a second we look for a replica that acknowledged our whole stream (the one named
//    by TO, or any). On TIMEOUT without one we give up, unless FORCE: then we go on anyway.
// 3. We become a replica of it (failover-in-progress) and ask PSYNC <our replid> <offset>
//    FAILOVER: the replica promotes itself and continues our history, so we resync partially.
// 4. Its answer ends the failover (+CONTINUE / +FULLRESYNC) or aborts it (an error: we are a
//    master again). Either way the paused writes are released (and meet -READONLY if we are
//    now a replica). FAILOVER ABORT does the same by hand.

import { CommandError } from "../core/errors.ts";
import type { Client } from "../core/client.ts";
import type { Server } from "../core/server.ts";
import type { Replication } from "./replication.ts";

type FailoverStateName = "no-failover" | "waiting-for-sync" | "failover-in-progress";

export class Failover {
  state: FailoverStateName = "no-failover";
  private endTime = 0;
  private force = false;
  private targetHost: string | null = null;
  private targetPort = 0;

  constructor(
    private readonly server: Server,
    private readonly repl: Replication,
  ) {}

  get active(): boolean {
    return this.state !== "no-failover";
  }

  /** We asked our new master to take over: PSYNC carries FAILOVER. */
  get inProgress(): boolean {
    return this.state === "failover-in-progress";
  }

  /** FAILOVER's arguments, checks and start (Redis's failoverCommand). */
  command(c: Client, argv: string[]): void {
    if (argv.length === 2 && argv[1]!.toLowerCase() === "abort") {
      if (!this.active) throw new CommandError("ERR No failover in progress.");
      this.abort("Failover manually aborted");
      c.reply.ok();
      return;
    }
    let timeoutMs = 0;
    let force = false;
    let port = 0;
    let host: string | null = null;
    for (let j = 1; j < argv.length; j++) {
      const opt = argv[j]!.toLowerCase();
      if (opt === "timeout" && j + 1 < argv.length && timeoutMs === 0) {
        timeoutMs = longArg(argv[j + 1]!);
        if (timeoutMs <= 0) throw new CommandError("ERR FAILOVER timeout must be greater than 0");
        j++;
      } else if (opt === "to" && j + 2 < argv.length && host === null) {
        port = longArg(argv[j + 2]!);
        host = argv[j + 1]!;
        j += 2;
      } else if (opt === "force" && !force) {
        force = true;
      } else {
        throw new CommandError("ERR syntax error");
      }
    }
    if (this.active) throw new CommandError("ERR FAILOVER already in progress.");
    if (this.repl.masterHost !== null) throw new CommandError("ERR FAILOVER is not valid when server is a replica.");
    if (this.repl.replicas.sessions.size === 0) throw new CommandError("ERR FAILOVER requires connected replicas.");
    if (force && (!timeoutMs || host === null)) throw new CommandError("ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
    if (host !== null) {
      const replica = this.repl.replicas.findReplica(host, port);
      if (!replica) throw new CommandError("ERR FAILOVER target HOST and PORT is not a replica.");
      if (!replica.online) throw new CommandError("ERR FAILOVER target replica is not online.");
      this.targetHost = host;
      this.targetPort = port;
      this.server.log.notice(`FAILOVER requested to ${host}:${port}.`);
    } else {
      this.server.log.notice("FAILOVER requested to any replica.");
    }
    this.endTime = timeoutMs ? Date.now() + timeoutMs : 0;
    this.force = force;
    this.state = "waiting-for-sync";
    this.repl.replicas.pauseWrites();
    c.reply.ok();
  }

  /** Ten times a second while a failover is under way (Redis's updateFailoverStatus). */
  tick(): void {
    if (this.state !== "waiting-for-sync") return;
    const now = Date.now();
    if (this.endTime && this.endTime <= now) {
      if (this.force) {
        this.server.log.notice(`FAILOVER to ${this.targetHost}:${this.targetPort} time out exceeded, failing over.`);
        this.begin();
      } else {
        this.abort("Replica never caught up before timeout");
      }
      return;
    }
    const replicas = this.repl.replicas;
    const offset = this.repl.masterReplOffset;
    if (this.targetHost !== null) {
      const r = replicas.findReplica(this.targetHost, this.targetPort);
      if (!r || r.ackOffset !== offset) return;
    } else {
      const r = replicas.caughtUpReplica(offset);
      if (!r) return;
      this.targetHost = r.host;
      this.targetPort = r.port;
    }
    this.server.log.notice(`Failover target ${this.targetHost}:${this.targetPort} is synced, failing over.`);
    this.begin();
  }

  /** Become a replica of the target; the handshake's PSYNC carries FAILOVER. */
  private begin(): void {
    this.state = "failover-in-progress";
    this.repl.link.setMaster(this.targetHost!, this.targetPort);
  }

  /** The target answered our PSYNC FAILOVER (from the replica link). */
  onPsyncReply(accepted: boolean): void {
    if (!this.inProgress) return;
    if (accepted) this.clear();
    else this.abort("Failover target rejected psync request");
  }

  abort(reason: string): void {
    if (!this.active) return;
    if (this.targetHost !== null) this.server.log.notice(`FAILOVER to ${this.targetHost}:${this.targetPort} aborted: ${reason}`);
    else this.server.log.notice(`FAILOVER to any replica aborted: ${reason}`);
    if (this.inProgress) {
      this.state = "no-failover"; // so REPLICAOF NO ONE's checks do not see a failover
      this.repl.link.unsetMaster();
    }
    this.clear();
  }

  private clear(): void {
    this.endTime = 0;
    this.force = false;
    this.targetHost = null;
    this.targetPort = 0;
    this.state = "no-failover";
    this.repl.replicas.unpauseWrites();
  }
}

function longArg(s: string): number {
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new CommandError("ERR value is not an integer or out of range");
  return Number(s);
}
