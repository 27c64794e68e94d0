// The delays Redis's own tests use to keep a save or a load in progress: rdb-key-save-delay
// (microseconds after each key an RDB is written with: BGSAVE and the full syncs we serve) and
// key-load-delay (after each key loaded), with loading-process-events-interval-bytes. Redis
// sleeps in its fork child or in the loading loop; we owe the delay as a pause between slices,
// so the save or load takes as long while clients are still served.

import { afterAll, expect, test } from "bun:test";
import { info, startReplicant, stopServers, tracker, waitFor, type ServerProcess } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
const track = tracker(started);
afterAll(() => stopServers(started));

test("hidden delay directives: CONFIG SET and CONFIG GET by name, out of CONFIG GET patterns", async () => {
  const s = await track(startReplicant(["--save", "", "--loading-process-events-interval-bytes", "4096"]));
  expect(await s.call("CONFIG", "SET", "key-load-delay", "10")).toBe("OK");
  expect(await s.call("CONFIG", "GET", "key-load-delay")).toEqual(["key-load-delay", "10"]);
  expect(await s.call("CONFIG", "GET", "loading-process-events-interval-bytes")).toEqual(["loading-process-events-interval-bytes", "4096"]);
  expect(String(await s.call("CONFIG", "SET", "loading-process-events-interval-bytes", "100"))).toContain("must be between 1024 and 2147483647");
  expect(await s.call("CONFIG", "GET", "*-delay")).not.toContain("rdb-key-save-delay");
});

test("rdb-key-save-delay keeps a BGSAVE in progress while PING is answered at once", async () => {
  const s = await track(startReplicant(["--save", "", "--enable-debug-command", "yes"]));
  await s.call("DEBUG", "POPULATE", "100");
  await s.call("CONFIG", "SET", "rdb-key-save-delay", "100000"); // 100 ms a key: 10 s for the file
  expect(await s.call("BGSAVE")).toBe("Background saving started");
  await Bun.sleep(500);
  expect((await info(s, "persistence")).rdb_bgsave_in_progress).toBe("1");
  const t0 = performance.now();
  expect(await s.call("PING")).toBe("PONG");
  expect(performance.now() - t0).toBeLessThan(1000);
  // Back to no delay: the save completes.
  await s.call("CONFIG", "SET", "rdb-key-save-delay", "0");
  await waitFor("the BGSAVE to finish", async () => (await info(s, "persistence")).rdb_bgsave_in_progress === "0", 10000);
  expect((await info(s, "persistence")).rdb_last_bgsave_status).toBe("ok");
});

test("key-load-delay makes a replica's load of a full sync last as long as the keys owe", async () => {
  const master = await track(startReplicant(["--save", "", "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0"]));
  await master.call("DEBUG", "POPULATE", "1500");
  const t0 = performance.now();
  const replica = await track(startReplicant(["--save", "", "--key-load-delay", "1000", "--replicaof", "127.0.0.1", String(master.port)]));
  // 1,500 keys at 1 ms each: at least 1.5 s from the payload to the keys being there.
  await waitFor("the replica's keys", async () => (await replica.call("DBSIZE")) === 1500, 20000, 20);
  expect(performance.now() - t0).toBeGreaterThan(1400);
  expect((await info(replica, "replication")).master_link_status).toBe("up");
});
