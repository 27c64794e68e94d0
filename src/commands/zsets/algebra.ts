// The set algebra of sorted sets (Redis's zunionInterDiffGenericCommand): ZUNION, ZINTER and
// ZDIFF, their STORE forms, and ZINTERCARD. Plain sets take part with score 1.

import type { Client } from "../../core/client.ts";
import { SetValue } from "../../store/set.ts";
import { zcompare, ZSetValue } from "../../store/zset.ts";
import { fail, SYNTAX, WRONGTYPE } from "../../core/errors.ts";
import { deleteKey, lookupRead } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { finishStoredSet, storeResult } from "./add.ts";
import { replyMemberScore } from "./format.ts";
import { longArg, positiveLongArg, strictDoubleArg } from "./parse.ts";


const enum SetOp {
  Union,
  Inter,
  Diff,
}

const AGGR_SUM = 1;
const AGGR_MIN = 2;
const AGGR_MAX = 3;

interface OpSource {
  value: ZSetValue | SetValue | null;
  weight: number;
}

function sourceSize(s: OpSource): number {
  return s.value ? s.value.size : 0;
}

/** Score of a member in a source (1 for plain sets), or undefined. */
function sourceFind(s: OpSource, member: string): number | undefined {
  const v = s.value;
  if (v === null) return undefined;
  if (v instanceof ZSetValue) return v.score(member);
  return v.has(member) ? 1 : undefined;
}

function forEachInSource(s: OpSource, fn: (member: string, score: number) => boolean | void): void {
  const v = s.value;
  if (v === null) return;
  if (v instanceof ZSetValue) {
    for (const x = v.cursor(0); x.next(); ) if (fn(x.member, x.score) === false) return;
  } else {
    for (const m of v) if (fn(m, 1) === false) return;
  }
}

function aggregate(target: number, val: number, how: number): number {
  if (how === AGGR_SUM) {
    const r = target + val;
    return Number.isNaN(r) ? 0 : r;
  }
  if (how === AGGR_MIN) return val < target ? val : target;
  return val > target ? val : target;
}

function zsetOpGeneric(c: Client, argv: string[], dst: string | null, numkeysIndex: number, op: SetOp, cardinalityOnly: boolean): void {
  const setnum = longArg(argv[numkeysIndex]!);
  if (setnum < 1) fail(`ERR at least 1 input key is needed for '${argv[0]!.toLowerCase()}' command`);
  if (setnum > argv.length - (numkeysIndex + 1)) fail(SYNTAX);
  const src: OpSource[] = new Array(setnum);
  let j = numkeysIndex + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v = lookupRead(c, argv[j]!);
    if (v !== undefined && !(v instanceof ZSetValue) && !(v instanceof SetValue)) fail(WRONGTYPE);
    src[i] = { value: (v as ZSetValue | SetValue | undefined) ?? null, weight: 1 };
  }
  let how = AGGR_SUM;
  let withScores = false;
  let limit = 0;
  let remaining = argv.length - j;
  while (remaining) {
    const opt = argv[j]!.toLowerCase();
    if (op !== SetOp.Diff && !cardinalityOnly && remaining >= setnum + 1 && opt === "weights") {
      j++;
      remaining--;
      for (let i = 0; i < setnum; i++, j++, remaining--) src[i]!.weight = strictDoubleArg(argv[j]!, "ERR weight value is not a float");
    } else if (op !== SetOp.Diff && !cardinalityOnly && remaining >= 2 && opt === "aggregate") {
      j++;
      remaining--;
      const a = argv[j]!.toLowerCase();
      if (a === "sum") how = AGGR_SUM;
      else if (a === "min") how = AGGR_MIN;
      else if (a === "max") how = AGGR_MAX;
      else fail(SYNTAX);
      j++;
      remaining--;
    } else if (remaining >= 1 && dst === null && !cardinalityOnly && opt === "withscores") {
      j++;
      remaining--;
      withScores = true;
    } else if (cardinalityOnly && remaining >= 2 && opt === "limit") {
      j++;
      remaining--;
      limit = positiveLongArg(argv[j]!, "LIMIT can't be negative");
      j++;
      remaining--;
    } else fail(SYNTAX);
  }
  // Smallest first (a stable sort, like glibc's merge sort qsort); the order of the
  // aggregation matters for floating point sums.
  if (op !== SetOp.Diff) src.sort((a, b) => sourceSize(a) - sourceSize(b));

  const result: Array<[string, number]> = [];
  let maxLen = 0;
  let cardinality = 0;
  if (op === SetOp.Inter) {
    const first = src[0]!;
    if (sourceSize(first) > 0) {
      forEachInSource(first, (member, s) => {
        let score = first.weight * s;
        if (Number.isNaN(score)) score = 0;
        let k = 1;
        for (; k < setnum; k++) {
          const other = src[k]!;
          if (other.value === first.value) score = aggregate(score, s * other.weight, how);
          else {
            const found = sourceFind(other, member);
            if (found === undefined) break;
            score = aggregate(score, found * other.weight, how);
          }
        }
        if (k === setnum) {
          if (cardinalityOnly) {
            cardinality++;
            if (limit && cardinality >= limit) return false;
          } else {
            result.push([member, score]);
            if (member.length > maxLen) maxLen = member.length;
          }
        }
        return true;
      });
    }
  } else if (op === SetOp.Union) {
    const acc = new Map<string, number>();
    for (const s of src) {
      if (sourceSize(s) === 0) continue;
      const w = s.weight;
      forEachInSource(s, (member, sc) => {
        let score = w * sc;
        if (Number.isNaN(score)) score = 0;
        const cur = acc.get(member);
        if (cur === undefined) {
          acc.set(member, score);
          if (member.length > maxLen) maxLen = member.length;
        } else acc.set(member, aggregate(cur, score, how));
      });
    }
    for (const e of acc) result.push(e);
  } else {
    const first = src[0]!;
    let same = false;
    for (let k = 1; k < setnum; k++) if (src[k]!.value === first.value) same = true;
    if (sourceSize(first) > 0 && !same) {
      forEachInSource(first, (member, s) => {
        for (let k = 1; k < setnum; k++) if (sourceFind(src[k]!, member) !== undefined) return;
        result.push([member, s]);
        if (member.length > maxLen) maxLen = member.length;
      });
    }
  }

  if (dst !== null) {
    if (result.length) {
      const z = finishStoredSet(c, result, maxLen);
      storeResult(c, dst, z);
      c.reply.int(z.size);
      notifyKeyspaceEvent(c, NotifyClass.Zset, op === SetOp.Union ? "zunionstore" : op === SetOp.Inter ? "zinterstore" : "zdiffstore", dst);
    } else {
      c.reply.int(0);
      if (deleteKey(c, dst)) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", dst);
    }
    return;
  }
  if (cardinalityOnly) {
    c.reply.int(cardinality);
    return;
  }
  if (op !== SetOp.Diff || !(src[0]!.value instanceof ZSetValue)) result.sort((a, b) => zcompare(a[1], a[0], b[1], b[0]));
  c.reply.array(withScores && c.reply.resp === 2 ? result.length * 2 : result.length);
  for (const [m, s] of result) replyMemberScore(c, m, s, withScores);
}


export const handlers: HandlerMap = {
  zunionstore(c, argv) {
    zsetOpGeneric(c, argv, argv[1]!, 2, SetOp.Union, false);
  },
  zinterstore(c, argv) {
    zsetOpGeneric(c, argv, argv[1]!, 2, SetOp.Inter, false);
  },
  zdiffstore(c, argv) {
    zsetOpGeneric(c, argv, argv[1]!, 2, SetOp.Diff, false);
  },
  zunion(c, argv) {
    zsetOpGeneric(c, argv, null, 1, SetOp.Union, false);
  },
  zinter(c, argv) {
    zsetOpGeneric(c, argv, null, 1, SetOp.Inter, false);
  },
  zintercard(c, argv) {
    zsetOpGeneric(c, argv, null, 1, SetOp.Inter, true);
  },
  zdiff(c, argv) {
    zsetOpGeneric(c, argv, null, 1, SetOp.Diff, false);
  },
};
