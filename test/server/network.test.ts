// Where clients come from, side by side with redis-server 7.0.15 started the same way:
// protected mode (a client from 127.0.0.2 is not on the loopback interface for Redis), IPv6
// and the default bind "* -::*", the unix socket and its permissions, port 0.

import { afterAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { statSync } from "node:fs";
import { join } from "node:path";
import { removeDir, replicantCommand, type ServerProcess, startRedis, startReplicant, tempDir, waitFor, stopServers } from "../helpers/servers.ts";
import { parseInfo } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

async function both(extra: string[]): Promise<[ServerProcess, ServerProcess]> {
  const pair = await Promise.all([startRedis(extra), startReplicant(extra)]);
  started.push(...pair);
  return pair;
}

/** Sends `input` from a socket bound to `localAddress` (or over a unix socket); returns all bytes until close or 500 ms. */
function exchange(target: { host?: string; port?: number; path?: string; localAddress?: string }, input: string): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    const s = target.path ? net.connect({ path: target.path }) : net.connect({ host: target.host!, port: target.port!, localAddress: target.localAddress });
    const finish = () => {
      s.destroy();
      resolve(out);
    };
    s.on("connect", () => s.write(input));
    s.on("data", (d) => (out += d.toString("latin1")));
    s.on("close", finish);
    s.on("error", finish);
    setTimeout(finish, 500);
  });
}

/** CLIENT INFO's field as the connection itself sees it. */
function field(info: string, name: string): string {
  return new RegExp(`(?:^| )${name}=(\\S*)`).exec(info)?.[1] ?? "";
}

describe("protected mode", () => {
  test("no password, bound everywhere: a client from 127.0.0.2 gets redis-server's DENIED and is closed; loopback is served", async () => {
    const [r, x] = await both(["--bind", "* -::*"]);
    const [dr, dx] = await Promise.all([exchange({ host: "127.0.0.1", port: r.port, localAddress: "127.0.0.2" }, "PING\r\n"), exchange({ host: "127.0.0.1", port: x.port, localAddress: "127.0.0.2" }, "PING\r\n")]);
    expect(dr.startsWith("-DENIED Redis is running in protected mode")).toBe(true);
    expect(dx).toBe(dr);
    expect(await exchange({ host: "127.0.0.1", port: x.port }, "PING\r\n")).toBe("+PONG\r\n");
    expect(await exchange({ host: "::1", port: x.port }, "PING\r\n")).toBe(await exchange({ host: "::1", port: r.port }, "PING\r\n"));
    const stats = await Promise.all([r.call("INFO", "stats"), x.call("INFO", "stats")]);
    expect(parseInfo(stats[1]).rejected_connections).toBe(parseInfo(stats[0]).rejected_connections);
    // Turned off at run time from the loopback interface: the outside is served.
    await Promise.all([r.call("CONFIG", "SET", "protected-mode", "no"), x.call("CONFIG", "SET", "protected-mode", "no")]);
    expect(await exchange({ host: "127.0.0.1", port: x.port, localAddress: "127.0.0.2" }, "PING\r\n")).toBe("+PONG\r\n");
  });

  test("with a password, an outside client is not refused: it must authenticate", async () => {
    const [r, x] = await both(["--bind", "*", "--requirepass", "secret"]);
    const input = "PING\r\nAUTH secret\r\nPING\r\n";
    const [dr, dx] = await Promise.all([exchange({ host: "127.0.0.1", port: r.port, localAddress: "127.0.0.2" }, input), exchange({ host: "127.0.0.1", port: x.port, localAddress: "127.0.0.2" }, input)]);
    expect(dx).toBe(dr);
    expect(dx).toContain("+PONG");
  });
});

describe("listening", () => {
  test("the default bind * -::* serves IPv4 and IPv6 clients; CLIENT INFO shows their addresses as Redis does", async () => {
    const [r, x] = await both(["--bind", "* -::*", "--protected-mode", "no"]);
    for (const host of ["127.0.0.1", "::1"]) {
      const [ir, ix] = await Promise.all([exchange({ host, port: r.port }, "CLIENT INFO\r\n"), exchange({ host, port: x.port }, "CLIENT INFO\r\n")]);
      const shape = (info: string) => field(info, "addr").replace(/:\d+$/, ":<port>") + " " + field(info, "laddr").replace(/:\d+$/, ":<port>");
      expect(shape(ix)).toBe(shape(ir));
      expect(field(ix, "laddr").endsWith(`:${x.port}`)).toBe(true);
    }
  });

  test("unixsocket with unixsocketperm: served, flag U, addr path:0, the file's mode; port 0 listens on no TCP port", async () => {
    const dir = tempDir("unixsock-");
    const [pr, px] = [join(dir, "redis.sock"), join(dir, "replicant.sock")];
    const [r, x] = await Promise.all([startRedis(["--unixsocket", pr, "--unixsocketperm", "700"]), startReplicant(["--unixsocket", px, "--unixsocketperm", "700"])]);
    started.push(r, x);
    const [ir, ix] = await Promise.all([exchange({ path: pr }, "CLIENT INFO\r\n"), exchange({ path: px }, "CLIENT INFO\r\n")]);
    expect(field(ix, "flags")).toBe(field(ir, "flags"));
    expect(field(ix, "addr")).toBe(`${px}:0`);
    expect(field(ir, "addr")).toBe(`${pr}:0`);
    expect(statSync(px).mode & 0o777).toBe(statSync(pr).mode & 0o777);
    // Only the unix socket: nothing listens on TCP.
    const sock = join(dir, "only.sock");
    const proc = Bun.spawn([...replicantCommand(), "--port", "0", "--unixsocket", sock, "--dir", dir], { stdout: "ignore", stderr: "ignore" });
    try {
      await waitFor("the unix socket", async () => (await exchange({ path: sock }, "PING\r\n")) === "+PONG\r\n");
      expect(await exchange({ path: sock }, "CONFIG GET port\r\n")).toBe("*2\r\n$4\r\nport\r\n$1\r\n0\r\n");
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    removeDir(dir);
  });
});
