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
import {
  BREAK,
  type Chunk,
  describe,
  type Ex,
  forIndexInVariable,
  type FunctionFactory,
  isMulti,
  type KeptClosures,
  LOOP_A,
  LOOP_B,
  LOOP_C,
  type Mv,
  NORMAL,
  PREPS,
  RETURN,
  storeIndex,
} from "./compiled.ts";
import { ExpressionCompiler } from "./compiler-expressions.ts";
import { compileResume } from "./compiler-resume.ts";
import { parseChunkFunctions } from "./parser.ts";
import { mayYield, numberSites, sitesOf } from "./sites.ts";
import { Frame, LuaState, protoInfo, SUSPEND, type ProtoInfo } from "./state.ts";
import { strToNumber } from "./numbers.ts";
import { LuaTable } from "./table.ts";
import { Box, EMPTY, LuaError, LuaFunction, type LuaValue } from "./value.ts";

const NOT_CALLABLE: LuaFunction["call"] = () => EMPTY;

/**
 * Compiles a function: its statements here, its expressions in ExpressionCompiler. Nested
 * functions are compiled when their definition is, each by a FunctionCompiler of its own.
 */
export class FunctionCompiler extends ExpressionCompiler {
  /** Compiling again for a resume: nested functions are the ones compiled the first time. */
  private get again(): boolean {
    return this.closures.mode !== "record";
  }

  /** The factory of a function defined in this one. */
  protected override factoryOf(fn: FuncProto): FunctionFactory {
    if (this.again) return this.chunk.factories[fn.index]!;
    return compileFunction(this.S, fn, this.chunk);
  }

  // ------------------------------------------------------------------ kept closures of statements
  // (see ExpressionCompiler's)

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
