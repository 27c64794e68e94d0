// Streams as Redis 7.0 saves them (RDB_TYPE_STREAM_LISTPACKS_2, rdb.c rdbSaveObject):
//
//   <node count> then per node: <master ID: 16 bytes big endian, as a string> <listpack>
//   <length> <last ID ms> <seq> <first ID ms> <seq> <max deleted ID ms> <seq> <entries added>
//   <group count> then per group (in name order): <name> <last ID ms> <seq> <entries read>
//     <PEL size> then per entry (ID order): <ID, 16 raw bytes> <delivery time, int64 LE ms>
//       <delivery count>
//     <consumer count> then per consumer (name order): <name> <seen time, int64 LE ms>
//       <PEL size> then per entry: <ID, 16 raw bytes>
//
// Each node's listpack is a real stream listpack (t_stream.c): the master entry (live count,
// deleted count, master field count, the master fields, 0), then per entry (tombstones
// included) its flags (1 deleted, 2 same fields as the master entry), the ID as deltas from the
// master ID, the fields (only the values when they are the master's), and lp-count.

import type { Consumer, ConsumerGroup, PendingEntry, StreamId, StreamNode, StreamValue } from "../store/stream.ts";
import type { ListpackEncoder } from "./encode-listpack.ts";
import type { RdbWriter } from "./writer.ts";

const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;
const TWO_POW_32 = 4294967296;

function cmpNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** id.part - master.part as the int64 Redis stores (uint64 subtraction read as signed). */
function delta(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const d = BigInt.asIntN(64, BigInt(a) - BigInt(b));
  return d >= -9007199254740991n && d <= 9007199254740991n ? Number(d) : d;
}

/** 16 bytes: ms then seq, each a big-endian uint64 (the radix-tree key / PEL form). */
function writeRawId(w: RdbWriter, id: StreamId): void {
  w.ensure(16);
  putU64BE(w.buf, w.pos, id.ms);
  putU64BE(w.buf, w.pos + 8, id.seq);
  w.pos += 16;
}

function putU64BE(buf: Buffer, p: number, v: number | bigint): void {
  if (typeof v === "bigint") {
    buf.writeBigUInt64BE(BigInt.asUintN(64, v), p);
    return;
  }
  const hi = Math.floor(v / TWO_POW_32);
  const lo = v >>> 0;
  buf.writeUInt32BE(hi >>> 0, p);
  buf.writeUInt32BE(lo, p + 4);
}

const idScratch = Buffer.allocUnsafe(16);

function encodeNode(lp: ListpackEncoder, node: StreamNode): void {
  lp.reset();
  const master = node.masterFields;
  const mf = master.length;
  lp.appendInt(node.live);
  lp.appendInt(node.deleted);
  lp.appendInt(mf);
  for (let i = 0; i < mf; i++) lp.appendString(master[i]!);
  lp.appendInt(0);
  const mid = node.masterId;
  for (const e of node.entries) {
    const fields = e.fields;
    const nf = fields.length >> 1;
    let same = nf === mf;
    for (let i = 0; same && i < nf; i++) if (fields[2 * i] !== master[i]) same = false;
    lp.appendInt((e.deleted ? FLAG_DELETED : 0) | (same ? FLAG_SAMEFIELDS : 0));
    lp.appendInt(delta(e.id.ms, mid.ms));
    lp.appendInt(delta(e.id.seq, mid.seq));
    if (same) {
      for (let i = 1; i < fields.length; i += 2) lp.appendString(fields[i]!);
      lp.appendInt(nf + 3);
    } else {
      lp.appendInt(nf);
      for (let i = 0; i < fields.length; i++) lp.appendString(fields[i]!);
      lp.appendInt(2 * nf + 4);
    }
  }
}

function pendingInOrder(pel: Map<string, PendingEntry>): Iterable<PendingEntry> {
  const ordered = (pel as { ordered?: () => Iterable<PendingEntry> }).ordered;
  if (typeof ordered === "function") return ordered.call(pel);
  return [...pel.values()].sort((a, b) => (a.id.ms < b.id.ms ? -1 : a.id.ms > b.id.ms ? 1 : a.id.seq < b.id.seq ? -1 : a.id.seq > b.id.seq ? 1 : 0));
}

export function writeStreamValue(w: RdbWriter, s: StreamValue): void {
  const nodes = s.nodeList();
  // Nodes whose entries are all gone are not kept by Redis (and an empty listpack would be
  // refused on load).
  let count = 0;
  for (const n of nodes) if (n.entries.length) count++;
  w.length(count);
  const lp = w.listpack;
  for (const node of nodes) {
    if (node.entries.length === 0) continue;
    putU64BE(idScratch, 0, node.masterId.ms);
    putU64BE(idScratch, 8, node.masterId.seq);
    w.blob(idScratch, 0, 16);
    encodeNode(lp, node);
    w.listpackBlob();
  }
  w.length(s.length);
  w.length64(s.lastId.ms);
  w.length64(s.lastId.seq);
  w.length64(s.firstId.ms);
  w.length64(s.firstId.seq);
  w.length64(s.maxDeletedId.ms);
  w.length64(s.maxDeletedId.seq);
  w.length64(s.entriesAdded);

  const groups: ConsumerGroup[] = [...s.groups.values()].sort((a, b) => cmpNames(a.name, b.name));
  w.length(groups.length);
  for (const g of groups) {
    w.string(g.name);
    w.length64(g.lastId.ms);
    w.length64(g.lastId.seq);
    w.length64(g.entriesRead); // -1 (unknown) is written as 2^64 - 1, as Redis's uint64 cast does
    w.length(g.pending.size);
    for (const p of pendingInOrder(g.pending)) {
      writeRawId(w, p.id);
      w.millis(p.deliveryTime);
      w.length64(p.deliveryCount);
    }
    const consumers: Consumer[] = [...g.consumers.values()].sort((a, b) => cmpNames(a.name, b.name));
    w.length(consumers.length);
    for (const c of consumers) {
      w.string(c.name);
      w.millis(c.seenTime);
      w.length(c.pending.size);
      for (const p of pendingInOrder(c.pending)) writeRawId(w, p.id);
    }
  }
}
