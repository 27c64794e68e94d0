// A Server assembled from its layers: the core's Server with every command family's handlers,
// and replication installed on it. Start-up, tests and benchmarks all build servers here.

import type { Config } from "../config/config.ts";
import { Server } from "../core/server.ts";
import { commandTable } from "../commands/families.ts";
import { Replication } from "../replication/replication.ts";

export function assembleServer(config: Config): Server {
  const server = new Server(config, commandTable());
  server.replication = new Replication(server);
  return server;
}
