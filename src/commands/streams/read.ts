// XREAD and XREADGROUP (Redis 7.0 t_stream.c xreadCommand, blocked.c
// serveClientsBlockedOnStreamKey), with BLOCK through core/blocking.ts.
//
// XREADGROUP is never propagated itself: each delivery creates or moves a PEL entry, which goes
// out as an XCLAIM ... FORCE JUSTID LASTID (the group's new last ID included); with NOACK there
// is no PEL entry, so the moved last ID goes out as XGROUP SETID ... ENTRIESREAD, and a new
// consumer as XGROUP CREATECONSUMER.

import { mayBlock } from "../../core/blocking.ts";
import type { Client } from "../../core/client.ts";
import { compareIds, type Consumer, type ConsumerGroup, decrId, formatId, i64Inc, incrId, MAX_ID, MAX_U64, type StreamEntry, type StreamId, StreamValue } from "../../store/stream.ts";
import { CommandError, fail, SYNTAX, WRONGTYPE } from "../../core/errors.ts";
import { lookupRead } from "../../core/keyspace.ts";
import { createConsumer, lookupConsumer, propagateConsumerCreation, propagateGroupId, propagateXclaim } from "./groups.ts";
import { strictIdArg } from "./ids.ts";
import { beforeStreamChange, longLongArg, replyEntry } from "./streams.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

/** XREAD_BLOCKED_DEFAULT_COUNT: a blocked read without COUNT serves at most this many. */
const BLOCKED_DEFAULT_COUNT = 1000;

/** Wakes clients blocked on the key (signalKeyAsReady). */
export function signalStreamReady(c: Client, key: string): void {
  c.server.blocking.signalKeyAsReady(c.db, key);
}

/** What one stream of the reply holds: entries, or IDs whose entry is gone (history reads). */
type Served = Array<StreamEntry | StreamId>;

/** The read context of XREADGROUP. */
interface GroupRead {
  group: ConsumerGroup;
  groupName: string;
  consumer: Consumer;
  noack: boolean;
}

/**
 * streamReplyWithRange with a group: delivers entries with ID >= start, moving the group's last
 * ID and read counter, creating or reassigning PEL entries, and propagating each as XCLAIM.
 */
function deliver(c: Client, s: StreamValue, key: string, start: StreamId, count: number, gr: GroupRead | null): Served {
  const entries = s.range(start, null, count);
  if (gr === null) return entries;
  const g = gr.group;
  let propagateLastId = false;
  const now = Date.now();
  for (const e of entries) {
    const id = e.id;
    if (compareIds(id, g.lastId) > 0) {
      if (g.entriesRead !== -1 && !s.rangeHasTombstones(id, null)) g.entriesRead = i64Inc(g.entriesRead);
      else if (s.entriesAdded !== 0) g.entriesRead = s.estimateDistanceFromFirstEverEntry(id);
      g.lastId = id;
      if (gr.noack) propagateLastId = true;
    }
    if (!gr.noack) {
      const k = formatId(id);
      let pe = g.pending.get(k);
      if (pe === undefined) {
        pe = { id, consumer: gr.consumer.name, deliveryTime: now, deliveryCount: 1 };
        g.pending.set(k, pe);
        gr.consumer.pending.set(k, pe);
      } else {
        g.consumers.get(pe.consumer)?.pending.delete(k);
        pe.consumer = gr.consumer.name;
        pe.deliveryTime = now;
        pe.deliveryCount = 1;
        gr.consumer.pending.set(k, pe);
      }
      propagateXclaim(c, key, g, gr.groupName, k, pe);
    }
  }
  if (propagateLastId) propagateGroupId(c, key, g, gr.groupName);
  return entries;
}

/** streamReplyWithRangeFromConsumerPEL: the consumer's own pending entries from `start`. */
function deliverHistory(s: StreamValue, consumer: Consumer, start: StreamId, count: number): Served {
  const out: Served = [];
  const now = Date.now();
  for (let pe = consumer.pending.ceiling(start); pe !== undefined && (count === 0 || out.length < count); pe = consumer.pending.higher(pe.id)) {
    const e = s.getEntry(pe.id);
    if (e === undefined) {
      out.push(pe.id);
    } else {
      pe.deliveryTime = now;
      pe.deliveryCount = typeof pe.deliveryCount === "number" && pe.deliveryCount < Number.MAX_SAFE_INTEGER ? pe.deliveryCount + 1 : BigInt.asUintN(64, BigInt(pe.deliveryCount) + 1n);
      out.push(e);
    }
  }
  return out;
}

function replyServed(c: Client, items: Served): void {
  const r = c.reply;
  r.array(items.length);
  for (const item of items) {
    if ("fields" in item) replyEntry(c, item);
    else {
      r.array(2);
      r.bulk(formatId(item));
      r.nullArray();
    }
  }
}

/** The top level of a reply: one [key, entries] pair per served stream (a map in RESP3). */
function replyStreams(c: Client, served: Array<{ key: string; items: Served }>): void {
  const r = c.reply;
  if (r.resp === 2) r.array(served.length);
  else r.map(served.length);
  for (const { key, items } of served) {
    if (r.resp === 2) r.array(2);
    r.bulk(key);
    replyServed(c, items);
  }
}

function streamOrWrongType(c: Client, key: string): StreamValue | undefined {
  const v = lookupRead(c, key);
  if (v === undefined) return undefined;
  if (!(v instanceof StreamValue)) throw new CommandError(WRONGTYPE);
  return v;
}

function isOpt(arg: string, lower: string): boolean {
  return arg.length === lower.length && arg.toLowerCase() === lower;
}

function xreadGeneric(c: Client, argv: string[], xreadgroup: boolean): void {
  const argc = argv.length;
  let timeout = -1;
  let count = 0;
  let streamsArg = 0;
  let streamsCount = 0;
  let noack = false;
  let groupName: string | null = null;
  let consumerName = "";
  for (let i = 1; i < argc; i++) {
    const moreArgs = argc - i - 1;
    const o = argv[i]!;
    if (moreArgs && isOpt(o, "block")) {
      // A script may not block (kept from before CLIENT_DENY_BLOCKING, Redis says, for Lua).
      if (c.scriptCaller !== null) fail(`ERR ${argv[0]} command is not allowed with BLOCK option from scripts`);
      i++;
      const t = longLongArg(argv[i]!, "ERR timeout is not an integer or out of range");
      if (t < 0) fail("ERR timeout is negative");
      timeout = Number(t);
    } else if (moreArgs && isOpt(o, "count")) {
      i++;
      const v = longLongArg(argv[i]!);
      count = v < 0 ? 0 : Number(v);
    } else if (moreArgs && isOpt(o, "streams")) {
      streamsArg = i + 1;
      streamsCount = argc - streamsArg;
      if (streamsCount % 2 !== 0) fail("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
      streamsCount /= 2;
      break;
    } else if (moreArgs >= 2 && isOpt(o, "group")) {
      if (!xreadgroup) fail("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
      groupName = argv[i + 1]!;
      consumerName = argv[i + 2]!;
      i += 2;
    } else if (isOpt(o, "noack")) {
      if (!xreadgroup) fail("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
      noack = true;
    } else {
      fail(SYNTAX);
    }
  }
  if (streamsArg === 0) fail(SYNTAX);
  if (xreadgroup && groupName === null) fail("ERR Missing GROUP option for XREADGROUP");

  const keys = argv.slice(streamsArg, streamsArg + streamsCount);
  const ids: StreamId[] = new Array(streamsCount);
  const groups: Array<ConsumerGroup | undefined> = new Array(streamsCount);
  for (let i = 0; i < streamsCount; i++) {
    const key = keys[i]!;
    const text = argv[streamsArg + streamsCount + i]!;
    const s = streamOrWrongType(c, key);
    if (groupName !== null) {
      const g = s?.groups.get(groupName);
      if (g === undefined) fail(`NOGROUP No such key '${key}' or consumer group '${groupName}' in XREADGROUP with GROUP option`);
      groups[i] = g;
    }
    if (text === "$") {
      if (xreadgroup) {
        fail("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
      }
      ids[i] = s ? s.lastId : { ms: 0, seq: 0 };
    } else if (text === "+") {
      // Redis 7.4: the last entry (reads from just before the last ID).
      if (xreadgroup) {
        fail("ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.");
      }
      if (s) {
        const before = decrId(s.lastId);
        if (before === null) fail("ERR the stream last element ID is 0-0");
        ids[i] = before;
      } else ids[i] = { ms: 0, seq: 0 };
    } else if (text === ">") {
      if (!xreadgroup) fail("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
      // The maximum ID stands for ">", as in Redis (so an explicit maximum ID reads like ">").
      ids[i] = MAX_ID;
    } else {
      ids[i] = strictIdArg(text);
    }
  }

  // Serve synchronously what can be served.
  const served: Array<{ key: string; items: Served }> = [];
  for (let i = 0; i < streamsCount; i++) {
    const key = keys[i]!;
    const s = streamOrWrongType(c, key);
    if (s === undefined) continue;
    let gt = ids[i]!;
    let serve = false;
    let history = false;
    const g = groups[i];
    if (g !== undefined) {
      if (!(gt.ms === MAX_U64 && gt.seq === MAX_U64)) {
        serve = true;
        history = true;
      } else if (s.length) {
        if (compareIds(s.lastLiveId()!, g.lastId) > 0) {
          serve = true;
          gt = g.lastId;
        }
      }
    } else if (s.length && compareIds(s.lastLiveId()!, gt) > 0) {
      serve = true;
    }
    if (!serve) continue;
    const start = incrId(gt) ?? { ms: 0, seq: 0 };
    if (g === undefined) {
      served.push({ key, items: deliver(c, s, key, start, count, null) });
      continue;
    }
    beforeStreamChange(c, key);
    let consumer = lookupConsumer(g, consumerName, true);
    if (consumer === undefined) {
      consumer = createConsumer(c, g, consumerName, key)!;
      if (noack) propagateConsumerCreation(c, key, groupName!, consumerName);
    }
    const items = history ? deliverHistory(s, consumer, start, count) : deliver(c, s, key, start, count, { group: g, groupName: groupName!, consumer, noack });
    served.push({ key, items });
    c.server.dirty++;
  }
  c.preventPropagation = true;
  if (served.length) {
    replyStreams(c, served);
    return;
  }
  if (timeout !== -1 && mayBlock(c)) {
    block(c, keys, ids, timeout, count || BLOCKED_DEFAULT_COUNT, groupName, consumerName, noack);
    return;
  }
  c.reply.nullArray();
}

/** Blocks the client until one of the streams has entries after its ID (or a timeout). */
function block(c: Client, keys: string[], ids: StreamId[], timeoutMs: number, count: number, groupName: string | null, consumerName: string, noack: boolean): void {
  // The first ID given for a key is the one waited on (blockForKeys ignores repeats).
  const waitIds = new Map<string, StreamId>();
  for (let i = 0; i < keys.length; i++) if (!waitIds.has(keys[i]!)) waitIds.set(keys[i]!, ids[i]!);
  // The blocking layer offers the key after any change; Redis wakes stream readers only after
  // XADD, XGROUP DESTROY, or the key being created, overwritten or deleted. What the key held
  // when last looked at tells which of those happened since.
  const seen = new Map<string, { value: unknown; version: number }>();
  const look = (key: string) => {
    const v = c.db.get(key);
    seen.set(key, { value: v, version: v instanceof StreamValue ? v.readyVersion : 0 });
  };
  for (const key of waitIds.keys()) look(key);
  const serve = (rc: Client, key: string): boolean => {
    const v = rc.db.get(key);
    const last = seen.get(key)!;
    if (v === last.value && (!(v instanceof StreamValue) || v.readyVersion === last.version)) return false;
    look(key);
    const s = v instanceof StreamValue && !isLogicallyExpired(rc, key) ? v : undefined;
    if (s === undefined) {
      // A deleted (or retyped) key can never serve a group read: unblock with an error.
      if (groupName !== null) throw new CommandError("UNBLOCKED the stream key no longer exists");
      return false;
    }
    let gt = waitIds.get(key)!;
    let gr: GroupRead | null = null;
    if (groupName !== null) {
      const g = s.groups.get(groupName);
      if (g === undefined) throw new CommandError("NOGROUP the consumer group this client was blocked on no longer exists");
      gt = g.lastId;
      waitIds.set(key, gt);
      if (compareIds(s.lastId, gt) <= 0) return false;
      beforeStreamChange(rc, key);
      let consumer = lookupConsumer(g, consumerName, true);
      if (consumer === undefined) {
        consumer = createConsumer(rc, g, consumerName, key)!;
        if (noack) propagateConsumerCreation(rc, key, groupName, consumerName);
      }
      gr = { group: g, groupName, consumer, noack };
    } else if (compareIds(s.lastId, gt) <= 0) {
      return false;
    }
    const start = incrId(gt) ?? { ms: 0, seq: 0 };
    const items = deliver(rc, s, key, start, count, gr);
    replyStreams(rc, [{ key, items }]);
    return true;
  };
  c.server.blocking.block(c, [...waitIds.keys()], timeoutMs, serve);
}

/** Whether the key has expired (it then reads as missing, as lookupKeyRead would see it). */
function isLogicallyExpired(c: Client, key: string): boolean {
  const when = c.db.expiresSize === 0 ? undefined : c.db.getExpire(key);
  return when !== undefined && Date.now() > when;
}

export const readHandlers: HandlerMap = {
  xread: (c, argv) => xreadGeneric(c, argv, false),
  xreadgroup: (c, argv) => xreadGeneric(c, argv, true),
};
