// Central command dispatch, in Redis's order (server.c processCommand): existence, arity,
// authentication, MULTI restrictions, READONLY, MASTERDOWN, LOADING, then queue (inside MULTI)
// or execute. Handlers never repeat these checks.

import { diskErrorDenyingWrites } from "./persistence.ts";
import { CommandError, EXECABORT, LOADING, MASTERDOWN, NOAUTH, NOREPLICAS, READONLY, wrongArity } from "../commands/errors.ts";
import { CommandFlag, type CommandSpec } from "../commands/types.ts";
import { pubsubContextError } from "../commands/pubsub.ts";
import { discardTransaction } from "../commands/transactions.ts";
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";

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
  const spec = c.server.commands.get(argv[0]!);
  if (!spec) return undefined;
  if (spec.subcommands && argv.length >= 2) {
    const sub = spec.subcommands.get(argv[1]!.toLowerCase());
    if (sub) return sub;
    return spec.handler ? spec : undefined;
  }
  return spec;
}

/** rejectCommand: the transaction is flagged; a rejected EXEC discards it (execCommandAbort). */
function reject(c: Client, error: string, spec: CommandSpec | undefined): void {
  if (c.multi) c.multi.aborted = true;
  if (spec) commandStats(c, spec.name).rejected++;
  if (spec?.name === "exec") {
    discardTransaction(c);
    replyError(c, `EXECABORT Transaction discarded because of: ${error}`, spec);
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
    server.log.warning(`== CRITICAL == This replica is sending an error to its master: '${error}' after processing the command '${c.lastCommand}'`);
  }
}

export function commandStats(c: Client, name: string) {
  let s = c.server.stats.commands.get(name);
  if (!s) {
    s = { calls: 0, usec: 0, rejected: 0, failed: 0 };
    c.server.stats.commands.set(name, s);
  }
  return s;
}

/** Processes one command from a client: checks, MULTI queueing, execution. */
export function processCommand(c: Client, argv: string[]): void {
  const server = c.server;
  const spec = resolveCommand(c, argv);
  if (!spec || !spec.handler) {
    reject(c, unknownCommandError(c, argv), undefined);
    if (c.isMaster) server.log.warning(`Command '${argv[0]}' from the master is not supported: the copy may diverge`);
    return;
  }
  const arity = spec.arity;
  if ((arity > 0 && arity !== argv.length) || argv.length < -arity) {
    reject(c, wrongArity(spec.name), spec);
    return;
  }
  const flags = spec.dynamicFlags ? spec.dynamicFlags(c, argv) : spec.flags;
  if (!c.authenticated && !(flags & CommandFlag.NoAuth)) {
    reject(c, NOAUTH, spec);
    return;
  }
  if (c.multi && flags & CommandFlag.NoMulti) {
    reject(c, "ERR Command not allowed inside a transaction", spec);
    return;
  }
  const repl = server.replication;
  // After a failed BGSAVE (stop-writes-on-bgsave-error): -MISCONF for writes and PING.
  if (server.persistence.lastBgsaveStatus === "err" && !c.isMaster) {
    const misconf = diskErrorDenyingWrites(server);
    if (misconf !== null && (flags & CommandFlag.Write || spec.name === "ping" || (spec.name === "exec" && c.multi && c.multi.flags & CommandFlag.Write))) {
      reject(c, misconf, spec);
      return;
    }
  }
  if (repl.masterHost === null && (flags & CommandFlag.Write || (spec.name === "exec" && c.multi && c.multi.flags & CommandFlag.Write))) {
    const minReplicas = server.config.num("min-replicas-to-write");
    if (minReplicas > 0 && server.config.num("min-replicas-max-lag") > 0 && repl.goodReplicasCount() < minReplicas) {
      reject(c, NOREPLICAS, spec);
      return;
    }
  }
  if (repl.masterHost !== null && !c.isMaster) {
    const isWrite = (flags & CommandFlag.Write) !== 0 || (spec.name === "exec" && c.multi !== null && (c.multi.flags & CommandFlag.Write) !== 0);
    if (isWrite && server.config.bool("replica-read-only")) {
      reject(c, READONLY, spec);
      return;
    }
  }
  const pubsubError = pubsubContextError(c, spec.name);
  if (pubsubError !== null) {
    reject(c, pubsubError, spec);
    return;
  }
  if (repl.masterHost !== null && !c.isMaster) {
    if (!repl.isLinkUp() && !server.config.bool("replica-serve-stale-data")) {
      const denyStale = !(flags & CommandFlag.Stale) || (spec.name === "exec" && c.multi !== null && multiDeniesStale(c));
      if (denyStale) {
        reject(c, MASTERDOWN, spec);
        return;
      }
    }
  }
  if (server.loading && !(flags & CommandFlag.Loading)) {
    reject(c, LOADING, spec);
    return;
  }
  // A busy script (past busy-reply-threshold, yielding): only the allow-busy commands run.
  const busy = server.scripting.busy;
  if (busy !== null && !(spec.flags & CommandFlag.AllowBusy)) {
    reject(c, busy.busyError, spec);
    return;
  }
  // Writes paused (a coordinated FAILOVER): the command waits and runs from the start later.
  if (repl.master.writesPaused && repl.master.postponeIfPaused(c, spec, argv)) return;
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
  const prevClient = server.currentClient;
  server.currentClient = c;
  // Commands a script calls see the time the script started (Redis's scriptTimeSnapshot).
  if (server.scripting.running === null) server.cmdTime = Date.now();
  c.lastCommand = spec.name;
  const dirtyBefore = server.dirty;
  c.propagateAs = null;
  c.alsoPropagate = null;
  c.preventPropagation = false;
  const repl = server.replication;
  const originating = repl.originating;
  if (originating) repl.beginCommand();
  const replyMark = c.reply.length;
  const started = performance.now();
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
  if (c.pendingScript !== null) c.pendingScript.then(() => endCall(c, spec, argv, started, failed, originating, dirtyBefore));
  else endCall(c, spec, argv, started, failed, originating, dirtyBefore);
}

/** The end of call(): statistics, and propagation of what changed. */
function endCall(c: Client, spec: CommandSpec, argv: string[], started: number, failed: boolean, originating: boolean, dirtyBefore: number): void {
  const server = c.server;
  const s = commandStats(c, spec.name);
  s.calls++;
  s.usec += Math.round((performance.now() - started) * 1000);
  if (failed) s.failed++;
  server.stats.totalCommandsProcessed++;
  // Only a command that made changes propagates: one that reset the counter (SAVE, SHUTDOWN's
  // final save) did not (Redis's call(): a negative dirty delta counts as none).
  if (originating) server.replication.endCommand(c, argv, server.dirty > dirtyBefore);
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
  runQueued(c, multi.queue, 0, denyBlocking);
}

/** EXEC's queued commands from `from` on, then the end of the transaction. */
function runQueued(c: Client, queue: string[][], from: number, denyBlocking: boolean): void {
  const server = c.server;
  for (let i = from; i < queue.length; i++) {
    const argv = queue[i]!;
    const spec = resolveCommand(c, argv);
    if (!spec || !spec.handler) {
      c.reply.error(unknownCommandError(c, argv));
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
  c.denyBlocking = denyBlocking;
  // The queued commands propagated themselves: EXEC must not add its own name (the wrapping
  // MULTI/EXEC comes from the collection) nor repeat the last command's rewritten forms.
  c.propagateAs = null;
  c.alsoPropagate = null;
  c.preventPropagation = true;
  server.replication.endTransaction(c);
}
