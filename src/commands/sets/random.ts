// SPOP and SRANDMEMBER (Redis 7.0 t_set.c), with Redis's strategies, since they decide what
// is propagated and the encoding left behind:
// - SPOP k: one random member, propagated as `SREM k member`.
// - SPOP k n with n >= size: the whole set (replied as SUNION would), the key deleted,
//   propagated as `DEL k` (7.0 always says DEL; 7.2 made it UNLINK with lazyfree-lazy-server-del).
// - SPOP k n otherwise: each popped member propagated as its own `SREM k m` (alsoPropagate,
//   hence MULTI/EXEC around them), the SPOP itself not. When few members remain
//   (remaining * 5 <= n) Redis instead picks the ones that stay, builds a new set of them
//   (setTypeCreate + setTypeAdd: it may turn a hashtable back into an intset) and replies the
//   rest of the old set in its order.
// - SRANDMEMBER k n: n >= 0 distinct members, n < 0 |n| members with repetitions.

import type { Client } from "../../core/client.ts";
import { newSetFor, SetValue } from "../../store/set.ts";
import { fail, SYNTAX } from "../../core/errors.ts";
import { MAX_RANDOM_REPLY, RANDOM_REPLY_TOO_LARGE, randomCountArg } from "../hashes/hashes.ts";
import { lookupRead, readSet, writeSet } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { maxIntsetEntries, replySetMembers, unionOfOne } from "./ops.ts";
import { positiveLongArg } from "../zsets/parse.ts";

/** SPOP_MOVE_STRATEGY_MUL */
const SPOP_MOVE_STRATEGY_MUL = 5;
/** SRANDMEMBER_SUB_STRATEGY_MUL */
const SRANDMEMBER_SUB_STRATEGY_MUL = 3;

export function spop(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    spopWithCount(c, argv);
    return;
  }
  if (argv.length > 3) fail(SYNTAX);
  const key = argv[1]!;
  const s = writeSet(c, key);
  if (!s) {
    c.reply.nullBulk();
    return;
  }
  const member = s.popRandom();
  notifyKeyspaceEvent(c, NotifyClass.Set, "spop", key);
  if (c.server.replication.originating) c.propagateAs = ["SREM", key, member];
  c.reply.bulk(member);
  if (s.size === 0) {
    c.db.delete(key);
    notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
  }
  c.server.signalModifiedKey(c.db, key);
  c.server.dirty++;
}

function spopWithCount(c: Client, argv: string[]): void {
  const count = positiveLongArg(argv[2]!);
  const key = argv[1]!;
  const s = writeSet(c, key);
  if (!s) {
    c.reply.set(0);
    return;
  }
  if (count === 0) {
    c.reply.set(0);
    return;
  }
  const server = c.server;
  const size = s.size;
  notifyKeyspaceEvent(c, NotifyClass.Set, "spop", key);
  server.dirty += count >= size ? size : count;

  // CASE 1: everything goes.
  if (count >= size) {
    // Redis replies through SUNION of the one key, whose read lookup counts a keyspace hit.
    lookupRead(c, key);
    replySetMembers(c, unionOfOne(c, s));
    c.db.delete(key);
    notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
    c.propagateAs = ["DEL", key];
    server.signalModifiedKey(c.db, key);
    return;
  }

  const propagate = server.replication.originating;
  const srems: string[][] | null = propagate ? [] : null;
  c.reply.set(count);
  let remaining = size - count;
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
    // CASE 2: few members asked for: pop them one by one.
    for (let i = 0; i < count; i++) {
      const m = s.popRandom();
      c.reply.bulk(m);
      srems?.push(["SREM", key, m]);
    }
  } else {
    // CASE 3: most of the set goes: pick the members that stay into a new set, return the rest.
    let kept: SetValue | null = null;
    const maxEntries = maxIntsetEntries(c);
    while (remaining-- > 0) {
      const m = s.popRandom();
      if (!kept) kept = newSetFor(m);
      kept.addMember(m, maxEntries);
    }
    for (const m of s.ordered()) {
      c.reply.bulk(m);
      srems?.push(["SREM", key, m]);
    }
    // dbOverwrite: the new set takes the key's place, its TTL stays.
    c.db.set(key, kept!);
  }
  if (srems) c.alsoPropagate = srems;
  c.preventPropagation = true;
  server.signalModifiedKey(c.db, key);
}

export function srandmember(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    srandmemberWithCount(c, argv);
    return;
  }
  if (argv.length > 3) fail(SYNTAX);
  const s = readSet(c, argv[1]!);
  if (!s) {
    c.reply.nullBulk();
    return;
  }
  c.reply.bulk(s.randomMember());
}

function srandmemberWithCount(c: Client, argv: string[]): void {
  const l = randomCountArg(argv[2]!);
  const s = readSet(c, argv[1]!);
  if (!s) {
    c.reply.array(0);
    return;
  }
  const size = s.size;
  let count = l >= 0 ? l : -l;
  const uniq = l >= 0;
  if (count === 0) {
    c.reply.array(0);
    return;
  }
  // CASE 1: repetitions allowed (or one member): independent random picks.
  if (!uniq || count === 1) {
    if (count > MAX_RANDOM_REPLY) fail(RANDOM_REPLY_TOO_LARGE);
    c.reply.array(count);
    while (count-- > 0) c.reply.bulk(s.randomMember());
    return;
  }
  // CASE 2: the whole set, in its order.
  if (count >= size) {
    c.reply.array(size);
    for (const m of s.ordered()) c.reply.bulk(m);
    return;
  }
  c.reply.array(count);
  // CASE 3: copy everything, remove random members down to `count`.
  if (count * SRANDMEMBER_SUB_STRATEGY_MUL > size) {
    const members = [...s];
    let n = members.length;
    while (n > count) {
      const i = Math.floor(Math.random() * n);
      members[i] = members[n - 1]!;
      n--;
    }
    for (let i = 0; i < count; i++) c.reply.bulk(members[i]!);
    return;
  }
  // CASE 4: a big set: random picks until `count` distinct ones.
  const picked = new Set<string>();
  while (picked.size < count) {
    const m = s.randomMember();
    if (picked.has(m)) continue;
    picked.add(m);
    c.reply.bulk(m);
  }
}
