// cjson (lua_cjson.c 2.1.0 as bundled with Redis): encode/decode with the same escapes ("\/"
// included), "%.14g" numbers, sparse-array rules, depth limits, cjson.null, and the same error
// messages ("Expected value but found T_END at character 1"). Objects are walked with next(),
// so keys come out in Lua's table order (table.ts ports Lua's layout, hence Redis's order).

import { checkInteger, checkString, register } from "./lib-util.ts";
import { formatFloat, numberToString, strtod } from "./numbers.ts";
import type { LuaState } from "./state.ts";
import { LuaError, LuaTable, LuaUserdata, type LuaValue, typeName } from "./value.ts";

/** cjson.null: a light userdata holding NULL. */
const CJSON_NULL = new LuaUserdata("lightuserdata", "(nil)");

const ESCAPES: (string | null)[] = new Array<string | null>(256).fill(null);
for (let i = 0; i < 32; i++) ESCAPES[i] = `\\u${i.toString(16).padStart(4, "0")}`;
ESCAPES[8] = "\\b";
ESCAPES[9] = "\\t";
ESCAPES[10] = "\\n";
ESCAPES[12] = "\\f";
ESCAPES[13] = "\\r";
ESCAPES[34] = '\\"';
ESCAPES[47] = "\\/";
ESCAPES[92] = "\\\\";
ESCAPES[127] = "\\u007f";

interface CjsonConfig {
  sparseConvert: number;
  sparseRatio: number;
  sparseSafe: number;
  encodeMaxDepth: number;
  decodeMaxDepth: number;
  encodeInvalidNumbers: number;
  decodeInvalidNumbers: number;
  encodeKeepBuffer: number;
  precision: number;
}

function defaultConfig(): CjsonConfig {
  return { sparseConvert: 0, sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000, encodeInvalidNumbers: 0, decodeInvalidNumbers: 1, encodeKeepBuffer: 1, precision: 14 };
}

const T_OBJ_BEGIN = 0;
const T_OBJ_END = 1;
const T_ARR_BEGIN = 2;
const T_ARR_END = 3;
const T_STRING = 4;
const T_NUMBER = 5;
const T_BOOLEAN = 6;
const T_NULL = 7;
const T_COLON = 8;
const T_COMMA = 9;
const T_END = 10;
const T_ERROR = 12;
const TOKEN_NAMES = ["T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_WHITESPACE", "T_ERROR", "T_UNKNOWN"];

interface Token {
  type: number;
  index: number;
  value: LuaValue;
  err: string;
}

function encodeString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const esc = ESCAPES[s.charCodeAt(i)];
    if (esc !== null && esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return `${out}${s.slice(start)}"`;
}

function utf8(cp: number): string {
  if (cp <= 0x7f) return String.fromCharCode(cp);
  if (cp <= 0x7ff) return String.fromCharCode((cp >> 6) | 0xc0, (cp & 0x3f) | 0x80);
  if (cp <= 0xffff) return String.fromCharCode((cp >> 12) | 0xe0, ((cp >> 6) & 0x3f) | 0x80, (cp & 0x3f) | 0x80);
  return String.fromCharCode((cp >> 18) | 0xf0, ((cp >> 12) & 0x3f) | 0x80, ((cp >> 6) & 0x3f) | 0x80, (cp & 0x3f) | 0x80);
}

function hex4(s: string, at: number): number {
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = at + i < s.length ? s.charCodeAt(at + i) | 0 : 0;
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if ((c | 0x20) >= 97 && (c | 0x20) <= 102) d = (c | 0x20) - 87;
    else return -1;
    v = (v << 4) + d;
  }
  return v;
}

export function makeCjson(S: LuaState): LuaTable {
  const cfg = defaultConfig();

  const encodeError = (v: LuaValue, reason: string): LuaError => S.error(`Cannot serialise ${typeName(v)}: ${reason}`);

  const encodeNumber = (n: number, out: string[]): void => {
    if (cfg.encodeInvalidNumbers === 0) {
      if (!Number.isFinite(n)) throw encodeError(n, "must not be NaN or Inf");
    } else if (cfg.encodeInvalidNumbers === 1) {
      if (n !== n) {
        out.push("nan");
        return;
      }
    } else if (!Number.isFinite(n)) {
      out.push("null");
      return;
    }
    out.push(cfg.precision === 14 ? numberToString(n) : formatFloat(n, "g", { minus: false, plus: false, space: false, alt: false, zero: false, width: 0, precision: cfg.precision }));
  };

  const arrayLength = (t: LuaTable): number => {
    let max = 0;
    let items = 0;
    let k: LuaValue = undefined;
    for (;;) {
      const e = t.next(k);
      if (e === null) break;
      k = e[0];
      if (typeof k === "number" && k !== 0 && Math.floor(k) === k && k >= 1) {
        if (k > max) max = k;
        items++;
        continue;
      }
      return -1;
    }
    if (cfg.sparseRatio > 0 && max > items * cfg.sparseRatio && max > cfg.sparseSafe) {
      if (!cfg.sparseConvert) throw encodeError(t, "excessively sparse array");
      return -1;
    }
    return max;
  };

  const encodeValue = (v: LuaValue, depth: number, out: string[]): void => {
    switch (typeof v) {
      case "string":
        out.push(encodeString(v));
        return;
      case "number":
        encodeNumber(v, out);
        return;
      case "boolean":
        out.push(v ? "true" : "false");
        return;
      case "undefined":
        out.push("null");
        return;
    }
    if (v instanceof LuaTable) {
      depth++;
      if (depth > cfg.encodeMaxDepth) throw S.error(`Cannot serialise, excessive nesting (${depth})`);
      const len = arrayLength(v);
      if (len > 0) {
        out.push("[");
        for (let i = 1; i <= len; i++) {
          if (i > 1) out.push(",");
          encodeValue(v.getNum(i), depth, out);
        }
        out.push("]");
        return;
      }
      out.push("{");
      let k: LuaValue = undefined;
      let comma = false;
      for (;;) {
        const e = v.next(k);
        if (e === null) break;
        k = e[0];
        if (comma) out.push(",");
        else comma = true;
        if (typeof k === "number") {
          out.push('"');
          encodeNumber(k, out);
          out.push('":');
        } else if (typeof k === "string") {
          out.push(encodeString(k));
          out.push(":");
        } else throw encodeError(k, "table key must be a number or string");
        encodeValue(e[1], depth, out);
      }
      out.push("}");
      return;
    }
    if (v === CJSON_NULL) {
      out.push("null");
      return;
    }
    throw encodeError(v, "type not supported");
  };

  // ------------------------------------------------------------------ decoding

  class Parser {
    ptr = 0;
    depth = 0;
    constructor(readonly data: string) {}

    private ch(i: number): number {
      return i < this.data.length ? this.data.charCodeAt(i) : 0;
    }

    private invalidNumber(): boolean {
      let p = this.ptr;
      const d = this.data;
      if (d[p] === "+") return true;
      if (d[p] === "-") p++;
      if (d[p] === "0") {
        const c2 = this.ch(p + 1);
        return (c2 | 0x20) === 120 || (c2 >= 48 && c2 <= 57);
      }
      if (this.ch(p) <= 57) return false;
      const three = d.slice(p, p + 3).toLowerCase();
      return three === "inf" || three === "nan";
    }

    private numberToken(tok: Token): void {
      const r = strtod(this.data.split("\0", 1)[0]!, this.ptr);
      if (r.end === this.ptr) this.setError(tok, "invalid number");
      else {
        tok.type = T_NUMBER;
        tok.value = r.value;
        this.ptr = r.end;
      }
    }

    private setError(tok: Token, err: string): void {
      tok.type = T_ERROR;
      tok.index = this.ptr;
      tok.err = err;
    }

    private stringToken(tok: Token): void {
      const d = this.data;
      this.ptr++;
      let out = "";
      for (;;) {
        const c = this.ch(this.ptr);
        if (c === 34) break;
        if (c === 0) return this.setError(tok, "unexpected end of string");
        if (c === 92) {
          const e = this.ch(this.ptr + 1);
          let rep: string | null = null;
          switch (e) {
            case 34: rep = '"'; break;
            case 92: rep = "\\"; break;
            case 47: rep = "/"; break;
            case 98: rep = "\b"; break;
            case 116: rep = "\t"; break;
            case 110: rep = "\n"; break;
            case 102: rep = "\f"; break;
            case 114: rep = "\r"; break;
            case 117: {
              let cp = hex4(d, this.ptr + 2);
              let len = 6;
              if (cp >= 0 && (cp & 0xf800) === 0xd800) {
                if (cp & 0x400 || d[this.ptr + 6] !== "\\" || d[this.ptr + 7] !== "u") cp = -1;
                else {
                  const low = hex4(d, this.ptr + 8);
                  if (low < 0 || (low & 0xfc00) !== 0xdc00) cp = -1;
                  else {
                    cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
                    len = 12;
                  }
                }
              }
              if (cp < 0) return this.setError(tok, "invalid unicode escape code");
              out += utf8(cp);
              this.ptr += len;
              continue;
            }
          }
          if (rep === null) return this.setError(tok, "invalid escape code");
          out += rep;
          this.ptr += 2;
          continue;
        }
        out += d[this.ptr];
        this.ptr++;
      }
      this.ptr++;
      tok.type = T_STRING;
      tok.value = out;
    }

    next(): Token {
      const tok: Token = { type: T_ERROR, index: 0, value: undefined, err: "" };
      let c: number;
      for (;;) {
        c = this.ch(this.ptr);
        if (c === 32 || c === 9 || c === 10 || c === 13) this.ptr++;
        else break;
      }
      tok.index = this.ptr;
      const d = this.data;
      switch (c) {
        case 123: this.ptr++; tok.type = T_OBJ_BEGIN; return tok;
        case 125: this.ptr++; tok.type = T_OBJ_END; return tok;
        case 91: this.ptr++; tok.type = T_ARR_BEGIN; return tok;
        case 93: this.ptr++; tok.type = T_ARR_END; return tok;
        case 44: this.ptr++; tok.type = T_COMMA; return tok;
        case 58: this.ptr++; tok.type = T_COLON; return tok;
        case 0: tok.type = T_END; return tok;
      }
      const isUnknown = c === 102 || c === 105 || c === 73 || c === 110 || c === 78 || c === 116 || c === 34 || c === 43 || c === 45 || (c >= 48 && c <= 57);
      if (!isUnknown) {
        this.setError(tok, "invalid token");
        return tok;
      }
      if (c === 34) {
        this.stringToken(tok);
        return tok;
      }
      if (c === 45 || (c >= 48 && c <= 57)) {
        if (!cfg.decodeInvalidNumbers && this.invalidNumber()) {
          this.setError(tok, "invalid number");
          return tok;
        }
        this.numberToken(tok);
        return tok;
      }
      if (d.startsWith("true", this.ptr)) {
        tok.type = T_BOOLEAN;
        tok.value = true;
        this.ptr += 4;
        return tok;
      }
      if (d.startsWith("false", this.ptr)) {
        tok.type = T_BOOLEAN;
        tok.value = false;
        this.ptr += 5;
        return tok;
      }
      if (d.startsWith("null", this.ptr)) {
        tok.type = T_NULL;
        this.ptr += 4;
        return tok;
      }
      if (cfg.decodeInvalidNumbers && this.invalidNumber()) {
        this.numberToken(tok);
        return tok;
      }
      this.setError(tok, "invalid token");
      return tok;
    }

    throwParse(expected: string, tok: Token): never {
      const found = tok.type === T_ERROR ? tok.err : TOKEN_NAMES[tok.type]!;
      throw S.error(`Expected ${expected} but found ${found} at character ${tok.index + 1}`);
    }

    private descend(): void {
      this.depth++;
      if (this.depth > cfg.decodeMaxDepth) throw S.error(`Found too many nested data structures (${this.depth}) at character ${this.ptr}`);
    }

    value(tok: Token): LuaValue {
      switch (tok.type) {
        case T_STRING:
        case T_NUMBER:
        case T_BOOLEAN:
          return tok.value;
        case T_NULL:
          return CJSON_NULL;
        case T_OBJ_BEGIN: {
          this.descend();
          const t = new LuaTable();
          let tk = this.next();
          if (tk.type === T_OBJ_END) {
            this.depth--;
            return t;
          }
          for (;;) {
            if (tk.type !== T_STRING) this.throwParse("object key string", tk);
            const key = tk.value;
            tk = this.next();
            if (tk.type !== T_COLON) this.throwParse("colon", tk);
            const v = this.value(this.next());
            t.set(key, v);
            tk = this.next();
            if (tk.type === T_OBJ_END) {
              this.depth--;
              return t;
            }
            if (tk.type !== T_COMMA) this.throwParse("comma or object end", tk);
            tk = this.next();
          }
        }
        case T_ARR_BEGIN: {
          this.descend();
          const t = new LuaTable();
          let tk = this.next();
          if (tk.type === T_ARR_END) {
            this.depth--;
            return t;
          }
          for (let i = 1; ; i++) {
            t.setInt(i, this.value(tk));
            tk = this.next();
            if (tk.type === T_ARR_END) {
              this.depth--;
              return t;
            }
            if (tk.type !== T_COMMA) this.throwParse("comma or array end", tk);
            tk = this.next();
          }
        }
        default:
          this.throwParse("value", tok);
      }
    }
  }

  const cjson = new LuaTable();

  const argInit = (args: LuaValue[], n: number): void => {
    if (args.length > n) throw S.argError(n + 1, "found too many arguments");
  };
  const intOption = (args: LuaValue[], i: number, key: keyof CjsonConfig, min: number, max: number): LuaValue => {
    const v = args[i];
    if (v !== undefined) {
      const n = checkInteger(S, args, i);
      if (!(min <= n && n <= max)) throw S.argError(1, `expected integer between ${min} and ${max}`);
      cfg[key] = n;
    }
    return cfg[key];
  };
  const enumOption = (args: LuaValue[], i: number, key: keyof CjsonConfig, options: string[] | null, boolTrue: number): LuaValue => {
    const opts = options ?? ["off", "on"];
    const bt = options ? boolTrue : 1;
    const v = args[i];
    if (v !== undefined) {
      if (bt && typeof v === "boolean") cfg[key] = v ? bt : 0;
      else {
        const s = checkString(S, args, i);
        const idx = opts.indexOf(s);
        if (idx < 0) throw S.argError(i + 1, `invalid option '${s}'`);
        cfg[key] = idx;
      }
    }
    if (bt && (cfg[key] === 0 || cfg[key] === bt)) return cfg[key] !== 0;
    return opts[cfg[key]];
  };

  register(S, cjson, {
    encode(args) {
      if (args.length !== 1) throw S.argError(1, "expected 1 argument");
      const out: string[] = [];
      encodeValue(args[0], 0, out);
      return [out.join("")];
    },
    decode(args) {
      if (args.length !== 1) throw S.argError(1, "expected 1 argument");
      const data = checkString(S, args, 0);
      if (data.length >= 2 && (data.charCodeAt(0) === 0 || data.charCodeAt(1) === 0)) throw S.error("JSON parser does not support UTF-16 or UTF-32");
      const p = new Parser(data);
      const v = p.value(p.next());
      const end = p.next();
      if (end.type !== T_END) p.throwParse("the end", end);
      return [v];
    },
    encode_sparse_array(args) {
      argInit(args, 3);
      return [enumOption(args, 0, "sparseConvert", null, 1), intOption(args, 1, "sparseRatio", 0, 2147483647), intOption(args, 2, "sparseSafe", 0, 2147483647)];
    },
    encode_max_depth(args) {
      argInit(args, 1);
      return [intOption(args, 0, "encodeMaxDepth", 1, 2147483647)];
    },
    decode_max_depth(args) {
      argInit(args, 1);
      return [intOption(args, 0, "decodeMaxDepth", 1, 2147483647)];
    },
    encode_number_precision(args) {
      argInit(args, 1);
      return [intOption(args, 0, "precision", 1, 14)];
    },
    encode_keep_buffer(args) {
      argInit(args, 1);
      return [enumOption(args, 0, "encodeKeepBuffer", null, 1)];
    },
    encode_invalid_numbers(args) {
      argInit(args, 1);
      return [enumOption(args, 0, "encodeInvalidNumbers", ["off", "on", "null"], 1)];
    },
    decode_invalid_numbers(args) {
      argInit(args, 1);
      return [enumOption(args, 0, "decodeInvalidNumbers", null, 1)];
    },
    new() {
      return [makeCjson(S)];
    },
  });
  cjson.set("null", CJSON_NULL);
  cjson.set("_NAME", "cjson");
  cjson.set("_VERSION", "2.1.0");
  return cjson;
}
