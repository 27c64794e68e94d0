// Argument parsing with Redis's rules and error texts (string2ll, strtod-like float parsing).

import { CommandError, NOT_INTEGER } from "./errors.ts";

// string2ll: "0", or an optional '-' and no leading zero ("-0" is refused).
const INTEGER_RE = /^(0|-?[1-9][0-9]*)$/;
const MIN_I64 = -9223372036854775808n;
const MAX_I64 = 9223372036854775807n;

/**
 * Parses a signed 64-bit integer as Redis's string2ll does: no spaces, no '+', no leading
 * zeros. Returns null if invalid. Values beyond 2^53 come back as bigint.
 */
export function parseI64(text: string): number | bigint | null {
  if (text.length === 0 || text.length > 20 || !INTEGER_RE.test(text)) return null;
  const n = Number(text);
  if (Number.isSafeInteger(n)) return n;
  const b = BigInt(text);
  if (b < MIN_I64 || b > MAX_I64) return null;
  return b;
}

/** An integer argument that must fit in a JS safe integer; throws Redis's error otherwise. */
export function intArg(text: string, error = NOT_INTEGER): number {
  const v = parseI64(text);
  if (v === null || typeof v === "bigint") throw new CommandError(error);
  return v;
}

/**
 * getIntFromObjectOrReply: an int64 that must fit in a C int. Not an integer: `error`, or
 * "value is not an integer or out of range"; outside the int range: `error`, or Redis's
 * "value is out of range, value must between -2147483648 and 2147483647".
 */
export function int32Arg(text: string, error?: string): number {
  const v = parseI64(text);
  if (v === null) throw new CommandError(error ?? NOT_INTEGER);
  if (typeof v === "bigint" || v < -2147483648 || v > 2147483647) throw new CommandError(error ?? "ERR value is out of range, value must between -2147483648 and 2147483647");
  return v;
}

/** Like intArg but the full int64 range (bigint past 2^53). */
export function i64Arg(text: string, error = NOT_INTEGER): number | bigint {
  const v = parseI64(text);
  if (v === null) throw new CommandError(error);
  return v;
}

/** Case-insensitive option comparison (arguments are latin1; options are ASCII). */
export function isOption(arg: string, option: string): boolean {
  return arg.length === option.length && arg.toLowerCase() === option;
}
