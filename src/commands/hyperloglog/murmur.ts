// MurmurHash64A (Austin Appleby's MurmurHash2, 64-bit version), as Redis's hyperloglog.c uses
// it to hash PFADD elements. The 64-bit arithmetic is done on two uint32 halves so the hot
// path allocates nothing (BigInt would allocate per step).
//
// The caller passes the array the two halves of the hash are written to (a scratch array of its
// own, reused for every element): returning an object or array would allocate per element.

/** m = 0xc6a4a7935bd1e995, split in halves and 16-bit pieces of the low half. */
const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const M_LO_0 = M_LO & 0xffff;
const M_LO_1 = M_LO >>> 16;

// Result of mulM(): (hi, lo) * m mod 2^64 (module-private scratch, read right after each call).
let mulHi = 0;
let mulLo = 0;

/** (hi, lo) * m mod 2^64, into mulHi/mulLo. */
function mulM(hi: number, lo: number): void {
  // Full 64-bit product of lo * M_LO via 16-bit pieces, plus the cross terms' low halves.
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const p00 = a0 * M_LO_0;
  const p01 = a0 * M_LO_1;
  const p10 = a1 * M_LO_0;
  const p11 = a1 * M_LO_1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const carryHi = p11 + Math.floor(p01 / 65536) + Math.floor(p10 / 65536) + Math.floor(mid / 65536);
  mulLo = ((mid << 16) | (p00 & 0xffff)) >>> 0;
  mulHi = (carryHi + Math.imul(hi, M_LO) + Math.imul(lo, M_HI)) >>> 0;
}

/**
 * Hashes the bytes of a latin1 string (one char = one byte) with the given 32-bit seed into
 * `out`: out[0] the low 32 bits of the hash, out[1] the high 32 bits.
 */
export function murmurHash64A(s: string, seed: number, out: Uint32Array): void {
  const len = s.length;
  // h = seed ^ (len * m)
  mulM(Math.floor(len / 4294967296) >>> 0, len >>> 0);
  let hHi = mulHi;
  let hLo = (mulLo ^ seed) >>> 0;
  const blocks = len - (len & 7);
  let i = 0;
  for (; i < blocks; i += 8) {
    const kLo = (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
    const kHi = (s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) | (s.charCodeAt(i + 6) << 16) | (s.charCodeAt(i + 7) << 24)) >>> 0;
    // k *= m; k ^= k >> 47; k *= m;
    mulM(kHi, kLo);
    let h2 = mulHi;
    let l2 = (mulLo ^ (mulHi >>> 15)) >>> 0;
    mulM(h2, l2);
    h2 = mulHi;
    l2 = mulLo;
    // h ^= k; h *= m;
    mulM((hHi ^ h2) >>> 0, (hLo ^ l2) >>> 0);
    hHi = mulHi;
    hLo = mulLo;
  }
  const rest = len & 7;
  if (rest !== 0) {
    // Tail bytes go to bits 0..55 of h, then h *= m.
    if (rest >= 7) hHi ^= s.charCodeAt(i + 6) << 16;
    if (rest >= 6) hHi ^= s.charCodeAt(i + 5) << 8;
    if (rest >= 5) hHi ^= s.charCodeAt(i + 4);
    if (rest >= 4) hLo ^= s.charCodeAt(i + 3) << 24;
    if (rest >= 3) hLo ^= s.charCodeAt(i + 2) << 16;
    if (rest >= 2) hLo ^= s.charCodeAt(i + 1) << 8;
    hLo ^= s.charCodeAt(i);
    mulM(hHi >>> 0, hLo >>> 0);
    hHi = mulHi;
    hLo = mulLo;
  }
  // h ^= h >> r; h *= m; h ^= h >> r;
  hLo = (hLo ^ (hHi >>> 15)) >>> 0;
  mulM(hHi, hLo);
  hHi = mulHi;
  hLo = (mulLo ^ (mulHi >>> 15)) >>> 0;
  out[0] = hLo;
  out[1] = hHi;
}
