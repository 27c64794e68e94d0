// XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS / HELP (Redis 7.0 t_stream.c
// xinfoCommand, xinfoReplyWithStreamInfo), field for field and in Redis's order.

import type { Client } from "../../core/client.ts";
import { asI64, type ConsumerGroup, formatId, MAX_ID, sortedByName, type StreamValue, ZERO_ID } from "../../store/stream.ts";
import { fail } from "../../core/errors.ts";
import { replyHelp, streamAt, subcommandSyntaxError } from "./groups.ts";
import { longLongArg, replyEntries, replyEntry } from "./streams.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

const XINFO_HELP = [
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
];

function streamOrNoKey(c: Client, key: string): StreamValue {
  const s = streamAt(c, key, false);
  if (s === undefined) fail("ERR no such key");
  return s;
}

/** entries-read: the counter, or null when unknown. */
function replyEntriesRead(c: Client, g: ConsumerGroup): void {
  if (g.entriesRead === -1) c.reply.nullBulk();
  else c.reply.int(g.entriesRead);
}

function replyLag(c: Client, s: StreamValue, g: ConsumerGroup): void {
  const lag = s.groupLag(g);
  if (lag === null) c.reply.nullBulk();
  else c.reply.int(lag);
}

function xinfoStream(c: Client, argv: string[]): void {
  const s = streamOrNoKey(c, argv[2]!);
  const optc = argv.length - 3;
  let full = false;
  let count: number | bigint = 10;
  if (optc !== 0) {
    if (optc !== 1 && optc !== 3) subcommandSyntaxError(argv);
    if (argv[3]!.toLowerCase() !== "full") subcommandSyntaxError(argv);
    if (optc === 3) {
      if (argv[4]!.toLowerCase() !== "count") subcommandSyntaxError(argv);
      count = longLongArg(argv[5]!);
      if (count < 0) count = 10;
    }
    full = true;
  }
  const limit = Number(count);
  const r = c.reply;
  r.map(full ? 9 : 10);
  r.bulk("length");
  r.int(s.length);
  r.bulk("radix-tree-keys");
  r.int(s.nodeCount);
  r.bulk("radix-tree-nodes");
  r.int(s.radixTreeNodes());
  r.bulk("last-generated-id");
  r.bulk(formatId(s.lastId));
  r.bulk("max-deleted-entry-id");
  r.bulk(formatId(s.maxDeletedId));
  r.bulk("entries-added");
  r.int(asI64(s.entriesAdded));
  r.bulk("recorded-first-entry-id");
  r.bulk(formatId(s.firstId));
  if (!full) {
    r.bulk("groups");
    r.int(s.groups.size);
    const first = s.range(ZERO_ID, MAX_ID, 1);
    r.bulk("first-entry");
    if (first.length) replyEntry(c, first[0]!);
    else r.nullBulk();
    const last = s.range(ZERO_ID, MAX_ID, 1, true);
    r.bulk("last-entry");
    if (last.length) replyEntry(c, last[0]!);
    else r.nullBulk();
    return;
  }
  r.bulk("entries");
  replyEntries(c, s.range(ZERO_ID, null, limit));
  r.bulk("groups");
  const groups = sortedByName(s.groups);
  r.array(groups.length);
  for (const g of groups) {
    r.map(7);
    r.bulk("name");
    r.bulk(g.name);
    r.bulk("last-delivered-id");
    r.bulk(formatId(g.lastId));
    r.bulk("entries-read");
    replyEntriesRead(c, g);
    r.bulk("lag");
    replyLag(c, s, g);
    r.bulk("pel-count");
    r.int(g.pending.size);
    r.bulk("pending");
    const pelShown = limit === 0 ? g.pending.size : Math.min(limit, g.pending.size);
    r.array(pelShown);
    let n = 0;
    for (const pe of g.pending.ordered()) {
      if (n++ === pelShown) break;
      r.array(4);
      r.bulk(formatId(pe.id));
      r.bulk(pe.consumer);
      r.int(pe.deliveryTime);
      r.int(asI64(pe.deliveryCount));
    }
    r.bulk("consumers");
    const consumers = sortedByName(g.consumers);
    r.array(consumers.length);
    for (const consumer of consumers) {
      r.map(4);
      r.bulk("name");
      r.bulk(consumer.name);
      r.bulk("seen-time");
      r.int(consumer.seenTime);
      r.bulk("pel-count");
      r.int(consumer.pending.size);
      r.bulk("pending");
      const shown = limit === 0 ? consumer.pending.size : Math.min(limit, consumer.pending.size);
      r.array(shown);
      let k = 0;
      for (const pe of consumer.pending.ordered()) {
        if (k++ === shown) break;
        r.array(3);
        r.bulk(formatId(pe.id));
        r.int(pe.deliveryTime);
        r.int(asI64(pe.deliveryCount));
      }
    }
  }
}

function xinfoGroups(c: Client, argv: string[]): void {
  const s = streamOrNoKey(c, argv[2]!);
  const r = c.reply;
  const groups = sortedByName(s.groups);
  r.array(groups.length);
  for (const g of groups) {
    r.map(6);
    r.bulk("name");
    r.bulk(g.name);
    r.bulk("consumers");
    r.int(g.consumers.size);
    r.bulk("pending");
    r.int(g.pending.size);
    r.bulk("last-delivered-id");
    r.bulk(formatId(g.lastId));
    r.bulk("entries-read");
    replyEntriesRead(c, g);
    r.bulk("lag");
    replyLag(c, s, g);
  }
}

function xinfoConsumers(c: Client, argv: string[]): void {
  const key = argv[2]!;
  const s = streamOrNoKey(c, key);
  const g = s.groups.get(argv[3]!);
  if (g === undefined) fail(`NOGROUP No such consumer group '${argv[3]!}' for key name '${key}'`);
  const r = c.reply;
  const consumers = sortedByName(g.consumers);
  const now = Date.now();
  r.array(consumers.length);
  for (const consumer of consumers) {
    const idle = now - consumer.seenTime;
    r.map(3);
    r.bulk("name");
    r.bulk(consumer.name);
    r.bulk("pending");
    r.int(consumer.pending.size);
    r.bulk("idle");
    r.int(idle < 0 ? 0 : idle);
  }
}

export const infoHandlers: HandlerMap = {
  "xinfo|stream": xinfoStream,
  "xinfo|groups": xinfoGroups,
  "xinfo|consumers": xinfoConsumers,
  "xinfo|help": (c, argv) => replyHelp(c, argv[0]!, XINFO_HELP),
};
