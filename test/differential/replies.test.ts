// Differential test, replies: the same seeded workload over every command family, sent to a
// standalone redis-server 7.0 and to a standalone Replicant, replies compared one by one -
// byte for byte where Redis's reply is deterministic, as multisets where it follows hashtable
// order, by shape only where it is random, with a tolerance for TTLs and stream idle times.
// This pins the reply formats and the error strings of every write a master can propagate.
//
// DIFF_REPLIES_SEED overrides the seed (printed); RANDOM_SEEDS=1 draws a fresh one.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { seedFromEnv } from "../commands/zsets-diff-client.ts";
import { removeDir, type ServerProcess, startRedis, startReplicant } from "../helpers/servers.ts";
import { compareEvents, EventCollector, formatDiffs, formatFirstDiff, formatOutcomes, RawClient, runPhases } from "./runner.ts";
import { ENCODING_LIMITS } from "./limits.ts";
import { Workload } from "./workload.ts";


let redis: ServerProcess;
let replicant: ServerProcess;

beforeAll(async () => {
  const config = [...ENCODING_LIMITS, "--notify-keyspace-events", "KEA"];
  [redis, replicant] = await Promise.all([startRedis(config), startReplicant(config)]);
});

afterAll(async () => {
  for (const s of [redis, replicant]) {
    if (!s) continue;
    await s.stop();
    removeDir(s.dir);
  }
});

test("a seeded workload over every family: replies agree with redis-server's", async () => {
  const seed = seedFromEnv("DIFF_REPLIES_SEED");
  const phases = Number(process.env.DIFF_REPLIES_PHASES ?? 12);
  const w = new Workload(seed, true);
  const plan = Array.from({ length: phases }, () => w.phase(1000));
  const a = await RawClient.connect(redis.port);
  const b = await RawClient.connect(replicant.port);
  const ea = await EventCollector.connect(redis.port);
  const eb = await EventCollector.connect(replicant.port);
  try {
    const stats = await runPhases(a, plan, { second: b, waitDeadlines: true });
    // Every keyspace event so far has arrived once this one has.
    const marker = ["PUBLISH", "__keyevent@0__:end-of-run", "marker"];
    await Promise.all([a.pipeline([marker]), b.pipeline([marker])]);
    await Promise.all([ea.waitFor("__keyevent@0__:end-of-run marker"), eb.waitFor("__keyevent@0__:end-of-run marker")]);
    const expired = (e: string[]) => e.filter((x) => /^__keyevent@\d+__:expired /.test(x)).length;
    console.log(`keyspace events: ${ea.events.length} / ${eb.events.length} (expired: ${expired(ea.events)} / ${expired(eb.events)})`);
    console.log(`commands: ${stats.commands}, phases cut short near their deadline: ${stats.overruns}`);
    console.log(`redis-server replies ok/error: ${formatOutcomes(stats.outcomes)}`);
    if (process.env.DIFF_SHOW_ERRORS) console.log([...stats.errors.entries()].sort((x, y) => y[1] - x[1]).map(([k, n]) => `${n} ${k}`).join("\n"));
    if (stats.diffs.length) console.log(`${formatFirstDiff(stats.diffs)}\n\nall differences:\n${formatDiffs(stats.diffs)}`);
    expect(formatDiffs(stats.diffs)).toBe("");
    const eventCounts = (e: string[]) => {
      const m = new Map<string, number>();
      for (const x of e) if (x.startsWith("__keyevent")) m.set(x.slice(x.indexOf(":") + 1, x.indexOf(" ")), (m.get(x.slice(x.indexOf(":") + 1, x.indexOf(" "))) ?? 0) + 1);
      return m;
    };
    const ca = eventCounts(ea.events);
    const cb = eventCounts(eb.events);
    const names = [...new Set([...ca.keys(), ...cb.keys()])].sort();
    console.log(`events per type (redis-server/Replicant): ${names.map((n) => `${n} ${ca.get(n) ?? 0}/${cb.get(n) ?? 0}`).join(", ")}`);
    expect(compareEvents(ea.events, eb.events)).toBeNull();
    expect(expired(eb.events) > 0).toBe(expired(ea.events) > 0);
    expect(stats.commands).toBeGreaterThan(phases * 600);
  } finally {
    a.close();
    b.close();
    ea.close();
    eb.close();
  }
}, 120000);
