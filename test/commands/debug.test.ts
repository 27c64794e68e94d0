// DEBUG as Redis 7.0 (behind enable-debug-command): DIGEST and DIGEST-VALUE give redis-server's
// hex for the same data (how Redis's own tests compare a master and its replicas), RELOAD keeps
// the dataset, SET-ACTIVE-EXPIRE 0 stops active expiry, POPULATE, PROTOCOL, OBJECT, ERROR.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { type RespClient } from "../helpers/resp-client.ts";
import { removeDir, type ServerProcess, startRedis, startReplicant, waitFor, waitForSync, stopServers } from "../helpers/servers.ts";
import { errorText } from "../helpers/side-by-side.ts";

const DEBUG = ["--enable-debug-command", "yes"];
let master: ServerProcess;
let replica: ServerProcess;
let m: RespClient;
let r: RespClient;

beforeAll(async () => {
  master = await startRedis([...DEBUG, "--zset-max-listpack-entries", "4", "--hash-max-listpack-entries", "4", "--set-max-intset-entries", "4"]);
  replica = await startReplicant([...DEBUG, "--replicaof", "127.0.0.1", String(master.port)]);
  await waitForSync(master, replica);
  [m, r] = await Promise.all([master.client(), replica.client()]);
});

afterAll(() => stopServers([master, replica]));

test("DEBUG DIGEST / DIGEST-VALUE: the master's and Replicant's are the same, for every type and encoding", async () => {
  expect(await r.call("DEBUG", "DIGEST")).toBe("0000000000000000000000000000000000000000");
  const writes: Array<Array<string | number>> = [
    ["SET", "s", "hello"],
    ["SET", "n", "12345"],
    ["SET", "ttl", "x", "EX", "1000"],
    ["RPUSH", "l", "a", "b", "c", "1"],
    ["SADD", "si", "1", "2", "3"],
    ["SADD", "ss", "a", "b", "c", "d", "e", "f"],
    ["ZADD", "zl", "1", "a", "2.5", "b", "0.1", "c"],
    ["ZADD", "zs", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "-0.5", "f", "1e300", "g"],
    ["HSET", "hl", "f", "v", "g", "1"],
    ["HSET", "hs", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"],
    ["XADD", "st", "1-1", "f", "v", "g", "w"],
    ["XADD", "st", "2-0", "f", "x"],
    ["SELECT", "3"],
    ["SET", "other", "db3"],
  ];
  for (const w of writes) await m.call(...w);
  await m.call("SELECT", 0);
  await waitForSync(master, replica);
  expect(await r.call("DEBUG", "DIGEST")).toBe(await m.call("DEBUG", "DIGEST"));
  const keys = ["s", "n", "ttl", "l", "si", "ss", "zl", "zs", "hl", "hs", "st", "nosuch"];
  expect(await r.call("DEBUG", "DIGEST-VALUE", ...keys)).toEqual(await m.call("DEBUG", "DIGEST-VALUE", ...keys));
});

test("DEBUG RELOAD keeps the dataset (same digest); DEBUG OBJECT's fields; DEBUG ERROR / PROTOCOL as redis-server", async () => {
  const before = await r.call("DEBUG", "DIGEST");
  expect(await r.call("DEBUG", "RELOAD")).toBe("OK");
  expect(await r.call("DEBUG", "DIGEST")).toBe(before);
  // (The replica has its own, default encoding limits: a small hash is a listpack there.)
  const obj = String(await r.call("DEBUG", "OBJECT", "hs"));
  expect(obj).toMatch(/^Value at:0x[0-9a-f]+ refcount:1 encoding:listpack serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+$/);
  expect(errorText(await r.call("DEBUG", "OBJECT", "nosuch"))).toBe(errorText(await m.call("DEBUG", "OBJECT", "nosuch")));
  expect(errorText(await r.call("DEBUG", "ERROR", "MYERR something"))).toBe("-MYERR something");
  const [a, b] = await Promise.all([master.client(), replica.client()]);
  for (const resp of ["2", "3"]) {
    await Promise.all([a.call("HELLO", resp), b.call("HELLO", resp)]);
    for (const type of ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "verbatim", "true", "false", "nosuch"]) {
      expect({ resp, type, reply: errorText(await b.call("DEBUG", "PROTOCOL", type)) }).toEqual({ resp, type, reply: errorText(await a.call("DEBUG", "PROTOCOL", type)) });
    }
  }
});

test("DEBUG POPULATE makes the same keys as redis-server's; SET-ACTIVE-EXPIRE 0 stops active expiry", async () => {
  const s = await startReplicant(DEBUG);
  const x = await startRedis(DEBUG);
  try {
    const [c, d] = await Promise.all([s.client(), x.client()]);
    for (const args of [["100"], ["10", "p"], ["10", "q", "4"], ["10", "w", "20"]]) {
      await c.call("DEBUG", "POPULATE", ...args);
      await d.call("DEBUG", "POPULATE", ...args);
    }
    expect(await c.call("DEBUG", "DIGEST")).toBe(await d.call("DEBUG", "DIGEST"));
    expect(await c.call("DBSIZE")).toBe(130);
    expect(await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")).toBe("OK");
    await c.call("SET", "short", "v", "PX", "50");
    await Bun.sleep(400);
    expect(await c.call("DBSIZE")).toBe(131);
    expect(await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")).toBe("OK");
    await waitFor("active expiry", async () => (await c.call("DBSIZE")) === 130);
  } finally {
    await s.stop();
    await x.stop();
    removeDir(s.dir);
    removeDir(x.dir);
  }
});
