// Server start-up and life cycle: working directory, initial dataset, listeners, the cron
// (replication every second), signals and shutdown.

import { replicationOf } from "../replication/replication.ts";
import { existsSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/config.ts";
import { REDIS_COMPAT_VERSION, REPLICANT_VERSION } from "../common/version.ts";
import { Listeners } from "./listener.ts";
import { buildTlsContext, TlsConfigError, tlsWanted } from "../core/tls.ts";
import { assembleServer } from "./assemble.ts";
import type { Server } from "../core/server.ts";
import { loadDatasetFile, persistenceCron } from "../dataset/persistence.ts";
import { shutdownOnSignal } from "../commands/server/shutdown.ts";
import { LiveLine } from "../core/progress.ts";
import { activeExpireCycle } from "../core/expire.ts";
import { isDaemonChild, resolveSupervision, signalUpstartReady } from "../core/supervision.ts";
import { configuredUsers } from "../core/acl/acl.ts";
import { measureCodeHeap, measureStartupMemory, trackPeakMemory } from "../core/memory.ts";
import { evictClients } from "../core/client-eviction.ts";

/**
 * An aggregate not accessed for this long goes back to rest (Database.restIdle): long enough
 * that a key in use keeps its object, short enough that a replica's written keys soon cost
 * their bytes only. (Decoding it again on its next access takes about a microsecond.)
 */
const REST_AFTER_IDLE_MS = 30_000;
import { aofRewriteCron, startAppendOnly, stopAppendOnly, writeAofBaseSync } from "../dataset/aof-rewrite.ts";
import { loadAppendOnlyFiles } from "../dataset/aof-load.ts";
import { aofOf } from "../dataset/aof.ts";

export async function startServer(config: Config, _args: string[]): Promise<number> {
  // The code's own heap, before the server allocates anything (not counted in used_memory).
  const codeHeap = measureCodeHeap();
  const server = assembleServer(config);
  const log = server.log;
  // Long operations show a live line on a terminal (never in a log file or a pipe).
  log.live = LiveLine.on(process.stdout);
  try {
    process.chdir(config.str("dir"));
  } catch (e) {
    log.warning(`Can't chdir to '${config.str("dir")}': ${(e as Error).message}`);
    return 1;
  }
  log.warning("oO0OoO0OoO0Oo Replicant is starting oO0OoO0OoO0Oo");
  log.warning(`Replicant version=${REPLICANT_VERSION} (redis ${REDIS_COMPAT_VERSION} compatible), bun=${Bun.version}, pid=${process.pid}, just started`);
  log.warning(config.configFile ? "Configuration loaded" : "Warning: no config file specified, using the default config and the command line options");

  server.supervision = resolveSupervision(config, log);
  // pidfile (createPidFile): written at start (a daemon without one gets Redis's default),
  // removed at exit; a failure is only logged.
  const pidfile = config.str("pidfile") || (isDaemonChild() ? "/var/run/redis.pid" : "");
  if (pidfile !== "") {
    try {
      writeFileSync(pidfile, `${process.pid}\n`);
    } catch (e) {
      log.warning(`Failed to write PID file: ${(e as Error).message}`);
    }
  }

  // TLS is configured when something uses it, and a setting that cannot be honoured stops the
  // start here, as a failed tlsConfigure stops redis-server.
  if (tlsWanted(config)) {
    try {
      server.tls = buildTlsContext(config);
    } catch (e) {
      if (!(e instanceof TlsConfigError)) throw e;
      log.warning(e.message);
      log.warning("Failed to configure TLS. Check logs for more info.");
      return 1;
    }
  }
  const listeners = new Listeners(server);
  try {
    listeners.listenPlain(config.num("port"));
  } catch (e) {
    log.warning(`Failed listening on port ${config.num("port")} (tcp), aborting: ${(e as Error).message}`);
    return 1;
  }
  try {
    listeners.listenTls(config.num("tls-port"), server.tls);
  } catch (e) {
    log.warning(`Failed listening on port ${config.num("tls-port")} (tls), aborting: ${(e as Error).message}`);
    listeners.stop();
    return 1;
  }
  try {
    listeners.listenUnix(config.str("unixsocket"), config.num("unixsocketperm"));
  } catch (e) {
    log.warning(`Failed opening Unix socket: ${(e as Error).message}`);
    listeners.stop();
    return 1;
  }
  if (!listeners.listening) {
    log.warning("Configured to not listen anywhere, exiting.");
    return 1;
  }
  listeners.registerConfigAppliers();
  // redis-server's start-up banner: its logo when asked (always-show-logo) or on a terminal,
  // else one line. Tools that start servers wait for the logo's " PID: <pid>" line.
  const port = server.listeningPort || server.tlsListeningPort;
  if (config.bool("always-show-logo") || process.stdout.isTTY) log.rawNotice(startupLogo(port));
  else log.notice(`Running mode=standalone, port=${port}.`);
  log.warning("Server initialized");
  // Users of the config file or the ACL file: before any command runs (nothing is awaited
  // between the listeners starting and here).
  const aclError = server.acl.loadAtStartup(configuredUsers(server.acl.ctx, config));
  if (aclError !== null) {
    log.warning(aclError);
    listeners.stop();
    return 1;
  }
  // Before any data: what an empty server costs (INFO used_memory_startup), once the pages
  // only the start ran are handed back.
  server.releaseCodePages("start");
  server.startupMemory = measureStartupMemory(codeHeap);

  // Like redis-server, load the dataset file at start even as a replica: its repl-id /
  // repl-offset let the first PSYNC continue instead of a full sync. With appendonly yes the
  // AOF is loaded instead (loadDataFromDisk), and its last incr file says where the stream ends.
  const file = join(process.cwd(), config.str("dbfilename"));
  if (config.bool("appendonly")) {
    if (!(await startAof(server))) return 1;
  } else if (existsSync(file)) {
    if ((await loadDatasetFile(server, file)) === null) return 1;
  }
  config.onApply(["appendonly"], () => {
    if (config.bool("appendonly")) return startAppendOnly(server);
    stopAppendOnly(server);
    return null;
  });
  // updateAofAutoGCEnabled: turning the gc back on removes the history kept meanwhile.
  config.onApply(["aof-disable-auto-gc"], () => {
    aofOf(server).deleteHistory();
    return null;
  });
  log.notice("Ready to accept connections");
  if (server.supervision === "systemd") {
    server.notifySupervisor(config.replicaOf ? "STATUS=Ready to accept connections in read-only mode. Waiting for MASTER <-> REPLICA sync\n" : "STATUS=Ready to accept connections\n");
    server.notifySupervisor("READY=1\n");
  } else if (server.supervision === "upstart") signalUpstartReady(log);

  const cron = setInterval(() => serverCron(server), 100);
  if (config.replicaOf) replicationOf(server).link.setMaster(config.replicaOf.host, config.replicaOf.port, true);

  const exitCode = await new Promise<number>((resolve) => {
    server.shutdownRequested = (code) => {
      // Like redis-server's exit(): from now on connections are refused.
      listeners.stop(false);
      resolve(code);
    };
    // A failed final save keeps the server running (Redis's "can't exit"); lagging replicas
    // are waited for (shutdown-timeout), as for SHUTDOWN.
    const onSignal = (sig: "SIGTERM" | "SIGINT") => shutdownOnSignal(server, sig);
    process.on("SIGTERM", () => onSignal("SIGTERM"));
    process.on("SIGINT", () => onSignal("SIGINT"));
  });
  clearInterval(cron);
  await server.shutdown();
  listeners.stop();
  if (pidfile !== "") {
    try {
      unlinkSync(pidfile);
    } catch {}
  }
  log.warning("Replicant is now ready to exit, bye bye...");
  return exitCode;
}

/** appendonly yes at start: the AOF loaded, then opened for appending (aofOpenIfNeededOnServerStart). */
async function startAof(server: Server): Promise<boolean> {
  const started = performance.now();
  const r = await loadAppendOnlyFiles(server);
  if (r.status === "failed") return false;
  const repl = replicationOf(server);
  if (r.status === "ok" || r.status === "truncated") {
    server.log.notice(`DB loaded from append only file: ${((performance.now() - started) / 1000).toFixed(3)} seconds`);
    if (r.position) repl.restoreFromAof(r.position);
    server.collectAfterLoad();
  }
  const error = aofOf(server).openOnStart(repl.streamPosition(), (path) => writeAofBaseSync(server, path));
  if (error !== null) {
    server.log.warning(error);
    return false;
  }
  return true;
}

/**
 * Runs 10 times a second; replication's cron once a second, like Redis's replicationCron. Not
 * while a script is busy: Redis's event processing from inside a script runs no timers.
 */
function serverCron(server: Server): void {
  if (server.scripting.busy !== null || server.cronPaused) return;
  server.cronLoops++;
  server.resyncClock();
  server.sampleStats();
  trackPeakMemory(server);
  evictClients(server, false);
  server.collectIfWanted();
  activeExpireCycle(server);
  // Ready each growing keyspace's next table (1 MiB of it a tick); every 10 s drop an idle one.
  for (const db of server.dbs) db.ks.maintainSpare(1 << 18, server.cronLoops % 100 === 0);
  // Measure what changed aggregates cost (used_memory), 1 ms a tick at most.
  const measureUntil = performance.now() + 1;
  for (const db of server.dbs) db.ks.side.measureUntil(measureUntil);
  // Small aggregates idle for a while go back to rest as bytes (store/at-rest.ts), 0.5 ms a tick.
  const restUntil = performance.now() + 0.5;
  for (const db of server.dbs) db.restIdle(restUntil, REST_AFTER_IDLE_MS);
  // tracking-table-max-keys lowered by CONFIG SET applies even to an idle server.
  if (server.tracking.clients !== 0) server.tracking.limitUsedSlots(null);
  persistenceCron(server);
  aofRewriteCron(server);
  replicationOf(server).cronTick(server.cronLoops % 10 === 0);
  if (server.cronLoops % 10 === 0) server.migrateSockets.closeIdle(Math.floor(Date.now() / 1000));
}

/** Replicant's start-up logo (our own drawing; its fields are those of redis-server's). */
function startupLogo(port: number): string {
  return [
    "",
    "    +-------+   +-------+",
    `    | R     |   | R     |      Replicant ${REPLICANT_VERSION} (redis ${REDIS_COMPAT_VERSION} compatible) 64 bit`,
    "    |   E   |===|   E   |",
    "    |     P |   |     P |      Running in standalone mode",
    `    +-------+   +-------+      Port: ${port}`,
    `                               PID: ${process.pid}`,
    "",
    "",
  ].join("\n");
}
