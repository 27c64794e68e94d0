// Command line: `replicant [redis.conf] [--option value ...]` with redis-server's option names,
// plus `replicant rdb ...` tools. Bad configuration: a clear error and exit code 1.

import { Command } from "commander";
import { ConfigError, configFromArgs } from "./config/config.ts";
import { startServer } from "./server/start.ts";
import { daemonizeIfAsked } from "./core/supervision.ts";
import { applyRenamedCommands } from "./core/command-table.ts";
import { commandTable } from "./commands/families.ts";
import { REDIS_COMPAT_VERSION, REPLICANT_VERSION } from "./common/version.ts";
import { registerRdbCommands } from "./rdb-cli.ts";
import { registerPingCommand } from "./ping-cli.ts";
import { registerFeedCommand } from "./feed-cli.ts";
import { configuredUsers } from "./core/acl/acl.ts";

const program = new Command("replicant");
program
  .description(
    "A Redis-compatible replica server. Options are redis-server's: `replicant [redis.conf] [--port 6379] [--replicaof <host> <port>] ...`",
  )
  .version(`Replicant v=${REPLICANT_VERSION} (redis ${REDIS_COMPAT_VERSION} compatible) bun=${Bun.version}`, "-v, --version")
  .helpOption("-h, --help")
  .usage("[/path/to/redis.conf] [options]")
  .allowUnknownOption()
  .allowExcessArguments()
  .passThroughOptions()
  .argument("[options...]", "redis.conf path and/or --directive value pairs")
  .addHelpText(
    "after",
    `
Examples:
  replicant                                   standalone on port 6379
  replicant --port 6380 --replicaof 127.0.0.1 6379
  replicant /etc/redis/redis.conf --loglevel verbose
  replicant --port 6380 --replicaof master 6379 --masterauth secret --repl-diskless-load swapdb
  replicant --port 0 --tls-port 6380 --tls-cert-file server.crt --tls-key-file server.key --tls-ca-cert-file ca.crt
  replicant rdb check dump.rdb
  replicant feed --replicaof 127.0.0.1 6379 --checkpoint feed.cp --out feed.jsonl`,
  )
  .action(async (args: string[]) => {
    let config;
    try {
      config = configFromArgs(args);
      // rename-command and user lines name commands: checked against the command table before
      // anything starts.
      const table = commandTable();
      applyRenamedCommands(table, config);
      configuredUsers({ catalogue: table.acl, pubsubDefault: 0, warn() {} }, config);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      process.stderr.write(`\n*** FATAL CONFIG FILE ERROR (Replicant ${REPLICANT_VERSION}) ***\n`);
      if (e.lineNumber !== undefined) {
        process.stderr.write(`Reading the configuration file, at line ${e.lineNumber}\n>>> '${e.lineText}'\n`);
      }
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    // daemonize yes: this process starts a detached copy of itself and leaves (Redis's fork).
    if (daemonizeIfAsked(config)) process.exit(0);
    const code = await startServer(config, args);
    process.exit(code);
  });

registerRdbCommands(program);
registerPingCommand(program);
registerFeedCommand(program);

await program.parseAsync(process.argv);
