// client-output-buffer-limit for normal and pub/sub clients: a client that does not read its
// replies cannot make the server queue output without bound (replica limits are tested with
// the master side).

import { afterAll, describe, expect, test } from "bun:test";
import { startReplicant, waitFor, type ServerProcess, stopServers } from "../helpers/servers.ts";

const started: ServerProcess[] = [];
afterAll(() => stopServers(started));

/** A client that sends `request` and then never reads (bash's /dev/tcp, fd never read). */
function deafClient(port: number, request: string) {
  return Bun.spawn(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}; printf '${request}' >&3; sleep 60`], { stdout: "ignore", stderr: "ignore" });
}

async function clientCount(s: ServerProcess, type: string): Promise<number> {
  return String(await s.call("CLIENT", "LIST", "TYPE", type)).split("\n").filter((l) => l.startsWith("id=")).length;
}

describe("client output buffer limits", () => {
  test("a subscriber that does not read is closed past the pubsub hard limit; the publisher goes on", async () => {
    const s = await startReplicant(["--save", "", "--client-output-buffer-limit", "pubsub 1mb 0 0"]);
    started.push(s);
    const deaf = deafClient(s.port, "SUBSCRIBE news\\r\\n");
    try {
      await waitFor("the subscriber", async () => (await clientCount(s, "pubsub")) === 1);
      const c = await s.client();
      const message = "x".repeat(16 * 1024);
      // Far more than the kernel's socket buffers plus the 1 MB limit.
      for (let i = 0; i < 4000 && (await clientCount(s, "pubsub")) === 1; i += 100) {
        await c.pipeline(Array.from({ length: 100 }, () => ["PUBLISH", "news", message]));
      }
      await s.waitForLog("scheduled to be closed ASAP for overcoming of output buffer limits.");
      expect(await clientCount(s, "pubsub")).toBe(0);
      expect(await c.call("PUBLISH", "news", "after")).toBe(0);
      expect(await c.call("PING")).toBe("PONG");
      c.close();
    } finally {
      deaf.kill();
    }
  }, 60000);

  test("a normal client flooding requests without reading replies is closed past the normal hard limit", async () => {
    const s = await startReplicant(["--save", "", "--client-output-buffer-limit", "normal 1mb 0 0"]);
    started.push(s);
    const c = await s.client();
    await c.call("SET", "big", "y".repeat(256 * 1024));
    c.close();
    // 400 GETs of 256 KB = 100 MB of replies that are never read.
    const deaf = deafClient(s.port, "GET big\\r\\n".repeat(400));
    try {
      await s.waitForLog("scheduled to be closed ASAP for overcoming of output buffer limits.", 20000);
      await waitFor("the client gone", async () => (await clientCount(s, "normal")) === 1); // only our probe
      expect(await s.call("GET", "big")).toHaveLength(256 * 1024);
    } finally {
      deaf.kill();
    }
  }, 60000);
});
