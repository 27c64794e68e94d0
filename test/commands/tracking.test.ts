// Client-side caching (CLIENT TRACKING) side by side with redis-server 7.0: every scenario runs
// on both servers over raw connections, and each connection's bytes must be the same (client
// ids replaced by names): RESP3 pushes and their place among the replies, RESP2 messages
// through REDIRECT, BCAST prefixes, OPTIN / OPTOUT / NOLOOP, flushes, errors, TRACKINGINFO,
// tracking-table-max-keys; then a Replicant replica of a redis-server master, next to a
// redis-server replica of the same master, invalidating what the master's stream changes.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Transcript } from "../helpers/raw-client.ts";
import { RespClient } from "../helpers/resp-client.ts";
import { info, removeDir, type ServerProcess, startRedis, startReplicant, waitFor, waitForSync, stopServers } from "../helpers/servers.ts";

let redis: ServerProcess;
let ours: ServerProcess;

beforeAll(async () => {
  [redis, ours] = await Promise.all([startRedis(["--enable-debug-command", "yes"]), startReplicant(["--enable-debug-command", "yes"])]);
});

afterAll(() => stopServers([redis, ours]));

type Arg = string | number;

/**
 * A transcript connection whose run() sends commands followed by a PING with a token, in one
 * write, and waits for the token to come back: everything the server sent before it is then in
 * the transcript, replies and messages in the order they came.
 */
class Raw extends Transcript {
  id = 0;
  private static tokens = 0;

  static async connect(port: number): Promise<Raw> {
    const r = await Raw.open(port);
    await r.run(["CLIENT", "ID"]);
    r.id = Number(/:(\d+)\r\n/.exec(r.text)![1]);
    r.text = "";
    return r;
  }

  /** Sends the commands and a PING, and waits until the PING's reply arrived. */
  async run(...commands: Arg[][]): Promise<void> {
    const token = `sync-${String(++Raw.tokens).padStart(6, "0")}`;
    const from = this.text.length;
    this.send(...commands, ["PING", token]);
    await this.until(token, from);
  }

  /** Waits until `text` appears in what arrived after offset `from`. */
  until(text: string, from = 0, timeoutMs = 5000): Promise<void> {
    return this.waitUntil(() => this.text.indexOf(text, from) >= 0, JSON.stringify(text), timeoutMs);
  }
}

/** The transcripts of a scenario's connections, with client ids replaced by the names given. */
type Transcripts = Record<string, string>;

async function scenario<N extends string>(port: number, names: N[], body: (conns: Record<N, Raw>) => Promise<void>): Promise<Transcripts> {
  const admin = await RespClient.connect(port);
  await admin.call("FLUSHALL");
  await admin.call("CONFIG", "SET", "tracking-table-max-keys", 1000000);
  admin.close();
  const conns = {} as Record<N, Raw>;
  for (const n of names) conns[n] = await Raw.connect(port);
  try {
    await body(conns);
  } finally {
    for (const n of names) conns[n].close();
  }
  // Token numbers differ between the two runs: drop them, keep their place.
  const out: Transcripts = {};
  for (const n of names) {
    let t = conns[n].text.replace(/sync-\d+/g, "sync");
    // Ids where the protocol shows them: TRACKINGINFO's redirect, the broken-redirect message.
    for (const m of names) t = t.replaceAll(`redirect\r\n:${conns[m].id}\r\n`, `redirect\r\n:<${m}>\r\n`).replaceAll(`tracking-redir-broken\r\n:${conns[m].id}\r\n`, `tracking-redir-broken\r\n:<${m}>\r\n`);
    out[n] = t;
  }
  return out;
}

/** Runs the scenario on redis-server and on Replicant; their transcripts must match. */
async function sideBySide<N extends string>(names: N[], body: (conns: Record<N, Raw>) => Promise<void>): Promise<Transcripts> {
  const expected = await scenario(redis.port, names, body);
  const actual = await scenario(ours.port, names, body);
  for (const n of names) {
    if (actual[n] !== expected[n]) console.log(firstDifference(n, expected[n]!, actual[n]!));
  }
  expect(actual).toEqual(expected);
  return actual;
}

/** Where two transcripts part, with some context, escaped on one line each. */
function firstDifference(name: string, expected: string, actual: string): string {
  let i = 0;
  while (i < expected.length && expected[i] === actual[i]) i++;
  const from = Math.max(0, i - 200);
  return `${name} differs at byte ${i}:\n  redis: ${JSON.stringify(expected.slice(from, i + 200))}\n  ours:  ${JSON.stringify(actual.slice(from, i + 200))}`;
}

test("CLIENT TRACKING's errors, CLIENT CACHING, GETREDIR and TRACKINGINFO as redis-server", async () => {
  const t = await sideBySide(["c", "r"], async ({ c, r }) => {
    const run = (...args: Arg[]) => c.run(args);
    for (const resp of [2, 3]) {
      await run("HELLO", resp);
      c.text = "";
      await run("CLIENT", "TRACKINGINFO");
      await run("CLIENT", "GETREDIR");
      await run("CLIENT", "CACHING", "yes");
      await run("CLIENT", "TRACKING", "maybe");
      await run("CLIENT", "TRACKING", "on", "nosuchoption");
      await run("CLIENT", "TRACKING", "on", "REDIRECT");
      await run("CLIENT", "TRACKING", "on", "REDIRECT", "notanumber");
      await run("CLIENT", "TRACKING", "on", "REDIRECT", 999999);
      await run("CLIENT", "TRACKING", "on", "REDIRECT", 0);
      await run("CLIENT", "TRACKING", "on", "REDIRECT", r.id, "REDIRECT", r.id);
      await run("CLIENT", "TRACKING", "on", "PREFIX", "a");
      await run("CLIENT", "TRACKING", "on", "BCAST", "OPTIN");
      await run("CLIENT", "TRACKING", "on", "BCAST", "OPTOUT");
      await run("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT");
      await run("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO");
      await run("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOO", "PREFIX", "FOOBAR");
      await run("CLIENT", "TRACKINGINFO");
      // Redis 7.0 replies the error and enables tracking (+OK) when a later prefix overlaps.
      await run("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "bc");
      await run("CLIENT", "TRACKINGINFO");
      await run("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "bcd");
      await run("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c", "PREFIX", "\x00d");
      await run("CLIENT", "TRACKING", "on");
      await run("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a\x00b");
      await run("CLIENT", "TRACKINGINFO");
      await run("CLIENT", "TRACKING", "off", "BCAST", "PREFIX", "whatever");
      await run("CLIENT", "TRACKING", "off");
      await run("CLIENT", "TRACKING", "on", "BCAST");
      await run("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x");
      await run("CLIENT", "TRACKINGINFO");
      await run("CLIENT", "TRACKING", "off");
      await run("CLIENT", "TRACKING", "on", "OPTIN", "REDIRECT", r.id, "NOLOOP");
      const from = c.text.length;
      await run("CLIENT", "GETREDIR");
      c.text = c.text.slice(0, from) + c.text.slice(from).replace(`:${r.id}\r\n`, ":<r>\r\n");
      await run("CLIENT", "TRACKING", "on", "BCAST");
      await run("CLIENT", "TRACKING", "on", "OPTOUT");
      await run("CLIENT", "CACHING", "no");
      await run("CLIENT", "CACHING", "maybe");
      c.send(["CLIENT", "CACHING", "yes"], ["CLIENT", "TRACKINGINFO"], ["CLIENT", "GETNAME"], ["CLIENT", "TRACKINGINFO"], ["GET", "x"], ["CLIENT", "TRACKINGINFO"]);
      await run();
      // Tracking on again (same mode): the flags are replaced, CACHING stays.
      c.send(["CLIENT", "CACHING", "yes"], ["CLIENT", "TRACKING", "on"], ["CLIENT", "TRACKINGINFO"]);
      await run();
      await run("CLIENT", "TRACKING", "off");
      await run("CLIENT", "TRACKING", "on", "OPTOUT");
      c.send(["CLIENT", "CACHING", "no"], ["MULTI"], ["GET", "x"], ["CLIENT", "TRACKINGINFO"], ["EXEC"], ["CLIENT", "TRACKINGINFO"]);
      await run();
      await run("CLIENT", "TRACKING", "off");
      await run("CLIENT", "TRACKING", "on", "optin", "noloop");
      await run("CLIENT", "TRACKINGINFO");
      await run("CLIENT", "TRACKING", "off");
      await run("CLIENT", "TRACKINGINFO");
    }
  });
  expect(t.c).toContain("Prefix 'b' overlaps with another provided prefix 'bc'");
});

test("RESP3: invalidation pushes, after the writer's own reply, transactions and scripts", async () => {
  await sideBySide(["c", "w"], async ({ c, w }) => {
    await c.run(["HELLO", 3]);
    c.text = "";
    await w.run(["MSET", "a", 1, "b", 2, "h", "x"]);
    await c.run(["CLIENT", "TRACKING", "on"]);
    await c.run(["GET", "a"], ["MGET", "b", "c", "d"], ["STRLEN", "h"]);
    await w.run(["SET", "a", 2]);
    await c.run();
    await w.run(["DEL", "b", "c"]);
    await c.run();
    // Its own write: the message follows the reply.
    await c.run(["INCR", "a"]);
    await c.run(["GET", "a"]);
    await c.run(["INCR", "a"], ["GET", "a"], ["SET", "a", 5]);
    // A transaction: all the messages after EXEC's reply.
    await c.run(["MGET", "a", "b"]);
    await c.run(["MULTI"], ["INCR", "a"], ["SET", "b", 1], ["GET", "a"], ["GET", "b"], ["EXEC"]);
    await c.run(["HSET", "myhash", "f", 1], ["HGET", "myhash", "f"], ["HDEL", "myhash", "f"]);
    // Scripts: a read remembers the declared keys; a write's message follows EVAL's reply.
    await c.run(["EVAL", "redis.call('set', 'k3', 'bar')", 2, "k1", "k2"]);
    await w.run(["MSET", "k1", 1, "k2", 1]);
    await c.run();
    await c.run(["EVAL", "return redis.call('get', 'k3')", 2, "k1", "k2"]);
    await w.run(["MSET", "k2", 2, "k1", 2, "k3", 2]);
    await c.run();
    await c.run(["EVAL_RO", "return redis.call('ping')", 1, "k1"]);
    await c.run(["EVAL_RO", "return redis.call('get', KEYS[1])", 2, "k1", "k2"]);
    await w.run(["MSET", "k2", 3, "k1", 3]);
    await c.run();
    await c.run(["GET", "k1"], ["EVAL", "return redis.call('set', KEYS[1], 'x')", 1, "k1"]);
    await c.run(["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function{function_name='rd', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}"]);
    await c.run(["FCALL_RO", "rd", 1, "fk"], ["FCALL", "rd", 1, "fk2"]);
    await w.run(["MSET", "fk", 1, "fk2", 1]);
    await c.run(["FUNCTION", "FLUSH"]);
    // Keys of other commands: readonly ones with getkeys procedures and subcommands.
    await c.run(["ZADD", "z1", 1, "m"], ["ZUNION", 2, "z1", "z2"], ["SINTERCARD", 2, "s1", "s2"], ["XREAD", "STREAMS", "x1", "x2", 0, 0], ["SORT_RO", "l1"], ["OBJECT", "ENCODING", "z1"], ["XINFO", "STREAM", "x1"], ["LCS", "a", "b"], ["EXISTS", "e1", "e2"], ["TYPE", "t1"]);
    await w.run(["DEL", "z1", "z2", "s1", "s2", "x1", "x2", "l1", "e1", "e2", "t1"]);
    await c.run();
    // Writes of every kind invalidate: expiry set, rename, move, copy, SWAPDB (not in 7.0).
    await c.run(["MGET", "a", "b", "k1", "fk"]);
    await w.run(["EXPIRE", "a", 100], ["RENAME", "b", "b2"], ["MOVE", "k1", 1], ["COPY", "k2", "fk"], ["SWAPDB", 0, 1]);
    await c.run();
    await w.run(["SWAPDB", 0, 1]);
    await c.run(["GET", "nosuch"], ["GET", "nosuch"]);
    await w.run(["SET", "nosuch", 1], ["SET", "nosuch", 2]);
    await c.run();
    // A read that fails (WRONGTYPE) still remembers its key.
    await c.run(["LLEN", "nosuch"]);
    await w.run(["DEL", "nosuch"]);
    await c.run();
    // Flushes: a null for everything, after the flusher's own reply.
    await c.run(["GET", "a"]);
    await w.run(["FLUSHDB"]);
    await c.run();
    await c.run(["GET", "a"], ["FLUSHALL"], ["SET", "a", 1]);
    await c.run(["MULTI"], ["FLUSHDB"], ["EXEC"]);
    await c.run(["SELECT", 3], ["GET", "a"], ["SELECT", 0]);
    await w.run(["SET", "a", 0]);
    await c.run();
  });
});

test("lazy expiry, blocked clients served and tracking-table-max-keys before a queued command", async () => {
  await sideBySide(["c", "w", "b"], async ({ c, w, b }) => {
    await c.run(["HELLO", 3], ["CLIENT", "TRACKING", "on"], ["DEBUG", "SET-ACTIVE-EXPIRE", 0]);
    c.text = "";
    // The message for a key expired by the read itself follows the read's reply.
    await c.run(["MULTI"], ["MSET", "x", 1, "y", 2], ["PEXPIRE", "y", 50], ["GET", "y"], ["EXEC"]);
    await Bun.sleep(80);
    await c.run(["MGET", "x", "y"]);
    await c.run(["DEBUG", "SET-ACTIVE-EXPIRE", 1]);
    // A client served on unblocking gets its own message after its reply.
    await b.run(["HELLO", 3], ["CLIENT", "TRACKING", "on"], ["RPUSH", "list2", "a"], ["LRANGE", "list2", 0, -1]);
    b.text = "";
    b.send(["BLMOVE", "list1", "list2", "LEFT", "LEFT", 0]);
    await waitFor("a blocked client", async () => (await w.run(["CLIENT", "LIST"]), /flags=b/.test(w.text)));
    w.text = "";
    await w.run(["RPUSH", "list1", "foo"]);
    await b.until("invalidate");
    await b.run();
    // tracking-table-max-keys applies before a command, even one queued in MULTI (#11715). Which
    // key goes is random in Redis: the message's key is not compared.
    await w.run(["FLUSHALL"]);
    await c.run();
    await b.run(["MGET", "k1", "k2"]);
    const mark = b.text.length;
    b.send(["MULTI"]);
    await b.until("+OK\r\n", b.text.length);
    await w.run(["CONFIG", "SET", "tracking-table-max-keys", 1]);
    b.send(["PING"]);
    await b.until("+QUEUED\r\n", b.text.length);
    await b.run(["EXEC"]);
    b.text = b.text.slice(0, mark) + b.text.slice(mark).replace(/\$2\r\nk[12]\r\n/, "$2\r\nk?\r\n");
  });
});

test("RESP2 through REDIRECT: messages on __redis__:invalidate, RESP3 targets, a broken redirect", async () => {
  await sideBySide(["c", "r", "r3", "w"], async ({ c, r, r3, w }) => {
    await r.run(["SUBSCRIBE", "__redis__:invalidate"]);
    await r3.run(["HELLO", 3]);
    r3.text = "";
    await c.run(["CLIENT", "TRACKING", "on", "REDIRECT", r.id]);
    await c.run(["GET", "a"], ["MGET", "b", "c"]);
    await w.run(["SET", "a", 1], ["MSET", "b", 1, "c", 1]);
    await r.run();
    await c.run(["GET", "a"], ["SET", "a", 2], ["GET", "a"]);
    await r.run();
    // A flush: RESP2's null, as the tracking client speaks RESP2.
    await w.run(["FLUSHALL"]);
    await r.run();
    // To a RESP3 connection (not subscribed): pushes.
    await c.run(["CLIENT", "TRACKING", "on", "REDIRECT", r3.id], ["GET", "a"]);
    await w.run(["SET", "a", 3], ["FLUSHDB"]);
    await r3.run();
    // A RESP3 tracking client redirecting to the RESP2 subscriber: its flush null is RESP3's.
    await c.run(["HELLO", 3], ["CLIENT", "TRACKING", "on", "REDIRECT", r.id], ["GET", "a"]);
    await w.run(["SET", "a", 4], ["FLUSHALL"]);
    await r.run();
    // RESP2 without a redirect: nothing can be sent, the key is forgotten all the same.
    await w.run(["CLIENT", "TRACKING", "on"], ["GET", "q"]);
    await c.run(["SET", "q", 1]);
    await w.run(["CLIENT", "TRACKING", "off"]);
    // The redirect target goes away: RESP3 clients are told, CLIENT TRACKINGINFO says so.
    c.text = "";
    await c.run(["CLIENT", "TRACKING", "on", "REDIRECT", r3.id], ["GET", "a"]);
    r3.close();
    await waitFor("the redirect target gone", async () => {
      await w.run(["CLIENT", "LIST"]);
      const gone = !w.text.includes(`id=${r3.id} `);
      w.text = "";
      return gone;
    });
    await w.run(["SET", "a", 5]);
    await c.run(["CLIENT", "TRACKINGINFO"]);
    await c.run(["GET", "a"]);
    await w.run(["SET", "a", 6]);
    await c.run();
    w.text = "";
    // Different clients redirecting to one connection.
    await c.run(["CLIENT", "TRACKING", "on", "REDIRECT", r.id], ["GET", "k1"]);
    await w.run(["CLIENT", "TRACKING", "on", "REDIRECT", r.id], ["GET", "k2"], ["GET", "k1"]);
    await w.run(["SET", "k1", 1], ["SET", "k2", 1]);
    await r.run();
  });
});

test("NOLOOP in default mode, switching protocol, redirecting to oneself, RESET", async () => {
  await sideBySide(["c", "r", "w"], async ({ c, r, w }) => {
    await r.run(["SUBSCRIBE", "__redis__:invalidate"]);
    await c.run(["CLIENT", "TRACKING", "on", "REDIRECT", r.id, "NOLOOP"]);
    await c.run(["MGET", "other1", "loop", "other2"]);
    await w.run(["SET", "other1", 1]);
    await c.run(["SET", "loop", 1], ["EVAL", "redis.call('set', 'loop', 2)", 0]);
    await w.run(["SET", "other2", 1]);
    await r.run();
    // Keys read in RESP2, invalidated after HELLO 3: still redirected.
    await c.run(["CLIENT", "TRACKING", "on", "REDIRECT", r.id], ["GET", "key1"], ["HELLO", 3]);
    c.text = "";
    await w.run(["SET", "key1", 2]);
    await r.run();
    await c.run(["GET", "key1"]);
    await w.run(["SET", "key1", 3]);
    await r.run();
    // Redirected to itself: RESP3 pushes on its own connection; in RESP2 nothing at all.
    await c.run(["CLIENT", "TRACKING", "on", "REDIRECT", c.id], ["GET", "self"], ["SET", "self", 1], ["GET", "self"]);
    await w.run(["SET", "self", 2]);
    await c.run();
    await c.run(["HELLO", 2], ["GET", "self"]);
    await w.run(["SET", "self", 3]);
    await c.run();
    // RESET turns tracking off.
    await c.run(["HELLO", 3], ["CLIENT", "TRACKING", "on"], ["GET", "rk"], ["RESET"], ["HELLO", 3]);
    c.text = "";
    await c.run(["CLIENT", "TRACKINGINFO"]);
    await w.run(["SET", "rk", 1]);
    await c.run();
  });
});

test("BCAST: prefixes, one message per prefix and turn, NOLOOP, expired keys", async () => {
  await sideBySide(["c", "r", "w"], async ({ c, r, w }) => {
    await r.run(["SUBSCRIBE", "__redis__:invalidate"]);
    await c.run(["CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", r.id]);
    await w.run(["MSET", "b", 1, "a", 2, "c", 3]);
    await r.run();
    await c.run(["CLIENT", "TRACKING", "off"], ["CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", r.id, "PREFIX", "b:", "PREFIX", "a:"]);
    await w.run(["MULTI"], ["INCR", "a:2"], ["INCR", "a:1"], ["INCR", "b:1"], ["INCR", "b:2"], ["INCR", "c:1"], ["DEL", "a:1"], ["EXEC"]);
    await r.run();
    await c.run(["CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", r.id, "PREFIX", "c:"]);
    await w.run(["INCR", "c:1234"], ["SET", "zzz", 1]);
    await r.run();
    await c.run(["CLIENT", "TRACKINGINFO"]);
    // NOLOOP: not told of its own changes (its scripts' changes are not its own to BCAST).
    await c.run(["CLIENT", "TRACKING", "off"], ["CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", r.id, "NOLOOP"]);
    await w.run(["SET", "other1", 1]);
    await c.run(["SET", "loop", 1]);
    await w.run(["SET", "other2", 1]);
    await c.run(["MSET", "loop", 2, "loop2", 2], ["EVAL", "redis.call('set', 'fromscript', 1)", 0]);
    await r.run();
    // Expired keys: by the active cycle, and lazily in a transaction.
    await c.run(["SET", "mykey", "v", "PX", 1], ["SET", "mykeyother", "v"]);
    await r.until("mykey\r\n");
    await r.run();
    await c.run(["DEBUG", "SET-ACTIVE-EXPIRE", 0]);
    await c.run(["SET", "lazy", "v", "PX", 1], ["SET", "lazyother", "v"]);
    await Bun.sleep(20);
    await c.run(["GET", "lazy"]);
    await r.run();
    await c.run(["DEBUG", "SET-ACTIVE-EXPIRE", 1]);
    // RESP3 BCAST on the client itself: the message after the batch's replies.
    await c.run(["HELLO", 3], ["CLIENT", "TRACKING", "off"], ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p"]);
    c.text = "";
    await c.run(["SET", "p1", 1], ["GET", "p1"], ["SET", "q1", 1], ["SET", "p2", 1]);
    await w.run(["SET", "p3", 1]);
    await c.run();
    // After switching to BCAST, keys read before are not sent any more.
    await c.run(["CLIENT", "TRACKING", "off"], ["CLIENT", "TRACKING", "on"], ["GET", "key1"], ["CLIENT", "TRACKING", "off"], ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "zz"]);
    await w.run(["INCR", "key1"]);
    await c.run();
  });
});

test("OPTIN and OPTOUT with CLIENT CACHING", async () => {
  await sideBySide(["c", "w"], async ({ c, w }) => {
    await c.run(["HELLO", 3]);
    c.text = "";
    await c.run(["CLIENT", "TRACKING", "on", "OPTIN"]);
    await c.run(["GET", "k1"]);
    await w.run(["SET", "k1", 1]);
    await c.run(["CLIENT", "CACHING", "yes"], ["GET", "k2"], ["GET", "k3"]);
    await c.run(["CLIENT", "CACHING", "yes"], ["MULTI"], ["GET", "k4"], ["GET", "k5"], ["EXEC"], ["GET", "k6"]);
    await c.run(["CLIENT", "CACHING", "yes"], ["CLIENT", "GETREDIR"], ["GET", "k7"]);
    await w.run(["MSET", "k1", 2, "k2", 2, "k3", 2, "k4", 2, "k5", 2, "k6", 2, "k7", 2]);
    await c.run();
    await c.run(["CLIENT", "TRACKING", "off"], ["CLIENT", "TRACKING", "on", "OPTOUT"]);
    await c.run(["GET", "k1"], ["CLIENT", "CACHING", "no"], ["GET", "k2"], ["GET", "k3"]);
    await w.run(["MSET", "k1", 3, "k2", 3, "k3", 3]);
    await c.run();
  });
});

test("tracking-table-max-keys: the table is kept within the limit, clients told; INFO and CLIENT LIST", async () => {
  for (const server of [redis, ours]) {
    const admin = await RespClient.connect(server.port);
    await admin.call("FLUSHALL");
    await admin.call("CONFIG", "SET", "tracking-table-max-keys", 1000000);
    const c = await RespClient.connect(server.port);
    const r = await Raw.connect(server.port);
    const b = await RespClient.connect(server.port);
    await r.run(["SUBSCRIBE", "__redis__:invalidate"]);
    await c.call("CLIENT", "TRACKING", "on", "REDIRECT", r.id);
    for (let i = 0; i < 250; i++) await c.call("GET", `key${i}`);
    await c.call("MGET", "key1", "key2");
    await b.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:", "PREFIX", "q:");
    const fields = (i: Record<string, string>) => [i.tracking_clients, i.tracking_total_keys, i.tracking_total_items, i.tracking_total_prefixes];
    expect(fields(await info(server))).toEqual(["2", "250", "250", "2"]);
    const list = String(await admin.call("CLIENT", "LIST"));
    const line = (id: number) => list.split("\n").find((l) => l.startsWith(`id=${id} `))!;
    const cid = Number(await c.call("CLIENT", "ID"));
    const bid = Number(await b.call("CLIENT", "ID"));
    expect(/ flags=(\S+) /.exec(line(cid))![1]).toBe("t");
    expect(/ redir=(\S+) /.exec(line(cid))![1]).toBe(String(r.id));
    expect(/ flags=(\S+) /.exec(line(bid))![1]).toBe("tB");
    expect(/ redir=(\S+) /.exec(line(bid))![1]).toBe("0");
    expect(/ redir=(\S+) /.exec(line(r.id))![1]).toBe("-1");
    expect(String(await c.call("CLIENT", "INFO"))).toContain(`flags=t `);
    // Down to one key: 249 messages (the effort grows by 100 per pass until under the limit).
    await admin.call("CONFIG", "SET", "tracking-table-max-keys", 1);
    await waitFor("249 invalidations", () => (r.text.match(/\r\n\$20\r\n__redis__:invalidate\r\n\*1\r\n/g) ?? []).length >= 249);
    await Bun.sleep(250);
    expect((r.text.match(/__redis__:invalidate\r\n\*1\r\n/g) ?? []).length).toBe(249);
    expect(fields(await info(server))).toEqual(["2", "1", "1", "2"]);
    await b.call("CLIENT", "TRACKING", "off");
    await c.call("CLIENT", "TRACKING", "off");
    expect(fields(await info(server))).toEqual(["0", "1", "1", "0"]);
    // RESET turns tracking off too.
    await c.call("CLIENT", "TRACKING", "on");
    expect((await info(server)).tracking_clients).toBe("1");
    await c.call("RESET");
    expect((await info(server)).tracking_clients).toBe("0");
    await admin.call("CONFIG", "SET", "tracking-table-max-keys", 1000000);
    for (const x of [admin, c, b]) x.close();
    r.close();
  }
});

test("a Replicant replica invalidates what its master's stream changes, as a redis-server replica does", async () => {
  const master = await startRedis(["--enable-debug-command", "yes"]);
  const replicas = await Promise.all([startRedis(["--replicaof", "127.0.0.1", String(master.port)]), startReplicant(["--replicaof", "127.0.0.1", String(master.port)])]);
  try {
    await Promise.all(replicas.map((r) => waitForSync(master, r)));
    const m = await RespClient.connect(master.port);
    const transcripts: Transcripts[] = [];
    for (const replica of replicas) {
      await m.call("FLUSHALL");
      await m.call("MSET", "a", 1, "b", 2, "c", 3);
      await waitForSync(master, replica);
      const t = await scenario(replica.port, ["c3", "c2", "r", "bc"], async ({ c3, c2, r, bc }) => {
        await r.run(["SUBSCRIBE", "__redis__:invalidate"]);
        await c3.run(["HELLO", 3], ["CLIENT", "TRACKING", "on"]);
        c3.text = "";
        await c2.run(["CLIENT", "TRACKING", "on", "REDIRECT", r.id]);
        await bc.run(["HELLO", 3], ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b"]);
        bc.text = "";
        await c3.run(["MGET", "a", "b", "c"]);
        await c2.run(["GET", "a"], ["GET", "c"]);
        const step = async (...cmd: Arg[]) => {
          await m.call(...cmd);
          await waitForSync(master, replica);
          for (const x of [c3, r, bc]) await x.run();
        };
        await step("SET", "a", 10);
        await step("DEL", "b");
        await c3.run(["GET", "b"]);
        await step("SET", "b", "x", "PX", 100);
        // The master expires b and sends DEL: the replica's clients are told.
        await c3.run(["GET", "b"]);
        await waitFor("b expired on the master", async () => (await m.call("EXISTS", "b")) === 0);
        await waitForSync(master, replica);
        for (const x of [c3, r, bc]) await x.run();
        await step("FLUSHALL");
        await c3.run(["GET", "a"]);
        await c2.run(["GET", "a"]);
        // A full resync (new replication id on the master): the old data goes, everything is invalid.
        await m.call("SET", "a", 20);
        await m.call("DEBUG", "CHANGE-REPL-ID");
        await m.call("CLIENT", "KILL", "TYPE", "replica");
        await waitFor("a full resync", async () => {
          const i = await info(replica, "replication");
          return i.master_link_status === "up" && (await replica.call("GET", "a")) === "20";
        });
        await waitForSync(master, replica);
        for (const x of [c3, r, bc]) await x.run();
      });
      transcripts.push(t);
    }
    for (const n of Object.keys(transcripts[0]!)) {
      if (transcripts[1]![n] !== transcripts[0]![n]) console.log(firstDifference(n, transcripts[0]![n]!, transcripts[1]![n]!));
    }
    expect(transcripts[1]).toEqual(transcripts[0]!);
    expect(transcripts[1]!.c3).toContain(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n");
    expect(transcripts[1]!.c3).toContain(">2\r\n$10\r\ninvalidate\r\n_\r\n");
    m.close();
  } finally {
    for (const s of [master, ...replicas]) {
      await s.stop();
      removeDir(s.dir);
    }
  }
});
