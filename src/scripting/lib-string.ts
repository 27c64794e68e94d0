// The string library of Lua 5.1 (lstrlib.c): byte, char, find, format, gmatch (and gfind),
// gsub, len, lower, match, rep, reverse, sub, upper, with Lua patterns ported from the C
// matcher (the same backtracking, captures, %b, %f, and the same errors). Strings are bytes:
// character classes are the C locale's. Patterns end at a NUL byte, as C strings do.

import { checkInt, checkInteger, checkNumber, checkString, optInteger, register, toStringOrNull } from "./lib-util.ts";
import { formatFloat, formatInt, formatString, numberToString, type FormatSpec } from "./numbers.ts";
import type { LuaState } from "./state.ts";
import { EMPTY, LuaError, LuaFunction, LuaTable, type LuaValue, typeName } from "./value.ts";

const L_ESC = 37; // '%'
const SPECIALS = "^$*+?.([%-";
const LUA_MAXCAPTURES = 32;
const CAP_UNFINISHED = -1;
const CAP_POSITION = -2;
/** Recursion bound of the matcher (the C one is only bounded by the C stack). */
const MAX_MATCH_DEPTH = 2000;

/** The longest string string.rep and friends may build (Redis's proto-max-bulk-len). */
export const MAX_STRING = 512 * 1024 * 1024;

function isalpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isdigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function islower(c: number): boolean {
  return c >= 97 && c <= 122;
}
function isupper(c: number): boolean {
  return c >= 65 && c <= 90;
}
function isspace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}
function iscntrl(c: number): boolean {
  return c < 32 || c === 127;
}
function ispunct(c: number): boolean {
  return c > 32 && c < 127 && !isalpha(c) && !isdigit(c);
}
function isxdigit(c: number): boolean {
  return isdigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function matchClass(c: number, cl: number): boolean {
  let res: boolean;
  switch (cl | 0x20) {
    case 97: res = isalpha(c); break; // a
    case 99: res = iscntrl(c); break; // c
    case 100: res = isdigit(c); break; // d
    case 108: res = islower(c); break; // l
    case 112: res = ispunct(c); break; // p
    case 115: res = isspace(c); break; // s
    case 117: res = isupper(c); break; // u
    case 119: res = isalpha(c) || isdigit(c); break; // w
    case 120: res = isxdigit(c); break; // x
    case 122: res = c === 0; break; // z
    default:
      return cl === c;
  }
  if (!isalpha(cl)) return cl === c;
  return isupper(cl) ? !res : res;
}

class MatchState {
  level = 0;
  readonly capInit = new Int32Array(LUA_MAXCAPTURES);
  readonly capLen = new Int32Array(LUA_MAXCAPTURES);
  private depth = 0;
  readonly pend: number;

  constructor(
    readonly S: LuaState,
    readonly src: string,
    readonly pat: string,
  ) {
    this.pend = pat.length;
  }

  private p(i: number): number {
    return i < this.pend ? this.pat.charCodeAt(i) : 0;
  }

  private error(msg: string): LuaError {
    return this.S.error(msg);
  }

  private classEnd(p: number): number {
    const c = this.p(p++);
    if (c === L_ESC) {
      if (p >= this.pend) throw this.error("malformed pattern (ends with '%')");
      return p + 1;
    }
    if (c === 91) {
      if (this.p(p) === 94) p++;
      do {
        if (p >= this.pend) throw this.error("malformed pattern (missing ']')");
        const cc = this.p(p++);
        if (cc === L_ESC && p < this.pend) p++;
      } while (this.p(p) !== 93);
      return p + 1;
    }
    return p;
  }

  private matchBracketClass(c: number, p: number, ec: number): boolean {
    let sig = true;
    if (this.p(p + 1) === 94) {
      sig = false;
      p++;
    }
    while (++p < ec) {
      const pc = this.p(p);
      if (pc === L_ESC) {
        p++;
        if (matchClass(c, this.p(p))) return sig;
      } else if (this.p(p + 1) === 45 && p + 2 < ec) {
        p += 2;
        if (this.p(p - 2) <= c && c <= this.p(p)) return sig;
      } else if (pc === c) return sig;
    }
    return !sig;
  }

  private singleMatch(c: number, p: number, ep: number): boolean {
    switch (this.p(p)) {
      case 46:
        return true;
      case L_ESC:
        return matchClass(c, this.p(p + 1));
      case 91:
        return this.matchBracketClass(c, p, ep - 1);
      default:
        return this.p(p) === c;
    }
  }

  private matchBalance(s: number, p: number): number {
    if (p >= this.pend || p + 1 >= this.pend) throw this.error("unbalanced pattern");
    const src = this.src;
    if (s >= src.length || src.charCodeAt(s) !== this.p(p)) return -1;
    const b = this.p(p);
    const e = this.p(p + 1);
    let cont = 1;
    while (++s < src.length) {
      const c = src.charCodeAt(s);
      if (c === e) {
        if (--cont === 0) return s + 1;
      } else if (c === b) cont++;
    }
    return -1;
  }

  private maxExpand(s: number, p: number, ep: number): number {
    const src = this.src;
    let i = 0;
    while (s + i < src.length && this.singleMatch(src.charCodeAt(s + i), p, ep)) i++;
    while (i >= 0) {
      const res = this.match(s + i, ep + 1);
      if (res !== -1) return res;
      i--;
    }
    return -1;
  }

  private minExpand(s: number, p: number, ep: number): number {
    const src = this.src;
    for (;;) {
      const res = this.match(s, ep + 1);
      if (res !== -1) return res;
      if (s < src.length && this.singleMatch(src.charCodeAt(s), p, ep)) s++;
      else return -1;
    }
  }

  private startCapture(s: number, p: number, what: number): number {
    const level = this.level;
    if (level >= LUA_MAXCAPTURES) throw this.error("too many captures");
    this.capInit[level] = s;
    this.capLen[level] = what;
    this.level = level + 1;
    const res = this.match(s, p);
    if (res === -1) this.level--;
    return res;
  }

  private endCapture(s: number, p: number): number {
    let l = -1;
    for (let level = this.level - 1; level >= 0; level--) {
      if (this.capLen[level] === CAP_UNFINISHED) {
        l = level;
        break;
      }
    }
    if (l < 0) throw this.error("invalid pattern capture");
    this.capLen[l] = s - this.capInit[l]!;
    const res = this.match(s, p);
    if (res === -1) this.capLen[l] = CAP_UNFINISHED;
    return res;
  }

  private checkCapture(l: number): number {
    l -= 49;
    if (l < 0 || l >= this.level || this.capLen[l] === CAP_UNFINISHED) throw this.error("invalid capture index");
    return l;
  }

  private matchCapture(s: number, l: number): number {
    l = this.checkCapture(l);
    const len = this.capLen[l]!;
    const init = this.capInit[l]!;
    if (this.src.length - s >= len && this.src.substr(init, len) === this.src.substr(s, len)) return s + len;
    return -1;
  }

  /** Index just after the match of pattern[p..] at src[s..], or -1. */
  match(s: number, p: number): number {
    if (++this.depth > MAX_MATCH_DEPTH) {
      this.depth = 0;
      throw this.error("pattern too complex");
    }
    const r = this.doMatch(s, p);
    this.depth--;
    return r;
  }

  private doMatch(s: number, p: number): number {
    const src = this.src;
    for (;;) {
      if (p >= this.pend) return s;
      const pc = this.pat.charCodeAt(p);
      switch (pc) {
        case 40: // '('
          if (this.p(p + 1) === 41) return this.startCapture(s, p + 2, CAP_POSITION);
          return this.startCapture(s, p + 1, CAP_UNFINISHED);
        case 41: // ')'
          return this.endCapture(s, p + 1);
        case L_ESC: {
          const n = this.p(p + 1);
          if (n === 98) {
            // %b
            s = this.matchBalance(s, p + 2);
            if (s === -1) return -1;
            p += 4;
            continue;
          }
          if (n === 102) {
            // %f
            p += 2;
            if (this.p(p) !== 91) throw this.error("missing '[' after '%f' in pattern");
            const ep = this.classEnd(p);
            const previous = s === 0 ? 0 : src.charCodeAt(s - 1);
            const current = s < src.length ? src.charCodeAt(s) : 0;
            if (this.matchBracketClass(previous, p, ep - 1) || !this.matchBracketClass(current, p, ep - 1)) return -1;
            p = ep;
            continue;
          }
          if (isdigit(n)) {
            s = this.matchCapture(s, n);
            if (s === -1) return -1;
            p += 2;
            continue;
          }
          break;
        }
        case 36: // '$'
          if (p + 1 >= this.pend) return s === src.length ? s : -1;
          break;
      }
      // default
      const ep = this.classEnd(p);
      const m = s < src.length && this.singleMatch(src.charCodeAt(s), p, ep);
      switch (this.p(ep)) {
        case 63: {
          // '?'
          if (m) {
            const res = this.match(s + 1, ep + 1);
            if (res !== -1) return res;
          }
          p = ep + 1;
          continue;
        }
        case 42: // '*'
          return this.maxExpand(s, p, ep);
        case 43: // '+'
          return m ? this.maxExpand(s + 1, p, ep) : -1;
        case 45: // '-'
          return this.minExpand(s, p, ep);
        default:
          if (!m) return -1;
          s++;
          p = ep;
      }
    }
  }

  oneCapture(i: number, s: number, e: number): LuaValue {
    if (i >= this.level) {
      if (i === 0) return this.src.slice(s, e);
      throw this.error("invalid capture index");
    }
    const l = this.capLen[i]!;
    if (l === CAP_UNFINISHED) throw this.error("unfinished capture");
    if (l === CAP_POSITION) return this.capInit[i]! + 1;
    return this.src.substr(this.capInit[i]!, l);
  }

  captures(s: number, e: number, wholeIfNone: boolean): LuaValue[] {
    const n = this.level === 0 && wholeIfNone ? 1 : this.level;
    const out = new Array<LuaValue>(n);
    for (let i = 0; i < n; i++) out[i] = this.oneCapture(i, s, e);
    return out;
  }
}

/** Patterns are C strings: they end at the first NUL. */
function cPattern(p: string): string {
  const z = p.indexOf("\0");
  return z < 0 ? p : p.slice(0, z);
}

function posrelat(pos: number, len: number): number {
  if (pos < 0) pos += len + 1;
  return pos >= 0 ? pos : 0;
}

function hasSpecials(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "\0") return false;
    if (SPECIALS.includes(c)) return true;
  }
  return false;
}

function findAux(S: LuaState, args: LuaValue[], find: boolean): LuaValue[] {
  const s = checkString(S, args, 0);
  const fullPat = checkString(S, args, 1);
  let init = posrelat(optInteger(S, args, 2, 1), s.length) - 1;
  if (init < 0) init = 0;
  else if (init > s.length) init = s.length;
  const plain = args[3] !== undefined && args[3] !== false;
  if (find && (plain || !hasSpecials(fullPat))) {
    const at = s.indexOf(fullPat, init);
    if (at >= 0) return [at + 1, at + fullPat.length];
    return [undefined];
  }
  let pat = cPattern(fullPat);
  const anchor = pat[0] === "^";
  if (anchor) pat = pat.slice(1);
  const ms = new MatchState(S, s, pat);
  let s1 = init;
  do {
    ms.level = 0;
    const e = ms.match(s1, 0);
    if (e !== -1) {
      if (find) return [s1 + 1, e, ...ms.captures(-1, -1, false)];
      return ms.captures(s1, e, true);
    }
  } while (s1++ < s.length && !anchor);
  return [undefined];
}

function scanFormat(S: LuaState, f: string, i: number): { spec: FormatSpec; end: number } {
  const start = i;
  while (i < f.length && "-+ #0".includes(f[i]!)) i++;
  if (i - start >= 6) throw S.error("invalid format (repeated flags)");
  const flags = f.slice(start, i);
  let width = 0;
  let digits = 0;
  while (digits < 2 && i < f.length && isdigit(f.charCodeAt(i))) {
    width = width * 10 + (f.charCodeAt(i) - 48);
    i++;
    digits++;
  }
  let precision = -1;
  if (f[i] === ".") {
    i++;
    precision = 0;
    digits = 0;
    while (digits < 2 && i < f.length && isdigit(f.charCodeAt(i))) {
      precision = precision * 10 + (f.charCodeAt(i) - 48);
      i++;
      digits++;
    }
  }
  if (i < f.length && isdigit(f.charCodeAt(i))) throw S.error("invalid format (width or precision too long)");
  return {
    spec: { minus: flags.includes("-"), plus: flags.includes("+"), space: flags.includes(" "), alt: flags.includes("#"), zero: flags.includes("0"), width, precision },
    end: i,
  };
}

function addQuoted(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    switch (c) {
      case '"':
      case "\\":
      case "\n":
        out += `\\${c}`;
        break;
      case "\r":
        out += "\\r";
        break;
      case "\0":
        out += "\\000";
        break;
      default:
        out += c;
    }
  }
  return `${out}"`;
}

/** (unsigned long long) cast of a double, as x86-64 does it. */
function toULongLong(x: number): bigint {
  if (x !== x || x <= -9223372036854775808 || x >= 18446744073709551616) return 9223372036854775808n;
  if (x >= 9223372036854775808) return BigInt(Math.trunc(x));
  return BigInt.asUintN(64, BigInt(Math.trunc(x)));
}

function toLongLong(x: number): bigint {
  if (x !== x || Math.abs(x) >= 9223372036854775808) return -9223372036854775808n;
  return BigInt(Math.trunc(x));
}

function strFormat(S: LuaState, args: LuaValue[]): string {
  const f = checkString(S, args, 0);
  let out = "";
  let arg = 0;
  let i = 0;
  while (i < f.length) {
    const c = f[i]!;
    if (c !== "%") {
      out += c;
      i++;
      continue;
    }
    i++;
    if (f[i] === "%") {
      out += "%";
      i++;
      continue;
    }
    arg++;
    if (arg >= args.length) throw S.argError(arg + 1, "no value");
    const { spec, end } = scanFormat(S, f, i);
    i = end;
    const conv = f[i++] ?? "\0";
    switch (conv) {
      case "c": {
        const code = Math.trunc(checkNumber(S, args, arg)) & 255;
        // sprintf("%c", 0) writes a NUL that strlen() then drops.
        const ch = code === 0 ? "" : String.fromCharCode(code);
        out += code === 0 ? formatString("", { ...spec, width: Math.max(0, spec.width - 1) }) : formatString(ch, { ...spec, precision: -1 });
        break;
      }
      case "d":
      case "i":
        out += formatInt(toLongLong(checkNumber(S, args, arg)), conv, spec);
        break;
      case "o":
      case "u":
      case "x":
      case "X":
        out += formatInt(toULongLong(checkNumber(S, args, arg)), conv, spec);
        break;
      case "e":
      case "E":
      case "f":
      case "g":
      case "G":
        out += formatFloat(checkNumber(S, args, arg), conv, spec);
        break;
      case "q":
        out += addQuoted(checkString(S, args, arg));
        break;
      case "s": {
        const s = checkString(S, args, arg);
        if (spec.precision < 0 && s.length >= 100) out += s;
        else {
          const z = s.indexOf("\0");
          out += formatString(z < 0 ? s : s.slice(0, z), spec);
        }
        break;
      }
      default:
        throw S.error(`invalid option '%${conv}' to 'format'`);
    }
    if (out.length > MAX_STRING) throw S.error("not enough memory");
  }
  return out;
}

function addReplacement(S: LuaState, ms: MatchState, repl: LuaValue, s: number, e: number): string {
  let value: LuaValue;
  if (typeof repl === "string" || typeof repl === "number") {
    const news = typeof repl === "number" ? numberToString(repl) : repl;
    let out = "";
    for (let i = 0; i < news.length; i++) {
      const c = news.charCodeAt(i);
      if (c !== L_ESC) {
        out += news[i];
        continue;
      }
      i++;
      const d = i < news.length ? news.charCodeAt(i) : 0;
      if (!isdigit(d)) out += String.fromCharCode(d);
      else if (d === 48) out += ms.src.slice(s, e);
      else {
        const cap = ms.oneCapture(d - 49, s, e);
        out += typeof cap === "number" ? numberToString(cap) : (cap as string);
      }
    }
    return out;
  }
  if (repl instanceof LuaFunction) value = S.callFromNative(repl, ms.captures(s, e, true))[0];
  else {
    const key = ms.oneCapture(0, s, e);
    value = repl instanceof LuaTable && repl.metatable === null ? repl.get(key) : S.index(null, 0, repl, key, null);
  }
  if (value === undefined || value === false) return ms.src.slice(s, e);
  const str = toStringOrNull(value);
  if (str === null) throw S.error(`invalid replacement value (a ${typeName(value)})`);
  return str;
}

function gsub(S: LuaState, args: LuaValue[]): LuaValue[] {
  const src = checkString(S, args, 0);
  let pat = cPattern(checkString(S, args, 1));
  const repl = args[2];
  const tr = typeName(repl);
  const maxS = args[3] === undefined ? src.length + 1 : checkInt(S, args, 3);
  const anchor = pat[0] === "^";
  if (anchor) pat = pat.slice(1);
  if (!(tr === "number" || tr === "string" || tr === "function" || tr === "table")) throw S.argError(3, "string/function/table expected");
  const ms = new MatchState(S, src, pat);
  let out = "";
  let n = 0;
  let s = 0;
  while (n < maxS) {
    ms.level = 0;
    const e = ms.match(s, 0);
    if (e !== -1) {
      n++;
      out += addReplacement(S, ms, repl, s, e);
      if (out.length > MAX_STRING) throw S.error("not enough memory");
    }
    if (e !== -1 && e > s) s = e;
    else if (s < src.length) out += src[s++];
    else break;
    if (anchor) break;
  }
  out += src.slice(s);
  return [out, n];
}

export function openString(S: LuaState, G: LuaTable): LuaTable {
  const str = new LuaTable();
  const gmatch = (args: LuaValue[]): LuaValue[] => {
    const s = checkString(S, args, 0);
    const p = cPattern(checkString(S, args, 1));
    let pos = 0;
    const iter = new LuaFunction(
      "gmatch_aux",
      () => {
        const ms = new MatchState(S, s, p);
        for (let src = pos; src <= s.length; src++) {
          ms.level = 0;
          const e = ms.match(src, 0);
          if (e !== -1) {
            pos = e === src ? e + 1 : e;
            return ms.captures(src, e, true);
          }
        }
        return EMPTY;
      },
      true,
    );
    return [iter];
  };
  register(S, str, {
    byte(args) {
      const s = checkString(S, args, 0);
      const l = s.length;
      let posi = posrelat(optInteger(S, args, 1, 1), l);
      let pose = posrelat(args[2] === undefined ? posi : checkInteger(S, args, 2), l);
      if (posi <= 0) posi = 1;
      if (pose > l) pose = l;
      if (posi > pose) return EMPTY;
      const n = pose - posi + 1;
      if (n + args.length > 8000) throw S.error("stack overflow (string slice too long)");
      const out = new Array<LuaValue>(n);
      for (let i = 0; i < n; i++) out[i] = s.charCodeAt(posi - 1 + i);
      return out;
    },
    char(args) {
      let out = "";
      for (let i = 0; i < args.length; i++) {
        const c = checkInt(S, args, i);
        if ((c & 255) !== c) throw S.argError(i + 1, "invalid value");
        out += String.fromCharCode(c);
      }
      return [out];
    },
    // Redis's Lua loads no binary chunk (its f_parser always parses text), so what string.dump
    // returns only needs to look like Lua 5.1 bytecode: loadstring of it fails as Redis's does
    // (a syntax error at the ESC byte). A native function cannot be dumped, as in Lua.
    dump(args) {
      const f = args[0];
      if (!(f instanceof LuaFunction)) throw S.typeArgError(args, 0, "function");
      if (f.native) throw S.error("unable to dump given function");
      return ["\x1bLuaQ\x00\x01\x04\x08\x04\x08\x00" + f.name];
    },
    find: (args) => findAux(S, args, true),
    format: (args) => [strFormat(S, args)],
    gmatch,
    gfind: gmatch,
    gsub: (args) => gsub(S, args),
    len: (args) => [checkString(S, args, 0).length],
    lower(args) {
      const s = checkString(S, args, 0);
      return [s.replace(/[A-Z]+/g, (m) => m.toLowerCase())];
    },
    upper(args) {
      const s = checkString(S, args, 0);
      return [s.replace(/[a-z]+/g, (m) => m.toUpperCase())];
    },
    match: (args) => findAux(S, args, false),
    rep(args) {
      const s = checkString(S, args, 0);
      const n = checkInteger(S, args, 1);
      if (n <= 0 || s.length === 0) return [""];
      if (s.length * n > MAX_STRING) throw S.error("not enough memory");
      return [s.repeat(n)];
    },
    reverse(args) {
      const s = checkString(S, args, 0);
      let out = "";
      for (let i = s.length - 1; i >= 0; i--) out += s[i];
      return [out];
    },
    sub(args) {
      const s = checkString(S, args, 0);
      const l = s.length;
      let start = posrelat(checkInteger(S, args, 1), l);
      let end = posrelat(optInteger(S, args, 2, -1), l);
      if (start < 1) start = 1;
      if (end > l) end = l;
      return [start <= end ? s.slice(start - 1, end) : ""];
    },
  });
  G.set("string", str);
  const meta = new LuaTable();
  meta.set("__index", str);
  S.stringMeta = meta;
  return str;
}
