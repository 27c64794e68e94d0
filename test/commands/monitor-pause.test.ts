// MONITOR and CLIENT PAUSE side by side with redis-server 7.0: the same lines for the same
// commands (scripts' commands after their EVAL, transactions, passwords redacted, admin
// commands hidden, an EXEC refused before it ran), and the same waits under a pause (writes
// only or all, ended by UNPAUSE or by the timeout; keys do not expire while paused).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { RespClient, type RespValue } from "../helpers/resp-client.ts";
import { type ServerProcess, startRedis, startReplicant, waitFor, stopServers } from "../helpers/servers.ts";
import { errorText } from "../helpers/side-by-side.ts";

let redis: ServerProcess;
let ours: ServerProcess;

beforeAll(async () => {
  [redis, ours] = await Promise.all([startRedis(), startReplicant()]);
});

afterAll(() => stopServers([redis, ours]));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The reply, or "(waiting)" if none came within `ms`. */
async function within(p: Promise<RespValue>, ms = 150): Promise<unknown> {
  return Promise.race([p.then(errorText), sleep(ms).then(() => "(waiting)")]);
}

/** Runs `scenario` on each server with fresh clients; returns what each produced. */
async function onBoth<T>(scenario: (port: number) => Promise<T>): Promise<[T, T]> {
  const a = await scenario(redis.port);
  const b = await scenario(ours.port);
  return [a, b];
}

/** A monitor's lines with the time and the client's port taken out. */
function monitorLines(m: RespClient): string[] {
  return m.pushes.map((l) => String(l).replace(/^\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\]/, "T [$1 client]").replace(/^\d+\.\d{6} \[(\d+) lua\]/, "T [$1 lua]"));
}

test("MONITOR shows what redis-server's shows, in the same order and quoting", async () => {
  const [a, b] = await onBoth(async (port) => {
    const m = await RespClient.connect(port);
    const c = await RespClient.connect(port);
    const c2 = await RespClient.connect(port);
    const replies: unknown[] = [errorText(await m.call("MONITOR"))];
    const run = async (...args: Array<string | number>) => replies.push(errorText(await c.call(...args)));
    await run("SET", "a b", 'x"y\\z');
    await run("SET", "bin", "\x00\x01\n\r\t\x07\x08\xff");
    await run("EVAL", "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])", 1, "k", "v");
    await run("EVAL", "return 1", "notanumber");
    await run("MULTI");
    await run("INCR", "counter");
    await run("GET", "counter");
    await run("EXEC");
    await run("MULTI");
    await run("NOSUCHCOMMAND");
    await run("EXEC");
    await run("AUTH", "someone", "secret");
    await c.call("HELLO", 2, "AUTH", "default", "secret2"); // (its reply has the client's id)
    await run("CONFIG", "SET", "masterauth", "secret3");
    await run("CONFIG", "GET", "maxmemory");
    await run("DEBUG", "HELP");
    await run("SELECT", 3);
    await run("SET", "in3", "x");
    // EXEC refused before it ran (no password yet): EXECABORT, and the monitors see the EXEC.
    await run("CONFIG", "SET", "requirepass", "pw");
    const c3 = await RespClient.connect(port);
    replies.push(errorText(await c3.call("EXEC")));
    replies.push(errorText(await c2.call("MULTI")));
    replies.push(errorText(await c2.call("EXEC")));
    c3.close();
    await run("CONFIG", "SET", "requirepass", "");
    // The monitor itself: no keyspace commands; PING is fine.
    replies.push(errorText(await m.call("GET", "a b")));
    await sleep(50);
    const lines = monitorLines(m);
    for (const x of [m, c, c2]) x.close();
    return { replies, lines };
  });
  expect(b.replies).toEqual(a.replies);
  expect(b.lines).toEqual(a.lines);
  const all = b.lines.join("\n");
  for (const secret of ["secret", "secret2", "secret3"]) expect(all).not.toContain(`"${secret}"`);
  expect(all).toContain('"AUTH" "(redacted)" "(redacted)"');
  expect(all).not.toContain("maxmemory");
});

test("CLIENT PAUSE WRITE holds writes (and scripts that may write), not reads; UNPAUSE releases them in order", async () => {
  const [a, b] = await onBoth(async (port) => {
    const admin = await RespClient.connect(port);
    const w1 = await RespClient.connect(port);
    const w2 = await RespClient.connect(port);
    const r = await RespClient.connect(port);
    const out: unknown[] = [];
    await admin.call("FLUSHALL");
    await admin.call("SET", "k", "0");
    out.push(errorText(await admin.call("CLIENT", "PAUSE", 100000, "WRITE")));
    const set1 = w1.call("INCR", "k");
    const set2 = w2.call("APPEND", "k", "x");
    out.push(await within(set1), await within(set2));
    out.push(await within(r.call("GET", "k")));
    out.push(await within(r.call("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", 1, "k")));
    out.push(await within(r.call("EVAL_RO", "return redis.call('get', KEYS[1])", 1, "k")));
    const script = r.call("EVAL", "return 1", 0);
    out.push(await within(script));
    const publish = w2.call("PUBLISH", "ch", "m");
    out.push(await within(publish));
    out.push(errorText(await admin.call("CLIENT", "UNPAUSE")));
    out.push(errorText(await set1), errorText(await set2), errorText(await script), errorText(await publish));
    out.push(errorText(await r.call("GET", "k")));
    for (const x of [admin, w1, w2, r]) x.close();
    return out;
  });
  expect(b).toEqual(a);
  expect(b).toContain("(waiting)");
});

test("CLIENT PAUSE ALL holds every command until its timeout; keys do not expire meanwhile", async () => {
  const [a, b] = await onBoth(async (port) => {
    const admin = await RespClient.connect(port);
    const r = await RespClient.connect(port);
    const out: unknown[] = [];
    await admin.call("FLUSHALL");
    await admin.call("SET", "short", "v", "PX", 50);
    // Under a write pause an expired key reads as missing but is not deleted.
    out.push(errorText(await admin.call("CLIENT", "PAUSE", 100000, "WRITE")));
    await sleep(100);
    out.push(errorText(await r.call("GET", "short")), errorText(await r.call("DBSIZE")));
    // (A second pause of the same purpose would only extend this one: end it first.)
    out.push(errorText(await admin.call("CLIENT", "UNPAUSE")));
    await admin.call("SET", "short", "v", "PX", 50);
    out.push(errorText(await admin.call("CLIENT", "PAUSE", 400)));
    const started = Date.now();
    const get = r.call("PING");
    out.push(await within(get, 100));
    // (Its time passes meanwhile; at the end of the pause the key goes before PING runs.)
    out.push(errorText(await get));
    out.push(Date.now() - started >= 350);
    out.push(errorText(await r.call("DBSIZE")));
    out.push(errorText(await r.call("EXISTS", "short")));
    for (const x of [admin, r]) x.close();
    return out;
  });
  expect(b).toEqual(a);
});

test("CLIENT PAUSE errors, MULTI under a write pause, a monitor not paused, CLIENT LIST flags", async () => {
  const [a, b] = await onBoth(async (port) => {
    const admin = await RespClient.connect(port);
    const c = await RespClient.connect(port);
    const m = await RespClient.connect(port);
    const out: unknown[] = [];
    for (const args of [["CLIENT", "PAUSE", "-1"], ["CLIENT", "PAUSE", "abc"], ["CLIENT", "PAUSE", "10", "READ"], ["CLIENT", "PAUSE", "10", "ALL", "x"], ["CLIENT", "PAUSE", "9223372036854775807"], ["CLIENT", "PAUSE", "0"], ["CLIENT", "UNPAUSE"]]) {
      out.push(errorText(await admin.call(...args)));
    }
    await m.call("MONITOR");
    await admin.call("CLIENT", "PAUSE", 100000, "WRITE");
    out.push(errorText(await c.call("MULTI")));
    const queued = c.call("SET", "x", "1");
    out.push(await within(queued));
    out.push(await within(m.call("PING")));
    const list = String(await admin.call("CLIENT", "LIST"));
    out.push(list.split("\n").filter(Boolean).map((l) => /flags=(\S+)/.exec(l)![1]).sort());
    out.push(errorText(await admin.call("CLIENT", "UNPAUSE")));
    out.push(errorText(await queued), errorText(await c.call("EXEC")));
    await waitFor("the monitor's lines", () => m.pushes.length >= 3 || null, 2000);
    for (const x of [admin, c, m]) x.close();
    return out;
  });
  expect(b).toEqual(a);
});
