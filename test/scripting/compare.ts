// Test support for the scripting tests: a real redis-server and a Replicant started side by
// side, raw-reply clients to both (RESP2 and RESP3), and a comparison that reports every
// command whose reply differs byte for byte.

import { RawClient } from "../helpers/raw-client.ts";
import { removeDir, startRedis, startReplicant, type ServerProcess } from "../helpers/servers.ts";

export interface Pair {
  redis: ServerProcess;
  replicant: ServerProcess;
  r2: RawClient;
  p2: RawClient;
  r3: RawClient;
  p3: RawClient;
  stop(): Promise<void>;
}

export async function startPair(redisArgs: string[] = [], replicantArgs: string[] = []): Promise<Pair> {
  const redis = await startRedis(redisArgs);
  const replicant = await startReplicant(replicantArgs);
  const r2 = await RawClient.connect(redis.port);
  const p2 = await RawClient.connect(replicant.port);
  const r3 = await RawClient.connect(redis.port);
  const p3 = await RawClient.connect(replicant.port);
  await r3.call("HELLO", "3");
  await p3.call("HELLO", "3");
  return {
    redis,
    replicant,
    r2,
    p2,
    r3,
    p3,
    async stop() {
      for (const c of [r2, p2, r3, p3]) c.close();
      await redis.stop();
      await replicant.stop();
      removeDir(redis.dir);
      removeDir(replicant.dir);
    },
  };
}

export interface Mismatch {
  command: string[];
  redis: string;
  replicant: string;
}

/** Sends the same commands to both servers (in order) and returns the differing replies. */
export async function compareCommands(a: RawClient, b: RawClient, commands: string[][]): Promise<Mismatch[]> {
  const out: Mismatch[] = [];
  for (const cmd of commands) {
    const [x, y] = await Promise.all([a.call(...cmd), b.call(...cmd)]);
    if (x !== y) out.push({ command: cmd, redis: x, replicant: y });
  }
  return out;
}

export function describeMismatches(ms: Mismatch[]): string {
  return ms
    .map((m) => `${JSON.stringify(m.command).slice(0, 300)}\n   redis:     ${JSON.stringify(m.redis).slice(0, 400)}\n   replicant: ${JSON.stringify(m.replicant).slice(0, 400)}`)
    .join("\n");
}
