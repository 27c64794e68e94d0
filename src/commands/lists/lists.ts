// Lists (t_list.c): pushes, pops (with count), indexes and ranges, LINSERT/LREM/LTRIM/LPOS,
// LMOVE/RPOPLPUSH and LMPOP; the blocking family is in lists-blocking.ts. Replies, errors
// and the order in which arguments and keys are checked follow Redis 7.0, as do the
// propagated forms (LMPOP goes out as LPOP/RPOP key count) and the dirty counts that decide
// whether a command is propagated at all (an LTRIM that removes nothing is not).

import type { Client } from "../../core/client.ts";
import { isOption } from "../../core/args.ts";
import { fail, NO_SUCH_KEY, OUT_OF_RANGE, SYNTAX, wrongArity } from "../../core/errors.ts";
import { readList, signalModified, writeList } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { handlers as blockingHandlers, lmpopGeneric } from "./blocking.ts";
import {
  createList,
  deleteIfEmptied,
  elementsRemoved,
  LIST_HEAD,
  LIST_TAIL,
  type ListEnd,
  lmoveGeneric,
  longArg,
  popAndReply,
  positiveLongArg,
  replyRange,
  whereArg,
} from "./core.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

/** LPUSH/RPUSH/LPUSHX/RPUSHX (pushGenericCommand); `xx`: only when the key exists. */
function push(c: Client, argv: string[], where: ListEnd, xx: boolean): void {
  const key = argv[1]!;
  let list = writeList(c, key);
  if (!list) {
    if (xx) {
      c.reply.int(0);
      return;
    }
    list = createList(c, key);
  }
  const n = argv.length;
  if (where === LIST_HEAD) for (let j = 2; j < n; j++) list.pushHead(argv[j]!);
  else for (let j = 2; j < n; j++) list.pushTail(argv[j]!);
  c.reply.int(list.length);
  signalModified(c, key, c.db, n - 2);
  notifyKeyspaceEvent(c, NotifyClass.List, where === LIST_HEAD ? "lpush" : "rpush", key);
}

/** LPOP/RPOP key [count] (popGenericCommand). */
function pop(c: Client, argv: string[], where: ListEnd): void {
  if (argv.length > 3) fail(wrongArity(where === LIST_HEAD ? "lpop" : "rpop"));
  const hasCount = argv.length === 3;
  const count = hasCount ? positiveLongArg(argv[2]!) : 0;
  const key = argv[1]!;
  const list = writeList(c, key);
  if (!list) {
    if (hasCount) c.reply.nullArray();
    else c.reply.nullBulk();
    return;
  }
  if (hasCount && count === 0) {
    c.reply.array(0);
    return;
  }
  if (!hasCount) {
    c.reply.bulk(where === LIST_HEAD ? list.popHead()! : list.popTail()!);
    elementsRemoved(c, key, list, where, 1);
    return;
  }
  const n = count > list.length ? list.length : count;
  c.reply.array(n);
  popAndReply(c, list, where, n);
  elementsRemoved(c, key, list, where, n);
}

function lpos(c: Client, argv: string[]): void {
  const element = argv[2]!;
  let rank = 1;
  let rankIsLongMin = false;
  let count = -1; // -1: COUNT not given
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j]!;
    if (isOption(opt, "rank") && more) {
      j++;
      rank = longArg(argv[j]!);
      if (rank === 0) fail("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
      // Redis negates the rank in a C long: -LONG_MIN stays negative, so every match counts
      // as "past the rank" and COUNT never stops the scan (matches - rank + 1 overflows).
      rankIsLongMin = argv[j] === "-9223372036854775808";
    } else if (isOption(opt, "count") && more) {
      j++;
      count = positiveLongArg(argv[j]!, "ERR COUNT can't be negative");
    } else if (isOption(opt, "maxlen") && more) {
      j++;
      maxlen = positiveLongArg(argv[j]!, "ERR MAXLEN can't be negative");
    } else fail(SYNTAX);
  }
  const fromTail = rank < 0;
  if (fromTail) rank = -rank;
  const list = readList(c, argv[1]!);
  if (!list) {
    if (count !== -1) c.reply.array(0);
    else c.reply.nullBulk();
    return;
  }
  const llen = list.length;
  const limit = maxlen === 0 || maxlen > llen ? llen : maxlen;
  let matches = 0;
  if (count === -1) {
    for (let index = 0; index < limit; index++) {
      const pos = fromTail ? llen - index - 1 : index;
      if (list.get(pos) !== element) continue;
      matches++;
      if (rankIsLongMin || matches >= rank) {
        c.reply.int(pos);
        return;
      }
    }
    c.reply.nullBulk();
    return;
  }
  const found: number[] = [];
  for (let index = 0; index < limit; index++) {
    const pos = fromTail ? llen - index - 1 : index;
    if (list.get(pos) !== element) continue;
    matches++;
    if (rankIsLongMin || matches >= rank) {
      found.push(pos);
      if (count !== 0 && !rankIsLongMin && matches - rank + 1 >= count) break;
    }
  }
  c.reply.array(found.length);
  for (const pos of found) c.reply.int(pos);
}

function ltrim(c: Client, argv: string[]): void {
  let start = longArg(argv[2]!);
  let end = longArg(argv[3]!);
  const key = argv[1]!;
  const list = writeList(c, key);
  if (!list) {
    c.reply.ok();
    return;
  }
  const llen = list.length;
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  let ltrimCount: number;
  let rtrimCount: number;
  if (start > end || start >= llen) {
    ltrimCount = llen;
    rtrimCount = 0;
  } else {
    if (end >= llen) end = llen - 1;
    ltrimCount = start;
    rtrimCount = llen - end - 1;
  }
  list.removeHead(ltrimCount);
  list.removeTail(rtrimCount);
  notifyKeyspaceEvent(c, NotifyClass.List, "ltrim", key);
  deleteIfEmptied(c, key, list);
  signalModified(c, key, c.db, ltrimCount + rtrimCount);
  c.reply.ok();
}

function lrem(c: Client, argv: string[]): void {
  const toRemove = longArg(argv[2]!);
  const key = argv[1]!;
  const list = writeList(c, key);
  if (!list) {
    c.reply.int(0);
    return;
  }
  const removed = list.removeMatching(argv[3]!, Math.abs(toRemove), toRemove < 0);
  if (removed) {
    signalModified(c, key, c.db, removed);
    notifyKeyspaceEvent(c, NotifyClass.List, "lrem", key);
  }
  deleteIfEmptied(c, key, list);
  c.reply.int(removed);
}

export const handlers: HandlerMap = {
  lpush(c, argv) {
    push(c, argv, LIST_HEAD, false);
  },
  rpush(c, argv) {
    push(c, argv, LIST_TAIL, false);
  },
  lpushx(c, argv) {
    push(c, argv, LIST_HEAD, true);
  },
  rpushx(c, argv) {
    push(c, argv, LIST_TAIL, true);
  },

  linsert(c, argv) {
    const w = argv[2]!.toLowerCase();
    let where: ListEnd;
    if (w === "after") where = LIST_TAIL;
    else if (w === "before") where = LIST_HEAD;
    else fail(SYNTAX);
    const key = argv[1]!;
    const list = writeList(c, key);
    if (!list) {
      c.reply.int(0);
      return;
    }
    const at = list.indexOf(argv[3]!);
    if (at < 0) {
      c.reply.int(-1);
      return;
    }
    list.insertAt(where === LIST_TAIL ? at + 1 : at, argv[4]!);
    signalModified(c, key, c.db, 1);
    notifyKeyspaceEvent(c, NotifyClass.List, "linsert", key);
    c.reply.int(list.length);
  },

  llen(c, argv) {
    const list = readList(c, argv[1]!);
    c.reply.int(list ? list.length : 0);
  },

  lindex(c, argv) {
    // The key is looked up before the index is parsed: a missing key answers nil to anything.
    const list = readList(c, argv[1]!);
    if (!list) {
      c.reply.nullBulk();
      return;
    }
    let index = longArg(argv[2]!);
    // Redis 7.2 and later (Valkey too) pass the index through an int (listTypeReplaceAtIndex):
    // a master of theirs accepts LSET 9223372036854775807 as -1 and propagates it. We refuse it
    // to our clients as Redis 7.0 does, and apply it as our master did.
    if (c.isMaster && (index > 2147483647 || index < -2147483648)) index = Number(BigInt.asIntN(32, BigInt(argv[2]!)));
    if (index < 0) index += list.length;
    const v = list.at(index);
    if (v === undefined) c.reply.nullBulk();
    else c.reply.bulk(v);
  },

  lset(c, argv) {
    const key = argv[1]!;
    const list = writeList(c, key);
    if (!list) fail(NO_SUCH_KEY);
    let index = longArg(argv[2]!);
    // Redis 7.2 and later (Valkey too) pass the index through an int (listTypeReplaceAtIndex):
    // a master of theirs accepts LSET 9223372036854775807 as -1 and propagates it. We refuse it
    // to our clients as Redis 7.0 does, and apply it as our master did.
    if (c.isMaster && (index > 2147483647 || index < -2147483648)) index = Number(BigInt.asIntN(32, BigInt(argv[2]!)));
    if (index < 0) index += list.length;
    if (index < 0 || index >= list.length) fail(OUT_OF_RANGE);
    list.set(index, argv[3]!);
    c.reply.ok();
    signalModified(c, key, c.db, 1);
    notifyKeyspaceEvent(c, NotifyClass.List, "lset", key);
  },

  lrange(c, argv) {
    const start = longArg(argv[2]!);
    const end = longArg(argv[3]!);
    const list = readList(c, argv[1]!);
    if (!list) {
      c.reply.array(0);
      return;
    }
    replyRange(c, list, start, end, false);
  },

  ltrim,
  lrem,
  lpos,

  lpop(c, argv) {
    pop(c, argv, LIST_HEAD);
  },
  rpop(c, argv) {
    pop(c, argv, LIST_TAIL);
  },

  lmove(c, argv) {
    const wherefrom = whereArg(argv[3]!);
    const whereto = whereArg(argv[4]!);
    lmoveGeneric(c, argv[1]!, argv[2]!, wherefrom, whereto);
  },
  rpoplpush(c, argv) {
    lmoveGeneric(c, argv[1]!, argv[2]!, LIST_TAIL, LIST_HEAD);
  },

  lmpop(c, argv) {
    lmpopGeneric(c, argv, 1, false);
  },

  ...blockingHandlers,
};
