// Soak run of a replica restarted from its AOF, by hand (too long for the suite): a redis-server
// master under write load from 3 clients (SELECT across 4 dbs, MULTI blocks with a SELECT inside,
// EVAL), a Replicant replica with appendonly yes killed (-9, or SHUTDOWN every other round) at a
// random moment and restarted --rounds times. Each restart must be a partial resync (the master's
// sync_partial_ok grows, sync_full does not); at the end the digests must be equal.
//
//   bun run build && bun test/tools/soak-aof-restarts.ts [--rounds 16] [--seed 1]
//
// Prints a line per round that was not a partial resync (with the replica's log), then a summary;
// exits 1 when any round or the digest failed.

import { info, removeDir, startRedis, startReplicant, tempDir, waitFor, waitForSync } from "../helpers/servers.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const ROUNDS = Number(opt("rounds", "16"));
let seed = Number(opt("seed", "1"));
/** xorshift: the kill moments are reproducible from the seed. */
const random = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
process.env.REPLICANT_BIN ??= "dist/replicant";

const master = await startRedis(["--enable-debug-command", "yes", "--repl-backlog-size", "200mb"]);
const dir = tempDir("aof-soak-");
const replicaArgs = ["--enable-debug-command", "yes", "--appendonly", "yes", "--replicaof", "127.0.0.1", String(master.port)];
let replica = await startReplicant(replicaArgs, { dir });
await waitForSync(master, replica);
let writing = true;
const clients = await Promise.all([1, 2, 3].map(() => master.client()));
const loops = clients.map(async (c, k) => {
  for (let i = 1; writing; i++) {
    await c.call("SELECT", String((i + k) % 4));
    await c.call("INCR", "counter");
    await c.call("SET", `k${i % 500}`, String(i));
    if (i % 7 === 0) {
      await c.call("MULTI");
      await c.call("RPUSH", "list", String(i));
      await c.call("SELECT", "2");
      await c.call("SADD", "s", String(i));
      await c.call("EXEC");
    }
    if (i % 50 === 0) await c.call("EVAL", "redis.call('incr', KEYS[1]); redis.call('set', KEYS[2], ARGV[1]); return 1", "2", "e1", "e2", String(i));
  }
});
let bad = 0;
for (let round = 0; round < ROUNDS; round++) {
  await Bun.sleep(200 + random() * 500);
  const before = await info(master, "stats");
  const how = round % 2 === 1 ? "SHUTDOWN" : "SIGKILL";
  if (how === "SIGKILL") await replica.stop("SIGKILL");
  else {
    await replica.call("SHUTDOWN").catch(() => {});
    await replica.stop();
  }
  replica = await startReplicant(replicaArgs, { dir, port: replica.port });
  await waitFor("the link up", async () => (await info(replica, "replication")).master_link_status === "up", 60_000);
  const after = await info(master, "stats");
  const partial = Number(after.sync_partial_ok) - Number(before.sync_partial_ok);
  const full = Number(after.sync_full) - Number(before.sync_full);
  if (partial !== 1 || full !== 0) {
    bad++;
    console.log(`round ${round} (${how}): partial ${partial}, full ${full}\n${replica.output().slice(-3000)}`);
  }
}
writing = false;
await Promise.all(loops);
await waitForSync(master, replica);
const [m, r] = [await master.call("DEBUG", "DIGEST"), await replica.call("DEBUG", "DIGEST")];
console.log(`${ROUNDS} restarts, ${bad} not partial; digests ${m === r ? "equal" : `differ: master ${m}, replica ${r}`}`);
await replica.stop();
await master.stop();
removeDir(dir);
removeDir(master.dir);
process.exit(bad === 0 && m === r ? 0 : 1);
