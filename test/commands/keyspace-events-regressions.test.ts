// Regressions found by the differential tests (test/differential/): keyspace notifications of
// the string, generic-key, sorted-set, geo and stream commands, and of expiry, as Redis 7.0
// publishes them (names and order), compared with a real redis-server event by event.

import { expect, test } from "bun:test";
import { compareEvents, EventCollector } from "../differential/runner.ts";
import { serverPair } from "../helpers/side-by-side.ts";

const pair = serverPair(["--notify-keyspace-events", "KEA"]);

/** Runs the commands on both servers and returns both event sequences (after a marker). */
async function events(cmds: string[][]): Promise<[string[], string[]]> {
  const ea = await EventCollector.connect(pair.redis.port);
  const eb = await EventCollector.connect(pair.replicant.port);
  try {
    const marker = ["PUBLISH", "__keyevent@0__:end", "marker"];
    await pair.run([...cmds, marker]);
    await Promise.all([ea.waitFor("__keyevent@0__:end marker"), eb.waitFor("__keyevent@0__:end marker")]);
    return [ea.events, eb.events];
  } finally {
    ea.close();
    eb.close();
  }
}

async function sameEvents(cmds: string[][]): Promise<string[]> {
  const [a, b] = await events(cmds);
  expect(compareEvents(a, b)).toBeNull();
  // The markers aside, something was published.
  expect(a.length).toBeGreaterThan(2);
  return a;
}

test("strings: set, expire, del, persist, incrby, incrbyfloat, append, setrange", async () => {
  const a = await sameEvents([
    ["SET", "k", "v"], ["SET", "k", "v", "EX", "100"], ["SET", "k", "w", "KEEPTTL", "GET"], ["SET", "k", "x", "NX"],
    ["SETEX", "s", "100", "v"], ["PSETEX", "p", "100000", "v"], ["SETNX", "n", "1"], ["SETNX", "n", "2"],
    ["MSET", "a", "1", "b", "2"], ["MSETNX", "c", "1", "a", "3"], ["MSETNX", "c", "1", "d", "2"],
    ["GETSET", "a", "5"], ["GETDEL", "b"], ["GETDEL", "b"],
    ["GETEX", "a", "PX", "100000"], ["GETEX", "a", "PERSIST"], ["GETEX", "a", "PERSIST"], ["GETEX", "a", "PXAT", "1"],
    ["INCR", "i"], ["DECRBY", "i", "3"], ["INCRBYFLOAT", "f", "1.5"], ["APPEND", "ap", "x"], ["APPEND", "ap", "y"],
    ["SETRANGE", "sr", "3", "x"], ["SETRANGE", "sr", "0", ""], ["SETRANGE", "sr", "1", "yy"], ["SETRANGE", "new", "2", ""],
  ]);
  expect(a).toContain("__keyevent@0__:incrbyfloat f");
  expect(a).toContain("__keyspace@0__:a persist");
});

test("keys: del, expire (and del when already past), persist, rename, move, copy, sortstore", async () => {
  const a = await sameEvents([
    ["SET", "a", "1"], ["SET", "b", "2"], ["RPUSH", "l", "3", "1", "2"],
    ["DEL", "a", "zz", "b"], ["UNLINK", "l", "l"],
    ["SET", "k", "v"], ["EXPIRE", "k", "100"], ["PEXPIRE", "k", "100", "NX"], ["PERSIST", "k"], ["PERSIST", "k"], ["EXPIREAT", "k", "1"],
    ["SET", "r", "v"], ["SET", "r2", "x"], ["RENAME", "r", "r2"], ["RENAMENX", "r2", "r3"], ["RENAMENX", "r3", "r3"],
    ["MOVE", "r3", "1"], ["SELECT", "1"], ["COPY", "r3", "c", "DB", "0"], ["COPY", "r3", "c2"], ["SELECT", "0"],
    ["RPUSH", "src", "3", "1", "2"], ["SORT", "src", "STORE", "dst"], ["SORT", "missing", "STORE", "dst"], ["SORT", "missing", "STORE", "dst"],
  ]);
  expect(a).toContain("__keyevent@0__:rename_to r2");
  expect(a).toContain("__keyevent@1__:move_to r3");
  expect(a).toContain("__keyevent@0__:sortstore dst");
});

test("sorted sets and geo: zadd, zincr, zrem, zremrangeby*, *store, zpop*, del", async () => {
  await sameEvents([
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"], ["ZADD", "z", "NX", "1", "a"], ["ZADD", "z", "INCR", "1", "a"], ["ZINCRBY", "z", "1", "e"],
    ["ZREM", "z", "nope"], ["ZREM", "z", "a"], ["ZREMRANGEBYRANK", "z", "0", "0"], ["ZREMRANGEBYSCORE", "z", "3", "3"], ["ZREMRANGEBYLEX", "z", "-", "+"],
    ["ZADD", "y", "1", "a", "2", "b"], ["ZUNIONSTORE", "u", "1", "y"], ["ZINTERSTORE", "i", "2", "y", "none"], ["ZDIFFSTORE", "d", "1", "y"],
    ["ZRANGESTORE", "r", "y", "0", "-1"], ["ZRANGESTORE", "r", "y", "5", "9"], ["ZPOPMIN", "y"], ["ZPOPMAX", "y", "5"], ["ZMPOP", "1", "u", "MIN", "COUNT", "9"],
    ["ZADD", "w", "1", "a"], ["ZREM", "w", "a", "b"],
    ["GEOADD", "g", "13.36", "38.11", "Palermo", "15.08", "37.50", "Catania"],
    ["GEOSEARCHSTORE", "gs", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"], ["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "gr"],
    ["GEOSEARCHSTORE", "gs", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"], ["GEORADIUS", "nokey", "15", "37", "200", "km", "STORE", "gr"],
  ]);
});

test("streams: xadd, xtrim, xdel, xsetid, xgroup-*, consumers created by reads and claims", async () => {
  await sameEvents([
    ["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "MAXLEN", "1", "2-1", "f", "v"], ["XADD", "s", "3-1", "f", "v"], ["XTRIM", "s", "MAXLEN", "5"], ["XTRIM", "s", "MAXLEN", "1"],
    ["XADD", "s", "4-1", "f", "v"], ["XDEL", "s", "9-9"], ["XDEL", "s", "4-1"], ["XSETID", "s", "10-0"],
    ["XGROUP", "CREATE", "s", "g", "0"], ["XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"], ["XGROUP", "SETID", "s", "g", "0"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "alice"], ["XGROUP", "CREATECONSUMER", "s", "g", "alice"],
    ["XADD", "s", "11-0", "f", "v"], ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"], ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
    ["XCLAIM", "s", "g", "carol", "0", "11-0"], ["XAUTOCLAIM", "s", "g", "dave", "0", "0"],
    ["XGROUP", "DELCONSUMER", "s", "g", "alice"], ["XGROUP", "DELCONSUMER", "s", "g", "nobody"], ["XGROUP", "DESTROY", "s", "g"], ["XGROUP", "DESTROY", "s", "g"],
  ]);
});

test("expiry: an expired key found by a command, and one removed by active expiry, publish \"expired\"", async () => {
  // A past PXAT is stored as such by SET: the GET finds the key expired.
  const [a, b] = await events([["SET", "lazy", "v", "PXAT", "1"], ["GET", "lazy"]]);
  for (const e of [a, b]) expect(e).toContain("__keyevent@0__:expired lazy");
  // Active expiry runs 10 times a second.
  const ea = await EventCollector.connect(pair.replicant.port);
  await pair.replicant.call("SET", "active2", "v", "PX", "1");
  await ea.waitFor("__keyevent@0__:expired active2");
  ea.close();
});

test("writes over an expired key delete it as expired first (SET, MSET, SORT STORE)", async () => {
  const cmds = [
    ["SET", "k", "v", "PXAT", "1"], ["SET", "k", "v2"],
    ["SET", "m", "v", "PXAT", "1"], ["MSET", "m", "1", "n", "2"],
    ["RPUSH", "src", "1"], ["SET", "dst", "x", "PXAT", "1"], ["SORT", "src", "STORE", "dst"],
  ];
  const [a, b] = await events(cmds);
  expect(b).toEqual(a);
  expect(a).toContain("__keyevent@0__:expired k");
  expect(a).toContain("__keyevent@0__:expired dst");
});

test("keymiss (notify-keyspace-events m): read lookups of missing keys publish it, OBJECT does not", async () => {
  const cmds = [
    ["CONFIG", "SET", "notify-keyspace-events", "KEAm"],
    ["GET", "a"], ["MGET", "a", "b"], ["EXISTS", "a"], ["TYPE", "a"], ["TTL", "a"], ["STRLEN", "a"], ["GETRANGE", "a", "0", "1"],
    ["OBJECT", "ENCODING", "a"], ["OBJECT", "REFCOUNT", "a"], ["DUMP", "a"], ["COPY", "a", "b"],
    ["SET", "a", "v", "GET"], ["GETDEL", "nope"], ["GETEX", "nope"], ["INCR", "counter"],
    ["LRANGE", "l", "0", "-1"], ["HGET", "h", "f"], ["HGETALL", "h"], ["SMEMBERS", "s"], ["SISMEMBER", "s", "m"], ["ZRANGE", "z", "0", "-1"], ["ZSCORE", "z", "m"],
    ["XRANGE", "x", "-", "+"], ["XLEN", "x"], ["SORT", "l"], ["PFCOUNT", "p"], ["BITCOUNT", "bm"], ["GEOPOS", "g", "m"],
    ["RPUSH", "l", "3", "1"], ["SORT", "l", "BY", "w_*", "GET", "o_*"],
    ["CONFIG", "SET", "notify-keyspace-events", "KEA"],
  ];
  const [a, b] = await events(cmds);
  expect(b).toEqual(a);
  expect(a).toContain("__keyevent@0__:keymiss a");
  expect(a).not.toContain("__keyevent@0__:keymiss counter");
});

test("\"new\" (notify-keyspace-events n) for every key a command adds, before the command's own event", async () => {
  const cmds = [
    ["CONFIG", "SET", "notify-keyspace-events", "KEAn"],
    ["SET", "s", "v"], ["SET", "s", "w"], ["INCR", "i"], ["APPEND", "ap", "x"], ["SETRANGE", "sr", "1", "x"], ["MSET", "m1", "1", "s", "2"],
    ["RPUSH", "l", "a", "b"], ["LMOVE", "l", "l2", "LEFT", "RIGHT"], ["HSET", "h", "f", "v"], ["HINCRBY", "h2", "f", "1"],
    ["SADD", "st", "a", "b"], ["SMOVE", "st", "st2", "a"], ["SINTERSTORE", "st3", "st"], ["ZADD", "z", "1", "a"], ["ZINCRBY", "z2", "1", "a"], ["ZUNIONSTORE", "z3", "1", "z"],
    ["GEOADD", "g", "13.36", "38.11", "p"], ["XADD", "x", "1-1", "f", "v"], ["XGROUP", "CREATE", "x2", "g", "$", "MKSTREAM"],
    ["PFADD", "p", "a"], ["SETBIT", "b", "7", "1"], ["BITOP", "NOT", "b2", "b"],
    ["RENAME", "s", "s2"], ["COPY", "s2", "s3"], ["MOVE", "s3", "1"], ["SORT", "l2", "ALPHA", "STORE", "sorted"],
    ["CONFIG", "SET", "notify-keyspace-events", "KEA"],
  ];
  const [a, b] = await events(cmds);
  expect(b).toEqual(a);
  expect(a).toContain("__keyevent@0__:new sorted");
  expect(a).toContain("__keyevent@1__:new s3");
});

test("CONFIG GET notify-keyspace-events shows the classes as Redis orders them ('n' hidden under 'A')", async () => {
  const cmds: string[][] = [];
  for (const v of ["KEAn", "KnEA", "g$lshzxetd", "Kgn", "Em", "A", "xK", "", "Kq"]) cmds.push(["CONFIG", "SET", "notify-keyspace-events", v], ["CONFIG", "GET", "notify-keyspace-events"]);
  cmds.push(["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
  const [redis, replicant] = await pair.run(cmds);
  expect(replicant).toEqual(redis);
});
