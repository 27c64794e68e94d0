// The math library of Lua 5.1 (lmathlib.c), with Redis's math.random/randomseed: the 48-bit
// linear congruential generator of Redis's rand.c (lrand48's constants), one per process as in
// Redis, so the same seed gives the same sequence as redis-server.

import { checkInt, checkNumber, register } from "./lib-util.ts";
import { cpow, type LuaState } from "./state.ts";
import type { LuaTable, LuaValue } from "./value.ts";

/** Redis's redisLrand48 state: x = x * 0x5DEECE66D + 0xB mod 2^48, kept as two 24-bit halves. */
const rng = { hi: 0x1234ab, lo: 0xcd330e };
const A_HI = 0x5de;
const A_LO = 0xece66d;
const TWO24 = 16777216;

function lrand48(): number {
  // (a * x + c) mod 2^48 with a = A_HI*2^24 + A_LO and x = hi*2^24 + lo
  const lo = A_LO * rng.lo + 0xb;
  const carry = Math.floor(lo / TWO24);
  const newLo = lo - carry * TWO24;
  const mid = (A_HI * rng.lo + A_LO * rng.hi + carry) % TWO24;
  rng.lo = newLo;
  rng.hi = mid;
  // top 31 bits of the 48-bit state
  return rng.hi * 128 + Math.floor(rng.lo / 131072);
}

function srand48(seed: number): void {
  const s = seed | 0;
  const low = s & 0xffff;
  const high = (s >> 16) & 0xffff;
  // x = high << 32 | low << 16 | 0x330E
  rng.hi = high * 256 + (low >>> 8);
  rng.lo = (low & 0xff) * 65536 + 0x330e;
}

const LRAND48_MAX = 2147483647;

function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  const ax = Math.abs(x);
  let e = Math.max(-1073, Math.floor(Math.log2(ax)) + 1);
  let m = ax * Math.pow(2, -e);
  while (m < 0.5) {
    m *= 2;
    e--;
  }
  while (m >= 1) {
    m /= 2;
    e++;
  }
  return [x < 0 ? -m : m, e];
}

function ldexp(m: number, e: number): number {
  if (e > 1023) return m * Math.pow(2, 1023) * Math.pow(2, e - 1023);
  if (e < -1022) return m * Math.pow(2, e + 1074) * Math.pow(2, -1074);
  return m * Math.pow(2, e);
}

export function openMath(S: LuaState, G: LuaTable, math: LuaTable): void {
  const n1 = (fn: (x: number) => number) => (args: LuaValue[]): LuaValue[] => [fn(checkNumber(S, args, 0))];
  register(S, math, {
    abs: n1(Math.abs),
    ceil: n1(Math.ceil),
    floor: n1(Math.floor),
    sqrt: n1(Math.sqrt),
    sin: n1(Math.sin),
    cos: n1(Math.cos),
    tan: n1(Math.tan),
    asin: n1(Math.asin),
    acos: n1(Math.acos),
    atan: n1(Math.atan),
    sinh: n1(Math.sinh),
    cosh: n1(Math.cosh),
    tanh: n1(Math.tanh),
    exp: n1(Math.exp),
    log: n1(Math.log),
    log10: n1(Math.log10),
    deg: n1((x) => x * (180 / Math.PI)),
    rad: n1((x) => x * (Math.PI / 180)),
    atan2: (args) => [Math.atan2(checkNumber(S, args, 0), checkNumber(S, args, 1))],
    pow: (args) => [cpow(checkNumber(S, args, 0), checkNumber(S, args, 1))],
    fmod: (args) => [checkNumber(S, args, 0) % checkNumber(S, args, 1)],
    mod: (args) => [checkNumber(S, args, 0) % checkNumber(S, args, 1)],
    modf(args) {
      const x = checkNumber(S, args, 0);
      if (x !== x) return [x, x];
      if (!Number.isFinite(x)) return [x, 0];
      const ip = x < 0 ? Math.ceil(x) : Math.floor(x);
      return [ip, x - ip];
    },
    frexp(args) {
      return frexp(checkNumber(S, args, 0));
    },
    ldexp(args) {
      return [ldexp(checkNumber(S, args, 0), checkInt(S, args, 1))];
    },
    min(args) {
      let m = checkNumber(S, args, 0);
      for (let i = 1; i < args.length; i++) {
        const d = checkNumber(S, args, i);
        if (d < m) m = d;
      }
      return [m];
    },
    max(args) {
      let m = checkNumber(S, args, 0);
      for (let i = 1; i < args.length; i++) {
        const d = checkNumber(S, args, i);
        if (d > m) m = d;
      }
      return [m];
    },
    random(args) {
      const r = (lrand48() % LRAND48_MAX) / LRAND48_MAX;
      switch (args.length) {
        case 0:
          return [r];
        case 1: {
          const u = checkInt(S, args, 0);
          if (!(1 <= u)) throw S.argError(1, "interval is empty");
          return [Math.floor(r * u) + 1];
        }
        case 2: {
          const l = checkInt(S, args, 0);
          const u = checkInt(S, args, 1);
          if (!(l <= u)) throw S.argError(2, "interval is empty");
          return [Math.floor(r * (u - l + 1)) + l];
        }
        default:
          throw S.error("wrong number of arguments");
      }
    },
    randomseed(args) {
      srand48(checkInt(S, args, 0));
      return [];
    },
  });
  math.set("pi", Math.PI);
  math.set("huge", Infinity);
  G.set("math", math);
}
