// Hash commands (Redis 7.0 t_hash.c): HSET/HMSET/HSETNX, the reads, HDEL, HINCRBY,
// HINCRBYFLOAT (propagated as HSET with the result, as Redis does), HRANDFIELD and HSCAN
// (hashes-scan.ts).
//
// Encodings follow Redis 7.0: a new hash is a listpack; it becomes a hashtable for good when a
// field or value longer than hash-max-listpack-value is written (HSET checks every argument
// before writing any, hashTypeTryConversion) or when it grows past hash-max-listpack-entries.
// A listpack replies in insertion order, which is the order of our Map (see store/hash.ts); a
// hashtable's order is arbitrary in Redis. A listpackex (a listpack with field TTLs, Redis 7.4)
// converts the same way.
//
// Fields whose TTL passed follow Redis 7.4's rules (hashes-expiry.ts): HGET, HMGET, HEXISTS,
// HSTRLEN, HSETNX, HINCRBY* look them up through fieldState (deleted there on a master), the
// whole-hash reads skip them, HLEN and HRANDFIELD on a replica count them. HSET clears a
// field's TTL, HINCRBY and HINCRBYFLOAT keep it.
//
// Every argument is validated before data is touched, in Redis's order, so the same error wins.

import type { Client } from "../../core/client.ts";
import { HashValue } from "../../store/hash.ts";
import { fail, SYNTAX, wrongArity } from "../../core/errors.ts";
import { expireAllFieldsIfNeeded, FieldState, fieldState, hiddenField, LAZY_NO_NOTIFICATION, liveField } from "./expiry.ts";
import { hscan } from "./scan.ts";
import { AT_REST, readHash, readInPlace, signalModified, writeHash } from "../../core/keyspace.ts";
import { isHashTag } from "../../store/at-rest.ts";
import { findValueBytes, foundValue, writeEntryBytes } from "../../store/packed-entries.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from "../strings/longdouble.ts";
import { parseLongLong } from "../strings/parse.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { longArg } from "../zsets/parse.ts";

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

// ---------------------------------------------------------------------------------------------
// Encoding rules

/**
 * hashTypeLookupWriteOrCreate: the hash at `key` for writing, created empty (listpack) and
 * stored when missing. WRONGTYPE for another type.
 */
function lookupWriteOrCreate(c: Client, key: string): HashValue {
  let h = writeHash(c, key);
  if (!h) {
    h = new HashValue();
    c.db.set(key, h);
  }
  return h;
}

/** hashTypeTryConversion: a listpack becomes a hashtable if any of argv[from..to] is too long. */
function tryConversion(c: Client, h: HashValue, argv: string[], from: number, to: number): void {
  if (h.encoding === "hashtable") return;
  const maxValue = c.server.config.num("hash-max-listpack-value");
  for (let i = from; i <= to; i++) {
    if (argv[i]!.length > maxValue) {
      h.encoding = "hashtable";
      return;
    }
  }
}

/**
 * hashTypeSet: sets a field with Redis's conversions (a too long field or value, checked here
 * for the HINCRBY* paths; too many entries after an insertion). Returns whether it was new.
 * `keepTtl`: the field keeps its TTL (HASH_SET_KEEP_TTL).
 */
function hashSet(c: Client, h: HashValue, field: string, value: string, keepTtl = false): boolean {
  if (h.encoding === "hashtable") return h.setField(field, value, keepTtl);
  const config = c.server.config;
  const maxValue = config.num("hash-max-listpack-value");
  if (field.length > maxValue || value.length > maxValue) h.encoding = "hashtable";
  const created = h.setField(field, value, keepTtl);
  // Checked after updates too: a listpack left long by a lowered limit converts on any write.
  if (h.size > config.num("hash-max-listpack-entries")) h.encoding = "hashtable";
  return created;
}

// ---------------------------------------------------------------------------------------------
// Writes

/** HSET key field value [field value ...] / HMSET (same, replies OK). */
function hsetGeneric(c: Client, argv: string[], hmset: boolean): void {
  if (argv.length % 2 === 1) fail(wrongArity(hmset ? "hmset" : "hset"));
  const key = argv[1]!;
  const h = lookupWriteOrCreate(c, key);
  tryConversion(c, h, argv, 2, argv.length - 1);
  let created = 0;
  if (h.encoding !== "hashtable") {
    const maxEntries = c.server.config.num("hash-max-listpack-entries");
    for (let i = 2; i < argv.length; i += 2) {
      if (h.setField(argv[i]!, argv[i + 1]!)) created++;
      if (h.size > maxEntries) h.encoding = "hashtable";
    }
  } else {
    for (let i = 2; i < argv.length; i += 2) if (h.setField(argv[i]!, argv[i + 1]!)) created++;
  }
  if (hmset) c.reply.ok();
  else c.reply.int(created);
  signalModified(c, key, c.db, (argv.length - 2) / 2);
  notifyKeyspaceEvent(c, NotifyClass.Hash, "hset", key);
}

/**
 * The hash for a write that reads a field first (HSETNX, HINCRBY*), with that field's value as
 * the command may see it; a hash emptied by the field's expiry is created anew.
 */
function lookupWriteField(c: Client, key: string, field: string): { h: HashValue; old: string | undefined } {
  let h = lookupWriteOrCreate(c, key);
  const old = h.get(field);
  if (old === undefined || h.fieldTtlCount === 0) return { h, old };
  const state = fieldState(c, key, h, field);
  if (state === FieldState.Ok) return { h, old };
  if (state === FieldState.ExpiredHashDeleted) h = lookupWriteOrCreate(c, key);
  return { h, old: undefined };
}

function hsetnx(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const { h, old } = lookupWriteField(c, key, argv[2]!);
  if (old !== undefined) {
    c.reply.int(0);
    return;
  }
  tryConversion(c, h, argv, 2, 3);
  hashSet(c, h, argv[2]!, argv[3]!);
  c.reply.int(1);
  signalModified(c, key);
  notifyKeyspaceEvent(c, NotifyClass.Hash, "hset", key);
}

function hdel(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const h = writeHash(c, key);
  if (!h) {
    c.reply.int(0);
    return;
  }
  let deleted = 0;
  let keyRemoved = false;
  for (let j = 2; j < argv.length; j++) {
    if (h.delete(argv[j]!)) {
      deleted++;
      if (h.size === 0) {
        c.db.delete(key);
        keyRemoved = true;
        break;
      }
    }
  }
  if (deleted) {
    signalModified(c, key, c.db, deleted);
    notifyKeyspaceEvent(c, NotifyClass.Hash, "hdel", key);
    if (keyRemoved) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
  }
  c.reply.int(deleted);
}

/** HINCRBY: int64 arithmetic (bigint past 2^53), Redis's overflow check and errors. */
function hincrby(c: Client, argv: string[]): void {
  const incr = parseLongLong(argv[3]!);
  if (incr === null) fail("ERR value is not an integer or out of range");
  const key = argv[1]!;
  const field = argv[2]!;
  const { h, old } = lookupWriteField(c, key, field);
  let value: number | bigint = 0;
  if (old !== undefined) {
    const v = parseLongLong(old);
    if (v === null) fail("ERR hash value is not an integer");
    value = v;
  }
  let result: number | bigint;
  if (typeof value === "number" && typeof incr === "number" && Number.isSafeInteger(value + incr)) {
    result = value + incr;
  } else {
    const sum = BigInt(value) + BigInt(incr);
    if (sum > INT64_MAX || sum < INT64_MIN) fail("ERR increment or decrement would overflow");
    result = sum;
  }
  const text = String(result);
  hashSet(c, h, field, text, true);
  c.reply.int(result);
  signalModified(c, key);
  notifyKeyspaceEvent(c, NotifyClass.Hash, "hincrby", key);
}

function hincrbyfloat(c: Client, argv: string[]): void {
  const incr = parseLongDouble(argv[3]!);
  if (incr === null) fail("ERR value is not a valid float");
  if (incr.infinite) fail("ERR value is NaN or Infinity");
  const key = argv[1]!;
  const field = argv[2]!;
  const { h, old } = lookupWriteField(c, key, field);
  let value = parseLongDouble("0")!;
  if (old !== undefined) {
    const v = parseLongDouble(old);
    if (v === null) fail("ERR hash value is not a float");
    value = v;
  }
  const sum = addLongDouble(value, incr);
  if (sum === null || sum.infinite) fail("ERR increment would produce NaN or Infinity");
  const text = formatLongDoubleHuman(sum);
  hashSet(c, h, field, text, true);
  c.reply.bulk(text);
  signalModified(c, key);
  notifyKeyspaceEvent(c, NotifyClass.Hash, "hincrbyfloat", key);
  // Replicas get the result, never the float arithmetic (rewriteClientCommandArgument). As in
  // Redis 7.4, that HSET clears the field's TTL on the replicas while the master keeps it.
  c.propagateAs = ["HSET", key, field, text];
}

// ---------------------------------------------------------------------------------------------
// Reads

/** readHash, leaving a hash at rest in its record (core/keyspace.ts readInPlace). */
const readHashInPlace = (c: Client, key: string) => readInPlace(c, key, HashValue, isHashTag);

/** After readHashInPlace found a hash at rest: where its `field`'s value starts (length in foundValue), or -1. */
function restingValue(c: Client, field: string): number {
  const ks = c.db.ks;
  return findValueBytes(ks.rangeBuffer, ks.rangeStart, ks.rangeStart + ks.rangeLength, field);
}

/** HGETALL / HKEYS / HVALS (genericHgetallCommand). */
function hgetallGeneric(c: Client, argv: string[], keys: boolean, values: boolean): void {
  const both = keys && values;
  const h = readHashInPlace(c, argv[1]!);
  if (h === undefined) {
    if (both) c.reply.map(0);
    else c.reply.array(0);
    return;
  }
  if (h === AT_REST) {
    const ks = c.db.ks;
    if (both) c.reply.map(ks.rangeMeta);
    else c.reply.array(ks.rangeMeta);
    writeEntryBytes(ks.rangeBuffer, ks.rangeStart, ks.rangeStart + ks.rangeLength, c.reply, both ? 1 : 2, keys ? 0 : 1);
    return;
  }
  if (h.fieldTtlCount !== 0) return hgetallSkippingExpired(c, h, keys, values);
  if (both) c.reply.map(h.size);
  else c.reply.array(h.size);
  h.writeTo(c.reply, keys, values);
}

/** HGETALL / HKEYS / HVALS of a hash with field TTLs: logically expired fields are left out. */
function hgetallSkippingExpired(c: Client, h: HashValue, keys: boolean, values: boolean): void {
  const now = c.server.cmdTime;
  const n = h.size - h.expiredFieldCount(now);
  if (keys && values) c.reply.map(n);
  else c.reply.array(n);
  for (const [f, v] of h) {
    if (hiddenField(h, f, now)) continue;
    if (keys) c.reply.bulk(f);
    if (values) c.reply.bulk(v);
  }
}

// ---------------------------------------------------------------------------------------------
// HRANDFIELD

/**
 * Largest reply of random elements with repetitions we produce. Redis has no limit and would
 * grow its output buffer until memory runs out (HRANDFIELD k -9223372036854775807); we refuse.
 */
export const MAX_RANDOM_REPLY = 1 << 24;
export const RANDOM_REPLY_TOO_LARGE = `ERR count is too large (at most ${MAX_RANDOM_REPLY} random elements with repetitions)`;

/** HRANDFIELD_SUB_STRATEGY_MUL: copy-and-remove when the hash is at most 3x the count. */
const SUB_STRATEGY_MUL = 3;

function replyFieldValue(c: Client, field: string, value: string | undefined, withValues: boolean): void {
  if (withValues && c.reply.resp === 3) c.reply.array(2);
  c.reply.bulk(field);
  if (withValues) c.reply.bulk(value!);
}

function hrandfieldWithCount(c: Client, key: string, l: number, withValues: boolean): void {
  const h = readHash(c, key);
  if (!h || !expireAllFieldsIfNeeded(c, key, h)) {
    c.reply.array(0);
    return;
  }
  const size = h.size;
  let count = l >= 0 ? l : -l;
  const uniq = l >= 0;
  if (count === 0) {
    c.reply.array(0);
    return;
  }
  const flat = withValues && c.reply.resp === 2;
  // CASE 1: repetitions allowed (or a single element): independent random picks.
  if (!uniq || count === 1) {
    if (count > MAX_RANDOM_REPLY) fail(RANDOM_REPLY_TOO_LARGE);
    c.reply.array(flat ? count * 2 : count);
    while (count-- > 0) {
      const f = h.randomField();
      replyFieldValue(c, f, h.get(f), withValues);
    }
    return;
  }
  const replySize = count < size ? count : size;
  c.reply.array(flat ? replySize * 2 : replySize);
  // CASE 2: the whole hash, in its order.
  if (count >= size) {
    for (const [f, v] of h) replyFieldValue(c, f, v, withValues);
    return;
  }
  // CASE 3: copy everything, remove random fields down to `count`.
  if (count * SUB_STRATEGY_MUL > size) {
    const fields = [...h.keys()];
    let n = fields.length;
    while (n > count) {
      const i = Math.floor(Math.random() * n);
      fields[i] = fields[n - 1]!;
      n--;
    }
    for (let i = 0; i < count; i++) replyFieldValue(c, fields[i]!, h.get(fields[i]!), withValues);
    return;
  }
  // CASE 4: a big hash: random picks until `count` distinct ones.
  const picked = new Set<string>();
  while (picked.size < count) {
    const f = h.randomField();
    if (picked.has(f)) continue;
    picked.add(f);
    replyFieldValue(c, f, h.get(f), withValues);
  }
}

/**
 * A count in -LONG_MAX..LONG_MAX (getRangeLongFromObjectOrReply), checked exactly although
 * the value is then used as a double.
 */
export function randomCountArg(text: string): number {
  const l = longArg(text);
  if (l <= -9.2e18 && BigInt(text) < -9223372036854775807n) {
    fail("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
  }
  return l;
}

/** WITHVALUES / WITHSCORES counts must also lie within +-LONG_MAX/2. */
function checkHalfRange(text: string, l: number): void {
  if (Math.abs(l) < 4e18) return;
  const big = BigInt(text);
  if (big < -4611686018427387903n || big > 4611686018427387903n) fail("ERR value is out of range");
}

function hrandfield(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    const text = argv[2]!;
    const l = randomCountArg(text);
    if (argv.length > 4 || (argv.length === 4 && argv[3]!.toLowerCase() !== "withvalues")) fail(SYNTAX);
    const withValues = argv.length === 4;
    if (withValues) checkHalfRange(text, l);
    hrandfieldWithCount(c, argv[1]!, l, withValues);
    return;
  }
  const h = readHash(c, argv[1]!);
  if (!h || !expireAllFieldsIfNeeded(c, argv[1]!, h)) {
    c.reply.nullBulk();
    return;
  }
  c.reply.bulk(h.randomField());
}

// ---------------------------------------------------------------------------------------------

export const handlers: HandlerMap = {
  hset(c, argv) {
    hsetGeneric(c, argv, false);
  },
  hmset(c, argv) {
    hsetGeneric(c, argv, true);
  },
  hsetnx,
  hdel,
  hincrby,
  hincrbyfloat,

  hget(c, argv) {
    const h = readHashInPlace(c, argv[1]!);
    if (h === AT_REST) {
      const p = restingValue(c, argv[2]!);
      if (p < 0) c.reply.nullBulk();
      else c.reply.bulkRange(c.db.ks.rangeBuffer, p, foundValue.length);
      return;
    }
    // No field TTLs: the value goes from where it is held to the reply (no string made).
    if (h && h.fieldTtlCount === 0) {
      if (!h.writeValue(argv[2]!, c.reply)) c.reply.nullBulk();
      return;
    }
    c.reply.bulkOrNull(h && liveField(c, argv[1]!, h, argv[2]!));
  },

  hmget(c, argv) {
    const key = argv[1]!;
    const h = readHashInPlace(c, key);
    c.reply.array(argv.length - 2);
    if (h === AT_REST) {
      for (let i = 2; i < argv.length; i++) {
        const p = restingValue(c, argv[i]!);
        if (p < 0) c.reply.nullBulk();
        else c.reply.bulkRange(c.db.ks.rangeBuffer, p, foundValue.length);
      }
      return;
    }
    if (!h || h.fieldTtlCount === 0) {
      for (let i = 2; i < argv.length; i++) c.reply.bulkOrNull(h?.get(argv[i]!));
      return;
    }
    // One "hexpired" (and "del") event for all the fields it expired (hmgetCommand).
    let expired = 0;
    let deleted = false;
    for (let i = 2; i < argv.length; i++) {
      if (deleted) {
        c.reply.nullBulk();
        continue;
      }
      const v = h.get(argv[i]!);
      const state = v === undefined ? FieldState.Missing : fieldState(c, key, h, argv[i]!, LAZY_NO_NOTIFICATION);
      c.reply.bulkOrNull(state === FieldState.Ok ? v : undefined);
      if (state === FieldState.Expired) expired++;
      else if (state === FieldState.ExpiredHashDeleted) {
        expired++;
        deleted = true;
      }
    }
    // (A replica publishes it too for the fields it hides: Redis 7.4 does.)
    if (expired) {
      notifyKeyspaceEvent(c, NotifyClass.Hash, "hexpired", key);
      if (deleted) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
    }
  },

  hgetall(c, argv) {
    hgetallGeneric(c, argv, true, true);
  },
  hkeys(c, argv) {
    hgetallGeneric(c, argv, true, false);
  },
  hvals(c, argv) {
    hgetallGeneric(c, argv, false, true);
  },

  hlen(c, argv) {
    const h = readHashInPlace(c, argv[1]!);
    c.reply.int(h === AT_REST ? c.db.ks.rangeMeta : h ? h.size : 0);
  },

  hexists(c, argv) {
    const h = readHashInPlace(c, argv[1]!);
    if (h === AT_REST) return c.reply.int(restingValue(c, argv[2]!) >= 0 ? 1 : 0);
    c.reply.int(h && liveField(c, argv[1]!, h, argv[2]!) !== undefined ? 1 : 0);
  },

  hstrlen(c, argv) {
    const h = readHashInPlace(c, argv[1]!);
    if (h === AT_REST) return c.reply.int(restingValue(c, argv[2]!) >= 0 ? foundValue.length : 0);
    c.reply.int((h && liveField(c, argv[1]!, h, argv[2]!))?.length ?? 0);
  },

  hrandfield,
  hscan,
};
