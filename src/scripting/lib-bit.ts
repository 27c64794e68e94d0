// LuaBitOp (lua_bit.c, as bundled with Redis): 32-bit operations on numbers. Arguments are
// converted exactly as the C code does, by adding 2^52+2^51 and taking the low word (which
// rounds to nearest and wraps modulo 2^32); results are signed 32-bit.

import { register } from "./lib-util.ts";
import { toNumber, type LuaState } from "./state.ts";
import type { LuaTable, LuaValue } from "./value.ts";

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

export function openBit(S: LuaState, G: LuaTable, bit: LuaTable): void {
  const barg = (args: LuaValue[], i: number): number => {
    const n = toNumber(args[i]);
    F64[0] = (n ?? 0) + 6755399441055744.0;
    const b = U32[0]!;
    if (b === 0 && n === undefined) throw S.typeArgError(args, i, "number");
    return b;
  };
  const ret = (b: number): LuaValue[] => [b | 0];
  register(S, bit, {
    tobit: (a) => ret(barg(a, 0)),
    bnot: (a) => ret(~barg(a, 0)),
    band(a) {
      let b = barg(a, 0);
      for (let i = a.length - 1; i > 0; i--) b &= barg(a, i);
      return ret(b);
    },
    bor(a) {
      let b = barg(a, 0);
      for (let i = a.length - 1; i > 0; i--) b |= barg(a, i);
      return ret(b);
    },
    bxor(a) {
      let b = barg(a, 0);
      for (let i = a.length - 1; i > 0; i--) b ^= barg(a, i);
      return ret(b);
    },
    lshift(a) {
      const b = barg(a, 0);
      const n = barg(a, 1) & 31;
      return ret(b << n);
    },
    rshift(a) {
      const b = barg(a, 0);
      const n = barg(a, 1) & 31;
      return ret(b >>> n);
    },
    arshift(a) {
      const b = barg(a, 0);
      const n = barg(a, 1) & 31;
      return ret((b | 0) >> n);
    },
    rol(a) {
      const b = barg(a, 0);
      const n = barg(a, 1) & 31;
      return ret((b << n) | (n === 0 ? b : b >>> (32 - n)));
    },
    ror(a) {
      const b = barg(a, 0);
      const n = barg(a, 1) & 31;
      return ret((n === 0 ? b : b << (32 - n)) | (b >>> n));
    },
    bswap(a) {
      const b = barg(a, 0);
      return ret((b >>> 24) | ((b >>> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24));
    },
    tohex(a) {
      let b = barg(a, 0);
      let n = a.length < 2 ? 8 : barg(a, 1) | 0;
      let digits = "0123456789abcdef";
      if (n < 0) {
        n = -n;
        digits = "0123456789ABCDEF";
      }
      if (n > 8) n = 8;
      let out = "";
      for (let i = 0; i < n; i++) {
        out = digits[b & 15] + out;
        b >>>= 4;
      }
      return [out];
    },
  });
  G.set("bit", bit);
}
