// Set algebra (Redis 7.0 t_set.c sinterGenericCommand / sunionDiffGenericCommand): SMEMBERS,
// SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE.
//
// Results are built exactly as Redis builds them, because the order of a reply and the encoding
// of a stored result depend on it: SINTER walks the smallest set (ties keep the key order) and
// replies in its order; the union/difference and every stored result are a new set that starts
// as an intset and goes through setTypeAdd, so it stays an intset (ascending order) only while
// all its members are integers and few. SDIFF picks one of Redis's two algorithms by the same
// estimate; the second adds the whole first set before removing, so its result can end up a
// hashtable even when small (as in Redis).

import type { Client } from "../../core/client.ts";
import { intsetLimit, SetValue } from "../../store/set.ts";
import { fail, WRONGTYPE } from "../../core/errors.ts";
import { deleteKey, lookupRead, lookupWrite, setKey } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { positiveLongArg, rangeLongArg } from "../zsets/parse.ts";

const LONG_MAX = 9223372036854775807;

/** A new result set as createIntsetObject makes it. */
function newResultSet(): SetValue {
  const s = new SetValue();
  s.encoding = "intset";
  return s;
}

export function maxIntsetEntries(c: Client): number {
  return intsetLimit(c.server.config.num("set-max-intset-entries"));
}

/** The sets at `keys` (null for a missing key), WRONGTYPE at the first key of another type. */
function lookupSets(c: Client, keys: string[], from: number, to: number): Array<SetValue | null> {
  const sets = new Array<SetValue | null>(to - from);
  for (let j = from; j < to; j++) {
    const v = lookupRead(c, keys[j]!);
    if (v === undefined) sets[j - from] = null;
    else if (v instanceof SetValue) sets[j - from] = v;
    else fail(WRONGTYPE);
  }
  return sets;
}

/**
 * Stores a result (setKey: replaces the value, clears the TTL) or deletes `dst` when empty.
 * `event` is the keyspace event of a stored result.
 */
function storeResult(c: Client, dst: string, result: SetValue, event: string): void {
  if (result.size > 0) {
    lookupWrite(c, dst); // an expired destination is deleted first, as setKey's lookup does
    setKey(c, dst, result);
    c.reply.int(result.size);
    notifyKeyspaceEvent(c, NotifyClass.Set, event, dst);
  } else {
    c.reply.int(0);
    if (deleteKey(c, dst)) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", dst);
  }
}

/**
 * SINTER / SMEMBERS / SINTERSTORE / SINTERCARD over argv[from..to). `limit` (SINTERCARD) stops
 * counting once reached; 0 is no limit.
 */
export function sinterGeneric(c: Client, argv: string[], from: number, to: number, dst: string | null, cardinalityOnly: boolean, limit: number): void {
  const sets = lookupSets(c, argv, from, to);
  if (sets.includes(null)) {
    // An intersection with an empty set is empty.
    if (dst !== null) {
      if (deleteKey(c, dst)) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", dst);
      c.reply.int(0);
    } else if (cardinalityOnly) c.reply.int(0);
    else c.reply.set(0);
    return;
  }
  const sorted = sets as SetValue[];
  // Smallest first (Array.prototype.sort is stable, like glibc's merge sort qsort).
  if (sorted.length > 1) sorted.sort((a, b) => a.size - b.size);
  const first = sorted[0]!;
  const n = sorted.length;
  const dstSet = dst !== null ? newResultSet() : null;
  const maxEntries = dstSet ? maxIntsetEntries(c) : 0;
  const out: string[] = [];
  let cardinality = 0;
  for (const m of first.ordered()) {
    let j = 1;
    for (; j < n; j++) {
      const s = sorted[j]!;
      if (s === first) continue;
      if (!s.has(m)) break;
    }
    if (j !== n) continue;
    if (cardinalityOnly) {
      cardinality++;
      if (limit && cardinality >= limit) break;
    } else if (dstSet) dstSet.addMember(m, maxEntries);
    else out.push(m);
  }
  if (cardinalityOnly) c.reply.int(cardinality);
  else if (dstSet) storeResult(c, dst!, dstSet, "sinterstore");
  else {
    c.reply.set(out.length);
    for (let i = 0; i < out.length; i++) c.reply.bulk(out[i]!);
  }
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit] */
export function sintercard(c: Client, argv: string[]): void {
  const numkeys = rangeLongArg(argv[1]!, 1, LONG_MAX, "numkeys should be greater than 0");
  if (numkeys > argv.length - 2) fail("ERR Number of keys can't be greater than number of args");
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (more > 0 && argv[j]!.toLowerCase() === "limit") {
      j++;
      limit = positiveLongArg(argv[j]!, "LIMIT can't be negative");
    } else fail("ERR syntax error");
  }
  sinterGeneric(c, argv, 2, 2 + numkeys, null, true, limit);
}

export const enum SetOp {
  Union,
  Diff,
}

/** Union or difference of the sets at argv[from..to), built as Redis builds it. */
function unionDiff(c: Client, sets: Array<SetValue | null>, op: SetOp): SetValue {
  const n = sets.length;
  const first = sets[0] ?? null;
  let sameSet = false;
  for (let j = 1; j < n; j++) if (first !== null && sets[j] === first) sameSet = true;
  const maxEntries = maxIntsetEntries(c);
  const result = newResultSet();

  if (op === SetOp.Union) {
    for (const s of sets) {
      if (!s) continue;
      for (const m of s.ordered()) result.addMember(m, maxEntries);
    }
    return result;
  }
  if (first === null || sameSet) return result;

  // Algorithm 1 is O(N*M) over the first set; 2 is O(total size). Redis favours 1.
  let algoOneWork = 0;
  let algoTwoWork = 0;
  for (const s of sets) {
    if (!s) continue;
    algoOneWork += first.size;
    algoTwoWork += s.size;
  }
  algoOneWork = Math.floor(algoOneWork / 2);
  if (algoOneWork <= algoTwoWork) {
    for (const m of first.ordered()) {
      let j = 1;
      for (; j < n; j++) {
        const s = sets[j];
        if (!s) continue;
        if (s.has(m)) break;
      }
      if (j === n) result.addMember(m, maxEntries);
    }
  } else {
    let cardinality = 0;
    for (let j = 0; j < n; j++) {
      const s = sets[j];
      if (!s) continue;
      for (const m of s.ordered()) {
        if (j === 0) {
          if (result.addMember(m, maxEntries)) cardinality++;
        } else if (result.delete(m)) cardinality--;
      }
      if (cardinality === 0) break;
    }
  }
  return result;
}

/** SUNION / SDIFF (dst null) and their STORE forms over argv[from..to). */
export function sunionDiffGeneric(c: Client, argv: string[], from: number, to: number, dst: string | null, op: SetOp): void {
  const result = unionDiff(c, lookupSets(c, argv, from, to), op);
  if (dst !== null) {
    storeResult(c, dst, result, op === SetOp.Union ? "sunionstore" : "sdiffstore");
    return;
  }
  replySetMembers(c, result);
}

/** A set reply (RESP3 `~`) of every member, in Redis's iteration order. */
export function replySetMembers(c: Client, s: SetValue): void {
  c.reply.set(s.size);
  for (const m of s.ordered()) c.reply.bulk(m);
}

/** The union of one set, as SPOP with a count larger than the set replies it. */
export function unionOfOne(c: Client, s: SetValue): SetValue {
  return unionDiff(c, [s], SetOp.Union);
}
