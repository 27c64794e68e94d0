// Hashing keys for the keyspace index, from either of the two forms a key arrives in: a latin1
// JS string (one char per byte, what the request parser produces today) or a byte range of a
// buffer (a request buffer, an RDB payload, the arena itself). Both forms of the same key must
// hash alike, so every function here is defined over bytes and has a string twin that reads
// the bytes with charCodeAt. (Bun.hash cannot serve the string form: it hashes a string's UTF-8
// encoding, which differs from its latin1 bytes above 0x7f.)
//
// The default is HalfSipHash-1-3 with a per-process random key: like Redis's SipHash it keeps
// an attacker who does not know the key from choosing keys that collide, which matters more to
// open addressing (one long probe run slows every key near it) than to Redis's chaining. It is
// SipHash's 32-bit variant (Linux's hsiphash): every operation is a 32-bit add, xor or rotate,
// which JavaScriptCore compiles to plain machine instructions. bench/keyspace-hash.bench.ts
// compares it with Murmur3, FNV-1a and Bun.hash.
//
// The result is a signed 32-bit integer (what an Int32Array holds), never 0: the index uses 0
// for an empty slot.

/** The hash key (two 32-bit words); random per process unless set for a test or a worker. */
let k0 = (Math.random() * 0x100000000) >>> 0;
let k1 = (Math.random() * 0x100000000) >>> 0;

/**
 * Sets the hash key. A worker that builds tables for this thread must use the same key (the
 * index stores hashes), so the key travels with them; tests fix it to be reproducible.
 */
export function setHashKey(key0: number, key1: number): void {
  k0 = key0 >>> 0;
  k1 = key1 >>> 0;
}

export function hashKey(): [number, number] {
  return [k0, k1];
}

/** HalfSipHash-1-3 of `len` bytes of `b` from `start`; never 0. */
export function hashBytes(b: Uint8Array, start: number, len: number): number {
  let v0 = k0;
  let v1 = k1;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  const end = start + len - (len & 3);
  let p = start;
  for (; p < end; p += 4) {
    const m = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
    v3 ^= m;
    // One SipRound (c = 1).
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= m;
  }
  let t = len << 24;
  const tail = len & 3;
  if (tail === 3) t |= b[p + 2]! << 16;
  if (tail >= 2) t |= b[p + 1]! << 8;
  if (tail >= 1) t |= b[p]!;
  return finish(v0, v1, v2, v3, t);
}

/** hashBytes of a latin1 string's bytes (its char codes). */
export function hashString(s: string): number {
  const len = s.length;
  let v0 = k0;
  let v1 = k1;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  const end = len - (len & 3);
  let p = 0;
  for (; p < end; p += 4) {
    const m = s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8) | (s.charCodeAt(p + 2) << 16) | (s.charCodeAt(p + 3) << 24);
    v3 ^= m;
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= m;
  }
  let t = len << 24;
  const tail = len & 3;
  if (tail === 3) t |= s.charCodeAt(p + 2) << 16;
  if (tail >= 2) t |= s.charCodeAt(p + 1) << 8;
  if (tail >= 1) t |= s.charCodeAt(p);
  return finish(v0, v1, v2, v3, t);
}

/** The last block, then three SipRounds (d = 3); the 32-bit result is v1 ^ v3. */
function finish(v0: number, v1: number, v2: number, v3: number, t: number): number {
  v3 ^= t;
  v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
  v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
  v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
  v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
  v0 ^= t;
  v2 ^= 0xff;
  for (let i = 0; i < 3; i++) {
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
  }
  return (v1 ^ v3) | 0 || 1;
}

// ---------------------------------------------------------------------------------------------
// Unkeyed alternatives, kept for the benchmark (bench/keyspace-hash.bench.ts). Not flood-safe.

/** Murmur3 (x86, 32-bit) with a seed; never 0. */
export function murmur3Bytes(b: Uint8Array, start: number, len: number, seed = 0): number {
  let h = seed | 0;
  const end = start + len - (len & 3);
  let p = start;
  for (; p < end; p += 4) {
    let k = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = len & 3;
  if (tail === 3) k ^= b[p + 2]! << 16;
  if (tail >= 2) k ^= b[p + 1]! << 8;
  if (tail >= 1) {
      k ^= b[p]!;
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0 || 1;
}

/** FNV-1a (32-bit), one multiply per byte; never 0. */
export function fnv1aBytes(b: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let p = start, end = start + len; p < end; p++) h = Math.imul(h ^ b[p]!, 0x01000193);
  return h | 0 || 1;
}
