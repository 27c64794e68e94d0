// Generic key commands (Redis 7.0 db.c, expire.c, object.c, sort.c): deletion and existence,
// TYPE, the TTL and EXPIRE families, KEYS / SCAN / RANDOMKEY, RENAME / MOVE / COPY, SWAPDB,
// FLUSHDB / FLUSHALL, OBJECT, TOUCH and SORT.
//
// Expiry follows Redis: a master deletes a key whose new expire time is already past (and
// propagates DEL, or UNLINK with lazyfree-lazy-expire); a replica, or a server loading data,
// stores the past time and waits for its master's DEL. Relative expires propagate as
// PEXPIREAT <absolute ms> with the NX/XX/GT/LT flags kept.
//
// Not here: DUMP and RESTORE, which need the RDB value codec (src/rdb/).

import type { Client } from "../../core/client.ts";
import type { Server } from "../../core/server.ts";
import { cloneValue } from "../../store/clone.ts";
import { NOT_FOUND, type Database } from "../../store/database.ts";
import { typeOf, type RedisValue } from "../../store/values.ts";
import { int32Arg } from "../../core/args.ts";
import { fail, NOT_INTEGER, SYNTAX } from "../../core/errors.ts";
import { globMatch, globMatcher } from "../../common/glob.ts";
import { flushAllSave } from "../../dataset/persistence.ts";
import { handlers as dumpHandlers } from "./dump.ts";
import { sortCommand } from "./sort.ts";
import { deleteKey, expireIfNeeded, lookupRead, lookupReadNoNotify, lookupReadSlot, lookupWrite, signalModified } from "../../core/keyspace.ts";
import { forgetStringEncoding, moveStringEncoding, noteStringEncoding, stringEncoding, stringRefcount } from "../strings/encoding.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { parseLongLong } from "../strings/parse.ts";
import { checkAlreadyExpired } from "../strings/strings.ts";
import { setWatchedWhileExpired, watchedWhileExpired } from "../../core/multi.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const SAME_OBJECT = "ERR source and destination objects are the same";
const DB_OUT_OF_RANGE = "ERR DB index is out of range";

/** getIntFromObjectOrReply (args.ts): a strict integer within int32, Redis's two errors. */
const intArg = int32Arg;

function databaseAt(c: Client, id: number): Database | undefined {
  return id >= 0 && id < c.server.dbs.length ? c.server.dbs[id] : undefined;
}


// ---------------------------------------------------------------------------------------------
// WATCH invalidation for whole-database operations (multi.c touchAllWatchedKeysInDb)

/**
 * Marks as dirty the clients watching a key of `emptied` that exists there, or that exists in
 * `replacedWith` (SWAPDB). Watched keys that exist in neither are left alone, as Redis 7.0 does.
 */
function touchWatchedKeysInDb(server: Server, emptied: Database, replacedWith: Database | null): void {
  if (server.watchedKeys.size === 0) return;
  const prefix = `${emptied.id}\0`;
  const expired = (db: Database, key: string) => !server.loading && db.isExpired(key, server.cmdTime);
  for (const [k, clients] of server.watchedKeys) {
    if (!k.startsWith(prefix)) continue;
    const key = k.slice(prefix.length);
    const existsInEmptied = emptied.has(key);
    const existsInReplacement = replacedWith !== null && replacedWith.has(key);
    if (!existsInEmptied && !existsInReplacement) continue;
    for (const client of clients) {
      // A key watched while already expired: its removal is no change, nor its replacement
      // by another expired key; an alive key replaced by an expired one counts as expired.
      if (watchedWhileExpired(client, k)) {
        if (!existsInReplacement) {
          setWatchedWhileExpired(client, k, false);
          continue;
        }
        if (expired(replacedWith!, key)) continue;
      } else if (!existsInEmptied && expired(replacedWith!, key)) {
        setWatchedWhileExpired(client, k, true);
        continue;
      }
      client.dirtyCas = true;
    }
  }
}

/** Empties a database (FLUSHDB / FLUSHALL): returns how many keys it held. */
function emptyDatabase(c: Client, db: Database): number {
  const removed = db.size;
  touchWatchedKeysInDb(c.server, db, null);
  db.clear();
  // XREADGROUP clients blocked on a stream that was here get their error (scanDatabaseForDeletedStreams).
  c.server.blocking.signalDatabase(db.id);
  return removed;
}

function parseFlushFlags(argv: string[]): void {
  if (argv.length === 1) return;
  if (argv.length === 2) {
    const opt = argv[1]!.toLowerCase();
    if (opt === "sync" || opt === "async") return;
  }
  fail(SYNTAX);
}

/** FLUSHDB / FLUSHALL are propagated even when nothing was deleted (forceCommandPropagation). */
function forcePropagation(c: Client, argv: string[]): void {
  (c.alsoPropagate ??= []).push(c.propagateAs ?? argv);
  c.preventPropagation = true;
}

// ---------------------------------------------------------------------------------------------
// Expire commands

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

function parseExpireFlags(argv: string[]): number {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    if (opt === "nx") flags |= EXPIRE_NX;
    else if (opt === "xx") flags |= EXPIRE_XX;
    else if (opt === "gt") flags |= EXPIRE_GT;
    else if (opt === "lt") flags |= EXPIRE_LT;
    else fail(`ERR Unsupported option ${argv[j]}`);
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) fail("ERR NX and XX, GT or LT options at the same time are not compatible");
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) fail("ERR GT and LT options at the same time are not compatible");
  return flags;
}

/** expireGenericCommand: `relative` adds the current time; `seconds` scales the argument. */
function expireGeneric(c: Client, argv: string[], relative: boolean, seconds: boolean, command: string): void {
  const key = argv[1]!;
  const flags = parseExpireFlags(argv);
  const parsed = parseLongLong(argv[2]!);
  if (parsed === null) fail(NOT_INTEGER);
  const invalid = `ERR invalid expire time in '${command}' command`;
  let when = BigInt(parsed);
  if (seconds) {
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) fail(invalid);
    when *= 1000n;
  }
  const basetime = relative ? BigInt(c.server.cmdTime) : 0n;
  if (when > INT64_MAX - basetime) fail(invalid);
  when += basetime;
  const whenMs = Number(when);

  if (lookupWrite(c, key) === undefined) {
    c.reply.int(0);
    return;
  }
  const db = c.db;
  if (flags) {
    const current = db.getExpire(key);
    if (flags & EXPIRE_NX && current !== undefined) return c.reply.int(0);
    if (flags & EXPIRE_XX && current === undefined) return c.reply.int(0);
    if (flags & EXPIRE_GT && (current === undefined || whenMs <= current)) return c.reply.int(0);
    if (flags & EXPIRE_LT && current !== undefined && whenMs >= current) return c.reply.int(0);
  }
  if (checkAlreadyExpired(c, whenMs)) {
    deleteKey(c, key);
    forgetStringEncoding(db, key);
    c.propagateAs = [c.server.config.bool("lazyfree-lazy-expire") ? "UNLINK" : "DEL", key];
    notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
    c.reply.int(1);
    return;
  }
  db.setExpire(key, whenMs);
  c.reply.int(1);
  if (relative || seconds) {
    const out = argv.slice();
    out[0] = "PEXPIREAT";
    out[2] = when.toString();
    c.propagateAs = out;
  }
  signalModified(c, key);
  notifyKeyspaceEvent(c, NotifyClass.Generic, "expire", key);
}

/** TTL / PTTL / EXPIRETIME / PEXPIRETIME. */
function ttlGeneric(c: Client, key: string, ms: boolean, absolute: boolean): void {
  const slot = lookupReadSlot(c, key, c.db, false);
  if (slot === NOT_FOUND) {
    c.reply.int(-2);
    return;
  }
  const expire = c.db.expireAt(slot);
  if (expire < 0) {
    c.reply.int(-1);
    return;
  }
  let ttl = absolute ? expire : expire - Date.now();
  if (ttl < 0) ttl = 0;
  c.reply.int(ms ? ttl : Math.floor((ttl + 500) / 1000));
}

// ---------------------------------------------------------------------------------------------
// RANDOMKEY: a random used slot of the keyspace's table (uniform over keys; the table is at
// least 1/8 full, so a few draws at most).

/** dbRandomKey: skips (and on a master deletes) expired keys; bounded tries on a replica. */
function randomKey(c: Client, db: Database): string | undefined {
  const allVolatile = db.size === db.expiresSize;
  let maxtries = 100;
  for (;;) {
    const key = db.randomKey();
    if (key === undefined) return undefined;
    if (db.expiresSize !== 0 && db.getExpire(key) !== undefined) {
      if (allVolatile && c.server.replication.masterHost !== null && --maxtries === 0) return key;
      if (expireIfNeeded(c, db, key)) continue;
    }
    return key;
  }
}

// ---------------------------------------------------------------------------------------------
// SCAN

/** parseScanCursorOrReply: strtoul's rules (optional sign, "-1" wraps, "" is 0). */
function parseScanCursor(text: string): bigint {
  const m = /^([+-]?)([0-9]*)$/.exec(text);
  if (m === null || (m[2] === "" && m[1] !== "")) fail("ERR invalid cursor");
  let v = m[2] === "" ? 0n : BigInt(m[2]!);
  if (v > 18446744073709551615n) fail("ERR invalid cursor");
  if (m[1] === "-" && v !== 0n) v = 18446744073709551616n - v;
  return v;
}

function scan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[1]!);
  let count = 10;
  let pattern: string | null = null;
  let typeName: string | null = null;
  for (let i = 2; i < argv.length; ) {
    const opt = argv[i]!.toLowerCase();
    const left = argv.length - i;
    if (opt === "count" && left >= 2) {
      const v = parseLongLong(argv[i + 1]!);
      if (v === null) fail(NOT_INTEGER);
      if (v < 1) fail(SYNTAX);
      count = Number(v);
      i += 2;
    } else if (opt === "match" && left >= 2) {
      pattern = argv[i + 1]!;
      if (pattern === "*") pattern = null;
      i += 2;
    } else if (opt === "type" && left >= 2) {
      typeName = argv[i + 1]!.toLowerCase();
      i += 2;
    } else {
      fail(SYNTAX);
    }
  }
  const db = c.db;
  // The table's cursor has at most 32 significant bits: the bits above never select a bucket
  // (Redis's increment sets every bit outside the mask), so dropping them changes nothing.
  const keys: string[] = [];
  const next = db.scan(Number(cursor & 0xffffffffn), count, keys);
  const out: string[] = [];
  for (const key of keys) {
    if (pattern !== null && !globMatch(pattern, key)) continue;
    if (typeName !== null) {
      const slot = lookupReadSlot(c, key, db, false);
      if ((slot === NOT_FOUND ? "none" : db.typeAt(slot).toLowerCase()) !== typeName) continue;
    }
    if (expireIfNeeded(c, db, key)) continue;
    out.push(key);
  }
  c.reply.array(2);
  c.reply.bulk(String(next));
  c.reply.bulkArray(out);
}

// ---------------------------------------------------------------------------------------------
// RENAME / MOVE / COPY

function renameGeneric(c: Client, argv: string[], nx: boolean): void {
  const src = argv[1]!;
  const dst = argv[2]!;
  const value = lookupWrite(c, src);
  if (value === undefined) fail("ERR no such key");
  if (src === dst) {
    if (nx) c.reply.int(0);
    else c.reply.ok();
    return;
  }
  const db = c.db;
  const expire = db.getExpire(src);
  if (lookupWrite(c, dst) !== undefined) {
    if (nx) {
      c.reply.int(0);
      return;
    }
    db.delete(dst);
  }
  db.setPersistent(dst, value);
  if (expire !== undefined) db.setExpire(dst, expire);
  db.delete(src);
  moveStringEncoding(db, src, db, dst);
  c.server.signalModifiedKey(db, src);
  signalModified(c, dst);
  notifyKeyspaceEvent(c, NotifyClass.Generic, "rename_from", src);
  notifyKeyspaceEvent(c, NotifyClass.Generic, "rename_to", dst);
  if (nx) c.reply.int(1);
  else c.reply.ok();
}

function move(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const src = c.db;
  const dst = databaseAt(c, intArg(argv[2]!));
  if (dst === undefined) fail(DB_OUT_OF_RANGE);
  if (src === dst) fail(SAME_OBJECT);
  const value = lookupWrite(c, key);
  if (value === undefined) {
    c.reply.int(0);
    return;
  }
  const expire = src.getExpire(key);
  if (lookupWrite(c, key, dst) !== undefined) {
    c.reply.int(0);
    return;
  }
  dst.setPersistent(key, value);
  if (expire !== undefined) dst.setExpire(key, expire);
  src.delete(key);
  moveStringEncoding(src, key, dst, key);
  c.server.signalModifiedKey(src, key);
  signalModified(c, key, dst);
  notifyKeyspaceEvent(c, NotifyClass.Generic, "move_from", key, src.id);
  notifyKeyspaceEvent(c, NotifyClass.Generic, "move_to", key, dst.id);
  c.reply.int(1);
}

function copy(c: Client, argv: string[]): void {
  const src = c.db;
  let dst = c.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    if (opt === "replace") replace = true;
    else if (opt === "db" && j + 1 < argv.length) {
      const target = databaseAt(c, intArg(argv[j + 1]!));
      if (target === undefined) fail(DB_OUT_OF_RANGE);
      dst = target;
      j++;
    } else fail(SYNTAX);
  }
  const key = argv[1]!;
  const newkey = argv[2]!;
  if (src === dst && key === newkey) fail(SAME_OBJECT);
  const value = lookupRead(c, key);
  if (value === undefined) {
    c.reply.int(0);
    return;
  }
  const expire = src.getExpire(key);
  let remove = false;
  if (lookupWrite(c, newkey, dst) !== undefined) {
    if (!replace) {
      c.reply.int(0);
      return;
    }
    remove = true;
  }
  const copied = cloneValue(value);
  if (remove) dst.delete(newkey);
  dst.setPersistent(newkey, copied);
  if (expire !== undefined) dst.setExpire(newkey, expire);
  if (typeof copied === "string") noteStringEncoding(dst, newkey, copied, stringEncoding(src, key, copied), false);
  signalModified(c, newkey, dst);
  notifyKeyspaceEvent(c, NotifyClass.Generic, "copy_to", newkey, dst.id);
  c.reply.int(1);
}

// ---------------------------------------------------------------------------------------------
// OBJECT

const OBJECT_HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Prints this help.",
];

/** OBJECT ENCODING's answer for a value (also DEBUG OBJECT's encoding). */
export function objectEncodingOf(db: Database, key: string, v: RedisValue): string {
  if (typeof v === "string") return stringEncoding(db, key, v);
  const enc = (v as { encoding?: unknown }).encoding;
  if (typeof enc === "string") return enc;
  return typeOf(v) === "stream" ? "stream" : "raw";
}

// ---------------------------------------------------------------------------------------------
// Handlers

function del(c: Client, argv: string[]): void {
  const db = c.db;
  let deleted = 0;
  for (let j = 1; j < argv.length; j++) {
    const key = argv[j]!;
    if (db.expiresSize !== 0) expireIfNeeded(c, db, key);
    if (deleteKey(c, key, db)) {
      forgetStringEncoding(db, key);
      notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
      deleted++;
    }
  }
  c.reply.int(deleted);
}

export const handlers: HandlerMap = {
  // DUMP, RESTORE: keys-dump.ts.
  ...dumpHandlers,
  del,
  unlink: del,

  exists(c, argv) {
    let count = 0;
    for (let j = 1; j < argv.length; j++) if (lookupReadSlot(c, argv[j]!, c.db, false) !== NOT_FOUND) count++;
    c.reply.int(count);
  },

  touch(c, argv) {
    let count = 0;
    for (let j = 1; j < argv.length; j++) if (lookupReadSlot(c, argv[j]!) !== NOT_FOUND) count++;
    c.reply.int(count);
  },

  type(c, argv) {
    const slot = lookupReadSlot(c, argv[1]!, c.db, false);
    c.reply.simple(slot === NOT_FOUND ? "none" : c.db.typeAt(slot));
  },

  ttl(c, argv) {
    ttlGeneric(c, argv[1]!, false, false);
  },
  pttl(c, argv) {
    ttlGeneric(c, argv[1]!, true, false);
  },
  expiretime(c, argv) {
    ttlGeneric(c, argv[1]!, false, true);
  },
  pexpiretime(c, argv) {
    ttlGeneric(c, argv[1]!, true, true);
  },

  expire(c, argv) {
    expireGeneric(c, argv, true, true, "expire");
  },
  pexpire(c, argv) {
    expireGeneric(c, argv, true, false, "pexpire");
  },
  expireat(c, argv) {
    expireGeneric(c, argv, false, true, "expireat");
  },
  pexpireat(c, argv) {
    expireGeneric(c, argv, false, false, "pexpireat");
  },

  persist(c, argv) {
    const key = argv[1]!;
    if (lookupWrite(c, key) !== undefined && c.db.getExpire(key) !== undefined) {
      c.db.removeExpire(key);
      signalModified(c, key);
      notifyKeyspaceEvent(c, NotifyClass.Generic, "persist", key);
      c.reply.int(1);
    } else {
      c.reply.int(0);
    }
  },

  keys(c, argv) {
    // Like Redis, one pass over the whole database (KEYS blocks the server while it runs):
    // a plain loop over the keyspace's slots with a matcher compiled once, each key written to
    // the reply as soon as it matched, while its bytes are still in the CPU's cache (reading
    // every key again afterwards costs a cache miss each on a big keyspace); the array's
    // length goes in front at the end (Redis's deferred length).
    const pattern = argv[1]!;
    const db = c.db;
    const match = pattern === "*" ? null : globMatcher(pattern);
    // Redis's keyIsExpired: logically expired keys are left out (none while loading).
    const checkExpiry = db.expiresSize !== 0 && !c.server.loading;
    const now = c.server.cmdTime;
    const reply = c.reply;
    const mark = reply.beginDeferredArray();
    let count = 0;
    for (let s = db.nextSlot(0); s !== NOT_FOUND; s = db.nextSlot(s + 1)) {
      const key = db.keyAt(s);
      if (match !== null && !match(key)) continue;
      if (checkExpiry) {
        const when = db.expireAt(s);
        if (when !== -1 && now > when) continue;
      }
      reply.bulk(key);
      count++;
    }
    reply.endDeferredArray(mark, count);
  },

  scan,

  randomkey(c) {
    const key = randomKey(c, c.db);
    if (key === undefined) c.reply.nullBulk();
    else c.reply.bulk(key);
  },

  rename(c, argv) {
    renameGeneric(c, argv, false);
  },
  renamenx(c, argv) {
    renameGeneric(c, argv, true);
  },

  move,
  copy,

  swapdb(c, argv) {
    const id1 = intArg(argv[1]!, "ERR invalid first DB index");
    const id2 = intArg(argv[2]!, "ERR invalid second DB index");
    const db1 = databaseAt(c, id1);
    const db2 = databaseAt(c, id2);
    if (db1 === undefined || db2 === undefined) fail(DB_OUT_OF_RANGE);
    if (db1 !== db2) {
      touchWatchedKeysInDb(c.server, db1, db2);
      touchWatchedKeysInDb(c.server, db2, db1);
      db1.swapContents(db2);
      // Clients blocked on keys of either database may be servable now (scanDatabaseForReadyKeys).
      c.server.blocking.signalDatabase(id1);
      c.server.blocking.signalDatabase(id2);
    }
    c.server.dirty++;
    c.reply.ok();
  },

  flushdb(c, argv) {
    parseFlushFlags(argv);
    c.server.dirty += emptyDatabase(c, c.db);
    // Cached keys are not per database: every tracking client drops everything.
    c.server.tracking.invalidateAll();
    forcePropagation(c, argv);
    c.reply.ok();
  },

  flushall(c, argv) {
    parseFlushFlags(argv);
    let removed = 0;
    for (const db of c.server.dbs) removed += emptyDatabase(c, db);
    c.server.dirty += removed;
    c.server.tracking.invalidateAll();
    // As Redis: stops a BGSAVE, and saves the empty dataset when save points are configured.
    flushAllSave(c.server);
    forcePropagation(c, argv);
    c.reply.ok();
  },

  "object|help"(c) {
    c.reply.array(OBJECT_HELP.length);
    for (const line of OBJECT_HELP) c.reply.simple(line);
  },

  "object|encoding"(c, argv) {
    const key = argv[2]!;
    const v = lookupReadNoNotify(c, key);
    if (v === undefined) c.reply.nullBulk();
    else c.reply.bulk(objectEncodingOf(c.db, key, v));
  },

  "object|refcount"(c, argv) {
    const key = argv[2]!;
    const v = lookupReadNoNotify(c, key);
    if (v === undefined) c.reply.nullBulk();
    else c.reply.int(typeof v === "string" ? stringRefcount(c, c.db, key, v) : 1);
  },

  "object|idletime"(c, argv) {
    const v = lookupReadNoNotify(c, argv[2]!);
    if (v === undefined) return c.reply.nullBulk();
    if (c.db.clock.lfu) {
      fail("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    const db = c.db;
    c.reply.int(Math.floor(db.clock.idleMs(db.ks.lruAt(db.find(argv[2]!))) / 1000));
  },

  "object|freq"(c, argv) {
    const v = lookupReadNoNotify(c, argv[2]!);
    if (v === undefined) return c.reply.nullBulk();
    if (!c.db.clock.lfu) {
      fail("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    const db = c.db;
    c.reply.int(db.clock.lfuCounter(db.ks.lruAt(db.find(argv[2]!))));
  },

  sort(c, argv) {
    sortCommand(c, argv, false);
  },

  sort_ro(c, argv) {
    sortCommand(c, argv, true);
  },
};
