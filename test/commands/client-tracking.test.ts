// CLIENT TRACKING (server-assisted client-side caching) side by side with redis-server 7.0:
// the same scenarios on both, and the same bytes on every connection: replies, invalidation
// pushes (RESP3), __redis__:invalidate messages (REDIRECT to RESP2), null invalidations on
// flushes; OPTIN/OPTOUT with CLIENT CACHING, NOLOOP, BCAST prefixes, broken redirects, the
// option errors; and on a replica, invalidations for the keys its master changes.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { encodeCommand } from "../../src/protocol/reply-parser.ts";
import { parseInfo, removeDir, type ServerProcess, startRedis, startReplicant, waitForSync } from "../helpers/servers.ts";

/** A raw connection: commands out, every byte in (pushes included). */
class Raw {
  private received = "";
  private constructor(private readonly socket: Socket<undefined>) {}

  static async open(port: number): Promise<Raw> {
    let raw: Raw | null = null;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, d) {
          raw!.received += d.latin1Slice(0, d.length);
        },
      },
    });
    raw = new Raw(socket);
    return raw;
  }

  send(...argv: string[]): void {
    this.socket.write(encodeCommand(argv));
  }

  /** What arrived since the last take(), once the connection has been quiet a moment. */
  async take(): Promise<string> {
    let last = -1;
    while (last !== this.received.length) {
      last = this.received.length;
      await Bun.sleep(40);
    }
    const out = this.received;
    this.received = "";
    return out;
  }

  /** The client id (CLIENT ID's reply). */
  async id(): Promise<number> {
    this.send("CLIENT", "ID");
    return Number((await this.take()).match(/^:(\d+)/)![1]);
  }

  close(): void {
    this.socket.end();
  }
}

type Step = [conn: string, argv: string[]] | ["sleep", number];

/**
 * Runs the same steps on a fresh set of connections to each server and returns, per step,
 * what every connection received: the two transcripts must be the same. "{id:name}" in an
 * argument is replaced by that connection's client id.
 */
async function transcript(port: number, names: string[], steps: Step[]): Promise<string[]> {
  const conns = new Map<string, Raw>();
  const ids = new Map<string, number>();
  for (const n of names) {
    const c = await Raw.open(port);
    conns.set(n, c);
    ids.set(n, await c.id());
  }
  const out: string[] = [];
  try {
    for (const [who, what] of steps) {
      if (who === "sleep") {
        await Bun.sleep(what as number);
        continue;
      }
      const argv = (what as string[]).map((a) => a.replace(/\{id:(\w+)\}/g, (_, n) => String(ids.get(n))));
      conns.get(who)!.send(...argv);
      const got = await Promise.all(names.map(async (n) => `${n}: ${JSON.stringify(await conns.get(n)!.take())}`));
      out.push(`${who} ${(what as string[]).join(" ")}\n  ${got.join("\n  ")}`);
    }
  } finally {
    for (const c of conns.values()) c.close();
  }
  // Client ids differ between servers: where they appear (HELLO's id, a reply that is only an
  // id, TRACKINGINFO's redirect) they are compared as placeholders.
  const idSet = new Set([...ids.values()].map(String));
  const mask = (text: string) =>
    text
      .replace(/id\\r\\n:\d+/g, "id\\r\\n:<id>")
      .replace(/redirect\\r\\n:\d+/g, (m) => (idSet.has(m.split(":")[1]!) ? "redirect\\r\\n:<id>" : m))
      .replace(/: ":(\d+)\\r\\n"/g, (m, n) => (idSet.has(n) ? ': ":<id>\\r\\n"' : m));
  return out.map(mask);
}

let redis: ServerProcess;
let ours: ServerProcess;

beforeAll(async () => {
  [redis, ours] = await Promise.all([startRedis([]), startReplicant([])]);
});

afterAll(async () => {
  for (const s of [redis, ours]) {
    await s?.stop();
    if (s) removeDir(s.dir);
  }
});

async function sameTranscript(names: string[], steps: Step[]): Promise<void> {
  await redis.call("FLUSHALL");
  await ours.call("FLUSHALL");
  const [a, b] = [await transcript(redis.port, names, steps), await transcript(ours.port, names, steps)];
  expect(b).toEqual(a);
}

test("default mode: reads remembered, invalidations to others at once, to the writer after its reply, null on flushes", async () => {
  await sameTranscript(
    ["a", "b"],
    [
      ["a", ["HELLO", "3"]],
      ["a", ["CLIENT", "TRACKING", "on"]],
      ["a", ["GET", "k"]],
      ["a", ["MGET", "k2", "k3"]],
      ["a", ["HGETALL", "h"]],
      ["a", ["EXISTS", "e"]],
      ["b", ["SET", "k", "1"]],
      ["b", ["SET", "k", "2"]],
      ["b", ["MSET", "k2", "x", "k3", "y"]],
      ["b", ["HSET", "h", "f", "v"]],
      ["b", ["SET", "e", "v"]],
      ["a", ["GET", "k"]],
      ["a", ["SET", "k", "own"]],
      ["a", ["GET", "k"]],
      ["a", ["MULTI"]],
      ["a", ["GET", "k"]],
      ["a", ["SET", "k", "again"]],
      ["a", ["EXEC"]],
      ["a", ["GET", "k"]],
      ["b", ["EXPIRE", "k", "100"]],
      ["a", ["GET", "k"]],
      ["b", ["FLUSHALL"]],
      ["a", ["GET", "t"]],
      ["b", ["SET", "t", "v", "PX", "10"]],
      ["a", ["GET", "t"]],
      ["sleep", 200],
      ["a", ["GET", "t"]],
      ["a", ["CLIENT", "TRACKINGINFO"]],
      ["a", ["CLIENT", "GETREDIR"]],
      ["b", ["CLIENT", "GETREDIR"]],
      ["a", ["CLIENT", "TRACKING", "off"]],
      ["a", ["CLIENT", "TRACKINGINFO"]],
    ],
  );
});

test("OPTIN / OPTOUT with CLIENT CACHING, NOLOOP", async () => {
  await sameTranscript(
    ["a", "b"],
    [
      ["a", ["HELLO", "3"]],
      ["a", ["CLIENT", "TRACKING", "on", "OPTIN"]],
      ["a", ["GET", "no"]],
      ["a", ["CLIENT", "CACHING", "yes"]],
      ["a", ["GET", "yes"]],
      ["a", ["GET", "no2"]],
      ["a", ["CLIENT", "TRACKINGINFO"]],
      ["b", ["MSET", "no", "1", "yes", "1", "no2", "1"]],
      ["a", ["CLIENT", "CACHING", "no"]],
      ["a", ["CLIENT", "TRACKING", "on", "OPTOUT"]],
      ["a", ["CLIENT", "TRACKING", "off"]],
      ["a", ["CLIENT", "TRACKING", "on", "OPTOUT", "NOLOOP"]],
      ["a", ["GET", "x"]],
      ["a", ["CLIENT", "CACHING", "no"]],
      ["a", ["GET", "y"]],
      ["a", ["MULTI"]],
      ["a", ["CLIENT", "CACHING", "no"]],
      ["a", ["GET", "z"]],
      ["a", ["EXEC"]],
      ["a", ["SET", "x", "mine"]],
      ["b", ["MSET", "x", "1", "y", "1", "z", "1"]],
      ["a", ["CLIENT", "TRACKINGINFO"]],
    ],
  );
});

test("BCAST with prefixes (and NOLOOP); REDIRECT to a RESP2 client on __redis__:invalidate; a broken redirect", async () => {
  await sameTranscript(
    ["a", "b", "r"],
    [
      ["a", ["HELLO", "3"]],
      ["a", ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "obj:", "NOLOOP"]],
      ["b", ["SET", "user:1", "a"]],
      ["b", ["SET", "other", "b"]],
      ["b", ["MSET", "obj:2", "b", "obj:3", "c"]],
      ["a", ["SET", "user:mine", "x"]],
      ["a", ["CLIENT", "TRACKINGINFO"]],
      ["a", ["CLIENT", "TRACKING", "on"]],
      ["a", ["CLIENT", "TRACKING", "off"]],
      ["r", ["SUBSCRIBE", "__redis__:invalidate"]],
      ["a", ["CLIENT", "TRACKING", "on", "REDIRECT", "{id:r}"]],
      ["a", ["GET", "k"]],
      ["b", ["SET", "k", "1"]],
      ["b", ["FLUSHDB"]],
      ["a", ["CLIENT", "GETREDIR"]],
      ["r", ["UNSUBSCRIBE"]],
      ["a", ["GET", "k"]],
      ["b", ["SET", "k", "1"]],
    ],
  );
});

test("CLIENT TRACKING / CACHING option errors are Redis's", async () => {
  await sameTranscript(
    ["a"],
    [
      ["a", ["CLIENT", "CACHING", "yes"]],
      ["a", ["CLIENT", "TRACKING", "maybe"]],
      ["a", ["CLIENT", "TRACKING", "on", "PREFIX", "a"]],
      ["a", ["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"]],
      ["a", ["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"]],
      ["a", ["CLIENT", "TRACKING", "on", "REDIRECT", "999999"]],
      ["a", ["CLIENT", "TRACKING", "on", "REDIRECT", "x"]],
      ["a", ["CLIENT", "TRACKING", "on", "REDIRECT", "{id:a}", "REDIRECT", "{id:a}"]],
      ["a", ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"]],
      ["a", ["CLIENT", "TRACKING", "on", "NOSUCH"]],
      ["a", ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x"]],
      ["a", ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "xy"]],
      ["a", ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "z"]],
      ["a", ["CLIENT", "TRACKINGINFO"]],
      ["a", ["CLIENT", "CACHING", "yes"]],
      ["a", ["CLIENT", "CACHING", "maybe"]],
      ["a", ["CLIENT", "TRACKING", "off"]],
      ["a", ["CLIENT", "TRACKING", "on", "OPTIN"]],
      ["a", ["CLIENT", "CACHING", "no"]],
      ["a", ["CLIENT", "TRACKING", "on", "OPTOUT"]],
    ],
  );
});

test("INFO's tracking figures and CLIENT LIST's flags", async () => {
  const figures = async (s: ServerProcess, c: Raw) => {
    c.send("HELLO", "3");
    c.send("CLIENT", "TRACKING", "on");
    c.send("MGET", "a", "b", "c");
    await c.take();
    const info = parseInfo(await s.call("INFO", "everything"));
    const list = String(await s.call("CLIENT", "LIST"));
    return [info.tracking_clients, info.tracking_total_keys, info.tracking_total_items, info.tracking_total_prefixes, list.includes(" flags=t ")];
  };
  const [ca, cb] = await Promise.all([Raw.open(redis.port), Raw.open(ours.port)]);
  try {
    expect(await figures(ours, cb)).toEqual(await figures(redis, ca));
  } finally {
    ca.close();
    cb.close();
  }
});

test("on a replica: the master's writes invalidate what tracking clients read here", async () => {
  const master = await startRedis([]);
  const replicas = await Promise.all([startRedis(["--replicaof", "127.0.0.1", String(master.port)]), startReplicant(["--replicaof", "127.0.0.1", String(master.port)])]);
  try {
    for (const r of replicas) await waitForSync(master, r);
    await master.call("SET", "k", "v");
    for (const r of replicas) await waitForSync(master, r);
    const conns = await Promise.all(replicas.map((r) => Raw.open(r.port)));
    for (const c of conns) {
      c.send("HELLO", "3");
      c.send("CLIENT", "TRACKING", "on");
      c.send("GET", "k");
      c.send("GET", "gone");
    }
    const got = async () => Promise.all(conns.map((c) => c.take()));
    const [first, second] = await got();
    const noId = (t: string) => t.replace(/\$2\r\nid\r\n:\d+/, "");
    expect(noId(second!)).toBe(noId(first!));
    await master.call("SET", "k", "v2");
    await master.call("SET", "gone", "x");
    for (const r of replicas) await waitForSync(master, r);
    const [a, b] = await got();
    expect(b).toBe(a!);
    expect(b).toContain(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
    await master.call("FLUSHALL");
    for (const r of replicas) await waitForSync(master, r);
    const [fa, fb] = await got();
    expect(fb).toBe(fa!);
    for (const c of conns) c.close();
  } finally {
    for (const s of [...replicas, master]) {
      await s.stop();
      removeDir(s.dir);
    }
  }
});
