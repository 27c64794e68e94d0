// Differential test, replication: a seeded workload over every command family runs on a real
// redis-server 7.0 master with two replicas attached side by side, Replicant and a real
// redis-server. Short TTLs make keys expire during the run (the master's DELs must reach the
// replicas; a replica never expires keys itself), random commands (SPOP, XADD *) are in, and
// the replica links are killed every few hundred ms - from Replicant's side (CLIENT KILL TYPE
// master) and from the master's (CLIENT KILL TYPE replica) - so partial resyncs happen in
// between. At the end, once the offsets match, every key of every database is compared:
// with the master (type, value, TTL, stream groups but for what a Redis replica does not
// follow) and with the redis-server replica (the same, plus OBJECT ENCODING).
//
// It runs against every master kind: Debian's redis-server always, and Redis 6.2 / 7.2 / 7.4
// and Valkey 8 when ../shared/masters is beside the clone; the control replica is a server of
// the master's own version, and the workload uses the commands that version has.
//
// DIFF_REPL_SEED overrides the seed (printed); RANDOM_SEEDS=1 draws a fresh one;
// DIFF_REPL_MASTERS=7.4,valkey picks master kinds by a part of their label.

import { afterAll, expect, test } from "bun:test";
import { seedFromEnv } from "../helpers/seeded.ts";
import type { RespClient } from "../helpers/resp-client.ts";
import { debianRedis, encodingDirectives, type MasterKind, redisCompat, sharedMasters } from "../helpers/masters.ts";
import { info, type ServerProcess, startRedis, startReplicant, waitFor, waitForSync, stopServers, tracker } from "../helpers/servers.ts";
import { REPLICATION_ENCODING_LIMITS as ENCODING_LIMITS } from "./limits.ts";
import { compareEvents, EventCollector, formatOutcomes, RawClient, runPhases } from "./runner.ts";
import { diffSnapshots, keyCount, snapshot, typeCounts } from "./snapshot.ts";
import { DATABASES, Workload } from "./workload.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

const track = tracker(started);

async function dbsizes(c: RespClient): Promise<number[]> {
  const out: number[] = [];
  for (const db of DATABASES) {
    await c.call("SELECT", db);
    out.push(Number(await c.call("DBSIZE")));
  }
  await c.call("SELECT", 0);
  return out;
}

/**
 * The errors a server's log says it sent its master (both servers log Redis's words), without
 * the pid and time, sorted: the same errors may come at different moments. (Redis 6.2 logs
 * them without the "ERR " of the reply.)
 */
function errorsToMaster(s: ServerProcess): string[] {
  return s
    .output()
    .split("\n")
    .filter((l) => /sending an error to its (master|primary)/.test(l))
    .map((l) => l.slice(l.indexOf("==")).replace("to its primary", "to its master").replace(/: '-?(ERR )?/, ": '").replace(/ after processing the command '[^']*'$/, ""))
    .sort();
}

async function workloadAgainst(kind: MasterKind): Promise<void> {
  const seed = seedFromEnv("DIFF_REPL_SEED");
  const phases = Number(process.env.DIFF_REPL_PHASES ?? 15);
  const compat = redisCompat(kind);
  const w = new Workload(seed, false, true, Number(process.env.DIFF_COMPAT_WORKLOAD ?? compat));
  const plan = Array.from({ length: phases }, () => w.phase(1000));
  const limits = encodingDirectives(kind, ENCODING_LIMITS);
  const fieldTtls = compat >= 70400;

  const master = await track(startRedis([...limits, "--repl-backlog-size", "64mb"], { bin: kind.bin }));
  // The replicas publish keyspace events for what they apply: both must publish the same.
  // (Redis 6.2 has no "n" class.)
  const replicaConfig = [...limits, "--notify-keyspace-events", compat >= 70000 ? "KEAn" : "KEA", "--replicaof", "127.0.0.1", String(master.port)];
  const [replicant, reference] = await Promise.all([track(startReplicant(replicaConfig)), track(startRedis(replicaConfig, { bin: kind.bin }))]);
  await waitForSync(master, replicant);
  await waitForSync(master, reference);
  // A replica of Replicant of the master's own version (Redis 6.2 cannot load the RDB 10 we
  // write): it must end equal to the master too.
  const chained = compat >= 70000 ? await track(startRedis([...limits, "--replicaof", "127.0.0.1", String(replicant.port)], { bin: kind.bin })) : null;
  if (chained) await waitForSync(replicant, chained);
  const eventsReplicant = await EventCollector.connect(replicant.port);
  const eventsReference = await EventCollector.connect(reference.port);
  const partialBefore = Number((await info(master, "stats")).sync_partial_ok);
  const fullBefore = Number((await info(master, "stats")).sync_full);

  const mc = await RawClient.connect(master.port);
  let kills = 0;
  let lastKill = Date.now();
  const between = async () => {
    if (Date.now() - lastKill < 200) return;
    lastKill = Date.now();
    // Alternately from either end of the link (counted when a link was up to be killed).
    const killed = kills % 2 === 0 ? await replicant.call("CLIENT", "KILL", "TYPE", "master") : await master.call("CLIENT", "KILL", "TYPE", "replica");
    if (Number(killed) > 0) kills++;
  };
  const stats = await runPhases(mc, plan, { waitDeadlines: false, between });
  mc.close();
  console.log(`commands: ${stats.commands}, link kills: ${kills}`);
  console.log(`master replies ok/error: ${formatOutcomes(stats.outcomes)}`);

  // Every short TTL has passed: a SCAN on the master deletes what is left (propagating DELs).
  const m = await master.client();
  await waitFor("short TTLs to pass", async () => {
    for (const db of DATABASES) {
      await m.call("SELECT", db);
      let cursor = "0";
      do {
        const [next] = (await m.call("SCAN", cursor, "COUNT", 1000)) as [string, string[]];
        cursor = next;
      } while (cursor !== "0");
    }
    // Nothing left with a TTL under a minute: the remaining TTLs are the long ones.
    const s = await snapshot(m, DATABASES, { vsMaster: true, fieldTtls, compat });
    for (const keys of s.values()) {
      for (const k of keys.values()) {
        if (k.pttl >= 0 && k.pttl < 60000) return false;
        // Field TTLs (7.4): [field, value, expiry time] triples.
        if (k.type === "hash" && fieldTtls && (k.value as string[][]).some((f) => Number(f[2]) >= 0 && Number(f[2]) < Date.now() + 60000)) return false;
      }
    }
    return true;
  }, 15000, 200);

  await waitForSync(master, replicant);
  await waitForSync(master, reference);
  const r = await replicant.client();
  const x = await reference.client();
  const fromMaster = await snapshot(m, DATABASES, { vsMaster: true, fieldTtls, compat });
  const fromReplicant = await snapshot(r, DATABASES, { vsMaster: true, fieldTtls, compat });
  const fromReference = await snapshot(x, DATABASES, { vsMaster: false, fieldTtls, compat });
  const fromReplicantFull = await snapshot(r, DATABASES, { vsMaster: false, fieldTtls, compat });
  const vsReference = diffSnapshots(fromReference, fromReplicantFull, { encodings: true });
  // Against the master, the differences allowed are those a redis-server replica has too:
  // Redis 7.0 itself does not propagate a few effects (a BITFIELD whose writes all FAILed
  // still creates or pads the key; consumers created by reads that deliver nothing).
  const referenceVsMaster = new Set(diffSnapshots(fromMaster, await snapshot(x, DATABASES, { vsMaster: true, fieldTtls, compat }), { encodings: false, limit: 1000 }));
  const vsMaster = diffSnapshots(fromMaster, fromReplicant, { encodings: false, limit: 1000 }).filter((d) => !referenceVsMaster.has(d));
  if (referenceVsMaster.size) console.log(`differences of the redis-server replica with the master, Replicant's too: ${[...referenceVsMaster].map((d) => d.slice(0, 100)).join("; ")}`);
  expect({ vsMaster, vsReference, errors: errorsToMaster(replicant) }).toEqual({ vsMaster: [], vsReference: [], errors: errorsToMaster(reference) });
  if (chained) {
    await waitForSync(replicant, chained);
    const viaReplicant = diffSnapshots(fromMaster, await snapshot(await chained.client(), DATABASES, { vsMaster: true, fieldTtls, compat }), { encodings: false, limit: 1000 }).filter((d) => !referenceVsMaster.has(d));
    expect({ viaReplicant }).toEqual({ viaReplicant: [] });
  }
  // A full sync of the dataset the run left, diskless and disk-based: every RDB type this
  // master writes reaches a fresh Replicant intact.
  for (const diskless of ["yes", "no"]) {
    await m.call("CONFIG", "SET", "repl-diskless-sync", diskless);
    const fresh = await track(startReplicant([...limits, "--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, fresh);
    const afterFullSync = diffSnapshots(fromMaster, await snapshot(await fresh.client(), DATABASES, { vsMaster: true, fieldTtls, compat }), { encodings: false, limit: 1000 }).filter((d) => !referenceVsMaster.has(d));
    expect({ diskless, afterFullSync, errors: errorsToMaster(fresh) }).toEqual({ diskless, afterFullSync: [], errors: [] });
    await fresh.stop();
  }
  // The master's DELs reached the replica, and it deleted nothing by itself: DBSIZE counts
  // logically expired keys too, so it equals the redis-server replica's only then.
  expect(await dbsizes(r)).toEqual(await dbsizes(x));
  console.log(`compared ${keyCount(fromMaster)} keys: ${JSON.stringify(typeCounts(fromReference))}`);

  // The same events, in the same order (PUBLISH reaches the replicas through the stream too).
  await m.call("PUBLISH", "__keyevent@0__:end-of-run", "marker");
  await Promise.all([eventsReplicant.waitFor("__keyevent@0__:end-of-run marker"), eventsReference.waitFor("__keyevent@0__:end-of-run marker")]);
  eventsReplicant.close();
  eventsReference.close();
  console.log(`keyspace events on the replicas: ${eventsReference.events.length} / ${eventsReplicant.events.length}`);
  // Redis 6.2 notifies by its own rules (a few events differ from 7.0's, which Replicant has):
  // its events are not compared, its data is.
  if (compat >= 70000) expect(compareEvents(eventsReference.events, eventsReplicant.events)).toBeNull();
  expect(eventsReplicant.events.length).toBeGreaterThan(1000);

  const after = await info(master, "stats");
  console.log(`sync_partial_ok ${partialBefore} -> ${after.sync_partial_ok}, sync_full ${fullBefore} -> ${after.sync_full}`);
  expect(kills).toBeGreaterThanOrEqual(3);
  expect(Number(after.sync_partial_ok)).toBeGreaterThan(partialBefore);
  // Every reconnection resumed from the backlog: no new full sync (but the two fresh replicas').
  expect(Number(after.sync_full)).toBe(fullBefore + 2);
  expect(keyCount(fromMaster)).toBeGreaterThan(40);
}

const only = process.env.DIFF_REPL_MASTERS?.split(",");
const kinds = [debianRedis(), ...sharedMasters("the replication differential test against Redis 6.2, 7.2, 7.4 and Valkey 8 masters")];
for (const kind of kinds.filter((k) => !only || only.some((o) => k.label.includes(o)))) {
  test(`a seeded workload on a ${kind.label} master: Replicant ends equal to the master and to a ${kind.label} replica, through killed links`, () => workloadAgainst(kind), 120000);
}
