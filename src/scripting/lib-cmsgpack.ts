// cmsgpack (lua_cmsgpack.c 0.4.0 as bundled with Redis): pack, unpack, unpack_one,
// unpack_limit. The same encodings (floats when a double fits in 32 bits, the smallest integer
// form, tables as arrays only when their keys are exactly 1..n, nesting cut at 16 levels) and
// the same errors. Encoded data is a latin1 string (one char per byte).

import { checkInteger, checkString, optInteger, register } from "./lib-util.ts";
import type { LuaState } from "./state.ts";
import { LuaTable, type LuaValue } from "./value.ts";

const MAX_NESTING = 16;

const F32 = new Float32Array(1);
const F64 = new Float64Array(1);
const B4 = new Uint8Array(F32.buffer);
const B8 = new Uint8Array(F64.buffer);

function be(n: bigint, bytes: number): string {
  let s = "";
  for (let i = bytes - 1; i >= 0; i--) s += String.fromCharCode(Number((n >> BigInt(i * 8)) & 0xffn));
  return s;
}

function beNum(n: number, bytes: number): string {
  let s = "";
  for (let i = bytes - 1; i >= 0; i--) s += String.fromCharCode(Math.floor(n / 2 ** (i * 8)) & 0xff);
  return s;
}

function encodeBytes(s: string): string {
  const len = s.length;
  if (len < 32) return String.fromCharCode(0xa0 | len) + s;
  if (len <= 0xff) return `\xd9${String.fromCharCode(len)}${s}`;
  if (len <= 0xffff) return `\xda${beNum(len, 2)}${s}`;
  return `\xdb${beNum(len, 4)}${s}`;
}

function encodeInt(n: bigint): string {
  if (n >= 0n) {
    if (n <= 127n) return String.fromCharCode(Number(n));
    if (n <= 0xffn) return `\xcc${be(n, 1)}`;
    if (n <= 0xffffn) return `\xcd${be(n, 2)}`;
    if (n <= 0xffffffffn) return `\xce${be(n, 4)}`;
    return `\xcf${be(n, 8)}`;
  }
  if (n >= -32n) return String.fromCharCode(Number(n) & 0xff);
  if (n >= -128n) return `\xd0${be(BigInt.asUintN(8, n), 1)}`;
  if (n >= -32768n) return `\xd1${be(BigInt.asUintN(16, n), 2)}`;
  if (n >= -2147483648n) return `\xd2${be(BigInt.asUintN(32, n), 4)}`;
  return `\xd3${be(BigInt.asUintN(64, n), 8)}`;
}

function encodeDouble(d: number): string {
  F32[0] = d;
  if (d === F32[0] || (d !== d && false)) {
    let s = "\xca";
    for (let i = 3; i >= 0; i--) s += String.fromCharCode(B4[i]!);
    return s;
  }
  F64[0] = d;
  let s = "\xcb";
  for (let i = 7; i >= 0; i--) s += String.fromCharCode(B8[i]!);
  return s;
}

function encodeNumber(n: number): string {
  // IS_INT64_EQUIVALENT: (int64_t)n == n
  if (Number.isFinite(n) && Number.isInteger(n) && n >= -9223372036854775808 && n < 9223372036854775808) return encodeInt(BigInt(n));
  return encodeDouble(n);
}

function isArray(t: LuaTable): boolean {
  let count = 0;
  let max = 0;
  let k: LuaValue = undefined;
  for (;;) {
    const e = t.next(k);
    if (e === null) break;
    k = e[0];
    if (typeof k !== "number" || k <= 0 || (k | 0) !== k) return false;
    if (k > max) max = k;
    count++;
  }
  return max === count;
}

class Cursor {
  p: number;
  err = 0; // 1 EOF, 2 bad format
  constructor(
    readonly s: string,
    start: number,
  ) {
    this.p = start;
  }
  get left(): number {
    return this.s.length - this.p;
  }
  byte(i: number): number {
    return this.s.charCodeAt(this.p + i);
  }
  uint(off: number, n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.byte(off + i);
    return v;
  }
  big(off: number): bigint {
    let v = 0n;
    for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(this.byte(off + i));
    return v;
  }
}

export function openCmsgpack(S: LuaState, G: LuaTable): void {
  const encode = (v: LuaValue, level: number): string => {
    if (v instanceof LuaTable && level === MAX_NESTING) v = undefined;
    switch (typeof v) {
      case "string":
        return encodeBytes(v);
      case "boolean":
        return v ? "\xc3" : "\xc2";
      case "number":
        return encodeNumber(v);
    }
    if (v instanceof LuaTable) {
      if (isArray(v)) {
        const len = v.length();
        let s = len <= 15 ? String.fromCharCode(0x90 | len) : len <= 65535 ? `\xdc${beNum(len, 2)}` : `\xdd${beNum(len, 4)}`;
        for (let j = 1; j <= len; j++) {
          const item = v.metatable === null ? v.getNum(j) : S.index(null, 0, v, j, null);
          s += encode(item, level + 1);
        }
        return s;
      }
      const parts: string[] = [];
      let len = 0;
      let k: LuaValue = undefined;
      for (;;) {
        const e = v.next(k);
        if (e === null) break;
        k = e[0];
        parts.push(encode(e[0], level + 1), encode(e[1], level + 1));
        len++;
      }
      const hdr = len <= 15 ? String.fromCharCode(0x80 | len) : len <= 65535 ? `\xde${beNum(len, 2)}` : `\xdf${beNum(len, 4)}`;
      return hdr + parts.join("");
    }
    return "\xc0";
  };

  const decode = (c: Cursor, depth: number): LuaValue => {
    if (c.left < 1) {
      c.err = 1;
      return undefined;
    }
    if (depth > 200) throw S.error("stack overflow (in function mp_decode_to_lua_array)");
    const need = (n: number): boolean => {
      if (c.left < n) {
        c.err = 1;
        return false;
      }
      return true;
    };
    const t = c.byte(0);
    switch (t) {
      case 0xcc:
        if (!need(2)) return undefined;
        c.p += 2;
        return c.s.charCodeAt(c.p - 1);
      case 0xd0: {
        if (!need(2)) return undefined;
        const v = c.byte(1);
        c.p += 2;
        return v >= 128 ? v - 256 : v;
      }
      case 0xcd: {
        if (!need(3)) return undefined;
        const v = c.uint(1, 2);
        c.p += 3;
        return v;
      }
      case 0xd1: {
        if (!need(3)) return undefined;
        const v = c.uint(1, 2);
        c.p += 3;
        return v >= 32768 ? v - 65536 : v;
      }
      case 0xce: {
        if (!need(5)) return undefined;
        const v = c.uint(1, 4);
        c.p += 5;
        return v;
      }
      case 0xd2: {
        if (!need(5)) return undefined;
        const v = c.uint(1, 4);
        c.p += 5;
        return v >= 2147483648 ? v - 4294967296 : v;
      }
      case 0xcf:
      case 0xd3: {
        if (!need(9)) return undefined;
        const v = BigInt.asIntN(64, c.big(1));
        c.p += 9;
        return Number(v);
      }
      case 0xc0:
        c.p++;
        return undefined;
      case 0xc3:
        c.p++;
        return true;
      case 0xc2:
        c.p++;
        return false;
      case 0xca: {
        if (!need(5)) return undefined;
        for (let i = 0; i < 4; i++) B4[3 - i] = c.byte(1 + i);
        c.p += 5;
        return F32[0]!;
      }
      case 0xcb: {
        if (!need(9)) return undefined;
        for (let i = 0; i < 8; i++) B8[7 - i] = c.byte(1 + i);
        c.p += 9;
        return F64[0]!;
      }
      case 0xd9:
      case 0xda:
      case 0xdb: {
        const hl = t === 0xd9 ? 1 : t === 0xda ? 2 : 4;
        if (!need(1 + hl)) return undefined;
        const l = c.uint(1, hl);
        if (!need(1 + hl + l)) return undefined;
        const s = c.s.substr(c.p + 1 + hl, l);
        c.p += 1 + hl + l;
        return s;
      }
      case 0xdc:
      case 0xdd:
      case 0xde:
      case 0xdf: {
        const hl = t === 0xdc || t === 0xde ? 2 : 4;
        if (!need(1 + hl)) return undefined;
        const l = c.uint(1, hl);
        c.p += 1 + hl;
        return t === 0xdc || t === 0xdd ? decodeArray(c, l, depth) : decodeMap(c, l, depth);
      }
    }
    if ((t & 0x80) === 0) {
      c.p++;
      return t;
    }
    if ((t & 0xe0) === 0xe0) {
      c.p++;
      return t - 256;
    }
    if ((t & 0xe0) === 0xa0) {
      const l = t & 0x1f;
      if (!need(1 + l)) return undefined;
      const s = c.s.substr(c.p + 1, l);
      c.p += 1 + l;
      return s;
    }
    if ((t & 0xf0) === 0x90) {
      c.p++;
      return decodeArray(c, t & 0xf, depth);
    }
    if ((t & 0xf0) === 0x80) {
      c.p++;
      return decodeMap(c, t & 0xf, depth);
    }
    c.err = 2;
    return undefined;
  };

  const decodeArray = (c: Cursor, len: number, depth: number): LuaValue => {
    const t = new LuaTable();
    for (let i = 1; i <= len; i++) {
      const v = decode(c, depth + 1);
      if (c.err) return t;
      S.rawSet(null, 0, t, i, v);
    }
    return t;
  };

  const decodeMap = (c: Cursor, len: number, depth: number): LuaValue => {
    const t = new LuaTable();
    while (len--) {
      const k = decode(c, depth + 1);
      if (c.err) return t;
      const v = decode(c, depth + 1);
      if (c.err) return t;
      S.rawSet(null, 0, t, k, v);
    }
    return t;
  };

  const unpackFull = (args: LuaValue[], limit: number, offset: number): LuaValue[] => {
    const s = checkString(S, args, 0);
    const decodeAll = !limit && !offset;
    if (offset < 0 || limit < 0) throw S.error(`Invalid request to unpack with offset of ${offset} and limit of ${s.length}.`);
    if (offset > s.length) throw S.error(`Start offset ${offset} greater than input length ${s.length}.`);
    if (decodeAll) limit = 2147483647;
    const c = new Cursor(s, offset);
    const out: LuaValue[] = [];
    for (let cnt = 0; c.left > 0 && cnt < limit; cnt++) {
      if (out.length >= 7990) throw S.error("stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)");
      const v = decode(c, 0);
      if (c.err === 1) throw S.error("Missing bytes in input.");
      if (c.err === 2) throw S.error("Bad data format in input.");
      out.push(v);
    }
    if (!decodeAll) out.unshift(c.left === 0 ? -1 : c.p);
    return out;
  };

  const mp = new LuaTable();
  register(S, mp, {
    pack(args) {
      if (args.length === 0) throw S.argError(0, "MessagePack pack needs input.");
      let out = "";
      for (const v of args) out += encode(v, 0);
      return [out];
    },
    unpack: (args) => unpackFull(args, 0, 0),
    unpack_one(args) {
      const offset = optInteger(S, args, 1, 0);
      return unpackFull([args[0]], 1, offset);
    },
    unpack_limit(args) {
      const limit = checkInteger(S, args, 1);
      const offset = optInteger(S, args, 2, 0);
      return unpackFull([args[0]], limit, offset);
    },
  });
  mp.set("_NAME", "cmsgpack");
  mp.set("_VERSION", "lua-cmsgpack 0.4.0");
  mp.set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo");
  mp.set("_DESCRIPTION", "MessagePack C implementation for Lua");
  G.set("cmsgpack", mp);
}
