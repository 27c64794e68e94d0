// Full sync from a real redis-server master, in every transfer mode: disk-based ($len) and
// diskless ($EOF mark) from the master, and each repl-diskless-load mode on our side. Then the
// command stream: a pipelined redis-benchmark load, and the datasets compared key by key.

import { afterAll, describe, expect, test } from "bun:test";
import { diffDatasets, datasetSize, snapshotDataset } from "../helpers/dataset.ts";
import { info, startRedis, startReplicant, waitFor, waitForSync, type ServerProcess, stopServers, tracker } from "../helpers/servers.ts";
import type { RespClient } from "../helpers/resp-client.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

const track = tracker(started);

/** A mixed dataset over several databases, every type, with expiries and encodings both sides of the thresholds. */
export async function writeMixedDataset(c: RespClient, seed = 1): Promise<void> {
  let x = seed;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x % n;
  };
  const cmds: Array<Array<string | number>> = [];
  for (const db of [0, 3, 15]) {
    cmds.push(["SELECT", db]);
    for (let i = 0; i < 300; i++) {
      cmds.push(["SET", `str:${i}`, "v".repeat(rnd(100)) + i]);
      cmds.push(["SET", `int:${i}`, String(rnd(1000000) - 500000)]);
    }
    cmds.push(["SET", "binary", "\x00\x01\xff\r\n\x80end"]);
    cmds.push(["SET", "big", "z".repeat(100000)]);
    cmds.push(["SET", "expiring", "soon", "EX", 10000]);
    cmds.push(["SET", "expiring-ms", "later", "PX", 99999999]);
    for (let i = 0; i < 20; i++) {
      cmds.push(["RPUSH", "list:small", `e${i}`]);
      cmds.push(["HSET", "hash:small", `f${i}`, `v${i}`]);
      cmds.push(["SADD", "set:ints", rnd(10000)]);
      cmds.push(["SADD", "set:strs", `m${rnd(1000)}`]);
      cmds.push(["ZADD", "zset:small", rnd(1000) / 7, `m${i}`]);
    }
    for (let i = 0; i < 1000; i++) {
      cmds.push(["RPUSH", "list:big", `element-${i}-${"x".repeat(rnd(50))}`]);
      cmds.push(["HSET", "hash:big", `field${i}`, `value-${rnd(100000)}`]);
      cmds.push(["SADD", "set:big", `member${i}`]);
      cmds.push(["ZADD", "zset:big", rnd(100000) - 50000.5, `member${i}`]);
    }
    cmds.push(["EXPIRE", "hash:big", 5000]);
    for (let i = 0; i < 50; i++) cmds.push(["XADD", "stream", "*", "f", `v${i}`, "n", i]);
    cmds.push(["XGROUP", "CREATE", "stream", "g1", "0"]);
    cmds.push(["XREADGROUP", "GROUP", "g1", "alice", "COUNT", 10, "STREAMS", "stream", ">"]);
    cmds.push(["XREADGROUP", "GROUP", "g1", "bob", "COUNT", 5, "STREAMS", "stream", ">"]);
    cmds.push(["XACK", "stream", "g1", "0-1"]);
    cmds.push(["PFADD", "hll", ...Array.from({ length: 50 }, (_, i) => `e${i}`)]);
    cmds.push(["SETBIT", "bitmap", 1000, 1]);
  }
  cmds.push(["SELECT", 0]);
  for (let i = 0; i < cmds.length; i += 500) await c.pipeline(cmds.slice(i, i + 500));
}

async function expectSameDataset(master: ServerProcess, replica: ServerProcess): Promise<void> {
  const mc = await master.client();
  const rc = await replica.client();
  const [a, b] = [await snapshotDataset(mc), await snapshotDataset(rc)];
  expect(datasetSize(a)).toBeGreaterThan(0);
  expect(diffDatasets(a, b)).toEqual([]);
}

const modes: Array<{ name: string; master: string[]; replica: string[]; log: RegExp }> = [
  { name: "disk-based transfer ($len), disk load", master: ["--repl-diskless-sync", "no"], replica: [], log: /receiving \d+ bytes from master to disk/ },
  { name: "diskless transfer (EOF mark), disk load", master: ["--repl-diskless-sync", "yes"], replica: ["--repl-diskless-load", "disabled"], log: /receiving streamed RDB from master with EOF to disk/ },
  { name: "diskless transfer, diskless load on-empty-db", master: ["--repl-diskless-sync", "yes"], replica: ["--repl-diskless-load", "on-empty-db"], log: /with EOF to parser/ },
  { name: "diskless transfer, diskless load swapdb", master: ["--repl-diskless-sync", "yes"], replica: ["--repl-diskless-load", "swapdb"], log: /with EOF to parser/ },
  { name: "disk-based transfer, diskless load swapdb", master: ["--repl-diskless-sync", "no"], replica: ["--repl-diskless-load", "swapdb"], log: /receiving \d+ bytes from master to parser/ },
];

describe("full sync from a real redis-server", () => {
  for (const mode of modes) {
    test(mode.name, async () => {
      const master = await track(startRedis(mode.master));
      const mc = await master.client();
      await writeMixedDataset(mc);
      const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port), ...mode.replica]));
      await waitForSync(master, replica);
      await replica.waitForLog(mode.log);
      await replica.waitForLog("MASTER <-> REPLICA sync: Finished with success");
      await expectSameDataset(master, replica);
      // Writes after the sync arrive through the stream.
      await mc.call("SELECT", 3);
      await mc.call("SET", "after-sync", "yes");
      await mc.call("LPUSH", "list:small", "new-head");
      await mc.call("SELECT", 0);
      await waitForSync(master, replica);
      await expectSameDataset(master, replica);
      const r = await info(replica);
      expect(r.role).toBe("slave");
      expect(r.master_link_status).toBe("up");
      expect(r.master_replid).toBe((await info(master)).master_replid);
    });
  }

  test("a pipelined redis-benchmark write load keeps the replica identical, offset by offset", async () => {
    const master = await track(startRedis());
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    const bench = Bun.spawn(
      ["redis-benchmark", "-p", String(master.port), "-t", "set,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset", "-n", "20000", "-r", "5000", "-P", "32", "-q", "-c", "8"],
      { stdout: "pipe", stderr: "pipe" },
    );
    expect(await bench.exited).toBe(0);
    await waitForSync(master, replica, 60000);
    await expectSameDataset(master, replica);
    const m = await info(master);
    const r = await info(replica);
    expect(r.slave_repl_offset).toBe(m.master_repl_offset);
    expect(Number(r.master_repl_offset)).toBe(Number(m.master_repl_offset));
    // Replicas keep a backlog of the exact stream (offsets as the master's).
    expect(r.repl_backlog_active).toBe("1");
  });

  test("the stream received while a disk load runs goes to a file past repl-load-buffer-memory-limit, applied in order after it", async () => {
    const master = await track(startRedis(["--repl-diskless-sync", "no", "--enable-debug-command", "yes"]));
    const mc = await master.client();
    await mc.call("DEBUG", "POPULATE", 20000);
    // A slow BGSAVE (the stream piles up on the master meanwhile) and a slow load of ours.
    await mc.call("CONFIG", "SET", "rdb-key-save-delay", "50");
    const replica = await track(startReplicant(["--repl-load-buffer-memory-limit", "16kb", "--key-load-delay", "50"]));
    // Holding data: the payload goes to disk and is loaded after it (what follows it waits).
    await replica.call("SET", "old", "data");
    let writing = true;
    const writer = (async () => {
      const w = await master.client();
      for (let round = 0; writing; round++) {
        await w.pipeline(Array.from({ length: 100 }, (_, i) => (i % 2 ? ["INCR", `n:${i % 10}`] : ["RPUSH", "log", `${round}:${i}`])));
        await Bun.sleep(5);
      }
      w.close();
    })();
    await replica.call("REPLICAOF", "127.0.0.1", String(master.port));
    await replica.waitForLog("the rest goes to temp-repl-stream-", 30000);
    await replica.waitForLog("MASTER <-> REPLICA sync: Finished with success", 30000);
    writing = false;
    await writer;
    await mc.call("CONFIG", "SET", "rdb-key-save-delay", "0");
    await waitForSync(master, replica, 60000);
    await expectSameDataset(master, replica);
    await waitFor("the stream file to go", () => [...new Bun.Glob("temp-repl-stream-*").scanSync(replica.dir)].length === 0);
  });

  test("an RDB produced by the master also lands in dir/dbfilename after a disk-based sync", async () => {
    const master = await track(startRedis(["--repl-diskless-sync", "no"]));
    await (await master.client()).call("SET", "k", "v");
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port), "--dbfilename", "synced.rdb"]));
    await waitForSync(master, replica);
    await waitFor("synced.rdb", async () => Bun.file(`${replica.dir}/synced.rdb`).exists());
    const bytes = new Uint8Array(await Bun.file(`${replica.dir}/synced.rdb`).arrayBuffer());
    expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe("REDIS");
    // No temp files left behind.
    const leftovers = [...new Bun.Glob("temp-*.rdb").scanSync(replica.dir)];
    expect(leftovers).toEqual([]);
  });
});
