// Dual-channel benchmark (issue 12): a Valkey 8 master (dual-channel-replication-enabled yes)
// holding a multi-million-key dataset, a steady write load during each full sync, and in turn
// one replica of each kind: redis-server 7.2 (single channel; 7.0 cannot load Valkey 8's RDB
// version 11), Valkey 8 with dual channel off
// and on, Replicant with dual channel off and on. For each: the sync's time (start to link up),
// the peak of what the master holds for that replica while it syncs (INFO memory's
// mem_clients_slaves and the replica connections' omem in CLIENT LIST, sampled every 20 ms),
// how many full syncs it took (the master's sync_full), the replica's own buffer peak and spill
// (Replicant's and Valkey's INFO), and whether it ended equal to the master (DEBUG DIGEST).
//
//   bun run build && bun bench/dual-channel.bench.ts [--keys 2000000] [--rate 50000]
//       [--limit "64mb 0 0"] [--only replicant-dual,valkey-dual] [--give-up 60]
//
// --limit sets the master's client-output-buffer-limit replica (default: Valkey's 256mb 64mb 60).
// Needs ../shared/masters; run by hand, not in the test suite.

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { RespClient } from "../test/helpers/resp-client.ts";
import { freePort, info, parseInfo, removeDir, startRedis, tempDir, waitFor, type ServerProcess } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const KEYS = Number(opt("keys", "2000000"));
const RATE = Number(opt("rate", "50000"));
const LIMIT = opt("limit", "");
const ONLY = opt("only", "").split(",").filter(Boolean);
/** Seconds after which a sync that has not completed is reported as not completing (a full-sync loop). */
const GIVE_UP = Number(opt("give-up", "60"));
const BIN = resolve(import.meta.dir, "../dist/replicant");
const VALKEY = resolve(import.meta.dir, "../../shared/masters/valkey-8.0.1");
const REDIS72 = resolve(import.meta.dir, "../../shared/masters/redis-7.2.6");
if (!existsSync(VALKEY)) {
  console.log(`skipped: needs ${VALKEY} (../shared/masters beside the clone)`);
  process.exit(0);
}

type Kind = "redis-7.2" | "valkey-single" | "valkey-dual" | "replicant-single" | "replicant-dual";
const KINDS: Kind[] = ["redis-7.2", "valkey-single", "valkey-dual", "replicant-single", "replicant-dual"];

/** Writes about `RATE` commands a second (SET of 64-byte values over 1M keys) until stopped. */
function writeLoad(master: ServerProcess) {
  let running = true;
  const done = (async () => {
    const c = await master.client();
    const batch = Math.max(1, Math.round(RATE / 100));
    const value = "v".repeat(64);
    for (let n = 0; running; n++) {
      const t0 = performance.now();
      await c.pipeline(Array.from({ length: batch }, (_, i) => ["SET", `w:${(n * batch + i) % 1_000_000}`, value]));
      const wait = 10 - (performance.now() - t0);
      if (wait > 0) await Bun.sleep(wait);
    }
    c.close();
  })();
  return {
    stop: async () => {
      running = false;
      await done;
    },
  };
}

interface Result {
  /** NaN: not synced after GIVE_UP seconds. */
  seconds: number;
  peakClientsSlaves: number;
  peakOmem: number;
  fullSyncs: number;
  bufferPeak: string;
  spilled: string;
  equal: boolean;
}

async function syncOnce(kind: Kind, master: ServerProcess): Promise<Result> {
  const port = freePort();
  const dir = tempDir(`dual-${kind}-`);
  const common = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--replicaof", "127.0.0.1", String(master.port), "--enable-debug-command", "yes"];
  const dual = kind.endsWith("-dual") ? ["--dual-channel-replication-enabled", "yes"] : [];
  const cmd =
    kind === "redis-7.2" ? [REDIS72, ...common, "--appendonly", "no"] : kind.startsWith("valkey") ? [VALKEY, ...common, "--appendonly", "no", ...dual] : [BIN, ...common, ...dual];
  const before = Number((await info(master, "stats")).sync_full);
  const mc = await master.client();
  let peakClientsSlaves = 0;
  let peakOmem = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const mem = parseInfo(await mc.call("INFO", "memory"));
      peakClientsSlaves = Math.max(peakClientsSlaves, Number(mem.mem_clients_slaves ?? 0));
      const list = String(await mc.call("CLIENT", "LIST", "TYPE", "replica"));
      let omem = 0;
      for (const m of list.matchAll(/ omem=(\d+)/g)) omem += Number(m[1]);
      peakOmem = Math.max(peakOmem, omem);
      await Bun.sleep(20);
    }
  })();
  const load = writeLoad(master);
  const t0 = performance.now();
  const proc = Bun.spawn(cmd, { stdout: "ignore", stderr: "ignore", cwd: dir });
  try {
    const c = await waitFor(`${kind} up`, () => RespClient.connect(port), 30000, 5);
    const synced = await waitFor(`${kind} synced`, async () => String(await c.call("INFO", "replication")).includes("master_link_status:up"), GIVE_UP * 1000, 20).then(
      () => true,
      () => false,
    );
    const seconds = synced ? (performance.now() - t0) / 1000 : Number.NaN;
    await load.stop();
    sampling = false;
    await sampler;
    const r = parseInfo(await c.call("INFO", "replication"));
    if (!synced) {
      const fullSyncs = Number((await info(master, "stats")).sync_full) - before;
      c.close();
      return { seconds, peakClientsSlaves, peakOmem, fullSyncs, bufferPeak: r.replicas_repl_buffer_peak ?? "-", spilled: r.replicas_repl_buffer_spilled ?? "-", equal: false };
    }
    await waitFor(`${kind} caught up`, async () => parseInfo(await c.call("INFO", "replication")).slave_repl_offset === parseInfo(await mc.call("INFO", "replication")).master_repl_offset, 120000, 50);
    const equal = (await c.call("DEBUG", "DIGEST")) === (await mc.call("DEBUG", "DIGEST"));
    const fullSyncs = Number((await info(master, "stats")).sync_full) - before;
    c.close();
    return { seconds, peakClientsSlaves, peakOmem, fullSyncs, bufferPeak: r.replicas_repl_buffer_peak ?? "-", spilled: r.replicas_repl_buffer_spilled ?? "-", equal };
  } finally {
    sampling = false;
    await load.stop().catch(() => {});
    mc.close();
    proc.kill("SIGKILL");
    await proc.exited;
    removeDir(dir);
  }
}

const master = await startRedis(["--dual-channel-replication-enabled", "yes", "--enable-debug-command", "yes", "--repl-diskless-sync", "yes", "--repl-backlog-size", "64mb"], { bin: VALKEY });
try {
  if (LIMIT) await master.call("CONFIG", "SET", "client-output-buffer-limit", `replica ${LIMIT}`);
  console.log(`populating the master with ${KEYS} keys (DEBUG POPULATE, 64-byte values)...`);
  await master.call("DEBUG", "POPULATE", KEYS, "key", 64);
  const limit = String(((await master.call("CONFIG", "GET", "client-output-buffer-limit")) as string[])[1]).match(/(?:replica|slave) \S+ \S+ \S+/)?.[0];
  console.log(`master: valkey 8.0.1, ${KEYS} keys, ${limit}, write load ~${RATE}/s of 64-byte SETs during each sync\n`);
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  console.log("replica            sync time  full syncs  master mem_clients_slaves peak  omem peak   replica buffer peak / spilled   equal");
  for (const kind of KINDS) {
    if (ONLY.length && !ONLY.includes(kind)) continue;
    const r = await syncOnce(kind, master);
    const buf = r.bufferPeak === "-" ? "-" : `${mb(Number(r.bufferPeak))} / ${r.spilled === "-" ? "-" : mb(Number(r.spilled))}`;
    const time = Number.isNaN(r.seconds) ? `not in ${GIVE_UP} s` : `${r.seconds.toFixed(2)} s`;
    console.log(`${kind.padEnd(18)} ${time.padStart(9)}  ${String(r.fullSyncs).padStart(10)}  ${mb(r.peakClientsSlaves).padStart(32)}  ${mb(r.peakOmem).padStart(9)}   ${buf.padStart(29)}   ${r.equal ? "yes" : "NO"}`);
  }
} finally {
  await master.stop();
  removeDir(master.dir);
}
