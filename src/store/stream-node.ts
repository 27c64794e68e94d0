// A stream's entries and nodes (Redis's listpacks hanging off the radix tree, t_stream.c): each
// node holds the entries from its master ID on, with the size its listpack would have, so that
// node boundaries (approximate trimming, XINFO's radix-tree-keys) match Redis exactly.

import { type IdPart, type StreamId, compareIds, delta } from "./stream-id.ts";
import { arrayBytes, objectBytes, stringBytes } from "./memory-size.ts";


/** Bytes of an integer element in a listpack, backlen included (lpEncodeIntegerGetType). */
function lpIntSize(v: IdPart): number {
  if (typeof v === "bigint") {
    if (v < -2147483648n || v > 2147483647n) return 10;
    v = Number(v);
  }
  if (v >= 0 && v <= 127) return 2;
  if (v >= -4096 && v <= 4095) return 3;
  if (v >= -32768 && v <= 32767) return 4;
  if (v >= -8388608 && v <= 8388607) return 5;
  if (v >= -2147483648 && v <= 2147483647) return 6;
  return 10;
}

const LP_INT_RE = /^(0|-?[1-9][0-9]*)$/;
const MIN_I64 = -9223372036854775808n;
const MAX_I64 = 9223372036854775807n;

/** Bytes of a string element (stored as an integer when lpStringToInt64 accepts it). */
function lpStrSize(s: string): number {
  const len = s.length;
  if (len > 0 && len < 21) {
    const c0 = s.charCodeAt(0);
    if (((c0 >= 48 && c0 <= 57) || c0 === 45) && LP_INT_RE.test(s)) {
      if (len < 16) return lpIntSize(Number(s));
      const b = BigInt(s);
      if (b >= MIN_I64 && b <= MAX_I64) return lpIntSize(b);
    }
  }
  const enc = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  const back = enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5;
  return enc + back;
}

// ============================================================================ entries and nodes

export interface StreamEntry {
  id: StreamId;
  /** field1, value1, field2, value2, ... */
  fields: string[];
  /** A tombstone: deleted (XDEL, exact trimming) but still inside its node. */
  deleted: boolean;
}

/** stream-node-max-entries / stream-node-max-bytes (0 = no limit). */
export interface NodeLimits {
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_NODE_LIMITS: NodeLimits = Object.freeze({ maxEntries: 100, maxBytes: 4096 });

/** Redis never lets a listpack grow past 1 GB (STREAM_LISTPACK_MAX_SIZE). */
export const STREAM_LISTPACK_MAX_SIZE = 1 << 30;

/** One listpack of the stream. */
export class StreamNode {
  /** Entries in ID order, tombstones included. */
  readonly entries: StreamEntry[] = [];
  live = 0;
  deleted = 0;
  /** Index at or before the first live entry (entries before it are all tombstones). */
  liveHint = 0;
  /** Listpack bytes except the live/deleted counters of the master entry. */
  private body: number;

  constructor(
    readonly masterId: StreamId,
    /** Field names of the master entry (those of the node's first entry). */
    readonly masterFields: string[],
  ) {
    // header (6) + EOF (1) + num-fields + fields + the master entry's 0 terminator (2).
    let body = 7 + lpIntSize(masterFields.length) + 2;
    for (const f of masterFields) body += lpStrSize(f);
    this.body = body;
  }

  /** lpBytes() of the node's listpack. */
  get bytes(): number {
    return this.body + lpIntSize(this.live) + lpIntSize(this.deleted);
  }

  push(e: StreamEntry): void {
    const fields = e.fields;
    const numFields = fields.length >> 1;
    const master = this.masterFields;
    let same = numFields === master.length;
    for (let i = 0; same && i < numFields; i++) if (fields[i * 2] !== master[i]) same = false;
    let size = 2 + lpIntSize(delta(e.id.ms, this.masterId.ms)) + lpIntSize(delta(e.id.seq, this.masterId.seq));
    let lpCount = numFields + 3;
    if (!same) {
      size += lpIntSize(numFields);
      for (let i = 0; i < fields.length; i += 2) size += lpStrSize(fields[i]!);
      lpCount += numFields + 1;
    }
    for (let i = 1; i < fields.length; i += 2) size += lpStrSize(fields[i]!);
    size += lpIntSize(lpCount);
    this.body += size;
    this.entries.push(e);
    if (e.deleted) this.deleted++;
    else this.live++;
  }

  /** Heap bytes of the node: its entries (an object, an ID, a field/value array each) and strings. */
  memoryUsage(): number {
    let bytes = objectBytes(7) + objectBytes(2) + arrayBytes(this.masterFields.length) + arrayBytes(this.entries.length);
    for (const f of this.masterFields) bytes += stringBytes(f);
    for (const e of this.entries) {
      bytes += objectBytes(3) + objectBytes(2) + arrayBytes(e.fields.length);
      for (const f of e.fields) bytes += stringBytes(f);
    }
    return bytes;
  }

  /** Index of the first entry with ID >= id (entries.length if none). */
  lowerBound(id: StreamId): number {
    const a = this.entries;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(a[mid]!.id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Marks a live entry as deleted (the listpack keeps it, flagged). */
  markDeleted(index: number): void {
    const e = this.entries[index]!;
    e.deleted = true;
    this.live--;
    this.deleted++;
  }

  firstLiveIndex(): number {
    const a = this.entries;
    let i = this.liveHint;
    while (i < a.length && a[i]!.deleted) i++;
    this.liveHint = i;
    return i;
  }

  lastLiveIndex(): number {
    const a = this.entries;
    let i = a.length - 1;
    while (i >= 0 && a[i]!.deleted) i--;
    return i;
  }
}

