// Large bitmaps as a balanced tree of flat 4 KB chunks, so that SETBIT / BITFIELD on them cost
// O(log n) instead of rebuilding an O(n) string.
//
// Values are immutable JS strings. Changing one byte of a flat 1 MB string means building a new
// string, and JSC flattens it (a 1 MB memcpy, ~80 us) as soon as anything reads a byte of it.
// JSC concatenation makes ropes without copying, and a rope of ropes stays a tree: so we keep,
// per large bitmap, the tree levels ourselves: level 0 holds flat chunks, level k holds
// level[k-1][2i] + level[k-1][2i+1], and the top is the value stored in the keyspace. A write
// rebuilds one 4 KB chunk and the log2(n/4K) ropes above it; reads go to the flat chunks and
// never flatten the root. Whoever else reads the value (GET, GETRANGE, RDB) sees an ordinary
// string; JSC flattens that root in place when it is read, the tree stays valid.
//
// The trees are a cache keyed by database and key, validated by identity: an entry is used only
// while the keyspace still holds its root (`===`, a pointer comparison when it is the same
// string). Any other writer (SET, APPEND, SETRANGE, RENAME, FLUSHALL...) replaces the value and
// the entry is simply not used again; entries are bounded (count and bytes) and evicted LRU.

import type { Database } from "../../store/database.ts";

const CHUNK = 4096;
/** Values at least this long get a chunk tree when a bitmap command writes them. */
export const CHUNKED_MIN_LENGTH = 64 * 1024;
const MAX_ENTRIES = 32;
const MAX_CACHED_CHARS = 64 * 1024 * 1024;

const ZERO_CHUNK = flat("\0".repeat(CHUNK));
const ONES_CHUNK = flat("\xff".repeat(CHUNK));

/**
 * The first position in [from, to] of `s` whose byte is not `skip` (0 or 0xff), or to + 1.
 * Long runs are compared a chunk at a time against a constant string (a native memcmp).
 */
export function skipRunInString(s: string, from: number, to: number, skip: number): number {
  const run = skip === 0 ? ZERO_CHUNK : ONES_CHUNK;
  let pos = from;
  while (pos + CHUNK - 1 <= to && s.slice(pos, pos + CHUNK) === run) pos += CHUNK;
  while (pos <= to && s.charCodeAt(pos) === skip) pos++;
  return pos;
}

/**
 * A flat string with the content of `s`. JSC represents slices as substrings of their base (they
 * keep it alive, and charCodeAt on them is several times slower) and concatenations as ropes; a
 * rope is flattened in place, to its exact length, the first time a character is read. So: make
 * a rope of two slices, then read one character.
 */
function flat(s: string): string {
  if (s.length < 2) return s;
  const f = s.slice(0, 1) + s.slice(1);
  f.charCodeAt(0);
  return f;
}

export class ChunkedString {
  /** levels[0]: flat chunks (CHUNK bytes, the last possibly shorter); the top level has one element. */
  private levels: string[][] = [];
  length = 0;

  /**
   * The value the tree was built from, until the first change: it stays the root, so that the
   * keyspace's string and ours remain the same cell (identity checks stay O(1)).
   */
  private original: string | null;

  constructor(value: string) {
    const chunks: string[] = [];
    for (let i = 0; i < value.length; i += CHUNK) chunks.push(flat(value.slice(i, i + CHUNK)));
    this.length = value.length;
    this.rebuild(chunks);
    this.original = value;
  }

  /** The value as stored in the keyspace (a rope over the chunks once changed). */
  get root(): string {
    if (this.original !== null) return this.original;
    const top = this.levels[this.levels.length - 1];
    return top && top.length ? top[0]! : "";
  }

  private rebuild(chunks: string[]): void {
    const levels = [chunks];
    while (levels[levels.length - 1]!.length > 1) {
      const prev = levels[levels.length - 1]!;
      const next: string[] = [];
      for (let i = 0; i < prev.length; i += 2) next.push(i + 1 < prev.length ? prev[i]! + prev[i + 1]! : prev[i]!);
      levels.push(next);
    }
    this.levels = levels;
    this.original = null;
  }

  byteAt(pos: number): number {
    if (pos >= this.length) return 0;
    return this.levels[0]![Math.floor(pos / CHUNK)]!.charCodeAt(pos % CHUNK);
  }

  /**
   * Applies byte edits (positions inside the current length, in any order, each at most once)
   * and returns the new root: each touched chunk is rebuilt once, then the ropes above it.
   */
  applyEdits(positions: readonly number[], values: readonly number[]): string {
    const n = positions.length;
    const order = Array.from({ length: n }, (_, i) => i);
    if (n > 1) order.sort((a, b) => positions[a]! - positions[b]!);
    const chunks = this.levels[0]!;
    const dirty: number[] = [];
    let k = 0;
    while (k < n) {
      const index = Math.floor(positions[order[k]!]! / CHUNK);
      const chunk = chunks[index]!;
      let out = "";
      let from = 0;
      while (k < n && Math.floor(positions[order[k]!]! / CHUNK) === index) {
        const at = positions[order[k]!]! % CHUNK;
        out += chunk.slice(from, at) + String.fromCharCode(values[order[k]!]! & 0xff);
        from = at + 1;
        k++;
      }
      chunks[index] = flat(out + chunk.slice(from));
      dirty.push(index);
    }
    return this.commit(dirty);
  }

  /** Zero-pads the value to `length` bytes. */
  grow(length: number): void {
    if (length <= this.length) return;
    const chunks = this.levels[0]!.slice();
    let have = this.length;
    const last = chunks.length - 1;
    if (last >= 0 && chunks[last]!.length < CHUNK) {
      const add = Math.min(CHUNK - chunks[last]!.length, length - have);
      chunks[last] = flat(chunks[last]! + ZERO_CHUNK.slice(0, add));
      have += add;
    }
    while (have < length) {
      const n = Math.min(CHUNK, length - have);
      chunks.push(n === CHUNK ? ZERO_CHUNK : flat(ZERO_CHUNK.slice(0, n)));
      have += n;
    }
    this.length = length;
    this.rebuild(chunks);
  }

  /** Rebuilds the ropes above the changed chunks; returns the new root. */
  private commit(dirty: readonly number[]): string {
    this.original = null;
    const levels = this.levels;
    for (const index of dirty) {
      let i = index;
      for (let lv = 1; lv < levels.length; lv++) {
        const p = i >> 1;
        const below = levels[lv - 1]!;
        const right = below[2 * p + 1];
        levels[lv]![p] = right === undefined ? below[2 * p]! : below[2 * p]! + right;
        i = p;
      }
    }
    return this.root;
  }

  /** The first position in [from, to] whose byte is not `skip` (0 or 0xff), or to + 1. */
  skipRun(from: number, to: number, skip: number): number {
    let pos = from;
    while (pos <= to) {
      const index = Math.floor(pos / CHUNK);
      const base = index * CHUNK;
      const chunk = this.levels[0]![index]!;
      const last = Math.min(to, base + chunk.length - 1) - base;
      const at = skipRunInString(chunk, pos - base, last, skip);
      if (at <= last) return base + at;
      pos = base + last + 1;
    }
    return pos;
  }

  /** Copies bytes [start, start+len) into `into` at offset 0. */
  copyTo(into: Buffer, start: number, len: number): void {
    let out = 0;
    let pos = start;
    const end = start + len;
    while (pos < end) {
      const index = Math.floor(pos / CHUNK);
      const at = pos % CHUNK;
      const take = Math.min(CHUNK - at, end - pos);
      const chunk = this.levels[0]![index]!;
      into.latin1Write(at === 0 && take === chunk.length ? chunk : chunk.slice(at, at + take), out);
      out += take;
      pos += take;
    }
  }
}

interface Entry {
  db: Database;
  key: string;
  tree: ChunkedString;
}

/**
 * A process-wide cache, bounded in size (evict): derived from values, checked against the
 * Database object and the value itself on every use, so it holds no server state. LRU order:
 * Map iteration order, most recently used last.
 */
const entries = new Map<string, Entry>();

function entryId(db: Database, key: string): string {
  return `${db.id}\0${key}`;
}

/** The tree of a value, if it is the one a bitmap command last stored under this key. */
export function cachedTree(db: Database, key: string, value: string): ChunkedString | undefined {
  if (value.length < CHUNKED_MIN_LENGTH || entries.size === 0) return undefined;
  const id = entryId(db, key);
  const e = entries.get(id);
  if (!e || e.db !== db || e.tree.root !== value) return undefined;
  entries.delete(id);
  entries.set(id, e);
  return e.tree;
}

/** The tree of a value, built (O(n), once) when it is not cached. */
export function treeFor(db: Database, key: string, value: string): ChunkedString {
  const hit = cachedTree(db, key, value);
  if (hit) return hit;
  const id = entryId(db, key);
  entries.delete(id);
  const tree = new ChunkedString(value);
  evict(tree.length);
  entries.set(id, { db, key, tree });
  return tree;
}

/**
 * Makes room for `incoming` chars: drops the entries whose key no longer holds a string of
 * their length (deleted, flushed, replaced), then the least recently used ones.
 */
function evict(incoming: number): void {
  let cached = 0;
  for (const [id, e] of entries) {
    const current = e.db.get(e.key);
    if (typeof current !== "string" || current.length !== e.tree.length) entries.delete(id);
    else cached += e.tree.length;
  }
  for (const [id, e] of entries) {
    if (entries.size < MAX_ENTRIES && cached + incoming <= MAX_CACHED_CHARS) break;
    entries.delete(id);
    cached -= e.tree.length;
  }
}
