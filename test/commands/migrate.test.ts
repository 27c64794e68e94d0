// MIGRATE side by side with redis-server 7.0.15: each source migrates to a target
// redis-server of its own; the replies, what the targets receive, what the sources keep, the
// DEL replicated for the keys that left, the cached connection (SELECT sent once), and the
// IOERR errors for a refused, unresolvable or silent target.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { type RespClient } from "../helpers/resp-client.ts";
import { removeDir, type ServerProcess, startRedis, startReplicant, waitFor, waitForSync, stopServers } from "../helpers/servers.ts";
import { errorText } from "../helpers/side-by-side.ts";

let sources: ServerProcess[];
let targets: ServerProcess[];
let src: RespClient[];
let dst: RespClient[];

beforeAll(async () => {
  sources = await Promise.all([startRedis([]), startReplicant(["--repl-diskless-sync-delay", "0"])]);
  targets = await Promise.all([startRedis(["--requirepass", "pw"]), startRedis(["--requirepass", "pw"])]);
  src = await Promise.all(sources.map((s) => s.client()));
  dst = await Promise.all(targets.map((s) => s.client()));
  for (const c of dst) await c.call("AUTH", "pw");
});

afterAll(() => stopServers([...(sources ?? []), ...(targets ?? [])]));

/** The same MIGRATE (with `{port}` standing for each one's target) on both sources. */
async function migrateBoth(...args: string[]): Promise<unknown> {
  const replies = await Promise.all(src.map((c, i) => c.call("MIGRATE", ...args.map((a) => a.replace("{port}", String(targets[i]!.port))))));
  const [a, b] = replies.map(errorText);
  expect({ args, reply: b }).toEqual({ args, reply: a });
  return b;
}

async function onBoth(clients: RespClient[], ...args: Array<string | number>): Promise<unknown> {
  const [a, b] = (await Promise.all(clients.map((c) => c.call(...args)))).map(errorText);
  expect({ args, reply: b }).toEqual({ args, reply: a });
  return b;
}

async function reset(): Promise<void> {
  await onBoth(src, "FLUSHALL");
  await onBoth(dst, "FLUSHALL");
  for (const cmd of [
    ["SET", "s", "value"],
    ["SET", "ttl", "v", "PX", "100000"],
    ["RPUSH", "l", "a", "b", "c"],
    ["HSET", "h", "f", "v"],
    ["ZADD", "z", "1", "m"],
    ["XADD", "x", "1-1", "f", "v"],
  ])
    await onBoth(src, ...cmd);
}

test("MIGRATE moves keys (TTL kept), refuses an existing target key unless REPLACE, keeps them with COPY; KEYS; errors", async () => {
  await reset();
  await migrateBoth("127.0.0.1", "{port}", "s", "0", "1000", "AUTH", "pw");
  await onBoth(src, "EXISTS", "s");
  await onBoth(dst, "GET", "s");
  await migrateBoth("127.0.0.1", "{port}", "ttl", "0", "1000", "AUTH", "pw");
  for (const c of dst) expect(Number(await c.call("PTTL", "ttl"))).toBeGreaterThan(90000);
  // The target has it already.
  await onBoth(src, "SET", "s", "again");
  await migrateBoth("127.0.0.1", "{port}", "s", "0", "1000", "AUTH", "pw");
  await onBoth(src, "GET", "s");
  await migrateBoth("127.0.0.1", "{port}", "s", "0", "1000", "COPY", "REPLACE", "AUTH", "pw");
  await onBoth(src, "GET", "s");
  await onBoth(dst, "GET", "s");
  // Several keys, another db, one of them missing.
  await migrateBoth("127.0.0.1", "{port}", "", "5", "1000", "AUTH2", "default", "pw", "KEYS", "l", "nosuch", "h", "z", "x");
  await onBoth(src, "EXISTS", "l", "h", "z", "x");
  await onBoth(dst, "SELECT", "5");
  for (const cmd of [["LRANGE", "l", "0", "-1"], ["HGETALL", "h"], ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["XRANGE", "x", "-", "+"]]) await onBoth(dst, ...cmd);
  await onBoth(dst, "SELECT", "0");
  await migrateBoth("127.0.0.1", "{port}", "nosuch", "0", "1000");
  // A wrong password: the target's error.
  await onBoth(src, "SET", "k", "v");
  await migrateBoth("127.0.0.1", "{port}", "k", "0", "1000", "AUTH", "wrong");
  await onBoth(src, "EXISTS", "k");
  await migrateBoth("127.0.0.1", "{port}", "k", "0", "1000");
  for (const bad of [
    ["k", "0", "1000", "AUTH"],
    ["k", "0", "1000", "AUTH2", "u"],
    ["k", "0", "1000", "NOSUCH"],
    ["k", "0", "1000", "KEYS", "a"],
    ["k", "x", "1000"],
    ["k", "0", "x"],
  ])
    await migrateBoth("127.0.0.1", "{port}", ...bad);
  await onBoth(src, "MIGRATE", "127.0.0.1", "1", "k", "0", "1000");
  // From a transaction and from a script (the server waits for the target there too).
  await onBoth(src, "MULTI");
  await Promise.all(src.map((c, i) => c.call("MIGRATE", "127.0.0.1", String(targets[i]!.port), "k", "0", "1000", "REPLACE", "AUTH", "pw")));
  await onBoth(src, "EXEC");
  await onBoth(src, "SET", "k2", "v");
  const script = "return redis.call('migrate', '127.0.0.1', ARGV[1], 'k2', '0', '1000', 'AUTH', 'pw')";
  const [a, b] = await Promise.all(src.map((c, i) => c.call("EVAL", script, "0", String(targets[i]!.port))));
  expect(errorText(b!)).toEqual(errorText(a!));
  await onBoth(dst, "GET", "k2");
});

test("MIGRATE to a target that is not there: Redis's IOERR errors", async () => {
  await reset();
  // Refused (Redis only sees it when writing), unresolvable, a port number Redis cuts to 16 bits.
  await onBoth(src, "MIGRATE", "127.0.0.1", "1", "s", "0", "200");
  await onBoth(src, "MIGRATE", "no-such-host.invalid", "6379", "s", "0", "200");
  await onBoth(src, "MIGRATE", "127.0.0.1", "65537", "s", "0", "200");
  // A target that accepts but never answers: the read times out.
  const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const started = Date.now();
    await onBoth(src, "MIGRATE", "127.0.0.1", String(silent.port), "s", "0", "300");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await onBoth(src, "EXISTS", "s");
  } finally {
    silent.stop(true);
  }
});

test("MIGRATE keeps the connection: SELECT once, INFO's migrate_cached_sockets", async () => {
  await reset();
  const monitors = await Promise.all(targets.map((t) => t.client()));
  const seen: string[][] = [[], []];
  for (const [i, m] of monitors.entries()) {
    await m.call("AUTH", "pw");
    m.writeRaw("*1\r\n$7\r\nMONITOR\r\n");
    await m.reply();
    void (async () => {
      for (;;) {
        const line = await m.reply().catch(() => null);
        if (line === null) return;
        seen[i]!.push(String(line).replace(/^[\d.]+ \[\d+ [^\]]+\] /, ""));
      }
    })();
  }
  await migrateBoth("127.0.0.1", "{port}", "s", "3", "1000", "AUTH", "pw");
  await migrateBoth("127.0.0.1", "{port}", "l", "3", "1000", "AUTH", "pw");
  await waitFor("both targets' MONITOR lines", () => seen.every((s) => s.filter((l) => l.startsWith('"RESTORE"')).length === 2));
  // The same commands, byte for byte (the DUMP payloads included).
  expect(seen[1]).toEqual(seen[0]!);
  expect(seen[0]!.filter((l) => l.startsWith('"SELECT"')).length).toBe(1);
  const cached = async (c: RespClient) => String(await c.call("INFO", "stats")).match(/migrate_cached_sockets:(\d+)/)![1];
  expect(await cached(src[1]!)).toBe(await cached(src[0]!));
  expect(await cached(src[1]!)).toBe("1");
  for (const m of monitors) m.close();
});

test("MIGRATE on a master: its replicas get DEL of the keys that left", async () => {
  const replica = await startRedis(["--replicaof", "127.0.0.1", String(sources[1]!.port)]);
  try {
    await reset();
    await waitForSync(sources[1]!, replica);
    expect(await replica.call("EXISTS", "s", "l", "h")).toBe(3);
    expect(await src[1]!.call("MIGRATE", "127.0.0.1", String(targets[1]!.port), "", "0", "1000", "AUTH", "pw", "KEYS", "s", "l")).toBe("OK");
    await waitForSync(sources[1]!, replica);
    expect(await replica.call("EXISTS", "s", "l", "h")).toBe(1);
    // COPY changes nothing here: nothing to replicate.
    expect(await src[1]!.call("MIGRATE", "127.0.0.1", String(targets[1]!.port), "h", "0", "1000", "COPY", "AUTH", "pw")).toBe("OK");
    await waitForSync(sources[1]!, replica);
    expect(await replica.call("EXISTS", "h")).toBe(1);
  } finally {
    await replica.stop();
    removeDir(replica.dir);
  }
});
