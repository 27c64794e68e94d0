// The start-up banner as redis-server prints it: with always-show-logo (or on a terminal) a
// logo carrying "Port: <port>" and " PID: <pid>" (what tools that start servers, Redis's own
// test harness among them, wait for); otherwise one "Running mode=standalone, port=" line.

import { afterAll, expect, test } from "bun:test";
import { startReplicant, stopServers, tracker, type ServerProcess } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
const track = tracker(started);
afterAll(() => stopServers(started));

test("always-show-logo yes: the logo with the port and the PID", async () => {
  const s = await track(startReplicant(["--save", "", "--always-show-logo", "yes"]));
  const out = s.output();
  expect(out).toMatch(new RegExp(` PID: ${s.proc.pid}\\n`));
  expect(out).toContain(`Port: ${s.port}`);
  expect(out).not.toContain("Running mode=standalone");
});

test("without it, on a pipe: one line", async () => {
  const s = await track(startReplicant(["--save", ""]));
  expect(s.output()).toContain(`Running mode=standalone, port=${s.port}.`);
  expect(s.output()).not.toContain(" PID: ");
});
