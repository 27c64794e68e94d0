// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (eval.c of Redis 7.0), plus the FUNCTION and
// FCALL family (functions.ts). Scripts are Lua 5.1, run by src/scripting/; this file is about
// the commands: arguments, the script cache, the checks before a run, and replies.

import type { Client } from "../../core/client.ts";
import { fail, NOT_INTEGER } from "../../core/errors.ts";
import { handlers as functionHandlers } from "./functions.ts";
import { prepareError, runScript, ScriptRunner } from "../../core/scripts/run.ts";
import { killBusyScript } from "../../core/scripts/busy.ts";
import { parseLongLong } from "../strings/parse.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

const NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL.";

export function replyHelp(c: Client, command: string, lines: string[]): void {
  c.reply.array(lines.length + 3);
  c.reply.simple(`${command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) c.reply.simple(l);
  c.reply.simple("HELP");
  c.reply.simple("    Prints this help.");
}

/** The numkeys argument of EVAL/FCALL, checked against the argument count. */
function numKeys(argv: string[], badNumber: string): number {
  const n = parseLongLong(argv[2]!);
  if (n === null) fail(badNumber);
  if (n > argv.length - 3) fail("ERR Number of keys can't be greater than number of args");
  if (n < 0) fail("ERR Number of keys can't be negative");
  return Number(n);
}

function evalGeneric(c: Client, argv: string[], isSha: boolean, ro: boolean): void {
  const state = c.server.scripting;
  if (isSha && argv[1]!.length !== 40) fail(NOSCRIPT);
  const nk = numKeys(argv, NOT_INTEGER);
  let script;
  if (isSha) {
    script = state.scripts.get(argv[1]!.toLowerCase());
    if (!script) fail(NOSCRIPT);
  } else script = state.scriptFor(argv[1]!);
  const refused = prepareError(c.server, c, script.flags, ro);
  if (refused) fail(refused);
  const runner = new ScriptRunner(c.server, state.client(c.isMaster), c, script.sha, script.flags, ro, true);
  runScript(c, state.eval, runner, argv, script.fn, argv.slice(3, 3 + nk), argv.slice(3 + nk));
}


const SCRIPT_HELP = [
  "DEBUG (YES|SYNC|NO)",
  "    Set the debug mode for subsequent scripts executed.",
  "EXISTS <sha1> [<sha1> ...]",
  "    Return information about the existence of the scripts in the script cache.",
  "FLUSH [ASYNC|SYNC]",
  "    Flush the Lua scripts cache. Very dangerous on replicas.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the scripts cache.",
  "    * SYNC: Synchronously flush the scripts cache.",
  "KILL",
  "    Kill the currently executing Lua script.",
  "LOAD <script>",
  "    Load a script into the scripts cache without executing it.",
];

export const handlers: HandlerMap = {
  eval: (c, argv) => evalGeneric(c, argv, false, false),
  evalsha: (c, argv) => evalGeneric(c, argv, true, false),
  eval_ro: (c, argv) => evalGeneric(c, argv, false, true),
  evalsha_ro: (c, argv) => evalGeneric(c, argv, true, true),

  "script|help"(c) {
    replyHelp(c, "SCRIPT", SCRIPT_HELP);
  },
  "script|flush"(c, argv) {
    if (argv.length === 3) {
      const mode = argv[2]!.toLowerCase();
      if (mode !== "sync" && mode !== "async") fail("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    } else if (argv.length !== 2) fail("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    c.server.scripting.flushScripts();
    c.reply.ok();
  },
  "script|exists"(c, argv) {
    const scripts = c.server.scripting.scripts;
    c.reply.array(argv.length - 2);
    for (let j = 2; j < argv.length; j++) c.reply.int(scripts.has(argv[j]!.toLowerCase()) ? 1 : 0);
  },
  "script|load"(c, argv) {
    const s = c.server.scripting.scriptFor(argv[2]!);
    c.reply.bulk(s.sha);
  },
  "script|kill"(c) {
    killBusyScript(c, true);
  },
  "script|debug"(c, argv) {
    const mode = argv[2]!.toLowerCase();
    if (mode === "no") return c.reply.ok();
    if (mode === "yes" || mode === "sync") fail("ERR SCRIPT DEBUG is not supported by this server");
    fail("ERR Use SCRIPT DEBUG YES/SYNC/NO");
  },
  ...functionHandlers,
};
