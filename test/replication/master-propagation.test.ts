// What a master propagates, compared with redis-server's own stream: the same commands are run
// on a redis-server master and on Replicant as a master, each watched by `redis-cli --replica`
// (a real replica client that prints every command it receives). The two transcripts must be
// equal once absolute times (PXAT / PEXPIREAT arguments, stream IDs from the clock) are masked.
// Also checked: the handshake with AUTH (masterauth / requirepass).

import { afterAll, describe, expect, test } from "bun:test";
import { info, startRedis, startReplicant, waitFor, waitForSync, type ServerProcess, stopServers, tracker } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));
const track = tracker(started);

type Cmd = Array<string | number>;

/** Commands whose propagated forms Redis rewrites (or not), deterministic ones only. */
const SCRIPT: Array<Cmd | { sleep: number }> = [
  ["SET", "s1", "v"],
  ["SET", "s2", "v", "EX", 100],
  ["SET", "s3", "v", "PX", 100000, "GET"],
  ["SETEX", "s4", 100, "v"],
  ["PSETEX", "s5", 100000, "v"],
  ["SET", "s6", "v", "KEEPTTL"],
  ["SETNX", "s1", "x"],
  ["SETNX", "s7", "x"],
  ["MSET", "m1", "a", "m2", "b"],
  ["MSETNX", "m1", "z", "m3", "c"],
  ["APPEND", "s1", "more"],
  ["SETRANGE", "s1", 2, "XY"],
  ["INCR", "n"],
  ["INCRBY", "n", 5],
  ["DECRBY", "n", 2],
  ["INCRBYFLOAT", "f", "1.5"],
  ["INCRBYFLOAT", "f", "1e3"],
  ["GETSET", "s7", "y"],
  ["GETDEL", "m3"],
  ["GETEX", "m1", "EX", 100],
  ["GETEX", "m1", "PERSIST"],
  ["GETEX", "m2"],
  ["EXPIRE", "m2", 100],
  ["PEXPIRE", "m2", 100000],
  ["EXPIREAT", "m2", 4102444800],
  ["PEXPIREAT", "m2", 4102444800000],
  ["EXPIRE", "missing", 100],
  ["PERSIST", "m2"],
  ["EXPIRE", "m2", -1],
  ["SET", "gone", "v"],
  ["EXPIRE", "gone", 0],
  ["RPUSH", "l", "a", "b", "c", "d"],
  ["LPUSH", "l", "z"],
  ["LPOP", "l"],
  ["RPOP", "l", 2],
  ["LMOVE", "l", "l2", "LEFT", "RIGHT"],
  ["RPOPLPUSH", "l", "l2"],
  ["BLMOVE", "l2", "l", "RIGHT", "LEFT", 0],
  ["BLPOP", "l", 0],
  ["LMPOP", 2, "nolist", "l2", "LEFT", "COUNT", 5],
  ["LINSERT", "l", "BEFORE", "x", "y"],
  ["RPUSH", "l3", 1, 2, 3, 4, 5],
  ["LTRIM", "l3", 1, 2],
  ["LREM", "l3", 0, 2],
  ["LSET", "l3", 0, "new"],
  ["HSET", "h", "a", 1, "b", 2],
  ["HSETNX", "h", "a", 9],
  ["HINCRBY", "h", "a", 10],
  ["HINCRBYFLOAT", "h", "b", "0.5"],
  ["HDEL", "h", "a", "nofield"],
  ["SADD", "set", "x", "y", "z"],
  ["SREM", "set", "z", "nomember"],
  ["SMOVE", "set", "set2", "x"],
  ["SADD", "one", "only"],
  ["SPOP", "one"],
  ["SADD", "one", "only"],
  ["SPOP", "one", 5],
  ["SINTERSTORE", "dst", "set", "set2"],
  ["SUNIONSTORE", "dst", "set", "set2"],
  ["ZADD", "z", 1, "a", 2, "b", 3, "c"],
  ["ZADD", "z", "INCR", 5, "a"],
  ["ZINCRBY", "z", "2.5", "b"],
  ["ZPOPMIN", "z"],
  ["BZPOPMAX", "z", 0],
  ["ZMPOP", 1, "z", "MIN"],
  ["ZADD", "z2", 1, "m", 2, "n"],
  ["ZRANGESTORE", "z3", "z2", 0, -1],
  ["ZREMRANGEBYSCORE", "z2", 0, 1],
  ["ZUNIONSTORE", "z4", 2, "z2", "z3"],
  ["XADD", "st", "1-1", "f", "v"],
  ["XADD", "st", "2-1", "f", "v"],
  ["XADD", "st", "MAXLEN", 1, "3-1", "f", "v"],
  ["XGROUP", "CREATE", "st", "g", "0"],
  ["XREADGROUP", "GROUP", "g", "c1", "COUNT", 1, "STREAMS", "st", ">"],
  ["XACK", "st", "g", "3-1"],
  ["XGROUP", "CREATECONSUMER", "st", "g", "c2"],
  ["XGROUP", "DELCONSUMER", "st", "g", "c2"],
  ["XSETID", "st", "5-0"],
  ["XDEL", "st", "3-1"],
  ["XTRIM", "st", "MAXLEN", 0],
  ["PFADD", "hll", "a", "b", "c"],
  ["PFCOUNT", "hll"],
  ["SETBIT", "bits", 7, 1],
  ["BITOP", "NOT", "bits2", "bits"],
  ["BITFIELD", "bf", "SET", "u8", 0, 200, "INCRBY", "u8", 0, 100],
  ["BITFIELD", "bf", "GET", "u8", 0],
  ["RENAME", "s1", "s1b"],
  ["RENAMENX", "s1b", "s6"],
  ["COPY", "h", "hcopy"],
  ["DEL", "s1b", "nokey"],
  ["UNLINK", "hcopy"],
  ["MOVE", "s6", 1],
  ["SELECT", 1],
  ["SET", "in1", "v"],
  ["SELECT", 0],
  ["SWAPDB", 0, 1],
  ["SWAPDB", 0, 1],
  ["SORT", "l3", "ALPHA", "STORE", "sorted"],
  ["EVAL", "redis.call('SET', KEYS[1], 'x'); redis.call('INCR', 'counter'); return 1", 1, "ev"],
  ["EVAL", "return redis.call('GET', KEYS[1])", 1, "ev"],
  ["MULTI"],
  ["SET", "t1", "a"],
  ["INCR", "t2"],
  ["EXEC"],
  ["MULTI"],
  ["GET", "t1"],
  ["EXEC"],
  ["SET", "short", "v", "PX", 30],
  { sleep: 120 },
  ["GET", "short"],
  ["FLUSHDB"],
  ["SET", "after", "flush"],
  ["FLUSHALL"],
  ["PUBLISH", "chan", "msg"],
];

/** Masks what depends on the clock: millisecond times and second times (PXAT, EXAT...). */
function normalize(line: string): string {
  return line.replace(/"1\d{12}"/g, '"<ms>"').replace(/"1\d{9}"/g, '"<s>"');
}

async function transcript(master: ServerProcess): Promise<string[]> {
  const cli = Bun.spawn(["redis-cli", "-p", String(master.port), "--replica"], { stdout: "pipe", stderr: "pipe" });
  let out = "";
  const pump = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of cli.stdout as ReadableStream<Uint8Array>) out += decoder.decode(chunk);
  })();
  await waitFor("redis-cli --replica online", async () => (await info(master, "replication")).slave0?.includes("state=online"), 20000);
  const c = await master.client();
  for (const step of SCRIPT) {
    if ("sleep" in step) await Bun.sleep(step.sleep);
    else await c.call(...step);
  }
  await c.call("SET", "__end__", "1");
  await waitFor("transcript complete", () => out.includes('"__end__"'), 10000);
  cli.kill();
  await pump.catch(() => undefined);
  return out
    .split("\n")
    .filter((l) => l.startsWith('"') && l !== '"PING"')
    .map(normalize);
}

describe("propagation as a master, compared with redis-server's stream", () => {
  test("the same commands produce the same replication stream (times masked)", async () => {
    const redis = await track(startRedis());
    const ours = await track(startReplicant(["--repl-diskless-sync-delay", "0"]));
    const want = await transcript(redis);
    const got = await transcript(ours);
    console.log(`${want.length} propagated commands compared; e.g. ${want.slice(0, 4).join(" ")}; SELECTs: ${want.filter((l) => l.startsWith('"SELECT"')).join(" ")}`);
    expect(want.length).toBeGreaterThan(50);
    // Line by line, so a difference shows where it is.
    const diffs: string[] = [];
    for (let i = 0; i < Math.max(want.length, got.length); i++) {
      if (want[i] !== got[i]) diffs.push(`#${i}: redis ${want[i]} | replicant ${got[i]}`);
    }
    expect(diffs.slice(0, 15)).toEqual([]);
  });
});

describe("the replica handshake with AUTH", () => {
  test("a redis-server replica with masterauth syncs with a Replicant master that has requirepass; without it, it is refused", async () => {
    const master = await track(startReplicant(["--requirepass", "s3cret", "--repl-diskless-sync-delay", "0"]));
    const good = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port), "--masterauth", "s3cret"]));
    const bad = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitFor("authenticated replica up", async () => (await info(good, "replication")).master_link_status === "up", 20000);
    await bad.waitForLog("-NOAUTH", 20000);
    expect((await info(bad, "replication")).master_link_status).toBe("down");
    const c = await master.client();
    await c.call("AUTH", "s3cret");
    await c.call("SET", "k", "v");
    await waitFor("write replicated", async () => (await good.call("GET", "k")) === "v");
    void waitForSync;
  });
});
