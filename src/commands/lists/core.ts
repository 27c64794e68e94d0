// What the list commands share (t_list.c's helpers): argument parsing with Redis's exact
// errors, range replies, popping with the reply written as elements go, the bookkeeping after
// a removal, and the push side of LMOVE. Used by lists.ts and lists-blocking.ts.

import type { Client } from "../../core/client.ts";
import { ListValue } from "../../store/list.ts";
import { parseI64 } from "../../core/args.ts";
import { CommandError, NOT_INTEGER, SYNTAX } from "../../core/errors.ts";
import { signalModified, writeList } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";

export const LIST_HEAD = 0;
export const LIST_TAIL = 1;
export type ListEnd = typeof LIST_HEAD | typeof LIST_TAIL;

const MUST_BE_POSITIVE = "ERR value is out of range, must be positive";

/**
 * A `long` argument as getLongFromObjectOrReply reads it (string2ll: no sign but '-', no
 * leading zeros, no "-0", int64 range). Values past 2^53 come back rounded, which is exact
 * enough for indexes and counts (no list is that long).
 */
export function longArg(text: string, error: string = NOT_INTEGER): number {
  const v = text === "-0" ? null : parseI64(text);
  if (v === null) throw new CommandError(error);
  return typeof v === "bigint" ? Number(v) : v;
}

/** getRangeLongFromObjectOrReply with a message: the same message for bad syntax and range. */
export function rangeLongArg(text: string, min: number, max: number, message: string): number {
  const v = longArg(text, message);
  if (v < min || v > max) throw new CommandError(message);
  return v;
}

/** getPositiveLongFromObjectOrReply: 0..LONG_MAX. */
export function positiveLongArg(text: string, message: string = MUST_BE_POSITIVE): number {
  return rangeLongArg(text, 0, Number.MAX_VALUE, message);
}

/** LEFT / RIGHT (getListPositionFromObjectOrReply). */
export function whereArg(text: string): ListEnd {
  const t = text.toLowerCase();
  if (t === "left") return LIST_HEAD;
  if (t === "right") return LIST_TAIL;
  throw new CommandError(SYNTAX);
}

/** The name Redis propagates for an end in a served BLMOVE (its shared "left"/"right"). */
export function whereName(where: ListEnd): string {
  return where === LIST_HEAD ? "left" : "right";
}

export function popName(where: ListEnd): string {
  return where === LIST_HEAD ? "LPOP" : "RPOP";
}

/** A new empty list stored under `key` (the caller pushes and signals). */
export function createList(c: Client, key: string): ListValue {
  const list = new ListValue();
  c.db.set(key, list);
  return list;
}

/**
 * addListRangeReply: [start, end] with negative indexes from the tail, clamped; reversed
 * (from end to start) when `reverse`.
 */
export function replyRange(c: Client, list: ListValue, start: number, end: number, reverse: boolean): void {
  const llen = list.length;
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  if (start > end || start >= llen) {
    c.reply.array(0);
    return;
  }
  if (end >= llen) end = llen - 1;
  const r = c.reply;
  r.array(end - start + 1);
  if (reverse) for (let i = end; i >= start; i--) r.bulk(list.get(i));
  else for (let i = start; i <= end; i++) r.bulk(list.get(i));
}

/** Pops `n` (<= length) elements from one end, replying with each as it goes. */
export function popAndReply(c: Client, list: ListValue, where: ListEnd, n: number): void {
  const r = c.reply;
  if (where === LIST_HEAD) for (let i = 0; i < n; i++) r.bulk(list.popHead()!);
  else for (let i = 0; i < n; i++) r.bulk(list.popTail()!);
}

/** The lpop/rpop event, then "del" and the deletion when the list is left empty. */
export function notifyPopped(c: Client, key: string, list: ListValue, where: ListEnd): void {
  notifyKeyspaceEvent(c, NotifyClass.List, where === LIST_HEAD ? "lpop" : "rpop", key);
  deleteIfEmptied(c, key, list);
}

/** Redis removes a list that became empty (event "del"). */
export function deleteIfEmptied(c: Client, key: string, list: ListValue): void {
  if (list.length !== 0) return;
  c.db.delete(key);
  notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
}

/** listElementsRemoved: events, an emptied list deleted, the key signalled, `count` changes. */
export function elementsRemoved(c: Client, key: string, list: ListValue, where: ListEnd, count: number): void {
  notifyPopped(c, key, list, where);
  signalModified(c, key, c.db, count);
}

/**
 * listPopRangeAndReplyWithKey (LMPOP, BLMPOP): [key, [elements]] with up to `count` elements.
 * Returns how many were popped.
 */
export function popRangeWithKey(c: Client, list: ListValue, key: string, where: ListEnd, count: number): number {
  const n = count > list.length ? list.length : count;
  c.reply.array(2);
  c.reply.bulk(key);
  c.reply.array(n);
  popAndReply(c, list, where, n);
  elementsRemoved(c, key, list, where, n);
  return n;
}

/** lmoveHandlePush: the pushed value goes to `dst` (created if missing) and to the reply. */
export function movePush(c: Client, dstKey: string, dst: ListValue | undefined, value: string, whereto: ListEnd): void {
  const list = dst ?? createList(c, dstKey);
  signalModified(c, dstKey, c.db, 0);
  if (whereto === LIST_HEAD) list.pushHead(value);
  else list.pushTail(value);
  notifyKeyspaceEvent(c, NotifyClass.List, whereto === LIST_HEAD ? "lpush" : "rpush", dstKey);
  c.reply.bulk(value);
}

/**
 * LMOVE/RPOPLPUSH (lmoveGenericCommand), also the non-blocking path of BLMOVE/BRPOPLPUSH.
 * Returns whether an element moved.
 */
export function lmoveGeneric(c: Client, src: string, dst: string, wherefrom: ListEnd, whereto: ListEnd): boolean {
  const source = writeList(c, src);
  if (!source || source.length === 0) {
    c.reply.nullBulk();
    return false;
  }
  // The destination is looked up (and type-checked) before the pop: with src == dst the
  // element goes back onto the same list, which is therefore never deleted in between.
  const dest = writeList(c, dst);
  const value = wherefrom === LIST_HEAD ? source.popHead()! : source.popTail()!;
  movePush(c, dst, dest, value, whereto);
  notifyPopped(c, src, source, wherefrom);
  signalModified(c, src, c.db, 1);
  return true;
}
