// A writable replica (replica-read-only no) deletes the keys its own clients gave a TTL once
// they expire (Redis's expireSlaveKeys), while its master's expired keys stay until the master's
// DEL (hidden from reads meanwhile). Side by side: a redis-server replica and Replicant of the
// same redis-server master.

import { afterAll, expect, test } from "bun:test";
import { startRedis, startReplicant, stopServers, tracker, waitFor, waitForSync, type ServerProcess } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
const track = tracker(started);
afterAll(() => stopServers(started));

test("own keys with a TTL are expired, the master's are not", async () => {
  const master = await track(startRedis(["--save", "", "--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"]));
  const replicas = await Promise.all([
    track(startRedis(["--save", "", "--replicaof", "127.0.0.1", String(master.port)])),
    track(startReplicant(["--save", "", "--replicaof", "127.0.0.1", String(master.port)])),
  ]);
  for (const r of replicas) await waitForSync(master, r);
  await master.call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
  await master.call("SELECT", "0");
  await master.call("SET", "mk", "1", "PX", "300");
  const out: unknown[][] = [];
  for (const r of replicas) {
    await waitFor("the master's key", async () => (await r.call("DBSIZE")) === 1);
    const c = await r.client();
    await c.call("CONFIG", "SET", "replica-read-only", "no");
    await c.call("SET", "own1", "1", "PX", "300");
    await c.call("SET", "own2", "2", "PX", "300");
    await c.call("SET", "own3", "3");
    await c.call("EXPIRE", "own3", "1");
    const before = await c.call("DBSIZE");
    await Bun.sleep(1600);
    out.push([before, await c.call("DBSIZE"), await c.call("EXISTS", "mk"), await c.call("KEYS", "*")]);
    c.close();
  }
  // The master's key stays stored (DBSIZE 1) but reads as missing; the replica's own are gone.
  expect(out[0]).toEqual([4, 1, 0, []]);
  expect(out[1]).toEqual(out[0]!);
});
