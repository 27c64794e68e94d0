// Lua engine benchmark: ordinary scripts run in-process through the EVAL engine (RedisLua), with
// a stand-in for the server that answers every redis.call with a canned reply, so only the
// interpreter is measured (compiled closures, calls, tables, strings, pcall, redis.call's
// conversions); then EVAL and plain commands through the real dispatcher (processCommand on a
// Server, no sockets). Prints the best of the rounds per workload, in CPU milliseconds (process
// CPU time, so that other processes on the machine disturb the figures less).
//
//   bun bench/lua-engine.bench.ts [--rounds 7] [--json]
//
// Run by hand, not in the test suite (timing is not a unit test). Compare two revisions by
// running it on each, alternately, several times (same machine).

import { RedisLua, type ScriptRun } from "../src/scripting/engine.ts";
import { ReplyWriter } from "../src/protocol/reply-writer.ts";
import { configFromArgs } from "../src/config/config.ts";
import { Client } from "../src/core/client.ts";
import { processCommand } from "../src/core/dispatch.ts";
import { assembleServer } from "../src/server/assemble.ts";

const args = process.argv.slice(2);
const roundsAt = args.indexOf("--rounds");
const ROUNDS = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 7;
const JSON_OUT = args.includes("--json");

const WORKLOADS: Array<[string, string]> = [
  ["numeric for", "local s = 0 for i = 1, 3000000 do s = s + i % 7 end return s"],
  ["while + locals", "local i, s = 0, 0 while i < 2000000 do i = i + 1 s = s + i * 2 end return s"],
  ["recursive calls (fib 25)", "local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end return fib(25)"],
  [
    "closures and upvalues",
    "local function counter() local n = 0 return function() n = n + 1 return n end end local c = counter() local s = 0 for i = 1, 1000000 do s = s + c() end return s",
  ],
  [
    "method calls",
    "local P = {} P.__index = P function P.new(x) return setmetatable({x = x}, P) end function P:add(d) self.x = self.x + d return self end local p = P.new(0) for i = 1, 1000000 do p:add(1) end return p.x",
  ],
  [
    "tables (array, ipairs, pairs)",
    "local t = {} for i = 1, 200000 do t[i] = i * 2 end local s = 0 for _, v in ipairs(t) do s = s + v end for k, v in pairs(t) do s = s + k end local h = {} for i = 1, 100000 do h['k' .. i] = i end for k, v in pairs(h) do s = s + v end return s",
  ],
  [
    "strings",
    "local parts = {} for i = 1, 100000 do parts[#parts + 1] = string.format('%d:%s', i, tostring(i * 3)) end local s = table.concat(parts, ',') local n = 0 for w in string.gmatch(s, '%d+') do n = n + 1 end return n",
  ],
  ["pcall in a loop", "local s = 0 local function f(x) return x * 2 end for i = 1, 500000 do local ok, v = pcall(f, i) s = s + v end return s"],
  ["redis.call in a loop", "local n = 0 for i = 1, 200000 do local v = redis.call('GET', KEYS[1]) if v then n = n + #v end end return n"],
  ["short script x20000 (EVAL-sized)", "SHORT"],
];

const SHORT = "local v = redis.call('GET', KEYS[1]) if not v then v = ARGV[1] end return {v, tonumber(ARGV[2]) + 1}";

class FakeRun implements ScriptRun {
  readonly name = "bench";
  resp: 2 | 3 = 2;
  replFlags = 3;
  private readonly canned = Buffer.from("$5\r\nhello\r\n");
  execute(): Buffer | string {
    return this.canned;
  }
  errorReplied(): void {}
  log(): void {}
  aclCheck(): boolean | null {
    return true;
  }
  tick() {
    return false;
  }
}

/** CPU time of this process, in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const lua = new RedisLua("eval", () => {});
const results: Record<string, number> = {};
for (const [name, body] of WORKLOADS) {
  const reply = new ReplyWriter();
  let best = Infinity;
  let out = "";
  if (body === "SHORT") {
    const fn = lua.compileScript(SHORT);
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = cpuMs();
      for (let i = 0; i < 20000; i++) {
        reply.reset();
        lua.execute(fn, ["k"], ["x", "41"], new FakeRun(), reply);
      }
      best = Math.min(best, cpuMs() - t0);
      out = reply.view().toString("latin1");
    }
  } else {
    const fn = lua.compileScript(body);
    for (let r = 0; r < ROUNDS; r++) {
      reply.reset();
      const t0 = cpuMs();
      lua.execute(fn, ["k"], [], new FakeRun(), reply);
      best = Math.min(best, cpuMs() - t0);
      out = reply.view().toString("latin1");
    }
  }
  results[name] = best;
  if (!JSON_OUT) console.log(`${name.padEnd(36)} ${best.toFixed(1).padStart(8)} ms   (${JSON.stringify(out.slice(0, 30))})`);
}
// Through the dispatcher: 50,000 commands per round.
const server = assembleServer(configFromArgs(["--save", ""]));
const client = new Client(server, null);
processCommand(client, ["SET", "key", "hello"]);
const COMMANDS: Array<[string, string[]]> = [
  ["x50000 EVAL redis.call GET", ["EVAL", "return redis.call('get', KEYS[1])", "1", "key"]],
  ["x50000 EVAL 100-step loop", ["EVAL", "local s = 0 for i = 1, 100 do s = s + i end return s", "0"]],
  ["x50000 SET", ["SET", "k", "v"]],
  ["x50000 GET", ["GET", "key"]],
];
for (const [name, argv] of COMMANDS) {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = cpuMs();
    for (let i = 0; i < 50000; i++) {
      processCommand(client, argv);
      client.reply.reset();
    }
    best = Math.min(best, cpuMs() - t0);
  }
  results[name] = best;
  if (!JSON_OUT) console.log(`${name.padEnd(36)} ${best.toFixed(1).padStart(8)} ms`);
}
if (JSON_OUT) console.log(JSON.stringify(results));
