// Commands whose effect depends on the master's version, applied as that master applied them
// (each against a real master of ../shared/masters and a same-version replica beside ours;
// skipped with one line without it):
// - Redis 6.2 keeps a deleted message pending when XCLAIM claims it (7.0 drops it);
// - Redis 7.2+ and Valkey take LSET's index through an int (9223372036854775807 is -1);
// - the master's version survives a restart (our RDB's AUX field) for the next partial resync.

import { afterAll, describe, expect, test } from "bun:test";
import { type MasterKind, sharedMasters } from "../helpers/masters.ts";
import type { RespValue } from "../helpers/resp-client.ts";
import { info, type ServerProcess, startRedis, startReplicant, waitForSync, stopServers, tracker } from "../helpers/servers.ts";

const masters = sharedMasters("replication of commands whose meaning changed between Redis versions");
const byLabel = (label: string) => masters.find((m) => m.label === label);

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

const track = tracker(started);

/** A master of that kind with Replicant and a same-version redis replica in sync. */
async function trio(kind: MasterKind, replicantDir?: string) {
  const master = await track(startRedis([], { bin: kind.bin }));
  const config = ["--replicaof", "127.0.0.1", String(master.port)];
  const [replicant, reference] = await Promise.all([track(startReplicant(config, replicantDir ? { dir: replicantDir } : {})), track(startRedis(config, { bin: kind.bin }))]);
  await waitForSync(master, replicant);
  await waitForSync(master, reference);
  return { master, replicant, reference };
}

/** The same reply from every server (XPENDING's idle times left out: each has its own clock). */
async function sameOnAll(servers: ServerProcess[], cmd: string[]): Promise<RespValue> {
  const noIdle = (v: RespValue) => (cmd[0] === "XPENDING" && cmd.length > 3 ? (v as RespValue[][]).map((p) => [p[0], p[1], p[3]] as RespValue[]) : v);
  const replies = (await Promise.all(servers.map((s) => s.call(...cmd)))).map(noIdle);
  const first = replies[0]!;
  for (const r of replies.slice(1)) expect({ cmd, reply: r }).toEqual({ cmd, reply: first });
  return first;
}

const redis62 = byLabel("redis-6.2.16");
const redis72 = byLabel("redis-7.2.6");
const valkey8 = byLabel("valkey-8.0.1");

if (redis62) {
  describe("a Redis 6.2 master", () => {
    test("XCLAIM of a deleted pending message keeps it pending, on the master and on its replicas", async () => {
      const { master, replicant, reference } = await trio(redis62);
      const m = await master.client();
      await m.call("XADD", "st", "1-1", "f", "v");
      await m.call("XADD", "st", "2-1", "f", "v");
      await m.call("XGROUP", "CREATE", "st", "g", "0");
      await m.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "st", ">");
      await m.call("XDEL", "st", "1-1");
      expect(await m.call("XCLAIM", "st", "g", "bob", "0", "1-1", "2-1", "JUSTID")).toEqual(["1-1", "2-1"]);
      await waitForSync(master, replicant);
      await waitForSync(master, reference);
      const pending = await sameOnAll([master, reference, replicant], ["XPENDING", "st", "g", "-", "+", "10", "bob"]);
      expect((pending as RespValue[][]).map((p) => p[0])).toEqual(["1-1", "2-1"]);
      await sameOnAll([master, reference, replicant], ["XPENDING", "st", "g"]);
    });

    test("DECRBY -9223372036854775808, which 6.2 applies (7.0 refuses it)", async () => {
      const { master, replicant, reference } = await trio(redis62);
      const m = await master.client();
      await m.call("SET", "n", "5");
      expect(await m.call("DECRBY", "n", "-9223372036854775808")).toBe(-9223372036854775803n);
      await waitForSync(master, replicant);
      await waitForSync(master, reference);
      await sameOnAll([master, reference, replicant], ["GET", "n"]);
      expect(String(await replicant.call("INFO", "errorstats"))).not.toContain("errorstat_ERR");
      await replicant.call("CONFIG", "SET", "replica-read-only", "no");
      expect(String(await replicant.call("DECRBY", "x", "-9223372036854775808"))).toContain("decrement would overflow");
    });

    test("the master's version is kept across a restart: a partial resync still applies 6.2's XCLAIM", async () => {
      const dir = (await import("../helpers/servers.ts")).tempDir("versions-");
      const { master, replicant, reference } = await trio(redis62, dir);
      const m = await master.client();
      await m.call("XADD", "st", "1-1", "f", "v");
      await m.call("XGROUP", "CREATE", "st", "g", "0");
      await m.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "st", ">");
      await waitForSync(master, replicant);
      // Restarted from its own RDB (saved by SHUTDOWN), it continues with a partial resync.
      const partialBefore = Number((await info(master, "stats")).sync_partial_ok);
      await replicant.call("SHUTDOWN", "SAVE").catch(() => null);
      await replicant.proc.exited;
      await m.call("XDEL", "st", "1-1");
      await m.call("XCLAIM", "st", "g", "bob", "0", "1-1");
      const restarted = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port)], { dir }));
      await waitForSync(master, restarted);
      await waitForSync(master, reference);
      expect(Number((await info(master, "stats")).sync_partial_ok)).toBe(partialBefore + 1);
      await sameOnAll([master, reference, restarted], ["XPENDING", "st", "g", "-", "+", "10"]);
    });
  });
}

for (const kind of [redis72, valkey8]) {
  if (!kind) continue;
  test(`a ${kind.label} master: a PFMERGE its HLL check accepts (before the CVE-2025-32023 fix) applies on Replicant too`, async () => {
    const { master, replicant, reference } = await trio(kind);
    const m = await master.client();
    // A sparse HLL whose runs reach exactly 16384 registers, then a value run past the end.
    const hll = Buffer.from("48594c4c0100000000000000000000804bcb84434a8c4327804c248440f588405f8043c084414a8c49a88042e084418480168040b08c45888041608042458443228078", "hex");
    await m.call("SET", "h", hll);
    expect(await m.call("PFMERGE", "dest", "h")).toBe("OK");
    await waitForSync(master, replicant);
    await waitForSync(master, reference);
    await sameOnAll([master, reference, replicant], ["GET", "dest"]);
    expect(String(await replicant.call("INFO", "errorstats"))).not.toContain("errorstat_INVALIDOBJ");
    // Our own clients get Debian 7.0.15's stricter answer.
    await replicant.call("CONFIG", "SET", "replica-read-only", "no");
    expect(String(await replicant.call("PFMERGE", "dest2", "h"))).toContain("INVALIDOBJ");
  });
}

for (const kind of [redis72, valkey8]) {
  if (!kind) continue;
  test(`a ${kind.label} master: LSET with an index beyond an int applies as its int cast (our clients get 7.0's error)`, async () => {
    const { master, replicant, reference } = await trio(kind);
    const m = await master.client();
    await m.call("RPUSH", "l", "a", "b", "c");
    expect(await m.call("LSET", "l", "9223372036854775807", "x")).toBe("OK");
    expect(await m.call("LSET", "l", "-9223372036854775808", "y")).toBe("OK");
    expect(await m.call("LSET", "l", "4294967297", "z")).toBe("OK");
    await waitForSync(master, replicant);
    await waitForSync(master, reference);
    expect(await sameOnAll([master, reference, replicant], ["LRANGE", "l", "0", "-1"])).toEqual(["y", "z", "x"]);
    expect(String(await replicant.call("INFO", "errorstats"))).not.toContain("errorstat_ERR");
    await replicant.call("CONFIG", "SET", "replica-read-only", "no");
    expect(String(await replicant.call("LSET", "l", "9223372036854775807", "x"))).toContain("index out of range");
  });
}
