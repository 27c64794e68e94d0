// Stream IDs, <ms>-<seq>: two unsigned 64-bit integers, each a number while it is below 2^53
// (every real-world ID) and a bigint beyond, so the whole uint64 range stays exact; with the
// wrapping 64-bit counter arithmetic of t_stream.c.

export type IdPart = number | bigint;

export interface StreamId {
  ms: IdPart;
  seq: IdPart;
}

export const MAX_U64 = 0xffffffffffffffffn;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);

export const ZERO_ID: StreamId = Object.freeze({ ms: 0, seq: 0 });
export const MAX_ID: StreamId = Object.freeze({ ms: MAX_U64, seq: MAX_U64 });

/** Normalises a 64-bit value: a number when exactly representable, else a bigint. */
export function idPart(v: bigint | number): IdPart {
  if (typeof v === "number") return v;
  return v <= MAX_SAFE_BIG && v >= -MAX_SAFE_BIG ? Number(v) : v;
}

export function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms < b.ms) return -1;
  if (a.ms > b.ms) return 1;
  if (a.seq < b.seq) return -1;
  if (a.seq > b.seq) return 1;
  return 0;
}

export function formatId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

export function isZeroId(id: StreamId): boolean {
  return id.ms === 0 && id.seq === 0;
}

function succ(p: IdPart): IdPart {
  return typeof p === "number" ? (p < MAX_SAFE ? p + 1 : BigInt(p) + 1n) : p + 1n;
}

function pred(p: IdPart): IdPart {
  return typeof p === "number" ? p - 1 : idPart(p - 1n);
}

/** The next ID (Redis's streamIncrID); null when `id` is the last possible one. */
export function incrId(id: StreamId): StreamId | null {
  if (id.seq === MAX_U64) {
    if (id.ms === MAX_U64) return null;
    return { ms: succ(id.ms), seq: 0 };
  }
  return { ms: id.ms, seq: succ(id.seq) };
}

/** The previous ID (streamDecrID); null when `id` is 0-0. */
export function decrId(id: StreamId): StreamId | null {
  if (id.seq === 0) {
    if (id.ms === 0) return null;
    return { ms: pred(id.ms), seq: MAX_U64 };
  }
  return { ms: id.ms, seq: pred(id.seq) };
}

/** uint64 increment with wrap-around (entries-added). */
export function u64Inc(v: IdPart): IdPart {
  if (typeof v === "number" && v >= 0 && v < MAX_SAFE) return v + 1;
  return idPart(BigInt.asUintN(64, BigInt(v) + 1n));
}

/** long long increment (entries-read). */
export function i64Inc(v: IdPart): IdPart {
  if (typeof v === "number" && v < MAX_SAFE) return v + 1;
  return idPart(BigInt.asIntN(64, BigInt(v) + 1n));
}

/** The value as C's (long long) cast of a uint64 shows it. */
export function asI64(v: IdPart): IdPart {
  return typeof v === "number" ? v : idPart(BigInt.asIntN(64, v));
}

/** a - b + plus computed in 64-bit two's complement and read as a long long. */
export function i64Sub(a: IdPart, b: IdPart, plus = 0): IdPart {
  if (typeof a === "number" && typeof b === "number") {
    const r = a - b + plus;
    if (Number.isSafeInteger(r)) return r;
  }
  return idPart(BigInt.asIntN(64, BigInt(a) - BigInt(b) + BigInt(plus)));
}

/** A delta between two uint64 ID parts as the int64 Redis stores in the listpack. */
export function delta(a: IdPart, b: IdPart): IdPart {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return BigInt.asIntN(64, BigInt(a) - BigInt(b));
}

/** The 16 bytes of the ID as Redis keys its radix tree (big endian), in hex. */
export function idKeyHex(id: StreamId): string {
  return id.ms.toString(16).padStart(16, "0") + id.seq.toString(16).padStart(16, "0");
}

