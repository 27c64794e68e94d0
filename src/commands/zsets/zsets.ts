// Sorted set commands (Redis 7.0 t_zset.c): ZADD and friends, ranges by rank / score / lex,
// removals, pops (the blocking ones serve available data; see bzpop below), the set algebra
// (ZUNION/ZINTER/ZDIFF and their STORE forms), ZRANDMEMBER and ZSCAN.
//
// Redis checks every argument before it touches data, and so do these handlers. Encodings
// follow Redis's rules: a new set is a listpack unless zset-max-listpack-entries is 0 or its
// first member is longer than zset-max-listpack-value; it becomes a skiplist once it grows past
// either limit and never goes back, except that a set built by a STORE command is a listpack
// when its final size and longest member fit.

import { mayBlock } from "../../core/blocking.ts";
import type { Client } from "../../core/client.ts";
import { SetValue } from "../../store/set.ts";
import { type LexRange, lexGteMin, lexLteMax, type ScoreRange, scoreGteMin, scoreLteMax, zcompare, ZSetValue } from "../../store/zset.ts";
import { fail, NOT_FLOAT, SYNTAX, WRONGTYPE, wrongArity } from "../../core/errors.ts";
import { deleteKey, lookupRead, lookupWrite, readZSet, setKey, signalModified, writeZSet } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { replyScore } from "./format.ts";
import { longArg, parseLexRange, parseScoreRange, parseTimeoutSeconds, positiveLongArg, rangeLongArg, strictDoubleArg } from "./parse.ts";
import { zscan } from "./scan.ts";

const LONG_MAX = 9223372036854775807;

// ---------------------------------------------------------------------------------------------
// Encoding rules and the core add (Redis's zsetAdd)

function maxEntries(c: Client): number {
  return c.server.config.num("zset-max-listpack-entries");
}

function maxValue(c: Client): number {
  return c.server.config.num("zset-max-listpack-value");
}

/** A new, empty set as ZADD creates it for its first member. */
export function newZSetFor(c: Client, firstMember: string): ZSetValue {
  const z = new ZSetValue();
  if (maxEntries(c) === 0 || maxValue(c) < firstMember.length) z.encoding = "skiplist";
  return z;
}

const ZADD_NX = 1;
const ZADD_XX = 2;
const ZADD_GT = 4;
const ZADD_LT = 8;
const ZADD_INCR = 16;

const OUT_NAN = 0;
const OUT_ADDED = 1;
const OUT_UPDATED = 2;
const OUT_NOP = 3;
/** Score present and unchanged (a processed no-op). */
const OUT_SAME = 4;

/** The resulting score of the last zsetAdd (with INCR). */
let addedScore = 0;

/**
 * Adds or updates one member with Redis's flags; converts a listpack to a skiplist when the
 * new member would exceed the limits. Returns one of the OUT_* codes.
 */
function zsetAdd(c: Client, z: ZSetValue, score: number, member: string, flags: number): number {
  const cur = z.score(member);
  if (cur !== undefined) {
    if (flags & ZADD_NX) return OUT_NOP;
    if (flags & ZADD_INCR) {
      score += cur;
      if (Number.isNaN(score)) return OUT_NAN;
    }
    if ((flags & ZADD_LT && score >= cur) || (flags & ZADD_GT && score <= cur)) return OUT_NOP;
    addedScore = score;
    if (score !== cur) {
      z.updateScore(member, cur, score === 0 && z.encoding === "listpack" ? 0 : score);
      return OUT_UPDATED;
    }
    return OUT_SAME;
  }
  if (flags & ZADD_XX) return OUT_NOP;
  if (z.encoding === "listpack" && (z.size + 1 > maxEntries(c) || member.length > maxValue(c))) z.encoding = "skiplist";
  z.insert(member, score === 0 && z.encoding === "listpack" ? 0 : score);
  addedScore = score;
  return OUT_ADDED;
}

/** A set built by a STORE command: a listpack when its size and longest member fit. */
function finishStoredSet(c: Client, entries: Array<[string, number]>, maxLen: number): ZSetValue {
  const z = new ZSetValue();
  z.encoding = entries.length <= maxEntries(c) && maxLen <= maxValue(c) ? "listpack" : "skiplist";
  for (const [m, s] of entries) z.add(m, s);
  return z;
}

/** Stores a set built by a command (GEORADIUS STORE...) from its entries. */
export function storeZSet(c: Client, dst: string, entries: Array<[string, number]>, maxLen: number): void {
  storeResult(c, dst, finishStoredSet(c, entries, maxLen));
}

/** Stores a set built by a command under `dst` (Redis's setKey: replaces, clears the TTL). */
function storeResult(c: Client, dst: string, z: ZSetValue): void {
  lookupWrite(c, dst); // an expired destination is deleted first, as lookupKeyWrite does
  setKey(c, dst, z);
}

/** Writes member + score in the shape of WITHSCORES replies (nested pairs in RESP3). */
function replyMemberScore(c: Client, member: string, score: number, withScores: boolean): void {
  if (withScores && c.reply.resp === 3) c.reply.array(2);
  c.reply.bulk(member);
  if (withScores) replyScore(c, score);
}

// ---------------------------------------------------------------------------------------------
// ZADD / ZINCRBY

function zaddGeneric(c: Client, argv: string[], flags: number): void {
  const key = argv[1]!;
  let scoreIdx = 2;
  let ch = false;
  while (scoreIdx < argv.length) {
    const opt = argv[scoreIdx]!;
    if (opt.length > 4) break;
    const o = opt.toLowerCase();
    if (o === "nx") flags |= ZADD_NX;
    else if (o === "xx") flags |= ZADD_XX;
    else if (o === "ch") ch = true;
    else if (o === "incr") flags |= ZADD_INCR;
    else if (o === "gt") flags |= ZADD_GT;
    else if (o === "lt") flags |= ZADD_LT;
    else break;
    scoreIdx++;
  }
  const incr = (flags & ZADD_INCR) !== 0;
  const nx = (flags & ZADD_NX) !== 0;
  const xx = (flags & ZADD_XX) !== 0;
  const gt = (flags & ZADD_GT) !== 0;
  const lt = (flags & ZADD_LT) !== 0;
  let elements = argv.length - scoreIdx;
  if (elements % 2 || !elements) fail(SYNTAX);
  elements /= 2;
  if (nx && xx) fail("ERR XX and NX options at the same time are not compatible");
  if ((gt && nx) || (lt && nx) || (gt && lt)) fail("ERR GT, LT, and/or NX options at the same time are not compatible");
  if (incr && elements > 1) fail("ERR INCR option supports a single increment-element pair");
  const scores = new Array<number>(elements);
  for (let j = 0; j < elements; j++) scores[j] = strictDoubleArg(argv[scoreIdx + j * 2]!, NOT_FLOAT);

  let z = writeZSet(c, key);
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  if (!z) {
    if (xx) {
      if (incr) c.reply.nullBulk();
      else c.reply.int(0);
      return;
    }
    z = newZSetFor(c, argv[scoreIdx + 1]!);
    c.db.set(key, z);
  }
  for (let j = 0; j < elements; j++) {
    const r = zsetAdd(c, z, scores[j]!, argv[scoreIdx + 1 + j * 2]!, flags);
    if (r === OUT_NAN) {
      if (added + updated) {
        signalModified(c, key, c.db, added + updated);
        notifyKeyspaceEvent(c, NotifyClass.Zset, incr ? "zincr" : "zadd", key);
      }
      fail("ERR resulting score is not a number (NaN)");
    }
    if (r === OUT_ADDED) added++;
    else if (r === OUT_UPDATED) updated++;
    if (r !== OUT_NOP) {
      processed++;
      score = addedScore;
    }
  }
  if (added + updated) {
    signalModified(c, key, c.db, added + updated);
    notifyKeyspaceEvent(c, NotifyClass.Zset, incr ? "zincr" : "zadd", key);
  }
  if (incr) {
    if (processed) replyScore(c, score);
    else c.reply.nullBulk();
  } else c.reply.int(ch ? added + updated : added);
}

/** ZADD as GEOADD runs it (with its rewritten argument vector). */
export function zaddCommand(c: Client, argv: string[]): void {
  zaddGeneric(c, argv, 0);
}

// ---------------------------------------------------------------------------------------------
// ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK

function zrem(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const z = writeZSet(c, key);
  if (!z) {
    c.reply.int(0);
    return;
  }
  let deleted = 0;
  let keyRemoved = false;
  for (let j = 2; j < argv.length; j++) {
    if (z.delete(argv[j]!)) deleted++;
    if (z.size === 0) {
      c.db.delete(key);
      keyRemoved = true;
      break;
    }
  }
  if (deleted) {
    notifyKeyspaceEvent(c, NotifyClass.Zset, "zrem", key);
    if (keyRemoved) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
    signalModified(c, key, c.db, deleted);
  }
  c.reply.int(deleted);
}

/** ZRANK / ZREVRANK key member [WITHSCORE] (WITHSCORE: Redis 7.2). */
function zrankGeneric(c: Client, argv: string[], reverse: boolean): void {
  if (argv.length > 4) fail(wrongArity(reverse ? "zrevrank" : "zrank"));
  const withScore = argv.length > 3;
  if (withScore && argv[3]!.toLowerCase() !== "withscore") fail(SYNTAX);
  const z = readZSet(c, argv[1]!);
  const r = z?.rank(argv[2]!);
  if (r === undefined) {
    if (withScore) c.reply.nullArray();
    else c.reply.nullBulk();
    return;
  }
  if (withScore) c.reply.array(2);
  c.reply.int(reverse ? z!.size - 1 - r : r);
  if (withScore) c.reply.double(z!.score(argv[2]!)!);
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
  while (n-- > 0 && cur.next()) sink.emit(cur.member, cur.score);
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
// ZUNION / ZINTER / ZDIFF (+STORE), ZINTERCARD (zunionInterDiffGenericCommand)

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

// ---------------------------------------------------------------------------------------------
// Pops: ZPOPMIN/ZPOPMAX, ZMPOP, BZPOPMIN/BZPOPMAX/BZMPOP (genericZpopCommand)

const ZSET_MIN = 0;
const ZSET_MAX = 1;

/**
 * Pops from the first existing key of `keys`. count -1 is the plain single pop. Returns the key
 * popped from and how many elements, or null when nothing was popped.
 */
function genericZpop(c: Client, keys: string[], where: number, emitKey: boolean, count: number, nested: boolean, nilWhenEmpty: boolean): { key: string; popped: number } | null {
  let key = "";
  let z: ZSetValue | undefined;
  for (const k of keys) {
    key = k;
    z = writeZSet(c, k);
    if (z) break;
  }
  if (!z) {
    if (nilWhenEmpty) c.reply.nullArray();
    else c.reply.array(0);
    return null;
  }
  if (count === 0) {
    c.reply.array(0);
    return null;
  }
  if (count === -1) count = 1;
  const llen = z.size;
  let rangelen = count > llen ? llen : count;
  if (!nested && !emitKey) c.reply.array(rangelen * 2);
  else if (nested && !emitKey) c.reply.array(rangelen);
  else if (!nested && emitKey) {
    c.reply.array(rangelen * 2 + 1);
    c.reply.bulk(key);
  } else {
    c.reply.array(2);
    c.reply.bulk(key);
    c.reply.array(rangelen);
  }
  const popped = rangelen;
  if (rangelen > 0) notifyKeyspaceEvent(c, NotifyClass.Zset, where === ZSET_MAX ? "zpopmax" : "zpopmin", key);
  while (rangelen-- > 0) {
    const node = z.cursor(where === ZSET_MAX ? z.size - 1 : 0);
    node.next();
    const member = node.member;
    const score = node.score;
    z.delete(member);
    if (nested) c.reply.array(2);
    c.reply.bulk(member);
    replyScore(c, score);
  }
  if (z.size === 0) {
    c.db.delete(key);
    notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
  }
  signalModified(c, key, c.db, popped);
  return { key, popped };
}

function zpopMinMax(c: Client, argv: string[], where: number): void {
  if (argv.length > 3) fail(SYNTAX);
  let count = -1;
  if (argv.length === 3) count = positiveLongArg(argv[2]!);
  const nested = c.reply.resp > 2 && count !== -1;
  genericZpop(c, [argv[1]!], where, false, count, nested, false);
}

/**
 * The blocking pops serve a key that has data exactly like Redis, and are propagated as
 * ZPOPMIN/ZPOPMAX. With no data the client blocks on the keys (core/blocking.ts) and is
 * served the same way, in FIFO order, once a key holds a sorted set again (Redis's
 * serveClientsBlockedOnSortedSetKey); on timeout, or inside EXEC, the reply is a null array.
 */
function blockingZpop(c: Client, keys: string[], where: number, timeoutText: string, count: number, nested: boolean, nilWhenEmpty: boolean): void {
  const timeout = parseTimeoutSeconds(timeoutText);
  for (const key of keys) {
    const z = writeZSet(c, key);
    if (!z || z.size === 0) continue;
    const llen = z.size;
    genericZpop(c, [key], where, true, count, nested, nilWhenEmpty);
    const cmd = where === ZSET_MAX ? "ZPOPMAX" : "ZPOPMIN";
    c.propagateAs = count === -1 ? [cmd, key] : [cmd, key, String(count > llen ? llen : count)];
    return;
  }
  if (!mayBlock(c)) {
    c.reply.nullArray();
    return;
  }
  c.server.blocking.block(c, keys, timeout, (receiver, key) => {
    const z = lookupWrite(receiver, key);
    if (!(z instanceof ZSetValue) || z.size === 0) return false;
    const llen = z.size;
    genericZpop(receiver, [key], where, true, count, nested, nilWhenEmpty);
    const cmd = where === ZSET_MAX ? "ZPOPMAX" : "ZPOPMIN";
    receiver.propagateAs = count === -1 ? [cmd, key] : [cmd, key, String(count > llen ? llen : count)];
    return true;
  });
}

function zmpopGeneric(c: Client, argv: string[], numkeysIdx: number, block: boolean): void {
  const numkeys = rangeLongArg(argv[numkeysIdx]!, 1, LONG_MAX, "numkeys should be greater than 0");
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) fail(SYNTAX);
  const w = argv[whereIdx]!.toLowerCase();
  let where: number;
  if (w === "min") where = ZSET_MIN;
  else if (w === "max") where = ZSET_MAX;
  else fail(SYNTAX);
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && argv[j]!.toLowerCase() === "count" && more) {
      j++;
      count = rangeLongArg(argv[j]!, 1, LONG_MAX, "count should be greater than 0");
    } else fail(SYNTAX);
  }
  if (count === -1) count = 1;
  const keys = argv.slice(numkeysIdx + 1, numkeysIdx + 1 + numkeys);
  if (block) {
    blockingZpop(c, keys, where, argv[1]!, count, true, true);
    return;
  }
  // The set size before the pop decides the propagated count.
  const r = genericZpopWithCount(c, keys, where, count);
  if (r) c.propagateAs = [where === ZSET_MAX ? "ZPOPMAX" : "ZPOPMIN", r.key, String(r.popped)];
}

function genericZpopWithCount(c: Client, keys: string[], where: number, count: number) {
  return genericZpop(c, keys, where, true, count, true, true);
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER

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

// ---------------------------------------------------------------------------------------------

export const handlers: HandlerMap = {
  zadd(c, argv) {
    zaddGeneric(c, argv, 0);
  },

  zincrby(c, argv) {
    zaddGeneric(c, argv, ZADD_INCR);
  },

  zrem,

  zcard(c, argv) {
    const z = readZSet(c, argv[1]!);
    c.reply.int(z ? z.size : 0);
  },

  zscore(c, argv) {
    const z = readZSet(c, argv[1]!);
    const s = z?.score(argv[2]!);
    if (s === undefined) c.reply.nullBulk();
    else replyScore(c, s);
  },

  zmscore(c, argv) {
    const z = readZSet(c, argv[1]!);
    c.reply.array(argv.length - 2);
    for (let j = 2; j < argv.length; j++) {
      const s = z?.score(argv[j]!);
      if (s === undefined) c.reply.nullBulk();
      else replyScore(c, s);
    }
  },

  zrank(c, argv) {
    zrankGeneric(c, argv, false);
  },

  zrevrank(c, argv) {
    zrankGeneric(c, argv, true);
  },

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

  zpopmin(c, argv) {
    zpopMinMax(c, argv, ZSET_MIN);
  },
  zpopmax(c, argv) {
    zpopMinMax(c, argv, ZSET_MAX);
  },
  bzpopmin(c, argv) {
    blockingZpop(c, argv.slice(1, -1), ZSET_MIN, argv[argv.length - 1]!, -1, false, false);
  },
  bzpopmax(c, argv) {
    blockingZpop(c, argv.slice(1, -1), ZSET_MAX, argv[argv.length - 1]!, -1, false, false);
  },
  zmpop(c, argv) {
    zmpopGeneric(c, argv, 1, false);
  },
  bzmpop(c, argv) {
    zmpopGeneric(c, argv, 2, true);
  },

  zrandmember,
  zscan,
};
