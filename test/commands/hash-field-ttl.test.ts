// Redis 7.4's hash field expiration, checked against a real redis-server 7.4.1 (from
// ../shared/masters; skipped with one line without it):
// - replies, errors, encodings, listpackex order and DUMP payloads, side by side;
// - as replicas of a 7.4 master, Replicant and a 7.4 replica: what the master propagates
//   (HPEXPIREAT, HDEL for past times and for lazy and active expiry), what a replica shows of a
//   field whose TTL passed before its master's HDEL came, the same keyspace events;
// - full syncs of hashes with field TTLs (RDB 12 types 24 and 25), disk and diskless, and a 7.4
//   replica of Replicant (our RDB 12);
// - Replicant as the master: lazy and active expiry of fields reach a 7.4 replica as HDELs.

import { afterAll, describe, expect, test } from "bun:test";
import { sharedMasters } from "../helpers/masters.ts";
import { RespError, type RespClient, type RespValue } from "../helpers/resp-client.ts";
import { type ServerProcess, startRedis, startReplicant, waitFor, waitForSync, stopServers, tracker } from "../helpers/servers.ts";
import { EventCollector } from "../differential/runner.ts";

const redis74 = sharedMasters("hash field expiration against redis-server 7.4").find((m) => m.label === "redis-7.4.1");

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

const track = tracker(started);

function show(v: RespValue): unknown {
  if (v instanceof RespError) return `-${v.message}`;
  if (Array.isArray(v)) return v.map(show);
  if (typeof v === "bigint") return v.toString();
  return v;
}

/** An array reply as a sorted list (nested arrays too: an HSCAN's elements). */
function multiset(v: unknown): unknown {
  return Array.isArray(v) ? v.map(multiset).map((x) => JSON.stringify(x)).sort() : v;
}

/** Runs the commands on both and returns the pairs of replies that differ. */
async function differences(a: RespClient, b: RespClient, commands: string[][]): Promise<string[]> {
  const out: string[] = [];
  for (const cmd of commands) {
    const [x, y] = [show(await a.call(...cmd)), show(await b.call(...cmd))];
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${JSON.stringify(cmd)}: redis ${JSON.stringify(x)} / replicant ${JSON.stringify(y)}`);
  }
  return out;
}

/** Far in the future, so that times are exact on both servers. */
const LATER = 4102444800000;

if (redis74) {
  describe("hash field expiration, side by side with redis-server 7.4.1", () => {
    test("replies, errors, encodings, order and DUMP payloads", async () => {
      const [r, x] = await Promise.all([track(startRedis([], { bin: redis74.bin })), track(startReplicant([]))]);
      const a = await r.client();
      const b = await x.client();
      const cmds: string[][] = [
        ["HSET", "h", "f1", "v1", "f2", "v2", "f3", "100", "f4", "v4"],
        ["OBJECT", "ENCODING", "h"],
        ["HPEXPIREAT", "h", String(LATER + 1000), "FIELDS", "1", "f3"],
        ["OBJECT", "ENCODING", "h"],
        ["HPEXPIREAT", "h", String(LATER), "FIELDS", "2", "f1", "nosuch"],
        ["HGETALL", "h"],
        ["HEXPIRETIME", "h", "FIELDS", "4", "f1", "f2", "f3", "nosuch"],
        ["HPEXPIRETIME", "h", "FIELDS", "3", "f1", "f2", "f3"],
        ["DUMP", "h"],
        ["HPEXPIREAT", "h", String(LATER + 500), "GT", "FIELDS", "3", "f1", "f2", "f3"],
        ["HPEXPIREAT", "h", String(LATER + 500), "LT", "FIELDS", "3", "f1", "f2", "f3"],
        ["HPEXPIREAT", "h", String(LATER + 9), "NX", "FIELDS", "2", "f1", "f4"],
        ["HPEXPIREAT", "h", String(LATER + 9), "XX", "FIELDS", "2", "f1", "f2"],
        ["HGETALL", "h"],
        ["HPERSIST", "h", "FIELDS", "3", "f1", "f2", "nosuch"],
        ["HGETALL", "h"],
        ["HSET", "h", "f4", "new"],
        ["HGETALL", "h"],
        ["HINCRBY", "h", "f3", "5"],
        ["HPEXPIRETIME", "h", "FIELDS", "1", "f3"],
        ["HSET", "h", "f3", "7"],
        ["HPEXPIRETIME", "h", "FIELDS", "1", "f3"],
        ["HGETALL", "h"],
        ["DUMP", "h"],
        // Past times delete (on a master), reply 2.
        ["HEXPIRE", "h", "0", "FIELDS", "2", "f1", "f1"],
        ["HPEXPIREAT", "h", "1", "FIELDS", "1", "nosuch"],
        ["HLEN", "h"],
        // Any HEXPIRE that parses makes a listpack a listpackex.
        ["HSET", "p", "a", "1"],
        ["HEXPIRE", "p", "100", "XX", "FIELDS", "1", "a"],
        ["OBJECT", "ENCODING", "p"],
        ["HTTL", "p", "FIELDS", "1", "a"],
        ["HPERSIST", "p", "FIELDS", "1", "a"],
        ["HSET", "plain", "a", "1"],
        ["HTTL", "plain", "FIELDS", "2", "a", "b"],
        ["HPERSIST", "plain", "FIELDS", "2", "a", "b"],
        ["OBJECT", "ENCODING", "plain"],
        // Errors, in Redis's order.
        ["HEXPIRE", "h", "abc", "FIELDS", "1", "a"],
        ["HEXPIRE", "h", "-1", "FIELDS", "1", "a"],
        ["HEXPIRE", "h", "70368744178", "FIELDS", "1", "a"],
        ["HEXPIREAT", "h", "70368744177", "FIELDS", "1", "nosuch"],
        ["HPEXPIREAT", "h", "70368744177663", "FIELDS", "1", "nosuch"],
        ["HPEXPIREAT", "h", "70368744177664", "FIELDS", "1", "a"],
        ["HPEXPIRE", "h", "9223372036854775807", "FIELDS", "1", "a"],
        ["HEXPIRE", "h", "100", "NX", "XX", "FIELDS", "1", "a"],
        ["HEXPIRE", "h", "100", "FIELDS", "0", "a"],
        ["HEXPIRE", "h", "100", "FIELDS", "abc", "a"],
        ["HEXPIRE", "h", "100", "FIELDS", "2", "a"],
        ["HEXPIRE", "h", "100", "fields", "1"],
        ["HEXPIRE", "h", "100", "FIELDS"],
        ["HTTL", "h", "FIELDS", "0", "a"],
        ["HTTL", "h", "FELDS", "1", "a"],
        ["HPERSIST", "h", "FIELDS", "-1", "a"],
        ["HPERSIST", "h", "FIELDS", "2", "a"],
        ["HEXPIRE", "missing", "100", "FIELDS", "2", "a", "b"],
        ["HTTL", "missing", "FIELDS", "1", "a"],
        ["HPERSIST", "missing", "FIELDS", "1", "a"],
        ["SET", "s", "x"],
        ["HEXPIRE", "s", "abc", "FIELDS", "1", "a"],
        ["HTTL", "s", "FIELDS", "0", "a"],
        // A hashtable with field TTLs.
        ["CONFIG", "SET", "hash-max-listpack-entries", "2"],
        ["HSET", "big", "a", "1", "b", "2", "c", "3"],
        ["HPEXPIREAT", "big", String(LATER), "FIELDS", "2", "a", "c"],
        ["OBJECT", "ENCODING", "big"],
        ["HPEXPIRETIME", "big", "FIELDS", "3", "a", "b", "c"],
        ["HPEXPIREAT", "lx", String(LATER), "FIELDS", "1", "a"],
        ["HSET", "lx", "a", "1", "b", "2"],
        ["HPEXPIREAT", "lx", String(LATER), "FIELDS", "1", "a"],
        ["HSET", "lx", "c", "3"],
        ["OBJECT", "ENCODING", "lx"],
        ["HPEXPIRETIME", "lx", "FIELDS", "3", "a", "b", "c"],
        // RENAME / COPY keep the TTLs.
        ["RENAME", "big", "big2"],
        ["COPY", "big2", "big3"],
        ["HPEXPIRETIME", "big3", "FIELDS", "2", "a", "b"],
        ["CONFIG", "SET", "hash-max-listpack-entries", "128"],
        // Newer read commands.
        ["ZADD", "z", "1", "a", "2.5", "b"],
        ["ZRANK", "z", "b", "WITHSCORE"],
        ["ZREVRANK", "z", "b", "withscore"],
        ["ZRANK", "z", "nosuch", "WITHSCORE"],
        ["ZRANK", "z", "b", "WITHSCORES"],
        ["ZRANK", "z", "b", "WITHSCORE", "x"],
        ["ZRANK", "nosuch", "b", "WITHSCORE"],
        ["HSCAN", "h", "0", "NOVALUES"],
        ["HSCAN", "h", "0", "MATCH", "f*", "NOVALUES", "COUNT", "5"],
        ["XADD", "st", "1-1", "a", "1"],
        ["XADD", "st", "2-0", "b", "2"],
        ["XREAD", "STREAMS", "st", "+"],
        ["XREAD", "COUNT", "5", "STREAMS", "st", "nosuch", "+", "+"],
        ["XDEL", "st", "2-0"],
        ["XREAD", "STREAMS", "st", "+"],
        ["XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"],
        ["XREAD", "STREAMS", "empty", "+"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "empty", "+"],
      ];
      expect(await differences(a, b, cmds)).toEqual([]);
      // The same DUMP payload restores the same hash on both (and RESTORE takes version 12).
      const payload = (await a.call("DUMP", "h")) as string;
      expect(await b.call("RESTORE", "h2", "0", payload)).toBe("OK");
      expect(await a.call("RESTORE", "h2", "0", payload)).toBe("OK");
      expect(await differences(a, b, [["HGETALL", "h2"], ["HPEXPIRETIME", "h2", "FIELDS", "3", "f2", "f3", "f4"], ["OBJECT", "ENCODING", "h2"], ["DUMP", "h2"]])).toEqual([]);
    });

    test("as replicas of a 7.4 master: propagation, expired fields hidden until the master's HDEL, the same events", async () => {
      const master = await track(startRedis(["--hash-max-listpack-entries", "4", "--enable-debug-command", "yes"], { bin: redis74.bin }));
      const config = ["--hash-max-listpack-entries", "4", "--notify-keyspace-events", "KEA", "--replicaof", "127.0.0.1", String(master.port)];
      const [replicant, reference] = await Promise.all([track(startReplicant(config)), track(startRedis(config, { bin: redis74.bin }))]);
      await waitForSync(master, replicant);
      await waitForSync(master, reference);
      const [evX, evR] = await Promise.all([EventCollector.connect(replicant.port), EventCollector.connect(reference.port)]);
      const m = await master.client();
      // Active expiry off: expired fields stay until a command finds them.
      expect(await m.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")).toBe("OK");
      const soon = String(Date.now() + 400);
      for (const key of ["small", "big"]) {
        const fields = key === "small" ? ["a", "1", "b", "2", "c", "3"] : ["a", "1", "b", "2", "c", "3", "d", "4", "e", "5"];
        await m.call("HSET", key, ...fields);
        await m.call("HPEXPIREAT", key, soon, "FIELDS", "2", "a", "b");
        await m.call("HEXPIRE", key, "1000", "NX", "FIELDS", "2", "b", "c");
      }
      await m.call("HSET", "gone", "x", "1");
      await m.call("HPEXPIREAT", "gone", soon, "FIELDS", "1", "x");
      await m.call("HSET", "past", "x", "1", "y", "2");
      await m.call("HEXPIRE", "past", "0", "FIELDS", "2", "x", "nosuch");
      await m.call("HSET", "keep", "x", "1");
      await m.call("HPEXPIREAT", "keep", String(LATER), "FIELDS", "1", "x");
      await m.call("HINCRBYFLOAT", "keep", "x", "1.5"); // propagated as HSET: the replicas drop the TTL
      await waitForSync(master, replicant);
      await waitForSync(master, reference);
      await Bun.sleep(450);
      const r = await replicant.client();
      const x = await reference.client();
      const reads: string[][] = [];
      for (const key of ["small", "big", "gone"]) {
        reads.push(["HGET", key, "a"], ["HMGET", key, "a", "b", "c"], ["HGETALL", key], ["HKEYS", key], ["HVALS", key], ["HLEN", key], ["HEXISTS", key, "a"], ["HSTRLEN", key, "a"]);
        reads.push(["HTTL", key, "FIELDS", "3", "a", "b", "c"], ["HPEXPIRETIME", key, "FIELDS", "3", "a", "b", "c"], ["HSCAN", key, "0"], ["TYPE", key], ["EXISTS", key], ["OBJECT", "ENCODING", key]);
        reads.push(["HRANDFIELD", key, "100"], ["HPERSIST", key, "FIELDS", "1", "a"]);
      }
      reads.push(["DBSIZE"], ["HGETALL", "past"], ["HPEXPIRETIME", "keep", "FIELDS", "1", "x"]);
      const diff: string[] = [];
      for (const cmd of reads) {
        let [a, b] = [show(await x.call(...cmd)), show(await r.call(...cmd))];
        // Hashtable order and random picks: compared as multisets.
        if (cmd[0] === "HRANDFIELD" || cmd[1] === "big") [a, b] = [multiset(a), multiset(b)];
        if (JSON.stringify(a) !== JSON.stringify(b)) diff.push(`${JSON.stringify(cmd)}: redis ${JSON.stringify(a)} / replicant ${JSON.stringify(b)}`);
      }
      expect(diff).toEqual([]);
      // The master finds them now: HDELs (and nothing else) reach both replicas.
      await m.call("HGET", "small", "a");
      await m.call("HMGET", "big", "a", "b", "zz");
      await m.call("HINCRBY", "gone", "x", "5");
      await m.call("DEBUG", "SET-ACTIVE-EXPIRE", "1");
      await waitFor("the master to expire every field", async () => Number(await m.call("HLEN", "small")) === 1 && Number(await m.call("HLEN", "big")) === 3);
      await waitForSync(master, replicant);
      await waitForSync(master, reference);
      const after: string[][] = [["HGETALL", "small"], ["HLEN", "small"], ["HLEN", "big"], ["HGET", "gone", "x"], ["HPEXPIRETIME", "gone", "FIELDS", "1", "x"], ["DBSIZE"]];
      expect(await differences(x, r, after)).toEqual([]);
      await m.call("PUBLISH", "__keyevent@0__:end", "marker");
      await Promise.all([evX.waitFor("__keyevent@0__:end marker"), evR.waitFor("__keyevent@0__:end marker")]);
      evX.close();
      evR.close();
      expect(evX.events).toEqual(evR.events);
      expect(evX.events).toContain("__keyevent@0__:hexpire small");
      expect(evX.events).toContain("__keyevent@0__:hdel small");
    });

    test("full syncs of hashes with field TTLs (RDB 12, disk and diskless); a 7.4 replica of Replicant gets them back", async () => {
      const master = await track(startRedis(["--hash-max-listpack-entries", "3"], { bin: redis74.bin }));
      const m = await master.client();
      await m.call("HSET", "lpx", "f1", "v1", "f2", "v2", "f3", "100");
      await m.call("HPEXPIREAT", "lpx", String(LATER + 1000), "FIELDS", "1", "f3");
      await m.call("HPEXPIREAT", "lpx", String(LATER), "FIELDS", "1", "f1");
      await m.call("HSET", "htx", "a", "1", "b", "2", "c", "3", "d", "4");
      await m.call("HPEXPIREAT", "htx", String(LATER + 2500), "FIELDS", "2", "a", "c");
      await m.call("HSET", "lpp", "a", "1");
      await m.call("HEXPIRE", "lpp", "100", "FIELDS", "1", "a");
      await m.call("HPERSIST", "lpp", "FIELDS", "1", "a");
      await m.call("HSET", "plain", "a", "1");
      const probe: string[][] = [];
      for (const key of ["lpx", "htx", "lpp", "plain"]) probe.push(["OBJECT", "ENCODING", key], ["HPEXPIRETIME", key, "FIELDS", "4", "a", "c", "f1", "f3"]);
      probe.push(["HGETALL", "lpx"]);
      for (const diskless of ["yes", "no"]) {
        await m.call("CONFIG", "SET", "repl-diskless-sync", diskless);
        const replica = await track(startReplicant(["--hash-max-listpack-entries", "3", "--repl-diskless-sync-delay", "0", "--replicaof", "127.0.0.1", String(master.port)]));
        await waitForSync(master, replica);
        expect({ diskless, diff: await differences(m, await replica.client(), probe) }).toEqual({ diskless, diff: [] });
        // Chained: a 7.4 replica loads the RDB 12 Replicant writes.
        const chained = await track(startRedis(["--hash-max-listpack-entries", "3", "--replicaof", "127.0.0.1", String(replica.port)], { bin: redis74.bin }));
        await waitForSync(replica, chained);
        expect({ diskless, chained: await differences(m, await chained.client(), probe) }).toEqual({ diskless, chained: [] });
        // Both loaded the hashes (a load registers the exact smallest TTL): the same payloads.
        const dumps = ["lpx", "lpp"].map((k) => ["DUMP", k]);
        expect({ diskless, dumps: await differences(await chained.client(), await replica.client(), dumps) }).toEqual({ diskless, dumps: [] });
        await replica.stop();
        await chained.stop();
      }
    });

    test("Replicant as a master: lazy and active expiry of fields reach a 7.4 replica as HDELs", async () => {
      const primary = await track(startReplicant(["--hash-max-listpack-entries", "4", "--repl-diskless-sync-delay", "0"]));
      const replica = await track(startRedis(["--hash-max-listpack-entries", "4", "--replicaof", "127.0.0.1", String(primary.port)], { bin: redis74.bin }));
      await waitForSync(primary, replica);
      const p = await primary.client();
      await p.call("HSET", "lazy", "a", "1", "b", "2");
      await p.call("HSET", "active", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5");
      await p.call("HSET", "whole", "a", "1");
      const soon = String(Date.now() + 300);
      await p.call("HPEXPIREAT", "lazy", soon, "FIELDS", "1", "a");
      await p.call("HPEXPIREAT", "active", soon, "FIELDS", "3", "a", "b", "c");
      await p.call("HPEXPIREAT", "whole", soon, "FIELDS", "1", "a");
      await p.call("HPEXPIRE", "active", "100000", "FIELDS", "1", "d");
      await p.call("HEXPIRE", "lazy", "0", "FIELDS", "1", "b"); // deleted now: the last field, the key goes
      await Bun.sleep(350);
      expect(await p.call("HGET", "lazy", "a")).toBeNull();
      await waitFor("active field expiry", async () => Number(await p.call("EXISTS", "whole")) === 0 && Number(await p.call("HLEN", "active")) === 2);
      await waitForSync(primary, replica);
      const r = await replica.client();
      expect(await differences(p, r, [["EXISTS", "lazy"], ["HLEN", "active"], ["EXISTS", "whole"], ["HPEXPIRETIME", "active", "FIELDS", "2", "d", "e"], ["DBSIZE"]])).toEqual([]);
      expect(multiset(await r.call("HGETALL", "active"))).toEqual(multiset(await p.call("HGETALL", "active")));
      expect(await r.call("HLEN", "active")).toBe(2);
    });
  });
}
