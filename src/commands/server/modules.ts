// MODULE (Redis 7.0 module.c): Replicant loads no modules (they are C shared libraries built
// against Redis's own process). MODULE LIST is empty; LOAD and LOADEX fail as a module that
// does not load fails in Redis (the reason goes to the log); UNLOAD finds nothing. The command
// itself is behind enable-module-command, checked by the dispatcher.

import type { Client } from "../../core/client.ts";
import { fail } from "../../core/errors.ts";
import { replyHelp } from "../scripting/scripting.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

function load(c: Client, argv: string[]): void {
  c.server.log.warning(`Module ${argv[2]} failed to load: Replicant does not load modules`);
  fail("ERR Error loading the extension. Please check the server logs.");
}

export const handlers: HandlerMap = {
  "module|list"(c) {
    c.reply.array(0);
  },
  "module|load": load,
  "module|loadex": load,
  "module|unload"() {
    fail("ERR Error unloading module: no such module with that name");
  },
  "module|help"(c, argv) {
    replyHelp(c, argv[0]!.toUpperCase(), [
      "LIST",
      "    Return a list of loaded modules.",
      "LOAD <path> [<arg> ...]",
      "    Load a module library from <path>, passing to it any optional arguments.",
      "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
      "    Load a module library from <path>, while passing it module configurations and optional arguments.",
      "UNLOAD <name>",
      "    Unload a module.",
    ]);
  },
};
