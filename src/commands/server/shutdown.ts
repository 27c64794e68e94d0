// The shutdown sequence of Redis 7.0 (server.c prepareForShutdown, isReadyToShutdown,
// finishShutdown, abortShutdown; db.c shutdownCommand), for SHUTDOWN and SIGTERM/SIGINT.
//
// Unless NOW is asked (or shutdown-timeout is 0), a master whose replicas have not all
// acknowledged its whole stream (ack offset = master_repl_offset) does not exit at once: it
// pauses writes (they wait, as with CLIENT PAUSE WRITE), sends REPLCONF GETACK to the replicas,
// and checks ten times a second (Redis's serverCron) until every replica caught up or
// shutdown-timeout seconds passed. Then finishShutdown logs the replicas still lagging and
// saves (dataset/persistence.ts shutdownSave); a failed save cancels the shutdown.
//
// Meanwhile the SHUTDOWN clients are blocked (a second SHUTDOWN, NOW or not, joins the wait);
// SHUTDOWN ABORT cancels: writes resume and the blocked clients get "ERR Errors trying to
// SHUTDOWN. Check logs." A second SIGINT during the wait exits at once with status 1.

import { replicationOf } from "../../replication/replication.ts";
import type { Client } from "../../core/client.ts";
import { countErrorReply } from "../../core/dispatch.ts";
import { abortBgsave, bgsaveInProgress, shutdownSave, signalShutdownFlags, type ShutdownFlags } from "../../dataset/persistence.ts";
import { abortAofRewrite, aofRewriteInProgress } from "../../dataset/aof-rewrite.ts";
import { aofOf, AofState } from "../../dataset/aof.ts";
import type { Server } from "../../core/server.ts";
import { stateName } from "../../replication/replica-session.ts";

/** A shutdown waiting for lagging replicas (Redis's shutdown_mstime != 0). */
interface PendingShutdown {
  flags: ShutdownFlags;
  /** Unix ms when the wait ends anyway (shutdown_mstime). */
  deadline: number;
  /** SHUTDOWN clients blocked until the server exits or the shutdown is cancelled. */
  clients: Set<Client>;
  timer: ReturnType<typeof setInterval>;
  /** The writes were paused by this shutdown (not already, by a FAILOVER). */
  pausedWrites: boolean;
  /** A signal asked for the shutdown or arrived during it (Redis's shutdown_asap). */
  signalled: boolean;
}

/** The server exits (main() finishes the sequence); a busy script is not continued. */
function requestExit(server: Server, code: number): void {
  server.exiting = true;
  server.shutdownRequested?.(code);
}

/** How often the wait is checked: Redis's serverCron at hz 10. */
const CHECK_INTERVAL_MS = 100;

/**
 * A shutdown waiting for lagging replicas, per server (state of this layer the core does not
 * know, so kept beside it, keyed by the Server).
 */
const pendingByServer = new WeakMap<Server, PendingShutdown>();

type ShutdownOutcome = "exit" | "waiting" | "failed";

/**
 * prepareForShutdown: starts the shutdown sequence. "exit": the server is exiting (already
 * asked through server.shutdownRequested); "waiting": replicas lag, `client` (if any) is
 * blocked until the end; "failed": the final save failed (logged), the server keeps running.
 * A shutdown already waiting is joined: `client` is blocked with the others.
 */
export function prepareForShutdown(server: Server, flags: ShutdownFlags, client: Client | null): ShutdownOutcome {
  const pending = pendingByServer.get(server);
  if (pending) {
    if (client) block(pending, client);
    return "waiting";
  }
  server.log.warning("User requested shutdown...");
  server.notifySupervisor("STOPPING=1\n");
  const timeout = server.config.num("shutdown-timeout");
  if (!flags.now && timeout !== 0 && !replicasCaughtUp(server)) {
    const replicas = replicationOf(server).replicas;
    const alreadyPaused = replicas.writesPaused;
    // The replicas are asked where they are, unless the writes (hence the offset) were already
    // held by a pause: then their regular ACKs tell (Redis sends GETACK only if not paused).
    if (!alreadyPaused) replicas.requestAcks();
    replicas.pauseWrites();
    const state: PendingShutdown = {
      flags,
      deadline: Date.now() + timeout * 1000,
      clients: new Set(),
      timer: setInterval(() => checkPending(server), CHECK_INTERVAL_MS),
      pausedWrites: !alreadyPaused,
      signalled: false,
    };
    pendingByServer.set(server, state);
    if (client) block(state, client);
    server.log.notice("Waiting for replicas before shutting down.");
    return "waiting";
  }
  if (!finishShutdown(server, flags)) return "failed";
  requestExit(server, 0);
  return "exit";
}

/**
 * SHUTDOWN ABORT: cancels a shutdown waiting for replicas. Returns how many blocked clients
 * were sent the error, or null when no shutdown is under way.
 */
export function abortShutdown(server: Server): number | null {
  if (!pendingByServer.has(server)) return null;
  const told = cancelShutdown(server);
  server.log.notice("Shutdown manually aborted.");
  return told;
}

/**
 * SIGTERM / SIGINT: a shutdown with the flags of shutdown-on-sigterm / shutdown-on-sigint.
 * During a wait the signal only marks it, except a second SIGINT: exit at once ("You insist").
 * During a busy script the shutdown waits for the script's end (the same second SIGINT aside).
 */
export function shutdownOnSignal(server: Server, signal: "SIGTERM" | "SIGINT"): void {
  const log = server.log;
  const pending = pendingByServer.get(server);
  if (pending) {
    if (pending.signalled && signal === "SIGINT") {
      log.warning("You insist... exiting now.");
      if (bgsaveInProgress(server)) abortBgsave(server);
      clearInterval(pending.timer);
      requestExit(server, 1);
      return;
    }
    log.warning(`Received ${signal} scheduling shutdown...`);
    pending.signalled = true;
    return;
  }
  if (server.scripting.busy !== null) {
    // Redis acts on the signal in serverCron, which does not run during a busy script: the
    // shutdown starts when the script ends; a second SIGINT exits at once.
    if (signalledWhileBusy.has(server)) {
      if (signal !== "SIGINT") return;
      log.warning("You insist... exiting now.");
      if (bgsaveInProgress(server)) abortBgsave(server);
      requestExit(server, 1);
      return;
    }
    log.warning(`Received ${signal} scheduling shutdown...`);
    signalledWhileBusy.add(server);
    server.scripting.whenNotBusy(() => {
      signalledWhileBusy.delete(server);
      if (!server.exiting) startSignalShutdown(server, signal);
    });
    return;
  }
  log.warning(`Received ${signal} scheduling shutdown...`);
  startSignalShutdown(server, signal);
}

/** Servers that received a shutdown signal during a busy script (Redis's shutdown_asap). */
const signalledWhileBusy = new WeakSet<Server>();

function startSignalShutdown(server: Server, signal: "SIGTERM" | "SIGINT"): void {
  const outcome = prepareForShutdown(server, signalShutdownFlags(server, signal), null);
  if (outcome === "waiting") pendingByServer.get(server)!.signalled = true;
}

/** isReadyToShutdown: every replica acknowledged the whole stream. */
function replicasCaughtUp(server: Server): boolean {
  const repl = replicationOf(server);
  for (const s of repl.replicas.sessions) if (s.ackOffset !== repl.masterReplOffset) return false;
  return true;
}

function block(state: PendingShutdown, client: Client): void {
  client.blocked = true;
  state.clients.add(client);
}

/** Ten times a second during the wait: finish once the replicas caught up or time is up. */
function checkPending(server: Server): void {
  const pending = pendingByServer.get(server);
  if (!pending) return;
  if (Date.now() < pending.deadline && !replicasCaughtUp(server)) return;
  if (!finishShutdown(server, pending.flags)) return;
  clearInterval(pending.timer);
  requestExit(server, 0);
}

/**
 * finishShutdown: logs the replicas still lagging, then the final save. False (the shutdown
 * cancelled, the blocked clients told) when the save failed without FORCE.
 */
function finishShutdown(server: Server, flags: ShutdownFlags): boolean {
  const log = server.log;
  const repl = replicationOf(server);
  const offset = repl.masterReplOffset;
  const nowSec = Math.floor(Date.now() / 1000);
  let replicas = 0;
  let lagging = 0;
  for (const s of repl.replicas.sessions) {
    replicas++;
    if (s.ackOffset === offset) continue;
    lagging++;
    const lag = s.online ? nowSec - Math.floor(s.ackTime / 1000) : 0;
    log.warning(`Lagging replica ${s.name()} reported offset ${offset - s.ackOffset} behind master, lag=${lag}, state=${stateName(s.state)}.`);
  }
  if (replicas > 0) log.notice(`${replicas - lagging} of ${replicas} replicas are in sync when shutting down.`);
  const aof = aofOf(server);
  if (aof.state !== AofState.Off && aofRewriteInProgress(server)) {
    // The AOF turned on at runtime has no file of the dataset until its first rewrite ends.
    if (aof.state === AofState.WaitRewrite) {
      if (!flags.force) {
        log.warning("Writing initial AOF, can't exit.");
        server.notifySupervisor("STATUS=Writing initial AOF, can't exit.\n");
        cancelShutdown(server);
        return false;
      }
      log.warning("Writing initial AOF. Exit anyway.");
    }
    log.warning("There is a child rewriting the AOF. Killing it!");
  }
  abortAofRewrite(server);
  // The AOF's last bytes written and fsynced (prepareForShutdown).
  aofOf(server).shutdown();
  if (shutdownSave(server, flags)) return true;
  cancelShutdown(server);
  return false;
}

/** cancelShutdown: the writes resume, the blocked SHUTDOWN clients get an error (how many). */
function cancelShutdown(server: Server): number {
  const pending = pendingByServer.get(server);
  if (!pending) return 0;
  pendingByServer.delete(server);
  clearInterval(pending.timer);
  const replicas = replicationOf(server).replicas;
  // A FAILOVER that paused the writes before us keeps them paused.
  if (pending.pausedWrites && replicas.writesPaused && !replicationOf(server).failover.active) replicas.unpauseWrites();
  let told = 0;
  for (const c of pending.clients) {
    if (c.conn?.closed) continue;
    const error = "ERR Errors trying to SHUTDOWN. Check logs.";
    c.reply.error(error);
    countErrorReply(server, error);
    told++;
    c.flush();
    c.resumeInput();
  }
  return told;
}
