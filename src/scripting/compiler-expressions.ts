// The expression half of the compiler (compiler.ts has the statements and function bodies):
// every expression becomes a closure of the frame returning its value, or all its values where
// Lua takes several (calls, `...`, expression lists); assignment targets become a store. This
// class also owns what both halves share: the closures kept for resuming (recorded on the first
// compile, replayed when compiling again) and the allocation of hidden slots.

import type { Expr, FuncProto, LocalDecl, VarInfo } from "./ast.ts";
import {
  type Chunk,
  describe,
  type Ev,
  type FunctionFactory,
  indexValue,
  isMulti,
  type KeptClosures,
  METHOD,
  type Mv,
  type SlotAllocator,
  type Store,
  storeIndex,
  TABLE,
  type Target,
} from "./compiled.ts";
import { binaryExpr } from "./compiler-operators.ts";
import { isStable, mayYield, sitesOf } from "./sites.ts";
import type { Frame, LuaState, ProtoInfo } from "./state.ts";
import { LuaTable, strHash } from "./table.ts";
import { Box, EMPTY, LuaFunction, type LuaValue } from "./value.ts";

/** Compiles a function's expressions; FunctionCompiler (compiler.ts) adds its statements. */
export abstract class ExpressionCompiler {
  constructor(
    readonly S: LuaState,
    readonly info: ProtoInfo,
    protected readonly slots: SlotAllocator,
    protected readonly chunk: Chunk,
    protected readonly closures: KeptClosures,
  ) {}

  /** The factory of a function defined in this one. */
  protected abstract factoryOf(fn: FuncProto): FunctionFactory;

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

  protected kept<T>(node: object, kind: string, make: () => T): T {
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
  protected writeLocal(d: LocalDecl): Store {
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


  private binary(e: Expr & { k: "bin" }): Ev {
    const left = this.expr(e.a);
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
    return binaryExpr(this.S, e, a, b);
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
  protected keptValues(exprs: Expr[], expand: boolean, self: boolean): (f: Frame, selfValue?: LuaValue) => LuaValue[] {
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
  protected keepsValues(exprs: Expr[]): boolean {
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
}
