// Sorted set ranges (Redis's zrangeGenericCommand and friends): ZRANGE and its BYSCORE / BYLEX
// / REV variants, ZRANGESTORE (the same walk into a new set), ZREMRANGEBYRANK / BYSCORE / BYLEX,
// and ZCOUNT / ZLEXCOUNT.

import type { Client } from "../../core/client.ts";
import { type LexRange, lexGteMin, lexLteMax, type ScoreRange, scoreGteMin, scoreLteMax, type ZCursor, ZSetValue } from "../../store/zset.ts";
import { fail, SYNTAX, WRONGTYPE } from "../../core/errors.ts";
import { deleteKey, lookupRead, readZSet, signalModified, writeZSet } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { maxEntries, storeResult, zsetAdd } from "./add.ts";
import { replyMemberScore, replyScore } from "./format.ts";
import { longArg, parseLexRange, parseScoreRange } from "./parse.ts";

// ---------------------------------------------------------------------------------------------
// ZRANGE and its variants (zrangeGenericCommand)

const enum RangeType {
  Auto,
  Rank,
  Score,
  Lex,
}

const enum Direction {
  Auto,
  Forward,
  Reverse,
}

/** Where range results go: to the client, or into a new set for ZRANGESTORE. */
interface RangeSink {
  withScores: boolean;
  /** Known length (rank ranges) or -1. */
  begin(length: number): void;
  emit(member: string, score: number): void;
  /** emit() of a cursor's current entry. */
  emitAt(cur: ZCursor): void;
  /** emit() for score/lex ranges, whose length is only known at the end. */
  emitPending(member: string, score: number): void;
  finish(count: number): void;
}

class ClientSink implements RangeSink {
  withScores = false;
  /** Set when the length is not known in advance: results are held until finish(). */
  private pending: string[] | null = null;
  private pendingScores: number[] = [];
  constructor(private readonly c: Client) {}
  begin(length: number): void {
    if (length >= 0) this.c.reply.array(this.withScores && this.c.reply.resp === 2 ? length * 2 : length);
    else {
      this.pending = [];
      this.pendingScores = [];
    }
  }
  emit(member: string, score: number): void {
    replyMemberScore(this.c, member, score, this.withScores);
  }
  emitAt(cur: ZCursor): void {
    // The member's bytes go to the reply as they are (no string made for a large set's member).
    const c = this.c;
    if (this.withScores && c.reply.resp === 3) c.reply.array(2);
    cur.writeMember(c.reply);
    if (this.withScores) replyScore(c, cur.score);
  }
  emitPending(member: string, score: number): void {
    if (this.pending) {
      this.pending.push(member);
      this.pendingScores.push(score);
    } else this.emit(member, score);
  }
  finish(count: number): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.c.reply.array(this.withScores && this.c.reply.resp === 2 ? count * 2 : count);
    for (let i = 0; i < pending.length; i++) this.emit(pending[i]!, this.pendingScores[i]!);
  }
}

class StoreSink implements RangeSink {
  withScores = true;
  private z: ZSetValue | null = null;
  constructor(
    private readonly c: Client,
    private readonly dst: string,
  ) {}
  begin(length: number): void {
    this.z = new ZSetValue();
    if (length > maxEntries(this.c)) this.z.encoding = "skiplist";
  }
  emit(member: string, score: number): void {
    zsetAdd(this.c, this.z!, score, member, 0);
  }
  emitAt(cur: ZCursor): void {
    this.emit(cur.member, cur.score);
  }
  emitPending(member: string, score: number): void {
    this.emit(member, score);
  }
  finish(count: number): void {
    const c = this.c;
    if (count) {
      storeResult(c, this.dst, this.z!);
      c.reply.int(count);
      notifyKeyspaceEvent(c, NotifyClass.Zset, "zrangestore", this.dst);
    } else {
      c.reply.int(0);
      if (deleteKey(c, this.dst)) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", this.dst);
    }
  }
}

function rangeByRank(sink: RangeSink, z: ZSetValue, start: number, end: number, reverse: boolean): void {
  const llen = z.size;
  if (start < 0) start = llen + start;
  if (end < 0) end = llen + end;
  if (start < 0) start = 0;
  if (start > end || start >= llen) {
    sink.begin(0);
    sink.finish(0);
    return;
  }
  if (end >= llen) end = llen - 1;
  let n = end - start + 1;
  const count = n;
  sink.begin(n);
  const cur = z.cursor(reverse ? llen - 1 - start : start, reverse);
  while (n-- > 0 && cur.next()) sink.emitAt(cur);
  sink.finish(count);
}

function rangeByScore(sink: RangeSink, z: ZSetValue, range: ScoreRange, offset: number, limit: number, reverse: boolean): void {
  sink.begin(-1);
  if (offset > 0 && offset >= z.size) {
    sink.finish(0);
    return;
  }
  let rank = reverse ? z.lastInScoreRange(range) : z.firstInScoreRange(range);
  // A negative offset walks off the end: C's `while (ln && offset--)`.
  if (offset < 0) rank = -1;
  else if (rank >= 0) rank = reverse ? rank - offset : rank + offset;
  const cur = z.cursor(rank, reverse);
  let count = 0;
  while (limit-- !== 0 && cur.next()) {
    if (reverse ? !scoreGteMin(cur.score, range) : !scoreLteMax(cur.score, range)) break;
    count++;
    sink.emitPending(cur.member, cur.score);
  }
  sink.finish(count);
}

function rangeByLex(sink: RangeSink, z: ZSetValue, range: LexRange, offset: number, limit: number, reverse: boolean): void {
  sink.begin(-1);
  let rank = reverse ? z.lastInLexRange(range) : z.firstInLexRange(range);
  if (offset < 0) rank = -1;
  else if (rank >= 0) rank = reverse ? rank - offset : rank + offset;
  const cur = z.cursor(rank, reverse);
  let count = 0;
  while (limit-- !== 0 && cur.next()) {
    if (reverse ? !lexGteMin(cur.member, range) : !lexLteMax(cur.member, range)) break;
    count++;
    sink.emitPending(cur.member, cur.score);
  }
  sink.finish(count);
}

function zrangeGeneric(c: Client, argv: string[], sink: RangeSink, argcStart: number, store: boolean, rangeType: RangeType, direction: Direction): void {
  const key = argv[argcStart]!;
  let minIdx = argcStart + 1;
  let maxIdx = argcStart + 2;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = argcStart + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const opt = argv[j]!.toLowerCase();
    if (!store && opt === "withscores") withScores = true;
    else if (opt === "limit" && left >= 2) {
      offset = longArg(argv[j + 1]!);
      limit = longArg(argv[j + 2]!);
      j += 2;
    } else if (direction === Direction.Auto && opt === "rev") direction = Direction.Reverse;
    else if (rangeType === RangeType.Auto && opt === "bylex") rangeType = RangeType.Lex;
    else if (rangeType === RangeType.Auto && opt === "byscore") rangeType = RangeType.Score;
    else fail(SYNTAX);
  }
  if (direction === Direction.Auto) direction = Direction.Forward;
  if (rangeType === RangeType.Auto) rangeType = RangeType.Rank;
  if (limit !== -1 && rangeType === RangeType.Rank) fail("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  if (withScores && rangeType === RangeType.Lex) fail("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  const reverse = direction === Direction.Reverse;
  if (reverse && (rangeType === RangeType.Score || rangeType === RangeType.Lex)) {
    const t = maxIdx;
    maxIdx = minIdx;
    minIdx = t;
  }
  let start = 0;
  let end = 0;
  let scoreRange: ScoreRange | null = null;
  let lexRange: LexRange | null = null;
  if (rangeType === RangeType.Rank) {
    start = longArg(argv[minIdx]!);
    end = longArg(argv[maxIdx]!);
  } else if (rangeType === RangeType.Score) {
    scoreRange = parseScoreRange(argv[minIdx]!, argv[maxIdx]!);
    if (!scoreRange) fail("ERR min or max is not a float");
  } else {
    lexRange = parseLexRange(argv[minIdx]!, argv[maxIdx]!);
    if (!lexRange) fail("ERR min or max not valid string range item");
  }
  if (withScores || store) sink.withScores = true;
  const v = lookupRead(c, key);
  if (v === undefined) {
    if (store) {
      sink.begin(-1);
      sink.finish(0);
    } else c.reply.array(0);
    return;
  }
  if (!(v instanceof ZSetValue)) fail(WRONGTYPE);
  if (rangeType === RangeType.Rank) rangeByRank(sink, v, start, end, reverse);
  else if (rangeType === RangeType.Score) rangeByScore(sink, v, scoreRange!, offset, limit, reverse);
  else rangeByLex(sink, v, lexRange!, offset, limit, reverse);
}

function clientRange(rangeType: RangeType, direction: Direction) {
  return (c: Client, argv: string[]) => zrangeGeneric(c, argv, new ClientSink(c), 1, false, rangeType, direction);
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBYRANK / BYSCORE / BYLEX

function zremrangeGeneric(c: Client, argv: string[], rangeType: RangeType): void {
  const key = argv[1]!;
  let start = 0;
  let end = 0;
  let scoreRange: ScoreRange | null = null;
  let lexRange: LexRange | null = null;
  if (rangeType === RangeType.Rank) {
    start = longArg(argv[2]!);
    end = longArg(argv[3]!);
  } else if (rangeType === RangeType.Score) {
    scoreRange = parseScoreRange(argv[2]!, argv[3]!);
    if (!scoreRange) fail("ERR min or max is not a float");
  } else {
    lexRange = parseLexRange(argv[2]!, argv[3]!);
    if (!lexRange) fail("ERR min or max not valid string range item");
  }
  const z = writeZSet(c, key);
  if (!z) {
    c.reply.int(0);
    return;
  }
  let deleted: number;
  if (rangeType === RangeType.Rank) {
    const llen = z.size;
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
      c.reply.int(0);
      return;
    }
    if (end >= llen) end = llen - 1;
    deleted = z.deleteRangeByRank(start, end);
  } else if (rangeType === RangeType.Score) deleted = z.deleteRangeByScore(scoreRange!);
  else deleted = z.deleteRangeByLex(lexRange!);
  const keyRemoved = z.size === 0;
  if (keyRemoved) c.db.delete(key);
  if (deleted) {
    signalModified(c, key, c.db, deleted);
    notifyKeyspaceEvent(c, NotifyClass.Zset, rangeType === RangeType.Rank ? "zremrangebyrank" : rangeType === RangeType.Score ? "zremrangebyscore" : "zremrangebylex", key);
    if (keyRemoved) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
  }
  c.reply.int(deleted);
}


// ---------------------------------------------------------------------------------------------
// ZCOUNT, ZLEXCOUNT

function zcount(c: Client, argv: string[]): void {
  const range = parseScoreRange(argv[2]!, argv[3]!);
  if (!range) fail("ERR min or max is not a float");
  const z = readZSet(c, argv[1]!);
  if (!z) {
    c.reply.int(0);
    return;
  }
  const first = z.firstInScoreRange(range);
  if (first < 0) {
    c.reply.int(0);
    return;
  }
  c.reply.int(z.lastInScoreRange(range) - first + 1);
}

function zlexcount(c: Client, argv: string[]): void {
  const range = parseLexRange(argv[2]!, argv[3]!);
  if (!range) fail("ERR min or max not valid string range item");
  const z = readZSet(c, argv[1]!);
  if (!z) {
    c.reply.int(0);
    return;
  }
  let count = 0;
  const first = z.firstInLexRange(range);
  if (z.encoding === "listpack") {
    if (first >= 0) for (const x = z.cursor(first); x.next() && lexLteMax(x.member, range); ) count++;
  } else if (first >= 0) {
    // Redis counts with the ranks of the first and last nodes in range.
    const len = z.size;
    count = len - first;
    const last = z.lastInLexRange(range);
    if (last >= 0) count -= len - (last + 1);
  }
  c.reply.int(count);
}


export const handlers: HandlerMap = {
  zcount,
  zlexcount,
  zrange: clientRange(RangeType.Auto, Direction.Auto),
  zrevrange: clientRange(RangeType.Rank, Direction.Reverse),
  zrangebyscore: clientRange(RangeType.Score, Direction.Forward),
  zrevrangebyscore: clientRange(RangeType.Score, Direction.Reverse),
  zrangebylex: clientRange(RangeType.Lex, Direction.Forward),
  zrevrangebylex: clientRange(RangeType.Lex, Direction.Reverse),
  zrangestore(c, argv) {
    zrangeGeneric(c, argv, new StoreSink(c, argv[1]!), 2, true, RangeType.Auto, Direction.Auto);
  },
  zremrangebyrank(c, argv) {
    zremrangeGeneric(c, argv, RangeType.Rank);
  },
  zremrangebyscore(c, argv) {
    zremrangeGeneric(c, argv, RangeType.Score);
  },
  zremrangebylex(c, argv) {
    zremrangeGeneric(c, argv, RangeType.Lex);
  },
};
