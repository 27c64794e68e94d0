// Set commands (Redis 7.0 t_set.c): SADD, SREM, SMOVE, the membership reads, SPOP and
// SRANDMEMBER (sets-random.ts), the set algebra (sets-ops.ts) and SSCAN (hashes-scan.ts).
//
// Encodings follow Redis 7.0 (no listpack sets, those came with 7.2): a set created for an
// integer member is an intset and stays one while every member is a canonical int64 and it has
// at most set-max-intset-entries members; then it is a hashtable for good (SPOP with a large
// count is the one path that can build a fresh intset, as in Redis). An intset replies in
// ascending order (SetValue.ordered()); a hashtable's order is arbitrary in Redis.

import type { Client } from "../../core/client.ts";
import { newSetFor, restPackedCount, SetValue } from "../../store/set.ts";
import { isSetTag } from "../../store/at-rest.ts";
import { hasEntryBytes } from "../../store/packed-entries.ts";
import { fail, WRONGTYPE } from "../../core/errors.ts";
import { sscan } from "../hashes/scan.ts";
import { AT_REST, lookupWrite, readInPlace, readSet, signalModified, writeSet } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { maxIntsetEntries, replySetMembers, SetOp, sintercard, sinterGeneric, sunionDiffGeneric } from "./ops.ts";
import { spop, srandmember } from "./random.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

function sadd(c: Client, argv: string[]): void {
  const key = argv[1]!;
  let s = writeSet(c, key);
  if (!s) {
    s = newSetFor(argv[2]!);
    c.db.set(key, s);
  }
  const maxEntries = maxIntsetEntries(c);
  let added = 0;
  for (let j = 2; j < argv.length; j++) if (s.addMember(argv[j]!, maxEntries)) added++;
  if (added) {
    signalModified(c, key, c.db, added);
    notifyKeyspaceEvent(c, NotifyClass.Set, "sadd", key);
  }
  c.reply.int(added);
}

function srem(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const s = writeSet(c, key);
  if (!s) {
    c.reply.int(0);
    return;
  }
  let deleted = 0;
  let keyRemoved = false;
  for (let j = 2; j < argv.length; j++) {
    if (s.delete(argv[j]!)) {
      deleted++;
      if (s.size === 0) {
        c.db.delete(key);
        keyRemoved = true;
        break;
      }
    }
  }
  if (deleted) {
    signalModified(c, key, c.db, deleted);
    notifyKeyspaceEvent(c, NotifyClass.Set, "srem", key);
    if (keyRemoved) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
  }
  c.reply.int(deleted);
}

function asSet(v: unknown): SetValue | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof SetValue)) fail(WRONGTYPE);
  return v;
}

/** SMOVE source destination member */
function smove(c: Client, argv: string[]): void {
  const srcKey = argv[1]!;
  const dstKey = argv[2]!;
  const member = argv[3]!;
  const srcValue = lookupWrite(c, srcKey);
  const dstValue = lookupWrite(c, dstKey);
  // A missing source answers 0 before any type check (Redis's order).
  if (srcValue === undefined) {
    c.reply.int(0);
    return;
  }
  const src = asSet(srcValue)!;
  let dst = asSet(dstValue);
  if (src === dst) {
    c.reply.int(src.has(member) ? 1 : 0);
    return;
  }
  if (!src.delete(member)) {
    c.reply.int(0);
    return;
  }
  notifyKeyspaceEvent(c, NotifyClass.Set, "srem", srcKey);
  if (src.size === 0) {
    c.db.delete(srcKey);
    notifyKeyspaceEvent(c, NotifyClass.Generic, "del", srcKey);
  }
  if (!dst) {
    dst = newSetFor(member);
    c.db.set(dstKey, dst);
  }
  signalModified(c, srcKey);
  if (dst.addMember(member, maxIntsetEntries(c))) {
    signalModified(c, dstKey);
    notifyKeyspaceEvent(c, NotifyClass.Set, "sadd", dstKey);
  }
  c.reply.int(1);
}

/** readSet, leaving a set of packed entries at rest in its record (an intset at rest becomes an object). */
const readSetInPlace = (c: Client, key: string) => readInPlace(c, key, SetValue, isSetTag, (meta) => restPackedCount(meta) >= 0);

/** After readSetInPlace found a set at rest: whether it holds `member`. */
function restingHas(c: Client, member: string): boolean {
  const ks = c.db.ks;
  return hasEntryBytes(ks.rangeBuffer, ks.rangeStart, ks.rangeStart + ks.rangeLength, member);
}

export const handlers: HandlerMap = {
  sadd,
  srem,
  smove,

  sismember(c, argv) {
    const s = readSetInPlace(c, argv[1]!);
    if (s === AT_REST) return c.reply.int(restingHas(c, argv[2]!) ? 1 : 0);
    c.reply.int(s?.has(argv[2]!) ? 1 : 0);
  },

  smismember(c, argv) {
    const s = readSetInPlace(c, argv[1]!);
    c.reply.array(argv.length - 2);
    for (let j = 2; j < argv.length; j++) c.reply.int((s === AT_REST ? restingHas(c, argv[j]!) : s?.has(argv[j]!)) ? 1 : 0);
  },

  scard(c, argv) {
    const s = readSetInPlace(c, argv[1]!);
    c.reply.int(s === AT_REST ? restPackedCount(c.db.ks.rangeMeta) : s ? s.size : 0);
  },

  smembers(c, argv) {
    // SINTER of one key, without the intermediate list.
    const s = readSet(c, argv[1]!);
    if (s) replySetMembers(c, s);
    else c.reply.set(0);
  },
  sinter(c, argv) {
    sinterGeneric(c, argv, 1, argv.length, null, false, 0);
  },
  sintercard,
  sinterstore(c, argv) {
    sinterGeneric(c, argv, 2, argv.length, argv[1]!, false, 0);
  },
  sunion(c, argv) {
    sunionDiffGeneric(c, argv, 1, argv.length, null, SetOp.Union);
  },
  sunionstore(c, argv) {
    sunionDiffGeneric(c, argv, 2, argv.length, argv[1]!, SetOp.Union);
  },
  sdiff(c, argv) {
    sunionDiffGeneric(c, argv, 1, argv.length, null, SetOp.Diff);
  },
  sdiffstore(c, argv) {
    sunionDiffGeneric(c, argv, 2, argv.length, argv[1]!, SetOp.Diff);
  },

  spop,
  srandmember,
  sscan,
};
