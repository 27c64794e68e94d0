// Compiles the syntax tree to JavaScript closures: every expression becomes a function of the
// frame returning its value (or, where Lua allows several, an array of values), every statement
// a function returning how control continues (NORMAL, BREAK, RETURN). No tree is walked at run
// time: dispatch on node kinds happens once, here. Fast paths (numbers, plain tables, constant
// string keys with their hash precomputed) are inline; everything else goes to LuaState's slow
// paths, which implement metatables and raise Lua's errors.
//
// Scripts can yield (busy scripts, sites.ts): every call records its site in the frame (f.pc)
// before calling, loops record theirs when their tick runs, a value computed before a sibling
// that may yield is kept in a hidden slot of the frame, and a loop keeps its control values
// there when a suspension passes through it. That is all the fast path pays; re-entering a
// suspended frame is compiler-resume.ts's job, on closures compiled only when needed.

import type { Block, Expr, FuncProto, LocalDecl, Stat, VarInfo } from "./ast.ts";
import { compileResume } from "./compiler-resume.ts";
import { parseChunkFunctions } from "./parser.ts";
import { isStable, mayYield, numberSites, sitesOf } from "./sites.ts";
import { cpow, Frame, LuaState, protoInfo, SUSPEND, type ProtoInfo } from "./state.ts";
import { strToNumber } from "./numbers.ts";
import { LuaTable, strHash } from "./table.ts";
import { Box, EMPTY, LuaError, LuaFunction, type LuaValue } from "./value.ts";

export type Ev = (f: Frame) => LuaValue;
export type Mv = (f: Frame) => LuaValue[];
export type Ex = (f: Frame) => number;
type Store = (f: Frame, v: LuaValue) => void;

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

const NOT_CALLABLE: LuaFunction["call"] = () => EMPTY;

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
interface SlotAllocator {
  next: number;
}

/** The closures of a function's first compile, recorded then replayed (FunctionCompiler.kept). */
interface KeptClosures {
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

export class FunctionCompiler {
  constructor(
    readonly S: LuaState,
    readonly info: ProtoInfo,
    private readonly slots: SlotAllocator,
    private readonly chunk: Chunk,
    private readonly closures: KeptClosures,
  ) {}

  /** Compiling again for a resume: nested functions are the ones compiled the first time. */
  private get again(): boolean {
    return this.closures.mode !== "record";
  }

  /** The factory of a function defined in this one. */
  private factoryOf(fn: FuncProto): FunctionFactory {
    if (this.again) return this.chunk.factories[fn.index]!;
    return compileFunction(this.S, fn, this.chunk);
  }

  get slotCount(): number {
    return this.slots.next;
  }

  // ------------------------------------------------------------------ closures kept for resuming

  // Resuming compiles a function again (from its chunk parsed again) but must run the closures
  // of the first compile, not copies: JavaScriptCore specializes each closure's code on the
  // functions it calls, and copies would make those call sites polymorphic for every script.
  // The first compile records the closures of these methods in order (post-order: children
  // first); compiling again replays the same sequence, hands back the recorded closures and
  // keeps them on the new nodes, where the resume compiler's later calls find them.

  declareLocal(d: LocalDecl): Store {
    return this.kept(d, "declareLocal", () => this.compileDeclareLocal(d));
  }

  expr(e: Expr): Ev {
    return this.kept(e, "expr", () => this.compileExpr(e));
  }

  tableOps(e: Expr & { k: "table" }): Array<(f: Frame, t: LuaTable) => void> {
    return this.kept(e, "tableOps", () => this.compileTableOps(e));
  }

  multi(e: Expr): Mv {
    return this.kept(e, "multi", () => this.compileMulti(e));
  }

  list(exprs: Expr[]): Mv {
    return this.kept(exprs, "list", () => this.compileList(exprs));
  }

  listWithSelf(exprs: Expr[]): (f: Frame, self: LuaValue) => LuaValue[] {
    return this.kept(exprs, "listWithSelf", () => this.compileListWithSelf(exprs));
  }

  target(e: Expr, storeLine: number): Target {
    return this.kept(e, "target", () => this.compileTarget(e, storeLine));
  }

  block(b: Block): Ex {
    return this.kept(b, "block", () => this.compileBlock(b));
  }

  stat(s: Stat): Ex {
    return this.kept(s, "stat", () => this.compileStat(s));
  }

  adjusted(exprs: Expr[], n: number): Mv {
    return this.kept(exprs, "adjusted", () => this.compileAdjusted(exprs, n));
  }

  forNumbers(s: Stat & { k: "fornum" }): (f: Frame, v: LuaValue, what: string) => number {
    return this.kept(s, "forNumbers", () => this.compileForNumbers(s));
  }

  forNumLoop(s: Stat & { k: "fornum" }): (f: Frame, i: number, lim: number, st: number, atBody: boolean) => number {
    return this.kept(s, "forNumLoop", () => this.compileForNumLoop(s));
  }

  forInLoop(s: Stat & { k: "forin" }): (f: Frame, gen: LuaValue, state: LuaValue, control: LuaValue, atBody: boolean) => number {
    return this.kept(s, "forInLoop", () => this.compileForInLoop(s));
  }

  forInStores(s: Stat & { k: "forin" }): (f: Frame, rs: LuaValue[]) => void {
    return this.kept(s, "forInStores", () => this.compileForInStores(s));
  }

  private kept<T>(node: object, kind: string, make: () => T): T {
    const mode = this.closures.mode;
    if (mode === "lookup") {
      const known = (node as { $fast?: Record<string, unknown> }).$fast?.[kind];
      if (known !== undefined) return known as T;
      return make();
    }
    const made = make();
    if (mode === "record") {
      this.closures.list.push(made);
      return made;
    }
    const original = this.closures.list[this.closures.next++] as T;
    const n = node as { $fast?: Record<string, unknown> };
    (n.$fast ??= {})[kind] = original;
    return original;
  }

  // ------------------------------------------------------------------ hidden slots

  /** The hidden slot number `i` of a node (allocated on first use; the same for every compile). */
  slotFor(node: object, i: number): number {
    const s = sitesOf(node)!;
    let slot = s.slots[i];
    if (slot === undefined) s.slots[i] = slot = this.slots.next++;
    return slot;
  }

  /**
   * Where a node keeps the values of its children while a later child may yield: child i's
   * slot, or -1 when nothing after it may yield or it can be evaluated again (isStable).
   * Children that are lists (arrays) are always last and never kept.
   */
  saves(node: object, children: Array<Expr | Expr[]>): number[] {
    const out = new Array<number>(children.length).fill(-1);
    let later = false;
    for (let i = children.length - 1; i >= 0; i--) {
      const c = children[i]!;
      if (later && !Array.isArray(c) && !isStable(c)) out[i] = this.slotFor(node, i);
      if (mayYield(c)) later = true;
    }
    return out;
  }

  // ------------------------------------------------------------------ variables

  private readLocal(d: LocalDecl): Ev {
    const s = d.slot;
    if (d.captured) return (f) => (f.r[s] as Box).v;
    return (f) => f.r[s];
  }

  /** Stores into an existing local. */
  private writeLocal(d: LocalDecl): Store {
    const s = d.slot;
    if (d.captured)
      return (f, v) => {
        (f.r[s] as Box).v = v;
      };
    return (f, v) => {
      f.r[s] = v;
    };
  }

  /** Declares a local (a fresh box per execution when captured: closures in loops). */
  private compileDeclareLocal(d: LocalDecl): Store {
    const s = d.slot;
    if (d.captured)
      return (f, v) => {
        f.r[s] = new Box(v);
      };
    return (f, v) => {
      f.r[s] = v;
    };
  }

  // ------------------------------------------------------------------ expressions

  private compileExpr(e: Expr): Ev {
    const S = this.S;
    switch (e.k) {
      case "nil":
        return () => undefined;
      case "true":
        return () => true;
      case "false":
        return () => false;
      case "num": {
        const v = e.v;
        return () => v;
      }
      case "str": {
        const v = e.v;
        return () => v;
      }
      case "vararg":
        return (f) => f.va[0];
      case "func": {
        const make = this.factoryOf(e.fn);
        return (f) => make(f, f.env);
      }
      case "local":
        return this.readLocal(e.decl);
      case "upval": {
        const i = e.index;
        return (f) => f.u[i]!.v;
      }
      case "global": {
        const name = e.name;
        const h = strHash(name);
        const line = e.line;
        return (f) => {
          const v = f.env.getStrH(name, h);
          if (v !== undefined || f.env.metatable === null) return v;
          return S.index(f, line, f.env, name, null);
        };
      }
      case "index":
        return this.index(e);
      case "call": {
        // The single-value form of a call, not a wrapper around the multi-value one: one
        // JavaScript frame less per Lua call level.
        const fn = this.expr(e.fn);
        const args = this.list(e.args);
        const line = e.line;
        const desc = describe(e.fn);
        const site = sitesOf(e)!.site;
        const calleeSlot = this.saves(e, [e.fn, e.args])[0]!;
        if (calleeSlot >= 0)
          return (f) => {
            const callee = fn(f);
            f.r[calleeSlot] = callee;
            const a = args(f);
            f.line = line;
            f.callee = desc;
            f.pc = site;
            if (callee instanceof LuaFunction) return callee.call(a)[0];
            return S.callValue(f, line, callee, a, desc)[0];
          };
        return (f) => {
          const callee = fn(f);
          const a = args(f);
          f.line = line;
          f.callee = desc;
          f.pc = site;
          if (callee instanceof LuaFunction) return callee.call(a)[0];
          return S.callValue(f, line, callee, a, desc)[0];
        };
      }
      case "method": {
        const m = this.multi(e);
        return (f) => m(f)[0];
      }
      case "paren":
        return this.expr(e.e);
      case "and": {
        const a = this.expr(e.a);
        const b = this.expr(e.b);
        return (f) => {
          const v = a(f);
          return v === undefined || v === false ? v : b(f);
        };
      }
      case "or": {
        const a = this.expr(e.a);
        const b = this.expr(e.b);
        return (f) => {
          const v = a(f);
          return v !== undefined && v !== false ? v : b(f);
        };
      }
      case "not": {
        const a = this.expr(e.a);
        return (f) => {
          const v = a(f);
          return v === undefined || v === false;
        };
      }
      case "neg": {
        const a = this.expr(e.a);
        const line = e.line;
        const da = describe(e.a);
        return (f) => {
          const v = a(f);
          return typeof v === "number" ? -v : S.unm(f, line, v, da);
        };
      }
      case "len": {
        const a = this.expr(e.a);
        const line = e.line;
        const da = describe(e.a);
        return (f) => {
          const v = a(f);
          if (typeof v === "string") return v.length;
          if (v instanceof LuaTable) return v.length();
          return S.len(f, line, v, da);
        };
      }
      case "bin":
        return this.binary(e);
      case "table":
        return this.table(e);
    }
  }

  private index(e: Expr & { k: "index" }): Ev {
    const S = this.S;
    const obj = this.expr(e.obj);
    const line = e.line;
    const desc = describe(e.obj);
    const objSlot = this.saves(e, [e.obj, e.key])[0]!;
    if (objSlot >= 0) {
      const key = this.expr(e.key);
      return (f) => {
        const o = obj(f);
        f.r[objSlot] = o;
        return indexValue(S, f, line, o, key(f), desc);
      };
    }
    if (e.key.k === "str") {
      const key = e.key.v;
      const h = strHash(key);
      return (f) => {
        const o = obj(f);
        if (o instanceof LuaTable) {
          const v = o.getStrH(key, h);
          if (v !== undefined || o.metatable === null) return v;
        }
        return S.index(f, line, o, key, desc);
      };
    }
    const key = this.expr(e.key);
    return (f) => {
      const o = obj(f);
      const k = key(f);
      if (o instanceof LuaTable) {
        const v = o.get(k);
        if (v !== undefined || o.metatable === null) return v;
      }
      return S.index(f, line, o, k, desc);
    };
  }

  /** A binary operator applied to two values (what the fast closures below inline). */
  binaryOp(e: Expr & { k: "bin" }): (f: Frame, x: LuaValue, y: LuaValue) => LuaValue {
    const S = this.S;
    const line = e.line;
    const da = describe(e.a);
    const db = describe(e.b);
    const arith = (event: string, op: (x: number, y: number) => number) => (f: Frame, x: LuaValue, y: LuaValue) =>
      typeof x === "number" && typeof y === "number" ? op(x, y) : S.arith(f, line, event, x, y, da, db);
    switch (e.op) {
      case "+":
        return arith("__add", (x, y) => x + y);
      case "-":
        return arith("__sub", (x, y) => x - y);
      case "*":
        return arith("__mul", (x, y) => x * y);
      case "/":
        return arith("__div", (x, y) => x / y);
      case "%":
        return arith("__mod", (x, y) => x - Math.floor(x / y) * y);
      case "^":
        return arith("__pow", cpow);
      case "..":
        return (f, x, y) => (typeof x === "string" && typeof y === "string" ? x + y : S.concat(f, line, x, y, da, db));
      case "==":
        return (f, x, y) => x === y || (typeof x === "object" && typeof y === "object" && S.eqSlow(f, line, x, y));
      case "~=":
        return (f, x, y) => !(x === y || (typeof x === "object" && typeof y === "object" && S.eqSlow(f, line, x, y)));
      case "<":
        return (f, x, y) => (typeof x === "number" && typeof y === "number" ? x < y : S.lt(f, line, x, y));
      case "<=":
        return (f, x, y) => (typeof x === "number" && typeof y === "number" ? x <= y : S.le(f, line, x, y));
      case ">":
        return (f, x, y) => (typeof x === "number" && typeof y === "number" ? x > y : S.lt(f, line, y, x));
      case ">=":
        return (f, x, y) => (typeof x === "number" && typeof y === "number" ? x >= y : S.le(f, line, y, x));
    }
  }

  private binary(e: Expr & { k: "bin" }): Ev {
    const S = this.S;
    const line = e.line;
    const da = describe(e.a);
    const db = describe(e.b);
    const left = this.expr(e.a);
    const bConst = e.b.k === "num" ? e.b.v : undefined;
    const b = this.expr(e.b);
    const xSlot = this.saves(e, [e.a, e.b])[0]!;
    // The right operand may yield: the left one's value is kept as soon as it is known.
    const a: Ev =
      xSlot < 0
        ? left
        : (f) => {
            const x = left(f);
            f.r[xSlot] = x;
            return x;
          };
    switch (e.op) {
      case "+":
        if (bConst !== undefined)
          return (f) => {
            const x = a(f);
            return typeof x === "number" ? x + bConst : S.arith(f, line, "__add", x, bConst, da, db);
          };
        return (f) => {
          const x = a(f);
          const y = b(f);
          return typeof x === "number" && typeof y === "number" ? x + y : S.arith(f, line, "__add", x, y, da, db);
        };
      case "-":
        if (bConst !== undefined)
          return (f) => {
            const x = a(f);
            return typeof x === "number" ? x - bConst : S.arith(f, line, "__sub", x, bConst, da, db);
          };
        return (f) => {
          const x = a(f);
          const y = b(f);
          return typeof x === "number" && typeof y === "number" ? x - y : S.arith(f, line, "__sub", x, y, da, db);
        };
      case "*":
        return (f) => {
          const x = a(f);
          const y = b(f);
          return typeof x === "number" && typeof y === "number" ? x * y : S.arith(f, line, "__mul", x, y, da, db);
        };
      case "/":
        return (f) => {
          const x = a(f);
          const y = b(f);
          return typeof x === "number" && typeof y === "number" ? x / y : S.arith(f, line, "__div", x, y, da, db);
        };
      case "%":
        return (f) => {
          const x = a(f);
          const y = b(f);
          return typeof x === "number" && typeof y === "number" ? x - Math.floor(x / y) * y : S.arith(f, line, "__mod", x, y, da, db);
        };
      case "^":
        return (f) => {
          const x = a(f);
          const y = b(f);
          return typeof x === "number" && typeof y === "number" ? cpow(x, y) : S.arith(f, line, "__pow", x, y, da, db);
        };
      case "..":
        return (f) => {
          const x = a(f);
          const y = b(f);
          if (typeof x === "string" && typeof y === "string") return x + y;
          return S.concat(f, line, x, y, da, db);
        };
      case "==":
        return (f) => {
          const x = a(f);
          const y = b(f);
          return x === y || (typeof x === "object" && typeof y === "object" && S.eqSlow(f, line, x, y));
        };
      case "~=":
        return (f) => {
          const x = a(f);
          const y = b(f);
          return !(x === y || (typeof x === "object" && typeof y === "object" && S.eqSlow(f, line, x, y)));
        };
      case "<":
        return (f) => {
          const x = a(f);
          const y = b(f);
          return typeof x === "number" && typeof y === "number" ? x < y : S.lt(f, line, x, y);
        };
      case "<=":
        return (f) => {
          const x = a(f);
          const y = b(f);
          return typeof x === "number" && typeof y === "number" ? x <= y : S.le(f, line, x, y);
        };
      case ">":
        // a > b is b < a (operands swapped, as in Lua's code and its error messages)
        return (f) => {
          const x = a(f);
          const y = b(f);
          return typeof x === "number" && typeof y === "number" ? x > y : S.lt(f, line, y, x);
        };
      case ">=":
        return (f) => {
          const x = a(f);
          const y = b(f);
          return typeof x === "number" && typeof y === "number" ? x >= y : S.le(f, line, y, x);
        };
    }
  }

  private table(e: Expr & { k: "table" }): Ev {
    const na = e.na;
    const nh = e.nh;
    const ops = this.tableOps(e);
    if (ops.length === 0) return () => new LuaTable(na, nh);
    if (mayYield(e)) {
      // An item may yield: the table being built is kept (the items stored so far are in it).
      const tSlot = this.slotFor(e, TABLE);
      return (f) => {
        const t = new LuaTable(na, nh);
        f.r[tSlot] = t;
        for (let i = 0; i < ops.length; i++) ops[i]!(f, t);
        return t;
      };
    }
    return (f) => {
      const t = new LuaTable(na, nh);
      for (let i = 0; i < ops.length; i++) ops[i]!(f, t);
      return t;
    };
  }

  /** A table constructor's keyed item i: where its key is kept while its value may yield, or -1. */
  keySlot(e: Expr & { k: "table" }, i: number): number {
    const it = e.items[i]!;
    if (it.pos || !mayYield(it.val) || isStable(it.key)) return -1;
    return this.slotFor(e, 1 + i);
  }

  /** A table constructor's items, one store each, in order (the multi-valued last one fills the rest). */
  private compileTableOps(e: Expr & { k: "table" }): Array<(f: Frame, t: LuaTable) => void> {
    const S = this.S;
    const line = e.line;
    const items = e.items;
    const n = items.length;
    const lastMulti = n > 0 && items[n - 1]!.pos && isMulti((items[n - 1] as { e: Expr }).e);
    type Op = (f: Frame, t: LuaTable) => void;
    const ops: Op[] = [];
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const it = items[i]!;
      if (it.pos) {
        if (i === n - 1 && lastMulti) {
          const m = this.multi(it.e);
          const base = pos;
          ops.push((f, t) => {
            const vs = m(f);
            const last = base + vs.length;
            if (last > t.arr.length) t.resizeArray(last);
            for (let j = 0; j < vs.length; j++) t.arr[base + j] = vs[j];
          });
        } else {
          const v = this.expr(it.e);
          const idx = pos++;
          ops.push((f, t) => {
            t.arr[idx] = v(f);
          });
        }
      } else {
        const key = this.expr(it.key);
        const val = this.expr(it.val);
        const keySlot = this.keySlot(e, i);
        if (keySlot >= 0)
          ops.push((f, t) => {
            const k = key(f);
            f.r[keySlot] = k;
            S.rawSet(f, line, t, k, val(f));
          });
        else
          ops.push((f, t) => {
            const k = key(f);
            S.rawSet(f, line, t, k, val(f));
          });
      }
    }
    return ops;
  }

  /** An expression in a context that takes all its values (calls and `...`). */
  private compileMulti(e: Expr): Mv {
    const S = this.S;
    if (e.k === "vararg") return (f) => f.va;
    if (e.k === "call") {
      const fn = this.expr(e.fn);
      const args = this.list(e.args);
      const line = e.line;
      const desc = describe(e.fn);
      const site = sitesOf(e)!.site;
      const calleeSlot = this.saves(e, [e.fn, e.args])[0]!;
      if (calleeSlot >= 0)
        return (f) => {
          const callee = fn(f);
          f.r[calleeSlot] = callee;
          const a = args(f);
          f.line = line;
          f.callee = desc;
          f.pc = site;
          if (callee instanceof LuaFunction) return callee.call(a);
          return S.callValue(f, line, callee, a, desc);
        };
      return (f) => {
        const callee = fn(f);
        const a = args(f);
        f.line = line;
        f.callee = desc;
        f.pc = site;
        if (callee instanceof LuaFunction) return callee.call(a);
        return S.callValue(f, line, callee, a, desc);
      };
    }
    if (e.k === "method") {
      const obj = this.expr(e.obj);
      const name = e.name;
      const h = strHash(name);
      const line = e.line;
      const objDesc = describe(e.obj);
      const desc: VarInfo = { kind: "method", name };
      const args = this.listWithSelf(e.args);
      const site = sitesOf(e)!.site;
      if (mayYield(e.args)) {
        // The arguments may yield: the object and the method are kept.
        const objSlot = this.saves(e, [e.obj, e.args])[0]!;
        const mSlot = this.slotFor(e, METHOD);
        return (f) => {
          const o = obj(f);
          if (objSlot >= 0) f.r[objSlot] = o;
          const m = this.methodOf(f, line, o, name, h, objDesc);
          f.r[mSlot] = m;
          const a = args(f, o);
          f.line = line;
          f.callee = desc;
          f.pc = site;
          if (m instanceof LuaFunction) return m.call(a);
          return S.callValue(f, line, m, a, desc);
        };
      }
      return (f) => {
        const o = obj(f);
        let m: LuaValue;
        if (o instanceof LuaTable) {
          m = o.getStrH(name, h);
          if (m === undefined && o.metatable !== null) m = S.index(f, line, o, name, objDesc);
        } else m = S.index(f, line, o, name, objDesc);
        const a = args(f, o);
        f.line = line;
        f.callee = desc;
        f.pc = site;
        if (m instanceof LuaFunction) return m.call(a);
        return S.callValue(f, line, m, a, desc);
      };
    }
    const v = this.expr(e);
    return (f) => [v(f)];
  }

  /** `o:name` for a method call: the method looked up. */
  methodOf(f: Frame, line: number, o: LuaValue, name: string, h: number, objDesc: VarInfo | null): LuaValue {
    if (o instanceof LuaTable) {
      const m = o.getStrH(name, h);
      if (m !== undefined || o.metatable === null) return m;
    }
    return this.S.index(f, line, o, name, objDesc);
  }

  /**
   * Values of an expression list where an expression after the first may yield: each value is
   * kept in its slot (saves) once computed. `expand`: the last expression gives all its values.
   */
  private keptValues(exprs: Expr[], expand: boolean, self: boolean): (f: Frame, selfValue?: LuaValue) => LuaValue[] {
    const n = exprs.length;
    const slots = this.saves(exprs, exprs);
    const multiLast = expand && isMulti(exprs[n - 1]!);
    const nSingle = multiLast ? n - 1 : n;
    const evs = exprs.slice(0, nSingle).map((x) => this.expr(x));
    const m = multiLast ? this.multi(exprs[n - 1]!) : null;
    return (f, selfValue) => {
      const out: LuaValue[] = [];
      if (self) out.push(selfValue);
      for (let i = 0; i < nSingle; i++) {
        const v = evs[i]!(f);
        const slot = slots[i]!;
        if (slot >= 0) f.r[slot] = v;
        out.push(v);
      }
      if (m !== null) {
        const rest = m(f);
        for (let i = 0; i < rest.length; i++) out.push(rest[i]);
      }
      return out;
    };
  }

  /** Whether a list needs its values kept: an expression after the first may yield. */
  private keepsValues(exprs: Expr[]): boolean {
    for (let i = 1; i < exprs.length; i++) if (mayYield(exprs[i]!)) return true;
    return false;
  }

  /** An expression list: all values, the last expression expanded. */
  private compileList(exprs: Expr[]): Mv {
    const n = exprs.length;
    if (n === 0) return () => EMPTY;
    if (this.keepsValues(exprs)) return this.keptValues(exprs, true, false);
    const last = exprs[n - 1]!;
    if (isMulti(last)) {
      const m = this.multi(last);
      if (n === 1) return m;
      const firsts = exprs.slice(0, n - 1).map((x) => this.expr(x));
      return (f) => {
        const out: LuaValue[] = [];
        for (let i = 0; i < firsts.length; i++) out.push(firsts[i]!(f));
        const rest = m(f);
        for (let i = 0; i < rest.length; i++) out.push(rest[i]);
        return out;
      };
    }
    const evs = exprs.map((x) => this.expr(x));
    if (n === 1) {
      const a = evs[0]!;
      return (f) => [a(f)];
    }
    if (n === 2) {
      const a = evs[0]!;
      const b = evs[1]!;
      return (f) => {
        const x = a(f);
        return [x, b(f)];
      };
    }
    if (n === 3) {
      const a = evs[0]!;
      const b = evs[1]!;
      const c = evs[2]!;
      return (f) => {
        const x = a(f);
        const y = b(f);
        return [x, y, c(f)];
      };
    }
    return (f) => {
      const out = new Array<LuaValue>(n);
      for (let i = 0; i < n; i++) out[i] = evs[i]!(f);
      return out;
    };
  }

  private compileListWithSelf(exprs: Expr[]): (f: Frame, self: LuaValue) => LuaValue[] {
    const n = exprs.length;
    if (n === 0) return (_f, self) => [self];
    if (this.keepsValues(exprs)) return this.keptValues(exprs, true, true);
    const last = exprs[n - 1]!;
    if (!isMulti(last)) {
      const evs = exprs.map((x) => this.expr(x));
      if (n === 1) {
        const a = evs[0]!;
        return (f, self) => [self, a(f)];
      }
      return (f, self) => {
        const out = new Array<LuaValue>(n + 1);
        out[0] = self;
        for (let i = 0; i < n; i++) out[i + 1] = evs[i]!(f);
        return out;
      };
    }
    const rest = this.list(exprs);
    return (f, self) => {
      const vs = rest(f);
      const out = new Array<LuaValue>(vs.length + 1);
      out[0] = self;
      for (let i = 0; i < vs.length; i++) out[i + 1] = vs[i];
      return out;
    };
  }

  // ------------------------------------------------------------------ assignment targets

  /** A target whose object/key are evaluated first, then stored into (Lua's order). */
  private compileTarget(e: Expr, storeLine: number): Target {
    const S = this.S;
    switch (e.k) {
      case "local": {
        const w = this.writeLocal(e.decl);
        return { obj: null, key: null, store: (f, _o, _k, v) => w(f, v) };
      }
      case "upval": {
        const i = e.index;
        return {
          obj: null,
          key: null,
          store: (f, _o, _k, v) => {
            f.u[i]!.v = v;
          },
        };
      }
      case "global": {
        const name = e.name;
        const line = storeLine;
        return {
          obj: null,
          key: null,
          store: (f, _o, _k, v) => {
            const env = f.env;
            if (env.metatable === null && !env.readonly) env.set(name, v);
            else S.setIndex(f, line, env, name, v, null);
          },
        };
      }
      case "index": {
        const line = storeLine;
        const desc = describe(e.obj);
        return {
          obj: this.expr(e.obj),
          key: this.expr(e.key),
          store: (f, o, k, v) => storeIndex(S, f, line, o, k, v, desc),
        };
      }
      default:
        throw new Error(`cannot assign to ${e.k}`);
    }
  }

  // ------------------------------------------------------------------ statements

  private compileBlock(b: Block): Ex {
    const stats = b.map((s) => this.stat(s));
    const n = stats.length;
    if (n === 0) return () => NORMAL;
    if (n === 1) return stats[0]!;
    if (n === 2) {
      const s0 = stats[0]!;
      const s1 = stats[1]!;
      return (f) => {
        const r = s0(f);
        return r !== NORMAL ? r : s1(f);
      };
    }
    if (n === 3) {
      const s0 = stats[0]!;
      const s1 = stats[1]!;
      const s2 = stats[2]!;
      return (f) => {
        let r = s0(f);
        if (r !== NORMAL) return r;
        r = s1(f);
        return r !== NORMAL ? r : s2(f);
      };
    }
    return (f) => {
      for (let i = 0; i < n; i++) {
        const r = stats[i]!(f);
        if (r !== NORMAL) return r;
      }
      return NORMAL;
    };
  }

  private compileStat(s: Stat): Ex {
    const S = this.S;
    switch (s.k) {
      case "local":
        return this.localStat(s.decls, s.exprs);
      case "localfunc": {
        const d = s.decl;
        const make = this.factoryOf(s.fn);
        const slot = d.slot;
        if (d.captured)
          return (f) => {
            const box = new Box(undefined);
            f.r[slot] = box;
            box.v = make(f, f.env);
            return NORMAL;
          };
        return (f) => {
          f.r[slot] = make(f, f.env);
          return NORMAL;
        };
      }
      case "assign":
        return this.assign(s);
      case "call": {
        const m = this.multi(s.call);
        return (f) => {
          m(f);
          return NORMAL;
        };
      }
      case "do":
        return this.block(s.body);
      case "while": {
        const cond = this.expr(s.cond);
        const body = this.block(s.body);
        const site = sitesOf(s)!.site;
        const tickLine = s.tickLine;
        return (f) => {
          for (;;) {
            const c = cond(f);
            if (c === undefined || c === false) return NORMAL;
            if (--S.budget < 0) S.loopTick(f, site, tickLine);
            const r = body(f);
            if (r !== NORMAL) return r === BREAK ? NORMAL : r;
          }
        };
      }
      case "repeat": {
        const cond = this.expr(s.cond);
        const body = this.block(s.body);
        const site = sitesOf(s)!.site;
        const tickLine = s.tickLine;
        return (f) => {
          for (;;) {
            if (--S.budget < 0) S.loopTick(f, site, tickLine);
            const r = body(f);
            if (r !== NORMAL) return r === BREAK ? NORMAL : r;
            const c = cond(f);
            if (c !== undefined && c !== false) return NORMAL;
          }
        };
      }
      case "if": {
        const conds = s.conds.map((c) => this.expr(c));
        const blocks = s.blocks.map((b) => this.block(b));
        const orelse = s.orelse ? this.block(s.orelse) : null;
        if (conds.length === 1) {
          const c0 = conds[0]!;
          const b0 = blocks[0]!;
          if (orelse === null)
            return (f) => {
              const c = c0(f);
              return c !== undefined && c !== false ? b0(f) : NORMAL;
            };
          return (f) => {
            const c = c0(f);
            return c !== undefined && c !== false ? b0(f) : orelse(f);
          };
        }
        const n = conds.length;
        return (f) => {
          for (let i = 0; i < n; i++) {
            const c = conds[i]!(f);
            if (c !== undefined && c !== false) return blocks[i]!(f);
          }
          return orelse === null ? NORMAL : orelse(f);
        };
      }
      case "fornum":
        return this.forNum(s);
      case "forin":
        return this.forIn(s);
      case "return": {
        if (s.exprs.length === 0)
          return (f) => {
            f.ret = EMPTY;
            return RETURN;
          };
        if (s.exprs.length === 1 && !isMulti(s.exprs[0]!)) {
          const v = this.expr(s.exprs[0]!);
          return (f) => {
            f.ret = [v(f)];
            return RETURN;
          };
        }
        const vals = this.list(s.exprs);
        return (f) => {
          f.ret = vals(f);
          return RETURN;
        };
      }
      case "break":
        return () => BREAK;
    }
  }

  private localStat(decls: LocalDecl[], exprs: Expr[]): Ex {
    const stores = decls.map((d) => this.declareLocal(d));
    const nv = decls.length;
    const ne = exprs.length;
    if (nv === 1 && ne === 1) {
      const st = stores[0]!;
      const v = this.expr(exprs[0]!);
      return (f) => {
        st(f, v(f));
        return NORMAL;
      };
    }
    if (ne === 0) {
      return (f) => {
        for (let i = 0; i < nv; i++) stores[i]!(f, undefined);
        return NORMAL;
      };
    }
    if (nv === ne && !isMulti(exprs[ne - 1]!)) {
      if (this.keepsValues(exprs)) {
        const vals = this.keptValues(exprs, false, false);
        return (f) => {
          const vs = vals(f);
          for (let i = 0; i < nv; i++) stores[i]!(f, vs[i]);
          return NORMAL;
        };
      }
      const evs = exprs.map((e) => this.expr(e));
      return (f) => {
        const vals = new Array<LuaValue>(nv);
        for (let i = 0; i < nv; i++) vals[i] = evs[i]!(f);
        for (let i = 0; i < nv; i++) stores[i]!(f, vals[i]);
        return NORMAL;
      };
    }
    const vals = this.adjusted(exprs, nv);
    return (f) => {
      const vs = vals(f);
      for (let i = 0; i < nv; i++) stores[i]!(f, vs[i]);
      return NORMAL;
    };
  }

  /** An expression list adjusted to n values (extra expressions still evaluated). */
  private compileAdjusted(exprs: Expr[], n: number): Mv {
    const ne = exprs.length;
    if (ne > n) {
      if (this.keepsValues(exprs)) return this.keptValues(exprs, false, false);
      // Extra expressions are evaluated (for their side effects), their values dropped.
      const all = exprs.map((e) => this.expr(e));
      return (f) => {
        const out = new Array<LuaValue>(ne);
        for (let i = 0; i < ne; i++) out[i] = all[i]!(f);
        return out;
      };
    }
    return this.list(exprs);
  }

  private assign(s: Stat & { k: "assign" }): Ex {
    const S = this.S;
    const { targets, exprs, line } = s;
    if (targets.length === 1 && exprs.length === 1) {
      const t = targets[0]!;
      const v = this.expr(exprs[0]!);
      if (t.k === "local") {
        const w = this.writeLocal(t.decl);
        return (f) => {
          w(f, v(f));
          return NORMAL;
        };
      }
      if (t.k === "index") {
        const obj = this.expr(t.obj);
        const desc = describe(t.obj);
        const tline = line;
        const [oSlot, kSlot] = this.saves(s, [t.obj, t.key, exprs[0]!]) as [number, number];
        if (oSlot >= 0 || kSlot >= 0) {
          const key = this.expr(t.key);
          return (f) => {
            const o = obj(f);
            if (oSlot >= 0) f.r[oSlot] = o;
            const k = key(f);
            if (kSlot >= 0) f.r[kSlot] = k;
            storeIndex(S, f, tline, o, k, v(f), desc);
            return NORMAL;
          };
        }
        if (t.key.k === "str") {
          const k = t.key.v;
          return (f) => {
            const o = obj(f);
            storeIndex(S, f, tline, o, k, v(f), desc);
            return NORMAL;
          };
        }
        const key = this.expr(t.key);
        return (f) => {
          const o = obj(f);
          const k = key(f);
          storeIndex(S, f, tline, o, k, v(f), desc);
          return NORMAL;
        };
      }
      const tg = this.target(t, line);
      return (f) => {
        tg.store(f, undefined, undefined, v(f));
        return NORMAL;
      };
    }
    const tgs = targets.map((t) => this.target(t, line));
    const n = tgs.length;
    const vals = this.adjusted(exprs, n);
    // Targets' objects and keys go in one array (two entries per target), kept if anything yields.
    const prepSlot = mayYield(s) ? this.slotFor(s, PREPS) : -1;
    return (f) => {
      const preps = new Array<LuaValue>(2 * n);
      if (prepSlot >= 0) f.r[prepSlot] = preps;
      for (let i = 0; i < n; i++) {
        const t = tgs[i]!;
        if (t.obj !== null) {
          preps[2 * i] = t.obj(f);
          preps[2 * i + 1] = t.key!(f);
        }
      }
      const vs = vals(f);
      // Lua stores from the last target to the first.
      for (let i = n - 1; i >= 0; i--) tgs[i]!.store(f, preps[2 * i], preps[2 * i + 1], vs[i]);
      return NORMAL;
    };
  }

  /** A numeric for's evaluation of its start, limit and step ('for' ... must be a number). */
  private compileForNumbers(s: Stat & { k: "fornum" }): (f: Frame, v: LuaValue, what: string) => number {
    const S = this.S;
    const line = s.line;
    return (f, v, what) => {
      if (typeof v === "number") return v;
      if (typeof v === "string") {
        const n = strToNumber(v);
        if (n !== undefined) return n;
      }
      throw S.rtError(f, line, `'for' ${what} must be a number`);
    };
  }

  /**
   * A numeric for's loop from index `i` (Lua's internal index: the next value is i + st):
   * `atBody` resumes at the tick, the body for `i` not run yet. A suspension passing through
   * keeps i, lim and st in the loop's slots.
   */
  private compileForNumLoop(s: Stat & { k: "fornum" }): (f: Frame, i: number, lim: number, st: number, atBody: boolean) => number {
    const S = this.S;
    const body = this.block(s.body);
    const slot = s.v.slot;
    const captured = s.v.captured;
    const site = sitesOf(s)!.site;
    const tickLine = s.tickLine;
    const iSlot = this.slotFor(s, LOOP_A);
    const limSlot = this.slotFor(s, LOOP_B);
    const stSlot = this.slotFor(s, LOOP_C);
    if (forIndexInVariable(s)) {
      // The loop variable holds the index (nothing else assigns it): only the limit and step
      // are kept, once, and the loop needs no catch.
      return (f, i, lim, st, atBody) => {
        f.r[limSlot] = lim;
        f.r[stSlot] = st;
        if (atBody) {
          const r = body(f);
          if (r !== NORMAL) return r === BREAK ? NORMAL : r;
        }
        for (;;) {
          i += st;
          if (st > 0 ? !(i <= lim) : !(lim <= i)) return NORMAL;
          f.r[slot] = i;
          if (--S.budget < 0) S.loopTick(f, site, tickLine);
          const r = body(f);
          if (r !== NORMAL) return r === BREAK ? NORMAL : r;
        }
      };
    }
    return (f, i, lim, st, atBody) => {
      try {
        if (atBody) {
          const r = body(f);
          if (r !== NORMAL) return r === BREAK ? NORMAL : r;
        }
        for (;;) {
          i += st;
          if (st > 0 ? !(i <= lim) : !(lim <= i)) return NORMAL;
          f.r[slot] = captured ? new Box(i) : i;
          if (--S.budget < 0) S.loopTick(f, site, tickLine);
          const r = body(f);
          if (r !== NORMAL) return r === BREAK ? NORMAL : r;
        }
      } catch (e) {
        if (e === SUSPEND) {
          f.r[iSlot] = i;
          f.r[limSlot] = lim;
          f.r[stSlot] = st;
        }
        throw e;
      }
    };
  }

  private forNum(s: Stat & { k: "fornum" }): Ex {
    const start = this.expr(s.start);
    const limit = this.expr(s.limit);
    const step = s.step ? this.expr(s.step) : () => 1;
    const num = this.forNumbers(s);
    const loop = this.forNumLoop(s);
    const [aSlot, limSlot] = this.saves(s, s.step ? [s.start, s.limit, s.step] : [s.start, s.limit]) as [number, number];
    if (aSlot >= 0 || limSlot >= 0)
      return (f) => {
        const a = num(f, start(f), "initial value");
        if (aSlot >= 0) f.r[aSlot] = a;
        const lim = num(f, limit(f), "limit");
        if (limSlot >= 0) f.r[limSlot] = lim;
        const st = num(f, step(f), "step");
        return loop(f, a - st, lim, st, false);
      };
    return (f) => {
      const a = num(f, start(f), "initial value");
      const lim = num(f, limit(f), "limit");
      const st = num(f, step(f), "step");
      return loop(f, a - st, lim, st, false);
    };
  }

  /**
   * A generic for's loop from the iterator state: pairs() and ipairs() over tables run inline,
   * anything else calls the generator (a site of its own: it may yield). `atBody` resumes at
   * the tick (the loop variables are set, the body not run yet). A suspension passing through
   * keeps the generator, state and control value in the loop's slots.
   */
  private compileForInLoop(s: Stat & { k: "forin" }): (f: Frame, gen: LuaValue, state: LuaValue, control: LuaValue, atBody: boolean) => number {
    const S = this.S;
    const body = this.block(s.body);
    const line = s.line;
    const stores = s.vars.map((d) => this.declareLocal(d));
    const nvars = stores.length;
    const sites = sitesOf(s)!;
    const site = sites.site;
    const genSite = sites.site2;
    const tickLine = s.tickLine;
    const genSlot = this.slotFor(s, LOOP_A);
    const stateSlot = this.slotFor(s, LOOP_B);
    const controlSlot = this.slotFor(s, LOOP_C);
    // TFORLOOP calls a copy of the generator: Lua names it in no error message.
    const generatorDesc: VarInfo | null = null;
    return (f, gen, state, control, atBody) => {
      try {
        if (atBody) {
          const r = body(f);
          if (r !== NORMAL) return r === BREAK ? NORMAL : r;
        }
        // pairs()/next over a table: iterate directly (next is raw, no metamethods).
        if (gen === S.nextFn && state instanceof LuaTable) {
          for (;;) {
            let e: [LuaValue, LuaValue] | null;
            try {
              e = state.next(control);
            } catch (err) {
              throw S.rtError(f, line, (err as Error).message);
            }
            if (e === null) return NORMAL;
            control = e[0];
            stores[0]!(f, e[0]);
            if (nvars > 1) stores[1]!(f, e[1]);
            for (let i = 2; i < nvars; i++) stores[i]!(f, undefined);
            if (--S.budget < 0) S.loopTick(f, site, tickLine);
            const r = body(f);
            if (r !== NORMAL) return r === BREAK ? NORMAL : r;
          }
        }
        if (gen === S.ipairsAux && state instanceof LuaTable && typeof control === "number") {
          for (;;) {
            const i: number = (control as number) + 1;
            const v = state.getNum(i);
            if (v === undefined) return NORMAL;
            control = i;
            stores[0]!(f, i);
            if (nvars > 1) stores[1]!(f, v);
            for (let j = 2; j < nvars; j++) stores[j]!(f, undefined);
            if (--S.budget < 0) S.loopTick(f, site, tickLine);
            const r = body(f);
            if (r !== NORMAL) return r === BREAK ? NORMAL : r;
          }
        }
        for (;;) {
          f.line = line;
          f.callee = generatorDesc;
          f.pc = genSite;
          const rs = gen instanceof LuaFunction ? gen.call([state, control]) : S.callValue(f, line, gen, [state, control], generatorDesc);
          const first = rs[0];
          if (first === undefined) return NORMAL;
          control = first;
          for (let i = 0; i < nvars; i++) stores[i]!(f, rs[i]);
          if (--S.budget < 0) S.loopTick(f, site, tickLine);
          const r = body(f);
          if (r !== NORMAL) return r === BREAK ? NORMAL : r;
        }
      } catch (e) {
        if (e === SUSPEND) {
          f.r[genSlot] = gen;
          f.r[stateSlot] = state;
          f.r[controlSlot] = control;
        }
        throw e;
      }
    };
  }

  /** A generic for's stores of the values of one generator call (the resume of that call). */
  private compileForInStores(s: Stat & { k: "forin" }): (f: Frame, rs: LuaValue[]) => void {
    const stores = s.vars.map((d) => this.declareLocal(d));
    return (f, rs) => {
      for (let i = 0; i < stores.length; i++) stores[i]!(f, rs[i]);
    };
  }

  private forIn(s: Stat & { k: "forin" }): Ex {
    const init = this.list(s.exprs);
    const loop = this.forInLoop(s);
    return (f) => {
      const iv = init(f);
      return loop(f, iv[0], iv[1], iv[2], false);
    };
  }
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

/** Compiles a function prototype into a factory of function values. */
export function compileFunction(S: LuaState, proto: FuncProto, chunk: Chunk): FunctionFactory {
  numberSites(proto);
  const info = protoInfo(proto.source, proto.nslots, proto.name);
  info.firstLine = proto.body[0]?.at ?? proto.line;
  const hidden = { next: proto.nslots };
  const closures: KeptClosures = { mode: "record", list: [], next: 0 };
  const body = new FunctionCompiler(S, info, hidden, chunk, closures).block(proto.body);
  info.nslots = hidden.next;
  const index = proto.index;
  info.resume = (f) => {
    const resume = resumeOf(S, chunk, index, info, closures);
    info.resume = resume;
    return resume(f);
  };
  const ups = proto.upvals;
  const nup = ups.length;
  const params = proto.params;
  const np = params.length;
  const slots = params.map((p) => p.slot);
  const boxed = params.map((p) => p.captured);
  const anyBoxed = boxed.some((b) => b);
  const isVararg = proto.isVararg;
  const argLocal = proto.isVararg && !proto.usesVararg ? proto.argLocal : null;
  const argSlot = proto.argLocal ? proto.argLocal.slot : -1;
  const argBoxed = proto.argLocal ? proto.argLocal.captured : false;
  const name = proto.name;
  const factory: FunctionFactory = (parent, env) => {
    const upvals: Box[] = new Array(nup);
    for (let i = 0; i < nup; i++) {
      const u = ups[i]!;
      upvals[i] = u.fromLocal ? (parent!.r[u.index] as Box) : parent!.u[u.index]!;
    }
    const fn = new LuaFunction(name, NOT_CALLABLE, false);
    fn.env = env;
    fn.call = (args) => {
      const s = S;
      const depth = s.depth;
      if (depth >= s.stackCheckFrom && ((depth & 15) === 0 || depth >= s.maxDepth) && (depth >= s.maxDepth || !s.stackOk(800))) {
        const caller = s.top();
        if (caller) throw s.rtError(caller, caller.line, "stack overflow");
        throw new LuaError("stack overflow");
      }
      const f = new Frame(info, upvals, fn.env!, fn);
      const r = f.r;
      if (anyBoxed) {
        for (let i = 0; i < np; i++) r[slots[i]!] = boxed[i] ? new Box(args[i]) : args[i];
      } else {
        for (let i = 0; i < np; i++) r[slots[i]!] = args[i];
      }
      if (isVararg) {
        const va = args.length > np ? args.slice(np) : EMPTY;
        f.va = va;
        if (argSlot >= 0) {
          let argTable: LuaValue = undefined;
          if (argLocal) {
            const t = new LuaTable(va.length, 1);
            for (let i = 0; i < va.length; i++) t.arr[i] = va[i];
            t.set("n", va.length);
            argTable = t;
          }
          r[argSlot] = argBoxed ? new Box(argTable) : argTable;
        }
      }
      s.frames[s.depth++] = f;
      if (--s.budget < 0) s.tick();
      const sig = body(f);
      s.depth--;
      return sig === RETURN ? f.ret : EMPTY;
    };
    return fn;
  };
  chunk.factories[index] = factory;
  return factory;
}

/**
 * The resume of a function's frames: its chunk parsed again, the function compiled again as
 * the first time (the same sites, the same hidden slots), then its resume closures.
 */
function resumeOf(S: LuaState, chunk: Chunk, index: number, info: ProtoInfo, closures: KeptClosures): (f: Frame) => LuaValue[] {
  chunk.functions ??= parseChunkFunctions(chunk.src, chunk.source);
  const proto = chunk.functions[index]!;
  numberSites(proto);
  const hidden = { next: proto.nslots };
  closures.mode = "replay";
  const fc = new FunctionCompiler(S, info, hidden, chunk, closures);
  const body = fc.block(proto.body);
  if (hidden.next !== info.nslots || closures.next !== closures.list.length) {
    throw new Error(`resume of ${info.name}: compiled again differently (${hidden.next}/${info.nslots} slots, ${closures.next}/${closures.list.length} closures)`);
  }
  closures.mode = "lookup";
  return compileResume(fc, proto, body);
}

