// COMMAND DOCS side by side with redis-server 7.0.15: the same documentation for every command
// (summary, since, group, complexity, doc_flags, deprecated_since, replaced_by, history, the
// argument trees, subcommands), in RESP3 and RESP2; the commands taken from Redis 7.4 as
// redis-server 7.4.1 documents them (without 7.2's display_text, as a 7.0 reply).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import newerTable from "../../src/core/redis-command-table-newer.json";
import type { RespClient, RespValue } from "../helpers/resp-client.ts";
import { removeDir, type ServerProcess, startRedis, startReplicant, stopServers } from "../helpers/servers.ts";

const NEWER = new Set((newerTable as { commands: Array<{ name: string }> }).commands.map((c) => c.name));
const REDIS_74 = resolve(import.meta.dir, "../../../shared/masters/redis-7.4.1");

let redis: ServerProcess;
let ours: ServerProcess;
let theirs: RespClient;
let mine: RespClient;

beforeAll(async () => {
  [redis, ours] = await Promise.all([startRedis([]), startReplicant([])]);
  [theirs, mine] = await Promise.all([redis.client(), ours.client()]);
  await Promise.all([theirs.call("HELLO", "3"), mine.call("HELLO", "3")]);
});

afterAll(() => stopServers([redis, ours]));

/** Maps as objects with sorted keys (a map's order is a hash table's in Redis); the rest as is. */
function normal(v: RespValue, dropDisplayText = false): unknown {
  if (v instanceof Map) {
    const entries = [...v].filter(([k]) => !(dropDisplayText && k === "display_text")).map(([k, x]) => [String(k), normal(x, dropDisplayText)] as const);
    return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  if (Array.isArray(v)) return v.map((x) => normal(x, dropDisplayText));
  return v;
}

test("COMMAND DOCS of every command is redis-server 7.0.15's (RESP3)", async () => {
  const all = (await theirs.call("COMMAND", "DOCS")) as Map<string, RespValue>;
  const ourAll = (await mine.call("COMMAND", "DOCS")) as Map<string, RespValue>;
  expect(all.size).toBe(240);
  for (const [name, doc] of all) {
    if (NEWER.has(name)) continue;
    expect({ name, doc: normal(ourAll.get(name)!) }).toEqual({ name, doc: normal(doc) });
  }
  // Every command we serve is documented (ours also has the 7.4 ones).
  const list = (await mine.call("COMMAND", "LIST")) as string[];
  expect([...ourAll.keys()].sort()).toEqual(list.filter((n) => !n.includes("|")).sort());
});

test("COMMAND DOCS name ...: subcommands by full name, unknown names left out, any case (RESP3 and RESP2)", async () => {
  const cases = [["get"], ["GET", "Set"], ["client|kill"], ["CLIENT|KILL", "config|get"], ["nosuch"], ["nosuch", "zadd", "get|x", "client|nosuch", "client|kill|x"], ["xadd", "xautoclaim", "georadius", "slaveof"]];
  for (const args of cases) expect(normal(await mine.call("COMMAND", "DOCS", ...args))).toEqual(normal(await theirs.call("COMMAND", "DOCS", ...args)));
  await Promise.all([theirs.call("HELLO", "2"), mine.call("HELLO", "2")]);
  try {
    // RESP2: flat arrays, byte for byte (commands without subcommands keep Redis's order).
    for (const args of [["get"], ["zadd", "set"], ["client|kill"], ["georadius"], ["nosuch"]]) expect(await mine.call("COMMAND", "DOCS", ...args)).toEqual(await theirs.call("COMMAND", "DOCS", ...args));
  } finally {
    await Promise.all([theirs.call("HELLO", "3"), mine.call("HELLO", "3")]);
  }
});

test("COMMAND DOCS of the commands taken from Redis 7.4 is redis-server 7.4.1's", async () => {
  if (!existsSync(REDIS_74)) return console.log("skipped: ../shared/masters/redis-7.4.1 is not there");
  const newer = await startRedis([], { bin: REDIS_74 });
  try {
    const c = await newer.client();
    await c.call("HELLO", "3");
    for (const name of NEWER) {
      const doc = (await c.call("COMMAND", "DOCS", name)) as Map<string, RespValue>;
      expect({ name, doc: normal(await mine.call("COMMAND", "DOCS", name)) }).toEqual({ name, doc: normal(doc, true) });
    }
  } finally {
    await newer.stop();
    removeDir(newer.dir);
  }
});

/**
 * Runs an interactive redis-cli in a pseudo-terminal (answering linenoise's cursor position
 * queries as a 200-column terminal), types `typed`, and returns what it printed.
 */
const PTY_DRIVER = `
import os, pty, sys, time, select
port, typed = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm"
    os.execvp("redis-cli", ["redis-cli", "-p", port])
out = b""
queries = 0
def pump(t):
    global out, queries
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if not r: continue
        try: data = os.read(fd, 4096)
        except OSError: return
        out += data
        for _ in range(data.count(b"\\x1b[6n")):
            os.write(fd, b"\\x1b[1;1R" if queries % 2 == 0 else b"\\x1b[1;200R")
            queries += 1
pump(0.8)
os.write(fd, typed.encode()); pump(0.8)
os.write(fd, b"\\x03"); pump(0.2)
os.kill(pid, 9)
sys.stdout.buffer.write(out)
`;

async function interactive(port: number, typed: string): Promise<string> {
  const p = Bun.spawn(["python3", "-c", PTY_DRIVER, String(port), typed], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return out.replaceAll(String(port), "PORT");
}

test("redis-cli's hints and HELP come from COMMAND DOCS: the same as against redis-server", async () => {
  // redis-cli 7.0 builds its hints and its HELP from COMMAND DOCS when it starts an interactive
  // session (an empty reply leaves it with none).
  if (!Bun.which("python3")) return console.log("skipped: python3 is needed to give redis-cli a terminal");
  for (const typed of ["ZADD ", "CLIENT KILL ", "SET k v ", "HELP XADD\r", "HELP @hyperloglog\r"]) {
    const [a, b] = await Promise.all([interactive(redis.port, typed), interactive(ours.port, typed)]);
    expect(b).toEqual(a);
    if (typed.endsWith(" ")) expect(a).toContain("\x1b[0;90;49m");
    else expect(a).toContain("summary:");
  }
});
