// The Lua environments of Redis 7.0: one for EVAL scripts (eval.c) and one for function
// libraries (function_lua.c), each with the libraries and the redis.* API Redis exposes, the
// globals protection (a readonly globals table whose __index raises "Script attempted to access
// nonexistent global variable"), and the error handler that turns an error into
// "-ERR user_script:1: ... script: <name>, on @user_script:1.".
//
// The globals are built by the same sequence of insertions Redis makes (including the names
// its allow list drops, which still leave a dead node), so that the table layout, hence
// pairs(_G) order, matches redis-server's.

import { createHash } from "node:crypto";
import { LuaSyntaxError } from "./lexer.ts";
import { openBase } from "./lib-base.ts";
import { openBit } from "./lib-bit.ts";
import { makeCjson } from "./lib-cjson.ts";
import { openCmsgpack } from "./lib-cmsgpack.ts";
import { openMath } from "./lib-math.ts";
import { openString } from "./lib-string.ts";
import { openStruct } from "./lib-struct.ts";
import { openTable } from "./lib-table.ts";
import { register, toStringOrNull } from "./lib-util.ts";
import { loadChunk } from "./load.ts";
import { numberTo17g } from "./numbers.ts";
import { errorTable, luaToResp, respToLua } from "./resp-convert.ts";
import { LuaKill, LuaState, stackOverflowValue, SUSPEND, toNumber } from "./state.ts";
import { LuaTableError } from "./table.ts";
import { EMPTY, LuaError, LuaFunction, LuaTable, type LuaValue } from "./value.ts";
import type { ReplyWriter } from "../protocol/reply-writer.ts";
import { REDIS_COMPAT_VERSION } from "../common/version.ts";

export const LL_DEBUG = 0;
export const LL_VERBOSE = 1;
export const LL_NOTICE = 2;
const LL_WARNING = 3;

const PROPAGATE_AOF = 1;
export const PROPAGATE_REPL = 2;

/** Script flags (shebang "flags=" and register_function's flags). */
export const SCRIPT_FLAG_NO_WRITES = 1 << 0;
export const SCRIPT_FLAG_ALLOW_OOM = 1 << 1;
export const SCRIPT_FLAG_ALLOW_STALE = 1 << 2;
const SCRIPT_FLAG_NO_CLUSTER = 1 << 3;
/** A script without a shebang (EVAL's backwards compatible mode). */
export const SCRIPT_FLAG_EVAL_COMPAT_MODE = 1 << 4;
const SCRIPT_FLAG_ALLOW_CROSS_SLOT = 1 << 5;

export const SCRIPT_FLAG_NAMES: Array<[number, string]> = [
  [SCRIPT_FLAG_NO_WRITES, "no-writes"],
  [SCRIPT_FLAG_ALLOW_OOM, "allow-oom"],
  [SCRIPT_FLAG_ALLOW_STALE, "allow-stale"],
  [SCRIPT_FLAG_NO_CLUSTER, "no-cluster"],
  [SCRIPT_FLAG_ALLOW_CROSS_SLOT, "allow-cross-slot-keys"],
];

function versionNum(v: string): number {
  const [a, b, c] = v.split(".").map((x) => Number(x));
  return ((a ?? 0) << 16) | ((b ?? 0) << 8) | (c ?? 0);
}

export function sha1hex(s: string): string {
  return createHash("sha1").update(Buffer.from(s, "latin1")).digest("hex");
}

/** One invocation of a script or function: what redis.* needs from the server. */
export interface ScriptRun {
  /** The sha1 (EVAL) or the function name (FCALL), as error messages and logs show it. */
  readonly name: string;
  /** RESP version of the replies redis.call converts (redis.setresp). */
  resp: 2 | 3;
  /** redis.set_repl flags. */
  replFlags: number;
  /**
   * Runs a command for redis.call/pcall with the checks Redis makes from scripts. A string is
   * a rejection (the command did not run), in luaPushError's format; a Buffer holds the reply.
   */
  execute(argv: string[]): Buffer | string;
  /**
   * An error reply the script's result made for the caller (raised, returned, or nested in a
   * returned table). `ignoreStats`: the error came from redis.call/pcall and was counted where
   * it was made (ignore_error_stats_update), so only the script command's failure counts.
   */
  errorReplied(text: string, ignoreStats: boolean): void;
  /** redis.acl_check_cmd: whether the caller's user may run argv; null if no such command. */
  aclCheck(argv: string[]): boolean | null;
  /** redis.log. */
  log(level: number, message: string): void;
  /**
   * Called every few thousand Lua instructions (loop iterations, calls): true asks the script
   * to yield (RedisLua.execute then returns "suspended" and the caller resumes it later).
   */
  tick(): boolean;
}

/** Budget (instructions) a redis.call/pcall uses up. */
const REDIS_CALL_COST = 100;

/** How a run (execute, resume) ended: its reply written, or suspended (call resume()). */
export type RunOutcome = "done" | "suspended";

/** A function registered by a library being loaded. */
export interface RegisteredFunction {
  name: string;
  fn: LuaFunction;
  description: string | null;
  flags: number;
}

interface LoadContext {
  functions: Map<string, RegisteredFunction>;
  deadline: number;
}

type EngineMode = "eval" | "function";

/** What an error handler found: the message, and where (when known). */
interface ErrorInfo {
  msg: string | null;
  source: string | null;
  line: string | null;
  /** ignore_error_stats_update: an error of redis.call/pcall, already counted. */
  ignoreStats: boolean;
}

function functionNameValid(name: string): boolean {
  return /^[a-zA-Z0-9_]+$/.test(name);
}

export class RedisLua {
  readonly S = new LuaState();
  /** The globals of the engine (for functions: the real globals, behind a readonly proxy). */
  readonly G: LuaTable;
  /** The table chunks see as their globals (EVAL: G; functions: an empty table over G). */
  readonly env: LuaTable;
  private run: ScriptRun | null = null;
  private loadCtx: LoadContext | null = null;
  /** Functions engine: the globals chunks see while a library loads (only `redis` with register_function). */
  private libraryApi: LuaTable | null = null;
  private envMeta: LuaTable | null = null;

  constructor(
    readonly mode: EngineMode,
    private readonly logger: (level: number, message: string) => void,
  ) {
    const S = this.S;
    // lua_open: the globals table is luaH_new(L, 0, 2)
    const G = new LuaTable(0, 2);
    this.G = G;
    S.globals = G;
    this.buildGlobals(G);
    if (mode === "eval") {
      this.env = G;
    } else {
      // function_lua.c: chunks run with an empty readonly table whose __index is G (or, while
      // a library loads, the library API).
      const env = new LuaTable();
      const meta = new LuaTable();
      meta.set("__index", G);
      env.metatable = meta;
      meta.readonly = true;
      env.readonly = true;
      this.env = env;
      this.envMeta = meta;
      S.globals = env;
    }
    S.onBudget = () => {
      if (this.run) return this.run.tick();
      if (this.loadCtx && Date.now() > this.loadCtx.deadline) throw new LuaKill(errorTable("FUNCTION LOAD timeout"));
      return false;
    };
    S.killError = () => {
      // luaMaskCountHook: logged each time the kill is raised.
      this.logger(LL_WARNING, "Lua script killed by user with SCRIPT KILL.");
      return new LuaKill(errorTable("Script killed by user with SCRIPT KILL..."));
    };
  }

  // ------------------------------------------------------------------ environment

  private buildGlobals(G: LuaTable): void {
    const S = this.S;
    const allowed = new Set([
      "string", "cjson", "bit", "cmsgpack", "math", "table", "struct", "redis", "__redis__err__handler",
      "xpcall", "tostring", "setmetatable", "next", "assert", "tonumber", "rawequal", "collectgarbage", "getmetatable", "rawset", "pcall", "coroutine", "type", "_G", "select", "unpack", "gcinfo", "pairs", "rawget", "loadstring", "ipairs", "_VERSION", "load", "error", "debug",
    ]);
    // luaNewIndexAllowList: a new global creates its node (luaH_set) before __newindex decides.
    const gset = (name: string, v: LuaValue): void => {
      if (G.get(name) !== undefined) {
        G.set(name, v);
        return;
      }
      G.set(name, undefined);
      if (allowed.has(name)) G.set(name, v);
    };
    const lib = (name: string, size: number): LuaTable => {
      const t = new LuaTable(0, size);
      gset(name, t);
      return t;
    };

    // luaopen_base
    const base = new LuaTable();
    openBase(S, base);
    gset("_G", G);
    const baseNames = ["assert", "collectgarbage", "dofile", "error", "gcinfo", "getfenv", "getmetatable", "loadfile", "load", "loadstring", "next", "pcall", "print", "rawequal", "rawget", "rawset", "select", "setfenv", "setmetatable", "tonumber", "tostring", "type", "unpack", "xpcall"];
    for (const n of baseNames) gset(n, base.get(n) ?? new LuaFunction(n, () => EMPTY, true));
    gset("_VERSION", "Lua 5.1");
    gset("ipairs", base.get("ipairs"));
    gset("pairs", base.get("pairs"));
    gset("newproxy", new LuaFunction("newproxy", () => EMPTY, true));
    const co = lib("coroutine", 6);
    const coSrc = base.get("coroutine") as LuaTable;
    for (const n of ["create", "resume", "running", "status", "wrap", "yield"]) co.set(n, coSrc.get(n));

    // luaopen_table, luaopen_string, luaopen_math, luaopen_debug
    const tblSrc = new LuaTable();
    openTable(S, tblSrc);
    const tbl = lib("table", 9);
    for (const n of ["concat", "foreach", "foreachi", "getn", "maxn", "insert", "remove", "setn", "sort"]) tbl.set(n, (tblSrc.get("table") as LuaTable).get(n));
    const strSrc = new LuaTable();
    openString(S, strSrc);
    const strFns = strSrc.get("string") as LuaTable;
    const str = lib("string", 15);
    for (const n of ["byte", "char", "dump", "find", "format", "gfind", "gmatch", "gsub", "len", "lower", "match", "rep", "reverse", "sub", "upper"]) str.set(n, strFns.get(n));
    str.set("gfind", str.get("gmatch"));
    const stringMeta = new LuaTable(0, 1);
    stringMeta.set("__index", str);
    S.stringMeta = stringMeta;
    const mathSrc = new LuaTable();
    openMath(S, new LuaTable(), mathSrc);
    const math = lib("math", 28);
    for (const n of ["abs", "acos", "asin", "atan2", "atan", "ceil", "cosh", "cos", "deg", "exp", "floor", "fmod", "frexp", "ldexp", "log10", "log", "max", "min", "modf", "pow", "rad", "random", "randomseed", "sinh", "sin", "sqrt", "tanh", "tan"]) math.set(n, mathSrc.get(n));
    math.set("pi", Math.PI);
    math.set("huge", Infinity);
    math.set("mod", math.get("fmod"));
    lib("debug", 14);

    // cjson, struct, cmsgpack, bit
    gset("cjson", makeCjson(S));
    const structT = lib("struct", 3);
    openStruct(S, structT);
    const mpSrc = new LuaTable();
    openCmsgpack(S, mpSrc);
    gset("cmsgpack", mpSrc.get("cmsgpack"));
    const bit = lib("bit", 12);
    openBit(S, new LuaTable(), bit);

    // luaRegisterRedisAPI: Redis's pcall, the redis table
    gset("pcall", new LuaFunction("pcall", (args) => this.redisPcall(args), true));
    const redis = this.makeRedisTable();
    gset("redis", redis);
    if (this.mode === "eval") {
      register(S, redis, {
        breakpoint: () => [false],
        debug: () => EMPTY,
        replicate_commands: () => [true],
      });
      gset("redis", redis);
      // "local dbg = debug; debug = nil; function __redis__err__handler(err) ... end"
      G.set("debug", undefined);
      gset("__redis__err__handler", new LuaFunction("__redis__err__handler", (args) => [args[0]], true));
    } else {
      this.libraryApi = this.makeLibraryApi();
      G.set("debug", undefined);
    }
    // luaSetErrorMetatable + protection of everything reachable from the globals
    G.metatable = this.errorMetatable();
    protectRecursively(G);
    protectRecursively(stringMeta);
  }

  private errorMetatable(): LuaTable {
    const S = this.S;
    const mt = new LuaTable();
    mt.set(
      "__index",
      new LuaFunction(
        "__index",
        (args) => {
          const k = args[1];
          const name = toStringOrNull(k);
          if (name === null) throw S.error("Second argument to luaProtectedTableError must be a string or number");
          throw S.error(`Script attempted to access nonexistent global variable '${name}'`);
        },
        true,
      ),
    );
    return mt;
  }

  private makeRedisTable(): LuaTable {
    const S = this.S;
    const redis = new LuaTable();
    register(S, redis, {
      call: (args) => this.redisCommand(args, true),
      pcall: (args) => this.redisCommand(args, false),
    });
    this.registerLog(redis);
    redis.set("REDIS_VERSION_NUM", versionNum(REDIS_COMPAT_VERSION));
    redis.set("REDIS_VERSION", REDIS_COMPAT_VERSION);
    register(S, redis, {
      setresp: (args) => {
        const run = this.requireRun("redis.setresp can only be called inside a script invocation");
        if (args.length !== 1) throw new LuaError(errorTable("redis.setresp() requires one argument."));
        const resp = Math.trunc(toNumber(args[0]) ?? 0);
        if (resp !== 2 && resp !== 3) throw new LuaError(errorTable("RESP version must be 2 or 3."));
        run.resp = resp;
        return EMPTY;
      },
      sha1hex: (args) => {
        if (args.length !== 1) throw new LuaError(errorTable("wrong number of arguments"));
        return [sha1hex(toStringOrNull(args[0]) ?? "")];
      },
      error_reply: (args) => {
        if (args.length !== 1 || typeof args[0] !== "string") return [errorTable("wrong number or type of arguments")];
        const e = args[0];
        return [errorTable(e.startsWith("-") ? e : `-${e}`)];
      },
      status_reply: (args) => {
        if (args.length !== 1 || typeof args[0] !== "string") return [errorTable("wrong number or type of arguments")];
        const t = new LuaTable();
        t.set("ok", args[0]);
        return [t];
      },
      set_repl: (args) => {
        const run = this.requireRun("redis.set_repl can only be called inside a script invocation");
        if (args.length !== 1) throw new LuaError(errorTable("redis.set_repl() requires two arguments."));
        const flags = Math.trunc(toNumber(args[0]) ?? 0);
        if ((flags & ~(PROPAGATE_AOF | PROPAGATE_REPL)) !== 0) throw new LuaError(errorTable("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."));
        run.replFlags = flags;
        return EMPTY;
      },
    });
    redis.set("REPL_NONE", 0);
    redis.set("REPL_AOF", PROPAGATE_AOF);
    redis.set("REPL_SLAVE", PROPAGATE_REPL);
    redis.set("REPL_REPLICA", PROPAGATE_REPL);
    redis.set("REPL_ALL", PROPAGATE_AOF | PROPAGATE_REPL);
    register(S, redis, {
      acl_check_cmd: (args) => {
        const run = this.requireRun("redis.acl_check_cmd can only be called inside a script invocation");
        const argv = this.argsToArgv(args);
        if (typeof argv === "string") throw new LuaError(errorTable(argv));
        const allowed = run.aclCheck(argv);
        if (allowed === null) throw new LuaError(errorTable("Invalid command passed to redis.acl_check_cmd()"));
        return [allowed];
      },
    });
    return redis;
  }

  private registerLog(t: LuaTable): void {
    register(this.S, t, {
      log: (args) => {
        if (args.length < 2) throw new LuaError(errorTable("redis.log() requires two arguments or more."));
        const lvl = toNumber(args[0]);
        if (lvl === undefined) throw new LuaError(errorTable("First argument must be a number (log level)."));
        const level = Math.trunc(lvl);
        if (level < LL_DEBUG || level > LL_WARNING) throw new LuaError(errorTable("Invalid debug level."));
        const parts: string[] = [];
        for (let j = 1; j < args.length; j++) {
          const s = toStringOrNull(args[j]);
          if (s !== null) parts.push(s);
        }
        this.logger(level, parts.join(" "));
        return EMPTY;
      },
    });
    t.set("LOG_DEBUG", LL_DEBUG);
    t.set("LOG_VERBOSE", LL_VERBOSE);
    t.set("LOG_NOTICE", LL_NOTICE);
    t.set("LOG_WARNING", LL_WARNING);
  }

  private makeLibraryApi(): LuaTable {
    const globals = new LuaTable();
    const redis = new LuaTable();
    register(this.S, redis, { register_function: (args) => this.registerFunction(args) });
    this.registerLog(redis);
    redis.set("REDIS_VERSION_NUM", versionNum(REDIS_COMPAT_VERSION));
    redis.set("REDIS_VERSION", REDIS_COMPAT_VERSION);
    redis.metatable = this.errorMetatable();
    globals.set("redis", redis);
    globals.metatable = this.errorMetatable();
    protectRecursively(globals);
    return globals;
  }

  private requireRun(msg: string): ScriptRun {
    if (!this.run) throw new LuaError(errorTable(msg));
    return this.run;
  }

  // ------------------------------------------------------------------ redis.call / pcall

  /** luaArgsToRedisArgv: the argv, or the error text when an argument is not a string/number. */
  private argsToArgv(args: LuaValue[]): string[] | string {
    if (args.length === 0) return "Please specify at least one argument for this redis lib call";
    const argv = new Array<string>(args.length);
    for (let j = 0; j < args.length; j++) {
      const a = args[j];
      if (typeof a === "number") argv[j] = numberTo17g(a);
      else if (typeof a === "string") argv[j] = a;
      else return "Lua redis lib command arguments must be strings or integers";
    }
    return argv;
  }

  private redisCommand(args: LuaValue[], raise: boolean): LuaValue[] {
    const run = this.run;
    if (!run) throw new LuaError(errorTable("redis.call/pcall can only be called inside a script invocation"));
    const argv = this.argsToArgv(args);
    if (typeof argv === "string") {
      const t = errorTable(argv);
      if (raise) throw new LuaError(t);
      return [t];
    }
    // A command must not run out of JavaScript stack half way through a change.
    if (this.S.depth >= 32 && !this.S.stackOk(4000)) throw new LuaError(`${this.S.where(1)}stack overflow`);
    // A command costs about as much as a hundred loop iterations: the next tick comes sooner, so
    // that a loop of commands checks the time (and yields when busy) every few milliseconds.
    this.S.budget -= REDIS_CALL_COST;
    const r = run.execute(argv);
    if (typeof r === "string") {
      const t = errorTable(r);
      t.set("ignore_error_stats_update", true);
      if (raise) throw new LuaError(t);
      return [t];
    }
    const v = respToLua(r, 0).value;
    if (raise && r[0] === 0x2d) throw new LuaError(v);
    return [v];
  }

  /** Redis's pcall: like Lua's, but an error table with a string `err` becomes that string. */
  private redisPcall(args: LuaValue[]): LuaValue[] {
    // luaRedisPcall with no arguments ends up calling its own result placeholder.
    if (args.length === 0) return [false, "attempt to call a boolean value"];
    const S = this.S;
    const depth = S.depth;
    const cdepth = S.cdepth;
    const levels = S.pcallLevels;
    S.pcallLevels = levels + 1;
    let r: LuaValue[];
    try {
      r = S.callFromNative(args[0], args.slice(1));
    } catch (e) {
      if (e === SUSPEND) {
        S.keepProtection(depth, cdepth, levels, pcallResults, this.pcallError);
        throw e;
      }
      S.pcallLevels = levels;
      return this.pcallError(e, depth, cdepth);
    }
    S.pcallLevels = levels;
    return pcallResults(r);
  }

  /** Redis's pcall when the call failed: false and the error (its `err` when a table has one). */
  private readonly pcallError = (e: unknown, depth: number, cdepth: number): LuaValue[] => {
    const S = this.S;
    let v: LuaValue;
    if (e instanceof LuaError) v = e.value;
    else if (e instanceof RangeError) v = stackOverflowValue(S);
    else if (e instanceof LuaTableError) v = e.message;
    else throw e;
    S.depth = depth;
    S.cdepth = cdepth;
    if (v instanceof LuaTable) {
      const err = v.get("err");
      if (typeof err === "string" || typeof err === "number") return [false, err];
      return [false, v, err];
    }
    return [false, v];
  };

  // ------------------------------------------------------------------ functions

  private registerFunction(args: LuaValue[]): LuaValue[] {
    const ctx = this.loadCtx;
    if (!ctx) throw new LuaError(errorTable("redis.register_function can only be called on FUNCTION LOAD command"));
    let name: string | null = null;
    let desc: string | null = null;
    let fn: LuaFunction | null = null;
    let flags = 0;
    const fail = (msg: string): never => {
      throw new LuaError(errorTable(msg));
    };
    if (args.length < 1 || args.length > 2) fail("wrong number of arguments to redis.register_function");
    if (args.length === 1) {
      const t = args[0];
      if (!(t instanceof LuaTable)) return fail("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
      let k: LuaValue = undefined;
      for (;;) {
        const e = t.next(k);
        if (e === null) break;
        k = e[0];
        const v = e[1];
        const key = toStringOrNull(k);
        if (key === null) fail("named argument key given to redis.register_function is not a string");
        const lk = key!.toLowerCase();
        if (lk === "function_name") {
          const s = toStringOrNull(v);
          if (s === null) fail("function_name argument given to redis.register_function must be a string");
          name = s;
        } else if (lk === "description") {
          const s = toStringOrNull(v);
          if (s === null) fail("description argument given to redis.register_function must be a string");
          desc = s;
        } else if (lk === "callback") {
          if (!(v instanceof LuaFunction)) fail("callback argument given to redis.register_function must be a function");
          fn = v as LuaFunction;
        } else if (lk === "flags") {
          if (!(v instanceof LuaTable)) fail("flags argument to redis.register_function must be a table representing function flags");
          const parsed = parseFlagTable(v as LuaTable);
          if (parsed === null) fail("unknown flag given");
          flags = parsed!;
        } else fail("unknown argument given to redis.register_function");
      }
      if (name === null) fail("redis.register_function must get a function name argument");
      if (fn === null) fail("redis.register_function must get a callback argument");
    } else {
      name = toStringOrNull(args[0]);
      if (name === null) fail("first argument to redis.register_function must be a string");
      if (!(args[1] instanceof LuaFunction)) fail("second argument to redis.register_function must be a function");
      fn = args[1] as LuaFunction;
    }
    if (!functionNameValid(name!)) fail("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
    if (ctx.functions.has(name!)) fail("Function already exists in the library");
    ctx.functions.set(name!, { name: name!, fn: fn!, description: desc, flags });
    return EMPTY;
  }

  /**
   * luaEngineCreate: runs a library's code (after its shebang line) with the library API as
   * globals. Returns the functions it registered, or the error text.
   */
  loadLibrary(code: string, timeoutMs: number): Map<string, RegisteredFunction> | string {
    const S = this.S;
    let fn: LuaFunction;
    const meta = this.envMeta!;
    meta.readonly = false;
    meta.set("__index", this.libraryApi ?? undefined);
    meta.readonly = true;
    try {
      try {
        fn = loadChunk(S, code, "@user_function", this.env);
      } catch (e) {
        if (e instanceof LuaSyntaxError) return `Error compiling function: ${e.message}`;
        throw e;
      }
      const ctx: LoadContext = { functions: new Map(), deadline: timeoutMs > 0 ? Date.now() + timeoutMs : Infinity };
      this.loadCtx = ctx;
      S.depth = 0;
      S.cdepth = 1;
      S.budget = 10000;
      try {
        fn.call(EMPTY);
      } catch (e) {
        const v = e instanceof LuaError ? e.value : e instanceof RangeError ? stackOverflowValue(S) : undefined;
        if (v === undefined && !(e instanceof LuaError)) throw e;
        const info = this.errorInfo(v);
        return `Error registering functions: ${info.msg ?? ""}`;
      } finally {
        this.loadCtx = null;
        S.depth = 0;
      }
      return ctx.functions;
    } finally {
      meta.readonly = false;
      meta.set("__index", this.G);
      meta.readonly = true;
    }
  }

  // ------------------------------------------------------------------ running

  /** Compiles an EVAL body ("@user_script"). Throws LuaSyntaxError. */
  compileScript(body: string): LuaFunction {
    return loadChunk(this.S, body, "@user_script", this.env);
  }

  /** luaExtractErrorInformation on an error value (without the handler's position). */
  private errorInfo(v: LuaValue): ErrorInfo {
    if (typeof v === "string" || typeof v === "number") return { msg: `ERR ${toStringOrNull(v)}`, source: null, line: null, ignoreStats: false };
    if (v instanceof LuaTable) {
      const str = (x: LuaValue): string | null => toStringOrNull(x);
      return { msg: str(v.get("err")), source: str(v.get("source")), line: str(v.get("line")), ignoreStats: v.get("ignore_error_stats_update") === true };
    }
    return { msg: null, source: null, line: null, ignoreStats: false };
  }

  /** A run that yielded: resume() finishes it. */
  private suspended: { run: ScriptRun; reply: ReplyWriter } | null = null;

  /**
   * Runs a script body (EVAL: no arguments, KEYS/ARGV as globals) or a function (keys and
   * args tables) and writes its reply, an error reply when the script raised an error. Every
   * error reply written (also those nested in a returned table) is told to run.errorReplied,
   * for the statistics. "suspended": the script yielded (run.tick asked it): nothing is
   * written yet, resume() continues it (kill() first to stop it there).
   */
  execute(fn: LuaFunction, keys: string[], args: string[], run: ScriptRun, reply: ReplyWriter): RunOutcome {
    const S = this.S;
    const keysT = arrayOf(keys);
    const argsT = arrayOf(args);
    let callArgs: LuaValue[];
    if (this.mode === "eval") {
      this.G.set("KEYS", keysT);
      this.G.set("ARGV", argsT);
      callArgs = EMPTY;
    } else callArgs = [keysT, argsT];
    this.run = run;
    S.depth = 0;
    // luaCallFunction's lua_pcall is the first C level.
    S.cdepth = 1;
    S.budget = S.tickEvery;
    S.pcallLevels = 0;
    S.killed = false;
    return this.runToEnd(fn, callArgs, run, reply);
  }

  /** Whether a run is suspended (between execute/resume returning "suspended" and its resume). */
  get isSuspended(): boolean {
    return this.suspended !== null;
  }

  /** Continues the suspended run from where it yielded. */
  resume(): RunOutcome {
    const { run, reply } = this.suspended!;
    this.suspended = null;
    return this.runToEnd(null, EMPTY, run, reply);
  }

  /**
   * SCRIPT KILL / FUNCTION KILL of the suspended run: resume() then raises "Script killed by
   * user with SCRIPT KILL..." where it yielded, and again at every tick or line change if a
   * pcall catches it (Redis's hook, set to every line once killed).
   */
  kill(): void {
    this.S.killed = true;
    this.S.budget = 0;
  }

  /** Runs `fn` (null: resumes the suspended frames) to its end or its next suspension. */
  private runToEnd(fn: LuaFunction | null, callArgs: LuaValue[], run: ScriptRun, reply: ReplyWriter): RunOutcome {
    const S = this.S;
    let result: LuaValue;
    S.suspendable = true;
    try {
      if (fn !== null) result = fn.call(callArgs)[0];
      else {
        S.resumeAt = 0;
        result = S.resumeFrame(S.frames[0]!)[0];
      }
    } catch (e) {
      S.suspendable = false;
      if (e === SUSPEND) {
        this.suspended = { run, reply };
        return "suspended";
      }
      let error: { text: string; ignoreStats: boolean };
      try {
        error = this.scriptError(e, run.name);
      } finally {
        this.endRun();
      }
      reply.error(error.text);
      run.errorReplied(error.text, error.ignoreStats);
      return "done";
    }
    S.suspendable = false;
    this.endRun();
    S.depth = 0;
    luaToResp(result, reply, run.resp, 0, (text, ignoreStats) => run.errorReplied(text, ignoreStats));
    return "done";
  }

  private endRun(): void {
    const S = this.S;
    this.run = null;
    S.killed = false;
    S.pcallLevels = 0;
    // Frames of a deep recursion would otherwise stay referenced until overwritten.
    if (S.frames.length > 256) S.frames.length = 0;
  }

  /** The error handler (__redis__err__handler) and luaCallFunction's error reply. */
  private scriptError(e: unknown, funcname: string): { text: string; ignoreStats: boolean } {
    const S = this.S;
    let v: LuaValue;
    if (e instanceof LuaError) v = e.value;
    else if (e instanceof RangeError) v = stackOverflowValue(S);
    else if (e instanceof LuaTableError) v = e.message;
    else throw e;
    const frame = S.topLua();
    S.depth = 0;
    S.cdepth = 0;
    let err: LuaTable;
    if (!(v instanceof LuaTable)) {
      let text: string;
      try {
        text = S.tostring(v);
      } catch {
        return { text: `ERR Error running script ${funcname}, error in error handling`, ignoreStats: false };
      }
      err = new LuaTable();
      err.set("err", `ERR ${text}`);
    } else err = v;
    if (frame) {
      if (err.readonly) return { text: `ERR Error running script ${funcname}, error in error handling`, ignoreStats: false };
      err.set("source", frame.proto.source);
      err.set("line", frame.line);
    }
    const info = this.errorInfo(err);
    let msg = info.msg ?? "";
    if (info.line !== null && info.source !== null) msg += ` script: ${funcname}, on ${info.source}:${info.line}.`;
    return { text: msg, ignoreStats: info.ignoreStats };
  }
}

/** pcall's results when the call succeeded: true, then the callee's. */
function pcallResults(r: LuaValue[]): LuaValue[] {
  return [true, ...r];
}

function arrayOf(items: string[]): LuaTable {
  const t = new LuaTable();
  for (let i = 0; i < items.length; i++) t.setInt(i + 1, items[i]);
  return t;
}

/** luaSetTableProtectionRecursively. */
function protectRecursively(t: LuaTable): void {
  if (t.readonly) return;
  t.readonly = true;
  let k: LuaValue = undefined;
  for (;;) {
    const e = t.next(k);
    if (e === null) break;
    k = e[0];
    if (e[1] instanceof LuaTable) protectRecursively(e[1]);
  }
  if (t.metatable) protectRecursively(t.metatable);
}

/** luaRegisterFunctionReadFlags: flag names (case-insensitive) to bits; null for an unknown one. */
function parseFlagTable(t: LuaTable): number | null {
  let flags = 0;
  for (let j = 1; ; j++) {
    const v = t.get(j);
    if (v === undefined) break;
    const s = toStringOrNull(v);
    if (s === null) return null;
    const f = SCRIPT_FLAG_NAMES.find(([, n]) => n === s.toLowerCase());
    if (!f) return null;
    flags |= f[0];
  }
  return flags;
}

