// One run of a script or function (Redis's scriptRunCtx, script.c): the checks before it starts
// (scriptPrepareForRun), the checks before each command it calls (scriptCall), the fake client
// those commands run on, and when it yields (past busy-reply-threshold: scripting-busy.ts).
//
// Commands called by a script run through the normal call() on a client of their own, in the
// database the caller had selected; their replies are read back from that client. Their
// effects propagate as they run: the script command itself is not propagated, and everything
// it executed goes out together (wrapped in MULTI/EXEC when there is more than one command),
// which is Redis 7.0's effects replication.

import { lookupAclCommand } from "../acl/lookup.ts";
import { NOREPLICAS, OOM } from "../errors.ts";
import { CommandFlag, type CommandSpec } from "../command-spec.ts";
import { Client, ClientKind } from "../client.ts";
import { afterErrorReply, call, commandStats, countErrorReply, resolveCommand } from "../dispatch.ts";
import type { Server } from "../server.ts";
import { ReplyWriter } from "../../protocol/reply-writer.ts";
import {
  LL_DEBUG,
  LL_NOTICE,
  LL_VERBOSE,
  PROPAGATE_REPL,
  type RedisLua,
  type RunOutcome,
  SCRIPT_FLAG_ALLOW_OOM,
  SCRIPT_FLAG_ALLOW_STALE,
  SCRIPT_FLAG_EVAL_COMPAT_MODE,
  SCRIPT_FLAG_NO_WRITES,
  type ScriptRun,
} from "../../scripting/engine.ts";
import type { LuaFunction } from "../../scripting/value.ts";
import { checkCommand, Denied } from "../acl/check.ts";
import { LogContext } from "../acl/log.ts";

/**
 * Once past busy-reply-threshold, a script runs this long between two turns of the event loop
 * (Redis processes events at every hook call, every 100,000 Lua instructions).
 */
const SLICE_MS = 2;

/**
 * A client for the commands scripts call. Propagation can be switched off for a whole run
 * (redis.set_repl): call() resets preventPropagation before each command, so the switch is
 * kept in a field of our own that the property reads.
 */
export class ScriptClient extends Client {
  suppressPropagation = false;

  constructor(server: Server, kind: ClientKind) {
    super(server, null, kind);
    this.reply = new ReplyWriter();
    this.denyBlocking = true;
    let prevent = false;
    Object.defineProperty(this, "preventPropagation", {
      get: () => prevent || this.suppressPropagation,
      set: (v: boolean) => {
        prevent = v;
      },
      configurable: true,
    });
  }
}

/**
 * Runs a script or function for `c`'s command `argv` and writes its reply; when it yields (past
 * busy-reply-threshold) it becomes the busy script and the reply comes when it ends.
 */
export function runScript(c: Client, engine: RedisLua, runner: ScriptRunner, argv: string[], fn: LuaFunction, keys: string[], args: string[]): void {
  const state = c.server.scripting;
  state.running = runner;
  let outcome: RunOutcome = "done";
  try {
    // Writes the reply, an error one too (counted by the runner as Redis counts it).
    outcome = engine.execute(fn, keys, args, runner, c.reply);
  } finally {
    if (outcome === "done") {
      state.running = null;
      // The script's effects were propagated command by command: not the script itself.
      c.preventPropagation = true;
    }
  }
  if (outcome === "suspended") state.startBusy(engine, runner, c, argv);
}

/** scriptPrepareForRun's refusals: the error reply text, or null to go ahead. */
export function prepareError(server: Server, caller: Client, scriptFlags: number, ro: boolean): string | null {
  const repl = server.replication;
  const isReplica = repl.masterHost !== null;
  const runningStale = isReplica && !repl.isLinkUp() && !server.config.bool("replica-serve-stale-data");
  const obey = caller.isMaster;
  if (scriptFlags & SCRIPT_FLAG_EVAL_COMPAT_MODE) {
    if (runningStale) return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    return null;
  }
  if (runningStale && !(scriptFlags & SCRIPT_FLAG_ALLOW_STALE)) {
    return "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.";
  }
  if (!(scriptFlags & SCRIPT_FLAG_NO_WRITES)) {
    if (isReplica && server.config.bool("replica-read-only") && !obey) return "READONLY Can not run script with write flag on readonly replica";
    if (ro) return "ERR Can not execute a script with write flag using *_ro command.";
    if (!isReplica && notEnoughReplicas(server)) return NOREPLICAS;
  }
  // Over maxmemory when the command started: only scripts that may not write, or say allow-oom.
  if (server.preCommandOomState && server.config.num("maxmemory") !== 0 && !(scriptFlags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) {
    return "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'";
  }
  return null;
}

/** getAclErrorMessage: a script's view of a denial. */
function aclErrorMessage(reason: Denied): string {
  if (reason === Denied.Command) return "can't run this command or subcommand";
  if (reason === Denied.Key) return "can't access at least one of the keys mentioned in the command arguments";
  return "can't publish to the channel mentioned in the command";
}

function notEnoughReplicas(server: Server): boolean {
  const min = server.config.num("min-replicas-to-write");
  return min > 0 && server.config.num("min-replicas-max-lag") > 0 && server.replication.goodReplicasCount() < min;
}

export class ScriptRunner implements ScriptRun {
  resp: 2 | 3 = 2;
  replFlags = 3;
  /** SCRIPT_WRITE_DIRTY: a write command ran (after which server-state checks no longer apply). */
  dirty = false;
  private readonly readOnly: boolean;
  /** SCRIPT_ALLOW_OOM: the script's allow-oom flag (not in EVAL's compatibility mode). */
  private readonly allowOom: boolean;
  private readonly started = performance.now();
  /** Redis sets the script's hook only when busy-reply-threshold is not 0 when it starts. */
  private readonly hooked: boolean;
  /** SCRIPT_TIMEDOUT: past busy-reply-threshold, the script yields between slices. */
  timedOut = false;
  private sliceStarted = 0;
  /** An error was counted in the reply to the caller: the script command failed (once). */
  private errorCounted = false;

  constructor(
    private readonly server: Server,
    private readonly client: ScriptClient,
    private readonly caller: Client,
    readonly name: string,
    scriptFlags: number,
    ro: boolean,
    /** SCRIPT_EVAL_MODE: EVAL/EVALSHA (SCRIPT KILL), not FCALL (FUNCTION KILL). */
    readonly evalMode: boolean,
  ) {
    this.readOnly = ro || (!(scriptFlags & SCRIPT_FLAG_EVAL_COMPAT_MODE) && (scriptFlags & SCRIPT_FLAG_NO_WRITES) !== 0);
    this.allowOom = !(scriptFlags & SCRIPT_FLAG_EVAL_COMPAT_MODE) && (scriptFlags & SCRIPT_FLAG_ALLOW_OOM) !== 0;
    this.hooked = server.config.num("busy-reply-threshold") > 0;
    client.db = caller.db;
    client.reply.reset();
    client.reply.resp = 2;
    client.suppressPropagation = false;
    client.authenticated = true;
    client.user = caller.user;
    client.scriptCaller = caller;
  }

  /** Milliseconds since the script started (FUNCTION STATS duration_ms). */
  get durationMs(): number {
    return Math.floor(performance.now() - this.started);
  }

  /** A slice of a busy script begins. */
  beginSlice(): void {
    this.sliceStarted = performance.now();
  }

  execute(argv: string[]): Buffer | string {
    const c = this.client;
    const server = this.server;
    c.reply.reset();
    const spec = resolveCommand(c, argv);
    if (spec && spec.subcommands && argv.length < 2) return this.refuse(spec, "Wrong number of args calling Redis command from script");
    if (!spec || !spec.handler) return this.refuse(undefined, "Unknown Redis command called from script");
    const arity = spec.arity;
    if ((arity > 0 && arity !== argv.length) || argv.length < -arity) return this.refuse(spec, "Wrong number of args calling Redis command from script");
    const flags = spec.dynamicFlags ? spec.dynamicFlags(c, argv) : spec.flags;
    if (flags & CommandFlag.NoScript && !server.scriptDisableDenyScript) return this.refuse(spec, "This Redis command is not allowed from script");
    const repl = server.replication;
    const isReplica = repl.masterHost !== null;
    if (isReplica && !repl.isLinkUp() && !server.config.bool("replica-serve-stale-data") && !(flags & CommandFlag.Stale)) {
      return this.refuse(spec, "Can not execute the command on a stale replica");
    }
    // The caller's ACLs apply to what its script calls (scriptVerifyACL).
    const denied = server.acl.check(c, spec.acl, argv);
    if (denied !== null) {
      server.acl.logCheckDenial(c, denied, LogContext.Lua, spec.acl, argv);
      return this.refuse(spec, `The user executing the script ${aclErrorMessage(denied.reason)}`);
    }
    if (this.readOnly && flags & (CommandFlag.Write | CommandFlag.MayReplicate)) return this.refuse(spec, "Write commands are not allowed from read-only scripts.");
    if (flags & CommandFlag.Write && !this.dirty) {
      if (isReplica && server.config.bool("replica-read-only") && !this.caller.isMaster) return this.refuse(spec, "-READONLY You can't write against a read only replica.");
      if (!isReplica && notEnoughReplicas(server)) return this.refuse(spec, `-${NOREPLICAS}`);
    }
    // scriptVerifyOOM: over maxmemory when the script started, its first write may not grow memory.
    if (!this.allowOom && !this.dirty && flags & CommandFlag.DenyOom && server.preCommandOomState && server.config.num("maxmemory") !== 0 && !this.caller.isMaster) {
      return this.refuse(spec, `-${OOM}`);
    }
    if (flags & CommandFlag.Write) this.dirty = true;
    c.reply.resp = this.resp;
    c.suppressPropagation = (this.replFlags & PROPAGATE_REPL) === 0;
    call(c, spec, argv);
    return c.reply.view();
  }

  /**
   * scriptCall's refusal of a command: an error reply of the script's client (errorstat; the
   * code is the text's own after a '-', else ERR) and a rejected call of the command. The text
   * is returned for the script (which counts it no more).
   */
  private refuse(spec: CommandSpec | undefined, error: string): string {
    countErrorReply(this.server, error.startsWith("-") ? error.slice(1) : `ERR ${error}`);
    if (spec) commandStats(this.client, spec.name).rejected++;
    return error;
  }

  errorReplied(text: string, ignoreStats: boolean): void {
    const caller = this.caller;
    afterErrorReply(caller, text, !ignoreStats);
    // call()'s incrCommandStatsOnError: an error counted since the last command the script
    // called ended (these replies come after it) makes the script command a failed call, once.
    if (!ignoreStats && !this.errorCounted) {
      this.errorCounted = true;
      commandStats(caller, caller.lastCommand).failed++;
    }
  }

  aclCheck(argv: string[]): boolean | null {
    const cmd = lookupAclCommand(this.caller, argv);
    if (cmd === undefined) return null;
    const user = this.caller.user;
    return user === null || checkCommand(user, cmd, argv) === null;
  }

  log(level: number, message: string): void {
    const log = this.server.log;
    if (level === LL_DEBUG) log.debug(message);
    else if (level === LL_VERBOSE) log.verbose(message);
    else if (level === LL_NOTICE) log.notice(message);
    else log.warning(message);
  }

  /**
   * scriptInterrupt: false to go on; true to yield to the event loop. Past busy-reply-threshold
   * the script becomes the busy script ("Slow script detected" logged once), and then yields
   * every SLICE_MS.
   */
  tick(): boolean {
    if (!this.hooked) return false;
    const now = performance.now();
    if (this.timedOut) return now - this.sliceStarted >= SLICE_MS;
    const elapsed = now - this.started;
    if (elapsed < this.server.config.num("busy-reply-threshold")) return false;
    this.server.log.warning(
      `Slow script detected: still in execution after ${Math.floor(elapsed)} milliseconds. You can try killing the script using the ${this.evalMode ? "SCRIPT KILL" : "FUNCTION KILL"} command. Script name is: ${this.name}.`,
    );
    this.timedOut = true;
    return true;
  }
}
