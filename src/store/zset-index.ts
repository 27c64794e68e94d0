// The skiplist encoding's ordered structure, ZIndex: a chunked sorted array (a B+-tree's
// leaves: runs of up to LEAF_MAX entries in parallel entry/score arrays, with the first key of
// every leaf in flat arrays and the leaf sizes in a Fenwick tree), so insert, delete, rank,
// by-rank and range lookups are O(log n) with few cache misses.
//
// The member -> score table (`dict`, a ScoreTable: members as bytes) numbers its entries; the
// leaves hold those numbers, not member strings. A member string per entry cost ~56 bytes
// (the string and its array slot) and made every large set millions of objects for the
// collector; an entry number costs 4. Comparisons of members (only between equal scores)
// read the table's bytes. When the table renumbers its entries (half deleted), it hands the
// remapping to `remapEntries`.

import { ScoreTable } from "./member-table.ts";
import { type ScoreRange, LEX_MIN, LEX_MAX, type LexRange, lexGteMin, lexLteMax, type ZCursor } from "./zset-order.ts";
import { arrayBytes, objectBytes, typedArrayBytes } from "./memory-size.ts";
import type { BulkSink } from "./packed-entries.ts";

/** Most entries in a leaf; a full leaf splits in two. */
const LEAF_MAX = 128;
/** A leaf this small merges with a neighbour when both fit in MERGE_MAX. */
const LEAF_MIN = LEAF_MAX >> 2;
const MERGE_MAX = (LEAF_MAX * 3) >> 2;

class Leaf {
  n = 0;
  /** The dict's entry numbers, in order. */
  ents: Int32Array;
  /** Grows up to LEAF_MAX with ents: a set of a few members does not pay for a full leaf. */
  scores: Float64Array;
  constructor(capacity: number) {
    this.ents = new Int32Array(capacity);
    this.scores = new Float64Array(capacity);
  }
  /** Makes room for `n` entries. */
  reserve(n: number): void {
    if (n <= this.scores.length) return;
    const cap = Math.min(LEAF_MAX, Math.max(n, this.scores.length * 2));
    const scores = new Float64Array(cap);
    scores.set(this.scores.subarray(0, this.n));
    this.scores = scores;
    const ents = new Int32Array(cap);
    ents.set(this.ents.subarray(0, this.n));
    this.ents = ents;
  }
}

/** Capacity of a leaf started by a single insert. */
const LEAF_START = 4;

/** Lower bound in a leaf: the first position whose entry is >= (score, member). */
function leafLowerBound(dict: ScoreTable, leaf: Leaf, score: number, member: string): number {
  const scores = leaf.scores;
  const ents = leaf.ents;
  let lo = 0;
  let hi = leaf.n;
  // Common prefixes of `member` with the entries bounding the range below and above, when they
  // have its score (else 0): every entry between them shares the smaller one, so a comparison
  // starts after it (members that share a long prefix, "element:0000...", compare in a few bytes).
  let below = 0;
  let above = 0;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const s = scores[mid]!;
    if (s < score) {
      lo = mid + 1;
      below = 0;
    } else if (s > score) {
      hi = mid;
      above = 0;
    } else if (dict.compareEntryFrom(ents[mid]!, member, below < above ? below : above) < 0) {
      lo = mid + 1;
      below = dict.lastPrefix;
    } else {
      hi = mid;
      above = dict.lastPrefix;
    }
  }
  return lo;
}

/** A monotone predicate on entries (score, dict entry): false for a prefix of the order, true after it. */
type EntryTest = (score: number, entry: number) => boolean;

export class ZIndex {
  /** member -> score, the members as bytes (store/member-table.ts: a lookup costs fewer cache misses than a Map's). */
  dict = new ScoreTable();
  leaves: Leaf[] = [];
  /** First key of every leaf (score, dict entry), kept in flat arrays for the top-level binary search. */
  firstScore: number[] = [];
  firstEntry: number[] = [];
  /** Fenwick tree of leaf sizes (1-based), over `cap` slots (a power of two). */
  private fen = new Int32Array(2);
  private cap = 1;
  /** Live ZSCAN iterators, see commands/zsets/scan.ts. */
  scanState: unknown = null;

  constructor() {
    this.dict.onRenumber = (remap) => this.remapEntries(remap);
  }

  get size(): number {
    return this.dict.size;
  }

  /** The dict renumbered its entries: the leaves follow. */
  private remapEntries(remap: Int32Array): void {
    const leaves = this.leaves;
    for (let li = 0; li < leaves.length; li++) {
      const leaf = leaves[li]!;
      const ents = leaf.ents;
      for (let i = 0; i < leaf.n; i++) ents[i] = remap[ents[i]!]!;
      this.firstEntry[li] = ents[0]!;
    }
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
    const fe = this.firstEntry;
    const dict = this.dict;
    let lo = 0;
    let hi = fs.length - 1;
    // Prefixes shared with the bounding first keys, as in leafLowerBound.
    let below = 0;
    let above = 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const s = fs[mid]!;
      if (s < score) {
        lo = mid;
        below = 0;
      } else if (s > score) {
        hi = mid - 1;
        above = 0;
      } else if (dict.compareEntryFrom(fe[mid]!, member, below < above ? below : above) <= 0) {
        lo = mid;
        below = dict.lastPrefix;
      } else {
        hi = mid - 1;
        above = dict.lastPrefix;
      }
    }
    return lo;
  }

  /** 0-based rank of (score, member), which is present. */
  rankOf(score: number, member: string): number {
    const li = this.leafFor(score, member);
    return this.prefix(li) + leafLowerBound(this.dict, this.leaves[li]!, score, member);
  }

  /**
   * First entry for which `test` holds (test false on a prefix of the order): its leaf, with
   * the position in `foundPos`; leaves.length when there is none.
   */
  firstWhere(test: EntryTest): number {
    const fs = this.firstScore;
    const fe = this.firstEntry;
    // First leaf whose first entry passes.
    let lo = 0;
    let hi = fs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (test(fs[mid]!, fe[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    if (lo > 0) {
      const leaf = this.leaves[lo - 1]!;
      let a = 1;
      let b = leaf.n;
      while (a < b) {
        const mid = (a + b) >> 1;
        if (test(leaf.scores[mid]!, leaf.ents[mid]!)) b = mid;
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

  /** Adds (member, score), absent from the set, to the dict and the order. */
  add(member: string, score: number): void {
    const e = this.dict.setEntry(member, score);
    this.insert(score, member, e);
  }

  /** Moves a present member from oldScore to newScore. */
  move(member: string, oldScore: number, newScore: number): void {
    const e = this.removeEntry(oldScore, member);
    this.dict.setScoreAt(e, newScore);
    this.insert(newScore, member, e);
  }

  /** Deletes a present member: from the order first, then from the dict (which may renumber). */
  delete(member: string, score: number): void {
    this.removeEntry(score, member);
    this.dict.delete(member);
  }

  /** Inserts (score, member), whose dict entry is e, into the order. */
  private insert(score: number, member: string, e: number): void {
    if (this.leaves.length === 0) {
      this.pushLeaf(score, e, false);
      return;
    }
    let li = this.leafFor(score, member);
    let leaf = this.leaves[li]!;
    let pos = leafLowerBound(this.dict, leaf, score, member);
    if (leaf.n === LEAF_MAX) {
      const last = li === this.leaves.length - 1;
      if (last && pos === LEAF_MAX) {
        // Appending in order: start a new leaf, keep this one full.
        this.pushLeaf(score, e, false);
        return;
      }
      if (li === 0 && pos === 0) {
        this.pushLeaf(score, e, true);
        return;
      }
      this.split(li);
      const half = this.leaves[li]!.n;
      if (pos > half) {
        li++;
        pos -= half;
      }
      leaf = this.leaves[li]!;
      this.insertAt(li, leaf, pos, score, e);
      this.rebuildCounts();
      return;
    }
    this.insertAt(li, leaf, pos, score, e);
    this.countAdd(li, 1);
  }

  /** A new leaf of one entry, last or (front) first. */
  private pushLeaf(score: number, e: number, front: boolean): void {
    const fresh = new Leaf(LEAF_START);
    fresh.ents[0] = e;
    fresh.scores[0] = score;
    fresh.n = 1;
    if (front) {
      this.leaves.unshift(fresh);
      this.firstScore.unshift(score);
      this.firstEntry.unshift(e);
    } else {
      this.leaves.push(fresh);
      this.firstScore.push(score);
      this.firstEntry.push(e);
    }
    this.rebuildCounts();
  }

  private insertAt(li: number, leaf: Leaf, pos: number, score: number, e: number): void {
    const n = leaf.n;
    leaf.reserve(n + 1);
    const ents = leaf.ents;
    const scores = leaf.scores;
    // Shifting by hand: copyWithin costs a native call.
    for (let i = n; i > pos; i--) {
      ents[i] = ents[i - 1]!;
      scores[i] = scores[i - 1]!;
    }
    ents[pos] = e;
    scores[pos] = score;
    leaf.n = n + 1;
    if (pos === 0) {
      this.firstScore[li] = score;
      this.firstEntry[li] = e;
    }
  }

  /** Splits a full leaf into halves (the caller rebuilds the counts). */
  private split(li: number): void {
    const leaf = this.leaves[li]!;
    const half = leaf.n >> 1;
    const right = new Leaf(LEAF_MAX);
    const moved = leaf.n - half;
    right.ents.set(leaf.ents.subarray(half, leaf.n));
    right.scores.set(leaf.scores.subarray(half, leaf.n));
    right.n = moved;
    leaf.n = half;
    this.leaves.splice(li + 1, 0, right);
    this.firstScore.splice(li + 1, 0, right.scores[0]!);
    this.firstEntry.splice(li + 1, 0, right.ents[0]!);
  }

  /** Removes (score, member), which must be present, from the order; returns its dict entry. */
  private removeEntry(score: number, member: string): number {
    const li = this.leafFor(score, member);
    const leaf = this.leaves[li]!;
    const pos = leafLowerBound(this.dict, leaf, score, member);
    // (The score, not the member: comparing the member would read its bytes from memory.)
    if (pos >= leaf.n || leaf.scores[pos] !== score) throw new Error("ZIndex: removing a missing entry");
    const e = leaf.ents[pos]!;
    this.removeAt(li, pos);
    return e;
  }

  /** Removes the entry at position pos of leaf li, merging or dropping the leaf as needed. */
  private removeAt(li: number, pos: number): void {
    const leaf = this.leaves[li]!;
    const n = leaf.n;
    if (n === 1) {
      this.leaves.splice(li, 1);
      this.firstScore.splice(li, 1);
      this.firstEntry.splice(li, 1);
      this.rebuildCounts();
      return;
    }
    const ents = leaf.ents;
    const scores = leaf.scores;
    for (let i = pos + 1; i < n; i++) {
      ents[i - 1] = ents[i]!;
      scores[i - 1] = scores[i]!;
    }
    leaf.n = n - 1;
    if (pos === 0) {
      this.firstScore[li] = scores[0]!;
      this.firstEntry[li] = ents[0]!;
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
    left.reserve(left.n + right.n);
    left.ents.set(right.ents.subarray(0, right.n), left.n);
    left.scores.set(right.scores.subarray(0, right.n), left.n);
    left.n += right.n;
    this.leaves.splice(b, 1);
    this.firstScore.splice(b, 1);
    this.firstEntry.splice(b, 1);
  }

  /** Removes `count` entries from rank `start` on (all present), from the order and the dict. */
  removeRange(start: number, count: number): void {
    if (count <= 0) return;
    let li = this.findRank(start);
    let pos = this.foundPos;
    let left = count;
    const gone = new Int32Array(count);
    let g = 0;
    const firstTouched = li;
    while (left > 0) {
      const leaf = this.leaves[li]!;
      const take = Math.min(left, leaf.n - pos);
      gone.set(leaf.ents.subarray(pos, pos + take), g);
      g += take;
      leaf.ents.copyWithin(pos, pos + take, leaf.n);
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
    this.firstEntry.length = leaves.length;
    for (let i = firstTouched; i < leaves.length; i++) {
      this.firstScore[i] = leaves[i]!.scores[0]!;
      this.firstEntry[i] = leaves[i]!.ents[0]!;
    }
    // Around the cut: at most two leaves there are undersized.
    for (let i = Math.max(0, firstTouched - 1); i <= Math.min(w, leaves.length - 1) && i < leaves.length; i++) {
      if (leaves[i]!.n < LEAF_MIN && this.mergeAround(i)) i--;
    }
    this.rebuildCounts();
    // Last: the dict may renumber, and the leaves no longer hold these entries.
    this.dict.deleteEntries(gone, g);
  }

  /** Builds from entries already in order (no duplicates). */
  static fromSorted(members: string[], scores: ArrayLike<number>, order: ArrayLike<number> | null, n: number): ZIndex {
    const z = new ZIndex();
    z.reserveFor(members, n);
    for (let i = 0; i < n; i++) z.dict.set(members[i]!, scores[i]!);
    z.fillSorted(scores, order, n);
    return z;
  }

  /** Sizes the dict for the first n of `members` (all about to be added). */
  reserveFor(members: string[], n: number): void {
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += members[i]!.length;
    this.dict.reserve(n, bytes);
  }

  /**
   * Builds the order over a dict filled with the n entries in their given order (entry k is
   * the k-th given), `order` listing them sorted (null: already sorted).
   */
  fillSorted(scores: ArrayLike<number>, order: ArrayLike<number> | null, n: number): void {
    let leaf: Leaf | null = null;
    for (let i = 0; i < n; i++) {
      const k = order ? order[i]! : i;
      if (leaf === null || leaf.n === LEAF_MAX) {
        leaf = new Leaf(Math.min(LEAF_MAX, n - i));
        this.leaves.push(leaf);
        this.firstScore.push(scores[k]!);
        this.firstEntry.push(k);
      }
      leaf.ents[leaf.n] = k;
      leaf.scores[leaf.n++] = scores[k]!;
    }
    this.rebuildCounts();
  }

  /** Heap bytes: the member -> score table and the leaves with their arrays. */
  memoryUsage(_samples: number): number {
    let bytes = objectBytes(8) + this.dict.memoryUsage();
    for (const leaf of this.leaves) bytes += objectBytes(3) + typedArrayBytes(leaf.ents.byteLength) + typedArrayBytes(leaf.scores.byteLength);
    return bytes + 3 * arrayBytes(this.leaves.length) + typedArrayBytes(this.fen.byteLength);
  }

  clone(): ZIndex {
    const z = new ZIndex();
    z.dict = this.dict.clone();
    z.dict.onRenumber = (remap) => z.remapEntries(remap);
    for (const leaf of this.leaves) {
      const copy = new Leaf(leaf.scores.length);
      copy.ents.set(leaf.ents.subarray(0, leaf.n));
      copy.scores.set(leaf.scores.subarray(0, leaf.n));
      copy.n = leaf.n;
      z.leaves.push(copy);
    }
    z.firstScore = this.firstScore.slice();
    z.firstEntry = this.firstEntry.slice();
    z.rebuildCounts();
    return z;
  }

  checkInvariants(): void {
    let count = 0;
    let prevS = 0;
    let prevE = -1;
    const dict = this.dict;
    if (this.firstScore.length !== this.leaves.length || this.firstEntry.length !== this.leaves.length) throw new Error("first-key arrays out of step");
    for (let li = 0; li < this.leaves.length; li++) {
      const leaf = this.leaves[li]!;
      if (leaf.n === 0) throw new Error(`empty leaf ${li}`);
      if (leaf.n > LEAF_MAX) throw new Error(`overfull leaf ${li}`);
      if (!Object.is(this.firstScore[li], leaf.scores[0]) || this.firstEntry[li] !== leaf.ents[0]) throw new Error(`stale first key of leaf ${li}`);
      if (this.prefix(li) !== count) throw new Error(`count prefix of leaf ${li} is ${this.prefix(li)}, not ${count}`);
      if (this.findRank(count) !== li || this.foundPos !== 0) throw new Error(`rank ${count} not found at the start of leaf ${li}`);
      for (let i = 0; i < leaf.n; i++) {
        const e = leaf.ents[i]!;
        const s = leaf.scores[i]!;
        if (e < 0 || e >= dict.entryLimit || !dict.isLive(e)) throw new Error(`leaf ${li} holds dead entry ${e}`);
        const m = dict.memberAt(e);
        if (prevE >= 0 && (prevS > s || (prevS === s && dict.compareEntries(prevE, e) >= 0))) throw new Error(`order broken at ${m}`);
        if (!Object.is(dict.get(m), s) || !Object.is(dict.scoreAt(e), s)) throw new Error(`dict disagrees at ${m}`);
        prevS = s;
        prevE = e;
        count++;
      }
    }
    if (count !== this.dict.size) throw new Error(`size ${count} != dict ${this.dict.size}`);
    if (this.prefix(this.leaves.length) !== count) throw new Error("count total wrong");
  }
}

export class IndexCursor implements ZCursor {
  score = 0;
  /** The current entry of the dict (its member is made on demand: a range reply may not need it as a string). */
  entry = -1;
  constructor(
    private readonly z: ZIndex,
    private li: number,
    private pos: number,
    private readonly reverse: boolean,
  ) {}
  /** The current member (read it before the set changes). */
  get member(): string {
    return this.z.dict.memberAt(this.entry);
  }
  writeMember(out: BulkSink): void {
    this.z.dict.writeMemberAt(this.entry, out);
  }
  next(): boolean {
    const leaves = this.z.leaves;
    const li = this.li;
    if (li < 0 || li >= leaves.length) return false;
    const leaf = leaves[li]!;
    const pos = this.pos;
    this.entry = leaf.ents[pos]!;
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
  writeMember: () => {},
};

// Predicates for ZIndex.firstWhere, bound to one range at a time.
// (Module scratch for the duration of one lookup, not state: set right before firstWhere.)
let curScore: ScoreRange = { min: 0, max: 0, minex: false, maxex: false };
let curLex: LexRange = { min: LEX_MIN, max: LEX_MAX, minex: false, maxex: false };
let curDict: ScoreTable | null = null;
const passesMin: EntryTest = (s) => (curScore.minex ? s > curScore.min : s >= curScore.min);
const beyondMax: EntryTest = (s) => (curScore.maxex ? s >= curScore.max : s > curScore.max);
const passesLexMin: EntryTest = (_s, e) => lexGteMin(curDict!.memberAt(e), curLex);
const beyondLexMax: EntryTest = (_s, e) => !lexLteMax(curDict!.memberAt(e), curLex);

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
  curDict = index.dict;
  const rank = index.rankWhere(passesLexMin);
  curDict = null;
  return rank;
}

/** Rank of the first entry beyond r's lex maximum (or the size). */
export function rankBeyondLexMax(index: ZIndex, r: LexRange): number {
  curLex = r;
  curDict = index.dict;
  const rank = index.rankWhere(beyondLexMax);
  curDict = null;
  return rank;
}
