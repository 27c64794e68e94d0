// Busy scripts (Redis 7.0's timed-out scripts: script.c scriptInterrupt, processEventsWhileBlocked).
//
// A script or function that runs longer than busy-reply-threshold yields: the engine unwinds it
// (src/scripting/sites.ts) and it continues in slices of a few milliseconds, each a turn of the
// event loop, until it ends. Between slices the server serves other connections as Redis does
// from inside the script's hook:
//
// - commands without the allow-busy flag get -BUSY (the dispatcher's check); SCRIPT KILL,
//   FUNCTION KILL, FUNCTION STATS, SHUTDOWN NOSAVE, MULTI/DISCARD/WATCH/UNWATCH, AUTH/HELLO,
//   QUIT/RESET and REPLCONF run;
// - nothing else touches the dataset: the master's stream waits (it is still read), the cron
//   (active expiry, saves, replication timers), blocked clients' timeouts and the end of a full
//   sync wait for the script (whenNotBusy), clients blocked on keys the script changed are
//   served only when it ends;
// - the command that ran the script finishes when the script does: its reply, call()'s
//   statistics and propagation, the rest of an EXEC, the dispatcher's pass over blocked clients
//   and the client's pipelined commands are tails registered as the stack unwound (then()),
//   run in that order.

import type { Client } from "../client.ts";
import type { Server } from "../server.ts";
import type { RedisLua, RunOutcome } from "../../scripting/engine.ts";
import { afterErrorReply } from "../dispatch.ts";
import type { ScriptRunner } from "./run.ts";
import { fail } from "../errors.ts";

const BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/**
 * scriptKill: SCRIPT KILL (`isEval`) or FUNCTION KILL of the busy script. It stops where it
 * is, unless it wrote already or came from our master; the other command kills the other kind.
 */
export function killBusyScript(c: Client, isEval: boolean): void {
  const busy = c.server.scripting.busy;
  if (busy === null) fail("NOTBUSY No scripts in execution right now.");
  if (busy.caller.isMaster) fail("UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.");
  if (busy.runner.dirty) {
    fail(
      "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
    );
  }
  if (isEval !== busy.isEval) fail(busy.busyError);
  busy.kill();
  c.reply.ok();
}

export class BusyScript {
  /** SCRIPT KILL / FUNCTION KILL asked (the next slice raises the kill error). */
  private killed = false;
  private readonly tails: Array<() => void> = [];

  constructor(
    private readonly server: Server,
    private readonly engine: RedisLua,
    readonly runner: ScriptRunner,
    /** The client whose command runs the script (Redis's original_client, protected meanwhile). */
    readonly caller: Client,
    /** The command, as FUNCTION STATS shows it. */
    readonly argv: string[],
  ) {}

  /** EVAL/EVALSHA (SCRIPT KILL) or FCALL (FUNCTION KILL). */
  get isEval(): boolean {
    return this.runner.evalMode;
  }

  /** The -BUSY error for commands refused meanwhile. */
  get busyError(): string {
    return this.isEval ? BUSY_EVAL : BUSY_FUNCTION;
  }

  /** Adds what remains of the caller's command once the script ends (innermost first). */
  then(tail: () => void): void {
    this.tails.push(tail);
  }

  kill(): void {
    this.killed = true;
  }

  /** Runs the next slice on the next turn of the event loop (after the I/O waiting there). */
  schedule(): void {
    setImmediate(() => this.slice());
  }

  private slice(): void {
    const server = this.server;
    // SHUTDOWN NOSAVE: the server is exiting, the script never ends.
    if (server.exiting) return;
    if (this.killed) this.engine.kill();
    const prevClient = server.currentClient;
    server.currentClient = this.caller;
    this.runner.beginSlice();
    let outcome: RunOutcome;
    try {
      outcome = this.engine.resume();
    } catch (e) {
      // A bug of ours (the engine has ended the run): the command fails as call() fails it.
      server.stats.unexpectedErrorReplies++;
      server.log.warning(`Internal error executing '${this.argv[0]}': ${(e as Error)?.stack ?? e}`);
      const error = `ERR internal error executing '${this.argv[0]!.toLowerCase()}'`;
      this.caller.reply.error(error);
      afterErrorReply(this.caller, error);
      outcome = "done";
    }
    server.currentClient = prevClient;
    if (outcome === "suspended") {
      this.schedule();
      return;
    }
    this.finish();
  }

  /** The script ended (its reply is written): the caller's command finishes, the rest resumes. */
  private finish(): void {
    const server = this.server;
    const scripting = server.scripting;
    const caller = this.caller;
    scripting.busy = null;
    scripting.running = null;
    caller.pendingScript = null;
    // evalGeneric / fcallGeneric's end: the script's effects went out command by command.
    caller.preventPropagation = true;
    const tails = this.tails;
    for (let i = 0; i < tails.length; i++) {
      tails[i]!();
      // The rest of the command ran another script that yielded in turn: what remains now
      // comes after that one.
      const next = caller.pendingScript as BusyScript | null;
      if (next !== null) {
        for (let j = i + 1; j < tails.length; j++) next.then(tails[j]!);
        return;
      }
    }
    if (server.blocking.readyCount !== 0 && scripting.busy === null) server.blocking.handleReadyKeys();
    scripting.runWhenNotBusy();
  }
}
