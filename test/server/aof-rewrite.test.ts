// BGREWRITEAOF with appendonly off, side by side with redis-server 7.0: the same replies (and
// the scheduling behind a BGSAVE), the same appendonlydir (base file named by sequence, the
// manifest, the previous base removed), a base file redis-server loads back with the same
// digest, in RDB form and in command form (aof-use-rdb-preamble no, the same commands).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type RespClient } from "../helpers/resp-client.ts";
import { parseInfo, type ServerProcess, startRedis, startReplicant, waitFor, stopServers } from "../helpers/servers.ts";
import { errorText } from "../helpers/side-by-side.ts";

const ARGS = ["--enable-debug-command", "yes"];
let servers: ServerProcess[];
let clients: RespClient[];

beforeAll(async () => {
  servers = await Promise.all([startRedis(ARGS), startReplicant(ARGS)]);
  clients = await Promise.all(servers.map((s) => s.client()));
});

afterAll(() => stopServers(servers ?? []));

async function same(...args: Array<string | number>): Promise<unknown> {
  const [a, b] = (await Promise.all(clients.map((c) => c.call(...args)))).map(errorText);
  expect({ args, reply: b }).toEqual({ args, reply: a });
  return b;
}

async function fill(): Promise<void> {
  await same("FLUSHALL");
  await same("FUNCTION", "FLUSH");
  const commands = [
    ["SET", "s", "hello"],
    ["SET", "n", "12345"],
    ["SET", "ttl", "v", "PXAT", String(Date.now() + 3_600_000)],
    ["RPUSH", "l", ...Array.from({ length: 150 }, (_, i) => `e${i}`)],
    ["SADD", "si", "3", "1", "2"],
    ["SADD", "ss", ...Array.from({ length: 70 }, (_, i) => `m${i}`)],
    ["ZADD", "z", "1.5", "a", "-2", "b", "1e100", "c", "0.1", "d"],
    ["HSET", "h", ...Array.from({ length: 80 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
    ["XADD", "x", "1-1", "a", "1"],
    ["XADD", "x", "2-1", "b", "2"],
    ["XADD", "x", "3-1", "c", "3"],
    ["XDEL", "x", "3-1"],
    ["XGROUP", "CREATE", "x", "g2", "0"],
    ["XGROUP", "CREATE", "x", "g1", "$"],
    ["XGROUP", "CREATECONSUMER", "x", "g1", "idle"],
    ["XADD", "empty", "5-5", "f", "v"],
    ["XDEL", "empty", "5-5"],
    ["SELECT", "3"],
    ["SET", "other", "db3"],
    ["SELECT", "0"],
    ["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)"],
  ];
  for (const c of commands) await same(...c);
  // A pending entry with a fixed delivery time and count.
  await same("XCLAIM", "x", "g2", "alice", "0", "1-1", "TIME", "1700000000000", "RETRYCOUNT", "3", "FORCE", "JUSTID");
}

function aofFiles(s: ServerProcess): string[] {
  const dir = join(s.dir, "appendonlydir");
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

async function rewritten(s: ServerProcess, c: RespClient, count: number): Promise<void> {
  await waitFor("the rewrite", async () => {
    const info = parseInfo(await c.call("INFO", "persistence"));
    return info.aof_rewrite_in_progress === "0" && info.aof_rewrite_scheduled === "0" && Number(info.aof_rewrites) === count;
  });
  expect(parseInfo(await c.call("INFO", "persistence")).aof_last_bgrewrite_status).toBe("ok");
  void s;
}

/** A fresh redis-server loading `dir`'s AOF: its DEBUG DIGEST and function list. */
async function loadedBack(dir: string): Promise<[unknown, unknown]> {
  const loader = await startRedis([...ARGS, "--appendonly", "yes"], { dir });
  try {
    return [await loader.call("DEBUG", "DIGEST"), await loader.call("FUNCTION", "LIST")];
  } finally {
    await loader.stop();
  }
}

test("BGREWRITEAOF: the same replies, files, manifest; redis-server loads our base file back (RDB form)", async () => {
  await fill();
  await same("BGREWRITEAOF");
  await Promise.all(servers.map((s, i) => rewritten(s, clients[i]!, 1)));
  expect(aofFiles(servers[1]!)).toEqual(aofFiles(servers[0]!));
  expect(aofFiles(servers[1]!)).toEqual(["appendonly.aof.1.base.rdb", "appendonly.aof.manifest"]);
  const manifest = (s: ServerProcess) => readFileSync(join(s.dir, "appendonlydir", "appendonly.aof.manifest"), "latin1");
  expect(manifest(servers[1]!)).toBe(manifest(servers[0]!));
  // A second rewrite: the next sequence number, the first base removed.
  await same("BGREWRITEAOF");
  await Promise.all(servers.map((s, i) => rewritten(s, clients[i]!, 2)));
  expect(aofFiles(servers[1]!)).toEqual(["appendonly.aof.2.base.rdb", "appendonly.aof.manifest"]);
  expect(manifest(servers[1]!)).toBe(manifest(servers[0]!));
  const digest = await clients[0]!.call("DEBUG", "DIGEST");
  expect(await loadedBack(servers[1]!.dir)).toEqual([digest, await clients[0]!.call("FUNCTION", "LIST")]);
});

test("BGREWRITEAOF in command form (aof-use-rdb-preamble no): Redis's commands, loaded back the same", async () => {
  await fill();
  await same("CONFIG", "SET", "aof-use-rdb-preamble", "no");
  const before = Number(parseInfo(await clients[1]!.call("INFO", "persistence")).aof_rewrites);
  await same("BGREWRITEAOF");
  await Promise.all(servers.map((s, i) => rewritten(s, clients[i]!, before + 1)));
  const base = (s: ServerProcess) => aofFiles(s).find((f) => f.endsWith(".base.aof"))!;
  expect(base(servers[1]!)).toBe(base(servers[0]!));
  // The same commands; keys come in each one's keyspace order, so compare per key.
  const commands = (s: ServerProcess) => {
    const text = readFileSync(join(s.dir, "appendonlydir", base(s)), "latin1");
    const out: string[] = [];
    let p = 0;
    while (p < text.length) {
      const n = Number(text.slice(p + 1, text.indexOf("\r\n", p)));
      p = text.indexOf("\r\n", p) + 2;
      const argv: string[] = [];
      for (let i = 0; i < n; i++) {
        const len = Number(text.slice(p + 1, text.indexOf("\r\n", p)));
        p = text.indexOf("\r\n", p) + 2;
        argv.push(text.slice(p, p + len));
        p += len + 2;
      }
      // A hashtable set's members come in its table's order: compare them as a set.
      if (argv[0] === "SADD") for (const m of argv.slice(2)) out.push(`SADD ${argv[1]} ${m}`);
      else out.push(argv.join(" "));
    }
    return out.sort();
  };
  expect(commands(servers[1]!)).toEqual(commands(servers[0]!));
  const digest = await clients[0]!.call("DEBUG", "DIGEST");
  expect((await loadedBack(servers[1]!.dir))[0]).toEqual(digest);
  await same("CONFIG", "SET", "aof-use-rdb-preamble", "yes");
});

test("BGREWRITEAOF inside EXEC is scheduled, then run by the cron, as in Redis", async () => {
  await fill();
  const count = async (c: RespClient) => Number(parseInfo(await c.call("INFO", "persistence")).aof_rewrites);
  const before = await Promise.all(clients.map(count));
  await same("MULTI");
  await same("BGREWRITEAOF");
  await same("EXEC");
  await Promise.all(servers.map((s, i) => rewritten(s, clients[i]!, before[i]! + 1)));
});

test("BGREWRITEAOF while a BGSAVE holds the dataset: scheduled; BGSAVE during a rewrite: Redis's error, or scheduled", async () => {
  const c = clients[1]!;
  await c.call("FLUSHALL");
  // Enough keys for the saves to take a while.
  await c.call("DEBUG", "POPULATE", "1500000", "key", "20");
  const info = async () => parseInfo(await c.call("INFO", "persistence"));
  const rewrites = Number((await info()).aof_rewrites);
  expect(await c.call("BGSAVE")).toBe("Background saving started");
  expect(await c.call("BGREWRITEAOF")).toBe("Background append only file rewriting scheduled");
  expect((await info()).aof_rewrite_scheduled).toBe("1");
  expect(errorText(await c.call("BGREWRITEAOF"))).toBe("Background append only file rewriting scheduled");
  // The save ends, the cron starts the rewrite.
  await waitFor("the rewrite to start", async () => (await info()).aof_rewrite_in_progress === "1", 60000, 5);
  expect(errorText(await c.call("BGSAVE"))).toBe("-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
  expect(errorText(await c.call("BGREWRITEAOF"))).toBe("-ERR Background append only file rewriting already in progress");
  expect(await c.call("BGSAVE", "SCHEDULE")).toBe("Background saving scheduled");
  await rewritten(servers[1]!, c, rewrites + 1);
  await waitFor("the scheduled save", async () => (await info()).rdb_bgsave_in_progress === "0" && Number((await info()).rdb_saves) >= 2, 60000);
  await c.call("FLUSHALL");
}, 120000);
