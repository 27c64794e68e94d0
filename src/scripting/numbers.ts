// Numbers as Lua 5.1 (and C's stdio) see them: string -> number with strtod's rules
// (luaO_str2d), number -> string with "%.14g" (tostring, concatenation), and the printf
// conversions string.format offers. C rounds exact decimal ties to even where JavaScript's
// toFixed/toExponential round them up: the few exact ties are detected and corrected, so
// string.format("%.2f", 0.125) is "0.12" as in Redis.

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

function isSpaceCode(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * C's strtod on `s` from `start`: the value and the index just after the text it used (equal
 * to `start` when nothing could be converted). A NUL char ends the text, as in C.
 */
export function strtod(s: string, start = 0): { value: number; end: number } {
  const n = s.length;
  let i = start;
  while (i < n && isSpaceCode(s.charCodeAt(i))) i++;
  let neg = false;
  const signAt = i;
  if (i < n && (s[i] === "+" || s[i] === "-")) {
    neg = s[i] === "-";
    i++;
  }
  const lower3 = s.slice(i, i + 3).toLowerCase();
  if (lower3 === "inf") {
    const end = s.slice(i, i + 8).toLowerCase() === "infinity" ? i + 8 : i + 3;
    return { value: neg ? -Infinity : Infinity, end };
  }
  if (lower3 === "nan") {
    let end = i + 3;
    if (s[end] === "(") {
      let j = end + 1;
      while (j < n && /[0-9A-Za-z_]/.test(s[j]!)) j++;
      if (s[j] === ")") end = j + 1;
    }
    return { value: NaN, end };
  }
  if (s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X")) {
    // Hexadecimal: 0x h* [. h*] [p [+-] d+]
    let j = i + 2;
    let mant = 0;
    let any = false;
    let exp = 0;
    while (j < n && hexVal(s.charCodeAt(j)) >= 0) {
      mant = mant * 16 + hexVal(s.charCodeAt(j));
      any = true;
      j++;
    }
    if (s[j] === ".") {
      let k = j + 1;
      let frac = false;
      while (k < n && hexVal(s.charCodeAt(k)) >= 0) {
        mant = mant * 16 + hexVal(s.charCodeAt(k));
        exp -= 4;
        frac = true;
        k++;
      }
      if (any || frac) {
        any = true;
        j = k;
      }
    }
    if (any) {
      if (s[j] === "p" || s[j] === "P") {
        let k = j + 1;
        let eneg = false;
        if (s[k] === "+" || s[k] === "-") {
          eneg = s[k] === "-";
          k++;
        }
        if (k < n && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) {
          let e = 0;
          while (k < n && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) {
            e = Math.min(e * 10 + (s.charCodeAt(k) - 48), 100000);
            k++;
          }
          exp += eneg ? -e : e;
          j = k;
        }
      }
      const v = mant * Math.pow(2, exp);
      return { value: neg ? -v : v, end: j };
    }
    // "0x" with no digits: strtod reads the "0"
    return { value: neg ? -0 : 0, end: i + 1 };
  }
  // Decimal: d* [. d*] [e [+-] d+], at least one digit
  let j = i;
  let digits = 0;
  while (j < n && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) {
    j++;
    digits++;
  }
  if (s[j] === ".") {
    j++;
    while (j < n && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) {
      j++;
      digits++;
    }
  }
  if (digits === 0) return { value: 0, end: start };
  if (s[j] === "e" || s[j] === "E") {
    let k = j + 1;
    if (s[k] === "+" || s[k] === "-") k++;
    if (k < n && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) {
      while (k < n && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) k++;
      j = k;
    }
  }
  let text = s.slice(signAt, j);
  if (text.endsWith(".")) text = text.slice(0, -1);
  if (text.startsWith("+")) text = text.slice(1);
  if (text.startsWith(".") || text.startsWith("-.")) text = text.replace(".", "0.");
  text = text.replace(/\.(?=[eE])/, "");
  return { value: Number(text), end: j };
}

/** luaO_str2d: the whole string (but surrounding spaces) must be a number; undefined if not. */
export function strToNumber(s: string): number | undefined {
  const r = strtod(s, 0);
  if (r.end === 0) return undefined;
  let i = r.end;
  const n = s.length;
  if (i >= n || s.charCodeAt(i) === 0) return r.value;
  while (i < n && isSpaceCode(s.charCodeAt(i))) i++;
  if (i < n && s.charCodeAt(i) !== 0) return undefined;
  return r.value;
}

// ---------------------------------------------------------------- exact decimal rounding

/** Whether the decimal text (digits, optional point, optional exponent) equals x exactly. */
function decimalEquals(text: string, x: number): boolean {
  let mantText = text;
  let e10 = 0;
  const ePos = text.search(/[eE]/);
  if (ePos >= 0) {
    mantText = text.slice(0, ePos);
    e10 = Number(text.slice(ePos + 1));
  }
  const dot = mantText.indexOf(".");
  if (dot >= 0) {
    e10 -= mantText.length - dot - 1;
    mantText = mantText.slice(0, dot) + mantText.slice(dot + 1);
  }
  const D = BigInt(mantText);
  // x = m * 2^e2
  F64[0] = x;
  const hi = U32[1]! & 0xfffff;
  const bexp = (U32[1]! >>> 20) & 0x7ff;
  let m = BigInt(hi) * 4294967296n + BigInt(U32[0]!);
  let e2: number;
  if (bexp === 0) e2 = -1074;
  else {
    m += 1n << 52n;
    e2 = bexp - 1075;
  }
  let lhs = m;
  let rhs = D;
  if (e2 >= 0) lhs <<= BigInt(e2);
  else rhs <<= BigInt(-e2);
  if (e10 >= 0) rhs *= 10n ** BigInt(e10);
  else lhs *= 10n ** BigInt(-e10);
  return lhs === rhs;
}

/**
 * Significant digits of |x| (finite, non-zero) rounded to `p` digits as C does: the digit
 * string and the decimal exponent of the first digit.
 */
function expDigits(ax: number, p: number): { digits: string; exp: number } {
  let s = ax.toExponential(p - 1);
  if (p <= 100) {
    const longer = ax.toExponential(Math.min(p, 100));
    const eAt = longer.indexOf("e");
    if (longer[eAt - 1] === "5" && decimalEquals(longer, ax)) {
      // An exact tie: JavaScript rounded away from zero, C rounds to even.
      const mant = longer.slice(0, eAt).replace(".", "");
      const kept = mant.slice(0, p);
      const lastKept = kept.charCodeAt(kept.length - 1) - 48;
      if (lastKept % 2 === 0) s = `${kept[0]}${p > 1 ? "." + kept.slice(1) : ""}${longer.slice(eAt)}`;
    }
  }
  const eAt = s.indexOf("e");
  return { digits: s.slice(0, eAt).replace(".", ""), exp: Number(s.slice(eAt + 1)) };
}

/** |x| with `f` digits after the point, rounded as C does. */
function fixedDigits(ax: number, f: number): string {
  if (ax >= 1e21) {
    // An integer (doubles that large have no fraction): exact digits through BigInt.
    const int = BigInt(ax).toString();
    return f > 0 ? `${int}.${"0".repeat(f)}` : int;
  }
  if (f > 100) {
    const head = fixedDigits(ax, 100);
    return head + "0".repeat(f - 100);
  }
  let s = ax.toFixed(f);
  if (f < 100) {
    const longer = ax.toFixed(f + 1);
    if (longer.endsWith("5") && decimalEquals(longer, ax)) {
      const kept = longer.slice(0, -1);
      const last = kept.replace(".", "");
      const lastDigit = last.charCodeAt(last.length - 1) - 48;
      if (lastDigit % 2 === 0) s = kept.endsWith(".") ? kept.slice(0, -1) : kept;
    }
  }
  return s;
}

function expSuffix(e: number, upper: boolean): string {
  const a = Math.abs(e);
  return `${upper ? "E" : "e"}${e < 0 ? "-" : "+"}${a < 10 ? "0" : ""}${a}`;
}

function nanInfText(x: number, upper: boolean): string {
  let t: string;
  if (Number.isNaN(x)) {
    F64[0] = x;
    t = U32[1]! >>> 31 ? "-nan" : "nan";
  } else t = x < 0 ? "-inf" : "inf";
  return upper ? t.toUpperCase() : t;
}

/** The body of a %e/%f/%g conversion (no sign, no padding) of a finite number. */
function floatBody(ax: number, conv: string, prec: number, alt: boolean): string {
  const lower = conv.toLowerCase();
  const upper = conv !== lower;
  if (lower === "f") {
    const s = fixedDigits(ax, prec);
    return alt && prec === 0 ? `${s}.` : s;
  }
  if (lower === "e") {
    if (ax === 0) return `0${prec > 0 || alt ? "." : ""}${"0".repeat(prec)}${expSuffix(0, upper)}`;
    const { digits, exp } = expDigits(ax, prec + 1);
    return `${digits[0]}${prec > 0 || alt ? "." : ""}${digits.slice(1)}${expSuffix(exp, upper)}`;
  }
  // %g
  const p = prec === 0 ? 1 : prec;
  let digits: string;
  let exp: number;
  if (ax === 0) {
    digits = "0".repeat(p);
    exp = 0;
  } else ({ digits, exp } = expDigits(ax, p));
  let out: string;
  if (exp < -4 || exp >= p) {
    let frac = digits.slice(1);
    if (!alt) frac = frac.replace(/0+$/, "");
    out = `${digits[0]}${frac.length || alt ? "." : ""}${frac}${expSuffix(exp, upper)}`;
  } else {
    let int: string;
    let frac: string;
    if (exp >= 0) {
      int = digits.slice(0, exp + 1);
      frac = digits.slice(exp + 1);
    } else {
      int = "0";
      frac = "0".repeat(-exp - 1) + digits;
    }
    if (!alt) frac = frac.replace(/0+$/, "");
    out = frac.length || alt ? `${int}.${frac}` : int;
  }
  return out;
}

export interface FormatSpec {
  minus: boolean;
  plus: boolean;
  space: boolean;
  alt: boolean;
  zero: boolean;
  width: number;
  /** -1 when absent. */
  precision: number;
}

function pad(body: string, sign: string, spec: FormatSpec, numeric: boolean): string {
  const len = body.length + sign.length;
  if (spec.width <= len) return sign + body;
  const fill = spec.width - len;
  if (spec.minus) return sign + body + " ".repeat(fill);
  if (spec.zero && numeric) return sign + "0".repeat(fill) + body;
  return " ".repeat(fill) + sign + body;
}

/** A C floating-point conversion (%e %E %f %g %G) with its flags, width and precision. */
export function formatFloat(x: number, conv: string, spec: FormatSpec): string {
  const neg = x < 0 || (x === 0 && 1 / x < 0) || (Number.isNaN(x) && signBit(x));
  const sign = neg ? "-" : spec.plus ? "+" : spec.space ? " " : "";
  if (!Number.isFinite(x)) {
    const t = nanInfText(x, conv !== conv.toLowerCase()).replace("-", "");
    return pad(t, sign, spec, false);
  }
  const prec = spec.precision < 0 ? 6 : spec.precision;
  return pad(floatBody(Math.abs(x), conv, prec, spec.alt), sign, spec, true);
}

function signBit(x: number): boolean {
  F64[0] = x;
  return U32[1]! >>> 31 === 1;
}

/** C's (long) cast of a double as x86-64 does it (out of range and NaN give LONG_MIN). */
export function toLongBig(x: number): bigint {
  if (!Number.isFinite(x) || Math.abs(x) >= 9223372036854775808) return -9223372036854775808n;
  return BigInt(Math.trunc(x));
}

/** A C integer conversion (%d %i %o %u %x %X) of a 64-bit value. */
export function formatInt(v: bigint, conv: string, spec: FormatSpec): string {
  let sign = "";
  let digits: string;
  if (conv === "d" || conv === "i") {
    if (v < 0n) {
      sign = "-";
      v = -v;
    } else if (spec.plus) sign = "+";
    else if (spec.space) sign = " ";
    digits = v.toString();
  } else {
    const u = BigInt.asUintN(64, v);
    if (conv === "o") digits = u.toString(8);
    else if (conv === "u") digits = u.toString();
    else digits = conv === "X" ? u.toString(16).toUpperCase() : u.toString(16);
    if (spec.alt && u !== 0n) {
      if (conv === "o") digits = `0${digits}`;
      else if (conv === "x") sign = "0x";
      else if (conv === "X") sign = "0X";
    }
  }
  if (spec.precision >= 0) {
    if (spec.precision === 0 && digits === "0") digits = "";
    if (digits.length < spec.precision) digits = "0".repeat(spec.precision - digits.length) + digits;
    return pad(digits, sign, { ...spec, zero: false }, true);
  }
  return pad(digits, sign, spec, true);
}

/** A %s / %c conversion: padding and precision on a string. */
export function formatString(s: string, spec: FormatSpec): string {
  if (spec.precision >= 0 && s.length > spec.precision) s = s.slice(0, spec.precision);
  return pad(s, "", spec, false);
}

const G14: FormatSpec = { minus: false, plus: false, space: false, alt: false, zero: false, width: 0, precision: 14 };

/** lua_number2str: "%.14g", as tostring() and concatenation print numbers. */
export function numberToString(x: number): string {
  if (Number.isInteger(x) && x < 1e14 && x > -1e14) return x === 0 && 1 / x < 0 ? "-0" : String(x);
  return formatFloat(x, "g", G14);
}

/** "%.17g": how Redis passes Lua numbers given as command arguments. */
export function numberTo17g(x: number): string {
  if (Number.isInteger(x) && x < 9007199254740992 && x > -9007199254740992) return x === 0 && 1 / x < 0 ? "-0" : String(x);
  return formatFloat(x, "g", { ...G14, precision: 17 });
}
