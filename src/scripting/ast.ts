// The syntax tree the parser builds and the compiler turns into closures. Names are resolved
// while parsing (Lua scoping is lexical and declarations precede uses): a variable is a local
// of its function (a register slot), an upvalue (captured from an enclosing function), or a
// global (a field of the function's environment).

export interface LocalDecl {
  name: string;
  /** Register index in its function's frame. */
  slot: number;
  /** Referenced by an inner function: stored in a box so closures share it. */
  captured: boolean;
  /** The target of an assignment somewhere (a for loop's variable usually is not). */
  assigned?: boolean;
}

export interface UpvalDesc {
  name: string;
  /** True: the enclosing function's local at `index` (a slot); false: its upvalue `index`. */
  fromLocal: boolean;
  index: number;
}

export interface FuncProto {
  /** Position among its chunk's functions (the main chunk is 0), in source order. */
  index: number;
  name: string;
  line: number;
  params: LocalDecl[];
  isVararg: boolean;
  /** LUA_COMPAT_VARARG: the local `arg` of a vararg function that does not use `...`. */
  argLocal: LocalDecl | null;
  usesVararg: boolean;
  body: Block;
  nslots: number;
  upvals: UpvalDesc[];
  source: string;
}

export type Block = Stat[];

/** How an operand is named in "attempt to ... <kind> '<name>'" messages (getobjname). */
export interface VarInfo {
  kind: "local" | "global" | "field" | "upvalue" | "method";
  name: string;
}

export type Expr =
  | { k: "nil" }
  | { k: "true" }
  | { k: "false" }
  | { k: "num"; v: number }
  | { k: "str"; v: string }
  | { k: "vararg" }
  | { k: "func"; fn: FuncProto }
  | { k: "local"; decl: LocalDecl }
  | { k: "upval"; index: number; name: string }
  | { k: "global"; name: string; line: number }
  | { k: "index"; obj: Expr; key: Expr; line: number }
  | { k: "call"; fn: Expr; args: Expr[]; line: number }
  | { k: "method"; obj: Expr; name: string; args: Expr[]; line: number }
  | { k: "bin"; op: BinOp; a: Expr; b: Expr; line: number }
  | { k: "and"; a: Expr; b: Expr }
  | { k: "or"; a: Expr; b: Expr }
  | { k: "not"; a: Expr }
  | { k: "neg"; a: Expr; line: number }
  | { k: "len"; a: Expr; line: number }
  | { k: "table"; items: TableItem[]; na: number; nh: number; line: number }
  | { k: "paren"; e: Expr };

export type BinOp = "+" | "-" | "*" | "/" | "%" | "^" | ".." | "==" | "~=" | "<" | "<=" | ">" | ">=";

export type TableItem = { pos: true; e: Expr } | { pos: false; key: Expr; val: Expr };

/**
 * A statement. `at` is the line of its first token (where Lua's line hook sees it begin);
 * loops have `tickLine`, where a script killed in the loop says it was: the line of the
 * instruction Redis's count hook mostly lands on (while, repeat: the body's last token; for:
 * the `for`, its FORLOOP).
 */
export type Stat = (
  | { k: "local"; decls: LocalDecl[]; exprs: Expr[]; line: number }
  | { k: "localfunc"; decl: LocalDecl; fn: FuncProto }
  | { k: "assign"; targets: Expr[]; exprs: Expr[]; line: number }
  | { k: "call"; call: Expr }
  | { k: "do"; body: Block }
  | { k: "while"; cond: Expr; body: Block; tickLine: number }
  | { k: "repeat"; body: Block; cond: Expr; tickLine: number }
  | { k: "if"; conds: Expr[]; blocks: Block[]; orelse: Block | null }
  | { k: "fornum"; v: LocalDecl; start: Expr; limit: Expr; step: Expr | null; body: Block; line: number; tickLine: number }
  | { k: "forin"; vars: LocalDecl[]; exprs: Expr[]; body: Block; line: number; tickLine: number }
  | { k: "return"; exprs: Expr[]; line: number }
  | { k: "break" }
) & { at?: number };
