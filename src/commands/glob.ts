// Glob-style matching with Redis's rules (util.c stringmatchlen): `*`, `?`, `[abc]`, `[^a-z]`,
// `\x` escapes; an unterminated `[` matches literally up to the end. Strings are latin1.

export function globMatch(pattern: string, text: string, nocase = false): boolean {
  if (nocase) {
    pattern = pattern.toLowerCase();
    text = text.toLowerCase();
  }
  return matchAt(pattern, 0, text, 0, 0);
}

function matchAt(p: string, pi: number, s: string, si: number, depth: number): boolean {
  // Redis caps recursion on '*' to avoid pathological patterns; we do the same.
  if (depth > 1000) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si <= slen) {
    const pc = p[pi]!;
    switch (pc) {
      case "*": {
        while (pi + 1 < plen && p[pi + 1] === "*") pi++;
        if (pi + 1 === plen) return true;
        for (let k = si; k <= slen; k++) {
          if (matchAt(p, pi + 1, s, k, depth + 1)) return true;
        }
        return false;
      }
      case "?":
        if (si >= slen) return false;
        si++;
        break;
      case "[": {
        if (si >= slen) return false;
        pi++;
        const not = p[pi] === "^";
        if (not) pi++;
        let match = false;
        const c = s.charCodeAt(si);
        while (true) {
          if (pi >= plen) {
            pi--;
            break;
          }
          if (p[pi] === "\\" && pi + 1 < plen) {
            pi++;
            if (p.charCodeAt(pi) === c) match = true;
          } else if (p[pi] === "]") {
            break;
          } else if (pi + 2 < plen && p[pi + 1] === "-") {
            let start = p.charCodeAt(pi);
            let end = p.charCodeAt(pi + 2);
            if (start > end) [start, end] = [end, start];
            pi += 2;
            if (c >= start && c <= end) match = true;
          } else if (p.charCodeAt(pi) === c) {
            match = true;
          }
          pi++;
        }
        if (not) match = !match;
        if (!match) return false;
        si++;
        break;
      }
      default: {
        // A backslash makes the next pattern char literal.
        let ch = pc;
        if (pc === "\\" && pi + 1 < plen) {
          pi++;
          ch = p[pi]!;
        }
        if (si >= slen || ch !== s[si]) return false;
        si++;
        break;
      }
    }
    pi++;
    if (si >= slen) {
      while (pi < plen && p[pi] === "*") pi++;
      break;
    }
  }
  return pi === plen && si === slen;
}
