// SHUTDOWN waits for lagging replicas (Redis 7.0's shutdown-timeout): a Replicant master with a
// real redis-server replica, the replica frozen with SIGSTOP so its acknowledged offset stays
// behind. The master pauses writes, blocks the SHUTDOWN client, and exits once the replica
// caught up or the timeout passed, logging the lagging replica as Redis does. SHUTDOWN ABORT
// cancels the wait; SHUTDOWN NOW and shutdown-timeout 0 do not wait; SIGTERM waits too, and a
// second SIGINT exits at once.

import { afterEach, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { info, startRedis, startReplicant, waitFor, type ServerProcess, stopServers } from "../helpers/servers.ts";
import { RespError, type RespClient } from "../helpers/resp-client.ts";

let started: ServerProcess[] = [];

afterEach(async () => {
  for (const s of started) s.proc.kill("SIGCONT");
  await stopServers(started);
  started = [];
});

/** REPLCONF GETACK * as the stream carries it. */
const GETACK_BYTES = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n".length;

/** A master (Replicant unless asked) with one redis-server replica, in sync and acknowledged. */
async function masterWithReplica(masterArgs: string[], kind: "replicant" | "redis" = "replicant"): Promise<{ master: ServerProcess; replica: ServerProcess }> {
  const master = kind === "replicant" ? await startReplicant(["--save", "", "--repl-diskless-sync-delay", "0", ...masterArgs]) : await startRedis(masterArgs);
  started.push(master);
  const replica = await startRedis(["--replicaof", "127.0.0.1", String(master.port)]);
  started.push(replica);
  expect(await master.call("SET", "before", "1")).toBe("OK");
  await waitFor("the replica to acknowledge the master's whole stream", async () => {
    const m = await info(master, "replication");
    return m.slave0?.includes("state=online") && m.slave0.includes(`offset=${m.master_repl_offset},`);
  });
  return { master, replica };
}

/** Freezes the replica and writes to the master: the replica's ack offset stays behind. */
async function lagReplica(master: ServerProcess, replica: ServerProcess): Promise<number> {
  replica.proc.kill("SIGSTOP");
  expect(await master.call("SET", "lagging", "x")).toBe("OK");
  const m = await info(master, "replication");
  const acked = Number(/offset=(\d+)/.exec(m.slave0!)![1]);
  return Number(m.master_repl_offset) - acked;
}

async function exited(s: ServerProcess, withinMs: number): Promise<number | null> {
  return Promise.race([s.proc.exited, Bun.sleep(withinMs).then(() => null)]);
}

/** Sends SHUTDOWN on its own connection; resolves with the reply, or "closed". */
function shutdownOn(c: RespClient, ...args: string[]): Promise<unknown> {
  return c.call("SHUTDOWN", ...args).then(
    (v) => v,
    () => "closed",
  );
}

for (const kind of ["replicant", "redis"] as const) {
  test(`a frozen replica: SHUTDOWN waits shutdown-timeout with writes paused, logs the lagging replica, then exits (${kind} master)`, async () => {
    const { master, replica } = await masterWithReplica(["--shutdown-timeout", "2"], kind);
    const behind = await lagReplica(master, replica);
    const c = await master.client();
    const started = Date.now();
    const reply = shutdownOn(c);
    await master.waitForLog("Waiting for replicas before shutting down.");
    // Reads are served, writes wait; the SHUTDOWN client is blocked (INFO blocked_clients).
    const other = await master.client();
    expect(await other.call("GET", "before")).toBe("1");
    const clients = await info(master, "clients");
    expect(clients.blocked_clients).toBe("1");
    let writeAnswered = false;
    void other.call("SET", "during", "1").then(() => (writeAnswered = true), () => {});
    expect(await exited(master, 1000)).toBeNull();
    expect(writeAnswered).toBe(false);
    expect(await exited(master, 5000)).toBe(0);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(4500);
    expect(await reply).toBe("closed");
    expect(writeAnswered).toBe(false);
    const log = master.output();
    // The offset behind includes the GETACK sent when the wait began.
    expect(log).toMatch(new RegExp(`Lagging replica 127\\.0\\.0\\.1:${replica.port} reported offset ${behind + GETACK_BYTES} behind master, lag=\\d+, state=online\\.`));
    expect(log).toContain("0 of 1 replicas are in sync when shutting down.");
    expect(log.indexOf("User requested shutdown...")).toBeLessThan(log.indexOf("Waiting for replicas before shutting down."));
  }, 30000);
}

test("the replica resumes before the timeout: the master exits as soon as it caught up", async () => {
  const { master, replica } = await masterWithReplica(["--shutdown-timeout", "20"]);
  await lagReplica(master, replica);
  const c = await master.client();
  const reply = shutdownOn(c);
  await master.waitForLog("Waiting for replicas before shutting down.");
  expect(await exited(master, 800)).toBeNull();
  const resumed = Date.now();
  replica.proc.kill("SIGCONT");
  expect(await exited(master, 5000)).toBe(0);
  expect(Date.now() - resumed).toBeLessThan(3000);
  expect(await reply).toBe("closed");
  const log = master.output();
  expect(log).not.toContain("Lagging replica");
  expect(log).toContain("1 of 1 replicas are in sync when shutting down.");
  // The replica got everything, the write made while it was frozen included.
  expect(await replica.call("GET", "lagging")).toBe("x");
}, 30000);

for (const kind of ["replicant", "redis"] as const) {
  test(`SHUTDOWN ABORT during the wait: the blocked clients get an error, paused writes run, the server goes on (${kind} master)`, async () => {
    const { master, replica } = await masterWithReplica(["--shutdown-timeout", "20"], kind);
    await lagReplica(master, replica);
    const c1 = await master.client();
    const c2 = await master.client();
    const first = shutdownOn(c1);
    await master.waitForLog("Waiting for replicas before shutting down.");
    // A second SHUTDOWN, NOW or not, joins the shutdown under way (as Redis's prepareForShutdown).
    const second = shutdownOn(c2, "NOW");
    const writer = await master.client();
    const write = writer.call("SET", "paused", "1");
    // Blocked: both SHUTDOWN clients and the postponed write.
    await waitFor("three clients blocked", async () => (await info(master, "clients")).blocked_clients === "3");
    expect(await master.call("SHUTDOWN", "ABORT")).toBe("OK");
    const blockedError = new RespError("ERR Errors trying to SHUTDOWN. Check logs.");
    expect(await first).toEqual(blockedError);
    expect(await second).toEqual(blockedError);
    expect(await write).toBe("OK");
    expect(await master.call("SHUTDOWN", "ABORT")).toEqual(new RespError("ERR No shutdown in progress."));
    // The unblocked clients go on, the server too. (redis-server 7.0.15 itself fails an
    // assertion on the next command of an unblocked SHUTDOWN client: not asked of it here.)
    if (kind === "replicant") expect(await c1.call("PING")).toBe("PONG");
    expect(await master.call("GET", "paused")).toBe("1");
    expect(master.output()).toContain("Shutdown manually aborted.");
    expect(master.output()).not.toContain("replicas are in sync when shutting down");
    expect(master.proc.exitCode).toBeNull();
    // The error replies were counted (errorstat); Redis counts the ABORT that made them a
    // failed call, as the second ABORT.
    const stats = await info(master, "everything");
    expect(stats.errorstat_ERR).toBe("count=3");
    expect(stats.cmdstat_shutdown).toContain("calls=4,");
    expect(stats.cmdstat_shutdown).toContain("rejected_calls=0,failed_calls=2");
  }, 30000);
}

test("the final save fails after the wait: the blocked client gets an error, writes resume, the server goes on", async () => {
  const { master, replica } = await masterWithReplica(["--shutdown-timeout", "1"]);
  // The save's temp file can not be created: a directory holds its name.
  mkdirSync(join(master.dir, `temp-${master.proc.pid}.rdb`));
  await lagReplica(master, replica);
  const c = await master.client();
  const reply = shutdownOn(c, "SAVE");
  await master.waitForLog("Waiting for replicas before shutting down.");
  const write = (await master.client()).call("SET", "paused", "1");
  expect(await reply).toEqual(new RespError("ERR Errors trying to SHUTDOWN. Check logs."));
  expect(await write).toBe("OK");
  const log = master.output();
  expect(log).toContain("0 of 1 replicas are in sync when shutting down.");
  expect(log).toContain("Error trying to save the DB, can't exit.");
  expect(master.proc.exitCode).toBeNull();
  expect(await c.call("PING")).toBe("PONG");
  // No command was running when the error was sent: SHUTDOWN did not fail.
  const stats = await info(master, "everything");
  expect(stats.cmdstat_shutdown).toContain("failed_calls=0");
  expect(stats.errorstat_ERR).toBe("count=1");
}, 30000);

test("SHUTDOWN NOW and shutdown-timeout 0 do not wait for a lagging replica", async () => {
  const a = await masterWithReplica(["--shutdown-timeout", "20"]);
  await lagReplica(a.master, a.replica);
  const reply = shutdownOn(await a.master.client(), "NOW");
  expect(await exited(a.master, 3000)).toBe(0);
  expect(await reply).toBe("closed");
  expect(a.master.output()).not.toContain("Waiting for replicas");
  expect(a.master.output()).toContain("Lagging replica");

  const b = await masterWithReplica(["--shutdown-timeout", "0"]);
  await lagReplica(b.master, b.replica);
  void shutdownOn(await b.master.client());
  expect(await exited(b.master, 3000)).toBe(0);
  expect(b.master.output()).not.toContain("Waiting for replicas");
}, 30000);

test("SIGTERM waits for the lagging replica too; a second SIGINT exits at once with status 1", async () => {
  const { master, replica } = await masterWithReplica(["--shutdown-timeout", "20"]);
  await lagReplica(master, replica);
  master.proc.kill("SIGTERM");
  await master.waitForLog("Waiting for replicas before shutting down.");
  expect(await exited(master, 500)).toBeNull();
  master.proc.kill("SIGINT");
  expect(await exited(master, 3000)).toBe(1);
  expect(master.output()).toContain("You insist... exiting now.");
}, 30000);

test("SHUTDOWN ABORT without a shutdown under way, as redis-server", async () => {
  const redis = await startRedis([]);
  started.push(redis);
  const replicant = await startReplicant([]);
  started.push(replicant);
  for (const s of [redis, replicant]) {
    expect(await s.call("SHUTDOWN", "ABORT")).toEqual(new RespError("ERR No shutdown in progress."));
    expect(await s.call("SHUTDOWN", "ABORT", "NOW")).toEqual(new RespError("ERR syntax error"));
  }
}, 30000);
