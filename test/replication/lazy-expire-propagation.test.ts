// Keys found expired by SCAN or RANDOMKEY on a master: their DELs go to the replicas one by
// one, not wrapped in MULTI/EXEC (Redis 7.0's CMD_TOUCHES_ARBITRARY_KEYS); inside a transaction
// they stay in its MULTI/EXEC. The streams of redis-server and Replicant compared.

import { afterAll, expect, test } from "bun:test";
import { FakeReplica } from "../helpers/fake-replica.ts";
import { startRedis, startReplicant, stopServers, tracker, waitFor, type ServerProcess } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
const track = tracker(started);
afterAll(() => stopServers(started));

async function streamOf(s: ServerProcess, run: (s: ServerProcess) => Promise<void>): Promise<string[][]> {
  await s.call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
  await s.call("FLUSHALL");
  await s.call("SET", "foo1", "bar", "PX", "1");
  await s.call("SET", "foo2", "bar", "PX", "1");
  await Bun.sleep(5);
  const replica = await FakeReplica.connect(s.port);
  await waitFor("the fake replica in the stream", () => replica.synced);
  await run(s);
  await s.call("SET", "marker", "1");
  await waitFor("the marker", () => replica.commands.some((c) => c[1] === "marker"));
  replica.close();
  // PINGs and the marker aside; key names sorted (the order of a walk differs).
  return replica.commands.filter((c) => c[0]!.toLowerCase() !== "ping" && c[1] !== "marker").map((c) => c.map((a) => a.toLowerCase()));
}

const args = ["--save", "", "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0"];

for (const [name, run] of [
  ["SCAN", (s: ServerProcess) => s.call("SCAN", "0").then(() => {})],
  ["RANDOMKEY", (s: ServerProcess) => s.call("RANDOMKEY").then(() => {})],
] as const) {
  test(`${name}: the DELs of expired keys are not wrapped in MULTI/EXEC`, async () => {
    const [redis, ours] = await Promise.all([track(startRedis(args)), track(startReplicant(args))]);
    const theirs = await streamOf(redis, run);
    const mine = await streamOf(ours, run);
    expect(theirs.map((c) => c[0])).toEqual(["select", "del", "del"]);
    expect(mine.map((c) => c[0])).toEqual(theirs.map((c) => c[0]));
  });
}
