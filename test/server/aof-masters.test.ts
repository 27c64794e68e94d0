// appendonly yes on a replica of a Valkey 8 master syncing by dual channel: the AOF restarts
// after the sync (a base of the snapshot, the stream of the main channel in the new incr file,
// all in db 3), and a restart from it continues by partial resync with the same data. Needs
// ../shared/masters (skipped with one line without it).

import { afterAll, expect, test } from "bun:test";
import { sharedMasters } from "../helpers/masters.ts";
import { info, type ServerProcess, startRedis, startReplicant, stopServers, tempDir, tracker, waitFor, waitForSync } from "../helpers/servers.ts";

const valkey = sharedMasters("appendonly yes on a replica of a Valkey 8 master (dual channel)").find((m) => m.label === "valkey-8.0.1");
const started: ServerProcess[] = [];
afterAll(() => stopServers(started));
const track = tracker(started);

if (valkey) {
  test("a dual-channel full sync, writes in db 3, kill -9: the restart continues by partial resync", async () => {
    const master = await track(startRedis(["--dual-channel-replication-enabled", "yes", "--enable-debug-command", "yes", "--repl-diskless-sync", "yes", "--repl-backlog-size", "64mb"], { bin: valkey.bin }));
    const mc = await master.client();
    await mc.call("SELECT", "3");
    for (let i = 0; i < 200; i++) await mc.call("SET", `k${i}`, String(i));
    const dir = tempDir("aof-valkey-");
    const args = ["--enable-debug-command", "yes", "--dual-channel-replication-enabled", "yes", "--appendonly", "yes", "--replicaof", "127.0.0.1", String(master.port)];
    let replica = await track(startReplicant(args, { dir }));
    await waitForSync(master, replica);
    // Writes in db 3 only.
    for (let i = 0; i < 100; i++) await mc.call("INCR", "counter");
    await waitForSync(master, replica);
    // The AOF restarted after the full sync: its first rewrite done, the manifest names the new base.
    await waitFor("the AOF's rewrite after the sync", async () => {
      const p = await info(replica, "persistence");
      return p.aof_rewrite_in_progress === "0" && p.aof_rewrite_scheduled === "0" && p.aof_rewrites !== "0";
    });
    const before = await info(master, "stats");
    await replica.stop("SIGKILL");
    for (let i = 0; i < 50; i++) await mc.call("INCR", "counter");
    replica = await track(startReplicant(args, { dir }));
    await waitFor("the link up", async () => (await info(replica, "replication")).master_link_status === "up");
    await waitForSync(master, replica);
    const after = await info(master, "stats");
    expect({ partial: Number(after.sync_partial_ok) - Number(before.sync_partial_ok), full: Number(after.sync_full) - Number(before.sync_full) }).toEqual({ partial: 1, full: 0 });
    expect(await replica.call("DEBUG", "DIGEST")).toEqual(await master.call("DEBUG", "DIGEST"));
    const rc = await replica.client();
    await rc.call("SELECT", "3");
    expect(await rc.call("GET", "counter")).toBe("150");
  }, 120_000);
}
