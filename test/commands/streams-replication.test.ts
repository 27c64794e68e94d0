// Streams through replication: a real redis-server 7.0 master, with two replicas side by side,
// Replicant and a real redis-server. A seeded random stream workload runs on the master (XADD
// with every trimming form, XDEL, XTRIM, XSETID, XGROUP, XREADGROUP with and without NOACK,
// XACK, XCLAIM, XAUTOCLAIM); the replicas first load it from the master's RDB (consumer
// groups, PELs, tombstones, the node layout), then apply every propagated form (XADD with the
// generated ID and the trimming rewritten as exact, XCLAIM ... FORCE JUSTID LASTID, XGROUP
// SETID ... ENTRIESREAD, XGROUP CREATECONSUMER...).
//
// Compared: XRANGE, and XINFO STREAM FULL (every node count, counter, group, PEL entry and
// consumer) with one legitimate difference masked: a consumer's seen-time is the clock of the
// server that applied the command. Against the master, everything else is equal; a history
// read (XREADGROUP with an explicit ID) changes delivery counts and may create consumers on the
// master only (Redis does not propagate it), so after those only the two replicas must agree.

import { afterAll, describe, expect, test } from "bun:test";
import type { RespClient, RespValue } from "../helpers/resp-client.ts";
import { type ServerProcess, startRedis, startReplicant, waitForSync, stopServers, tracker } from "../helpers/servers.ts";
import { KEYS, streamState, Workload } from "./streams-workload.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

const track = tracker(started);

describe("streams through replication from a real redis-server master", () => {
  test("a seeded random workload: RDB load, then the propagated forms, agree with the master and a redis-server replica", async () => {
    const seed = seedFromEnv("STREAM_REPL_SEED");
    const w = new Workload(rng(seed));
    const layout = ["--stream-node-max-entries", "7", "--stream-node-max-bytes", "400"];
    const master = await track(startRedis(layout));
    const mc = await master.client();
    // Before the replicas exist: the full sync carries this as an RDB.
    await w.run(mc, 1500, false);

    const redisReplica = await track(startRedis([...layout, "--replicaof", "127.0.0.1", String(master.port)]));
    const replicant = await track(startReplicant([...layout, "--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, redisReplica);
    await waitForSync(master, replicant);
    const rc = await replicant.client();
    const xc = await redisReplica.client();
    // Loaded from the RDB: nothing differs, seen-times included.
    const loaded = await streamState(rc, false);
    expect(loaded).toEqual(await streamState(mc, false));
    expect(loaded).toEqual(await streamState(xc, false));

    // The propagated forms, applied live.
    await w.run(mc, 3000, false);
    await waitForSync(master, replicant);
    await waitForSync(master, redisReplica);
    expect(await streamState(rc, false)).toEqual(await streamState(xc, false));
    expect(await streamState(rc, true)).toEqual(await streamState(mc, true));

    // History reads: not propagated by Redis; both replicas still agree with each other.
    await w.run(mc, 1500, true);
    await waitForSync(master, replicant);
    await waitForSync(master, redisReplica);
    expect(await streamState(rc, false)).toEqual(await streamState(xc, false));
    expect(String(await rc.call("PING"))).toBe("PONG");
    console.log("workload:", JSON.stringify(Object.fromEntries(w.outcomes)));
    // The workload left something worth comparing: several nodes, tombstones, pending entries.
    let nodes = 0;
    let pending = 0;
    for (const key of KEYS) {
      if ((await mc.call("TYPE", key)) !== "stream") continue;
      const info = (await mc.call("XINFO", "STREAM", key)) as RespValue[];
      nodes += Number(info[info.indexOf("radix-tree-keys") + 1]);
      for (const g of (await mc.call("XINFO", "GROUPS", key)) as RespValue[][]) pending += Number(g[g.indexOf("pending") + 1]);
    }
    expect(nodes).toBeGreaterThan(3);
    expect(pending).toBeGreaterThan(10);
    for (const [name, o] of w.outcomes) expect(o.ok).toBeGreaterThan(name === "XGROUP DESTROY" ? 0 : 20);
    expect(replicant.output()).not.toContain("CRITICAL");
    expect(replicant.output()).not.toContain("Internal error");
  }, 180000);

  test("on the replica: XREAD BLOCK is served by the master's XADD; XREADGROUP is refused (a write)", async () => {
    const master = await track(startRedis());
    const replicant = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replicant);
    const mc = await master.client();
    const reader = await replicant.client();
    const admin = await replicant.client();
    const pending = reader.call("XREAD", "BLOCK", 0, "STREAMS", "live", "$");
    for (let i = 0; !String(await admin.call("INFO", "clients")).includes("blocked_clients:1\r\n"); i++) {
      if (i > 400) throw new Error("the XREAD never blocked");
      await Bun.sleep(5);
    }
    await mc.call("XADD", "live", "7-7", "from", "master");
    expect(await pending).toEqual([["live", [["7-7", ["from", "master"]]]]]);
    await mc.call("XGROUP", "CREATE", "live", "g", "0");
    await waitForSync(master, replicant);
    const refused = await admin.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "live", ">");
    expect(String(refused)).toBe("READONLY You can't write against a read only replica.");
  }, 60000);

  test("edge layouts through the RDB: tombstone-only nodes, 64-bit IDs, big values, big PELs, unknown entries-read", async () => {
    const master = await track(startRedis(["--stream-node-max-entries", "5"]));
    const mc = await master.client();
    const cmds: Array<Array<string | number>> = [];
    // A node whose live entries were all trimmed by exact MINID while its last entry, a
    // tombstone, stays: a node with no live entry.
    cmds.push(["XADD", "tomb", "1-1", "a", "1"], ["XADD", "tomb", "1-2", "a", "2"], ["XADD", "tomb", "1-3", "a", "3"]);
    cmds.push(["XDEL", "tomb", "1-3"], ["XADD", "tomb", "1-4", "a", "4"], ["XADD", "tomb", "1-5", "a", "5"]);
    cmds.push(["XADD", "tomb", "2-1", "b", "1"], ["XDEL", "tomb", "1-4"], ["XTRIM", "tomb", "MINID", "1-3"]);
    // IDs at the top of the 64-bit range, and the stream's last possible ID.
    cmds.push(["XADD", "big", "18446744073709551614-18446744073709551614", "f", "v"], ["XADD", "big", "18446744073709551615-*", "f", "v"]);
    cmds.push(["XADD", "big", "18446744073709551615-18446744073709551615", "f", "v"], ["XGROUP", "CREATE", "big", "g", "0"]);
    cmds.push(["XREADGROUP", "GROUP", "g", "c", "STREAMS", "big", ">"], ["XDEL", "big", "18446744073709551615-0"]);
    // Values of every listpack string size class, different field sets per entry.
    for (let i = 0; i < 12; i++) cmds.push(["XADD", "sizes", `${i + 1}-0`, `f${i % 3}`, "x".repeat([0, 1, 63, 64, 4095, 4096, 70000][i % 7]!), "n", String(2 ** (i * 5) - 7)]);
    // An empty stream with groups, an unknown entries-read, a consumer without pending entries.
    cmds.push(["XGROUP", "CREATE", "empty", "g1", "$", "MKSTREAM"], ["XGROUP", "CREATE", "empty", "g2", "5-5", "ENTRIESREAD", "3"]);
    cmds.push(["XGROUP", "CREATECONSUMER", "empty", "g1", "idle"], ["XSETID", "empty", "10-0", "ENTRIESADDED", "7", "MAXDELETEDID", "9-0"]);
    // A big PEL spread over consumers, with XCLAIM-set delivery counts and times.
    for (let i = 0; i < 1200; i++) cmds.push(["XADD", "pel", `${i + 1}-0`, "i", i]);
    cmds.push(["XGROUP", "CREATE", "pel", "g", "0"], ["XGROUP", "CREATE", "pel", "h", "0", "ENTRIESREAD", "-1"]);
    for (const c of ["a", "b", "c"]) cmds.push(["XREADGROUP", "GROUP", "g", c, "COUNT", 350, "STREAMS", "pel", ">"]);
    cmds.push(["XCLAIM", "pel", "g", "d", 0, "5-0", "6-0", "7-0", "RETRYCOUNT", 42, "TIME", 1234567]);
    cmds.push(["XDEL", "pel", "8-0", "9-0"], ["XGROUP", "SETID", "pel", "h", "700-0"]);
    for (let i = 0; i < cmds.length; i += 200) await mc.pipeline(cmds.slice(i, i + 200));

    const replicant = await track(startReplicant(["--stream-node-max-entries", "5", "--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replicant);
    const rc = await replicant.client();
    const keys = ["tomb", "big", "sizes", "empty", "pel"];
    const state = async (c: RespClient) => {
      const out: unknown[] = [];
      for (const k of keys) out.push(k, await c.call("XRANGE", k, "-", "+"), await c.call("XINFO", "STREAM", k, "FULL", "COUNT", 0), await c.call("XINFO", "STREAM", k), await c.call("XINFO", "GROUPS", k));
      return out;
    };
    expect(await state(rc)).toEqual(await state(mc));
    // The loaded nodes keep the master's layout: appends split them where the master does.
    const more: Array<Array<string | number>> = [];
    for (const k of ["tomb", "sizes", "pel"]) for (let i = 0; i < 7; i++) more.push(["XADD", k, `${5000 + i}-0`, "f", "x".repeat(i * 700)]);
    more.push(["XTRIM", "pel", "MAXLEN", "~", 600], ["XADD", "tomb", "MINID", "~", "2-0", "6000-0", "z", "1"]);
    await mc.pipeline(more);
    await waitForSync(master, replicant);
    expect(await state(rc)).toEqual(await state(mc));
  }, 60000);
});

