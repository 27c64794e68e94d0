// Shard channel subscriptions (SSUBSCRIBE / SUNSUBSCRIBE / SPUBLISH) of a standalone server:
// a server's shard channels with their subscribers (Server.shardChannels) and a client's own
// (Client.shardChannels), kept in step here. A closed client's subscriptions are dropped by
// Server.onClientClosed (unsubscribeAllSilently), as its channels and patterns are.

import type { Client } from "./client.ts";
import type { Server } from "./server.ts";

const NONE: ReadonlySet<string> = new Set();

/** The subscribers of a shard channel, in subscription order. */
export function shardSubscribers(server: Server, channel: string): Set<Client> | undefined {
  return server.shardChannels.get(channel);
}

/** Shard channels with at least one subscriber. */
export function shardChannelNames(server: Server): string[] {
  return [...server.shardChannels.keys()];
}

export function shardChannelsOf(c: Client): ReadonlySet<string> {
  return c.shardChannels ?? NONE;
}

export function shardSubscriptionCount(c: Client): number {
  return c.shardChannels === null ? 0 : c.shardChannels.size;
}

export function addShardSubscription(c: Client, channel: string): void {
  const mine = (c.shardChannels ??= new Set());
  if (mine.has(channel)) return;
  mine.add(channel);
  const channels = c.server.shardChannels;
  let clients = channels.get(channel);
  if (!clients) channels.set(channel, (clients = new Set()));
  clients.add(c);
}

/** Returns 1 if the client was subscribed to the channel. */
export function removeShardSubscription(c: Client, channel: string): number {
  if (c.shardChannels === null || !c.shardChannels.delete(channel)) return 0;
  const channels = c.server.shardChannels;
  const clients = channels.get(channel);
  if (clients) {
    clients.delete(c);
    if (clients.size === 0) channels.delete(channel);
  }
  return 1;
}
