// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
// [AUTH2 username password] [KEYS key ...] (cluster.c's migrateCommand): the keys are sent to
// the target as RESTORE commands with their DUMP payload and remaining TTL, and deleted here
// once the target accepted them (unless COPY); the command propagates as DEL of those keys.
// Like Redis, the server waits for the target meanwhile (core/migrate-sockets.ts), keeps
// the connection for the next MIGRATE, and tries a second time after a socket error that is
// not a timeout.

import { encodeCommand } from "../../protocol/reply-parser.ts";
import { dumpPayload, rdbWriteOptions } from "../../rdb/writer.ts";
import type { Client } from "../../core/client.ts";
import { fail, SYNTAX } from "../../core/errors.ts";
import { deleteKey, lookupRead } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { forgetStringEncoding } from "../strings/encoding.ts";
import { parseLongLong } from "../strings/parse.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

function longArg(text: string): number {
  const v = parseLongLong(text);
  if (v === null) fail("ERR value is not an integer or out of range");
  return Number(v);
}

function migrate(c: Client, argv: string[]): void {
  let copy = false;
  let replace = false;
  let username: string | null = null;
  let password: string | null = null;
  let firstKey = 3;
  let numKeys = 1;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j]!.toLowerCase();
    if (opt === "copy") copy = true;
    else if (opt === "replace") replace = true;
    else if (opt === "auth") {
      if (!more) fail(SYNTAX);
      password = argv[++j]!;
      c.redact(j);
    } else if (opt === "auth2") {
      if (more < 2) fail(SYNTAX);
      username = argv[++j]!;
      c.redact(j);
      password = argv[++j]!;
      c.redact(j);
    } else if (opt === "keys") {
      if (argv[3]!.length !== 0) fail("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
      firstKey = j + 1;
      numKeys = argv.length - j - 1;
      break;
    } else fail(SYNTAX);
  }
  let timeout = longArg(argv[5]!);
  const dbid = longArg(argv[4]!);
  if (timeout <= 0) timeout = 1000;

  const db = c.db;
  let keys: string[] = [];
  for (let j = 0; j < numKeys; j++) if (lookupRead(c, argv[firstKey + j]!) !== undefined) keys.push(argv[firstKey + j]!);
  if (keys.length === 0) return c.reply.simple("NOKEY");

  const host = argv[1]!;
  const port = argv[2]!;
  const target = `${host}:${port}`;
  const sockets = c.server.migrateSockets;
  const options = rdbWriteOptions(c.server.config);
  let mayRetry = true;
  for (;;) {
    // The commands for the target: AUTH, SELECT unless the cached connection has the db
    // selected, a RESTORE per key still alive (with what is left of its TTL).
    const parts: Buffer[] = [];
    if (password !== null) parts.push(encodeCommand(username !== null ? ["AUTH", username, password] : ["AUTH", password]));
    const select = sockets.lastDbid(target) !== dbid;
    if (select) parts.push(encodeCommand(["SELECT", String(dbid)]));
    const sent: string[] = [];
    const now = Date.now();
    for (const key of keys) {
      const value = db.get(key);
      if (value === undefined) continue;
      let ttl = 0;
      const at = db.getExpire(key);
      if (at !== undefined) {
        ttl = at - now;
        if (ttl < 0) continue;
        if (ttl < 1) ttl = 1;
      }
      sent.push(key);
      const payload = dumpPayload(value, options);
      parts.push(encodeCommand(replace ? ["RESTORE", key, String(ttl), payload, "REPLACE"] : ["RESTORE", key, String(ttl), payload]));
    }
    keys = sent;
    const replies = (password !== null ? 1 : 0) + (select ? 1 : 0) + keys.length;
    // atoi, then 16 bits (the sockaddr's port, as Redis's htons leaves it).
    const portNumber = (Number.parseInt(port, 10) || 0) & 0xffff;
    const outcome = sockets.exchange(target, host, portNumber, timeout, Buffer.concat(parts), replies);
    if (outcome.status === "connect-error") fail("IOERR error or timeout connecting to the client");
    if (outcome.status === "write-error" || (outcome.status === "read-error" && outcome.lines.length < replies - keys.length)) {
      // Nothing was done on the target (or we cannot tell): once more unless it timed out.
      if (!outcome.timedOut && mayRetry) {
        mayRetry = false;
        continue;
      }
      fail(`IOERR error or timeout ${outcome.status === "write-error" ? "writing" : "reading"} to target instance`);
    }
    // The replies: AUTH's, SELECT's, then one per key.
    const lines = outcome.lines;
    let i = 0;
    const authReply = password !== null ? lines[i++]! : null;
    const selectReply = select ? lines[i++]! : null;
    const keyReplies = lines.slice(i);
    let error: string | null = null;
    const deleted: string[] = [];
    for (let j = 0; j < keyReplies.length; j++) {
      const reply = keyReplies[j]!;
      if (authReply?.startsWith("-") || selectReply?.startsWith("-") || reply.startsWith("-")) {
        if (error === null) {
          sockets.setLastDbid(target, -1);
          error = (authReply?.startsWith("-") ? authReply : selectReply?.startsWith("-") ? selectReply : reply).slice(1);
        }
      } else if (!copy) {
        const key = keys[j]!;
        if (deleteKey(c, key, db)) {
          forgetStringEncoding(db, key);
          notifyKeyspaceEvent(c, NotifyClass.Generic, "del", key);
          deleted.push(key);
        }
      }
    }
    // What happened here is replicated as DEL of the keys the target took.
    if (deleted.length > 0) c.propagateAs = ["DEL", ...deleted];
    const socketError = outcome.status === "read-error";
    if (socketError) sockets.close(target);
    if (error !== null) fail(`ERR Target instance replied with error: ${error}`);
    if (socketError) {
      // Some keys went, then the connection failed: no second attempt (keys are gone).
      if (keyReplies.length === 0 && !outcome.timedOut && mayRetry) {
        mayRetry = false;
        continue;
      }
      fail("IOERR error or timeout reading to target instance");
    }
    sockets.setLastDbid(target, dbid);
    return c.reply.ok();
  }
}

export const handlers: HandlerMap = { migrate };
