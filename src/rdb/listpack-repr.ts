// The listpacks Redis would hold for a value, and their text dumps (listpack.c's lpRepr,
// quicklist.c's quicklistRepr) for DEBUG LISTPACK / DEBUG QUICKLIST. Our store keeps its own
// packed forms (store/packed-entries.ts); these are the bytes the RDB writer produces for the
// same value, which is what Redis has in memory.

import type { HashValue, ListValue, SetValue, ZSetValue } from "../store/values.ts";
import { ListpackEncoder } from "./encode-listpack.ts";
import { ListpackReader } from "../encoding/listpack.ts";
import { appendScore, quicklistNodeCounts } from "./writer.ts";

/** Redis's listpack of a listpack-encoded hash (field, value[, TTL for listpackex]), set or zset (member, score). */
export function listpackOf(v: HashValue | SetValue | ZSetValue, withFieldTtls: boolean): Buffer {
  const lp = new ListpackEncoder(256);
  if ("cursor" in v) {
    for (const n = v.cursor(0); n.next(); ) {
      lp.appendString(n.member);
      appendScore(lp, n.score);
    }
  } else if ("fieldExpireAt" in v) {
    for (const [f, val] of v) {
      lp.appendString(f);
      lp.appendString(val);
      if (withFieldTtls) {
        const at = v.fieldExpireAt(f);
        lp.appendInt(at < 0 ? 0 : at);
      }
    }
  } else for (const m of v) lp.appendString(m);
  const size = lp.finish();
  return Buffer.from(lp.buf.subarray(0, size));
}

const hex2 = (n: number) => n.toString(16).padStart(2, "0");

/** The reader of listpackRepr. */
const reader = new ListpackReader();

/**
 * lpRepr's text. Addresses are the entries' offsets from `base` (there is no C pointer to
 * show); the rest is Redis's layout. Each entry's sizes come from the reader: where its
 * string starts (the header before it) or, for an integer, its one-byte header and backlen.
 */
export function listpackRepr(buf: Buffer, base: number): string {
  const lp = reader;
  lp.open(buf, 0, buf.length);
  let entries = "";
  let p = 6;
  for (let index = 0; lp.next(); index++) {
    const total = lp.offset - p;
    const str = lp.strStart;
    const header = str >= 0 ? str - p : 1;
    const encoded = str >= 0 ? header + lp.strLen : total - 1;
    const back = total - encoded;
    const s = String(lp.value(false));
    let out = "{\n";
    out += `\taddr: 0x${(base + p).toString(16).padStart(8, "0")},\n`;
    out += `\tindex: ${String(index).padStart(2)},\n`;
    out += `\toffset: ${p},\n`;
    out += `\thdr+entrylen+backlen: ${String(total).padStart(2)},\n`;
    out += `\thdrlen: ${String(header).padStart(3)},\n`;
    out += `\tbacklen: ${String(back).padStart(2)},\n`;
    out += `\tpayload: ${encoded - header}\n`;
    out += "\tbytes: ";
    for (let i = 0; i < total; i++) out += `${hex2(buf[p + i]!)}|`;
    out += "\n";
    out += `\t[str]${s.length > 40 ? `${s.slice(0, 40)}...` : s}\n}\n`;
    entries += out;
    p = lp.offset;
  }
  return `{total bytes ${buf.length}} {num entries ${lp.count}}\n${entries}{end}\n\n`;
}

/**
 * quicklistRepr's text for a list split into nodes as Redis's quicklist would split it
 * (list-max-listpack-size, quicklist-packed-threshold); `full` adds each node's listpack.
 * Nodes are never compressed here (list-compress-depth is not applied to what we hold).
 */
export function quicklistRepr(list: ListValue, fill: number, packedThreshold: number, full: boolean, base: number): string {
  const counts = quicklistNodeCounts(list, fill, packedThreshold);
  let out = `{count : ${list.length}}\n{len : ${counts.length}}\n{fill : ${fill}}\n{compress : 0}\n{bookmark_count : 0}\n`;
  let i = 0;
  const lp = new ListpackEncoder(256);
  for (let k = 0; k < counts.length; k++) {
    const c = counts[k]!;
    out += `{quicklist node(${k})\n`;
    if (c < 0) {
      const s = list.at(i++)!;
      out += `{container : PLAIN, encoding: RAW, size: ${s.length}, count: 1, recompress: 0, attempted_compress: 0}\n`;
      if (full) out += `{ entry : ${s} }\n}\n`;
      continue;
    }
    lp.reset();
    for (let j = 0; j < c; j++) lp.appendString(list.at(i++)!);
    const size = lp.finish();
    out += `{container : PACKED, encoding: RAW, size: ${size}, count: ${c}, recompress: 0, attempted_compress: 0}\n`;
    if (full) out += `{ listpack:\n${listpackRepr(Buffer.from(lp.buf.subarray(0, size)), base + k * 0x10000)}}\n}\n`;
  }
  return out;
}
