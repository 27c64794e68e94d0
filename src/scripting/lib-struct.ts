// struct (lua_struct.c as bundled with Redis): pack, unpack, size with the same format options
// (b B h H l L T i[n] I[n] f d c[n] s x, endianness < > and alignment !), on a 64-bit little
// endian machine.

import { checkNumber, checkString, optInteger, register } from "./lib-util.ts";
import type { LuaState } from "./state.ts";
import type { LuaTable, LuaValue } from "./value.ts";

const MAXINTSIZE = 32;
const MAXALIGN = 8;
const BIG = 0;
const LITTLE = 1;

interface Header {
  endian: number;
  align: number;
}

const F32 = new Float32Array(1);
const F64 = new Float64Array(1);
const B4 = new Uint8Array(F32.buffer);
const B8 = new Uint8Array(F64.buffer);

export function openStruct(S: LuaState, t: LuaTable): void {
  const isdigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
  const getnum = (fmt: string, pos: { i: number }, df: number): number => {
    if (!isdigit(fmt[pos.i])) return df;
    let a = 0;
    do {
      const d = fmt.charCodeAt(pos.i) - 48;
      if (a > Math.floor(2147483647 / 10) || a * 10 > 2147483647 - d) throw S.error("integral size overflow");
      a = a * 10 + d;
      pos.i++;
    } while (isdigit(fmt[pos.i]));
    return a;
  };
  const optsize = (opt: string, fmt: string, pos: { i: number }): number => {
    switch (opt) {
      case "B":
      case "b":
        return 1;
      case "H":
      case "h":
        return 2;
      case "L":
      case "l":
      case "T":
      case "d":
        return 8;
      case "f":
        return 4;
      case "x":
        return 1;
      case "c":
        return getnum(fmt, pos, 1);
      case "i":
      case "I": {
        const sz = getnum(fmt, pos, 4);
        if (sz > MAXINTSIZE) throw S.error(`integral size ${sz} is larger than limit of ${MAXINTSIZE}`);
        return sz;
      }
      default:
        return 0;
    }
  };
  const gettoalign = (len: number, h: Header, opt: string, size: number): number => {
    if (size === 0 || opt === "c") return 0;
    if (size > h.align) size = h.align;
    return (size - (len & (size - 1))) & (size - 1);
  };
  const controloptions = (opt: string, fmt: string, pos: { i: number }, h: Header): void => {
    switch (opt) {
      case " ":
        return;
      case ">":
        h.endian = BIG;
        return;
      case "<":
        h.endian = LITTLE;
        return;
      case "!": {
        const a = getnum(fmt, pos, MAXALIGN);
        if (!(a > 0 && (a & (a - 1)) === 0)) throw S.error(`alignment ${a} is not a power of 2`);
        h.align = a;
        return;
      }
      default:
        throw S.argError(1, `invalid format option '${opt}'`);
    }
  };
  const bytesOf = (buf: Uint8Array, size: number, endian: number): string => {
    let s = "";
    if (endian === LITTLE) for (let i = 0; i < size; i++) s += String.fromCharCode(buf[i]!);
    else for (let i = size - 1; i >= 0; i--) s += String.fromCharCode(buf[i]!);
    return s;
  };
  const readBytes = (data: string, at: number, size: number, endian: number, into: Uint8Array): void => {
    for (let i = 0; i < size; i++) into[endian === LITTLE ? i : size - 1 - i] = data.charCodeAt(at + i);
  };

  register(S, t, {
    pack(args) {
      const fmt = checkString(S, args, 0);
      const h: Header = { endian: LITTLE, align: 1 };
      let arg = 1;
      let total = 0;
      let out = "";
      const pos = { i: 0 };
      while (pos.i < fmt.length && fmt[pos.i] !== "\0") {
        const opt = fmt[pos.i++]!;
        let size = optsize(opt, fmt, pos);
        let toalign = gettoalign(total, h, opt, size);
        total += toalign;
        while (toalign-- > 0) out += "\0";
        switch (opt) {
          case "b":
          case "B":
          case "h":
          case "H":
          case "l":
          case "L":
          case "T":
          case "i":
          case "I": {
            const n = checkNumber(S, args, arg++);
            let value = BigInt.asUintN(64, BigInt(Math.trunc(Number.isFinite(n) ? n : 0)));
            const bytes: number[] = [];
            for (let i = 0; i < size; i++) {
              bytes.push(Number(value & 0xffn));
              value >>= 8n;
            }
            if (h.endian === BIG) bytes.reverse();
            out += String.fromCharCode(...bytes);
            break;
          }
          case "x":
            out += "\0";
            break;
          case "f":
            F32[0] = checkNumber(S, args, arg++);
            out += bytesOf(B4, 4, h.endian);
            break;
          case "d":
            F64[0] = checkNumber(S, args, arg++);
            out += bytesOf(B8, 8, h.endian);
            break;
          case "c":
          case "s": {
            const s = checkString(S, args, arg++);
            if (size === 0) size = s.length;
            if (!(s.length >= size)) throw S.argError(arg, "string too short");
            out += s.slice(0, size);
            if (opt === "s") {
              out += "\0";
              size++;
            }
            break;
          }
          default:
            controloptions(opt, fmt, pos, h);
        }
        total += size;
      }
      return [out];
    },
    unpack(args) {
      const fmt = checkString(S, args, 0);
      const data = checkString(S, args, 1);
      const ld = data.length;
      let p = optInteger(S, args, 2, 1);
      if (!(p > 0)) throw S.argError(3, "offset must be 1 or greater");
      p--;
      const h: Header = { endian: LITTLE, align: 1 };
      const out: LuaValue[] = [];
      const pos = { i: 0 };
      while (pos.i < fmt.length && fmt[pos.i] !== "\0") {
        const opt = fmt[pos.i++]!;
        let size = optsize(opt, fmt, pos);
        p += gettoalign(p, h, opt, size);
        if (!(size <= ld && p <= ld - size)) throw S.argError(2, "data string too short");
        switch (opt) {
          case "b":
          case "B":
          case "h":
          case "H":
          case "l":
          case "L":
          case "T":
          case "i":
          case "I": {
            let l = 0n;
            for (let i = 0; i < size; i++) {
              const byte = data.charCodeAt(h.endian === BIG ? p + i : p + size - 1 - i);
              l = BigInt.asUintN(64, (l << 8n) | BigInt(byte));
            }
            if (opt === opt.toLowerCase()) out.push(Number(BigInt.asIntN(Math.min(64, size * 8), l)));
            else out.push(Number(l));
            break;
          }
          case "x":
            break;
          case "f":
            readBytes(data, p, 4, h.endian, B4);
            out.push(F32[0]!);
            break;
          case "d":
            readBytes(data, p, 8, h.endian, B8);
            out.push(F64[0]!);
            break;
          case "c": {
            if (size === 0) {
              const last = out[out.length - 1];
              if (out.length === 0 || typeof last !== "number") throw S.error("format 'c0' needs a previous size");
              size = last;
              out.pop();
              if (!(size <= ld && p <= ld - size)) throw S.argError(2, "data string too short");
            }
            out.push(data.substr(p, size));
            break;
          }
          case "s": {
            const e = data.indexOf("\0", p);
            if (e < 0) throw S.error("unfinished string in data");
            size = e - p + 1;
            out.push(data.slice(p, e));
            break;
          }
          default:
            controloptions(opt, fmt, pos, h);
        }
        p += size;
      }
      out.push(p + 1);
      return out;
    },
    size(args) {
      const fmt = checkString(S, args, 0);
      const h: Header = { endian: LITTLE, align: 1 };
      let p = 0;
      const pos = { i: 0 };
      while (pos.i < fmt.length && fmt[pos.i] !== "\0") {
        const opt = fmt[pos.i++]!;
        const size = optsize(opt, fmt, pos);
        p += gettoalign(p, h, opt, size);
        if (opt === "s") throw S.argError(1, "option 's' has no fixed size");
        if (opt === "c" && size === 0) throw S.argError(1, "option 'c0' has no fixed size");
        if (!/[0-9A-Za-z]/.test(opt)) controloptions(opt, fmt, pos, h);
        p += size;
      }
      return [p];
    },
  });
}
