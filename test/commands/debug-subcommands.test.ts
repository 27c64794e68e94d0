// DEBUG's subcommands side by side with redis-server 7.0.15 (test/commands/debug.test.ts
// covers DIGEST, RELOAD, OBJECT and friends against a master): the same replies and errors,
// the listpack and quicklist dumps printed the same, the switches (PAUSE-CRON,
// SET-SKIP-CHECKSUM-VALIDATION, SET-DISABLE-DENY-SCRIPTS, REPLICATE) doing what Redis's do,
// and the crash subcommands ending the process as Redis does.

import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { removeDir, startRedis, startReplicant, stopServers, tempDir, waitFor } from "../helpers/servers.ts";
import { sideBySide, errorText } from "../helpers/side-by-side.ts";

const DEBUG = ["--enable-debug-command", "yes"];
const REDIS_LIBC = resolve(import.meta.dir, "../../../shared/masters/redis-7.4.1");
const pair = sideBySide(DEBUG);
const { both, same } = pair;

async function fill(): Promise<void> {
  await same("FLUSHALL");
  for (const cmd of [
    ["SET", "s", "hello"],
    ["SET", "n", "123"],
    ["RPUSH", "l", "a", "b", "1"],
    ["HSET", "h", "f", "v", "g", "-3000000", "x", "1.5"],
    ["SADD", "si", "1", "2"],
    ["SADD", "ss", "a", "b"],
    ["ZADD", "z", "1.5", "a", "2", "b", "-7", "c", "1e100", "d"],
    ["RPUSH", "big", ...Array.from({ length: 300 }, (_, i) => String(i * 37)), "x".repeat(100), "hello", "-5", "99999999999"],
  ])
    await same(...cmd);
}

test("DEBUG HELP and the replies and errors of its subcommands are Redis's", async () => {
  await fill();
  const cases = [
    ["HELP"],
    ["HELP", "x"],
    ["NOSUCH"],
    ["JMAP"],
    ["ZIPLIST", "h"],
    ["STRINGMATCH-LEN"],
    ["SDSLEN", "n"],
    ["SDSLEN", "l"],
    ["SDSLEN", "nosuch"],
    ["SDSLEN"],
    ["LISTPACK", "h"],
    ["LISTPACK", "z"],
    ["LISTPACK", "l"],
    ["LISTPACK", "nosuch"],
    ["QUICKLIST", "l"],
    ["QUICKLIST", "l", "1"],
    ["QUICKLIST", "h"],
    ["QUICKLIST", "l", "1", "2"],
    ["HTSTATS", "99"],
    ["HTSTATS", "-1"],
    ["HTSTATS", "x"],
    ["HTSTATS-KEY", "h"],
    ["HTSTATS-KEY", "nosuch"],
    ["CLIENT-EVICTION"],
    ["PAUSE-CRON", "0"],
    ["SET-DISABLE-DENY-SCRIPTS", "0"],
    ["SET-SKIP-CHECKSUM-VALIDATION", "0"],
    ["LEAK", "x"],
    ["REPLYBUFFER", "x", "y"],
    ["REPLYBUFFER", "RESIZING", "1"],
    ["REPLYBUFFER", "PEAK-RESET-TIME", "x"],
    ["REPLYBUFFER", "PEAK-RESET-TIME", "NEVER"],
    ["REPLYBUFFER", "PEAK-RESET-TIME", "reset"],
    ["REPLYBUFFER", "PEAK-RESET-TIME", "100"],
    ["CLUSTERLINK", "KILL", "to", "x"],
    ["CLUSTERLINK", "x"],
    ["DROP-CLUSTER-PACKET-FILTER", "1"],
    ["DROP-CLUSTER-PACKET-FILTER", "x"],
    ["AOF-FLUSH-SLEEP", "0"],
    ["CONFIG-REWRITE-FORCE-ALL"],
    ["RESTART", "x"],
    ["CRASH-AND-RECOVER", "x"],
    ["CHANGE-REPL-ID"],
    ["SLEEP", "0"],
    ["SLEEP", "x"],
    ["SLEEP", "-1"],
    ["SLEEP", "0.01abc"],
    ["ERROR", "a\nb\rc"],
    ["REPLICATE"],
    ["REPLICATE", "SET", "a", "b"],
    ["QUICKLIST-PACKED-THRESHOLD", "1mb"],
    ["QUICKLIST-PACKED-THRESHOLD", "5gb"],
    ["QUICKLIST-PACKED-THRESHOLD", "-1"],
    ["QUICKLIST-PACKED-THRESHOLD", "x"],
    ["QUICKLIST-PACKED-THRESHOLD", "0"],
    ["OBJECT", "nosuch"],
    ["SET-ACTIVE-EXPIRE", "1"],
  ];
  for (const args of cases) await same("DEBUG", ...args);
  // (Redis's fuzz test runs ten million cycles; ours a hundred thousand.)
  expect(await pair.clients[1].call("DEBUG", "STRINGMATCH-TEST")).toBe("Apparently Redis did not crash: test passed");
  // DEBUG OBJECT of a quicklist: the node layout Redis would have.
  const [oa, ob] = (await both("DEBUG", "OBJECT", "big")) as [string, string];
  const fields = (s: string) => s.replace(/Value at:\S+ /, "").replace(/ lru:\d+ lru_seconds_idle:\d+/, "");
  expect(fields(ob)).toBe(fields(oa));
  // Figures that are ours: the same shape.
  const [a, b] = (await both("DEBUG", "SDSLEN", "s")) as [string, string];
  expect(b.replace(/\d+/g, "N")).toBe(a.replace(/\d+/g, "N"));
  const [ha, hb] = (await both("DEBUG", "HTSTATS", "0")) as [string, string];
  expect(hb).toStartWith("[Dictionary HT]\nHash table 0 stats (main hash table):\n table size: 16\n number of elements: 8\n[Expires HT]\n");
  expect(ha).toStartWith("[Dictionary HT]\nHash table 0 stats (main hash table):\n table size: 8\n number of elements: 8\n");
  expect(hb.endsWith("[Expires HT]\nHash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n")).toBe(ha.endsWith("[Expires HT]\nHash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n"));
});

test("DEBUG MALLCTL / MALLCTL-STR / STRUCTSIZE: as a redis-server built without jemalloc (MALLCTL)", async () => {
  for (const args of [["MALLCTL", "x"], ["MALLCTL-STR", "x"], ["STRUCTSIZE"]]) expect(errorText(await pair.clients[1].call("DEBUG", ...args))).toBe(`-ERR unknown subcommand or wrong number of arguments for '${args[0]}'. Try DEBUG HELP.`);
  if (!existsSync(REDIS_LIBC)) return console.log("skipped the libc redis-server comparison: ../shared/masters/redis-7.4.1 is not there");
  const libc = await startRedis(DEBUG, { bin: REDIS_LIBC });
  try {
    const c = await libc.client();
    for (const args of [["MALLCTL", "x"], ["MALLCTL-STR", "x"]]) expect(errorText(await pair.clients[1].call("DEBUG", ...args))).toEqual(errorText(await c.call("DEBUG", ...args)));
  } finally {
    await libc.stop();
    removeDir(libc.dir);
  }
});

test("DEBUG LISTPACK / QUICKLIST print what Redis prints (addresses aside)", async () => {
  await fill();
  // A redis-server of its own: its stdout is a pipe, so its printf output shows when it
  // exits (SIGTERM, which flushes); ours is written at once.
  // (Its log goes to a file, not between the lines of the dumps.)
  const logDir = tempDir();
  const other = await startRedis([...DEBUG, "--logfile", join(logDir, "redis.log")]);
  try {
    const c = await other.client();
    const dump = (await pair.clients[0].call("DUMP", "big")) as string;
    for (const key of ["h", "z", "l"]) await c.call("RESTORE", key, "0", (await pair.clients[0].call("DUMP", key)) as string);
    await c.call("RESTORE", "big", "0", dump);
    const from = pair.ours.output().length;
    const calls = [["LISTPACK", "h"], ["LISTPACK", "z"], ["QUICKLIST", "big", "1"], ["QUICKLIST", "big", "0"], ["QUICKLIST", "l", "1"]];
    for (const args of calls) expect(errorText(await pair.clients[1].call("DEBUG", ...args))).toEqual(errorText(await c.call("DEBUG", ...args)));
    const dumps = (text: string) =>
      text
        .split("\n")
        .filter((l) => /^[\t{}]/.test(l))
        .map((l) => l.replace(/addr: 0x[0-9a-f]+/, "addr: X"))
        .join("\n");
    await waitFor("our dumps", () => pair.ours.output().slice(from).includes("{quicklist node(0)"));
    await other.stop("SIGTERM");
    expect(dumps(pair.ours.output().slice(from))).toBe(dumps(other.output()));
    expect(dumps(other.output())).toContain("{total bytes ");
  } finally {
    await other.stop();
    removeDir(other.dir);
    removeDir(logDir);
  }
});

test("DEBUG PAUSE-CRON stops active expiry; SET-SKIP-CHECKSUM-VALIDATION lets RESTORE take a bad checksum; SET-DISABLE-DENY-SCRIPTS lets scripts call noscript commands", async () => {
  await same("FLUSHALL");
  await same("DEBUG", "PAUSE-CRON", "1");
  await same("SET", "gone", "x", "PX", "50");
  await Bun.sleep(400);
  await same("DBSIZE");
  await same("DEBUG", "PAUSE-CRON", "0");
  await waitFor("active expiry", async () => (await pair.clients[1].call("DBSIZE")) === 0 && (await pair.clients[0].call("DBSIZE")) === 0);

  await same("SET", "src", "value");
  const [payload] = (await both("DUMP", "src")) as [string, string];
  const bad = payload.slice(0, -1) + String.fromCharCode(payload.charCodeAt(payload.length - 1) ^ 1);
  await same("RESTORE", "dst", "0", bad);
  await same("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1");
  await same("RESTORE", "dst", "0", bad);
  await same("GET", "dst");
  await same("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0");

  await same("EVAL", "return redis.call('client','id') > 0", "0");
  await same("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1");
  await same("EVAL", "return redis.call('client','id') > 0", "0");
  await same("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0");
  await same("FLUSHALL");
});

test("DEBUG REPLICATE feeds the replicas what it is given (and the master does not run it)", async () => {
  const master = await startReplicant([...DEBUG, "--repl-diskless-sync-delay", "0"]);
  const replica = await startRedis(["--replicaof", "127.0.0.1", String(master.port)]);
  try {
    await waitFor("sync", async () => String(await replica.call("INFO", "replication")).includes("master_link_status:up"));
    expect(await master.call("DEBUG", "REPLICATE", "SET", "diverged", "1")).toBe("OK");
    await waitFor("the replicated SET", async () => (await replica.call("GET", "diverged")) === "1");
    expect(await master.call("EXISTS", "diverged")).toBe(0);
  } finally {
    for (const s of [replica, master]) {
      await s.stop();
      removeDir(s.dir);
    }
  }
});

test("DEBUG CONFIG-REWRITE-FORCE-ALL writes every directive, defaults included", async () => {
  const dir = tempDir();
  const file = join(dir, "r.conf");
  writeFileSync(file, "maxmemory-policy allkeys-lru\n");
  const s = await startReplicant(DEBUG, { configFile: file });
  try {
    expect(await s.call("CONFIG", "REWRITE")).toBe("OK");
    expect(readFileSync(file, "latin1").split("\n")).not.toContain("hz 10");
    expect(await s.call("DEBUG", "CONFIG-REWRITE-FORCE-ALL")).toBe("OK");
    const lines = readFileSync(file, "latin1").split("\n");
    for (const line of ["maxmemory-policy allkeys-lru", "hz 10", "maxmemory 0", "appendonly no", "timeout 0"]) expect(lines).toContain(line);
  } finally {
    await s.stop();
    removeDir(s.dir);
    removeDir(dir);
  }
});

test("DEBUG SEGFAULT / PANIC / ASSERT / OOM: a bug report in the log, then the process dies by Redis's signal", async () => {
  for (const [sub, signal, line] of [
    ["SEGFAULT", "SIGSEGV", "crashed by signal: 11"],
    ["PANIC", "SIGABRT", "Guru Meditation: DEBUG PANIC called at Unix time"],
    ["ASSERT", "SIGABRT", "=== ASSERTION FAILED ==="],
    ["OOM", "SIGABRT", "Redis aborting for OUT OF MEMORY"],
  ] as const) {
    const s = await startReplicant(DEBUG);
    try {
      const c = await s.client();
      await c.call("DEBUG", sub).catch(() => null);
      await s.proc.exited;
      expect({ sub, signal: s.proc.signalCode }).toEqual({ sub, signal });
      const log = s.output();
      expect(log).toContain("=== REDIS BUG REPORT START: Cut & paste starting from here ===");
      expect(log).toContain(line);
      expect(log).toContain("=== REDIS BUG REPORT END. Make sure to include from START to END. ===");
    } finally {
      await s.stop().catch(() => {});
      removeDir(s.dir);
    }
  }
});

test("DEBUG RELOAD keeps the encodings the thresholds give (a skiplist zset under zset-max-listpack-entries 0)", async () => {
  const s = await startReplicant(["--save", "", "--enable-debug-command", "yes", "--zset-max-listpack-entries", "0"]);
  try {
    await s.call("ZADD", "z", "1", "a", "2", "b");
    expect(await s.call("OBJECT", "ENCODING", "z")).toBe("skiplist");
    expect(await s.call("DEBUG", "RELOAD")).toBe("OK");
    expect(await s.call("OBJECT", "ENCODING", "z")).toBe("skiplist");
    expect(await s.call("ZSCORE", "z", "b")).toBe("2");
  } finally {
    await stopServers([s]);
  }
});

test("DEBUG RELOAD and function libraries: a flush reloads them from the file, NOFLUSH refuses one already loaded, MERGE replaces it", async () => {
  const lib = (name: string, reply: string) => `#!lua name=${name}\nredis.register_function('${name}', function() return '${reply}' end)`;
  await pair.same("FUNCTION", "FLUSH");
  await pair.same("FUNCTION", "LOAD", lib("test", "one"));
  await pair.same("DEBUG", "RELOAD", "NOFLUSH");
  await pair.same("DEBUG", "RELOAD", "NOFLUSH", "MERGE");
  await pair.same("FUNCTION", "LIST");
  // A library loaded after the save goes away with a flushing reload of that save...
  await pair.same("DEBUG", "RELOAD");
  await pair.same("FUNCTION", "LOAD", lib("test2", "two"));
  await pair.same("DEBUG", "RELOAD", "NOSAVE");
  await pair.same("FCALL", "test2", 0);
  await pair.same("FCALL", "test", 0);
  // ...and stays with NOFLUSH MERGE.
  await pair.same("FUNCTION", "LOAD", lib("test2", "two"));
  await pair.same("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE");
  await pair.same("FCALL", "test2", 0);
  await pair.same("FUNCTION", "FLUSH");
});
