// Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, the sharded variants
// SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH (as standalone Redis 7.0 runs them), and PUBSUB
// introspection (pubsub.c).
//
// Subscriptions live in server.channels / server.patterns (channel -> clients, in subscription
// order) and in each client's channels / patterns sets. Shard channels have no field on Client or
// Server yet: they are kept here (see pubsub-shard.ts).
//
// A message is appended to each subscriber's reply buffer (RESP2 array, RESP3 push) and sent
// with flush(): the dispatcher only flushes the client whose command runs. When our master sends
// PUBLISH (Redis propagates it to replicas), the same handler delivers it to our subscribers.

import type { Client } from "./client.ts";
import { globMatch } from "../common/glob.ts";
import { fail } from "./errors.ts";
import { addShardSubscription, removeShardSubscription, shardChannelNames, shardChannelsOf, shardSubscribers, shardSubscriptionCount } from "./pubsub-shard.ts";
import type { HandlerMap } from "./command-spec.ts";

/**
 * Redis's stringmatchlen, as pub/sub uses it: an empty channel name matches only an empty
 * pattern (even "*" does not match it). glob.ts treats "" like any other string.
 */
function patternMatches(pattern: string, channel: string): boolean {
  if (channel.length === 0) return pattern.length === 0;
  return globMatch(pattern, channel);
}

/** Channels + patterns of a client (what SUBSCRIBE/UNSUBSCRIBE/P* replies count). */
function subscriptionCount(c: Client): number {
  return (c.channels?.size ?? 0) + (c.patterns?.size ?? 0);
}

/**
 * Whether the client is in Pub/Sub mode (Redis's CLIENT_PUBSUB flag): subscribed to at least one
 * channel, pattern or shard channel.
 */
export function isSubscribed(c: Client): boolean {
  if ((c.channels !== null && c.channels.size !== 0) || (c.patterns !== null && c.patterns.size !== 0)) return true;
  return shardSubscriptionCount(c) !== 0;
}

/** Commands a RESP2 client in Pub/Sub mode may run (server.c processCommand). */
const ALLOWED_IN_PUBSUB = new Set(["ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset"]);

/**
 * Redis's check that a RESP2 client in Pub/Sub mode only runs (P|S)SUBSCRIBE,
 * (P|S)UNSUBSCRIBE, PING, QUIT and RESET. Returns the error to reject the command with, or null.
 * `fullName` is the command's full name ("config|get" for subcommands). The dispatcher calls
 * this after the READONLY check and before MASTERDOWN, as processCommand does.
 */
export function pubsubContextError(c: Client, fullName: string): string | null {
  if (c.reply.resp !== 2 || !isSubscribed(c) || ALLOWED_IN_PUBSUB.has(fullName)) return null;
  return `ERR Can't execute '${fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}

/** A client's shard channel subscriptions (CLIENT LIST's ssub=). */
export { shardSubscriptionCount };

/** Drops every subscription of a client without notifying it (RESET, disconnection). */
export function unsubscribeAllSilently(c: Client): void {
  if (c.channels) for (const ch of [...c.channels]) unsubscribeChannel(c, ch, false);
  if (c.patterns) for (const p of [...c.patterns]) unsubscribePattern(c, p, false);
  for (const ch of [...shardChannelsOf(c)]) removeShardSubscription(c, ch);
}

// ---- Subscription replies ----

/** A (p|s)(un)subscribe confirmation: RESP2 array, RESP3 push. */
function replySubscription(c: Client, kind: string, name: string | null, count: number): void {
  const r = c.reply;
  r.push(3);
  r.bulk(kind);
  if (name === null) r.nullBulk();
  else r.bulk(name);
  r.int(count);
}

// ---- Subscribing ----

function subscribeChannel(c: Client, channel: string): void {
  const mine = (c.channels ??= new Set());
  if (!mine.has(channel)) {
    mine.add(channel);
    const channels = c.server.channels;
    let clients = channels.get(channel);
    if (!clients) channels.set(channel, (clients = new Set()));
    clients.add(c);
  }
  replySubscription(c, "subscribe", channel, subscriptionCount(c));
}

function unsubscribeChannel(c: Client, channel: string, notifyClient: boolean): number {
  let removed = 0;
  if (c.channels?.delete(channel)) {
    removed = 1;
    const channels = c.server.channels;
    const clients = channels.get(channel);
    if (clients) {
      clients.delete(c);
      if (clients.size === 0) channels.delete(channel);
    }
  }
  if (notifyClient) replySubscription(c, "unsubscribe", channel, subscriptionCount(c));
  return removed;
}

function subscribePattern(c: Client, pattern: string): void {
  const mine = (c.patterns ??= new Set());
  if (!mine.has(pattern)) {
    mine.add(pattern);
    const patterns = c.server.patterns;
    let clients = patterns.get(pattern);
    if (!clients) patterns.set(pattern, (clients = new Set()));
    clients.add(c);
  }
  replySubscription(c, "psubscribe", pattern, subscriptionCount(c));
}

function unsubscribePattern(c: Client, pattern: string, notifyClient: boolean): number {
  let removed = 0;
  if (c.patterns?.delete(pattern)) {
    removed = 1;
    const patterns = c.server.patterns;
    const clients = patterns.get(pattern);
    if (clients) {
      clients.delete(c);
      if (clients.size === 0) patterns.delete(pattern);
    }
  }
  if (notifyClient) replySubscription(c, "punsubscribe", pattern, subscriptionCount(c));
  return removed;
}

function unsubscribeShard(c: Client, channel: string): void {
  removeShardSubscription(c, channel);
  replySubscription(c, "sunsubscribe", channel, shardSubscriptionCount(c));
}

// ---- Publishing ----

/** Clients that received a message during the current publish (flushed once at the end). */
const touched: Client[] = [];

/** What publishing needs of the publisher: the server (a command's client, or none for expiry). */
type Publisher = Pick<Client, "server">;

function deliverPending(c: Publisher): void {
  const server = c.server;
  const current = server.currentClient;
  for (let i = 0; i < touched.length; i++) {
    const sub = touched[i]!;
    // The publishing client's own buffer goes out with its reply, in order.
    if (sub === current || sub.reply.length === 0) continue;
    server.stats.netOutputBytes += sub.reply.length;
    sub.flush();
  }
  touched.length = 0;
}

/** Sends a message to the channel's subscribers and matching pattern subscribers; returns how many. */
function publishMessage(c: Publisher, channel: string, message: string): number {
  const server = c.server;
  let receivers = 0;
  const clients = server.channels.get(channel);
  if (clients) {
    for (const sub of clients) {
      const r = sub.reply;
      r.push(3);
      r.bulk("message");
      r.bulk(channel);
      r.bulk(message);
      touched.push(sub);
      receivers++;
    }
  }
  if (server.patterns.size !== 0) {
    for (const [pattern, subs] of server.patterns) {
      if (!patternMatches(pattern, channel)) continue;
      for (const sub of subs) {
        const r = sub.reply;
        r.push(4);
        r.bulk("pmessage");
        r.bulk(pattern);
        r.bulk(channel);
        r.bulk(message);
        touched.push(sub);
        receivers++;
      }
    }
  }
  deliverPending(c);
  return receivers;
}

function publishShardMessage(c: Client, channel: string, message: string): number {
  let receivers = 0;
  const clients = shardSubscribers(c.server, channel);
  if (clients) {
    for (const sub of clients) {
      const r = sub.reply;
      r.push(3);
      r.bulk("smessage");
      r.bulk(channel);
      r.bulk(message);
      touched.push(sub);
      receivers++;
    }
  }
  deliverPending(c);
  return receivers;
}

// ---- Keyspace notifications (notify.c) ----

/** Notification classes (server.h NOTIFY_*), for notifyKeyspaceEvent's `type`. */
export const enum NotifyClass {
  Keyspace = 1 << 0,
  Keyevent = 1 << 1,
  Generic = 1 << 2,
  String = 1 << 3,
  List = 1 << 4,
  Set = 1 << 5,
  Hash = 1 << 6,
  Zset = 1 << 7,
  Expired = 1 << 8,
  Evicted = 1 << 9,
  Stream = 1 << 10,
  KeyMiss = 1 << 11,
  Module = 1 << 13,
  New = 1 << 14,
}

const NOTIFY_ALL = NotifyClass.Generic | NotifyClass.String | NotifyClass.List | NotifyClass.Set | NotifyClass.Hash | NotifyClass.Zset | NotifyClass.Expired | NotifyClass.Evicted | NotifyClass.Stream | NotifyClass.Module;

const NOTIFY_CHARS: Record<string, number> = {
  A: NOTIFY_ALL,
  g: NotifyClass.Generic,
  $: NotifyClass.String,
  l: NotifyClass.List,
  s: NotifyClass.Set,
  h: NotifyClass.Hash,
  z: NotifyClass.Zset,
  x: NotifyClass.Expired,
  e: NotifyClass.Evicted,
  K: NotifyClass.Keyspace,
  E: NotifyClass.Keyevent,
  t: NotifyClass.Stream,
  m: NotifyClass.KeyMiss,
  d: NotifyClass.Module,
  n: NotifyClass.New,
};

let notifyText = "";
let notifyFlags = 0;

/** notify-keyspace-events as flags (parsed once per distinct setting). */
function keyspaceEventFlags(c: Publisher): number {
  const text = c.server.config.str("notify-keyspace-events");
  if (text !== notifyText) {
    let flags = 0;
    for (const ch of text) flags |= NOTIFY_CHARS[ch] ?? 0;
    notifyText = text;
    notifyFlags = flags;
  }
  return notifyFlags;
}

/**
 * Redis's notifyKeyspaceEvent: publishes `event` on __keyspace@<db>__:<key> and `key` on
 * __keyevent@<db>__:<event>, as notify-keyspace-events selects. Cheap when notifications are off.
 */
export function notifyKeyspaceEvent(c: Client, type: NotifyClass, event: string, key: string, dbId: number = c.db.id): void {
  notifyServerKeyspaceEvent(c, type, event, key, dbId);
}

/** notifyKeyspaceEvent where no command runs (active expiry): only the server is needed. */
export function notifyServerKeyspaceEvent(c: Publisher, type: NotifyClass, event: string, key: string, dbId: number): void {
  const flags = keyspaceEventFlags(c);
  if (!(flags & type)) return;
  if (flags & NotifyClass.Keyspace) publishMessage(c, `__keyspace@${dbId}__:${key}`, event);
  if (flags & NotifyClass.Keyevent) publishMessage(c, `__keyevent@${dbId}__:${event}`, key);
}

/**
 * Redis forces the propagation of PUBLISH / SPUBLISH to replicas although no key changed
 * (forceCommandPropagation). The dispatcher propagates a command only when `dirty` moved, so
 * the command goes out as an extra op instead (exactly once: dirty does not move).
 */
function forcePropagation(c: Client, argv: string[]): void {
  (c.alsoPropagate ??= []).push(argv);
}

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
