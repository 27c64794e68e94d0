// A workload through replication, checked from both sides: a redis-server master with a
// Replicant replica next to a redis-server replica (Replicant as a replica), or a Replicant
// master with a redis-server replica (what Replicant propagates). The servers are stopped and
// their directories removed whatever happens.

import { expect } from "bun:test";
import { diffDatasets, snapshotDataset } from "./dataset.ts";
import type { RespClient } from "./resp-client.ts";
import { removeDir, startRedis, startReplicant, waitForSync } from "./servers.ts";

export interface AsReplicaChecks {
  /** The master's database 0 holds more keys than this once the workload ran. */
  minKeys: number;
  /** Encodings the redis-server replica must report, so that comparing them means something. */
  encodings: string[];
  /** More comparisons: the Replicant replica's client, the redis-server replica's. */
  more?: (replicant: RespClient, reference: RespClient) => Promise<void>;
}

/**
 * `commands` on a redis-server master started with `directives` (500 pipelined at a time), its
 * replicas started with the same: Replicant's holds the master's dataset, and the same keys
 * with the same OBJECT ENCODINGs as the redis-server replica.
 */
export async function checkAsReplica(directives: string[], commands: string[][], checks: AsReplicaChecks): Promise<void> {
  const master = await startRedis(directives);
  const replicaConfig = [...directives, "--replicaof", "127.0.0.1", String(master.port)];
  const [replica, reference] = await Promise.all([startReplicant(replicaConfig), startRedis(replicaConfig)]);
  const clients: RespClient[] = [];
  try {
    await Promise.all([waitForSync(master, replica), waitForSync(master, reference)]);
    const mc = await master.client();
    clients.push(mc);
    for (let n = 0; n < commands.length; n += 500) await mc.pipeline(commands.slice(n, n + 500));
    await Promise.all([waitForSync(master, replica), waitForSync(master, reference)]);
    const rc = await replica.client();
    const fc = await reference.client();
    clients.push(rc, fc);
    const [a, b] = await Promise.all([snapshotDataset(mc), snapshotDataset(rc)]);
    expect(diffDatasets(a, b)).toEqual([]);
    expect(a.get(0)?.size ?? 0).toBeGreaterThan(checks.minKeys);
    const keys = await keysOf(fc);
    expect(await keysOf(rc)).toEqual(keys);
    const expected = await encodings(fc, keys);
    expect(await encodings(rc, keys)).toEqual(expected);
    for (const e of checks.encodings) expect(Object.values(expected)).toContain(e);
    await checks.more?.(rc, fc);
  } finally {
    for (const cl of clients) cl.close();
    await Promise.all([master.stop(), replica.stop(), reference.stop()]);
    for (const s of [master, replica, reference]) removeDir(s.dir);
  }
}

/**
 * `commands` on a Replicant master (500 pipelined at a time) with a redis-server replica: what
 * Replicant propagates rebuilds the same dataset there, of more than `minKeys` keys in db 0.
 */
export async function checkAsMaster(commands: string[][], minKeys: number): Promise<void> {
  const master = await startReplicant();
  const replica = await startRedis(["--replicaof", "127.0.0.1", String(master.port)]);
  const clients: RespClient[] = [];
  try {
    await waitForSync(master, replica);
    const mc = await master.client();
    clients.push(mc);
    for (let n = 0; n < commands.length; n += 500) await mc.pipeline(commands.slice(n, n + 500));
    await waitForSync(master, replica);
    const rc = await replica.client();
    clients.push(rc);
    const [a, b] = await Promise.all([snapshotDataset(mc), snapshotDataset(rc)]);
    expect(diffDatasets(a, b)).toEqual([]);
    expect(a.get(0)?.size ?? 0).toBeGreaterThan(minKeys);
  } finally {
    for (const cl of clients) cl.close();
    await Promise.all([master.stop(), replica.stop()]);
    for (const s of [master, replica]) removeDir(s.dir);
  }
}

/** OBJECT ENCODING of each key. */
export async function encodings(client: RespClient, keys: string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = await client.call("OBJECT", "ENCODING", k);
  return out;
}

/** KEYS *, sorted. */
export async function keysOf(client: RespClient): Promise<string[]> {
  return ((await client.call("KEYS", "*")) as string[]).sort();
}
