// Stream ID arguments as Redis 7.0 parses them (t_stream.c streamGenericParseIDOrReply):
// "<ms>-<seq>", "<ms>" (the sequence then defaults to 0 or UINT64_MAX by context), "-" and "+"
// (unless strict), "<ms>-*" (XADD only), and "(" for exclusive range bounds. Each part goes
// through string2ull: strict string2ll first (a negative value is invalid), then strtoull's
// laxer rules (leading spaces, '+', leading zeros, and even '-' that wraps around).

import { CommandError } from "../../core/errors.ts";
import { decrId, idPart, incrId, MAX_ID, MAX_U64, type IdPart, type StreamId, ZERO_ID } from "../../store/stream.ts";
import { parseI64 } from "../../core/args.ts";

export const INVALID_ID = "ERR Invalid stream ID specified as stream command argument";

const U64_LIMIT = 1n << 64n;

/** C's isspace for the bytes strtoull skips. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Redis's string2ull: an unsigned 64-bit value, or null. */
function string2ull(s: string): IdPart | null {
  const ll = parseI64(s);
  if (ll !== null) return ll < 0 ? null : ll;
  // strtoull: optional spaces, an optional sign, digits; the rest must be empty.
  let i = 0;
  const n = s.length;
  while (i < n && isSpace(s.charCodeAt(i))) i++;
  let negative = false;
  const sign = s.charCodeAt(i);
  if (sign === 43 || sign === 45) {
    negative = sign === 45;
    i++;
  }
  const digitsStart = i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  if (i === digitsStart || i !== n) return null;
  let v = BigInt(s.slice(digitsStart, i));
  if (v >= U64_LIMIT) return null; // ERANGE
  if (negative && v !== 0n) v = U64_LIMIT - v;
  return idPart(v);
}

interface ParsedId {
  id: StreamId;
  /** False for the "<ms>-*" form (XADD): the sequence is to be generated. */
  seqGiven: boolean;
}

/**
 * Parses an ID argument; null when invalid. `missingSeq` fills the sequence of "<ms>";
 * `strict` refuses "-" and "+"; `allowSeqStar` accepts "<ms>-*".
 */
export function parseStreamId(text: string, missingSeq: IdPart, strict: boolean, allowSeqStar = false): ParsedId | null {
  if (text.length > 127) return null;
  // Redis copies the argument into a C string: it ends at the first NUL byte.
  const nul = text.indexOf("\0");
  if (nul >= 0) text = text.slice(0, nul);
  if (text === "-") return strict ? null : { id: ZERO_ID, seqGiven: true };
  if (text === "+") return strict ? null : { id: MAX_ID, seqGiven: true };
  const dash = text.indexOf("-");
  const ms = string2ull(dash < 0 ? text : text.slice(0, dash));
  if (ms === null) return null;
  if (dash < 0) return { id: { ms, seq: missingSeq }, seqGiven: true };
  const rest = text.slice(dash + 1);
  if (allowSeqStar && rest === "*") return { id: { ms, seq: 0 }, seqGiven: false };
  const seq = string2ull(rest);
  if (seq === null) return null;
  return { id: { ms, seq }, seqGiven: true };
}

/** A strict ID (no "-" / "+"), or Redis's error. */
export function strictIdArg(text: string, missingSeq: IdPart = 0): StreamId {
  const p = parseStreamId(text, missingSeq, true);
  if (p === null) throw new CommandError(INVALID_ID);
  return p.id;
}

/** An ID where "-" and "+" are accepted, or Redis's error. */
export function idArg(text: string, missingSeq: IdPart = 0): StreamId {
  const p = parseStreamId(text, missingSeq, false);
  if (p === null) throw new CommandError(INVALID_ID);
  return p.id;
}

/** A range start (XRANGE, XPENDING, XAUTOCLAIM): "(" makes it exclusive. */
export function rangeStartArg(text: string): StreamId {
  if (text.length > 1 && text.charCodeAt(0) === 40) {
    const id = strictIdArg(text.slice(1), 0);
    const next = incrId(id);
    if (next === null) throw new CommandError("ERR invalid start ID for the interval");
    return next;
  }
  return idArg(text, 0);
}

/** A range end: "(" makes it exclusive; "<ms>" means its last sequence. */
export function rangeEndArg(text: string): StreamId {
  if (text.length > 1 && text.charCodeAt(0) === 40) {
    const id = strictIdArg(text.slice(1), MAX_U64);
    const prev = decrId(id);
    if (prev === null) throw new CommandError("ERR invalid end ID for the interval");
    return prev;
  }
  return idArg(text, MAX_U64);
}
