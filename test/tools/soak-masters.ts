// Soak run against every master kind, by hand (minutes per master, too long for the suite):
// a master holding about --keys keys of every type (version-specific ones included: listpack
// sets from 7.2, field TTLs from 7.4), a full sync into Replicant and into a same-version
// redis replica, then --minutes of the differential test's randomized workload with the
// replica links killed every --kill-ms, then a key-by-key comparison of everything (type,
// value, TTL, field TTLs) and the errors each replica sent its master.
//
//   bun run build && bun test/tools/soak-masters.ts [--keys 1000000] [--minutes 3] [--seeds 1,2]
//       [--masters 7.0,6.2,7.2,7.4,valkey] [--kill-ms 2000]
//
// Prints one line per run: master, seed, keys compared, differing keys, errors to the master.

import { debianRedis, encodingDirectives, type MasterKind, redisCompat, sharedMasters } from "../helpers/masters.ts";
import type { RespClient } from "../helpers/resp-client.ts";
import { removeDir, type ServerProcess, startRedis, startReplicant, waitForSync } from "../helpers/servers.ts";
import { RawClient, runPhases } from "../differential/runner.ts";
import { DATABASES, Workload } from "../differential/workload.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const KEYS = Number(opt("keys", "1000000"));
const MINUTES = Number(opt("minutes", "3"));
const SEEDS = opt("seeds", "1").split(",").map(Number);
const KILL_MS = Number(opt("kill-ms", "2000"));
const ONLY = opt("masters", "").split(",").filter(Boolean);
process.env.REPLICANT_BIN ??= "dist/replicant";

/** The populated dataset's database: the workload (FLUSHDB, SWAPDB) stays in 0-3. */
const DATA_DB = 5;

async function populate(c: RespClient, compat: number): Promise<void> {
  await c.call("SELECT", DATA_DB);
  const strings = Math.floor(KEYS * 0.7);
  const r = await c.call("DEBUG", "POPULATE", strings, "key", 32);
  if (r !== "OK") throw new Error(`DEBUG POPULATE: ${String(r)}`);
  const rest = KEYS - strings;
  let batch: Array<Array<string | number>> = [];
  const flush = async () => {
    if (batch.length) await c.pipeline(batch);
    batch = [];
  };
  const later = Date.now() + 3600_000;
  for (let i = 0; i < rest; i++) {
    const kind = i % 12;
    if (kind < 3) batch.push(["HSET", `hash:${i}`, "f1", `v${i}`, "f2", "x".repeat(20), "f3", i, "f4", "yy"]);
    else if (kind === 3) batch.push(["HSET", `bighash:${i}`, ...Array.from({ length: 140 }, (_, j) => [`f${j}`, `v${j}`]).flat()]);
    else if (kind < 6) batch.push(["RPUSH", `list:${i}`, "a", "b", `c${i}`, "dddddddd", i]);
    else if (kind === 6) batch.push(["SADD", `intset:${i}`, i, i + 1, i + 2]);
    else if (kind === 7) batch.push(["SADD", `set:${i}`, `m${i}`, "a", "b"]);
    else if (kind === 8) batch.push(["ZADD", `zset:${i}`, 1, "a", 2.5, "b", i, `m${i}`]);
    else if (kind === 9) batch.push(["SET", `ttl:${i}`, `v${i}`, "PX", String(3_600_000 + (i % 1000))]);
    else if (kind === 10 && compat >= 70400) {
      batch.push(["HSET", `hfe:${i}`, "a", "1", "b", "2", "c", "3"], ["HPEXPIREAT", `hfe:${i}`, String(later + (i % 5000)), "FIELDS", "2", "a", "c"]);
      // Some fields expire during the run: the master's HDELs must reach the replicas.
      if (i % 7 === 0) batch.push(["HPEXPIRE", `hfe:${i}`, String(5000 + (i % 60000)), "FIELDS", "1", "b"]);
    } else batch.push(["SETEX", `sx:${i}`, 100000, "v"]);
    if (batch.length >= 5000) await flush();
  }
  for (let s = 0; s < 50; s++) {
    for (let i = 0; i < 100; i++) batch.push(["XADD", `stream:${s}`, "*", "field", `value${i}`, "n", i]);
    batch.push(["XGROUP", "CREATE", `stream:${s}`, "g", "0"], ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "10", "STREAMS", `stream:${s}`, ">"]);
    batch.push(["XREADGROUP", "GROUP", "g", "bob", "COUNT", "0", "STREAMS", `stream:${s}`, ">"]);
  }
  await flush();
  await c.call("SELECT", 0);
}

/** A score as a number's text: Redis 7.2 and later print the shortest form ("0.1"), 7.0 17 digits. */
function score(x: string): string {
  if (x === "-0") return "0";
  const n = Number(x);
  return Number.isNaN(n) ? x : String(n);
}

/** A canonical text per key (type, value, TTL rounded to 2 s, field TTLs), for the whole dataset. */
/** Key -> PTTL, from the last digest (compared apart, with a tolerance). */
const ttlsOf = new WeakMap<Map<string, string>, Map<string, number>>();

/** Hash fields expiring this soon after a read are left out of the digests. */
const FIELD_TTL_WINDOW_MS = 120_000;

async function digest(c: RespClient, fieldTtls: boolean, dbs: number[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ttls = new Map<string, number>();
  ttlsOf.set(out, ttls);
  for (const db of dbs) {
    await c.call("SELECT", db);
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = (await c.call("SCAN", cursor, "COUNT", 5000)) as [string, string[]];
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const types = (await c.pipeline(chunk.flatMap((k) => [["TYPE", k], ["PTTL", k]]))) as Array<string | number>;
      const readAt = Date.now();
      const reads: Array<Array<string | number>> = [];
      chunk.forEach((k, j) => {
        const t = types[2 * j] as string;
        if (t === "string") reads.push(["GET", k]);
        else if (t === "list") reads.push(["LRANGE", k, 0, -1]);
        else if (t === "set") reads.push(["SMEMBERS", k]);
        else if (t === "hash") reads.push(["HGETALL", k]);
        else if (t === "zset") reads.push(["ZRANGE", k, 0, -1, "WITHSCORES"]);
        else if (t === "stream") reads.push(["XRANGE", k, "-", "+"]);
        else reads.push(["PING"]);
      });
      const values = await c.pipeline(reads);
      const extra: Array<Array<string | number>> = [];
      chunk.forEach((k, j) => {
        const t = types[2 * j] as string;
        if (t === "hash" && fieldTtls) {
          const flat = values[j] as string[];
          const fields = flat.filter((_, x) => x % 2 === 0);
          extra.push(fields.length ? ["HPEXPIRETIME", k, "FIELDS", fields.length, ...fields] : ["PING"]);
        } else if (t === "stream") extra.push(["XINFO", "GROUPS", k]);
        else extra.push(["PING"]);
      });
      const extras = await c.pipeline(extra);
      chunk.forEach((k, j) => {
        const t = types[2 * j] as string;
        const pttl = Number(types[2 * j + 1]);
        let v: unknown = values[j];
        if (t === "set") v = [...(v as string[])].sort();
        if (t === "hash") {
          const flat = v as string[];
          const times = fieldTtls ? (extras[j] as number[]) : [];
          const pairs: string[][] = [];
          for (let x = 0; x < flat.length; x += 2) {
            // A field whose time comes within the comparison window (the servers are read in
            // turn, a big dataset takes a minute) may be gone from one read and not the other.
            // (-2: it expired between the two reads.)
            const at = Number(times[x / 2] ?? -1);
            if (at === -2 || (at > 0 && at < readAt + FIELD_TTL_WINDOW_MS)) continue;
            pairs.push([flat[x]!, flat[x + 1]!, String(times[x / 2] ?? "")]);
          }
          v = pairs.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
        }
        if (t === "zset") v = (v as string[]).map((x, n) => (n % 2 ? score(x) : x));
        // Stream groups: name, consumers, pending, last-delivered-id (lag/entries-read aside).
        const groups = t === "stream" ? JSON.stringify((extras[j] as unknown[][]).map((g) => [g[1], g[3], g[5], g[7]])) : "";
        out.set(`${db}/${k}`, `${t}|${pttl < 0 ? pttl : "ttl"}|${JSON.stringify(v)}|${groups}`);
        // As an absolute time: reading a big dataset takes seconds, and the servers are read in turn.
        if (pttl >= 0) ttls.set(`${db}/${k}`, readAt + pttl);
      });
    }
  }
  await c.call("SELECT", 0);
  return out;
}

function compare(a: Map<string, string>, b: Map<string, string>): string[] {
  const diffs: string[] = [];
  const ta = ttlsOf.get(a)!;
  const tb = ttlsOf.get(b)!;
  for (const [k, v] of a) {
    if (b.get(k) !== v) diffs.push(`${k}: ${v.slice(0, 150)} / ${b.get(k)?.slice(0, 150)}`);
    else if (ta.has(k) && Math.abs(ta.get(k)! - tb.get(k)!) > 3000) diffs.push(`${k}: pttl ${ta.get(k)} / ${tb.get(k)}`);
  }
  for (const k of b.keys()) if (!a.has(k)) diffs.push(`${k}: only in the second`);
  return diffs;
}

/**
 * The errors a server logged sending to its master, without pid and time; the error code's
 * "ERR " and 7.4's leading "-" aside (6.2 logs no code, 7.4 logs "-ERR ..."), and the command
 * named (7.4 names "exec" for a command of a transaction its master wrapped in MULTI/EXEC).
 */
const errorsToMaster = (s: ServerProcess) =>
  s
    .output()
    .split("\n")
    .filter((l) => /sending an error to its (master|primary)/.test(l))
    .map((l) => l.slice(l.indexOf("==")).replace("to its primary", "to its master").replace(/: '-?(ERR )?/, ": '").replace(/ after processing the command '[^']*'$/, ""));

/** Errors in `a` beyond those in `b` (as multisets). */
function extraErrors(a: string[], b: string[]): string[] {
  const left = [...b];
  return a.filter((e) => {
    const i = left.indexOf(e);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

/** waitForSync, giving up at once when either process has exited. */
async function inSync(master: ServerProcess, replica: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (master.proc.exitCode !== null || replica.proc.exitCode !== null) {
      throw new Error(`a server exited (master ${master.proc.exitCode}, replica ${replica.proc.exitCode})`);
    }
    try {
      await waitForSync(master, replica, Math.min(5000, Math.max(1, deadline - Date.now())));
      return;
    } catch (e) {
      if (Date.now() >= deadline) throw e;
    }
  }
}

async function soak(kind: MasterKind, seed: number): Promise<void> {
  const compat = redisCompat(kind);
  const fieldTtls = compat >= 70400;
  const limits = encodingDirectives(kind, []);
  const servers: ServerProcess[] = [];
  let stopping = false;
  try {
    const debug = compat >= 70000 ? ["--enable-debug-command", "yes"] : [];
    const master = await startRedis([...limits, ...debug, "--repl-backlog-size", "256mb"], { bin: kind.bin });
    servers.push(master);
    // A master that dies mid-run (a crash of that version) is reported at once, with its log.
    void master.proc.exited.then((code) => {
      if (stopping) return;
      const log = master.output();
      const crash = log.indexOf("BUG REPORT START");
      console.log(`${kind.label} seed ${seed}: the MASTER exited (${code ?? master.proc.signalCode}): ${crash >= 0 ? log.slice(crash, crash + 5000) : log.slice(-3000)}`);
    });
    const m = await master.client();
    const t0 = performance.now();
    await populate(m, compat);
    await m.call("SELECT", DATA_DB);
    const populated = Number(await m.call("DBSIZE"));
    await m.call("SELECT", 0);
    const config = [...limits, "--replicaof", "127.0.0.1", String(master.port)];
    const replicant = await startReplicant(config);
    servers.push(replicant);
    const reference = await startRedis(config, { bin: kind.bin });
    servers.push(reference);
    await inSync(master, replicant, 600_000);
    await inSync(master, reference, 600_000);
    const synced = (performance.now() - t0) / 1000;
    const afterSync = compare(await digest(m, fieldTtls, [DATA_DB]), await digest(await replicant.client(), fieldTtls, [DATA_DB]));
    const w = new Workload(seed, false, true, compat);
    const mc = await RawClient.connect(master.port);
    let kills = 0;
    let lastKill = Date.now();
    const deadline = Date.now() + MINUTES * 60_000;
    let commands = 0;
    while (Date.now() < deadline) {
      const plan = Array.from({ length: 5 }, () => w.phase(1000));
      const stats = await runPhases(mc, plan, {
        waitDeadlines: false,
        between: async () => {
          if (master.proc.exitCode !== null || master.proc.signalCode) throw new Error(`the master exited (${master.proc.exitCode ?? master.proc.signalCode})`);
          if (Date.now() - lastKill < KILL_MS) return;
          lastKill = Date.now();
          const killed = kills % 2 === 0 ? await replicant.call("CLIENT", "KILL", "TYPE", "master") : await master.call("CLIENT", "KILL", "TYPE", "replica");
          if (Number(killed) > 0) kills++;
        },
      });
      commands += stats.commands;
    }
    mc.close();
    // Short TTLs of the workload pass; the master's deletions reach the replicas.
    await Bun.sleep(3000);
    for (const db of DATABASES) {
      await m.call("SELECT", db);
      let cursor = "0";
      do cursor = ((await m.call("SCAN", cursor, "COUNT", 10000)) as [string])[0];
      while (cursor !== "0");
    }
    await inSync(master, replicant, 120_000);
    await inSync(master, reference, 120_000);
    const dbs = [...DATABASES, DATA_DB];
    const [dm, dx, dr] = [await digest(m, fieldTtls, dbs), await digest(await replicant.client(), fieldTtls, dbs), await digest(await reference.client(), fieldTtls, dbs)];
    const controlVsMaster = compare(dm, dr);
    const vsMaster = compare(dm, dx).filter((d) => !controlVsMaster.some((c) => c.split(":")[0] === d.split(":")[0]));
    const vsControl = compare(dr, dx);
    const partial = String(await m.call("INFO", "stats")).match(/sync_partial_ok:(\d+)/)?.[1];
    console.log(
      `${kind.label} seed ${seed}: ${populated} keys synced in ${synced.toFixed(1)} s (${afterSync.length} differ after the full sync); ${commands} commands, ${kills} link kills, ${partial} partial resyncs; ` +
        `compared ${dm.size} keys: ${vsMaster.length} differ from the master, ${vsControl.length} from the ${kind.label} replica (which differs from the master in ${controlVsMaster.length}); ` +
        `errors to the master: Replicant ${errorsToMaster(replicant).length}, control ${errorsToMaster(reference).length}, Replicant's beyond the control's ${extraErrors(errorsToMaster(replicant), errorsToMaster(reference)).length}`,
    );
    for (const d of [...afterSync, ...vsMaster, ...vsControl].slice(0, 10)) console.log(`  ${d}`);
    for (const l of extraErrors(errorsToMaster(replicant), errorsToMaster(reference)).slice(0, 5)) console.log(`  Replicant only: ${l}`);
    for (const l of extraErrors(errorsToMaster(reference), errorsToMaster(replicant)).slice(0, 5)) console.log(`  control only: ${l}`);
  } catch (e) {
    // Say which server died and how, rather than waiting out every timeout after it.
    console.log(`${kind.label} seed ${seed}: FAILED: ${(e as Error).message.slice(0, 500)}`);
    for (const s of servers) {
      if (s.proc.exitCode !== null || s.proc.signalCode) console.log(`  exited (${s.proc.exitCode ?? s.proc.signalCode}): ${s.output().slice(-1500)}`);
    }
  } finally {
    stopping = true;
    for (const s of servers) {
      await s.stop();
      removeDir(s.dir);
    }
  }
}

const kinds = [debianRedis(), ...sharedMasters("the other masters")].filter((k) => ONLY.length === 0 || ONLY.some((o) => k.label.includes(o)));
for (const kind of kinds) for (const seed of SEEDS) await soak(kind, seed);
