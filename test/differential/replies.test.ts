// Differential test, replies: the same seeded workload over every command family, sent to a
// standalone redis-server 7.0 and to a standalone Replicant, replies compared one by one -
// byte for byte where Redis's reply is deterministic, as multisets where it follows hashtable
// order, by shape only where it is random, with a tolerance for TTLs and stream idle times.
// This pins the reply formats and the error strings of every write a master can propagate.
// Also compared: every keyspace event (notify-keyspace-events KEAn, in order, "expired" aside),
// and the statistics the run leaves (calls / rejected / failed per command, errors per code,
// keyspace hits and misses, expired keys). Once in RESP2 (with scripts), once in RESP3.
//
// DIFF_REPLIES_SEED / DIFF_REPLIES_RESP3_SEED override the seeds (printed); RANDOM_SEEDS=1
// draws fresh ones. A difference prints the commands that led to it; test/differential/
// replay.ts replays a run step by step to find the first one.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { seedFromEnv } from "../helpers/seeded.ts";
import { type ServerProcess, startRedis, startReplicant, stopServers } from "../helpers/servers.ts";
import { compareEvents, EventCollector, formatDiffs, formatFirstDiff, formatOutcomes, parseReply, RawClient, runPhases } from "./runner.ts";
import { ENCODING_LIMITS } from "./limits.ts";
import { Workload } from "./workload.ts";

let redis: ServerProcess;
let replicant: ServerProcess;

beforeAll(async () => {
  // DIFF_DEFAULT_LIMITS=1: Redis's default encoding limits instead of the small ones.
  const limits = process.env.DIFF_DEFAULT_LIMITS ? [] : ENCODING_LIMITS;
  const config = [...limits, "--notify-keyspace-events", process.env.DIFF_NOTIFY ?? "KEAn"];
  [redis, replicant] = await Promise.all([startRedis(config), startReplicant(config)]);
});

afterAll(() => stopServers([redis, replicant]));

/** INFO fields that the same command sequence must leave equal on both servers. */
async function statistics(c: RawClient): Promise<Record<string, string>> {
  const [raw] = await c.pipeline([["INFO", "everything"]]);
  const text = String(parseReply(raw!));
  const out: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const name = line.slice(0, i);
    const value = line.slice(i + 1);
    if (name.startsWith("cmdstat_")) {
      // usec aside; INFO itself is not counted yet for this call on either side.
      out[name] = value.split(",").filter((f) => !f.startsWith("usec")).join(",");
    } else if (name.startsWith("errorstat_") || ["keyspace_hits", "keyspace_misses", "expired_keys", "total_error_replies", "pubsub_patterns"].includes(name)) {
      out[name] = value;
    }
  }
  return out;
}

/** "name redis/replicant" for each keyevent name, to show which events are missing. */
function eventCounts(a: string[], b: string[]): string {
  const count = (events: string[]) => {
    const m = new Map<string, number>();
    for (const e of events) {
      if (!e.startsWith("__keyevent")) continue;
      const name = e.slice(e.indexOf(":") + 1, e.indexOf(" "));
      m.set(name, (m.get(name) ?? 0) + 1);
    }
    return m;
  };
  const ca = count(a);
  const cb = count(b);
  return [...new Set([...ca.keys(), ...cb.keys()])]
    .sort()
    .map((n) => `${n} ${ca.get(n) ?? 0}/${cb.get(n) ?? 0}`)
    .join(", ");
}

async function run(protocol: 2 | 3, seedName: string, scripting: boolean): Promise<void> {
  const seed = seedFromEnv(seedName);
  const phases = Number(process.env.DIFF_REPLIES_PHASES ?? 5);
  const w = new Workload(seed, true, scripting);
  const plan = Array.from({ length: phases }, () => w.phase(2000));
  const a = await RawClient.connect(redis.port);
  const b = await RawClient.connect(replicant.port);
  if (protocol === 3) {
    const hello = await Promise.all([a.pipeline([["HELLO", "3"]]), b.pipeline([["HELLO", "3"]])]);
    expect(hello.map((r) => r[0]![0])).toEqual(["%", "%"]);
  }
  const ea = await EventCollector.connect(redis.port);
  const eb = await EventCollector.connect(replicant.port);
  try {
    await Promise.all([a.pipeline([["FLUSHALL"], ["CONFIG", "RESETSTAT"]]), b.pipeline([["FLUSHALL"], ["CONFIG", "RESETSTAT"]])]);
    ea.events.length = 0;
    eb.events.length = 0;
    const stats = await runPhases(a, plan, { second: b, waitDeadlines: true });
    // Every keyspace event so far has arrived once this one has.
    const marker = ["PUBLISH", "__keyevent@0__:end-of-run", "marker"];
    await Promise.all([a.pipeline([marker]), b.pipeline([marker])]);
    await Promise.all([ea.waitFor("__keyevent@0__:end-of-run marker"), eb.waitFor("__keyevent@0__:end-of-run marker")]);
    const expired = (e: string[]) => e.filter((x) => /^__keyevent@\d+__:expired /.test(x)).length;
    console.log(`keyspace events: ${ea.events.length} / ${eb.events.length} (expired: ${expired(ea.events)} / ${expired(eb.events)})`);
    console.log(`commands: ${stats.commands}, phases cut short near their deadline: ${stats.overruns}${stats.cuts.length ? ` (at ${stats.cuts.join(",")})` : ""}`);
    console.log(`redis-server replies ok/error: ${formatOutcomes(stats.outcomes)}`);
    if (process.env.DIFF_SHOW_ERRORS) console.log([...stats.errors.entries()].sort((x, y) => y[1] - x[1]).map(([k, n]) => `${n} ${k}`).join("\n"));
    if (stats.diffs.length) console.log(`${formatFirstDiff(stats.diffs)}\n\nall differences:\n${formatDiffs(stats.diffs)}`);
    expect(formatDiffs(stats.diffs)).toBe("");
    const eventDiff = compareEvents(ea.events, eb.events);
    if (eventDiff !== null) console.log(`events per type (redis-server/Replicant): ${eventCounts(ea.events, eb.events)}`);
    expect(eventDiff).toBeNull();
    // The statistics the same commands leave: calls, rejected and failed calls per command,
    // errors per code, keyspace hits and misses, expired keys.
    const [sa, sb] = await Promise.all([statistics(a), statistics(b)]);
    expect(sb).toEqual(sa);
    expect(expired(eb.events) > 0).toBe(expired(ea.events) > 0);
    expect(stats.commands).toBeGreaterThan(phases * 1200);
  } finally {
    a.close();
    b.close();
    ea.close();
    eb.close();
  }
}

test("a seeded workload over every family, RESP2: replies and keyspace events agree with redis-server's", async () => {
  await run(2, "DIFF_REPLIES_SEED", true);
}, 120000);

test("the same in RESP3 (maps, sets, doubles, nested pairs), without scripts", async () => {
  await run(3, "DIFF_REPLIES_RESP3_SEED", false);
}, 120000);
