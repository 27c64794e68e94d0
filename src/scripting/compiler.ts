// Compiles the syntax tree to JavaScript closures: every expression becomes a function of the
// frame returning its value (or, where Lua allows several, an array of values), every statement
// a function returning how control continues (NORMAL, BREAK, RETURN). No tree is walked at run
// time: dispatch on node kinds happens once, here. Fast paths (numbers, plain tables, constant
// string keys with their hash precomputed) are inline; everything else goes to LuaState's slow
// paths, which implement metatables and raise Lua's errors.

import type { Block, Expr, FuncProto, LocalDecl, Stat, VarInfo } from "./ast.ts";
import { cpow, Frame, LuaState, protoInfo, type ProtoInfo } from "./state.ts";
import { strToNumber } from "./numbers.ts";
import { LuaTable, strHash } from "./table.ts";
import { Box, EMPTY, LuaError, LuaFunction, type LuaValue } from "./value.ts";

type Ev = (f: Frame) => LuaValue;
type Mv = (f: Frame) => LuaValue[];
type Ex = (f: Frame) => number;
type Store = (f: Frame, v: LuaValue) => void;

const NORMAL = 0;
const BREAK = 1;
const RETURN = 2;

/** Makes a function value from a prototype: its upvalues come from the creating frame. */
export type FunctionFactory = (parent: Frame | null, env: LuaTable) => LuaFunction;

const NOT_CALLABLE: LuaFunction["call"] = () => EMPTY;

/** getobjname: how an operand is named in error messages, when Lua can tell. */
function describe(e: Expr): VarInfo | null {
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

function isMulti(e: Expr): boolean {
  return e.k === "call" || e.k === "method" || e.k === "vararg";
}

function truthy(v: LuaValue): boolean {
  return v !== undefined && v !== false;
}

class FunctionCompiler {
  constructor(
    private readonly S: LuaState,
    private readonly info: ProtoInfo,
  ) {}

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
  private declareLocal(d: LocalDecl): Store {
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

  expr(e: Expr): Ev {
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
        const make = compileFunction(S, e.fn);
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
        return (f) => {
          const callee = fn(f);
          const a = args(f);
          f.line = line;
          f.callee = desc;
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
    const S = this.S;
    const line = e.line;
    const da = describe(e.a);
    const db = describe(e.b);
    const a = this.expr(e.a);
    const bConst = e.b.k === "num" ? e.b.v : undefined;
    const b = this.expr(e.b);
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
    const S = this.S;
    const na = e.na;
    const nh = e.nh;
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
        ops.push((f, t) => {
          const k = key(f);
          S.rawSet(f, line, t, k, val(f));
        });
      }
    }
    if (ops.length === 0) return () => new LuaTable(na, nh);
    return (f) => {
      const t = new LuaTable(na, nh);
      for (let i = 0; i < ops.length; i++) ops[i]!(f, t);
      return t;
    };
  }

  /** An expression in a context that takes all its values (calls and `...`). */
  multi(e: Expr): Mv {
    const S = this.S;
    if (e.k === "vararg") return (f) => f.va;
    if (e.k === "call") {
      const fn = this.expr(e.fn);
      const args = this.list(e.args);
      const line = e.line;
      const desc = describe(e.fn);
      return (f) => {
        const callee = fn(f);
        const a = args(f);
        f.line = line;
        f.callee = desc;
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
        if (m instanceof LuaFunction) return m.call(a);
        return S.callValue(f, line, m, a, desc);
      };
    }
    const v = this.expr(e);
    return (f) => [v(f)];
  }

  /** An expression list: all values, the last expression expanded. */
  list(exprs: Expr[]): Mv {
    const n = exprs.length;
    if (n === 0) return () => EMPTY;
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

  private listWithSelf(exprs: Expr[]): (f: Frame, self: LuaValue) => LuaValue[] {
    const n = exprs.length;
    if (n === 0) return (_f, self) => [self];
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
  private target(e: Expr, storeLine: number): { prepare: ((f: Frame) => unknown) | null; store: (f: Frame, prep: unknown, v: LuaValue) => void } {
    const S = this.S;
    switch (e.k) {
      case "local": {
        const w = this.writeLocal(e.decl);
        return { prepare: null, store: (f, _p, v) => w(f, v) };
      }
      case "upval": {
        const i = e.index;
        return {
          prepare: null,
          store: (f, _p, v) => {
            f.u[i]!.v = v;
          },
        };
      }
      case "global": {
        const name = e.name;
        const line = storeLine;
        return {
          prepare: null,
          store: (f, _p, v) => {
            const env = f.env;
            if (env.metatable === null && !env.readonly) env.set(name, v);
            else S.setIndex(f, line, env, name, v, null);
          },
        };
      }
      case "index": {
        const obj = this.expr(e.obj);
        const key = this.expr(e.key);
        const line = storeLine;
        const desc = describe(e.obj);
        return {
          prepare: (f) => [obj(f), key(f)],
          store: (f, p, v) => {
            const [o, k] = p as [LuaValue, LuaValue];
            storeIndex(S, f, line, o, k, v, desc);
          },
        };
      }
      default:
        throw new Error(`cannot assign to ${e.k}`);
    }
  }

  // ------------------------------------------------------------------ statements

  block(b: Block): Ex {
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

  private stat(s: Stat): Ex {
    const S = this.S;
    switch (s.k) {
      case "local":
        return this.localStat(s.decls, s.exprs);
      case "localfunc": {
        const d = s.decl;
        const make = compileFunction(S, s.fn);
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
        return this.assign(s.targets, s.exprs, s.line);
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
        return (f) => {
          for (;;) {
            const c = cond(f);
            if (c === undefined || c === false) return NORMAL;
            if (--S.budget < 0) S.tick();
            const r = body(f);
            if (r !== NORMAL) return r === BREAK ? NORMAL : r;
          }
        };
      }
      case "repeat": {
        const cond = this.expr(s.cond);
        const body = this.block(s.body);
        return (f) => {
          for (;;) {
            if (--S.budget < 0) S.tick();
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
  private adjusted(exprs: Expr[], n: number): Mv {
    const ne = exprs.length;
    if (ne > n) {
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

  private assign(targets: Expr[], exprs: Expr[], line: number): Ex {
    const S = this.S;
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
        tg.store(f, null, v(f));
        return NORMAL;
      };
    }
    const tgs = targets.map((t) => this.target(t, line));
    const n = tgs.length;
    const vals = this.adjusted(exprs, n);
    return (f) => {
      const preps = new Array<unknown>(n);
      for (let i = 0; i < n; i++) {
        const p = tgs[i]!.prepare;
        if (p !== null) preps[i] = p(f);
      }
      const vs = vals(f);
      // Lua stores from the last target to the first.
      for (let i = n - 1; i >= 0; i--) tgs[i]!.store(f, preps[i], vs[i]);
      return NORMAL;
    };
  }

  private forNum(s: Stat & { k: "fornum" }): Ex {
    const S = this.S;
    const start = this.expr(s.start);
    const limit = this.expr(s.limit);
    const step = s.step ? this.expr(s.step) : () => 1;
    const body = this.block(s.body);
    const line = s.line;
    const slot = s.v.slot;
    const captured = s.v.captured;
    const num = (f: Frame, v: LuaValue, what: string): number => {
      if (typeof v === "number") return v;
      if (typeof v === "string") {
        const n = strToNumber(v);
        if (n !== undefined) return n;
      }
      throw S.rtError(f, line, `'for' ${what} must be a number`);
    };
    return (f) => {
      const a = num(f, start(f), "initial value");
      const lim = num(f, limit(f), "limit");
      const st = num(f, step(f), "step");
      let i = a - st;
      for (;;) {
        i += st;
        if (st > 0 ? !(i <= lim) : !(lim <= i)) return NORMAL;
        f.r[slot] = captured ? new Box(i) : i;
        if (--S.budget < 0) S.tick();
        const r = body(f);
        if (r !== NORMAL) return r === BREAK ? NORMAL : r;
      }
    };
  }

  private forIn(s: Stat & { k: "forin" }): Ex {
    const S = this.S;
    const init = this.list(s.exprs);
    const body = this.block(s.body);
    const line = s.line;
    const stores = s.vars.map((d) => this.declareLocal(d));
    const nvars = stores.length;
    // TFORLOOP calls a copy of the generator: Lua names it in no error message.
    const generatorDesc: VarInfo | null = null;
    return (f) => {
      const iv = init(f);
      const gen = iv[0];
      const state = iv[1];
      let control = iv[2];
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
          if (--S.budget < 0) S.tick();
          const r = body(f);
          if (r !== NORMAL) return r === BREAK ? NORMAL : r;
        }
      }
      if (gen === S.ipairsAux && state instanceof LuaTable && typeof control === "number") {
        let i = control;
        for (;;) {
          i++;
          const v = state.getNum(i);
          if (v === undefined) return NORMAL;
          stores[0]!(f, i);
          if (nvars > 1) stores[1]!(f, v);
          for (let j = 2; j < nvars; j++) stores[j]!(f, undefined);
          if (--S.budget < 0) S.tick();
          const r = body(f);
          if (r !== NORMAL) return r === BREAK ? NORMAL : r;
        }
      }
      for (;;) {
        f.line = line;
        f.callee = generatorDesc;
        const rs = gen instanceof LuaFunction ? gen.call([state, control]) : S.callValue(f, line, gen, [state, control], generatorDesc);
        const first = rs[0];
        if (first === undefined) return NORMAL;
        control = first;
        for (let i = 0; i < nvars; i++) stores[i]!(f, rs[i]);
        if (--S.budget < 0) S.tick();
        const r = body(f);
        if (r !== NORMAL) return r === BREAK ? NORMAL : r;
      }
    };
  }
}


function storeIndex(S: LuaState, f: Frame, line: number, o: LuaValue, k: LuaValue, v: LuaValue, desc: VarInfo | null): void {
  // A plain table and a valid key (not nil, not NaN): a raw store.
  if (o instanceof LuaTable && o.metatable === null && !o.readonly && k !== undefined && k === k) {
    o.set(k, v);
    return;
  }
  S.setIndex(f, line, o, k, v, desc);
}

/** Compiles a function prototype into a factory of function values. */
export function compileFunction(S: LuaState, proto: FuncProto): FunctionFactory {
  const info = protoInfo(proto.source, proto.nslots, proto.name);
  const fc = new FunctionCompiler(S, info);
  const body = fc.block(proto.body);
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
  return (parent, env) => {
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
}

