// Lua values in JavaScript: nil is undefined, booleans, numbers (doubles, as Lua 5.1) and
// strings (latin1, one char per byte) are themselves; tables, functions and userdata are
// objects. A function is called with an array of arguments and returns an array of results.

import { LuaTable, type Identified } from "./table.ts";

export { LuaTable };

export type LuaValue = undefined | boolean | number | string | LuaTable | LuaFunction | LuaUserdata;

type LuaCall = (args: LuaValue[]) => LuaValue[];

/** No results / no arguments (shared, never mutated). */
export const EMPTY: LuaValue[] = Object.freeze([]) as unknown as LuaValue[];

export class LuaFunction implements Identified {
  id = 0;
  /** The environment globals are read from (getfenv/setfenv); null for natives. */
  env: LuaTable | null = null;
  constructor(
    readonly name: string,
    public call: LuaCall,
    readonly native: boolean,
  ) {}
}

export class LuaUserdata implements Identified {
  id = 0;
  metatable: LuaTable | null = null;
  constructor(
    readonly kind: string,
    /** A light userdata's pointer value as tostring() prints it ("(nil)" for NULL). */
    readonly pointerText: string | null = null,
  ) {}
}

/** A local captured by a closure. */
export class Box {
  constructor(public v: LuaValue) {}
}

/** A Lua error in flight: any Lua value (usually a string with its position). */
export class LuaError extends Error {
  constructor(readonly value: LuaValue) {
    super(typeof value === "string" ? value : "lua error");
  }
}

export function typeName(v: LuaValue): string {
  switch (typeof v) {
    case "undefined":
      return "nil";
    case "boolean":
      return "boolean";
    case "number":
      return "number";
    case "string":
      return "string";
    default:
      if (v instanceof LuaTable) return "table";
      if (v instanceof LuaFunction) return "function";
      return "userdata";
  }
}

