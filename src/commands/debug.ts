// DEBUG (debug.c), behind enable-debug-command (the dispatcher checks it): the subcommands
// Redis's own test suite and operators use. DIGEST / DIGEST-VALUE (debug-digest.ts), OBJECT,
// RELOAD, SLEEP, SET-ACTIVE-EXPIRE, CHANGE-REPL-ID, POPULATE, QUICKLIST-PACKED-THRESHOLD, ERROR,
// LOG, PROTOCOL, REPLYBUFFER. The ones about C internals (MALLCTL, HTSTATS, SDSLEN, STRUCTSIZE,
// LISTPACK, QUICKLIST, SEGFAULT, ...) have no meaning here and are unknown subcommands.

import { join } from "node:path";
import { DatabaseLoadSink, parseRdbFileSync } from "../rdb/loader.ts";
import { dumpPayload, rdbWriteOptions } from "../rdb/writer.ts";
import { newReplicationId } from "../replication/replication.ts";
import type { Client } from "../server/client.ts";
import { writeDatasetFile } from "../server/persistence.ts";
import { Database } from "../store/database.ts";
import { ListValue } from "../store/values.ts";
import { datasetDigest, valueDigest } from "./debug-digest.ts";
import { fail } from "./errors.ts";
import { objectEncodingOf } from "./keys.ts";
import { replyHelp } from "./scripting.ts";
import { parseLongLong } from "./strings-parse.ts";
import type { HandlerMap } from "./types.ts";

const HELP = [
  "CHANGE-REPL-ID",
  "    Change the replication IDs of the instance.",
  "    Dangerous: should be used only for testing the replication subsystem.",
  "DIGEST",
  "    Output a hex signature representing the current DB content.",
  "DIGEST-VALUE <key> [<key> ...]",
  "    Output a hex signature of the values of all the specified keys.",
  "ERROR <string>",
  "    Return a Redis protocol error with <string> as message. Useful for clients",
  "    unit tests to simulate Redis errors.",
  "LOG <message>",
  "    Write <message> to the server log.",
  "OBJECT <key>",
  "    Show low level info about `key` and associated value.",
  "POPULATE <count> [<prefix>] [<size>]",
  "    Create <count> string keys named key:<num>. If <prefix> is specified then",
  "    it is used instead of the 'key' prefix. These are not propagated to",
  "    replicas. Cluster slots are not respected so keys not belonging to the",
  "    current node can be created in cluster mode.",
  "PROTOCOL <type>",
  "    Reply with a test value of the specified type. <type> can be: string,",
  "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
  "    true, false.",
  "RELOAD [option ...]",
  "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
  "    * MERGE: conflicting keys will be loaded from RDB.",
  "    * NOFLUSH: the existing database will not be removed before load, but",
  "      conflicting keys will generate an exception and kill the server.",
  "    * NOSAVE: the database will be loaded from an existing RDB file.",
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default.",
  "QUICKLIST-PACKED-THRESHOLD <size>",
  "    Sets the threshold for elements to be inserted as plain vs packed nodes",
  "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
  "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
  "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
  "REPLYBUFFER RESIZING <0|1>",
  "    Enable or disable the reply buffer resize cron job",
];

function unknown(argv: string[]): never {
  fail(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`);
}

/** DEBUG OBJECT's line ("Value at:... refcount:... encoding:... serializedlength:..."). */
function debugObject(c: Client, key: string): void {
  const v = c.db.keys.get(key);
  if (v === undefined) fail("ERR no such key");
  // rdbSavedObjectLen: the value as an RDB serializes it, without its type byte.
  const serialized = dumpPayload(v, rdbWriteOptions(c.server.config)).length - 11;
  const encoding = objectEncodingOf(c.db, key, v);
  let extra = "";
  if (v instanceof ListValue && encoding === "quicklist") extra = ` ql_nodes:${Math.max(1, Math.ceil(v.length / 128))} ql_avg_node:${(v.length / Math.max(1, Math.ceil(v.length / 128))).toFixed(2)} ql_listpack_max:${c.server.config.num("list-max-listpack-size")} ql_compressed:0 ql_uncompressed_size:${serialized}`;
  c.reply.simple(`Value at:0x${(0x7f0000000000 + (hashOf(key) & 0xffffff) * 16).toString(16)} refcount:1 encoding:${encoding} serializedlength:${serialized} lru:0 lru_seconds_idle:0${extra}`);
}

function hashOf(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h >>> 0;
}

/**
 * DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dataset file, then load it back, all in
 * this command (the server answers nothing else meanwhile, as Redis).
 */
function reload(c: Client, argv: string[]): void {
  let merge = false;
  let noflush = false;
  let nosave = false;
  for (const opt of argv.slice(2).map((a) => a.toLowerCase())) {
    if (opt === "merge") merge = true;
    else if (opt === "noflush") noflush = true;
    else if (opt === "nosave") nosave = true;
    else fail("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
  }
  const server = c.server;
  const path = join(process.cwd(), server.config.str("dbfilename"));
  if (!nosave) {
    try {
      writeDatasetFile(server, path);
    } catch (e) {
      fail(`ERR Error trying to save the DB: ${(e as Error).message}`);
    }
  }
  const fresh = server.dbs.map((db) => new Database(db.id));
  // MERGE with NOFLUSH: the file's keys win over the ones held (RDBFLAGS_ALLOW_DUP).
  const sink = new DatabaseLoadSink(noflush ? server.dbs : fresh, merge);
  try {
    parseRdbFileSync(path, sink, { maxDatabases: server.dbs.length });
  } catch (e) {
    server.log.warning(`Error trying to load the RDB dump: ${(e as Error).message}`);
    fail("ERR Error trying to load the RDB dump, check server logs.");
  }
  if (!noflush) for (let i = 0; i < server.dbs.length; i++) server.dbs[i]!.swapContents(fresh[i]!);
  server.signalFlushedDb(-1);
  server.log.notice("DB reloaded by DEBUG RELOAD");
  c.reply.ok();
}

/** DEBUG POPULATE count [prefix] [size]: key:<n> = value:<n> (cut or zero-padded to size), new keys only. */
function populate(c: Client, argv: string[]): void {
  if (argv.length > 5) unknown(argv);
  const count = parseLongLong(argv[2] ?? "");
  if (count === null || count < 0) fail("ERR value is out of range, must be positive");
  const prefix = argv[3] ?? "key";
  const size = argv[4] === undefined ? 0 : parseLongLong(argv[4]);
  if (size === null) fail("ERR value is not an integer or out of range");
  if (size < 0) fail("ERR value is out of range, must be positive");
  const db = c.db;
  for (let j = 0; j < Number(count); j++) {
    const key = `${prefix}:${j}`;
    if (db.keys.has(key)) continue;
    let value = `value:${j}`;
    if (size > 0) value = value.length >= Number(size) ? value.slice(0, Number(size)) : value + "\0".repeat(Number(size) - value.length);
    db.set(key, value);
  }
  c.reply.ok();
}

/** DEBUG PROTOCOL <type>: a sample reply of that RESP type (client library tests). */
function protocol(c: Client, type: string): void {
  const r = c.reply;
  switch (type.toLowerCase()) {
    case "string":
      return r.bulk("Hello World");
    case "integer":
      return r.int(12345);
    case "double":
      return r.double(3.141);
    case "bignum":
      return r.bigNumber("1234567999999999999999999999999999999");
    case "null":
      return r.null();
    case "array":
      r.array(3);
      for (let j = 0; j < 3; j++) r.int(j);
      return;
    case "set":
      r.set(3);
      for (let j = 0; j < 3; j++) r.int(j);
      return;
    case "map":
      r.map(3);
      for (let j = 0; j < 3; j++) {
        r.int(j);
        r.bool(j === 1);
      }
      return;
    case "attrib":
      if (r.resp >= 3) {
        r.attribute(1);
        r.bulk("key-popularity");
        r.array(2);
        r.bulk("key:123");
        r.int(90);
      }
      return r.bulk("Some real reply following the attribute");
    case "push":
      if (r.resp < 3) fail("ERR RESP2 is not supported by this command");
      r.push(2);
      r.bulk("server-cpu-usage");
      r.int(42);
      return r.bulk("Some real reply following the push reply");
    case "true":
      return r.bool(true);
    case "false":
      return r.bool(false);
    case "verbatim":
      return r.verbatim("This is a verbatim\nstring");
  }
  fail("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
}

export const handlers: HandlerMap = {
  debug(c, argv) {
    const sub = argv[1]!.toLowerCase();
    const server = c.server;
    switch (sub) {
      case "help":
        if (argv.length !== 2) unknown(argv);
        return replyHelp(c, "DEBUG", HELP);
      case "digest":
        if (argv.length !== 2) unknown(argv);
        return c.reply.simple(datasetDigest(server.dbs));
      case "digest-value":
        c.reply.array(argv.length - 2);
        for (let j = 2; j < argv.length; j++) c.reply.simple(valueDigest(c.db, argv[j]!));
        return;
      case "object":
        if (argv.length !== 3) unknown(argv);
        return debugObject(c, argv[2]!);
      case "reload":
        return reload(c, argv);
      case "sleep": {
        if (argv.length !== 3) unknown(argv);
        const secs = Number(argv[2]);
        Bun.sleepSync(Number.isFinite(secs) && secs > 0 ? secs * 1000 : 0);
        return c.reply.ok();
      }
      case "set-active-expire":
        if (argv.length !== 3) unknown(argv);
        server.activeExpireEnabled = argv[2] !== "0";
        return c.reply.ok();
      case "set-disable-deny-scripts":
        // Scripts may call commands flagged noscript (Redis's test suite uses it; atoi semantics).
        if (argv.length !== 3) unknown(argv);
        server.scriptDisableDenyScript = (Number.parseInt(argv[2]!, 10) || 0) !== 0;
        return c.reply.ok();
      case "change-repl-id": {
        if (argv.length !== 2) unknown(argv);
        const repl = server.replication;
        repl.replid = newReplicationId();
        repl.clearReplicationId2();
        return c.reply.ok();
      }
      case "populate":
        if (argv.length < 3) unknown(argv);
        return populate(c, argv);
      case "quicklist-packed-threshold": {
        if (argv.length !== 3) unknown(argv);
        const v = parseLongLong(argv[2]!);
        if (v === null || v < 0 || v > 4294967296) fail("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
        server.config.quicklistPackedThreshold = v === 0 ? 1 << 30 : Number(v);
        return c.reply.ok();
      }
      case "error":
        if (argv.length !== 3) unknown(argv);
        return c.reply.error(argv[2]!);
      case "log":
        if (argv.length !== 3) unknown(argv);
        server.log.warning(`DEBUG LOG: ${argv[2]}`);
        return c.reply.ok();
      case "protocol":
        if (argv.length !== 3) unknown(argv);
        return protocol(c, argv[2]!);
      case "replybuffer":
        return c.reply.ok();
    }
    unknown(argv);
  },
};
