// FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/RESTORE/STATS/KILL/HELP and FCALL/FCALL_RO
// (functions.c of Redis 7.0). Libraries are kept in server.functions (code by library name,
// what RDB files and full syncs carry) and compiled on demand (functions-store.ts). The
// changing FUNCTION subcommands are write commands: they count in server.dirty, so they are
// propagated to replicas verbatim, and a replica applies its master's.

import { globMatch } from "../../common/glob.ts";
import type { Client } from "../../core/client.ts";
import { fail } from "../../core/errors.ts";
import { checkedMetadata, compileLibrary, runLibrary, type CompiledLibrary, type LibraryMetadata } from "../../core/scripts/functions-store.ts";
import { decodeFunctionsPayload, encodeFunctionsPayload } from "./functions-dump.ts";
import { prepareError, runScript, ScriptRunner } from "../../core/scripts/run.ts";
import { killBusyScript } from "../../core/scripts/busy.ts";
import { SCRIPT_FLAG_NAMES } from "../../scripting/engine.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { verifyDumpPayload } from "../keys/dump.ts";
import { parseLongLong } from "../strings/parse.ts";

/** addReplySubcommandSyntaxError. */
function subcommandSyntaxError(argv: string[]): string {
  return `ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`;
}

/** FUNCTION LOAD's time limit for running the library code (none for our master's). */
const LOAD_TIMEOUT_MS = 500;

function replyHelpLines(c: Client, lines: string[]): void {
  c.reply.array(lines.length + 3);
  c.reply.simple("FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (const l of lines) c.reply.simple(l);
  c.reply.simple("HELP");
  c.reply.simple("    Prints this help.");
}

const FUNCTION_HELP = [
  "LOAD [REPLACE] <FUNCTION CODE>",
  "    Create a new library with the given library name and code.",
  "DELETE <LIBRARY NAME>",
  "    Delete the given library.",
  "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
  "    Return general information on all the libraries:",
  "    * Library name",
  "    * The engine used to run the Library",
  "    * Library description",
  "    * Functions list",
  "    * Library code (if WITHCODE is given)",
  "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
  "STATS",
  "    Return information about the current function running:",
  "    * Function name",
  "    * Command used to run the function",
  "    * Duration in MS that the function is running",
  "    If no function is running, return nil",
  "    In addition, returns a list of available engines.",
  "KILL",
  "    Kill the current running function.",
  "FLUSH [ASYNC|SYNC]",
  "    Delete all the libraries.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the libraries.",
  "    * SYNC: Synchronously flush the libraries.",
  "DUMP",
  "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
  "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
  "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
  "    control how to handle existing libraries (default APPEND):",
  "    * FLUSH: delete all existing libraries.",
  "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
  "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
  "      libraries with the new libraries (notice that even on this option there is a chance of failure",
  "      in case of functions name collision with another library).",
];

/** Compiles library code into a CompiledLibrary (FUNCTION LOAD/RESTORE). Throws the error text. */
function compile(c: Client, code: string, timeoutMs: number): CompiledLibrary {
  const { meta, functions } = compileLibrary(c.server.scripting.functionsEngine, code, timeoutMs);
  return { name: meta.name, code, entry: { engine: "LUA", code }, functions };
}

function functionLoad(c: Client, argv: string[]): void {
  let replace = false;
  let pos = 2;
  while (pos < argv.length - 1) {
    const a = argv[pos++]!;
    if (a.toLowerCase() === "replace") {
      replace = true;
      continue;
    }
    fail(`ERR Unknown option given: ${a}`);
  }
  if (pos >= argv.length) fail("ERR Function code is missing");
  const code = argv[pos]!;
  const registry = c.server.scripting.registry;
  let meta: LibraryMetadata;
  try {
    meta = checkedMetadata(code);
  } catch (e) {
    fail(`ERR ${(e as Error).message}`);
  }
  // The library's existence is checked before its code runs.
  const old = registry.library(meta.name);
  if (old && !replace) fail(`ERR Library '${meta.name}' already exists`);
  let lib: CompiledLibrary;
  try {
    const functions = runLibrary(c.server.scripting.functionsEngine, meta, c.isMaster ? 0 : LOAD_TIMEOUT_MS);
    lib = { name: meta.name, code, entry: { engine: "LUA", code }, functions };
  } catch (e) {
    if (c.isMaster) {
      // Our master accepted this library: keep its code (RDB files, FUNCTION DUMP and our own
      // replicas get it) even though it can not run here.
      c.server.log.warning(`Function library '${meta.name}' from the master can not be loaded here: ${(e as Error).message}`);
      c.server.functions.set(meta.name, { engine: "LUA", code });
      c.server.dirty++;
    }
    fail(`ERR ${(e as Error).message}`);
  }
  for (const fn of lib.functions.values()) {
    const other = registry.findFunction(fn.name);
    if (other && other.lib.name !== lib.name) fail(`ERR Function ${fn.name} already exists`);
  }
  registry.install([lib], old ? [old.name] : []);
  c.server.dirty++;
  c.reply.bulk(lib.name);
}

function replyFlags(c: Client, flags: number): void {
  const names = SCRIPT_FLAG_NAMES.filter(([f]) => flags & f).map(([, n]) => n);
  c.reply.set(names.length);
  for (const n of names) c.reply.simple(n);
}

function functionList(c: Client, argv: string[]): void {
  let withCode = false;
  let pattern: string | null = null;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    const lower = a.toLowerCase();
    if (!withCode && lower === "withcode") {
      withCode = true;
      continue;
    }
    if (pattern === null && lower === "libraryname") {
      if (i >= argv.length - 1) fail("ERR library name argument was not given");
      pattern = argv[++i]!;
      continue;
    }
    fail(`ERR Unknown argument ${a}`);
  }
  let libs = c.server.scripting.registry.libraries();
  if (pattern !== null) libs = libs.filter((l) => globMatch(pattern!, l.name, true));
  c.reply.array(libs.length);
  for (const lib of libs) {
    c.reply.map(withCode ? 4 : 3);
    c.reply.bulk("library_name");
    c.reply.bulk(lib.name);
    c.reply.bulk("engine");
    c.reply.bulk("LUA");
    c.reply.bulk("functions");
    c.reply.array(lib.functions.size);
    for (const fn of lib.functions.values()) {
      c.reply.map(3);
      c.reply.bulk("name");
      c.reply.bulk(fn.name);
      c.reply.bulk("description");
      c.reply.bulkOrNull(fn.description);
      c.reply.bulk("flags");
      replyFlags(c, fn.flags);
    }
    if (withCode) {
      c.reply.bulk("library_code");
      c.reply.bulk(lib.code);
    }
  }
}

function functionRestore(c: Client, argv: string[]): void {
  if (argv.length > 4) fail(subcommandSyntaxError(argv));
  let policy = "append";
  if (argv.length === 4) {
    policy = argv[3]!.toLowerCase();
    if (policy !== "append" && policy !== "replace" && policy !== "flush") fail("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
  }
  const payload = Buffer.from(argv[2]!, "latin1");
  if (!verifyDumpPayload(payload, c.server.skipChecksumValidation)) fail("ERR DUMP payload version or checksum are wrong");
  const decoded = decodeFunctionsPayload(payload);
  if (typeof decoded === "string") fail(`ERR ${decoded}`);
  // Compile into a context of their own first: names must be unique within the payload.
  const incoming: CompiledLibrary[] = [];
  const names = new Set<string>();
  const fnNames = new Set<string>();
  for (const code of decoded) {
    let lib: CompiledLibrary;
    try {
      lib = compile(c, code, 0);
    } catch (e) {
      fail(`ERR ${(e as Error).message}`);
    }
    if (names.has(lib.name)) fail(`ERR Library '${lib.name}' already exists`);
    for (const fn of lib.functions.keys()) {
      if (fnNames.has(fn)) fail(`ERR Function ${fn} already exists`);
      fnNames.add(fn);
    }
    names.add(lib.name);
    incoming.push(lib);
  }
  const registry = c.server.scripting.registry;
  if (policy === "flush") {
    registry.clear();
    registry.install(incoming, []);
  } else {
    const removed: string[] = [];
    for (const lib of incoming) {
      if (registry.library(lib.name)) {
        if (policy === "append") fail(`ERR Library ${lib.name} already exists`);
        removed.push(lib.name);
      }
    }
    for (const lib of incoming) {
      for (const fn of lib.functions.keys()) {
        const other = registry.findFunction(fn);
        if (other && !removed.includes(other.lib.name)) fail(`ERR Function ${fn} already exists`);
      }
    }
    registry.install(incoming, removed);
  }
  c.server.dirty++;
  c.reply.ok();
}

function fcallGeneric(c: Client, argv: string[], ro: boolean): void {
  const state = c.server.scripting;
  const found = state.registry.findFunction(argv[1]!);
  if (!found) fail("ERR Function not found");
  const parsed = parseLongLong(argv[2]!);
  if (parsed === null) fail("ERR Bad number of keys provided");
  const n = Number(parsed);
  if (n > argv.length - 3) fail("ERR Number of keys can't be greater than number of args");
  if (n < 0) fail("ERR Number of keys can't be negative");
  const refused = prepareError(c.server, c, found.fn.flags, ro);
  if (refused) fail(refused);
  const runner = new ScriptRunner(c.server, state.client(c.isMaster), c, found.fn.name, found.fn.flags, ro, false);
  runScript(c, state.functionsEngine, runner, argv, found.fn.fn, argv.slice(3, 3 + n), argv.slice(3 + n));
}

export const handlers: HandlerMap = {
  "function|load": functionLoad,
  "function|delete"(c, argv) {
    const registry = c.server.scripting.registry;
    const lib = registry.library(argv[2]!);
    if (!lib) fail("ERR Library not found");
    registry.install([], [lib.name]);
    c.server.dirty++;
    c.reply.ok();
  },
  "function|flush"(c, argv) {
    if (argv.length > 3) fail(subcommandSyntaxError(argv));
    if (argv.length === 3) {
      const mode = argv[2]!.toLowerCase();
      if (mode !== "sync" && mode !== "async") fail("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    }
    c.server.scripting.registry.clear();
    c.server.dirty++;
    c.reply.ok();
  },
  "function|list": functionList,
  "function|dump"(c) {
    const payload = encodeFunctionsPayload(c.server, c.server.scripting.registry.libraries().map((l) => l.code));
    c.reply.bulk(payload.latin1Slice(0, payload.length));
  },
  "function|restore": functionRestore,
  "function|stats"(c) {
    const scripting = c.server.scripting;
    const registry = scripting.registry;
    const busy = scripting.busy;
    // An EVAL is no function: FUNCTION STATS is refused as other commands are.
    if (busy !== null && busy.isEval) fail(busy.busyError);
    c.reply.map(2);
    c.reply.bulk("running_script");
    if (busy === null) c.reply.nullBulk();
    else {
      c.reply.map(3);
      c.reply.bulk("name");
      c.reply.bulk(busy.runner.name);
      c.reply.bulk("command");
      c.reply.array(busy.argv.length);
      for (const a of busy.argv) c.reply.bulk(a);
      c.reply.bulk("duration_ms");
      c.reply.int(busy.runner.durationMs);
    }
    c.reply.bulk("engines");
    c.reply.map(1);
    c.reply.bulk("LUA");
    c.reply.map(2);
    c.reply.bulk("libraries_count");
    c.reply.int(registry.libraries().length);
    c.reply.bulk("functions_count");
    c.reply.int(registry.functionCount());
  },
  "function|kill"(c) {
    killBusyScript(c, false);
  },
  "function|help"(c) {
    replyHelpLines(c, FUNCTION_HELP);
  },
  fcall: (c, argv) => fcallGeneric(c, argv, false),
  fcall_ro: (c, argv) => fcallGeneric(c, argv, true),
};

