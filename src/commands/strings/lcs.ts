// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] (Redis 7.0 t_string.c lcsCommand):
// the classic dynamic programming table, then a walk back from the end that emits the matching
// ranges in the order Redis does (last match first).

import type { Client } from "../../core/client.ts";
import { fail, NOT_INTEGER, SYNTAX } from "../../core/errors.ts";
import { lookupRead } from "../../core/keyspace.ts";
import { parseLongLong } from "./parse.ts";

export function lcsCommand(c: Client, argv: string[]): void {
  const va = lookupRead(c, argv[1]!);
  const vb = lookupRead(c, argv[2]!);
  if ((va !== undefined && typeof va !== "string") || (vb !== undefined && typeof vb !== "string")) {
    fail("ERR The specified keys must contain string values");
  }
  const a = (va as string | undefined) ?? "";
  const b = (vb as string | undefined) ?? "";
  let getlen = false;
  let getidx = false;
  let withmatchlen = false;
  let minmatchlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const moreargs = argv.length - 1 - j;
    if (opt === "idx") getidx = true;
    else if (opt === "len") getlen = true;
    else if (opt === "withmatchlen") withmatchlen = true;
    else if (opt === "minmatchlen" && moreargs > 0) {
      const v = parseLongLong(argv[j + 1]!);
      if (v === null) fail(NOT_INTEGER);
      minmatchlen = v < 0 ? 0 : Number(v);
      j++;
    } else fail(SYNTAX);
  }
  if (getlen && getidx) fail("ERR If you want both the length and indexes, please just use IDX.");
  const alen = a.length;
  const blen = b.length;
  if (alen >= 0xfffffffe || blen >= 0xfffffffe) fail("ERR String too long for LCS");
  const cells = (alen + 1) * (blen + 1);
  if (cells * 4 > c.server.config.num("proto-max-bulk-len")) fail("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  let lcs: Uint32Array;
  try {
    lcs = new Uint32Array(cells);
  } catch {
    fail("ERR Insufficient memory, failed allocating transient memory for LCS");
  }
  const width = blen + 1;
  for (let i = 1; i <= alen; i++) {
    const ach = a.charCodeAt(i - 1);
    const row = i * width;
    const prev = row - width;
    for (let j = 1; j <= blen; j++) {
      if (ach === b.charCodeAt(j - 1)) lcs[row + j] = lcs[prev + j - 1]! + 1;
      else {
        const l1 = lcs[prev + j]!;
        const l2 = lcs[row + j - 1]!;
        lcs[row + j] = l1 > l2 ? l1 : l2;
      }
    }
  }
  const total = lcs[alen * width + blen]!;
  const computelcs = getidx || !getlen;
  if (!computelcs) {
    c.reply.int(total);
    return;
  }
  const result: number[] = new Array(total);
  let idx = total;
  // Ranges as [aStart, aEnd, bStart, bEnd, len], collected then written (Redis defers the length).
  const ranges: number[] = [];
  let arangeStart = alen;
  let arangeEnd = 0;
  let brangeStart = 0;
  let brangeEnd = 0;
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      result[idx - 1] = a.charCodeAt(i - 1);
      if (arangeStart === alen) {
        arangeStart = i - 1;
        arangeEnd = i - 1;
        brangeStart = j - 1;
        brangeEnd = j - 1;
      } else if (arangeStart === i && brangeStart === j) {
        arangeStart--;
        brangeStart--;
      } else {
        emit = true;
      }
      if (arangeStart === 0 || brangeStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      const l1 = lcs[(i - 1) * width + j]!;
      const l2 = lcs[i * width + j - 1]!;
      if (l1 > l2) i--;
      else j--;
      if (arangeStart !== alen) emit = true;
    }
    const matchLen = arangeEnd - arangeStart + 1;
    if (emit) {
      if (getidx && (minmatchlen === 0 || matchLen >= minmatchlen)) ranges.push(arangeStart, arangeEnd, brangeStart, brangeEnd, matchLen);
      arangeStart = alen;
    }
  }
  if (getidx) {
    const r = c.reply;
    r.map(2);
    r.bulk("matches");
    r.array(ranges.length / 5);
    for (let k = 0; k < ranges.length; k += 5) {
      r.array(withmatchlen ? 3 : 2);
      r.array(2);
      r.int(ranges[k]!);
      r.int(ranges[k + 1]!);
      r.array(2);
      r.int(ranges[k + 2]!);
      r.int(ranges[k + 3]!);
      if (withmatchlen) r.int(ranges[k + 4]!);
    }
    r.bulk("len");
    r.int(total);
  } else {
    c.reply.bulk(Buffer.from(result).latin1Slice());
  }
}
