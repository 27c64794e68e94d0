// ZRANDMEMBER (Redis's zrandmemberWithCountCommand): one member, or `count` distinct members
// (or, for a negative count, with repetitions), optionally with their scores.

import type { Client } from "../../core/client.ts";
import { ZSetValue } from "../../store/zset.ts";
import { fail, SYNTAX, WRONGTYPE } from "../../core/errors.ts";
import { lookupRead, readZSet } from "../../core/keyspace.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { replyMemberScore } from "./format.ts";
import { longArg } from "./parse.ts";


function randomRank(z: ZSetValue): number {
  return Math.floor(Math.random() * z.size);
}

function zrandmemberWithCount(c: Client, key: string, l: number, withScores: boolean): void {
  const v = lookupRead(c, key);
  if (v === undefined) {
    c.reply.array(0);
    return;
  }
  if (!(v instanceof ZSetValue)) fail(WRONGTYPE);
  const z = v;
  const size = z.size;
  let count: number;
  let uniq = true;
  if (l >= 0) count = l;
  else {
    count = -l;
    uniq = false;
  }
  if (count === 0) {
    c.reply.array(0);
    return;
  }
  if (!uniq || count === 1) {
    c.reply.array(withScores && c.reply.resp === 2 ? count * 2 : count);
    if (z.encoding === "listpack") {
      // By rank into the packed entries is a scan: take them out once.
      const members: string[] = [];
      const scores: number[] = [];
      z.toArrays(members, scores);
      while (count-- > 0) {
        const r = randomRank(z);
        replyMemberScore(c, members[r]!, scores[r]!, withScores);
      }
      return;
    }
    while (count-- > 0) {
      const n = z.cursor(randomRank(z));
      n.next();
      replyMemberScore(c, n.member, n.score, withScores);
    }
    return;
  }
  const replySize = count < size ? count : size;
  c.reply.array(withScores && c.reply.resp === 2 ? replySize * 2 : replySize);
  if (count >= size) {
    // Redis walks the zset with its union/inter iterator, which starts at the tail.
    for (const x = z.cursor(size - 1, true); x.next(); ) replyMemberScore(c, x.member, x.score, withScores);
    return;
  }
  if (count * 3 > size) {
    // Copy everything, remove random elements down to `count`.
    const members: string[] = [];
    const scores: number[] = [];
    z.toArrays(members, scores);
    let n = members.length;
    while (n > count) {
      const i = Math.floor(Math.random() * n);
      members[i] = members[n - 1]!;
      scores[i] = scores[n - 1]!;
      n--;
    }
    for (let i = 0; i < count; i++) replyMemberScore(c, members[i]!, scores[i]!, withScores);
    return;
  }
  const picked = new Set<string>();
  while (picked.size < count) {
    const node = z.cursor(randomRank(z));
    node.next();
    if (picked.has(node.member)) continue;
    picked.add(node.member);
    replyMemberScore(c, node.member, node.score, withScores);
  }
}

function zrandmember(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    // Exact int64 bounds: -LONG_MAX..LONG_MAX, and +-LONG_MAX/2 with WITHSCORES.
    const text = argv[2]!;
    const l = longArg(text);
    const big = Math.abs(l) >= 4e18 ? BigInt(text) : null;
    if (big !== null && big < -9223372036854775807n) fail("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    let withScores = false;
    if (argv.length > 4 || (argv.length === 4 && argv[3]!.toLowerCase() !== "withscores")) fail(SYNTAX);
    if (argv.length === 4) {
      withScores = true;
      if (big !== null && (big < -4611686018427387903n || big > 4611686018427387903n)) fail("ERR value is out of range");
    }
    zrandmemberWithCount(c, argv[1]!, l, withScores);
    return;
  }
  const z = readZSet(c, argv[1]!);
  if (!z) {
    c.reply.nullBulk();
    return;
  }
  c.reply.bulk(z.memberAt(randomRank(z)));
}


export const handlers: HandlerMap = {
  zrandmember,
};
