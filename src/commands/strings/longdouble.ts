// INCRBYFLOAT's arithmetic, reproduced exactly: Redis 7.0 parses both operands with strtold,
// adds them as x87 80-bit long doubles (64-bit significand, round to nearest even) and stores
// the result printed with "%.17Lf" minus trailing zeros (util.c ld2string, LD_STR_HUMAN).
// A JS double cannot do this ("0.1 + 0.2" is "0.3" in Redis, not "0.30000000000000004"), so the
// values are kept exact as BigInt significand * 2^exponent and rounded the way the FPU does.

import { strtod } from "../zsets/parse.ts";

/** A finite long double: (negative ? -1 : 1) * mant * 2^exp, or an infinity. */
interface LongDouble {
  negative: boolean;
  /** 0n for zero; otherwise at most 64 bits. */
  mant: bigint;
  exp: number;
  infinite: boolean;
}

const SIGNIFICAND_BITS = 64;
/** Exponent of the least significant bit of the smallest subnormal (2^-16445). */
const MIN_EXP = -16445;
/** Values >= 2^16384 overflow. */
const MAX_BINARY_EXPONENT = 16384;
/** Redis refuses longer inputs (MAX_LONG_DOUBLE_CHARS = 5*1024, buffer includes the NUL). */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

const ZERO: LongDouble = { negative: false, mant: 0n, exp: 0, infinite: false };

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * Rounds (mant * 2^exp), with `sticky` telling whether nonzero bits were already dropped below
 * it, to the long double format: 64 significant bits, round half to even, subnormals, overflow
 * to infinity.
 */
function roundToLongDouble(negative: boolean, mant: bigint, exp: number, sticky: boolean): LongDouble {
  if (mant === 0n) return { negative, mant: 0n, exp: 0, infinite: false };
  const bits = bitLength(mant);
  // Bits to drop: enough to keep 64 significant bits, and never below the subnormal limit.
  let drop = Math.max(bits - SIGNIFICAND_BITS, MIN_EXP - exp);
  if (drop > 0) {
    if (drop > bits + 1) {
      // Everything is far below half an ulp: rounds to zero.
      return { negative, mant: 0n, exp: 0, infinite: false };
    }
    const d = BigInt(drop);
    const kept = mant >> d;
    const rest = mant & ((1n << d) - 1n);
    const half = 1n << (d - 1n);
    let m = kept;
    if (rest > half || (rest === half && (sticky || (kept & 1n) === 1n))) m += 1n;
    exp += drop;
    mant = m;
    if (bitLength(mant) > SIGNIFICAND_BITS) {
      mant >>= 1n;
      exp += 1;
    }
  } else if (drop < 0) {
    drop = 0;
  }
  if (mant === 0n) return { negative, mant: 0n, exp: 0, infinite: false };
  if (bitLength(mant) + exp > MAX_BINARY_EXPONENT) return { negative, mant: 0n, exp: 0, infinite: true };
  return { negative, mant, exp, infinite: false };
}

/** The long double nearest to digits * 10^exp10 (the exact decimal value strtold rounds). */
function fromDecimal(negative: boolean, digits: bigint, exp10: number): LongDouble {
  if (digits === 0n) return { negative, mant: 0n, exp: 0, infinite: false };
  const magnitude = digits.toString().length + exp10;
  if (magnitude > 4940) return { negative, mant: 0n, exp: 0, infinite: true };
  if (magnitude < -4960) return { negative, mant: 0n, exp: 0, infinite: false };
  if (exp10 >= 0) return roundToLongDouble(negative, digits * 10n ** BigInt(exp10), 0, false);
  // digits / 10^-exp10: scale the numerator so the quotient has well over 64 bits.
  const den = 10n ** BigInt(-exp10);
  const shift = Math.max(0, bitLength(den) - bitLength(digits) + SIGNIFICAND_BITS + 2);
  const num = digits << BigInt(shift);
  const q = num / den;
  const r = num % den;
  return roundToLongDouble(negative, q, -shift, r !== 0n);
}

/**
 * Redis's string2ld: the whole string must be a number strtold accepts (decimal, hex float,
 * inf/infinity), no leading space, not NaN, no overflow, no underflow to zero. Returns null
 * when invalid.
 */
export function parseLongDouble(text: string): LongDouble | null {
  const len = text.length;
  if (len === 0 || len >= MAX_LONG_DOUBLE_CHARS) return null;
  const first = text.charCodeAt(0);
  if (first === 32 || (first >= 9 && first <= 13)) return null;
  // Fast path: a plain integer that fits a double exactly.
  if (len <= 15 && /^-?[0-9]+$/.test(text)) {
    const n = Number(text);
    const negative = text.charCodeAt(0) === 45;
    return n === 0 ? { ...ZERO, negative } : roundToLongDouble(n < 0, BigInt(Math.abs(n)), 0, false);
  }
  const r = strtod(text);
  if (r.end !== len || Number.isNaN(r.value)) return null;
  if (r.parts === null) {
    // inf / infinity (strtod's NaN was excluded above).
    return { negative: r.value < 0, mant: 0n, exp: 0, infinite: true };
  }
  const p = r.parts;
  let v: LongDouble;
  if (p.base === 2) {
    if (p.digits === 0n) return { ...ZERO, negative: p.negative };
    if (bitLength(p.digits) + p.exp > MAX_BINARY_EXPONENT + 2) return null;
    if (bitLength(p.digits) + p.exp < MIN_EXP - 2) return null;
    v = roundToLongDouble(p.negative, p.digits, p.exp, false);
  } else {
    v = fromDecimal(p.negative, p.digits, p.exp);
  }
  // ERANGE: overflow to +-HUGE_VALL, or a nonzero number rounded to zero.
  if (v.infinite) return null;
  if (v.mant === 0n && p.digits !== 0n) return null;
  return v;
}

/** a + b in long double arithmetic; the result may be infinite. NaN (inf - inf) is null. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.infinite || b.infinite) {
    if (a.infinite && b.infinite && a.negative !== b.negative) return null;
    return a.infinite ? a : b;
  }
  if (a.mant === 0n) return b.mant === 0n ? { ...ZERO, negative: a.negative && b.negative } : b;
  if (b.mant === 0n) return a;
  const exp = Math.min(a.exp, b.exp);
  // Both exponents are >= MIN_EXP, so the aligned integers stay within ~32k bits.
  const am = a.mant << BigInt(a.exp - exp);
  const bm = b.mant << BigInt(b.exp - exp);
  const sa = a.negative ? -am : am;
  const sb = b.negative ? -bm : bm;
  const sum = sa + sb;
  if (sum === 0n) return { ...ZERO };
  return roundToLongDouble(sum < 0n, sum < 0n ? -sum : sum, exp, false);
}

const TEN_POW_17 = 10n ** 17n;

/**
 * ld2string(LD_STR_HUMAN): "%.17Lf" (exact decimal expansion rounded half to even, as glibc
 * prints), then trailing zeros and a trailing '.' removed, and "-0" printed as "0".
 */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.infinite) return v.negative ? "-inf" : "inf";
  let scaled: bigint;
  if (v.exp >= 0) {
    scaled = (v.mant << BigInt(v.exp)) * TEN_POW_17;
  } else {
    const d = BigInt(-v.exp);
    const num = v.mant * TEN_POW_17;
    const q = num >> d;
    const rest = num & ((1n << d) - 1n);
    const half = 1n << (d - 1n);
    scaled = rest > half || (rest === half && (q & 1n) === 1n) ? q + 1n : q;
  }
  const intPart = scaled / TEN_POW_17;
  let frac = (scaled % TEN_POW_17).toString().padStart(17, "0");
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
  frac = frac.slice(0, end);
  let text = frac.length ? `${intPart}.${frac}` : `${intPart}`;
  if (v.negative && text !== "0") text = `-${text}`;
  return text;
}

