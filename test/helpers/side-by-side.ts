// A redis-server and a Replicant started with the same directives for one test file (before its
// tests; stopped and their directories removed after), a client on each: sideBySide() with
// parsed replies (both() returns the two, same() expects them equal), serverPair() with raw
// reply bytes (run() from an empty dataset, compared byte for byte).

import { afterAll, beforeAll, expect } from "bun:test";
import { RawClient } from "./raw-client.ts";
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

export interface ServerPair {
  readonly redis: ServerProcess;
  readonly replicant: ServerProcess;
  /** A raw-bytes client on each: [redis-server's, Replicant's]. */
  readonly clients: [RawClient, RawClient];
  /** Runs the commands on both from an empty dataset; returns [redis-server's, Replicant's] raw replies. */
  run(cmds: string[][]): Promise<[string[], string[]]>;
}

/** Registers the file's beforeAll / afterAll that start and stop the two servers (raw clients). */
export function serverPair(directives: string[] = []): ServerPair {
  let servers: [ServerProcess, ServerProcess] | undefined;
  let clients: [RawClient, RawClient] | undefined;
  beforeAll(async () => {
    servers = await Promise.all([startRedis(directives), startReplicant(directives)]);
    clients = await Promise.all([RawClient.connect(servers[0].port), RawClient.connect(servers[1].port)]);
  });
  afterAll(async () => {
    for (const c of clients ?? []) c.close();
    await stopServers(servers ?? []);
  });
  const started = () => {
    if (!servers || !clients) throw new Error("the side-by-side servers start in beforeAll");
    return { servers, clients };
  };
  return {
    get redis() {
      return started().servers[0];
    },
    get replicant() {
      return started().servers[1];
    },
    get clients() {
      return started().clients;
    },
    async run(cmds) {
      const [a, b] = started().clients;
      const all = [["FLUSHALL"], ["SELECT", "0"], ...cmds];
      const [ra, rb] = await Promise.all([a.pipeline(all), b.pipeline(all)]);
      return [ra.slice(2), rb.slice(2)];
    },
  };
}

/** The commands with each reply, for readable expectations: "CMD args -> reply". */
export function transcript(cmds: string[][], replies: string[]): string[] {
  return cmds.map((c, i) => `${c.join(" ")} -> ${JSON.stringify(replies[i])}`);
}
