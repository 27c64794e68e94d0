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
import { formatDiffs, formatFirstDiff, formatOutcomes, RawClient, runPhases } from "./runner.ts";
import { ENCODING_LIMITS } from "./limits.ts";
import { Workload } from "./workload.ts";


let redis: ServerProcess;
let replicant: ServerProcess;

beforeAll(async () => {
  [redis, replicant] = await Promise.all([startRedis(ENCODING_LIMITS), startReplicant(ENCODING_LIMITS)]);
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
  try {
    const stats = await runPhases(a, plan, { second: b, waitDeadlines: true });
    console.log(`commands: ${stats.commands}, phases over their deadline: ${stats.overruns}`);
    console.log(`redis-server replies ok/error: ${formatOutcomes(stats.outcomes)}`);
    if (stats.diffs.length) console.log(`${formatFirstDiff(stats.diffs)}\n\nall differences:\n${formatDiffs(stats.diffs)}`);
    expect(formatDiffs(stats.diffs)).toBe("");
    expect(stats.commands).toBeGreaterThan(phases * 900);
  } finally {
    a.close();
    b.close();
  }
}, 120000);
