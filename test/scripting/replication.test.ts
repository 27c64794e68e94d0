// Scripts and functions across replication, against real redis-server processes:
// - a redis-server master doing FUNCTION LOAD/DELETE/RESTORE, FCALL and EVAL with writes:
//   a Replicant replica (libraries from the full sync's RDB and from the stream) ends with the
//   master's data and FUNCTION LIST, and answers scripts from its own clients as a redis-server
//   replica does (READONLY errors included, byte for byte);
// - Replicant as a master: what it propagates for scripts (the commands they ran, in MULTI/EXEC
//   when more than one; FUNCTION LOAD & co verbatim; nothing for SCRIPT LOAD/FLUSH) equals what
//   a redis-server master propagates for the same workload, and a redis-server replica of it
//   ends with the same data and libraries.

import { afterAll, describe, expect, test } from "bun:test";
import { RawClient } from "../helpers/raw-client.ts";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { type ServerProcess, startRedis, startReplicant, waitFor, waitForSync, stopServers, tracker } from "../helpers/servers.ts";
import type { RespClient } from "../helpers/resp-client.ts";
import { FakeReplica } from "../helpers/fake-replica.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

const track = tracker(started);

const LIB_A = [
  "#!lua name=liba",
  "redis.register_function('seta', function(keys, args) return redis.call('set', keys[1], args[1]) end)",
  "redis.register_function{function_name='geta', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}",
  "redis.register_function('multiwrite', function(keys, args)",
  "  redis.call('incr', keys[1])",
  "  redis.call('rpush', keys[2], args[1])",
  "  return redis.call('hset', keys[3], 'f', args[1])",
  "end)",
].join("\n");
const LIB_B = "#!lua name=libb\nredis.register_function('zaddb', function(keys, args) return redis.call('zadd', keys[1], args[1], args[2]) end)";
const LIB_B2 = "#!lua name=libb\nredis.register_function('zaddb', function(keys, args) return redis.call('zadd', keys[1], 'CH', args[1], args[2]) end)";
const LIB_C = "#!lua name=libc\nredis.register_function('delc', function(keys) return redis.call('del', unpack(keys)) end)";

/** A workload of scripts with writes (deterministic: no random commands). */
const WORKLOAD: string[][] = [
  ["EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "s1", "v1"],
  ["EVAL", "redis.call('set', 'm1', 'a') redis.call('incr', 'm2') redis.call('lpush', 'm3', 'x', 'y') return 'three'", "0"],
  ["EVAL", "return redis.call('get', 's1')", "0"],
  ["EVAL", "redis.call('del', 'nothing-here') return 0", "0"],
  ["EVAL", "for i = 1, 10 do redis.call('incr', 'loop') end return redis.call('get', 'loop')", "0"],
  ["EVAL", "redis.call('select', 3) redis.call('set', 'in3', 'x') redis.call('select', 5) redis.call('set', 'in5', 'y') return 1", "0"],
  ["EVAL", "redis.call('set', 'before-error', '1') error('fails after a write')", "0"],
  ["EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'unreplicated', '1') redis.set_repl(redis.REPL_ALL) redis.call('set', 'replicated', '1') return 1", "0"],
  ["EVAL", "redis.call('set', 'withttl', 'v', 'EX', '1000') return redis.call('ttl', 'withttl')", "0"],
  ["EVAL", "redis.call('hset', 'h1', 'a', '1', 'b', '2') redis.call('zadd', 'z1', '1', 'one', '2', 'two') redis.call('sadd', 'set1', 'm') return 1", "0"],
  ["EVAL", "redis.call('rpush', 'l2', 'a', 'b', 'c') redis.call('lpop', 'l2') return redis.call('llen', 'l2')", "0"],
  ["EVAL", "redis.call('incrbyfloat', 'fl', '1.5') return redis.call('get', 'fl')", "0"],
  ["EVAL", "#!lua\nredis.call('set', 'shebang', '1') return 1", "0"],
  ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'shebang')", "0"],
  ["EVAL_RO", "return redis.call('get', 's1')", "0"],
  ["SCRIPT", "LOAD", "redis.call('incr', 'viasha') return redis.call('incr', 'viasha')"],
  ["EVALSHA", "de1355b1a670549f8d0c5d48d2dad7351aa6c226", "0"],
  ["FUNCTION", "LOAD", LIB_B],
  ["FCALL", "seta", "1", "fa", "1"],
  ["FCALL", "multiwrite", "3", "cnt", "lst", "hsh", "val"],
  ["FCALL_RO", "geta", "1", "fa"],
  ["FCALL", "zaddb", "1", "zb", "5", "member"],
  ["FUNCTION", "LOAD", "REPLACE", LIB_B2],
  ["FCALL", "zaddb", "1", "zb", "6", "member"],
  ["FUNCTION", "LOAD", LIB_C],
  ["FCALL", "delc", "2", "m1", "m2"],
  ["FUNCTION", "DELETE", "libc"],
  ["MULTI"],
  ["EVAL", "return redis.call('set', 'inmulti', '1')", "0"],
  ["SET", "aftereval", "1"],
  ["FCALL", "seta", "1", "fb", "2"],
  ["EXEC"],
  ["SCRIPT", "FLUSH"],
  ["EVAL", "redis.call('set', 'after-flush', '1') redis.call('expire', 'after-flush', '500') return 1", "0"],
  ["EVAL", "return redis.call('set', 'k', 'v', 'PX', '100000', 'GET')", "0"],
  ["EVAL", "redis.call('set', 'big', string.rep('x', 1000)) return redis.call('strlen', 'big')", "0"],
  // set_repl(REPL_NONE) made that key a master-only one: gone everywhere again.
  ["DEL", "unreplicated"],
];

function normalized(cmds: string[][]): string[][] {
  return cmds
    .filter((c) => !(c.length === 1 && c[0]!.toLowerCase() === "ping"))
    .map((c) => {
      const copy = c.slice();
      for (let i = 0; i + 1 < copy.length; i++) {
        const a = copy[i]!.toUpperCase();
        if (a === "PXAT" || a === "EXAT") copy[i + 1] = "<time>";
      }
      if (copy[0]!.toUpperCase() === "PEXPIREAT") copy[2] = "<time>";
      return copy;
    });
}

async function run(c: RawClient, cmds: string[][]): Promise<string[]> {
  const out: string[] = [];
  for (const cmd of cmds) out.push(await c.call(...cmd));
  return out;
}

/** FUNCTION LIST WITHCODE as a sorted, comparable structure. */
async function libraries(c: RespClient): Promise<unknown> {
  const v = (await c.call("FUNCTION", "LIST", "WITHCODE")) as unknown[][];
  const libs = v.map((lib) => {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < lib.length; i += 2) o[String(lib[i])] = lib[i + 1];
    o.functions = (o.functions as unknown[][])
      .map((f) => {
        const fo: Record<string, unknown> = {};
        for (let i = 0; i < f.length; i += 2) fo[String(f[i])] = f[i + 1];
        return fo;
      })
      .sort((x, y) => String(x.name).localeCompare(String(y.name)));
    return o;
  });
  return libs.sort((x, y) => String(x.library_name).localeCompare(String(y.library_name)));
}

describe("a redis-server master with scripts and functions, Replicant replica", () => {
  test("libraries from the RDB and the stream, script effects applied, FUNCTION LIST equal", async () => {
    const master = await track(startRedis());
    const mc = await master.client();
    // Before the replicas attach: in the full sync's RDB.
    expect(await mc.call("FUNCTION", "LOAD", LIB_A)).toBe("liba");
    expect(await mc.call("EVAL", "redis.call('set', 'pre', '1') redis.call('rpush', 'prel', 'a') return 1", "0")).toBe(1);
    const ours = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port)]));
    const theirs = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, ours);
    await waitForSync(master, theirs);
    const oc = await ours.client();
    expect(await libraries(oc)).toEqual((await libraries(mc)) as never);
    // A function that arrived in the RDB runs on the replica right away.
    expect(await oc.call("FCALL_RO", "geta", "1", "pre")).toBe("1");
    const raw = await RawClient.connect(master.port);
    await run(raw, WORKLOAD);
    await mc.call("FUNCTION", "RESTORE", (await mc.call("FUNCTION", "DUMP")) as string, "REPLACE");
    await waitForSync(master, ours);
    await waitForSync(master, theirs);
    const diffs = diffDatasets(await snapshotDataset(mc), await snapshotDataset(oc));
    expect(diffs).toEqual([]);
    expect(await libraries(oc)).toEqual((await libraries(mc)) as never);
    // Scripts sent to the replicas by their own clients: the same replies from both replicas.
    const onReplica: string[][] = [
      ["EVAL", "return redis.call('get', 's1')", "0"],
      ["EVAL", "return redis.call('set', 'x', '1')", "0"],
      ["EVAL", "return redis.pcall('set', 'x', '1')", "0"],
      ["EVAL", "#!lua\nreturn redis.call('set', 'x', '1')", "0"],
      ["EVAL", "#!lua\nreturn 1", "0"],
      ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 's1')", "0"],
      ["EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'x', '1')", "0"],
      ["EVAL_RO", "return redis.call('get', 's1')", "0"],
      ["EVAL_RO", "return redis.call('set', 'x', '1')", "0"],
      ["FCALL", "seta", "1", "x", "1"],
      ["FCALL_RO", "seta", "1", "x", "1"],
      ["FCALL", "geta", "1", "fa"],
      ["FCALL_RO", "geta", "1", "fa"],
      ["FCALL", "multiwrite", "3", "a", "b", "c", "d"],
      ["FUNCTION", "LOAD", "#!lua name=onreplica\nredis.register_function('r', function() return 1 end)"],
      ["FUNCTION", "DELETE", "liba"],
      ["FUNCTION", "FLUSH"],
      ["SCRIPT", "LOAD", "return 'cached on a replica'"],
      ["EVALSHA", "0b741147378ad44b95b0a5afa55f22eb125156b5", "0"],
      ["FUNCTION", "STATS"],
    ];
    const ro = await RawClient.connect(ours.port);
    const rt = await RawClient.connect(theirs.port);
    const a = await run(rt, onReplica);
    const b = await run(ro, onReplica);
    for (let i = 0; i < onReplica.length; i++) expect({ cmd: onReplica[i], reply: b[i] }).toEqual({ cmd: onReplica[i], reply: a[i] } as never);
    if (process.env.SCRIPT_DEBUG) console.log(JSON.stringify(b, null, 1));
    expect(b[1]).toStartWith("-READONLY You can't write against a read only replica. script: ");
    for (const c of [raw, ro, rt]) c.close();
  }, 120000);
});

describe("Replicant as a master", () => {
  test("script effects propagate as redis-server's: the same replication stream for the same workload", async () => {
    const redis = await track(startRedis(["--repl-ping-replica-period", "3600"]));
    const ours = await track(startReplicant(["--repl-ping-replica-period", "3600"]));
    for (const s of [redis, ours]) await s.call("FUNCTION", "LOAD", LIB_A);
    const fakeRedis = await FakeReplica.connect(redis.port);
    const fakeOurs = await FakeReplica.connect(ours.port);
    await waitFor("both fake replicas past the RDB", () => fakeRedis.synced && fakeOurs.synced);
    const rr = await RawClient.connect(redis.port);
    const ro = await RawClient.connect(ours.port);
    const a = await run(rr, WORKLOAD);
    const b = await run(ro, WORKLOAD);
    for (let i = 0; i < WORKLOAD.length; i++) expect({ cmd: WORKLOAD[i], reply: b[i] }).toEqual({ cmd: WORKLOAD[i], reply: a[i] } as never);
    for (const c of [rr, ro]) await c.call("SET", "end-marker", "1");
    const ended = (r: FakeReplica) => r.commands.some((c) => c[0] === "SET" && c[1] === "end-marker");
    await waitFor("both streams complete", () => ended(fakeRedis) && ended(fakeOurs), 30000);
    const expected = normalized(fakeRedis.commands);
    const actual = normalized(fakeOurs.commands);
    expect(actual).toEqual(expected);
    fakeRedis.close();
    fakeOurs.close();
    rr.close();
    ro.close();
  }, 120000);

  test("promoted from replica: its redis-server replica follows the script effects and libraries", async () => {
    const master = await track(startRedis());
    const mc = await master.client();
    expect(await mc.call("FUNCTION", "LOAD", LIB_A)).toBe("liba");
    const ours = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port), "--repl-diskless-sync-delay", "0"]));
    await waitForSync(master, ours);
    const sub = await track(startRedis(["--replicaof", "127.0.0.1", String(ours.port)]));
    await waitForSync(ours, sub);
    const oc = await ours.client();
    expect(await oc.call("REPLICAOF", "NO", "ONE")).toBe("OK");
    const raw = await RawClient.connect(ours.port);
    const replies = await run(raw, WORKLOAD);
    expect(replies.some((r) => r.startsWith("-READONLY"))).toBe(false);
    await waitForSync(ours, sub);
    const sc = await sub.client();
    expect(diffDatasets(await snapshotDataset(oc), await snapshotDataset(sc))).toEqual([]);
    expect(await libraries(sc)).toEqual((await libraries(oc)) as never);
    raw.close();
  }, 120000);

  test("a redis-server replica of Replicant: libraries in the full sync, script effects in the stream", async () => {
    const master = await track(startReplicant(["--repl-diskless-sync-delay", "0"]));
    const mc = await master.client();
    expect(await mc.call("FUNCTION", "LOAD", LIB_A)).toBe("liba");
    await mc.call("FCALL", "multiwrite", "3", "c0", "l0", "h0", "v0");
    const replica = await track(startRedis(["--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    const rc = await replica.client();
    expect(await libraries(rc)).toEqual((await libraries(mc)) as never);
    const raw = await RawClient.connect(master.port);
    await run(raw, WORKLOAD);
    await waitForSync(master, replica);
    expect(diffDatasets(await snapshotDataset(mc), await snapshotDataset(rc))).toEqual([]);
    expect(await libraries(rc)).toEqual((await libraries(mc)) as never);
    // The replica runs the libraries it got from us.
    expect(await rc.call("FCALL_RO", "geta", "1", "fa")).toBe("1");
    raw.close();
  }, 120000);
});
