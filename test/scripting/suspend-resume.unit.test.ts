// Scripts that yield (busy scripts) must compute exactly what they compute uninterrupted. Each
// script runs in-process twice on the EVAL engine: once straight through, once made to yield at
// every tick (every loop iteration and call with tickEvery 1, and at other spacings) and resumed
// until it ends; the replies must be identical. The scripts: every snippet of lua-snippets.ts,
// hand-written cases that put a yielding call in every position the compiler keeps values for,
// and seeded random programs that log the order of their calls.

import { describe, expect, test } from "bun:test";
import { RedisLua, type ScriptRun } from "../../src/scripting/engine.ts";
import { ReplyWriter } from "../../src/protocol/reply-writer.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";
import { COMPILER_LIMITS, LANGUAGE, LIBRARIES, MULTILINE } from "./lua-snippets.ts";

class Run implements ScriptRun {
  readonly name = "test";
  resp: 2 | 3 = 2;
  replFlags = 3;
  constructor(private readonly yields: boolean) {}
  execute(argv: string[]): Buffer | string {
    return Buffer.from(`$${argv.join(",").length}\r\n${argv.join(",")}\r\n`, "latin1");
  }
  errorReplied(): void {}
  log(): void {}
  aclCheck(): boolean | null {
    return true;
  }
  tick(): boolean {
    return this.yields;
  }
}

function runScript(lua: RedisLua, src: string, yields: boolean): { reply: string; suspensions: number } {
  const reply = new ReplyWriter();
  let fn;
  try {
    fn = lua.compileScript(src);
  } catch (e) {
    return { reply: `compile error: ${(e as Error).message}`, suspensions: 0 };
  }
  let outcome = lua.execute(fn, ["key"], ["arg"], new Run(yields), reply);
  let suspensions = 0;
  while (outcome === "suspended") {
    suspensions++;
    if (suspensions > 10_000_000) throw new Error("does not end");
    outcome = lua.resume();
  }
  return { reply: reply.view().toString("latin1"), suspensions };
}

/** Runs scripts straight and yielding every `every` ticks; returns the mismatches (and counts yields). */
function compare(scripts: string[], every: number): { mismatches: string[]; suspensions: number } {
  const straight = new RedisLua("eval", () => {});
  const yielding = new RedisLua("eval", () => {});
  yielding.S.tickEvery = every;
  const mismatches: string[] = [];
  let suspensions = 0;
  for (const src of scripts) {
    const a = runScript(straight, src, false);
    const b = runScript(yielding, src, true);
    suspensions += b.suspensions;
    if (a.reply !== b.reply) mismatches.push(`${JSON.stringify(src).slice(0, 400)}\n  straight: ${JSON.stringify(a.reply).slice(0, 300)}\n  yielding: ${JSON.stringify(b.reply).slice(0, 300)}`);
  }
  return { mismatches, suspensions };
}

// g(x) logs x and loops a little (so it yields inside), h returns several values.
const PRELUDE = `
local log = {}
local function g(x) log[#log + 1] = tostring(x) for i = 1, 2 do end return x end
local function h(x) log[#log + 1] = 'h' .. tostring(x) local i = 0 while i < 2 do i = i + 1 end return x, x + 1, x + 2 end
local function out(...) local r = {} for _, v in ipairs(log) do r[#r + 1] = v end for i = 1, select('#', ...) do r[#r + 1] = tostring((select(i, ...))) end return r end
`;

/** A yielding call in every position where the compiler keeps values, and every statement. */
const CASES: string[] = [
  "local t = {v = 5} local a = t.v + g(1) local b = g(2) - t.v * g(3) return out(a, b)",
  "local u = 1 local function bump() u = u + 10 g(0) return 0 end local r = u + bump() return out(r, u)",
  "local s = tostring(g(1)) .. g(2) .. tostring(g(3)) .. 'x' return out(s)",
  "local c = {g(1), g(2), x = g(3), [g(4)] = g(5), g(6), h(7)} return out(#c, c.x, c[4], c[5], c[6], c[7], c[8])",
  "local c = {[g('k')] = g('v'), [g('a') .. g('b')] = 1} return out(c.k, c.ab)",
  "local o = {n = 0} function o:add(a, b) self.n = self.n + a + b g(self.n) return self end o:add(g(1), g(2)):add(g(3), h(4)) return out(o.n)",
  "local t = {10, 20, 30} local d = t[g(1) + g(1)] return out(d, t[g(3)])",
  "local arr = {} arr[g(1)], arr[g(2)] = g(3), g(4) return out(arr[1], arr[2])",
  "local arr, x = {} x, arr[g(1)], arr[g(2)] = h(5) return out(x, arr[1], arr[2])",
  "local arr = {} local k = 'a' arr[k .. g('b')] = g(1) arr.z = g(2) return out(arr.ab, arr.z)",
  "local s = 0 for i = g(1), g(5), g(2) do s = s + i end return out(s)",
  "local s = 0 for i = 10, g(1), -g(3) do s = s + i * g(i) end return out(s)",
  "local function iter(st, c) g('it' .. c) if c < 4 then return c + 1, g(c * 10) end end local s = 0 for k, v in iter, nil, 0 do s = s + k + v end return out(s)",
  "local s = 0 for k, v in ipairs({g(1), g(2), g(3)}) do s = s + k * g(v) end for k, v in pairs({a = g(4)}) do s = s + v end return out(s)",
  "local ok, e = pcall(function() g(1) error('boom') end) local ok2, v = pcall(g, 7) return out(ok, e, ok2, v)",
  "local ok, e = pcall(function() g(1) error({code = g(2)}) end) return out(ok, type(e), e.code)",
  "local ok, v = xpcall(function() return g(1) + nil end, function(m) g('handler') return 'handled: ' .. m end) return out(ok, v)",
  "local ok, v = pcall(pcall, function() g(1) return g(2) end) return out(ok, v)",
  "local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end return out(fib(12))",
  "local fs = {} for i = 1, 3 do fs[i] = function() return i + g(i) end end return out(fs[1](), fs[2](), fs[3]())",
  "local i = 0 while g(i) < 3 do i = i + 1 end return out(i)",
  "local i = 0 repeat local j = g(i) i = i + 1 until j >= 2 and g(j) return out(i)",
  "local a = g(false) or g(1) and g(2) local b = g(nil) and g(3) return out(a, b, not g(false))",
  "local function m() return h(1) end return out(m())",
  "local function va(...) local a, b = ... return select('#', ...) + a + g(b) end return out(va(g(1), g(2), g(3)))",
  "local s = ('x'):rep(g(3)) .. ('%d'):format(g(4)) return out(s, #s)",
  "local t = setmetatable({}, {__call = function(self, a) return g(a) * 2 end}) return out(t(g(3)))",
  "local x = -g(3) local y = #tostring(g(12345)) return out(x, y)",
  "local r if g(1) > 5 then r = 'a' elseif g(2) == 2 then r = g('b') else r = 'c' end return out(r)",
  "do local a = g(1) do local b = g(2) + a end end return out()",
  "local t = {} for i = 1, 5 do if i % 2 == 0 then t[#t + 1] = g(i) else t[#t + 1] = -g(i) end end return out(unpack(t))",
  "local n = 0 for i = 1, 4 do for j = 1, 3 do if j == 2 then break end n = n + g(i * j) end end return out(n)",
  "local function deep(n) if n == 0 then return g(0) end return 1 + deep(n - 1) end return out(deep(50))",
  "local v = redis.call('echo', g('a'), tostring(g(1))) return out(v)",
  "local x = 0 for i = 1, 200 do x = x + select(2, pcall(g, i)) end return out(x)",
  "local function f() for i = 1, 3 do g(i) end return end f() return out()",
  "local function r3() return g(1), g(2), g(3) end local a, b, c, d = r3() local t = {r3(), r3()} return out(a, b, c, d, #t)",
  "local s = string.gsub('abc', '%w', function(c) return c .. 'x' end) return out(s, g(1))",
  "local t = {5, 2, 9} table.sort(t, function(a, b) return a < b end) return out(g(t[1]), t[3])",
  "local a = {g(1), g(2)} local b = {h(3)} local c = {h(1), h(2)} return out(#a, #b, #c)",
  "return out(g(1) == g(1), g(1) ~= g(2), g(1) < g(2), g(2) <= g(1), g(3) > g(2), g(2) >= g(3), g(2) ^ g(3), g(7) % g(3), g(7) / g(2))",
  "local t = {} t.a = {} t.a[g('k')] = g(1) t.a.b = t.a.k + g(2) return out(t.a.k, t.a.b)",
  "local ok, e = pcall(function() local x = nil return x.y + g(1) end) return out(ok, e)",
  "local ok, e = pcall(function() return g(1) + {} end) return out(ok, e)",
];

/** A seeded random program: nested expressions and statements around g and h (which log). */
function randomProgram(r: () => number): string {
  const pick = <T,>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  let vars = ["a", "b", "c"];
  const expr = (d: number): string => {
    if (d <= 0) return pick(["1", "2", "3", "a", "b", "c", "u", "t.x", "#t"]);
    switch (Math.floor(r() * 14)) {
      case 0:
      case 1:
        return `g(${expr(d - 1)})`;
      case 2:
        return `(${expr(d - 1)} + ${expr(d - 1)})`;
      case 3:
        return `(${expr(d - 1)} - ${expr(d - 1)} * ${expr(d - 1)})`;
      case 4:
        return `(${expr(d - 1)} % 7)`;
      case 5:
        return `select(2, h(${expr(d - 1)}))`;
      case 6:
        return `({${expr(d - 1)}, ${expr(d - 1)}, k = ${expr(d - 1)}})[${pick(["1", "2", "'k'"])}]`;
      case 7:
        return `o:m(${expr(d - 1)}, ${expr(d - 1)})`;
      case 8:
        return `((${expr(d - 1)} < ${expr(d - 1)}) and ${expr(d - 1)} or ${expr(d - 1)})`;
      case 9:
        return `select(2, pcall(g, ${expr(d - 1)}))`;
      case 10:
        return `bump(${expr(d - 1)})`;
      case 11:
        return `tonumber(tostring(${expr(d - 1)}) .. g(1))`;
      case 12:
        return `-${expr(d - 1)}`;
      default:
        return `f2(${expr(d - 1)})`;
    }
  };
  const stat = (d: number): string => {
    const e = () => expr(Math.floor(r() * 3) + 1);
    switch (Math.floor(r() * (d > 0 ? 12 : 6))) {
      case 0:
        return `${pick(vars)} = ${e()}`;
      case 1:
        return `t[${pick(["1", "2", "'x'"])}] = ${e()}`;
      case 2:
        return `${pick(vars)}, t.x = ${e()}, ${e()}`;
      case 3:
        return `g(${e()})`;
      case 4: {
        const v = `l${Math.floor(r() * 1000)}`;
        vars = [...vars, v];
        return `local ${v} = ${e()}`;
      }
      case 5:
        return `t[g(${pick(["1", "2", "'x'"])})] = ${e()}`;
      case 6:
        return `if ${e()} > ${e()} then ${stat(d - 1)} else ${stat(d - 1)} end`;
      case 7:
        return `for i = 1, (${e()}) % 4 do ${stat(d - 1)} end`;
      case 8:
        return `for k, v in ipairs({${e()}, ${e()}}) do a = a + v ${stat(d - 1)} end`;
      case 9:
        return `do local n = 0 while n < (${e()}) % 3 do n = n + 1 ${stat(d - 1)} end end`;
      case 10:
        return `do local n = 0 repeat n = n + 1 ${stat(d - 1)} until n >= (${e()}) % 3 end`;
      default: {
        const saved = vars;
        const body = [stat(d - 1), stat(d - 1)].join(" ");
        vars = saved;
        return `do ${body} end`;
      }
    }
  };
  const lines = [
    "local a, b, c = 1, 2, 3",
    "local t = {1, 2, x = 3}",
    "local u = 4",
    "local o = {} function o:m(x, y) g('m') return (x or 0) + (y or 0) end",
    "local function bump(x) u = u + 1 g('bump') return x end",
    "local function f2(x) local s = 0 for i = 1, 3 do s = s + i end return (x or 0) + s end",
  ];
  const n = 3 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) lines.push(stat(2));
  lines.push("return out(a, b, c, u, t[1], t[2], t.x)");
  return lines.join("\n");
}

describe("scripts that yield compute what they compute uninterrupted", () => {
  test("every lua-snippets.ts snippet, yielding at every tick", () => {
    const { mismatches, suspensions } = compare([...LANGUAGE, ...LIBRARIES, ...MULTILINE, ...COMPILER_LIMITS], 1);
    if (mismatches.length) console.log(mismatches.slice(0, 10).join("\n"));
    expect(mismatches).toEqual([]);
    expect(suspensions).toBeGreaterThan(1000);
  });

  test("a yielding call in every position values are kept for", () => {
    const scripts = CASES.map((c) => PRELUDE + c);
    for (const every of [1, 2, 3, 5]) {
      const { mismatches, suspensions } = compare(scripts, every);
      if (mismatches.length) console.log(`tickEvery ${every}:\n${mismatches.slice(0, 10).join("\n")}`);
      expect(mismatches).toEqual([]);
      expect(suspensions).toBeGreaterThan(CASES.length);
    }
  });

  test("seeded random programs", () => {
    const seed = seedFromEnv("SUSPEND_RESUME_SEED");
    const r = rng(seed);
    const scripts: string[] = [];
    for (let i = 0; i < 300; i++) scripts.push(PRELUDE + randomProgram(r));
    for (const every of [1, 2, 7]) {
      const { mismatches } = compare(scripts, every);
      if (mismatches.length) console.log(`seed ${seed}, tickEvery ${every}:\n${mismatches.slice(0, 5).join("\n")}`);
      expect(mismatches).toEqual([]);
    }
  }, 120000);
});
