// Streams in an RDB (RDB types 15, 19, 21): the radix tree's listpack nodes, decoded entry by
// entry against the node's master entry, then the consumer groups with their PELs and
// consumers. A layer of the RDB reader between the primitive reads (reader-input.ts) and the
// other value types (reader-values.ts).

import { STREAM_ITEM_FLAG_DELETED, STREAM_ITEM_FLAG_SAMEFIELDS, TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3 } from "./constants.ts";
import { decodeListpack, type PackedValue } from "../encoding/listpack.ts";
import {
  MAX_ID,
  PendingList,
  StreamValue,
  asI64,
  compareIds,
  formatId,
  idPart,
  newConsumerGroup,
  type Consumer,
  type StreamId,
} from "../store/stream.ts";
import { RdbInput, printable } from "./reader-input.ts";

const TWO_POW_32 = 4294967296;

/** uint64 addition of two id parts (wrapping like C), normalised to number when exact. */
function addIdPart(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === "number" && typeof b === "number") {
    const s = a + b;
    if (s <= Number.MAX_SAFE_INTEGER && s >= 0) return s;
  }
  return idPart(BigInt.asUintN(64, BigInt(a) + BigInt(b)));
}

export abstract class RdbStreamReader extends RdbInput {
  protected readStreamNodeKey(): StreamId {
    this.readBlob();
    if (this.blobEnd - this.blobStart !== 16) this.corrupt(`stream node key of ${this.blobEnd - this.blobStart} bytes (expected a 16-byte ID)`);
    const b = this.blobBuf;
    const p = this.blobStart;
    const msHi = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    const msLo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    const seqHi = ((b[p + 8]! << 24) | (b[p + 9]! << 16) | (b[p + 10]! << 8) | b[p + 11]!) >>> 0;
    const seqLo = ((b[p + 12]! << 24) | (b[p + 13]! << 16) | (b[p + 14]! << 8) | b[p + 15]!) >>> 0;
    return {
      ms: msHi <= 0x1fffff ? msHi * TWO_POW_32 + msLo : (BigInt(msHi) << 32n) | BigInt(msLo),
      seq: seqHi <= 0x1fffff ? seqHi * TWO_POW_32 + seqLo : (BigInt(seqHi) << 32n) | BigInt(seqLo),
    };
  }

  protected readStream(type: number): StreamValue {
    const stream = new StreamValue();
    const nodes = this.readLength();
    let prev: StreamId | null = null;
    const elems: PackedValue[] = [];
    for (let node = 0; node < nodes; node++) {
      const master = this.readStreamNodeKey();
      if (prev !== null && compareIds(prev, master) >= 0) this.corrupt(`stream node ${formatId(master)} is not after the entry ${formatId(prev)}`);
      this.readBlob();
      elems.length = 0;
      decodeListpack(this.blobBuf, this.blobStart, this.blobEnd, elems, true);
      if (elems.length === 0) this.corrupt("empty listpack inside a stream");
      prev = this.decodeStreamNode(elems, master, stream, prev);
    }
    stream.finishLoad();
    const length = this.readLength();
    stream.lastId = { ms: this.readLength64(), seq: this.readLength64() };
    if (type >= TYPE_STREAM_LISTPACKS_2) {
      stream.firstId = { ms: this.readLength64(), seq: this.readLength64() };
      stream.maxDeletedId = { ms: this.readLength64(), seq: this.readLength64() };
      stream.entriesAdded = this.readLength64();
    } else {
      // Redis 5/6 streams: entries-added starts as the length, first-id is the first live
      // entry (streamGetEdgeID: the maximum ID when there is none).
      stream.firstId = stream.firstLiveId() ?? MAX_ID;
      stream.maxDeletedId = { ms: 0, seq: 0 };
      stream.entriesAdded = length;
    }
    // `length` is not checked against the entries: Redis 5.0 development builds wrote streams
    // whose length still counted XDEL'd entries (corpus: replicator/dump-stream*.rdb), and Redis
    // itself loads them. The store derives the length from the live entries.
    if (length !== 0 && stream.nodeCount === 0) this.corrupt("stream length inconsistent with its (empty) list of nodes");

    const groups = this.readLength();
    for (let g = 0; g < groups; g++) {
      const name = this.readString();
      const lastId: StreamId = { ms: this.readLength64(), seq: this.readLength64() };
      // entries-read: a uint64 in the file holding a long long (-1 = unknown).
      const entriesRead = type >= TYPE_STREAM_LISTPACKS_2 ? asI64(this.readLength64()) : stream.estimateDistanceFromFirstEverEntry(lastId);
      if (stream.groups.has(name)) this.corrupt(`duplicate consumer group '${printable(name)}'`);
      const group = newConsumerGroup(name, lastId, entriesRead);
      stream.groups.set(name, group);
      const pelSize = this.readLength();
      for (let i = 0; i < pelSize; i++) {
        const id: StreamId = { ms: this.readUint64BE(), seq: this.readUint64BE() };
        const deliveryTime = this.readInt64LE();
        const deliveryCount = this.readLength64();
        const k = formatId(id);
        if (group.pending.has(k)) this.corrupt(`duplicate PEL entry ${k} in group '${printable(name)}'`);
        group.pending.set(k, { id, consumer: "", deliveryTime, deliveryCount });
      }
      const consumers = this.readLength();
      for (let c = 0; c < consumers; c++) {
        const cname = this.readString();
        const seenTime = this.readInt64LE();
        const activeTime = type >= TYPE_STREAM_LISTPACKS_3 ? this.readInt64LE() : -1;
        if (group.consumers.has(cname)) this.corrupt(`duplicate consumer '${printable(cname)}' in group '${printable(name)}'`);
        const consumer: Consumer = { name: cname, seenTime, activeTime, pending: new PendingList() };
        group.consumers.set(cname, consumer);
        const n = this.readLength();
        for (let i = 0; i < n; i++) {
          const ms = this.readUint64BE();
          const seq = this.readUint64BE();
          const k = formatId({ ms, seq });
          const pe = group.pending.get(k);
          if (pe === undefined) this.corrupt(`consumer '${printable(cname)}' owns ${k}, which is not in the group PEL`);
          if (pe.consumer !== "" || consumer.pending.has(k)) this.corrupt(`PEL entry ${k} owned twice`);
          pe.consumer = cname;
          consumer.pending.set(k, pe);
        }
      }
      for (const pe of group.pending.values()) {
        if (pe.consumer === "") this.corrupt(`PEL entry ${formatId(pe.id)} of group '${printable(name)}' has no consumer`);
      }
    }
    return stream;
  }

  /**
   * Decodes one stream listpack (master entry, then entries) into one node of the stream,
   * tombstones included, so the node layout is the master's. Returns the last entry's ID.
   */
  protected decodeStreamNode(elems: PackedValue[], master: StreamId, stream: StreamValue, prevId: StreamId | null): StreamId | null {
    let i = 0;
    const n = elems.length;
    const int = (what: string): number | bigint => {
      if (i >= n) this.corrupt(`stream listpack ends before the ${what}`);
      const v = elems[i++]!;
      if (typeof v === "string") this.corrupt(`stream listpack has a string where the ${what} (an integer) belongs`);
      return v;
    };
    const str = (what: string): string => {
      if (i >= n) this.corrupt(`stream listpack ends before the ${what}`);
      const v = elems[i++]!;
      return typeof v === "string" ? v : String(v);
    };
    const smallInt = (what: string): number => {
      const v = int(what);
      if (typeof v !== "number" || v < 0 || v > n) this.corrupt(`stream listpack has an implausible ${what} (${v})`);
      return v;
    };
    const count = smallInt("entry count");
    const deleted = smallInt("deleted count");
    const masterFieldCount = smallInt("master field count");
    const masterFields: string[] = new Array(masterFieldCount);
    for (let f = 0; f < masterFieldCount; f++) masterFields[f] = str("master field");
    if (int("master terminator") !== 0) this.corrupt("stream listpack master entry is not terminated by 0");
    const total = count + deleted;
    if (total === 0) this.corrupt(`stream node ${formatId(master)} holds no entries`);
    stream.beginNode(master, masterFields);
    let live = 0;
    for (let e = 0; e < total; e++) {
      const flags = int("entry flags");
      const msDiff = int("entry ID (ms)");
      const seqDiff = int("entry ID (seq)");
      const ms = addIdPart(master.ms, msDiff);
      const seq = addIdPart(master.seq, seqDiff);
      let fields: string[];
      let lpCount: number;
      const f = typeof flags === "number" ? flags : Number(flags);
      if (f & STREAM_ITEM_FLAG_SAMEFIELDS) {
        fields = new Array(masterFieldCount * 2);
        for (let k = 0; k < masterFieldCount; k++) {
          fields[2 * k] = masterFields[k]!;
          fields[2 * k + 1] = str("entry value");
        }
        lpCount = masterFieldCount + 3;
      } else {
        const nf = smallInt("entry field count");
        fields = new Array(nf * 2);
        for (let k = 0; k < nf * 2; k++) fields[k] = str("entry field or value");
        lpCount = nf * 2 + 4;
      }
      if (int("lp-count") !== lpCount) this.corrupt(`stream entry ${ms}-${seq} has a wrong lp-count`);
      const id: StreamId = { ms, seq };
      if (prevId !== null && compareIds(prevId, id) >= 0) this.corrupt(`stream entry ${formatId(id)} is not after ${formatId(prevId)}`);
      if (f & STREAM_ITEM_FLAG_DELETED) {
        stream.appendTombstone(id, fields);
      } else {
        stream.append(id, fields);
        live++;
      }
      prevId = id;
    }
    if (i !== n) this.corrupt(`stream listpack has ${n - i} unexpected trailing elements`);
    if (live !== count) this.corrupt(`stream listpack announces ${count} entries, holds ${live}`);
    return prevId;
  }
}
