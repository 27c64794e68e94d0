// Lua 5.1 lexer (llex.c): the same tokens, the same escapes and the same error messages,
// "<chunk>:<line>: <message> near '<token>'", because scripts' compile errors reach clients
// verbatim ("Error compiling script (new function): user_script:1: ...").
//
// Source text is a latin1 string (one char per byte), as everything in Replicant.

import { strToNumber } from "./numbers.ts";

export const enum T {
  // single-char tokens use their char code (< 256)
  And = 257,
  Break,
  Do,
  Else,
  Elseif,
  End,
  False,
  For,
  Function,
  If,
  In,
  Local,
  Nil,
  Not,
  Or,
  Repeat,
  Return,
  Then,
  True,
  Until,
  While,
  Concat,
  Dots,
  Eq,
  Ge,
  Le,
  Ne,
  Number,
  Name,
  String,
  Eos,
}

const FIRST_RESERVED = T.And;

const TOKEN_NAMES = [
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
  "..", "...", "==", ">=", "<=", "~=", "<number>", "<name>", "<string>", "<eof>",
];

const RESERVED = new Map<string, number>();
for (let i = 0; i <= T.While - FIRST_RESERVED; i++) RESERVED.set(TOKEN_NAMES[i]!, FIRST_RESERVED + i);

/** A compile error: the message is complete ("user_script:1: ... near '...'"). */
export class LuaSyntaxError extends Error {}

/** luaO_chunkid: how a chunk name appears in messages ("@user_script" -> "user_script"). */
function chunkId(source: string): string {
  const MAXSRC = 80; // luaX_lexerror's buffer (LUA_IDSIZE is 60 for debug info)
  return chunkIdSized(source, MAXSRC);
}

export function chunkIdSized(source: string, bufflen: number): string {
  // The name is a C string in Lua: it ends at a NUL.
  const nul = source.indexOf("\0");
  if (nul >= 0) source = source.slice(0, nul);
  if (source.startsWith("=")) return source.slice(1, bufflen);
  if (source.startsWith("@")) {
    const s = source.slice(1);
    const room = bufflen - " '...' ".length - 1;
    return s.length > room ? `...${s.slice(s.length - room)}` : s;
  }
  let len = 0;
  while (len < source.length && source[len] !== "\n" && source[len] !== "\r") len++;
  const room = bufflen - ' [string "..."] '.length - 1;
  if (len > room) len = room;
  if (len < source.length) return `[string "${source.slice(0, len)}..."]`;
  return `[string "${source}"]`;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isAlnum(c: number): boolean {
  return isDigit(c) || isAlpha(c);
}
/** C isspace in the "C" locale. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}
function isCntrl(c: number): boolean {
  return c < 32 || c === 127;
}

const EOZ = -1;

export class Lexer {
  private pos = 0;
  private current: number;
  /** The text of the token being read (llex's buffer): shown in "near '...'". */
  private buff = "";
  line = 1;
  lastLine = 1;
  token = T.Eos as number;
  /** Semantic value of the current token (name, string contents or number). */
  sval = "";
  nval = 0;
  /** The raw text of the current token, for error messages. */
  private tokenText = "";
  private ahead = T.Eos as number;
  private aheadS = "";
  private aheadN = 0;
  private aheadText = "";
  readonly chunk: string;

  constructor(
    private readonly src: string,
    readonly source: string,
  ) {
    this.chunk = chunkId(source);
    this.current = src.length > 0 ? src.charCodeAt(0) : EOZ;
  }

  private cur(): number {
    return this.current;
  }

  private next(): void {
    this.pos++;
    this.current = this.pos < this.src.length ? this.src.charCodeAt(this.pos) : EOZ;
  }

  private saveAndNext(): void {
    this.buff += String.fromCharCode(this.cur());
    this.next();
  }

  private isNewline(): boolean {
    return this.cur() === 10 || this.cur() === 13;
  }

  error(msg: string, token: number, text?: string): never {
    let m = `${this.chunk}:${this.line}: ${msg}`;
    if (token) m = `${m} near '${text ?? this.tokenToText(token)}'`;
    throw new LuaSyntaxError(m);
  }

  /** luaX_syntaxerror: about the current token. */
  syntaxError(msg: string): never {
    const tok = this.token;
    const text = tok === T.Name || tok === T.String || tok === T.Number ? this.tokenText : tokenToString(tok);
    return this.error(msg, tok, text);
  }

  private tokenToText(token: number): string {
    if (token === T.Name || token === T.String || token === T.Number) return this.buff;
    return tokenToString(token);
  }

  private incLine(): void {
    const old = this.cur();
    this.next();
    if (this.isNewline() && this.cur() !== old) this.next();
    this.line++;
  }

  /** Advances to the next token (luaX_next). */
  advance(): void {
    this.lastLine = this.line;
    if (this.ahead !== T.Eos) {
      this.token = this.ahead;
      this.sval = this.aheadS;
      this.nval = this.aheadN;
      this.tokenText = this.aheadText;
      this.ahead = T.Eos;
    } else {
      this.token = this.lex();
      this.tokenText = this.buff;
    }
  }

  /** Reads the next token without consuming the current one (luaX_lookahead). */
  lookahead(): number {
    const saveS = this.sval;
    const saveN = this.nval;
    const t = this.lex();
    this.ahead = t;
    this.aheadS = this.sval;
    this.aheadN = this.nval;
    this.aheadText = this.buff;
    this.sval = saveS;
    this.nval = saveN;
    return t;
  }

  private checkNext(set: string): boolean {
    if (this.cur() === EOZ || !set.includes(String.fromCharCode(this.cur()))) return false;
    this.saveAndNext();
    return true;
  }

  private readNumeral(): void {
    do {
      this.saveAndNext();
    } while (isDigit(this.cur()) || this.cur() === 46);
    if (this.checkNext("Ee")) this.checkNext("+-");
    while (isAlnum(this.cur()) || this.cur() === 95) this.saveAndNext();
    const n = strToNumber(this.buff);
    if (n === undefined) this.error("malformed number", T.Number);
    this.nval = n;
  }

  private skipSep(): number {
    let count = 0;
    const s = this.cur();
    this.saveAndNext();
    while (this.cur() === 61) {
      this.saveAndNext();
      count++;
    }
    return this.cur() === s ? count : -count - 1;
  }

  private readLongString(isString: boolean, sep: number): void {
    this.saveAndNext(); // skip the second '['
    if (this.isNewline()) this.incLine();
    for (;;) {
      switch (this.cur()) {
        case EOZ:
          this.error(isString ? "unfinished long string" : "unfinished long comment", T.Eos);
          break;
        case 93: // ']'
          if (this.skipSep() === sep) {
            this.saveAndNext();
            if (isString) this.sval = this.buff.slice(2 + sep, this.buff.length - (2 + sep));
            return;
          }
          break;
        case 10:
        case 13:
          this.buff += "\n";
          this.incLine();
          if (!isString) this.buff = "";
          break;
        default:
          if (isString) this.saveAndNext();
          else this.next();
      }
    }
  }

  private readString(del: number): void {
    this.saveAndNext();
    while (this.cur() !== del) {
      switch (this.cur()) {
        case EOZ:
          this.error("unfinished string", T.Eos);
          break;
        case 10:
        case 13:
          this.error("unfinished string", T.String);
          break;
        case 92: {
          // backslash
          this.next();
          let c: number;
          switch (this.cur()) {
            case 97: c = 7; break; // \a
            case 98: c = 8; break; // \b
            case 102: c = 12; break; // \f
            case 110: c = 10; break; // \n
            case 114: c = 13; break; // \r
            case 116: c = 9; break; // \t
            case 118: c = 11; break; // \v
            case 10:
            case 13:
              this.buff += "\n";
              this.incLine();
              continue;
            case EOZ:
              continue; // raises "unfinished string" next
            default: {
              if (!isDigit(this.cur())) {
                this.saveAndNext(); // \\, \", \' and \?
              } else {
                let i = 0;
                c = 0;
                do {
                  c = 10 * c + (this.cur() - 48);
                  this.next();
                } while (++i < 3 && isDigit(this.cur()));
                if (c > 255) this.error("escape sequence too large", T.String);
                this.buff += String.fromCharCode(c);
              }
              continue;
            }
          }
          this.buff += String.fromCharCode(c);
          this.next();
          continue;
        }
        default:
          this.saveAndNext();
      }
    }
    this.saveAndNext();
    this.sval = this.buff.slice(1, this.buff.length - 1);
  }

  private lex(): number {
    this.buff = "";
    for (;;) {
      const c = this.cur();
      switch (c) {
        case 10:
        case 13:
          this.incLine();
          continue;
        case 45: {
          // '-'
          this.next();
          if (this.cur() !== 45) return 45;
          this.next();
          if (this.cur() === 91) {
            const sep = this.skipSep();
            this.buff = "";
            if (sep >= 0) {
              this.readLongString(false, sep);
              this.buff = "";
              continue;
            }
          }
          while (!this.isNewline() && this.cur() !== EOZ) this.next();
          continue;
        }
        case 91: {
          // '['
          const sep = this.skipSep();
          if (sep >= 0) {
            this.readLongString(true, sep);
            return T.String;
          }
          if (sep === -1) return 91;
          this.error("invalid long string delimiter", T.String);
          break;
        }
        case 61:
          this.next();
          if (this.cur() !== 61) return 61;
          this.next();
          return T.Eq;
        case 60:
          this.next();
          if (this.cur() !== 61) return 60;
          this.next();
          return T.Le;
        case 62:
          this.next();
          if (this.cur() !== 61) return 62;
          this.next();
          return T.Ge;
        case 126:
          this.next();
          if (this.cur() !== 61) return 126;
          this.next();
          return T.Ne;
        case 34:
        case 39:
          this.readString(c);
          return T.String;
        case 46: {
          this.saveAndNext();
          if (this.checkNext(".")) {
            if (this.checkNext(".")) return T.Dots;
            return T.Concat;
          }
          if (!isDigit(this.cur())) return 46;
          this.readNumeral();
          return T.Number;
        }
        case EOZ:
          return T.Eos;
        default: {
          if (isSpace(c)) {
            this.next();
            continue;
          }
          if (isDigit(c)) {
            this.readNumeral();
            return T.Number;
          }
          if (isAlpha(c) || c === 95) {
            do {
              this.saveAndNext();
            } while (isAlnum(this.cur()) || this.cur() === 95);
            const reserved = RESERVED.get(this.buff);
            if (reserved !== undefined) return reserved;
            this.sval = this.buff;
            return T.Name;
          }
          this.next();
          return c;
        }
      }
    }
  }
}

/** luaX_token2str. */
export function tokenToString(token: number): string {
  if (token < FIRST_RESERVED) return isCntrl(token) ? `char(${token})` : String.fromCharCode(token);
  return TOKEN_NAMES[token - FIRST_RESERVED]!;
}
