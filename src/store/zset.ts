// A Redis sorted set: a member -> score map plus a skiplist ordered by (score, member) whose
// links carry spans, so rank queries and rank ranges are O(log n) as in Redis's zskiplist.
// Members compare as bytes (latin1 strings compare by char code, which is byte order).

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

export type ZSetEncoding = "listpack" | "skiplist";

export class ZSetValue {
  readonly dict = new Map<string, number>();
  private readonly header = new ZNode("", 0, MAX_LEVEL);
  private tail: ZNode | null = null;
  private level = 1;
  /** What OBJECT ENCODING reports; maintained by the zset commands (Redis 7.0 rules). */
  encoding: ZSetEncoding = "listpack";

  get size(): number {
    return this.dict.size;
  }

  score(member: string): number | undefined {
    return this.dict.get(member);
  }

  /** Adds or updates a member. Returns true if it was new. */
  add(member: string, score: number): boolean {
    const old = this.dict.get(member);
    if (old !== undefined) {
      if (old !== score) {
        this.slDelete(old, member);
        this.slInsert(score, member);
        this.dict.set(member, score);
      }
      return false;
    }
    this.slInsert(score, member);
    this.dict.set(member, score);
    return true;
  }

  delete(member: string): boolean {
    const old = this.dict.get(member);
    if (old === undefined) return false;
    this.slDelete(old, member);
    this.dict.delete(member);
    return true;
  }

  private slInsert(score: number, member: string): void {
    const update: ZNode[] = new Array(MAX_LEVEL);
    const rank: number[] = new Array(MAX_LEVEL);
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      rank[i] = i === this.level - 1 ? 0 : rank[i + 1]!;
      let next = x.forward[i];
      while (next && zcompare(next.score, next.member, score, member) < 0) {
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
  }

  private slDelete(score: number, member: string): void {
    const update: ZNode[] = new Array(MAX_LEVEL);
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && zcompare(next.score, next.member, score, member) < 0) {
        x = next;
        next = x.forward[i];
      }
      update[i] = x;
    }
    const node = x.forward[0];
    if (!node || node.score !== score || node.member !== member) return;
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
      while (next && zcompare(next.score, next.member, score, member) <= 0) {
        r += x.span[i]!;
        x = next;
        next = x.forward[i];
      }
      if (x !== this.header && x.member === member) return r - 1;
    }
    return undefined;
  }

  /** The node at a 0-based rank, or null. */
  nodeAt(rank: number): ZNode | null {
    if (rank < 0 || rank >= this.dict.size) return null;
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

  /** First node with (score > min) or (score >= min), by the exclusive flag. */
  firstInScoreRange(min: number, minExclusive: boolean): ZNode | null {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && (minExclusive ? next.score <= min : next.score < min)) {
        x = next;
        next = x.forward[i];
      }
    }
    return x.forward[0] ?? null;
  }

  /** Last node with (score < max) or (score <= max). */
  lastInScoreRange(max: number, maxExclusive: boolean): ZNode | null {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && (maxExclusive ? next.score < max : next.score <= max)) {
        x = next;
        next = x.forward[i];
      }
    }
    return x === this.header ? null : x;
  }

  /** First node whose member is >= (or >) `min` in byte order; lex ranges assume equal scores. */
  firstInLexRange(min: string, minExclusive: boolean): ZNode | null {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && (minExclusive ? next.member <= min : next.member < min)) {
        x = next;
        next = x.forward[i];
      }
    }
    return x.forward[0] ?? null;
  }

  lastInLexRange(max: string, maxExclusive: boolean): ZNode | null {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = x.forward[i];
      while (next && (maxExclusive ? next.member < max : next.member <= max)) {
        x = next;
        next = x.forward[i];
      }
    }
    return x === this.header ? null : x;
  }

  /** Members and scores in ascending order. */
  *entries(): IterableIterator<[string, number]> {
    for (let x = this.header.forward[0]; x; x = x.forward[0]) yield [x.member, x.score];
  }
}
