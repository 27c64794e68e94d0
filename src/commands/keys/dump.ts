// DUMP and RESTORE (cluster.c in Redis 7.0).
//
// A payload is the value as an RDB serializes it (type byte, then the value), the RDB version
// as 2 bytes little endian (10 for Redis 7.0), and the CRC-64 of all that, 8 bytes little
// endian. RESTORE accepts every version our RDB reader knows (up to 12, Redis 7.4) with a valid
// checksum: a replica must take the payloads of a newer master (7.2 and Valkey write 11, 7.4
// writes 12), where a redis-server 7.0 accepts up to its own 10.
//
// RESTORE reads the value with the RDB reader: the payload is framed as a one-key RDB (header,
// type byte, empty key name, value, EOF), so every encoding the reader knows is accepted and
// validated the same way as in a file (and gets the encoding Redis would give it).

import { loadRdbBuffer } from "../../rdb/loader.ts";
import { Crc64 } from "../../rdb/crc64.ts";
import { RDB_MAX_VERSION } from "../../rdb/constants.ts";
import { dumpPayload, rdbWriteOptions } from "../../rdb/writer.ts";
import type { Client } from "../../core/client.ts";
import { Database } from "../../store/database.ts";
import type { RedisValue } from "../../store/values.ts";
import { BUSYKEY, fail, NOT_INTEGER, SYNTAX } from "../../core/errors.ts";
import { lookupRead, lookupWrite, setKey, signalModified } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { forgetStringEncoding } from "../strings/encoding.ts";
import { parseLongLong } from "../strings/parse.ts";
import { checkAlreadyExpired } from "../strings/strings.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

const BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong";
const BAD_FORMAT = "ERR Bad data format";

/**
 * verifyDumpPayload: a version our reader knows, and the CRC-64 matches (unless DEBUG
 * SET-SKIP-CHECKSUM-VALIDATION 1 said not to check it).
 */
export function verifyDumpPayload(p: Buffer, skipChecksum = false): boolean {
  const len = p.length;
  if (len < 10) return false;
  const version = p[len - 10]! | (p[len - 9]! << 8);
  if (version > RDB_MAX_VERSION) return false;
  if (skipChecksum) return true;
  const crc = new Crc64();
  crc.update(p, 0, len - 8);
  return crc.matchesLE(p, len - 8);
}

/** The value a verified payload holds, or null when it is not a valid serialized value. */
function parseDumpPayload(c: Client, p: Buffer): RedisValue | null {
  const bodyEnd = p.length - 10;
  if (bodyEnd < 1) return null;
  const type = p[0]!;
  if (type >= 0x20) return null; // an opcode, not a value type
  const version = Math.max(1, p[bodyEnd]! | (p[bodyEnd + 1]! << 8));
  // "REDIS00vv" <type> <empty key> <value> EOF <zero checksum: not verified>
  const framed = Buffer.allocUnsafe(9 + 2 + (bodyEnd - 1) + 9);
  framed.latin1Write(`REDIS${String(version).padStart(4, "0")}`, 0);
  framed[9] = type;
  framed[10] = 0;
  p.copy(framed, 11, 1, bodyEnd);
  const tail = 11 + bodyEnd - 1;
  framed[tail] = 0xff;
  framed.fill(0, tail + 1);
  const db = new Database(0);
  const cfg = c.server.config;
  try {
    const r = loadRdbBuffer(framed, [db], {
      verifyChecksum: false,
      hashMaxListpackEntries: cfg.num("hash-max-listpack-entries"),
      hashMaxListpackValue: cfg.num("hash-max-listpack-value"),
      zsetMaxListpackEntries: cfg.num("zset-max-listpack-entries"),
      zsetMaxListpackValue: cfg.num("zset-max-listpack-value"),
      setMaxIntsetEntries: cfg.num("set-max-intset-entries"),
    });
    if (r.sink.keysLoaded !== 1 || r.trailingBytes !== 0 || r.sink.auxFields.size || r.sink.functions.size) return null;
  } catch {
    return null;
  }
  return db.get("") ?? null;
}

function dump(c: Client, argv: string[]): void {
  const v = lookupRead(c, argv[1]!);
  if (v === undefined) return c.reply.nullBulk();
  const payload = dumpPayload(v, rdbWriteOptions(c.server.config));
  c.reply.bulk(payload.latin1Slice(0, payload.length));
}

/** RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency] */
function restore(c: Client, argv: string[]): void {
  let replace = false;
  let absttl = false;
  let lruIdle = -1;
  let lfuFreq = -1;
  for (let j = 4; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const additional = argv.length - j - 1;
    if (opt === "replace") replace = true;
    else if (opt === "absttl") absttl = true;
    else if (opt === "idletime" && additional >= 1 && lfuFreq === -1) {
      const v = parseLongLong(argv[++j]!);
      if (v === null) fail(NOT_INTEGER);
      if (v < 0) fail("ERR Invalid IDLETIME value, must be >= 0");
      lruIdle = Number(v);
    } else if (opt === "freq" && additional >= 1 && lruIdle === -1) {
      const v = parseLongLong(argv[++j]!);
      if (v === null) fail(NOT_INTEGER);
      if (v < 0 || v > 255) fail("ERR Invalid FREQ value, must be >= 0 and <= 255");
      lfuFreq = Number(v);
    } else fail(SYNTAX);
  }
  const key = argv[1]!;
  if (!replace && lookupWrite(c, key) !== undefined) fail(BUSYKEY);
  const ttlArg = parseLongLong(argv[2]!);
  if (ttlArg === null) fail(NOT_INTEGER);
  if (ttlArg < 0) fail("ERR Invalid TTL value, must be >= 0");
  const payload = Buffer.from(argv[3]!, "latin1");
  if (!verifyDumpPayload(payload, c.server.skipChecksumValidation)) fail(BAD_PAYLOAD);
  const value = parseDumpPayload(c, payload);
  if (value === null) fail(BAD_FORMAT);

  const db = c.db;
  let deleted = false;
  // dbDelete, not a lookup: an expired old value counts as deleted (a "del", not "expired").
  if (replace) deleted = db.delete(key);
  // A restored string has its content's encoding, whatever the key held before.
  forgetStringEncoding(db, key);
  let ttl = Number(ttlArg);
  if (ttl && !absttl) ttl += Date.now();
  if (ttl && checkAlreadyExpired(c, ttl)) {
    if (deleted) {
      c.propagateAs = ["DEL", key];
      signalModified(c, key);
      notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
    }
    c.reply.ok();
    return;
  }
  setKey(c, key, value);
  if (ttl) {
    db.setExpire(key, ttl);
    if (!absttl) {
      // Propagated with the absolute expiry, as Redis rewrites it.
      const rewritten = argv.slice();
      rewritten[2] = String(ttl);
      rewritten.push("ABSTTL");
      c.propagateAs = rewritten;
    }
  }
  // IDLETIME / FREQ set the key's access field, in the form the policy uses (objectSetLRUOrLFU).
  const access = db.clock.fromIdleOrFreq(lruIdle, lfuFreq);
  if (access >= 0) db.ks.touchAt(db.find(key), access);
  notifyKeyspaceEvent(c, NotifyClass.Generic, "restore", key);
  c.reply.ok();
}

// RESTORE-ASKING is RESTORE for a cluster's importing node: without cluster mode, the same command.
export const handlers: HandlerMap = { dump, restore, "restore-asking": restore };
