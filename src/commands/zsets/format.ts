// Number formatting for sorted set and geo replies, byte-exact with Redis 7.0 (glibc printf):
// - scores: "%.17g" (addReplyDouble), whose ties round half to even on the exact binary value:
//   from one toExponential(17), with the rare tie cases (e.g. 1.00000762939453125) formatted
//   exactly (a reply of 100 scores is a hot path: no regexps, no toFixed);
// - listpack scores as ZSCAN shows them: d2string (integers without exponent);
// - coordinates: "%.17Lf" without trailing zeros (addReplyHumanLongDouble);
// - distances: fixedpoint_d2string with 4 decimals (llrint of d * 10000);
// - "%f" (6 decimals) in the invalid coordinates error.

import type { Client } from "../../core/client.ts";

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** |d| = mant * 2^exp exactly (d finite, nonzero). */
function decompose(d: number): { mant: bigint; exp: number } {
  F64[0] = d;
  const lo = U32[0]!;
  const hi = U32[1]!;
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  return { mant, exp };
}

/** round(|d| * 10^digits) half to even, exactly. */
function scaledRound(d: number, digits: number): bigint {
  const { mant, exp } = decompose(d);
  let num = mant;
  let den = 1n;
  if (exp >= 0) num <<= BigInt(exp);
  else den <<= BigInt(-exp);
  if (digits >= 0) num *= 10n ** BigInt(digits);
  else den *= 10n ** BigInt(-digits);
  const q = num / den;
  const twice = (num - q * den) * 2n;
  if (twice > den || (twice === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** Exact C "%.{precision}g" for a finite nonzero double (slow: BigInt arithmetic). */
export function exactG(d: number, precision: number): string {
  let x = Number(d.toExponential(precision - 1).split("e")[1]);
  let q = scaledRound(d, precision - 1 - x);
  const limit = 10n ** BigInt(precision);
  if (q >= limit) {
    x++;
    q = scaledRound(d, precision - 1 - x);
  } else if (q < limit / 10n) {
    x--;
    q = scaledRound(d, precision - 1 - x);
  }
  const digits = q.toString();
  const sign = d < 0 ? "-" : "";
  if (x < -4 || x >= precision) {
    let mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    if (mantissa.includes(".")) mantissa = mantissa.replace(/\.?0+$/, "");
    const ax = Math.abs(x);
    return `${sign}${mantissa}e${x < 0 ? "-" : "+"}${ax < 10 ? "0" : ""}${ax}`;
  }
  const decimals = precision - 1 - x;
  let text: string;
  if (decimals <= 0) text = digits + "0".repeat(-decimals);
  else {
    const padded = digits.padStart(decimals + 1, "0");
    text = `${padded.slice(0, padded.length - decimals)}.${padded.slice(padded.length - decimals)}`.replace(/\.?0+$/, "");
  }
  return sign + text;
}

/** digits (a string of decimal digits) plus one in its last place; null when it carries out. */
function incrementDigits(digits: string): string | null {
  let k = digits.length - 1;
  while (k >= 0 && digits.charCodeAt(k) === 57) k--;
  if (k < 0) return null;
  return digits.slice(0, k) + String.fromCharCode(digits.charCodeAt(k) + 1) + "0".repeat(digits.length - 1 - k);
}

/** "%.{precision}g" layout of `digits` (precision significant digits) times 10^(x - precision + 1). */
function layoutG(sign: string, digits: string, x: number, precision: number): string {
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  const sig = digits.slice(0, end);
  if (x < -4 || x >= precision) {
    const mantissa = sig.length > 1 ? `${sig[0]}.${sig.slice(1)}` : sig;
    const ax = x < 0 ? -x : x;
    return `${sign}${mantissa}e${x < 0 ? "-" : "+"}${ax < 10 ? "0" : ""}${ax}`;
  }
  if (x < 0) return `${sign}0.${"0".repeat(-x - 1)}${sig}`;
  if (sig.length <= x + 1) return sign + sig + "0".repeat(x + 1 - sig.length);
  return `${sign}${sig.slice(0, x + 1)}.${sig.slice(x + 1)}`;
}

/**
 * Redis's "%.17g" of a score. An integer below 2^53 is its digits; otherwise one
 * toExponential(17) (18 correctly rounded digits) decides: unless the 18th digit is a 5,
 * rounding those 18 digits to 17 is the correct rounding of the exact value, and a 5 (a
 * possible tie, which glibc rounds half to even) takes the exact path.
 */
export function formatScore(d: number): string {
  if (Number.isSafeInteger(d)) return d === 0 && 1 / d < 0 ? "-0" : String(d);
  if (!Number.isFinite(d)) return d > 0 ? "inf" : d < 0 ? "-inf" : "nan";
  const e = d.toExponential(17);
  const neg = e.charCodeAt(0) === 45;
  const i = neg ? 1 : 0;
  const ePos = i + 19; // d.ddddddddddddddddde+x: 1 + point + 17 digits
  const last = e.charCodeAt(ePos - 1);
  if (last === 53) return exactG(d, 17);
  let x = Number(e.slice(ePos + 1));
  let digits = e[i]! + e.slice(i + 2, ePos - 1);
  if (last > 53) {
    const up = incrementDigits(digits);
    if (up === null) {
      digits = `1${"0".repeat(16)}`;
      x++;
    } else digits = up;
  }
  return layoutG(neg ? "-" : "", digits, x, 17);
}

/** addReplyDouble: a bulk string in RESP2, a double in RESP3. */
export function replyScore(c: Client, d: number): void {
  const text = formatScore(d);
  if (c.reply.resp === 3) replyDoubleText(c, text);
  else c.reply.bulk(text);
}

/** Writes member + score in the shape of WITHSCORES replies (nested pairs in RESP3). */
export function replyMemberScore(c: Client, member: string, score: number, withScores: boolean): void {
  if (withScores && c.reply.resp === 3) c.reply.array(2);
  c.reply.bulk(member);
  if (withScores) replyScore(c, score);
}

/** A double reply with preformatted text (RESP3 ',' type, RESP2 bulk string). */
function replyDoubleText(c: Client, text: string): void {
  if (c.reply.resp === 3) c.reply.raw(Buffer.from(`,${text}\r\n`, "latin1"));
  else c.reply.bulk(text);
}

/** Redis's d2string, as a listpack stores a score: integers (|d| <= 2^62) without exponent. */
export function d2string(d: number): string {
  if (Number.isInteger(d) && d >= -4611686018427387904 && d <= 4611686018427387904) {
    if (d === 0) return Object.is(d, -0) ? "0" : "0";
    return Math.abs(d) < 1e21 ? String(d) : BigInt(d).toString();
  }
  return formatScore(d);
}

/** "%.{digits}f" exactly (round half to even on the exact value), finite d. */
function formatFixed(d: number, digits: number): string {
  if (d === 0) return (Object.is(d, -0) ? "-" : "") + (digits > 0 ? `0.${"0".repeat(digits)}` : "0");
  const q = scaledRound(d, digits).toString().padStart(digits + 1, "0");
  const body = digits > 0 ? `${q.slice(0, q.length - digits)}.${q.slice(q.length - digits)}` : q;
  return (d < 0 ? "-" : "") + body;
}

/** printf "%f" as in the "invalid longitude,latitude pair" error. */
export function formatF6(d: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Number.isNaN(d)) return "nan";
  return formatFixed(d, 6);
}

/** ld2string(LD_STR_HUMAN): "%.17Lf", trailing zeros and point removed, "-0" -> "0". */
function formatHuman(d: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  let s = formatFixed(d, 17);
  if (s.includes(".")) s = s.replace(/\.?0+$/, "");
  if (s === "-0") s = "0";
  return s;
}

/** addReplyHumanLongDouble. */
export function replyHuman(c: Client, d: number): void {
  replyDoubleText(c, formatHuman(d));
}

/** C llrint (round half to even) for |x| < 2^52. */
function llrint(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** fixedpoint_d2string(d, 4) as GEODIST and WITHDIST print a distance. */
export function formatDistance(d: number): string {
  if (d === 0) return "0.0000";
  const v = llrint(d * 10000);
  const neg = v < 0;
  const digits = String(Math.abs(v)).padStart(5, "0");
  return `${neg ? "-" : ""}${digits.slice(0, -4)}.${digits.slice(-4)}`;
}
