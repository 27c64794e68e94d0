// Sorted set pops (Redis's genericZpopCommand): ZPOPMIN / ZPOPMAX, ZMPOP, and the blocking
// BZPOPMIN / BZPOPMAX / BZMPOP (the blocking ones serve available data; see blockingZpop).

import { mayBlock } from "../../core/blocking.ts";
import type { Client } from "../../core/client.ts";
import { ZSetValue } from "../../store/zset.ts";
import { fail, SYNTAX } from "../../core/errors.ts";
import { lookupWrite, signalModified, writeZSet } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { replyScore } from "./format.ts";
import { parseTimeoutSeconds, positiveLongArg, rangeLongArg } from "./parse.ts";

const LONG_MAX = 9223372036854775807;


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
 * ZPOPMIN/ZPOPMAX. With no data the client blocks on the keys (server/blocking.ts) and is
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


export const handlers: HandlerMap = {
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
};
