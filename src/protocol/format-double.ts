// Number formatting as Redis prints doubles. Clients compare these strings, so they must be
// exact: Redis 7.0 replies doubles with C's "%.17g" (ZSCORE 1.1 -> "1.1000000000000001").

/** C printf "%.{precision}g" for finite and infinite doubles, with Redis's inf/-inf/nan names. */
export function formatG(d: number, precision: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Number.isNaN(d)) return "nan";
  if (d === 0) return Object.is(d, -0) ? "-0" : "0";
  // toExponential gives the exact exponent after rounding to `precision` significant digits.
  const sci = d.toExponential(precision - 1);
  const ePos = sci.indexOf("e");
  const x = Number(sci.slice(ePos + 1));
  if (x < -4 || x >= precision) {
    let mantissa = sci.slice(0, ePos);
    if (mantissa.includes(".")) mantissa = mantissa.replace(/\.?0+$/, "");
    const sign = x < 0 ? "-" : "+";
    const ax = Math.abs(x);
    return `${mantissa}e${sign}${ax < 10 ? "0" : ""}${ax}`;
  }
  let fixed = d.toFixed(Math.max(0, precision - 1 - x));
  if (fixed.includes(".")) fixed = fixed.replace(/\.?0+$/, "");
  return fixed;
}

/** A double reply as Redis 7.0 formats it (%.17g). */
export function formatDouble(d: number): string {
  return formatG(d, 17);
}
