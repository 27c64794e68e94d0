// The switches that keep dangerous actions off by default (Redis 7.0): enable-debug-command,
// enable-module-command, enable-protected-configs (CONFIG SET dir / dbfilename, the classic
// "write a file of my choice" attack), each "no", "yes" or "local"; and the cross protocol
// scripting guard (POST / Host: close the connection). Side by side with redis-server 7.0.15.

import { afterAll, expect, test } from "bun:test";
import net from "node:net";
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { RespError, type RespValue } from "../helpers/resp-client.ts";
import { removeDir, type ServerProcess, startRedis, startReplicant, stopServers } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

async function both(extra: string[]): Promise<[ServerProcess, ServerProcess]> {
  const pair = await Promise.all([startRedis(extra), startReplicant(extra)]);
  started.push(...pair);
  return pair;
}

function show(v: RespValue): unknown {
  if (v instanceof RespError) return `-${v.message}`;
  if (Array.isArray(v)) return v.map(show);
  return v;
}

async function same(servers: [ServerProcess, ServerProcess], ...cmd: string[]): Promise<unknown> {
  const [a, b] = await Promise.all(servers.map((s) => s.call(...cmd)));
  expect({ cmd, reply: show(b!) }).toEqual({ cmd, reply: show(a!) });
  return show(b!);
}

/** One command from a socket bound to 127.0.0.2 (not "local" for Redis); the raw reply. */
function fromOutside(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    const s = net.connect({ host: "127.0.0.1", port, localAddress: "127.0.0.2" });
    s.on("connect", () => s.write(`${command}\r\n`));
    s.on("data", (d) => {
      out += d.toString("latin1");
      if (out.endsWith("\r\n")) {
        s.destroy();
        resolve(out);
      }
    });
    s.on("close", () => resolve(out));
  });
}

test("by default: DEBUG, MODULE and CONFIG SET dir/dbfilename are refused with Redis's errors", async () => {
  const servers = await both([]);
  expect(await same(servers, "DEBUG", "SLEEP", "0")).toContain("DEBUG command not allowed");
  expect(await same(servers, "MODULE", "LOAD", "/tmp/x.so")).toContain("MODULE command not allowed");
  await same(servers, "MODULE", "UNLOAD", "x");
  // MODULE LIST and HELP are not protected.
  await same(servers, "MODULE", "LIST");
  expect(await same(servers, "CONFIG", "SET", "dir", "/tmp")).toContain("can't set protected config");
  expect(await same(servers, "CONFIG", "SET", "dbfilename", "evil.so")).toContain("can't set protected config");
  await same(servers, "CONFIG", "GET", "dbfilename");
  // Arity first, as in Redis.
  await same(servers, "DEBUG");
});

test("yes: allowed; MODULE loads nothing, as a module that fails to load", async () => {
  const dir = servers2Dir();
  const servers = await both(["--enable-debug-command", "yes", "--enable-module-command", "yes", "--enable-protected-configs", "yes"]);
  await same(servers, "DEBUG", "SLEEP", "0");
  await same(servers, "MODULE", "LIST");
  await same(servers, "MODULE", "LOAD", "/nonexistent/module.so");
  await same(servers, "MODULE", "LOADEX", "/nonexistent/module.so", "CONFIG", "a", "b");
  await same(servers, "MODULE", "UNLOAD", "nosuch");
  await same(servers, "MODULE", "HELP");
  // CONFIG SET dir moves the server: CONFIG GET shows it, SAVE writes there.
  for (const s of servers) {
    const d = join(dir, String(s.port));
    mkdirSync(d);
    expect(show(await s.call("CONFIG", "SET", "dir", d))).toBe("OK");
    expect(show(await s.call("CONFIG", "GET", "dir"))).toEqual(["dir", realpathSync(d)]);
    expect(show(await s.call("SAVE"))).toBe("OK");
    expect(existsSync(join(d, "dump.rdb"))).toBe(true);
  }
  await same(servers, "CONFIG", "SET", "dir", "/nonexistent/dir");
  removeDir(dir);
});

function servers2Dir(): string {
  const d = join(process.env.TMPDIR ?? "/tmp", `protected-${process.pid}-${Date.now()}`);
  mkdirSync(d, { recursive: true });
  return d;
}

test("local: from the loopback interface only", async () => {
  const servers = await both(["--enable-debug-command", "local", "--enable-protected-configs", "local", "--protected-mode", "no", "--bind", "*"]);
  await same(servers, "DEBUG", "SLEEP", "0");
  const [r, x] = await Promise.all(servers.map((s) => fromOutside(s.port, "DEBUG SLEEP 0")));
  expect(x).toBe(r!);
  expect(x).toContain("DEBUG command not allowed");
  const [r2, x2] = await Promise.all(servers.map((s) => fromOutside(s.port, "CONFIG SET dbfilename x.rdb")));
  expect(x2).toBe(r2!);
  expect(x2).toContain("can't set protected config");
});

test("POST / Host: as a command: the connection is closed without a reply (cross protocol scripting)", async () => {
  const servers = await both([]);
  for (const s of servers) {
    const out = await new Promise<string>((resolve) => {
      let buf = "";
      const sock = net.connect({ host: "127.0.0.1", port: s.port });
      sock.on("connect", () => sock.write("PING\r\nPOST / HTTP/1.1\r\nPING\r\n"));
      sock.on("data", (d) => (buf += d.toString("latin1")));
      sock.on("close", () => resolve(buf));
    });
    // Redis frees the client at once: even the PING before it gets no reply.
    expect(out).toBe("");
  }
  expect(servers[1].output()).toContain("Possible SECURITY ATTACK detected");
});
