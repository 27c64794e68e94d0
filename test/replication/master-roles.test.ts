// Replicant's roles changing under real redis-server peers: restart as a master without a full
// sync of its replicas, FAILOVER in both directions (Replicant handing over to redis-server, and
// redis-server handing over to Replicant), FAILOVER's errors and write pause, re-pointing
// replicas between promoted nodes, and a sub-replica continuing from our forwarded backlog.

import { afterAll, describe, expect, test } from "bun:test";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { RespClient, RespError } from "../helpers/resp-client.ts";
import { info, startRedis, startReplicant, waitFor, waitForSync, type ServerProcess, stopServers, tracker } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(async () => {
  // (A test may leave one stopped with SIGSTOP.)
  for (const s of started) s.proc.kill("SIGCONT");
  await stopServers(started);
});
const track = tracker(started);

async function sameData(a: ServerProcess, b: ServerProcess): Promise<void> {
  const da = await snapshotDataset(await a.client());
  const db = await snapshotDataset(await b.client());
  expect(diffDatasets(da, db)).toEqual([]);
}

/** db 0 as sorted lines "key type value pttl-bucket", read with pipelines (fast on 10^4+ keys). */
async function quickDump(server: ServerProcess): Promise<string[]> {
  const c = await server.client();
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = (await c.call("SCAN", cursor, "COUNT", 1000)) as [string, string[]];
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  const out: string[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const part = keys.slice(i, i + 1000);
    const types = (await c.pipeline(part.map((k) => ["TYPE", k]))) as string[];
    const reads = part.map((k, j): Array<string | number> => {
      switch (types[j]) {
        case "list":
          return ["LRANGE", k, 0, -1];
        case "set":
          return ["SMEMBERS", k];
        case "hash":
          return ["HGETALL", k];
        case "zset":
          return ["ZRANGE", k, 0, -1, "WITHSCORES"];
        default:
          return ["GET", k];
      }
    });
    const values = await c.pipeline(reads);
    const ttls = (await c.pipeline(part.map((k) => ["PTTL", k]))) as number[];
    part.forEach((k, j) => {
      let v = values[j] as unknown;
      if (types[j] === "set") v = [...(v as string[])].sort();
      if (types[j] === "hash") {
        const flat = v as string[];
        const pairs: string[] = [];
        for (let x = 0; x < flat.length; x += 2) pairs.push(`${flat[x]}=${flat[x + 1]}`);
        v = pairs.sort();
      }
      out.push(`${k} ${types[j]} ${JSON.stringify(v)} ${ttls[j]! < 0 ? ttls[j] : "ttl"}`);
    });
  }
  c.close();
  return out.sort();
}

async function writeSome(s: ServerProcess, prefix: string, n = 200): Promise<void> {
  const c = await s.client();
  const batch: Array<Array<string | number>> = [];
  for (let i = 0; i < n; i++) {
    batch.push(["SET", `${prefix}:s:${i}`, `v${i}`]);
    if (i % 5 === 0) batch.push(["HSET", `${prefix}:h:${i % 20}`, `f${i}`, i]);
    if (i % 7 === 0) batch.push(["RPUSH", `${prefix}:l`, i]);
  }
  await c.pipeline(batch);
}

/** Replicant with no diskless-sync delay (Redis's default of 5 s would only slow the tests). */
const FAST = ["--repl-diskless-sync-delay", "0"];

const errorText = (v: unknown) => (v instanceof RespError ? v.message : `not an error: ${String(v)}`);

describe("Replicant restarted as a master", () => {
  test("its redis-server replica continues with a partial resync (repl-id / repl-offset from the RDB as replid2)", async () => {
    const master = await track(startReplicant(["--save", "3600 1", "--repl-diskless-sync-delay", "0"]));
    await writeSome(master, "before");
    const replica = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    await writeSome(master, "more");
    await waitForSync(master, replica);
    // SAVE changes nothing in the dataset: it is not propagated (the offset stays).
    const offsetBeforeSave = (await info(master, "replication")).master_repl_offset;
    expect(await master.call("SAVE")).toBe("OK");
    expect((await info(master, "replication")).master_repl_offset).toBe(offsetBeforeSave);
    const oldId = (await info(master, "replication")).master_replid!;
    // The replica's ack reached the master: SHUTDOWN does not wait for it (shutdown-timeout),
    // so no REPLCONF GETACK moves the offset before the final save.
    await waitFor("the master to see the replica's ack", async () => {
      const m = await info(master, "replication");
      return m.slave0?.includes(`offset=${m.master_repl_offset},`);
    });
    const offset = Number((await info(master, "replication")).master_repl_offset);
    // SHUTDOWN saves (save points are configured) with the replication info.
    await master.call("SHUTDOWN").catch(() => undefined);
    await master.proc.exited;
    const logBefore = replica.output().length;
    const restarted = await track(startReplicant(["--save", "3600 1", "--repl-diskless-sync-delay", "0"], { port: master.port, dir: master.dir }));
    await waitFor("replica link up again", async () => (await info(replica, "replication")).master_link_status === "up", 30000);
    const r = await info(restarted);
    expect(r.master_replid2).toBe(oldId);
    expect(Number(r.second_repl_offset)).toBe(offset + 1);
    expect(Number(r.sync_partial_ok)).toBe(1);
    expect(Number(r.sync_full)).toBe(0);
    const log = replica.output().slice(logBefore);
    expect(log).toContain("Successful partial resynchronization with master");
    expect(log).not.toContain("Full resync from master");
    // Writes after the restart reach the replica.
    await writeSome(restarted, "after", 50);
    await waitForSync(restarted, replica);
    await sameData(restarted, replica);
  });
});

describe("FAILOVER", () => {
  test("errors as redis-server gives them", async () => {
    const redis = await track(startRedis());
    const ours = await track(startReplicant(FAST));
    const cases: Array<Array<string | number>> = [
      ["FAILOVER", "ABORT"],
      ["FAILOVER"],
      ["FAILOVER", "TIMEOUT", 0],
      ["FAILOVER", "TIMEOUT", "x"],
      ["FAILOVER", "TO", "127.0.0.1"],
      ["FAILOVER", "TO", "127.0.0.1", "notaport"],
      ["FAILOVER", "FORCE", "FORCE"],
      ["FAILOVER", "BOGUS"],
    ];
    for (const cmd of cases) {
      const want = errorText(await redis.call(...cmd));
      expect(`${cmd.join(" ")} -> ${errorText(await ours.call(...cmd))}`).toBe(`${cmd.join(" ")} -> ${want}`);
    }
    // With a replica: unknown target, FORCE without TO/TIMEOUT.
    const r1 = await track(startRedis(["--replicaof", "127.0.0.1", String(redis.port)]));
    const r2 = await track(startRedis(["--replicaof", "127.0.0.1", String(ours.port)]));
    await waitForSync(redis, r1);
    await waitForSync(ours, r2);
    for (const cmd of [
      ["FAILOVER", "TO", "127.0.0.1", 1],
      ["FAILOVER", "FORCE", "TIMEOUT", 100],
      ["FAILOVER", "TO", "127.0.0.1", 1, "FORCE"],
    ] as Array<Array<string | number>>) {
      const want = errorText(await redis.call(...cmd));
      expect(`${cmd.join(" ")} -> ${errorText(await ours.call(...cmd))}`).toBe(`${cmd.join(" ")} -> ${want}`);
    }
    expect(errorText(await r2.call("FAILOVER"))).toBe(errorText(await r1.call("FAILOVER")));
  });

  test("Replicant hands over to its redis-server replica: the roles swap and Replicant resyncs partially", async () => {
    const master = await track(startReplicant(FAST));
    await writeSome(master, "pre");
    const replica = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    const partialBefore = Number((await info(replica)).sync_partial_ok ?? 0);
    const writer = await master.client();
    expect(await master.call("FAILOVER", "TO", "127.0.0.1", replica.port, "TIMEOUT", 10000)).toBe("OK");
    // A write sent while the failover waits is held, then refused: we are a replica by then.
    const held = writer.call("SET", "during", "failover");
    expect(errorText(await held)).toStartWith("READONLY");
    await waitFor("roles swapped", async () => {
      const m = await info(master, "replication");
      const r = await info(replica, "replication");
      return m.role === "slave" && m.master_link_status === "up" && r.role === "master" && m.master_failover_state === "no-failover";
    });
    const r = await info(replica);
    expect(Number(r.sync_partial_ok)).toBe(partialBefore + 1);
    expect(master.output()).toContain(`Failover target 127.0.0.1:${replica.port} is synced, failing over.`);
    expect(master.output()).toContain("Successful partial resynchronization with master");
    // Writes now go to redis-server and reach Replicant.
    await writeSome(replica, "post", 50);
    await waitForSync(replica, master);
    await sameData(replica, master);
    expect(errorText(await master.call("SET", "x", "1"))).toStartWith("READONLY");
  });

  test("redis-server hands over to its Replicant replica (PSYNC ... FAILOVER)", async () => {
    const top = await track(startRedis());
    await writeSome(top, "pre");
    const ours = await track(startReplicant([...FAST, "--replicaof", "127.0.0.1", String(top.port)]));
    await waitForSync(top, ours);
    expect(await top.call("FAILOVER")).toBe("OK");
    await waitFor("Replicant promoted, redis-server following it", async () => {
      const m = await info(ours, "replication");
      const t = await info(top, "replication");
      return m.role === "master" && t.role === "slave" && t.master_link_status === "up" && t.master_failover_state === "no-failover";
    });
    await ours.waitForLog("Failover request received for replid");
    await ours.waitForLog("MASTER MODE enabled (failover request from");
    expect(Number((await info(ours)).sync_partial_ok)).toBe(1);
    expect(top.output()).toContain("Successful partial resynchronization with master");
    await writeSome(ours, "post", 50);
    await waitForSync(ours, top);
    await sameData(ours, top);
  });

  test("between two Replicants, with a redis-server replica of the old master following along", async () => {
    const a = await track(startReplicant(FAST));
    await writeSome(a, "pre");
    const b = await track(startReplicant([...FAST, "--replicaof", "127.0.0.1", String(a.port)]));
    const r = await track(startRedis(["--replicaof", "127.0.0.1", String(a.port)]));
    await waitForSync(a, b);
    await waitForSync(a, r);
    const rLog = r.output().length;
    expect(await a.call("FAILOVER", "TO", "127.0.0.1", b.port)).toBe("OK");
    await waitFor("a follows b", async () => {
      const ia = await info(a, "replication");
      return ia.role === "slave" && ia.master_link_status === "up" && (await info(b, "replication")).role === "master";
    });
    expect(Number((await info(b)).sync_partial_ok)).toBe(1);
    expect(Number((await info(b)).sync_full)).toBe(0);
    await writeSome(b, "post", 60);
    await waitForSync(b, a);
    await waitForSync(a, r);
    await sameData(b, a);
    await sameData(b, r);
    // The redis-server replica of a stayed on a partial resync through the whole switch.
    const log = r.output().slice(rLog);
    expect(log).toContain("Successful partial resynchronization with master");
    expect(log).not.toContain("Full resync from master");
  });

  test("writes wait while the failover waits for a replica; TIMEOUT without FORCE aborts and releases them", async () => {
    const master = await track(startReplicant(FAST));
    const replica = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    replica.proc.kill("SIGSTOP"); // it will never acknowledge
    const c = await master.client();
    await c.call("SET", "k", "0"); // the replica is now behind
    expect(await c.call("FAILOVER", "TIMEOUT", 1500)).toBe("OK");
    expect((await info(master, "replication")).master_failover_state).toBe("waiting-for-sync");
    expect(errorText(await master.call("FAILOVER"))).toBe("ERR FAILOVER already in progress.");
    expect(errorText(await master.call("REPLICAOF", "127.0.0.1", replica.port))).toBe("ERR REPLICAOF not allowed while failing over.");
    const writer = await master.client();
    const t0 = Date.now();
    const pendingSet = writer.call("SET", "k", "1");
    // Reads are not paused.
    expect(await master.call("GET", "k")).toBe("0");
    expect(await pendingSet).toBe("OK");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    await master.waitForLog("FAILOVER to any replica aborted: Replica never caught up before timeout");
    expect((await info(master, "replication")).master_failover_state).toBe("no-failover");
    expect(await master.call("GET", "k")).toBe("1");
    replica.proc.kill("SIGCONT");
  });

  test("FAILOVER ABORT releases paused writes", async () => {
    const master = await track(startReplicant(FAST));
    const replica = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    replica.proc.kill("SIGSTOP");
    await master.call("SET", "a", "0");
    expect(await master.call("FAILOVER")).toBe("OK");
    const writer = await master.client();
    const pending = writer.call("INCR", "a");
    await Bun.sleep(300);
    expect(await master.call("GET", "a")).toBe("0");
    expect(await master.call("FAILOVER", "ABORT")).toBe("OK");
    expect(await pending).toBe(1);
    replica.proc.kill("SIGCONT");
    await waitForSync(master, replica);
    expect(await replica.call("GET", "a")).toBe("1");
  });
});

describe("PSYNC2 rules", () => {
  test("replid / replid2 up to second_repl_offset / backlog range decide +CONTINUE or +FULLRESYNC", async () => {
    const top = await track(startRedis());
    await writeSome(top, "a", 100);
    const ours = await track(startReplicant([...FAST, "--replicaof", "127.0.0.1", String(top.port), "--repl-backlog-size", "16384"]));
    await waitForSync(top, ours);
    await top.stop();
    expect(await ours.call("REPLICAOF", "NO", "ONE")).toBe("OK");
    // More than the backlog holds, after the promotion.
    for (let i = 0; i < 5; i++) await writeSome(ours, `b${i}`, 100);
    const r = await info(ours, "replication");
    const [id, id2] = [r.master_replid!, r.master_replid2!];
    const second = Number(r.second_repl_offset);
    const end = Number(r.master_repl_offset);
    const first = Number(r.repl_backlog_first_byte_offset);
    expect(first).toBeGreaterThan(second); // the old history fell out of the backlog
    // A raw replica: the first line of the PSYNC reply, past the newlines a master sends to
    // replicas waiting for a full sync to start.
    const psync = async (replid: string, offset: number, psync2 = true): Promise<string> => {
      let text = "";
      let resolveLine!: (line: string) => void;
      const line = new Promise<string>((r) => (resolveLine = r));
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port: ours.port,
        socket: {
          data(_s, chunk) {
            text += chunk.toString("latin1");
            const lines = text.split("\r\n").map((l) => l.replace(/^\n+/, ""));
            // Skip +OK of REPLCONF, keep the PSYNC reply.
            const replies = lines.slice(0, -1).filter((l) => l !== "");
            const want = psync2 ? 2 : 1;
            if (replies.length >= want) resolveLine(replies[want - 1]!.replace(/^[+-]/, ""));
          },
        },
      });
      // One at a time: a PSYNC behind an unsent reply is refused (as by Redis).
      if (psync2) {
        socket.write("REPLCONF capa psync2\r\n");
        await waitFor("+OK to REPLCONF", () => text.includes("+OK\r\n"), 5000, 5);
      }
      socket.write(`PSYNC ${replid} ${offset}\r\n`);
      const reply = await line;
      socket.end();
      return reply;
    };
    expect(await psync(id, end + 1)).toBe(`CONTINUE ${id}`);
    expect(await psync(id, end + 1, false)).toBe("CONTINUE");
    expect(await psync(id, first)).toBe(`CONTINUE ${id}`);
    expect(await psync(id, first - 1)).toStartWith("FULLRESYNC");
    expect(await psync(id, end + 2)).toStartWith("FULLRESYNC");
    await ours.waitForLog("tried to PSYNC with an offset that is greater than the master replication offset");
    expect(await psync(id2, second + 1)).toStartWith("FULLRESYNC");
    await ours.waitForLog(`Requested offset for second ID was ${second + 1}, but I can reply up to ${second}`);
    // replid2 within range but out of the backlog: still a full sync.
    expect(await psync(id2, second)).toStartWith("FULLRESYNC");
    expect(await psync("0123456789012345678901234567890123456789", end + 1)).toStartWith("FULLRESYNC");
    await ours.waitForLog("Replication ID mismatch");
    expect(await psync("?", -1)).toStartWith(`FULLRESYNC ${id} `);
    const st = await info(ours);
    expect(Number(st.sync_partial_ok)).toBe(3);
    expect(Number(st.sync_partial_err)).toBe(5);
  });
});

describe("re-pointing and chained partial resyncs", () => {
  test("two Replicant replicas of a lost master: one is promoted, the other follows it with a partial resync", async () => {
    const top = await track(startRedis());
    await writeSome(top, "t");
    const a = await track(startReplicant([...FAST, "--replicaof", "127.0.0.1", String(top.port)]));
    const b = await track(startReplicant([...FAST, "--replicaof", "127.0.0.1", String(top.port)]));
    await waitForSync(top, a);
    await waitForSync(top, b);
    await top.stop();
    expect(await a.call("REPLICAOF", "NO", "ONE")).toBe("OK");
    expect(await b.call("REPLICAOF", "127.0.0.1", a.port)).toBe("OK");
    await waitFor("b follows a", async () => (await info(b, "replication")).master_link_status === "up", 20000);
    const ia = await info(a);
    expect(Number(ia.sync_partial_ok)).toBe(1);
    expect(Number(ia.sync_full)).toBe(0);
    await b.waitForLog("Successful partial resynchronization with master");
    await writeSome(a, "after-promotion", 80);
    await waitForSync(a, b);
    await sameData(a, b);
  });

  test("a redis-server sub-replica that loses its link continues from the backlog we forward (our master's bytes)", async () => {
    const top = await track(startRedis());
    await writeSome(top, "x");
    const mid = await track(startReplicant([...FAST, "--replicaof", "127.0.0.1", String(top.port)]));
    await waitForSync(top, mid);
    const leaf = await track(startRedis(["--replicaof", "127.0.0.1", String(mid.port)]));
    await waitForSync(mid, leaf);
    await writeSome(top, "y");
    await waitForSync(mid, leaf);
    // Same history and offsets as the top master, backlog included.
    const [t, m] = [await info(top, "replication"), await info(mid, "replication")];
    expect(m.master_replid).toBe(t.master_replid);
    expect(m.master_repl_offset).toBe(t.master_repl_offset);
    expect(Number(m.repl_backlog_first_byte_offset) + Number(m.repl_backlog_histlen) - 1).toBe(Number(m.master_repl_offset));
    const before = Number((await info(mid)).sync_partial_ok);
    const lc = await leaf.client();
    await lc.call("CLIENT", "KILL", "TYPE", "master");
    await writeSome(top, "z");
    await waitForSync(top, mid);
    await waitForSync(mid, leaf);
    expect(Number((await info(mid)).sync_partial_ok)).toBe(before + 1);
    await sameData(top, leaf);
  });
});

describe("serving a full sync while the stream keeps coming", () => {
  for (const diskless of ["yes", "no"]) {
    test(`redis -> Replicant -> redis, the top master written to during the leaf's full sync (diskless ${diskless}): three equal datasets`, async () => {
      const top = await track(startRedis());
      const tc = await top.client();
      for (let b = 0; b < 4; b++) {
        const batch: Array<Array<string | number>> = [];
        for (let i = 0; i < 5000; i++) {
          const k = b * 5000 + i;
          batch.push(k % 4 === 0 ? ["HSET", `h:${k}`, "a", k, "b", "x".repeat(30)] : ["SET", `s:${k}`, `v${k}-${"y".repeat(30)}`]);
        }
        await tc.pipeline(batch);
      }
      const mid = await track(startReplicant([...FAST, "--replicaof", "127.0.0.1", String(top.port), "--repl-diskless-sync", diskless]));
      await waitForSync(top, mid, 60000);
      // Overwrites, deletions, new keys, aggregates changed in place: while the leaf syncs.
      const load = Bun.spawn(["redis-benchmark", "-p", String(top.port), "-t", "set,incr,lpush,hset,sadd,zadd,rpop", "-n", "40000", "-r", "20000", "-P", "4", "-q"], {
        stdout: "ignore",
        stderr: "ignore",
      });
      const leaf = await track(startRedis(["--replicaof", "127.0.0.1", String(mid.port)]));
      expect(load.exitCode).toBeNull(); // the load is still running as the leaf syncs
      await waitFor("leaf link up", async () => (await info(leaf, "replication")).master_link_status === "up", 60000);
      expect(await load.exited).toBe(0);
      await waitForSync(top, mid, 60000);
      await waitForSync(mid, leaf, 60000);
      const want = await quickDump(top);
      expect(want.length).toBeGreaterThan(20000);
      const [m, l] = [await quickDump(mid), await quickDump(leaf)];
      expect(m.length).toBe(want.length);
      expect(l.length).toBe(want.length);
      expect(m.filter((line, i) => line !== want[i]).slice(0, 5)).toEqual([]);
      expect(l.filter((line, i) => line !== want[i]).slice(0, 5)).toEqual([]);
      expect(mid.output()).toContain("Starting BGSAVE for SYNC");
    }, 180000);
  }

  test("active expiry on a master: keys nobody reads expire and their DELs reach the replica", async () => {
    const master = await track(startReplicant(FAST));
    const replica = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    const c = await master.client();
    const batch: Array<Array<string | number>> = [];
    for (let i = 0; i < 300; i++) batch.push(["SET", `e:${i}`, "v", "PX", 100]);
    batch.push(["SET", "stays", "v"]);
    await c.pipeline(batch);
    await waitFor("keys expired on the master", async () => (await master.call("DBSIZE")) === 1, 10000);
    await waitForSync(master, replica);
    expect(await replica.call("DBSIZE")).toBe(1);
    expect(Number((await info(master)).expired_keys)).toBe(300);
  });
});

describe("serving replicas: protocol details against redis-server", () => {
  test("REPLCONF replies", async () => {
    const redis = await track(startRedis());
    const ours = await track(startReplicant(FAST));
    const cases: Array<Array<string | number>> = [
      ["REPLCONF", "listening-port", "abc"],
      ["REPLCONF", "listening-port", 6380],
      ["REPLCONF", "ip-address", "x".repeat(300)],
      ["REPLCONF", "capa", "whatever"],
      ["REPLCONF", "rdb-only", 2],
      ["REPLCONF", "rdb-only", "x"],
      ["REPLCONF", "rdb-filter-only", "keys"],
      ["REPLCONF", "bogus", 1],
      ["REPLCONF", "listening-port"],
      ["REPLCONF", "ack", 10],
    ];
    for (const cmd of cases) {
      const rc = await RespClient.connect(redis.port);
      const oc = await RespClient.connect(ours.port);
      const show = (v: unknown) => (v instanceof RespError ? `-${v.message}` : String(v));
      const want = cmd[1] === "ack" ? "(no reply)" : show(await rc.call(...cmd));
      const got = cmd[1] === "ack" ? "(no reply)" : show(await oc.call(...cmd));
      expect(`${cmd.join(" ").slice(0, 60)} -> ${got}`).toBe(`${cmd.join(" ").slice(0, 60)} -> ${want}`);
      rc.close();
      oc.close();
    }
  });

  test("INFO replication of a master with an online replica has redis-server's fields, in its order", async () => {
    const redis = await track(startRedis());
    const ours = await track(startReplicant(FAST));
    for (const m of [redis, ours]) {
      const r = await track(startRedis(["--replicaof", "127.0.0.1", String(m.port)]));
      await waitForSync(m, r);
    }
    const fields = async (s: ServerProcess) =>
      String(await s.call("INFO", "replication"))
        .split("\r\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => l.slice(0, l.indexOf(":")));
    expect(await fields(ours)).toEqual(await fields(redis));
    const slave0 = (await info(ours, "replication")).slave0!;
    expect(slave0).toMatch(/^ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+$/);
  });

  test("redis-cli --rdb and --functions-rdb get a valid RDB (rdb-only replicas are closed after it)", async () => {
    const ours = await track(startReplicant(FAST));
    await writeSome(ours, "r", 100);
    await ours.call("FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)");
    for (const [flag, file] of [
      ["--rdb", "full.rdb"],
      ["--functions-rdb", "functions.rdb"],
    ] as const) {
      const path = `${ours.dir}/${file}`;
      const cli = Bun.spawn(["redis-cli", "-p", String(ours.port), flag, path], { stdout: "pipe", stderr: "pipe" });
      expect(await cli.exited).toBe(0);
      const check = Bun.spawn(["redis-check-rdb", path], { stdout: "pipe", stderr: "pipe" });
      const out = await new Response(check.stdout).text();
      expect(await check.exited).toBe(0);
      expect(out).toContain("RDB looks OK!");
      expect(out).toContain(flag === "--rdb" ? "105 keys read" : "0 keys read");
    }
    await ours.waitForLog("should be disconnected asap");
    expect((await info(ours, "replication")).connected_slaves).toBe("0");
  });

  test("replicas arriving together share one RDB (disk-based: attach to the running save; diskless: the delay)", async () => {
    // rdb-key-save-delay (20 us a key: about 2 s for the RDB) keeps the save running until both
    // replicas have asked, however late the second one starts on a busy machine.
    const master = await track(startReplicant([...FAST, "--repl-diskless-sync", "no", "--rdb-key-save-delay", "20"]));
    const mc = await master.client();
    for (let b = 0; b < 20; b++) {
      const batch: Array<Array<string | number>> = [];
      for (let i = 0; i < 5000; i++) batch.push(["SET", `key:${b}:${i}`, `value-${i}-${"x".repeat(40)}`]);
      await mc.pipeline(batch);
    }
    const [r1, r2] = await Promise.all([
      track(startRedis(["--replicaof", "127.0.0.1", String(master.port)])),
      track(startRedis(["--replicaof", "127.0.0.1", String(master.port)])),
    ]);
    await waitForSync(master, r1, 60000);
    await waitForSync(master, r2, 60000);
    const out = master.output();
    expect(out.split("Starting BGSAVE for SYNC with target: disk").length - 1).toBe(1);
    expect(out).toContain("Waiting for end of BGSAVE for SYNC");
    expect(Number((await info(master)).sync_full)).toBe(2);
    expect(await r1.call("DBSIZE")).toBe(100000);
    expect(await r2.call("DBSIZE")).toBe(100000);

    const diskless = await track(startReplicant(["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "2"]));
    await writeSome(diskless, "d", 100);
    const [d1, d2] = await Promise.all([
      track(startRedis(["--replicaof", "127.0.0.1", String(diskless.port)])),
      track(startRedis(["--replicaof", "127.0.0.1", String(diskless.port)])),
    ]);
    await waitForSync(diskless, d1);
    await waitForSync(diskless, d2);
    expect(diskless.output().split("Starting BGSAVE for SYNC with target: replicas sockets").length - 1).toBe(1);
  });

  test("WAIT counts acknowledgements of the client's own last write (Redis's woff), as redis-server", async () => {
    const redis = await track(startRedis());
    const ours = await track(startReplicant(FAST));
    const replicas: ServerProcess[] = [];
    for (const m of [redis, ours]) {
      const r = await track(startRedis(["--replicaof", "127.0.0.1", String(m.port)]));
      await waitForSync(m, r);
      replicas.push(r);
    }
    for (const [m, r] of [
      [redis, replicas[0]!],
      [ours, replicas[1]!],
    ] as const) {
      const writer = await m.client();
      await writer.call("SET", "k", "v");
      expect(await writer.call("WAIT", 1, 5000)).toBe(1);
      r.proc.kill("SIGSTOP");
      await writer.call("SET", "k", "v2");
      // Another client wrote nothing: it waits for nothing and does not block.
      const idle = await m.client();
      const t0 = Date.now();
      expect(await idle.call("WAIT", 1, 3000)).toBe(1);
      expect(Date.now() - t0).toBeLessThan(1000);
      // The writer waits for its own write, which the stopped replica never acknowledges.
      expect(await writer.call("WAIT", 1, 300)).toBe(0);
      // Inside MULTI WAIT does not block.
      await writer.call("MULTI");
      await writer.call("WAIT", 1, 0);
      expect(await writer.call("EXEC")).toEqual([0]);
      r.proc.kill("SIGCONT");
      await waitForSync(m, r);
    }
  });

  test("repl-diskless-sync-max-replicas starts the transfer as soon as that many replicas wait", async () => {
    const master = await track(startReplicant(["--repl-diskless-sync-delay", "60", "--repl-diskless-sync-max-replicas", "2"]));
    await writeSome(master, "m", 50);
    const r1 = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await Bun.sleep(1500);
    expect((await info(master, "replication")).slave0).toContain("state=wait_bgsave");
    const r2 = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, r1, 10000);
    await waitForSync(master, r2, 10000);
    expect(master.output().split("Starting BGSAVE for SYNC").length - 1).toBe(1);
  });

  test("a master PINGs its replicas every repl-ping-replica-period, with no SELECT before (the offset grows by 14 bytes a PING)", async () => {
    const master = await track(startReplicant([...FAST, "--repl-ping-replica-period", "1"]));
    const replica = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    const o1 = Number((await info(master, "replication")).master_repl_offset);
    await Bun.sleep(3500);
    const o2 = Number((await info(master, "replication")).master_repl_offset);
    expect(o2 - o1).toBeGreaterThanOrEqual(2 * 14);
    expect((o2 - o1) % 14).toBe(0);
    await waitForSync(master, replica);
  });

  test("a replica that stops acknowledging is dropped after repl-timeout", async () => {
    const master = await track(startReplicant([...FAST, "--repl-timeout", "2"]));
    const replica = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    replica.proc.kill("SIGSTOP");
    await master.waitForLog(/Disconnecting timedout replica \(streaming sync\): 127\.0\.0\.1:\d+/, 10000);
    expect((await info(master, "replication")).connected_slaves).toBe("0");
    replica.proc.kill("SIGCONT");
    await waitForSync(master, replica);
  });
});
