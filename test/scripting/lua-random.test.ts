// Seeded random scripts compared with redis-server byte for byte: number formatting of random
// doubles (tostring, string.format), tables built by random sequences of stores and deletes
// (pairs() order and # depend on Lua's table layout), Lua patterns over random subjects,
// cjson round trips, and table.sort on random arrays.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rng, seedFromEnv } from "../helpers/seeded.ts";
import { compareCommands, describeMismatches, startPair, type Pair } from "./compare.ts";

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
});

afterAll(async () => {
  await pair?.stop();
});

async function same(cmds: string[][]): Promise<void> {
  const ms = await compareCommands(pair.r2, pair.p2, cmds);
  if (ms.length) console.log(describeMismatches(ms.slice(0, 10)));
  expect(ms.length).toBe(0);
}

function randomDouble(r: () => number): string {
  switch (Math.floor(r() * 8)) {
    case 0:
      return String(Math.floor(r() * 1e6) - 5e5);
    case 1:
      return String((r() - 0.5) * 10 ** Math.floor(r() * 40 - 20));
    case 2:
      return (Math.floor(r() * 2 ** 53) * (r() < 0.5 ? 1 : -1)).toString();
    case 3:
      return String(Math.floor(r() * 1000) / 8);
    case 4:
      return String(Math.floor(r() * 100000) + 0.5);
    case 5:
      return (r() * 10 ** Math.floor(r() * 300)).toExponential(Math.floor(r() * 17));
    case 6:
      return String(Math.floor(r() * 10 ** 15) + Math.floor(r() * 10) / 10);
    default:
      return String(r());
  }
}

describe("random scripts", () => {
  test("number formatting of random doubles", async () => {
    const r = rng(seedFromEnv("SCRIPT_NUMBERS_SEED"));
    const script = [
      "local out = {}",
      "for i, a in ipairs(ARGV) do",
      "  local x = tonumber(a)",
      "  out[#out + 1] = tostring(x) .. '|' .. string.format('%.14g|%g|%.3f|%e|%.0f|%10.4g|%-12.2e|%+.1f', x, x, x, x, x, x, x, x)",
      "  if math.abs(x) < 2^53 then out[#out + 1] = string.format('%d|%x|%o|%5i', x, math.abs(x), math.abs(x), x) end",
      "  out[#out + 1] = x .. '' .. (x / 7)",
      "end",
      "return out",
    ].join("\n");
    const cmds: string[][] = [];
    for (let n = 0; n < 20; n++) cmds.push(["EVAL", script, "0", ...Array.from({ length: 100 }, () => randomDouble(r))]);
    await same(cmds);
  });

  test("tables after random stores and deletes: pairs() order, #, next()", async () => {
    const seed = seedFromEnv("SCRIPT_TABLES_SEED");
    const script = [
      "local seed = tonumber(ARGV[1])",
      "local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n end",
      "local t = {}",
      "if rnd(3) == 0 then t = {1, 2, 3, x = 1} end",
      "local ops = 20 + rnd(200)",
      "for i = 1, ops do",
      "  local kind = rnd(10)",
      "  local k",
      "  if kind < 4 then k = 1 + rnd(40) elseif kind < 7 then k = 'k' .. rnd(60) elseif kind == 7 then k = rnd(20) / 4 - 2 else k = -rnd(10) end",
      "  if rnd(4) == 0 then t[k] = nil else t[k] = i end",
      "  if rnd(25) == 0 then table.insert(t, i) end",
      "  if rnd(30) == 0 and #t > 0 then table.remove(t, 1 + rnd(#t)) end",
      "end",
      "local keys = {}",
      "for k, v in pairs(t) do keys[#keys + 1] = tostring(k) .. '=' .. tostring(v) end",
      "local first = next(t)",
      "return {#t, table.concat(keys, ' '), tostring(first)}",
    ].join("\n");
    const cmds: string[][] = [];
    for (let n = 0; n < 300; n++) cmds.push(["EVAL", script, "0", String((seed + n * 7919) % 2147483647)]);
    await same(cmds);
  });

  test("Lua patterns over random subjects", async () => {
    const r = rng(seedFromEnv("SCRIPT_PATTERNS_SEED"));
    const alphabet = "ab1 2-x.%()[]^$_Z\t";
    const subject = () => Array.from({ length: Math.floor(r() * 20) }, () => alphabet[Math.floor(r() * alphabet.length)]).join("");
    const patterns = ["a+", "(a)(b?)", "%d+", "[%a_]+", "^a", "x$", "(%w)%1", "%s*(.-)%s*", "[^%s]+", "%b()", "%f[%w]%w+", ".-%-", "(.)(.)", "[a-b1-2]*", "()", "%.", "[%]%[]", "a*b", "%x%x", "[^ab]", "(%d)(%a?)", "%u", "%p+", ".", "a?b?1?"];
    const script = [
      "local s, p, repl = ARGV[1], ARGV[2], ARGV[3]",
      "local out = {}",
      "local ok, a, b, c, d = pcall(string.find, s, p)",
      "out[#out + 1] = tostring(ok) .. ' ' .. tostring(a) .. ' ' .. tostring(b) .. ' ' .. tostring(c) .. ' ' .. tostring(d)",
      "ok, a, b = pcall(string.match, s, p)",
      "out[#out + 1] = tostring(a) .. ' ' .. tostring(b)",
      "ok, a, b = pcall(string.gsub, s, p, repl)",
      "out[#out + 1] = tostring(a) .. ' ' .. tostring(b)",
      "local words = {}",
      "ok, a = pcall(function() for w in string.gmatch(s, p) do words[#words + 1] = tostring(w) if #words > 50 then break end end end)",
      "out[#out + 1] = table.concat(words, '|') .. tostring(a)",
      "ok, a = pcall(string.find, s, p, 1 + #s % 3, true)",
      "out[#out + 1] = tostring(a)",
      "return out",
    ].join("\n");
    const cmds: string[][] = [];
    const repls = ["<%0>", "%1", "-", "%%", "[%2]"];
    for (let n = 0; n < 400; n++) cmds.push(["EVAL", script, "0", subject(), patterns[n % patterns.length]!, repls[Math.floor(r() * repls.length)]!]);
    await same(cmds);
  });

  test("cjson round trips of random nested values, table.sort of random arrays", async () => {
    const seed = seedFromEnv("SCRIPT_JSON_SEED");
    const script = [
      "local seed = tonumber(ARGV[1])",
      "local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n end",
      "local function value(depth)",
      "  local k = rnd(depth > 3 and 4 or 7)",
      "  if k == 0 then return rnd(1000) - 500 elseif k == 1 then return 'str' .. rnd(100) .. '\\n\"/' elseif k == 2 then return rnd(2) == 0 elseif k == 3 then return (rnd(10000) - 5000) / 64",
      "  elseif k == 4 then local t = {} for i = 1, rnd(6) do t[i] = value(depth + 1) end return t",
      "  else local t = {} for i = 1, rnd(6) do t['f' .. rnd(20)] = value(depth + 1) end return t end",
      "end",
      "local v = value(0)",
      "local json = cjson.encode(v)",
      "local back = cjson.encode(cjson.decode(json))",
      "local arr = {}",
      "for i = 1, rnd(60) do arr[i] = rnd(30) end",
      "table.sort(arr)",
      "local arr2 = {}",
      "for i = 1, rnd(40) do arr2[i] = {n = rnd(5), i = i} end",
      "table.sort(arr2, function(a, b) return a.n > b.n end)",
      "local order = {}",
      "for i, x in ipairs(arr2) do order[i] = x.i end",
      "return {json, back, table.concat(arr, ','), table.concat(order, ','), cmsgpack.pack(v)}",
    ].join("\n");
    const cmds: string[][] = [];
    for (let n = 0; n < 300; n++) cmds.push(["EVAL", script, "0", String((seed + n * 104729) % 2147483647)]);
    await same(cmds);
  });
});
