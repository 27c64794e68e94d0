// Lua 5.1 parser (lparser.c): the same grammar, precedences, limits and error messages, building
// the tree of ast.ts with names already resolved to locals, upvalues or globals.

import type { BinOp, Block, Expr, FuncProto, LocalDecl, Stat, TableItem, UpvalDesc } from "./ast.ts";
import { Lexer, T, tokenToString } from "./lexer.ts";

const LUAI_MAXVARS = 200;
const LUAI_MAXUPVALUES = 60;
const LUAI_MAXCCALLS = 200;

interface BlockScope {
  nactvar: number;
  isLoop: boolean;
}

interface FuncState {
  parent: FuncState | null;
  proto: FuncProto;
  actives: LocalDecl[];
  blocks: BlockScope[];
  upvalIndex: Map<LocalDecl, number>;
  /** The declarations behind each upvalue (for chained captures). */
  upvalDecls: LocalDecl[];
}

type Resolved = { k: "local"; decl: LocalDecl } | { k: "upval"; index: number; decl: LocalDecl } | { k: "global" };

const BINARY_PRIORITY: Record<string, [number, number]> = {
  "+": [6, 6],
  "-": [6, 6],
  "*": [7, 7],
  "/": [7, 7],
  "%": [7, 7],
  "^": [10, 9],
  "..": [5, 4],
  "~=": [3, 3],
  "==": [3, 3],
  "<": [3, 3],
  "<=": [3, 3],
  ">": [3, 3],
  ">=": [3, 3],
  and: [2, 2],
  or: [1, 1],
};
const UNARY_PRIORITY = 8;

function binopOf(token: number): string | null {
  switch (token) {
    case 43: return "+";
    case 45: return "-";
    case 42: return "*";
    case 47: return "/";
    case 37: return "%";
    case 94: return "^";
    case T.Concat: return "..";
    case T.Ne: return "~=";
    case T.Eq: return "==";
    case 60: return "<";
    case T.Le: return "<=";
    case 62: return ">";
    case T.Ge: return ">=";
    case T.And: return "and";
    case T.Or: return "or";
    default: return null;
  }
}

function blockFollow(token: number): boolean {
  return token === T.Else || token === T.Elseif || token === T.End || token === T.Until || token === T.Eos;
}

function isMulti(e: Expr): boolean {
  return e.k === "call" || e.k === "method" || e.k === "vararg";
}

/** luaO_int2fb then luaO_fb2int: the table sizes a constructor really asks for. */
function fbRound(x: number): number {
  let e = 0;
  while (x >= 16) {
    x = (x + 1) >> 1;
    e++;
  }
  return x < 8 ? x : x << e;
}

class Parser {
  private fs!: FuncState;
  private level = 0;
  /** Every function of the chunk, by FuncProto.index. */
  readonly protos: FuncProto[] = [];

  constructor(private readonly lx: Lexer) {}

  // ------------------------------------------------------------------ helpers

  private tok(): number {
    return this.lx.token;
  }

  private next(): void {
    this.lx.advance();
  }

  private errorExpected(token: number): never {
    this.lx.syntaxError(`'${tokenToString(token)}' expected`);
  }

  private testNext(c: number): boolean {
    if (this.tok() === c) {
      this.next();
      return true;
    }
    return false;
  }

  private check(c: number): void {
    if (this.tok() !== c) this.errorExpected(c);
  }

  private checkNext(c: number): void {
    this.check(c);
    this.next();
  }

  private checkMatch(what: number, who: number, where: number): void {
    if (!this.testNext(what)) {
      if (where === this.lx.line) this.errorExpected(what);
      this.lx.syntaxError(`'${tokenToString(what)}' expected (to close '${tokenToString(who)}' at line ${where})`);
    }
  }

  private checkName(): string {
    this.check(T.Name);
    const s = this.lx.sval;
    this.next();
    return s;
  }

  private enterLevel(): void {
    if (++this.level > LUAI_MAXCCALLS) this.lx.error("chunk has too many syntax levels", 0);
  }

  private leaveLevel(): void {
    this.level--;
  }

  private errorLimit(limit: number, what: string): never {
    const line = this.fs.proto.line;
    const msg = line === 0 ? `main function has more than ${limit} ${what}` : `function at line ${line} has more than ${limit} ${what}`;
    this.lx.error(msg, 0);
  }

  // ------------------------------------------------------------------ scopes

  private newLocal(name: string): LocalDecl {
    const fs = this.fs;
    return { name, slot: fs.proto.nslots++, captured: false };
  }

  private activate(decls: LocalDecl[]): void {
    const fs = this.fs;
    if (fs.actives.length + decls.length > LUAI_MAXVARS) this.errorLimit(LUAI_MAXVARS, "local variables");
    for (const d of decls) fs.actives.push(d);
  }

  private enterBlock(isLoop: boolean): void {
    this.fs.blocks.push({ nactvar: this.fs.actives.length, isLoop });
  }

  private leaveBlock(): void {
    const bl = this.fs.blocks.pop()!;
    this.fs.actives.length = bl.nactvar;
  }

  private resolve(fs: FuncState, name: string): Resolved {
    for (let i = fs.actives.length - 1; i >= 0; i--) {
      const d = fs.actives[i]!;
      if (d.name === name) return { k: "local", decl: d };
    }
    if (!fs.parent) return { k: "global" };
    const outer = this.resolve(fs.parent, name);
    if (outer.k === "global") return outer;
    const decl = outer.decl;
    let index = fs.upvalIndex.get(decl);
    if (index === undefined) {
      if (fs.proto.upvals.length + 1 > LUAI_MAXUPVALUES) {
        const saved = this.fs;
        this.fs = fs;
        this.errorLimit(LUAI_MAXUPVALUES, "upvalues");
        this.fs = saved;
      }
      const desc: UpvalDesc = outer.k === "local" ? { name, fromLocal: true, index: decl.slot } : { name, fromLocal: false, index: outer.index };
      if (outer.k === "local") decl.captured = true;
      index = fs.proto.upvals.length;
      fs.proto.upvals.push(desc);
      fs.upvalDecls.push(decl);
      fs.upvalIndex.set(decl, index);
    }
    return { k: "upval", index, decl };
  }

  private singleVar(name: string, line: number): Expr {
    const r = this.resolve(this.fs, name);
    if (r.k === "local") return { k: "local", decl: r.decl };
    if (r.k === "upval") return { k: "upval", index: r.index, name };
    return { k: "global", name, line };
  }

  private openFunc(line: number, name: string): FuncState {
    const proto: FuncProto = {
      index: this.protos.length,
      name,
      line,
      params: [],
      isVararg: false,
      argLocal: null,
      usesVararg: false,
      body: [],
      nslots: 0,
      upvals: [],
      source: this.lx.source,
    };
    this.protos.push(proto);
    const fs: FuncState = { parent: this.fs ?? null, proto, actives: [], blocks: [], upvalIndex: new Map(), upvalDecls: [] };
    this.fs = fs;
    return fs;
  }

  private closeFunc(): FuncProto {
    const fs = this.fs;
    this.fs = fs.parent!;
    return fs.proto;
  }

  // ------------------------------------------------------------------ entry point

  mainChunk(): FuncProto {
    this.openFunc(0, "main chunk");
    this.fs.proto.isVararg = true;
    this.next();
    const body = this.chunk();
    this.check(T.Eos);
    const fs = this.fs;
    fs.proto.body = body;
    return fs.proto;
  }

  // ------------------------------------------------------------------ statements

  private chunk(): Block {
    const stats: Stat[] = [];
    let isLast = false;
    this.enterLevel();
    while (!isLast && !blockFollow(this.tok())) {
      const at = this.lx.line;
      const s = this.statement();
      s.at = at;
      isLast = s.k === "return" || s.k === "break";
      stats.push(s);
      this.testNext(59); // ';'
    }
    this.leaveLevel();
    return stats;
  }

  private block(): Block {
    this.enterBlock(false);
    const b = this.chunk();
    this.leaveBlock();
    return b;
  }

  private statement(): Stat {
    const line = this.lx.line;
    switch (this.tok()) {
      case T.If:
        return this.ifStat(line);
      case T.While: {
        this.next();
        const cond = this.expr();
        this.enterBlock(true);
        this.checkNext(T.Do);
        const body = this.block();
        const tickLine = this.lx.lastLine;
        this.checkMatch(T.End, T.While, line);
        this.leaveBlock();
        return { k: "while", cond, body, tickLine };
      }
      case T.Do: {
        this.next();
        const body = this.block();
        this.checkMatch(T.End, T.Do, line);
        return { k: "do", body };
      }
      case T.For:
        return this.forStat(line);
      case T.Repeat: {
        this.enterBlock(true);
        this.enterBlock(false);
        this.next();
        const body = this.chunk();
        const tickLine = this.lx.lastLine;
        this.checkMatch(T.Until, T.Repeat, line);
        const cond = this.expr();
        this.leaveBlock();
        this.leaveBlock();
        return { k: "repeat", body, cond, tickLine };
      }
      case T.Function: {
        this.next();
        // funcname -> NAME {'.' NAME} [':' NAME]
        const nameLine = this.lx.line;
        let fname = this.checkName();
        let target: Expr = this.singleVar(fname, nameLine);
        let needSelf = false;
        let fullName = fname;
        while (this.tok() === 46) {
          this.next();
          const key = this.checkName();
          target = { k: "index", obj: target, key: { k: "str", v: key }, line: this.lx.line };
          fullName = key;
        }
        if (this.tok() === 58) {
          needSelf = true;
          this.next();
          const key = this.checkName();
          target = { k: "index", obj: target, key: { k: "str", v: key }, line: this.lx.line };
          fullName = key;
        }
        fname = fullName;
        if (target.k === "local") target.decl.assigned = true;
        const fn = this.body(needSelf, line, fname);
        return { k: "assign", targets: [target], exprs: [{ k: "func", fn }], line };
      }
      case T.Local: {
        this.next();
        if (this.testNext(T.Function)) {
          const name = this.checkName();
          const decl = this.newLocal(name);
          this.activate([decl]);
          const fn = this.body(false, this.lx.line, name);
          return { k: "localfunc", decl, fn };
        }
        const decls: LocalDecl[] = [];
        do {
          decls.push(this.newLocal(this.checkName()));
        } while (this.testNext(44));
        let exprs: Expr[] = [];
        if (this.testNext(61)) exprs = this.exprList();
        this.activate(decls);
        return { k: "local", decls, exprs, line };
      }
      case T.Return: {
        this.next();
        let exprs: Expr[] = [];
        if (!blockFollow(this.tok()) && this.tok() !== 59) exprs = this.exprList();
        return { k: "return", exprs, line };
      }
      case T.Break: {
        this.next();
        const blocks = this.fs.blocks;
        let found = false;
        for (let i = blocks.length - 1; i >= 0; i--) {
          if (blocks[i]!.isLoop) {
            found = true;
            break;
          }
        }
        if (!found) this.lx.syntaxError("no loop to break");
        return { k: "break" };
      }
      default:
        return this.exprStat();
    }
  }

  private ifStat(line: number): Stat {
    const conds: Expr[] = [];
    const blocks: Block[] = [];
    // IF cond THEN block {ELSEIF cond THEN block} [ELSE block] END
    this.next();
    conds.push(this.expr());
    this.checkNext(T.Then);
    blocks.push(this.block());
    while (this.tok() === T.Elseif) {
      this.next();
      conds.push(this.expr());
      this.checkNext(T.Then);
      blocks.push(this.block());
    }
    let orelse: Block | null = null;
    if (this.tok() === T.Else) {
      this.next();
      orelse = this.block();
    }
    this.checkMatch(T.End, T.If, line);
    return { k: "if", conds, blocks, orelse };
  }

  private forStat(line: number): Stat {
    this.enterBlock(true);
    this.next();
    const varName = this.checkName();
    let st: Stat;
    switch (this.tok()) {
      case 61: {
        // fornum
        this.next();
        const start = this.expr();
        this.checkNext(44);
        const limit = this.expr();
        let step: Expr | null = null;
        if (this.testNext(44)) step = this.expr();
        this.checkNext(T.Do);
        const doLine = this.lx.lastLine;
        this.enterBlock(false);
        const v = this.newLocal(varName);
        this.activate([v]);
        const body = this.block();
        this.leaveBlock();
        st = { k: "fornum", v, start, limit, step, body, line: doLine, tickLine: line };
        break;
      }
      case 44:
      case T.In: {
        const names = [varName];
        while (this.testNext(44)) names.push(this.checkName());
        this.checkNext(T.In);
        const exprLine = this.lx.line;
        const exprs = this.exprList();
        this.checkNext(T.Do);
        this.enterBlock(false);
        const vars = names.map((n) => this.newLocal(n));
        this.activate(vars);
        const body = this.block();
        this.leaveBlock();
        st = { k: "forin", vars, exprs, body, line: exprLine, tickLine: line };
        break;
      }
      default:
        this.lx.syntaxError("'=' or 'in' expected");
    }
    this.checkMatch(T.End, T.For, line);
    this.leaveBlock();
    return st;
  }

  private exprStat(): Stat {
    const e = this.primaryExp();
    if (e.k === "call" || e.k === "method") return { k: "call", call: e };
    // assignment -> primaryexp {',' primaryexp} '=' explist
    const targets: Expr[] = [e];
    for (;;) {
      const last = targets[targets.length - 1]!;
      if (!(last.k === "local" || last.k === "upval" || last.k === "global" || last.k === "index")) this.lx.syntaxError("syntax error");
      if (!this.testNext(44)) break;
      targets.push(this.primaryExp());
      if (targets.length > LUAI_MAXCCALLS - this.level) this.errorLimit(LUAI_MAXCCALLS - this.level, "variables in assignment");
    }
    this.checkNext(61);
    for (const t of targets) if (t.k === "local") t.decl.assigned = true;
    const exprs = this.exprList();
    // The stores happen (and fail) at the end of the statement (not on its first line).
    return { k: "assign", targets, exprs, line: this.lx.lastLine };
  }

  // ------------------------------------------------------------------ functions

  private body(needSelf: boolean, line: number, name: string): FuncProto {
    const fs = this.openFunc(line, name);
    this.checkNext(40);
    const params: LocalDecl[] = [];
    if (needSelf) params.push(this.newLocal("self"));
    if (this.tok() !== 41) {
      do {
        if (this.tok() === T.Name) params.push(this.newLocal(this.checkName()));
        else if (this.tok() === T.Dots) {
          this.next();
          fs.proto.isVararg = true;
          fs.proto.argLocal = this.newLocal("arg");
        } else this.lx.syntaxError("<name> or '...' expected");
      } while (!fs.proto.isVararg && this.testNext(44));
    }
    fs.proto.params = params;
    this.activate(fs.proto.argLocal ? [...params, fs.proto.argLocal] : params);
    this.checkNext(41);
    fs.proto.body = this.chunk();
    this.checkMatch(T.End, T.Function, line);
    return this.closeFunc();
  }

  // ------------------------------------------------------------------ expressions

  private exprList(): Expr[] {
    const list = [this.expr()];
    while (this.testNext(44)) list.push(this.expr());
    return list;
  }

  private funcArgs(): Expr[] {
    const line = this.lx.line;
    switch (this.tok()) {
      case 40: {
        if (line !== this.lx.lastLine) this.lx.syntaxError("ambiguous syntax (function call x new statement)");
        this.next();
        let args: Expr[] = [];
        if (this.tok() !== 41) args = this.exprList();
        this.checkMatch(41, 40, line);
        return args;
      }
      case 123:
        return [this.constructor_()];
      case T.String: {
        const s = this.lx.sval;
        this.next();
        return [{ k: "str", v: s }];
      }
      default:
        this.lx.syntaxError("function arguments expected");
    }
  }

  private prefixExp(): Expr {
    switch (this.tok()) {
      case 40: {
        const line = this.lx.line;
        this.next();
        const e = this.expr();
        this.checkMatch(41, 40, line);
        return isMulti(e) ? { k: "paren", e } : e.k === "paren" ? e : { k: "paren", e };
      }
      case T.Name: {
        const line = this.lx.line;
        return this.singleVar(this.checkName(), line);
      }
      default:
        this.lx.syntaxError("unexpected symbol");
    }
  }

  private primaryExp(): Expr {
    let e = this.prefixExp();
    for (;;) {
      switch (this.tok()) {
        case 46: {
          this.next();
          const name = this.checkName();
          e = { k: "index", obj: e, key: { k: "str", v: name }, line: this.lx.lastLine };
          break;
        }
        case 91: {
          this.next();
          const key = this.expr();
          this.checkNext(93);
          e = { k: "index", obj: e, key, line: this.lx.lastLine };
          break;
        }
        case 58: {
          this.next();
          const name = this.checkName();
          const line = this.lx.line;
          const args = this.funcArgs();
          e = { k: "method", obj: e, name, args, line };
          break;
        }
        case 40:
        case T.String:
        case 123: {
          const line = this.lx.line;
          const args = this.funcArgs();
          e = { k: "call", fn: e, args, line };
          break;
        }
        default:
          return e;
      }
    }
  }

  private simpleExp(): Expr {
    let e: Expr;
    switch (this.tok()) {
      case T.Number:
        e = { k: "num", v: this.lx.nval };
        break;
      case T.String:
        e = { k: "str", v: this.lx.sval };
        break;
      case T.Nil:
        e = { k: "nil" };
        break;
      case T.True:
        e = { k: "true" };
        break;
      case T.False:
        e = { k: "false" };
        break;
      case T.Dots: {
        const proto = this.fs.proto;
        if (!proto.isVararg) this.lx.syntaxError("cannot use '...' outside a vararg function");
        proto.usesVararg = true;
        e = { k: "vararg" };
        break;
      }
      case 123:
        return this.constructor_();
      case T.Function: {
        this.next();
        const fn = this.body(false, this.lx.line, "anonymous");
        return { k: "func", fn };
      }
      default:
        return this.primaryExp();
    }
    this.next();
    return e;
  }

  private subExpr(limit: number): { e: Expr; op: string | null } {
    this.enterLevel();
    let e: Expr;
    const t = this.tok();
    if (t === T.Not || t === 45 || t === 35) {
      this.next();
      const operand = this.subExpr(UNARY_PRIORITY).e;
      const line = this.lx.lastLine;
      if (t === T.Not) e = { k: "not", a: operand };
      else if (t === 45) e = operand.k === "num" ? { k: "num", v: -operand.v } : { k: "neg", a: operand, line };
      else e = { k: "len", a: operand, line };
    } else e = this.simpleExp();
    let op = binopOf(this.tok());
    while (op !== null && BINARY_PRIORITY[op]![0] > limit) {
      this.next();
      const r = this.subExpr(BINARY_PRIORITY[op]![1]);
      const line = this.lx.lastLine;
      if (op === "and") e = { k: "and", a: e, b: r.e };
      else if (op === "or") e = { k: "or", a: e, b: r.e };
      else e = foldConstant({ k: "bin", op: op as BinOp, a: e, b: r.e, line });
      op = r.op;
    }
    this.leaveLevel();
    return { e, op };
  }

  private expr(): Expr {
    return this.subExpr(0).e;
  }

  private constructor_(): Expr {
    const line = this.lx.line;
    this.checkNext(123);
    const items: TableItem[] = [];
    let na = 0;
    let nh = 0;
    do {
      if (this.tok() === 125) break;
      if (this.tok() === T.Name) {
        if (this.lx.lookahead() !== 61) {
          items.push({ pos: true, e: this.expr() });
          na++;
        } else {
          const key: Expr = { k: "str", v: this.checkName() };
          nh++;
          this.checkNext(61);
          items.push({ pos: false, key, val: this.expr() });
        }
      } else if (this.tok() === 91) {
        this.next();
        const key = this.expr();
        this.checkNext(93);
        nh++;
        this.checkNext(61);
        items.push({ pos: false, key, val: this.expr() });
      } else {
        items.push({ pos: true, e: this.expr() });
        na++;
      }
    } while (this.testNext(44) || this.testNext(59));
    this.checkMatch(125, 123, line);
    const last = items[items.length - 1];
    if (last && last.pos && isMulti(last.e)) na--;
    return { k: "table", items, na: fbRound(na), nh: fbRound(nh), line };
  }
}

/** lcode.c's constfolding: arithmetic on two numeric constants, unless it gives NaN or divides by 0. */
function foldConstant(e: Expr & { k: "bin" }): Expr {
  if (e.a.k !== "num" || e.b.k !== "num") return e;
  const a = e.a.v;
  const b = e.b.v;
  let r: number;
  switch (e.op) {
    case "+": r = a + b; break;
    case "-": r = a - b; break;
    case "*": r = a * b; break;
    case "/":
      if (b === 0) return e;
      r = a / b;
      break;
    case "%":
      if (b === 0) return e;
      r = a - Math.floor(a / b) * b;
      break;
    case "^": r = Math.pow(a, b); break;
    default:
      return e;
  }
  if (r !== r) return e;
  return { k: "num", v: r };
}

/** Parses a whole chunk. Throws LuaSyntaxError with Lua's message. */
export function parseChunk(src: string, source: string): FuncProto {
  const lx = new Lexer(src, source);
  return new Parser(lx).mainChunk();
}

/** Every function of a chunk, by FuncProto.index (the main chunk first). */
export function parseChunkFunctions(src: string, source: string): FuncProto[] {
  const parser = new Parser(new Lexer(src, source));
  parser.mainChunk();
  return parser.protos;
}
