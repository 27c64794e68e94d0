// Hash field expiration (Redis 7.4 t_hash.c): HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT,
// HPERSIST, HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME, and the rule every hash command follows for
// a field whose TTL has passed but which is still stored (hashTypeGetValue):
//
// - on a master, a command that looks the field up deletes it first: HDEL is propagated (with
//   the command, MULTI/EXEC around them), "hexpired" is published, and the key goes with its
//   last field ("del"; no DEL is propagated: the replicas delete it with the last HDEL);
// - on a replica the field stays until our master's HDEL arrives: our master's commands see it,
//   clients do not (HGET nil, HGETALL skips it), except HLEN and HRANDFIELD, which count it, as
//   a Redis 7.4 replica does. A replica never deletes a field by itself, not even for an
//   HPEXPIREAT in the past (it stores the time).
//
// Active expiry of fields (a master's cron) is in core/expire.ts.

import type { Client } from "../../core/client.ts";
import { ClientKind } from "../../core/client.ts";
import { type HashValue, NO_FIELD_TTL } from "../../store/hash.ts";
import { fail } from "../../core/errors.ts";
import { readHash, signalModified, writeHash } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { parseLongLong } from "../strings/parse.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

/** The largest absolute field expiry Redis accepts (EB_EXPIRE_TIME_MAX >> 2 = 2^46 - 1 ms). */
const HFE_MAX_ABS_TIME_MSEC = 70368744177663;

/** HFE_LAZY_* flags of a field lookup. */
const LAZY_EXPIRE = 0;
/** Several fields in one command: the caller publishes one event at the end (HMGET). */
export const LAZY_NO_NOTIFICATION = 1 << 2;

/** What a lookup of one field found (GetFieldRes). */
export const enum FieldState {
  Ok,
  Missing,
  /** Logically expired: deleted now on a master, hidden on a replica. */
  Expired,
  /** Expired, deleted, and it was the last field: the key is gone too. */
  ExpiredHashDeleted,
}

/**
 * Whether a field of `h` at `key` is there for `c` (hashTypeGetValue's expiry part); on a master
 * an expired field is deleted here (see the header).
 */
export function fieldState(c: Client, key: string, h: HashValue, field: string, flags = LAZY_EXPIRE): FieldState {
  if (!h.has(field)) return FieldState.Missing;
  const at = h.fieldExpireAt(field);
  const server = c.server;
  if (at === NO_FIELD_TTL || at >= server.cmdTime) return FieldState.Ok;
  if (server.replication.masterHost !== null) return c.kind === ClientKind.Master ? FieldState.Ok : FieldState.Expired;
  // A coordinated failover holds writes, expiry included (PAUSE_ACTION_EXPIRE).
  if (server.pause.active) return FieldState.Expired;
  const db = c.db;
  db.beforeChange(key);
  h.delete(field);
  propagateFieldDeletion(c, key, field);
  const notify = (flags & LAZY_NO_NOTIFICATION) === 0;
  if (notify) notifyKeyspaceEvent(c, NotifyClass.Hash, "hexpired", key);
  let state = FieldState.Expired;
  if (h.size === 0) {
    if (notify) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
    db.delete(key);
    state = FieldState.ExpiredHashDeleted;
  }
  server.signalModifiedKey(db, key);
  return state;
}

/** The field's value as `c` may see it: undefined when missing or expired (hashTypeGetValue). */
export function liveField(c: Client, key: string, h: HashValue, field: string): string | undefined {
  const v = h.get(field);
  if (v === undefined || h.fieldTtlCount === 0) return v;
  return fieldState(c, key, h, field) === FieldState.Ok ? v : undefined;
}

/** HDEL of an expired field, propagated with the command that found it (propagateHashFieldDeletion). */
function propagateFieldDeletion(c: Client, key: string, field: string): void {
  (c.alsoPropagate ??= []).push(["HDEL", key, field]);
}

/**
 * hashTypeExpireIfNeeded (HRANDFIELD on a master): deletes every expired field first. Returns
 * false when that deleted the hash.
 */
export function expireAllFieldsIfNeeded(c: Client, key: string, h: HashValue): boolean {
  if (h.fieldTtlCount === 0) return true;
  const server = c.server;
  if (server.replication.masterHost !== null || server.pause.active) return true;
  const expired = h.expiredFields(server.cmdTime);
  if (expired.length === 0) return true;
  const db = c.db;
  db.beforeChange(key);
  for (const f of expired) {
    h.delete(f);
    propagateFieldDeletion(c, key, f);
  }
  notifyKeyspaceEvent(c, NotifyClass.Hash, "hexpired", key);
  server.signalModifiedKey(db, key);
  h.registerMinExpire();
  if (h.size !== 0) return true;
  notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
  db.delete(key);
  return false;
}

/** Whether reads skip the field (HGETALL, HKEYS, HVALS, HSCAN: logically expired, kept). */
export function hiddenField(h: HashValue, field: string, now: number): boolean {
  return h.fieldTtlCount !== 0 && h.isFieldExpired(field, now);
}

// ---------------------------------------------------------------------------------------------
// Arguments

/** "FIELDS numfields field..." at `fieldsAt`: the number of fields, checked as Redis does. */
function parseFields(argv: string[], fieldsAt: number, numError: string): number {
  if (argv[fieldsAt]!.toLowerCase() !== "fields") fail("ERR Mandatory argument FIELDS is missing or not at the right position");
  const n = parseLongLong(argv[fieldsAt + 1]!);
  if (n === null || n < 1) fail(`ERR ${numError}`);
  if (n !== argv.length - fieldsAt - 2) fail("ERR The `numfields` parameter must match the number of arguments");
  return Number(n);
}

const NO_CONDITION = 0;
const NX = 1;
const XX = 2;
const GT = 3;
const LT = 4;
const CONDITIONS: Record<string, number> = { nx: NX, xx: XX, gt: GT, lt: LT };

// ---------------------------------------------------------------------------------------------
// HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT

/** Reply codes of HEXPIRE (SetExRes). */
const NO_FIELD = -2;
const CONDITION_NOT_MET = 0;
const SET = 1;
const DELETED = 2;

/** hexpireGenericCommand: `relative` (base time now) or absolute; seconds or milliseconds. */
function hexpireGeneric(c: Client, argv: string[], name: string, relative: boolean, seconds: boolean): void {
  const key = argv[1]!;
  const h = writeHash(c, key);
  const parsed = parseLongLong(argv[2]!);
  if (parsed === null) fail("ERR value is not an integer or out of range");
  if (parsed < 0) fail("ERR invalid expire time, must be >= 0");
  const expireError = `ERR invalid expire time in '${name}' command`;
  // Past 2^53 the value is far beyond the limit anyway.
  if (typeof parsed === "bigint") fail(expireError);
  let expire = parsed;
  if (seconds) {
    if (expire > Math.floor(HFE_MAX_ABS_TIME_MSEC / 1000)) fail(expireError);
    expire *= 1000;
  }
  const now = c.server.cmdTime;
  const base = relative ? now : 0;
  if (expire > HFE_MAX_ABS_TIME_MSEC - base) fail(expireError);
  expire += base;
  const cond = CONDITIONS[argv[3]!.toLowerCase()] ?? NO_CONDITION;
  const fieldsAt = cond === NO_CONDITION ? 3 : 4;
  const numFields = parseFields(argv, fieldsAt, "Parameter `numFields` should be greater than 0");
  if (!h) {
    c.reply.array(numFields);
    for (let i = 0; i < numFields; i++) c.reply.int(NO_FIELD);
    return;
  }
  // Any HEXPIRE that gets this far makes a listpack a listpackex (hashTypeSetExInit), even if
  // it then sets nothing (and is then not propagated: the replicas keep their listpack).
  if (h.encoding === "listpack") h.encoding = "listpackex";
  const server = c.server;
  // A replica stores a time in the past (checkAlreadyExpired is false there): only our master's
  // HDEL deletes the field.
  const deletesPast = server.replication.masterHost === null;
  const setFields: string[] = [];
  let deleted = 0;
  // The smallest of the old and new TTLs touched (minExpireFields), for the registration below.
  let minTouched = EB_EXPIRE_TIME_INVALID;
  c.reply.array(numFields);
  for (let i = fieldsAt + 2; i < argv.length; i++) {
    const field = argv[i]!;
    if (!h.has(field)) {
      c.reply.int(NO_FIELD);
      continue;
    }
    const prev = h.fieldExpireAt(field);
    let met: boolean;
    if (prev === NO_FIELD_TTL) met = cond !== XX && cond !== GT;
    else met = !((cond === GT && prev >= expire) || (cond === LT && prev <= expire) || cond === NX);
    if (!met) {
      c.reply.int(CONDITION_NOT_MET);
      continue;
    }
    if (prev !== NO_FIELD_TTL && prev < minTouched) minTouched = prev;
    if (deletesPast && expire <= now) {
      propagateFieldDeletion(c, key, field);
      h.delete(field);
      deleted++;
      c.reply.int(DELETED);
      continue;
    }
    h.setFieldExpireAt(field, expire);
    if (expire < minTouched) minTouched = expire;
    setFields.push(field);
    c.reply.int(SET);
  }
  // hashTypeSetExDone
  const changes = deleted + setFields.length;
  if (changes > 0) {
    if (deleted && h.size === 0) {
      c.db.delete(key);
      signalModified(c, key, c.db, changes);
      notifyKeyspaceEvent(c, NotifyClass.Hash, "hdel", key);
      notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
    } else {
      signalModified(c, key, c.db, changes);
      notifyKeyspaceEvent(c, NotifyClass.Hash, deleted ? "hdel" : "hexpire", key);
      if (setFields.length) c.db.fieldTtlKeys.add(key);
      updateRegistration(h, minTouched);
    }
  }
  if (setFields.length === 0) {
    c.preventPropagation = true;
    return;
  }
  // Propagated as HPEXPIREAT <absolute ms>, with the fields that were set only.
  const out = [argv[0]!.toLowerCase() === "hpexpireat" ? argv[0]! : "HPEXPIREAT", key, relative || seconds ? String(expire) : argv[2]!];
  if (cond !== NO_CONDITION) out.push(argv[3]!);
  out.push(argv[fieldsAt]!, setFields.length === numFields ? argv[fieldsAt + 1]! : String(setFields.length), ...setFields);
  c.propagateAs = out;
}

/** Redis's "no expiry" in its expiry structures (EB_EXPIRE_TIME_INVALID, 2^48). */
const EB_EXPIRE_TIME_INVALID = 2 ** 48;
/** A registration moves only by this much or more (HASH_NEW_EXPIRE_DIFF_THRESHOLD). */
const NEW_EXPIRE_DIFF_THRESHOLD = 4000;

/** hashTypeSetExDone's update of the hash's registered expiry (see HashValue.registeredMinExpire). */
function updateRegistration(h: HashValue, minTouched: number): void {
  const reg = h.registeredMinExpire === NO_FIELD_TTL ? EB_EXPIRE_TIME_INVALID : h.registeredMinExpire;
  if (reg < minTouched) return;
  const exact = h.minFieldExpireAt();
  const next = exact === NO_FIELD_TTL ? EB_EXPIRE_TIME_INVALID : exact;
  if (Math.abs(reg - next) < NEW_EXPIRE_DIFF_THRESHOLD) return;
  h.registeredMinExpire = exact;
}

// ---------------------------------------------------------------------------------------------
// HPERSIST

function hpersist(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const h = writeHash(c, key);
  const numFields = parseFields(argv, 2, "Number of fields must be a positive integer");
  c.reply.array(numFields);
  if (!h) {
    for (let i = 0; i < numFields; i++) c.reply.int(-2);
    return;
  }
  const now = c.server.cmdTime;
  let changed = false;
  for (let i = 4; i < argv.length; i++) {
    const field = argv[i]!;
    if (!h.has(field)) {
      c.reply.int(-2);
      continue;
    }
    const at = h.fieldExpireAt(field);
    if (at === NO_FIELD_TTL) c.reply.int(-1);
    // Already expired: as if there were no such field.
    else if (at < now) c.reply.int(-2);
    else {
      h.clearFieldExpire(field);
      c.reply.int(1);
      changed = true;
    }
  }
  if (changed) {
    notifyKeyspaceEvent(c, NotifyClass.Hash, "hpersist", key);
    signalModified(c, key);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTL HPTTL HEXPIRETIME HPEXPIRETIME

/** httlGenericCommand: remaining TTL (relative) or expiry time (absolute), in s or ms. */
function httlGeneric(c: Client, argv: string[], relative: boolean, seconds: boolean): void {
  const h = readHash(c, argv[1]!);
  const numFields = parseFields(argv, 2, "Number of fields must be a positive integer");
  c.reply.array(numFields);
  const now = c.server.cmdTime;
  const base = relative ? now : 0;
  for (let i = 4; i < argv.length; i++) {
    const field = argv[i]!;
    if (!h || !h.has(field)) {
      c.reply.int(-2);
      continue;
    }
    const at = h.fieldExpireAt(field);
    if (at === NO_FIELD_TTL) {
      c.reply.int(-1);
      continue;
    }
    // A listpackex field counts as gone at its very expiry time, a hashtable one just after.
    if (h.encoding === "listpackex" ? at <= now : at < now) {
      c.reply.int(-2);
      continue;
    }
    c.reply.int(seconds ? Math.floor((at + 999 - base) / 1000) : at - base);
  }
}

export const handlers: HandlerMap = {
  hexpire(c, argv) {
    hexpireGeneric(c, argv, "hexpire", true, true);
  },
  hpexpire(c, argv) {
    hexpireGeneric(c, argv, "hpexpire", true, false);
  },
  hexpireat(c, argv) {
    hexpireGeneric(c, argv, "hexpireat", false, true);
  },
  hpexpireat(c, argv) {
    hexpireGeneric(c, argv, "hpexpireat", false, false);
  },
  hpersist,
  httl(c, argv) {
    httlGeneric(c, argv, true, true);
  },
  hpttl(c, argv) {
    httlGeneric(c, argv, true, false);
  },
  hexpiretime(c, argv) {
    httlGeneric(c, argv, false, true);
  },
  hpexpiretime(c, argv) {
    httlGeneric(c, argv, false, false);
  },
};
