// A redis-server and a Replicant side by side for focused regression tests: the same commands
// go to both (from a FLUSHALL), and the raw replies are returned for comparison, byte for byte.

import { afterAll, beforeAll } from "bun:test";
import { type ServerProcess, startRedis, startReplicant, stopServers } from "../helpers/servers.ts";
import { RawClient } from "./runner.ts";

export interface ServerPair {
  redis: ServerProcess;
  replicant: ServerProcess;
  /** Runs the commands on both from an empty dataset; returns [redis-server's, Replicant's] raw replies. */
  run(cmds: string[][]): Promise<[string[], string[]]>;
}

/** Registers beforeAll/afterAll hooks that start and stop the two servers. */
export function serverPair(extra: string[] = []): ServerPair {
  let a: RawClient | null = null;
  let b: RawClient | null = null;
  const pair = {
    redis: null as unknown as ServerProcess,
    replicant: null as unknown as ServerProcess,
    async run(cmds: string[][]): Promise<[string[], string[]]> {
      const all = [["FLUSHALL"], ["SELECT", "0"], ...cmds];
      const [ra, rb] = await Promise.all([a!.pipeline(all), b!.pipeline(all)]);
      return [ra.slice(2), rb.slice(2)];
    },
  };
  beforeAll(async () => {
    [pair.redis, pair.replicant] = await Promise.all([startRedis(extra), startReplicant(extra)]);
    a = await RawClient.connect(pair.redis.port);
    b = await RawClient.connect(pair.replicant.port);
  });
  afterAll(async () => {
    a?.close();
    b?.close();
    await stopServers([pair.redis, pair.replicant]);
  });
  return pair;
}

/** The commands with each reply, for readable expectations: "CMD args -> reply". */
export function transcript(cmds: string[][], replies: string[]): string[] {
  return cmds.map((c, i) => `${c.join(" ")} -> ${JSON.stringify(replies[i])}`);
}
