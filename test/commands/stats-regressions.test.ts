// Regressions found by the differential tests (test/differential/): statistics that the same
// commands must leave as redis-server 7.0 does - EXECABORT is an error reply of EXEC's
// (errorstat_EXECABORT, a failed call), SPOP with a count covering the set counts a keyspace hit
// (Redis replies through SUNION's read lookup).

import { expect, test } from "bun:test";
import { parseReply } from "../differential/runner.ts";
import { serverPair } from "../helpers/side-by-side.ts";

const pair = serverPair();

/** The statistics fields compared: calls per command (timings aside), errors, keyspace hits/misses. */
function statistics(raw: string): string[] {
  return String(parseReply(raw))
    .split("\r\n")
    .filter((l) => /^(cmdstat_|errorstat_|keyspace_hits|keyspace_misses|total_error_replies)/.test(l) && !l.startsWith("cmdstat_info"))
    .map((l) => l.replace(/,usec=[^,]*,usec_per_call=[^,]*/, ""))
    .sort();
}

async function sameStatistics(cmds: string[][], sameReplies = true): Promise<string[]> {
  const [redis, replicant] = await pair.run([["CONFIG", "RESETSTAT"], ...cmds, ["INFO", "everything"]]);
  if (sameReplies) expect(replicant.slice(0, -1)).toEqual(redis.slice(0, -1));
  const a = statistics(redis.at(-1)!);
  expect(statistics(replicant.at(-1)!)).toEqual(a);
  return a;
}

test("EXECABORT counts as an error reply and a failed EXEC", async () => {
  const stats = await sameStatistics([["MULTI"], ["SET", "k"], ["EXEC"], ["MULTI"], ["NOSUCH"], ["EXEC"], ["MULTI"], ["SET", "k", "v"], ["EXEC"]]);
  expect(stats).toContain("errorstat_EXECABORT:count=2");
});

test("SPOP with a count covering the set counts a keyspace hit, a smaller count none", async () => {
  const stats = await sameStatistics([
    ["SADD", "s", "a", "b", "c"], ["SPOP", "s", "10"],
    ["SADD", "t", "1", "2", "3", "4", "5"], ["SPOP", "t", "2"], ["SPOP", "missing", "3"], ["SPOP", "t"],
  ], false); // (random members)
  expect(stats.find((l) => l.startsWith("keyspace_hits"))).toBe("keyspace_hits:1");
});

test("XAUTOCLAIM looks its key up before parsing its arguments (a miss even when the arguments are wrong)", async () => {
  await sameStatistics([
    ["XAUTOCLAIM", "missing", "g", "c", "", "0"], ["XAUTOCLAIM", "missing", "g", "c", "0", "0", "COUNT", "0"],
    ["SET", "str", "v"], ["XAUTOCLAIM", "str", "g", "c", "0", "0"], ["XAUTOCLAIM", "str", "g", "c", "x", "0"],
  ]);
});

test("a blocked command unblocked by CLIENT UNBLOCK (ERROR or TIMEOUT) is a failed call; served, it gets its latency histogram", async () => {
  const { startRedis, startReplicant, stopServers, info, waitFor } = await import("../helpers/servers.ts");
  const servers = await Promise.all([startRedis(["--latency-tracking", "yes"]), startReplicant(["--latency-tracking", "yes"])]);
  try {
    const seen: string[][] = [];
    for (const s of servers) {
      const r = await s.client();
      const rd = await s.client();
      await r.call("CONFIG", "RESETSTAT");
      const id = String(await rd.call("CLIENT", "ID"));
      const blocked = async () => Number((await info(s, "clients")).blocked_clients);
      let p = rd.call("BLPOP", "l", "0").catch((e) => e);
      await waitFor("blocked", async () => (await blocked()) === 1);
      await r.call("CLIENT", "UNBLOCK", id, "ERROR");
      await p;
      p = rd.call("BLPOP", "l", "0").catch((e) => e);
      await waitFor("blocked", async () => (await blocked()) === 1);
      await r.call("CLIENT", "UNBLOCK", id, "TIMEOUT");
      await p;
      p = rd.call("BLPOP", "l", "0");
      await waitFor("blocked", async () => (await blocked()) === 1);
      await r.call("RPUSH", "l", "x");
      await p;
      const text = String(await r.call("INFO", "everything"));
      seen.push(
        text
          .split("\r\n")
          .filter((l) => l.startsWith("cmdstat_blpop") || l.startsWith("errorstat_") || l.startsWith("latency_percentiles_usec_blpop"))
          .map((l) => l.replace(/,usec=[^,]*,usec_per_call=[^,]*/, "").replace(/p50=[^,]*,p99=[^,]*,p99.9=.*/, "p50,p99,p99.9"))
          .sort(),
      );
      r.close();
      rd.close();
    }
    expect(seen[0]).toContain("cmdstat_blpop:calls=3,rejected_calls=0,failed_calls=2");
    expect(seen[1]).toEqual(seen[0]!);
  } finally {
    await stopServers(servers);
  }
});
