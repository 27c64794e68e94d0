// A redis-server and a Replicant started with the same directives for one test file (before its
// tests; stopped and their directories removed after), a client on each, and the two ways
// those files compare them: both() returns the two replies, same() expects them equal.

import { afterAll, beforeAll, expect } from "bun:test";
import { RespError, type RespClient, type RespValue } from "./resp-client.ts";
import { type ServerProcess, startRedis, startReplicant, stopServers } from "./servers.ts";

/** A reply as the tests compare it: an error as its "-" line (RespError values carry no text to compare). */
export function errorText(v: RespValue): unknown {
  return v instanceof RespError ? `-${v.message}` : v;
}

export interface SideBySide {
  readonly redis: ServerProcess;
  readonly ours: ServerProcess;
  /** One client on each: [redis-server's, Replicant's]. */
  readonly clients: [RespClient, RespClient];
  /** The same command on both: [redis-server's reply, Replicant's], errors as text. */
  both(...args: Array<string | number>): Promise<[unknown, unknown]>;
  /** The same command on both; the replies must be equal. Returns Replicant's. */
  same(...args: Array<string | number>): Promise<unknown>;
}

/** Registers the file's beforeAll / afterAll that start and stop the two servers. */
export function sideBySide(directives: string[] = []): SideBySide {
  let servers: [ServerProcess, ServerProcess] | undefined;
  let clients: [RespClient, RespClient] | undefined;
  beforeAll(async () => {
    servers = await Promise.all([startRedis(directives), startReplicant(directives)]);
    clients = await Promise.all([servers[0].client(), servers[1].client()]);
  });
  afterAll(() => stopServers(servers ?? []));
  const started = () => {
    if (!servers || !clients) throw new Error("the side-by-side servers start in beforeAll");
    return { servers, clients };
  };
  const both = async (...args: Array<string | number>): Promise<[unknown, unknown]> => {
    const [a, b] = started().clients;
    const [ra, rb] = await Promise.all([a.call(...args), b.call(...args)]);
    return [errorText(ra), errorText(rb)];
  };
  return {
    get redis() {
      return started().servers[0];
    },
    get ours() {
      return started().servers[1];
    },
    get clients() {
      return started().clients;
    },
    both,
    async same(...args) {
      const [a, b] = await both(...args);
      expect({ args, reply: b }).toEqual({ args, reply: a });
      return b;
    },
  };
}
