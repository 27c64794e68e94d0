// CLIENT REPLY ON / OFF / SKIP side by side with redis-server 7.0: the raw bytes a pipeline gets
// back (OFF drops every reply until ON, whose +OK is sent; SKIP drops the next command's reply
// and is a no-op while OFF; RESET turns replies back on).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { removeDir, type ServerProcess, startRedis, startReplicant } from "../helpers/servers.ts";

let redis: ServerProcess;
let ours: ServerProcess;

beforeAll(async () => {
  [redis, ours] = await Promise.all([startRedis(), startReplicant()]);
});

afterAll(async () => {
  for (const s of [redis, ours]) {
    await s?.stop();
    if (s) removeDir(s.dir);
  }
});

/** Sends inline commands in one write and collects the bytes that come back until ending with `last`. */
async function pipeline(port: number, commands: string[], last: string): Promise<string> {
  let got = "";
  const { promise, resolve } = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, d) {
        got += d.toString("latin1");
        if (got.endsWith(last)) resolve();
      },
    },
  });
  socket.write(`${commands.join("\r\n")}\r\n`);
  await Promise.race([promise, Bun.sleep(3000)]);
  socket.end();
  return got;
}

test("OFF, ON, SKIP and RESET give the bytes redis-server gives", async () => {
  const commands = ["CLIENT REPLY OFF", "SET a 1", "GET a", "CLIENT REPLY ON", "GET a", "CLIENT REPLY SKIP", "GET a", "PING one", "CLIENT REPLY OFF", "CLIENT REPLY SKIP", "PING two", "RESET", "PING three", "CLIENT REPLY SKIP", "CLIENT REPLY SKIP", "PING four", "ECHO end"];
  const theirs = await pipeline(redis.port, commands, "$3\r\nend\r\n");
  const mine = await pipeline(ours.port, commands, "$3\r\nend\r\n");
  expect(theirs).toBe("+OK\r\n$1\r\n1\r\n$3\r\none\r\n+RESET\r\n$5\r\nthree\r\n$3\r\nend\r\n");
  expect(mine).toBe(theirs);
});

test("a wrong mode is a syntax error", async () => {
  const theirs = await pipeline(redis.port, ["CLIENT REPLY MAYBE"], "\r\n");
  expect(await pipeline(ours.port, ["CLIENT REPLY MAYBE"], "\r\n")).toBe(theirs);
});

test("CLIENT INFO of the client asking: qbuf counts its own command, fields in Redis's order", async () => {
  const shape = (line: string) =>
    line
      .trim()
      .split(" ")
      .map((kv) => {
        const [k, v] = [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)];
        // Values that depend on the process (ids, addresses, ages, buffer sizes) are not compared.
        return ["id", "addr", "laddr", "fd", "age", "idle", "qbuf-free", "argv-mem", "rbs", "rbp", "tot-mem"].includes(k) ? `${k}=*` : `${k}=${v}`;
      })
      .join(" ");
  // An inline command of 13 bytes ("CLIENT INFO\r\n").
  const theirs = await pipeline(redis.port, ["CLIENT INFO"], "resp=2\n\r\n");
  const mine = await pipeline(ours.port, ["CLIENT INFO"], "resp=2\n\r\n");
  const body = (raw: string) => raw.slice(raw.indexOf("\r\n") + 2);
  expect(shape(body(theirs))).toContain("qbuf=13 ");
  expect(shape(body(mine))).toBe(shape(body(theirs)));
});

test("pushes still arrive under CLIENT REPLY OFF: subscribe confirmations and messages (RESP3)", async () => {
  const commands = ["HELLO 3", "CLIENT REPLY OFF", "SUBSCRIBE channel", "PSUBSCRIBE ch*", "PUBLISH channel hello", "UNSUBSCRIBE channel", "PUNSUBSCRIBE ch*", "CLIENT REPLY ON", "ECHO end"];
  const theirs = await pipeline(redis.port, commands, "$3\r\nend\r\n");
  const mine = await pipeline(ours.port, commands, "$3\r\nend\r\n");
  // HELLO's map differs in id and version: compare from the first push on.
  const fromPush = (raw: string) => raw.slice(raw.indexOf(">3\r\n"));
  expect(fromPush(theirs)).toContain("pmessage");
  expect(fromPush(mine)).toBe(fromPush(theirs));
});

test("a blocked command sent under OFF or SKIP gets no reply when it is served or times out", async () => {
  const commands = ["CLIENT REPLY SKIP", "BLPOP rl-empty 0.05", "PING after-skip", "CLIENT REPLY OFF", "BLPOP rl-empty 0.05", "CLIENT REPLY ON", "ECHO end"];
  const theirs = await pipeline(redis.port, commands, "$3\r\nend\r\n");
  const mine = await pipeline(ours.port, commands, "$3\r\nend\r\n");
  expect(theirs).toBe("$10\r\nafter-skip\r\n+OK\r\n$3\r\nend\r\n");
  expect(mine).toBe(theirs);
});
