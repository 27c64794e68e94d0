// Blocking list commands and the generic blocked-on-keys mechanism (core/blocking.ts).
// Every scenario runs against a real redis-server 7.0 and against Replicant, and the replies
// must be the same (and what the Redis docs say): FIFO service, service after the pushing
// command (a whole EXEC counts as one), timeouts, CLIENT UNBLOCK, several keys, BLMOVE chains,
// pipelined input after the unblock, disconnection while blocked, role change.
// Then replication: the propagated stream of served blocking commands, byte for byte against
// redis-server's (read by a fake replica), and datasets equal across real replication links.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { FakeReplica } from "../helpers/fake-replica.ts";
import { RespClient, RespError, type RespValue } from "../helpers/resp-client.ts";
import { info, removeDir, type ServerProcess, startRedis, startReplicant, waitFor, waitForSync } from "../helpers/servers.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

let redis: ServerProcess;
let replicant: ServerProcess;

beforeAll(async () => {
  [redis, replicant] = await Promise.all([startRedis(), startReplicant()]);
});

afterAll(async () => {
  await Promise.all([redis?.stop(), replicant?.stop()]);
  if (redis) removeDir(redis.dir);
  if (replicant) removeDir(replicant.dir);
});

async function blockedClients(s: ServerProcess): Promise<number> {
  return Number((await info(s, "clients")).blocked_clients);
}

async function waitBlocked(s: ServerProcess, n: number): Promise<void> {
  await waitFor(`${n} blocked clients on :${s.port}`, async () => (await blockedClients(s)) === n, 10000, 5);
}

/** Opens `n` clients, runs the scenario, closes them; returns the scenario's observations. */
async function withClients<T>(s: ServerProcess, n: number, body: (cs: RespClient[]) => Promise<T>): Promise<T> {
  const cs: RespClient[] = [];
  for (let i = 0; i < n; i++) cs.push(await RespClient.connect(s.port));
  try {
    await cs[0]!.call("FLUSHALL");
    return await body(cs);
  } finally {
    for (const c of cs) c.close();
    await waitFor("no blocked clients left", async () => (await blockedClients(s)) === 0, 10000, 5);
  }
}

/** Runs a scenario on both servers; the observations must agree (and are returned for checks). */
async function both<T>(n: number, body: (s: ServerProcess, cs: RespClient[]) => Promise<T>): Promise<T> {
  const expected = await withClients(redis, n, (cs) => body(redis, cs));
  const actual = await withClients(replicant, n, (cs) => body(replicant, cs));
  expect(actual).toEqual(expected);
  return actual;
}

const err = (v: RespValue) => (v instanceof RespError ? `ERR:${v.message}` : v);

describe("blocking pops against redis-server", () => {
  test("a push from another client serves the blocked client; the list is gone after", async () => {
    const out = await both(2, async (s, [c1, c2]) => {
      const p = c1!.call("BLPOP", "k", "0");
      await waitBlocked(s, 1);
      const pushed = await c2!.call("RPUSH", "k", "a");
      return [await p, pushed, await c2!.call("EXISTS", "k"), await blockedClients(s)];
    });
    expect(out).toEqual([["k", "a"], 1, 0, 0]);
  });

  test("clients are served in the order they blocked (BLPOP, BRPOP, LPUSH of several)", async () => {
    const out = await both(5, async (s, cs) => {
      const ps: Promise<RespValue>[] = [];
      for (let i = 0; i < 3; i++) {
        ps.push(cs[i]!.call(i === 1 ? "BRPOP" : "BLPOP", "k", "0"));
        await waitBlocked(s, i + 1);
      }
      const pushed = await cs[4]!.call("LPUSH", "k", "a", "b", "c", "d");
      return [pushed, ...(await Promise.all(ps)), await cs[4]!.call("LRANGE", "k", "0", "-1")];
    });
    // list after LPUSH: d c b a; first BLPOP takes d, BRPOP takes a, next BLPOP c.
    expect(out).toEqual([4, ["k", "d"], ["k", "a"], ["k", "c"], ["b"]]);
  });

  test("served after the pushing command, before the next one of the same pipeline", async () => {
    const out = await both(2, async (s, [c1, c2]) => {
      const p = c1!.call("BLPOP", "k", "0");
      await waitBlocked(s, 1);
      const replies = await c2!.pipeline([
        ["RPUSH", "k", "x", "y"],
        ["LPOP", "k"],
        ["LPOP", "k"],
      ]);
      return [await p, replies];
    });
    expect(out).toEqual([["k", "x"], [2, "y", null]]);
  });

  test("a whole EXEC counts as one command: served after it, on what is left", async () => {
    const out = await both(3, async (s, [c1, c2, c3]) => {
      const p1 = c1!.call("BLPOP", "k", "0");
      await waitBlocked(s, 1);
      // Pushed and popped within one transaction: nothing left, the client stays blocked.
      const t1 = await c2!.pipeline([["MULTI"], ["RPUSH", "k", "a"], ["LPOP", "k"], ["EXEC"]]);
      await Bun.sleep(50);
      const stillBlocked = await blockedClients(s);
      const p2 = c3!.call("BLPOP", "k", "0");
      await waitBlocked(s, 2);
      const t2 = await c2!.pipeline([["MULTI"], ["RPUSH", "k", "b", "c", "d"], ["LLEN", "k"], ["EXEC"]]);
      return [t1, stillBlocked, t2, await p1, await p2, await c2!.call("LRANGE", "k", "0", "-1")];
    });
    expect(out).toEqual([["OK", "QUEUED", "QUEUED", [1, "a"]], 1, ["OK", "QUEUED", "QUEUED", [3, 3]], ["k", "b"], ["k", "c"], ["d"]]);
  });

  test("inside MULTI a blocking command does not block", async () => {
    const out = await both(1, async (_s, [c1]) => {
      return c1!.pipeline([["MULTI"], ["BLPOP", "k", "0"], ["BLMOVE", "k", "d", "left", "left", "0"], ["BRPOPLPUSH", "k", "d", "0"], ["BLMPOP", "0", "1", "k", "left"], ["EXEC"]]);
    });
    expect(out).toEqual(["OK", "QUEUED", "QUEUED", "QUEUED", "QUEUED", [null, null, null, null]]);
  });

  test("several keys: the first that gets data serves; the other registrations go away", async () => {
    const out = await both(2, async (s, [c1, c2]) => {
      const p = c1!.call("BLPOP", "k1", "k2", "k2", "k3", "0");
      await waitBlocked(s, 1);
      await c2!.call("RPUSH", "k2", "v");
      const served = await p;
      await c2!.call("RPUSH", "k1", "w");
      return [served, await c2!.call("LLEN", "k1"), await c2!.call("LLEN", "k2")];
    });
    expect(out).toEqual([["k2", "v"], 1, 0]);
  });

  test("a key created with another type does not serve; the next list does", async () => {
    const out = await both(2, async (s, [c1, c2]) => {
      const p = c1!.call("BLPOP", "k", "0");
      await waitBlocked(s, 1);
      await c2!.call("SET", "k", "string");
      await c2!.call("DEL", "k");
      await c2!.call("ZADD", "k", "1", "m");
      await Bun.sleep(30);
      const still = await blockedClients(s);
      await c2!.call("DEL", "k");
      await c2!.call("RPUSH", "k", "x");
      return [still, await p];
    });
    expect(out).toEqual([1, ["k", "x"]]);
  });

  test("databases are separate", async () => {
    const out = await both(2, async (s, [c1, c2]) => {
      await c1!.call("SELECT", "3");
      const p = c1!.call("BRPOP", "k", "0");
      await waitBlocked(s, 1);
      await c2!.call("RPUSH", "k", "db0");
      await Bun.sleep(30);
      const still = await blockedClients(s);
      await c2!.call("SELECT", "3");
      await c2!.call("RPUSH", "k", "db3");
      await c2!.call("SELECT", "0");
      return [still, await p, await c2!.call("LRANGE", "k", "0", "-1")];
    });
    expect(out).toEqual([1, ["k", "db3"], ["db0"]]);
  });

  test("timeouts: null array (BLMOVE and BRPOPLPUSH too), in about the time asked", async () => {
    for (const s of [redis, replicant]) {
      const c = await RawClient.connect(s.port);
      try {
        const t0 = performance.now();
        const replies = await c.pipeline([
          ["BLPOP", "t:k", "0.15"],
          ["BRPOP", "t:k", "t:k2", "0.01"],
          ["BLMOVE", "t:k", "t:d", "left", "left", "0.01"],
          ["BRPOPLPUSH", "t:k", "t:d", "0.01"],
          ["BLMPOP", "0.01", "1", "t:k", "left"],
          ["HELLO", "3"],
          ["BLPOP", "t:k", "0.01"],
          ["BLMOVE", "t:k", "t:d", "left", "left", "0.01"],
          ["HELLO", "2"],
        ]);
        const elapsed = performance.now() - t0;
        expect(elapsed).toBeGreaterThan(150);
        expect(elapsed).toBeLessThan(3000);
        expect([0, 1, 2, 3, 4, 6, 7].map((i) => replies[i])).toEqual(["*-1\r\n", "*-1\r\n", "*-1\r\n", "*-1\r\n", "*-1\r\n", "_\r\n", "_\r\n"]);
      } finally {
        c.close();
      }
    }
  });

  test("timeouts beyond a timer's range (2^31 ms) neither fire at once nor overflow", async () => {
    const out = await both(2, async (s, [c1, c2]) => {
      const p1 = c1!.call("BLPOP", "k", "3000000");
      await waitBlocked(s, 1);
      const p2 = c2!.call("BRPOP", "k2", "1e15");
      await waitBlocked(s, 2);
      await Bun.sleep(100);
      const still = await blockedClients(s);
      const c3 = await RespClient.connect(s.port);
      await c3.call("RPUSH", "k", "a");
      await c3.call("RPUSH", "k2", "b");
      c3.close();
      return [still, await p1, await p2];
    });
    expect(out).toEqual([2, ["k", "a"], ["k2", "b"]]);
  });

  test("CLIENT UNBLOCK: TIMEOUT gives the timeout reply, ERROR gives -UNBLOCKED, unblocked clients 0", async () => {
    const out = await both(2, async (s, [c1, c2]) => {
      const id = await c1!.call("CLIENT", "ID");
      const p1 = c1!.call("BLPOP", "k", "0");
      await waitBlocked(s, 1);
      const r1 = await c2!.call("CLIENT", "UNBLOCK", String(id));
      const v1 = await p1;
      const p2 = c1!.call("BLMOVE", "k", "d", "left", "left", "0");
      await waitBlocked(s, 1);
      const r2 = await c2!.call("CLIENT", "UNBLOCK", String(id), "ERROR");
      const v2 = err(await p2);
      const r3 = await c2!.call("CLIENT", "UNBLOCK", String(id));
      const r4 = err(await c2!.call("CLIENT", "UNBLOCK", String(id), "SOMETIMES"));
      const r5 = await c2!.call("CLIENT", "UNBLOCK", "987654");
      // The unblocked client works normally afterwards.
      const after = await c1!.call("PING");
      return [r1, v1, r2, v2, r3, r4, r5, after];
    });
    expect(out).toEqual([1, null, 1, "ERR:UNBLOCKED client unblocked via CLIENT UNBLOCK", 0, "ERR:ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR", 0, "PONG"]);
  });

  test("the blocked client's pipelined commands run after its reply, in order", async () => {
    const out = await both(2, async (s, [c1, c2]) => {
      const p = c1!.pipeline([["BLPOP", "k", "0"], ["PING"], ["LLEN", "k"], ["BLPOP", "k", "0"], ["ECHO", "done"]]);
      await waitBlocked(s, 1);
      await c2!.call("RPUSH", "k", "a", "b");
      // The second BLPOP finds "b" at once.
      return p;
    });
    expect(out).toEqual([["k", "a"], "PONG", 1, ["k", "b"], "done"]);
  });

  test("a client that disconnects while blocked is forgotten", async () => {
    const out = await both(2, async (s, [c1, c2]) => {
      void c1!.call("BLPOP", "k", "0").catch(() => {});
      await waitBlocked(s, 1);
      c1!.close();
      await waitBlocked(s, 0);
      await c2!.call("RPUSH", "k", "kept");
      return c2!.call("LRANGE", "k", "0", "-1");
    });
    expect(out).toEqual(["kept"]);
  });

  test("BLMOVE and BRPOPLPUSH served: moved, chains of BLMOVE into BLPOP, same source and destination", async () => {
    const out = await both(4, async (s, [c1, c2, c3, c4]) => {
      const p1 = c1!.call("BLMOVE", "src", "dst", "left", "right", "0");
      await waitBlocked(s, 1);
      await c4!.call("RPUSH", "src", "a", "b");
      const r1 = [await p1, await c4!.call("LRANGE", "src", "0", "-1"), await c4!.call("LRANGE", "dst", "0", "-1")];
      // Chain: x goes a -> b (BLMOVE), then b -> BLPOP, then c gets its own push.
      await c4!.call("DEL", "src", "dst");
      const p2 = c1!.call("BLMOVE", "a", "b", "right", "left", "0");
      await waitBlocked(s, 1);
      const p3 = c2!.call("BLPOP", "b", "0");
      await waitBlocked(s, 2);
      const p4 = c3!.call("BRPOPLPUSH", "c", "a", "0");
      await waitBlocked(s, 3);
      await c4!.call("RPUSH", "c", "x");
      const r2 = [await p4, await p2, await p3, await c4!.call("KEYS", "*")];
      // Same key both sides.
      const p5 = c1!.call("BLMOVE", "k", "k", "left", "right", "0");
      await waitBlocked(s, 1);
      await c4!.call("RPUSH", "k", "1", "2");
      const r3 = [await p5, await c4!.call("LRANGE", "k", "0", "-1")];
      // A destination of another type: WRONGTYPE to the blocked client, the source kept.
      await c4!.call("SET", "str", "v");
      const p6 = c1!.call("BLMOVE", "e", "str", "left", "right", "0");
      await waitBlocked(s, 1);
      await c4!.call("RPUSH", "e", "z");
      const r4 = [err(await p6), await c4!.call("LRANGE", "e", "0", "-1"), await blockedClients(s)];
      return [r1, r2, r3, r4];
    });
    expect(out).toEqual([
      ["a", ["b"], ["a"]],
      ["x", "x", ["b", "x"], []],
      ["1", ["2", "1"]],
      ["ERR:WRONGTYPE Operation against a key holding the wrong kind of value", ["z"], 0],
    ]);
  });

  test("BLMPOP served with COUNT, from the first key that gets data", async () => {
    const out = await both(3, async (s, [c1, c2, c3]) => {
      const p1 = c1!.call("BLMPOP", "0", "2", "k1", "k2", "RIGHT", "COUNT", "2");
      await waitBlocked(s, 1);
      const p2 = c2!.call("BLMPOP", "0", "1", "k2", "LEFT", "COUNT", "10");
      await waitBlocked(s, 2);
      await c3!.call("RPUSH", "k2", "a", "b", "c");
      return [await p1, await p2, await c3!.call("EXISTS", "k2")];
    });
    expect(out).toEqual([
      ["k2", ["c", "b"]],
      ["k2", ["a"]],
      0,
    ]);
  });

  test("INFO blocked_clients and CLIENT LIST flags", async () => {
    const out = await both(3, async (s, [c1, c2, c3]) => {
      const p1 = c1!.call("BLPOP", "k", "0");
      const p2 = c2!.call("BRPOP", "k", "100");
      await waitBlocked(s, 2);
      const clients = String(await c3!.call("CLIENT", "LIST"));
      const flags = clients
        .split("\n")
        .filter((l) => / flags=\S*b\S* /.test(l)).length;
      const inf = await info(s, "clients");
      await c3!.call("RPUSH", "k", "1", "2");
      await Promise.all([p1, p2]);
      return [flags, inf.blocked_clients, inf.clients_in_timeout_table];
    });
    expect(out).toEqual([2, "2", "1"]);
  });

  test("errors before blocking: WRONGTYPE, bad timeouts; the client never blocks", async () => {
    const out = await both(1, async (_s, [c1]) => {
      await c1!.call("SET", "str", "v");
      const r = await c1!.pipeline([
        ["BLPOP", "missing", "str", "0"],
        ["BLPOP", "missing", "-1"],
        ["BLPOP", "missing", "abc"],
        ["BLMOVE", "str", "d", "left", "left", "0"],
        ["BLMOVE", "missing", "str", "left", "left", "0.01"],
        ["BLMPOP", "0", "2", "missing", "str", "left"],
        ["BRPOPLPUSH", "missing", "d", "-0.5"],
      ]);
      return r.map(err);
    });
    expect(out[0]).toBe("ERR:WRONGTYPE Operation against a key holding the wrong kind of value");
    // BLMOVE with a missing source blocks even when the destination has another type (timeout).
    expect(out[4]).toBeNull();
    expect(out[6]).toBe("ERR:ERR timeout is negative");
  });

  test("becoming a replica unblocks blocked clients with -UNBLOCKED and closes them", async () => {
    const master = await startRedis();
    try {
      const out = await both(2, async (s, [c1, c2]) => {
        const p = c1!.call("BLPOP", "k", "0");
        await waitBlocked(s, 1);
        await c2!.call("REPLICAOF", "127.0.0.1", String(master.port));
        const v = err(await p);
        await waitFor("closed", () => c1!.isClosed, 5000);
        const still = await blockedClients(s);
        await c2!.call("REPLICAOF", "NO", "ONE");
        return [v, still];
      });
      expect(out).toEqual(["ERR:UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)", 0]);
    } finally {
      await master.stop();
      removeDir(master.dir);
    }
  }, 30000);
});

describe("keyspace notifications of list commands", () => {
  test("the same events in the same order as redis-server, served blocking pops included", async () => {
    const out = await both(3, async (s, [sub, c2, c3]) => {
      await c2!.call("CONFIG", "SET", "notify-keyspace-events", "KEA");
      try {
        await sub!.call("PSUBSCRIBE", "__key*__:*");
        const cmds = [
          ["RPUSH", "n:a", "1", "2", "3", "4", "5"],
          ["LPUSHX", "n:a", "0"],
          ["RPUSHX", "n:none", "0"],
          ["LINSERT", "n:a", "BEFORE", "3", "x"],
          ["LINSERT", "n:a", "BEFORE", "nothere", "x"],
          ["LSET", "n:a", "0", "z"],
          ["LREM", "n:a", "0", "x"],
          ["LREM", "n:a", "0", "nothere"],
          ["LTRIM", "n:a", "0", "-1"],
          ["LTRIM", "n:a", "1", "-1"],
          ["LPOP", "n:a"],
          ["RPOP", "n:a", "2"],
          ["LPOP", "n:a", "0"],
          ["LMOVE", "n:a", "n:b", "LEFT", "RIGHT"],
          ["RPOPLPUSH", "n:b", "n:b"],
          ["LMPOP", "1", "n:b", "RIGHT", "COUNT", "5"],
          ["RPUSH", "n:c", "1", "2"],
          ["LTRIM", "n:c", "5", "6"],
          ["RPUSH", "n:d", "1"],
          ["LREM", "n:d", "0", "1"],
          ["RPUSH", "n:e", "1"],
          ["BLPOP", "n:e", "0"],
        ];
        for (const cmd of cmds) await c2!.call(...cmd);
        const p1 = c3!.call("BLMOVE", "n:f", "n:g", "right", "left", "0");
        await waitBlocked(s, 1);
        await c2!.call("RPUSH", "n:f", "v");
        await p1;
        const p2 = c3!.call("BRPOP", "n:h", "0");
        await waitBlocked(s, 1);
        await c2!.call("LPUSH", "n:h", "v", "w");
        await p2;
        const p3 = c3!.call("BLMPOP", "0", "1", "n:i", "LEFT", "COUNT", "9");
        await waitBlocked(s, 1);
        await c2!.call("LPUSH", "n:i", "v", "w");
        await p3;
        await c2!.call("RPUSH", "n:end", "1");
        await waitFor("the last event", () => sub!.pushes.some((m) => (m as string[])[3] === "n:end"), 5000);
        return sub!.pushes;
      } finally {
        await c2!.call("CONFIG", "SET", "notify-keyspace-events", "");
      }
    });
    expect(out.length).toBeGreaterThan(40);
  });
});

describe("sorted sets through the same mechanism (BZPOPMIN, BZPOPMAX, BZMPOP)", () => {
  test("served in order, from the first key that gets a sorted set; lists and sets do not serve", async () => {
    const out = await both(5, async (s, [c1, c2, c3, c4, c5]) => {
      const p1 = c1!.call("BZPOPMIN", "z", "0");
      await waitBlocked(s, 1);
      const p2 = c2!.call("BZPOPMAX", "z0", "z", "0");
      await waitBlocked(s, 2);
      const p3 = c3!.call("BZMPOP", "0", "2", "z0", "z", "MIN", "COUNT", "2");
      await waitBlocked(s, 3);
      const p4 = c4!.call("BLPOP", "z", "0");
      await waitBlocked(s, 4);
      await c5!.call("SADD", "z", "m");
      await c5!.call("DEL", "z");
      await Bun.sleep(30);
      const still = await blockedClients(s);
      await c5!.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e");
      const zs = [await p1, await p2, await p3, await c5!.call("ZRANGE", "z", "0", "-1", "WITHSCORES")];
      await c5!.call("DEL", "z");
      await c5!.call("RPUSH", "z", "l");
      return [still, zs, await p4];
    });
    expect(out).toEqual([4, [["z", "a", "1"], ["z", "e", "5"], ["z", [["b", "2"], ["c", "3"]]], ["d", "4"]], ["z", "l"]]);
  });

  test("timeouts and MULTI", async () => {
    const out = await both(1, async (_s, [c1]) => {
      return c1!.pipeline([["BZPOPMIN", "nz", "0.01"], ["BZMPOP", "0.01", "1", "nz", "MAX"], ["MULTI"], ["BZPOPMAX", "nz", "0"], ["BZMPOP", "0", "1", "nz", "MIN"], ["EXEC"]]);
    });
    expect(out).toEqual([null, null, "OK", "QUEUED", "QUEUED", [null, null]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Replication

/**
 * Served and non-served blocking commands of every kind, in a fixed order, on a master; then a
 * marker. What the master propagates for them is compared with redis-server's.
 */
async function propagationScenario(s: ServerProcess, [c1, c2, c3]: RespClient[]): Promise<void> {
  const blockThen = async (blocker: RespClient, cmd: string[], n: number, push: string[][]): Promise<RespValue> => {
    const p = blocker.call(...cmd);
    await waitBlocked(s, n);
    for (const pc of push) await c3!.call(...pc);
    return p;
  };
  await blockThen(c1!, ["BLPOP", "p:a", "0"], 1, [["RPUSH", "p:a", "1", "2", "3"]]);
  await blockThen(c1!, ["BRPOP", "p:b", "p:none", "0"], 1, [["RPUSH", "p:b", "x"]]);
  await blockThen(c1!, ["BLMPOP", "0", "2", "p:c", "p:d", "LEFT", "COUNT", "5"], 1, [["RPUSH", "p:d", "a", "b"]]);
  await blockThen(c1!, ["BLMPOP", "0", "1", "p:d", "right"], 1, [["RPUSH", "p:d", "a", "b"]]);
  await blockThen(c1!, ["BLMOVE", "p:e", "p:f", "LEFT", "Right", "0"], 1, [["RPUSH", "p:e", "v"]]);
  await blockThen(c1!, ["BRPOPLPUSH", "p:g", "p:h", "0"], 1, [["LPUSH", "p:g", "w"]]);
  // Sorted sets.
  await blockThen(c1!, ["BZPOPMIN", "p:z", "0"], 1, [["ZADD", "p:z", "1", "a", "2", "b"]]);
  await blockThen(c1!, ["BZPOPMAX", "p:none", "p:y", "0"], 1, [["ZADD", "p:y", "1", "a", "2", "b"]]);
  await blockThen(c1!, ["BZMPOP", "0", "1", "p:x", "MAX", "COUNT", "3"], 1, [["ZADD", "p:x", "1", "a", "2", "b"]]);
  // A chain: BLMOVE feeding a BLPOP.
  const chain = c1!.call("BLMOVE", "p:i", "p:j", "right", "left", "0");
  await waitBlocked(s, 1);
  await blockThen(c2!, ["BLPOP", "p:j", "0"], 2, [["RPUSH", "p:i", "z"]]);
  await chain;
  // Served after a transaction.
  await blockThen(c1!, ["BLPOP", "p:k", "0"], 1, [["MULTI"], ["RPUSH", "p:k", "1"], ["RPUSH", "p:k", "2"], ["EXEC"]]);
  // In another database.
  await c1!.call("SELECT", "2");
  await c3!.call("SELECT", "2");
  await blockThen(c1!, ["BRPOP", "p:l", "0"], 1, [["RPUSH", "p:l", "db2"]]);
  await c3!.call("SELECT", "0");
  await c1!.call("SELECT", "0");
  // Timed out and unblocked: nothing propagated.
  await c1!.call("BLPOP", "p:none", "0.01");
  const id = await c1!.call("CLIENT", "ID");
  await blockThen(c1!, ["BLMOVE", "p:none", "p:x", "left", "left", "0"], 1, [["CLIENT", "UNBLOCK", String(id)]]);
  // Non-blocking paths of the blocking commands, and LMPOP.
  await c3!.call("RPUSH", "p:m", "1", "2", "3", "4", "5", "6", "7", "8");
  await c3!.call("BLPOP", "p:m", "0");
  await c3!.call("BRPOP", "p:none", "p:m", "0");
  await c3!.call("BLMPOP", "0", "1", "p:m", "LEFT", "COUNT", "2");
  await c3!.call("BLMOVE", "p:m", "p:n", "LEFT", "Right", "0");
  await c3!.call("BRPOPLPUSH", "p:m", "p:n", "0");
  await c3!.call("LMPOP", "2", "p:none", "p:m", "RIGHT", "COUNT", "10");
  await c3!.call("LMPOP", "1", "p:none", "left");
  await c3!.call("LPOP", "p:n", "0");
  await c3!.call("LPOP", "p:n", "5");
  await c3!.call("RPUSH", "p:o", "a");
  await c3!.call("LTRIM", "p:o", "0", "-1");
  await c3!.call("LREM", "p:o", "0", "zz");
  await c3!.call("LSET", "p:o", "0", "b");
  await c3!.call("MULTI");
  await c3!.call("BLPOP", "p:o", "0");
  await c3!.call("BLPOP", "p:o", "0");
  await c3!.call("EXEC");
  await c3!.call("SET", "p:end", "marker");
}

describe("lists and replication", () => {
  test("propagated forms of served blocking commands: the same stream as redis-server's", async () => {
    const streams: string[][][] = [];
    for (const s of [redis, replicant]) {
      expect(await s.call("CONFIG", "SET", "repl-diskless-sync-delay", "0")).toBe("OK");
      const fake = await FakeReplica.connect(s.port, { asReplica: true });
      try {
        await waitFor("the fake replica in the stream", () => fake.synced, 15000);
        await withClients(s, 3, (cs) => propagationScenario(s, cs));
        await waitFor("the marker", () => fake.commands.some((c) => c[1] === "p:end"), 10000);
        // Commands before the scenario's FLUSHALL (none expected) are cut off.
        const from = fake.commands.findIndex((c) => c[0]!.toUpperCase() === "FLUSHALL");
        streams.push(fake.commands.slice(from));
      } finally {
        fake.close();
      }
    }
    if (process.env.LIST_DUMP_STREAMS) await Bun.write("/tmp/list-streams.json", JSON.stringify(streams.map((s) => s.map((c) => c.join(" ")))));
    expect(streams[1]).toEqual(streams[0]!);
    // A few of the forms, spelled out.
    const flat = streams[1]!.map((c) => c.join(" "));
    expect(flat).toContain("LPOP p:a");
    expect(flat).toContain("RPOP p:b");
    expect(flat).toContain("LPOP p:d 2");
    expect(flat).toContain("LMOVE p:e p:f left right");
    expect(flat).toContain("RPOPLPUSH p:g p:h");
    expect(flat).toContain("LMOVE p:m p:n LEFT Right");
    expect(flat).toContain("ZPOPMIN p:z");
    expect(flat).toContain("ZPOPMAX p:y");
    expect(flat).toContain("ZPOPMAX p:x 2");
    expect(flat.some((c) => c.startsWith("BL") || c.startsWith("BR"))).toBe(false);
  }, 60000);

  test("redis-server master, Replicant replica: list writes and served blocking pops, every list equal", async () => {
    const master = await startRedis();
    const replica = await startReplicant(["--replicaof", "127.0.0.1", String(master.port)]);
    const clients: RespClient[] = [];
    try {
      await waitForSync(master, replica);
      for (let i = 0; i < 4; i++) clients.push(await master.client());
      await propagationScenario(master, clients.slice(0, 3));
      await randomListWorkload(master, clients, seedFromEnv("LIST_REPL_SEED"));
      await waitForSync(master, replica);
      const rc = await replica.client();
      const [a, b] = await Promise.all([snapshotDataset(clients[0]!), snapshotDataset(rc)]);
      expect(diffDatasets(a, b)).toEqual([]);
      expect(a.get(0)?.size ?? 0).toBeGreaterThan(5);
      // Blocking commands on a read-only replica: refused like any write.
      expect(err(await rc.call("BLPOP", "k", "0"))).toBe("ERR:READONLY You can't write against a read only replica.");
    } finally {
      await Promise.all([master.stop(), replica.stop()]);
      removeDir(master.dir);
      removeDir(replica.dir);
    }
  }, 60000);

  test("Replicant master, redis-server replica: the same workload, every list equal", async () => {
    const master = await startReplicant(["--repl-diskless-sync-delay", "0"]);
    const replica = await startRedis(["--replicaof", "127.0.0.1", String(master.port)]);
    const clients: RespClient[] = [];
    try {
      await waitForSync(master, replica);
      for (let i = 0; i < 4; i++) clients.push(await master.client());
      await propagationScenario(master, clients.slice(0, 3));
      await randomListWorkload(master, clients, seedFromEnv("LIST_REPL_SEED2"));
      await waitForSync(master, replica);
      const rc = await replica.client();
      const [a, b] = await Promise.all([snapshotDataset(clients[0]!), snapshotDataset(rc)]);
      expect(diffDatasets(a, b)).toEqual([]);
      expect(a.get(0)?.size ?? 0).toBeGreaterThan(5);
    } finally {
      await Promise.all([master.stop(), replica.stop()]);
      removeDir(master.dir);
      removeDir(replica.dir);
    }
  }, 60000);
});

/**
 * Random list writes from one client while others block and get served: rounds of "some
 * clients block on random keys, then pushes and moves happen", checked to leave nobody blocked.
 */
async function randomListWorkload(s: ServerProcess, clients: RespClient[], seed: number): Promise<void> {
  const rand = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const keys = Array.from({ length: 6 }, (_, i) => `rw:${i}`);
  const writer = clients[clients.length - 1]!;
  const side = () => pick(["left", "right"]);
  for (let round = 0; round < 40; round++) {
    const pending: Promise<RespValue>[] = [];
    let answered = 0;
    for (const c of clients.slice(0, -1)) {
      if (rand() < 0.4) continue;
      const k = pick(keys);
      const cmd = pick([
        ["BLPOP", k, pick(keys), "0"],
        ["BRPOP", k, "0"],
        ["BLMPOP", "0", "2", k, pick(keys), side().toUpperCase(), "COUNT", String(1 + Math.floor(rand() * 3))],
        ["BLMOVE", k, pick(keys), side(), side(), "0"],
        ["BRPOPLPUSH", k, pick(keys), "0"],
      ]);
      pending.push(
        c.call(...cmd).then((v) => {
          answered++;
          return v;
        }),
      );
    }
    // Every blocking command has either been answered (data was there) or is blocked.
    await waitFor("blocking commands settled", async () => answered + (await blockedClients(s)) === pending.length, 10000, 5);
    const batch: string[][] = [];
    for (let i = 0; i < 30; i++) {
      const k = pick(keys);
      const r = rand();
      if (r < 0.5) batch.push([pick(["RPUSH", "LPUSH"]), k, ...Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(["a", "b", "c", "d"]))]);
      else if (r < 0.6) batch.push(["LMOVE", k, pick(keys), side(), side()]);
      else if (r < 0.7) batch.push([pick(["LPOP", "RPOP"]), k]);
      else if (r < 0.75) batch.push(["LTRIM", k, "0", String(Math.floor(rand() * 4))]);
      else if (r < 0.8) batch.push(["LREM", k, "1", pick(["a", "b"])]);
      else if (r < 0.85) batch.push(["LINSERT", k, "BEFORE", pick(["a", "b"]), "i"]);
      else if (r < 0.9) batch.push(["LSET", k, "0", "s"]);
      else batch.push(["RPUSH", k, "x"]);
    }
    await writer.pipeline(batch);
    // Whoever is still blocked gets data now.
    for (let guard = 0; guard < 50 && (await blockedClients(s)) > 0; guard++) {
      await writer.pipeline(keys.map((k) => ["RPUSH", k, "fill"]));
    }
    await Promise.all(pending);
  }
}
