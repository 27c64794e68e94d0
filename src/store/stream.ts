// A Redis stream: entries ordered by ID, plus consumer groups with their pending entries lists.
//
// IDs are <ms>-<seq>, two unsigned 64-bit integers. Each part is a number while it is below
// 2^53 (every real-world ID) and a bigint beyond, so the whole uint64 range stays exact; the
// helpers below compare and print both forms.

export type IdPart = number | bigint;

export interface StreamId {
  ms: IdPart;
  seq: IdPart;
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

/** Normalises a uint64 part: a number when exactly representable, else a bigint. */
export function idPart(v: bigint | number): IdPart {
  if (typeof v === "number") return v;
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export interface StreamEntry {
  id: StreamId;
  /** field1, value1, field2, value2, ... */
  fields: string[];
}

export interface PendingEntry {
  id: StreamId;
  consumer: string;
  /** Unix ms of the last delivery. */
  deliveryTime: number;
  deliveryCount: number;
}

export interface Consumer {
  name: string;
  /** Unix ms of the last interaction (seen-time). */
  seenTime: number;
  /** Unix ms of the last successful read (active-time, Redis 7.2+; -1 when unknown). */
  activeTime: number;
  /** IDs pending for this consumer, keyed by formatId. */
  pending: Map<string, PendingEntry>;
}

export interface ConsumerGroup {
  name: string;
  lastId: StreamId;
  /** entries-read (Redis 7.0+); -1 when unknown ("SCG_INVALID_ENTRIES_READ"). */
  entriesRead: number;
  /** Group PEL keyed by formatId, kept in ID order by the stream commands. */
  pending: Map<string, PendingEntry>;
  consumers: Map<string, Consumer>;
}

export class StreamValue {
  /** Entries in ascending ID order. */
  entries: StreamEntry[] = [];
  lastId: StreamId = { ms: 0, seq: 0 };
  /** Redis 7.0+: the largest ID ever deleted, and the count of entries ever added. */
  maxDeletedId: StreamId = { ms: 0, seq: 0 };
  entriesAdded = 0;
  /** First entry ID as Redis records it (0-0 when empty). */
  firstId: StreamId = { ms: 0, seq: 0 };
  groups = new Map<string, ConsumerGroup>();

  get length(): number {
    return this.entries.length;
  }

  /** Appends an entry whose ID is greater than every existing one (RDB load, XADD). */
  append(id: StreamId, fields: string[]): void {
    this.entries.push({ id, fields });
    if (this.entries.length === 1) this.firstId = id;
  }
}
