// `replicant feed` against real redis-server masters (and a Replicant replica as the source):
// snapshot yes / no, disk-based and diskless transfers, standard output, --db / --match,
// MessagePack, a gap (exit 2 with a clear message) and --on-gap resnapshot.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RespClient } from "../helpers/resp-client.ts";
import { redisCompat, sharedMasters } from "../helpers/masters.ts";
import { diffDatasets, snapshotDataset, type DatasetSnapshot } from "../helpers/dataset.ts";
import { info, removeDir, replicantCommand, startRedis, startReplicant, stopServers, tempDir, waitFor, waitForSync, type ServerProcess } from "../helpers/servers.ts";
import { offsetsStrictlyIncrease, parseRecords, readRecords, replay, startFeed, type FeedProcess, type ReadRecord } from "./feed-helpers.ts";
import { killAllFeeds } from "./feed-helpers.ts";

const started: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  killAllFeeds();
  await stopServers(started);
  for (const d of dirs) removeDir(d);
});

async function redis(extra: string[] = []): Promise<ServerProcess> {
  const s = await startRedis(extra);
  started.push(s);
  return s;
}

/** A folder for a feed's output and checkpoint. */
function files(output: string): { d: string; out: string; cp: string } {
  const d = tempDir("feed-");
  dirs.push(d);
  return { d, out: join(d, output), cp: join(d, "feed.cp") };
}

/** No duplicate (offsets strictly increase), and the replay on an empty server is the master. */
async function expectRebuilds(records: ReadRecord[], master: ServerProcess, entriesOnly = false, targetBin?: string): Promise<void> {
  expect(offsetsStrictlyIncrease(records)).toBeNull();
  const target = await startRedis([], { bin: targetBin });
  started.push(target);
  await replay(records, target.port);
  const [a, b] = [await dataset(master.port), await dataset(target.port)];
  // XINFO STREAM FULL of a 6.2 master lacks 7.0's fields: its streams are compared by entries.
  if (entriesOnly) for (const m of [...a.values(), ...b.values()]) for (const k of m.values()) if (k.type === "stream") k.value = (k.value as { entries: unknown }).entries;
  expect(diffDatasets(a, b)).toEqual([]);
}

/** Waits until the checkpoint reached the master's offset (everything written is out). */
async function caughtUp(master: ServerProcess, cp: string): Promise<void> {
  const offset = Number((await info(master, "replication")).master_repl_offset);
  await waitFor(`checkpoint at ${offset}`, () => existsSync(cp) && JSON.parse(readFileSync(cp, "utf8")).offset >= offset, 30_000);
}

/** Waits until the feed wrote at least `n` records to standard output. */
async function stdoutRecords(feed: FeedProcess, n: number): Promise<void> {
  try {
    await waitFor(`${n} records on standard output`, () => feed.stdout().toString("utf8").split("\n").length > n, 30_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}; standard output: ${feed.stdout().toString("utf8").slice(-2000)}; standard error: ${feed.stderr()}`);
  }
}

async function stop(feed: FeedProcess): Promise<number> {
  feed.proc.kill("SIGTERM");
  return feed.exited;
}

async function dataset(port: number, dbs = 4): Promise<DatasetSnapshot> {
  const c = await RespClient.connect(port);
  try {
    return await snapshotDataset(c, dbs);
  } finally {
    c.close();
  }
}

/** Only the keys of `db` matching `keep`. */
function select(s: DatasetSnapshot, db: number | null, keep: (k: string) => boolean): DatasetSnapshot {
  const out: DatasetSnapshot = new Map();
  for (const [d, m] of s) {
    if (db !== null && d !== db) continue;
    const kept = new Map([...m].filter(([k]) => keep(k)));
    if (kept.size) out.set(d, kept);
  }
  return out;
}

async function populate(port: number): Promise<void> {
  const c = await RespClient.connect(port);
  await c.pipeline([
    ["SET", "user:1", "alice"],
    ["SET", "other:1", "x"],
    ["SET", "user:bin", Buffer.from([0xff, 0xfe, 0x00, 0x41])],
    ["HSET", "user:h", "f", "v", "g", "w"],
    ["RPUSH", "other:l", "a", "b"],
    ["SET", "user:ttl", "soon", "EX", 3600],
    ["SELECT", "1"],
    ["SET", "user:1", "db1"],
    ["ZADD", "user:z", "1.5", "a", "2", "b"],
    ["SADD", "other:s", "m"],
    ["XADD", "user:x", "1-1", "f", "v"],
    ["SELECT", "0"],
  ]);
  c.close();
}

/** 14 records on db 0, 1 and 2 (a one-write transaction is propagated as that write alone). */
async function moreWrites(port: number): Promise<void> {
  const c = await RespClient.connect(port);
  await c.pipeline([
    ["SET", "user:2", "bob"],
    ["SET", "other:2", "y"],
    ["INCR", "user:n"],
    ["MULTI"],
    ["SET", "user:tx", "1"],
    ["SET", "other:tx", "2"],
    ["EXEC"],
    ["MULTI"],
    ["SET", "other:only", "1"],
    ["EXEC"],
    ["PEXPIRE", "user:h", 3_600_000],
    ["SELECT", "1"],
    ["SET", "user:3", "carol"],
    ["DEL", "other:s"],
    ["HSET", "user:h1", "f", Buffer.from([0xc3, 0x28])],
    ["RENAME", "user:1", "user:renamed"],
    ["SELECT", "2"],
    ["SET", "user:db2", "z"],
    ["SELECT", "0"],
  ]);
  c.close();
}

describe("feed", () => {
  test("snapshot yes (disk-based transfer) on standard output: replay rebuilds the master", async () => {
    const master = await redis(["--repl-diskless-sync", "no"]);
    await populate(master.port);
    const feed = startFeed(["--replicaof", "127.0.0.1", String(master.port)]);
    await stdoutRecords(feed, 11);
    await moreWrites(master.port);
    await stdoutRecords(feed, 11 + 14);
    expect(await stop(feed)).toBe(0);
    const records = parseRecords(feed.stdout(), "jsonl");
    expect(records[0]!.args).toEqual(["FLUSHALL"]);
    expect(records.filter((r) => r.snapshot && r.args[0] === "RESTORE").length).toBe(10);
    expect(offsetsStrictlyIncrease(records)).toBeNull();
    // Binary-safe: the non-UTF-8 value comes as base64 and back as the same bytes.
    expect(feed.stdout().toString("utf8")).toContain('"args":["HSET","user:h1","f",{"base64":"wyg="}]');
    const target = await redis();
    await replay(records, target.port);
    expect(diffDatasets(await dataset(master.port), await dataset(target.port))).toEqual([]);
    expect(feed.stderr()).toContain("snapshot done: 10 keys");
  }, 60_000);

  test("snapshot no: only the writes after the start", async () => {
    const master = await redis();
    await populate(master.port);
    const feed = startFeed(["--replicaof", "127.0.0.1", String(master.port), "--snapshot", "no"]);
    await waitFor("the feed's link", async () => (await info(master, "replication")).connected_slaves === "1", 15_000);
    await waitFor("the link online", async () => /state=online/.test((await info(master, "replication")).slave0 ?? ""), 15_000);
    await moreWrites(master.port);
    // The feed answers REPLCONF GETACK: WAIT counts it.
    expect(await master.call("WAIT", 1, 10_000)).toBe(1);
    await stdoutRecords(feed, 14);
    expect(await stop(feed)).toBe(0);
    const records = parseRecords(feed.stdout(), "jsonl");
    expect(records.some((r) => r.snapshot)).toBe(false);
    expect(records[0]!.args).toEqual(["SET", "user:2", "bob"]);
    expect(records.map((r) => r.args[0]!.toUpperCase())).toContain("MULTI");
    expect(offsetsStrictlyIncrease(records)).toBeNull();
  }, 60_000);

  test("--db and --match, MessagePack: only the selection, which replay rebuilds", async () => {
    const master = await redis();
    await populate(master.port);
    const { out, cp } = files("feed.msgpack");
    const feed = startFeed(["--replicaof", "127.0.0.1", String(master.port), "--db", "1", "--match", "user:*", "--format", "msgpack", "--out", out, "--checkpoint", cp]);
    await waitFor("the snapshot", () => existsSync(cp), 30_000);
    await moreWrites(master.port);
    await caughtUp(master, cp);
    expect(await stop(feed)).toBe(0);
    const records = readRecords(out, "msgpack");
    expect(records.every((r) => r.db === 1)).toBe(true);
    // No FLUSHALL/FLUSHDB with --match (it would empty keys outside the selection).
    expect(records.some((r) => r.args[0]!.startsWith("FLUSH"))).toBe(false);
    expect(records.filter((r) => r.snapshot).map((r) => r.args[1]).sort()).toEqual(["user:1", "user:x", "user:z"]);
    expect(records.filter((r) => !r.snapshot).map((r) => r.args.join(" "))).toEqual(["SET user:3 carol", "HSET user:h1 f \xc3\x28", "RENAME user:1 user:renamed"]);
    const target = await redis();
    await replay(records, target.port);
    const isUser = (k: string) => k.startsWith("user:");
    expect(diffDatasets(select(await dataset(master.port), 1, isUser), await dataset(target.port))).toEqual([]);
  }, 60_000);

  test("--db alone: FLUSHDB first, then that db's records", async () => {
    const master = await redis();
    await populate(master.port);
    const feed = startFeed(["--replicaof", "127.0.0.1", String(master.port), "--db", "0"]);
    await stdoutRecords(feed, 7);
    await moreWrites(master.port);
    await stdoutRecords(feed, 7 + 9);
    expect(await stop(feed)).toBe(0);
    const records = parseRecords(feed.stdout(), "jsonl");
    expect(records[0]!.args).toEqual(["FLUSHDB"]);
    expect(records.every((r) => r.db === 0)).toBe(true);
    // Redis propagates a transaction of one write without MULTI / EXEC (other:only).
    expect(records.filter((r) => !r.snapshot).map((r) => r.args[0]!.toUpperCase())).toEqual(["SET", "SET", "INCR", "MULTI", "SET", "SET", "EXEC", "SET", "PEXPIREAT"]);
    const target = await redis();
    await replay(records, target.port);
    expect(diffDatasets(select(await dataset(master.port), 0, () => true), await dataset(target.port))).toEqual([]);
  }, 60_000);

  test("a gap: the backlog no longer covers the checkpoint -> a clear message and exit 2; --on-gap resnapshot continues exactly", async () => {
    const master = await redis(["--repl-backlog-size", "16384"]);
    await populate(master.port);
    const { out, cp } = files("feed.jsonl");
    const args = ["--replicaof", "127.0.0.1", String(master.port), "--out", out, "--checkpoint", cp];
    const first = startFeed(args);
    await waitFor("the snapshot", () => existsSync(cp), 30_000);
    await moreWrites(master.port);
    await caughtUp(master, cp);
    expect(await stop(first)).toBe(0);
    // More than the backlog holds while no feed is connected.
    const c = await RespClient.connect(master.port);
    for (let i = 0; i < 10; i++) await c.call("SET", `gap:${i}`, "x".repeat(10_000));
    c.close();
    const gap = startFeed(args);
    expect(await gap.exited).toBe(2);
    expect(gap.stderr()).toMatch(/the master cannot continue from [0-9a-f]{40}:\d+ \(its backlog no longer holds that offset/);
    expect(gap.stderr()).toContain("--on-gap resnapshot");
    const before = readRecords(out);
    const resnap = startFeed([...args, "--on-gap", "resnapshot"]);
    await waitFor("the new snapshot", () => readRecords(out).length > before.length + 10, 30_000);
    await caughtUp(master, cp);
    expect(await stop(resnap)).toBe(0);
    expect(resnap.stderr()).toContain("taking a new snapshot (--on-gap resnapshot)");
    const records = readRecords(out);
    // The new snapshot starts with FLUSHALL (which carries the history's replid).
    const starts = records.flatMap((r, i) => (r.replid ? [i] : []));
    expect(starts.length).toBe(2);
    expect(records[starts[1]!]!.args).toEqual(["FLUSHALL"]);
    expect(starts[1]).toBe(before.length);
    const target = await redis();
    await replay(records, target.port);
    expect(diffDatasets(await dataset(master.port), await dataset(target.port))).toEqual([]);
  }, 90_000);

  test("from a Replicant replica: snapshot, stream, SIGKILL and a partial resync from the replica", async () => {
    const master = await redis();
    await populate(master.port);
    const replica = await startReplicant(["--replicaof", "127.0.0.1", String(master.port)]);
    started.push(replica);
    await waitForSync(master, replica);
    const { out, cp } = files("feed.jsonl");
    const args = ["--replicaof", "127.0.0.1", String(replica.port), "--out", out, "--checkpoint", cp, "--checkpoint-interval", "50"];
    const first = startFeed(args);
    await waitFor("the snapshot", () => existsSync(cp), 30_000);
    await moreWrites(master.port);
    await waitForSync(master, replica);
    await caughtUp(replica, cp);
    first.proc.kill("SIGKILL");
    await first.exited;
    const c = await RespClient.connect(master.port);
    for (let i = 0; i < 50; i++) await c.call("RPUSH", "user:after", `v${i}`);
    c.close();
    await waitForSync(master, replica);
    const second = startFeed(args);
    await caughtUp(replica, cp);
    expect(await stop(second)).toBe(0);
    expect(second.stderr()).toContain("continuing from");
    await expectRebuilds(readRecords(out), master);
  }, 90_000);

  test("a link the master drops is taken up again with a partial resync: nothing lost, nothing repeated", async () => {
    const master = await redis();
    await populate(master.port);
    const { out, cp } = files("feed.jsonl");
    const feed = startFeed(["--replicaof", "127.0.0.1", String(master.port), "--out", out, "--checkpoint", cp, "--checkpoint-interval", "50"]);
    await waitFor("the snapshot", () => existsSync(cp), 30_000);
    await moreWrites(master.port);
    await caughtUp(master, cp);
    expect(await master.call("CLIENT", "KILL", "TYPE", "replica")).toBe(1);
    const c = await RespClient.connect(master.port);
    for (let i = 0; i < 20; i++) await c.call("INCR", "user:after-kill");
    c.close();
    await waitFor("the feed back", async () => /state=online/.test((await info(master, "replication")).slave0 ?? ""), 15_000);
    await caughtUp(master, cp);
    expect(await stop(feed)).toBe(0);
    expect(feed.stderr()).toContain("connection closed by the master; retrying");
    expect(feed.stderr()).toContain("continuing from");
    expect(Number((await info(master, "stats")).sync_partial_ok)).toBe(1);
    await expectRebuilds(readRecords(out), master);
  }, 60_000);

  test("a restart that does not match its checkpoint is refused with a clear message", async () => {
    const master = await redis();
    await populate(master.port);
    const { d, out, cp } = files("feed.jsonl");
    const args = ["--replicaof", "127.0.0.1", String(master.port), "--out", out, "--checkpoint", cp];
    const first = startFeed(args);
    await waitFor("the snapshot", () => existsSync(cp), 30_000);
    expect(await stop(first)).toBe(0);
    const mismatch = startFeed([...args, "--format", "msgpack"]);
    expect(await mismatch.exited).toBe(1);
    expect(mismatch.stderr()).toContain("the checkpoint was written with --format jsonl, this run has msgpack");
    const filtered = startFeed([...args, "--match", "user:*"]);
    expect(await filtered.exited).toBe(1);
    expect(filtered.stderr()).toContain("--match (none)");
    // An output shorter than the checkpoint says: not the file it was written with.
    const other = join(d, "other.jsonl");
    await Bun.write(other, "x");
    const wrongOut = startFeed(["--replicaof", "127.0.0.1", String(master.port), "--out", other, "--checkpoint", cp]);
    expect(await wrongOut.exited).toBe(1);
    expect(wrongOut.stderr()).toMatch(/other\.jsonl has 1 bytes, fewer than the \d+ the checkpoint says were written/);
    await Bun.write(join(d, "bad.cp"), "{");
    const bad = startFeed(["--replicaof", "127.0.0.1", String(master.port), "--checkpoint", join(d, "bad.cp")]);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toContain("cannot read the checkpoint");
    const noPort = startFeed(["--replicaof", "127.0.0.1", "x"]);
    expect(await noPort.exited).toBe(1);
    expect(noPort.stderr()).toContain("bad port 'x'");
  }, 60_000);

  test("the reader of standard output goes away (| head -1): the next write ends the feed with status 0", async () => {
    const master = await redis();
    await populate(master.port);
    const p = Bun.spawn(["bash", "-c", `set -o pipefail; "$@" feed -q --replicaof 127.0.0.1 ${master.port} | head -1`, "bash", ...replicantCommand()], { stdout: "pipe", stderr: "pipe" });
    const text = new Response(p.stdout).text();
    await waitFor("the snapshot", async () => /state=online/.test((await info(master, "replication")).slave0 ?? ""), 15_000);
    // An idle feed learns that its reader left at its first write after head exited (EPIPE).
    let exited = false;
    const status = p.exited.then((code) => {
      exited = true;
      return code;
    });
    for (let i = 0; i < 100 && !exited; i++) {
      await master.call("SET", "wake", "up");
      await Bun.sleep(100);
    }
    expect(await status).toBe(0);
    expect((await text).split("\n")[0]).toContain('"args":["FLUSHALL"]');
  }, 60_000);


  test("--masterauth / --masteruser: AUTH before the handshake; a missing or wrong password is a clear error", async () => {
    const master = await redis(["--requirepass", "secret", "--user", "feeder", "on", ">pw", "+@all", "~*"]);
    const c = await RespClient.connect(master.port);
    await c.call("AUTH", "secret");
    await c.call("SET", "k", "v");
    c.close();
    const none = startFeed(["--replicaof", "127.0.0.1", String(master.port)]);
    expect(await none.exited).toBe(1);
    expect(none.stderr()).toContain("the master requires a password (--masterauth)");
    const wrong = startFeed(["--replicaof", "127.0.0.1", String(master.port), "--masterauth", "nope"]);
    expect(await wrong.exited).toBe(1);
    expect(wrong.stderr()).toContain("the master refused AUTH: WRONGPASS");
    for (const auth of [["--masterauth", "secret"], ["--masteruser", "feeder", "--masterauth", "pw"]]) {
      const ok = startFeed(["--replicaof", "127.0.0.1", String(master.port), ...auth]);
      await stdoutRecords(ok, 2);
      expect(await stop(ok)).toBe(0);
      expect(parseRecords(ok.stdout(), "jsonl")[1]!.args.slice(0, 2)).toEqual(["RESTORE", "k"]);
    }
  }, 60_000);
});

// The other master versions of ../shared/masters (Redis 6.2, 7.2, 7.4, Valkey 8): the snapshot
// (their RDB versions) and the stream, replayed on Debian's redis-server 7.0 (the feed's DUMP
// payloads are RDB 10, which 7.0 and later load).
describe("feed from other master versions", () => {
  for (const kind of sharedMasters("`feed` from other master versions")) {
    test(`${kind.label}: snapshot and stream rebuild the master`, async () => {
      const master = await startRedis([], { bin: kind.bin });
      started.push(master);
      await populate(master.port);
      // 7.4's hash field TTLs: in the snapshot (a DUMP payload of RDB 12) and in the stream;
      // replayed on a 7.4 then (7.0 has neither).
      const fieldTtls = redisCompat(kind) >= 70400;
      if (fieldTtls) await master.call("HPEXPIRE", "user:h", 3_600_000, "FIELDS", 1, "f");
      const { out, cp } = files("feed.jsonl");
      const feed = startFeed(["--replicaof", "127.0.0.1", String(master.port), "--out", out, "--checkpoint", cp, "--checkpoint-interval", "50"]);
      await waitFor("the snapshot", () => existsSync(cp), 30_000);
      await moreWrites(master.port);
      if (fieldTtls) {
        const c = await RespClient.connect(master.port);
        expect(await c.pipeline([["SELECT", "1"], ["HPEXPIRE", "user:h1", 3_600_000, "FIELDS", 1, "f"]])).toEqual(["OK", [1]]);
        c.close();
      }
      await caughtUp(master, cp);
      expect(await stop(feed)).toBe(0);
      const records = readRecords(out);
      expect(records.filter((r) => r.snapshot && r.args[0] === "RESTORE").length).toBe(10);
      await expectRebuilds(records, master, kind.version[0] < 7, fieldTtls ? kind.bin : undefined);
      if (fieldTtls) {
        const target = started[started.length - 1]!;
        for (const [db, key] of [[0, "user:h"], [1, "user:h1"]] as const) {
          const c = await RespClient.connect(target.port);
          await c.call("SELECT", db);
          const ttl = (await c.call("HPTTL", key, "FIELDS", 1, "f")) as number[];
          expect(ttl[0]).toBeGreaterThan(3_500_000);
          c.close();
        }
      }
    }, 60_000);
  }
});

