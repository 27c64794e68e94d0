// Glob-style matching with Redis's rules (util.c stringmatchlen): `*`, `?`, `[abc]`, `[^a-z]`,
// `[a-]`, `\x` escapes; an unterminated `[` matches up to the end of the pattern. Strings are
// latin1 bytes; `nocase` folds ASCII letters only, as C's tolower in the "C" locale, and a
// range compares bytes as C's signed chars (bytes above 127 sort before "\0"), as Redis built
// for x86-64 does (char is unsigned on ARM64, where Redis's own results differ).
//
// Time is polynomial, not exponential: once the rest of a pattern after a `*` fails to match
// anywhere in the rest of the string, no earlier `*` can make it match by consuming more
// (skipLongerMatches, Redis 7.0), so every `*` gives up at once. "a*a*a*...*b" against a long
// run of "a" is O(pattern * string), where plain backtracking takes minutes. Nesting is capped
// at 1000 stars deep, as Redis 7.2 does (a deeper pattern does not match).

const MAX_NESTING = 1000;

/** Scratch state of one match (matching is synchronous and never re-entered). */
const scratch = { skipLonger: false };

/** Whether `text` matches `pattern` (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, ACL patterns...). */
export function globMatch(pattern: string, text: string, nocase = false): boolean {
  scratch.skipLonger = false;
  return matchFrom(pattern, 0, text, 0, nocase, scratch, 0);
}

/**
 * A matcher for one pattern applied to many strings (KEYS, SCAN MATCH, `rdb export --match`):
 * the same answers as globMatch, faster. A pattern made of literal text and `*` only (the usual
 * `prefix:*`, `*:suffix`, `a*b*c`) is matched with startsWith / endsWith / indexOf; any other
 * is first checked against its literal prefix, which every match must start with.
 */
export function globMatcher(pattern: string, nocase = false): (text: string) => boolean {
  const literal = nocase ? null : starPattern(pattern);
  if (literal === null) {
    const prefix = nocase ? "" : literalPrefix(pattern);
    if (prefix === "") return (text) => globMatch(pattern, text, nocase);
    return (text) => text.startsWith(prefix) && globMatch(pattern, text, nocase);
  }
  const segments = literal;
  // stringmatchlen: an empty string matches only the empty pattern ("*" included).
  if (segments.length === 1) {
    const only = segments[0]!;
    return (text) => text === only;
  }
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  const fixed = first.length + last.length;
  if (segments.length === 2) {
    if (first === "" && last === "") return (text) => text.length > 0;
    return (text) => text.length >= fixed && text.length > 0 && text.startsWith(first) && text.endsWith(last);
  }
  const middle = segments.slice(1, -1);
  return (text) => {
    if (text.length < fixed || text.length === 0 || !text.startsWith(first) || !text.endsWith(last)) return false;
    // Leftmost match of each middle piece between the prefix and the suffix: with `*` as the
    // only wildcard, a match exists if and only if this greedy placement succeeds.
    let at = first.length;
    const end = text.length - last.length;
    for (const piece of middle) {
      const i = text.indexOf(piece, at);
      if (i < 0 || i + piece.length > end) return false;
      at = i + piece.length;
    }
    return true;
  };
}

/**
 * The literal pieces of a pattern that holds only literal characters (`\x` escapes included)
 * and `*`, split at the stars (runs of stars count as one): "a*b" -> ["a", "b"], "*" -> ["",
 * ""], "abc" -> ["abc"]. Null when it holds `?` or `[`, or more stars than the nesting cap
 * (those take the general matcher, whose answers are then the reference).
 */
function starPattern(p: string): string[] | null {
  const segments: string[] = [];
  let current = "";
  let afterStar = false;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 42 /* * */) {
      if (!afterStar) {
        segments.push(current);
        current = "";
        if (segments.length > 64) return null;
      }
      afterStar = true;
      continue;
    }
    afterStar = false;
    if (c === 63 /* ? */ || c === 91 /* [ */) return null;
    if (c === 92 /* \ */ && i + 1 < p.length) current += p[++i];
    else current += p[i];
  }
  segments.push(current);
  return segments;
}

/** The literal text a pattern starts with, up to its first `*`, `?` or `[` (escapes resolved). */
function literalPrefix(p: string): string {
  let out = "";
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 42 || c === 63 || c === 91) break;
    if (c === 92 && i + 1 < p.length) out += p[++i];
    else out += p[i];
  }
  return out;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** The byte as C's (signed) char: ranges like [a-\xc9] compare bytes above 127 as negative. */
function signed(c: number): number {
  return c >= 128 ? c - 256 : c;
}

function matchFrom(p: string, pi: number, s: string, si: number, nocase: boolean, state: { skipLonger: boolean }, nesting: number): boolean {
  if (nesting > MAX_NESTING) return false;
  const plen = p.length;
  const slen = s.length;
  // C reads a NUL past the end of the pattern: -1 stands for it.
  const at = (i: number) => (i < plen ? p.charCodeAt(i) : -1);
  while (pi < plen && si < slen) {
    const pc = p.charCodeAt(pi);
    if (pc === 42 /* * */) {
      while (pi < plen && at(pi + 1) === 42) pi++;
      if (pi === plen - 1) return true;
      while (si < slen) {
        if (matchFrom(p, pi + 1, s, si, nocase, state, nesting + 1)) return true;
        if (state.skipLonger) return false;
        si++;
      }
      state.skipLonger = true;
      return false;
    } else if (pc === 63 /* ? */) {
      si++;
    } else if (pc === 91 /* [ */) {
      pi++;
      const not = at(pi) === 94; /* ^ */
      if (not) pi++;
      let match = false;
      const c = s.charCodeAt(si);
      for (;;) {
        const x = at(pi);
        if (x === 92 /* \ */ && plen - pi >= 2) {
          pi++;
          if (at(pi) === c) match = true;
        } else if (x === 93 /* ] */) {
          break;
        } else if (pi >= plen) {
          pi--;
          break;
        } else if (plen - pi >= 3 && at(pi + 1) === 45 /* - */) {
          let start = signed(x);
          let end = signed(at(pi + 2));
          let cc = signed(c);
          if (start > end) [start, end] = [end, start];
          if (nocase) {
            start = lower(start);
            end = lower(end);
            cc = lower(cc);
          }
          pi += 2;
          if (cc >= start && cc <= end) match = true;
        } else if (nocase ? lower(x) === lower(c) : x === c) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
    } else {
      let x = pc;
      if (pc === 92 /* \ */ && plen - pi >= 2) {
        pi++;
        x = at(pi);
      }
      const c = s.charCodeAt(si);
      if (nocase ? lower(x) !== lower(c) : x !== c) return false;
      si++;
    }
    pi++;
    if (si === slen) {
      while (at(pi) === 42) pi++;
      break;
    }
  }
  return pi >= plen && si === slen;
}
