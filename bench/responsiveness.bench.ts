// Responsiveness benchmark: how long a client waits behind the server's own long work, side by
// side with redis-server 7.0.15 doing the same work in the same run. A separate prober process
// PINGs every few milliseconds (one request in flight) and reports the worst and p99 round trip
// while each of these runs:
//
// - sync-disk / sync-diskless: a full sync of a >= 3M-key mixed dataset (the full-sync bench's
//   generator) from one redis-server master, the replica loading with repl-diskless-load
//   disabled / on-empty-db. PING answered -LOADING counts like any reply: what is measured is
//   how long the client waits for it. The sync time is printed too (it must not get worse).
// - load: start-up load of the same dataset's RDB file.
// - bgsave: BGSAVE of that dataset (redis-server forks; Replicant writes a snapshot in slices).
// - expire: active expiry of many keys that expire at the same millisecond (a master's cycle).
// - keys: KEYS over a 400k-key database (`*`, a literal prefix, a pattern with a leading `*`):
//   the duration of KEYS itself is compared too (KEYS blocks in Redis as well; it must not
//   block for longer).
//
//   bun run build && bun bench/responsiveness.bench.ts [--keys 3000000] [--rounds 1]
//       [--phases sync-disk,sync-diskless,load,bgsave,expire,keys] [--expire-keys 1000000]
//       [--keys-db 400000] [--interval 2] [--baseline path/to/an/older/replicant]
//
// With --baseline, an older Replicant binary runs every phase too ("before"), in the same run:
// before/after figures under the same machine load.
//
// The prober is this file run as `--probe <port> <intervalMs>`: it connects (retrying until the
// port accepts), pings until its stdin says "stop", then prints its figures as one JSON line.
// Run by hand, not in the test suite (timing is not a unit test).

import { copyFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { encodeCommand } from "../src/protocol/reply-parser.ts";
import { RespClient, RespError } from "../test/helpers/resp-client.ts";
import { freePort, parseInfo, removeDir, startRedis, tempDir, waitFor, type ServerProcess } from "../test/helpers/servers.ts";
import { opt } from "./options.ts";

const args = process.argv.slice(2);

// ------------------------------------------------------------------ the prober (child process)

interface ProbeStats {
  probes: number;
  worstMs: number;
  p99Ms: number;
  loadingReplies: number;
  /** When the worst probe was sent, ms after the prober connected. */
  worstAtMs: number;
}

async function runProber(port: number, intervalMs: number): Promise<void> {
  let stop = false;
  void (async () => {
    for await (const chunk of Bun.stdin.stream()) if (new TextDecoder().decode(chunk).includes("stop")) break;
    stop = true;
  })();
  let c: RespClient | null = null;
  while (!stop && c === null) {
    try {
      c = await RespClient.connect(port);
    } catch {
      await Bun.sleep(1);
    }
  }
  // Ready: the parent waits for this line before it starts the work to watch.
  process.stdout.write("connected\n");
  const started = performance.now();
  const lat: number[] = [];
  let loading = 0;
  let worst = 0;
  let worstAt = 0;
  while (!stop && c !== null) {
    const t = performance.now();
    let r;
    try {
      r = await c.call("PING");
    } catch {
      break; // the server went away (end of a phase)
    }
    const ms = performance.now() - t;
    if (r instanceof RespError && r.message.startsWith("LOADING")) loading++;
    lat.push(ms);
    if (ms > worst) {
      worst = ms;
      worstAt = t - started;
    }
    await Bun.sleep(intervalMs);
  }
  lat.sort((a, b) => a - b);
  const stats: ProbeStats = {
    probes: lat.length,
    worstMs: worst,
    p99Ms: lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]! : 0,
    loadingReplies: loading,
    worstAtMs: worstAt,
  };
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  c?.close();
  process.exit(0);
}

if (args[0] === "--probe") {
  await runProber(Number(args[1]), Number(args[2]));
}

// ------------------------------------------------------------------ the bench

const KEYS = Number(opt("keys", "3000000"));
const ROUNDS = Number(opt("rounds", "1"));
const PHASES = opt("phases", "sync-disk,sync-diskless,load,bgsave,expire,keys").split(",");
const EXPIRE_KEYS = Number(opt("expire-keys", "1000000"));
const KEYS_DB = Number(opt("keys-db", "400000"));
const INTERVAL = Number(opt("interval", "2"));
const BIN = resolve(import.meta.dir, "../dist/replicant");
const SELF = resolve(import.meta.dir, "responsiveness.bench.ts");

type Kind = "redis" | "replicant" | "before";
const BASELINE = opt("baseline", "");
const KINDS: Kind[] = BASELINE ? ["redis", "before", "replicant"] : ["redis", "replicant"];

/** A prober process pinging `port`; `stop()` returns its figures. */
class Prober {
  private readonly proc: Bun.Subprocess<"pipe", "pipe", "inherit">;
  private out = "";
  private readonly reader: Promise<void>;
  constructor(port: number) {
    const proc = Bun.spawn([process.execPath, SELF, "--probe", String(port), String(INTERVAL)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    this.proc = proc;
    this.reader = (async () => {
      const d = new TextDecoder();
      for await (const chunk of proc.stdout) this.out += d.decode(chunk);
    })();
  }
  /** Resolves once the prober is connected (the work may start). */
  async connected(timeoutMs = 60000): Promise<void> {
    await waitFor("the prober to connect", () => this.out.includes("connected"), timeoutMs, 1);
  }
  async stop(): Promise<ProbeStats> {
    this.proc.stdin.write("stop\n");
    this.proc.stdin.end();
    await this.proc.exited;
    await this.reader;
    const line = this.out.split("\n").find((l) => l.startsWith("{"));
    if (!line) throw new Error(`prober printed no figures: ${this.out}`);
    return JSON.parse(line) as ProbeStats;
  }
}

interface Proc {
  kind: Kind;
  port: number;
  dir: string;
  proc: ReturnType<typeof Bun.spawn>;
}

function spawnServer(kind: Kind, extra: string[], dir = tempDir(`bench-resp-${kind}-`)): Proc {
  const port = freePort();
  const common = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", ...extra];
  const cmd = kind === "redis" ? ["redis-server", ...common, "--appendonly", "no"] : [kind === "before" ? BASELINE : BIN, ...common];
  const log = process.env.BENCH_LOG ? Bun.file(`${process.env.BENCH_LOG}-${kind}-${port}.log`) : "ignore";
  const proc = Bun.spawn(cmd, { stdout: log, stderr: log, cwd: dir });
  return { kind, port, dir, proc };
}

async function kill(p: Proc): Promise<void> {
  p.proc.kill("SIGKILL");
  await p.proc.exited;
  removeDir(p.dir);
}

/** Polls `done` every 50 ms on one connection (LOADING errors mean "not yet"). */
async function waitUntil(what: string, port: number, done: (c: RespClient) => Promise<boolean>, timeoutMs = 900000): Promise<void> {
  const c = await waitFor(`${what}: connect`, () => RespClient.connect(port), 60000, 5);
  try {
    await waitFor(what, () => done(c), timeoutMs, 50);
  } finally {
    c.close();
  }
}

async function populate(master: ServerProcess, keys: number): Promise<void> {
  const c = await master.client();
  // As bench/full-sync.bench.ts: 80% plain strings via DEBUG POPULATE, the rest aggregates.
  const strings = Math.floor(keys * 0.8);
  await c.call("DEBUG", "POPULATE", strings, "key", 32);
  const rest = keys - strings;
  let batch: Array<Array<string | number>> = [];
  const flush = async () => {
    if (batch.length) await c.pipeline(batch);
    batch = [];
  };
  for (let i = 0; i < rest; i++) {
    const kind = i % 10;
    if (kind < 4) batch.push(["HSET", `hash:${i}`, "f1", `v${i}`, "f2", "x".repeat(20), "f3", i, "f4", "yy"]);
    else if (kind < 6) batch.push(["RPUSH", `list:${i}`, "a", "b", `c${i}`, "dddddddd", i]);
    else if (kind < 8) batch.push(["SADD", `set:${i}`, i, i + 1, i + 2, `m${i}`]);
    else if (kind < 9) batch.push(["ZADD", `zset:${i}`, 1, "a", 2.5, "b", i, `m${i}`]);
    else batch.push(["SET", `ttl:${i}`, `v${i}`, "EX", 100000]);
    if (batch.length >= 5000) await flush();
  }
  for (let i = 0; i < 200; i++) batch.push(["XADD", `stream:${i % 20}`, "*", "field", `value${i}`]);
  await flush();
  c.close();
}

interface Row {
  phase: string;
  kind: Kind;
  probe: ProbeStats;
  /** The duration of the work itself (sync, load, save, expiry, KEYS), seconds. */
  seconds: number;
}
const rows: Row[] = [];

function report(phase: string, kind: Kind, probe: ProbeStats, seconds: number): void {
  rows.push({ phase, kind, probe, seconds });
  console.log(
    `  ${phase.padEnd(14)} ${kind.padEnd(9)} ${seconds.toFixed(2).padStart(7)} s   worst PING ${probe.worstMs.toFixed(1).padStart(7)} ms (at +${(probe.worstAtMs / 1000).toFixed(1)} s)   p99 ${probe.p99Ms.toFixed(1).padStart(6)} ms   ${probe.probes} probes${probe.loadingReplies ? ` (${probe.loadingReplies} -LOADING)` : ""}`,
  );
}

const order = (round: number): Kind[] => (round % 2 === 0 ? KINDS : [...KINDS].reverse());

/** A full sync from the master into a fresh replica; kept running when `keep`. */
async function syncPhase(masterPort: number, load: "disabled" | "on-empty-db", phase: string, keep: boolean): Promise<Partial<Record<Kind, Proc>>> {
  const kept: Partial<Record<Kind, Proc>> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of order(round)) {
      const t0 = performance.now();
      const p = spawnServer(kind, ["--replicaof", "127.0.0.1", String(masterPort), "--repl-diskless-load", load]);
      const prober = new Prober(p.port);
      await prober.connected();
      await waitUntil(`${kind} synced`, p.port, async (c) => String(await c.call("INFO", "replication")).includes("master_link_status:up"));
      const seconds = (performance.now() - t0) / 1000;
      // A little longer: what follows the load (a full collection, the stream) counts too.
      await Bun.sleep(1000);
      report(phase, kind, await prober.stop(), seconds);
      const dc = await RespClient.connect(p.port);
      const size = Number(await dc.call("DBSIZE"));
      dc.close();
      if (size < KEYS) throw new Error(`${kind}: DBSIZE ${size} < ${KEYS}`);
      if (keep && round === ROUNDS - 1) kept[kind] = p;
      else await kill(p);
    }
  }
  return kept;
}

/** Start-up load of `rdb`; the loaded servers are returned (for BGSAVE). */
async function loadPhase(rdb: string): Promise<Record<Kind, Proc>> {
  const kept = {} as Record<Kind, Proc>;
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of order(round)) {
      const dir = tempDir(`bench-resp-${kind}-`);
      copyFileSync(rdb, join(dir, "dump.rdb"));
      const t0 = performance.now();
      const p = spawnServer(kind, [], dir);
      const prober = new Prober(p.port);
      await prober.connected();
      await waitUntil(`${kind} loaded`, p.port, async (c) => {
        const r = await c.call("DBSIZE");
        return typeof r === "number" && r >= KEYS;
      });
      const seconds = (performance.now() - t0) / 1000;
      await Bun.sleep(1000);
      report("load", kind, await prober.stop(), seconds);
      if (round === ROUNDS - 1) kept[kind] = p;
      else await kill(p);
    }
  }
  return kept;
}

async function bgsavePhase(servers: Record<Kind, Proc>): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of order(round)) {
      const p = servers[kind];
      const prober = new Prober(p.port);
      await prober.connected();
      await Bun.sleep(200);
      const t0 = performance.now();
      const c = await RespClient.connect(p.port);
      const r = await c.call("BGSAVE");
      if (r instanceof RespError) throw new Error(`${kind} BGSAVE: ${r.message}`);
      await waitFor(`${kind} BGSAVE done`, async () => parseInfo(await c.call("INFO", "persistence")).rdb_bgsave_in_progress === "0", 600000, 20);
      const seconds = (performance.now() - t0) / 1000;
      const status = parseInfo(await c.call("INFO", "persistence")).rdb_last_bgsave_status;
      c.close();
      await Bun.sleep(500);
      report("bgsave", kind, await prober.stop(), seconds);
      if (status !== "ok") throw new Error(`${kind} BGSAVE status ${status}`);
    }
  }
}

/** EXPIRE_KEYS keys expired at the same millisecond on a master; PINGs while active expiry removes them. */
async function expirePhase(): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of order(round)) {
      const p = spawnServer(kind, ["--enable-debug-command", "yes"]);
      try {
        const c = await waitFor(`${kind} up`, () => RespClient.connect(p.port), 30000, 5);
        await c.call("DEBUG", "POPULATE", EXPIRE_KEYS, "key", 16);
        // Every key gets a 1 s TTL while active expiry is off (nothing reads them, so they
        // stay); a second later active expiry is switched on: the cycle finds them all expired.
        await c.call("DEBUG", "SET-ACTIVE-EXPIRE", 0);
        for (let i = 0; i < EXPIRE_KEYS; i += 10000) {
          const batch: string[][] = [];
          for (let j = i; j < Math.min(EXPIRE_KEYS, i + 10000); j++) batch.push(["PEXPIRE", `key:${j}`, "1000"]);
          await c.pipeline(batch);
        }
        await Bun.sleep(1100);
        if (Number(await c.call("DBSIZE")) !== EXPIRE_KEYS) throw new Error(`${kind}: keys went before active expiry was on`);
        const prober = new Prober(p.port);
        await prober.connected();
        await Bun.sleep(300);
        await c.call("DEBUG", "SET-ACTIVE-EXPIRE", 1);
        const t0 = performance.now();
        await waitFor(`${kind} expired everything`, async () => Number(await c.call("DBSIZE")) === 0, 600000, 20);
        const seconds = (performance.now() - t0) / 1000;
        c.close();
        report("expire", kind, await prober.stop(), seconds);
      } finally {
        await kill(p);
      }
    }
  }
}

/** Sends one command on a raw socket and resolves with the time until its whole reply arrived. */
function timeReply(port: number, argv: string[]): Promise<{ ms: number; elements: number; bytes: number }> {
  return new Promise((resolveReply, reject) => {
    // A streaming reader of one array of bulk strings: headers only, values skipped.
    let elements = -1;
    let seen = 0;
    let skip = 0; // bytes of a value (+ CRLF) still to skip
    let pending: Buffer = Buffer.alloc(0);
    let bytes = 0;
    let t0 = 0;
    const finish = (s: { end(): void }) => {
      const ms = performance.now() - t0;
      s.end();
      resolveReply({ ms, elements, bytes });
    };
    void Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          t0 = performance.now();
          s.write(encodeCommand(argv));
        },
        data(s, chunk) {
          bytes += chunk.length;
          let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
          let p = 0;
          for (;;) {
            if (skip > 0) {
              const n = Math.min(skip, buf.length - p);
              skip -= n;
              p += n;
              if (skip > 0) break;
              seen++;
              if (seen === elements) return finish(s);
            }
            const nl = buf.indexOf(10, p);
            if (nl < 0) break;
            const line = buf.toString("latin1", p, nl - 1);
            p = nl + 1;
            if (line[0] === "*") {
              elements = Number(line.slice(1));
              if (elements <= 0) return finish(s);
            } else if (line[0] === "$") skip = Number(line.slice(1)) + 2;
            else return reject(new Error(`unexpected reply line ${line}`));
          }
          pending = p < buf.length ? Buffer.from(buf.subarray(p)) : Buffer.alloc(0);
          buf = pending;
        },
        error(_s, e) {
          reject(e);
        },
      },
    }).catch(reject);
  });
}

async function keysPhase(): Promise<void> {
  const patterns = ["*", "key:1*", "*99"];
  const servers = {} as Record<Kind, Proc>;
  try {
    for (const kind of KINDS) {
      const p = spawnServer(kind, ["--enable-debug-command", "yes"]);
      servers[kind] = p;
      const c = await waitFor(`${kind} up`, () => RespClient.connect(p.port), 30000, 5);
      await c.call("DEBUG", "POPULATE", KEYS_DB, "key", 16);
      c.close();
    }
    const times: Record<string, Record<Kind, number[]>> = {};
    for (const pattern of patterns) {
      times[pattern] = { redis: [], replicant: [], before: [] };
      for (let round = 0; round < Math.max(3, ROUNDS); round++) {
        for (const kind of order(round)) {
          const p = servers[kind];
          const prober = new Prober(p.port);
          await prober.connected();
          await Bun.sleep(100);
          const r = await timeReply(p.port, ["KEYS", pattern]);
          await Bun.sleep(100);
          const probe = await prober.stop();
          times[pattern]![kind].push(r.ms);
          report(`KEYS ${pattern}`, kind, probe, r.ms / 1000);
          if (pattern === "*" && r.elements !== KEYS_DB) throw new Error(`${kind}: KEYS * gave ${r.elements} keys`);
        }
      }
    }
    console.log(`\nKEYS over ${KEYS_DB} keys, median duration (send to the last byte of the reply):`);
    for (const pattern of patterns) {
      const rt = median(times[pattern]!.redis);
      const pt = median(times[pattern]!.replicant);
      const before = BASELINE ? `   before ${median(times[pattern]!.before).toFixed(0).padStart(5)} ms (${(median(times[pattern]!.before) / rt).toFixed(2)}x)` : "";
      console.log(`  KEYS ${pattern.padEnd(8)} redis-server ${rt.toFixed(0).padStart(5)} ms   replicant ${pt.toFixed(0).padStart(5)} ms   ratio ${(pt / rt).toFixed(2)}x${before}`);
    }
  } finally {
    for (const p of Object.values(servers)) await kill(p);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function idleBaseline(): Promise<void> {
  for (const kind of KINDS) {
    const p = spawnServer(kind, []);
    try {
      const prober = new Prober(p.port);
      await prober.connected();
      await Bun.sleep(3000);
      report("idle (3 s)", kind, await prober.stop(), 3);
    } finally {
      await kill(p);
    }
  }
}

console.log(`responsiveness: PING every ${INTERVAL} ms from a separate process; ${KEYS} keys; phases ${PHASES.join(",")}`);
await idleBaseline();
const needMaster = PHASES.some((p) => p.startsWith("sync") || p === "load" || p === "bgsave");
let master: ServerProcess | null = null;
try {
  if (needMaster) {
    master = await startRedis(["--enable-debug-command", "yes", "--repl-diskless-sync", "yes"]);
    const t = performance.now();
    await populate(master, KEYS);
    await master.call("SAVE");
    const m = parseInfo(await master.call("INFO"));
    console.log(`master: ${m.db0} used_memory_human=${m.used_memory_human} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }
  if (PHASES.includes("sync-disk")) await syncPhase(master!.port, "disabled", "sync-disk", false);
  if (PHASES.includes("sync-diskless")) await syncPhase(master!.port, "on-empty-db", "sync-diskless", false);
  if (PHASES.includes("load") || PHASES.includes("bgsave")) {
    const loaded = await loadPhase(join(master!.dir, "dump.rdb"));
    try {
      if (PHASES.includes("bgsave")) await bgsavePhase(loaded);
    } finally {
      for (const p of Object.values(loaded)) await kill(p);
    }
  }
  if (master) {
    await master.stop();
    removeDir(master.dir);
    master = null;
  }
  if (PHASES.includes("expire")) await expirePhase();
  if (PHASES.includes("keys")) await keysPhase();
} finally {
  if (master) {
    await master.stop();
    removeDir(master.dir);
  }
}

console.log("\nsummary (worst of the rounds; ratio = replicant / redis-server):");
const phases = [...new Set(rows.map((r) => r.phase))];
for (const phase of phases) {
  const of = (kind: Kind) => rows.filter((r) => r.phase === phase && r.kind === kind);
  const worst = (kind: Kind) => Math.max(...of(kind).map((r) => r.probe.worstMs));
  const p99 = (kind: Kind) => Math.max(...of(kind).map((r) => r.probe.p99Ms));
  const secs = (kind: Kind) => median(of(kind).map((r) => r.seconds));
  console.log(
    `  ${phase.padEnd(14)} worst PING redis ${worst("redis").toFixed(1).padStart(6)} ms  replicant ${worst("replicant").toFixed(1).padStart(6)} ms (${(worst("replicant") / worst("redis")).toFixed(1)}x)   p99 ${p99("redis").toFixed(1)} / ${p99("replicant").toFixed(1)} ms   time ${secs("redis").toFixed(2)} / ${secs("replicant").toFixed(2)} s (${(secs("replicant") / secs("redis")).toFixed(2)}x)`,
  );
  if (BASELINE && of("before").length) {
    console.log(`  ${"".padEnd(14)} before:    worst PING ${worst("before").toFixed(1).padStart(6)} ms   p99 ${p99("before").toFixed(1)} ms   time ${secs("before").toFixed(2)} s (${(secs("before") / secs("redis")).toFixed(2)}x)`);
  }
}
process.exit(0);
