// appendonly yes (dataset/aof.ts): Redis 7.0's multi-part AOF, written from the replication
// stream. Checked against redis-server 7.0.15 both ways (it loads what we write, we load what it
// writes: the same DEBUG DIGEST), across kill -9 and clean restarts, with BGREWRITEAOF, CONFIG
// SET appendonly, a torn last command, and, on top of Redis, a replica restarted from its AOF
// that continues with a partial resync.

import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RespClient } from "../helpers/resp-client.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { info, removeDir, replicantCommand, type ServerProcess, startRedis, startReplicant, stopServers, tempDir, tracker, waitFor, waitForSync } from "../helpers/servers.ts";

const DEBUG = ["--enable-debug-command", "yes"];
const AOF = [...DEBUG, "--appendonly", "yes"];
const started: ServerProcess[] = [];
const track = tracker(started);
afterAll(() => stopServers(started));

function aofDir(s: { dir: string }): string {
  return join(s.dir, "appendonlydir");
}
function files(dir: string): string[] {
  return existsSync(join(dir, "appendonlydir")) ? readdirSync(join(dir, "appendonlydir")).sort() : [];
}
function manifest(dir: string): string {
  return readFileSync(join(dir, "appendonlydir", "appendonly.aof.manifest"), "latin1");
}

/** Writes of every kind, in several dbs, a MULTI block, TTLs. */
async function workload(c: RespClient, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    await c.call("SELECT", String(i % 3));
    await c.call("SET", `s:${tag}:${i}`, `v${i}`);
    await c.call("INCR", "counter");
    await c.call("RPUSH", `l:${i % 7}`, `${tag}${i}`);
    await c.call("HSET", `h:${i % 5}`, `f${i}`, String(i));
    await c.call("ZADD", "z", String(i / 3), `${tag}m${i}`);
    if (i % 10 === 0) {
      await c.call("MULTI");
      await c.call("INCRBY", "counter", "100");
      await c.call("SADD", "set", `${tag}${i}`);
      await c.call("EXEC");
    }
    if (i % 13 === 0) await c.call("SET", `ttl:${tag}:${i}`, "x", "EX", "100000");
    if (i % 17 === 0) await c.call("DEL", `s:${tag}:${i - 1}`);
  }
  await c.call("SELECT", "0");
}

/** A redis-server 7.0.15 started on a copy of `dir`'s AOF: its digest. */
async function redisDigestOf(dir: string): Promise<unknown> {
  const copy = tempDir("aof-copy-");
  Bun.spawnSync(["cp", "-r", join(dir, "appendonlydir"), copy]);
  const r = await startRedis([...AOF], { dir: copy });
  try {
    return await r.call("DEBUG", "DIGEST");
  } finally {
    await r.stop();
    removeDir(copy);
  }
}

describe("a standalone Replicant with appendonly yes", () => {
  test("writes Redis 7.0's layout; kill -9 and restart bring the data back; redis-server 7.0.15 loads it", async () => {
    const dir = tempDir("aof-standalone-");
    let s = await track(startReplicant(AOF, { dir }));
    expect(files(dir)).toEqual(["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]);
    // No replica, no backlog: no replication history to record, the manifest is redis-server's.
    expect(manifest(dir)).toBe("file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
    const c = await s.client();
    await workload(c, 150, "a");
    const digest = await c.call("DEBUG", "DIGEST");
    const p = await info(s, "persistence");
    expect(p.aof_enabled).toBe("1");
    expect(p.aof_last_write_status).toBe("ok");
    expect(Number(p.aof_current_size)).toBe(statSync(join(aofDir(s), "appendonly.aof.1.incr.aof")).size + statSync(join(aofDir(s), "appendonly.aof.1.base.rdb")).size);
    expect(p.aof_buffer_length).toBe("0");
    await s.stop("SIGKILL");
    s = await track(startReplicant(AOF, { dir }));
    expect(await s.call("DEBUG", "DIGEST")).toEqual(digest);
    // The last incr file is appended to, as redis-server does (aofOpenIfNeededOnServerStart).
    expect(files(dir)).toEqual(["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]);
    expect(manifest(dir)).toBe("file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
    await workload(await s.client(), 20, "b");
    const digest2 = await s.call("DEBUG", "DIGEST");
    await s.stop("SIGKILL");
    expect(await redisDigestOf(dir)).toEqual(digest2);
  }, 120_000);

  test("BGREWRITEAOF while on: a new base and incr, history removed; both servers load it (RDB and command bases)", async () => {
    for (const preamble of ["yes", "no"]) {
      const dir = tempDir("aof-rewrite-");
      const s = await track(startReplicant([...AOF, "--aof-use-rdb-preamble", preamble], { dir }));
      const c = await s.client();
      await workload(c, 60, "a");
      expect(await c.call("BGREWRITEAOF")).toBe("Background append only file rewriting started");
      // Writes while the rewrite runs go to the new incr file.
      await workload(c, 30, "b");
      await waitFor("the rewrite", async () => (await info(s, "persistence")).aof_rewrite_in_progress === "0");
      const ext = preamble === "yes" ? "rdb" : "aof";
      expect(files(dir)).toEqual([`appendonly.aof.2.base.${ext}`, "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]);
      // The stream had db 2 selected at the rewrite's start: the new incr file begins with SELECT 2 (23 bytes).
      expect(manifest(dir)).toBe(`file appendonly.aof.2.base.${ext} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n`);
      expect(readFileSync(join(dir, "appendonlydir", "appendonly.aof.2.incr.aof"), "latin1").startsWith("*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n")).toBe(true);
      await workload(c, 10, "c");
      const digest = await c.call("DEBUG", "DIGEST");
      const p = await info(s, "persistence");
      expect(p.aof_rewrites).toBe("1");
      expect(p.aof_last_bgrewrite_status).toBe("ok");
      await s.stop("SIGKILL");
      expect(await redisDigestOf(dir)).toEqual(digest);
      const again = await track(startReplicant(AOF, { dir }));
      expect(await again.call("DEBUG", "DIGEST")).toEqual(digest);
      await again.stop();
    }
  }, 120_000);

  test("aof-disable-auto-gc yes: the replaced files stay, named as history (type h), as redis-server 7.0.15 keeps them", async () => {
    const listings = [];
    for (const start of [startRedis, startReplicant]) {
      const dir = tempDir("aof-gc-");
      const s = await track(start([...AOF, "--aof-disable-auto-gc", "yes"], { dir }));
      const c = await s.client();
      await c.call("SET", "a", "1");
      await c.call("BGREWRITEAOF");
      await waitFor("the rewrite", async () => {
        // One INFO: with two, the cron could start the rewrite between them.
        const p = await info(s, "persistence");
        return p.aof_rewrite_in_progress === "0" && p.aof_rewrites === "1";
      });
      await c.call("SET", "b", "2");
      listings.push({ files: files(dir), manifest: manifest(dir).replace(/ startoffset.*$/gm, "") });
    }
    expect(listings[1]).toEqual(listings[0]!);
    expect(listings[0]!.manifest).toContain("type h");
  }, 120_000);

  test("turned off and on, rewritten while off, the gc off and on again, DEBUG LOADAOF: the manifests are redis-server 7.0.15's", async () => {
    const runs: string[][] = [];
    for (const start of [startRedis, startReplicant]) {
      const dir = tempDir("aof-seq-");
      const s = await track(start([...DEBUG, "--appendonly", "no", "--auto-aof-rewrite-percentage", "0"], { dir }));
      const c = await s.client();
      const rewritten = async () => waitFor("the rewrite", async () => {
        const p = await info(s, "persistence");
        return p.aof_rewrite_in_progress === "0" && p.aof_rewrite_scheduled === "0";
      });
      const seen: string[] = [];
      // (The files: at the end, Redis deletes history files in a background thread.)
      const snap = () => seen.push(manifest(dir));
      await c.call("CONFIG", "SET", "appendonly", "yes");
      await rewritten();
      await c.call("SET", "a", "1");
      snap();
      await c.call("BGREWRITEAOF");
      await rewritten();
      snap();
      // Rewritten while off: a base alone; on again, the incr numbering goes on.
      await c.call("CONFIG", "SET", "appendonly", "no");
      await c.call("BGREWRITEAOF");
      await rewritten();
      snap();
      await c.call("CONFIG", "SET", "appendonly", "yes");
      await rewritten();
      snap();
      await c.call("CONFIG", "SET", "aof-disable-auto-gc", "yes");
      for (let i = 0; i < 2; i++) {
        await c.call("BGREWRITEAOF");
        await rewritten();
      }
      snap();
      // The history goes as soon as the gc is back on (updateAofAutoGCEnabled).
      await c.call("CONFIG", "SET", "aof-disable-auto-gc", "no");
      snap();
      await c.call("DEBUG", "LOADAOF");
      await c.call("BGREWRITEAOF");
      await rewritten();
      snap();
      // Off, a rewrite (a base alone on disk), DEBUG LOADAOF (the manifest read again): the incr files start at 1.
      await c.call("CONFIG", "SET", "appendonly", "no");
      await c.call("BGREWRITEAOF");
      await rewritten();
      await c.call("DEBUG", "LOADAOF");
      await c.call("CONFIG", "SET", "appendonly", "yes");
      await rewritten();
      snap();
      await Bun.sleep(300);
      seen.push(files(dir).join(","));
      runs.push(seen);
      await s.stop();
    }
    expect(runs[1]).toEqual(runs[0]!);
  }, 120_000);

  test("an AOF written by redis-server 7.0.15 (base, rewrite, incr files) loads with the same digest", async () => {
    const dir = tempDir("aof-from-redis-");
    const r = await track(startRedis(AOF, { dir }));
    const c = await r.client();
    await workload(c, 60, "a");
    await c.call("BGREWRITEAOF");
    await waitFor("the rewrite", async () => (await info(r, "persistence")).aof_rewrite_in_progress === "0");
    await workload(c, 40, "b");
    const digest = await c.call("DEBUG", "DIGEST");
    await r.stop("SIGKILL");
    const s = await track(startReplicant(AOF, { dir }));
    expect(await s.call("DEBUG", "DIGEST")).toEqual(digest);
    // Redis's last incr file is appended to, the manifest unchanged (as redis-server would).
    const before = manifest(dir);
    await s.call("SET", "after", "1");
    const digest2 = await s.call("DEBUG", "DIGEST");
    expect(manifest(dir)).toBe(before);
    await s.stop("SIGKILL");
    expect(await redisDigestOf(dir)).toEqual(digest2);
  }, 120_000);

  test("a torn last command is cut off (aof-load-truncated yes), or stops the start (no)", async () => {
    const dir = tempDir("aof-torn-");
    let s = await track(startReplicant(AOF, { dir }));
    await workload(await s.client(), 20, "a");
    const digest = await s.call("DEBUG", "DIGEST");
    await s.stop("SIGKILL");
    const incr = join(dir, "appendonlydir", "appendonly.aof.1.incr.aof");
    const size = statSync(incr).size;
    appendFileSync(incr, "*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$5\r\nval");
    const refused = Bun.spawnSync([...replicantCommand(), "--port", "0", "--dir", dir, "--unixsocket", join(dir, "s.sock"), ...AOF, "--aof-load-truncated", "no"], { stdout: "pipe", stderr: "pipe", timeout: 20000 });
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout.toString()).toContain("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof");
    s = await track(startReplicant(AOF, { dir }));
    expect(await s.call("DEBUG", "DIGEST")).toEqual(digest);
    expect(await s.call("EXISTS", "torn")).toBe(0);
    expect(s.output()).toContain(`!!! Truncating the AOF appendonly.aof.1.incr.aof at offset ${size} !!!`);
    expect(statSync(incr).size).toBe(size);
    await s.stop();
  }, 120_000);

  test("a torn incr file without our keys (as Redis's suite makes them): cut, appended to, and whole at the next start", async () => {
    const dir = tempDir("aof-torn-keyless-");
    const incr = join(dir, "appendonlydir", "appendonly.aof.1.incr.aof");
    mkdirSync(join(dir, "appendonlydir"));
    const cmd = "*2\r\n$4\r\nINCR\r\n$3\r\nfoo\r\n";
    writeFileSync(incr, cmd.repeat(5) + cmd.slice(0, -1));
    writeFileSync(join(dir, "appendonlydir", "appendonly.aof.manifest"), "file appendonly.aof.1.incr.aof seq 1 type i\n");
    let s = await track(startReplicant(AOF, { dir }));
    expect(await s.call("GET", "foo")).toBe("5");
    expect(await s.call("INCR", "foo")).toBe(6);
    await s.stop("SIGKILL");
    // One incr file still (a new one per start would leave the torn one in the middle).
    expect(files(dir)).toEqual(["appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]);
    expect(manifest(dir)).toBe("file appendonly.aof.1.incr.aof seq 1 type i\n");
    s = await track(startReplicant([...AOF, "--aof-load-truncated", "no"], { dir }));
    expect(await s.call("GET", "foo")).toBe("6");
    await s.stop();
  }, 120_000);

  test("timestamp annotations (#TS: lines of aof-timestamp-enabled) are skipped when loading; an inline command is a bad format", async () => {
    const dir = tempDir("aof-annotated-");
    mkdirSync(join(dir, "appendonlydir"));
    const set = (k: string, v: string) => `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
    const incr = join(dir, "appendonlydir", "appendonly.aof.1.incr.aof");
    writeFileSync(incr, `#TS:1628217470\r\n${set("foo1", "bar1")}#TS:1628217471\r\n${set("foo2", "bar2")}#TS:1628217472\r\n#TS:1628217473\r\n${set("foo3", "bar3")}#TS:1628217474\r\n`);
    writeFileSync(join(dir, "appendonlydir", "appendonly.aof.manifest"), "file appendonly.aof.1.incr.aof seq 1 type i\n");
    const s = await track(startReplicant([...AOF, "--aof-load-truncated", "no"], { dir }));
    expect(await s.call("MGET", "foo1", "foo2", "foo3")).toEqual(["bar1", "bar2", "bar3"]);
    await s.stop();
    // redis-server's loader takes multibulks only.
    writeFileSync(incr, `${set("a", "1")}SET b 2\r\n`);
    const refused = Bun.spawnSync([...replicantCommand(), "--port", "0", "--dir", dir, "--unixsocket", join(dir, "s.sock"), ...AOF], { stdout: "pipe", stderr: "pipe", timeout: 20000 });
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout.toString()).toContain("Bad file format reading the append only file appendonly.aof.1.incr.aof");
  }, 120_000);

  test("a single-file AOF of a Redis before 7.0 (commands, or an RDB preamble and commands) becomes the base, as redis-server 7.0.15 upgrades it", async () => {
    const tail = "*3\r\n$3\r\nSET\r\n$2\r\nk3\r\n$2\r\nv3\r\n";
    // The RDB preamble: an RDB of redis-server 7.0.15 holding k1 and k2.
    const rdbDir = tempDir("aof-old-rdb-");
    const r = await track(startRedis([], { dir: rdbDir }));
    await r.call("SET", "k1", "v1");
    await r.call("SET", "k2", "v2");
    await r.call("SAVE");
    const rdb = readFileSync(join(rdbDir, "dump.rdb"));
    await r.stop();
    const sets = "*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n*3\r\n$3\r\nSET\r\n$2\r\nk2\r\n$2\r\nv2\r\n";
    for (const old of [Buffer.from(sets + tail), Buffer.concat([rdb, Buffer.from(tail)])]) {
      const dir = tempDir("aof-old-");
      writeFileSync(join(dir, "appendonly.aof"), old);
      const s = await track(startReplicant(AOF, { dir }));
      expect(await s.call("MGET", "k1", "k2", "k3")).toEqual(["v1", "v2", "v3"]);
      expect(existsSync(join(dir, "appendonly.aof"))).toBe(false);
      expect(files(dir)).toEqual(["appendonly.aof", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]);
      expect(manifest(dir)).toBe("file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
      expect(s.output()).toContain("Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir).");
      await s.call("SET", "k4", "v4");
      const digest = await s.call("DEBUG", "DIGEST");
      await s.stop("SIGKILL");
      expect(await redisDigestOf(dir)).toEqual(digest);
    }
  }, 120_000);

  test("appendfsync always: every acknowledged write survives kill -9", async () => {
    const dir = tempDir("aof-always-");
    let s = await track(startReplicant([...AOF, "--appendfsync", "always"], { dir }));
    const c = await s.client();
    // Pipelined: the replies come after the writes reached the file.
    const replies = await Promise.all(Array.from({ length: 2000 }, (_, i) => c.call("SET", `k${i}`, String(i))));
    expect(replies.every((r) => r === "OK")).toBe(true);
    await s.stop("SIGKILL");
    s = await track(startReplicant(AOF, { dir }));
    expect(await s.call("DBSIZE")).toBe(2000);
    expect(await s.call("GET", "k1999")).toBe("1999");
    await s.stop();
  }, 120_000);

  test("CONFIG SET appendonly yes writes a base by a rewrite first; no stops writing", async () => {
    const dir = tempDir("aof-config-set-");
    const s = await track(startReplicant(DEBUG, { dir }));
    const c = await s.client();
    await workload(c, 30, "a");
    expect((await info(s, "persistence")).aof_enabled).toBe("0");
    expect(await c.call("CONFIG", "SET", "appendonly", "yes")).toBe("OK");
    await waitFor("the first rewrite", async () => files(dir).includes("appendonly.aof.1.base.rdb") && (await info(s, "persistence")).aof_rewrite_in_progress === "0");
    expect(files(dir)).toEqual(["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]);
    await workload(c, 10, "b");
    const digest = await c.call("DEBUG", "DIGEST");
    expect(await redisDigestOf(dir)).toEqual(digest);
    expect(await c.call("CONFIG", "SET", "appendonly", "no")).toBe("OK");
    // Turned on inside EXEC: the rewrite is scheduled after the transaction, as Redis does; each
    // write of the transaction is in the base or in the incr file, once.
    await c.call("MULTI");
    await c.call("INCR", "in-exec");
    await c.call("CONFIG", "SET", "appendonly", "yes");
    await c.call("INCR", "in-exec");
    expect(await c.call("EXEC")).toEqual([1, "OK", 2]);
    await waitFor("the rewrite", async () => {
      // One INFO: with two, the cron could start the scheduled rewrite between them.
      const p = await info(s, "persistence");
      return p.aof_rewrite_in_progress === "0" && p.aof_rewrite_scheduled === "0";
    });
    expect(await redisDigestOf(dir)).toEqual(await c.call("DEBUG", "DIGEST"));
    expect(s.output()).toContain("AOF was enabled during a transaction");
    expect(await c.call("CONFIG", "SET", "appendonly", "no")).toBe("OK");
    const incr = join(dir, "appendonlydir", files(dir).filter((f) => f.endsWith(".incr.aof")).pop()!);
    const size = statSync(incr).size;
    await c.call("SET", "after", "off");
    expect(statSync(incr).size).toBe(size);
    expect((await info(s, "persistence")).aof_enabled).toBe("0");
    await s.stop();
  }, 120_000);

  test("DEBUG LOADAOF empties the dataset and loads it back from the AOF (as redis-server 7.0.15 does)", async () => {
    const servers = [await track(startRedis(DEBUG)), await track(startReplicant(DEBUG))];
    const replies = [];
    for (const s of servers) {
      const c = await s.client();
      const out: unknown[] = [];
      await c.call("CONFIG", "SET", "appendonly", "yes");
      await waitFor("the first rewrite", async () => (await info(s, "persistence")).aof_rewrite_in_progress === "0");
      await c.call("SET", "foo", "bar", "EX", "100");
      await c.call("SET", "foo", "bar2", "KEEPTTL");
      await c.call("SELECT", "2");
      await c.call("RPUSH", "l", "a", "b");
      const digest = await c.call("DEBUG", "DIGEST");
      out.push(await c.call("DEBUG", "LOADAOF"));
      out.push(await c.call("DEBUG", "DIGEST") === digest, await c.call("LRANGE", "l", "0", "-1"));
      await c.call("SELECT", "0");
      out.push(await c.call("GET", "foo"), Number(await c.call("TTL", "foo")) > 90, (await info(s, "persistence")).rdb_changes_since_last_save);
      // Not propagated: written to the AOF being loaded, the loader would read it and load again.
      await c.call("SET", "after", "1");
      const incr = readdirSync(aofDir(s)).filter((f) => f.endsWith(".incr.aof")).map((f) => readFileSync(join(aofDir(s), f), "latin1").toLowerCase());
      out.push(incr.some((t) => t.includes("loadaof")), incr.some((t) => t.includes("after")));
      replies.push(out);
    }
    expect(replies[1]).toEqual(replies[0]!);
    expect(replies[0]).toEqual(["OK", true, ["a", "b"], "bar2", true, "0", false, true]);
    // Without an AOF redis-server exits; ours answers an error.
    const bare = await track(startReplicant(DEBUG));
    expect(String(await bare.call("DEBUG", "LOADAOF"))).toContain("DEBUG LOADAOF needs an append only file");
  }, 120_000);

  test("INFO persistence has redis-server 7.0.15's aof_* fields, in its order, on and off", async () => {
    for (const on of ["yes", "no"]) {
      const [r, s] = [await track(startRedis(["--appendonly", on])), await track(startReplicant(["--appendonly", on]))];
      const names = async (x: ServerProcess) => Object.keys(await info(x, "persistence")).filter((k) => k.startsWith("aof_"));
      expect({ on, names: await names(s) }).toEqual({ on, names: await names(r) });
      const [ri, si] = [await info(r, "persistence"), await info(s, "persistence")];
      for (const k of ["aof_enabled", "aof_rewrite_in_progress", "aof_last_write_status", "aof_pending_rewrite", "aof_buffer_length"]) expect({ k, v: si[k] }).toEqual({ k, v: ri[k] });
    }
  }, 120_000);

  test("SHUTDOWN while the first AOF is being written fails (FORCE exits), as redis-server 7.0.15", async () => {
    const replies = [];
    for (const start of [startRedis, startReplicant]) {
      const s = await track(start(DEBUG));
      await s.call("DEBUG", "POPULATE", "20000");
      // In one write: the rewrite is running when SHUTDOWN comes.
      const raw = await RawClient.connect(s.port);
      replies.push(await raw.pipeline([["CONFIG", "SET", "appendonly", "yes"], ["SHUTDOWN"]]));
      raw.close();
      await s.waitForLog("Writing initial AOF, can't exit.");
      await waitFor("the rewrite", async () => (await info(s, "persistence")).aof_rewrite_in_progress === "0");
      await s.call("CONFIG", "SET", "appendonly", "no");
      const again = await RawClient.connect(s.port);
      await again.pipeline([["CONFIG", "SET", "appendonly", "yes"], ["SHUTDOWN", "FORCE"]]);
      await waitFor("the exit", () => s.proc.exitCode !== null);
      expect(s.output()).toContain("Writing initial AOF. Exit anyway.");
    }
    expect(replies[1]).toEqual(replies[0]!);
    expect(replies[0]).toEqual(["+OK\r\n", "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"]);
  }, 120_000);

  test("auto-aof-rewrite-percentage / min-size start a rewrite when the AOF doubled", async () => {
    const dir = tempDir("aof-auto-");
    const s = await track(startReplicant([...AOF, "--auto-aof-rewrite-min-size", "20kb", "--auto-aof-rewrite-percentage", "100"], { dir }));
    const c = await s.client();
    for (let i = 0; i < 300; i++) await c.call("SET", `k${i % 10}`, "x".repeat(100));
    await waitFor("an automatic rewrite", async () => Number((await info(s, "persistence")).aof_rewrites) >= 1);
    await s.waitForLog("Starting automatic rewriting of AOF on");
    await s.stop();
  }, 120_000);
});

describe("a Replicant replica with appendonly yes", () => {
  test("restarted (kill -9, then SHUTDOWN) from its AOF, it continues with a partial resync", async () => {
    // A backlog that covers the restart even on a slow machine (the partial resync needs it).
    const master = await track(startRedis([...DEBUG, "--repl-backlog-size", "64mb", "--repl-ping-replica-period", "1"]));
    const dir = tempDir("aof-replica-");
    const replicaArgs = [...AOF, "--replicaof", "127.0.0.1", String(master.port)];
    let replica = await track(startReplicant(replicaArgs, { dir }));
    await waitForSync(master, replica);
    // The AOF restarted after the full sync: until its rewrite ends, a restart loads the old AOF.
    await waitFor("the AOF's rewrite after the sync", async () => {
      const p = await info(replica, "persistence");
      return p.aof_rewrite_in_progress === "0" && p.aof_rewrite_scheduled === "0" && p.aof_rewrites !== "0";
    });
    // Write load on the master all along.
    let writing = true;
    const mc = await master.client();
    let i = 0;
    const load = (async () => {
      while (writing) {
        i++;
        await mc.call("SELECT", String(i % 4));
        await mc.call("INCR", "counter");
        await mc.call("SET", `k${i % 500}`, String(i));
        if (i % 20 === 0) {
          await mc.call("MULTI");
          await mc.call("RPUSH", "list", String(i));
          await mc.call("INCRBY", "counter", "2");
          await mc.call("EXEC");
        }
      }
    })();
    await Bun.sleep(500);
    // REPLCONF GETACK in the stream (a WAIT that blocks: for 2 replicas, there is one), and a
    // PING or two: the file holds them as the backlog does.
    expect(await master.call("WAIT", "2", "200")).toBe(1);
    await Bun.sleep(500);
    for (const how of ["SIGKILL", "SHUTDOWN"]) {
      const before = await info(master, "stats");
      if (how === "SIGKILL") await replica.stop("SIGKILL");
      else {
        await replica.call("SHUTDOWN").catch(() => {});
        await replica.stop();
      }
      await Bun.sleep(300);
      replica = await track(startReplicant(replicaArgs, { dir }));
      await waitFor("the link up", async () => (await info(replica, "replication")).master_link_status === "up");
      await Bun.sleep(500);
      const after = await info(master, "stats");
      expect({ how, partial: Number(after.sync_partial_ok) - Number(before.sync_partial_ok), full: Number(after.sync_full) - Number(before.sync_full) }).toEqual({ how, partial: 1, full: 0 });
      expect(replica.output()).toContain("Successful partial resynchronization with master.");
    }
    writing = false;
    await load;
    await waitForSync(master, replica);
    const digest = await master.call("DEBUG", "DIGEST");
    expect(await replica.call("DEBUG", "DIGEST")).toEqual(digest);
    // The incr file (the master's stream with PING / REPLCONF GETACK / SELECT / MULTI) loads in redis-server 7.0.15.
    await replica.call("SHUTDOWN").catch(() => {});
    await replica.stop();
    const incr = readFileSync(join(dir, "appendonlydir", files(dir).find((f) => f.endsWith(".incr.aof"))!), "latin1").toLowerCase();
    expect({ getack: incr.includes("replconf\r\n$6\r\ngetack"), ping: incr.includes("*1\r\n$4\r\nping\r\n") }).toEqual({ getack: true, ping: true });
    expect(await redisDigestOf(dir)).toEqual(digest);
  }, 180_000);
});

describe("a Replicant master with appendonly yes", () => {
  test("restarted from its AOF, its replica continues with a partial resync; promoted replicas keep writing their AOF", async () => {
    const dir = tempDir("aof-master-");
    const masterArgs = [...AOF, "--repl-diskless-sync-delay", "0"];
    let master = await track(startReplicant(masterArgs, { dir }));
    const port = master.port;
    // Written before there is a replica (no backlog): the incr file has no keys of ours yet; the
    // first replica gives it a history, its keys start there (streamstart: the file's end then).
    await master.call("SET", "before-replicas", "1");
    const sizeBefore = statSync(join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")).size;
    expect(sizeBefore).toBeGreaterThan(0);
    const replica = await track(startRedis(["--replicaof", "127.0.0.1", String(port), ...DEBUG]));
    await waitForSync(master, replica);
    await workload(await master.client(), 40, "a");
    await waitForSync(master, replica);
    const before = await info(master, "stats");
    expect(before.sync_full).toBe("1");
    expect(manifest(dir)).toMatch(new RegExp(`\\nfile appendonly\\.aof\\.1\\.incr\\.aof seq 1 type i startoffset \\d+ replid [0-9a-f]{40} streamstart ${sizeBefore}\\n$`));
    await master.call("SHUTDOWN").catch(() => {});
    await master.stop();
    master = await track(startReplicant(masterArgs, { dir, port }));
    await waitFor("the replica's link", async () => (await info(replica, "replication")).master_link_status === "up");
    const stats = await info(master, "stats");
    expect({ full: stats.sync_full, partial: stats.sync_partial_ok }).toEqual({ full: "0", partial: "1" });
    await workload(await master.client(), 10, "b");
    await waitForSync(master, replica);
    expect(await replica.call("DEBUG", "DIGEST")).toEqual(await master.call("DEBUG", "DIGEST"));

    // A Replicant replica with the AOF on, promoted: its stream (a new replid) goes to a new incr file.
    const rdir = tempDir("aof-promoted-");
    let ours = await track(startReplicant([...AOF, "--replicaof", "127.0.0.1", String(port)], { dir: rdir }));
    await waitForSync(master, ours);
    await ours.call("REPLICAOF", "NO", "ONE");
    await workload(await ours.client(), 10, "c");
    const digest = await ours.call("DEBUG", "DIGEST");
    await ours.stop("SIGKILL");
    const incrs = files(rdir).filter((f) => f.endsWith(".incr.aof"));
    expect(incrs.length).toBe(2);
    ours = await track(startReplicant(AOF, { dir: rdir }));
    expect(await ours.call("DEBUG", "DIGEST")).toEqual(digest);
    await ours.stop();
    expect(await redisDigestOf(rdir)).toEqual(digest);
  }, 180_000);
});

describe("a delayed replica (replica-apply-delay) with appendonly yes", () => {
  test("its AOF holds the applied stream, its spool the rest: a restart loads one, resumes the other, and continues by partial resync", async () => {
    const master = await track(startRedis([...DEBUG, "--repl-backlog-size", "64mb"]));
    const dir = tempDir("aof-delayed-");
    const args = [...AOF, "--replica-apply-delay", "2", "--replicaof", "127.0.0.1", String(master.port)];
    let replica = await track(startReplicant(args, { dir }));
    await waitFor("the link up", async () => (await info(replica, "replication")).master_link_status === "up");
    await waitFor("the AOF's rewrite after the sync", async () => {
      const p = await info(replica, "persistence");
      return p.aof_rewrite_in_progress === "0" && p.aof_rewrite_scheduled === "0" && p.aof_rewrites !== "0";
    });
    const mc = await master.client();
    for (let i = 0; i < 300; i++) {
      await mc.call("SELECT", String(i % 3));
      await mc.call("INCR", "applied");
    }
    await Bun.sleep(3000);
    // Received, not applied yet (younger than the delay): in the spool, not in the AOF.
    for (let i = 0; i < 100; i++) await mc.call("INCR", "pending");
    const before = await info(master, "stats");
    await replica.stop("SIGKILL");
    replica = await track(startReplicant(args, { dir }));
    await waitFor("the link up", async () => (await info(replica, "replication")).master_link_status === "up");
    const after = await info(master, "stats");
    expect({ partial: Number(after.sync_partial_ok) - Number(before.sync_partial_ok), full: Number(after.sync_full) - Number(before.sync_full) }).toEqual({ partial: 1, full: 0 });
    expect(replica.output()).toMatch(/Delayed replica: \d+ bytes of the stream received before the restart are pending/);
    await waitForSync(master, replica);
    expect(await replica.call("DEBUG", "DIGEST")).toEqual(await master.call("DEBUG", "DIGEST"));
  }, 120_000);
});
