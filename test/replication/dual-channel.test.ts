// Dual-channel full syncs with a Valkey 8 master (dual-channel-replication-enabled yes on both
// sides): the snapshot comes on an RDB channel of its own while the main connection PSYNCs from
// the snapshot's offset ($ENDOFF) and its stream is buffered, then applied after the load.
// Checked against the master: equal digests after writes during the sync, the master's own
// account of a dual-channel sync, INFO's replicas_repl_buffer_size / _peak, a sync whose
// channels the master drops half-way (we start again and end equal), and the directive off
// (an ordinary full sync). Needs ../shared/masters (skipped with one line without it).

import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { sharedMasters } from "../helpers/masters.ts";
import { info, type ServerProcess, startRedis, startReplicant, stopServers, tracker, waitFor, waitForSync } from "../helpers/servers.ts";

const valkey = sharedMasters("dual-channel replication with a Valkey 8 master").find((m) => m.label === "valkey-8.0.1");

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));
const track = tracker(started);

/** A Valkey 8 master offering dual channel, holding `keys` strings and a few aggregates. */
async function valkeyMaster(keys: number): Promise<ServerProcess> {
  const master = await track(startRedis(["--dual-channel-replication-enabled", "yes", "--enable-debug-command", "yes", "--repl-diskless-sync", "yes"], { bin: valkey!.bin }));
  await master.call("DEBUG", "POPULATE", keys, "key", 16);
  const c = await master.client();
  await c.pipeline(Array.from({ length: 200 }, (_, i) => ["HSET", `h:${i}`, "f", `v${i}`, "g", i]));
  await c.pipeline(Array.from({ length: 200 }, (_, i) => ["RPUSH", `l:${i}`, "a", `b${i}`]));
  c.close();
  return master;
}

/** Writes to the master until stopped: keys the snapshot holds change while it is transferred. */
function writeLoad(master: ServerProcess): { stop(): Promise<number> } {
  let running = true;
  let written = 0;
  const done = (async () => {
    const c = await master.client();
    for (let round = 0; running; round++) {
      const batch: Array<Array<string | number>> = [];
      for (let i = 0; i < 200; i++) {
        const k = (round * 200 + i) % 5000;
        batch.push(i % 3 === 0 ? ["INCR", `n:${k % 50}`] : i % 3 === 1 ? ["SET", `key:${k}`, `w${round}`] : ["RPUSH", `l:${k % 200}`, round]);
      }
      await c.pipeline(batch);
      written += batch.length;
      await Bun.sleep(2);
    }
    c.close();
  })();
  return {
    async stop() {
      running = false;
      await done;
      return written;
    },
  };
}

async function digestsEqual(master: ServerProcess, replica: ServerProcess): Promise<void> {
  await waitForSync(master, replica, 60000);
  expect(await replica.call("DBSIZE")).toBe(await master.call("DBSIZE"));
  expect(await replica.call("DEBUG", "DIGEST")).toBe(await master.call("DEBUG", "DIGEST"));
}

if (valkey) {
  describe("dual-channel full sync with a Valkey 8 master", () => {
    test("the snapshot on the RDB channel, the stream buffered meanwhile and applied: equal to the master", async () => {
      const master = await valkeyMaster(50000);
      // Each key takes 20 us to save: the snapshot lasts ~1 s, long enough for the stream to buffer.
      await master.call("CONFIG", "SET", "rdb-key-save-delay", "20");
      const load = writeLoad(master);
      await Bun.sleep(100);
      const replica = await track(startReplicant(["--enable-debug-command", "yes", "--dual-channel-replication-enabled", "yes", "--replicaof", "127.0.0.1", String(master.port)]));
      await replica.waitForLog("Master accepted a Partial Resynchronization, RDB load in background", 30000);
      await replica.waitForLog("MASTER <-> REPLICA sync: Finished with success", 60000);
      const written = await load.stop();
      expect(written).toBeGreaterThan(0);
      await master.call("CONFIG", "SET", "rdb-key-save-delay", "0");
      await digestsEqual(master, replica);
      // The master's own account: a dual-channel sync, then an ordinary online replica.
      expect(master.output()).toContain("is capable of dual channel synchronization");
      const m = await info(master, "replication");
      expect(m.slave0).toContain("state=online");
      const r = await info(replica, "replication");
      expect(r.replicas_repl_buffer_size).toBe("0");
      expect(Number(r.replicas_repl_buffer_peak)).toBeGreaterThan(0);
      // One attempt, not several.
      expect(replica.output().split("PSYNC is not possible, initialize RDB channel.").length).toBe(2);
      expect(replica.output()).not.toContain("Aborting dual channel sync");
      // What the master writes from now on arrives as in any sync.
      await master.call("SET", "after", "1");
      await digestsEqual(master, replica);
    });

    test("past repl-load-buffer-memory-limit the buffered stream goes to a file in dir, read back in order, then removed", async () => {
      const master = await valkeyMaster(50000);
      await master.call("CONFIG", "SET", "rdb-key-save-delay", "20");
      const load = writeLoad(master);
      await Bun.sleep(100);
      const replica = await track(startReplicant(["--enable-debug-command", "yes", "--dual-channel-replication-enabled", "yes", "--repl-load-buffer-memory-limit", "64kb", "--replicaof", "127.0.0.1", String(master.port)]));
      await replica.waitForLog("the rest goes to temp-repl-stream-", 30000);
      await replica.waitForLog("MASTER <-> REPLICA sync: Finished with success", 60000);
      await load.stop();
      await master.call("CONFIG", "SET", "rdb-key-save-delay", "0");
      await digestsEqual(master, replica);
      const r = await info(replica, "replication");
      expect(Number(r.replicas_repl_buffer_spilled)).toBeGreaterThan(0);
      expect(Number(r.replicas_repl_buffer_peak)).toBeGreaterThan(64 * 1024);
      expect(replica.output()).not.toContain("Aborting dual channel sync");
      await waitFor("the spool file to go", () => !readdirSync(replica.dir).some((f) => f.startsWith("temp-repl-stream-")));
    });

    test("the master drops both channels half-way: the sync starts again and ends equal", async () => {
      const master = await valkeyMaster(30000);
      await master.call("CONFIG", "SET", "rdb-key-save-delay", "100");
      const replica = await track(startReplicant(["--enable-debug-command", "yes", "--dual-channel-replication-enabled", "yes", "--replicaof", "127.0.0.1", String(master.port)]));
      await replica.waitForLog("Master accepted a Partial Resynchronization, RDB load in background", 30000);
      await master.call("CLIENT", "KILL", "TYPE", "replica");
      await waitFor("the abandoned attempt", () => /Aborting dual channel sync|I\/O error trying to sync|Connection with master lost/.test(replica.output()), 20000);
      await master.call("CONFIG", "SET", "rdb-key-save-delay", "0");
      await master.call("SET", "between", "1");
      await digestsEqual(master, replica);
    });

    test("as a master: a Valkey 8 replica (and a Replicant one) asking for dual channel gets it, under writes, and ends equal", async () => {
      const master = await track(startReplicant(["--enable-debug-command", "yes", "--dual-channel-replication-enabled", "yes", "--repl-diskless-sync-delay", "0"]));
      await master.call("DEBUG", "POPULATE", 30000, "key", 16);
      await master.call("CONFIG", "SET", "rdb-key-save-delay", "30");
      const load = writeLoad(master);
      await Bun.sleep(50);
      const valkeyReplica = await track(startRedis(["--enable-debug-command", "yes", "--dual-channel-replication-enabled", "yes", "--replicaof", "127.0.0.1", String(master.port)], { bin: valkey!.bin }));
      await master.waitForLog("is capable of dual channel synchronization", 20000);
      await master.waitForLog("accepted (dual channel)", 30000);
      await waitFor("the Valkey replica online", async () => (await info(master, "replication")).slave0?.includes("state=online") ?? false, 60000);
      const ours = await track(startReplicant(["--enable-debug-command", "yes", "--dual-channel-replication-enabled", "yes", "--replicaof", "127.0.0.1", String(master.port)]));
      await ours.waitForLog("Master accepted a Partial Resynchronization, RDB load in background", 30000);
      await load.stop();
      await master.call("CONFIG", "SET", "rdb-key-save-delay", "0");
      await digestsEqual(master, valkeyReplica);
      await digestsEqual(master, ours);
      expect(valkeyReplica.output()).toContain("initialize RDB channel");
      expect(valkeyReplica.output()).not.toContain("Aborting dual channel sync");
      const m = await info(master, "replication");
      expect(m.slave0).toContain("state=online");
      expect(m.slave1).toContain("state=online");
    });

    test("with the directive off, the same master gives an ordinary full sync; CONFIG SET turns it on", async () => {
      const master = await valkeyMaster(1000);
      const replica = await track(startReplicant(["--enable-debug-command", "yes", "--replicaof", "127.0.0.1", String(master.port)]));
      await digestsEqual(master, replica);
      expect(replica.output()).not.toContain("initialize RDB channel");
      expect((await info(replica, "replication")).replicas_repl_buffer_peak).toBeUndefined();
      expect(await replica.call("CONFIG", "GET", "dual-channel-replication-enabled")).toEqual(["dual-channel-replication-enabled", "no"]);
      expect(await replica.call("CONFIG", "SET", "dual-channel-replication-enabled", "yes")).toBe("OK");
      // A new full sync (another master's history) goes through the RDB channel now.
      const other = await valkeyMaster(500);
      expect(await replica.call("REPLICAOF", "127.0.0.1", String(other.port))).toBe("OK");
      await replica.waitForLog("PSYNC is not possible, initialize RDB channel.", 20000);
      await digestsEqual(other, replica);
    });
  });
}
