// String commands (Redis 7.0 t_string.c): GET/SET and their variants, MSET/MGET, APPEND,
// SETRANGE/GETRANGE, the INCR family, INCRBYFLOAT, GETEX/GETDEL/GETSET and LCS.
//
// Strings are latin1 JS strings (one char per byte). Every argument is validated before data is
// touched, in Redis's order (so the same error wins). Commands whose effect depends on the
// time or on floating point are propagated in Redis's deterministic form (c.propagateAs):
// SET with an expire as `SET k v PXAT <ms>`, GETEX as PEXPIREAT / PERSIST / DEL, GETDEL as
// DEL, GETSET as SET, INCRBYFLOAT as `SET k <result> KEEPTTL`.

import { replicationOf } from "../../replication/replication.ts";
import type { Client } from "../../core/client.ts";
import { fail, NOT_INTEGER, SYNTAX, WRONGTYPE, wrongArity } from "../../core/errors.ts";
import { deleteKey, lookupRead, lookupReadSlot, lookupWrite, readString, setKey, signalModified, writeString } from "../../core/keyspace.ts";
import { NOT_FOUND, PREFETCH_MAX } from "../../store/keyspace/keyspace-index.ts";
import { forgetStringEncoding, noteStringEncoding } from "./encoding.ts";
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from "./longdouble.ts";
import { lcsCommand } from "./lcs.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { parseLongLong } from "./parse.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

/** getLongLongFromObjectOrReply: a strict int64 (string2ll) or "value is not an integer...". */
function longLongArg(text: string): number | bigint {
  const v = parseLongLong(text);
  if (v === null) fail(NOT_INTEGER);
  return v;
}

/** checkStringLength: refuses results past proto-max-bulk-len (our master is always obeyed). */
function checkStringLength(c: Client, size: number, append: number): void {
  if (c.isMaster) return;
  if (size + append > c.server.config.num("proto-max-bulk-len")) fail(STRING_TOO_LONG);
}

/** The "already expired" rule of expire.c: only a master deletes instead of storing a past expiry. */
export function checkAlreadyExpired(c: Client, when: number): boolean {
  return when <= c.server.cmdTime && !c.server.loading && c.server.replication.masterHost === null;
}

// ---------------------------------------------------------------------------------------------
// SET and its options (parseExtendedStringArgumentsOrReply / getExpireMillisecondsOrReply)

const OBJ_SET_NX = 1 << 0;
const OBJ_SET_XX = 1 << 1;
const OBJ_EX = 1 << 2;
const OBJ_PX = 1 << 3;
const OBJ_KEEPTTL = 1 << 4;
const OBJ_SET_GET = 1 << 5;
const OBJ_EXAT = 1 << 6;
const OBJ_PXAT = 1 << 7;
const OBJ_PERSIST = 1 << 8;
const ANY_EXPIRE = OBJ_EX | OBJ_PX | OBJ_EXAT | OBJ_PXAT;

interface StringOptions {
  flags: number;
  /** The expire argument as given, or null. */
  expire: string | null;
  milliseconds: boolean;
}

function parseStringOptions(argv: string[], forSet: boolean): StringOptions {
  let flags = 0;
  let expire: string | null = null;
  let milliseconds = false;
  for (let j = forSet ? 3 : 2; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const hasNext = j < argv.length - 1;
    if (opt === "nx" && !(flags & OBJ_SET_XX) && forSet) {
      flags |= OBJ_SET_NX;
    } else if (opt === "xx" && !(flags & OBJ_SET_NX) && forSet) {
      flags |= OBJ_SET_XX;
    } else if (opt === "get" && forSet) {
      flags |= OBJ_SET_GET;
    } else if (opt === "keepttl" && !(flags & (OBJ_PERSIST | ANY_EXPIRE)) && forSet) {
      flags |= OBJ_KEEPTTL;
    } else if (opt === "persist" && !forSet && !(flags & (ANY_EXPIRE | OBJ_KEEPTTL))) {
      flags |= OBJ_PERSIST;
    } else if (opt === "ex" && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EXAT | OBJ_PX | OBJ_PXAT)) && hasNext) {
      flags |= OBJ_EX;
      expire = argv[++j]!;
    } else if (opt === "px" && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_EXAT | OBJ_PXAT)) && hasNext) {
      flags |= OBJ_PX;
      milliseconds = true;
      expire = argv[++j]!;
    } else if (opt === "exat" && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_PX | OBJ_PXAT)) && hasNext) {
      flags |= OBJ_EXAT;
      expire = argv[++j]!;
    } else if (opt === "pxat" && !(flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_EXAT | OBJ_PX)) && hasNext) {
      flags |= OBJ_PXAT;
      milliseconds = true;
      expire = argv[++j]!;
    } else {
      fail(SYNTAX);
    }
  }
  return { flags, expire, milliseconds };
}

/**
 * The absolute expire time in ms for an EX/PX/EXAT/PXAT argument, with Redis's checks: a
 * positive integer, no overflow of the unit conversion or of the addition of the current time.
 * Returned as a decimal string (exact int64, for propagation) and a number (for the expiry table).
 */
function expireMilliseconds(c: Client, text: string, flags: number, milliseconds: boolean, command: string): { ms: number; text: string } {
  const parsed = longLongArg(text);
  const invalid = `ERR invalid expire time in '${command}' command`;
  let v = BigInt(parsed);
  if (v <= 0n || (!milliseconds && v > INT64_MAX / 1000n)) fail(invalid);
  if (!milliseconds) v *= 1000n;
  if (flags & (OBJ_EX | OBJ_PX)) v += BigInt(c.server.cmdTime);
  if (v > INT64_MAX) fail(invalid);
  return { ms: Number(v), text: v.toString() };
}

/** getGenericCommand: replies with the string (or null); throws WRONGTYPE. */
function replyGet(c: Client, key: string): string | undefined {
  const v = readString(c, key);
  c.reply.bulkOrNull(v);
  return v;
}

function setGeneric(c: Client, argv: string[], key: string, value: string, opts: StringOptions, okReply: (() => void) | null, abortReply: (() => void) | null, command: string): void {
  const { flags } = opts;
  let expire: { ms: number; text: string } | null = null;
  if (opts.expire !== null) expire = expireMilliseconds(c, opts.expire, flags, opts.milliseconds, command);
  if (flags & OBJ_SET_GET) replyGet(c, key);
  const found = lookupWrite(c, key) !== undefined;
  if ((flags & OBJ_SET_NX && found) || (flags & OBJ_SET_XX && !found)) {
    if (!(flags & OBJ_SET_GET)) {
      if (abortReply) abortReply();
      else c.reply.nullBulk();
    }
    return;
  }
  const db = c.db;
  setKey(c, key, value, (flags & OBJ_KEEPTTL) !== 0);
  forgetStringEncoding(db, key);
  notifyKeyspaceEvent(c, NotifyClass.String, "set", key);
  if (expire !== null) {
    db.setExpire(key, expire.ms);
    c.propagateAs = ["SET", key, value, "PXAT", expire.text];
    notifyKeyspaceEvent(c, NotifyClass.Generic, "expire", key);
  }
  if (!(flags & OBJ_SET_GET)) {
    if (okReply) okReply();
    else c.reply.ok();
  }
  if (flags & OBJ_SET_GET && expire === null) {
    // Propagated without GET (which may be repeated).
    const out: string[] = [];
    for (let j = 0; j < argv.length; j++) {
      if (j >= 3 && argv[j]!.length === 3 && argv[j]!.toLowerCase() === "get") continue;
      out.push(argv[j]!);
    }
    c.propagateAs = out;
  }
}

// ---------------------------------------------------------------------------------------------
// Integers

/** old + incr as int64, or the overflow error. */
function addInt64(old: number | bigint, incr: number | bigint): number | bigint {
  if (typeof old === "number" && typeof incr === "number") {
    const r = old + incr;
    if (Number.isSafeInteger(r)) return r;
  }
  const r = BigInt(old) + BigInt(incr);
  if (r > INT64_MAX || r < INT64_MIN) fail("ERR increment or decrement would overflow");
  return Number.isSafeInteger(Number(r)) && BigInt(Number(r)) === r ? Number(r) : r;
}

function incrDecr(c: Client, key: string, incr: number | bigint): void {
  const old = writeString(c, key);
  let value: number | bigint = 0;
  if (old !== undefined) {
    const parsed = parseLongLong(old);
    if (parsed === null) fail(NOT_INTEGER);
    value = parsed;
  }
  const result = addInt64(value, incr);
  // The TTL is kept (dbOverwrite).
  setKey(c, key, String(result), true);
  forgetStringEncoding(c.db, key);
  notifyKeyspaceEvent(c, NotifyClass.String, "incrby", key);
  c.reply.int(result);
}

function negate(v: number | bigint): number | bigint {
  if (typeof v === "number") return v === 0 ? 0 : -v;
  const r = -v;
  return Number.isSafeInteger(Number(r)) && BigInt(Number(r)) === r ? Number(r) : r;
}

// ---------------------------------------------------------------------------------------------
// Handlers

export const handlers: HandlerMap = {
  get(c, argv) {
    // The value's bytes go from its record to the reply: no string is made for it.
    const slot = lookupReadSlot(c, argv[1]!);
    if (slot === NOT_FOUND) return c.reply.nullBulk();
    const ks = c.db.ks;
    const len = ks.stringRangeAt(slot);
    if (len < 0) fail(WRONGTYPE);
    c.reply.bulkRange(ks.rangeBuffer, ks.rangeStart, len);
    ks.forgetRange();
  },

  set(c, argv) {
    // Fast path: SET k v with no options.
    if (argv.length === 3) {
      const key = argv[1]!;
      setKey(c, key, argv[2]!);
      forgetStringEncoding(c.db, key);
      notifyKeyspaceEvent(c, NotifyClass.String, "set", key);
      c.reply.ok();
      return;
    }
    const opts = parseStringOptions(argv, true);
    setGeneric(c, argv, argv[1]!, argv[2]!, opts, null, null, "set");
  },

  setnx(c, argv) {
    setGeneric(c, argv, argv[1]!, argv[2]!, { flags: OBJ_SET_NX, expire: null, milliseconds: false }, () => c.reply.int(1), () => c.reply.int(0), "setnx");
  },

  setex(c, argv) {
    setGeneric(c, argv, argv[1]!, argv[3]!, { flags: OBJ_EX, expire: argv[2]!, milliseconds: false }, null, null, "setex");
  },

  psetex(c, argv) {
    setGeneric(c, argv, argv[1]!, argv[3]!, { flags: OBJ_PX, expire: argv[2]!, milliseconds: true }, null, null, "psetex");
  },

  getex(c, argv) {
    const key = argv[1]!;
    const opts = parseStringOptions(argv, false);
    const v = lookupRead(c, key);
    if (v === undefined) {
      c.reply.nullBulk();
      return;
    }
    if (typeof v !== "string") fail(WRONGTYPE);
    let expire: { ms: number; text: string } | null = null;
    if (opts.expire !== null) expire = expireMilliseconds(c, opts.expire, opts.flags, opts.milliseconds, "getex");
    c.reply.bulk(v);
    const db = c.db;
    if (opts.flags & (OBJ_PXAT | OBJ_EXAT) && checkAlreadyExpired(c, expire!.ms)) {
      deleteKey(c, key);
      forgetStringEncoding(db, key);
      c.propagateAs = [c.server.config.bool("lazyfree-lazy-expire") ? "UNLINK" : "DEL", key];
      notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
    } else if (expire !== null) {
      db.setExpire(key, expire.ms);
      signalModified(c, key);
      c.propagateAs = ["PEXPIREAT", key, expire.text];
      notifyKeyspaceEvent(c, NotifyClass.Generic, "expire", key);
    } else if (opts.flags & OBJ_PERSIST) {
      if (db.getExpire(key) !== undefined) {
        db.removeExpire(key);
        signalModified(c, key);
        c.propagateAs = ["PERSIST", key];
        notifyKeyspaceEvent(c, NotifyClass.Generic, "persist", key);
      }
    }
  },

  getdel(c, argv) {
    const key = argv[1]!;
    replyGet(c, key);
    if (deleteKey(c, key)) {
      forgetStringEncoding(c.db, key);
      c.propagateAs = [c.server.config.bool("lazyfree-lazy-user-del") ? "UNLINK" : "DEL", key];
      notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
    }
  },

  getset(c, argv) {
    const key = argv[1]!;
    replyGet(c, key);
    setKey(c, key, argv[2]!);
    forgetStringEncoding(c.db, key);
    notifyKeyspaceEvent(c, NotifyClass.String, "set", key);
    c.propagateAs = ["SET", key, argv[2]!];
  },

  mget(c, argv) {
    c.reply.array(argv.length - 1);
    const ks = c.db.ks;
    for (let j = 1; j < argv.length; j++) {
      // The next keys read ahead together, their cache misses overlapping (KeyspaceIndex.prefetch).
      if ((j - 1) % PREFETCH_MAX === 0 && argv.length > 2) ks.prefetchStrings(argv, j);
      const slot = lookupReadSlot(c, argv[j]!);
      const len = slot === NOT_FOUND ? -1 : ks.stringRangeAt(slot);
      if (len >= 0) c.reply.bulkRange(ks.rangeBuffer, ks.rangeStart, len);
      else c.reply.nullBulk();
    }
    ks.forgetRange();
  },

  mset(c, argv) {
    if (argv.length % 2 === 0) fail(wrongArity("mset"));
    for (let j = 1; j < argv.length; j += 2) {
      setKey(c, argv[j]!, argv[j + 1]!);
      forgetStringEncoding(c.db, argv[j]!);
      notifyKeyspaceEvent(c, NotifyClass.String, "set", argv[j]!);
    }
    c.reply.ok();
  },

  msetnx(c, argv) {
    if (argv.length % 2 === 0) fail(wrongArity("msetnx"));
    for (let j = 1; j < argv.length; j += 2) {
      if (lookupWrite(c, argv[j]!) !== undefined) {
        c.reply.int(0);
        return;
      }
    }
    for (let j = 1; j < argv.length; j += 2) {
      setKey(c, argv[j]!, argv[j + 1]!);
      forgetStringEncoding(c.db, argv[j]!);
      notifyKeyspaceEvent(c, NotifyClass.String, "set", argv[j]!);
    }
    c.reply.int(1);
  },

  append(c, argv) {
    const key = argv[1]!;
    const append = argv[2]!;
    const old = writeString(c, key);
    const db = c.db;
    if (old === undefined) {
      setKey(c, key, append);
      forgetStringEncoding(db, key);
      notifyKeyspaceEvent(c, NotifyClass.String, "append", key);
      c.reply.int(append.length);
      return;
    }
    checkStringLength(c, old.length, append.length);
    const value = old + append;
    setKey(c, key, value, true);
    noteStringEncoding(db, key, value, "raw");
    notifyKeyspaceEvent(c, NotifyClass.String, "append", key);
    c.reply.int(value.length);
  },

  setrange(c, argv) {
    const key = argv[1]!;
    const value = argv[3]!;
    const offsetArg = parseLongLong(argv[2]!);
    if (offsetArg === null) fail(NOT_INTEGER);
    if (offsetArg < 0) fail("ERR offset is out of range");
    const offset = Number(offsetArg);
    const old = lookupWrite(c, key);
    const db = c.db;
    if (old === undefined) {
      if (value.length === 0) {
        c.reply.int(0);
        return;
      }
      checkStringLength(c, offset, value.length);
      const created = "\0".repeat(offset) + value;
      setKey(c, key, created);
      noteStringEncoding(db, key, created, "raw");
      notifyKeyspaceEvent(c, NotifyClass.String, "setrange", key);
      c.reply.int(created.length);
      return;
    }
    if (typeof old !== "string") fail(WRONGTYPE);
    if (value.length === 0) {
      c.reply.int(old.length);
      return;
    }
    checkStringLength(c, offset, value.length);
    let updated: string;
    if (offset >= old.length) updated = old + "\0".repeat(offset - old.length) + value;
    else updated = old.slice(0, offset) + value + old.slice(offset + value.length);
    setKey(c, key, updated, true);
    noteStringEncoding(db, key, updated, "raw");
    notifyKeyspaceEvent(c, NotifyClass.String, "setrange", key);
    c.reply.int(updated.length);
  },

  getrange(c, argv) {
    getrange(c, argv);
  },

  substr(c, argv) {
    getrange(c, argv);
  },

  strlen(c, argv) {
    const v = readString(c, argv[1]!);
    c.reply.int(v === undefined ? 0 : v.length);
  },

  incr(c, argv) {
    incrDecr(c, argv[1]!, 1);
  },

  decr(c, argv) {
    incrDecr(c, argv[1]!, -1);
  },

  incrby(c, argv) {
    const incr = longLongArg(argv[2]!);
    incrDecr(c, argv[1]!, incr);
  },

  decrby(c, argv) {
    const incr = longLongArg(argv[2]!);
    if (incr === INT64_MIN) {
      // Redis 6.2 negates it with C's wrap-around (LLONG_MIN stays LLONG_MIN) and applies it:
      // a 6.2 master propagates what it applied. 7.0 refuses it.
      if (c.isMaster && replicationOf(c.server).masterPredates70) return incrDecr(c, argv[1]!, incr);
      fail("ERR decrement would overflow");
    }
    incrDecr(c, argv[1]!, negate(incr));
  },

  incrbyfloat(c, argv) {
    const key = argv[1]!;
    const old = writeString(c, key);
    const value = old === undefined ? parseLongDouble("0") : parseLongDouble(old);
    const incr = value === null ? null : parseLongDouble(argv[2]!);
    if (value === null || incr === null) fail("ERR value is not a valid float");
    const sum = addLongDouble(value, incr);
    if (sum === null || sum.infinite) fail("ERR increment would produce NaN or Infinity");
    const text = formatLongDoubleHuman(sum);
    setKey(c, key, text, true);
    // createStringObject, not tryObjectEncoding: "3" is an embstr here.
    noteStringEncoding(c.db, key, text, text.length <= 44 ? "embstr" : "raw");
    notifyKeyspaceEvent(c, NotifyClass.String, "incrbyfloat", key);
    c.reply.bulk(text);
    c.propagateAs = ["SET", key, text, "KEEPTTL"];
  },

  lcs(c, argv) {
    lcsCommand(c, argv);
  },
};

function getrange(c: Client, argv: string[]): void {
  const startArg = longLongArg(argv[2]!);
  const endArg = longLongArg(argv[3]!);
  const v = readString(c, argv[1]!);
  if (v === undefined) {
    c.reply.bulk("");
    return;
  }
  let start = Number(startArg);
  let end = Number(endArg);
  const len = v.length;
  if (start < 0 && end < 0 && BigInt(startArg) > BigInt(endArg)) {
    c.reply.bulk("");
    return;
  }
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) c.reply.bulk("");
  else c.reply.bulk(v.slice(start, end + 1));
}
