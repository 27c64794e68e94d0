// Number parsing for the sorted set and geo commands, reproducing the C library calls Redis
// makes (it matters: clients see which strings are accepted and which error comes back):
// - strtod: leading spaces, "inf"/"infinity"/"nan", hex floats ("0x1p3"), partial parses;
// - string2d (ZADD scores, weights, geo coordinates): strtod on the whole string, no leading
//   space, overflow and underflow-to-zero rejected, NaN rejected;
// - zslParseRange (score ranges): strtod stopping at the end or at a NUL byte, "(" prefix for
//   an exclusive end, overflow accepted as infinity;
// - string2ll (integers): no "+", no leading zeros, no "-0";
// - getTimeoutFromObjectOrReply: strtold (80-bit long double) then ceil(t * 1000) as int64.

import { LEX_MAX, LEX_MIN, type LexBound, type LexRange, type ScoreRange } from "../../store/zset.ts";
import { CommandError, NOT_INTEGER } from "../../core/errors.ts";

function isCSpace(ch: number): boolean {
  return ch === 32 || (ch >= 9 && ch <= 13);
}

function isDigit(ch: number): boolean {
  return ch >= 48 && ch <= 57;
}

function hexValue(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 48;
  if (ch >= 97 && ch <= 102) return ch - 87;
  if (ch >= 65 && ch <= 70) return ch - 55;
  return -1;
}

function matchWord(s: string, at: number, word: string): boolean {
  if (s.length - at < word.length) return false;
  for (let i = 0; i < word.length; i++) {
    let ch = s.charCodeAt(at + i);
    if (ch >= 65 && ch <= 90) ch += 32;
    if (ch !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** The result of a strtod-like prefix parse. */
interface StrtodResult {
  value: number;
  /** Index just after the parsed text; equals the start when nothing could be parsed. */
  end: number;
  /** The number overflowed (ERANGE with +-HUGE_VAL). */
  overflow: boolean;
  /** A nonzero number rounded to zero (ERANGE with a zero result). */
  underflowToZero: boolean;
  /** Decimal/hex significand digits and exponent, for the long double path of timeouts. */
  parts: NumberParts | null;
}

/** An exact finite number: sign * digits * base^exp (base 10, or 2 for hex floats). */
interface NumberParts {
  negative: boolean;
  digits: bigint;
  base: 2 | 10;
  exp: number;
}

const NO_PARSE = (start: number): StrtodResult => ({ value: 0, end: start, overflow: false, underflowToZero: false, parts: null });

/** C's strtod on s[start..limit): the longest prefix that is a number (glibc grammar, C locale). */
export function strtod(s: string, start = 0, limit = s.length): StrtodResult {
  let i = start;
  while (i < limit && isCSpace(s.charCodeAt(i))) i++;
  let negative = false;
  const signCh = s.charCodeAt(i);
  if (i < limit && (signCh === 43 || signCh === 45)) {
    negative = signCh === 45;
    i++;
  }
  const sign = negative ? -1 : 1;
  const sub = limit === s.length ? s : s.slice(0, limit);
  if (matchWord(sub, i, "inf")) {
    const end = matchWord(sub, i, "infinity") ? i + 8 : i + 3;
    return { value: sign * Infinity, end, overflow: false, underflowToZero: false, parts: null };
  }
  if (matchWord(sub, i, "nan")) {
    let end = i + 3;
    if (s.charCodeAt(end) === 40 && end < limit) {
      // nan(n-char-sequence)
      let j = end + 1;
      while (j < limit) {
        const ch = s.charCodeAt(j);
        if (!(isDigit(ch) || (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || ch === 95)) break;
        j++;
      }
      if (j < limit && s.charCodeAt(j) === 41) end = j + 1;
    }
    return { value: NaN, end, overflow: false, underflowToZero: false, parts: null };
  }
  // Hex float: 0x followed by at least one hex digit (possibly after the point).
  if (i + 1 < limit && s.charCodeAt(i) === 48 && (s.charCodeAt(i + 1) | 32) === 120) {
    let j = i + 2;
    let mant = 0n;
    let anyDigit = false;
    let fracDigits = 0;
    let nonzero = false;
    while (j < limit && hexValue(s.charCodeAt(j)) >= 0) {
      const h = hexValue(s.charCodeAt(j));
      mant = mant * 16n + BigInt(h);
      if (h) nonzero = true;
      anyDigit = true;
      j++;
    }
    if (j < limit && s.charCodeAt(j) === 46) {
      let k = j + 1;
      while (k < limit && hexValue(s.charCodeAt(k)) >= 0) {
        const h = hexValue(s.charCodeAt(k));
        mant = mant * 16n + BigInt(h);
        if (h) nonzero = true;
        fracDigits++;
        anyDigit = true;
        k++;
      }
      if (anyDigit) j = k;
    }
    if (anyDigit) {
      let exp = 0;
      if (j < limit && (s.charCodeAt(j) | 32) === 112) {
        const e = parseExponent(s, j + 1, limit);
        if (e !== null) {
          exp = e.value;
          j = e.end;
        }
      }
      const binExp = exp - 4 * fracDigits;
      const value = sign * scaleBinary(mant, binExp);
      const overflow = !Number.isFinite(value);
      return { value, end: j, overflow, underflowToZero: nonzero && value === 0, parts: { negative, digits: mant, base: 2, exp: binExp } };
    }
    // "0x" without digits: strtod parses the "0".
    return { value: sign * 0, end: i + 1, overflow: false, underflowToZero: false, parts: { negative, digits: 0n, base: 10, exp: 0 } };
  }
  // Decimal.
  const numStart = i;
  let j = i;
  let intDigits = 0;
  while (j < limit && isDigit(s.charCodeAt(j))) {
    j++;
    intDigits++;
  }
  let fracDigits = 0;
  if (j < limit && s.charCodeAt(j) === 46) {
    let k = j + 1;
    while (k < limit && isDigit(s.charCodeAt(k))) {
      k++;
      fracDigits++;
    }
    if (intDigits + fracDigits > 0) j = k;
  }
  if (intDigits + fracDigits === 0) return NO_PARSE(start);
  const mantissaEnd = j;
  let exp = 0;
  if (j < limit && (s.charCodeAt(j) | 32) === 101) {
    const e = parseExponent(s, j + 1, limit);
    if (e !== null) {
      exp = e.value;
      j = e.end;
    }
  }
  const text = s.slice(numStart, j);
  const magnitude = Number(text);
  const value = negative ? -magnitude : magnitude;
  let nonzero = false;
  for (let k = numStart; k < mantissaEnd; k++) {
    const ch = s.charCodeAt(k);
    if (ch >= 49 && ch <= 57) {
      nonzero = true;
      break;
    }
  }
  let parts: NumberParts | null = null;
  const digitsText = s.slice(numStart, mantissaEnd).replace(".", "");
  parts = { negative, digits: BigInt(digitsText || "0"), base: 10, exp: exp - fracDigits };
  return { value, end: j, overflow: !Number.isFinite(magnitude), underflowToZero: nonzero && magnitude === 0, parts };
}

function parseExponent(s: string, at: number, limit: number): { value: number; end: number } | null {
  let j = at;
  let neg = false;
  const ch = s.charCodeAt(j);
  if (j < limit && (ch === 43 || ch === 45)) {
    neg = ch === 45;
    j++;
  }
  if (!(j < limit && isDigit(s.charCodeAt(j)))) return null;
  let v = 0;
  while (j < limit && isDigit(s.charCodeAt(j))) {
    if (v < 1e9) v = v * 10 + (s.charCodeAt(j) - 48);
    j++;
  }
  return { value: neg ? -v : v, end: j };
}

/** mant * 2^exp as a correctly rounded double. */
function scaleBinary(mant: bigint, exp: number): number {
  if (mant === 0n) return 0;
  const bits = mant.toString(2).length;
  // Keep 64 significant bits plus a sticky bit so the final rounding is right.
  let m = mant;
  let e = exp;
  if (bits > 64) {
    const drop = bits - 64;
    const sticky = (m & ((1n << BigInt(drop)) - 1n)) !== 0n ? 1n : 0n;
    m = (m >> BigInt(drop)) | sticky;
    e += drop;
  }
  // Number(m) is exact up to 2^53 and correctly rounded above; then scale by powers of two.
  let v = Number(m);
  while (e > 0) {
    const step = Math.min(e, 1000);
    v *= 2 ** step;
    e -= step;
    if (!Number.isFinite(v)) return v;
  }
  while (e < 0) {
    const step = Math.max(e, -1000);
    v *= 2 ** step;
    e -= step;
    if (v === 0) return 0;
  }
  return v;
}

/** Redis's string2d: the whole string must be a number; overflow and underflow to zero fail. */
function parseStrictDouble(text: string): number | null {
  // Fast path: an integer of at most 15 digits (exact as a double), optionally negative.
  const n = text.length;
  if (n > 0 && n <= 15) {
    const negative = text.charCodeAt(0) === 45;
    let i = negative ? 1 : 0;
    if (i < n) {
      let v = 0;
      for (; i < n; i++) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === n) return negative ? -v : v;
    }
  }
  if (text.length === 0 || isCSpace(text.charCodeAt(0))) return null;
  // Fast path for plain decimals.
  const r = strtod(text);
  if (r.end !== text.length || Number.isNaN(r.value) || r.overflow || r.underflowToZero) return null;
  return r.value;
}

export function strictDoubleArg(text: string, error: string): number {
  const d = parseStrictDouble(text);
  if (d === null) throw new CommandError(error);
  return d;
}

/** One end of a score range as zslParseRange reads it; null when invalid. */
function parseRangeItem(text: string): { value: number; ex: boolean } | null {
  // strtod stops at a NUL byte, and only that end is checked.
  let limit = text.indexOf("\0");
  if (limit < 0) limit = text.length;
  const ex = limit > 0 && text.charCodeAt(0) === 40;
  const r = strtod(text, ex ? 1 : 0, limit);
  if (r.end !== limit || Number.isNaN(r.value)) return null;
  return { value: r.value, ex };
}

/** Parses ZRANGEBYSCORE-style min/max; null when invalid ("min or max is not a float"). */
export function parseScoreRange(minText: string, maxText: string): ScoreRange | null {
  const min = parseRangeItem(minText);
  if (!min) return null;
  const max = parseRangeItem(maxText);
  if (!max) return null;
  return { min: min.value, max: max.value, minex: min.ex, maxex: max.ex };
}

function parseLexItem(text: string): { value: LexBound; ex: boolean } | null {
  switch (text.charCodeAt(0)) {
    case 43: // '+'
      return text.length === 1 ? { value: LEX_MAX, ex: true } : null;
    case 45: // '-'
      return text.length === 1 ? { value: LEX_MIN, ex: true } : null;
    case 40: // '('
      return { value: text.slice(1), ex: true };
    case 91: // '['
      return { value: text.slice(1), ex: false };
    default:
      return null;
  }
}

/** Parses ZRANGEBYLEX-style min/max; null when invalid ("min or max not valid string range item"). */
export function parseLexRange(minText: string, maxText: string): LexRange | null {
  const min = parseLexItem(minText);
  if (!min) return null;
  const max = parseLexItem(maxText);
  if (!max) return null;
  return { min: min.value, max: max.value, minex: min.ex, maxex: max.ex };
}

const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

/**
 * Redis's string2ll: optional "-", then "0" alone or a digit 1-9 and more digits, in int64.
 * Returns a number (values past 2^53 lose precision, which no caller here cares about).
 */
export function parseLong(text: string): number | null {
  const len = text.length;
  if (len === 0 || len > 20) return null;
  if (len === 1 && text === "0") return 0;
  let i = 0;
  if (text.charCodeAt(0) === 45) {
    i = 1;
    if (len === 1) return null;
  }
  const first = text.charCodeAt(i);
  if (first < 49 || first > 57) return null;
  for (let k = i + 1; k < len; k++) {
    const ch = text.charCodeAt(k);
    if (ch < 48 || ch > 57) return null;
  }
  if (len < 16) return Number(text);
  const b = BigInt(text);
  if (b < INT64_MIN || b > INT64_MAX) return null;
  return Number(b);
}

/** getLongFromObjectOrReply: an int64, else the given error (default "value is not an integer..."). */
export function longArg(text: string, error: string = NOT_INTEGER): number {
  const v = parseLong(text);
  if (v === null) throw new CommandError(error);
  return v;
}

/** getRangeLongFromObjectOrReply with Redis's messages. */
export function rangeLongArg(text: string, min: number, max: number, msg?: string): number {
  const v = parseLong(text);
  if (v === null) throw new CommandError(msg ? `ERR ${msg}` : NOT_INTEGER);
  if (v < min || v > max) throw new CommandError(msg ? `ERR ${msg}` : `ERR value is out of range, value must between ${min} and ${max}`);
  return v;
}

/** getPositiveLongFromObjectOrReply. */
export function positiveLongArg(text: string, msg = "value is out of range, must be positive"): number {
  const v = parseLong(text);
  if (v === null || v < 0) throw new CommandError(`ERR ${msg}`);
  return v;
}

// ---- timeouts (strtold, 80-bit long double) ----

/** Rounds num/den (positive) to a binary float with `bits` significant bits: m * 2^e. */
function roundRational(num: bigint, den: bigint, bits: number): { m: bigint; e: number } {
  let e = num.toString(2).length - den.toString(2).length - bits;
  let q: bigint;
  let rem: bigint;
  let d = den;
  for (;;) {
    let n = num;
    d = den;
    if (e >= 0) d = den << BigInt(e);
    else n = num << BigInt(-e);
    q = n / d;
    rem = n - q * d;
    const qb = q.toString(2).length;
    if (qb > bits) e++;
    else if (qb < bits) e--;
    else break;
  }
  const twice = rem * 2n;
  if (twice > d || (twice === d && (q & 1n) === 1n)) {
    q += 1n;
    if (q.toString(2).length > bits) {
      q >>= 1n;
      e++;
    }
  }
  return { m: q, e };
}

const TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range";
const TIMEOUT_NEGATIVE = "ERR timeout is negative";

/**
 * getTimeoutFromObjectOrReply in seconds: strtold, then (long long)ceill(t * 1000), negative
 * (including the int64 overflow of huge values) refused. Returns the timeout in ms (0 = none).
 */
export function parseTimeoutSeconds(text: string): number {
  if (text.length === 0 || text.length >= 5 * 1024 || isCSpace(text.charCodeAt(0))) throw new CommandError(TIMEOUT_NOT_FLOAT);
  const r = strtod(text);
  if (r.end !== text.length || Number.isNaN(r.value)) throw new CommandError(TIMEOUT_NOT_FLOAT);
  if (!Number.isFinite(r.value) && !r.parts) throw new CommandError(TIMEOUT_NEGATIVE); // "inf": ceil(inf) overflows int64
  const parts = r.parts!;
  if (parts.digits === 0n) return 0;
  // Exact value as a rational, then long double rounding (64-bit significand).
  let num = parts.digits;
  let den = 1n;
  if (parts.base === 10) {
    // Range of long double: about 3.6e-4951 .. 1.19e4932.
    const digitCount = parts.digits.toString().length;
    const magnitude = digitCount + parts.exp; // value < 10^magnitude
    if (magnitude > 4933) throw new CommandError(TIMEOUT_NOT_FLOAT);
    if (magnitude < -4950) throw new CommandError(TIMEOUT_NOT_FLOAT);
    if (parts.exp >= 0) num *= 10n ** BigInt(parts.exp);
    else den = 10n ** BigInt(-parts.exp);
  } else {
    const bitCount = parts.digits.toString(2).length;
    if (bitCount + parts.exp > 16384) throw new CommandError(TIMEOUT_NOT_FLOAT);
    if (bitCount + parts.exp < -16445) throw new CommandError(TIMEOUT_NOT_FLOAT);
    if (parts.exp >= 0) num <<= BigInt(parts.exp);
    else den <<= BigInt(-parts.exp);
  }
  const ld = roundRational(num, den, 64);
  const prod = roundRational(ld.m * 1000n, 1n << BigInt(Math.max(0, -ld.e)), 64);
  // prod = m * 2^(e) relative to 2^(ld.e) scale if ld.e > 0
  const m = prod.m;
  const e = prod.e + (ld.e > 0 ? ld.e : 0);
  // ceil(m * 2^e) with the sign
  let t: bigint;
  if (e >= 0) t = m << BigInt(e);
  else {
    const div = 1n << BigInt(-e);
    const q = m / div;
    t = parts.negative ? q : q + (m % div === 0n ? 0n : 1n);
  }
  if (parts.negative) t = -t;
  if (t > INT64_MAX || t < INT64_MIN) throw new CommandError(TIMEOUT_NEGATIVE);
  if (t < 0n) throw new CommandError(TIMEOUT_NEGATIVE);
  return Number(t);
}
