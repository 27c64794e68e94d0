// Busy scripts and functions (past busy-reply-threshold), side by side with redis-server 7.0.15:
// each scenario runs on both servers at once, on connections of its own, and writes down every
// reply it gets (raw RESP); the two transcripts must be byte-identical. A scenario waits for the
// script to be busy by the "Slow script detected" line both servers log, so that the number of
// commands refused (and the error statistics compared) does not depend on timing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { RawClient } from "../helpers/raw-client.ts";
import { encodeCommand } from "../../src/protocol/reply-parser.ts";
import { eofPayload, rdbFromRedis, startScriptedMaster } from "../helpers/scripted-master.ts";
import { removeDir, type ServerProcess, startRedis, startReplicant, waitFor, waitForSync, stopServers } from "../helpers/servers.ts";

interface Side {
  name: "redis" | "replicant";
  server: ServerProcess;
}

/** What a scenario saw: labelled raw replies. */
type Transcript = string[];

interface Run {
  side: Side;
  t: Transcript;
  /** A new connection (closed when the scenario ends). */
  conn(): Promise<RawClient>;
  /** Writes down a reply (a command's, or one that was pending). */
  note(label: string, reply: string | Promise<string>): Promise<string>;
  /**
   * Waits until the next script is busy (logged "Slow script detected"); `nth`: until the
   * server's nth busy script since it started.
   */
  busy(nth?: number): Promise<void>;
}

let redis: ServerProcess;
let replicant: ServerProcess;

beforeAll(async () => {
  // DEBUG SET-DISABLE-DENY-SCRIPTS lets a script watch CLIENT LIST (a test ends it by a client name).
  const debug = ["--enable-debug-command", "yes"];
  [redis, replicant] = await Promise.all([startRedis(debug), startReplicant(debug)]);
});

afterAll(() => stopServers([redis, replicant]));

function countLog(server: ServerProcess, text: string): number {
  return server.output().split(text).length - 1;
}

async function runOn(side: Side, scenario: (r: Run) => Promise<void>): Promise<Transcript> {
  const t: Transcript = [];
  const conns: RawClient[] = [];
  let slowSeen = countLog(side.server, "Slow script detected");
  const run: Run = {
    side,
    t,
    async conn() {
      const c = await RawClient.connect(side.server.port);
      conns.push(c);
      return c;
    },
    async note(label, reply) {
      const r = await reply;
      t.push(`${label} -> ${JSON.stringify(r)}`);
      return r;
    },
    async busy(nth) {
      const want = nth ?? slowSeen + 1;
      await waitFor(`a busy script on ${side.name}`, () => countLog(side.server, "Slow script detected") >= want, 20000, 5);
      slowSeen = want;
    },
  };
  try {
    await scenario(run);
  } finally {
    for (const c of conns) c.close();
  }
  return t;
}

/** Runs a scenario on both servers at once; the transcripts must be identical. */
async function sideBySide(scenario: (r: Run) => Promise<void>, servers: [ServerProcess, ServerProcess] = [redis, replicant]): Promise<Transcript> {
  const [a, b] = await Promise.all([runOn({ name: "redis", server: servers[0] }, scenario), runOn({ name: "replicant", server: servers[1] }, scenario)]);
  if (a.join("\n") !== b.join("\n")) console.log(`redis-server:\n  ${a.join("\n  ")}\nreplicant:\n  ${b.join("\n  ")}`);
  expect(b).toEqual(a);
  return a;
}

/** The calls / rejected / failed counts of INFO commandstats (no timings), and INFO errorstats. */
async function stats(c: RawClient): Promise<string> {
  const cs = await c.call("INFO", "commandstats");
  const es = await c.call("INFO", "errorstats");
  const counts = cs
    .split("\r\n")
    .filter((l) => l.startsWith("cmdstat_"))
    .map((l) => l.replace(/usec=\d+,usec_per_call=[\d.]+,/, ""));
  const errors = es.split("\r\n").filter((l) => l.startsWith("errorstat_") || l.startsWith("total_error_replies"));
  return [...counts.sort(), ...errors.sort()].join(" ");
}

const THRESHOLD = "50";

/**
 * Lua that loops until a client named `name` connects (CLIENT LIST, with DEBUG
 * SET-DISABLE-DENY-SCRIPTS 1), or 20 s: a script that ends when the test says so.
 */
function untilClient(name: string): string {
  return `local t0 = redis.call('time') while not string.find(redis.call('client', 'list'), 'name=${name} ', 1, true) do local t = redis.call('time') if t[1] - t0[1] > 20 then return 'timed out' end end`;
}

describe("busy scripts, side by side with redis-server", () => {
  test("no script running: SCRIPT KILL and FUNCTION KILL say NOTBUSY, FUNCTION STATS has none", async () => {
    await sideBySide(async (r) => {
      const c = await r.conn();
      await r.note("script kill", c.call("SCRIPT", "KILL"));
      await r.note("function kill", c.call("FUNCTION", "KILL"));
      await r.note("function stats", c.call("FUNCTION", "STATS"));
    });
  });

  test("a read-only loop: -BUSY for other commands, the allowed ones run, SCRIPT KILL stops it", async () => {
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      const c2 = await r.conn();
      await r.note("config set", c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD));
      await r.note("config resetstat", c2.call("CONFIG", "RESETSTAT"));
      await c2.call("SET", "ro:key", "before");
      const pending = c1.call("EVAL", "local i = 0 while true do i = i + 1 end", "0");
      await r.busy();
      for (const cmd of [
        ["PING"],
        ["GET", "ro:key"],
        ["SET", "ro:key", "during"],
        ["INFO", "server"],
        ["CONFIG", "GET", "maxmemory"],
        ["EVAL", "return 1", "0"],
        ["SCRIPT", "LOAD", "return 1"],
        ["FUNCTION", "STATS"],
        ["FUNCTION", "KILL"],
        ["SHUTDOWN"],
        ["SHUTDOWN", "SAVE"],
        ["NOSUCHCOMMAND", "x"],
        ["GET"],
        ["WATCH", "ro:key"],
        ["UNWATCH"],
        ["AUTH", "nopass"],
        ["CLIENT", "SETNAME", "x"],
        ["SELECT", "1"],
        ["PUBLISH", "ch", "m"],
        ["EXEC"],
        ["DISCARD"],
        ["MULTI"],
        ["SET", "ro:key", "queued?"],
        ["GET", "ro:key"],
        ["EXEC"],
        ["MULTI"],
        ["DISCARD"],
      ]) {
        await r.note(cmd.join(" "), c2.call(...cmd));
      }
      await r.note("script kill", c2.call("SCRIPT", "KILL"));
      await r.note("killed script", pending);
      await r.note("ping after", c2.call("PING"));
      await r.note("ping on the script's connection", c1.call("PING"));
      await r.note("value kept", c2.call("GET", "ro:key"));
      await r.note("stats", stats(c2));
    });
  });

  test("a script that wrote: UNKILLABLE for SCRIPT KILL and FUNCTION KILL; it ends by itself, its writes stay", async () => {
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      const c2 = await r.conn();
      await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
      await c2.call("DEL", "w:a", "w:b");
      await c2.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1");
      // A write before and after the busy time; it ends when a client named "endwrote" shows.
      const script = `redis.call('set', 'w:a', '1') ${untilClient("endwrote")} redis.call('set', 'w:b', '2') return 'done'`;
      const pending = c1.call("EVAL", script, "0");
      await r.busy();
      await r.note("ping", c2.call("PING"));
      await r.note("script kill", c2.call("SCRIPT", "KILL"));
      await r.note("function kill", c2.call("FUNCTION", "KILL"));
      await r.note("get during", c2.call("GET", "w:a"));
      await r.note("end it", c2.call("CLIENT", "SETNAME", "endwrote"));
      await r.note("hello", c2.call("HELLO", "2", "SETNAME", "endwrote").then((x) => (x.startsWith("*") ? "map" : x)));
      await r.note("script reply", pending);
      await c2.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0");
      await r.note("writes", c2.pipeline([["GET", "w:a"], ["GET", "w:b"]]).then((x) => x.join("")));
    });
  });

  test("a function: FUNCTION KILL stops it, SCRIPT KILL is refused with the function's BUSY text, FUNCTION STATS shows it", async () => {
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      const c2 = await r.conn();
      await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
      await r.note(
        "load",
        c2.call("FUNCTION", "LOAD", "REPLACE", "#!lua name=busylib\nredis.register_function{function_name='spin', callback=function(keys, args) local n = 0 while true do n = n + 1 end end, flags={'no-writes'}}"),
      );
      const pending = c1.call("FCALL_RO", "spin", "1", "k", "arg");
      await r.busy();
      await r.note("ping", c2.call("PING"));
      await r.note("fcall", c2.call("FCALL", "spin", "0"));
      await r.note("script kill", c2.call("SCRIPT", "KILL"));
      // duration_ms differs from run to run.
      await r.note("function stats", c2.call("FUNCTION", "STATS").then((s) => s.replace(/:\d+\r\n\$7\r\nengines/, ":N\r\n$7\r\nengines")));
      await r.note("function kill", c2.call("FUNCTION", "KILL"));
      await r.note("killed function", pending);
      await r.note("function stats after", c2.call("FUNCTION", "STATS"));
      await r.note("function kill again", c2.call("FUNCTION", "KILL"));
    });
  });

  test("an EVAL: FUNCTION KILL and FUNCTION STATS are refused with the script's BUSY text", async () => {
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      const c2 = await r.conn();
      await c2.call("CONFIG", "SET", "lua-time-limit", THRESHOLD);
      const pending = c1.call("EVAL", "while true do end", "0");
      await r.busy();
      await r.note("function kill", c2.call("FUNCTION", "KILL"));
      await r.note("function stats", c2.call("FUNCTION", "STATS"));
      await r.note("script kill", c2.call("SCRIPT", "KILL"));
      await r.note("killed", pending);
    });
  });

  test("a function that wrote: UNKILLABLE (also for SCRIPT KILL)", async () => {
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      const c2 = await r.conn();
      await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
      await c2.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1");
      await c2.call("FUNCTION", "LOAD", "REPLACE", `#!lua name=wlib\nredis.register_function('wspin', function(keys) redis.call('set', keys[1], 'x') ${untilClient("endspin")} return 'ok' end)`);
      const pending = c1.call("FCALL", "wspin", "1", "f:w");
      await r.busy();
      await r.note("function kill", c2.call("FUNCTION", "KILL"));
      await r.note("script kill", c2.call("SCRIPT", "KILL"));
      await r.note("hello", c2.call("HELLO", "2", "SETNAME", "endspin").then((x) => (x.startsWith("*") ? "map" : x)));
      await r.note("result", pending);
      await c2.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0");
      await r.note("written", c2.call("GET", "f:w"));
    });
  });

  test("killed where pcall catches it: the kill is raised again at the next line, and its line is reported", async () => {
    const scripts = [
      "local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end",
      "local f = function()\n  while 1 do redis.call('ping') end\nend\nwhile 1 do\n  pcall(f)\nend",
      "local f = function()\n  while 1 do redis.call('ping') end\nend\nlocal ok, e = pcall(f)\nreturn {ok, e}",
      "local ok, e = pcall(function() while true do end end) return {ok, e}",
      "local i = 0\nwhile true do\n  i = i + 1\nend",
      "local n = 0\nfor i = 1, 1e12 do\n  n = n + i\nend",
      "local t = {}\nrepeat\n  t[1] = 1 until false",
      "local function f() while true do end end\nlocal ok, e = xpcall(f, function(m) return 'handled: ' .. m end)\nreturn {ok, e}",
      "local ok, e = pcall(function() while true do end end) redis.call('set', 'after:kill', '1') return e",
      "local ok = pcall(function() while true do end end)\nif not ok then\n  redis.call('set', 'after:kill2', '1')\nend",
      "local ok = pcall(function() while true do end end) if not ok then redis.call('set', 'after:kill3', '1') end",
      "local ok\nwhile not ok do\n  ok = pcall(function() while true do end end)\n  redis.call('set', 'after:kill4', '1')\nend",
    ];
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      const c2 = await r.conn();
      await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
      await c2.call("DEL", "after:kill", "after:kill2", "after:kill3", "after:kill4");
      for (const s of scripts) {
        const pending = c1.call("EVAL", s, "0");
        await r.busy();
        await r.note(`busy ${JSON.stringify(s)}`, c2.call("PING"));
        await r.note("kill", c2.call("SCRIPT", "KILL"));
        await r.note("reply", pending);
      }
      await r.note("writes after the kill", c2.pipeline([["EXISTS", "after:kill"], ["EXISTS", "after:kill2"], ["EXISTS", "after:kill3"], ["EXISTS", "after:kill4"]]).then((x) => x.join("")));
    });
  });

  test("pipelined after the script on its connection: the next reply comes after the kill (no false dead client)", async () => {
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      const c2 = await r.conn();
      await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
      const replies = c1.pipeline([["EVAL", "while 1 do redis.call('ping') end", "0"], ["PING"], ["ECHO", "next"]]);
      await r.busy();
      await r.note("ping", c2.call("PING"));
      await r.note("kill", c2.call("SCRIPT", "KILL"));
      await r.note("pipeline", replies.then((x) => x.join("")));
    });
  });

  test("a script that yields and ends by itself: its link is still usable, the others waited", async () => {
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      await c1.call("CONFIG", "SET", "busy-reply-threshold", "10");
      await r.note("long script", c1.call("EVAL", "for i = 1, 100000 do redis.call('ping') end return 'ok'", "0"));
      await r.note("ping", c1.call("PING"));
    });
  });

  test("MULTI and EXEC arriving during a busy script: the transaction is refused as a whole", async () => {
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      const c2 = await r.conn();
      const c3 = await r.conn();
      await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
      await c2.call("CONFIG", "RESETSTAT");
      await c2.call("SET", "xx", "1");
      // MULTI during the busy time (from the tcl suite's "MULTI and script timeout").
      let pending = c1.call("EVAL", "while true do end", "0");
      await r.busy();
      await r.note("multi", c2.call("MULTI"));
      await r.note("incr", c2.call("INCR", "xx"));
      await r.note("kill", c3.call("SCRIPT", "KILL"));
      await r.note("killed", pending);
      await r.note("incr after", c2.call("INCR", "xx"));
      await r.note("exec", c2.call("EXEC"));
      await r.note("xx", c3.call("GET", "xx"));
      // EXEC during the busy time, after a queued command ("EXEC and script timeout").
      await r.note("multi", c2.call("MULTI"));
      await r.note("incr", c2.call("INCR", "xx"));
      pending = c1.call("EVAL", "while true do end", "0");
      await r.busy();
      await r.note("incr busy", c2.call("INCR", "xx"));
      await r.note("exec busy", c2.call("EXEC"));
      await r.note("kill", c3.call("SCRIPT", "KILL"));
      await r.note("killed", pending);
      await r.note("exec after", c2.call("EXEC"));
      await r.note("xx", c3.call("GET", "xx"));
      // Just EXEC during the busy time: nothing of the transaction runs, the client leaves MULTI.
      await r.note("multi", c2.call("MULTI"));
      await r.note("incr", c2.call("INCR", "xx"));
      pending = c1.call("EVAL", "while true do end", "0");
      await r.busy();
      await r.note("exec busy", c2.call("EXEC"));
      await r.note("kill", c3.call("SCRIPT", "KILL"));
      await r.note("killed", pending);
      await r.note("xx", c3.call("GET", "xx"));
      await r.note("exec again", c2.call("EXEC"));
      await r.note("stats", stats(c3));
    });
  });

  test("an EVAL inside MULTI/EXEC gets busy: EXEC's reply waits for it, and the rest of the transaction runs after", async () => {
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      const c2 = await r.conn();
      await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
      await c2.call("DEL", "tx:a", "tx:b");
      const replies = c1.pipeline([["MULTI"], ["SET", "tx:a", "1"], ["EVAL", "while true do end", "0"], ["SET", "tx:b", "2"], ["EXEC"], ["PING"]]);
      await r.busy();
      await r.note("get during", c2.call("GET", "tx:a"));
      await r.note("kill", c2.call("SCRIPT", "KILL"));
      await r.note("transaction", replies.then((x) => x.join("")));
      await r.note("after", c2.pipeline([["GET", "tx:a"], ["GET", "tx:b"]]).then((x) => x.join("")));
    });
  });

  test("clients blocked on a key the script pushed to are served when it ends, not during", async () => {
    // Redis's "Timedout scripts and unblocked command": a client named "endscript" (HELLO is
    // allowed while busy) ends the script, which pushed before and after its busy time.
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      const c2 = await r.conn();
      const blocked = await r.conn();
      await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
      await c2.call("DEL", "bl:x");
      await r.note("debug", c2.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1"));
      const popped = blocked.call("BLPOP", "bl:x", "0");
      await waitFor("blocked client", async () => (await c2.call("INFO", "clients")).includes("blocked_clients:1"), 10000, 10);
      const script = "redis.call('lpush', KEYS[1], 'y') local t0 = redis.call('time') while true do if string.find(redis.call('client', 'list'), 'endscript') then break end local t = redis.call('time') if t[1] - t0[1] > 20 then return 'timed out' end end redis.call('lpush', KEYS[1], 'z') return 'ended'";
      const pending = c1.call("EVAL", script, "1", "bl:x");
      await r.busy();
      let served = "";
      void popped.then((p) => (served = p));
      await r.note("ping", c2.call("PING"));
      await Bun.sleep(100);
      await r.note("served during the busy time", Promise.resolve(served));
      await r.note("hello", c2.call("HELLO", "2", "SETNAME", "endscript").then((s) => (s.startsWith("*") ? "map" : s)));
      await r.note("script", pending);
      await r.note("blpop", popped);
      await r.note("left", c2.call("LRANGE", "bl:x", "0", "-1"));
      await r.note("debug", c2.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0"));
    });
  });

  test("the script's connection closes while it is busy: the server goes on", async () => {
    await sideBySide(async (r) => {
      const c1 = await r.conn();
      const c2 = await r.conn();
      await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
      void c1.call("EVAL", "while true do end", "0");
      await r.busy();
      c1.close();
      await Bun.sleep(50);
      await r.note("ping", c2.call("PING"));
      await r.note("kill", c2.call("SCRIPT", "KILL"));
      await waitFor("the script's end", async () => (await c2.call("PING")) === "+PONG\r\n", 5000, 10);
      await r.note("clients", c2.call("CLIENT", "LIST").then((l) => String(l.split("\n").filter((x) => x.includes("addr=")).length)));
    });
  });
});

describe("SHUTDOWN NOSAVE ends a busy script that wrote", () => {
  test("the server exits without saving; SHUTDOWN without NOSAVE is refused", async () => {
    const extra = ["--save", "3600 1"];
    const [a, b] = await Promise.all([startRedis(extra), startReplicant(extra)]);
    try {
      await sideBySide(
        async (r) => {
          const c1 = await r.conn();
          const c2 = await r.conn();
          await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
          const pending = c1.call("EVAL", "redis.call('set', KEYS[1], 'v') while true do end", "1", "sd:k");
          await r.busy();
          await r.note("ping", c2.call("PING"));
          await r.note("script kill", c2.call("SCRIPT", "KILL"));
          await r.note("shutdown", c2.call("SHUTDOWN"));
          await r.note("shutdown save", c2.call("SHUTDOWN", "SAVE"));
          void c2.call("SHUTDOWN", "NOSAVE");
          const code = await Promise.race([r.side.server.proc.exited, Bun.sleep(10000).then(() => "still running")]);
          await r.note("exit code", Promise.resolve(String(code)));
          await r.note("script's connection", Promise.race([pending.then(() => "reply"), Bun.sleep(2000).then(() => "no reply")]));
          await r.note("saved", Promise.resolve(String(existsSync(join(r.side.server.dir, "dump.rdb")))));
        },
        [a, b],
      );
    } finally {
      for (const s of [a, b]) {
        await s.stop();
        removeDir(s.dir);
      }
    }
  }, 60000);
});

describe("SIGTERM during a busy script", () => {
  test("the shutdown waits for the script's end (here its kill), then the server exits", async () => {
    const [a, b] = await Promise.all([startRedis(), startReplicant()]);
    try {
      await sideBySide(
        async (r) => {
          const c1 = await r.conn();
          const c2 = await r.conn();
          await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
          const pending = c1.call("EVAL", "while true do end", "0");
          await r.busy();
          r.side.server.proc.kill("SIGTERM");
          await waitFor("the signal logged", () => r.side.server.output().includes("Received SIGTERM scheduling shutdown..."), 10000, 5);
          // A server that exited would leave these without a reply.
          const bounded = (p: Promise<string>) => Promise.race([p, Bun.sleep(5000).then(() => "no reply")]);
          await r.note("ping", bounded(c2.call("PING")));
          await r.note("still running", Promise.resolve(String(r.side.server.proc.exitCode)));
          await r.note("kill", bounded(c2.call("SCRIPT", "KILL")));
          // Whether the killed script's reply goes out before the exit is a race in redis-server
          // (its cron may shut down before the reply is written): not compared.
          await bounded(pending);
          const code = await Promise.race([r.side.server.proc.exited, Bun.sleep(10000).then(() => "still running")]);
          await r.note("exit code", Promise.resolve(String(code)));
        },
        [a, b],
      );
    } finally {
      for (const s of [a, b]) {
        await s.stop();
        removeDir(s.dir);
      }
    }
  }, 60000);
});

describe("busy scripts on a replica", () => {
  test("the master's stream waits for a client's busy script; SCRIPT KILL works; then the stream is applied", async () => {
    const master = await startRedis();
    const args = ["--replicaof", "127.0.0.1", String(master.port), "--enable-debug-command", "yes"];
    const [theirs, ours] = await Promise.all([startRedis(args), startReplicant(args)]);
    try {
      await Promise.all([waitForSync(master, theirs), waitForSync(master, ours)]);
      const m = await RawClient.connect(master.port);
      // The master writes once both replicas are busy.
      let arrived = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const bothBusy = async () => {
        if (++arrived === 2) {
          await m.call("SET", "rk:1", "v");
          release();
        }
        await gate;
      };
      await sideBySide(
        async (r) => {
          const c1 = await r.conn();
          const c2 = await r.conn();
          await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
          await c2.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1");
          // Read-only: it sees the key only if the stream were applied during the busy time; it
          // ends when a client named "endrepl" shows.
          const script = "local t0 = redis.call('time') while not string.find(redis.call('client', 'list'), 'name=endrepl ', 1, true) do if redis.call('exists', 'rk:1') == 1 then return 'seen' end local t = redis.call('time') if t[1] - t0[1] > 20 then return 'timed out' end end return 'not seen'";
          const pending = c1.call("EVAL", script, "0");
          await r.busy();
          await bothBusy();
          await r.note("ping", c2.call("PING"));
          // The master's write has had time to arrive (it waits, unapplied).
          await Bun.sleep(200);
          await r.note("end it", c2.call("HELLO", "2", "SETNAME", "endrepl").then((x) => (x.startsWith("*") ? "map" : x)));
          await r.note("script", pending);
          await waitFor("the stream applied", async () => (await c2.call("EXISTS", "rk:1")) === ":1\r\n", 10000, 10);
          await r.note("after", c2.call("GET", "rk:1"));
          // A read-only loop on the replica is killable; the link stays up.
          const loop = c1.call("EVAL", "while true do end", "0");
          await r.busy();
          await r.note("kill", c2.call("SCRIPT", "KILL"));
          await r.note("killed", loop);
          await r.note("link", c2.call("INFO", "replication").then((s) => (s.includes("master_link_status:up") ? "up" : "down")));
        },
        [theirs, ours],
      );
      m.close();
    } finally {
      for (const s of [master, theirs, ours]) {
        await s.stop();
        removeDir(s.dir);
      }
    }
  }, 60000);
});

describe("a busy script sent by the master", () => {
  test("the replica is busy meanwhile, the script is UNKILLABLE, the rest of the stream follows it", async () => {
    const rdb = await rdbFromRedis([["SET", "mk:before", "1"]]);
    // Runs 1.5 s (a script from the master cannot be ended by the test).
    const script = "redis.call('set', 'mk:script', '1') local t0 = redis.call('time') while true do local t = redis.call('time') if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 1500000 then break end end return 1";
    const stream = Buffer.concat([encodeCommand(["SELECT", "0"]), encodeCommand(["EVAL", script, "0"]), encodeCommand(["SET", "mk:after", "1"])]);
    // One scripted master each (it answers one PSYNC); the stream goes out once the replicas are
    // up (with their next REPLCONF ACK), so that the busy time comes after they answer PING.
    const fakes = [0, 1].map(() => startScriptedMaster({ payload: eofPayload(rdb), onlyFirstPsync: true }));
    const args = (i: number) => ["--replicaof", "127.0.0.1", String(fakes[i]!.port), "--busy-reply-threshold", THRESHOLD];
    const [theirs, ours] = await Promise.all([startRedis(args(0)), startReplicant(args(1))]);
    try {
      await Promise.all([theirs, ours].map((s) => waitFor("synced", async () => String(await s.call("INFO", "replication")).includes("master_link_status:up"))));
      for (const f of fakes) f.setScript({ payload: eofPayload(rdb), stream, onlyFirstPsync: true });
      await sideBySide(
        async (r) => {
          const c = await r.conn();
          await r.busy(1);
          await r.note("ping", c.call("PING"));
          await r.note("get", c.call("GET", "mk:before"));
          await r.note("script kill", c.call("SCRIPT", "KILL"));
          await r.note("function kill", c.call("FUNCTION", "KILL"));
          await waitFor("the stream applied", async () => (await c.call("EXISTS", "mk:after")) === ":1\r\n", 10000, 10);
          await r.note("keys", c.pipeline([["GET", "mk:before"], ["GET", "mk:script"], ["GET", "mk:after"]]).then((x) => x.join("")));
          await r.note("offset", c.call("INFO", "replication").then((i) => /slave_repl_offset:(\d+)/.exec(i)?.[1] ?? "none"));
        },
        [theirs, ours],
      );
    } finally {
      for (const f of fakes) f.stop();
      for (const s of [theirs, ours]) {
        await s.stop();
        removeDir(s.dir);
      }
    }
  }, 60000);
});

describe("busy scripts on a master", () => {
  test("a busy script's writes reach the replicas when it ends, in one transaction", async () => {
    const debug = ["--enable-debug-command", "yes"];
    const [m1, m2] = await Promise.all([startRedis(debug), startReplicant(debug)]);
    const [r1, r2] = await Promise.all([startRedis(["--replicaof", "127.0.0.1", String(m1.port)]), startRedis(["--replicaof", "127.0.0.1", String(m2.port)])]);
    const replicaOf = new Map([
      [m1, r1],
      [m2, r2],
    ]);
    try {
      await Promise.all([waitForSync(m1, r1), waitForSync(m2, r2)]);
      await sideBySide(
        async (r) => {
          const replica = await RawClient.connect(replicaOf.get(r.side.server)!.port);
          const c1 = await r.conn();
          const c2 = await r.conn();
          await c2.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD);
          await c2.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1");
          const script = `redis.call('set', 'pm:a', '1') ${untilClient("endprop")} redis.call('set', 'pm:b', '2') return 'done'`;
          const pending = c1.call("EVAL", script, "0");
          await r.busy();
          await Bun.sleep(100);
          await r.note("replica during", replica.call("EXISTS", "pm:a"));
          await r.note("end it", c2.call("HELLO", "2", "SETNAME", "endprop").then((x) => (x.startsWith("*") ? "map" : x)));
          await r.note("script", pending);
          await waitFor("replica has the writes", async () => (await replica.call("EXISTS", "pm:a", "pm:b")) === ":2\r\n", 10000, 10);
          await r.note("replica after", replica.pipeline([["GET", "pm:a"], ["GET", "pm:b"]]).then((x) => x.join("")));
          replica.close();
        },
        [m1, m2],
      );
    } finally {
      for (const s of [m1, m2, r1, r2]) {
        await s.stop();
        removeDir(s.dir);
      }
    }
  }, 60000);
});
