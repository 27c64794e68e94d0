// The blocking list commands: BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH (and the LMPOP parser
// they share with LMPOP). With data they act like their non-blocking forms and are propagated
// as those (BLPOP -> LPOP key, BLMPOP -> LPOP key n, BLMOVE -> LMOVE with the client's
// arguments, BRPOPLPUSH -> RPOPLPUSH). Without data the client blocks on the keys through
// core/blocking.ts and is served, in FIFO order, after the command that gives a key data;
// the served form is propagated the same way (a served BLMOVE as LMOVE ... left|right, the
// lowercase words Redis uses). Inside EXEC (or for our master) nothing blocks: the reply is
// the timeout one (null array), except BLMOVE/BRPOPLPUSH that answer a null bulk there.

import { mayBlock } from "../../core/blocking.ts";
import type { Client } from "../../core/client.ts";
import { ListValue } from "../../store/list.ts";
import { isOption } from "../../core/args.ts";
import { CommandError, fail, SYNTAX, WRONGTYPE } from "../../core/errors.ts";
import { lookupWrite, writeList } from "../../core/keyspace.ts";
import {
  elementsRemoved,
  LIST_HEAD,
  LIST_TAIL,
  type ListEnd,
  lmoveGeneric,
  movePush,
  notifyPopped,
  popName,
  popRangeWithKey,
  rangeLongArg,
  whereArg,
  whereName,
} from "./core.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { parseTimeoutSeconds } from "../zsets/parse.ts";

const LONG_MAX = 9223372036854775807;

/** The list under `key` when it has elements; anything else (missing, other type) is not servable. */
function servableList(c: Client, key: string): ListValue | null {
  const v = lookupWrite(c, key);
  return v instanceof ListValue && v.length !== 0 ? v : null;
}

/**
 * BLPOP/BRPOP/BLMPOP (blockingPopGenericCommand). `count` -1 is the single pop of BLPOP/BRPOP
 * ([key, element]); otherwise BLMPOP's [key, [elements]].
 */
function blockingPop(c: Client, keys: string[], where: ListEnd, timeoutText: string, count: number): void {
  const timeout = parseTimeoutSeconds(timeoutText);
  for (const key of keys) {
    const list = writeList(c, key);
    if (!list || list.length === 0) continue;
    if (count !== -1) {
      const n = popRangeWithKey(c, list, key, where, count);
      c.propagateAs = [popName(where), key, String(n)];
      return;
    }
    c.reply.array(2);
    c.reply.bulk(key);
    c.reply.bulk(where === LIST_HEAD ? list.popHead()! : list.popTail()!);
    elementsRemoved(c, key, list, where, 1);
    c.propagateAs = [popName(where), key];
    return;
  }
  if (!mayBlock(c)) {
    c.reply.nullArray();
    return;
  }
  c.server.blocking.block(c, keys, timeout, (receiver, key) => {
    const list = servableList(receiver, key);
    if (!list) return false;
    if (count !== -1) {
      const n = popRangeWithKey(receiver, list, key, where, count);
      receiver.propagateAs = [popName(where), key, String(n)];
      return true;
    }
    // As serveClientBlockedOnList: no dirty count and no signal for the pop itself (the push
    // that served it already counted and signalled).
    receiver.propagateAs = [popName(where), key];
    receiver.reply.array(2);
    receiver.reply.bulk(key);
    receiver.reply.bulk(where === LIST_HEAD ? list.popHead()! : list.popTail()!);
    notifyPopped(receiver, key, list, where);
    return true;
  });
}

/** BLMOVE/BRPOPLPUSH (blmoveGenericCommand). */
function blockingMove(c: Client, argv: string[], wherefrom: ListEnd, whereto: ListEnd, timeout: number, isBrpoplpush: boolean): void {
  const src = argv[1]!;
  const dst = argv[2]!;
  const source = writeList(c, src);
  if (source && source.length !== 0) {
    if (lmoveGeneric(c, src, dst, wherefrom, whereto)) c.propagateAs = isBrpoplpush ? ["RPOPLPUSH", src, dst] : ["LMOVE", src, dst, argv[3]!, argv[4]!];
    return;
  }
  if (!mayBlock(c)) {
    c.reply.nullBulk();
    return;
  }
  c.server.blocking.block(c, [src], timeout, (receiver, key) => {
    const list = servableList(receiver, key);
    if (!list) return false;
    const dest = lookupWrite(receiver, dst);
    // A destination of another type: the client is answered WRONGTYPE and unblocked.
    if (dest !== undefined && !(dest instanceof ListValue)) throw new CommandError(WRONGTYPE);
    const value = wherefrom === LIST_HEAD ? list.popHead()! : list.popTail()!;
    movePush(receiver, dst, dest, value, whereto);
    receiver.propagateAs = isBrpoplpush ? ["RPOPLPUSH", key, dst] : ["LMOVE", key, dst, whereName(wherefrom), whereName(whereto)];
    notifyPopped(receiver, key, list, wherefrom);
    return true;
  });
}

/**
 * LMPOP numkeys key... LEFT|RIGHT [COUNT n] and BLMPOP timeout numkeys ... (lmpopGenericCommand):
 * numkeys, the direction and COUNT are checked before the timeout and the keys.
 */
export function lmpopGeneric(c: Client, argv: string[], numkeysIdx: number, block: boolean): void {
  const numkeys = rangeLongArg(argv[numkeysIdx]!, 1, LONG_MAX, "ERR numkeys should be greater than 0");
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) fail(SYNTAX);
  const where = whereArg(argv[whereIdx]!);
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && isOption(argv[j]!, "count") && more) {
      j++;
      count = rangeLongArg(argv[j]!, 1, LONG_MAX, "ERR count should be greater than 0");
    } else fail(SYNTAX);
  }
  if (count === -1) count = 1;
  const keys = argv.slice(numkeysIdx + 1, whereIdx);
  if (block) {
    blockingPop(c, keys, where, argv[1]!, count);
    return;
  }
  for (const key of keys) {
    const list = writeList(c, key);
    if (!list || list.length === 0) continue;
    const n = popRangeWithKey(c, list, key, where, count);
    c.propagateAs = [popName(where), key, String(n)];
    return;
  }
  c.reply.nullArray();
}

export const handlers: HandlerMap = {
  blpop(c, argv) {
    blockingPop(c, argv.slice(1, -1), LIST_HEAD, argv[argv.length - 1]!, -1);
  },
  brpop(c, argv) {
    blockingPop(c, argv.slice(1, -1), LIST_TAIL, argv[argv.length - 1]!, -1);
  },
  blmpop(c, argv) {
    lmpopGeneric(c, argv, 2, true);
  },
  blmove(c, argv) {
    const wherefrom = whereArg(argv[3]!);
    const whereto = whereArg(argv[4]!);
    const timeout = parseTimeoutSeconds(argv[5]!);
    blockingMove(c, argv, wherefrom, whereto, timeout, false);
  },
  brpoplpush(c, argv) {
    const timeout = parseTimeoutSeconds(argv[3]!);
    blockingMove(c, argv, LIST_TAIL, LIST_HEAD, timeout, true);
  },
};
