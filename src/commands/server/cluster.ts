// Cluster commands on a server without cluster support (cluster-enabled no, the only mode we
// have): CLUSTER <any subcommand>, READONLY, READWRITE and ASKING answer as such a
// redis-server does. Arity and unknown subcommands are checked first, by the dispatcher, from
// Redis's declared table, as they are in Redis.

import tableJson from "../../core/redis-command-table.json";
import { fail } from "../../core/errors.ts";
import type { CommandMeta, Handler, HandlerMap } from "../../core/command-spec.ts";

const DISABLED: Handler = () => fail("ERR This instance has cluster support disabled");

const cluster = (tableJson as { commands: CommandMeta[] }).commands.find((c) => c.name === "cluster")!;

export const handlers: HandlerMap = {
  ...Object.fromEntries(cluster.subcommands!.map((s) => [s.name, DISABLED])),
  readonly: DISABLED,
  readwrite: DISABLED,
  asking: DISABLED,
};
