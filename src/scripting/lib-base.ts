// The base library (lbaselib.c of Lua 5.1) as Redis loads it: assert, error, pcall, xpcall,
// select, type, tonumber, tostring, unpack, next, pairs, ipairs, raw*, metatables, environments,
// loadstring/load, collectgarbage. print, dofile, loadfile, getfenv, setfenv and newproxy are
// not there (Redis 7.0.15 removes them); coroutines are not supported (the table exists, its
// functions raise).

import { LuaSyntaxError } from "./lexer.ts";
import { loadChunk } from "./load.ts";
import { checkAny, checkInt, checkString, checkTable, optInt, optString, register, toStringOrNull } from "./lib-util.ts";
import { numberToString, strToNumber } from "./numbers.ts";
import { type LuaState, rawToString, stackOverflowValue, SUSPEND } from "./state.ts";
import { LuaTableError } from "./table.ts";
import { EMPTY, LuaError, LuaFunction, LuaTable, type LuaValue, typeName } from "./value.ts";

/** The Lua value of an error caught by pcall (a JavaScript stack overflow becomes Lua's error). */
function caughtErrorValue(S: LuaState, e: unknown): LuaValue {
  if (e instanceof LuaError) return e.value;
  if (e instanceof RangeError) return stackOverflowValue(S);
  if (e instanceof LuaTableError) return e.message;
  throw e;
}

/** C's strtoul(s, base) on the whole string (as tonumber with a base uses it). */
function strtoulWhole(s: string, base: number): number | undefined {
  let i = 0;
  const n = s.length;
  while (i < n && /[\t\n\v\f\r ]/.test(s[i]!)) i++;
  let neg = false;
  if (s[i] === "+" || s[i] === "-") {
    neg = s[i] === "-";
    i++;
  }
  if (base === 16 && s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X") && digitValue(s.charCodeAt(i + 2)) < 16) i += 2;
  const start = i;
  let v = 0n;
  let overflow = false;
  const B = BigInt(base);
  while (i < n) {
    const d = digitValue(s.charCodeAt(i));
    if (d >= base) break;
    v = v * B + BigInt(d);
    if (v > 18446744073709551615n) overflow = true;
    i++;
  }
  if (i === start) return undefined;
  while (i < n && /[\t\n\v\f\r ]/.test(s[i]!)) i++;
  if (i < n && s.charCodeAt(i) !== 0) return undefined;
  if (overflow) return 18446744073709551615;
  if (neg) v = BigInt.asUintN(64, -v);
  return Number(v);
}

function digitValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 122) return c - 87;
  if (c >= 65 && c <= 90) return c - 55;
  return 99;
}

const GC_OPTIONS = ["stop", "restart", "collect", "count", "step", "setpause", "setstepmul"];

export function openBase(S: LuaState, G: LuaTable): void {
  const pcallOk = (r: LuaValue[]): LuaValue[] => [true, ...r];
  const pcallFail = (e: unknown, depth: number, cdepth: number): LuaValue[] => {
    const v = caughtErrorValue(S, e);
    S.depth = depth;
    S.cdepth = cdepth;
    return [false, v];
  };
  const pcallImpl = (args: LuaValue[]): LuaValue[] => {
    const depth = S.depth;
    const cdepth = S.cdepth;
    const levels = S.pcallLevels;
    S.pcallLevels = levels + 1;
    let r: LuaValue[];
    try {
      r = S.callFromNative(args[0], args.slice(1));
    } catch (e) {
      if (e === SUSPEND) {
        S.keepProtection(depth, cdepth, levels, pcallOk, pcallFail);
        throw e;
      }
      S.pcallLevels = levels;
      return pcallFail(e, depth, cdepth);
    }
    S.pcallLevels = levels;
    return pcallOk(r);
  };

  const fns: Record<string, (args: LuaValue[]) => LuaValue[]> = {
    assert(args) {
      checkAny(S, args, 0);
      const v = args[0];
      if (v === undefined || v === false) throw S.error(optString(S, args, 1, "assertion failed!"));
      return args;
    },
    error(args) {
      const level = optInt(S, args, 1, 1);
      let v = args[0];
      if ((typeof v === "string" || typeof v === "number") && level > 0) v = S.where(level) + (typeof v === "number" ? numberToString(v) : v);
      throw new LuaError(v);
    },
    pcall: pcallImpl,
    xpcall(args) {
      checkAny(S, args, 1);
      const handler = args[1];
      const fail = (e: unknown, depth: number, cdepth: number): LuaValue[] => {
        const v = caughtErrorValue(S, e);
        let h: LuaValue;
        try {
          h = S.callFromNative(handler, [v])[0];
        } catch {
          h = "error in error handling";
        }
        S.depth = depth;
        S.cdepth = cdepth;
        return [false, h];
      };
      const depth = S.depth;
      const cdepth = S.cdepth;
      const levels = S.pcallLevels;
      S.pcallLevels = levels + 1;
      let r: LuaValue[];
      try {
        r = S.callFromNative(args[0], EMPTY);
      } catch (e) {
        if (e === SUSPEND) {
          S.keepProtection(depth, cdepth, levels, pcallOk, fail);
          throw e;
        }
        S.pcallLevels = levels;
        return fail(e, depth, cdepth);
      }
      S.pcallLevels = levels;
      return pcallOk(r);
    },
    select(args) {
      const n = args.length;
      const first = args[0];
      if (typeof first === "string" && first[0] === "#") return [n - 1];
      let i = checkInt(S, args, 0);
      if (i < 0) i = n + i;
      else if (i > n) i = n;
      if (i < 1) throw S.argError(1, "index out of range");
      return args.slice(i);
    },
    type(args) {
      checkAny(S, args, 0);
      return [typeName(args[0])];
    },
    tonumber(args) {
      const base = optInt(S, args, 1, 10);
      if (base === 10) {
        checkAny(S, args, 0);
        const v = args[0];
        if (typeof v === "number") return [v];
        if (typeof v === "string") return [strToNumber(v)];
        return [undefined];
      }
      const s = checkString(S, args, 0);
      if (!(base >= 2 && base <= 36)) throw S.argError(2, "base out of range");
      return [strtoulWhole(s, base)];
    },
    tostring(args) {
      checkAny(S, args, 0);
      const v = args[0];
      const tm = S.metamethod(v, "__tostring");
      if (tm !== undefined) return [S.callFromNative(tm, [v])[0]];
      return [rawToString(v)];
    },
    unpack(args) {
      const t = checkTable(S, args, 0);
      const i = optInt(S, args, 1, 1);
      const e = args[2] === undefined ? t.length() : checkInt(S, args, 2);
      if (i > e) return EMPTY;
      const n = e - i + 1;
      if (n <= 0 || n + args.length > 8000) throw S.error("too many results to unpack");
      const out = new Array<LuaValue>(n);
      for (let k = 0; k < n; k++) out[k] = t.getNum(i + k);
      return out;
    },
    next(args) {
      const t = checkTable(S, args, 0);
      let e: [LuaValue, LuaValue] | null;
      try {
        e = t.next(args[1]);
      } catch (err) {
        if (err instanceof LuaTableError) throw new LuaError(err.message);
        throw err;
      }
      return e === null ? [undefined] : e;
    },
    pairs(args) {
      const t = checkTable(S, args, 0);
      return [S.nextFn!, t, undefined];
    },
    ipairs(args) {
      const t = checkTable(S, args, 0);
      return [S.ipairsAux!, t, 0];
    },
    rawget(args) {
      const t = checkTable(S, args, 0);
      checkAny(S, args, 1);
      return [t.get(args[1])];
    },
    rawset(args) {
      const t = checkTable(S, args, 0);
      checkAny(S, args, 1);
      checkAny(S, args, 2);
      if (t.readonly) throw new LuaError("Attempt to modify a readonly table");
      try {
        t.set(args[1], args[2]);
      } catch (err) {
        if (err instanceof LuaTableError) throw new LuaError(err.message);
        throw err;
      }
      return [t];
    },
    rawequal(args) {
      checkAny(S, args, 0);
      checkAny(S, args, 1);
      return [args[0] === args[1]];
    },
    setmetatable(args) {
      const mt = args[1];
      const t = checkTable(S, args, 0);
      if (!(mt === undefined || mt instanceof LuaTable)) throw S.argError(2, "nil or table expected");
      if (t.metatable !== null && t.metatable.getStr("__metatable") !== undefined) throw S.error("cannot change a protected metatable");
      if (t.readonly) throw new LuaError("Attempt to modify a readonly table");
      t.metatable = mt ?? null;
      return [t];
    },
    getmetatable(args) {
      checkAny(S, args, 0);
      const mt = S.metatableOf(args[0]);
      if (mt === null) return [undefined];
      const protectedMt = mt.getStr("__metatable");
      return [protectedMt !== undefined ? protectedMt : mt];
    },
    collectgarbage(args) {
      const opt = optString(S, args, 0, "collect");
      const o = GC_OPTIONS.indexOf(opt);
      if (o < 0) throw S.argError(1, `invalid option '${opt}'`);
      if (opt === "count") return [0];
      if (opt === "step") return [true];
      if (opt === "setpause" || opt === "setstepmul") return [200];
      return [0];
    },
    gcinfo() {
      return [0];
    },
    loadstring(args) {
      const s = checkString(S, args, 0);
      const chunkname = optString(S, args, 1, s);
      try {
        return [loadChunk(S, s, chunkname, S.globals)];
      } catch (e) {
        if (e instanceof LuaSyntaxError) return [undefined, e.message];
        throw e;
      }
    },
    load(args) {
      const chunkname = optString(S, args, 1, "=(load)");
      const reader = args[0];
      if (!(reader instanceof LuaFunction)) throw S.typeArgError(args, 0, "function");
      let src = "";
      for (;;) {
        const piece = S.callFromNative(reader, EMPTY)[0];
        if (piece === undefined) break;
        const s = toStringOrNull(piece);
        if (s === null) throw S.error("reader function must return a string");
        if (s.length === 0) break;
        src += s;
      }
      try {
        return [loadChunk(S, src, chunkname, S.globals)];
      } catch (e) {
        if (e instanceof LuaSyntaxError) return [undefined, e.message];
        throw e;
      }
    },
  };
  register(S, G, fns);
  S.nextFn = G.get("next") as LuaFunction;
  S.ipairsAux = new LuaFunction("ipairs_aux", (args) => {
    const i = checkInt(S, args, 1) + 1;
    const t = checkTable(S, args, 0);
    const v = t.getNum(i);
    return v === undefined ? EMPTY : [i, v];
  }, true);
  G.set("_G", G);
  G.set("_VERSION", "Lua 5.1");

  const co = new LuaTable();
  const unsupported = (): LuaValue[] => {
    throw S.error("coroutines are not supported");
  };
  register(S, co, { create: unsupported, resume: unsupported, status: unsupported, wrap: unsupported, yield: unsupported, running: () => [undefined] });
  G.set("coroutine", co);
}
