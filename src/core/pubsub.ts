// Pub/Sub subscriptions and delivery, and keyspace notifications (pubsub.c, notify.c); the
// commands are core/pubsub.ts.
//
// Subscriptions live in server.channels / server.patterns (channel -> clients, in subscription
// order) and in each client's channels / patterns sets; shard channels likewise in
// server.shardChannels / client.shardChannels (pubsub-shard.ts).
//
// A message is appended to each subscriber's reply buffer (RESP2 array, RESP3 push) and sent
// with flush(): the dispatcher only flushes the client whose command runs. When our master sends
// PUBLISH (Redis propagates it to replicas), the same handler delivers it to our subscribers.

import type { Client } from "./client.ts";
import { globMatch } from "../common/glob.ts";
import { removeShardSubscription, shardChannelsOf, shardSubscribers, shardSubscriptionCount } from "./pubsub-shard.ts";

/**
 * Redis's stringmatchlen, as pub/sub uses it: an empty channel name matches only an empty
 * pattern (even "*" does not match it). glob.ts treats "" like any other string.
 */
export function patternMatches(pattern: string, channel: string): boolean {
  if (channel.length === 0) return pattern.length === 0;
  return globMatch(pattern, channel);
}

/** Channels + patterns of a client (what SUBSCRIBE/UNSUBSCRIBE/P* replies count). */
export function subscriptionCount(c: Client): number {
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
export function replySubscription(c: Client, kind: string, name: string | null, count: number): void {
  const r = c.reply;
  const start = r.length;
  r.push(3);
  r.bulk(kind);
  if (name === null) r.nullBulk();
  else r.bulk(name);
  r.int(count);
  if (c.silencedFrom >= 0) c.keepPush(start);
}

// ---- Subscribing ----

export function subscribeChannel(c: Client, channel: string): void {
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

export function unsubscribeChannel(c: Client, channel: string, notifyClient: boolean): number {
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

export function subscribePattern(c: Client, pattern: string): void {
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

export function unsubscribePattern(c: Client, pattern: string, notifyClient: boolean): number {
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

export function unsubscribeShard(c: Client, channel: string): void {
  removeShardSubscription(c, channel);
  replySubscription(c, "sunsubscribe", channel, shardSubscriptionCount(c));
}

// ---- Publishing ----

/**
 * Clients that received a message during the current publish (flushed once at the end):
 * module-private scratch, empty again before publishing returns.
 */
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
export function publishMessage(c: Publisher, channel: string, message: string): number {
  const server = c.server;
  let receivers = 0;
  const clients = server.channels.get(channel);
  if (clients) {
    for (const sub of clients) {
      const r = sub.reply;
      const start = r.length;
      r.push(3);
      r.bulk("message");
      r.bulk(channel);
      r.bulk(message);
      if (sub.silencedFrom >= 0) sub.keepPush(start);
      touched.push(sub);
      receivers++;
    }
  }
  if (server.patterns.size !== 0) {
    for (const [pattern, subs] of server.patterns) {
      if (!patternMatches(pattern, channel)) continue;
      for (const sub of subs) {
        const r = sub.reply;
        const start = r.length;
        r.push(4);
        r.bulk("pmessage");
        r.bulk(pattern);
        r.bulk(channel);
        r.bulk(message);
        if (sub.silencedFrom >= 0) sub.keepPush(start);
        touched.push(sub);
        receivers++;
      }
    }
  }
  deliverPending(c);
  return receivers;
}

export function publishShardMessage(c: Client, channel: string, message: string): number {
  let receivers = 0;
  const clients = shardSubscribers(c.server, channel);
  if (clients) {
    for (const sub of clients) {
      const r = sub.reply;
      const start = r.length;
      r.push(3);
      r.bulk("smessage");
      r.bulk(channel);
      r.bulk(message);
      if (sub.silencedFrom >= 0) sub.keepPush(start);
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
export function forcePropagation(c: Client, argv: string[]): void {
  (c.alsoPropagate ??= []).push(argv);
}
