// The replica link beyond the first sync: partial resync after a dropped link, authentication
// (password and user+password), READONLY / MASTERDOWN for clients, REPLICAOF NO ONE and back,
// replication ids (PSYNC2), REPLCONF GETACK.

import { afterAll, describe, expect, test } from "bun:test";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { RespError } from "../helpers/resp-client.ts";
import { freePort, info, startRedis, startReplicant, waitFor, waitForSync, type ServerProcess, stopServers, tracker } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));
const track = tracker(started);

async function sameData(a: ServerProcess, b: ServerProcess): Promise<void> {
  const da = await snapshotDataset(await a.client());
  const db = await snapshotDataset(await b.client());
  expect(diffDatasets(da, db)).toEqual([]);
}

describe("replica link", () => {
  test("a killed link is followed by a partial resync (sync_partial_ok rises, no new full sync)", async () => {
    const master = await track(startRedis());
    const mc = await master.client();
    for (let i = 0; i < 100; i++) await mc.call("SET", `k${i}`, `v${i}`);
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    const before = await info(master);
    expect(before.sync_full).toBe("1");
    // Kill the replica's link from the master side, write while it is down.
    expect(await mc.call("CLIENT", "KILL", "TYPE", "replica")).toBe(1);
    for (let i = 0; i < 50; i++) await mc.call("INCR", `counter`);
    await mc.call("DEL", "k1");
    await waitForSync(master, replica);
    const after = await info(master);
    expect(Number(after.sync_partial_ok)).toBe(Number(before.sync_partial_ok) + 1);
    expect(after.sync_full).toBe("1");
    await replica.waitForLog("Successful partial resynchronization with master.");
    await sameData(master, replica);

    // And when the replica drops the link itself (CLIENT KILL TYPE master on the replica).
    await replica.call("CLIENT", "KILL", "TYPE", "master");
    await mc.call("SET", "during", "down");
    await waitFor("second partial resync", async () => Number((await info(master)).sync_partial_ok) === Number(after.sync_partial_ok) + 1);
    await waitForSync(master, replica);
    await sameData(master, replica);
  });

  test("AUTH with masterauth (requirepass master) and with masteruser + masterauth (ACL user)", async () => {
    const master = await track(startRedis(["--requirepass", "s3cret"]));
    const mc = await master.client();
    await mc.call("AUTH", "s3cret");
    await mc.call("SET", "secret-key", "1");
    await mc.call("ACL", "SETUSER", "repl", "on", ">replpass", "+@all", "~*");
    const r1 = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port), "--masterauth", "s3cret"]));
    const r2 = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port), "--masteruser", "repl", "--masterauth", "replpass"]));
    for (const r of [r1, r2]) {
      await waitFor("replica link up", async () => (await info(r, "replication")).master_link_status === "up");
      await waitFor("key replicated", async () => (await r.call("GET", "secret-key")) === "1");
    }
    // A wrong password: the link never comes up, the log says why.
    const r3 = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port), "--masterauth", "wrong"]));
    await r3.waitForLog("Unable to AUTH to MASTER");
    expect((await info(r3, "replication")).master_link_status).toBe("down");
  });

  test("clients: writes refused with -READONLY, reads served, MASTERDOWN when stale data is not served", async () => {
    const master = await track(startRedis());
    await master.call("SET", "k", "v");
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port), "--replica-serve-stale-data", "no"]));
    await waitForSync(master, replica);
    const c = await replica.client();
    const err = (await c.call("SET", "k", "other")) as RespError;
    expect(err).toBeInstanceOf(RespError);
    expect(err.message).toBe("READONLY You can't write against a read only replica.");
    expect(await c.call("GET", "k")).toBe("v");
    // Inside MULTI the write is refused at queue time and EXEC aborts.
    expect(await c.call("MULTI")).toBe("OK");
    expect(((await c.call("SET", "a", "b")) as RespError).message).toStartWith("READONLY");
    expect(((await c.call("EXEC")) as RespError).message).toStartWith("EXECABORT");
    await master.stop();
    await waitFor("link down", async () => (await info(replica, "replication")).master_link_status === "down");
    const down = (await c.call("GET", "k")) as RespError;
    expect(down.message).toBe("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
    // As redis-server 7.0 does, PING (not flagged "stale") is refused too; ECHO and INFO are not.
    expect(((await c.call("PING")) as RespError).message).toStartWith("MASTERDOWN");
    expect(await c.call("ECHO", "hi")).toBe("hi");
    expect(String(await c.call("INFO", "replication"))).toContain("master_link_status:down");
  });

  test("REPLICAOF / ROLE / REPLICAOF NO ONE; the old replication id becomes replid2", async () => {
    const master = await track(startRedis());
    await master.call("SET", "x", "1");
    const replica = await track(startReplicant());
    const c = await replica.client();
    expect(await c.call("REPLICAOF", "127.0.0.1", master.port)).toBe("OK");
    expect(await c.call("REPLICAOF", "127.0.0.1", master.port)).toBe("OK Already connected to specified master");
    await waitForSync(master, replica);
    const role = (await c.call("ROLE")) as unknown[];
    expect(role.slice(0, 4)).toEqual(["slave", "127.0.0.1", master.port, "connected"]);
    const m = await info(master);
    expect(role[4]).toBe(Number(m.master_repl_offset));
    expect(await c.call("REPLICAOF", "NO", "ONE")).toBe("OK");
    const r = await info(replica);
    expect(r.role).toBe("master");
    expect(r.master_replid2).toBe(m.master_replid);
    expect(r.master_replid).not.toBe(m.master_replid);
    expect(r.second_repl_offset).toBe(String(Number(m.master_repl_offset) + 1));
    expect(await c.call("GET", "x")).toBe("1");
    // The data is kept; as a master, writes are accepted.
    expect(await c.call("SET", "y", "2")).toBe("OK");
  });

  // Sentinel reads master_link_down_since_seconds to rule out replicas whose data is too old
  // (sentinelSelectSlave): a link that was never up reads -1 (Redis's repl_down_since of 0, "down
  // since ever"), not the time since the replica started or was pointed at its master.
  test("master_link_down_since_seconds: -1 until the link was up once, then the time since it went down", async () => {
    const master = await track(startRedis());
    const deadPort = freePort();
    const redis = await track(startRedis(["--replicaof", "127.0.0.1", String(deadPort)]));
    const ours = await track(startReplicant(["--replicaof", "127.0.0.1", String(deadPort)]));
    const downSince = async (s: ServerProcess) => (await info(s, "replication")).master_link_down_since_seconds;
    await Bun.sleep(1100);
    expect(await downSince(ours)).toBe(await downSince(redis));
    expect(await downSince(ours)).toBe("-1");
    // A master turned replica of an unreachable master: never up either.
    const wasMaster = await track(startReplicant());
    await wasMaster.call("REPLICAOF", "127.0.0.1", deadPort);
    await Bun.sleep(1100);
    expect(await downSince(wasMaster)).toBe("-1");
    // Up, then lost: counted from the loss, as redis-server does.
    for (const s of [redis, ours]) await s.call("REPLICAOF", "127.0.0.1", master.port);
    await waitForSync(master, redis);
    await waitForSync(master, ours);
    expect((await info(ours, "replication")).master_link_down_since_seconds).toBeUndefined();
    await master.stop();
    await waitFor("both links down", async () => (await downSince(redis)) !== undefined && (await downSince(ours)) !== undefined);
    await Bun.sleep(1100);
    const [r, o] = [Number(await downSince(redis)), Number(await downSince(ours))];
    expect(r).toBeGreaterThanOrEqual(1);
    expect(Math.abs(o - r)).toBeLessThanOrEqual(1);
  });

  test("REPLCONF GETACK from the master is answered with our offset (WAIT on the master returns 1)", async () => {
    const master = await track(startRedis());
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    const mc = await master.client();
    await mc.call("SET", "w", "1");
    expect(await mc.call("WAIT", 1, 5000)).toBe(1);
    await waitFor("ack offset reported", async () => {
      const m = await info(master);
      return m.slave0?.includes(`offset=${m.master_repl_offset}`);
    });
  });

  test("a MULTI/EXEC transaction from the master is applied atomically with the right offset", async () => {
    const master = await track(startRedis());
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    const mc = await master.client();
    await mc.call("MULTI");
    for (let i = 0; i < 100; i++) await mc.call("RPUSH", "txlist", i);
    await mc.call("SET", "txdone", "1");
    await mc.call("EXEC");
    await waitForSync(master, replica);
    expect(await replica.call("LLEN", "txlist")).toBe(100);
    await sameData(master, replica);
  });
});
