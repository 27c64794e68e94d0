// The command an ACL rule or check names, from a command line.

import type { Client } from "../client.ts";
import type { AclCommand } from "./catalogue.ts";

/**
 * lookupCommand for ACL DRYRUN, COMMAND GETKEYS and redis.acl_check_cmd: the commands as clients
 * call them (renamed ones under their new names; a container with an unknown subcommand is no
 * command), and those Redis has that Replicant does not implement, which ACLs know all the same.
 */
export function lookupAclCommand(c: Client, argv: string[]): AclCommand | undefined {
  const server = c.server;
  const spec = server.commands.get(argv[0]!);
  if (spec) {
    if (!spec.subcommands || argv.length === 1) return spec.acl;
    return spec.subcommands.get(argv[1]!.toLowerCase())?.acl ?? spec.acl.subcommands?.find((s) => s.fullName === `${spec.acl.fullName}|${argv[1]!.toLowerCase()}`);
  }
  if (server.config.renamedCommands.some((r) => r.from.toLowerCase() === argv[0]!.toLowerCase())) return undefined;
  const base = server.acl.catalogue.lookup(argv[0]!.includes("|") ? "" : argv[0]!);
  if (!base || !base.subcommands || argv.length === 1) return base;
  return base.subcommands.find((s) => s.fullName === `${base.fullName}|${argv[1]!.toLowerCase()}`);
}
