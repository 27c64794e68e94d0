// Server start-up and life cycle: working directory, initial dataset, listeners, the cron
// (replication every second), signals and shutdown.

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/config.ts";
import { REDIS_COMPAT_VERSION, REPLICANT_VERSION } from "../version.ts";
import { startListeners } from "./listener.ts";
import { Server } from "./server.ts";
import { loadDatasetFile, persistenceCron } from "./persistence.ts";
import { shutdownOnSignal } from "./shutdown.ts";
import { activeExpireCycle } from "./expire.ts";

export async function startServer(config: Config, _args: string[]): Promise<number> {
  const server = new Server(config);
  const log = server.log;
  try {
    process.chdir(config.str("dir"));
  } catch (e) {
    log.warning(`Can't chdir to '${config.str("dir")}': ${(e as Error).message}`);
    return 1;
  }
  log.warning("oO0OoO0OoO0Oo Replicant is starting oO0OoO0OoO0Oo");
  log.warning(`Replicant version=${REPLICANT_VERSION} (redis ${REDIS_COMPAT_VERSION} compatible), bun=${Bun.version}, pid=${process.pid}, just started`);
  log.warning(config.configFile ? "Configuration loaded" : "Warning: no config file specified, using the default config and the command line options");

  let listeners;
  try {
    listeners = startListeners(server);
  } catch (e) {
    log.warning(`Failed listening on port ${config.num("port")} (tcp), aborting: ${(e as Error).message}`);
    return 1;
  }
  log.notice(`Running mode=standalone, port=${server.listeningPort}.`);
  log.warning("Server initialized");

  // Like redis-server, load the dataset file at start even as a replica: its repl-id /
  // repl-offset let the first PSYNC continue instead of a full sync.
  const file = join(process.cwd(), config.str("dbfilename"));
  if (existsSync(file)) {
    const ok = await loadDatasetFile(server, file);
    if (!ok) return 1;
  }
  log.notice("Ready to accept connections");

  const cron = setInterval(() => serverCron(server), 100);
  if (config.replicaOf) server.replication.link.setMaster(config.replicaOf.host, config.replicaOf.port, true);

  const exitCode = await new Promise<number>((resolve) => {
    server.shutdownRequested = (code) => {
      // Like redis-server's exit(): from now on connections are refused.
      for (const l of listeners) l.stop(false);
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
  for (const l of listeners) l.stop(true);
  log.warning("Replicant is now ready to exit, bye bye...");
  return exitCode;
}

/**
 * Runs 10 times a second; replication's cron once a second, like Redis's replicationCron. Not
 * while a script is busy: Redis's event processing from inside a script runs no timers.
 */
function serverCron(server: Server): void {
  if (server.scripting.busy !== null) return;
  server.cronLoops++;
  server.sampleStats();
  activeExpireCycle(server);
  persistenceCron(server);
  server.replication.cronTick(server.cronLoops % 10 === 0);
}
