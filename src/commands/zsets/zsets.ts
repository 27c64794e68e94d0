// Sorted set commands (Redis 7.0 t_zset.c). This module has the reads and removals of single
// members and puts the family's table together; the rest is by what it owns: add.ts (ZADD,
// ZINCRBY, encoding rules, stored sets), range.ts (ZRANGE and friends, ZREMRANGE*, ZCOUNT),
// algebra.ts (ZUNION / ZINTER / ZDIFF), pop.ts (the pops, blocking or not), random.ts
// (ZRANDMEMBER) and scan.ts (ZSCAN).
//
// Redis checks every argument before it touches data, and so do these handlers.

import type { Client } from "../../core/client.ts";
import { fail, SYNTAX, wrongArity } from "../../core/errors.ts";
import { readZSet, signalModified, writeZSet } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { handlers as addHandlers } from "./add.ts";
import { handlers as algebraHandlers } from "./algebra.ts";
import { replyScore } from "./format.ts";
import { handlers as popHandlers } from "./pop.ts";
import { handlers as randomHandlers } from "./random.ts";
import { handlers as rangeHandlers } from "./range.ts";
import { zscan } from "./scan.ts";

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

export const handlers: HandlerMap = {
  ...addHandlers,
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
  ...rangeHandlers,
  ...algebraHandlers,
  ...popHandlers,
  ...randomHandlers,
  zscan,
};
