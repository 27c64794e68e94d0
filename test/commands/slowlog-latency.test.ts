// SLOWLOG, LATENCY and INFO latencystats side by side with redis-server 7.0: the same entries
// (arguments cut and passwords redacted as Redis does), the same replies and texts; durations
// and timestamps are the servers' own, so only their shapes are compared.

import { expect, test } from "bun:test";
import { type RespClient } from "../helpers/resp-client.ts";
import { sideBySide } from "../helpers/side-by-side.ts";

const ARGS = ["--slowlog-log-slower-than", "0", "--enable-debug-command", "yes"];
const pair = sideBySide(ARGS);
const { both, same } = pair;

/** SLOWLOG GET's entries without id, time, duration and port: [args, client name]. */
function entries(reply: unknown): unknown[] {
  return (reply as unknown[][]).map((e) => {
    expect(typeof e[0]).toBe("number");
    expect(Math.abs((e[1] as number) - Date.now() / 1000)).toBeLessThan(60);
    expect(typeof e[2]).toBe("number");
    expect(String(e[4])).toMatch(/^127\.0\.0\.1:\d+$/);
    return [e[3], e[5]];
  });
}

test("SLOWLOG: the same entries, passwords redacted, long arguments and argument lists cut, EXEC itself not logged", async () => {
  await same("SLOWLOG", "RESET");
  await same("CLIENT", "SETNAME", "tester");
  await same("SET", "k", "v");
  await same("AUTH", "nosuchuser", "secret");
  await same("AUTH", "a", "b", "c");
  await same("CONFIG", "SET", "masterauth", "pw1", "requirepass", "");
  await same("CONFIG", "SET", "masteruser", "u", "nosuchconfig", "x");
  await both("HELLO", "2", "AUTH", "default", "wrong");
  await same("ACL", "SETUSER", "slowuser", "on", ">pw9", "+get"); // (the default user has no password: any will do)
  await same("SET", "x".repeat(200), "y".repeat(129));
  await same("DEL", ...Array.from({ length: 40 }, (_, i) => `key${i}`));
  await same("MULTI");
  await same("INCR", "counter");
  await same("EXEC");
  const [a, b] = await both("SLOWLOG", "GET", -1);
  const logged = entries(b);
  expect(logged).toEqual(entries(a));
  const flat = JSON.stringify(logged);
  for (const secret of ["secret", "pw1", "wrong", '"u"', "pw9", "slowuser"]) expect(flat).not.toContain(secret);
  expect(flat).toContain("(redacted)");
  expect(flat).toContain("... (72 more bytes)");
  expect(flat).toContain("... (10 more arguments)");
  expect(flat).not.toContain('["exec"]');
});

test("SLOWLOG GET counts, LEN, RESET, slowlog-max-len, HELP and errors as redis-server", async () => {
  await same("SLOWLOG", "RESET");
  for (let i = 0; i < 5; i++) await same("PING");
  expect(entries((await both("SLOWLOG", "GET", 2))[1])).toEqual([[["PING"], "tester"], [["PING"], "tester"]]);
  await same("SLOWLOG", "GET", "-2");
  await same("SLOWLOG", "GET", "abc");
  await same("SLOWLOG", "GET", "1", "2");
  await same("SLOWLOG", "HELP");
  await same("SLOWLOG", "NOSUCH");
  await same("CONFIG", "SET", "slowlog-max-len", "3");
  await same("PING");
  await same("SLOWLOG", "LEN");
  await same("CONFIG", "SET", "slowlog-log-slower-than", "-1");
  await same("SLOWLOG", "RESET");
  await same("PING");
  await same("SLOWLOG", "LEN");
  await same("CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "128");
});

test("LATENCY: events past latency-monitor-threshold, LATEST / HISTORY / RESET / GRAPH / DOCTOR / HELP", async () => {
  await same("LATENCY", "RESET");
  // Off: the doctor says so, nothing is recorded.
  await same("LATENCY", "DOCTOR");
  await same("LATENCY", "HISTORY", "command");
  await same("LATENCY", "GRAPH", "command");
  await same("LATENCY", "HELP");
  await same("LATENCY", "NOSUCH");
  await same("CONFIG", "SET", "latency-monitor-threshold", "5");
  await same("DEBUG", "SLEEP", "0.02");
  const [a, b] = await both("LATENCY", "LATEST");
  const shape = (v: unknown) => (v as unknown[][]).filter((e) => e[0] === "command").map((e) => [e[0], (e[2] as number) >= 20, (e[3] as number) >= 20]);
  expect(shape(b)).toEqual([["command", true, true]]);
  expect(shape(b)).toEqual(shape(a));
  const history = (await both("LATENCY", "HISTORY", "command"))[1] as number[][];
  expect(history.length).toBe(1);
  expect(history[0]![1]).toBeGreaterThanOrEqual(20);
  // One sample: the lowest mark, its age below it; the same drawing as redis-server's.
  const graphs = (await both("LATENCY", "GRAPH", "command")).map((g) => String(g).replace(/\d+/g, "N"));
  expect(graphs[1]).toMatch(/^command - high N ms, low N ms \(all time high N ms\)\n-{80}\n \n \n \n_\n \nN\ns\n$/);
  expect(graphs[1]).toBe(graphs[0]!);
  const doctor = String((await both("LATENCY", "DOCTOR"))[1]);
  expect(doctor).toMatch(/^Dave, I have observed latency spikes in this Redis instance\. You don't mind talking about it, do you Dave\?\n\n1\. command: 1 latency spikes \(average \d+ms, mean deviation 0ms, period \d+\.\d\d sec\)\. Worst all time event \d+ms\.\n/);
  expect(doctor).toContain("- Check your Slow Log to understand what are the commands you are running which are too slow to execute.");
  await same("LATENCY", "RESET", "nosuch");
  expect((await both("LATENCY", "RESET", "command", "nosuch"))[1]).toBe(1);
  await same("LATENCY", "HISTORY", "command");
  await same("CONFIG", "SET", "latency-monitor-threshold", "0");
});

test("LATENCY HISTOGRAM and INFO latencystats: the same commands, buckets and percentile fields", async () => {
  await same("CONFIG", "RESETSTAT");
  for (let i = 0; i < 20; i++) await same("SET", "h", i);
  await same("GET", "h");
  await same("CONFIG", "GET", "maxmemory");
  const [a, b] = await both("LATENCY", "HISTOGRAM", "set", "get", "config", "nosuch", "config|get");
  const summary = (v: unknown) => {
    const flat = v as unknown[];
    const out: Record<string, unknown> = {};
    for (let i = 0; i < flat.length; i += 2) {
      const h = flat[i + 1] as unknown[];
      const buckets = h[3] as number[];
      expect(buckets.length % 2).toBe(0);
      for (let j = 2; j < buckets.length; j += 2) expect(buckets[j - 1]!).toBeLessThan(buckets[j + 1]!);
      const bounds = [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266, 270532, 541065, 1073741];
      for (let j = 0; j < buckets.length; j += 2) expect(bounds).toContain(buckets[j]!);
      out[String(flat[i])] = [h[0], h[1], h[2], buckets[buckets.length - 1]];
    }
    return out;
  };
  expect(summary(b)).toEqual(summary(a));
  expect(Object.keys(summary(b)).sort()).toEqual(["config|get", "config|resetstat", "get", "set"]);
  const info = async (c: RespClient) => String(await c.call("INFO", "latencystats")).split("\r\n").filter((l) => l.startsWith("latency_percentiles_usec_"));
  // (Redis lists them in its command dict's hash order; compared sorted.)
  const fields = (lines: string[]) => lines.map((l) => l.replace(/=\d+\.\d{3}/g, "=N")).sort();
  const [ia, ib] = await Promise.all(pair.clients.map(info));
  expect(fields(ib!)).toEqual(fields(ia!));
  expect(ib).toContainEqual(expect.stringMatching(/^latency_percentiles_usec_set:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$/));
  await same("CONFIG", "SET", "latency-tracking-info-percentiles", "50.0 99.90 0");
  await same("CONFIG", "GET", "latency-tracking-info-percentiles");
  await same("CONFIG", "SET", "latency-tracking-info-percentiles", "101");
  await same("CONFIG", "SET", "latency-tracking-info-percentiles", "abc");
  await same("CONFIG", "SET", "latency-tracking-info-percentiles", "");
  await same("CONFIG", "GET", "latency-tracking-info-percentiles");
  const [na, nb] = await Promise.all(pair.clients.map(info));
  expect(fields(nb!)).toEqual(fields(na!));
  await same("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9");
  await same("CONFIG", "SET", "latency-tracking", "no");
  await same("CONFIG", "RESETSTAT");
  await same("SET", "h", "1");
  await same("LATENCY", "HISTOGRAM");
});
