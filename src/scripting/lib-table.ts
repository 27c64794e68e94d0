// The table library of Lua 5.1 (ltablib.c): concat, insert, remove, sort (the same quicksort,
// so equal elements and inconsistent comparators end up where Lua puts them), getn, maxn,
// foreach, foreachi, setn (obsolete). Stores are raw, as lua_rawseti.

import { checkFunction, checkInt, checkTable, optInt, optString, register, toStringOrNull } from "./lib-util.ts";
import type { LuaState } from "./state.ts";
import { LuaError, LuaTable, type LuaValue, typeName } from "./value.ts";
import { MAX_STRING } from "./lib-string.ts";

function rawSetInt(t: LuaTable, i: number, v: LuaValue): void {
  if (t.readonly) throw new LuaError("Attempt to modify a readonly table");
  t.setInt(i, v);
}

export function openTable(S: LuaState, G: LuaTable): void {
  const tbl = new LuaTable();

  const sort = (args: LuaValue[]): LuaValue[] => {
    const t = checkTable(S, args, 0);
    const n = t.length();
    const cmp = args[1];
    if (cmp !== undefined) checkFunction(S, args, 1);
    const less =
      cmp === undefined
        ? (a: LuaValue, b: LuaValue): boolean => {
            if (typeof a === "number" && typeof b === "number") return a < b;
            if (typeof a === "string" && typeof b === "string") return a < b;
            return S.lt(null, 0, a, b);
          }
        : (a: LuaValue, b: LuaValue): boolean => {
            const r = S.callFromNative(cmp, [a, b])[0];
            return r !== undefined && r !== false;
          };
    const get = (i: number): LuaValue => t.getNum(i);
    const set = (i: number, v: LuaValue): void => rawSetInt(t, i, v);
    const auxsort = (l: number, u: number): void => {
      while (l < u) {
        // sort a[l], a[(l+u)/2] and a[u]
        let al = get(l);
        let au = get(u);
        if (less(au, al)) {
          set(l, au);
          set(u, al);
        }
        if (u - l === 1) break;
        let i = Math.floor((l + u) / 2);
        let ai = get(i);
        al = get(l);
        if (less(ai, al)) {
          set(i, al);
          set(l, ai);
        } else {
          au = get(u);
          if (less(au, ai)) {
            set(i, au);
            set(u, ai);
          }
        }
        if (u - l === 2) break;
        const P = get(i);
        const au1 = get(u - 1);
        set(i, au1);
        set(u - 1, P);
        i = l;
        let j = u - 1;
        for (;;) {
          for (;;) {
            ai = get(++i);
            if (!less(ai, P)) break;
            if (i > u) throw S.error("invalid order function for sorting");
          }
          let aj: LuaValue;
          for (;;) {
            aj = get(--j);
            if (!less(P, aj)) break;
            if (j < l) throw S.error("invalid order function for sorting");
          }
          if (j < i) break;
          set(i, aj);
          set(j, ai);
        }
        const x = get(u - 1);
        const y = get(i);
        set(u - 1, y);
        set(i, x);
        if (i - l < u - i) {
          j = l;
          i = i - 1;
          l = i + 2;
        } else {
          j = i + 1;
          i = u;
          u = j - 2;
        }
        auxsort(j, i);
      }
    };
    auxsort(1, n);
    return [];
  };

  register(S, tbl, {
    concat(args) {
      const sep = optString(S, args, 1, "");
      const t = checkTable(S, args, 0);
      let i = optInt(S, args, 2, 1);
      const last = args[3] === undefined ? t.length() : checkInt(S, args, 3);
      const parts: string[] = [];
      let size = 0;
      for (; i <= last; i++) {
        const v = t.getNum(i);
        const s = toStringOrNull(v);
        if (s === null) throw S.error(`invalid value (${typeName(v)}) at index ${i} in table for 'concat'`);
        parts.push(s);
        size += s.length + sep.length;
        if (size > MAX_STRING) throw S.error("not enough memory");
      }
      return [parts.join(sep)];
    },
    insert(args) {
      const t = checkTable(S, args, 0);
      let e = t.length() + 1;
      let pos: number;
      if (args.length === 2) pos = e;
      else if (args.length === 3) {
        pos = checkInt(S, args, 1);
        if (pos > e) e = pos;
        for (let i = e; i > pos; i--) rawSetInt(t, i, t.getNum(i - 1));
      } else throw S.error("wrong number of arguments to 'insert'");
      rawSetInt(t, pos, args[args.length - 1]);
      return [];
    },
    remove(args) {
      const t = checkTable(S, args, 0);
      const e = t.length();
      let pos = optInt(S, args, 1, e);
      if (!(1 <= pos && pos <= e)) return [];
      const v = t.getNum(pos);
      for (; pos < e; pos++) rawSetInt(t, pos, t.getNum(pos + 1));
      rawSetInt(t, e, undefined);
      return [v];
    },
    sort,
    getn(args) {
      return [checkTable(S, args, 0).length()];
    },
    setn() {
      throw S.error("'setn' is obsolete");
    },
    maxn(args) {
      const t = checkTable(S, args, 0);
      let max = 0;
      let k: LuaValue = undefined;
      for (;;) {
        const e = t.next(k);
        if (e === null) break;
        k = e[0];
        if (typeof k === "number" && k > max) max = k;
      }
      return [max];
    },
    foreach(args) {
      const t = checkTable(S, args, 0);
      const f = checkFunction(S, args, 1);
      let k: LuaValue = undefined;
      for (;;) {
        const e = t.next(k);
        if (e === null) return [];
        k = e[0];
        const r = S.callFromNative(f, [e[0], e[1]])[0];
        if (r !== undefined) return [r];
      }
    },
    foreachi(args) {
      const t = checkTable(S, args, 0);
      const f = checkFunction(S, args, 1);
      const n = t.length();
      for (let i = 1; i <= n; i++) {
        const r = S.callFromNative(f, [i, t.getNum(i)])[0];
        if (r !== undefined) return [r];
      }
      return [];
    },
  });
  G.set("table", tbl);
}
