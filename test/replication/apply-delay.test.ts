// A delayed replica (replica-apply-delay) of a redis-server 7.0 master: the stream is held in a
// spool in `dir` and applied once older than the delay. Checked: a FLUSHALL sent under a write
// load (several databases, MULTI/EXEC, absolute expiries) is held back, listed by REPLICADELAY
// LIST and dropped, after which the replica (and a redis-server replica of it, which gets the
// delayed stream) equals a redis-server that ran the same commands without the FLUSHALL; a
// restart (SHUTDOWN, and SIGKILL after a BGSAVE) keeps what was pending and continues with a
// partial resync; APPLY / DISCARD / CONFIG SET 0 / promotion.

import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { info, type ServerProcess, startRedis, startReplicant, stopServers, tracker, waitFor, waitForSync } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));
const track = tracker(started);

type Cmd = Array<string | number>;

/** A deterministic write load: three databases, MULTI/EXEC blocks, absolute expiries. */
function writes(round: number, n: number): Cmd[] {
  const out: Cmd[] = [];
  const farFuture = 4_000_000_000_000 + round;
  for (let i = 0; i < n; i++) {
    const k = `${round}:${i % 97}`;
    if (i % 50 === 0) out.push(["SELECT", (i / 50) % 3]);
    switch (i % 7) {
      case 0: out.push(["SET", `s:${k}`, `v${i}`]); break;
      case 1: out.push(["HSET", `h:${round % 5}`, `f${i}`, i]); break;
      case 2: out.push(["RPUSH", `l:${round % 3}`, `e${i}`]); break;
      case 3: out.push(["INCRBY", `n:${i % 11}`, i]); break;
      case 4: out.push(["ZADD", `z:${round % 4}`, i, `m${i}`]); break;
      case 5: out.push(["SADD", `t:${i % 13}`, `x${round}`]); break;
      default: out.push(["SET", `e:${k}`, "x", "PXAT", farFuture]); break;
    }
    if (i % 40 === 39) out.push(["MULTI"], ["INCR", "tx"], ["LPUSH", "txl", i], ["EXEC"]);
  }
  out.push(["SELECT", 0]);
  return out;
}

async function digest(s: ServerProcess): Promise<string> {
  return String(await s.call("DEBUG", "DIGEST"));
}

async function pending(s: ServerProcess): Promise<{ bytes: number; commands: number }> {
  const r = await info(s, "replication");
  return { bytes: Number(r.replica_apply_delay_pending_bytes), commands: Number(r.replica_apply_delay_pending_commands) };
}

test("a FLUSHALL under a write load is held back, dropped, and the replica ends as the master minus it", async () => {
  // No PING from the master after the load (it too would wait out the delay before the offsets meet).
  const master = await track(startRedis(["--repl-ping-replica-period", "60"]));
  const reference = await track(startRedis());
  const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port), "--replica-apply-delay", "6"]));
  const sub = await track(startRedis(["--replicaof", "127.0.0.1", String(replica.port)]));
  await waitForSync(master, replica);
  await waitForSync(replica, sub);

  const m = await master.client();
  const ref = await reference.client();
  const before = writes(1, 600);
  await m.pipeline(before);
  await ref.pipeline(before);
  // What came before is applied at once (not waiting the delay out), then the FLUSHALL comes.
  await waitFor("writes before pending", async () => (await pending(replica)).commands > 600);
  await replica.call("REPLICADELAY", "APPLY");
  await waitForSync(master, replica);
  expect(await digest(replica)).toBe(await digest(reference));
  const t0 = Date.now();
  await m.pipeline([["FLUSHALL"]]);
  const after = writes(2, 600);
  await m.pipeline(after);
  await ref.pipeline(after);

  // Held back: the replica still has the keys the FLUSHALL removed on the master.
  expect(await master.call("EXISTS", "s:1:0")).toBe(0);
  expect(await replica.call("EXISTS", "s:1:0")).toBe(1);
  const masterOffset = (await info(master, "replication")).master_repl_offset;
  await waitFor("everything received", async () => (await info(replica, "replication")).slave_read_repl_offset === masterOffset);
  const held = await pending(replica);
  expect(held.commands).toBeGreaterThan(600);
  // We ACK what is in the spool: WAIT on the master counts us before the delay is over.
  expect(await m.pipeline([["WAIT", 1, 5000]])).toEqual([1]);
  const ackedOffset = async () => Number(/offset=(\d+)/.exec((await info(master, "replication")).slave0 ?? "")?.[1] ?? -1);
  await waitFor("the master sees our ACK", async () => (await ackedOffset()) >= Number(masterOffset));
  const r = await info(replica, "replication");
  expect(Number(r.slave_read_repl_offset)).toBeGreaterThan(Number(r.slave_repl_offset));
  expect(await ackedOffset()).toBeGreaterThan(Number(r.slave_repl_offset));
  expect(r.replica_apply_delay).toBe("6");

  const list = (await replica.call("REPLICADELAY", "LIST", -1)) as Array<[number, number, number, string[]]>;
  const flush = list.filter((e) => e[3][0]!.toLowerCase() === "flushall");
  expect(flush.length).toBe(1);
  expect(flush[0]![1]).toBeGreaterThanOrEqual(t0 - 1000);
  expect(await replica.call("REPLICADELAY", "DROP", flush[0]![0])).toBe(1);
  // Dropped once: a second time, or an offset that is no command's end, drops nothing.
  expect(await replica.call("REPLICADELAY", "DROP", flush[0]![0], flush[0]![0] - 1)).toBe(0);
  // The drop must have been in time for the test to mean anything.
  expect(Date.now() - t0).toBeLessThan(6000);
  expect(((await replica.call("REPLICADELAY", "LIST", -1)) as unknown[]).length).toBe(list.length - 1);

  await waitForSync(master, replica, 60000);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(6000);
  expect(await pending(replica)).toEqual({ bytes: 0, commands: 0 });
  expect(await digest(replica)).toBe(await digest(reference));
  // Our replica got the delayed stream, FLUSHALL dropped, with the master's offsets.
  await waitForSync(replica, sub, 30000);
  expect(await digest(sub)).toBe(await digest(reference));
  m.close();
  ref.close();
}, 120000);

test("a restart keeps what was pending (SHUTDOWN, and SIGKILL after a BGSAVE) and continues with a partial resync", async () => {
  const master = await track(startRedis());
  const args = ["--replicaof", "127.0.0.1", String(master.port), "--replica-apply-delay", "4"];
  let replica = await track(startReplicant(args));
  await waitForSync(master, replica);
  const m = await master.client();
  await m.pipeline(writes(3, 300));
  await waitFor("pending commands", async () => (await pending(replica)).commands > 0);

  // SHUTDOWN saves the applied dataset; the spool keeps what was received after it.
  await replica.call("SHUTDOWN").catch(() => {});
  await replica.proc.exited;
  const statsBefore = await info(master, "stats");
  replica = await track(startReplicant(args, { dir: replica.dir, port: replica.port }));
  expect((await pending(replica)).bytes).toBeGreaterThan(0);
  await waitFor("link up", async () => (await info(replica, "replication")).master_link_status === "up");
  const stats = await info(master, "stats");
  expect(Number(stats.sync_partial_ok)).toBe(Number(statsBefore.sync_partial_ok) + 1);
  expect(stats.sync_full).toBe(statsBefore.sync_full);
  await waitForSync(master, replica, 60000);
  expect(await digest(replica)).toBe(await digest(master));

  // SIGKILL: the last BGSAVE's dataset, then the spool from its offset on.
  await m.pipeline(writes(4, 300));
  await waitFor("pending commands", async () => (await pending(replica)).commands > 0);
  await replica.call("BGSAVE");
  await waitFor("BGSAVE done", async () => (await info(replica, "persistence")).rdb_bgsave_in_progress === "0");
  await m.pipeline(writes(5, 300));
  await Bun.sleep(1200); // the spool's once-a-second cron ran
  replica.proc.kill("SIGKILL");
  await replica.proc.exited;
  replica = await track(startReplicant(args, { dir: replica.dir, port: replica.port }));
  await waitFor("link up", async () => (await info(replica, "replication")).master_link_status === "up");
  const statsAfter = await info(master, "stats");
  expect(Number(statsAfter.sync_partial_ok)).toBe(Number(stats.sync_partial_ok) + 1);
  expect(statsAfter.sync_full).toBe(stats.sync_full);
  await waitForSync(master, replica, 60000);
  expect(await digest(replica)).toBe(await digest(master));
  m.close();
}, 120000);

test("APPLY OFFSET / BEFORE / all, DISCARD, CONFIG SET 0 and promotion", async () => {
  const master = await track(startRedis());
  const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port), "--replica-apply-delay", "3600"]));
  await waitForSync(master, replica);
  const m = await master.client();
  await m.pipeline([["SET", "a", "1"], ["SET", "b", "2"], ["SET", "c", "3"]]);
  await waitFor("three pending", async () => (await pending(replica)).commands >= 3);
  const list = (await replica.call("REPLICADELAY", "LIST")) as Array<[number, number, number, string[]]>;
  const setB = list.find((e) => e[3][1] === "b")!;
  await replica.call("REPLICADELAY", "APPLY", "OFFSET", setB[0]);
  await waitFor("a and b applied", async () => (await replica.call("GET", "b")) === "2");
  expect(await replica.call("GET", "c")).toBe(null);
  expect(Number((await info(replica, "replication")).slave_repl_offset)).toBe(setB[0]);

  await replica.call("REPLICADELAY", "APPLY", "BEFORE", Date.now() + 1000);
  await waitFor("c applied", async () => (await replica.call("GET", "c")) === "3");

  await m.pipeline([["SET", "d", "4"], ["FLUSHALL"]]);
  await waitFor("pending", async () => (await pending(replica)).commands >= 2);
  await replica.call("REPLICADELAY", "APPLY");
  await waitFor("everything applied", async () => (await replica.call("DBSIZE")) === 0);

  // DISCARD: the pending stream is forgotten and asked for again from what was applied.
  await m.pipeline([["SET", "e", "5"]]);
  await waitFor("pending", async () => (await pending(replica)).commands >= 1);
  expect(Number(await replica.call("REPLICADELAY", "DISCARD"))).toBeGreaterThanOrEqual(1);
  await waitFor("link up again", async () => (await info(replica, "replication")).master_link_status === "up");
  expect(await replica.call("GET", "e")).toBe(null);
  await waitFor("e pending again", async () => (await pending(replica)).commands >= 1);

  // CONFIG SET 0: what is pending applies now, then the stream applies as it comes, no spool.
  await replica.call("CONFIG", "SET", "replica-apply-delay", "0");
  await waitFor("e applied", async () => (await replica.call("GET", "e")) === "5");
  await waitFor("spool removed", () => !existsSync(join(replica.dir, "replica-delay-spool")));
  await m.pipeline([["SET", "f", "6"]]);
  await waitForSync(master, replica);
  expect(await replica.call("GET", "f")).toBe("6");
  expect((await info(replica, "replication")).replica_apply_delay).toBeUndefined();

  // Promotion applies what is pending first.
  await replica.call("CONFIG", "SET", "replica-apply-delay", "3600");
  await m.pipeline([["SET", "g", "7"]]);
  await waitFor("g pending", async () => (await pending(replica)).commands >= 1);
  await m.pipeline([["SET", "h", "8"]]);
  await waitFor("h pending", async () => (await pending(replica)).commands >= 2);
  await replica.call("REPLICAOF", "NO", "ONE");
  expect(await replica.call("MGET", "g", "h")).toEqual(["7", "8"]);
  expect(await digest(replica)).toBe(await digest(master));
  expect(existsSync(join(replica.dir, "replica-delay-spool"))).toBe(false);
  m.close();
}, 120000);

/** Restarts a redis-server master without its data: a new replication ID, so its replicas full-sync. */
async function restartMaster(master: ServerProcess): Promise<ServerProcess> {
  await master.call("SHUTDOWN", "NOSAVE").catch(() => {});
  await master.proc.exited;
  return track(startRedis(["--repl-ping-replica-period", "60"], { dir: master.dir, port: master.port }));
}

test("a full sync is held until due: the data stays, a FLUSHALL before it can still be dropped and the replica promoted", async () => {
  let master = await track(startRedis(["--repl-ping-replica-period", "60"]));
  const reference = await track(startRedis());
  const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port), "--replica-apply-delay", "3600"]));
  await waitForSync(master, replica);
  const m1 = await master.client();
  const load = writes(6, 300);
  await m1.pipeline(load);
  await reference.client().then(async (r) => (await r.pipeline(load), r.close()));
  await waitFor("received", async () => (await pending(replica)).commands > 300);
  await replica.call("REPLICADELAY", "APPLY");
  await waitForSync(master, replica);
  await m1.pipeline([["FLUSHALL"], ["SET", "z", "1"]]);
  await reference.call("SET", "z", "1");
  m1.close();
  await waitFor("FLUSHALL received", async () => (await pending(replica)).commands >= 2);
  master = await restartMaster(master);
  await waitFor("full sync held", async () => Number((await info(replica, "replication")).replica_apply_delay_held_sync_offset) >= 0, 30000);
  expect(existsSync(join(replica.dir, "replica-delay-spool.next", "snapshot.rdb"))).toBe(true);
  // The data held is still served; what came before the full sync is still pending.
  expect(await replica.call("EXISTS", "s:6:0")).toBe(1);
  const flush = ((await replica.call("REPLICADELAY", "LIST", -1)) as Array<[number, number, number, string[]]>).find((e) => e[3][0]!.toLowerCase() === "flushall")!;
  expect(await replica.call("REPLICADELAY", "DROP", flush[0])).toBe(1);
  // Promotion: the held full sync is dropped, the rest of the old history applies.
  await replica.call("REPLICAOF", "NO", "ONE");
  expect(await replica.call("GET", "z")).toBe("1");
  expect(await digest(replica)).toBe(await digest(reference));
  expect(existsSync(join(replica.dir, "replica-delay-spool.next"))).toBe(false);
}, 120000);

test("a held full sync loads once due (after a restart too), then its stream follows", async () => {
  let master = await track(startRedis(["--repl-ping-replica-period", "60"]));
  const args = ["--replicaof", "127.0.0.1", String(master.port), "--replica-apply-delay", "5"];
  let replica = await track(startReplicant(args));
  await waitForSync(master, replica);
  await master.client().then(async (c) => (await c.pipeline(writes(7, 200)), c.close()));
  await waitForSync(master, replica, 30000);
  master = await restartMaster(master);
  await master.client().then(async (c) => (await c.pipeline([["FLUSHALL"], ...writes(8, 100)]), c.close()));
  await waitFor("full sync held", async () => Number((await info(replica, "replication")).replica_apply_delay_held_sync_offset) >= 0, 30000);
  const heldAt = Date.now();
  expect(await replica.call("EXISTS", "s:7:0")).toBe(1);
  // A restart keeps the held full sync and what follows it.
  await replica.call("SHUTDOWN").catch(() => {});
  await replica.proc.exited;
  replica = await track(startReplicant(args, { dir: replica.dir, port: replica.port }));
  expect(Number((await info(replica, "replication")).replica_apply_delay_held_sync_offset)).toBeGreaterThanOrEqual(0);
  expect(await replica.call("EXISTS", "s:7:0")).toBe(1);
  await waitForSync(master, replica, 60000);
  expect(Date.now() - heldAt).toBeGreaterThanOrEqual(4000);
  expect(await digest(replica)).toBe(await digest(master));
  expect(Number((await info(replica, "replication")).replica_apply_delay_held_sync_offset)).toBe(-1);
  const stats = await info(master, "stats");
  expect(stats.sync_full).toBe("1");
  expect(stats.sync_partial_ok).toBe("1");
}, 120000);

test("with appendonly yes: a held full sync, once loaded, starts the AOF over; a SIGKILL restart continues from it", async () => {
  let master = await track(startRedis(["--repl-ping-replica-period", "60"]));
  const args = ["--replicaof", "127.0.0.1", String(master.port), "--replica-apply-delay", "3", "--appendonly", "yes"];
  let replica = await track(startReplicant(args));
  await waitForSync(master, replica);
  await master.client().then(async (c) => (await c.pipeline(writes(9, 200)), c.close()));
  await waitForSync(master, replica, 30000);
  master = await restartMaster(master);
  await master.client().then(async (c) => (await c.pipeline([["SELECT", 2], ...writes(10, 200)]), c.close()));
  await waitFor("full sync held", async () => Number((await info(replica, "replication")).replica_apply_delay_held_sync_offset) >= 0, 30000);
  await waitForSync(master, replica, 60000);
  expect(await digest(replica)).toBe(await digest(master));
  await waitFor("AOF rewrite after the sync", async () => (await info(replica, "persistence")).aof_rewrite_in_progress === "0");
  await master.client().then(async (c) => (await c.pipeline(writes(11, 200)), c.close()));
  await waitForSync(master, replica, 60000);
  await Bun.sleep(1200);
  replica.proc.kill("SIGKILL");
  await replica.proc.exited;
  const before = await info(master, "stats");
  replica = await track(startReplicant(args, { dir: replica.dir, port: replica.port }));
  await waitForSync(master, replica, 60000);
  expect(await digest(replica)).toBe(await digest(master));
  const after = await info(master, "stats");
  expect(after.sync_full).toBe(before.sync_full);
  expect(Number(after.sync_partial_ok)).toBe(Number(before.sync_partial_ok) + 1);
}, 120000);
