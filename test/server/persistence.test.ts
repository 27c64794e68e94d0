// Saving the dataset file as Redis 7.0 does: SAVE, BGSAVE (point-in-time while writes go on),
// save points, SHUTDOWN [SAVE|NOSAVE] and SIGTERM, LASTSAVE and INFO persistence, failed
// saves (the shutdown is refused), and restarts that keep the data. Files are checked by
// loading them in Replicant and in redis-server.

import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { RespError, type RespClient } from "../helpers/resp-client.ts";
import { freePort, info, startRedis, startReplicant, tempDir, waitFor, type ServerProcess, stopServers, tracker } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));
const track = tracker(started);

async function fill(c: RespClient, tag: string): Promise<void> {
  await c.call("SET", `${tag}:s`, "value");
  await c.call("SET", `${tag}:n`, 12345);
  await c.call("SET", `${tag}:ttl`, "x", "PX", 500_000);
  await c.call("RPUSH", `${tag}:l`, "a", "b", "c", 1, 2);
  await c.call("HSET", `${tag}:h`, "f", "v", "g", "w");
  await c.call("SADD", `${tag}:set`, 1, 2, 3);
  await c.call("SADD", `${tag}:sset`, "x", "y");
  await c.call("ZADD", `${tag}:z`, 1, "a", 2.5, "b");
  await c.call("SELECT", 2);
  await c.call("SET", `${tag}:db2`, "two");
  await c.call("SELECT", 0);
}

async function exited(s: ServerProcess, timeoutMs = 15000): Promise<number | null> {
  const t = setTimeout(() => s.proc.kill("SIGKILL"), timeoutMs);
  const code = await s.proc.exited;
  clearTimeout(t);
  return code;
}

/** Sends SHUTDOWN [args]: the connection closes without a reply when it succeeds. */
async function shutdown(s: ServerProcess, ...args: string[]): Promise<unknown> {
  return s.call("SHUTDOWN", ...args).catch((e: Error) => e.message);
}

describe("SAVE, BGSAVE and restarts", () => {
  test("SAVE writes the dataset file; a restart loads it; redis-server loads it too", async () => {
    const r1 = await track(startReplicant(["--save", ""]));
    const c = await r1.client();
    await fill(c, "a");
    const before = await snapshotDataset(c);
    const lastBefore = Number(await c.call("LASTSAVE"));
    await Bun.sleep(1100);
    expect(await c.call("SAVE")).toBe("OK");
    expect(Number(await c.call("LASTSAVE"))).toBeGreaterThan(lastBefore);
    const p = await info(r1, "persistence");
    expect(p.rdb_changes_since_last_save).toBe("0");
    expect(p.rdb_saves).toBe("1");
    expect(p.rdb_last_bgsave_status).toBe("ok");
    // The log is read from a pipe: wait for the line rather than expect it at once.
    await r1.waitForLog("DB saved on disk");
    expect(readdirSync(r1.dir).filter((f) => f.startsWith("temp-"))).toEqual([]);
    await r1.stop();
    const r2 = await track(startReplicant(["--save", ""], { dir: r1.dir }));
    expect(diffDatasets(before, await snapshotDataset(await r2.client()))).toEqual([]);
    const redisDir = tempDir("redis-persist-");
    copyFileSync(join(r1.dir, "dump.rdb"), join(redisDir, "dump.rdb"));
    const redis = await track(startRedis(["--dbfilename", "dump.rdb"], { dir: redisDir }));
    expect(diffDatasets(before, await snapshotDataset(await redis.client()))).toEqual([]);
  });

  test("BGSAVE saves the dataset as it was when it started, while writes go on", async () => {
    const r = await track(startReplicant(["--save", ""]));
    const c = await r.client();
    // About 12 MB of RDB: a dozen event-loop turns of background saving.
    const value = "v".repeat(100);
    for (let i = 0; i < 100000; i += 1000) {
      const cmd: Array<string | number> = ["MSET"];
      for (let j = i; j < i + 1000; j++) cmd.push(`key:${j}`, `${j}:${value}`);
      await c.call(...cmd);
    }
    await c.call("RPUSH", "list", "a", "b");
    // BGSAVE, then (in the same read, before any chunk is written) writes of every kind.
    const replies = await c.pipeline([
      ["BGSAVE"],
      ["SET", "key:0", "changed"],
      ["DEL", "key:99999"],
      ["SET", "created-after", "x"],
      ["RPUSH", "list", "c"],
      ["FLUSHDB"],
      ["SET", "after-flush", "y"],
      ["INFO", "persistence"],
      ["BGSAVE"],
      ["SAVE"],
    ]);
    expect(replies[0]).toBe("Background saving started");
    expect(String(replies[7])).toContain("rdb_bgsave_in_progress:1");
    expect(String(replies[7])).toContain("current_save_keys_total:100001");
    expect(replies[8]).toEqual(new RespError("ERR Background save already in progress"));
    expect(replies[9]).toEqual(new RespError("ERR Background save already in progress"));
    await waitFor("BGSAVE to finish", async () => (await info(r, "persistence")).rdb_bgsave_in_progress === "0");
    const p = await info(r, "persistence");
    expect(p.rdb_last_bgsave_status).toBe("ok");
    // Changes made during the BGSAVE are not saved: they still count.
    expect(Number(p.rdb_changes_since_last_save)).toBeGreaterThan(0);
    // The log is read from a pipe: wait for the line rather than expect it at once.
    await r.waitForLog("Background saving terminated with success");
    await r.stop();
    const r2 = await track(startReplicant(["--save", ""], { dir: r.dir }));
    const c2 = await r2.client();
    expect(await c2.call("DBSIZE")).toBe(100001);
    expect(await c2.call("GET", "key:0")).toBe(`0:${value}`);
    expect(await c2.call("GET", "key:99999")).toBe(`99999:${value}`);
    expect(await c2.call("EXISTS", "created-after", "after-flush")).toBe(0);
    expect(await c2.call("LRANGE", "list", 0, -1)).toEqual(["a", "b"]);
  }, 60000);

  test("BGSAVE inside MULTI is scheduled; bad BGSAVE arguments", async () => {
    const r = await track(startReplicant(["--save", ""]));
    const c = await r.client();
    await c.call("SET", "k", "v");
    expect(await c.call("BGSAVE", "NOW")).toEqual(new RespError("ERR syntax error"));
    expect(await c.call("MULTI")).toBe("OK");
    expect(await c.call("BGSAVE")).toBe("QUEUED");
    expect(await c.call("EXEC")).toEqual(["Background saving scheduled"]);
    await waitFor("the scheduled BGSAVE", () => r.output().includes("Background saving terminated with success"));
    expect(existsSync(join(r.dir, "dump.rdb"))).toBe(true);
    expect(await c.call("BGSAVE", "SCHEDULE")).toBe("Background saving started");
  });

  test("FLUSHALL stops a BGSAVE and, with save points, saves the empty dataset", async () => {
    const r = await track(startReplicant(["--save", "3600 1"]));
    const c = await r.client();
    await c.call("SET", "k", "v");
    expect(await c.call("SAVE")).toBe("OK");
    const replies = await c.pipeline([["BGSAVE"], ["FLUSHALL"], ["INFO", "persistence"]]);
    expect(replies[0]).toBe("Background saving started");
    expect(String(replies[2])).toContain("rdb_bgsave_in_progress:0");
    expect(String(replies[2])).toContain("rdb_changes_since_last_save:0");
    await r.stop();
    const r2 = await track(startReplicant(["--save", ""], { dir: r.dir }));
    expect(await r2.call("DBSIZE")).toBe(0);
    expect(readdirSync(r.dir).filter((f) => f.startsWith("temp-"))).toEqual([]);
  });

  test("save points trigger a BGSAVE (`<n> changes in <s> seconds. Saving...`)", async () => {
    const r = await track(startReplicant(["--save", "1 3"]));
    const c = await r.client();
    await c.call("SET", "a", 1);
    await c.call("SET", "b", 2);
    await Bun.sleep(1500);
    expect(r.output()).not.toContain("Saving...");
    await c.call("SET", "c", 3);
    await r.waitForLog("3 changes in 1 seconds. Saving...", 5000);
    await r.waitForLog("Background saving terminated with success", 5000);
    expect((await info(r, "persistence")).rdb_changes_since_last_save).toBe("0");
    expect(existsSync(join(r.dir, "dump.rdb"))).toBe(true);
  });

  test("keys that expired while the server was down: a master drops them at load, a replica keeps them", async () => {
    // redis-server writes the file (its keys expire 300 ms later); both loads happen after that.
    const redis = await track(startRedis());
    await redis.call("SET", "gone", "1", "PX", 300);
    await redis.call("SET", "kept", "1");
    await redis.call("SET", "later", "1", "EX", 3600);
    await redis.call("SAVE");
    await Bun.sleep(400);
    const asMaster = await track(startReplicant(["--save", ""], { dir: redis.dir }));
    await asMaster.waitForLog("Done loading RDB, keys loaded: 2, keys expired: 1.");
    expect((await info(asMaster, "persistence")).rdb_last_load_keys_expired).toBe("1");
    expect(Number(await asMaster.call("DBSIZE"))).toBe(2);
    await asMaster.stop();
    // A replica (of a master that is not even there) keeps the key until its master's DEL.
    const asReplica = await track(startReplicant(["--save", "", "--replicaof", "127.0.0.1", "1"], { dir: redis.dir }));
    await asReplica.waitForLog("Done loading RDB, keys loaded: 3, keys expired: 0.");
    expect(Number(await asReplica.call("DBSIZE"))).toBe(3);
    expect(await asReplica.call("GET", "gone")).toBeNull();
  });
});

describe("SHUTDOWN and signals", () => {
  test("SHUTDOWN saves when save points are configured; NOSAVE does not", async () => {
    const r = await track(startReplicant(["--save", "3600 1"]));
    const c = await r.client();
    await fill(c, "s");
    const before = await snapshotDataset(c);
    await shutdown(r);
    expect(await exited(r)).toBe(0);
    expect(r.output()).toContain("Saving the final RDB snapshot before exiting.");
    const r2 = await track(startReplicant(["--save", "3600 1"], { dir: r.dir }));
    const c2 = await r2.client();
    expect(diffDatasets(before, await snapshotDataset(c2))).toEqual([]);
    await c2.call("SET", "lost", "yes");
    await shutdown(r2, "NOSAVE");
    expect(await exited(r2)).toBe(0);
    expect(r2.output()).not.toContain("Saving the final RDB snapshot");
    const r3 = await track(startReplicant(["--save", ""], { dir: r.dir }));
    expect(await r3.call("EXISTS", "lost")).toBe(0);
  });

  test("SHUTDOWN SAVE saves without save points; plain SHUTDOWN then does not", async () => {
    const r = await track(startReplicant(["--save", ""]));
    await r.call("SET", "k", "v");
    await shutdown(r, "SAVE");
    expect(await exited(r)).toBe(0);
    expect(existsSync(join(r.dir, "dump.rdb"))).toBe(true);
    const r2 = await track(startReplicant(["--save", ""], { dir: r.dir }));
    expect(await r2.call("GET", "k")).toBe("v");
    await r2.call("SET", "k", "changed");
    await shutdown(r2);
    expect(await exited(r2)).toBe(0);
    const r3 = await track(startReplicant(["--save", ""], { dir: r.dir }));
    expect(await r3.call("GET", "k")).toBe("v");
  });

  test("SIGTERM saves when save points are configured", async () => {
    const r = await track(startReplicant(["--save", "3600 1"]));
    await r.call("SET", "sig", "term");
    r.proc.kill("SIGTERM");
    expect(await exited(r)).toBe(0);
    expect(r.output()).toContain("Received SIGTERM scheduling shutdown...");
    expect(r.output()).toContain("DB saved on disk");
    const r2 = await track(startReplicant(["--save", ""], { dir: r.dir }));
    expect(await r2.call("GET", "sig")).toBe("term");
  });

  test("a failed save: SAVE replies -ERR, SHUTDOWN is refused (the server keeps running), FORCE exits", async () => {
    const r = await track(startReplicant(["--save", "3600 1"]));
    await r.call("SET", "k", "v");
    // The temp files cannot be created: directories are in the way.
    mkdirSync(join(r.dir, `temp-${r.proc.pid}.rdb`));
    mkdirSync(join(r.dir, `temp-${r.proc.pid}-bg.rdb`));
    expect(await r.call("SAVE")).toEqual(new RespError("ERR"));
    // A failed SAVE does not change rdb_last_bgsave_status (Redis neither)...
    expect((await info(r, "persistence")).rdb_last_bgsave_status).toBe("ok");
    // ...a failed BGSAVE does, and then writes and PING are refused (stop-writes-on-bgsave-error).
    expect(await r.call("BGSAVE")).toBe("Background saving started");
    await waitFor("the failed BGSAVE", async () => (await info(r, "persistence")).rdb_last_bgsave_status === "err");
    // The log is read from a pipe: wait for the line rather than expect it at once.
    await r.waitForLog("Background saving error");
    const misconf = (await r.call("SET", "k", "w")) as RespError;
    expect(misconf.message).toStartWith("MISCONF Redis is configured to save RDB snapshots");
    expect(await r.call("PING")).toEqual(misconf);
    expect(await r.call("GET", "k")).toBe("v");
    expect(await r.call("SHUTDOWN")).toEqual(new RespError("ERR Errors trying to SHUTDOWN. Check logs."));
    // The log is read from a pipe: wait for the line rather than expect it at once.
    await r.waitForLog("Error trying to save the DB, can't exit.");
    expect(await r.call("GET", "k")).toBe("v");
    expect(await r.call("SHUTDOWN", "ABORT")).toEqual(new RespError("ERR No shutdown in progress."));
    expect(await r.call("SHUTDOWN", "SAVE", "NOSAVE")).toEqual(new RespError("ERR syntax error"));
    await shutdown(r, "FORCE");
    expect(await exited(r)).toBe(0);
    expect(r.output()).toContain("Error trying to save the DB. Exit anyway.");
  });

  test("stop-writes-on-bgsave-error no, or no save points: writes go on after a failed BGSAVE", async () => {
    const r = await track(startReplicant(["--save", "3600 1", "--stop-writes-on-bgsave-error", "no"]));
    mkdirSync(join(r.dir, `temp-${r.proc.pid}-bg.rdb`));
    expect(await r.call("BGSAVE")).toBe("Background saving started");
    await waitFor("the failed BGSAVE", async () => (await info(r, "persistence")).rdb_last_bgsave_status === "err");
    expect(await r.call("SET", "k", "v")).toBe("OK");
    expect(await r.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes")).toBe("OK");
    expect(String(await r.call("SET", "k", "v"))).toStartWith("MISCONF");
    expect(await r.call("CONFIG", "SET", "save", "")).toBe("OK");
    expect(await r.call("SET", "k", "v")).toBe("OK");
  });
});

describe("replication info in the RDB", () => {
  test("a master with a backlog stores repl-id / repl-offset / repl-stream-db", async () => {
    const m = await track(startReplicant(["--save", ""]));
    const replica = await track(startRedis(["--replicaof", "127.0.0.1", String(m.port)]));
    await waitFor("replica online", async () => (await info(m, "replication")).connected_slaves === "1");
    const c = await m.client();
    await c.call("SELECT", 5);
    await c.call("SET", "x", "1");
    const before = await info(m, "replication");
    expect(await c.call("SAVE")).toBe("OK");
    const after = await info(m, "replication");
    const check = Bun.spawn(["redis-check-rdb", join(m.dir, "dump.rdb")], { stdout: "pipe" });
    const out = await new Response(check.stdout).text();
    expect(out).toContain(`AUX FIELD repl-id = '${after.master_replid}'`);
    // The offset at the time of the save (PINGs to the replica may move it meanwhile).
    const offset = Number(/AUX FIELD repl-offset = '(\d+)'/.exec(out)?.[1]);
    expect(offset).toBeGreaterThanOrEqual(Number(before.master_repl_offset));
    expect(offset).toBeLessThanOrEqual(Number(after.master_repl_offset));
    expect(out).toContain("AUX FIELD repl-stream-db = '5'");
    await replica.stop();
  });
});

describe("a dataset file that cannot be loaded at start-up", () => {
  /** Runs the binary on `dir` with `file` as dbfilename until it exits; returns its code and output. */
  async function startOn(dir: string, file: string): Promise<{ code: number; out: string }> {
    const bin = process.env.REPLICANT_BIN ?? "dist/replicant";
    const p = Bun.spawn([bin, "--port", String(freePort()), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--dbfilename", file], { stdout: "pipe", stderr: "pipe" });
    const code = await p.exited;
    return { code, out: (await new Response(p.stdout).text()) + (await new Response(p.stderr).text()) };
  }

  test("a bad checksum and a short file stop the start with Redis's words (RDB CRC error, Short read)", async () => {
    const s = await track(startReplicant(["--save", ""]));
    await s.call("SET", "a", "b");
    await s.call("SAVE");
    const good = await Bun.file(join(s.dir, "dump.rdb")).bytes();
    await s.stop();
    const dir = tempDir();
    const crc = Buffer.from(good);
    crc.write("foobar00", crc.length - 8, "latin1");
    await Bun.write(join(dir, "crc.rdb"), crc);
    await Bun.write(join(dir, "short.rdb"), good.subarray(0, good.length - 20));
    const a = await startOn(dir, "crc.rdb");
    expect(a.code).toBe(1);
    expect(a.out).toContain("RDB CRC error");
    expect(a.out).toContain("Terminating server after rdb file reading failure.");
    const b = await startOn(dir, "short.rdb");
    expect(b.code).toBe(1);
    expect(b.out).toContain("Short read or OOM loading DB. Unrecoverable error, aborting now.");
  });
});
