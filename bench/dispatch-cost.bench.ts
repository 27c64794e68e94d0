// The CPU a read costs us inside the server, without sockets: a Server assembled in this
// process, one client whose replies go nowhere, batches of 16 commands (as `redis-benchmark
// -P 16` sends them) on redis-benchmark's dataset shape (100k "key:%012d" strings, a hash, a
// set and a sorted set of 100k "element:%012d" members). Prints nanoseconds per command, the
// best of 12 slices (the machine's noise only ever adds).
//
// A profiling aid, not a comparison: there is no redis-server side here (read-throughput.bench.ts
// is the comparison). It says where a change to the command path moved its cost, and with
// `bun --cpu-prof bench/dispatch-cost.bench.ts GET 6` where that cost goes.
//
//   bun bench/dispatch-cost.bench.ts [GET,HGET,SISMEMBER,ZSCORE,ZRANK,TTL,EXISTS,PING] [seconds per command]
//
// Run by hand, not in the test suite.

import { Config } from "../src/config/config.ts";
import { Client } from "../src/core/client.ts";
import type { Connection } from "../src/core/connection.ts";
import { processInput } from "../src/core/input.ts";
import { assembleServer } from "../src/server/assemble.ts";

const server = assembleServer(new Config());
const nowhere: Connection = {
  write() {},
  writeOwned() {},
  closeAfterFlush() {},
  close() {},
  pendingBytes: 0,
  remoteAddress: "127.0.0.1",
  remotePort: 1,
  localAddress: "127.0.0.1",
  localPort: 2,
  closed: false,
};
const client = new Client(server, nowhere);
server.clients.set(client.id, client);

function encode(commands: string[][]): Buffer {
  let text = "";
  for (const args of commands) {
    text += `*${args.length}\r\n`;
    for (const a of args) text += `$${a.length}\r\n${a}\r\n`;
  }
  return Buffer.from(text, "latin1");
}

function run(buf: Buffer): void {
  client.parser.feed(buf);
  processInput(client);
}

const N = 100_000;
const key = (i: number) => `key:${String(i).padStart(12, "0")}`;
const member = (i: number) => `element:${String(i).padStart(12, "0")}`;
for (let i = 0; i < N; i += 1000) {
  const batch: string[][] = [];
  for (let j = i; j < i + 1000; j++) {
    batch.push(["SET", key(j), "xxx"], ["HSET", "myhash", member(j), "xxx"], ["SADD", "myset", member(j)], ["ZADD", "myzset", String(j), member(j)]);
  }
  run(encode(batch));
}

function request(cmd: string, r: number): string[] {
  switch (cmd) {
    case "PING":
      return ["PING"];
    case "HGET":
      return ["HGET", "myhash", member(r)];
    case "SISMEMBER":
      return ["SISMEMBER", "myset", member(r)];
    case "ZSCORE":
    case "ZRANK":
      return [cmd, "myzset", member(r)];
    default:
      return [cmd, key(r)];
  }
}

const commands = (process.argv[2] ?? "GET,HGET,SISMEMBER,ZSCORE,ZRANK,TTL,EXISTS,PING").split(",");
const seconds = Number(process.argv[3] ?? "2");
const SLICES = 12;
for (const cmd of commands) {
  const batches: Buffer[] = [];
  for (let b = 0; b < 64; b++) {
    const batch: string[][] = [];
    for (let k = 0; k < 16; k++) batch.push(request(cmd, Math.floor(Math.random() * N)));
    batches.push(encode(batch));
  }
  let best = Infinity;
  for (let slice = 0; slice < SLICES; slice++) {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < (seconds * 1000) / SLICES) {
      for (const buf of batches) run(buf);
      n += batches.length * 16;
    }
    best = Math.min(best, ((performance.now() - t0) * 1e6) / n);
  }
  console.log(`${cmd.padEnd(10)} ${best.toFixed(0).padStart(5)} ns/command`);
}
