// A Redis set of latin1 strings. `encoding` is what OBJECT ENCODING reports (intset while all
// members are integers and few, hashtable; "listpack" only for a set loaded from a 7.2+ RDB when
// configured so, treated like a hashtable by the commands); the set commands maintain it.
//
// Order matters where Redis's is deterministic: an intset is a sorted array of integers, so
// SMEMBERS, SSCAN, SINTER... of an intset reply in ascending numeric order; `ordered()` gives
// that order (sorted lazily, cached until the next change). Listpack and hashtable sets iterate
// in insertion order (Redis's hashtable order is arbitrary; a listpack's is insertion order).

import { RandomIndex, type ScanCursors } from "./hash.ts";

export type SetEncoding = "intset" | "listpack" | "hashtable";

const MAX_I64 = "9223372036854775807";
const MIN_I64_DIGITS = "9223372036854775808";

/**
 * Whether a member can live in an intset: the canonical decimal form of a signed 64-bit
 * integer (Redis's string2ll: no '+', no leading zeros, no "-0", no spaces).
 */
export function isIntsetMember(s: string): boolean {
  const len = s.length;
  if (len === 0 || len > 20) return false;
  let i = 0;
  const negative = s.charCodeAt(0) === 45; /* '-' */
  if (negative) {
    i = 1;
    if (len === 1) return false;
  }
  const first = s.charCodeAt(i);
  if (first === 48 /* '0' */) return len === 1;
  if (first < 49 || first > 57) return false;
  for (let j = i + 1; j < len; j++) {
    const ch = s.charCodeAt(j);
    if (ch < 48 || ch > 57) return false;
  }
  const digits = len - i;
  if (digits < 19) return true;
  if (digits > 19) return false;
  const body = negative ? s.slice(1) : s;
  return body <= (negative ? MIN_I64_DIGITS : MAX_I64);
}

/** Orders canonical integer strings numerically (exact for the whole int64 range). */
export function compareIntStrings(a: string, b: string): number {
  const na = a.charCodeAt(0) === 45;
  const nb = b.charCodeAt(0) === 45;
  if (na !== nb) return na ? -1 : 1;
  if (a.length !== b.length) return na ? b.length - a.length : a.length - b.length;
  if (a === b) return 0;
  return (a < b) !== na ? -1 : 1;
}

/** set-max-intset-entries as setTypeAdd applies it (capped at 2^30 by intset internals). */
export function intsetLimit(configured: number): number {
  return configured >= 1 << 30 ? 1 << 30 : configured;
}

/**
 * Redis's setTypeCreate: an empty set of the encoding its first member calls for (intset for
 * an integer, hashtable otherwise; the caller adds the member itself).
 */
export function newSetFor(firstMember: string): SetValue {
  const s = new SetValue();
  s.encoding = isIntsetMember(firstMember) ? "intset" : "hashtable";
  return s;
}

export class SetValue extends Set<string> {
  encoding: SetEncoding = "hashtable";
  /** Members in ascending numeric order while intset-encoded (null: not computed / stale). */
  private sortedMembers: string[] | null = null;
  /** Random access for SPOP/SRANDMEMBER, built lazily. */
  private randomIndex: RandomIndex | null = null;
  /** SSCAN iterations in progress over a hashtable-encoded set (see commands/hashes-scan.ts). */
  scanCursors: ScanCursors<string> | null = null;

  override add(member: string): this {
    // Called by the Set constructor before fields exist: the optional chains cover that.
    if (!super.has(member)) {
      super.add(member);
      this.sortedMembers = null;
      this.randomIndex?.added(member);
    }
    return this;
  }

  override delete(member: string): boolean {
    if (!super.delete(member)) return false;
    this.sortedMembers = null;
    if (this.randomIndex && !this.randomIndex.removed(member, this.size)) this.randomIndex = null;
    return true;
  }

  override clear(): void {
    super.clear();
    this.sortedMembers = null;
    this.randomIndex = null;
    this.scanCursors = null;
  }

  /**
   * Redis's setTypeAdd: adds a member and keeps the encoding as Redis 7.0 does (an intset
   * becomes a hashtable for good when a non-integer arrives or it grows past
   * `maxIntsetEntries`). Returns whether the member was new. One hash lookup per call.
   */
  addMember(member: string, maxIntsetEntries: number): boolean {
    const before = this.size;
    if (this.encoding === "intset" && !isIntsetMember(member)) this.encoding = "hashtable";
    super.add(member);
    if (this.size === before) return false;
    this.sortedMembers = null;
    this.randomIndex?.added(member);
    if (this.encoding === "intset" && this.size > maxIntsetEntries) this.encoding = "hashtable";
    return true;
  }

  /** The members in the order Redis iterates them (ascending for an intset). */
  ordered(): Iterable<string> {
    if (this.encoding !== "intset") return this;
    if (this.sortedMembers === null) this.sortedMembers = [...this].sort(compareIntStrings);
    return this.sortedMembers;
  }

  /** A uniformly random member; the set must not be empty. */
  randomMember(): string {
    if (!this.randomIndex) this.randomIndex = new RandomIndex(this);
    return this.randomIndex.random(this);
  }

  /** Removes and returns a uniformly random member (SPOP); the set must not be empty. */
  popRandom(): string {
    const m = this.randomMember();
    this.randomIndex!.removeLastPicked();
    super.delete(m);
    this.sortedMembers = null;
    return m;
  }
}
