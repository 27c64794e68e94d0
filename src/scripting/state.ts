// The interpreter state and the runtime operations compiled code falls back to when the fast
// path (numbers, plain tables) does not apply: metatables, coercions, and the runtime errors
// with Lua 5.1's texts ("attempt to index local 't' (a nil value)") and positions
// ("user_script:3: ...").
//
// Every Lua function call pushes a Frame on S.frames; a call site records its line (and how the
// callee was named) in its frame before calling, so a native raising an error, error() with a
// level, and Redis's error handler ("on @user_script:3.") find the position where Lua would.
// Frames are popped on return only: whoever catches an error (pcall, the script runner)
// restores the depth it saw, so after an uncaught error the stack still shows where it was
// raised.

import type { VarInfo } from "./ast.ts";
import { chunkIdSized } from "./lexer.ts";
import { numberToString, strToNumber } from "./numbers.ts";
import { LuaTable, LuaTableError, objectId, strHash } from "./table.ts";
import { Box, EMPTY, LuaError, LuaFunction, LuaUserdata, type LuaValue, typeName } from "./value.ts";

/** Limits of Lua 5.1 (luaconf.h), scaled where the JavaScript stack is the real bound. */
const LUAI_MAXCCALLS = 200;

export interface ProtoInfo {
  /** "@user_script" */
  source: string;
  /** As messages print it: "user_script". */
  chunk: string;
  /** Registers: the locals, then the hidden slots of values a suspension keeps (sites.ts). */
  nslots: number;
  name: string;
  /** A native's level (no position, no Lua code). */
  native: boolean;
  /** Line of the function's first statement (where a kill at its entry says it was). */
  firstLine: number;
  /**
   * Continues a suspended frame of this function where its `pc` says, to its return (the
   * function's results); null for natives. Compiled on first use (compiler-resume.ts).
   */
  resume: ((f: Frame) => LuaValue[]) | null;
}

export function protoInfo(source: string, nslots: number, name: string, native = false): ProtoInfo {
  return { source, chunk: chunkIdSized(source, 60), nslots, name, native, firstLine: 0, resume: null };
}

/**
 * Thrown by a budget tick when a running script must yield to the event loop (a busy script):
 * the stack unwinds to the engine, which reports the run as suspended. Compiled code keeps what
 * it needs in the frames on the way (sites.ts); nothing else may catch it. Not an Error: no
 * stack trace is taken.
 */
export const SUSPEND: { readonly suspend: true } = Object.freeze({ suspend: true });

/** Deeper than this, a script does not yield (its resume must not run out of JavaScript stack). */
const MAX_SUSPEND_DEPTH = 4000;

/** A pcall/xpcall level a suspension went through: what its resume needs (in the frame's r[0]). */
interface Protection {
  depth: number;
  cdepth: number;
  pcallLevels: number;
  ok: (r: LuaValue[]) => LuaValue[];
  fail: (e: unknown, depth: number, cdepth: number) => LuaValue[];
}

export class Frame {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly r: any[];
  va: LuaValue[] = EMPTY;
  ret: LuaValue[] = EMPTY;
  /** The site this frame is at (sites.ts): set before each call and at loop ticks; 0 at entry. */
  pc = 0;
  /** Current line: set by call sites and by operations that raise errors. */
  line = 0;
  /** How the function being called from here was named (for "bad argument #1 to 'x'"). */
  callee: VarInfo | null = null;
  constructor(
    readonly proto: ProtoInfo,
    readonly u: Box[],
    public env: LuaTable,
    readonly fn: LuaFunction | null,
  ) {
    this.r = new Array(proto.nslots);
  }
}

/**
 * Raised to stop a script from outside the language: FUNCTION LOAD's time limit, SCRIPT KILL
 * and FUNCTION KILL. Lua's pcall catches it as an error (as Redis's does), but once killed every
 * tick raises it again (Redis's line hook), so the script cannot go on.
 */
export class LuaKill extends LuaError {}

/** The Lua error for a JavaScript RangeError (the JavaScript stack ran out). */
export function stackOverflowValue(S: LuaState): string {
  return `${S.where(1)}stack overflow`;
}

function probe(n: number): number {
  return n === 0 ? 0 : probe(n - 1) + 1;
}

/** The frame of a native called by another native: no line, no callee name. */
const NATIVE_FRAME = new Frame(protoInfo("=[C]", 0, "?", true), [], new LuaTable(), null);

/** The level of a pcall/xpcall a suspension went through (resumed by LuaState.resumeProtected). */
const PCALL_INFO = protoInfo("=[C]", 1, "?", true);

const EV_INDEX = "__index";
const EV_NEWINDEX = "__newindex";
const H_INDEX = strHash(EV_INDEX);
const H_NEWINDEX = strHash(EV_NEWINDEX);

export class LuaState {
  readonly frames: Frame[] = [];
  depth = 0;
  /** Natives re-entering Lua (pcall, sort, gsub, metamethods): LUAI_MAXCCALLS. */
  cdepth = 0;
  /** Lua call depth limit ("stack overflow"), as LUAI_MAXCALLS (20000 CallInfos, a few used by C). */
  maxDepth = 19997;
  /** From this depth on, calls check the JavaScript stack's headroom (every 16 levels). */
  stackCheckFrom = 500;
  /** Instructions (loop iterations, calls) between two time checks (ticks). */
  tickEvery = 10000;
  /** Instructions until the next tick. */
  budget = 10000;
  /** Called when the budget runs out: may throw to stop the script; true asks it to yield. */
  onBudget: () => boolean = () => false;
  /** Set by the engine while a script runs its code (not while it loads, nor handles an error). */
  suspendable = false;
  /** Among the C levels (cdepth), those of pcall/xpcall: a suspension can pass through them. */
  pcallLevels = 0;
  /** While resuming: the index in frames of the frame being re-entered. */
  resumeAt = 0;
  /** The script was killed: every tick (and line change of a resumed frame) raises killError(). */
  killed = false;
  /** The error a killed script raises (set by the engine: it logs, and knows Redis's text). */
  killError: () => Error = () => new LuaError("killed");
  globals: LuaTable = new LuaTable();
  stringMeta: LuaTable | null = null;
  /** The base library's next and ipairs iterator: generic for loops over them run inline. */
  nextFn: LuaFunction | null = null;
  ipairsAux: LuaFunction | null = null;

  /** A loop's tick: where the frame is (its pc and line) is recorded first. */
  loopTick(f: Frame, site: number, line: number): void {
    f.pc = site;
    f.line = line;
    this.tick();
  }

  tick(): void {
    this.budget = this.tickEvery;
    if (this.onBudget() || this.killed) this.interrupt();
  }

  /**
   * A tick that must do more than go on: a killed script raises its error again; a script that
   * asked to yield does so where every level between here and the engine can be re-entered
   * (Lua frames and pcall/xpcall, not a native calling back: sort's comparator, gsub's
   * function, metamethods count a C level pcall does not account for). Kept out of tick(),
   * which compiled loops inline.
   */
  private interrupt(): void {
    if (this.killed) this.raiseKill();
    if (this.suspendable && this.cdepth === 1 + this.pcallLevels && this.depth <= MAX_SUSPEND_DEPTH) throw SUSPEND;
  }

  /** A killed script reached a tick: the kill is raised again (Redis's hook runs at every line then). */
  private raiseKill(): never {
    this.budget = 0;
    const top = this.topLua();
    if (top !== null && top.line === 0) top.line = top.proto.firstLine;
    throw this.killError();
  }

  /**
   * A resumed frame reached the site it was suspended at: a killed script raises its error
   * here, at the line it was at (where Redis's hook raised it).
   */
  resumePoint(): void {
    if (this.killed) throw this.killError();
  }

  /** Re-enters a suspended frame (after the resume of its caller reached the call). */
  resumeFrame(fr: Frame): LuaValue[] {
    if (fr.proto === PCALL_INFO) return this.resumeProtected(fr);
    return fr.proto.resume!(fr);
  }

  /** The call in progress at a resumed call site: re-enters the callee's frame. */
  resumeCallee(): LuaValue[] {
    return this.resumeFrame(this.frames[++this.resumeAt]!);
  }

  /**
   * A suspension went through a pcall/xpcall level (its catch calls this, then rethrows): the
   * level is kept in frames, so that resuming continues inside the same protection. `depth`,
   * `cdepth` and `pcallLevels` are the values before the call; `ok` makes the results from the
   * callee's, `fail` from what is thrown (given the depths to restore). pcallLevels stays one
   * higher, as the level is still there.
   */
  keepProtection(depth: number, cdepth: number, pcallLevels: number, ok: Protection["ok"], fail: Protection["fail"]): void {
    const fr = new Frame(PCALL_INFO, [], NATIVE_FRAME.env, null);
    fr.r[0] = { depth, cdepth, pcallLevels, ok, fail } satisfies Protection;
    this.frames[depth] = fr;
  }

  private resumeProtected(fr: Frame): LuaValue[] {
    const p = fr.r[0] as Protection;
    let r: LuaValue[];
    try {
      r = this.resumeCallee();
    } catch (e) {
      if (e === SUSPEND) throw e;
      this.pcallLevels = p.pcallLevels;
      return p.fail(e, p.depth, p.cdepth);
    }
    // callFromNative's return.
    this.depth--;
    this.cdepth--;
    this.frames[p.depth] = NATIVE_FRAME;
    this.pcallLevels = p.pcallLevels;
    return p.ok(r);
  }

  /** The innermost Lua frame (level 1 in luaL_where terms), if any. */
  top(): Frame | null {
    return this.depth > 0 ? this.frames[this.depth - 1]! : null;
  }

  /** luaL_where(L, level): "chunk:line: " of the level-th Lua frame from the top, or "". */
  where(level: number): string {
    const i = this.depth - level;
    if (level < 1 || i < 0) return "";
    const f = this.frames[i]!;
    return f.line > 0 ? `${f.proto.chunk}:${f.line}: ` : "";
  }

  /** A runtime error in frame f at `line` (luaG_runerror). */
  rtError(f: Frame | null, line: number, msg: string): LuaError {
    if (f === null) return new LuaError(msg);
    f.line = line;
    return new LuaError(`${f.proto.chunk}:${line}: ${msg}`);
  }

  /** luaL_error from a native: the message with the position of its Lua caller. */
  error(msg: string): LuaError {
    return new LuaError(this.where(1) + msg);
  }

  /** luaL_argerror. */
  argError(narg: number, extra: string): LuaError {
    const f = this.top();
    const callee = f?.callee ?? null;
    let name = callee?.name ?? "?";
    if (callee?.kind === "method") {
      narg--;
      if (narg === 0) return this.error(`calling '${name}' on bad self (${extra})`);
    }
    if (!name) name = "?";
    return this.error(`bad argument #${narg} to '${name}' (${extra})`);
  }

  /** luaL_typerror: "<expected> expected, got <type>" ("no value" for a missing argument). */
  typeArgError(args: LuaValue[], i: number, expected: string): LuaError {
    const got = i >= args.length ? "no value" : typeName(args[i]);
    return this.argError(i + 1, `${expected} expected, got ${got}`);
  }

  // ------------------------------------------------------------------ metatables

  metatableOf(v: LuaValue): LuaTable | null {
    if (v instanceof LuaTable) return v.metatable;
    if (typeof v === "string") return this.stringMeta;
    if (v instanceof LuaUserdata) return v.metatable;
    return null;
  }

  /** luaT_gettmbyobj. */
  metamethod(v: LuaValue, event: string): LuaValue {
    const mt = this.metatableOf(v);
    return mt === null ? undefined : mt.getStr(event);
  }

  // ------------------------------------------------------------------ calls

  /** Calls any value (functions, or objects with __call), from a native or a slow path. */
  call(fn: LuaValue, args: LuaValue[]): LuaValue[] {
    if (fn instanceof LuaFunction) return fn.call(args);
    const tm = this.metamethod(fn, "__call");
    if (!(tm instanceof LuaFunction)) throw new LuaError(`attempt to call a ${typeName(fn)} value`);
    return tm.call([fn, ...args]);
  }

  /**
   * luaD_call's C level count: a new level, or the error when there are too many (exactly at
   * the limit "C stack overflow"; past it, only error handlers get a few more levels).
   */
  private enterC(): string | null {
    const n = ++this.cdepth;
    if (n < LUAI_MAXCCALLS) return null;
    if (n === LUAI_MAXCCALLS) {
      this.cdepth--;
      return "C stack overflow";
    }
    if (n >= LUAI_MAXCCALLS + (LUAI_MAXCCALLS >> 3)) {
      this.cdepth--;
      return "error in error handling";
    }
    return null;
  }

  /**
   * Whether the JavaScript stack has room for about `frames` more small calls. The JavaScript
   * stack is smaller than the C stack Lua runs on, and running out of it in the middle of a
   * table or dataset update would leave it half done: deep recursion checks its headroom and
   * fails cleanly with Lua's "stack overflow" instead.
   */
  stackOk(frames: number): boolean {
    try {
      probe(frames);
      return true;
    } catch (e) {
      if (e instanceof RangeError) return false;
      throw e;
    }
  }

  /**
   * A call from a native (pcall, sort, gsub...): counts C levels, and puts a frame with no
   * position for the calling native on the stack, so that what it calls sees the levels Lua's
   * would: a native it calls says "bad argument #1 to '?'" with no "user_script:1:", and
   * error(msg, 2) in a Lua function it calls adds no position either.
   */
  callFromNative(fn: LuaValue, args: LuaValue[]): LuaValue[] {
    const overflow = this.enterC();
    if (overflow !== null) throw new LuaError(overflow);
    if (this.depth >= this.maxDepth) {
      this.cdepth--;
      throw this.error("stack overflow");
    }
    // The calling native's level: what it calls sees a C function below (no position).
    this.frames[this.depth++] = NATIVE_FRAME;
    const r = this.call(fn, args);
    this.depth--;
    this.cdepth--;
    return r;
  }

  /** The innermost frame of Lua code (skipping natives' frames), for error positions. */
  topLua(): Frame | null {
    for (let i = this.depth - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (!f.proto.native) return f;
    }
    return null;
  }

  /** Calls a metamethod from frame f (callTMres): one result. */
  callMeta(f: Frame | null, line: number, tm: LuaValue, args: LuaValue[]): LuaValue {
    if (f !== null) f.line = line;
    const overflow = this.enterC();
    if (overflow !== null) throw this.rtError(f, line, overflow);
    const r = this.call(tm, args);
    this.cdepth--;
    return r[0];
  }

  /** A call whose callee is not a function (compiled call sites' slow path). */
  callValue(f: Frame | null, line: number, fn: LuaValue, args: LuaValue[], desc: VarInfo | null): LuaValue[] {
    if (fn instanceof LuaFunction) return fn.call(args);
    const tm = this.metamethod(fn, "__call");
    if (!(tm instanceof LuaFunction)) throw this.typeError(f, line, fn, desc, "call");
    return tm.call([fn, ...args]);
  }

  // ------------------------------------------------------------------ errors

  typeError(f: Frame | null, line: number, v: LuaValue, desc: VarInfo | null, op: string): LuaError {
    const t = typeName(v);
    if (desc) return this.rtError(f, line, `attempt to ${op} ${desc.kind} '${desc.name}' (a ${t} value)`);
    return this.rtError(f, line, `attempt to ${op} a ${t} value`);
  }

  // ------------------------------------------------------------------ indexing

  /** luaV_gettable's slow path. */
  index(f: Frame | null, line: number, obj: LuaValue, key: LuaValue, desc: VarInfo | null): LuaValue {
    let t = obj;
    for (let loop = 0; loop < 100; loop++) {
      let tm: LuaValue;
      if (t instanceof LuaTable) {
        const res = t.get(key);
        if (res !== undefined) return res;
        const mt = t.metatable;
        if (mt === null) return undefined;
        tm = mt.getStrH(EV_INDEX, H_INDEX);
        if (tm === undefined) return undefined;
      } else {
        tm = this.metamethod(t, EV_INDEX);
        if (tm === undefined) throw this.typeError(f, line, t, loop === 0 ? desc : null, "index");
      }
      if (tm instanceof LuaFunction) return this.callMeta(f, line, tm, [t, key]);
      t = tm;
    }
    throw this.rtError(f, line, "loop in gettable");
  }

  /** luaV_settable (all cases). */
  setIndex(f: Frame | null, line: number, obj: LuaValue, key: LuaValue, val: LuaValue, desc: VarInfo | null): void {
    let t = obj;
    for (let loop = 0; loop < 100; loop++) {
      let tm: LuaValue;
      if (t instanceof LuaTable) {
        if (t.readonly) throw this.rtError(f, line, "Attempt to modify a readonly table");
        const mt = t.metatable;
        const old = t.get(key);
        if (old !== undefined || mt === null || (tm = mt.getStrH(EV_NEWINDEX, H_NEWINDEX)) === undefined) {
          this.rawSet(f, line, t, key, val);
          return;
        }
        // luaH_set created the key before the metamethod runs (a dead node, as in Lua).
        this.rawSet(f, line, t, key, undefined);
      } else {
        tm = this.metamethod(t, EV_NEWINDEX);
        if (tm === undefined) throw this.typeError(f, line, t, loop === 0 ? desc : null, "index");
      }
      if (tm instanceof LuaFunction) {
        if (f !== null) f.line = line;
        const overflow = this.enterC();
        if (overflow !== null) throw this.rtError(f, line, overflow);
        this.call(tm, [t, key, val]);
        this.cdepth--;
        return;
      }
      t = tm;
    }
    throw this.rtError(f, line, "loop in settable");
  }

  rawSet(f: Frame | null, line: number, t: LuaTable, key: LuaValue, val: LuaValue): void {
    try {
      t.set(key, val);
    } catch (e) {
      if (e instanceof LuaTableError) throw this.rtError(f, line, e.message);
      throw e;
    }
  }

  // ------------------------------------------------------------------ arithmetic

  arith(f: Frame | null, line: number, event: string, a: LuaValue, b: LuaValue, da: VarInfo | null, db: VarInfo | null): LuaValue {
    const na = toNumber(a);
    const nb = toNumber(b);
    if (na !== undefined && nb !== undefined) return rawArith(event, na, nb);
    let tm = this.metamethod(a, event);
    if (tm === undefined) tm = this.metamethod(b, event);
    if (tm !== undefined) return this.callMeta(f, line, tm, [a, b]);
    if (na === undefined) throw this.typeError(f, line, a, da, "perform arithmetic on");
    throw this.typeError(f, line, b, db, "perform arithmetic on");
  }

  unm(f: Frame | null, line: number, a: LuaValue, da: VarInfo | null): LuaValue {
    const na = toNumber(a);
    if (na !== undefined) return -na;
    const tm = this.metamethod(a, "__unm");
    if (tm !== undefined) return this.callMeta(f, line, tm, [a, a]);
    throw this.typeError(f, line, a, da, "perform arithmetic on");
  }

  len(f: Frame | null, line: number, a: LuaValue, da: VarInfo | null): LuaValue {
    if (typeof a === "string") return a.length;
    if (a instanceof LuaTable) return a.length();
    const tm = this.metamethod(a, "__len");
    if (tm !== undefined) return this.callMeta(f, line, tm, [a, undefined]);
    throw this.typeError(f, line, a, da, "get length of");
  }

  concat(f: Frame | null, line: number, a: LuaValue, b: LuaValue, da: VarInfo | null, db: VarInfo | null): LuaValue {
    const aok = typeof a === "string" || typeof a === "number";
    const bok = typeof b === "string" || typeof b === "number";
    if (aok && bok) return (typeof a === "number" ? numberToString(a) : a) + (typeof b === "number" ? numberToString(b) : b);
    let tm = this.metamethod(a, "__concat");
    if (tm === undefined) tm = this.metamethod(b, "__concat");
    if (tm !== undefined) return this.callMeta(f, line, tm, [a, b]);
    if (aok) throw this.typeError(f, line, b, db, "concatenate");
    throw this.typeError(f, line, a, da, "concatenate");
  }

  // ------------------------------------------------------------------ comparisons

  private orderError(f: Frame | null, line: number, a: LuaValue, b: LuaValue): LuaError {
    const t1 = typeName(a);
    const t2 = typeName(b);
    if (t1 === t2) return this.rtError(f, line, `attempt to compare two ${t1} values`);
    return this.rtError(f, line, `attempt to compare ${t1} with ${t2}`);
  }

  /** call_orderTM: -1 when there is no usable metamethod. */
  private orderTM(f: Frame | null, line: number, a: LuaValue, b: LuaValue, event: string): number {
    const tm1 = this.metamethod(a, event);
    if (tm1 === undefined) return -1;
    const tm2 = this.metamethod(b, event);
    if (tm1 !== tm2) return -1;
    const r = this.callMeta(f, line, tm1, [a, b]);
    return r !== undefined && r !== false ? 1 : 0;
  }

  lt(f: Frame | null, line: number, a: LuaValue, b: LuaValue): boolean {
    if (typeof a === "number" && typeof b === "number") return a < b;
    if (typeof a === "string" && typeof b === "string") return a < b;
    if (typeName(a) !== typeName(b)) throw this.orderError(f, line, a, b);
    const r = this.orderTM(f, line, a, b, "__lt");
    if (r !== -1) return r === 1;
    throw this.orderError(f, line, a, b);
  }

  le(f: Frame | null, line: number, a: LuaValue, b: LuaValue): boolean {
    if (typeName(a) !== typeName(b)) throw this.orderError(f, line, a, b);
    if (typeof a === "number") return a <= (b as number);
    if (typeof a === "string") return a <= (b as string);
    let r = this.orderTM(f, line, a, b, "__le");
    if (r !== -1) return r === 1;
    r = this.orderTM(f, line, b, a, "__lt");
    if (r !== -1) return r === 0;
    throw this.orderError(f, line, a, b);
  }

  /** luaV_equalval for two values of the same type that are not raw-equal. */
  eqSlow(f: Frame | null, line: number, a: LuaValue, b: LuaValue): boolean {
    if (a === b) return true;
    let mt1: LuaTable | null;
    let mt2: LuaTable | null;
    if (a instanceof LuaTable && b instanceof LuaTable) {
      mt1 = a.metatable;
      mt2 = b.metatable;
    } else if (a instanceof LuaUserdata && b instanceof LuaUserdata) {
      mt1 = a.metatable;
      mt2 = b.metatable;
    } else return false;
    if (mt1 === null) return false;
    const tm1 = mt1.getStr("__eq");
    if (tm1 === undefined) return false;
    let tm = tm1;
    if (mt1 !== mt2) {
      if (mt2 === null) return false;
      const tm2 = mt2.getStr("__eq");
      if (tm2 === undefined || tm2 !== tm1) return false;
      tm = tm1;
    }
    const r = this.callMeta(f, line, tm, [a, b]);
    return r !== undefined && r !== false;
  }

  // ------------------------------------------------------------------ conversions

  /** tostring(), honouring __tostring. */
  tostring(v: LuaValue): string {
    const tm = this.metamethod(v, "__tostring");
    if (tm !== undefined) {
      const r = this.callFromNative(tm, [v])[0];
      if (typeof r !== "string") {
        if (typeof r === "number") return numberToString(r);
        throw this.error("'__tostring' must return a string");
      }
      return r;
    }
    return rawToString(v);
  }
}

export function toNumber(v: LuaValue): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string") return strToNumber(v);
  return undefined;
}

export function cpow(a: number, b: number): number {
  // C's pow: pow(1, y) and pow(x, 0) are 1 even for NaN; pow(-1, +-inf) is 1.
  if (b === 0 || a === 1) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}

function rawArith(event: string, a: number, b: number): number {
  switch (event) {
    case "__add":
      return a + b;
    case "__sub":
      return a - b;
    case "__mul":
      return a * b;
    case "__div":
      return a / b;
    case "__mod":
      return a - Math.floor(a / b) * b;
    case "__pow":
      return cpow(a, b);
    default:
      throw new Error(`unknown arithmetic event ${event}`);
  }
}

function pointerText(o: { id: number }): string {
  return `0x${(0x55d0c0a00000 + objectId(o) * 64).toString(16)}`;
}

/** tostring without metamethods (luaL_tolstring's default branch in 5.1's tostring). */
export function rawToString(v: LuaValue): string {
  switch (typeof v) {
    case "undefined":
      return "nil";
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return numberToString(v);
    case "string":
      return v;
  }
  if (v instanceof LuaTable) return `table: ${pointerText(v)}`;
  if (v instanceof LuaFunction) return `function: ${pointerText(v)}`;
  if (v instanceof LuaUserdata) return `userdata: ${v.pointerText ?? pointerText(v)}`;
  return "?";
}
