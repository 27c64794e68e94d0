// Debugging aid (not a test): replays the reply-diff workload one step at a time against a fresh
// redis-server and a fresh Replicant, and after every step reads one key of one database on
// both (TYPE, a dump of the value, PTTL) through separate connections, printing each step that
// changed what either server shows, until the first step whose replies differ.
//
//   bun test/differential/replay.ts <seed> <phases> <db> <key> [resp3] [noscripts] [events] [stats] [all] [cuts=<phase:step,...>]
//
// With "events", both servers publish keyspace events and the replay stops at the first step
// whose events differ. "cuts" repeats where the test run cut phases short (it prints them).

import { removeDir, startRedis, startReplicant } from "../helpers/servers.ts";
import { RespClient } from "../helpers/resp-client.ts";
import { compareReplies, EventCollector, RawClient } from "./runner.ts";
import { ENCODING_LIMITS } from "./limits.ts";
import { ABSOLUTE_LATER, DATABASES, TTL_AT, TTL_MS, Workload } from "./workload.ts";

const [seedArg, phasesArg, dbArg, key, ...flags] = process.argv.slice(2);
const resp3 = flags.includes("resp3");
const withEvents = flags.includes("events");
/** With "stats": compare keyspace hits/misses after every step. */
const withStats = flags.includes("stats");
async function hitsMisses(c: RawClient): Promise<string> {
  const raw = await c.call("INFO", "everything");
  return raw
    .split("\r\n")
    .filter((l) => l.startsWith("keyspace_hits") || l.startsWith("keyspace_misses") || l.startsWith("total_error_replies") || l.startsWith("errorstat_") || (l.startsWith("cmdstat_") && !l.startsWith("cmdstat_info")))
    .map((l) => l.replace(/,usec=[^,]*,usec_per_call=[^,]*/, ""))
    .sort()
    .join(" ");
}
/** With "all": report each command whose events differ once, and go on. */
const keepGoing = flags.includes("all");
const reported = new Set<string>();
const cuts = new Map((flags.find((f) => f.startsWith("cuts="))?.slice(5).split(",") ?? []).filter(Boolean).map((c) => c.split(":").map(Number) as [number, number]));
if (!key) {
  console.error("usage: bun test/differential/replay.ts <seed> <phases> <db> <key>");
  process.exit(2);
}
// The same plan as test/differential/replies.test.ts builds (its RESP3 run: "resp3 noscripts").
const w = new Workload(Number(seedArg), true, !flags.includes("noscripts"));
const plan = Array.from({ length: Number(phasesArg) }, () => w.phase(2000));
const config = [...ENCODING_LIMITS, "--notify-keyspace-events", process.env.DIFF_NOTIFY ?? "KEAn"];
const [redis, replicant] = await Promise.all([startRedis(config), startReplicant(config)]);
const a = await RawClient.connect(redis.port);
const b = await RawClient.connect(replicant.port);
if (resp3) await Promise.all([a.call("HELLO", "3"), b.call("HELLO", "3")]);
const ea = await EventCollector.connect(redis.port);
const eb = await EventCollector.connect(replicant.port);
let marks = 0;
/** The events both servers published since the last call. */
async function stepEvents(): Promise<[string[], string[]]> {
  const mark = `__keyevent@0__:mark ${++marks}`;
  await Promise.all([a.call("PUBLISH", "__keyevent@0__:mark", String(marks)), b.call("PUBLISH", "__keyevent@0__:mark", String(marks))]);
  await Promise.all([ea.waitFor(mark), eb.waitFor(mark)]);
  const x = ea.events.splice(0).filter((e) => !e.startsWith("__keyevent@0__:mark") && !e.includes("expired"));
  const y = eb.events.splice(0).filter((e) => !e.startsWith("__keyevent@0__:mark") && !e.includes("expired"));
  return [x, y];
}
const wa = await RespClient.connect(redis.port);
const wb = await RespClient.connect(replicant.port);
await wa.call("SELECT", dbArg!);
await wb.call("SELECT", dbArg!);

async function look(c: RespClient): Promise<string> {
  const [type, pttl, dump] = await c.pipeline([["TYPE", key!], ["PTTL", key!], ["DUMP", key!]]);
  return `${type} ttl=${typeof pttl === "number" && pttl > 0 ? "short/long:" + (pttl > 100000 ? "long" : "short") : pttl} ${JSON.stringify(dump).slice(0, process.env.LOOK_FULL ? 100000 : 80)}`;
}

let last = "";
let budget = 1500;
let inMulti = false;
try {
  outer: for (let p = 0; p < plan.length; p++) {
    const started = Date.now();
    const deadline = started + budget;
    let prevA = "";
    let prevB = "";
    for (let i = 0; i < plan[p]!.steps.length; i++) {
      if (cuts.get(p) === i) break;
      const step = plan[p]!.steps[i]!;
      let cmd = step.derive ? step.derive(prevA, prevB) : step.cmd;
      if (cmd === null) continue;
      cmd = cmd.map((x) => (x === TTL_MS ? String(Math.max(1, deadline - Date.now())) : x === TTL_AT ? String(deadline + ABSOLUTE_LATER) : x));
      const [ra, rb] = await Promise.all([a.call(...cmd), b.call(...cmd)]);
      let err: string | null = compareReplies(step.cmp, ra, rb, prevA);
      if (withStats && !err && !inMulti && cmd[0]!.toUpperCase() !== "MULTI") {
        const [x, y] = await Promise.all([hitsMisses(a), hitsMisses(b)]);
        // INFO itself is no lookup; the deltas since the last step must agree.
        if (x !== y) {
          const xs = new Set(x.split(" "));
          const ys = new Set(y.split(" "));
          err = `stats redis-server ${[...xs].filter((t) => !ys.has(t)).join(" ")} vs Replicant ${[...ys].filter((t) => !xs.has(t)).join(" ")}`;
        }
      }
      // Inside MULTI the marker would be queued too: events are compared at EXEC.
      const name = cmd[0]!.toUpperCase();
      if (name === "MULTI") inMulti = true;
      else if (name === "EXEC" || name === "DISCARD") inMulti = false;
      if (withEvents && !err && !inMulti) {
        const [x, y] = await stepEvents();
        // (Sorted: a set's members come in hashtable order, e.g. SORT ... BY lookups.)
        if (JSON.stringify([...x].sort()) !== JSON.stringify([...y].sort())) err = `events ${JSON.stringify(x)} vs ${JSON.stringify(y)}`;
      }
      // (The look itself publishes keymiss events: not in events mode.)
      const now = withEvents ? "" : `${await look(wa)} | ${await look(wb)}`;
      if (now !== last || err) {
        console.log(`phase ${p} step ${i} ${JSON.stringify(cmd).slice(0, 160)} -> ${JSON.stringify(ra).slice(0, 80)}${ra === rb ? "" : ` / ${JSON.stringify(rb).slice(0, 80)}`}\n    ${now}`);
        last = now;
      }
      if (err && keepGoing && (err.startsWith("events") || err.startsWith("stats"))) {
        // Stats differences stay: resynchronize by resetting them on both.
        if (err.startsWith("stats")) {
          await Promise.all([a.call("CONFIG", "RESETSTAT"), b.call("CONFIG", "RESETSTAT")]);
        }
        const name = cmd[0]!.toUpperCase() + (["OBJECT", "XINFO", "XGROUP"].includes(cmd[0]!.toUpperCase()) ? ` ${cmd[1]}` : "");
        if (!reported.has(name)) {
          reported.add(name);
          console.log(`EVENTS DIFFER: ${JSON.stringify(cmd).slice(0, 200)}: ${err.slice(0, 400)}`);
        }
        err = null;
      }
      if (err) {
        console.log(`DIFFERENCE: ${err}`);
        if (process.env.REPLAY_AFTER) {
          for (const extra of process.env.REPLAY_AFTER.split(";")) {
            const args = extra.trim().split(/\s+/);
            if (args[0] === "HEX") {
              const [xa, xb] = await Promise.all([a.call("GET", args[1]!), b.call("GET", args[1]!)]);
              console.log(`${extra} -> ${Buffer.from(xa, "latin1").toString("hex")} / ${Buffer.from(xb, "latin1").toString("hex")}`);
              continue;
            }
            const [xa, xb] = await Promise.all([a.call(...args), b.call(...args)]);
            console.log(`${extra} -> ${JSON.stringify(xa)}${xa === xb ? "" : ` / ${JSON.stringify(xb)}`}`);
          }
        }
        break outer;
      }
      prevA = ra;
      prevB = rb;
    }
    const took = Date.now() - started;
    const wait = deadline + ABSOLUTE_LATER + 30 - Date.now();
    if (wait > 0) await Bun.sleep(wait);
    const sweep = DATABASES.flatMap((db) => [["SELECT", String(db)], ["SCAN", "0", "COUNT", "100000"]]);
    await Promise.all([a.pipeline(sweep), b.pipeline(sweep)]);
    budget = Math.max(400, Math.min(8000, 2.5 * took + 300));
  }
} catch (e) {
  console.error(e);
} finally {
  for (const s of [redis, replicant]) {
    await s.stop();
    removeDir(s.dir);
  }
  process.exit(0);
}
