// Suspension points of a function body, for scripts that must yield to the event loop while
// they run (busy scripts, see docs/architecture.md "Busy scripts").
//
// A script yields by throwing SUSPEND from a budget tick: the JavaScript stack unwinds, and
// what is needed to continue stays in the Lua frames (S.frames): each frame's `pc` names the
// point it was at, its hidden slots hold the values it had computed on the way there. Resuming
// re-enters every frame down to that point (compiler-resume.ts) and continues.
//
// The points (sites) are numbered per function, from 1 (0 is the function's entry tick): every
// call (`f()`, `o:m()`), every loop's back-edge tick, and a generic for's iterator call. A node
// containing sites gets `$s`: the range of the ids inside it (so a resume finds which child
// holds the pc), its own id if it is one, and the hidden slots of the values it saves.

import type { Block, Expr, FuncProto, Stat } from "./ast.ts";

interface Sites {
  /** First id inside the node. */
  lo: number;
  /** One past the last id inside the node. */
  hi: number;
  /** The node's own id (a call, a loop's tick), or -1. */
  site: number;
  /** A generic for: the id of its iterator call. */
  site2: number;
  /** Hidden frame slots of saved values, by the node's own numbering (see FunctionCompiler.slotFor). */
  slots: number[];
}

type Node = object;

export function sitesOf(n: Node): Sites | undefined {
  return (n as { $s?: Sites }).$s;
}

/** Whether evaluating the node may suspend (it contains a call or a loop). */
export function mayYield(n: Node): boolean {
  return (n as { $s?: Sites }).$s !== undefined;
}

/** Whether the pc of a suspended frame is inside the node. */
export function holds(n: Node, pc: number): boolean {
  const s = (n as { $s?: Sites }).$s;
  return s !== undefined && pc >= s.lo && pc < s.hi;
}

/**
 * Whether an expression gives the same value when evaluated again after a suspension inside a
 * later sibling: constants, `...`, and locals no closure can change (the only code that runs in
 * between is that sibling's, which cannot assign this frame's uncaptured locals).
 */
export function isStable(e: Expr): boolean {
  switch (e.k) {
    case "nil":
    case "true":
    case "false":
    case "num":
    case "str":
    case "vararg":
      return true;
    case "local":
      return !e.decl.captured;
    case "paren":
      return isStable(e.e);
    default:
      return false;
  }
}

/** Numbers the sites of a function body (not of the functions defined in it). Returns the count + 1. */
export function numberSites(proto: FuncProto): number {
  let next = 1;
  const mark = (n: Node, lo: number, site = -1, site2 = -1): void => {
    if (next > lo) (n as { $s?: Sites }).$s = { lo, hi: next, site, site2, slots: [] };
  };
  const list = (es: Expr[]): void => {
    const lo = next;
    for (const e of es) expr(e);
    mark(es, lo);
  };
  const expr = (e: Expr): void => {
    const lo = next;
    switch (e.k) {
      case "call":
        expr(e.fn);
        list(e.args);
        mark(e, lo, next++);
        return;
      case "method":
        expr(e.obj);
        list(e.args);
        mark(e, lo, next++);
        return;
      case "index":
        expr(e.obj);
        expr(e.key);
        break;
      case "bin":
      case "and":
      case "or":
        expr(e.a);
        expr(e.b);
        break;
      case "not":
      case "neg":
      case "len":
        expr(e.a);
        break;
      case "paren":
        expr(e.e);
        break;
      case "table":
        for (const it of e.items) {
          if (it.pos) expr(it.e);
          else {
            expr(it.key);
            expr(it.val);
          }
        }
        break;
      default:
        return;
    }
    mark(e, lo);
  };
  const block = (b: Block): void => {
    const lo = next;
    for (const s of b) stat(s);
    mark(b, lo);
  };
  const stat = (s: Stat): void => {
    const lo = next;
    switch (s.k) {
      case "local":
        list(s.exprs);
        break;
      case "assign":
        for (const t of s.targets) {
          if (t.k === "index") {
            expr(t.obj);
            expr(t.key);
          }
        }
        list(s.exprs);
        break;
      case "call":
        expr(s.call);
        break;
      case "do":
        block(s.body);
        break;
      case "while": {
        expr(s.cond);
        const site = next++;
        block(s.body);
        mark(s, lo, site);
        return;
      }
      case "repeat": {
        const site = next++;
        block(s.body);
        expr(s.cond);
        mark(s, lo, site);
        return;
      }
      case "if":
        for (let i = 0; i < s.conds.length; i++) {
          expr(s.conds[i]!);
          block(s.blocks[i]!);
        }
        if (s.orelse) block(s.orelse);
        break;
      case "fornum": {
        expr(s.start);
        expr(s.limit);
        if (s.step) expr(s.step);
        const site = next++;
        block(s.body);
        mark(s, lo, site);
        return;
      }
      case "forin": {
        list(s.exprs);
        const site = next++;
        const site2 = next++;
        block(s.body);
        mark(s, lo, site, site2);
        return;
      }
      case "return":
        list(s.exprs);
        break;
      default:
        return;
    }
    mark(s, lo);
  };
  block(proto.body);
  return next;
}
