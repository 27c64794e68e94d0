// maxmemory, side by side with redis-server: the per-key LRU clock / LFU counter (OBJECT
// IDLETIME / FREQ, RESTORE IDLETIME / FREQ), -OOM for deny-oom commands when nothing can be
// evicted (plain, in MULTI, in scripts), eviction under each policy (used memory back under the
// limit, volatile policies keep the keys without a TTL), and what an eviction tells others: the
// "evicted" keyspace event and a DEL on the replication stream.

import { describe, expect, test } from "bun:test";
import { sideBySide } from "../helpers/side-by-side.ts";
import { FakeReplica } from "../helpers/fake-replica.ts";
import { RespClient, RespError } from "../helpers/resp-client.ts";
import { info, waitFor } from "../helpers/servers.ts";

const pair = sideBySide(["--repl-ping-replica-period", "3600", "--enable-debug-command", "yes"]);

async function bothConfig(...args: string[]): Promise<void> {
  await pair.same("CONFIG", "SET", ...args);
}

describe("LRU clock and LFU counter", () => {
  test("RESTORE IDLETIME then OBJECT IDLETIME; RESTORE FREQ then OBJECT FREQ", async () => {
    await pair.same("FLUSHALL");
    await pair.same("SET", "foo", "bar");
    const [dumpRedis, dumpOurs] = await pair.both("DUMP", "foo");
    expect(dumpOurs).toEqual(dumpRedis);
    await pair.same("DEL", "foo");
    await bothConfig("maxmemory-policy", "allkeys-lru");
    await pair.same("RESTORE", "foo", 0, dumpOurs as string, "IDLETIME", 1000);
    const [idleRedis, idleOurs] = await pair.both("OBJECT", "IDLETIME", "foo");
    expect(idleOurs as number).toBeGreaterThanOrEqual(1000);
    expect(Math.abs((idleOurs as number) - (idleRedis as number))).toBeLessThanOrEqual(2);
    await pair.same("OBJECT", "FREQ", "foo"); // an error under an LRU policy, the same one
    // A read makes the key just used.
    await pair.same("GET", "foo");
    await pair.same("OBJECT", "IDLETIME", "foo");
    await pair.same("DEL", "foo");
    await bothConfig("maxmemory-policy", "allkeys-lfu");
    await pair.same("RESTORE", "foo", 0, dumpOurs as string, "FREQ", 100);
    await pair.same("OBJECT", "FREQ", "foo");
    await pair.same("OBJECT", "IDLETIME", "foo");
    await pair.same("SET", "fresh", "not-a-shared-integer");
    await pair.same("OBJECT", "FREQ", "fresh"); // LFU_INIT_VAL
    await bothConfig("maxmemory-policy", "noeviction");
  });
});

describe("access data in RDB files (IDLE under an LRU policy, FREQ under an LFU one)", () => {
  test("DEBUG RELOAD keeps idle times and LFU counters, as redis-server's", async () => {
    await pair.same("FLUSHALL");
    await pair.same("SET", "foo", "bar");
    const dump = (await pair.both("DUMP", "foo"))[1] as string;
    await pair.same("DEL", "foo");
    await bothConfig("maxmemory-policy", "allkeys-lru");
    await pair.same("RESTORE", "foo", 0, dump, "IDLETIME", 5000);
    await pair.same("DEBUG", "RELOAD");
    const [a, b] = await pair.both("OBJECT", "IDLETIME", "foo");
    expect(b as number).toBeGreaterThanOrEqual(5000);
    expect(Math.abs((a as number) - (b as number))).toBeLessThanOrEqual(2);
    await pair.same("DEL", "foo");
    await bothConfig("maxmemory-policy", "allkeys-lfu");
    await pair.same("RESTORE", "foo", 0, dump, "FREQ", 77);
    await pair.same("DEBUG", "RELOAD");
    await pair.same("OBJECT", "FREQ", "foo");
    await bothConfig("maxmemory-policy", "noeviction");
  });
});

describe("-OOM when nothing can be evicted", () => {
  test("deny-oom commands are refused; reads, DISCARD and read-only EXEC are not", async () => {
    await pair.same("FLUSHALL");
    await pair.same("SET", "x", "value");
    await bothConfig("maxmemory", "1");
    try {
      await pair.same("SET", "y", "1");
      await pair.same("GET", "x");
      await pair.same("LPUSH", "l", "a");
      await pair.same("DEL", "x2");
      // Queuing in MULTI costs memory: refused, and the transaction is then aborted.
      await pair.same("MULTI");
      await pair.same("GET", "x");
      await pair.same("DISCARD");
      // Scripts: without allow-oom a shebang script is refused before it runs; an old-style
      // script fails at its first write; allow-oom runs anything.
      await pair.same("EVAL", "#!lua\nreturn redis.call('set', 'z', 1)", 0);
      await pair.same("EVAL", "return redis.call('set', 'z', 1)", 0);
      await pair.same("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'z', 1)", 0);
      await pair.same("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'x')", 0);
      await pair.same("INFO", "errorstats").then(() => undefined);
    } finally {
      await bothConfig("maxmemory", "0");
    }
    const [er, eo] = await pair.both("INFO", "errorstats");
    const oomLine = (s: unknown) => String(s).split("\r\n").find((l) => l.startsWith("errorstat_OOM:"));
    expect(oomLine(eo)).toEqual(oomLine(er));
  });

  test("EXEC of a transaction queued before the limit: refused with deny-oom commands, run with reads only", async () => {
    await pair.same("FLUSHALL");
    await pair.same("SET", "x", "value");
    await pair.same("MULTI");
    await pair.same("GET", "x");
    await pair.same("PING");
    await bothConfig("maxmemory", "1");
    try {
      await pair.same("EXEC");
      await bothConfig("maxmemory", "0");
      await pair.same("MULTI");
      await pair.same("SET", "x", "1");
      await pair.same("GET", "x");
      await bothConfig("maxmemory", "1");
      await pair.same("EXEC");
    } finally {
      await bothConfig("maxmemory", "0");
    }
  });
});

/** Fills `client`'s server until used_memory nears a limit 100 KB above its start (Redis's test). */
async function fillToLimit(client: RespClient, write: (i: number) => Promise<unknown>): Promise<{ limit: number; n: number }> {
  const used = Number((await client.call("INFO", "memory") as string).match(/used_memory:(\d+)/)![1]);
  const limit = used + 100 * 1024;
  await client.call("CONFIG", "SET", "maxmemory", String(limit));
  let n = 0;
  for (;;) {
    await write(n++);
    const now = Number((await client.call("INFO", "memory") as string).match(/used_memory:(\d+)/)![1]);
    if (now + 4096 > limit) break;
  }
  return { limit, n };
}

describe("eviction", () => {
  for (const policy of ["allkeys-random", "allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]) {
    test(`${policy}: used memory stays under the limit; volatile policies keep keys without a TTL`, async () => {
      const c = pair.clients[1];
      await c.call("FLUSHALL");
      await c.call("CONFIG", "SET", "maxmemory-policy", policy);
      try {
        const { limit, n } = await fillToLimit(c, (i) => (i % 2 ? c.call("SETEX", `key:${i}`, 10000, "x") : c.call("SET", `key:${i}`, "x")));
        expect(n).toBeGreaterThan(10);
        for (let j = 0; j < n; j++) await c.call("SETEX", `foo:${j}`, 10000, "x");
        // (On this connection: a new one would count its own buffers.)
        const used = Number((await c.call("INFO", "memory") as string).match(/used_memory:(\d+)/)![1]);
        expect(used).toBeLessThan(limit + 4096);
        expect(Number((await info(pair.ours, "stats")).evicted_keys)).toBeGreaterThan(0);
        if (policy.startsWith("volatile-")) {
          for (let j = 0; j < n; j += 2) expect(await c.call("EXISTS", `key:${j}`)).toBe(1);
        }
      } finally {
        await c.call("CONFIG", "SET", "maxmemory", "0");
        await c.call("CONFIG", "SET", "maxmemory-policy", "noeviction");
        await c.call("CONFIG", "RESETSTAT");
      }
    });
  }

  test("a volatile policy with no volatile key left refuses writes with -OOM", async () => {
    const c = pair.clients[1];
    await c.call("FLUSHALL");
    await c.call("CONFIG", "SET", "maxmemory-policy", "volatile-lru");
    try {
      const { n } = await fillToLimit(c, (i) => c.call("SET", `key:${i}`, "x"));
      let oom = 0;
      for (let j = 0; j < n; j++) {
        const r = await c.call("SET", `more:${j}`, "x");
        if (r instanceof RespError && r.message.includes("used memory")) oom++;
      }
      expect(oom).toBeGreaterThan(0);
    } finally {
      await c.call("CONFIG", "SET", "maxmemory", "0");
      await c.call("CONFIG", "SET", "maxmemory-policy", "noeviction");
    }
  });

  test("an evicted key: 'evicted' event and a DEL on the replication stream, as redis-server's", async () => {
    const streams: string[][][] = [];
    const events: unknown[] = [];
    for (const server of [pair.redis, pair.ours]) {
      const c = await server.client();
      await c.call("FLUSHALL");
      await c.call("CONFIG", "SET", "notify-keyspace-events", "Ee");
      await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
      const replica = await FakeReplica.connect(server.port);
      await waitFor("past the RDB", () => replica.synced);
      const sub = await server.client();
      await sub.call("PSUBSCRIBE", "*");
      await c.call("SET", "foo", "bar");
      await c.call("CONFIG", "SET", "maxmemory", "1");
      events.push(await sub.reply());
      await waitFor("the DEL", () => replica.commands.some((cmd) => cmd[0]?.toUpperCase() === "DEL"));
      await c.call("CONFIG", "SET", "maxmemory", "0");
      await c.call("CONFIG", "SET", "maxmemory-policy", "noeviction");
      await c.call("CONFIG", "SET", "notify-keyspace-events", "");
      streams.push(replica.commands.filter((cmd) => !["PING", "REPLCONF"].includes(cmd[0]!.toUpperCase())).map((cmd) => cmd.map((a, i) => (i === 0 ? a.toUpperCase() : a))));
      replica.close();
      sub.close();
      c.close();
    }
    expect(events[1]).toEqual(events[0]);
    expect(streams[1]).toEqual(streams[0]!);
  });
});

describe("a REPLICAOF inside MULTI", () => {
  test("the transaction is not propagated, and what follows the return to master is", async () => {
    const streams: string[][][] = [];
    for (const server of [pair.redis, pair.ours]) {
      const c = await server.client();
      await c.call("FLUSHALL");
      const replica = await FakeReplica.connect(server.port);
      await waitFor("past the RDB", () => replica.synced);
      await c.call("SET", "foo", "bar");
      await c.call("MULTI");
      await c.call("SET", "foo2", "bar");
      await c.call("REPLICAOF", "localhost", "9999");
      await c.call("SET", "foo3", "bar");
      await c.call("EXEC");
      await c.call("REPLICAOF", "NO", "ONE");
      const late = await FakeReplica.connect(server.port);
      await waitFor("past the RDB", () => late.synced);
      await c.call("MULTI");
      await c.call("PUBLISH", "bla", "bla");
      await c.call("EXEC");
      await waitFor(`the PUBLISH (port ${server.port}: ${JSON.stringify(late.commands)})`, () => late.commands.some((cmd) => cmd[0]?.toUpperCase() === "PUBLISH"));
      streams.push([...replica.commands, ["--"], ...late.commands].filter((cmd) => !["PING", "REPLCONF"].includes(cmd[0]!.toUpperCase())).map((cmd) => cmd.map((a, i) => (i === 0 ? a.toUpperCase() : a))));
      replica.close();
      late.close();
      c.close();
    }
    expect(streams[1]).toEqual(streams[0]!);
  });
});

describe("maxmemory-clients", () => {
  test("a client holding a large partial command is evicted; a NO-EVICT one is not; INFO counts it", async () => {
    const results: unknown[] = [];
    for (const server of [pair.redis, pair.ours]) {
      const c = await server.client();
      await c.call("CONFIG", "RESETSTAT");
      await c.call("CLIENT", "NO-EVICT", "ON");
      const flags = String(await c.call("CLIENT", "INFO")).match(/flags=(\S+)/)![1];
      await c.call("CONFIG", "SET", "maxmemory-clients", "200000");
      const sock = await Bun.connect({ hostname: "127.0.0.1", port: server.port, socket: { data() {} } });
      sock.write("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$400000\r\n");
      for (let i = 0; i < 30; i++) sock.write(Buffer.alloc(10000, 120));
      await Bun.sleep(300);
      const evicted = await waitFor("the eviction", async () => {
        await c.call("PING");
        const n = Number(String(await c.call("INFO", "stats")).match(/evicted_clients:(\d+)/)![1]);
        return n > 0 ? n : null;
      });
      await c.call("CONFIG", "SET", "maxmemory-clients", "0");
      results.push({ flags, evicted, alive: await c.call("PING") });
      sock.end();
      c.close();
    }
    expect(results[1]).toEqual(results[0]);
  });
});
