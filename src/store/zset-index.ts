// The skiplist encoding's ordered structure, ZIndex: a chunked sorted array (a B+-tree's
// leaves: runs of up to LEAF_MAX entries in parallel member/score arrays, with the first key of
// every leaf in flat arrays and the leaf sizes in a Fenwick tree), so insert, delete, rank,
// by-rank and range lookups are O(log n) with few cache misses.

import { FieldTable } from "./member-table.ts";
import { zcompare, type ScoreRange, LEX_MIN, LEX_MAX, type LexRange, lexGteMin, lexLteMax, type ZCursor } from "./zset-order.ts";
import { arrayBytes, objectBytes, sampledBytes, stringBytes, typedArrayBytes } from "./memory-size.ts";


/** Most entries in a leaf; a full leaf splits in two. */
const LEAF_MAX = 128;
/** A leaf this small merges with a neighbour when both fit in MERGE_MAX. */
const LEAF_MIN = LEAF_MAX >> 2;
const MERGE_MAX = (LEAF_MAX * 3) >> 2;

class Leaf {
  n = 0;
  readonly members: string[] = [];
  /** Grows up to LEAF_MAX: a set of a few members does not pay for a full leaf. */
  scores: Float64Array;
  constructor(capacity: number) {
    this.scores = new Float64Array(capacity);
  }
  /** Makes room for `n` entries. */
  reserve(n: number): void {
    if (n <= this.scores.length) return;
    const grown = new Float64Array(Math.min(LEAF_MAX, Math.max(n, this.scores.length * 2)));
    grown.set(this.scores.subarray(0, this.n));
    this.scores = grown;
  }
}

/** Capacity of a leaf started by a single insert. */
const LEAF_START = 4;

/** Lower bound in a leaf: the first position whose entry is >= (score, member). */
export function leafLowerBound(leaf: Leaf, score: number, member: string): number {
  const scores = leaf.scores;
  const members = leaf.members;
  let lo = 0;
  let hi = leaf.n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const s = scores[mid]!;
    if (s < score || (s === score && members[mid]! < member)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A monotone predicate on entries: false for a prefix of the order, true after it. */
type EntryTest = (score: number, member: string) => boolean;

export class ZIndex {
  /** member -> score, the members as bytes (store/member-table.ts: a lookup costs fewer cache misses than a Map's). */
  readonly dict = new FieldTable<number>();
  leaves: Leaf[] = [];
  /** First key of every leaf, kept in flat arrays for the top-level binary search. */
  firstScore: number[] = [];
  firstMember: string[] = [];
  /** Fenwick tree of leaf sizes (1-based), over `cap` slots (a power of two). */
  private fen = new Int32Array(2);
  private cap = 1;
  /** Live ZSCAN iterators, see commands/zsets/scan.ts. */
  scanState: unknown = null;

  get size(): number {
    return this.dict.size;
  }

  // ---- Fenwick tree

  rebuildCounts(): void {
    const c = this.leaves.length;
    let cap = 1;
    while (cap < c) cap <<= 1;
    if (cap !== this.cap || this.fen.length !== cap + 1) {
      this.fen = new Int32Array(cap + 1);
      this.cap = cap;
    } else this.fen.fill(0);
    const fen = this.fen;
    for (let i = 1; i <= cap; i++) {
      if (i <= c) fen[i]! += this.leaves[i - 1]!.n;
      const j = i + (i & -i);
      if (j <= cap) fen[j]! += fen[i]!;
    }
  }

  private countAdd(li: number, delta: number): void {
    const fen = this.fen;
    const cap = this.cap;
    for (let i = li + 1; i <= cap; i += i & -i) fen[i]! += delta;
  }

  /** Entries in the leaves before leaf li. */
  prefix(li: number): number {
    const fen = this.fen;
    let s = 0;
    for (let i = li; i > 0; i -= i & -i) s += fen[i]!;
    return s;
  }

  /** Leaf holding a rank (0 <= rank < size); the position in it is left in `foundPos`. */
  findRank(rank: number): number {
    const fen = this.fen;
    let pos = 0;
    let rem = rank;
    for (let step = this.cap; step > 0; step >>= 1) {
      const nxt = pos + step;
      if (nxt <= this.cap && fen[nxt]! <= rem) {
        pos = nxt;
        rem -= fen[nxt]!;
      }
    }
    this.foundPos = rem;
    return pos;
  }

  foundPos = 0;

  // ---- locating

  /** The leaf where (score, member) is or would go: the last whose first key <= it, else 0. */
  leafFor(score: number, member: string): number {
    const fs = this.firstScore;
    const fm = this.firstMember;
    let lo = 0;
    let hi = fs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const s = fs[mid]!;
      if (s < score || (s === score && fm[mid]! <= member)) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * First entry for which `test` holds (test false on a prefix of the order): its leaf, with
   * the position in `foundPos`; leaves.length when there is none.
   */
  firstWhere(test: EntryTest): number {
    const fs = this.firstScore;
    const fm = this.firstMember;
    // First leaf whose first entry passes.
    let lo = 0;
    let hi = fs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (test(fs[mid]!, fm[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    if (lo > 0) {
      const leaf = this.leaves[lo - 1]!;
      let a = 1;
      let b = leaf.n;
      while (a < b) {
        const mid = (a + b) >> 1;
        if (test(leaf.scores[mid]!, leaf.members[mid]!)) b = mid;
        else a = mid + 1;
      }
      if (a < leaf.n) {
        this.foundPos = a;
        return lo - 1;
      }
    }
    this.foundPos = 0;
    return lo;
  }

  /** Rank of the first entry passing `test` (size when none). */
  rankWhere(test: EntryTest): number {
    const li = this.firstWhere(test);
    if (li >= this.leaves.length) return this.size;
    return this.prefix(li) + this.foundPos;
  }

  // ---- updates

  /** Inserts (score, member) into the order (the dict is the caller's). */
  insert(score: number, member: string): void {
    if (this.leaves.length === 0) {
      const leaf = new Leaf(LEAF_START);
      leaf.members.push(member);
      leaf.scores[0] = score;
      leaf.n = 1;
      this.leaves.push(leaf);
      this.firstScore.push(score);
      this.firstMember.push(member);
      this.rebuildCounts();
      return;
    }
    let li = this.leafFor(score, member);
    let leaf = this.leaves[li]!;
    let pos = leafLowerBound(leaf, score, member);
    if (leaf.n === LEAF_MAX) {
      const last = li === this.leaves.length - 1;
      if (last && pos === LEAF_MAX) {
        // Appending in order: start a new leaf, keep this one full.
        const fresh = new Leaf(LEAF_START);
        this.leaves.push(fresh);
        this.firstScore.push(score);
        this.firstMember.push(member);
        fresh.members.push(member);
        fresh.scores[0] = score;
        fresh.n = 1;
        this.rebuildCounts();
        return;
      }
      if (li === 0 && pos === 0) {
        const fresh = new Leaf(LEAF_START);
        this.leaves.unshift(fresh);
        this.firstScore.unshift(score);
        this.firstMember.unshift(member);
        fresh.members.push(member);
        fresh.scores[0] = score;
        fresh.n = 1;
        this.rebuildCounts();
        return;
      }
      this.split(li);
      const half = this.leaves[li]!.n;
      if (pos > half) {
        li++;
        pos -= half;
        leaf = this.leaves[li]!;
      } else leaf = this.leaves[li]!;
      this.insertAt(li, leaf, pos, score, member);
      this.rebuildCounts();
      return;
    }
    this.insertAt(li, leaf, pos, score, member);
    this.countAdd(li, 1);
  }

  private insertAt(li: number, leaf: Leaf, pos: number, score: number, member: string): void {
    const n = leaf.n;
    leaf.reserve(n + 1);
    const members = leaf.members;
    const scores = leaf.scores;
    // Shifting by hand: splice allocates its result array, copyWithin costs a native call.
    members.push(member);
    for (let i = n; i > pos; i--) {
      members[i] = members[i - 1]!;
      scores[i] = scores[i - 1]!;
    }
    members[pos] = member;
    scores[pos] = score;
    leaf.n = n + 1;
    if (pos === 0) {
      this.firstScore[li] = score;
      this.firstMember[li] = member;
    }
  }

  /** Splits a full leaf into halves (the caller rebuilds the counts). */
  private split(li: number): void {
    const leaf = this.leaves[li]!;
    const half = leaf.n >> 1;
    const right = new Leaf(LEAF_MAX);
    const moved = leaf.n - half;
    for (let i = 0; i < moved; i++) right.members.push(leaf.members[half + i]!);
    right.scores.set(leaf.scores.subarray(half, leaf.n));
    right.n = moved;
    leaf.members.length = half;
    leaf.n = half;
    this.leaves.splice(li + 1, 0, right);
    this.firstScore.splice(li + 1, 0, right.scores[0]!);
    this.firstMember.splice(li + 1, 0, right.members[0]!);
  }

  /** Removes (score, member), which must be present. */
  remove(score: number, member: string): void {
    const li = this.leafFor(score, member);
    const leaf = this.leaves[li]!;
    const pos = leafLowerBound(leaf, score, member);
    // (The score, not the member: comparing the member would read a string from memory.)
    if (pos >= leaf.n || leaf.scores[pos] !== score) throw new Error("ZIndex: removing a missing entry");
    this.removeAt(li, pos);
  }

  /** Removes the entry at position pos of leaf li, merging or dropping the leaf as needed. */
  removeAt(li: number, pos: number): void {
    const leaf = this.leaves[li]!;
    const n = leaf.n;
    if (n === 1) {
      this.leaves.splice(li, 1);
      this.firstScore.splice(li, 1);
      this.firstMember.splice(li, 1);
      this.rebuildCounts();
      return;
    }
    const members = leaf.members;
    const scores = leaf.scores;
    for (let i = pos + 1; i < n; i++) {
      members[i - 1] = members[i]!;
      scores[i - 1] = scores[i]!;
    }
    members.pop();
    leaf.n = n - 1;
    if (pos === 0) {
      this.firstScore[li] = leaf.scores[0]!;
      this.firstMember[li] = leaf.members[0]!;
    }
    if (leaf.n < LEAF_MIN && this.mergeAround(li)) this.rebuildCounts();
    else this.countAdd(li, -1);
  }

  /** Merges a small leaf into a neighbour when they fit together; true if it did. */
  private mergeAround(li: number): boolean {
    const leaves = this.leaves;
    const leaf = leaves[li]!;
    if (li + 1 < leaves.length && leaf.n + leaves[li + 1]!.n <= MERGE_MAX) {
      this.mergeInto(li, li + 1);
      return true;
    }
    if (li > 0 && leaves[li - 1]!.n + leaf.n <= MERGE_MAX) {
      this.mergeInto(li - 1, li);
      return true;
    }
    return false;
  }

  /** Appends leaf b (= a + 1) to leaf a and drops b. */
  private mergeInto(a: number, b: number): void {
    const left = this.leaves[a]!;
    const right = this.leaves[b]!;
    for (let i = 0; i < right.n; i++) left.members.push(right.members[i]!);
    left.reserve(left.n + right.n);
    left.scores.set(right.scores.subarray(0, right.n), left.n);
    left.n += right.n;
    this.leaves.splice(b, 1);
    this.firstScore.splice(b, 1);
    this.firstMember.splice(b, 1);
  }

  /** Removes `count` entries from rank `start` on (all present); deletes them from the dict. */
  removeRange(start: number, count: number): void {
    if (count <= 0) return;
    let li = this.findRank(start);
    let pos = this.foundPos;
    let left = count;
    const dict = this.dict;
    const firstTouched = li;
    while (left > 0) {
      const leaf = this.leaves[li]!;
      const take = Math.min(left, leaf.n - pos);
      for (let i = pos; i < pos + take; i++) dict.delete(leaf.members[i]!);
      leaf.members.splice(pos, take);
      leaf.scores.copyWithin(pos, pos + take, leaf.n);
      leaf.n -= take;
      left -= take;
      li++;
      pos = 0;
    }
    // Drop emptied leaves, refresh first keys, merge small neighbours.
    let w = firstTouched;
    const leaves = this.leaves;
    const end = li;
    for (let r = firstTouched; r < end; r++) {
      const leaf = leaves[r]!;
      if (leaf.n > 0) leaves[w++] = leaf;
    }
    const removedLeaves = end - w;
    if (removedLeaves > 0) leaves.splice(w, removedLeaves);
    this.firstScore.length = leaves.length;
    this.firstMember.length = leaves.length;
    for (let i = firstTouched; i < leaves.length; i++) {
      this.firstScore[i] = leaves[i]!.scores[0]!;
      this.firstMember[i] = leaves[i]!.members[0]!;
    }
    // Around the cut: at most two leaves there are undersized.
    for (let i = Math.max(0, firstTouched - 1); i <= Math.min(w, leaves.length - 1) && i < leaves.length; i++) {
      if (leaves[i]!.n < LEAF_MIN && this.mergeAround(i)) i--;
    }
    this.rebuildCounts();
  }

  /** Builds from entries already in order (no duplicates). */
  static fromSorted(members: string[], scores: ArrayLike<number>, order: ArrayLike<number> | null, n: number): ZIndex {
    const z = new ZIndex();
    for (let i = 0; i < n; i++) {
      const k = order ? order[i]! : i;
      z.dict.set(members[k]!, scores[k]!);
    }
    z.fillSorted(members, scores, order, n);
    return z;
  }

  fillSorted(members: string[], scores: ArrayLike<number>, order: ArrayLike<number> | null, n: number): void {
    let leaf: Leaf | null = null;
    for (let i = 0; i < n; i++) {
      const k = order ? order[i]! : i;
      if (leaf === null || leaf.n === LEAF_MAX) {
        leaf = new Leaf(Math.min(LEAF_MAX, n - i));
        this.leaves.push(leaf);
        this.firstScore.push(scores[k]!);
        this.firstMember.push(members[k]!);
      }
      leaf.members.push(members[k]!);
      leaf.scores[leaf.n++] = scores[k]!;
    }
    this.rebuildCounts();
  }

  /**
   * Heap bytes: the member -> score table, the member strings of the leaves (estimated from
   * the first `samples`, as Redis samples a skiplist's first nodes), and the leaves with their
   * arrays.
   */
  memoryUsage(samples: number): number {
    const n = this.dict.size;
    let bytes = objectBytes(8) + this.dict.memoryUsage() + sampledBytes(this.dict.keys(), n, samples, stringBytes);
    for (const leaf of this.leaves) bytes += objectBytes(3) + arrayBytes(leaf.n) + typedArrayBytes(leaf.scores.byteLength);
    return bytes + 3 * arrayBytes(this.leaves.length) + typedArrayBytes(this.fen.byteLength);
  }

  clone(): ZIndex {
    const z = new ZIndex();
    for (const [m, s] of this.dict) z.dict.set(m, s);
    for (const leaf of this.leaves) {
      const copy = new Leaf(leaf.scores.length);
      for (let i = 0; i < leaf.n; i++) copy.members.push(leaf.members[i]!);
      copy.scores.set(leaf.scores.subarray(0, leaf.n));
      copy.n = leaf.n;
      z.leaves.push(copy);
    }
    z.firstScore = this.firstScore.slice();
    z.firstMember = this.firstMember.slice();
    z.rebuildCounts();
    return z;
  }

  checkInvariants(): void {
    let count = 0;
    let prevS = 0;
    let prevM: string | null = null;
    if (this.firstScore.length !== this.leaves.length || this.firstMember.length !== this.leaves.length) throw new Error("first-key arrays out of step");
    for (let li = 0; li < this.leaves.length; li++) {
      const leaf = this.leaves[li]!;
      if (leaf.n === 0) throw new Error(`empty leaf ${li}`);
      if (leaf.n > LEAF_MAX) throw new Error(`overfull leaf ${li}`);
      if (leaf.members.length !== leaf.n) throw new Error(`leaf ${li}: ${leaf.members.length} members for n=${leaf.n}`);
      if (!Object.is(this.firstScore[li], leaf.scores[0]) || this.firstMember[li] !== leaf.members[0]) throw new Error(`stale first key of leaf ${li}`);
      if (this.prefix(li) !== count) throw new Error(`count prefix of leaf ${li} is ${this.prefix(li)}, not ${count}`);
      if (this.findRank(count) !== li || this.foundPos !== 0) throw new Error(`rank ${count} not found at the start of leaf ${li}`);
      for (let i = 0; i < leaf.n; i++) {
        const m = leaf.members[i]!;
        const s = leaf.scores[i]!;
        if (prevM !== null && zcompare(prevS, prevM, s, m) >= 0) throw new Error(`order broken at ${m}`);
        if (!Object.is(this.dict.get(m), s)) throw new Error(`dict disagrees at ${m}`);
        prevS = s;
        prevM = m;
        count++;
      }
    }
    if (count !== this.dict.size) throw new Error(`size ${count} != dict ${this.dict.size}`);
    if (this.prefix(this.leaves.length) !== count) throw new Error("count total wrong");
  }
}

export class IndexCursor implements ZCursor {
  member = "";
  score = 0;
  constructor(
    private readonly z: ZIndex,
    private li: number,
    private pos: number,
    private readonly reverse: boolean,
  ) {}
  next(): boolean {
    const leaves = this.z.leaves;
    const li = this.li;
    if (li < 0 || li >= leaves.length) return false;
    const leaf = leaves[li]!;
    const pos = this.pos;
    this.member = leaf.members[pos]!;
    this.score = leaf.scores[pos]!;
    if (this.reverse) {
      if (pos > 0) this.pos = pos - 1;
      else {
        this.li = li - 1;
        if (li > 0) this.pos = leaves[li - 1]!.n - 1;
      }
    } else if (pos + 1 < leaf.n) this.pos = pos + 1;
    else {
      this.li = li + 1;
      this.pos = 0;
    }
    return true;
  }
}

export const EMPTY_CURSOR: ZCursor = {
  member: "",
  score: 0,
  next: () => false,
};

// Predicates for ZIndex.firstWhere, bound to one range at a time.
let curScore: ScoreRange = { min: 0, max: 0, minex: false, maxex: false };
let curLex: LexRange = { min: LEX_MIN, max: LEX_MAX, minex: false, maxex: false };
const passesMin: EntryTest = (s) => (curScore.minex ? s > curScore.min : s >= curScore.min);
const beyondMax: EntryTest = (s) => (curScore.maxex ? s >= curScore.max : s > curScore.max);
const passesLexMin: EntryTest = (_s, m) => lexGteMin(m, curLex);
const beyondLexMax: EntryTest = (_s, m) => !lexLteMax(m, curLex);

/** Rank of the first entry within r's minimum (or the size). */
export function rankFromMin(index: ZIndex, r: ScoreRange): number {
  curScore = r;
  return index.rankWhere(passesMin);
}

/** Rank of the first entry beyond r's maximum (or the size). */
export function rankBeyondMax(index: ZIndex, r: ScoreRange): number {
  curScore = r;
  return index.rankWhere(beyondMax);
}

/** Rank of the first entry within r's lex minimum (or the size). */
export function rankFromLexMin(index: ZIndex, r: LexRange): number {
  curLex = r;
  return index.rankWhere(passesLexMin);
}

/** Rank of the first entry beyond r's lex maximum (or the size). */
export function rankBeyondLexMax(index: ZIndex, r: LexRange): number {
  curLex = r;
  return index.rankWhere(beyondLexMax);
}
