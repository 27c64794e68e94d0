// A Redis sorted set: a member -> score map plus a skiplist ordered by (score, member) whose
// links carry spans, so rank queries and rank ranges are O(log n) as in Redis's zskiplist
// (t_zset.c). Members compare as bytes (latin1 strings compare by char code, which is byte
// order, and a shorter prefix sorts first, exactly like sdscmp).
//
// Redis keeps small sorted sets in a listpack and big ones in a skiplist; both orders are the
// same, so one structure serves both here and `encoding` only records what Redis would use.
// Where the two encodings of Redis behave differently the difference is reproduced:
// - a listpack stores an integral score as an integer, so -0 becomes 0 (see `add`);
// - lex range lookups scan a listpack linearly, while a skiplist descends its levels (the two
//   only differ on sets whose scores are not all equal, where Redis documents no order).

const MAX_LEVEL = 32;
const P = 0.25;

export class ZNode {
  /** forward[i]: next node on level i; span[i]: how many nodes that link skips over. */
  readonly forward: Array<ZNode | null>;
  readonly span: number[];
  backward: ZNode | null = null;
  constructor(
    public member: string,
    public score: number,
    level: number,
  ) {
    this.forward = new Array(level).fill(null);
    this.span = new Array(level).fill(0);
  }
}

function randomLevel(): number {
  let level = 1;
  while (level < MAX_LEVEL && Math.random() < P) level++;
  return level;
}

/** Order of (score, member): by score, then by member bytes. */
export function zcompare(s1: number, m1: string, s2: number, m2: string): number {
  if (s1 < s2) return -1;
  if (s1 > s2) return 1;
  return m1 < m2 ? -1 : m1 > m2 ? 1 : 0;
}

/** A score interval as ZRANGEBYSCORE parses it: "(" makes an end exclusive. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

export function scoreGteMin(value: number, r: ScoreRange): boolean {
  return r.minex ? value > r.min : value >= r.min;
}

export function scoreLteMax(value: number, r: ScoreRange): boolean {
  return r.maxex ? value < r.max : value <= r.max;
}

/** The "-" and "+" ends of a lex range: below and above every string. */
export const LEX_MIN: unique symbol = Symbol("lex-min");
export const LEX_MAX: unique symbol = Symbol("lex-max");
export type LexBound = string | typeof LEX_MIN | typeof LEX_MAX;

/** A member interval as ZRANGEBYLEX parses it ("[a", "(a", "-", "+"). */
export interface LexRange {
  min: LexBound;
  max: LexBound;
  minex: boolean;
  maxex: boolean;
}

/** Redis's sdscmplex: byte order, with LEX_MIN / LEX_MAX as the infinities. */
export function lexCompare(a: LexBound, b: LexBound): number {
  if (a === b) return 0;
  if (a === LEX_MIN || b === LEX_MAX) return -1;
  if (a === LEX_MAX || b === LEX_MIN) return 1;
  return a < b ? -1 : 1;
}

export function lexGteMin(value: string, r: LexRange): boolean {
  const c = lexCompare(value, r.min);
  return r.minex ? c > 0 : c >= 0;
}

export function lexLteMax(value: string, r: LexRange): boolean {
  const c = lexCompare(value, r.max);
  return r.maxex ? c < 0 : c <= 0;
}

/** Whether a lex range can hold anything at all (min below max). */
export function lexRangeEmpty(r: LexRange): boolean {
  const c = lexCompare(r.min, r.max);
  return c > 0 || (c === 0 && (r.minex || r.maxex));
}

export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

export type ZSetEncoding = "listpack" | "skiplist";

export class ZSetValue {
  readonly dict = new Map<string, number>();
  private readonly header = new ZNode("", 0, MAX_LEVEL);
  private tail: ZNode | null = null;
  private level = 1;
  /** What OBJECT ENCODING reports; maintained by the zset commands (Redis 7.0 rules). */
  encoding: ZSetEncoding = "listpack";
  /** Live iterators of ZSCAN calls in progress (cursor -> position), see commands/zsets-scan.ts. */
  scanState: unknown = null;
  /** Shared scratch array for the search paths (commands run one at a time). */
  private static readonly update: ZNode[] = new Array(MAX_LEVEL);
  private static readonly rankScratch: number[] = new Array(MAX_LEVEL).fill(0);

  get size(): number {
    return this.dict.size;
  }

  score(member: string): number | undefined {
    return this.dict.get(member);
  }

  /**
   * Adds or updates a member. Returns true if it was new. In listpack encoding an integral
   * score is stored as an integer by Redis, so -0 is kept as 0.
   */
  add(member: string, score: number): boolean {
    if (score === 0 && this.encoding === "listpack") score = 0;
    const old = this.dict.get(member);
    if (old !== undefined) {
      if (old !== score) this.updateScore(member, old, score);
      return false;
    }
    this.insert(member, score);
    return true;
  }

  /** Inserts a member known to be absent. */
  insert(member: string, score: number): ZNode {
    const node = this.slInsert(score, member);
    this.dict.set(member, score);
    return node;
  }

  /** Changes the score of a present member (Redis's zslUpdateScore: in place when the order allows). */
  updateScore(member: string, oldScore: number, newScore: number): void {
    const update = ZSetValue.update;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && (next.score < oldScore || (next.score === oldScore && next.member < member))) {
        x = next;
        next = x.forward[i];
      }
      update[i] = x;
    }
    const node = x.forward[0]!;
    const prev = node.backward;
    const after = node.forward[0];
    if ((prev === null || prev.score < newScore) && (after === null || after.score > newScore)) {
      node.score = newScore;
    } else {
      this.deleteNode(node, update);
      this.slInsert(newScore, member);
    }
    this.dict.set(member, newScore);
  }

  delete(member: string): boolean {
    const old = this.dict.get(member);
    if (old === undefined) return false;
    const update = ZSetValue.update;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && (next.score < old || (next.score === old && next.member < member))) {
        x = next;
        next = x.forward[i];
      }
      update[i] = x;
    }
    this.deleteNode(x.forward[0]!, update);
    this.dict.delete(member);
    return true;
  }

  private slInsert(score: number, member: string): ZNode {
    const update = ZSetValue.update;
    const rank = ZSetValue.rankScratch;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      rank[i] = i === this.level - 1 ? 0 : rank[i + 1]!;
      let next = x.forward[i];
      while (next && (next.score < score || (next.score === score && next.member < member))) {
        rank[i]! += x.span[i]!;
        x = next;
        next = x.forward[i];
      }
      update[i] = x;
    }
    const level = randomLevel();
    if (level > this.level) {
      for (let i = this.level; i < level; i++) {
        rank[i] = 0;
        update[i] = this.header;
        this.header.span[i] = this.dict.size;
      }
      this.level = level;
    }
    const node = new ZNode(member, score, level);
    for (let i = 0; i < level; i++) {
      const u = update[i]!;
      node.forward[i] = u.forward[i]!;
      u.forward[i] = node;
      node.span[i] = u.span[i]! - (rank[0]! - rank[i]!);
      u.span[i] = rank[0]! - rank[i]! + 1;
    }
    for (let i = level; i < this.level; i++) update[i]!.span[i]!++;
    node.backward = update[0] === this.header ? null : update[0]!;
    if (node.forward[0]) node.forward[0].backward = node;
    else this.tail = node;
    return node;
  }

  /** Unlinks a node given the last node before it on every level (Redis's zslDeleteNode). */
  private deleteNode(node: ZNode, update: ZNode[]): void {
    for (let i = 0; i < this.level; i++) {
      const u = update[i]!;
      if (u.forward[i] === node) {
        u.span[i]! += node.span[i]! - 1;
        u.forward[i] = node.forward[i]!;
      } else u.span[i]!--;
    }
    if (node.forward[0]) node.forward[0].backward = node.backward;
    else this.tail = node.backward;
    while (this.level > 1 && this.header.forward[this.level - 1] === null) this.level--;
  }

  /** 0-based rank of a member in ascending order, or undefined. */
  rank(member: string): number | undefined {
    const score = this.dict.get(member);
    if (score === undefined) return undefined;
    let r = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && (next.score < score || (next.score === score && next.member <= member))) {
        r += x.span[i]!;
        x = next;
        next = x.forward[i];
      }
      if (x !== this.header && x.score === score && x.member === member) return r - 1;
    }
    return undefined;
  }

  /** The node at a 0-based rank, or null. */
  nodeAt(rank: number): ZNode | null {
    if (rank < 0 || rank >= this.dict.size) return null;
    if (rank === 0) return this.header.forward[0]!;
    const target = rank + 1;
    let traversed = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && traversed + x.span[i]! <= target) {
        traversed += x.span[i]!;
        x = next;
        next = x.forward[i];
      }
      if (traversed === target) return x;
    }
    return null;
  }

  first(): ZNode | null {
    return this.header.forward[0] ?? null;
  }

  last(): ZNode | null {
    return this.tail;
  }

  private inScoreRange(r: ScoreRange): boolean {
    if (scoreRangeEmpty(r)) return false;
    const t = this.tail;
    if (t === null || !scoreGteMin(t.score, r)) return false;
    return scoreLteMax(this.header.forward[0]!.score, r);
  }

  /** First node inside the score range, or null (zslFirstInRange). */
  firstInScoreRange(r: ScoreRange): ZNode | null {
    if (!this.inScoreRange(r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && !scoreGteMin(next.score, r)) {
        x = next;
        next = x.forward[i];
      }
    }
    const n = x.forward[0]!;
    return scoreLteMax(n.score, r) ? n : null;
  }

  /** Last node inside the score range, or null (zslLastInRange). */
  lastInScoreRange(r: ScoreRange): ZNode | null {
    if (!this.inScoreRange(r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && scoreLteMax(next.score, r)) {
        x = next;
        next = x.forward[i];
      }
    }
    return scoreGteMin(x.score, r) ? x : null;
  }

  private inLexRange(r: LexRange): boolean {
    if (lexRangeEmpty(r)) return false;
    const t = this.tail;
    if (t === null || !lexGteMin(t.member, r)) return false;
    return lexLteMax(this.header.forward[0]!.member, r);
  }

  /** First node inside the lex range (listpack: linear scan; skiplist: level descent). */
  firstInLexRange(r: LexRange): ZNode | null {
    if (!this.inLexRange(r)) return null;
    if (this.encoding === "listpack") {
      for (let x = this.header.forward[0]; x; x = x.forward[0]) {
        if (lexGteMin(x.member, r)) return lexLteMax(x.member, r) ? x : null;
      }
      return null;
    }
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && !lexGteMin(next.member, r)) {
        x = next;
        next = x.forward[i];
      }
    }
    const n = x.forward[0]!;
    return lexLteMax(n.member, r) ? n : null;
  }

  /** Last node inside the lex range (listpack: linear scan from the end; skiplist: descent). */
  lastInLexRange(r: LexRange): ZNode | null {
    if (!this.inLexRange(r)) return null;
    if (this.encoding === "listpack") {
      for (let x = this.tail; x; x = x.backward) {
        if (lexLteMax(x.member, r)) return lexGteMin(x.member, r) ? x : null;
      }
      return null;
    }
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && lexLteMax(next.member, r)) {
        x = next;
        next = x.forward[i];
      }
    }
    return lexGteMin(x.member, r) ? x : null;
  }

  /** 0-based rank of a node of this set. */
  rankOfNode(node: ZNode): number {
    return this.rank(node.member)!;
  }

  /** Removes the members whose score is in range; returns how many. */
  deleteRangeByScore(r: ScoreRange): number {
    const update = ZSetValue.update;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && !scoreGteMin(next.score, r)) {
        x = next;
        next = x.forward[i];
      }
      update[i] = x;
    }
    let node = x.forward[0];
    let removed = 0;
    while (node && scoreLteMax(node.score, r)) {
      const next = node.forward[0];
      this.deleteNode(node, update);
      this.dict.delete(node.member);
      removed++;
      node = next;
    }
    return removed;
  }

  /** Removes the members inside the lex range; returns how many. */
  deleteRangeByLex(r: LexRange): number {
    if (this.encoding === "listpack") {
      // zzlDeleteRangeByLex: from the first element in range (linear), while <= max.
      let node = this.firstInLexRange(r);
      let removed = 0;
      while (node && lexLteMax(node.member, r)) {
        const next = node.forward[0];
        this.delete(node.member);
        removed++;
        node = next;
      }
      return removed;
    }
    const update = ZSetValue.update;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && !lexGteMin(next.member, r)) {
        x = next;
        next = x.forward[i];
      }
      update[i] = x;
    }
    let node = x.forward[0];
    let removed = 0;
    while (node && lexLteMax(node.member, r)) {
      const next = node.forward[0];
      this.deleteNode(node, update);
      this.dict.delete(node.member);
      removed++;
      node = next;
    }
    return removed;
  }

  /** Removes the members with 0-based rank in [start, end] (valid, inclusive); returns how many. */
  deleteRangeByRank(start: number, end: number): number {
    const update = ZSetValue.update;
    const first = start + 1;
    let traversed = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && traversed + x.span[i]! < first) {
        traversed += x.span[i]!;
        x = next;
        next = x.forward[i];
      }
      update[i] = x;
    }
    traversed++;
    let node = x.forward[0];
    let removed = 0;
    while (node && traversed <= end + 1) {
      const next = node.forward[0];
      this.deleteNode(node, update);
      this.dict.delete(node.member);
      removed++;
      traversed++;
      node = next;
    }
    return removed;
  }

  /** Members and scores in ascending order. */
  *entries(): IterableIterator<[string, number]> {
    for (let x = this.header.forward[0]; x; x = x.forward[0]) yield [x.member, x.score];
  }

  /** Checks the skiplist invariants (order, spans, backward links, dict agreement); for tests. */
  checkInvariants(): void {
    let count = 0;
    let prev: ZNode | null = null;
    for (let x = this.header.forward[0]; x; x = x.forward[0]) {
      if (x.backward !== prev) throw new Error(`bad backward link at ${x.member}`);
      if (prev && zcompare(prev.score, prev.member, x.score, x.member) >= 0) throw new Error(`order broken at ${x.member}`);
      if (this.dict.get(x.member) !== x.score) throw new Error(`dict disagrees at ${x.member}`);
      prev = x;
      count++;
    }
    if (this.tail !== prev) throw new Error("bad tail");
    if (count !== this.dict.size) throw new Error(`size ${count} != dict ${this.dict.size}`);
    const index = new Map<ZNode, number>();
    let n = 0;
    for (let x = this.header.forward[0]; x; x = x.forward[0]) index.set(x, ++n);
    for (let i = 0; i < this.level; i++) {
      let x: ZNode = this.header;
      let pos = 0;
      for (let next = x.forward[i]; next; next = x.forward[i]) {
        const at = index.get(next)!;
        if (at - pos !== x.span[i]) throw new Error(`span broken on level ${i}`);
        pos = at;
        x = next;
      }
    }
  }
}
