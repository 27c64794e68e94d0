// ZADD and ZINCRBY, the core add they share with ZRANGESTORE (Redis's zsetAdd), the encoding
// rules of a new or growing set, and how a command stores a set it built (the STORE forms, and
// GEORADIUS STORE).
//
// Encodings follow Redis's rules: a new set is a listpack unless zset-max-listpack-entries is 0
// or its first member is longer than zset-max-listpack-value; it becomes a skiplist once it
// grows past either limit and never goes back, except that a set built by a STORE command is a
// listpack when its final size and longest member fit.

import type { Client } from "../../core/client.ts";
import { ZSetValue } from "../../store/zset.ts";
import { fail, NOT_FLOAT, SYNTAX } from "../../core/errors.ts";
import { lookupWrite, setKey, signalModified, writeZSet } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { replyScore } from "./format.ts";
import { strictDoubleArg } from "./parse.ts";

// ---------------------------------------------------------------------------------------------
// Encoding rules and the core add (Redis's zsetAdd)

export function maxEntries(c: Client): number {
  return c.server.config.num("zset-max-listpack-entries");
}

function maxValue(c: Client): number {
  return c.server.config.num("zset-max-listpack-value");
}

/** A new, empty set as ZADD creates it for its first member. */
function newZSetFor(c: Client, firstMember: string): ZSetValue {
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
export function zsetAdd(c: Client, z: ZSetValue, score: number, member: string, flags: number): number {
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
export function finishStoredSet(c: Client, entries: Array<[string, number]>, maxLen: number): ZSetValue {
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
export function storeResult(c: Client, dst: string, z: ZSetValue): void {
  lookupWrite(c, dst); // an expired destination is deleted first, as lookupKeyWrite does
  setKey(c, dst, z);
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


export const handlers: HandlerMap = {
  zadd(c, argv) {
    zaddGeneric(c, argv, 0);
  },

  zincrby(c, argv) {
    zaddGeneric(c, argv, ZADD_INCR);
  },
};
