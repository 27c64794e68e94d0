// Guard rails and speed: scripts run fast (closures, not a tree walk), a script that never
// ends gets busy and can be killed, deep recursion ends in Lua's "stack overflow" error, and
// the server keeps serving afterwards.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RawClient } from "../helpers/raw-client.ts";
import { removeDir, type ServerProcess, startReplicant } from "../helpers/servers.ts";

let server: ServerProcess;
let c: RawClient;

beforeAll(async () => {
  server = await startReplicant();
  c = await RawClient.connect(server.port);
});

afterAll(async () => {
  c?.close();
  await server?.stop();
  if (server) removeDir(server.dir);
});

async function timed(...cmd: string[]): Promise<{ reply: string; ms: number }> {
  const t0 = performance.now();
  const reply = await c.call(...cmd);
  return { reply, ms: performance.now() - t0 };
}

describe("speed", () => {
  test("a loop of 1e6 simple iterations runs well under a second", async () => {
    await timed("EVAL", "return 1", "0");
    const { reply, ms } = await timed("EVAL", "local x = 0 for i = 1, 1000000 do x = x + i end return x", "0");
    expect(reply).toBe(":500000500000\r\n");
    console.log(`1e6 iterations: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
  });

  test("function calls, table writes and string building in loops", async () => {
    const script = [
      "local function add(a, b) return a + b end",
      "local t = {}",
      "local s = 0",
      "for i = 1, 200000 do s = add(s, i) t[i] = i end",
      "local parts = {}",
      "for i = 1, 20000 do parts[#parts + 1] = 'k' .. i end",
      "return {s, #t, #table.concat(parts, ',')}",
    ].join("\n");
    const { reply, ms } = await timed("EVAL", script, "0");
    expect(reply).toBe("*3\r\n:20000100000\r\n:200000\r\n:128893\r\n");
    console.log(`calls/tables/strings: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(2000);
  });

  test("redis.call in a loop", async () => {
    const { reply, ms } = await timed("EVAL", "for i = 1, 20000 do redis.call('incr', 'speed:counter') end return redis.call('get', 'speed:counter')", "0");
    expect(reply).toBe("$5\r\n20000\r\n");
    console.log(`20000 redis.call: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(3000);
  });
});

describe("time limit", () => {
  // The busy script cases are compared with redis-server in busy-scripts.test.ts.
  test("a script that never ends is busy past busy-reply-threshold, SCRIPT KILL stops it", async () => {
    expect(await c.call("CONFIG", "SET", "busy-reply-threshold", "300")).toBe("+OK\r\n");
    const other = await RawClient.connect(server.port);
    try {
      const t0 = performance.now();
      const pending = c.call("EVAL", "while true do end", "0");
      let busy = "";
      while (performance.now() - t0 < 5000) {
        busy = await other.call("PING");
        if (busy.startsWith("-BUSY")) break;
      }
      expect(busy).toBe("-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n");
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
      expect(await other.call("SCRIPT", "KILL")).toBe("+OK\r\n");
      expect(await pending).toStartWith("-ERR Script killed by user with SCRIPT KILL... script: ");
      expect(await c.call("PING")).toBe("+PONG\r\n");
      await server.waitForLog("Slow script detected: still in execution after");
    } finally {
      other.close();
    }
    expect(await c.call("CONFIG", "SET", "busy-reply-threshold", "5000")).toBe("+OK\r\n");
  });

  test("FUNCTION LOAD stops library code that runs too long", async () => {
    const r = await c.call("FUNCTION", "LOAD", "#!lua name=slowlib\nwhile true do end");
    expect(r).toBe("-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n");
  });
});

describe("recursion and sizes", () => {
  test("unbounded recursion ends in Lua's stack overflow error, pcall can catch it", async () => {
    const r = await c.call("EVAL", "local function f(n) return 1 + f(n + 1) end return f(1)", "0");
    expect(r).toStartWith("-ERR user_script:1: stack overflow script: ");
    const caught = await c.call("EVAL", "local depth = 0 local function f() depth = depth + 1 return f() + 1 end local ok, e = pcall(f) return {tostring(ok), e, depth > 4000 and 'deep' or tostring(depth)}", "0");
    expect(caught).toBe("*3\r\n$5\r\nfalse\r\n$29\r\nuser_script:1: stack overflow\r\n$4\r\ndeep\r\n");
    const meta = await c.call("EVAL", "local mt = {} mt.__index = function(t, k) return setmetatable({}, mt)[k] end return setmetatable({}, mt).x", "0");
    expect(meta).toStartWith("-ERR user_script:1: C stack overflow script: ");
    expect(await c.call("PING")).toBe("+PONG\r\n");
  });

  test("oversized strings fail cleanly", async () => {
    const r = await c.call("EVAL", "return #string.rep('x', 1e10)", "0");
    expect(r).toStartWith("-ERR user_script:1: not enough memory script: ");
    const nested = await c.call("EVAL", `return ${"(".repeat(300)}1${")".repeat(300)}`, "0");
    expect(nested).toBe("-ERR Error compiling script (new function): user_script:1: chunk has too many syntax levels\r\n");
    expect(await c.call("PING")).toBe("+PONG\r\n");
  });
});
