// CRC-64/Jones as Redis uses it for the RDB trailer (crc64.c): polynomial 0xad93d23594c935a9,
// reflected input and output, initial value 0, no final xor. crc64("123456789") is
// 0xe9c6d914c4b8d9ca.
//
// The 64-bit state is kept as two uint32 halves (no BigInt per byte) and the bulk of the
// input is processed 8 bytes at a time with slicing-by-8 tables (like Redis's crcspeed).

const POLY = 0xad93d23594c935a9n;

function reflect64(v: bigint): bigint {
  let r = 0n;
  for (let i = 0; i < 64; i++) {
    r = (r << 1n) | (v & 1n);
    v >>= 1n;
  }
  return r;
}

/** Tables T0..T7, 256 entries each: low halves and high halves. */
const TLO = new Int32Array(8 * 256);
const THI = new Int32Array(8 * 256);

(function buildTables() {
  const reflected = reflect64(POLY);
  const pLo = Number(reflected & 0xffffffffn) | 0;
  const pHi = Number(reflected >> 32n) | 0;
  for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const lsb = lo & 1;
      lo = (lo >>> 1) | ((hi & 1) << 31);
      hi = hi >>> 1;
      if (lsb) {
        lo ^= pLo;
        hi ^= pHi;
      }
    }
    TLO[n] = lo;
    THI[n] = hi;
  }
  for (let t = 1; t < 8; t++) {
    for (let n = 0; n < 256; n++) {
      const plo = TLO[(t - 1) * 256 + n]!;
      const phi = THI[(t - 1) * 256 + n]!;
      const idx = plo & 0xff;
      TLO[t * 256 + n] = ((plo >>> 8) | ((phi & 0xff) << 24)) ^ TLO[idx]!;
      THI[t * 256 + n] = (phi >>> 8) ^ THI[idx]!;
    }
  }
})();

/** An incremental CRC-64 (Jones). */
export class Crc64 {
  /** Low and high 32 bits of the running CRC (as int32). */
  lo = 0;
  hi = 0;

  /** Adds bytes [start, end) of `data`. */
  update(data: Uint8Array, start = 0, end = data.length): void {
    let lo = this.lo;
    let hi = this.hi;
    let p = start;
    // Byte at a time until 8 bytes remain per step.
    const fastEnd = end - 8;
    while (p <= fastEnd) {
      lo ^= data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24);
      hi ^= data[p + 4]! | (data[p + 5]! << 8) | (data[p + 6]! << 16) | (data[p + 7]! << 24);
      const nlo =
        TLO[7 * 256 + (lo & 0xff)]! ^
        TLO[6 * 256 + ((lo >>> 8) & 0xff)]! ^
        TLO[5 * 256 + ((lo >>> 16) & 0xff)]! ^
        TLO[4 * 256 + (lo >>> 24)]! ^
        TLO[3 * 256 + (hi & 0xff)]! ^
        TLO[2 * 256 + ((hi >>> 8) & 0xff)]! ^
        TLO[256 + ((hi >>> 16) & 0xff)]! ^
        TLO[hi >>> 24]!;
      const nhi =
        THI[7 * 256 + (lo & 0xff)]! ^
        THI[6 * 256 + ((lo >>> 8) & 0xff)]! ^
        THI[5 * 256 + ((lo >>> 16) & 0xff)]! ^
        THI[4 * 256 + (lo >>> 24)]! ^
        THI[3 * 256 + (hi & 0xff)]! ^
        THI[2 * 256 + ((hi >>> 8) & 0xff)]! ^
        THI[256 + ((hi >>> 16) & 0xff)]! ^
        THI[hi >>> 24]!;
      lo = nlo;
      hi = nhi;
      p += 8;
    }
    while (p < end) {
      const idx = (lo ^ data[p]!) & 0xff;
      lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ TLO[idx]!;
      hi = (hi >>> 8) ^ THI[idx]!;
      p++;
    }
    this.lo = lo;
    this.hi = hi;
  }

  /** Whether the 8 bytes at `offset` (little endian, as in the RDB trailer) equal the CRC. */
  matchesLE(data: Uint8Array, offset: number): boolean {
    const lo = data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24);
    const hi = data[offset + 4]! | (data[offset + 5]! << 8) | (data[offset + 6]! << 16) | (data[offset + 7]! << 24);
    return lo === this.lo && hi === this.hi;
  }

  /** Writes the CRC as 8 little-endian bytes (the RDB trailer). */
  writeLE(out: Uint8Array, offset: number): void {
    const lo = this.lo;
    const hi = this.hi;
    out[offset] = lo & 0xff;
    out[offset + 1] = (lo >>> 8) & 0xff;
    out[offset + 2] = (lo >>> 16) & 0xff;
    out[offset + 3] = lo >>> 24;
    out[offset + 4] = hi & 0xff;
    out[offset + 5] = (hi >>> 8) & 0xff;
    out[offset + 6] = (hi >>> 16) & 0xff;
    out[offset + 7] = hi >>> 24;
  }

  get value(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }
}

