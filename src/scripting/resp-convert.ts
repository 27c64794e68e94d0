// Conversions between Redis replies and Lua values, as Redis 7.0's script_lua.c does them.
//
// RESP -> Lua (what redis.call returns): integers are numbers, bulk strings strings, a null
// bulk or null array false, status {ok=...}, error {err=...} (plus ignore_error_stats_update),
// arrays tables 1..n; RESP3: map {map={...}}, set {set={k=true}}, double {double=n}, big number
// {big_number=s}, verbatim {verbatim_string={format=,string=}}, booleans, null nil.
//
// Lua -> RESP (what a script returns): strings bulk, numbers integers (truncated), booleans
// 1/null in RESP2 (true/false when the script switched to RESP3), tables by their err / ok /
// double / big_number / verbatim_string / map / set field, else an array up to the first nil.

import type { ReplyWriter } from "../protocol/reply-writer.ts";
import { toLongBig } from "./numbers.ts";
import { LuaTable, type LuaValue } from "./value.ts";

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** luaPushErrorBuff: "-CODE msg" or "msg" -> {err="CODE msg"} ("ERR" when there is no code). */
export function errorTable(text: string): LuaTable {
  let code: string;
  let msg: string;
  if (text.startsWith("-")) {
    const sp = text.indexOf(" ");
    if (sp < 0) {
      msg = text.slice(1);
      code = "ERR";
    } else {
      code = text.slice(1, sp);
      msg = text.slice(sp + 1);
    }
  } else {
    msg = text;
    code = "ERR";
  }
  msg = msg.replace(/^[\r\n]+|[\r\n]+$/g, "");
  const t = new LuaTable();
  t.set("err", `${code} ${msg}`);
  return t;
}

/** Parses one RESP reply from buf[pos..]: the Lua value and where the reply ends. */
export function respToLua(buf: Buffer, pos: number): { value: LuaValue; end: number } {
  const type = buf[pos]!;
  const nl = buf.indexOf(13, pos);
  const line = buf.latin1Slice(pos + 1, nl);
  let at = nl + 2;
  switch (type) {
    case 0x3a: // ':'
      return { value: Number(line), end: at };
    case 0x24: {
      // '$'
      const n = Number(line);
      if (n < 0) return { value: false, end: at };
      return { value: buf.latin1Slice(at, at + n), end: at + n + 2 };
    }
    case 0x2b: {
      // '+'
      const t = new LuaTable();
      t.set("ok", line);
      return { value: t, end: at };
    }
    case 0x2d: {
      // '-'
      const t = errorTable(`-${line}`);
      t.set("ignore_error_stats_update", true);
      return { value: t, end: at };
    }
    case 0x2a:
    case 0x3e: {
      // '*' and '>'
      const n = Number(line);
      if (n < 0) return { value: false, end: at };
      const t = new LuaTable();
      for (let j = 0; j < n; j++) {
        const r = respToLua(buf, at);
        t.set(j + 1, r.value);
        at = r.end;
      }
      return { value: t, end: at };
    }
    case 0x25: {
      // '%'
      const n = Number(line);
      const outer = new LuaTable();
      const inner = new LuaTable();
      for (let j = 0; j < n; j++) {
        const k = respToLua(buf, at);
        const v = respToLua(buf, k.end);
        at = v.end;
        if (k.value !== undefined) inner.set(k.value, v.value);
      }
      outer.set("map", inner);
      return { value: outer, end: at };
    }
    case 0x7e: {
      // '~'
      const n = Number(line);
      const outer = new LuaTable();
      const inner = new LuaTable();
      for (let j = 0; j < n; j++) {
        const k = respToLua(buf, at);
        at = k.end;
        if (k.value !== undefined) inner.set(k.value, true);
      }
      outer.set("set", inner);
      return { value: outer, end: at };
    }
    case 0x23: // '#'
      return { value: line === "t", end: at };
    case 0x2c: {
      // ','
      const t = new LuaTable();
      t.set("double", parseRespDouble(line));
      return { value: t, end: at };
    }
    case 0x28: {
      // '('
      const t = new LuaTable();
      t.set("big_number", line);
      return { value: t, end: at };
    }
    case 0x3d: {
      // '='
      const n = Number(line);
      const text = buf.latin1Slice(at, at + n);
      const outer = new LuaTable();
      const inner = new LuaTable();
      inner.set("string", text.slice(4));
      inner.set("format", text.slice(0, 3));
      outer.set("verbatim_string", inner);
      return { value: outer, end: at + n + 2 };
    }
    case 0x5f: // '_'
      return { value: undefined, end: at };
    case 0x7c: {
      // '|' attributes: skipped, then the reply itself
      const n = Number(line);
      for (let j = 0; j < 2 * n; j++) at = respToLua(buf, at).end;
      return respToLua(buf, at);
    }
    default:
      throw new Error(`unexpected reply type ${String.fromCharCode(type)}`);
  }
}

/** What C sees of a Lua string through lua_tostring + strlen: up to the first NUL. */
function cString(s: string): string {
  const z = s.indexOf("\0");
  return z < 0 ? s : s.slice(0, z);
}

function parseRespDouble(text: string): number {
  if (text === "inf") return Infinity;
  if (text === "-inf") return -Infinity;
  if (text === "nan" || text === "-nan") return NaN;
  return Number(text);
}

/**
 * Told of each error reply luaToResp writes (its text as sent, and whether the table carried
 * ignore_error_stats_update), as Redis's afterErrorReply counts each one.
 */
type ErrorReplied = (text: string, ignoreStats: boolean) => void;

/** The script's resp version matters for booleans; the caller's writer decides the rest. */
export function luaToResp(v: LuaValue, out: ReplyWriter, scriptResp: 2 | 3, depth = 0, onError: ErrorReplied | null = null): void {
  switch (typeof v) {
    case "string":
      out.bulk(v);
      return;
    case "boolean":
      if (scriptResp === 2) {
        if (v) out.int(1);
        else out.nullBulk();
      } else out.bool(v);
      return;
    case "number":
      // (long long) of the double: truncated; out of range and NaN as x86 converts them.
      if (v > -9007199254740992 && v < 9007199254740992) out.int(Math.trunc(v));
      else out.int(toLongBig(v));
      return;
  }
  if (!(v instanceof LuaTable)) {
    out.nullBulk();
    return;
  }
  // Redis converts on the Lua stack (LUAI_MAXCSTACK 8000 slots): a nested array stops after
  // 7,995 levels with this error in place of the next element.
  if (depth > MAX_DEPTH) {
    stackLimit(out, onError);
    return;
  }
  const err = v.get("err");
  if (typeof err === "string") {
    // "-%s" through addReplyErrorFormat: a C string, trailing newlines trimmed, inner ones
    // replaced by spaces.
    const text = cString(err).replace(/[\r\n]+$/, "").replace(/[\r\n]/g, " ");
    out.error(text);
    onError?.(text, v.get("ignore_error_stats_update") === true);
    return;
  }
  const ok = v.get("ok");
  if (typeof ok === "string") {
    out.simple(cString(ok).replace(/[\r\n]/g, " "));
    return;
  }
  const dbl = v.get("double");
  if (typeof dbl === "number") {
    if (dbl !== dbl) {
      // "%.17g" of a NaN: glibc prints its sign ("-nan" for 0/0 on x86).
      F64[0] = dbl;
      const text = U32[1]! >>> 31 ? "-nan" : "nan";
      if (out.resp === 3) out.raw(Buffer.from(`,${text}\r\n`, "latin1"));
      else out.bulk(text);
    } else out.double(dbl);
    return;
  }
  const big = v.get("big_number");
  if (typeof big === "string") {
    const text = big.replace(/[\r\n]/g, " ");
    if (out.resp === 3) out.raw(Buffer.from(`(${text}\r\n`, "latin1"));
    else out.bulk(text);
    return;
  }
  const verb = v.get("verbatim_string");
  if (verb instanceof LuaTable) {
    const format = verb.get("format");
    const str = verb.get("string");
    if (typeof format === "string" && typeof str === "string") {
      out.verbatim(str, format.slice(0, 3));
      return;
    }
  }
  const map = v.get("map");
  if (map instanceof LuaTable) {
    const entries: Array<[LuaValue, LuaValue]> = [];
    let k: LuaValue = undefined;
    for (;;) {
      const e = map.next(k);
      if (e === null) break;
      k = e[0];
      entries.push(e);
    }
    out.map(entries.length);
    for (const [key, val] of entries) {
      child(key, out, scriptResp, depth + 1, onError);
      child(val, out, scriptResp, depth + 1, onError);
    }
    return;
  }
  const set = v.get("set");
  if (set instanceof LuaTable) {
    const keys: LuaValue[] = [];
    let k: LuaValue = undefined;
    for (;;) {
      const e = set.next(k);
      if (e === null) break;
      k = e[0];
      keys.push(k);
    }
    out.set(keys.length);
    for (const key of keys) child(key, out, scriptResp, depth + 1, onError);
    return;
  }
  let n = 0;
  while (v.getNum(n + 1) !== undefined) n++;
  out.array(n);
  for (let j = 1; j <= n; j++) child(v.getNum(j), out, scriptResp, depth + 1, onError);
}

const MAX_DEPTH = 7994;

function stackLimit(out: ReplyWriter, onError: ErrorReplied | null): void {
  out.error("ERR reached lua stack limit");
  onError?.("ERR reached lua stack limit", false);
}

/**
 * A nested element. Should the JavaScript stack run out before MAX_DEPTH (a deep call chain
 * around the conversion), the element becomes the same error, so the reply stays well formed.
 */
function child(v: LuaValue, out: ReplyWriter, scriptResp: 2 | 3, depth: number, onError: ErrorReplied | null): void {
  if (!(v instanceof LuaTable)) {
    luaToResp(v, out, scriptResp, depth, onError);
    return;
  }
  try {
    luaToResp(v, out, scriptResp, depth, onError);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    stackLimit(out, onError);
  }
}
