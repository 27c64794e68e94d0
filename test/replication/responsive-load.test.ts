// Clients are served while we load a big dataset: the load is parsed in slices between turns
// of the event loop (dataset/load.ts), not in one go. What is pinned here is
// behaviour, not timing: requests are answered before the load ends (-LOADING while loading,
// as redis-server answers), and the commands the master sends during a full sync are applied
// after it, in order. How long a client waits is measured by bench/responsiveness.bench.ts.

import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { RespClient, RespError } from "../helpers/resp-client.ts";
import { freePort, parseInfo, removeDir, replicantCommand, startRedis, startReplicant, tempDir, waitFor, waitForSync, type ServerProcess, stopServers, tracker } from "../helpers/servers.ts";

/** Enough keys for the load to take many slices (each about 10 ms) on any machine. */
const KEYS = 400_000;

const started: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await stopServers(started);
  for (const d of dirs) removeDir(d);
});

const track = tracker(started);

/** A redis-server master holding KEYS keys (and a list to append to). */
async function bigMaster(extra: string[] = []): Promise<ServerProcess> {
  const master = await track(startRedis(["--enable-debug-command", "yes", ...extra]));
  await master.call("DEBUG", "POPULATE", KEYS, "key", 16);
  return master;
}

describe("clients are answered while a big dataset loads", () => {
  test("start-up load: PING gets -LOADING before the load ends, INFO shows its progress", async () => {
    const master = await bigMaster();
    await master.call("SAVE");
    const dir = tempDir("responsive-load-");
    dirs.push(dir);
    copyFileSync(join(master.dir, "dump.rdb"), join(dir, "dump.rdb"));
    const port = freePort();
    const proc = Bun.spawn([...replicantCommand(), "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""], { cwd: dir, stdout: "ignore", stderr: "ignore" });
    try {
      const c = await waitFor("the listener", () => RespClient.connect(port), 15000, 1);
      let loaded = false;
      const replies: unknown[] = [];
      const infos: Array<Record<string, string>> = [];
      while (!loaded) {
        const r = await c.call("PING");
        replies.push(r);
        if (r instanceof RespError) infos.push(parseInfo(await c.call("INFO", "persistence")));
        else loaded = true;
      }
      expect(Number(await c.call("DBSIZE"))).toBe(KEYS);
      const loading = replies.filter((r) => r instanceof RespError);
      expect(loading.length).toBeGreaterThan(1);
      expect((loading[0] as RespError).message).toBe("LOADING Redis is loading the dataset in memory");
      // The progress of the load, as Redis reports it.
      const during = infos.filter((i) => i.loading === "1");
      expect(during.length).toBeGreaterThan(0);
      expect(Number(during[0]!.loading_total_bytes)).toBeGreaterThan(1_000_000);
      expect(Number(during[during.length - 1]!.loading_loaded_bytes)).toBeGreaterThan(0);
      c.close();
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  }, 120000);

  for (const load of ["on-empty-db", "disabled", "swapdb"] as const) {
    test(`full sync (repl-diskless-load ${load}): answered during the load; the master's writes meanwhile applied after it, in order`, async () => {
      const master = await bigMaster(["--repl-diskless-sync", load === "disabled" ? "no" : "yes"]);
      const replica = await track(startReplicant(["--repl-diskless-load", load]));
      const writer = await master.client();
      const c = await replica.client();
      let synced = false;
      let pushed = 0;
      const writes = (async () => {
        // Written while the replica transfers and loads: they reach it in the stream that
        // follows the payload, and must be applied after the load, in order.
        while (!synced) {
          await writer.pipeline([
            ["RPUSH", "during", pushed],
            ["INCR", "counter"],
          ]);
          pushed++;
          await Bun.sleep(2);
        }
      })();
      await replica.call("REPLICAOF", "127.0.0.1", master.port);
      // PING and INFO (allowed while loading) until the link is up.
      const duringSync: unknown[] = [];
      for (;;) {
        const [pong, text] = await c.pipeline([["PING"], ["INFO", "replication"]]);
        const i = parseInfo(text!);
        if (i.master_link_status === "up") break;
        if (i.master_sync_in_progress === "1") duringSync.push(pong);
        await Bun.sleep(1);
      }
      synced = true;
      await writes;
      await waitForSync(master, replica, 60000);
      // Answered while the payload was received and loaded (many slices for this many keys).
      expect(duringSync.length).toBeGreaterThan(2);
      // Diskless: -LOADING, as redis-server. swapdb too: the old data is served meanwhile only
      // for a sync of the same history (the master's replid ours), and this is a new master's.
      if (load !== "disabled") expect(duringSync.some((r) => r instanceof RespError && r.message.startsWith("LOADING"))).toBe(true);
      expect(Number(await c.call("DBSIZE"))).toBe(KEYS + 2);
      expect(await c.call("LRANGE", "during", 0, -1)).toEqual(await writer.call("LRANGE", "during", 0, -1));
      expect(await c.call("GET", "counter")).toBe(String(pushed));
      writer.close();
      c.close();
    }, 120000);
  }
});
