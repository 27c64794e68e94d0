// DEBUG (debug.c), behind enable-debug-command (the dispatcher checks it): the subcommands of
// Redis 7.0.15, as they apply to our store. DIGEST / DIGEST-VALUE are debug-digest.ts; OBJECT,
// SDSLEN, LISTPACK, QUICKLIST, HTSTATS, HTSTATS-KEY (how a value is held) debug-inspect.ts;
// SEGFAULT, PANIC, ASSERT, OOM (the server dies on purpose) debug-crash.ts.
//
// What differs from redis-server, and why:
// - RESTART / CRASH-AND-RECOVER answer Redis's "failed to restart" error: Redis re-executes
//   itself in place (execve), which our runtime cannot do, and a new process would not be the
//   one a supervisor watches.
// - LOADAOF: the load runs between event-loop turns (other clients get -LOADING meanwhile) and
//   the client's reply waits for it; without an AOF it answers an error (Redis exits).
// - STRUCTSIZE, MALLCTL, MALLCTL-STR (C structure sizes, jemalloc) are unknown subcommands, as
//   MALLCTL is in a redis-server built without jemalloc.
// - AOF-FLUSH-SLEEP, DROP-CLUSTER-PACKET-FILTER and CLUSTERLINK parse as Redis and change
//   nothing: no delayed AOF flush, no cluster bus.

import { encodingThresholds } from "../../rdb/reader-options.ts";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { aofOf } from "../../dataset/aof.ts";
import { loadAppendOnlyFiles } from "../../dataset/aof-load.ts";
import { DatabaseLoadSink, parseRdbFileSync } from "../../rdb/loader.ts";
import { newReplicationId, replicationOf } from "../../replication/replication.ts";
import type { Client } from "../../core/client.ts";
import { writeDatasetFile } from "../../dataset/persistence.ts";
import { Database } from "../../store/database.ts";
import { datasetDigest, valueDigest } from "./debug-digest.ts";
import { debugHtstats, debugHtstatsKey, debugListpack, debugObject, debugQuicklist, debugSdslen } from "./debug-inspect.ts";
import { debugAssert, debugOom, debugPanic, debugSegfault } from "./debug-crash.ts";
import { rewriteConfigFile } from "./admin.ts";
import { globMatch } from "../../common/glob.ts";
import { parseMemory } from "../../config/config.ts";
import { strerror } from "../../dataset/persistence.ts";
import type { Server } from "../../core/server.ts";
import { clientMemory } from "../../core/memory.ts";
import { fail } from "../../core/errors.ts";
import { replyHelp } from "../scripting/scripting.ts";
import { parseLongLong } from "../strings/parse.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

/** Redis 7.0.15's DEBUG HELP, as is. */
const HELP = [
  "AOF-FLUSH-SLEEP <microsec>",
  "    Server will sleep before flushing the AOF, this is used for testing.",
  "ASSERT",
  "    Crash by assertion failed.",
  "CHANGE-REPL-ID",
  "    Change the replication IDs of the instance.",
  "    Dangerous: should be used only for testing the replication subsystem.",
  "CONFIG-REWRITE-FORCE-ALL",
  "    Like CONFIG REWRITE but writes all configuration options, including",
  "    keywords not listed in original configuration file or default values.",
  "CRASH-AND-RECOVER [<milliseconds>]",
  "    Hard crash and restart after a <milliseconds> delay (default 0).",
  "DIGEST",
  "    Output a hex signature representing the current DB content.",
  "DIGEST-VALUE <key> [<key> ...]",
  "    Output a hex signature of the values of all the specified keys.",
  "ERROR <string>",
  "    Return a Redis protocol error with <string> as message. Useful for clients",
  "    unit tests to simulate Redis errors.",
  "LEAK <string>",
  "    Create a memory leak of the input string.",
  "LOG <message>",
  "    Write <message> to the server log.",
  "HTSTATS <dbid>",
  "    Return hash table statistics of the specified Redis database.",
  "HTSTATS-KEY <key>",
  "    Like HTSTATS but for the hash table stored at <key>'s value.",
  "LOADAOF",
  "    Flush the AOF buffers on disk and reload the AOF in memory.",
  "REPLICATE <string>",
  "    Replicates the provided string to replicas, allowing data divergence.",
  "MALLCTL <key> [<val>]",
  "    Get or set a malloc tuning integer.",
  "MALLCTL-STR <key> [<val>]",
  "    Get or set a malloc tuning string.",
  "OBJECT <key>",
  "    Show low level info about `key` and associated value.",
  "DROP-CLUSTER-PACKET-FILTER <packet-type>",
  "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
  "OOM",
  "    Crash the server simulating an out-of-memory error.",
  "PANIC",
  "    Crash the server simulating a panic.",
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
  "    Examples:",
  "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
  "      the database.",
  "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
  "      existing RDB file.",
  "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
  "      file to the database.",
  "RESTART [<milliseconds>]",
  "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
  "SDSLEN <key>",
  "    Show low level SDS string info representing `key` and value.",
  "SEGFAULT",
  "    Crash the server with sigsegv.",
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default.",
  "QUICKLIST-PACKED-THRESHOLD <size>",
  "    Sets the threshold for elements to be inserted as plain vs packed nodes",
  "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
  "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
  "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
  "STRINGMATCH-TEST",
  "    Run a fuzz tester against the stringmatchlen() function.",
  "STRUCTSIZE",
  "    Return the size of different Redis core C structures.",
  "LISTPACK <key>",
  "    Show low level info about the listpack encoding of <key>.",
  "QUICKLIST <key> [<0|1>]",
  "    Show low level info about the quicklist encoding of <key>.",
  "    The optional argument (0 by default) sets the level of detail",
  "CLIENT-EVICTION",
  "    Show low level client eviction pools info (maxmemory-clients).",
  "PAUSE-CRON <0|1>",
  "    Stop periodic cron job processing.",
  "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
  "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
  "    In case NEVER is provided the last observed peak will never be reset",
  "    In case RESET is provided the peak reset time will be restored to the default value",
  "REPLYBUFFER RESIZING <0|1>",
  "    Enable or disable the reply buffer resize cron job",
  "CLUSTERLINK KILL <to|from|all> <node-id>",
  "    Kills the link based on the direction to/from (both) with the provided node.",
];

function unknown(argv: string[]): never {
  fail(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`);
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
  const fresh = server.dbs.map((db) => new Database(db.id, db.clock));
  // MERGE with NOFLUSH: the file's keys win over the ones held (RDBFLAGS_ALLOW_DUP).
  const sink = new DatabaseLoadSink(noflush ? server.dbs : fresh, merge);
  try {
    parseRdbFileSync(path, sink, { maxDatabases: server.dbs.length, verifyChecksum: !server.skipChecksumValidation, ...encodingThresholds(server.config) });
    // Function libraries as Redis loads them: a flush empties them first; without one, a
    // library of the file that is already loaded fails the load unless MERGE replaces it.
    if (noflush && !merge) {
      for (const name of sink.functions.keys()) if (server.functions.has(name)) throw new Error(`Library '${name}' already exists`);
    }
  } catch (e) {
    server.log.warning(`Error trying to load the RDB dump: ${(e as Error).message}`);
    fail("ERR Error trying to load the RDB dump");
  }
  if (!noflush) {
    for (let i = 0; i < server.dbs.length; i++) server.dbs[i]!.swapContents(fresh[i]!);
    server.functions.clear();
  }
  for (const [name, f] of sink.functions) server.functions.set(name, { engine: f.engine, code: f.code });
  server.signalFlushedDb(-1);
  server.log.notice("DB reloaded by DEBUG RELOAD");
  c.reply.ok();
}

/**
 * DEBUG LOADAOF: the AOF written out, the dataset emptied and loaded back from the AOF's files
 * (loadAppendOnlyFiles), nothing of it propagated. A failed load stops the server, as Redis.
 */
function loadAof(c: Client): void {
  const server = c.server;
  const aof = aofOf(server);
  if (!existsSync(aof.manifestPath)) fail("ERR DEBUG LOADAOF needs an append only file (appendonly yes, or a BGREWRITEAOF)");
  if (c.denyBlocking) fail("ERR DEBUG LOADAOF can't run inside MULTI or a script");
  aof.flush();
  for (const db of server.dbs) db.swapContents(new Database(db.id, db.clock));
  server.functions.clear();
  server.signalFlushedDb(-1);
  const repl = replicationOf(server);
  repl.suspendOrigination(true);
  // Not propagated (Redis resets server.dirty): written to the AOF being loaded, the loader
  // would read it back and load again.
  c.preventPropagation = true;
  c.blocked = true;
  void loadAppendOnlyFiles(server).then((r) => {
    repl.suspendOrigination(false);
    if (r.status === "failed") {
      server.log.warning("DEBUG LOADAOF failed: exiting, as Redis does.");
      process.exit(1);
    }
    server.dirty = 0;
    server.log.warning("Append Only File loaded by DEBUG LOADAOF");
    c.reply.ok();
    c.flush();
    c.resumeInput();
  });
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
    if (db.has(key)) continue;
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

/** Strings DEBUG LEAK keeps for good, per server. */
const leaks = new WeakMap<Server, string[]>();

/** C's atoi: the leading integer, 0 when there is none. */
function atoi(text: string): number {
  const n = Number.parseInt(text, 10);
  return Number.isNaN(n) ? 0 : n;
}

/** getLongFromObjectOrReply / getLongLongFromObjectOrReply. */
function longArg(text: string): number {
  const v = parseLongLong(text);
  if (v === null) fail("ERR value is not an integer or out of range");
  return Number(v);
}

/** DEBUG SLEEP: strtod's leading number of seconds (0 when none); negative sleeps nothing. */
function sleepSeconds(text: string): number {
  const n = Number.parseFloat(text);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** DEBUG STRINGMATCH-TEST: random patterns against random strings (stringmatchlen_fuzz_test); no crash, no hang. */
function stringmatchFuzz(): void {
  const random = (max: number) => {
    let out = "";
    const len = Math.floor(Math.random() * max);
    for (let i = 0; i < len; i++) out += String.fromCharCode(Math.floor(Math.random() * 256));
    return out;
  };
  for (let i = 0; i < 100000; i++) globMatch(random(32), random(32), false);
}

/** DEBUG CLIENT-EVICTION: clients by memory use in Redis's buckets (32 KB doubling up to 8 GB). */
function clientEvictionBuckets(c: Client): string {
  const MIN_LOG = 15;
  const BUCKETS = 33 - MIN_LOG + 1;
  const sums = new Array<number>(BUCKETS).fill(0);
  const counts = new Array<number>(BUCKETS).fill(0);
  for (const other of c.server.clients.values()) {
    if (other.replica || other.isMaster) continue;
    const mem = clientMemory(other);
    let b = 0;
    while (b < BUCKETS - 1 && mem >= 2 ** (b + MIN_LOG)) b++;
    sums[b]! += mem;
    counts[b]!++;
  }
  let out = "";
  const pad = (n: number) => String(n).padStart(10);
  for (let j = 0; j < BUCKETS; j++) {
    out += j === 0 ? "bucket          0" : `bucket ${pad(2 ** (j - 1 + MIN_LOG))}`;
    out += j === BUCKETS - 1 ? "+            : " : ` - ${pad(2 ** (j + MIN_LOG) - 1)}: `;
    out += `tot-mem: ${pad(sums[j]!)}, clients: ${counts[j]}\n`;
  }
  return out;
}

export const handlers: HandlerMap = {
  debug(c, argv) {
    const sub = argv[1]!.toLowerCase();
    const server = c.server;
    const n = argv.length;
    switch (sub) {
      case "help":
        if (n !== 2) break;
        return replyHelp(c, "DEBUG", HELP);
      case "segfault":
        return debugSegfault(c, argv);
      case "panic":
        return debugPanic(c, argv);
      case "assert":
        return debugAssert(c, argv);
      case "oom":
        return debugOom(c, argv);
      case "restart":
      case "crash-and-recover": {
        if (n >= 3) longArg(argv[2]!);
        server.log.warning("Can't restart: Replicant cannot re-execute itself in place (Redis uses execve); restart it from its supervisor.");
        fail("ERR failed to restart the server. Check server logs.");
      }
      case "log":
        if (n !== 3) break;
        server.log.warning(`DEBUG LOG: ${argv[2]}`);
        return c.reply.ok();
      case "leak": {
        if (n !== 3) break;
        let kept = leaks.get(server);
        if (!kept) leaks.set(server, (kept = []));
        kept.push(argv[2]!);
        return c.reply.ok();
      }
      case "reload":
        return reload(c, argv);
      case "loadaof":
        return loadAof(c);
      case "drop-cluster-packet-filter":
        if (n !== 3) break;
        longArg(argv[2]!);
        return c.reply.ok();
      case "object":
        if (n !== 3) break;
        return debugObject(c, argv[2]!);
      case "sdslen":
        if (n !== 3) break;
        return debugSdslen(c, argv[2]!);
      case "listpack":
        if (n !== 3) break;
        return debugListpack(c, argv[2]!);
      case "quicklist":
        if (n !== 3 && n !== 4) break;
        return debugQuicklist(c, argv[2]!, argv[3]);
      case "populate":
        if (n < 3 || n > 5) break;
        return populate(c, argv);
      case "digest":
        if (n !== 2) break;
        return c.reply.simple(datasetDigest(server.dbs));
      case "digest-value":
        c.reply.array(n - 2);
        for (let j = 2; j < n; j++) c.reply.simple(valueDigest(c.db, argv[j]!));
        return;
      case "protocol":
        if (n !== 3) break;
        return protocol(c, argv[2]!);
      case "sleep":
        if (n !== 3) break;
        Bun.sleepSync(sleepSeconds(argv[2]!) * 1000);
        return c.reply.ok();
      case "set-active-expire":
        if (n !== 3) break;
        server.activeExpireEnabled = atoi(argv[2]!) !== 0;
        return c.reply.ok();
      case "quicklist-packed-threshold": {
        if (n !== 3) break;
        // memtoull, then quicklistisSetPackedThreshold: at most 4 GB - 1 MB, 0 for the default.
        const v = parseMemory(argv[2]!);
        if (v === null || v < 0 || v > 2 ** 32 - 2 ** 20) fail("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
        server.config.quicklistPackedThreshold = v === 0 ? 1 << 30 : v;
        return c.reply.ok();
      }
      case "set-skip-checksum-validation":
        if (n !== 3) break;
        server.skipChecksumValidation = atoi(argv[2]!) !== 0;
        return c.reply.ok();
      case "aof-flush-sleep":
        if (n !== 3) break;
        return c.reply.ok();
      case "replicate":
        if (n < 3) break;
        replicationOf(server).debugReplicate(argv.slice(2));
        return c.reply.ok();
      case "error":
        if (n !== 3) break;
        return c.reply.error(argv[2]!.replace(/[\r\n]/g, " "));
      case "htstats":
        if (n !== 3) break;
        return debugHtstats(c, longArg(argv[2]!));
      case "htstats-key":
        if (n !== 3) break;
        return debugHtstatsKey(c, argv[2]!);
      case "change-repl-id": {
        if (n !== 2) break;
        server.log.warning("Changing replication IDs after receiving DEBUG change-repl-id");
        const repl = replicationOf(server);
        repl.replid = newReplicationId();
        repl.clearReplicationId2();
        return c.reply.ok();
      }
      case "stringmatch-test":
        if (n !== 2) break;
        stringmatchFuzz();
        return c.reply.simple("Apparently Redis did not crash: test passed");
      case "set-disable-deny-scripts":
        if (n !== 3) break;
        server.scriptDisableDenyScript = atoi(argv[2]!) !== 0;
        return c.reply.ok();
      case "config-rewrite-force-all":
        if (n !== 2) break;
        // Without a config file Redis's rewriteConfig(NULL) fails with EFAULT.
        if (!server.config.configFile) fail("ERR CONFIG-REWRITE-FORCE-ALL failed: Bad address");
        try {
          rewriteConfigFile(server, true);
        } catch (e) {
          fail(`ERR CONFIG-REWRITE-FORCE-ALL failed: ${strerror(e)}`);
        }
        return c.reply.ok();
      case "client-eviction":
        if (n !== 2) break;
        if (server.config.num("maxmemory-clients") === 0) fail("ERR maxmemory-clients is disabled.");
        return c.reply.verbatim(clientEvictionBuckets(c));
      case "pause-cron":
        if (n !== 3) break;
        server.cronPaused = atoi(argv[2]!) !== 0;
        return c.reply.ok();
      case "replybuffer": {
        if (n !== 4) break;
        const what = argv[2]!.toLowerCase();
        if (what === "peak-reset-time") {
          const v = argv[3]!.toLowerCase();
          if (v !== "never" && v !== "reset") longArg(argv[3]!);
        } else if (what !== "resizing") break;
        return c.reply.ok();
      }
      case "clusterlink":
        if (n !== 5 || argv[2]!.toLowerCase() !== "kill") break;
        fail("ERR Debug option only available for cluster mode enabled setup!");
    }
    unknown(argv);
  },
};
