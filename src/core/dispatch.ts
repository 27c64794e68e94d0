// Central command dispatch, in Redis's order (server.c processCommand): existence, arity,
// authentication, MULTI restrictions, ACL permissions, READONLY, MASTERDOWN, LOADING, then
// queue (inside MULTI) or execute. Handlers never repeat these checks.

import { diskErrorDenyingWrites } from "./persistence-state.ts";
import { CommandError, EXECABORT, LOADING, MASTERDOWN, NOAUTH, NOREPLICAS, OOM, READONLY, wrongArity } from "./errors.ts";
import { EvictResult } from "./evict.ts";
import { evictClients } from "./client-eviction.ts";
import { CommandFlag, type CommandSpec } from "./command-spec.ts";
import { pubsubContextError } from "./pubsub.ts";
import { discardTransaction } from "./multi.ts";
import type { Client } from "./client.ts";
import { Denied, type Denial } from "./acl/check.ts";
import { LogContext } from "./acl/log.ts";
import type { Server } from "./server.ts";
import { CommandHistogram } from "./latency.ts";
import { feedMonitors } from "./monitor.ts";
import { ClientKind, ReplyMode } from "./client.ts";
import { rememberReplicaKeysWithExpire } from "./replica-expire.ts";

/** Commands that run immediately even inside MULTI. */
const MULTI_IMMEDIATE = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

function unknownCommandError(c: Client, argv: string[]): string {
  const name = argv[0]!;
  const container = c.server.commands.get(name);
  if (container?.subcommands && argv.length >= 2) {
    return `ERR unknown subcommand '${argv[1]!.slice(0, 128)}'. Try ${name.toUpperCase()} HELP.`;
  }
  let args = "";
  for (let i = 1; i < argv.length && args.length < 128; i++) args += `'${argv[i]!.slice(0, 128 - args.length)}' `;
  return `ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${args}`;
}

/** Resolves argv to a command spec, following into subcommands. */
export function resolveCommand(c: Client, argv: string[]): CommandSpec | undefined {
  // A client most often sends the same command again, and the parser then hands out the same
  // name string: compared by reference, no table lookup. (The table does not change once the
  // server runs: rename-command is a start-up directive.)
  const name = argv[0]!;
  let spec: CommandSpec | undefined;
  if (name === c.lookedUpName) spec = c.lookedUpSpec;
  else {
    spec = c.server.commands.get(name);
    c.lookedUpName = name;
    c.lookedUpSpec = spec;
  }
  if (!spec) return undefined;
  if (spec.subcommands && argv.length >= 2) {
    const sub = spec.subcommands.get(argv[1]!.toLowerCase());
    if (sub) return sub;
    return spec.handler ? spec : undefined;
  }
  return spec;
}

/** rejectCommand: the transaction is flagged; a rejected EXEC discards it (execCommandAbort). */
function reject(c: Client, error: string, spec: CommandSpec | undefined, argv?: string[]): void {
  if (c.multi) c.multi.aborted = true;
  if (spec) commandStats(c, spec.name).rejected++;
  if (spec?.name === "exec") {
    // execCommandAbort: an EXEC refused before it ran ends the transaction, and MONITOR, which
    // saw the MULTI, sees that it is over.
    discardTransaction(c);
    replyError(c, `EXECABORT Transaction discarded because of: ${error}`, spec);
    if (argv) feedMonitors(c, argv);
    return;
  }
  replyError(c, error, spec);
}

function replyError(c: Client, error: string, _spec?: CommandSpec): void {
  c.reply.error(error);
  afterErrorReply(c, error);
}

/**
 * The statistics of one error reply (networking.c afterErrorReply): total_error_replies and
 * errorstat_<CODE>, the code being the first word when a space comes within Redis's 32-byte
 * search of "-<error>", else ERR.
 */
export function countErrorReply(server: Server, error: string): void {
  server.stats.totalErrorReplies++;
  const space = error.indexOf(" ");
  const code = space >= 0 && space < 31 ? error.slice(0, space) : "ERR";
  server.stats.errors.set(code, (server.stats.errors.get(code) ?? 0) + 1);
}

/**
 * What follows an error reply sent to `c`. Without countStats (an error a script passes on
 * from redis.call, counted where it was made: ERR_REPLY_FLAG_NO_STATS_UPDATE) only the
 * command's failed call is counted.
 */
export function afterErrorReply(c: Client, error: string, countStats = true): void {
  const server = c.server;
  if (countStats) countErrorReply(server, error);
  else commandStats(c, c.lastCommand).failed++;
  if (c.isMaster) {
    // A command from our master that fails here means the copies are diverging: say so loudly.
    const cmd = c.lastCommand === "NULL" ? "<unknown>" : c.lastCommand;
    server.log.warning(`== CRITICAL == This replica is sending an error to its master: '${error}' after processing the command '${cmd}'`);
    // propagation-error-behavior panic / panic-on-replicas: a read-only replica stops rather
    // than diverge (Redis panics; we exit with an error code after saying why).
    if (server.config.str("propagation-error-behavior") !== "ignore" && server.config.bool("replica-read-only")) {
      server.log.warning(`Guru Meditation: This replica panicked sending an error to its master after processing the command '${cmd}'`);
      process.exit(1);
    }
  }
}

export function commandStats(c: Client, name: string) {
  let s = c.server.stats.commands.get(name);
  if (!s) {
    s = { calls: 0, usec: 0, rejected: 0, failed: 0, histogram: null };
    c.server.stats.commands.set(name, s);
  }
  return s;
}

/**
 * allowProtectedAction: enable-debug-command, enable-module-command and enable-protected-configs
 * are "yes", "no" (the default), or "local" (the loopback interface and the unix socket only).
 */
export function allowProtectedAction(c: Client, directive: string): boolean {
  const v = c.server.config.str(directive);
  return v === "yes" || (v === "local" && c.isLocal);
}

/** Commands Redis flags CMD_PROTECTED (MODULE LIST and HELP are not), with the directive that allows each. */
const PROTECTED_COMMANDS: Record<string, { name: string; directive: string }> = {
  debug: { name: "DEBUG", directive: "enable-debug-command" },
  "module|load": { name: "MODULE", directive: "enable-module-command" },
  "module|loadex": { name: "MODULE", directive: "enable-module-command" },
  "module|unload": { name: "MODULE", directive: "enable-module-command" },
};

/**
 * "POST" or "Host:" as a command: somebody is sending HTTP to us, likely a cross protocol
 * scripting attack through a browser. The connection is closed without a reply, and logged at
 * most once a minute (securityWarningCommand).
 */
function isHttpAttack(c: Client, argv: string[]): boolean {
  // Every command passes here: its name's length rules out all but a few without a new string.
  // (HGET, HSET, HDEL... are four letters from 'h': compared by char, no lowercased copy.)
  const first = argv[0]!;
  const n = first.length;
  if (n !== 4 && n !== 5) return false;
  const c0 = first.charCodeAt(0) | 0x20;
  if (n === 4 ? c0 !== 112 /* p */ : c0 !== 104 /* h */) return false;
  if ((first.charCodeAt(1) | 0x20) !== 111 /* o */ || (first.charCodeAt(2) | 0x20) !== 115 /* s */ || (first.charCodeAt(3) | 0x20) !== 116 /* t */) return false;
  if (n === 5 && first.charCodeAt(4) !== 58 /* : */) return false;
  const server = c.server;
  const now = Date.now();
  if (now - server.lastSecurityWarning > 60_000) {
    server.log.warning("Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.");
    server.lastSecurityWarning = now;
  }
  // freeClientAsync: the replies still buffered for this batch are dropped too.
  c.reply.truncate(0);
  c.closeAfterReply = true;
  return true;
}

/** Processes one command from a client: checks, MULTI queueing, execution. */
export function processCommand(c: Client, argv: string[]): void {
  if (c.replyMode === ReplyMode.On) {
    checkAndRun(c, argv);
    // CLIENT REPLY SKIP: the next command's reply is the one dropped.
    if ((c.replyMode as ReplyMode) === ReplyMode.SkipNext) c.replyMode = ReplyMode.Skip;
  } else runSilenced(c, argv);
  // CLIENT CACHING lasts for one command (or transaction): resetClient's part in tracking.
  if (c.tracking !== null && c.tracking.caching) c.server.tracking.afterCommandProcessed(c, resolveCommand(c, argv));
}

/**
 * A command of a client that asked for no reply (CLIENT REPLY OFF, or SKIP for this command):
 * what it wrote is dropped unless it turned replies back on (CLIENT REPLY ON's +OK is sent).
 * Then resetClient's part: a SKIP lasts one command, the SKIP just asked for starts now.
 * Pushes written meanwhile to this client are kept (Client.keepPush), as Redis still sends them.
 */
function runSilenced(c: Client, argv: string[]): void {
  c.silencedFrom = c.reply.length;
  checkAndRun(c, argv);
  const mode = c.replyMode;
  if (mode === ReplyMode.Off || mode === ReplyMode.Skip) {
    c.reply.truncate(c.silencedFrom);
    if (c.keyWait !== null) c.blockedReplySilenced = true;
  }
  c.silencedFrom = -1;
  if (mode === ReplyMode.Skip) c.replyMode = ReplyMode.On;
  else if (mode === ReplyMode.SkipNext) c.replyMode = ReplyMode.Skip;
}

function checkAndRun(c: Client, argv: string[]): void {
  const server = c.server;
  if (!c.isMaster && isHttpAttack(c, argv)) return;
  const spec = resolveCommand(c, argv);
  // A container command alone (CONFIG, ACL) exists: its arity check refuses it.
  if (!spec || (!spec.handler && argv.length !== 1)) {
    // Redis's c->lastcmd = lookupCommand(): none (CLIENT LIST's cmd=NULL).
    c.lastCommand = "NULL";
    reject(c, unknownCommandError(c, argv), undefined);
    return;
  }
  // As Redis's c->lastcmd: CLIENT LIST and the ACL log show the command even when refused.
  c.lastCommand = spec.name;
  const arity = spec.arity;
  if ((arity > 0 && arity !== argv.length) || argv.length < -arity) {
    reject(c, wrongArity(spec.name), spec, argv);
    return;
  }
  const guarded = PROTECTED_COMMANDS[spec.name];
  if (guarded !== undefined && !allowProtectedAction(c, guarded.directive)) {
    reject(c, `ERR ${guarded.name} command not allowed. If the ${guarded.directive} option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`, spec, argv);
    return;
  }
  const flags = spec.dynamicFlags ? spec.dynamicFlags(c, argv) : spec.flags;
  if (!c.authenticated && !(spec.flags & CommandFlag.NoAuth) && server.acl.authRequired(c)) {
    reject(c, NOAUTH, spec, argv);
    return;
  }
  if (c.multi && flags & CommandFlag.NoMulti) {
    reject(c, "ERR Command not allowed inside a transaction", spec, argv);
    return;
  }
  // ACLs: a user with every permission (the default user, our master's link) costs one test.
  const user = c.user;
  if (user !== null && !user.fullAccess) {
    const denied = server.acl.check(c, spec.acl, argv);
    if (denied !== null) {
      server.acl.logCheckDenial(c, denied, server.acl.context(c), spec.acl, argv);
      reject(c, noPermissionError(denied, spec.name), spec, argv);
      return;
    }
  }
  // maxmemory-clients: the largest clients go first (this one perhaps: then nothing runs).
  const hot = server.config.hot;
  if (hot.maxmemoryClients !== 0) {
    evictClients(server, true);
    if (c.conn !== null && c.conn.closed) return;
  }
  // maxmemory: evict first; when nothing more can go, commands that may grow memory are refused
  // (all but EXEC / DISCARD / QUIT / RESET inside MULTI, since queuing costs memory too). Not
  // while a busy script yields (its propagation must not mix with eviction's DELs).
  if (hot.maxmemory !== 0 && server.scripting.busy === null) {
    const outOfMemory = server.eviction.perform() === EvictResult.Fail;
    let denyOom = (flags & CommandFlag.DenyOom) !== 0 || (spec.name === "exec" && c.multi !== null && (c.multi.flags & CommandFlag.DenyOom) !== 0);
    if (c.multi !== null && !MULTI_OOM_EXEMPT.has(spec.name)) denyOom = true;
    if (outOfMemory && denyOom) {
      reject(c, OOM, spec, argv);
      return;
    }
    server.preCommandOomState = outOfMemory;
  }
  // Client-side caching keeps its table within tracking-table-max-keys before each command, even
  // one refused or queued next (Redis's trackingLimitUsedSlots in processCommand).
  if (server.tracking.clients !== 0) server.tracking.limitUsedSlots(c);
  const repl = server.replication;
  // After a failed BGSAVE (stop-writes-on-bgsave-error) or AOF write: -MISCONF for writes and PING.
  if ((server.persistence.lastBgsaveStatus === "err" || server.persistence.aofWriteError !== null) && !c.isMaster) {
    const misconf = diskErrorDenyingWrites(server);
    if (misconf !== null && (flags & CommandFlag.Write || spec.name === "ping" || (spec.name === "exec" && c.multi && c.multi.flags & CommandFlag.Write))) {
      reject(c, misconf, spec, argv);
      return;
    }
  }
  if (repl.masterHost === null && (flags & CommandFlag.Write || (spec.name === "exec" && c.multi && c.multi.flags & CommandFlag.Write))) {
    const minReplicas = server.config.num("min-replicas-to-write");
    if (minReplicas > 0 && server.config.num("min-replicas-max-lag") > 0 && repl.goodReplicasCount() < minReplicas) {
      reject(c, NOREPLICAS, spec, argv);
      return;
    }
  }
  if (repl.masterHost !== null && !c.isMaster) {
    const isWrite = (flags & CommandFlag.Write) !== 0 || (spec.name === "exec" && c.multi !== null && (c.multi.flags & CommandFlag.Write) !== 0);
    if (isWrite && server.config.bool("replica-read-only")) {
      reject(c, READONLY, spec, argv);
      return;
    }
  }
  const pubsubError = pubsubContextError(c, spec.name);
  if (pubsubError !== null) {
    reject(c, pubsubError, spec, argv);
    return;
  }
  if (repl.masterHost !== null && !c.isMaster) {
    if (!repl.isLinkUp() && !server.config.bool("replica-serve-stale-data")) {
      const denyStale = !(flags & CommandFlag.Stale) || (spec.name === "exec" && c.multi !== null && multiDeniesStale(c));
      if (denyStale) {
        reject(c, MASTERDOWN, spec, argv);
        return;
      }
    }
  }
  // The AOF's own commands run while it loads (dataset/aof-load.ts runs them as a master's).
  if (server.loading && !(flags & CommandFlag.Loading) && !c.isMaster) {
    reject(c, LOADING, spec, argv);
    return;
  }
  // A busy script (past busy-reply-threshold, yielding): only the allow-busy commands run.
  const busy = server.scripting.busy;
  if (busy !== null && !(spec.flags & CommandFlag.AllowBusy)) {
    reject(c, busy.busyError, spec, argv);
    return;
  }
  // A monitor or a replica (a replica both, to Redis) may not touch the keyspace: that would be
  // a way around client pauses, which do not hold them.
  if ((c.monitor || c.kind === ClientKind.Replica) && touchesKeyspace(c, spec, flags)) {
    reject(c, "ERR Replica can't interact with the keyspace", spec, argv);
    return;
  }
  // Paused (CLIENT PAUSE, a FAILOVER or SHUTDOWN holding writes): the command waits and runs
  // from the start when the pause ends.
  if (server.pause.active && server.pause.postponeIfPaused(c, spec, flags, argv)) return;
  if (c.multi && !MULTI_IMMEDIATE.has(spec.name)) {
    c.multi.queue.push(argv);
    c.multi.flags |= flags;
    c.reply.simple("QUEUED");
    return;
  }
  call(c, spec, argv);
  // Clients blocked on keys this command (or whole EXEC) made ready are served now, before
  // the next command runs (Redis's handleClientsBlockedOnKeys after call()); not while a
  // script is busy (when this command's script ends, if it is the one).
  if (c.pendingScript !== null) {
    c.pendingScript.then(() => {
      if (server.blocking.readyCount !== 0) server.blocking.handleReadyKeys();
    });
    return;
  }
  if (server.blocking.readyCount !== 0 && server.scripting.busy === null) server.blocking.handleReadyKeys();
}

/** Commands a client in MULTI may still send when out of memory. */
const MULTI_OOM_EXEMPT = new Set(["exec", "discard", "quit", "reset"]);

function touchesKeyspace(c: Client, spec: CommandSpec, flags: number): boolean {
  const f = CommandFlag.Write | CommandFlag.ReadOnly | CommandFlag.MayReplicate;
  return (flags & f) !== 0 || (spec.name === "exec" && c.multi !== null && (c.multi.flags & f) !== 0);
}

/** Commands that show themselves to MONITOR before they run, so that their script's commands follow. */
const MONITORED_BEFORE = new Set(["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"]);
/** processCommand's NOPERM errors. */
function noPermissionError(d: Denial, fullName: string): string {
  if (d.reason === Denied.Command) return `NOPERM this user has no permissions to run the '${fullName}' command`;
  if (d.reason === Denied.Key) return "NOPERM this user has no permissions to access one of the keys used as arguments";
  return "NOPERM this user has no permissions to access one of the channels used as arguments";
}

/** EXEC's error for a queued command the user may no longer run (the rules changed meanwhile). */
function execNoPermissionError(d: Denial): string {
  const reason =
    d.reason === Denied.Command
      ? "no permission to execute the command or subcommand"
      : d.reason === Denied.Key
        ? "no permission to touch the specified keys"
        : "no permission to access one of the channels used as arguments";
  return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${reason}`;
}

function multiDeniesStale(c: Client): boolean {
  for (const argv of c.multi!.queue) {
    const spec = resolveCommand(c, argv);
    if (spec && !(spec.flags & CommandFlag.Stale)) return true;
  }
  return false;
}

/**
 * Executes a resolved command: time snapshot, handler, error reply, statistics, and
 * propagation of what changed (for a master; a replica forwards its master's stream as is).
 */
export function call(c: Client, spec: CommandSpec, argv: string[]): void {
  const server = c.server;
  // The time snapshot is taken by the outermost call only (Redis's fixed_time_expire): the
  // commands of an EXEC, and those a script calls, see the time their EXEC or script started.
  // Within a batch of commands the previous command's end is this one's start: one clock read
  // per command, not two (a read costs ~45 ns here, a fifth of a PING). What that adds to the
  // measured time is the parsing of this command, tens of nanoseconds.
  const started = server.batchClock >= 0 && server.callDepth === 0 ? server.batchClock : performance.now();
  if (server.callDepth++ === 0 && server.scripting.running === null) server.cmdTime = server.unixMsAt(started);
  try {
    callCommand(c, spec, argv, started);
  } finally {
    server.callDepth--;
  }
}

function callCommand(c: Client, spec: CommandSpec, argv: string[], started: number): void {
  const server = c.server;
  const prevClient = server.currentClient;
  server.currentClient = c;
  c.lastCommand = spec.name;
  const dirtyBefore = server.dirty;
  c.propagateAs = null;
  c.alsoPropagate = null;
  c.preventPropagation = false;
  c.redactedArgs = null;
  const repl = server.replication;
  const originating = repl.originating;
  if (originating) repl.beginCommand();
  const replyMark = c.reply.length;
  if (server.monitors.size !== 0 && MONITORED_BEFORE.has(spec.name)) feedMonitors(c, argv);
  // A tracking client's command: what its scripts' reads remember (Tracking.afterRead).
  const tracking = c.tracking;
  if (tracking !== null) {
    tracking.runningSpec = spec;
    tracking.runningArgv = argv;
  }
  let failed = false;
  try {
    spec.handler!(c, argv);
  } catch (e) {
    failed = true;
    if (e instanceof CommandError) {
      replyError(c, e.reply, spec);
    } else {
      // A bug of ours, not the client's: log it with the command, never crash the server.
      c.reply.truncate(replyMark);
      server.stats.unexpectedErrorReplies++;
      server.log.warning(`Internal error executing '${spec.name}': ${(e as Error)?.stack ?? e}`);
      replyError(c, `ERR internal error executing '${spec.name}'`, spec);
    }
  }
  server.currentClient = prevClient;
  // Its script yielded: the command ends with the script.
  if (c.pendingScript !== null) c.pendingScript.then(() => endCall(c, spec, argv, started, failed, originating, dirtyBefore, prevClient));
  else endCall(c, spec, argv, started, failed, originating, dirtyBefore, prevClient);
}

/** The end of call(): statistics, slow log, monitors, propagation of what changed, invalidations. */
function endCall(c: Client, spec: CommandSpec, argv: string[], started: number, failed: boolean, originating: boolean, dirtyBefore: number, prevClient: Client | null): void {
  const server = c.server;
  const ended = performance.now();
  const usec = (ended - started) * 1000;
  // Only the outermost command's end is the next one's start (see call()); an inner one's is
  // not kept: the rest of its caller runs after it.
  if (server.batchClock >= 0 && server.callDepth === 1) server.batchClock = ended;
  const tracking = c.tracking;
  if (tracking !== null) {
    // Not kept past the command: its arguments may be large.
    tracking.runningSpec = null;
    tracking.runningArgv = null;
  }
  // Keys read by a client with client-side caching are remembered (even if the command failed).
  if ((spec.flags & CommandFlag.ReadOnly) !== 0 && server.tracking.clients !== 0) server.tracking.afterRead(c, spec, argv);
  // The spec keeps its stats object while the server's map is the same one (CONFIG RESETSTAT
  // replaces it): no map lookup per command.
  let s = spec.stats;
  if (s === undefined || spec.statsOf !== server.stats.commands) {
    s = commandStats(c, spec.name);
    spec.stats = s;
    spec.statsOf = server.stats.commands;
  }
  s.calls++;
  const wait = c.blocked ? c.keyWait : null;
  if (wait !== null) {
    // Its time is counted when it is served or unblocked (Blocking.statsOnUnblock).
    wait.callUsec = usec;
    wait.argv = argv;
  } else s.usec += Math.round(usec);
  if (failed) s.failed++;
  // Where the time went (Redis's call()): the latency monitor's command events, then, unless the
  // client blocked (its time is the wait's, not ours), the slow log and the latency histogram.
  server.latency.addIfNeeded((spec.flags & CommandFlag.Fast) !== 0 ? "fast-command" : "command", usec / 1000);
  if (!c.blocked) {
    if ((spec.flags & CommandFlag.SkipSlowlog) === 0) server.slowlog.record(c, argv, usec);
    if (server.config.hot.latencyTracking) (s.histogram ??= new CommandHistogram()).record(usec * 1000);
  }
  // Shown to monitors after it ran (with its passwords redacted), unless too dangerous to show.
  if (server.monitors.size !== 0 && (spec.flags & (CommandFlag.SkipMonitor | CommandFlag.Admin)) === 0) feedMonitors(c, argv);
  server.stats.totalCommandsProcessed++;
  // A writable replica's own writes: keys left with a TTL are its to expire.
  if (server.replication.masterHost !== null && !c.isMaster && (spec.flags & CommandFlag.Write) !== 0 && server.dirty > dirtyBefore) rememberReplicaKeysWithExpire(c, spec, argv);
  // Only a command that made changes propagates: one that reset the counter (SAVE, SHUTDOWN's
  // final save) did not (Redis's call(): a negative dirty delta counts as none).
  if (originating) server.replication.endCommand(c, argv, server.dirty > dirtyBefore);
  // Invalidations of keys the client tracks that its own command changed follow the whole
  // reply (EXEC's, a script's), never interleaved with it (afterCommand, outermost call only).
  if (prevClient === null && server.tracking.pending.length !== 0) server.tracking.sendPending(c);
}

/** Runs a queued MULTI transaction (called by EXEC). */
export function execTransaction(c: Client): void {
  const multi = c.multi!;
  c.multi = null;
  if (multi.aborted) {
    // An error reply of EXEC's like any other (errorstat_EXECABORT, a failed call).
    throw new CommandError(EXECABORT);
  }
  c.reply.array(multi.queue.length);
  c.server.replication.beginTransaction(c);
  // Blocking commands inside EXEC act as their non-blocking forms (CLIENT_DENY_BLOCKING).
  const denyBlocking = c.denyBlocking;
  c.denyBlocking = true;
  c.inExec = multi;
  runQueued(c, multi.queue, 0, denyBlocking);
}

/** EXEC's queued commands from `from` on, then the end of the transaction. */
function runQueued(c: Client, queue: string[][], from: number, denyBlocking: boolean): void {
  const server = c.server;
  const acl = server.acl;
  let deniedLast = false;
  for (let i = from; i < queue.length; i++) {
    const argv = queue[i]!;
    deniedLast = false;
    const spec = resolveCommand(c, argv);
    if (!spec || !spec.handler) {
      c.reply.error(unknownCommandError(c, argv));
      continue;
    }
    // ACL rules are checked again: they may have changed since the command was queued.
    const denied = acl.check(c, spec.acl, argv);
    if (denied !== null) {
      acl.logCheckDenial(c, denied, LogContext.Multi, spec.acl, argv);
      const error = execNoPermissionError(denied);
      c.reply.error(error);
      countErrorReply(server, error);
      deniedLast = true;
      continue;
    }
    // Writes queued before the link went read-only are refused at EXEC time too (Redis
    // re-checks READONLY for EXEC as a whole; inside, commands run as queued).
    call(c, spec, argv);
    // A script that yielded: the rest of the transaction runs when it ends.
    if (c.pendingScript !== null) {
      c.pendingScript.then(() => runQueued(c, queue, i + 1, denyBlocking));
      return;
    }
  }
  c.inExec = null;
  // CLIENT LIST shows EXEC as the last command, not the last one it ran (Redis's c->lastcmd).
  c.lastCommand = "exec";
  // An error EXEC replied itself, after its last command ran, makes EXEC a failed call (call()'s
  // error count; errors before a later command are that command's to count).
  if (deniedLast) commandStats(c, "exec").failed++;
  c.denyBlocking = denyBlocking;
  // The queued commands propagated themselves: EXEC must not add its own name (the wrapping
  // MULTI/EXEC comes from the collection) nor repeat the last command's rewritten forms.
  c.propagateAs = null;
  c.alsoPropagate = null;
  c.preventPropagation = true;
  server.replication.endTransaction(c);
}
