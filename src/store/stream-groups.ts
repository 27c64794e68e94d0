// A stream's consumer groups: each with its pending entries list (PEL, ordered by ID) and its
// consumers with theirs.

import { type IdPart, type StreamId, compareIds, formatId, incrId } from "./stream-id.ts";
import { arrayBytes, mapBytes, objectBytes, SLOT_BYTES, stringBytes } from "./memory-size.ts";


export interface PendingEntry {
  id: StreamId;
  consumer: string;
  /** Unix ms of the last delivery. */
  deliveryTime: number;
  /** uint64 in Redis (RETRYCOUNT can set any long long >= 0). */
  deliveryCount: IdPart;
}

export interface Consumer {
  name: string;
  /** Unix ms of the last interaction (seen-time). */
  seenTime: number;
  /** Unix ms of the last successful read (active-time, Redis 7.2+; -1 when unknown). */
  activeTime: number;
  /** IDs pending for this consumer, keyed by formatId; the same objects as the group's PEL. */
  pending: PendingList;
}

export interface ConsumerGroup {
  name: string;
  lastId: StreamId;
  /** entries-read (Redis 7.0+); -1 when unknown ("SCG_INVALID_ENTRIES_READ"). */
  entriesRead: IdPart;
  /** Group PEL keyed by formatId (iterates in ID order). */
  pending: PendingList;
  consumers: Map<string, Consumer>;
}

const CHUNK = 128;

/** A sorted sequence of items by ID, in chunks (inserts/removals cost O(log n + chunk)). */
class OrderedById<T extends { id: StreamId }> {
  private chunks: T[][] = [];

  /** Index of the first chunk whose last item is >= id (chunks.length if none). */
  private chunkFor(id: StreamId): number {
    const ch = this.chunks;
    let lo = 0;
    let hi = ch.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = ch[mid]!;
      if (compareIds(c[c.length - 1]!.id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound<T extends { id: StreamId }>(a: T[], id: StreamId): number {
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(a[mid]!.id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Inserts an item whose ID is not present, or replaces the item with the same ID. */
  put(item: T): void {
    const ch = this.chunks;
    if (ch.length === 0) {
      ch.push([item]);
      return;
    }
    let ci = this.chunkFor(item.id);
    if (ci === ch.length) ci--;
    const c = ch[ci]!;
    const pos = OrderedById.lowerBound(c, item.id);
    if (pos < c.length && compareIds(c[pos]!.id, item.id) === 0) {
      c[pos] = item;
      return;
    }
    if (pos === c.length) c.push(item);
    else c.splice(pos, 0, item);
    if (c.length > 2 * CHUNK) ch.splice(ci + 1, 0, c.splice(CHUNK));
  }

  remove(id: StreamId): void {
    const ch = this.chunks;
    const ci = this.chunkFor(id);
    if (ci === ch.length) return;
    const c = ch[ci]!;
    const pos = OrderedById.lowerBound(c, id);
    if (pos === c.length || compareIds(c[pos]!.id, id) !== 0) return;
    if (pos === 0) c.shift();
    else c.splice(pos, 1);
    if (c.length === 0) ch.splice(ci, 1);
  }

  /** The first item with ID >= id. */
  ceiling(id: StreamId): T | undefined {
    const ch = this.chunks;
    const ci = this.chunkFor(id);
    if (ci === ch.length) return undefined;
    const c = ch[ci]!;
    return c[OrderedById.lowerBound(c, id)];
  }

  /** The first item with ID > id. */
  higher(id: StreamId): T | undefined {
    const next = incrId(id);
    return next ? this.ceiling(next) : undefined;
  }

  first(): T | undefined {
    return this.chunks[0]?.[0];
  }

  last(): T | undefined {
    const c = this.chunks[this.chunks.length - 1];
    return c?.[c.length - 1];
  }

  *items(): Generator<T> {
    for (const c of this.chunks) for (const item of c) yield item;
  }

  /** Heap bytes of the chunk arrays (not the items). */
  memoryUsage(items: number): number {
    return objectBytes(1) + arrayBytes(this.chunks.length) + this.chunks.length * arrayBytes(0) + items * SLOT_BYTES;
  }

  clear(): void {
    this.chunks = [];
  }
}

/**
 * A pending entries list: a Map from formatId to the entry (what the declared types promise)
 * that also keeps the entries sorted by ID: iteration is in ID order, and ranges can be sought.
 */
export class PendingList extends Map<string, PendingEntry> {
  private order = new OrderedById<PendingEntry>();

  override set(key: string, value: PendingEntry): this {
    // (The Map constructor calls set before fields exist; PendingList is always built empty.)
    this.order.put(value);
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    const v = super.get(key);
    if (v === undefined) return false;
    this.order.remove(v.id);
    return super.delete(key);
  }

  override clear(): void {
    this.order.clear();
    super.clear();
  }

  first(): PendingEntry | undefined {
    return this.order.first();
  }

  last(): PendingEntry | undefined {
    return this.order.last();
  }

  /** The first entry with ID >= id. */
  ceiling(id: StreamId): PendingEntry | undefined {
    return this.order.ceiling(id);
  }

  /** The first entry with ID > id. */
  higher(id: StreamId): PendingEntry | undefined {
    return this.order.higher(id);
  }

  /** Entries in ID order. */
  ordered(): Generator<PendingEntry> {
    return this.order.items();
  }

  private *orderedPairs(): Generator<[string, PendingEntry]> {
    for (const v of this.order.items()) yield [formatId(v.id), v];
  }

  /**
   * Heap bytes of the list. `ownEntries`: the entries are counted here (a group's PEL; a
   * consumer's PEL holds the same objects). Keys are formatted IDs, estimated from the first.
   */
  memoryUsage(ownEntries: boolean): number {
    const n = this.size;
    let bytes = mapBytes(n) + this.order.memoryUsage(n);
    if (ownEntries && n > 0) bytes += n * (objectBytes(4) + objectBytes(2) + stringBytes(formatId(this.order.first()!.id)));
    return bytes;
  }

  private *orderedKeys(): Generator<string> {
    for (const v of this.order.items()) yield formatId(v.id);
  }

  override entries(): MapIterator<[string, PendingEntry]> {
    return this.orderedPairs() as unknown as MapIterator<[string, PendingEntry]>;
  }

  override [Symbol.iterator](): MapIterator<[string, PendingEntry]> {
    return this.orderedPairs() as unknown as MapIterator<[string, PendingEntry]>;
  }

  override keys(): MapIterator<string> {
    return this.orderedKeys() as unknown as MapIterator<string>;
  }

  override values(): MapIterator<PendingEntry> {
    return this.order.items() as unknown as MapIterator<PendingEntry>;
  }

  override forEach(fn: (value: PendingEntry, key: string, map: Map<string, PendingEntry>) => void, thisArg?: unknown): void {
    for (const v of this.order.items()) fn.call(thisArg, v, formatId(v.id), this);
  }
}

export function newConsumerGroup(name: string, lastId: StreamId, entriesRead: IdPart): ConsumerGroup {
  return { name, lastId, entriesRead, pending: new PendingList(), consumers: new Map() };
}

export function newConsumer(name: string, now: number): Consumer {
  return { name, seenTime: now, activeTime: -1, pending: new PendingList() };
}

/** Names in Redis's radix-tree order (bytewise; latin1 strings compare the same way). */
export function sortedByName<T>(m: Map<string, T>): T[] {
  const names = [...m.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((n) => m.get(n)!);
}

