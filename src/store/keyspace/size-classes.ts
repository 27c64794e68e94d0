// The chunk sizes of the arena (arena.ts). A slab holds chunks of one size only, as memcached's
// slab classes: a record takes the smallest chunk it fits in, so the arena needs no per-block
// size field, every slab is walkable by stepping chunk by chunk, and a freed chunk serves the
// next record of its class in O(1).
//
// Classes are 8 bytes apart up to 256 (the short keys and values that dominate a keyspace lose
// at most 7 bytes to rounding, what 8-byte alignment alone would cost), then about 1/8 apart up
// to MAX_CHUNK (at most ~12% lost, less than jemalloc's 25% spacing that Redis pays). Larger
// values live outside the arena (a BIGSTRING record points at their own buffer).

/** Chunks are multiples of 8 bytes: records are 8-aligned, refs count 8-byte units. */
const UNIT = 8;
/** Smallest chunk: a free chunk needs its header word and a next-link word. */
const MIN_CHUNK = 16;
/** Largest chunk; records that do not fit keep their value (or key) outside the arena. */
export const MAX_CHUNK = 8192;

function buildSizes(): number[] {
  const sizes: number[] = [];
  for (let s = MIN_CHUNK; s <= 256; s += UNIT) sizes.push(s);
  let s = 256;
  while (s < MAX_CHUNK) {
    s = Math.min(MAX_CHUNK, Math.ceil((s * 1.125) / UNIT) * UNIT);
    sizes.push(s);
  }
  return sizes;
}

/** Chunk size of each class, ascending. */
export const CLASS_SIZES: readonly number[] = buildSizes();
export const CLASS_COUNT = CLASS_SIZES.length;

/** Class of a record of n units (8 bytes), for n up to MAX_CHUNK / UNIT. */
const classOfUnits = (() => {
  const t = new Uint8Array(MAX_CHUNK / UNIT + 1);
  let c = 0;
  for (let u = 0; u <= MAX_CHUNK / UNIT; u++) {
    while (CLASS_SIZES[c]! < u * UNIT) c++;
    t[u] = c;
  }
  return t;
})();

/** The class for a record of `size` bytes (size <= MAX_CHUNK). */
export function classOf(size: number): number {
  return classOfUnits[(size + UNIT - 1) >>> 3]!;
}
