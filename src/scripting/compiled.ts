// The shapes of compiled code, shared by the compiler (compiler.ts, compiler-expressions.ts,
// compiler-operators.ts) and the resume compiler (compiler-resume.ts): the closure types, the
// control signals statements return, the fixed hidden-slot indexes of a node, a compiled chunk,
// and the index/store paths both compilers' closures call.

import type { Expr, FuncProto, Stat, VarInfo } from "./ast.ts";
import type { Frame, LuaState } from "./state.ts";
import { LuaTable } from "./table.ts";
import type { LuaFunction, LuaValue } from "./value.ts";

export type Ev = (f: Frame) => LuaValue;
export type Mv = (f: Frame) => LuaValue[];
export type Ex = (f: Frame) => number;
export type Store = (f: Frame, v: LuaValue) => void;

export const NORMAL = 0;
export const BREAK = 1;
export const RETURN = 2;

/** Hidden slot indexes of a loop's saved control values (after those of its expressions). */
export const LOOP_A = 10;
export const LOOP_B = 11;
export const LOOP_C = 12;
/** A multiple assignment's prepared targets (objects and keys), kept in one array. */
export const PREPS = 0;
/** A table constructor: the table being built. */
export const TABLE = 0;
/** A method call: the method looked up (the object is child 0). */
export const METHOD = 1;

/** Makes a function value from a prototype: its upvalues come from the creating frame. */
export type FunctionFactory = (parent: Frame | null, env: LuaTable) => LuaFunction;

/** getobjname: how an operand is named in error messages, when Lua can tell. */
export function describe(e: Expr): VarInfo | null {
  switch (e.k) {
    case "local":
      return { kind: "local", name: e.decl.name };
    case "upval":
      return { kind: "upvalue", name: e.name };
    case "global":
      return { kind: "global", name: e.name };
    case "index":
      return { kind: "field", name: e.key.k === "str" ? e.key.v : "?" };
    case "paren":
      return describe(e.e);
    default:
      return null;
  }
}

export function isMulti(e: Expr): boolean {
  return e.k === "call" || e.k === "method" || e.k === "vararg";
}

/** A value a target of an assignment stores into. */
export interface Target {
  /** The object and key of an indexed target (evaluated first, in order); null otherwise. */
  obj: Ev | null;
  key: Ev | null;
  store: (f: Frame, o: LuaValue, k: LuaValue, v: LuaValue) => void;
}

/** Allocation of a function's hidden slots (after its locals). */
export interface SlotAllocator {
  next: number;
}

/** The closures of a function's first compile, recorded then replayed (ExpressionCompiler.kept). */
export interface KeptClosures {
  mode: "record" | "replay" | "lookup";
  list: unknown[];
  next: number;
}

/**
 * A compiled chunk: its source (the syntax tree is not kept: resuming parses it again, when a
 * script of this chunk yields for the first time) and the factory of each of its functions.
 */
export interface Chunk {
  readonly src: string;
  readonly source: string;
  /** By FuncProto.index. */
  readonly factories: FunctionFactory[];
  /** The functions parsed again for resuming (by FuncProto.index), once needed. */
  functions: FuncProto[] | null;
}

/**
 * Whether a numeric for's index can be read back from its variable after a suspension: nothing
 * assigns the variable and no closure captures it (Lua keeps the index apart from the variable).
 */
export function forIndexInVariable(s: Stat & { k: "fornum" }): boolean {
  return !s.v.captured && !s.v.assigned;
}

export function indexValue(S: LuaState, f: Frame, line: number, o: LuaValue, k: LuaValue, desc: VarInfo | null): LuaValue {
  if (o instanceof LuaTable) {
    const v = o.get(k);
    if (v !== undefined || o.metatable === null) return v;
  }
  return S.index(f, line, o, k, desc);
}

export function storeIndex(S: LuaState, f: Frame, line: number, o: LuaValue, k: LuaValue, v: LuaValue, desc: VarInfo | null): void {
  // A plain table and a valid key (not nil, not NaN): a raw store.
  if (o instanceof LuaTable && o.metatable === null && !o.readonly && k !== undefined && k === k) {
    o.set(k, v);
    return;
  }
  S.setIndex(f, line, o, k, v, desc);
}
