// Argument checking for native library functions, as lauxlib.c does it: the same coercions
// (numeric strings are numbers, numbers are strings) and the same messages
// ("bad argument #1 to 'rep' (number expected, got no value)").

import { numberToString, strToNumber } from "./numbers.ts";
import type { LuaState } from "./state.ts";
import { LuaFunction, LuaTable, type LuaValue } from "./value.ts";

/** luaL_checknumber. */
export function checkNumber(S: LuaState, args: LuaValue[], i: number): number {
  const v = args[i];
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const n = strToNumber(v);
    if (n !== undefined) return n;
  }
  throw S.typeArgError(args, i, "number");
}

/** luaL_checkinteger: the number truncated toward zero (a 64-bit ptrdiff_t). */
export function checkInteger(S: LuaState, args: LuaValue[], i: number): number {
  const n = checkNumber(S, args, i);
  if (n !== n || Math.abs(n) >= 9223372036854775808) return -9223372036854775808;
  return Math.trunc(n);
}

export function optInteger(S: LuaState, args: LuaValue[], i: number, def: number): number {
  return args[i] === undefined ? def : checkInteger(S, args, i);
}

/** luaL_checkint: a C int (truncated, then wrapped to 32 bits). */
export function checkInt(S: LuaState, args: LuaValue[], i: number): number {
  const n = checkNumber(S, args, i);
  if (n !== n || Math.abs(n) >= 9223372036854775808) return 0;
  return Math.trunc(n) | 0;
}

export function optInt(S: LuaState, args: LuaValue[], i: number, def: number): number {
  return args[i] === undefined ? def : checkInt(S, args, i);
}

/** luaL_checklstring: strings, and numbers converted with "%.14g". */
export function checkString(S: LuaState, args: LuaValue[], i: number): string {
  const v = args[i];
  if (typeof v === "string") return v;
  if (typeof v === "number") return numberToString(v);
  throw S.typeArgError(args, i, "string");
}

export function optString(S: LuaState, args: LuaValue[], i: number, def: string): string {
  return args[i] === undefined ? def : checkString(S, args, i);
}

export function checkTable(S: LuaState, args: LuaValue[], i: number): LuaTable {
  const v = args[i];
  if (v instanceof LuaTable) return v;
  throw S.typeArgError(args, i, "table");
}

export function checkFunction(S: LuaState, args: LuaValue[], i: number): LuaFunction {
  const v = args[i];
  if (v instanceof LuaFunction) return v;
  throw S.typeArgError(args, i, "function");
}

/** luaL_checkany. */
export function checkAny(S: LuaState, args: LuaValue[], i: number): void {
  if (i >= args.length) throw S.argError(i + 1, "value expected");
}

/** lua_tolstring without errors: the string, or null for non-strings/non-numbers. */
export function toStringOrNull(v: LuaValue): string | null {
  if (typeof v === "string") return v;
  if (typeof v === "number") return numberToString(v);
  return null;
}

/** Registers native functions into a table. */
export function register(_S: LuaState, t: LuaTable, fns: Record<string, (args: LuaValue[]) => LuaValue[]>): void {
  for (const [name, call] of Object.entries(fns)) t.set(name, new LuaFunction(name, call, true));
}
