// Lua's binary operators compiled to closures: arithmetic, concatenation and comparison on
// numbers and strings inline, anything else (metamethods, coercions, errors) to LuaState's slow
// paths. The expression compiler (compiler-expressions.ts) compiles the operands; the resume
// compiler applies binaryOp to values it got back from a suspended frame.

import type { Expr } from "./ast.ts";
import { describe, type Ev } from "./compiled.ts";
import { cpow, type Frame, type LuaState } from "./state.ts";
import type { LuaValue } from "./value.ts";

/** A binary operator applied to two values (what the fast closures below inline). */
export function binaryOp(S: LuaState, e: Expr & { k: "bin" }): (f: Frame, x: LuaValue, y: LuaValue) => LuaValue {
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

/**
 * The closure of a binary operator expression over its compiled operands (`a` already keeps
 * the left value when the right operand may yield). A constant right operand of + and - is
 * inlined.
 */
export function binaryExpr(S: LuaState, e: Expr & { k: "bin" }, a: Ev, b: Ev): Ev {
  const line = e.line;
  const da = describe(e.a);
  const db = describe(e.b);
  const bConst = e.b.k === "num" ? e.b.v : undefined;
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
