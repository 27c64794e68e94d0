// Replication through an ACL user with only what Redis documents a replica needs
// (`+psync +replconf +ping`), masteruser + masterauth on the replica: Replicant as a replica of
// redis-server (beside a redis-server replica as control) and as the master of both. Our
// master's link is not a user: a replica's own ACLs never stop the stream.

import { afterAll, expect, test } from "bun:test";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { info, startRedis, startReplicant, waitForSync, type ServerProcess, stopServers, tracker } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));
const track = tracker(started);

/** A replication user; the default user may not replicate, so AUTH is what makes it work. */
async function prepareMaster(master: ServerProcess): Promise<void> {
  expect(await master.call("ACL", "SETUSER", "repl", "on", ">replpw", "+psync", "+replconf", "+ping")).toBe("OK");
  expect(await master.call("ACL", "SETUSER", "default", "-psync", "-sync", "-replconf")).toBe("OK");
}

async function writeSome(master: ServerProcess, tag: string): Promise<void> {
  const c = await master.client();
  for (let i = 0; i < 50; i++) await c.call("SET", `${tag}:str:${i}`, `v${i}`);
  await c.call("HSET", `${tag}:hash`, "a", "1", "b", "2");
  await c.call("RPUSH", `${tag}:list`, "x", "y", "z");
  await c.call("ZADD", `${tag}:zset`, "1", "m1", "2", "m2");
  await c.call("EXPIRE", `${tag}:str:0`, "1000");
}

async function sameData(a: ServerProcess, b: ServerProcess): Promise<void> {
  expect(diffDatasets(await snapshotDataset(await a.client()), await snapshotDataset(await b.client()))).toEqual([]);
}

/** The user= of the replica connections in the master's CLIENT LIST. */
async function replicaUsers(master: ServerProcess): Promise<string[]> {
  const list = String(await master.call("CLIENT", "LIST"));
  return list
    .split("\n")
    .filter((l) => / flags=S /.test(l))
    .map((l) => l.match(/ user=(\S+)/)![1]!);
}

const replicaArgs = (master: ServerProcess, pass = "replpw") => ["--replicaof", "127.0.0.1", String(master.port), "--masteruser", "repl", "--masterauth", pass];

test("Replicant replicates a redis-server master through a +psync +replconf +ping user", async () => {
  const master = await track(startRedis());
  await prepareMaster(master);
  await writeSome(master, "before");
  const [control, rep] = await Promise.all([track(startRedis(replicaArgs(master))), track(startReplicant(replicaArgs(master)))]);
  await waitForSync(master, control);
  await waitForSync(master, rep);
  await writeSome(master, "after");
  await waitForSync(master, control);
  await waitForSync(master, rep);
  await sameData(control, rep);
  expect(await replicaUsers(master)).toEqual(["repl", "repl"]);
  // The replica's own users do not apply to its master's stream.
  expect(await rep.call("ACL", "SETUSER", "default", "-@all", "+ping", "+info", "+acl", "+client", "+scan", "+type", "+get", "+hgetall", "+lrange", "+zrange", "+smembers", "+pttl", "+select")).toBe("OK");
  expect(await control.call("ACL", "SETUSER", "default", "-@all", "+ping", "+info", "+acl", "+client", "+scan", "+type", "+get", "+hgetall", "+lrange", "+zrange", "+smembers", "+pttl", "+select")).toBe("OK");
  await writeSome(master, "restricted");
  await waitForSync(master, rep);
  await waitForSync(master, control);
  await sameData(control, rep);
  // Our master's connection shows as Redis shows it: no user, "(superuser)".
  const masterLine = async (s: ServerProcess) => String(await s.call("CLIENT", "LIST")).split("\n").find((l) => / flags=M /.test(l))?.match(/ user=\S+/)?.[0];
  expect(await masterLine(rep)).toBe((await masterLine(control))!);
});

test("a wrong masterauth: the replica logs Redis's AUTH failure and never links", async () => {
  const master = await track(startRedis());
  await prepareMaster(master);
  const rep = await track(startReplicant(replicaArgs(master, "wrong")));
  await rep.waitForLog("Unable to AUTH to MASTER: -WRONGPASS invalid username-password pair or user is disabled.");
  expect((await info(rep, "replication")).master_link_status).toBe("down");
  // The master logged the failure in its ACL log, as for any client (and the REPLCONFs
  // pipelined after AUTH, which ran as the default user).
  const log = (await master.call("ACL", "LOG")) as unknown[][];
  const auth = log.find((e) => e[3] === "auth")!;
  expect(auth.slice(2, 10)).toEqual(["reason", "auth", "context", "toplevel", "object", "AUTH", "username", "repl"]);
});

test("Replicant as the master: redis-server and Replicant replicas sync through the user, their ACKs pass the ACL check (WAIT)", async () => {
  const master = await track(startReplicant(["--repl-diskless-sync-delay", "0"]));
  await prepareMaster(master);
  await writeSome(master, "before");
  const [redisReplica, repReplica] = await Promise.all([track(startRedis(replicaArgs(master))), track(startReplicant(replicaArgs(master)))]);
  await waitForSync(master, redisReplica);
  await waitForSync(master, repReplica);
  await writeSome(master, "after");
  await waitForSync(master, redisReplica);
  await waitForSync(master, repReplica);
  await sameData(master, redisReplica);
  await sameData(master, repReplica);
  expect(await replicaUsers(master)).toEqual(["repl", "repl"]);
  // REPLCONF ACK goes through the ACL check like any command of the replica's user.
  const c = await master.client();
  await c.call("SET", "acked", "1");
  expect(await c.call("WAIT", "2", "5000")).toBe(2);
});
