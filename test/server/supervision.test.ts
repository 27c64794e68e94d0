// Running under a supervisor or in the background, as redis-server 7.0: daemonize yes (the
// command returns at once, the server runs detached and writes its pidfile), supervised
// systemd (sd_notify messages on NOTIFY_SOCKET: loading, ready, the sync's outcome, stopping),
// and INFO's process_supervised. The systemd side is a datagram socket this test listens on
// (with python3, which the machine has; skipped with one line without it).

import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RespClient } from "../helpers/resp-client.ts";
import { freePort, parseInfo, removeDir, replicantCommand, startRedis, tempDir, waitFor, type ServerProcess } from "../helpers/servers.ts";

const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

test("daemonize yes: the command returns at once, the detached server serves and keeps its pidfile", async () => {
  const dir = tempDir("daemon-");
  const port = freePort();
  const pidfile = join(dir, "replicant.pid");
  const p = Bun.spawnSync([...replicantCommand(), "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "yes", "--pidfile", pidfile, "--logfile", join(dir, "log")], { timeout: 10000 });
  expect(p.exitCode).toBe(0);
  await waitFor("the daemon", async () => (await RespClient.connect(port).then((c) => c.call("PING").finally(() => c.close()))) === "PONG");
  const pid = Number(readFileSync(pidfile, "utf8"));
  cleanup.push(() => {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
    removeDir(dir);
  });
  const c = await RespClient.connect(port);
  expect(parseInfo(await c.call("INFO", "server")).process_id).toBe(String(pid));
  await c.call("SHUTDOWN", "NOSAVE").catch(() => null);
  await waitFor("the pidfile to go", () => !existsSync(pidfile));
  expect(readFileSync(join(dir, "log"), "utf8")).toContain("Ready to accept connections");
});

const python = Bun.which("python3");
if (!python) console.log("skipped: supervised systemd (needs python3 to listen on the notify socket)");
else {
  test("supervised systemd: READY=1 and STATUS lines on NOTIFY_SOCKET; a replica reports its sync; STOPPING=1 at shutdown", async () => {
    const dir = tempDir("notify-");
    const sock = join(dir, "notify.sock");
    const received = join(dir, "received");
    // A datagram socket that appends every message it receives to a file.
    const listener = Bun.spawn([python, "-c", `import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nf=open(sys.argv[2],'ab',0)\nwhile True:\n  f.write(s.recv(4096)+b'|')\n`, sock, received], { stdout: "ignore", stderr: "inherit" });
    cleanup.push(() => {
      listener.kill("SIGKILL");
      removeDir(dir);
    });
    await waitFor("the notify socket", () => existsSync(sock));
    const master: ServerProcess = await startRedis();
    cleanup.push(() => master.stop());
    const port = freePort();
    const proc = Bun.spawn([...replicantCommand(), "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--supervised", "systemd", "--replicaof", "127.0.0.1", String(master.port)], {
      env: { ...process.env, NOTIFY_SOCKET: sock },
      stdout: "ignore",
      stderr: "ignore",
    });
    cleanup.push(() => {
      proc.kill("SIGKILL");
    });
    const messages = () => (existsSync(received) ? readFileSync(received, "latin1") : "");
    await waitFor("the sync's status", () => messages().includes("Finished with success"));
    const c = await RespClient.connect(port);
    expect(parseInfo(await c.call("INFO", "server")).process_supervised).toBe("systemd");
    await c.call("SHUTDOWN", "NOSAVE").catch(() => null);
    await proc.exited;
    await waitFor("STOPPING=1", () => messages().includes("STOPPING=1"));
    expect(messages().split("|").filter(Boolean)).toEqual([
      "STATUS=Redis is loading...\n",
      "STATUS=Ready to accept connections in read-only mode. Waiting for MASTER <-> REPLICA sync\n",
      "READY=1\n",
      "STATUS=MASTER <-> REPLICA sync: Finished with success. Ready to accept connections in read-write mode.\n",
      "STOPPING=1\n",
    ]);
  });
}
