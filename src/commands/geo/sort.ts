// The two sorts GEORADIUS/GEOSEARCH results go through in Redis, reproduced so that points at
// equal distance come out in the same order: glibc's qsort (a stable merge sort for these
// sizes) when every result is returned, and Redis's pqsort (a partial Bentley-McIlroy
// quicksort from pqsort.c, not stable) when COUNT keeps only the first ones.

type Compare<T> = (a: T, b: T) => number;

/** glibc qsort as used here: stable. */
export function stableSort<T>(items: T[], cmp: Compare<T>): void {
  items.sort(cmp);
}

function med3<T>(a: T[], i: number, j: number, k: number, cmp: Compare<T>): number {
  return cmp(a[i]!, a[j]!) < 0 ? (cmp(a[j]!, a[k]!) < 0 ? j : cmp(a[i]!, a[k]!) < 0 ? k : i) : cmp(a[j]!, a[k]!) > 0 ? j : cmp(a[i]!, a[k]!) < 0 ? i : k;
}

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

function vecswap<T>(a: T[], i: number, j: number, n: number): void {
  for (let k = 0; k < n; k++) swap(a, i + k, j + k);
}

/**
 * pqsort(a, n, cmp, lrange, rrange): sorts enough of a[0..n) that positions lrange..rrange hold
 * what a full sort would put there (same element moves as the C code, elements as units).
 */
export function pqsort<T>(a: T[], cmp: Compare<T>, lrange: number, rrange: number): void {
  partialSort(a, 0, a.length, cmp, lrange, rrange);
}

function partialSort<T>(arr: T[], base: number, n: number, cmp: Compare<T>, lrange: number, rrange: number): void {
  for (;;) {
    if (n < 7) {
      for (let pm = base + 1; pm < base + n; pm++) {
        for (let pl = pm; pl > base && cmp(arr[pl - 1]!, arr[pl]!) > 0; pl--) swap(arr, pl, pl - 1);
      }
      return;
    }
    let pm = base + Math.floor(n / 2);
    if (n > 7) {
      let pl = base;
      let pn = base + n - 1;
      if (n > 40) {
        const d = Math.floor(n / 8);
        pl = med3(arr, pl, pl + d, pl + 2 * d, cmp);
        pm = med3(arr, pm - d, pm, pm + d, cmp);
        pn = med3(arr, pn - 2 * d, pn - d, pn, cmp);
      }
      pm = med3(arr, pl, pm, pn, cmp);
    }
    swap(arr, base, pm);
    let pa = base + 1;
    let pb = pa;
    let pc = base + n - 1;
    let pd = pc;
    for (;;) {
      let r: number;
      while (pb <= pc && (r = cmp(arr[pb]!, arr[base]!)) <= 0) {
        if (r === 0) {
          swap(arr, pa, pb);
          pa++;
        }
        pb++;
      }
      while (pb <= pc && (r = cmp(arr[pc]!, arr[base]!)) >= 0) {
        if (r === 0) {
          swap(arr, pc, pd);
          pd--;
        }
        pc--;
      }
      if (pb > pc) break;
      swap(arr, pb, pc);
      pb++;
      pc--;
    }
    const pn = base + n;
    let r = Math.min(pa - base, pb - pa);
    vecswap(arr, base, pb - r, r);
    r = Math.min(pd - pc, pn - pd - 1);
    vecswap(arr, pb, pn - r, r);
    // Left part: [base, base + (pb - pa)).
    r = pb - pa;
    if (r > 1) {
      const l = base;
      const rr = base + r - 1;
      if (!((lrange < l && rrange < l) || (lrange > rr && rrange > rr))) partialSort(arr, base, r, cmp, lrange, rrange);
    }
    // Right part, iteratively.
    r = pd - pc;
    if (r > 1) {
      base = pn - r;
      n = r;
      const l = base;
      const rr = base + r - 1;
      if (!((lrange < l && rrange < l) || (lrange > rr && rrange > rr))) continue;
    }
    return;
  }
}
