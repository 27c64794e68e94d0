// Directives that act, or stop the start: every redis.conf directive either works or is refused
// with its reason (config/support.ts). Side by side with redis-server 7.0.15 where Redis has the
// behaviour: rename-command, pidfile, client-query-buffer-limit, propagation-error-behavior.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Config, ConfigError, loadConfigText } from "../../src/config/config.ts";
import { NO_EFFECT } from "../../src/config/support.ts";
import { lookupDirective } from "../../src/config/config.ts";
import { RespError, type RespValue } from "../helpers/resp-client.ts";
import { removeDir, replicantCommand, type ServerProcess, startRedis, startReplicant, tempDir, waitFor, waitForSync, stopServers, tracker } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

const track = tracker(started);

function show(v: RespValue): unknown {
  if (v instanceof RespError) return `-${v.message}`;
  if (Array.isArray(v)) return v.map(show);
  return v;
}

/** Runs the binary with these options and returns its exit code and output (it must stop by itself). */
function runToExit(args: string[]): { code: number; out: string } {
  const dir = tempDir("directive-");
  const p = Bun.spawnSync([...replicantCommand(), "--port", "0", "--unixsocket", join(dir, "s.sock"), "--dir", dir, ...args], { stdout: "pipe", stderr: "pipe", timeout: 10000 });
  removeDir(dir);
  return { code: p.exitCode ?? -1, out: p.stdout.toString() + p.stderr.toString() };
}

describe("refused values", () => {
  for (const [args, reason] of [
    [["--aof-timestamp-enabled", "yes"], "aof-timestamp-enabled yes is not supported"],
    [["--cluster-enabled", "yes"], "cluster mode is not supported"],
    [["--syslog-enabled", "yes"], "syslog is not supported"],
    [["--loadmodule", "/tmp/x.so"], "does not load modules"],
  ] as Array<[string[], string]>) {
    test(`${args.join(" ")}: the start stops with the reason`, () => {
      const r = runToExit(args);
      expect(r.code).toBe(1);
      expect(r.out).toContain("FATAL CONFIG FILE ERROR");
      expect(r.out).toContain(reason);
    });
  }

  test("CONFIG SET of a refused value fails and changes nothing; the defaults are fine", async () => {
    const s = await track(startReplicant());
    expect(show(await s.call("CONFIG", "SET", "aof-timestamp-enabled", "yes"))).toBe("-ERR CONFIG SET failed (possibly related to argument 'aof-timestamp-enabled') - aof-timestamp-enabled yes is not supported: the AOF holds the replication stream as is (no timestamp annotations)");
    expect(show(await s.call("CONFIG", "GET", "aof-timestamp-enabled"))).toEqual(["aof-timestamp-enabled", "no"]);
    expect(show(await s.call("CONFIG", "SET", "aof-timestamp-enabled", "no"))).toBe("OK");
  });

  test("the no-effect list names real directives", () => {
    for (const name of NO_EFFECT) expect({ name, known: lookupDirective(name) !== undefined }).toEqual({ name, known: true });
  });
});

describe("rename-command", () => {
  test("a renamed command answers to its new name only, a removed one to none; COMMAND COUNT drops it; as redis-server", async () => {
    const conf = ["--rename-command", "CONFIG", "SECRETCONFIG", "--rename-command", "flushall", ""];
    const [r, x] = await Promise.all([track(startRedis(conf)), track(startReplicant(conf))]);
    for (const cmd of [["CONFIG", "GET", "port"], ["SECRETCONFIG", "GET", "maxmemory"], ["secretconfig", "GET", "maxmemory"], ["FLUSHALL"], ["flushall", "async"]]) {
      const [a, b] = await Promise.all([r.call(...cmd), x.call(...cmd)]);
      expect({ cmd, reply: show(b) }).toEqual({ cmd, reply: show(a) });
    }
    const [ci, cx] = await Promise.all([r.call("COMMAND", "INFO", "flushall", "config", "secretconfig"), x.call("COMMAND", "INFO", "flushall", "config", "secretconfig")]);
    expect((cx as RespValue[]).map((e) => e === null)).toEqual((ci as RespValue[]).map((e) => e === null));
    const plain = await track(startReplicant());
    expect(Number(await x.call("COMMAND", "COUNT"))).toBe(Number(await plain.call("COMMAND", "COUNT")) - 1);
  });

  test("a command that does not exist: the start stops, as redis-server", () => {
    const ours = runToExit(["--rename-command", "NOSUCH", "x"]);
    expect(ours.code).toBe(1);
    expect(ours.out).toContain("No such command in rename-command");
    const theirs = Bun.spawnSync(["redis-server", "--port", "0", "--rename-command", "NOSUCH", "x"], { stdout: "pipe", stderr: "pipe", timeout: 10000 });
    expect(theirs.exitCode).toBe(1);
    expect(theirs.stdout.toString() + theirs.stderr.toString()).toContain("No such command in rename-command");
  });

  test("config files keep it apart from CONFIG GET", () => {
    const c = new Config();
    loadConfigText(c, "rename-command KEYS \"\"\nport 7000\n");
    expect(c.renamedCommands.map((r) => [r.from, r.to])).toEqual([["KEYS", ""]]);
    expect(() => loadConfigText(new Config(), "loadmodule /x.so\n")).toThrow(ConfigError);
  });
});

describe("process and connections", () => {
  test("pidfile: written at start with the pid, removed at shutdown", async () => {
    const dir = tempDir("pidfile-");
    const pidfile = join(dir, "replicant.pid");
    const s = await startReplicant(["--pidfile", pidfile]);
    expect(readFileSync(pidfile, "utf8")).toBe(`${s.proc.pid}\n`);
    await s.call("SHUTDOWN", "NOSAVE").catch(() => null);
    await s.proc.exited;
    expect(existsSync(pidfile)).toBe(false);
    removeDir(s.dir);
    removeDir(dir);
  });

  test("client-query-buffer-limit: a client sending a command without end is closed, as redis-server does", async () => {
    const conf = ["--client-query-buffer-limit", "1mb", "--proto-max-bulk-len", "10mb"];
    const [r, x] = await Promise.all([track(startRedis(conf)), track(startReplicant(conf))]);
    for (const s of [r, x]) {
      const closed = await new Promise<boolean>((resolve) => {
        let done = false;
        Bun.connect({
          hostname: "127.0.0.1",
          port: s.port,
          socket: {
            open(sock) {
              sock.write("*1\r\n$5000000\r\n");
              const chunk = Buffer.alloc(64 * 1024, "x");
              let sent = 0;
              const pump = () => {
                while (!done && sent < 3_000_000) {
                  const n = sock.write(chunk);
                  if (n <= 0) return;
                  sent += n;
                }
              };
              pump();
              (sock as unknown as { pump: () => void }).pump = pump;
            },
            drain(sock) {
              (sock as unknown as { pump: () => void }).pump();
            },
            data() {},
            close() {
              done = true;
              resolve(true);
            },
          },
        });
        setTimeout(() => resolve(done), 5000);
      });
      expect({ port: s.port, closed }).toEqual({ port: s.port, closed: true });
    }
    await x.waitForLog("Closing client that reached max query buffer length");
    expect(await x.call("PING")).toBe("PONG");
  });

  test("propagation-error-behavior panic-on-replicas: a read-only replica that fails a command of its master stops", async () => {
    const master = await track(startRedis());
    // The replica has no SET under that name: the master's SET fails there.
    const replica = await track(startReplicant(["--propagation-error-behavior", "panic-on-replicas", "--rename-command", "SET", "", "--replicaof", "127.0.0.1", String(master.port)]));
    await waitForSync(master, replica);
    await master.call("SET", "k", "v");
    await waitFor("the replica to exit", () => replica.proc.exitCode !== null);
    expect(replica.proc.exitCode).toBe(1);
    expect(replica.output()).toContain("This replica panicked sending an error to its master after processing the command");
  });
});
