// The server's scripting state: the EVAL engine and its script cache (sha1 -> compiled body),
// the functions engine and the compiled view of the function libraries, the clients scripts
// run their commands on, and the command flags EVAL/FCALL take from the script they run
// (evalGetCommandFlags / fcallGetCommandFlags), which the dispatcher's READONLY, MASTERDOWN and
// MULTI checks use.

import { LuaSyntaxError } from "../../scripting/lexer.ts";
import {
  RedisLua,
  SCRIPT_FLAG_ALLOW_OOM,
  SCRIPT_FLAG_ALLOW_STALE,
  SCRIPT_FLAG_EVAL_COMPAT_MODE,
  SCRIPT_FLAG_NAMES,
  SCRIPT_FLAG_NO_WRITES,
  sha1hex,
} from "../../scripting/engine.ts";
import type { LuaFunction } from "../../scripting/value.ts";
import { ClientKind, type Client } from "../client.ts";
import { resolveCommand } from "../dispatch.ts";
import type { Server } from "../server.ts";
import { splitArgs } from "../../config/split-args.ts";
import { CommandError } from "../errors.ts";
import { FunctionRegistry, type LibraryStore } from "./functions-store.ts";
import { ScriptClient, type ScriptRunner } from "./run.ts";
import { BusyScript } from "./busy.ts";
import { CommandFlag } from "../command-spec.ts";

interface CachedScript {
  sha: string;
  body: string;
  flags: number;
  fn: LuaFunction;
}

/** evalExtractShebangFlags: the script's flags, or the error text. */
function shebangFlags(body: string): number | string {
  if (!body.startsWith("#!")) return SCRIPT_FLAG_EVAL_COMPAT_MODE;
  const end = body.indexOf("\n");
  if (end < 0) return "Invalid script shebang";
  const parts = splitArgs(body.slice(0, end).split("\0", 1)[0]!);
  if (!parts || parts.length === 0) return "Invalid engine in script shebang";
  if (parts[0] !== "#!lua") return `Unexpected engine in script shebang: ${parts[0]}`;
  let flags = 0;
  for (let j = 1; j < parts.length; j++) {
    const p = parts[j]!;
    if (!p.startsWith("flags=")) return `Unknown lua shebang option: ${p}`;
    const list = p.slice(6);
    if (list.length === 0) continue;
    for (const f of list.split(",")) {
      const known = SCRIPT_FLAG_NAMES.find(([, n]) => n === f);
      if (!known) return `Unexpected flag in script shebang: ${f}`;
      flags |= known[0];
    }
  }
  return flags;
}

/** scriptFlagsToCmdFlags. */
function scriptFlagsToCmdFlags(cmdFlags: number, scriptFlags: number): number {
  cmdFlags &= ~(CommandFlag.Stale | CommandFlag.DenyOom | CommandFlag.Write);
  if (!(scriptFlags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) cmdFlags |= CommandFlag.DenyOom;
  if (!(scriptFlags & SCRIPT_FLAG_NO_WRITES)) cmdFlags |= CommandFlag.Write;
  if (scriptFlags & SCRIPT_FLAG_ALLOW_STALE) cmdFlags |= CommandFlag.Stale;
  return cmdFlags & ~CommandFlag.MayReplicate;
}

export class ScriptingState {
  private evalEngine: RedisLua | null = null;
  private fnEngine: RedisLua | null = null;
  readonly scripts = new Map<string, CachedScript>();
  /** The run in progress (commands it calls keep the time snapshot taken when it started). */
  running: ScriptRunner | null = null;
  /** A script past busy-reply-threshold, yielding between slices (scripting-busy.ts). */
  busy: BusyScript | null = null;
  /** What waits for the busy script to end (the master's stream, the cron's work, timeouts). */
  private afterBusy: Array<() => void> = [];
  readonly registry: FunctionRegistry;
  private normalClient: ScriptClient | null = null;
  private masterClient: ScriptClient | null = null;
  /** The last body hashed (EVAL hashes the same body for its flags, then to run it). */
  private lastBody = "";
  private lastSha = "";

  constructor(readonly server: Server) {
    this.registry = new FunctionRegistry(server.functions as LibraryStore, () => this.functionsEngine, (m) => server.log.warning(m));
    const evalFlags = (c: Client, argv: string[], isSha: boolean): number => {
      const spec = resolveCommand(c, argv)!;
      const base = spec.flags;
      let flags: number;
      if (isSha) {
        if (argv[1]!.length !== 40) return base;
        const s = this.scripts.get(argv[1]!.toLowerCase());
        if (!s) return base;
        flags = s.flags;
      } else {
        const s = this.scripts.get(this.sha(argv[1]!));
        if (s) flags = s.flags;
        else {
          const f = shebangFlags(argv[1]!);
          if (typeof f === "string") return base;
          flags = f;
        }
      }
      if (flags & SCRIPT_FLAG_EVAL_COMPAT_MODE) return base;
      return scriptFlagsToCmdFlags(base, flags);
    };
    const fcallFlags = (c: Client, argv: string[]): number => {
      const spec = resolveCommand(c, argv)!;
      const found = this.registry.findFunction(argv[1]!);
      if (!found) return spec.flags;
      return scriptFlagsToCmdFlags(spec.flags, found.fn.flags);
    };
    const table = server.commands;
    for (const name of ["eval", "eval_ro"]) {
      const spec = table.get(name);
      if (spec) spec.dynamicFlags = (c, argv) => evalFlags(c, argv, false);
    }
    for (const name of ["evalsha", "evalsha_ro"]) {
      const spec = table.get(name);
      if (spec) spec.dynamicFlags = (c, argv) => evalFlags(c, argv, true);
    }
    for (const name of ["fcall", "fcall_ro"]) {
      const spec = table.get(name);
      if (spec) spec.dynamicFlags = fcallFlags;
    }
  }

  private logger(): (level: number, message: string) => void {
    const log = this.server.log;
    return (level, message) => {
      if (level === 0) log.debug(message);
      else if (level === 1) log.verbose(message);
      else if (level === 2) log.notice(message);
      else log.warning(message);
    };
  }

  private newEngine(mode: "eval" | "function"): RedisLua {
    return new RedisLua(mode, this.logger());
  }

  get eval(): RedisLua {
    return (this.evalEngine ??= this.newEngine("eval"));
  }

  get functionsEngine(): RedisLua {
    return (this.fnEngine ??= this.newEngine("function"));
  }

  sha(body: string): string {
    if (body !== this.lastBody || this.lastSha === "") {
      this.lastBody = body;
      this.lastSha = sha1hex(body);
    }
    return this.lastSha;
  }

  /** luaCreateFunction: the cached script for a body, compiled on first use. Throws CommandError. */
  scriptFor(body: string): CachedScript {
    const sha = this.sha(body);
    const cached = this.scripts.get(sha);
    if (cached) return cached;
    const flags = shebangFlags(body);
    if (typeof flags === "string") throw new CommandError(`ERR ${flags}`);
    // The shebang line is skipped, its newline kept so that line numbers stay right.
    const code = flags & SCRIPT_FLAG_EVAL_COMPAT_MODE ? body : body.slice(body.indexOf("\n"));
    let fn: LuaFunction;
    try {
      fn = this.eval.compileScript(code);
    } catch (e) {
      if (e instanceof LuaSyntaxError) throw new CommandError(`ERR Error compiling script (new function): ${e.message}`);
      throw e;
    }
    const s: CachedScript = { sha, body, flags, fn };
    this.scripts.set(sha, s);
    return s;
  }

  /** SCRIPT FLUSH: a fresh Lua state (scriptingReset) and an empty cache. */
  flushScripts(): void {
    this.scripts.clear();
    this.evalEngine = null;
  }

  /** The client a script's commands run on: with our master's privileges when it sent the script. */
  client(forMaster: boolean): ScriptClient {
    if (forMaster) return (this.masterClient ??= new ScriptClient(this.server, ClientKind.Master));
    return (this.normalClient ??= new ScriptClient(this.server, ClientKind.Normal));
  }

  /**
   * The script `runner` (started by `caller`'s command `argv` on `engine`) yielded: it becomes
   * the busy script, continued in slices; the caller reads no more input until it ends.
   */
  startBusy(engine: RedisLua, runner: ScriptRunner, caller: Client, argv: string[]): void {
    const busy = new BusyScript(this.server, engine, runner, caller, argv);
    this.busy = busy;
    caller.pendingScript = busy;
    caller.blocked = true;
    busy.schedule();
  }

  /** Runs `fn` now, or once the busy script has ended (in the order asked). */
  whenNotBusy(fn: () => void): void {
    if (this.busy === null) fn();
    else this.afterBusy.push(fn);
  }

  /** The busy script ended: what waited for it runs (unless another one started meanwhile). */
  runWhenNotBusy(): void {
    while (this.busy === null && this.afterBusy.length) this.afterBusy.shift()!();
  }

  /** For INFO memory: number_of_cached_scripts and friends. */
  get cachedScripts(): number {
    return this.scripts.size;
  }
}
