// Consumer group commands (Redis 7.0 t_stream.c): XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM,
// plus the consumer and PEL helpers XREADGROUP shares.
//
// Propagation: XCLAIM and XAUTOCLAIM are never propagated as sent. Each PEL change goes out as
// the idempotent "XCLAIM <key> <group> <consumer> 0 <id> TIME <ms> RETRYCOUNT <n> FORCE JUSTID
// LASTID <group last id>" (streamPropagateXCLAIM), and a moved last ID alone as "XGROUP SETID
// <key> <group> <id> ENTRIESREAD <n>" (streamPropagateGroupID).

import { replicationOf } from "../../replication/replication.ts";
import type { Client } from "../../core/client.ts";
import { asI64, compareIds, type Consumer, type ConsumerGroup, formatId, MAX_ID, newConsumer, newConsumerGroup, type PendingEntry, sortedByName, type StreamEntry, type StreamId, StreamValue, u64Inc } from "../../store/stream.ts";
import { CommandError, fail, SYNTAX, WRONGTYPE } from "../../core/errors.ts";
import { lookupRead, lookupWrite } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { beforeStreamChange, longLongArg, replyEntry } from "./streams.ts";
import { idArg, parseStreamId, rangeEndArg, rangeStartArg, strictIdArg } from "./ids.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { signalStreamReady } from "./read.ts";

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** addReplyHelp: the header, the lines, and the HELP footer, as status replies. */
export function replyHelp(c: Client, command: string, lines: string[]): void {
  const r = c.reply;
  r.array(lines.length + 3);
  r.simple(`${command.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) r.simple(l);
  r.simple("HELP");
  r.simple("    Prints this help.");
}

/** addReplySubcommandSyntaxError. */
export function subcommandSyntaxError(argv: string[]): never {
  fail(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`);
}

/** A stream value or undefined (WRONGTYPE for another type); `write` picks the lookup flavour. */
export function streamAt(c: Client, key: string, write: boolean): StreamValue | undefined {
  const v = write ? lookupWrite(c, key) : lookupRead(c, key);
  if (v === undefined) return undefined;
  if (!(v instanceof StreamValue)) throw new CommandError(WRONGTYPE);
  return v;
}

/** streamCreateConsumer: a new consumer (dirty++, "xgroup-createconsumer"), or null when the name exists. */
export function createConsumer(c: Client, g: ConsumerGroup, name: string, key: string): Consumer | null {
  if (g.consumers.has(name)) return null;
  const consumer = newConsumer(name, Date.now());
  g.consumers.set(name, consumer);
  c.server.dirty++;
  notifyKeyspaceEvent(c, NotifyClass.Stream, "xgroup-createconsumer", key);
  return consumer;
}

/** streamLookupConsumer: refreshes seen-time unless told not to. */
export function lookupConsumer(g: ConsumerGroup, name: string, refresh: boolean): Consumer | undefined {
  const consumer = g.consumers.get(name);
  if (consumer !== undefined && refresh) consumer.seenTime = Date.now();
  return consumer;
}

/** Removes a PEL entry from the group and its owner. */
function removePending(g: ConsumerGroup, pe: PendingEntry): void {
  const k = formatId(pe.id);
  g.pending.delete(k);
  g.consumers.get(pe.consumer)?.pending.delete(k);
}

/** streamPropagateXCLAIM. */
export function propagateXclaim(c: Client, key: string, g: ConsumerGroup, groupName: string, idText: string, pe: PendingEntry): void {
  (c.alsoPropagate ??= []).push([
    "XCLAIM",
    key,
    groupName,
    pe.consumer,
    "0",
    idText,
    "TIME",
    String(pe.deliveryTime),
    "RETRYCOUNT",
    String(asI64(pe.deliveryCount)),
    "FORCE",
    "JUSTID",
    "LASTID",
    formatId(g.lastId),
  ]);
}

/** streamPropagateGroupID. */
export function propagateGroupId(c: Client, key: string, g: ConsumerGroup, groupName: string): void {
  (c.alsoPropagate ??= []).push(["XGROUP", "SETID", key, groupName, formatId(g.lastId), "ENTRIESREAD", String(g.entriesRead)]);
}

/** streamPropagateConsumerCreation. */
export function propagateConsumerCreation(c: Client, key: string, groupName: string, consumer: string): void {
  (c.alsoPropagate ??= []).push(["XGROUP", "CREATECONSUMER", key, groupName, consumer]);
}

function isOpt(arg: string, lower: string): boolean {
  return arg.length === lower.length && arg.toLowerCase() === lower;
}

function noGroup(key: string, group: string): never {
  fail(`NOGROUP No such key '${key}' or consumer group '${group}'`);
}

// ---------------------------------------------------------------------------------------------
// XGROUP (one function for every subcommand, as in Redis)

const XGROUP_HELP = [
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
];

function xgroup(c: Client, argv: string[]): void {
  const argc = argv.length;
  const opt = argv[1]!.toLowerCase();
  let s: StreamValue | undefined;
  let groupName = "";
  let cg: ConsumerGroup | undefined;
  let mkstream = false;
  let entriesRead: number | bigint = -1;
  if (argc >= 4) {
    const create = opt === "create";
    const setid = opt === "setid";
    let i = 5;
    while (i < argc) {
      if (create && isOpt(argv[i]!, "mkstream")) {
        mkstream = true;
        i++;
      } else if ((create || setid) && isOpt(argv[i]!, "entriesread") && i + 1 < argc) {
        entriesRead = longLongArg(argv[i + 1]!);
        if (entriesRead < 0 && entriesRead !== -1) fail("ERR value for ENTRIESREAD must be positive or -1");
        i += 2;
      } else {
        subcommandSyntaxError(argv);
      }
    }
    s = streamAt(c, argv[2]!, true);
    groupName = argv[3]!;
  }
  const key = argv[2]!;
  if (argc >= 4 && !mkstream) {
    if (s === undefined) fail("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
    cg = s.groups.get(groupName);
    if (cg === undefined && (opt === "setid" || opt === "createconsumer" || opt === "delconsumer")) {
      fail(`NOGROUP No such consumer group '${groupName}' for key name '${key}'`);
    }
  }
  if (argc === 2 && opt === "help") {
    replyHelp(c, argv[0]!, XGROUP_HELP);
  } else if (opt === "create" && argc >= 5 && argc <= 8) {
    let id: StreamId;
    if (argv[4] === "$") id = s ? s.lastId : { ms: 0, seq: 0 };
    else id = strictIdArg(argv[4]!);
    if (s === undefined) {
      s = new StreamValue();
      c.db.set(key, s);
      c.server.signalModifiedKey(c.db, key);
    } else {
      beforeStreamChange(c, key);
    }
    if (s.groups.has(groupName)) fail("BUSYGROUP Consumer Group name already exists");
    s.groups.set(groupName, newConsumerGroup(groupName, id, entriesRead));
    c.reply.ok();
    c.server.dirty++;
    notifyKeyspaceEvent(c, NotifyClass.Stream, "xgroup-create", key);
  } else if (opt === "setid" && (argc === 5 || argc === 7)) {
    const id = argv[4] === "$" ? s!.lastId : idArg(argv[4]!);
    beforeStreamChange(c, key);
    cg!.lastId = id;
    cg!.entriesRead = entriesRead;
    c.reply.ok();
    c.server.dirty++;
    notifyKeyspaceEvent(c, NotifyClass.Stream, "xgroup-setid", key);
  } else if (opt === "destroy" && argc === 4) {
    if (cg) {
      beforeStreamChange(c, key);
      s!.groups.delete(groupName);
      s!.readyVersion++;
      c.reply.int(1);
      c.server.dirty++;
      notifyKeyspaceEvent(c, NotifyClass.Stream, "xgroup-destroy", key);
      // Blocked XREADGROUP consumers of the group get -NOGROUP.
      signalStreamReady(c, key);
    } else {
      c.reply.int(0);
    }
  } else if (opt === "createconsumer" && argc === 5) {
    beforeStreamChange(c, key);
    c.reply.int(createConsumer(c, cg!, argv[4]!, key) ? 1 : 0);
  } else if (opt === "delconsumer" && argc === 5) {
    let pending = 0;
    const consumer = lookupConsumer(cg!, argv[4]!, false);
    if (consumer) {
      beforeStreamChange(c, key);
      pending = consumer.pending.size;
      for (const pe of consumer.pending.values()) cg!.pending.delete(formatId(pe.id));
      cg!.consumers.delete(consumer.name);
      c.server.dirty++;
      notifyKeyspaceEvent(c, NotifyClass.Stream, "xgroup-delconsumer", key);
    }
    c.reply.int(pending);
  } else {
    subcommandSyntaxError(argv);
  }
}

// ---------------------------------------------------------------------------------------------
// XACK

function xack(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const s = streamAt(c, key, false);
  const g = s?.groups.get(argv[2]!);
  if (s === undefined || g === undefined) {
    c.reply.int(0);
    return;
  }
  const ids: StreamId[] = [];
  for (let j = 3; j < argv.length; j++) ids.push(strictIdArg(argv[j]!));
  let acknowledged = 0;
  for (const id of ids) {
    const pe = g.pending.get(formatId(id));
    if (pe === undefined) continue;
    if (acknowledged === 0) beforeStreamChange(c, key);
    removePending(g, pe);
    acknowledged++;
    c.server.dirty++;
  }
  c.reply.int(acknowledged);
}

// ---------------------------------------------------------------------------------------------
// XPENDING

function xpending(c: Client, argv: string[]): void {
  const argc = argv.length;
  const justInfo = argc === 3;
  const key = argv[1]!;
  const groupName = argv[2]!;
  if (argc !== 3 && (argc < 6 || argc > 9)) fail(SYNTAX);
  let start: StreamId = { ms: 0, seq: 0 };
  let end: StreamId = MAX_ID;
  let count: number | bigint = 0;
  let minIdle: number | bigint = 0;
  let consumerName: string | null = null;
  if (argc >= 6) {
    let startIdx = 3;
    if (isOpt(argv[3]!, "idle")) {
      minIdle = longLongArg(argv[4]!);
      if (argc < 8) fail(SYNTAX);
      startIdx += 2;
    }
    count = longLongArg(argv[startIdx + 2]!);
    if (count < 0) count = 0;
    start = rangeStartArg(argv[startIdx]!);
    end = rangeEndArg(argv[startIdx + 1]!);
    if (startIdx + 3 < argc) consumerName = argv[startIdx + 3]!;
  }
  const s = streamAt(c, key, false);
  const g = s?.groups.get(groupName);
  if (s === undefined || g === undefined) noGroup(key, groupName);
  const r = c.reply;
  if (justInfo) {
    r.array(4);
    r.int(g.pending.size);
    if (g.pending.size === 0) {
      r.nullBulk();
      r.nullBulk();
      r.nullArray();
      return;
    }
    r.bulk(formatId(g.pending.first()!.id));
    r.bulk(formatId(g.pending.last()!.id));
    const withPending = sortedByName(g.consumers).filter((cons) => cons.pending.size > 0);
    r.array(withPending.length);
    for (const cons of withPending) {
      r.array(2);
      r.bulk(cons.name);
      r.bulk(String(cons.pending.size));
    }
    return;
  }
  let pel = g.pending;
  if (consumerName !== null) {
    const consumer = lookupConsumer(g, consumerName, false);
    if (consumer === undefined) {
      r.array(0);
      return;
    }
    pel = consumer.pending;
  }
  const now = Date.now();
  const out: PendingEntry[] = [];
  let remaining = count;
  for (let pe = pel.ceiling(start); remaining && pe !== undefined && compareIds(pe.id, end) <= 0; pe = pel.higher(pe.id)) {
    if (minIdle && now - pe.deliveryTime < minIdle) continue;
    out.push(pe);
    remaining = typeof remaining === "number" ? remaining - 1 : remaining - 1n;
  }
  r.array(out.length);
  for (const pe of out) {
    r.array(4);
    r.bulk(formatId(pe.id));
    r.bulk(pe.consumer);
    const elapsed = now - pe.deliveryTime;
    r.int(elapsed < 0 ? 0 : elapsed);
    r.int(asI64(pe.deliveryCount));
  }
}

// ---------------------------------------------------------------------------------------------
// XCLAIM

function xclaim(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const groupName = argv[2]!;
  const s = streamAt(c, key, false);
  const g = s?.groups.get(groupName);
  if (s === undefined || g === undefined) noGroup(key, groupName);
  let minIdle = longLongArg(argv[4]!, "ERR Invalid min-idle-time argument for XCLAIM");
  if (minIdle < 0) minIdle = 0;
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const p = parseStreamId(argv[j]!, 0, true);
    if (p === null) break;
    ids.push(p.id);
  }
  const now = Date.now();
  let lastId: StreamId = { ms: 0, seq: 0 };
  let force = false;
  let justId = false;
  let deliveryTime: number | bigint = -1;
  let retryCount: number | bigint = -1;
  for (; j < argv.length; j++) {
    const moreArgs = argv.length - 1 - j;
    const opt = argv[j]!;
    if (isOpt(opt, "force")) force = true;
    else if (isOpt(opt, "justid")) justId = true;
    else if (moreArgs && isOpt(opt, "idle")) {
      const idle = longLongArg(argv[++j]!, "ERR Invalid IDLE option argument for XCLAIM");
      deliveryTime = now - Number(idle);
    } else if (moreArgs && isOpt(opt, "time")) {
      deliveryTime = longLongArg(argv[++j]!, "ERR Invalid TIME option argument for XCLAIM");
    } else if (moreArgs && isOpt(opt, "retrycount")) {
      retryCount = longLongArg(argv[++j]!, "ERR Invalid RETRYCOUNT option argument for XCLAIM");
    } else if (moreArgs && isOpt(opt, "lastid")) {
      lastId = strictIdArg(argv[++j]!);
    } else {
      fail(`ERR Unrecognized XCLAIM option '${opt}'`);
    }
  }
  beforeStreamChange(c, key);
  let propagateLastId = false;
  if (compareIds(lastId, g.lastId) > 0) {
    g.lastId = lastId;
    propagateLastId = true;
  }
  const when = deliveryTime === -1 || deliveryTime < 0 || deliveryTime > now ? now : Number(deliveryTime);
  let consumer: Consumer | undefined;
  const claimed: Array<StreamId | StreamEntry> = [];
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    const idKey = formatId(id);
    let pe = g.pending.get(idKey);
    const entry = s.getEntry(id);
    // Redis 6.2 claims a pending entry whose message was deleted (7.0 drops it from the PEL):
    // its replicas must do the same with the XCLAIM it propagates.
    const claimDeleted = entry === undefined && pe !== undefined && c.isMaster && replicationOf(c.server).masterPredates70;
    if (entry === undefined && !claimDeleted) {
      if (pe !== undefined) {
        propagateXclaim(c, key, g, groupName, argv[5 + k]!, pe);
        propagateLastId = false;
        c.server.dirty++;
        removePending(g, pe);
      }
      continue;
    }
    if (force && pe === undefined) {
      pe = { id, consumer: "", deliveryTime: now, deliveryCount: 1 };
      g.pending.set(idKey, pe);
    }
    if (pe === undefined) continue;
    if (pe.consumer !== "" && minIdle && now - pe.deliveryTime < minIdle) continue;
    consumer ??= lookupConsumer(g, argv[3]!, true) ?? createConsumer(c, g, argv[3]!, key)!;
    const moved = pe.consumer !== consumer.name;
    if (moved && pe.consumer !== "") g.consumers.get(pe.consumer)?.pending.delete(idKey);
    pe.deliveryTime = when;
    if (retryCount >= 0) pe.deliveryCount = retryCount;
    else if (!justId) pe.deliveryCount = u64Inc(pe.deliveryCount);
    if (moved) {
      consumer.pending.set(idKey, pe);
      pe.consumer = consumer.name;
    }
    claimed.push(justId || entry === undefined ? id : entry);
    propagateXclaim(c, key, g, groupName, argv[5 + k]!, pe);
    propagateLastId = false;
    c.server.dirty++;
  }
  if (propagateLastId) {
    propagateGroupId(c, key, g, groupName);
    c.server.dirty++;
  }
  c.reply.array(claimed.length);
  for (const item of claimed) {
    if ("fields" in item) replyEntry(c, item);
    else c.reply.bulk(formatId(item));
  }
  c.preventPropagation = true;
}

// ---------------------------------------------------------------------------------------------
// XAUTOCLAIM

const XAUTOCLAIM_MAX_COUNT = 576460752303423487n; // LONG_MAX / max(sizeof(streamID), 10)
/**
 * Redis allocates COUNT stream IDs (16 bytes each) up front and replies an error when that
 * fails: on x86-64 Linux, beyond the 47-bit address space (64 TiB still maps lazily).
 */
const XAUTOCLAIM_ALLOC_LIMIT = 2 ** 42;

function xautoclaim(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const groupName = argv[2]!;
  // Looked up before the arguments are parsed (keyspace hits/misses), type-checked after.
  const found = lookupRead(c, key);
  let minIdle = longLongArg(argv[4]!, "ERR Invalid min-idle-time argument for XAUTOCLAIM");
  if (minIdle < 0) minIdle = 0;
  const start = rangeStartArg(argv[5]!);
  let count = 100;
  let justId = false;
  for (let j = 6; j < argv.length; j++) {
    const moreArgs = argv.length - 1 - j;
    const opt = argv[j]!;
    if (moreArgs && isOpt(opt, "count")) {
      const v = longLongArg(argv[j + 1]!, "ERR COUNT must be > 0");
      if (v < 1 || BigInt(v) > XAUTOCLAIM_MAX_COUNT) fail("ERR COUNT must be > 0");
      count = Number(v);
      j++;
    } else if (isOpt(opt, "justid")) {
      justId = true;
    } else {
      fail(SYNTAX);
    }
  }
  if (found !== undefined && !(found instanceof StreamValue)) throw new CommandError(WRONGTYPE);
  const s = found;
  const g = s?.groups.get(groupName);
  if (s === undefined || g === undefined) noGroup(key, groupName);
  if (count > XAUTOCLAIM_ALLOC_LIMIT) fail("ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
  beforeStreamChange(c, key);
  const now = Date.now();
  let attempts = count * 10;
  let consumer: Consumer | undefined;
  const claimed: Array<StreamId | StreamEntry> = [];
  const deletedIds: StreamId[] = [];
  let next = g.pending.ceiling(start);
  while (attempts-- > 0 && count > 0) {
    const pe = next;
    if (pe === undefined) break;
    next = g.pending.higher(pe.id);
    const id = pe.id;
    const entry = s.getEntry(id);
    if (entry === undefined) {
      propagateXclaim(c, key, g, groupName, formatId(id), pe);
      c.server.dirty++;
      removePending(g, pe);
      deletedIds.push(id);
      count--;
      continue;
    }
    if (minIdle && now - pe.deliveryTime < minIdle) continue;
    consumer ??= lookupConsumer(g, argv[3]!, true) ?? createConsumer(c, g, argv[3]!, key)!;
    const idKey = formatId(id);
    const moved = pe.consumer !== consumer.name;
    if (moved) g.consumers.get(pe.consumer)?.pending.delete(idKey);
    pe.deliveryTime = now;
    if (!justId) pe.deliveryCount = u64Inc(pe.deliveryCount);
    if (moved) {
      consumer.pending.set(idKey, pe);
      pe.consumer = consumer.name;
    }
    claimed.push(justId || entry === undefined ? id : entry);
    count--;
    propagateXclaim(c, key, g, groupName, idKey, pe);
    c.server.dirty++;
  }
  const r = c.reply;
  r.array(3);
  r.bulk(next === undefined ? "0-0" : formatId(next.id));
  r.array(claimed.length);
  for (const item of claimed) {
    if ("fields" in item) replyEntry(c, item);
    else r.bulk(formatId(item));
  }
  r.array(deletedIds.length);
  for (const id of deletedIds) r.bulk(formatId(id));
  c.preventPropagation = true;
}

export const groupHandlers: HandlerMap = {
  "xgroup|create": xgroup,
  "xgroup|setid": xgroup,
  "xgroup|destroy": xgroup,
  "xgroup|createconsumer": xgroup,
  "xgroup|delconsumer": xgroup,
  "xgroup|help": xgroup,
  xack,
  xpending,
  xclaim,
  xautoclaim,
};

