// Re-entering suspended frames (busy scripts; see sites.ts for how a script yields).
//
// For a function whose frame was suspended, resume closures are compiled on first need: one per
// node holding a site, each taking the frame, finding which child holds the frame's pc, getting
// the values computed before that child back (from their hidden slots, or evaluated again when
// stable), resuming that child, and going on with the node's ordinary (fast) closures, which
// keep values and loop state exactly as they would have. At the site itself, a call continues
// in its callee's frame (LuaState.resumeCallee), a loop tick continues its loop.
//
// Every resume closure reads f.pc once, first: what it resumes moves the pc on.

import type { Block, Expr, FuncProto, Stat } from "./ast.ts";
import {
  BREAK,
  describe,
  forIndexInVariable,
  type Ev,
  type Ex,
  indexValue,
  isMulti,
  LOOP_A,
  LOOP_B,
  LOOP_C,
  METHOD,
  type Mv,
  NORMAL,
  PREPS,
  RETURN,
  storeIndex,
  TABLE,
} from "./compiled.ts";
import type { FunctionCompiler } from "./compiler.ts";
import { binaryOp } from "./compiler-operators.ts";
import { holds, mayYield, sitesOf } from "./sites.ts";
import type { Frame } from "./state.ts";
import { strHash } from "./table.ts";
import { EMPTY, LuaFunction, LuaTable, type LuaValue } from "./value.ts";

/** The resume of a function's frame: its body from the frame's pc to the function's return. */
export function compileResume(fc: FunctionCompiler, proto: FuncProto, body: Ex): (f: Frame) => LuaValue[] {
  const S = fc.S;
  const rbody = mayYield(proto.body) ? new ResumeCompiler(fc).block(proto.body) : null;
  return (f) => {
    let sig: number;
    if (f.pc === 0) {
      // Suspended at the entry tick.
      S.resumePoint();
      sig = body(f);
    } else sig = rbody!(f);
    S.depth--;
    return sig === RETURN ? f.ret : EMPTY;
  };
}

/**
 * A number read back from a frame slot, in the representation the loop had: an integral value
 * comes back from the array as a double, and a loop specialized on int32 arithmetic would run
 * on doubles from then on (about twice as slow).
 */
function asInt(n: number): number {
  return (n | 0) === n && (n !== 0 || 1 / n > 0) ? n | 0 : n;
}

function truthy(v: LuaValue): boolean {
  return v !== undefined && v !== false;
}

/** The index of the node holding pc (nodes without sites never do). */
function finder(nodes: readonly object[]): (pc: number) => number {
  const lo = nodes.map((n) => sitesOf(n)?.lo ?? -1);
  const hi = nodes.map((n) => sitesOf(n)?.hi ?? -1);
  return (pc) => {
    for (let i = 0; i < lo.length; i++) if (pc >= lo[i]! && pc < hi[i]!) return i;
    throw new Error(`resume: no node holds site ${pc}`);
  };
}

class ResumeCompiler {
  constructor(private readonly fc: FunctionCompiler) {}

  private get S() {
    return this.fc.S;
  }

  /** Resumes an expression (single value). */
  expr(e: Expr): Ev {
    const fc = this.fc;
    const S = this.S;
    switch (e.k) {
      case "call":
      case "method": {
        const m = this.multi(e);
        return (f) => m(f)[0];
      }
      case "paren":
        return this.expr(e.e);
      case "index": {
        const obj = fc.expr(e.obj);
        const key = fc.expr(e.key);
        const objSlot = fc.saves(e, [e.obj, e.key])[0]!;
        const robj = mayYield(e.obj) ? this.expr(e.obj) : null;
        const rkey = mayYield(e.key) ? this.expr(e.key) : null;
        const line = e.line;
        const desc = describe(e.obj);
        return (f) => {
          const pc = f.pc;
          let o: LuaValue;
          let k: LuaValue;
          if (robj !== null && holds(e.obj, pc)) {
            o = robj(f);
            if (objSlot >= 0) f.r[objSlot] = o;
            k = key(f);
          } else {
            o = objSlot >= 0 ? f.r[objSlot] : obj(f);
            k = rkey!(f);
          }
          return indexValue(S, f, line, o, k, desc);
        };
      }
      case "bin": {
        const a = fc.expr(e.a);
        const b = fc.expr(e.b);
        const op = binaryOp(fc.S, e);
        const xSlot = fc.saves(e, [e.a, e.b])[0]!;
        const ra = mayYield(e.a) ? this.expr(e.a) : null;
        const rb = mayYield(e.b) ? this.expr(e.b) : null;
        return (f) => {
          const pc = f.pc;
          let x: LuaValue;
          let y: LuaValue;
          if (ra !== null && holds(e.a, pc)) {
            x = ra(f);
            if (xSlot >= 0) f.r[xSlot] = x;
            y = b(f);
          } else {
            x = xSlot >= 0 ? f.r[xSlot] : a(f);
            y = rb!(f);
          }
          return op(f, x, y);
        };
      }
      case "and":
      case "or": {
        const b = fc.expr(e.b);
        const ra = mayYield(e.a) ? this.expr(e.a) : null;
        const rb = mayYield(e.b) ? this.expr(e.b) : null;
        const isAnd = e.k === "and";
        return (f) => {
          if (ra !== null && holds(e.a, f.pc)) {
            const v = ra(f);
            return truthy(v) !== isAnd ? v : b(f);
          }
          return rb!(f);
        };
      }
      case "not": {
        const ra = this.expr(e.a);
        return (f) => !truthy(ra(f));
      }
      case "neg": {
        const ra = this.expr(e.a);
        const line = e.line;
        const da = describe(e.a);
        return (f) => {
          const v = ra(f);
          return typeof v === "number" ? -v : S.unm(f, line, v, da);
        };
      }
      case "len": {
        const ra = this.expr(e.a);
        const line = e.line;
        const da = describe(e.a);
        return (f) => {
          const v = ra(f);
          if (typeof v === "string") return v.length;
          if (v instanceof LuaTable) return v.length();
          return S.len(f, line, v, da);
        };
      }
      case "table":
        return this.table(e);
      default:
        throw new Error(`resume: ${e.k} holds no site`);
    }
  }

  private table(e: Expr & { k: "table" }): Ev {
    const fc = this.fc;
    const S = this.S;
    const ops = fc.tableOps(e);
    const tSlot = fc.slotFor(e, TABLE);
    const line = e.line;
    const items = e.items;
    const n = items.length;
    type Op = (f: Frame, t: LuaTable) => void;
    const rops: Array<Op | null> = [];
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const it = items[i]!;
      if (it.pos) {
        const idx = pos++;
        if (!mayYield(it.e)) {
          rops.push(null);
        } else if (i === n - 1 && isMulti(it.e)) {
          const rm = this.multi(it.e);
          rops.push((f, t) => {
            const vs = rm(f);
            const last = idx + vs.length;
            if (last > t.arr.length) t.resizeArray(last);
            for (let j = 0; j < vs.length; j++) t.arr[idx + j] = vs[j];
          });
        } else {
          const rv = this.expr(it.e);
          rops.push((f, t) => {
            t.arr[idx] = rv(f);
          });
        }
        continue;
      }
      if (!mayYield(it.key) && !mayYield(it.val)) {
        rops.push(null);
        continue;
      }
      const key = fc.expr(it.key);
      const val = fc.expr(it.val);
      const keySlot = fc.keySlot(e, i);
      const rkey = mayYield(it.key) ? this.expr(it.key) : null;
      const rval = mayYield(it.val) ? this.expr(it.val) : null;
      rops.push((f, t) => {
        const pc = f.pc;
        let k: LuaValue;
        let v: LuaValue;
        if (rkey !== null && holds(it.key, pc)) {
          k = rkey(f);
          if (keySlot >= 0) f.r[keySlot] = k;
          v = val(f);
        } else {
          k = keySlot >= 0 ? f.r[keySlot] : key(f);
          v = rval!(f);
        }
        S.rawSet(f, line, t, k, v);
      });
    }
    const find = finder(items.map((it) => (it.pos ? it.e : { $s: mergeSites(it.key, it.val) })));
    return (f) => {
      const t = f.r[tSlot];
      const k = find(f.pc);
      rops[k]!(f, t);
      for (let j = k + 1; j < ops.length; j++) ops[j]!(f, t);
      return t;
    };
  }

  /** Resumes an expression in a context taking all its values. */
  multi(e: Expr): Mv {
    const fc = this.fc;
    const S = this.S;
    if (e.k === "call") {
      const fn = fc.expr(e.fn);
      const args = fc.list(e.args);
      const calleeSlot = fc.saves(e, [e.fn, e.args])[0]!;
      const rfn = mayYield(e.fn) ? this.expr(e.fn) : null;
      const rargs = mayYield(e.args) ? this.values(e.args, true) : null;
      const site = sitesOf(e)!.site;
      const line = e.line;
      const desc = describe(e.fn);
      return (f) => {
        const pc = f.pc;
        if (pc === site) return S.resumeCallee();
        let callee: LuaValue;
        let a: LuaValue[];
        if (rfn !== null && holds(e.fn, pc)) {
          callee = rfn(f);
          if (calleeSlot >= 0) f.r[calleeSlot] = callee;
          a = args(f);
        } else {
          callee = calleeSlot >= 0 ? f.r[calleeSlot] : fn(f);
          a = rargs!(f);
        }
        f.line = line;
        f.callee = desc;
        f.pc = site;
        if (callee instanceof LuaFunction) return callee.call(a);
        return S.callValue(f, line, callee, a, desc);
      };
    }
    if (e.k === "method") {
      const obj = fc.expr(e.obj);
      const args = fc.listWithSelf(e.args);
      const argsYield = mayYield(e.args);
      const objSlot = argsYield ? fc.saves(e, [e.obj, e.args])[0]! : -1;
      const mSlot = argsYield ? fc.slotFor(e, METHOD) : -1;
      const robj = mayYield(e.obj) ? this.expr(e.obj) : null;
      const rargs = argsYield ? this.values(e.args, true) : null;
      const site = sitesOf(e)!.site;
      const line = e.line;
      const name = e.name;
      const h = strHash(name);
      const objDesc = describe(e.obj);
      const desc = { kind: "method" as const, name };
      return (f) => {
        const pc = f.pc;
        if (pc === site) return S.resumeCallee();
        let o: LuaValue;
        let m: LuaValue;
        let a: LuaValue[];
        if (robj !== null && holds(e.obj, pc)) {
          o = robj(f);
          if (objSlot >= 0) f.r[objSlot] = o;
          m = fc.methodOf(f, line, o, name, h, objDesc);
          if (mSlot >= 0) f.r[mSlot] = m;
          a = args(f, o);
        } else {
          o = objSlot >= 0 ? f.r[objSlot] : obj(f);
          m = f.r[mSlot];
          a = rargs!(f, o);
        }
        f.line = line;
        f.callee = desc;
        f.pc = site;
        if (m instanceof LuaFunction) return m.call(a);
        return S.callValue(f, line, m, a, desc);
      };
    }
    const r = this.expr(e);
    return (f) => [r(f)];
  }

  /**
   * Resumes the values of an expression list, as FunctionCompiler's list (`expand`: the last
   * expression gives all its values) or its single-valued forms; with `self` first for a
   * method's arguments.
   */
  values(exprs: Expr[], expand: boolean): (f: Frame, self?: LuaValue) => LuaValue[] {
    const fc = this.fc;
    const n = exprs.length;
    const slots = fc.saves(exprs, exprs);
    const multiLast = expand && isMulti(exprs[n - 1]!);
    const nSingle = multiLast ? n - 1 : n;
    const evs = exprs.slice(0, nSingle).map((x) => fc.expr(x));
    const m = multiLast ? fc.multi(exprs[n - 1]!) : null;
    const rs = exprs.map((x, i) => (!mayYield(x) ? null : i === n - 1 && multiLast ? this.multi(x) : this.expr(x)));
    const find = finder(exprs);
    return (f, ...self) => {
      const k = find(f.pc);
      const out: LuaValue[] = self.length ? [self[0]] : [];
      for (let i = 0; i < k; i++) {
        const slot = slots[i]!;
        out.push(slot >= 0 ? f.r[slot] : evs[i]!(f));
      }
      if (k === n - 1 && multiLast) {
        const rest = (rs[k] as Mv)(f);
        for (let i = 0; i < rest.length; i++) out.push(rest[i]);
        return out;
      }
      const v = (rs[k] as Ev)(f);
      if (slots[k]! >= 0) f.r[slots[k]!] = v;
      out.push(v);
      for (let i = k + 1; i < nSingle; i++) {
        const w = evs[i]!(f);
        const slot = slots[i]!;
        if (slot >= 0) f.r[slot] = w;
        out.push(w);
      }
      if (m !== null) {
        const rest = m(f);
        for (let i = 0; i < rest.length; i++) out.push(rest[i]);
      }
      return out;
    };
  }

  /**
   * A block run after a resumed part of its statement ended: as compiled, unless the script
   * was killed (and a pcall caught it), when each statement starting on a new line raises the
   * kill again (Redis's line hook; loops and calls raise it at their ticks).
   */
  private afterResume(b: Block): Ex {
    const fast = this.fc.block(b);
    let checked: Ex | null = null;
    return (f) => {
      if (!this.S.killed) return fast(f);
      checked ??= this.checkedBlock(b);
      return checked(f);
    };
  }

  private checkedBlock(b: Block): Ex {
    const fc = this.fc;
    const S = this.S;
    const stats = b.map((s) => (s.k === "do" ? this.checkedBlock(s.body) : s.k === "if" ? this.checkedIf(s) : fc.stat(s)));
    const ats = b.map((s) => s.at ?? 0);
    return (f) => {
      for (let j = 0; j < stats.length; j++) {
        if (ats[j] !== f.line) {
          f.line = ats[j]!;
          throw S.killError();
        }
        const r = stats[j]!(f);
        if (r !== NORMAL) return r;
      }
      return NORMAL;
    };
  }

  private checkedIf(s: Stat & { k: "if" }): Ex {
    const conds = s.conds.map((c) => this.fc.expr(c));
    const blocks = s.blocks.map((b) => this.checkedBlock(b));
    const orelse = s.orelse ? this.checkedBlock(s.orelse) : null;
    return (f) => {
      for (let i = 0; i < conds.length; i++) if (truthy(conds[i]!(f))) return blocks[i]!(f);
      return orelse === null ? NORMAL : orelse(f);
    };
  }

  /**
   * Resumes a block: the statement holding the pc, then the next ones. After a kill caught by
   * pcall, a statement starting on another line raises it again (Redis's line hook).
   */
  block(b: Block): Ex {
    const fc = this.fc;
    const S = this.S;
    const fast = b.map((s) => fc.stat(s));
    const rstats = b.map((s) => (mayYield(s) ? this.stat(s) : null));
    const ats = b.map((s) => s.at ?? 0);
    const find = finder(b);
    const n = b.length;
    return (f) => {
      const k = find(f.pc);
      let r = rstats[k]!(f);
      if (r !== NORMAL) return r;
      for (let j = k + 1; j < n; j++) {
        if (S.killed && ats[j] !== f.line) {
          f.line = ats[j]!;
          throw S.killError();
        }
        r = fast[j]!(f);
        if (r !== NORMAL) return r;
      }
      return NORMAL;
    };
  }

  stat(s: Stat): Ex {
    const fc = this.fc;
    const S = this.S;
    switch (s.k) {
      case "local": {
        const stores = s.decls.map((d) => fc.declareLocal(d));
        const nv = stores.length;
        const ne = s.exprs.length;
        if (nv === 1 && ne === 1) {
          const rv = this.expr(s.exprs[0]!);
          const st = stores[0]!;
          return (f) => {
            st(f, rv(f));
            return NORMAL;
          };
        }
        const vals = this.values(s.exprs, !(ne > nv || (nv === ne && !isMulti(s.exprs[ne - 1]!))));
        return (f) => {
          const vs = vals(f);
          for (let i = 0; i < nv; i++) stores[i]!(f, vs[i]);
          return NORMAL;
        };
      }
      case "assign":
        return this.assign(s);
      case "call": {
        const rm = this.multi(s.call);
        return (f) => {
          rm(f);
          return NORMAL;
        };
      }
      case "do":
        return this.block(s.body);
      case "while": {
        const whole = fc.stat(s);
        const body = fc.block(s.body);
        const bodyAfter = this.afterResume(s.body);
        const rcond = mayYield(s.cond) ? this.expr(s.cond) : null;
        const rbody = mayYield(s.body) ? this.block(s.body) : null;
        const site = sitesOf(s)!.site;
        return (f) => {
          const pc = f.pc;
          let r: number;
          if (rcond !== null && holds(s.cond, pc)) {
            if (!truthy(rcond(f))) return NORMAL;
            r = bodyAfter(f);
          } else if (pc === site) {
            S.resumePoint();
            r = body(f);
          } else r = rbody!(f);
          if (r !== NORMAL) return r === BREAK ? NORMAL : r;
          return whole(f);
        };
      }
      case "repeat": {
        const whole = fc.stat(s);
        const body = fc.block(s.body);
        const cond = fc.expr(s.cond);
        const rcond = mayYield(s.cond) ? this.expr(s.cond) : null;
        const rbody = mayYield(s.body) ? this.block(s.body) : null;
        const site = sitesOf(s)!.site;
        return (f) => {
          const pc = f.pc;
          if (rcond !== null && holds(s.cond, pc)) {
            if (truthy(rcond(f))) return NORMAL;
            return whole(f);
          }
          let r: number;
          if (pc === site) {
            S.resumePoint();
            r = body(f);
          } else r = rbody!(f);
          if (r !== NORMAL) return r === BREAK ? NORMAL : r;
          if (truthy(cond(f))) return NORMAL;
          return whole(f);
        };
      }
      case "if": {
        const conds = s.conds.map((c) => fc.expr(c));
        const blocks = s.blocks.map((b) => this.afterResume(b));
        const orelse = s.orelse ? this.afterResume(s.orelse) : null;
        const rconds = s.conds.map((c) => (mayYield(c) ? this.expr(c) : null));
        const rblocks = s.blocks.map((b) => (mayYield(b) ? this.block(b) : null));
        const rorelse = s.orelse && mayYield(s.orelse) ? this.block(s.orelse) : null;
        const n = conds.length;
        return (f) => {
          const pc = f.pc;
          for (let i = 0; i < n; i++) {
            if (holds(s.conds[i]!, pc)) {
              if (truthy(rconds[i]!(f))) return blocks[i]!(f);
              for (let j = i + 1; j < n; j++) if (truthy(conds[j]!(f))) return blocks[j]!(f);
              return orelse === null ? NORMAL : orelse(f);
            }
            if (holds(s.blocks[i]!, pc)) return rblocks[i]!(f);
          }
          return rorelse!(f);
        };
      }
      case "fornum":
        return this.forNum(s);
      case "forin":
        return this.forIn(s);
      case "return": {
        if (s.exprs.length === 1 && !isMulti(s.exprs[0]!)) {
          const rv = this.expr(s.exprs[0]!);
          return (f) => {
            f.ret = [rv(f)];
            return RETURN;
          };
        }
        const vals = this.values(s.exprs, true);
        return (f) => {
          f.ret = vals(f);
          return RETURN;
        };
      }
      default:
        throw new Error(`resume: ${s.k} holds no site`);
    }
  }

  private assign(s: Stat & { k: "assign" }): Ex {
    const fc = this.fc;
    const S = this.S;
    const { targets, exprs, line } = s;
    if (targets.length === 1 && exprs.length === 1) {
      const t = targets[0]!;
      const e0 = exprs[0]!;
      if (t.k === "index") {
        const obj = fc.expr(t.obj);
        const key = fc.expr(t.key);
        const v = fc.expr(e0);
        const [oSlot, kSlot] = fc.saves(s, [t.obj, t.key, e0]) as [number, number];
        const robj = mayYield(t.obj) ? this.expr(t.obj) : null;
        const rkey = mayYield(t.key) ? this.expr(t.key) : null;
        const rv = mayYield(e0) ? this.expr(e0) : null;
        const desc = describe(t.obj);
        return (f) => {
          const pc = f.pc;
          let o: LuaValue;
          let k: LuaValue;
          let w: LuaValue;
          if (robj !== null && holds(t.obj, pc)) {
            o = robj(f);
            if (oSlot >= 0) f.r[oSlot] = o;
            k = key(f);
            if (kSlot >= 0) f.r[kSlot] = k;
            w = v(f);
          } else if (rkey !== null && holds(t.key, pc)) {
            o = oSlot >= 0 ? f.r[oSlot] : obj(f);
            k = rkey(f);
            if (kSlot >= 0) f.r[kSlot] = k;
            w = v(f);
          } else {
            o = oSlot >= 0 ? f.r[oSlot] : obj(f);
            k = kSlot >= 0 ? f.r[kSlot] : key(f);
            w = rv!(f);
          }
          storeIndex(S, f, line, o, k, w, desc);
          return NORMAL;
        };
      }
      const tg = fc.target(t, line);
      const rv = this.expr(e0);
      return (f) => {
        tg.store(f, undefined, undefined, rv(f));
        return NORMAL;
      };
    }
    const tgs = targets.map((t) => fc.target(t, line));
    const n = tgs.length;
    const vals = fc.adjusted(exprs, n);
    const rvals = mayYield(exprs) ? this.values(exprs, exprs.length <= n) : null;
    const prepSlot = fc.slotFor(s, PREPS);
    const robjs = targets.map((t) => (t.k === "index" && mayYield(t.obj) ? this.expr(t.obj) : null));
    const rkeys = targets.map((t) => (t.k === "index" && mayYield(t.key) ? this.expr(t.key) : null));
    return (f) => {
      const pc = f.pc;
      const preps = f.r[prepSlot] as LuaValue[];
      let from = n;
      let inValues = true;
      for (let i = 0; i < n; i++) {
        const t = targets[i]!;
        if (t.k !== "index") continue;
        if (holds(t.obj, pc)) {
          preps[2 * i] = robjs[i]!(f);
          preps[2 * i + 1] = tgs[i]!.key!(f);
        } else if (holds(t.key, pc)) {
          preps[2 * i + 1] = rkeys[i]!(f);
        } else continue;
        from = i + 1;
        inValues = false;
        break;
      }
      for (let i = from; i < n; i++) {
        const t = tgs[i]!;
        if (t.obj !== null) {
          preps[2 * i] = t.obj(f);
          preps[2 * i + 1] = t.key!(f);
        }
      }
      const vs = inValues ? rvals!(f) : vals(f);
      for (let i = n - 1; i >= 0; i--) tgs[i]!.store(f, preps[2 * i], preps[2 * i + 1], vs[i]);
      return NORMAL;
    };
  }

  private forNum(s: Stat & { k: "fornum" }): Ex {
    const fc = this.fc;
    const S = this.S;
    const num = fc.forNumbers(s);
    const loop = fc.forNumLoop(s);
    const start = fc.expr(s.start);
    const limit = fc.expr(s.limit);
    const step = s.step ? fc.expr(s.step) : () => 1;
    const [aSlot, limSlot] = fc.saves(s, s.step ? [s.start, s.limit, s.step] : [s.start, s.limit]) as [number, number];
    const rstart = mayYield(s.start) ? this.expr(s.start) : null;
    const rlimit = mayYield(s.limit) ? this.expr(s.limit) : null;
    const rstep = s.step && mayYield(s.step) ? this.expr(s.step) : null;
    const rbody = mayYield(s.body) ? this.block(s.body) : null;
    const site = sitesOf(s)!.site;
    const iSlot = fc.slotFor(s, LOOP_A);
    const lSlot = fc.slotFor(s, LOOP_B);
    const sSlot = fc.slotFor(s, LOOP_C);
    const indexInVariable = forIndexInVariable(s);
    return (f) => {
      const pc = f.pc;
      if (pc === site || holds(s.body, pc)) {
        const i = asInt((indexInVariable ? f.r[s.v.slot] : f.r[iSlot]) as number);
        const lim = asInt(f.r[lSlot] as number);
        const st = asInt(f.r[sSlot] as number);
        if (pc === site) {
          S.resumePoint();
          return loop(f, i, lim, st, true);
        }
        const r = rbody!(f);
        if (r !== NORMAL) return r === BREAK ? NORMAL : r;
        return loop(f, i, lim, st, false);
      }
      let a: number;
      let lim: number;
      let st: number;
      if (rstart !== null && holds(s.start, pc)) {
        a = num(f, rstart(f), "initial value");
        if (aSlot >= 0) f.r[aSlot] = a;
        lim = num(f, limit(f), "limit");
        if (limSlot >= 0) f.r[limSlot] = lim;
        st = num(f, step(f), "step");
      } else if (rlimit !== null && holds(s.limit, pc)) {
        a = aSlot >= 0 ? f.r[aSlot] : num(f, start(f), "initial value");
        lim = num(f, rlimit(f), "limit");
        if (limSlot >= 0) f.r[limSlot] = lim;
        st = num(f, step(f), "step");
      } else {
        a = aSlot >= 0 ? f.r[aSlot] : num(f, start(f), "initial value");
        lim = limSlot >= 0 ? f.r[limSlot] : num(f, limit(f), "limit");
        st = num(f, rstep!(f), "step");
      }
      return loop(f, a - st, lim, st, false);
    };
  }

  private forIn(s: Stat & { k: "forin" }): Ex {
    const fc = this.fc;
    const S = this.S;
    const loop = fc.forInLoop(s);
    const stores = fc.forInStores(s);
    const rinit = mayYield(s.exprs) ? this.values(s.exprs, true) : null;
    const rbody = mayYield(s.body) ? this.block(s.body) : null;
    const sites = sitesOf(s)!;
    const genSlot = fc.slotFor(s, LOOP_A);
    const stateSlot = fc.slotFor(s, LOOP_B);
    const controlSlot = fc.slotFor(s, LOOP_C);
    return (f) => {
      const pc = f.pc;
      if (rinit !== null && holds(s.exprs, pc)) {
        const iv = rinit(f);
        return loop(f, iv[0], iv[1], iv[2], false);
      }
      const gen = f.r[genSlot];
      const state = f.r[stateSlot];
      const control = f.r[controlSlot];
      if (pc === sites.site) {
        S.resumePoint();
        return loop(f, gen, state, control, true);
      }
      if (pc === sites.site2) {
        const rs = S.resumeCallee();
        const first = rs[0];
        if (first === undefined) return NORMAL;
        stores(f, rs);
        return loop(f, gen, state, first, true);
      }
      const r = rbody!(f);
      if (r !== NORMAL) return r === BREAK ? NORMAL : r;
      return loop(f, gen, state, control, false);
    };
  }
}

/** The sites of a keyed table item (its key, then its value), as one range. */
function mergeSites(a: Expr, b: Expr): object | undefined {
  const sa = sitesOf(a);
  const sb = sitesOf(b);
  if (!sa) return sb;
  if (!sb) return sa;
  return { lo: Math.min(sa.lo, sb.lo), hi: Math.max(sa.hi, sb.hi), site: -1, site2: -1, slots: [] };
}
