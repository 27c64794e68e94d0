// What a master sends its replicas for stream commands, compared byte for byte between a real
// redis-server 7.0 master and a Replicant master running the same seeded workload: XADD with
// the generated ID and approximate trimming rewritten as exact, XTRIM likewise, XREADGROUP /
// XCLAIM / XAUTOCLAIM as XCLAIM ... FORCE JUSTID LASTID, XGROUP SETID ... ENTRIESREAD and
// XGROUP CREATECONSUMER, MULTI/EXEC around several, nothing for reads. Each master feeds a fake
// replica (PSYNC ? -1 over a raw socket); the only masked bytes are XCLAIM's TIME argument (the
// delivery time is the clock of each master). A redis-server replica of the Replicant master
// must end up with the same streams.

import { afterAll, describe, expect, test } from "bun:test";
import { FakeReplica } from "../helpers/fake-replica.ts";
import type { RespClient } from "../helpers/resp-client.ts";
import { type ServerProcess, startRedis, startReplicant, waitFor, waitForSync, stopServers, tracker } from "../helpers/servers.ts";
import { KEYS, streamState, Workload } from "./streams-workload.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

const track = tracker(started);

/** The stream without keep-alive PINGs, and with each XCLAIM's TIME value masked. */
function normalized(cmds: string[][]): string[][] {
  return cmds
    .filter((c) => !(c.length === 1 && c[0]!.toLowerCase() === "ping"))
    .map((c) => {
      if (c[0]!.toUpperCase() !== "XCLAIM") return c;
      const copy = c.slice();
      for (let i = 0; i + 1 < copy.length; i++) if (copy[i]!.toUpperCase() === "TIME") copy[i + 1] = "<time>";
      return copy;
    });
}

describe("stream commands propagate in Redis 7.0's forms", () => {
  test("the same seeded workload on redis-server and on Replicant: identical replication streams", async () => {
    const seed = seedFromEnv("STREAM_PROP_SEED");
    const layout = ["--stream-node-max-entries", "10", "--stream-node-max-bytes", "500", "--repl-ping-replica-period", "3600"];
    const redis = await track(startRedis(layout));
    const ours = await track(startReplicant(layout));
    const fakeRedis = await FakeReplica.connect(redis.port);
    const fakeOurs = await FakeReplica.connect(ours.port);
    await waitFor("both fake replicas past the RDB", () => fakeRedis.synced && fakeOurs.synced);
    const rc = await redis.client();
    const oc = await ours.client();
    // Every key starts with an explicit ID ahead of the clock, so "*" continues its sequence
    // on both servers alike (streamNextID) and the streams are deterministic.
    const start = Date.now() + 3_600_000;
    const w1 = new Workload(rng(seed), start + 1);
    const w2 = new Workload(rng(seed), start + 1);
    for (const k of KEYS) {
      expect(await rc.call("XADD", k, `${start}-0`, "init", "1")).toBe(`${start}-0`);
      expect(await oc.call("XADD", k, `${start}-0`, "init", "1")).toBe(`${start}-0`);
    }
    // Clients blocked in XREADGROUP, served by an XADD: their deliveries propagate after it.
    for (const [server, client] of [
      [redis, rc],
      [ours, oc],
    ] as const) {
      expect(await client.call("XGROUP", "CREATE", "s1", "blocked", "$")).toBe("OK");
      const c1 = await server.client();
      const c2 = await server.client();
      const served = [c1.call("XREADGROUP", "GROUP", "blocked", "b1", "BLOCK", 0, "STREAMS", "s1", ">"), c2.call("XREADGROUP", "GROUP", "blocked", "b2", "NOACK", "BLOCK", 0, "STREAMS", "s1", ">")];
      await waitFor("two blocked clients", async () => String(await client.call("INFO", "clients")).includes("blocked_clients:2\r\n"));
      await client.call("XADD", "s1", `${start}-1`, "for", "b1");
      await client.call("XADD", "s1", `${start}-2`, "for", "b2");
      await Promise.all(served);
    }
    // Reads too (XREAD, XRANGE...): they must not propagate.
    const extra = [
      ["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"],
      ["XRANGE", "s1", "-", "+", "COUNT", "3"],
      ["XINFO", "STREAM", "s2"],
      ["XPENDING", "s3", "g1"],
    ];
    for (let round = 0; round < 20; round++) {
      await w1.run(rc, 150, round % 4 === 3);
      await w2.run(oc, 150, round % 4 === 3);
      await rc.pipeline(extra);
      await oc.pipeline(extra);
    }
    await rc.call("SET", "end-marker", "1");
    await oc.call("SET", "end-marker", "1");
    const ended = (r: FakeReplica) => r.commands.some((c) => c[0] === "SET" && c[1] === "end-marker");
    await waitFor("both streams complete", () => ended(fakeRedis) && ended(fakeOurs), 30000);
    const expected = normalized(fakeRedis.commands);
    if (process.env.STREAM_DEBUG) console.log(JSON.stringify(normalized(fakeOurs.commands).filter((c) => c.includes("blocked"))));
    const actual = normalized(fakeOurs.commands);
    expect(expected.length).toBeGreaterThan(1000);
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      if (JSON.stringify(expected[i]) !== JSON.stringify(actual[i])) {
        throw new Error(`replication streams differ at command #${i}: redis sent ${JSON.stringify(expected[i])}, Replicant sent ${JSON.stringify(actual[i])}\ncontext: ${JSON.stringify(expected.slice(Math.max(0, i - 3), i))}`);
      }
    }
    console.log("workload:", JSON.stringify(Object.fromEntries(w1.outcomes)), "propagated commands:", expected.length);
    expect(w2.outcomes).toEqual(w1.outcomes);
    fakeRedis.close();
    fakeOurs.close();
  }, 120000);

  test("a redis-server replica of a Replicant master: full sync from our RDB, then the stream; the same streams", async () => {
    const seed = seedFromEnv("STREAM_PROP_SEED");
    const layout = ["--stream-node-max-entries", "6", "--stream-node-max-bytes", "300"];
    const master = await track(startReplicant(layout));
    const mc: RespClient = await master.client();
    const w = new Workload(rng(seed));
    // First through the RDB Replicant serves (node layout, tombstones, groups: all equal)...
    await w.run(mc, 1500, false);
    const replica = await track(startRedis([...layout, "--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    const rc = await replica.client();
    expect(await streamState(rc, false)).toEqual(await streamState(mc, false));
    // ...then through the stream. Against a master, entries-read and lag are masked: Redis
    // replicas do not follow them.
    await w.run(mc, 3000, false);
    await waitForSync(master, replica);
    expect(await streamState(rc, true)).toEqual(await streamState(mc, true));
  }, 120000);
});
