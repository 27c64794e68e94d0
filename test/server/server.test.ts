// The process and the client port: command line, redis.conf, protocol over TCP (pipelining,
// inline, protocol errors), AUTH, SELECT, big replies through the write queue, INFO/ROLE/CONFIG.

import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RespClient, RespError } from "../helpers/resp-client.ts";
import { freePort, parseInfo, removeDir, replicantCommand, startRedis, startReplicant, tempDir, waitFor, type ServerProcess, stopServers, tracker } from "../helpers/servers.ts";

/** Sends raw bytes, returns everything the server sent until it closed the connection (or 1 s). */
async function rawExchange(port: number, input: string): Promise<string> {
  let out = "";
  let closed!: () => void;
  const done = new Promise<void>((resolve) => (closed = resolve));
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, d) {
        out += d.toString("latin1");
      },
      close() {
        closed();
      },
    },
  });
  socket.write(input);
  await Promise.race([done, Bun.sleep(1000)]);
  socket.end();
  return out;
}

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));
const track = tracker(started);

function run(args: string[]): { code: number; out: string; err: string } {
  const r = Bun.spawnSync([...replicantCommand(), ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe("command line", () => {
  test("--version and --help", () => {
    const v = run(["--version"]);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^Replicant v=\d+\.\d+\.\d+ \(redis 7\.0\.15 compatible\)/);
    const h = run(["--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toContain("--replicaof");
  });

  test("unknown or malformed options: Redis's fatal config error and exit code 1", () => {
    const unknown = run(["--no-such-option", "1"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("*** FATAL CONFIG FILE ERROR");
    expect(unknown.err).toContain("Bad directive or wrong number of arguments");
    const badValue = run(["--port", "notaport"]);
    expect(badValue.code).toBe(1);
    expect(badValue.err).toContain("argument couldn't be parsed into an integer");
    const badEnum = run(["--repl-diskless-load", "maybe"]);
    expect(badEnum.code).toBe(1);
    const missing = run(["/nonexistent/redis.conf"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("can't open config file");
  });

  test("a redis.conf file, with command-line options overriding it", async () => {
    const dir = tempDir();
    const port = freePort();
    writeFileSync(join(dir, "redis.conf"), `port 1\nbind 127.0.0.1\nrequirepass "from file"\ndir ${dir}\nloglevel verbose\n`);
    const cmd = [...replicantCommand(), join(dir, "redis.conf"), "--port", String(port)];
    const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
    try {
      const c = await waitFor("server up", async () => RespClient.connect(port));
      expect(((await c.call("PING")) as RespError).message).toBe("NOAUTH Authentication required.");
      expect(await c.call("AUTH", "from file")).toBe("OK");
      expect(await c.call("CONFIG", "GET", "loglevel")).toEqual(["loglevel", "verbose"]);
      const inf = parseInfo(await c.call("INFO", "server"));
      expect(inf.config_file).toBe(join(dir, "redis.conf"));
      expect(inf.tcp_port).toBe(String(port));
      c.close();
    } finally {
      proc.kill();
      await proc.exited;
      removeDir(dir);
    }
  });
});

describe("client protocol", () => {
  test("pipelining, inline commands, errors in Redis's words", async () => {
    const s = await track(startReplicant());
    const c = await s.client();
    c.writeRaw("PING\r\nECHO hello\r\n*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\nNOSUCH a b\r\nPING x y\r\n");
    expect(await c.reply()).toBe("PONG");
    expect(await c.reply()).toBe("hello");
    expect(await c.reply()).toBe("abc");
    expect(((await c.reply()) as RespError).message).toBe("ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' ");
    expect(((await c.reply()) as RespError).message).toBe("ERR wrong number of arguments for 'ping' command");
    expect(((await c.call("CONFIG", "NOPE")) as RespError).message).toBe("ERR unknown subcommand 'NOPE'. Try CONFIG HELP.");
  });

  test("a protocol error gets redis-server's error reply, byte for byte, and the connection is closed", async () => {
    const [s, r] = await Promise.all([track(startReplicant()), track(startRedis())]);
    const inputs = [
      "*1\r\n$4\r\nPING\r\n*1\r\n%4\r\n",
      "*abc\r\n",
      "*1\r\n$-5\r\n",
      "*1\r\n$01\r\n",
      "*1\r\n$abc\r\n",
      "*3000000000\r\n",
      'SET "unbalanced\r\n',
      "*1\r\n$4\r\nPINGxx",
    ];
    for (const input of inputs) {
      const [ours, theirs] = await Promise.all([rawExchange(s.port, input), rawExchange(r.port, input)]);
      expect({ input, reply: ours }).toEqual({ input, reply: theirs });
    }
    expect(await rawExchange(s.port, "*abc\r\n")).toBe("-ERR Protocol error: invalid multibulk length\r\n");
    // The server is fine.
    expect(await s.call("PING")).toBe("PONG");
  });

  test("requirepass: NOAUTH, WRONGPASS, AUTH, HELLO AUTH", async () => {
    const s = await track(startReplicant(["--requirepass", "pw"]));
    const c = await s.client();
    expect(((await c.call("ECHO", "x")) as RespError).message).toBe("NOAUTH Authentication required.");
    expect(((await c.call("AUTH", "bad")) as RespError).message).toBe("WRONGPASS invalid username-password pair or user is disabled.");
    expect(await c.call("AUTH", "default", "pw")).toBe("OK");
    expect(await c.call("PING")).toBe("PONG");
    const c2 = await s.client();
    const hello = (await c2.call("HELLO", 3, "AUTH", "default", "pw", "SETNAME", "me")) as Map<string, unknown>;
    expect(hello.get("proto")).toBe(3);
    expect(hello.get("role")).toBe("master");
    expect(await c2.call("CLIENT", "GETNAME")).toBe("me");
  });

  test("SELECT over 16 databases", async () => {
    const s = await track(startReplicant());
    const c = await s.client();
    expect(await c.call("SELECT", 15)).toBe("OK");
    expect(((await c.call("SELECT", 16)) as RespError).message).toBe("ERR DB index is out of range");
    expect(((await c.call("SELECT", "x")) as RespError).message).toBe("ERR value is not an integer or out of range");
  });

  test("big replies go through the write queue intact (partial writes + drain)", async () => {
    const s = await track(startReplicant());
    const c = await s.client();
    const big = "0123456789abcdef".repeat(4 * 1024 * 1024); // 64 MiB
    const replies = await c.pipeline([["ECHO", big], ["ECHO", "small"], ["ECHO", big]]);
    expect(replies[0] === big).toBe(true);
    expect(replies[1]).toBe("small");
    expect(replies[2] === big).toBe(true);
  });

  test("INFO sections, ROLE, CONFIG GET/SET, COMMAND COUNT/INFO", async () => {
    const s = await track(startReplicant());
    const c = await s.client();
    const text = String(await c.call("INFO"));
    for (const section of ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Keyspace"]) expect(text).toContain(section);
    const inf = parseInfo(text);
    expect(inf.redis_version).toBe("7.0.15");
    expect(inf.role).toBe("master");
    expect(inf.master_replid).toMatch(/^[0-9a-f]{40}$/);
    expect(await c.call("ROLE")).toEqual(["master", 0, []]);
    expect(await c.call("CONFIG", "SET", "repl-timeout", "5", "loglevel", "debug")).toBe("OK");
    expect(await c.call("CONFIG", "GET", "repl-timeout")).toEqual(["repl-timeout", "5"]);
    expect(((await c.call("CONFIG", "SET", "repl-timeout", "0")) as RespError).message).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'repl-timeout') - argument must be between 1 and 2147483647 inclusive",
    );
    expect(((await c.call("CONFIG", "SET", "nope", "1")) as RespError).message).toBe("ERR Unknown option or number of arguments for CONFIG SET - 'nope'");
    expect(Number(await c.call("COMMAND", "COUNT"))).toBeGreaterThan(20);
    const [get] = (await c.call("COMMAND", "INFO", "get")) as unknown[][];
    expect(get!.slice(0, 6)).toEqual(["get", 2, ["readonly", "fast"], 1, 1, 1]);
  });

  test("CLIENT SETNAME / GETNAME / ID / LIST / KILL", async () => {
    const s = await track(startReplicant());
    const a = await s.client();
    const b = await s.client();
    expect(await a.call("CLIENT", "SETNAME", "alpha")).toBe("OK");
    expect(await a.call("CLIENT", "GETNAME")).toBe("alpha");
    const id = Number(await b.call("CLIENT", "ID"));
    const list = String(await a.call("CLIENT", "LIST"));
    expect(list).toContain("name=alpha");
    expect(list).toContain(`id=${id} `);
    expect(await a.call("CLIENT", "KILL", "ID", id)).toBe(1);
    await waitFor("b closed", () => b.isClosed);
  });
});
