// A Redis stream: entries ordered by ID, plus consumer groups with their pending entries lists.
//
// The entries are kept the way Redis 7.0 keeps them (t_stream.c): in "nodes" (Redis's listpacks
// hanging off a radix tree), each node starting at its master ID, holding at most
// stream-node-max-entries entries (live or deleted) and stream-node-max-bytes bytes of
// listpack. Deleted entries stay in their node as tombstones until the whole node goes. This is
// observable: approximate trimming (MAXLEN ~ / MINID ~) removes whole nodes only, XINFO
// reports the node count (radix-tree-keys) and the radix tree's node count (radix-tree-nodes),
// and XADD's propagated MINID is the first entry including tombstones. So the node layout and
// each node's listpack size are modelled exactly; the bytes themselves are not stored.
//
// Costs: XADD appends to the tail node (O(1) amortised); finding an ID is a binary search over
// nodes then inside one node (O(log n)); trimming drops whole nodes from the front through a
// head offset (no shifting), marks tombstones inside the first node.
//
// IDs are <ms>-<seq>, two unsigned 64-bit integers. Each part is a number while it is below
// 2^53 (every real-world ID) and a bigint beyond, so the whole uint64 range stays exact.
//
// Modules: stream-id.ts (IDs and their arithmetic), stream-node.ts (entries and nodes),
// stream-groups.ts (consumer groups, PELs); this one, StreamValue. The names other layers use
// are re-exported here.

import { mapBytes, objectBytes, SLOT_BYTES, stringBytes } from "./memory-size.ts";
import { type IdPart, type StreamId, ZERO_ID, MAX_ID, compareIds, formatId, isZeroId, u64Inc, asI64, i64Sub, idKeyHex } from "./stream-id.ts";
import { type Consumer, type ConsumerGroup, PendingList, newConsumerGroup } from "./stream-groups.ts";
import { type StreamEntry, type NodeLimits, DEFAULT_NODE_LIMITS, STREAM_LISTPACK_MAX_SIZE, StreamNode } from "./stream-node.ts";

export { asI64, compareIds, decrId, formatId, i64Inc, idPart, incrId, MAX_ID, MAX_U64, u64Inc, ZERO_ID, type IdPart, type StreamId } from "./stream-id.ts";
export { newConsumer, newConsumerGroup, PendingList, sortedByName, type Consumer, type ConsumerGroup, type PendingEntry } from "./stream-groups.ts";
export { StreamNode, type NodeLimits, type StreamEntry } from "./stream-node.ts";


type TrimStrategy = "maxlen" | "minid";

export interface TrimArgs {
  strategy: TrimStrategy;
  maxLen: IdPart;
  minId: StreamId;
  approx: boolean;
  /** Maximum entries to remove (0: no limit). */
  limit: number;
}

export class StreamValue {
  /** Nodes in ID order; nodes[head] is the first (the ones before it were trimmed away). */
  private nodes: StreamNode[] = [];
  private head = 0;
  /** A node appended to without limits (RDB loading with the master's layout). */
  private loadingNode: StreamNode | null = null;
  private liveCount = 0;
  lastId: StreamId = { ms: 0, seq: 0 };
  /** Redis 7.0+: the largest ID ever deleted, and the count of entries ever added. */
  maxDeletedId: StreamId = { ms: 0, seq: 0 };
  entriesAdded: IdPart = 0;
  /** First entry ID as Redis records it (0-0 when empty). */
  firstId: StreamId = { ms: 0, seq: 0 };
  groups = new Map<string, ConsumerGroup>();
  /**
   * Bumped by the writes after which Redis wakes clients blocked on the stream (XADD, XGROUP
   * DESTROY: signalKeyAsReady); other changes (XDEL, XTRIM, XSETID...) do not wake them.
   */
  readyVersion = 0;
  /** Cached radix-tree node count (null: recompute). */
  private raxNodesCache: number | null = null;

  get length(): number {
    return this.liveCount;
  }

  /** Live entries in ascending ID order. */
  get entries(): Iterable<StreamEntry> {
    return this.liveEntries();
  }

  private *liveEntries(): Generator<StreamEntry> {
    const nodes = this.nodes;
    for (let i = this.head; i < nodes.length; i++) {
      for (const e of nodes[i]!.entries) if (!e.deleted) yield e;
    }
  }

  /** Number of nodes (listpacks): XINFO's radix-tree-keys. */
  get nodeCount(): number {
    return this.nodes.length - this.head;
  }

  // ---- building ----

  /**
   * Appends an entry whose ID is greater than every existing one (RDB load, XADD), starting a
   * new node when the tail node is full by Redis's rules. Does not touch lastId/entriesAdded
   * (the caller sets them); sets firstId when the stream had no live entry.
   */
  append(id: StreamId, fields: string[], limits: NodeLimits = DEFAULT_NODE_LIMITS): void {
    this.pushEntry({ id, fields, deleted: false }, limits);
    this.liveCount++;
    if (this.liveCount === 1) this.firstId = id;
  }

  /**
   * RDB loading with the master's exact layout: the following appends (and tombstones) go
   * into a new node, whatever its size, until the next beginNode() or finishLoad(). The node
   * is keyed by `masterId` with the master entry's `masterFields` (as the RDB's listpack has
   * them); by default, those of its first entry.
   */
  beginNode(masterId?: StreamId, masterFields?: string[]): void {
    this.loadingNode = null;
    this.pendingLoad = { masterId: masterId ?? null, masterFields: masterFields ?? null };
  }

  /** Ends RDB loading: appends from now on follow stream-node-max-entries/bytes again. */
  finishLoad(): void {
    this.loadingNode = null;
    this.pendingLoad = null;
  }

  private pendingLoad: { masterId: StreamId | null; masterFields: string[] | null } | null = null;

  /** RDB loading: an entry the master's listpack holds as deleted (a tombstone). */
  appendTombstone(id: StreamId, fields: string[], limits: NodeLimits = DEFAULT_NODE_LIMITS): void {
    this.pushEntry({ id, fields, deleted: true }, limits);
  }

  private pushEntry(e: StreamEntry, limits: NodeLimits): void {
    const load = this.pendingLoad;
    if (load !== null && this.loadingNode === null) {
      this.loadingNode = this.newNode(e, load.masterId, load.masterFields);
    } else if (this.loadingNode === null) {
      const tail = this.nodes.length > this.head ? this.nodes[this.nodes.length - 1]! : null;
      if (tail === null || this.nodeIsFull(tail, e.fields, limits)) this.newNode(e, null, null);
    }
    this.nodes[this.nodes.length - 1]!.push(e);
  }

  private newNode(first: StreamEntry, masterId: StreamId | null, masterFields: string[] | null): StreamNode {
    let names = masterFields;
    if (names === null) {
      const fields = first.fields;
      names = new Array(fields.length >> 1);
      for (let i = 0; i < names.length; i++) names[i] = fields[i * 2]!;
    }
    const node = new StreamNode(masterId ?? first.id, names);
    this.nodes.push(node);
    this.raxNodesCache = null;
    return node;
  }

  private nodeIsFull(tail: StreamNode, fields: string[], limits: NodeLimits): boolean {
    let maxBytes = limits.maxBytes;
    if (maxBytes === 0 || maxBytes > STREAM_LISTPACK_MAX_SIZE) maxBytes = STREAM_LISTPACK_MAX_SIZE;
    if (tail.bytes + totalLength(fields) >= maxBytes) return true;
    return limits.maxEntries !== 0 && tail.live + tail.deleted >= limits.maxEntries;
  }

  /** XADD's append: the entry plus lastId and entries-added. */
  add(id: StreamId, fields: string[], limits: NodeLimits): void {
    this.append(id, fields, limits);
    this.entriesAdded = u64Inc(this.entriesAdded);
    this.lastId = id;
  }

  // ---- lookup ----

  /** Index of the last node whose master ID <= id, or head when there is none. */
  private nodeFor(id: StreamId): number {
    const nodes = this.nodes;
    let lo = this.head;
    let hi = nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(nodes[mid]!.masterId, id) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo > this.head ? lo - 1 : this.head;
  }

  /** The live entry with this ID, if any. */
  getEntry(id: StreamId): StreamEntry | undefined {
    if (this.nodes.length === this.head) return undefined;
    const node = this.nodes[this.nodeFor(id)]!;
    const i = node.lowerBound(id);
    const e = node.entries[i];
    return e && !e.deleted && compareIds(e.id, id) === 0 ? e : undefined;
  }

  /**
   * Live entries with start <= ID <= end (end null: no bound), at most `count` (0: all), in
   * ascending order, or descending from `end` when `rev`.
   */
  range(start: StreamId, end: StreamId | null, count: number, rev = false): StreamEntry[] {
    const out: StreamEntry[] = [];
    const nodes = this.nodes;
    if (nodes.length === this.head) return out;
    if (!rev) {
      let ni = this.nodeFor(start);
      let ei = nodes[ni]!.lowerBound(start);
      for (; ni < nodes.length; ni++, ei = 0) {
        const entries = nodes[ni]!.entries;
        for (; ei < entries.length; ei++) {
          const e = entries[ei]!;
          if (e.deleted) continue;
          if (end !== null && compareIds(e.id, end) > 0) return out;
          out.push(e);
          if (out.length === count) return out;
        }
      }
      return out;
    }
    const top = end ?? MAX_ID;
    let ni = this.nodeFor(top);
    if (compareIds(nodes[ni]!.masterId, top) > 0) return out;
    let ei = nodes[ni]!.lowerBound(top);
    const at = nodes[ni]!.entries[ei];
    if (at === undefined || compareIds(at.id, top) > 0) ei--;
    for (; ni >= this.head; ni--) {
      const entries = nodes[ni]!.entries;
      if (ei === Infinity) ei = entries.length - 1;
      for (; ei >= 0; ei--) {
        const e = entries[ei]!;
        if (e.deleted) continue;
        if (compareIds(e.id, start) < 0) return out;
        out.push(e);
        if (out.length === count) return out;
      }
      ei = Infinity;
    }
    return out;
  }

  /** The first live entry's ID (streamGetEdgeID first, skipping tombstones). */
  firstLiveId(): StreamId | null {
    if (this.liveCount === 0) return null;
    const nodes = this.nodes;
    for (let i = this.head; i < nodes.length; i++) {
      const node = nodes[i]!;
      if (node.live === 0) continue;
      return node.entries[node.firstLiveIndex()]!.id;
    }
    return null;
  }

  /** The last live entry's ID (streamLastValidID). */
  lastLiveId(): StreamId | null {
    if (this.liveCount === 0) return null;
    const nodes = this.nodes;
    for (let i = nodes.length - 1; i >= this.head; i--) {
      const node = nodes[i]!;
      if (node.live === 0) continue;
      return node.entries[node.lastLiveIndex()]!.id;
    }
    return null;
  }

  /** The nodes (listpacks) in ID order, for the RDB writer and tests. */
  nodeList(): readonly StreamNode[] {
    return this.head === 0 ? this.nodes : this.nodes.slice(this.head);
  }

  /** The first entry's ID, tombstones included (MAX_ID when there is no node). */
  firstEdgeIdWithTombstones(): StreamId {
    if (this.nodes.length === this.head) return MAX_ID;
    return this.nodes[this.head]!.entries[0]!.id;
  }

  // ---- deletion ----

  /** Deletes a live entry (XDEL): a tombstone, or the whole node when it was its last live one. */
  deleteEntry(id: StreamId): boolean {
    if (this.nodes.length === this.head) return false;
    const ni = this.nodeFor(id);
    const node = this.nodes[ni]!;
    const i = node.lowerBound(id);
    const e = node.entries[i];
    if (!e || e.deleted || compareIds(e.id, id) !== 0) return false;
    if (node.live === 1) this.removeNode(ni);
    else node.markDeleted(i);
    this.liveCount--;
    return true;
  }

  private removeNode(index: number): void {
    const nodes = this.nodes;
    this.raxNodesCache = null;
    if (this.loadingNode === nodes[index]) this.loadingNode = null;
    if (index === this.head) {
      (nodes as Array<StreamNode | undefined>)[index] = undefined;
      this.head++;
      if (this.head === nodes.length) {
        this.nodes = [];
        this.head = 0;
      } else if (this.head >= 64 && this.head * 2 >= nodes.length) {
        this.nodes = nodes.slice(this.head);
        this.head = 0;
      }
      return;
    }
    if (index === nodes.length - 1) nodes.pop();
    else nodes.splice(index, 1);
  }

  /** Trims from the head as streamTrim does. Returns the number of entries removed. */
  trim(args: TrimArgs): number {
    const maxLen = args.maxLen;
    const byLen = args.strategy === "maxlen";
    const limit = args.limit;
    let deleted = 0;
    while (this.nodes.length > this.head) {
      if (byLen && this.liveCount <= maxLen) break;
      const node = this.nodes[this.head]!;
      const entries = node.live;
      if (limit && deleted + entries > limit) break;
      const removeNode = byLen
        ? this.liveCount - entries >= maxLen
        : compareIds(node.entries[node.entries.length - 1]!.id, args.minId) < 0;
      if (removeNode) {
        this.removeNode(this.head);
        this.liveCount -= entries;
        deleted += entries;
        continue;
      }
      if (args.approx) break;
      const list = node.entries;
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        const stop = byLen ? this.liveCount <= maxLen : compareIds(e.id, args.minId) >= 0;
        if (stop) break;
        if (!e.deleted) {
          node.markDeleted(i);
          this.liveCount--;
          deleted++;
        }
      }
      break;
    }
    if (this.liveCount === 0) this.firstId = { ms: 0, seq: 0 };
    else if (deleted) this.firstId = this.firstLiveId()!;
    return deleted;
  }

  // ---- groups, counters ----

  group(name: string): ConsumerGroup | undefined {
    return this.groups.get(name);
  }

  /** streamRangeHasTombstones: whether [start, end] may contain a deleted entry. */
  rangeHasTombstones(start: StreamId | null, end: StreamId | null): boolean {
    const maxDel = this.maxDeletedId;
    if (this.liveCount === 0 || isZeroId(maxDel)) return false;
    if (compareIds(this.firstId, maxDel) > 0) return false;
    return compareIds(start ?? ZERO_ID, maxDel) <= 0 && compareIds(maxDel, end ?? MAX_ID) <= 0;
  }

  /** streamEstimateDistanceFromFirstEverEntry: the read counter of an ID, or -1 if unknown. */
  estimateDistanceFromFirstEverEntry(id: StreamId): IdPart {
    const added = this.entriesAdded;
    if (added === 0) return 0;
    if (this.liveCount === 0 && compareIds(id, this.lastId) < 1) return asI64(added);
    const cmpLast = compareIds(id, this.lastId);
    if (cmpLast === 0) return asI64(added);
    if (cmpLast > 0) return -1;
    const maxDel = this.maxDeletedId;
    if (isZeroId(maxDel) || compareIds(maxDel, this.firstId) < 0) {
      const cmpFirst = compareIds(id, this.firstId);
      if (cmpFirst < 0) return i64Sub(added, this.liveCount);
      if (cmpFirst === 0) return i64Sub(added, this.liveCount, 1);
    }
    return -1;
  }

  /** A group's lag (streamReplyWithCGLag), or null when it cannot be known. */
  groupLag(g: ConsumerGroup): IdPart | null {
    const added = this.entriesAdded;
    if (added === 0) return 0;
    if (g.entriesRead !== -1 && !this.rangeHasTombstones(g.lastId, null)) return i64Sub(added, g.entriesRead);
    const read = this.estimateDistanceFromFirstEverEntry(g.lastId);
    return read === -1 ? null : i64Sub(added, read);
  }

  /** XINFO's radix-tree-nodes: the node count of Redis's rax holding the nodes' master IDs. */
  radixTreeNodes(): number {
    if (this.raxNodesCache === null) {
      const keys: string[] = [];
      for (let i = this.head; i < this.nodes.length; i++) keys.push(idKeyHex(this.nodes[i]!.masterId));
      this.raxNodesCache = raxNodeCount(keys);
    }
    return this.raxNodesCache;
  }

  /**
   * MEMORY USAGE: the stream's heap bytes (store/memory-size.ts). As Redis does for its
   * listpacks: the first `samples` nodes are measured, their average stands for all nodes but
   * the last, which is measured too (it is often the one not full). Consumer groups are
   * counted in full: their PELs and consumers.
   */
  memoryUsage(samples: number): number {
    const nodes = this.nodes;
    const count = nodes.length - this.head;
    // An empty stream measures 304 bytes (the object, its IDs, its empty node array and group Map).
    let bytes = 304 + nodes.length * SLOT_BYTES + (this.groups.size === 0 ? 0 : mapBytes(this.groups.size));
    let sampled = 0;
    let sampledBytes = 0;
    for (let i = this.head; i < nodes.length && sampled < samples; i++, sampled++) sampledBytes += nodes[i]!.memoryUsage();
    if (count <= sampled) bytes += sampledBytes;
    else bytes += Math.round((sampledBytes / sampled) * (count - 1)) + nodes[nodes.length - 1]!.memoryUsage();
    for (const g of this.groups.values()) {
      bytes += objectBytes(5) + stringBytes(g.name) + objectBytes(2) + g.pending.memoryUsage(true) + mapBytes(g.consumers.size);
      for (const c of g.consumers.values()) bytes += objectBytes(4) + stringBytes(c.name) + c.pending.memoryUsage(false);
    }
    return bytes;
  }

  /** A deep copy with the same node layout (COPY, snapshots). */
  clone(): StreamValue {
    const copy = new StreamValue();
    for (let i = this.head; i < this.nodes.length; i++) {
      const src = this.nodes[i]!;
      const node = new StreamNode(src.masterId, src.masterFields);
      for (const e of src.entries) node.push({ id: e.id, fields: e.fields, deleted: e.deleted });
      copy.nodes.push(node);
    }
    copy.liveCount = this.liveCount;
    copy.lastId = this.lastId;
    copy.maxDeletedId = this.maxDeletedId;
    copy.entriesAdded = this.entriesAdded;
    copy.firstId = this.firstId;
    for (const [name, src] of this.groups) {
      const g = src;
      const group = newConsumerGroup(name, g.lastId, g.entriesRead);
      for (const p of g.pending.ordered()) group.pending.set(formatId(p.id), { ...p });
      for (const [cname, c] of g.consumers) {
        const consumer: Consumer = { name: cname, seenTime: c.seenTime, activeTime: c.activeTime, pending: new PendingList() };
        for (const p of c.pending.ordered()) {
          const k = formatId(p.id);
          consumer.pending.set(k, group.pending.get(k)!);
        }
        group.consumers.set(cname, consumer);
      }
      copy.groups.set(name, group);
    }
    return copy;
  }
}

function totalLength(fields: string[]): number {
  let n = 0;
  for (let i = 0; i < fields.length; i++) n += fields[i]!.length;
  return n;
}

/**
 * The number of nodes of Redis's radix tree (rax.c) holding these 16-byte keys, given sorted
 * and distinct (as hex). With keys of equal length the tree's shape depends only on the key
 * set: each branching point is a node, each key a leaf node, and every run of single-child
 * steps between them (or above the first branching point) one compressed node.
 */
function raxNodeCount(sortedHexKeys: string[]): number {
  const n = sortedHexKeys.length;
  if (n === 0) return 1;
  let branches = 0;
  let chains = 0;
  const KEY = 16;
  // Depths (prefix lengths in bytes) along the rightmost path of the tree built so far.
  const stack: number[] = [KEY];
  for (let i = 1; i < n; i++) {
    const a = sortedHexKeys[i - 1]!;
    const b = sortedHexKeys[i]!;
    let d = 0;
    while (d < 32 && a.charCodeAt(d) === b.charCodeAt(d)) d++;
    const lcp = d >> 1;
    while (stack[stack.length - 1]! > lcp) {
      const child = stack.pop()!;
      if (stack.length === 0 || stack[stack.length - 1]! < lcp) {
        branches++;
        if (child - lcp >= 2) chains++;
        stack.push(lcp);
        break;
      }
      if (child - stack[stack.length - 1]! >= 2) chains++;
    }
    stack.push(KEY);
  }
  while (stack.length > 1) {
    const child = stack.pop()!;
    if (child - stack[stack.length - 1]! >= 2) chains++;
  }
  if (stack[0]! >= 1) chains++;
  return n + branches + chains;
}

