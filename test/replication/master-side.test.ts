// Replicant as a master: a chain redis-server -> Replicant -> redis-server, promotion with
// sub-replicas continuing by partial resync, re-pointing, restart without a full sync, output
// buffer limits, WAIT. Every peer is a real redis-server.

import { afterAll, describe, expect, test } from "bun:test";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { RespError } from "../helpers/resp-client.ts";
import { info, startRedis, startReplicant, waitFor, waitForSync, type ServerProcess, stopServers, tracker } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));
const track = tracker(started);

async function sameData(a: ServerProcess, b: ServerProcess): Promise<void> {
  const da = await snapshotDataset(await a.client());
  const db = await snapshotDataset(await b.client());
  expect(diffDatasets(da, db)).toEqual([]);
}

async function load(port: number, n = 20000): Promise<void> {
  const bench = Bun.spawn(["redis-benchmark", "-p", String(port), "-t", "set,incr,lpush,hset,sadd,zadd", "-n", String(n), "-r", "3000", "-P", "16", "-q"], {
    stdout: "ignore",
    stderr: "ignore",
  });
  expect(await bench.exited).toBe(0);
}

describe("Replicant as a master", () => {
  for (const diskless of ["no", "yes"]) {
    test(`chain redis -> replicant -> redis (repl-diskless-sync ${diskless}) under a write load: three equal datasets`, async () => {
      const top = await track(startRedis());
      await load(top.port, 5000);
      const mid = await track(startReplicant(["--replicaof", "127.0.0.1", String(top.port), "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0"]));
      await waitForSync(top, mid);
      const leaf = await track(startRedis(["--replicaof", "127.0.0.1", String(mid.port)]));
      await waitForSync(mid, leaf);
      await load(top.port, 20000);
      await waitForSync(top, mid);
      await waitForSync(mid, leaf);
      await sameData(top, mid);
      await sameData(top, leaf);
      // Same history everywhere: ids and offsets.
      const [t, m, l] = [await info(top), await info(mid), await info(leaf)];
      expect(m.master_replid).toBe(t.master_replid);
      expect(l.master_replid).toBe(t.master_replid);
      expect(l.master_repl_offset).toBe(t.master_repl_offset);
      expect(m.connected_slaves).toBe("1");
      expect(m.slave0).toContain("state=online");
    });
  }

  test("promotion: the redis-server sub-replica continues with a partial resync; writes go to Replicant", async () => {
    const top = await track(startRedis());
    await top.call("SET", "before", "promotion");
    const mid = await track(startReplicant(["--replicaof", "127.0.0.1", String(top.port)]));
    await waitForSync(top, mid);
    const leaf = await track(startRedis(["--replicaof", "127.0.0.1", String(mid.port)]));
    await waitForSync(mid, leaf);
    // The leaf's first sync is a full one; after the promotion it must not be.
    const outputBefore = leaf.output().length;
    await top.stop();
    expect(await mid.call("REPLICAOF", "NO", "ONE")).toBe("OK");
    await waitFor("leaf back online", async () => (await info(leaf, "replication")).master_link_status === "up");
    await leaf.waitForLog("Successful partial resynchronization with master");
    await leaf.waitForLog("Master replication ID changed to");
    const mc = await mid.client();
    for (let i = 0; i < 100; i++) await mc.call("SET", `after:${i}`, i);
    await mc.call("EXPIRE", "after:1", 1000);
    await waitForSync(mid, leaf);
    await sameData(mid, leaf);
    expect(leaf.output().slice(outputBefore)).not.toContain("Full resync from master");
  });

  test("a restarted Replicant resumes with a partial resync (repl-id / repl-offset kept in its RDB)", async () => {
    const top = await track(startRedis());
    await top.call("SET", "a", "1");
    const replicaArgs = ["--replicaof", "127.0.0.1", String(top.port), "--save", "3600 1"];
    const r1 = await track(startReplicant(replicaArgs));
    await waitForSync(top, r1);
    await top.call("SET", "b", "2");
    await waitForSync(top, r1);
    // SHUTDOWN saves (save points are configured) with the replication info.
    await r1.call("SHUTDOWN").catch(() => undefined);
    await r1.proc.exited;
    await top.call("SET", "c", "3");
    const before = await info(top);
    const r2 = await track(startReplicant(replicaArgs, { dir: r1.dir }));
    await waitForSync(top, r2);
    const after = await info(top);
    expect(Number(after.sync_partial_ok)).toBe(Number(before.sync_partial_ok) + 1);
    expect(after.sync_full).toBe(before.sync_full);
    expect(await r2.call("GET", "c")).toBe("3");
  });

  test("a sub-replica over its output buffer limit is disconnected, then re-syncs", async () => {
    const top = await track(startRedis());
    const mid = await track(startReplicant(["--replicaof", "127.0.0.1", String(top.port), "--client-output-buffer-limit", "replica 256kb 128kb 1"]));
    await waitForSync(top, mid);
    const leaf = await track(startRedis(["--replicaof", "127.0.0.1", String(mid.port)]));
    await waitForSync(mid, leaf);
    leaf.proc.kill("SIGSTOP");
    const tc = await top.client();
    const big = "x".repeat(100000);
    for (let i = 0; i < 60; i++) await tc.call("SET", `big:${i}`, big);
    await mid.waitForLog("scheduled to be closed ASAP for overcoming of output buffer limits", 20000);
    leaf.proc.kill("SIGCONT");
    await waitForSync(top, mid);
    await waitForSync(mid, leaf, 60000);
    await sameData(top, leaf);
  });

  test("WAIT returns the number of replicas that acknowledged; min-replicas-to-write refuses writes", async () => {
    const master = await track(startReplicant());
    const r1 = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    const r2 = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, r1);
    await waitForSync(master, r2);
    const c = await master.client();
    await c.call("SET", "w", "1");
    expect(await c.call("WAIT", 2, 5000)).toBe(2);
    r2.proc.kill("SIGSTOP");
    await c.call("SET", "w", "2");
    const t0 = Date.now();
    expect(await c.call("WAIT", 2, 500)).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    r2.proc.kill("SIGCONT");
    await c.call("CONFIG", "SET", "min-replicas-to-write", 3);
    expect(((await c.call("SET", "x", "1")) as RespError).message).toBe("NOREPLICAS Not enough good replicas to write.");
    await c.call("CONFIG", "SET", "min-replicas-to-write", 0);
    expect(await c.call("SET", "x", "1")).toBe("OK");
    const role = (await c.call("ROLE")) as unknown[];
    expect(role[0]).toBe("master");
    expect((role[2] as unknown[]).length).toBe(2);
  });

  test("as a master, writes are propagated in Redis's rewritten forms and expired keys as DEL", async () => {
    const master = await track(startReplicant());
    const replica = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    const c = await master.client();
    await c.call("SET", "ttl", "v", "EX", 100);
    await c.call("SET", "short", "v", "PX", 50);
    await c.call("INCRBYFLOAT", "f", "1.5");
    await c.call("SADD", "s", "a", "b", "c");
    await c.call("SPOP", "s");
    await Bun.sleep(200);
    await c.call("GET", "short"); // lazy expiry: DEL propagated
    await waitForSync(master, replica);
    await sameData(master, replica);
    expect(await replica.call("EXISTS", "short")).toBe(0);
    const ttl = Number(await replica.call("PTTL", "ttl"));
    expect(ttl).toBeGreaterThan(90000);
  });
});
