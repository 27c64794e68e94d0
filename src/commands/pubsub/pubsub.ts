// The pub/sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, the sharded
// SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH (as standalone Redis 7.0 runs them), and PUBSUB
// introspection (pubsub.c). The subscriptions and the delivery of messages are the core's
// (core/pubsub.ts, core/pubsub-shard.ts).

import type { Client } from "../../core/client.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { fail } from "../../core/errors.ts";
import { forcePropagation, patternMatches, publishMessage, publishShardMessage, replySubscription, subscribeChannel, subscribePattern, subscriptionCount, unsubscribeChannel, unsubscribePattern, unsubscribeShard } from "../../core/pubsub.ts";
import { addShardSubscription, shardChannelNames, shardChannelsOf, shardSubscribers, shardSubscriptionCount } from "../../core/pubsub-shard.ts";

// ---- PUBSUB introspection ----

const PUBSUB_HELP = [
  "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
  "HELP",
  "    Prints this help.",
];

function subcommandSyntaxError(argv: string[]): never {
  fail(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`);
}

function channelList(c: Client, argv: string[], names: Iterable<string>): void {
  if (argv.length > 3) subcommandSyntaxError(argv);
  const pattern = argv.length === 3 ? argv[2]! : null;
  const out: string[] = [];
  for (const name of names) if (pattern === null || patternMatches(pattern, name)) out.push(name);
  c.reply.bulkArray(out);
}

function numSub(c: Client, argv: string[], count: (channel: string) => number): void {
  c.reply.array((argv.length - 2) * 2);
  for (let j = 2; j < argv.length; j++) {
    c.reply.bulk(argv[j]!);
    c.reply.int(count(argv[j]!));
  }
}

export const handlers: HandlerMap = {
  subscribe(c, argv) {
    for (let j = 1; j < argv.length; j++) subscribeChannel(c, argv[j]!);
  },

  unsubscribe(c, argv) {
    if (argv.length === 1) {
      let count = 0;
      if (c.channels) for (const ch of [...c.channels]) count += unsubscribeChannel(c, ch, true);
      if (count === 0) replySubscription(c, "unsubscribe", null, subscriptionCount(c));
    } else {
      for (let j = 1; j < argv.length; j++) unsubscribeChannel(c, argv[j]!, true);
    }
  },

  psubscribe(c, argv) {
    for (let j = 1; j < argv.length; j++) subscribePattern(c, argv[j]!);
  },

  punsubscribe(c, argv) {
    if (argv.length === 1) {
      let count = 0;
      if (c.patterns) for (const p of [...c.patterns]) count += unsubscribePattern(c, p, true);
      if (count === 0) replySubscription(c, "punsubscribe", null, subscriptionCount(c));
    } else {
      for (let j = 1; j < argv.length; j++) unsubscribePattern(c, argv[j]!, true);
    }
  },

  ssubscribe(c, argv) {
    for (let j = 1; j < argv.length; j++) {
      addShardSubscription(c, argv[j]!);
      replySubscription(c, "ssubscribe", argv[j]!, shardSubscriptionCount(c));
    }
  },

  sunsubscribe(c, argv) {
    if (argv.length === 1) {
      const mine = [...shardChannelsOf(c)];
      for (const ch of mine) unsubscribeShard(c, ch);
      if (mine.length === 0) replySubscription(c, "sunsubscribe", null, 0);
    } else {
      for (let j = 1; j < argv.length; j++) unsubscribeShard(c, argv[j]!);
    }
  },

  publish(c, argv) {
    const receivers = publishMessage(c, argv[1]!, argv[2]!);
    forcePropagation(c, argv);
    c.reply.int(receivers);
  },

  spublish(c, argv) {
    const receivers = publishShardMessage(c, argv[1]!, argv[2]!);
    forcePropagation(c, argv);
    c.reply.int(receivers);
  },

  "pubsub|help"(c) {
    c.reply.array(PUBSUB_HELP.length);
    for (const line of PUBSUB_HELP) c.reply.simple(line);
  },

  "pubsub|channels"(c, argv) {
    channelList(c, argv, c.server.channels.keys());
  },

  "pubsub|numsub"(c, argv) {
    const channels = c.server.channels;
    numSub(c, argv, (ch) => channels.get(ch)?.size ?? 0);
  },

  "pubsub|numpat"(c) {
    c.reply.int(c.server.patterns.size);
  },

  "pubsub|shardchannels"(c, argv) {
    channelList(c, argv, shardChannelNames(c.server));
  },

  "pubsub|shardnumsub"(c, argv) {
    numSub(c, argv, (ch) => shardSubscribers(c.server, ch)?.size ?? 0);
  },
};
