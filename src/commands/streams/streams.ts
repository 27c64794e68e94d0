// Stream commands (Redis 7.0 t_stream.c): entries (XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM,
// XSETID) here; consumer groups in streams-groups.ts, XREAD/XREADGROUP in streams-read.ts,
// XINFO in streams-info.ts, ID parsing in streams-ids.ts.
//
// Arguments are checked in Redis's order (often before the key is looked up) so the same
// error comes first. Writes propagate in Redis's deterministic forms: XADD with the ID it
// generated and approximate trimming rewritten as exact ("MAXLEN ~ 1000" -> "MAXLEN = <length
// after trimming>", "MINID ~ x" -> "MINID = <first entry, tombstones included>"), XTRIM likewise.

import type { Client } from "../../core/client.ts";
import { compareIds, formatId, incrId, MAX_ID, MAX_U64, type NodeLimits, type StreamEntry, type StreamId, StreamValue, type TrimArgs, ZERO_ID } from "../../store/stream.ts";
import { parseI64 } from "../../core/args.ts";
import { CommandError, fail, NOT_INTEGER, SYNTAX, wrongArity } from "../../core/errors.ts";
import { readStream, signalModified, writeStream } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { INVALID_ID, parseStreamId, rangeEndArg, rangeStartArg, strictIdArg } from "./ids.ts";
import { groupHandlers } from "./groups.ts";
import { infoHandlers } from "./info.ts";
import { readHandlers, signalStreamReady } from "./read.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

const STREAM_LISTPACK_MAX_SIZE = 1 << 30;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** stream-node-max-entries / stream-node-max-bytes as configured now. */
function nodeLimits(c: Client): NodeLimits {
  const config = c.server.config;
  return { maxEntries: config.num("stream-node-max-entries"), maxBytes: config.num("stream-node-max-bytes") };
}

/** A long long argument (getLongLongFromObjectOrReply). */
export function longLongArg(text: string, error = NOT_INTEGER): number | bigint {
  const v = parseI64(text);
  if (v === null) throw new CommandError(error);
  return v;
}

/** One entry as Redis replies it: [id, [field, value, ...]]. */
export function replyEntry(c: Client, e: StreamEntry): void {
  const r = c.reply;
  r.array(2);
  r.bulk(formatId(e.id));
  const f = e.fields;
  r.array(f.length);
  for (let i = 0; i < f.length; i++) r.bulk(f[i]!);
}

export function replyEntries(c: Client, entries: StreamEntry[]): void {
  c.reply.array(entries.length);
  for (const e of entries) replyEntry(c, e);
}

/** Tells a snapshot in progress that the stream under `key` is about to change in place. */
export function beforeStreamChange(c: Client, key: string): void {
  if (c.db.snapshot !== null) c.db.beforeChange(key);
}

function isOpt(arg: string, lower: string): boolean {
  return arg.length === lower.length && arg.toLowerCase() === lower;
}

// ---------------------------------------------------------------------------------------------
// XADD / XTRIM arguments (streamParseAddOrTrimArgsOrReply)

interface AddTrimArgs extends TrimArgs {
  /** "none" when no MAXLEN/MINID was given. */
  given: boolean;
  /** Index of the MAXLEN count / MINID id argument (for the propagated rewrite). */
  argIndex: number;
  id: StreamId;
  idGiven: boolean;
  seqGiven: boolean;
  noMkStream: boolean;
}

/** Parses the options; returns them with the index of the ID argument (XADD). */
function parseAddOrTrimArgs(c: Client, argv: string[], xadd: boolean): { args: AddTrimArgs; idPos: number } {
  const args: AddTrimArgs = {
    strategy: "maxlen",
    maxLen: 0,
    minId: ZERO_ID,
    approx: false,
    limit: 0,
    given: false,
    argIndex: 0,
    id: ZERO_ID,
    idGiven: false,
    seqGiven: true,
    noMkStream: false,
  };
  let limitGiven = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const moreArgs = argv.length - 1 - i;
    const opt = argv[i]!;
    if (xadd && opt === "*") break;
    if (moreArgs && (isOpt(opt, "maxlen") || isOpt(opt, "minid"))) {
      const maxlen = opt.length === 6;
      if (args.given) fail("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
      args.approx = false;
      const next = argv[i + 1]!;
      if (moreArgs >= 2 && next === "~") {
        args.approx = true;
        i++;
      } else if (moreArgs >= 2 && next === "=") {
        i++;
      }
      if (maxlen) {
        const v = longLongArg(argv[i + 1]!);
        if (v < 0) fail("ERR The MAXLEN argument must be >= 0.");
        args.maxLen = v;
        args.strategy = "maxlen";
      } else {
        args.minId = strictIdArg(argv[i + 1]!, 0);
        args.strategy = "minid";
      }
      i++;
      args.given = true;
      args.argIndex = i;
    } else if (moreArgs && isOpt(opt, "limit")) {
      const v = longLongArg(argv[i + 1]!);
      if (v < 0) fail("ERR The LIMIT argument must be >= 0.");
      args.limit = Number(v);
      limitGiven = true;
      i++;
    } else if (xadd && isOpt(opt, "nomkstream")) {
      args.noMkStream = true;
    } else if (xadd) {
      const p = parseStreamId(opt, 0, true, true);
      if (p === null) fail(INVALID_ID);
      args.id = p.id;
      args.seqGiven = p.seqGiven;
      args.idGiven = true;
      break;
    } else {
      fail(SYNTAX);
    }
  }
  if (args.limit && !args.given) fail("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
  if (!xadd && !args.given) fail("ERR syntax error, XTRIM must be called with a trimming strategy");
  if (c.isMaster) {
    // The master rewrote approximate trimming as exact: never limit the work here.
    args.limit = 0;
  } else if (limitGiven) {
    if (!args.approx) fail("ERR syntax error, LIMIT cannot be used without the special ~ option");
  } else if (args.approx) {
    let limit = 100 * c.server.config.num("stream-node-max-entries");
    if (limit <= 0) limit = 10000;
    if (limit > 1000000) limit = 1000000;
    args.limit = limit;
  } else {
    args.limit = 0;
  }
  return { args, idPos: i };
}

/** The propagated form of approximate trimming: "= <exact effective argument>". */
function rewriteTrim(argv: string[], s: StreamValue, args: AddTrimArgs): void {
  argv[args.argIndex - 1] = "=";
  argv[args.argIndex] = args.strategy === "maxlen" ? String(s.length) : formatId(s.firstEdgeIdWithTombstones());
}

// ---------------------------------------------------------------------------------------------
// XADD

/** The ID of the new entry as streamAppendItem generates it ("exhausted" for "<ms>-*" at the last sequence). */
function newEntryId(s: StreamValue, args: AddTrimArgs, now: number): StreamId | "exhausted" {
  const last = s.lastId;
  if (args.idGiven) {
    if (args.seqGiven) return args.id;
    if (last.ms === args.id.ms) return last.seq === MAX_U64 ? "exhausted" : incrId(last)!;
    return args.id;
  }
  // streamNextID: the clock, or the next sequence when the clock has not moved past the last ID.
  if (now > last.ms) return { ms: now, seq: 0 };
  return incrId(last) ?? ZERO_ID;
}

function xadd(c: Client, argv: string[]): void {
  const { args, idPos } = parseAddOrTrimArgs(c, argv, true);
  const fieldPos = idPos + 1;
  const n = argv.length - fieldPos;
  if (n < 2 || n % 2 === 1) fail(wrongArity("xadd"));
  if (args.idGiven && args.seqGiven && args.id.ms === 0 && args.id.seq === 0) fail("ERR The ID specified in XADD must be greater than 0-0");
  const key = argv[1]!;
  let s = writeStream(c, key);
  if (s === undefined) {
    if (args.noMkStream) {
      c.reply.nullBulk();
      return;
    }
    s = new StreamValue();
    c.db.set(key, s);
  } else {
    beforeStreamChange(c, key);
  }
  if (s.lastId.ms === MAX_U64 && s.lastId.seq === MAX_U64) fail("ERR The stream has exhausted the last possible ID, unable to add more items");
  const id = newEntryId(s, args, Date.now());
  // Redis reports the exhausted sequence of "<ms>-*" through a stale errno: not EDOM.
  if (id === "exhausted") fail("ERR Elements are too large to be stored");
  if (compareIds(id, s.lastId) <= 0) fail("ERR The ID specified in XADD is equal or smaller than the target stream top item");
  const fields = argv.slice(fieldPos);
  let total = 0;
  for (let i = 0; i < fields.length; i++) total += fields[i]!.length;
  if (total > STREAM_LISTPACK_MAX_SIZE) fail("ERR Elements are too large to be stored");
  s.add(id, fields, nodeLimits(c));
  const idText = formatId(id);
  c.reply.bulk(idText);
  signalModified(c, key);
  notifyKeyspaceEvent(c, NotifyClass.Stream, "xadd", key);
  let propagated: string[] | null = null;
  if (args.given) {
    if (s.trim(args)) notifyKeyspaceEvent(c, NotifyClass.Stream, "xtrim", key);
    if (args.approx) {
      propagated = argv.slice();
      rewriteTrim(propagated, s, args);
    }
  }
  if (!args.idGiven || !args.seqGiven) {
    propagated ??= argv.slice();
    propagated[idPos] = idText;
  }
  if (propagated !== null) c.propagateAs = propagated;
  s.readyVersion++;
  signalStreamReady(c, key);
}

// ---------------------------------------------------------------------------------------------
// XTRIM

function xtrim(c: Client, argv: string[]): void {
  const { args } = parseAddOrTrimArgs(c, argv, false);
  const key = argv[1]!;
  const s = writeStream(c, key);
  if (s === undefined) {
    c.reply.int(0);
    return;
  }
  beforeStreamChange(c, key);
  const deleted = s.trim(args);
  if (deleted) {
    notifyKeyspaceEvent(c, NotifyClass.Stream, "xtrim", key);
    if (args.approx) {
      const propagated = argv.slice();
      rewriteTrim(propagated, s, args);
      c.propagateAs = propagated;
    }
    signalModified(c, key, c.db, deleted);
  }
  c.reply.int(deleted);
}

// ---------------------------------------------------------------------------------------------
// XRANGE / XREVRANGE / XLEN

function xrangeGeneric(c: Client, argv: string[], rev: boolean): void {
  const start = rangeStartArg(rev ? argv[3]! : argv[2]!);
  const end = rangeEndArg(rev ? argv[2]! : argv[3]!);
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (isOpt(argv[j]!, "count") && argv.length - j - 1 >= 1) {
      const v = longLongArg(argv[j + 1]!);
      count = v < 0 ? 0 : Number(v);
      j++;
    } else {
      fail(SYNTAX);
    }
  }
  const s = readStream(c, argv[1]!);
  if (s === undefined) {
    c.reply.array(0);
    return;
  }
  if (count === 0) {
    c.reply.nullArray();
    return;
  }
  replyEntries(c, s.range(start, end, count === -1 ? 0 : count, rev));
}

function xlen(c: Client, argv: string[]): void {
  const s = readStream(c, argv[1]!);
  c.reply.int(s === undefined ? 0 : s.length);
}

// ---------------------------------------------------------------------------------------------
// XDEL

function xdel(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const s = writeStream(c, key);
  if (s === undefined) {
    c.reply.int(0);
    return;
  }
  const ids: StreamId[] = [];
  for (let j = 2; j < argv.length; j++) ids.push(strictIdArg(argv[j]!));
  beforeStreamChange(c, key);
  let deleted = 0;
  let firstEntry = false;
  for (const id of ids) {
    if (!s.deleteEntry(id)) continue;
    if (compareIds(id, s.firstId) === 0) firstEntry = true;
    if (compareIds(id, s.maxDeletedId) > 0) s.maxDeletedId = id;
    deleted++;
  }
  if (deleted) {
    if (s.length === 0) s.firstId = ZERO_ID;
    else if (firstEntry) s.firstId = s.firstLiveId() ?? MAX_ID;
    signalModified(c, key, c.db, deleted);
    notifyKeyspaceEvent(c, NotifyClass.Stream, "xdel", key);
  }
  c.reply.int(deleted);
}

// ---------------------------------------------------------------------------------------------
// XSETID

function xsetid(c: Client, argv: string[]): void {
  const id = strictIdArg(argv[2]!);
  let maxXdel: StreamId = ZERO_ID;
  let entriesAdded: number | bigint = -1;
  for (let i = 3; i < argv.length; i++) {
    const moreArgs = argv.length - 1 - i;
    const opt = argv[i]!;
    if (moreArgs && isOpt(opt, "entriesadded")) {
      entriesAdded = longLongArg(argv[i + 1]!);
      if (entriesAdded < 0) fail("ERR entries_added must be positive");
      i++;
    } else if (moreArgs && isOpt(opt, "maxdeletedid")) {
      maxXdel = strictIdArg(argv[i + 1]!);
      if (compareIds(id, maxXdel) < 0) fail("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
      i++;
    } else {
      fail(SYNTAX);
    }
  }
  const key = argv[1]!;
  const s = writeStream(c, key);
  if (s === undefined) fail("ERR no such key");
  if (s.length > 0) {
    if (compareIds(id, s.lastLiveId()!) < 0) fail("ERR The ID specified in XSETID is smaller than the target stream top item");
    if (entriesAdded !== -1 && s.length > entriesAdded) fail("ERR The entries_added specified in XSETID is smaller than the target stream length");
  }
  beforeStreamChange(c, key);
  s.lastId = id;
  if (entriesAdded !== -1) s.entriesAdded = entriesAdded;
  if (!(maxXdel.ms === 0 && maxXdel.seq === 0)) s.maxDeletedId = maxXdel;
  c.reply.ok();
  // Like Redis: a change of the counters only, WATCH is not touched.
  c.server.dirty++;
  notifyKeyspaceEvent(c, NotifyClass.Stream, "xsetid", key);
}

export const handlers: HandlerMap = {
  xadd,
  xtrim,
  xrange: (c, argv) => xrangeGeneric(c, argv, false),
  xrevrange: (c, argv) => xrangeGeneric(c, argv, true),
  xlen,
  xdel,
  xsetid,
  ...groupHandlers,
  ...readHandlers,
  ...infoHandlers,
};

