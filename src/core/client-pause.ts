// Pausing clients (networking.c pauseClients / unpauseClients, Redis 7.0): CLIENT PAUSE, and the
// write pauses of FAILOVER and SHUTDOWN. Each purpose holds its own pause (a type and an end
// time); the server is paused by the most restrictive of them, until the furthest end among
// those of that type.
//
// - WRITE: commands that may replicate wait (write commands, EVAL/EVALSHA/FCALL unless their
//   script declared no-writes, PUBLISH, SPUBLISH, PFCOUNT: CommandFlag.MayReplicate, set by
//   core/command-table.ts), as Redis's is_may_replicate_command.
// - ALL: every command of a normal client waits.
//
// A paused command is postponed (Redis's BLOCKED_POSTPONE): the client stops reading there and
// the command runs from the start when the pause ends or becomes less restrictive, clients in
// the order they were paused. Our master's link and our replicas are never paused. While any
// pause lasts, keys are not expired (lazily or actively): the dataset stays still.

import { CommandFlag, type CommandSpec } from "./command-spec.ts";
import { ClientKind, type Client } from "./client.ts";
import { processCommand } from "./dispatch.ts";
import { activeExpireCycle } from "./expire.ts";
import type { Server } from "./server.ts";

export const enum PauseType {
  Off = 0,
  Write = 1,
  All = 2,
}

export const enum PausePurpose {
  /** CLIENT PAUSE / CLIENT UNPAUSE. */
  ClientCommand = 0,
  /** FAILOVER and SHUTDOWN waiting for replicas (ReplicaServing.pauseWrites). */
  Replication = 1,
}

interface PauseEvent {
  type: PauseType;
  /** Unix ms; the pause is over once the time is past it. */
  end: number;
}

export class ClientPause {
  private readonly events: Array<PauseEvent | null> = [null, null];
  /** The pause in force: the most restrictive type, and when it ends. */
  private type = PauseType.Off;
  private end = 0;
  private postponed: Array<{ client: Client; argv: string[] }> = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly server: Server) {}

  /**
   * pauseClients: a pause for `purpose` until `end` (Unix ms; Infinity for no end). A pause
   * already held by that purpose is extended and made more restrictive, never reduced.
   */
  pause(purpose: PausePurpose, end: number, type: PauseType): void {
    const p = this.events[purpose];
    if (p) {
      p.type = Math.max(p.type, type);
      p.end = Math.max(p.end, end);
    } else {
      this.events[purpose] = { type, end };
    }
    this.update();
  }

  /** unpauseClients: drops the purpose's pause; clients resume if nothing else holds them. */
  unpause(purpose: PausePurpose): void {
    if (!this.events[purpose]) return;
    this.events[purpose] = null;
    this.update();
  }

  /** Whether `purpose` holds a pause that has not ended. */
  holds(purpose: PausePurpose): boolean {
    this.checkTimeout();
    return this.events[purpose] !== null;
  }

  /** checkClientPauseTimeoutAndReturnIfPaused: whether clients are paused now. */
  get active(): boolean {
    if (this.type === PauseType.Off) return false;
    this.checkTimeout();
    return (this.type as PauseType) !== PauseType.Off;
  }

  /** "write" / "all" / "" (nothing paused), for introspection. */
  get typeName(): string {
    return this.active ? (this.type === PauseType.All ? "all" : "write") : "";
  }

  private checkTimeout(): void {
    if (this.type !== PauseType.Off && this.end < Date.now()) this.update();
  }

  /**
   * While paused, postpones the command if the pause covers it (processCommand's check, after
   * the others and before MULTI queueing). `flags` are the command's flags for these arguments
   * (a script's declared flags for EVAL/FCALL). Returns true when postponed.
   */
  postponeIfPaused(c: Client, spec: CommandSpec, flags: number, argv: string[]): boolean {
    if (!this.active || c.kind !== ClientKind.Normal || c.monitor) return false;
    if (this.type !== PauseType.All) {
      const f = CommandFlag.Write | CommandFlag.MayReplicate;
      const mayReplicate = (flags & f) !== 0 || (spec.name === "exec" && c.multi !== null && (c.multi.flags & f) !== 0);
      if (!mayReplicate) return false;
    }
    c.blocked = true;
    this.postponed.push({ client: c, argv });
    return true;
  }

  /** How many clients wait for the pause to end. */
  get postponedCount(): number {
    return this.postponed.length;
  }

  /** updateClientPauseTypeAndEndTime. */
  private update(): void {
    const old = this.type;
    const now = Date.now();
    let type = PauseType.Off;
    for (let i = 0; i < this.events.length; i++) {
      const p = this.events[i];
      if (!p) continue;
      if (p.end < now) this.events[i] = null;
      else if (p.type > type) type = p.type;
    }
    let end = 0;
    for (const p of this.events) if (p && p.type === type && p.end > end) end = p.end;
    this.type = type;
    this.end = end;
    this.armTimer();
    if (type < old) this.resumePostponed();
  }

  /** The pause ends on its own at its end time (Redis notices it in its cron). */
  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.type === PauseType.Off || !Number.isFinite(this.end)) return;
    const delay = Math.max(0, this.end - Date.now() + 1);
    // Beyond setTimeout's range: look again later.
    this.timer = setTimeout(() => this.update(), Math.min(delay, 2 ** 31 - 1));
    (this.timer as { unref?: () => void }).unref?.();
  }

  /**
   * unblockPostponedClients: every postponed command runs again on the next turn (not from
   * inside the command or timer that ended the pause), in the order they were paused; those
   * the pause still covers are postponed again.
   */
  private resumePostponed(): void {
    const list = this.postponed;
    this.postponed = [];
    setImmediate(() => {
      // Keys whose time passed during the pause go first, as Redis's fast expire cycle runs
      // before the postponed commands do.
      if (!this.active) activeExpireCycle(this.server);
      this.rerun(list, 0);
    });
  }

  /** Runs the postponed commands from `from` on; a busy script makes the rest wait for it. */
  private rerun(list: Array<{ client: Client; argv: string[] }>, from: number): void {
    const scripting = this.server.scripting;
    for (let i = from; i < list.length; i++) {
      const { client, argv } = list[i]!;
      if (client.conn?.closed) continue;
      if (scripting.busy !== null) {
        scripting.whenNotBusy(() => this.rerun(list, i));
        return;
      }
      client.blocked = false;
      processCommand(client, argv);
      const script = client.pendingScript;
      if (script !== null) {
        // Its command ran a script that yielded: the client reads on when the script ends.
        client.flush();
        script.then(() => client.resumeInput());
      } else if (client.blocked) client.flush();
      else client.resumeInput();
    }
  }

  /** A closed client no longer waits. */
  onClientClosed(c: Client): void {
    if (this.postponed.length === 0) return;
    this.postponed = this.postponed.filter((p) => p.client !== c);
  }
}
