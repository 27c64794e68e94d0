// Memory given back: a client that sent many requests for a big value and never read the
// replies holds them in its send queue; once it is gone, the process's RSS comes back down
// (the runtime would otherwise keep the garbage until enough new allocation collects it).
// The pages of the executable that only a start or a load ran are handed back too.

import { afterAll, expect, test } from "bun:test";
import { createConnection } from "node:net";
import { info, startReplicant, stopServers, waitFor, type ServerProcess } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

function rssMb(pid: number): number {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  return Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024;
}

test("the replies a closed client never read stop counting in the RSS within seconds", async () => {
  const s = await startReplicant();
  started.push(s);
  const c = await s.client();
  await c.call("SETRANGE", "big", 1024 * 1024 - 1, "x");
  const pid = Number((await info(s, "server")).process_id);
  const before = rssMb(pid);
  const sock = await Bun.connect({ hostname: "127.0.0.1", port: s.port, socket: { data() {} } });
  sock.pause?.();
  sock.write("GET big\r\n".repeat(150));
  await waitFor("the replies queued", () => rssMb(pid) > before + 100);
  sock.terminate();
  await waitFor("the RSS back down", () => rssMb(pid) < before + 40, 10000);
  c.close();
});

test("a huge value set in one argument is held once: its request buffers and argument are collected", async () => {
  const s = await startReplicant(["--proto-max-bulk-len", "1gb"]);
  started.push(s);
  const pid = Number((await info(s, "server")).process_id);
  const before = rssMb(pid);
  const size = 128 * 1024 * 1024;
  // node:net buffers what the kernel does not take yet (Bun's socket.write does not).
  const sock = createConnection({ host: "127.0.0.1", port: s.port });
  const reply = new Promise<string>((resolve) => sock.once("data", (d) => resolve(d.toString())));
  sock.write(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${size}\r\n`);
  const chunk = Buffer.alloc(1 << 20, 120);
  for (let i = 0; i < 128; i++) sock.write(chunk);
  sock.write("\r\n");
  expect(await reply).toBe("+OK\r\n");
  await waitFor("one copy of the value", () => rssMb(pid) < before + 128 * 1.25, 10000);
  sock.end();
});

/** RSS of the mappings of the process's own executable file, in MB. */
function executableRssMb(pid: number): number {
  const fs = require("node:fs") as typeof import("node:fs");
  const exe = fs.readlinkSync(`/proc/${pid}/exe`);
  let kb = 0;
  let ours = false;
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) ours = line.endsWith(exe);
    else if (ours && line.startsWith("Rss:")) kb += Number(line.split(/\s+/)[1]);
  }
  return kb / 1024;
}

test("the executable's pages only the start and a load ran are handed back, and the server serves on", async () => {
  const first = await startReplicant(["--enable-debug-command", "yes"]);
  started.push(first);
  await first.call("DEBUG", "POPULATE", 10000);
  await first.call("HSET", "h", "f", "v");
  await first.call("SAVE");
  await first.stop();
  // The same directory: its dump.rdb loads at start.
  const s = await startReplicant(["--loglevel", "verbose"], { dir: first.dir });
  started.push(s);
  await s.waitForLog(/Released [\d.]+ MB of code pages used by the start/);
  await s.waitForLog(/Released [\d.]+ MB of code pages used by the load/);
  const released = Number(s.output().match(/Released ([\d.]+) MB of code pages used by the load/)![1]);
  // What the load ran (the loader, the JIT compiling it) was resident before the advice.
  expect(released).toBeGreaterThan(1);
  // Whatever runs next faults back in what it needs.
  const c = await s.client();
  expect(await c.call("DBSIZE")).toBe(10001);
  expect(await c.call("HGET", "h", "f")).toBe("v");
  expect(executableRssMb(Number((await info(s, "server")).process_id))).toBeGreaterThan(0);
  c.close();
});
