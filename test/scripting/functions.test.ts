// FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE/STATS/HELP, FCALL/FCALL_RO, EVAL shebang flags
// and SCRIPT subcommands: the same command sequence on a real redis-server and on Replicant,
// replies compared byte for byte (RESP2 and RESP3). Libraries with several functions are
// listed in hash order by Redis, so those listings are compared after sorting.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { compareCommands, describeMismatches, startPair, type Pair } from "./compare.ts";
import { ReplyParser, type RespValue } from "../../src/protocol/reply-parser.ts";

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
});

afterAll(async () => {
  await pair?.stop();
});

const LIB1 = "#!lua name=lib1\nredis.register_function('echo1', function(keys, args) return {keys[1] or 'nokey', args[1] or 'noarg'} end)";
const LIB_FLAGS = [
  "#!lua name=libflags",
  "redis.register_function{function_name='ro', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads a key'}",
].join("\n");
const LIB_WRITER = [
  "#!lua name=libwriter",
  "local function setit(keys, args)",
  "  return redis.call('set', keys[1], args[1])",
  "end",
  "redis.register_function('writer', setit)",
].join("\n");
const LIB_BADRO = "#!lua name=libbadro\nredis.register_function{function_name='badro', callback=function(keys) return redis.call('set', keys[1], 'x') end, flags={'no-writes'}}";
const LIB_ERRORS = [
  "#!lua name=liberrors",
  "redis.register_function('boom', function(keys, args)",
  "  local x = 1",
  "  error('exploded')",
  "end)",
].join("\n");

const SEQUENCE: string[][] = [
  ["FUNCTION", "FLUSH"],
  ["FUNCTION", "LOAD", LIB1],
  ["FUNCTION", "LOAD", LIB1],
  ["FUNCTION", "LOAD", "REPLACE", LIB1],
  ["FUNCTION", "LOAD", "BOGUS", LIB1],
  ["FUNCTION", "LOAD", "REPLACE"],
  ["FCALL", "echo1", "1", "k", "a"],
  ["FCALL", "echo1", "0"],
  ["FCALL_RO", "echo1", "0"],
  ["FCALL", "nosuch", "0"],
  ["FCALL", "echo1", "x"],
  ["FCALL", "echo1", "5"],
  ["FCALL", "echo1", "-1"],
  ["FCALL", "echo1", "01"],
  ["FUNCTION", "LOAD", LIB_FLAGS],
  ["FUNCTION", "LOAD", LIB_WRITER],
  ["FUNCTION", "LOAD", LIB_BADRO],
  ["FUNCTION", "LOAD", LIB_ERRORS],
  ["SET", "fk", "fv"],
  ["FCALL", "ro", "1", "fk"],
  ["FCALL_RO", "ro", "1", "fk"],
  ["FCALL", "writer", "1", "wk", "wv"],
  ["FCALL_RO", "writer", "1", "wk", "wv"],
  ["GET", "wk"],
  ["FCALL", "badro", "1", "x"],
  ["FCALL", "boom", "0"],
  ["FUNCTION", "LIST", "LIBRARYNAME", "lib1"],
  ["FUNCTION", "LIST", "LIBRARYNAME", "libflags", "WITHCODE"],
  ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "libwriter"],
  ["FUNCTION", "LIST", "LIBRARYNAME", "LIBFLAGS"],
  ["FUNCTION", "LIST", "LIBRARYNAME", "nomatch*"],
  ["FUNCTION", "LIST", "LIBRARYNAME"],
  ["FUNCTION", "LIST", "WITHCODE", "WITHCODE"],
  ["FUNCTION", "LIST", "bogus"],
  ["FUNCTION", "STATS"],
  ["FUNCTION", "DELETE", "nosuch"],
  ["FUNCTION", "DELETE", "liberrors"],
  ["FCALL", "boom", "0"],
  ["FUNCTION", "HELP"],
  ["FUNCTION", "KILL"],
  ["FUNCTION", "FLUSH", "bogus"],
  ["FUNCTION", "FLUSH", "ASYNC", "extra"],
  ["FUNCTION", "NOSUB"],
  // metadata and registration errors
  ["FUNCTION", "LOAD", "no shebang"],
  ["FUNCTION", "LOAD", "#!lua"],
  ["FUNCTION", "LOAD", "#!lua name=a b=c\nx"],
  ["FUNCTION", "LOAD", "#!lua name=a name=b\nx"],
  ["FUNCTION", "LOAD", "#!lua\nx"],
  ["FUNCTION", "LOAD", '#!lua "unbalanced\nx'],
  ["FUNCTION", "LOAD", "#!js name=x\nx"],
  ["FUNCTION", "LOAD", "#!LUA name=upper\nredis.register_function('fupper', function() return 'up' end)"],
  ["FCALL", "fupper", "0"],
  ["FUNCTION", "LOAD", "#!lua NAME=upname\nredis.register_function('fup2', function() return 'up2' end)"],
  ["FUNCTION", "LOAD", "#!lua name=bad-name\nx"],
  ["FUNCTION", "LOAD", "#!lua name=\nx"],
  ["FUNCTION", "LOAD", "#!lua name=empty\nlocal x = 1"],
  ["FUNCTION", "LOAD", "#!lua name=err\nerror('boom')"],
  ["FUNCTION", "LOAD", "#!lua name=err2\nredis.call('ping')"],
  ["FUNCTION", "LOAD", "#!lua name=err3\nlocal s = string.rep('x', 2)"],
  ["FUNCTION", "LOAD", "#!lua name=syn\nx = "],
  ["FUNCTION", "LOAD", "#!lua name=glob\nx = 1"],
  ["FUNCTION", "LOAD", "#!lua name=dup\nredis.register_function('echo1', function() end)"],
  ["FUNCTION", "LOAD", "#!lua name=dup2\nredis.register_function('g', function() end)\nredis.register_function('g', function() end)"],
  ["FUNCTION", "LOAD", "#!lua name=r1\nredis.register_function()"],
  ["FUNCTION", "LOAD", "#!lua name=r2\nredis.register_function('a', 'b', 'c')"],
  ["FUNCTION", "LOAD", "#!lua name=r3\nredis.register_function(1)"],
  ["FUNCTION", "LOAD", "#!lua name=r4\nredis.register_function({})"],
  ["FUNCTION", "LOAD", "#!lua name=r5\nredis.register_function({function_name='x'})"],
  ["FUNCTION", "LOAD", "#!lua name=r6\nredis.register_function({callback=function() end})"],
  ["FUNCTION", "LOAD", "#!lua name=r7\nredis.register_function({function_name='x', callback=function() end, bogus=1})"],
  ["FUNCTION", "LOAD", "#!lua name=r8\nredis.register_function({function_name='x', callback=function() end, flags='no-writes'})"],
  ["FUNCTION", "LOAD", "#!lua name=r9\nredis.register_function({function_name='x', callback=function() end, flags={'bogus'}})"],
  ["FUNCTION", "LOAD", "#!lua name=r10\nredis.register_function({function_name='x', callback='notfn'})"],
  ["FUNCTION", "LOAD", "#!lua name=r11\nredis.register_function({function_name={}, callback=function() end})"],
  ["FUNCTION", "LOAD", "#!lua name=r12\nredis.register_function({function_name='x', callback=function() end, description={}})"],
  ["FUNCTION", "LOAD", "#!lua name=r13\nredis.register_function({[1]='x'})"],
  ["FUNCTION", "LOAD", "#!lua name=r14\nredis.register_function('bad name', function() end)"],
  ["FUNCTION", "LOAD", "#!lua name=r15\nredis.register_function('f', 'notfn')"],
  ["FUNCTION", "LOAD", "#!lua name=r16\nredis.register_function{function_name='allflags', callback=function() return 1 end, flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}"],
  ["FUNCTION", "LIST", "LIBRARYNAME", "r16"],
  ["FCALL", "allflags", "0"],
  ["FUNCTION", "LOAD", "#!lua name=r17\nredis.log(redis.LOG_NOTICE, 'loading r17') redis.register_function('v', function() return redis.REDIS_VERSION end)"],
  ["FCALL", "v", "0"],
  ["FUNCTION", "LOAD", "#!lua name=r18\nredis.register_function('usesglobals', function() return KEYS end)"],
  ["FCALL", "usesglobals", "0"],
  ["FUNCTION", "LOAD", "#!lua name=r19\nredis.register_function('setsglobal', function() x = 1 end)"],
  ["FCALL", "setsglobal", "0"],
  ["FUNCTION", "LOAD", "#!lua name=r20\nredis.register_function('reg', function() redis.register_function('y', function() end) end)"],
  ["FCALL", "reg", "0"],
  ["FUNCTION", "LOAD", "#!lua name=r21\nlocal r = redis\nredis.register_function('captured', function() return r.call('ping') end)"],
  ["FCALL", "captured", "0"],
  ["FUNCTION", "LOAD", "#!lua name=r22\nredis.register_function('stringlib', function(k, a) return string.upper(a[1]) .. #k end)"],
  ["FCALL", "stringlib", "2", "a", "b", "hello"],
  ["FUNCTION", "LOAD", "#!lua name=r23\nredis.register_function('multi', function() return redis.call('incr', 'mcount') end)"],
  ["FCALL", "multi", "0"],
  ["FCALL", "multi", "0"],
  // EVAL shebang flags
  ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'fk')", "0"],
  ["EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'fk', 'v')", "0"],
  ["EVAL", "#!lua\nreturn redis.call('set', 'shebangk', 'v')", "0"],
  ["EVAL_RO", "#!lua\nreturn 1", "0"],
  ["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"],
  ["EVAL_RO", "return redis.call('set', 'k', 'v')", "0"],
  ["EVAL_RO", "return redis.call('get', 'fk')", "0"],
  ["EVAL", "#!lua flags=bogus\nreturn 1", "0"],
  ["EVAL", "#!lua flags=no-writes,bogus\nreturn 1", "0"],
  ["EVAL", "#!lua flags=no-writes,\nreturn 1", "0"],
  ["EVAL", "#!lua flags=\nreturn 1", "0"],
  ["EVAL", "#!lua foo=bar\nreturn 1", "0"],
  ["EVAL", "#!lua", "0"],
  ["EVAL", "#!python\nreturn 1", "0"],
  ["EVAL", "#!lua flags=allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 'flags'", "0"],
  ["EVAL", "#!lua\nerror('line two')", "0"],
  ["EVAL", "#!lua\n\nreturn x", "0"],
  // SCRIPT
  ["SCRIPT", "FLUSH"],
  ["SCRIPT", "LOAD", "return 'loaded'"],
  ["SCRIPT", "LOAD", "return +"],
  ["SCRIPT", "LOAD", "#!lua flags=bogus\nreturn 1"],
  ["SCRIPT", "EXISTS", "a0c82e3b20b66e7ad9c0ff05ceeaa5e0b93e1d1f", "0000000000000000000000000000000000000000", "A0C82E3B20B66E7AD9C0FF05CEEAA5E0B93E1D1F"],
  ["EVALSHA", "a0c82e3b20b66e7ad9c0ff05ceeaa5e0b93e1d1f", "0"],
  ["EVALSHA", "A0C82E3B20B66E7AD9C0FF05CEEAA5E0B93E1D1F", "0"],
  ["EVALSHA_RO", "a0c82e3b20b66e7ad9c0ff05ceeaa5e0b93e1d1f", "0"],
  ["EVALSHA", "abc", "0"],
  ["EVALSHA", "0000000000000000000000000000000000000000", "0"],
  ["EVALSHA", "0000000000000000000000000000000000000000", "x"],
  ["EVAL", "return 1", "x"],
  ["EVAL", "return 1", "2", "a"],
  ["EVAL", "return 1", "-1"],
  ["EVAL", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2", "k1", "k2", "a1", "a2"],
  ["SCRIPT", "EXISTS"],
  ["SCRIPT", "FLUSH", "ASYNC"],
  ["SCRIPT", "FLUSH", "SYNC"],
  ["SCRIPT", "FLUSH", "bogus"],
  ["SCRIPT", "FLUSH", "a", "b"],
  ["SCRIPT", "EXISTS", "a0c82e3b20b66e7ad9c0ff05ceeaa5e0b93e1d1f"],
  ["SCRIPT", "KILL"],
  ["SCRIPT", "HELP"],
  ["SCRIPT", "NOSUB"],
  ["SCRIPT", "DEBUG", "NO"],
  ["SCRIPT", "DEBUG", "bogus"],
  ["EVAL", "return 'Error compiling'", "0"],
  ["EVAL", "return +", "0"],
  ["EVAL", "local a = {", "0"],
  ["EVAL", "if x then", "0"],
  ["EVAL", "x = = 1", "0"],
  ["EVAL", "return 'unfinished", "0"],
  ["EVAL", "return [[unfinished", "0"],
  ["EVAL", "return 1e", "0"],
  ["EVAL", "break", "0"],
  ["EVAL", "return ...", "0"],
  ["EVAL", "function f(...) return ... end", "0"],
  ["EVAL", "local function f() return ... end", "0"],
  ["EVAL", "return '\\400'", "0"],
  ["EVAL", "for i = 1 do end", "0"],
  ["EVAL", "for a.b = 1, 2 do end", "0"],
  ["EVAL", "local t = {} t.1 = 2", "0"],
  ["EVAL", "return f\n(1)", "0"],
  ["EVAL", "goto label", "0"],
  ["EVAL", "local x <const> = 1", "0"],
  ["EVAL", "return 1 // 2", "0"],
  ["EVAL", "return 1 & 2", "0"],
  ["EVAL", "return @", "0"],
  ["EVAL", "--[[ unfinished comment", "0"],
  ["EVAL", "return [=[ mismatched ]==]", "0"],
  ["EVAL", "return [[ nested [[ ]]", "0"],
  ["EVAL", "x.y.z = 1 +", "0"],
  ["EVAL", "return\n\n\n1 +", "0"],
  ["EVAL", "local a = 'line1'\nlocal b = nil\nreturn a .. b", "0"],
  ["EVAL", "local t = {}\n\nreturn t.x.y", "0"],
  ["EVAL", "local function f()\n  error('in f')\nend\nf()", "0"],
  ["EVAL", "local function f()\n  error('level 2', 2)\nend\nf()", "0"],
  ["EVAL", "redis.call('set', 'strkey', 'x')\nreturn redis.call('lpush', 'strkey', 'v')", "0"],
  ["EVAL", "error({err='CUSTOM error table'})", "0"],
  ["EVAL", "error({err='CUSTOM', source='x', line=7})", "0"],
  ["EVAL", "error(redis.error_reply('MYERR raised'))", "0"],
  ["EVAL", "return redis.error_reply('MYERR returned')", "0"],
  ["EVAL", "error(42)", "0"],
  ["EVAL", "error(nil)", "0"],
  ["EVAL", "error()", "0"],
  ["EVAL", "error('no position', 0)", "0"],
  ["EVAL", "error(true)", "0"],
];

async function runSequence(resp3: boolean): Promise<void> {
  const a = resp3 ? pair.r3 : pair.r2;
  const b = resp3 ? pair.p3 : pair.p2;
  const ms = await compareCommands(a, b, SEQUENCE);
  if (ms.length) console.log(describeMismatches(ms));
  expect(ms.length).toBe(0);
}

function parse(raw: string): RespValue {
  const p = new ReplyParser();
  p.feed(Buffer.from(raw, "latin1"));
  return p.next()!;
}

/** A FUNCTION LIST reply with libraries and their functions sorted by name. */
function normalizeList(raw: string): unknown {
  const v = parse(raw) as unknown[];
  const libs = v.map((lib) => {
    const m = lib as unknown[];
    const o: Record<string, unknown> = {};
    for (let i = 0; i < m.length; i += 2) o[String(m[i])] = m[i + 1];
    const fns = (o.functions as unknown[][]).map((f) => {
      const fo: Record<string, unknown> = {};
      for (let i = 0; i < f.length; i += 2) fo[String(f[i])] = f[i + 1];
      return fo;
    });
    fns.sort((x, y) => String(x.name).localeCompare(String(y.name)));
    o.functions = fns;
    return o;
  });
  libs.sort((x, y) => String(x.library_name).localeCompare(String(y.library_name)));
  return libs;
}

describe("FUNCTION, FCALL, EVAL flags, SCRIPT", () => {
  test("command sequence (RESP2)", () => runSequence(false));
  test("command sequence (RESP3)", () => runSequence(true));

  test("error() with a table that has no err field: an error reply (redis-server 7.0.15 crashes here)", async () => {
    const r = await pair.p2.call("EVAL", "local t = setmetatable({}, {__tostring = function() return 'tostringed' end}) error(t)", "0");
    expect(r.startsWith("-")).toBe(true);
    expect(await pair.p2.call("PING")).toBe("+PONG\r\n");
  });

  test("FUNCTION LIST of several libraries with several functions (sorted)", async () => {
    const lib = "#!lua name=many\nfor _, n in ipairs({'m1', 'm2', 'm3', 'm4'}) do redis.register_function(n, function() return n end) end";
    for (const c of [pair.r2, pair.p2]) {
      await c.call("FUNCTION", "FLUSH");
      await c.call("FUNCTION", "LOAD", lib);
      await c.call("FUNCTION", "LOAD", LIB1);
      await c.call("FUNCTION", "LOAD", LIB_FLAGS);
    }
    const [x, y] = await Promise.all([pair.r2.call("FUNCTION", "LIST", "WITHCODE"), pair.p2.call("FUNCTION", "LIST", "WITHCODE")]);
    expect(normalizeList(y)).toEqual(normalizeList(x) as never);
    const [s1, s2] = await Promise.all([pair.r2.call("FUNCTION", "STATS"), pair.p2.call("FUNCTION", "STATS")]);
    expect(s2).toBe(s1);
    const calls = [["FCALL", "m3", "0"], ["FCALL", "m1", "0"]];
    const ms = await compareCommands(pair.r2, pair.p2, calls);
    expect(ms).toEqual([]);
  });

  test("FUNCTION DUMP is byte-identical; RESTORE accepts the other server's payload", async () => {
    for (const c of [pair.r2, pair.p2]) {
      await c.call("FUNCTION", "FLUSH");
      await c.call("FUNCTION", "LOAD", LIB_WRITER);
    }
    const [d1, d2] = await Promise.all([pair.r2.call("FUNCTION", "DUMP"), pair.p2.call("FUNCTION", "DUMP")]);
    expect(d2).toBe(d1);
    const payload = (parse(d1) as Buffer | string).toString();
    const seq: string[][] = [
      ["FUNCTION", "RESTORE", payload],
      ["FUNCTION", "RESTORE", payload, "APPEND"],
      ["FUNCTION", "RESTORE", payload, "REPLACE"],
      ["FUNCTION", "RESTORE", payload, "FLUSH"],
      ["FUNCTION", "RESTORE", payload, "BOGUS"],
      ["FUNCTION", "RESTORE", payload, "FLUSH", "extra"],
      ["FUNCTION", "RESTORE", "garbage"],
      ["FUNCTION", "RESTORE", payload.slice(0, -1) + "x"],
      ["FUNCTION", "LIST", "WITHCODE"],
      ["FCALL", "writer", "1", "restored", "yes"],
      ["FUNCTION", "FLUSH"],
      ["FUNCTION", "DUMP"],
      ["FUNCTION", "RESTORE", payload],
      ["FUNCTION", "LIST", "WITHCODE"],
    ];
    const ms = await compareCommands(pair.r2, pair.p2, seq.map((c) => c.map((x) => x)));
    if (ms.length) console.log(describeMismatches(ms));
    expect(ms.length).toBe(0);
    // A payload with a long library (LZF-compressed code) from redis-server restores on Replicant.
    const big = `#!lua name=biglib\n${Array.from({ length: 50 }, (_, i) => `redis.register_function('big${i}', function() return ${i} end)`).join("\n")}`;
    await pair.r2.call("FUNCTION", "LOAD", big);
    const bigDump = (parse(await pair.r2.call("FUNCTION", "DUMP")) as Buffer | string).toString();
    await pair.p2.call("FUNCTION", "FLUSH");
    expect(await pair.p2.call("FUNCTION", "RESTORE", bigDump)).toBe("+OK\r\n");
    expect(await pair.p2.call("FCALL", "big42", "0")).toBe(":42\r\n");
    const [e1, e2] = await Promise.all([pair.r2.call("FUNCTION", "LIST", "LIBRARYNAME", "biglib", "WITHCODE"), pair.p2.call("FUNCTION", "LIST", "LIBRARYNAME", "biglib", "WITHCODE")]);
    expect(normalizeList(e2)).toEqual(normalizeList(e1) as never);
  });
});
