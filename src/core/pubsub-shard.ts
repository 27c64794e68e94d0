// Shard channel subscriptions (SSUBSCRIBE / SUNSUBSCRIBE / SPUBLISH) of a standalone server.
//
// Client and Server have fields for channels and patterns but not (yet) for shard channels, so
// they are kept here, keyed by server and by client. Server.onClientClosed does not know about
// them: subscribers whose connection has closed are dropped lazily, whenever a shard channel's
// subscribers are looked at.

import type { Client } from "./client.ts";
import type { Server } from "./server.ts";

const channelsByServer = new WeakMap<Server, Map<string, Set<Client>>>();
const channelsByClient = new WeakMap<Client, Set<string>>();
const NONE: ReadonlySet<string> = new Set();
/** (client, channel) subscriptions held: when 0 (the common case) lookups are skipped. */
let subscriptions = 0;

function serverChannels(server: Server): Map<string, Set<Client>> {
  let m = channelsByServer.get(server);
  if (!m) channelsByServer.set(server, (m = new Map()));
  return m;
}

function isGone(c: Client): boolean {
  return c.conn?.closed === true || !c.server.clients.has(c.id);
}

/** Drops closed clients from a channel's subscribers (and the channel once empty). */
function purge(server: Server, channel: string, clients: Set<Client>): void {
  for (const c of clients) {
    if (!isGone(c)) continue;
    clients.delete(c);
    if (channelsByClient.get(c)?.delete(channel)) subscriptions--;
  }
  if (clients.size === 0) serverChannels(server).delete(channel);
}

/** The live subscribers of a shard channel, in subscription order. */
export function shardSubscribers(server: Server, channel: string): Set<Client> | undefined {
  const clients = channelsByServer.get(server)?.get(channel);
  if (!clients) return undefined;
  purge(server, channel, clients);
  return clients.size ? clients : undefined;
}

/** Shard channels with at least one live subscriber. */
export function shardChannelNames(server: Server): string[] {
  const m = channelsByServer.get(server);
  if (!m) return [];
  for (const [channel, clients] of [...m]) purge(server, channel, clients);
  return [...m.keys()];
}

export function shardChannelsOf(c: Client): ReadonlySet<string> {
  return channelsByClient.get(c) ?? NONE;
}

export function shardSubscriptionCount(c: Client): number {
  if (subscriptions === 0) return 0;
  return channelsByClient.get(c)?.size ?? 0;
}

export function addShardSubscription(c: Client, channel: string): void {
  let mine = channelsByClient.get(c);
  if (!mine) channelsByClient.set(c, (mine = new Set()));
  if (mine.has(channel)) return;
  mine.add(channel);
  subscriptions++;
  const m = serverChannels(c.server);
  let clients = m.get(channel);
  if (!clients) m.set(channel, (clients = new Set()));
  clients.add(c);
}

/** Returns 1 if the client was subscribed to the channel. */
export function removeShardSubscription(c: Client, channel: string): number {
  const mine = channelsByClient.get(c);
  if (!mine?.delete(channel)) return 0;
  subscriptions--;
  const m = serverChannels(c.server);
  const clients = m.get(channel);
  if (clients) {
    clients.delete(c);
    if (clients.size === 0) m.delete(channel);
  }
  return 1;
}
