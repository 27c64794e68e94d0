// Debugging aid (not a test): replays the reply-diff workload one step at a time against a fresh
// redis-server and a fresh Replicant, and after every step reads one key of one database on
// both (TYPE, a dump of the value, PTTL) through separate connections, printing each step that
// changed what either server shows, until the first step whose replies differ.
//
//   bun test/differential/replay.ts <seed> <phases> <db> <key>

import { removeDir, startRedis, startReplicant } from "../helpers/servers.ts";
import { RespClient } from "../helpers/resp-client.ts";
import { compareReplies, RawClient } from "./runner.ts";
import { ENCODING_LIMITS } from "./limits.ts";
import { ABSOLUTE_LATER, TTL_AT, TTL_MS, Workload } from "./workload.ts";

const [seedArg, phasesArg, dbArg, key] = process.argv.slice(2);
if (!key) {
  console.error("usage: bun test/differential/replay.ts <seed> <phases> <db> <key>");
  process.exit(2);
}
const w = new Workload(Number(seedArg), true);
const plan = Array.from({ length: Number(phasesArg) }, () => w.phase(1000));
const [redis, replicant] = await Promise.all([startRedis(ENCODING_LIMITS), startReplicant(ENCODING_LIMITS)]);
const a = await RawClient.connect(redis.port);
const b = await RawClient.connect(replicant.port);
const wa = await RespClient.connect(redis.port);
const wb = await RespClient.connect(replicant.port);
await wa.call("SELECT", dbArg!);
await wb.call("SELECT", dbArg!);

async function look(c: RespClient): Promise<string> {
  const [type, pttl, dump] = await c.pipeline([["TYPE", key!], ["PTTL", key!], ["DUMP", key!]]);
  return `${type} ttl=${typeof pttl === "number" && pttl > 0 ? "short/long:" + (pttl > 100000 ? "long" : "short") : pttl} ${JSON.stringify(dump).slice(0, 80)}`;
}

let last = "";
let budget = 1500;
try {
  outer: for (let p = 0; p < plan.length; p++) {
    const started = Date.now();
    const deadline = started + budget;
    let prevA = "";
    let prevB = "";
    for (let i = 0; i < plan[p]!.steps.length; i++) {
      const step = plan[p]!.steps[i]!;
      let cmd = step.derive ? step.derive(prevA, prevB) : step.cmd;
      if (cmd === null) continue;
      cmd = cmd.map((x) => (x === TTL_MS ? String(Math.max(1, deadline - Date.now())) : x === TTL_AT ? String(deadline + ABSOLUTE_LATER) : x));
      const [ra, rb] = await Promise.all([a.call(...cmd), b.call(...cmd)]);
      const err = compareReplies(step.cmp, ra, rb, prevA);
      const now = `${await look(wa)} | ${await look(wb)}`;
      if (now !== last || err) {
        console.log(`phase ${p} step ${i} ${JSON.stringify(cmd).slice(0, 160)} -> ${JSON.stringify(ra).slice(0, 80)}${ra === rb ? "" : ` / ${JSON.stringify(rb).slice(0, 80)}`}\n    ${now}`);
        last = now;
      }
      if (err) {
        console.log(`DIFFERENCE: ${err}`);
        break outer;
      }
      prevA = ra;
      prevB = rb;
    }
    const took = Date.now() - started;
    const wait = deadline + ABSOLUTE_LATER + 30 - Date.now();
    if (wait > 0) await Bun.sleep(wait);
    budget = Math.max(400, Math.min(5000, 2 * took + 150));
  }
} finally {
  for (const s of [redis, replicant]) {
    await s.stop();
    removeDir(s.dir);
  }
  process.exit(0);
}
