// Redis Sentinel (redis-server 7.0.15 in sentinel mode) failing a redis-server master over to
// Replicant and back, with every node restarted from the config files Sentinel rewrote, twice:
// while Replicant is the master and after the failback. Sentinel talks to Replicant as to a
// redis-server: it parses INFO (run_id, role, master_link_status, slave_priority,
// slave_repl_offset, master_link_down_since_seconds, the master's slaveN lines), exchanges its
// hello messages through PUBLISH/SUBSCRIBE on __sentinel__:hello, and reconfigures it with
// MULTI / SLAVEOF / CONFIG REWRITE / CLIENT KILL TYPE normal|pubsub / EXEC.
//
// Topology: M (redis-server, the first master), R (Replicant, replica-priority 100: the only
// replica Sentinel may promote while M is down; it announces 127.0.0.2) and S (redis-server,
// replica-priority 0, never promoted), watched by three sentinels with a quorum of 2. The
// phases run in order and share the servers; each phase writes keys, and every node must hold
// all of them at the end of each phase. SENTINEL_TEST_R=redis runs the same scenario with a
// redis-server as R: the control, which passes the same assertions.

import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { diffDatasets, snapshotDataset, type DatasetSnapshot } from "../helpers/dataset.ts";
import { freePort, info, removeDir, startRedis, startReplicant, tempDir, waitFor, waitForSync, type ServerProcess } from "../helpers/servers.ts";

const MASTER_NAME = "mymaster";
/** The control: SENTINEL_TEST_R=redis puts a redis-server where Replicant is. */
const R_KIND = process.env.SENTINEL_TEST_R === "redis" ? "redis" : "replicant";
/**
 * Sentinel's timings, short so that the whole file runs in well under two minutes. Not below
 * 2 s: after a switch Sentinel keeps the master's link object, whose reconnection is throttled
 * to one a second (sentinel_ping_period) while the wait for a PONG counts from the switch, so
 * with 1 s the new master can be found "down" before it was even asked, and failed over again.
 */
const DOWN_AFTER_MS = 3000;
const FAILOVER_TIMEOUT_MS = 6000;
/** Each phase's limit (they take 5-20 s). */
const TIMEOUT = 90000;

interface Node {
  name: string;
  port: number;
  dir: string;
  conf: string;
  /** null while stopped; undefined before the first start. */
  server: ServerProcess | null | undefined;
  kind: "redis" | "replicant" | "sentinel";
  /** The config file's first content, for the port picked at the first start. */
  lines: (port: number, dir: string) => string[];
  /** What the node's earlier processes logged (for the report of a failed phase). */
  history: string;
}

const nodes: Node[] = [];
afterAll(async () => {
  for (const n of nodes) {
    await n.server?.stop();
    removeDir(n.dir);
  }
});

/**
 * A phase of the scenario; when it fails, what the sentinels did (their +/- events) and the
 * data nodes' replication log lines are printed, as a failover is hard to follow otherwise.
 */
function phase(name: string, timeoutMs: number, body: () => Promise<void>): void {
  test(
    name,
    async () => {
      try {
        await body();
      } catch (e) {
        console.error(failureReport());
        throw e;
      }
    },
    timeoutMs,
  );
}

function failureReport(): string {
  const out: string[] = [];
  for (const n of nodes) {
    const log = (n.history + (n.server?.output() ?? "")).split("\n");
    const wanted = n.kind === "sentinel" ? log.filter((l) => / [#*] [-+][a-z]/.test(l)) : log.filter((l) => /MASTER|REPLICA|[Ss]ync|Replica|REPLICAOF|CONFIG REWRITE/.test(l)).slice(-30);
    out.push(`--- ${n.name} (${n.kind}, ${addr(n)})`, ...wanted);
  }
  return out.join("\n");
}

function node(name: string, kind: Node["kind"], lines: (port: number, dir: string) => string[]): Node {
  const n: Node = { name, port: 0, dir: tempDir(`sentinel-${name}-`), conf: "", server: undefined, kind, lines, history: "" };
  n.conf = join(n.dir, `${name}.conf`);
  nodes.push(n);
  return n;
}

/** A data node's config file: persistence on (a save point, so SHUTDOWN/SIGTERM saves). */
function dataNode(name: string, kind: "redis" | "replicant", extra: (port: number) => string[]): Node {
  return node(name, kind, (port, dir) => [`port ${port}`, `dir ${dir}`, "save 3600 1", "appendonly no", "repl-diskless-sync-delay 0", ...extra(port)]);
}

async function spawn(n: Node): Promise<ServerProcess> {
  const opts = { port: n.port, dir: n.dir, configFile: n.conf, configOnly: true };
  return n.kind === "replicant" ? startReplicant([], opts) : startRedis(n.kind === "sentinel" ? ["--sentinel"] : [], opts);
}

const portTaken = (e: unknown) => /Address already in use|EADDRINUSE/.test(String(e));

/**
 * Starts a node from its config file alone, as an init system would. The first start picks
 * the port and writes the file (another process on this machine may take a free port before
 * we bind it: then another one is picked); a restart keeps the port, the file is as left.
 */
async function start(n: Node): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    const first = n.port === 0 || n.server === undefined;
    if (n.port === 0) {
      n.port = freePort();
      writeFileSync(n.conf, n.lines(n.port, n.dir).join("\n") + "\n");
    }
    try {
      n.server = await spawn(n);
      return n.server;
    } catch (e) {
      if (!portTaken(e) || attempt === 5) throw e;
      if (first) n.port = 0;
      else await Bun.sleep(500);
    }
  }
}

/** Graceful stop (SIGTERM: a data node saves its dataset and replication info). */
async function stop(n: Node): Promise<void> {
  if (n.server) n.history += n.server.output();
  await n.server?.stop("SIGTERM");
  n.server = null;
}

function srv(n: Node): ServerProcess {
  if (!n.server) throw new Error(`${n.name} is not running`);
  return n.server;
}

function confText(n: Node): string {
  return readFileSync(n.conf, "utf8");
}

/** The `replicaof` directive of a config file (null when the node is configured as a master). */
function confReplicaOf(n: Node): string | null {
  const line = confText(n)
    .split("\n")
    .find((l) => /^(replicaof|slaveof) /i.test(l));
  return line ? line.replace(/^\S+\s+/, "") : null;
}

async function sentinelMasterAddr(s: Node): Promise<string> {
  const r = (await srv(s).call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)) as string[] | null;
  return r ? `${r[0]}:${r[1]}` : "none";
}

/** SENTINEL MASTER / REPLICAS replies (flat field lists) as maps. */
function fields(flat: unknown): Record<string, string> {
  const a = flat as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < a.length; i += 2) out[a[i]!] = a[i + 1]!;
  return out;
}

async function sentinelReplicas(s: Node): Promise<Array<Record<string, string>>> {
  return ((await srv(s).call("SENTINEL", "REPLICAS", MASTER_NAME)) as unknown[]).map(fields);
}

async function role(n: Node): Promise<string> {
  const r = (await srv(n).call("ROLE")) as unknown[];
  return r[0] === "slave" ? `slave of ${r[1]}:${r[2]} (${r[3]})` : String(r[0]);
}

/** Waits until `replica` replicates `master` with its link up and the same offset. */
async function waitReplicaOf(replica: Node, master: Node, timeoutMs = 30000): Promise<void> {
  await waitFor(
    `${replica.name} to replicate ${master.name}`,
    async () => {
      const r = await info(srv(replica), "replication");
      return r.role === "slave" && `${r.master_host}:${r.master_port}` === addr(master) && r.master_link_status === "up";
    },
    timeoutMs,
    50,
  );
  await waitForSync(srv(master), srv(replica), timeoutMs);
}

/** A little of each type, some keys with a TTL, written through one pipeline. */
async function writePhase(n: Node, phase: string): Promise<void> {
  const c = await srv(n).client();
  const batch: Array<Array<string | number>> = [];
  for (let i = 0; i < 300; i++) {
    batch.push(["SET", `${phase}:s:${i}`, `${phase}-${i}`]);
    if (i % 3 === 0) batch.push(["HSET", `${phase}:h:${i % 30}`, `f${i}`, i]);
    if (i % 5 === 0) batch.push(["RPUSH", `${phase}:l`, i]);
    if (i % 7 === 0) batch.push(["SADD", `${phase}:set`, `m${i}`]);
    if (i % 11 === 0) batch.push(["ZADD", `${phase}:z`, i / 4, `m${i}`]);
  }
  batch.push(["SET", `${phase}:ttl`, "x", "EX", 3600]);
  batch.push(["INCRBY", "counter", 1]);
  const replies = await c.pipeline(batch);
  c.close();
  for (const r of replies) expect(r).not.toBeInstanceOf(Error);
}

async function dataset(n: Node): Promise<DatasetSnapshot> {
  const c = await srv(n).client();
  try {
    return await snapshotDataset(c, 1);
  } finally {
    c.close();
  }
}

async function expectSameData(reference: Node, ...others: Node[]): Promise<DatasetSnapshot> {
  const ref = await dataset(reference);
  for (const o of others) expect({ node: o.name, diff: diffDatasets(ref, await dataset(o)) }).toEqual({ node: o.name, diff: [] });
  return ref;
}

/** The keys every phase wrote so far are all there. */
function expectPhases(ds: DatasetSnapshot, phases: string[]): void {
  const keys = ds.get(0) ?? new Map();
  for (const p of phases) {
    expect(keys.get(`${p}:s:299`)?.value).toBe(`${p}-299`);
    expect(keys.get(`${p}:l`)?.value).toHaveLength(60);
    expect(keys.get(`${p}:ttl`)?.pttl).toBeGreaterThan(0);
  }
  expect(keys.get("counter")?.value).toBe(String(phases.length));
}

const M = dataNode("m", "redis", () => ["bind 127.0.0.1"]);
// R listens on a second loopback address too and announces that one (REPLCONF ip-address /
// listening-port): Sentinel knows R only from its master's INFO, so from then on it reaches R,
// and points the other nodes at it, through the announced address.
const R = dataNode("r", R_KIND, (port) => ["bind 127.0.0.1 127.0.0.2", `replicaof 127.0.0.1 ${M.port}`, "replica-priority 100", "replica-announce-ip 127.0.0.2", `replica-announce-port ${port}`]);
const S = dataNode("s", "redis", () => ["bind 127.0.0.1", `replicaof 127.0.0.1 ${M.port}`, "replica-priority 0"]);

/** The address a node is known by (R's announced one). */
function addr(n: Node): string {
  return `${n === R ? "127.0.0.2" : "127.0.0.1"}:${n.port}`;
}
/** The `replicaof` arguments naming a node. */
function replicaofArgs(n: Node): string {
  return addr(n).replace(":", " ");
}
// Sentinels: their config files are written at their first start, once M's port is known.
const sentinels = [1, 2, 3].map((i) =>
  node(`sentinel${i}`, "sentinel", (port, dir) => [
    `port ${port}`,
    "bind 127.0.0.1",
    `dir ${dir}`,
    `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${M.port} 2`,
    `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
    `sentinel failover-timeout ${MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
    `sentinel parallel-syncs ${MASTER_NAME} 2`,
  ]),
);

/** Waits until every sentinel names `master` for MASTER_NAME. */
async function sentinelsAgree(master: Node, timeoutMs = 30000): Promise<void> {
  await waitFor(
    `every sentinel to name ${master.name} (:${master.port}) as the master`,
    async () => (await Promise.all(sentinels.map(sentinelMasterAddr))).every((a) => a === addr(master)),
    timeoutMs,
    100,
  );
}

/**
 * Stops the sentinels (so that they do not fail over while the data nodes are down), then the
 * master (its SHUTDOWN waits until the replicas acknowledged its whole stream), then the
 * replicas, each saving its dataset and replication info on SIGTERM; starts every node again
 * from its config file alone and checks that the topology is the one the files name, that the
 * replicas continue with partial resyncs, that nothing moves for longer than
 * down-after-milliseconds, and that the data is intact (`phases` written, the last one now).
 */
async function restartEverything(master: Node, replicas: Node[], phases: string[]): Promise<void> {
  for (const r of replicas) await waitReplicaOf(r, master);
  for (const s of sentinels) await stop(s);
  await stop(master);
  await Promise.all(replicas.map(stop));
  expect(confReplicaOf(master)).toBeNull();
  for (const r of replicas) expect(confReplicaOf(r)).toBe(replicaofArgs(master));
  for (const s of sentinels) expect(confText(s)).toContain(`sentinel monitor ${MASTER_NAME} ${replicaofArgs(master)} 2`);

  await Promise.all([master, ...replicas].map(start));
  await Promise.all(sentinels.map(start));
  expect(await role(master)).toBe("master");
  for (const r of replicas) await waitReplicaOf(r, master);
  // Every replica continued from the replication info saved in its RDB file.
  const mInfo = await info(srv(master));
  expect(Number(mInfo.sync_full)).toBe(0);
  expect(Number(mInfo.sync_partial_ok)).toBe(replicas.length);
  await sentinelsAgree(master);
  await Bun.sleep(DOWN_AFTER_MS + 2000);
  for (const s of sentinels) {
    expect(await sentinelMasterAddr(s)).toBe(addr(master));
    expect(srv(s).output()).not.toContain("+switch-master");
    expect(srv(s).output()).not.toContain("+odown");
  }
  expect(await role(master)).toBe("master");
  for (const r of replicas) expect(await role(r)).toBe(`slave of ${addr(master)} (connected)`);
  for (const r of replicas) expect(confReplicaOf(r)).toBe(replicaofArgs(master));
  await writePhase(master, phases.at(-1)!);
  for (const r of replicas) await waitReplicaOf(r, master);
  expectPhases(await expectSameData(master, ...replicas), phases);
}

describe("Sentinel failover between redis-server and Replicant", () => {
  phase("Sentinel monitors Replicant as a replica (INFO, hello messages through its pub/sub)", TIMEOUT, async () => {
    await start(M);
    await Promise.all([start(R), start(S)]);
    await writePhase(M, "p0");
    await waitReplicaOf(R, M);
    await waitReplicaOf(S, M);
    await Promise.all(sentinels.map(start));
    // Each sentinel finds both replicas from M's INFO and the other two sentinels from the
    // hello messages (published on M, R and S).
    await waitFor(
      "every sentinel to know both replicas and the other sentinels",
      async () => {
        for (const s of sentinels) {
          const m = fields(await srv(s).call("SENTINEL", "MASTER", MASTER_NAME));
          if (m["num-slaves"] !== "2" || m["num-other-sentinels"] !== "2") return false;
        }
        return true;
      },
      20000,
      100,
    );
    // Sentinel reads Replicant's INFO as redis-server's: link up, its priority, its offset.
    await waitFor(
      "Sentinel to see R as a healthy replica",
      async () => {
        const r = (await sentinelReplicas(sentinels[0]!)).find((x) => x.port === String(R.port));
        return r && r.flags === "slave" && r["master-link-status"] === "ok" && r["slave-priority"] === "100" && Number(r["slave-repl-offset"]) > 0 && r.runid?.length === 40;
      },
      15000,
      100,
    );
    const viewOfR = (await sentinelReplicas(sentinels[0]!)).find((x) => x.port === String(R.port))!;
    expect(viewOfR.ip).toBe("127.0.0.2");
    expect(viewOfR["master-host"]).toBe("127.0.0.1");
    expect(viewOfR["master-port"]).toBe(String(M.port));
    expect(viewOfR.runid).toBe((await info(srv(R), "server")).run_id!);
    const viewOfS = (await sentinelReplicas(sentinels[0]!)).find((x) => x.port === String(S.port))!;
    expect(viewOfS["slave-priority"]).toBe("0");
    // The sentinels' pub/sub connections on Replicant, and their hello messages through it.
    await waitFor("three sentinels subscribed on R", async () => ((await srv(R).call("PUBSUB", "NUMSUB", "__sentinel__:hello")) as unknown[])[1] === 3, 10000);
    const sub = await srv(R).client();
    await sub.call("SUBSCRIBE", "__sentinel__:hello");
    await waitFor("a hello message on R", () => sub.pushes.some((p) => Array.isArray(p) && p[0] === "message" && String(p[2]).includes(`,${MASTER_NAME},127.0.0.1,${M.port},`)), 10000);
    sub.close();
    const clients = String(await srv(R).call("CLIENT", "LIST"));
    expect(clients).toMatch(/name=sentinel-[0-9a-f]{8}-cmd /);
    expect(clients).toMatch(/name=sentinel-[0-9a-f]{8}-pubsub /);
  });

  phase("the master dies: Sentinel promotes Replicant, S and the restarted M follow it", TIMEOUT, async () => {
    const sLogFrom = srv(S).output().length;
    M.history += srv(M).output();
    await srv(M).stop("SIGKILL");
    M.server = null;
    await sentinelsAgree(R);
    await waitFor("R to be a master", async () => (await role(R)) === "master", 10000);
    // SLAVEOF NO ONE + CONFIG REWRITE: R's config file names no master any more.
    await waitFor("R's config to be rewritten without replicaof", () => confReplicaOf(R) === null, 10000);
    // S (redis-server) was reconfigured to follow R and continued with a partial resync
    // (PSYNC with M's replid, which R keeps as replid2).
    await waitReplicaOf(S, R);
    expect(srv(S).output().slice(sLogFrom)).toContain("Successful partial resynchronization with master");
    expect(srv(S).output().slice(sLogFrom)).not.toContain("Full resync from master");
    const rInfo = await info(srv(R));
    expect(Number(rInfo.sync_partial_ok)).toBe(1);
    expect(Number(rInfo.sync_full)).toBe(0);
    expect(confReplicaOf(S)).toBe(replicaofArgs(R));
    // Writes to R are accepted now.
    await writePhase(R, "p1");
    // M comes back from its own (stale) config as a master; Sentinel converts it to a replica
    // of R, and it syncs from Replicant.
    await start(M);
    await waitReplicaOf(M, R, 40000);
    await waitFor("M's config to name R", () => confReplicaOf(M) === replicaofArgs(R), 10000);
    await waitReplicaOf(S, R);
    const ds = await expectSameData(R, M, S);
    expectPhases(ds, ["p0", "p1"]);
    // Sentinel's view: R is the master, M and S its replicas.
    await waitFor(
      "Sentinel to see M and S as R's replicas",
      async () => {
        const reps = await sentinelReplicas(sentinels[0]!);
        const ok = (p: number) => reps.find((x) => x.port === String(p) && x.flags === "slave" && x["master-link-status"] === "ok" && `${x["master-host"]}:${x["master-port"]}` === addr(R));
        return ok(M.port) && ok(S.port);
      },
      15000,
      100,
    );
  });

  phase("every node restarts from its rewritten config file while Replicant is the master", TIMEOUT, async () => {
    await restartEverything(R, [M, S], ["p0", "p1", "p2"]);
  });

  phase("SENTINEL FAILOVER moves mastership back to a redis-server node", TIMEOUT, async () => {
    // The restarted sentinels must know M as a healthy replica before they can pick it.
    await waitFor(
      "Sentinel to see M as a healthy replica of R",
      async () => {
        const m = (await sentinelReplicas(sentinels[0]!)).find((x) => x.port === String(M.port));
        return m && m.flags === "slave" && m["master-link-status"] === "ok" && Number(m["info-refresh"]) < 5000;
      },
      15000,
      100,
    );
    const rReplid = (await info(srv(R), "replication")).master_replid!;
    const rLogFrom = srv(R).output().length;
    const mLogFrom = srv(M).output().length;
    // Clients of R that Sentinel's CLIENT KILL TYPE normal / pubsub must disconnect when it
    // reconfigures R, so that they ask Sentinel for the master again.
    const bystander = await srv(R).client();
    const listener = await srv(R).client();
    await listener.call("SUBSCRIBE", "news");
    expect(await srv(sentinels[0]!).call("SENTINEL", "FAILOVER", MASTER_NAME)).toBe("OK");
    await sentinelsAgree(M);
    await waitFor("M to be a master", async () => (await role(M)) === "master", 10000);
    // R is converted to a replica of M (Sentinel's MULTI / SLAVEOF / CONFIG REWRITE / CLIENT
    // KILL / EXEC), and its config file now names M.
    await waitReplicaOf(R, M, 40000);
    await waitFor("R's config to name M", () => confReplicaOf(R) === replicaofArgs(M), 10000);
    await waitFor("R's normal and pub/sub clients to be disconnected", () => bystander.isClosed && listener.isClosed, 5000);
    await waitReplicaOf(S, M);
    expect(confReplicaOf(M)).toBeNull();
    expect(confReplicaOf(S)).toBe(replicaofArgs(M));
    // Replicant asked M to continue its own history (its replid, which M keeps as replid2 since
    // it had synced from R). M accepts unless R's offset moved past the point where M left it:
    // as the old master, R kept taking the sentinels' hello PUBLISHes (propagated, as by
    // redis-server) until Sentinel converted it, so a full resync is as redis-server does it.
    const mInfo = await info(srv(M), "replication");
    expect(mInfo.master_replid2).toBe(rReplid);
    expect(srv(R).output().slice(rLogFrom)).toContain(`Trying a partial resynchronization (request ${rReplid}:`);
    const mLog = srv(M).output().slice(mLogFrom);
    const lines = mLog.split("\n");
    const asked = lines.findIndex((l) => l.includes(`Replica ${addr(R)} asks for synchronization`));
    expect(asked).toBeGreaterThanOrEqual(0);
    expect(lines[asked + 1]).toMatch(/Partial resynchronization request from .* accepted|Partial resynchronization not accepted: Requested offset for second ID was/);
    await writePhase(M, "p3");
    await waitReplicaOf(R, M);
    await waitReplicaOf(S, M);
    expectPhases(await expectSameData(M, R, S), ["p0", "p1", "p2", "p3"]);
  });

  phase("every node restarts from its rewritten config file into the same topology, data intact", TIMEOUT, async () => {
    await restartEverything(M, [R, S], ["p0", "p1", "p2", "p3", "p4"]);
  });
});
