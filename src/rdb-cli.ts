// `replicant rdb check|export`: the RDB tools (see src/rdb/). Registered on the main program.
import type { Command } from "commander";

export function registerRdbCommands(program: Command): void {
  const rdb = program.command("rdb").description("RDB file tools");
  rdb
    .command("check")
    .argument("<file>")
    .description("verify an RDB file (like redis-check-rdb)")
    .action(() => {
      process.stderr.write("rdb check: not implemented yet\n");
      process.exit(1);
    });
}
