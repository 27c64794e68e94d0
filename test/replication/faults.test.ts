// Faults: a master that dies mid-transfer, sends a corrupt RDB, sends garbage in the stream,
// stalls in the handshake, or stops talking once connected. Each time the replica must log
// why, keep serving the data it has, never crash, and retry.

import { afterAll, describe, expect, test } from "bun:test";
import { encodeCommand } from "../../src/protocol/reply-parser.ts";
import { bulkPayload, eofPayload, rdbFromRedis, startScriptedMaster, type ScriptedMaster } from "../helpers/scripted-master.ts";
import { info, startRedis, startReplicant, waitFor, waitForSync, type ServerProcess, stopServers, tracker } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
const scripted: ScriptedMaster[] = [];
afterAll(async () => {
  await stopServers(started);
  for (const m of scripted) m.stop();
});
const track = tracker(started);

async function alive(s: ServerProcess): Promise<void> {
  expect(s.proc.exitCode).toBeNull();
  expect(await s.call("PING")).toBe("PONG");
}

describe("faults on the master side", () => {
  test("master killed mid-transfer: old data kept and served, retry succeeds", async () => {
    // First sync a small dataset from master A.
    const a = await track(startRedis());
    await a.call("SET", "old", "data");
    for (const load of ["disabled", "swapdb"]) {
      const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(a.port), "--repl-diskless-load", load]));
      await waitForSync(a, replica);
      // Master B has a big dataset and produces its RDB slowly (rdb-key-save-delay, µs per key).
      const b = await track(startRedis(["--repl-diskless-sync", load === "swapdb" ? "yes" : "no"]));
      const bc = await b.client();
      const batch: Array<Array<string | number>> = [];
      for (let i = 0; i < 20000; i++) batch.push(["SET", `new:${i}`, "x".repeat(100)]);
      await bc.pipeline(batch);
      await bc.call("CONFIG", "SET", "rdb-key-save-delay", 200);
      await replica.call("REPLICAOF", "127.0.0.1", b.port);
      await waitFor("transfer in progress", async () => (await info(replica, "replication")).master_sync_in_progress === "1", 15000, 10);
      await b.stop();
      await replica.waitForLog(/I\/O error trying to sync with MASTER|Connection with master lost|aborting the transfer/);
      // Old data still there and served.
      await alive(replica);
      if (load === "swapdb") expect(await replica.call("GET", "old")).toBe("data");
      // Restart B on the same port, fast this time: the retry completes.
      const b2 = await track(startRedis(["--repl-diskless-sync", "no"], { port: b.port }));
      await b2.call("SET", "after", "restart");
      await waitForSync(b2, replica);
      expect(await replica.call("GET", "after")).toBe("restart");
      expect(await replica.call("GET", "old")).toBeNull();
      expect(replica.output()).not.toContain("Internal error");
    }
  }, 120000);

  test("a corrupt RDB aborts the sync with a clear log line; the data held is kept", async () => {
    const good = await rdbFromRedis([["SET", "a", "1"], ["RPUSH", "l", "x", "y"], ["HSET", "h", "f", "v"]]);
    const corrupt = Buffer.from(good);
    // Damage the middle of the payload (past the header and AUX fields).
    for (let i = Math.floor(corrupt.length / 2); i < corrupt.length - 12; i += 3) corrupt[i] = 0xee;
    for (const [name, payload, load] of [
      ["disk load", bulkPayload(corrupt), "disabled"],
      ["diskless load", eofPayload(corrupt), "swapdb"],
    ] as const) {
      const real = await track(startRedis());
      await real.call("SET", "kept", "yes");
      const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(real.port), "--repl-diskless-load", load]));
      await waitForSync(real, replica);
      const fake = startScriptedMaster({ payload });
      scripted.push(fake);
      await replica.call("REPLICAOF", "127.0.0.1", fake.port);
      await replica.waitForLog(/Failed trying to load the MASTER synchronization DB|aborting the transfer/, 15000);
      await waitFor(`${name}: retry`, () => fake.connections >= 2, 15000);
      await alive(replica);
      expect(await replica.call("GET", "kept")).toBe("yes");
      expect(replica.output()).not.toContain("Internal error");
    }
  }, 60000);

  test("a truncated diskless payload (master gone before the mark) keeps the data", async () => {
    const good = await rdbFromRedis([["SET", "a", "1"]]);
    const real = await track(startRedis());
    await real.call("SET", "kept", "yes");
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(real.port), "--repl-diskless-load", "swapdb"]));
    await waitForSync(real, replica);
    const fake = startScriptedMaster({ payload: Buffer.concat([Buffer.from(`$EOF:${"m".repeat(40)}\r\n`), good.subarray(0, good.length - 5)]) });
    scripted.push(fake);
    await replica.call("REPLICAOF", "127.0.0.1", fake.port);
    await waitFor("transfer started", async () => fake.received.some((c) => c[0] === "PSYNC"));
    fake.stop();
    await replica.waitForLog(/I\/O error trying to sync with MASTER/);
    await alive(replica);
    expect(await replica.call("GET", "kept")).toBe("yes");
  });

  test("garbage in the command stream drops the link (no crash), data kept, then a full resync", async () => {
    const rdb = await rdbFromRedis([["SET", "from-rdb", "1"]]);
    const stream = Buffer.concat([encodeCommand(["SET", "streamed", "ok"]), Buffer.from("*1\r\n!!!garbage\r\n")]);
    // Only the first PSYNC is answered: the reconnection must not replace the data checked below.
    const fake = startScriptedMaster({ payload: eofPayload(rdb), stream, onlyFirstPsync: true });
    scripted.push(fake);
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(fake.port)]));
    await replica.waitForLog("Protocol error");
    await alive(replica);
    expect(await replica.call("GET", "from-rdb")).toBe("1");
    expect(await replica.call("GET", "streamed")).toBe("ok");
    // It reconnects, and since the stream was corrupt it does not trust its offset: PSYNC ? -1.
    await waitFor("reconnect", () => fake.received.filter((c) => c[0] === "PSYNC").length >= 2, 15000);
    expect(fake.received.filter((c) => c[0] === "PSYNC").at(-1)).toEqual(["PSYNC", "?", "-1"]);
  });

  test("handshake stall: repl-timeout drops the attempt and retries", async () => {
    const fake = startScriptedMaster({ silent: true });
    scripted.push(fake);
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(fake.port), "--repl-timeout", "2"]));
    await replica.waitForLog("Timeout connecting to the MASTER...", 10000);
    await waitFor("retry", () => fake.connections >= 2, 10000);
    await alive(replica);
  });

  test("a connected master that goes silent is timed out; the link is re-established with PSYNC", async () => {
    const master = await track(startRedis());
    await master.call("SET", "k", "v");
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(master.port), "--repl-timeout", "2"]));
    await waitForSync(master, replica);
    master.proc.kill("SIGSTOP");
    await replica.waitForLog("MASTER timeout: no data nor PING received...", 10000);
    master.proc.kill("SIGCONT");
    await alive(replica);
    expect(await replica.call("GET", "k")).toBe("v");
    await waitForSync(master, replica);
    expect(Number((await info(master)).sync_partial_ok)).toBeGreaterThanOrEqual(1);
  });

  test("a master that answers PSYNC with -ERR gets SYNC (pre-PSYNC masters)", async () => {
    const rdb = await rdbFromRedis([["SET", "legacy", "1"]]);
    // SYNC gets the payload directly (no +FULLRESYNC line), then the stream.
    const fake = startScriptedMaster({ psyncReply: "-ERR unknown command 'PSYNC'", payload: null, syncPayload: bulkPayload(rdb) });
    scripted.push(fake);
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", String(fake.port)]));
    await replica.waitForLog("Retrying with SYNC...");
    await waitFor("loaded", async () => (await replica.call("GET", "legacy")) === "1");
    expect((await info(replica, "replication")).master_link_status).toBe("up");
  });

  test("an unreachable master: the replica keeps retrying and keeps serving", async () => {
    const replica = await track(startReplicant(["--replicaof", "127.0.0.1", "1"]));
    await replica.waitForLog(/Error condition on socket for SYNC|Connecting to MASTER/);
    await alive(replica);
    const r = await info(replica, "replication");
    expect(r.master_link_status).toBe("down");
  });
});
