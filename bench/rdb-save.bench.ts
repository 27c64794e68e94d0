// RDB writing speed: SAVE of the same dataset (N small string keys, DEBUG POPULATE) on
// redis-server and on Replicant (which gets the data by a full sync from that redis-server),
// measured in the same run; then a BGSAVE on Replicant with the worst PING latency seen while
// it runs (how long clients can be held up between two chunks).
//
//   bun bench/rdb-save.bench.ts [keys=1000000]

import { RespClient } from "../test/helpers/resp-client.ts";
import { info, removeDir, startRedis, startReplicant, waitForSync } from "../test/helpers/servers.ts";

const N = Number(process.argv[2] ?? 1_000_000);

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
}

const redis = await startRedis(["--enable-debug-command", "yes"]);
const rc = await RespClient.connect(redis.port);
// DEBUG POPULATE is not propagated: populate first, then let Replicant full-sync.
await rc.call("DEBUG", "POPULATE", N);
const replicant = await startReplicant(["--replicaof", "127.0.0.1", String(redis.port), "--save", "", "--repl-diskless-sync-delay", "0"]);
try {
  await waitForSync(redis, replicant, 600_000);
  const pc = await RespClient.connect(replicant.port);
  if ((await pc.call("DBSIZE")) !== N) throw new Error("the replica does not hold the dataset");

  const [, redisMs] = await timed(() => rc.call("SAVE"));
  const [reply, oursMs] = await timed(() => pc.call("SAVE"));
  if (reply !== "OK") throw new Error(`SAVE on Replicant: ${String(reply)}`);
  // Again without the incremental fsync (every 4 MB), to compare the CPU side.
  await rc.call("CONFIG", "SET", "rdb-save-incremental-fsync", "no");
  await pc.call("CONFIG", "SET", "rdb-save-incremental-fsync", "no");
  const [, redisNoSyncMs] = await timed(() => rc.call("SAVE"));
  const [, oursNoSyncMs] = await timed(() => pc.call("SAVE"));
  const redisSize = Bun.file(`${redis.dir}/dump.rdb`).size;
  const oursSize = Bun.file(`${replicant.dir}/dump.rdb`).size;

  // BGSAVE with a PING every millisecond meanwhile.
  const probe = await RespClient.connect(replicant.port);
  const bgStart = performance.now();
  await pc.call("BGSAVE");
  let worst = 0;
  let pings = 0;
  while ((await info(replicant, "persistence")).rdb_bgsave_in_progress === "1") {
    const [, ms] = await timed(() => probe.call("PING"));
    worst = Math.max(worst, ms);
    pings++;
    await Bun.sleep(1);
  }
  const bgMs = performance.now() - bgStart;

  console.log(`keys: ${N}`);
  console.log(`redis-server SAVE: ${redisMs.toFixed(0)} ms, ${redisSize} bytes`);
  console.log(`Replicant SAVE:    ${oursMs.toFixed(0)} ms, ${oursSize} bytes (${(oursMs / redisMs).toFixed(2)}x redis-server's time)`);
  console.log(`without incremental fsync: redis-server ${redisNoSyncMs.toFixed(0)} ms, Replicant ${oursNoSyncMs.toFixed(0)} ms`);
  console.log(`Replicant BGSAVE:  ${bgMs.toFixed(0)} ms, worst PING latency meanwhile ${worst.toFixed(1)} ms over ${pings} PINGs`);
  rc.close();
  pc.close();
  probe.close();
} finally {
  await replicant.stop();
  await redis.stop();
  removeDir(replicant.dir);
  removeDir(redis.dir);
}
