// Error statistics of scripts: what EVAL/EVALSHA/FCALL and the commands a script calls leave in
// INFO commandstats (calls, rejected_calls, failed_calls), errorstats and total_error_replies,
// compared with a real redis-server 7.0 case by case (CONFIG RESETSTAT before each).
//
// Redis's rules (server.c call/incrCommandStatsOnError, networking.c afterErrorReply,
// script_lua.c, script.c scriptCall): an error reply counts once, where it is first made -
// inside the command a script called, in scriptCall's refusal (the called command's
// rejected_calls), or in the error the script returns / raises. An error that came from
// redis.call/pcall carries ignore_error_stats_update: replying it again counts no errorstat,
// only a failed call of the script command, once per such error (even nested in an array).
// A script command also fails when an error was counted after its last inner command ended.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { startPair, type Pair } from "./compare.ts";
import type { RawClient } from "../helpers/raw-client.ts";

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
});

afterAll(async () => {
  await pair?.stop();
});

const LIB = [
  "#!lua name=errlib",
  "redis.register_function('ret_error', function(keys, args) return redis.error_reply('FERR from a function') end)",
  "redis.register_function('raise_inner', function(keys, args) return redis.call('incr', keys[1]) end)",
  "redis.register_function('pcall_inner', function(keys, args) return redis.pcall('incr', keys[1]) end)",
  "redis.register_function('raise_lua', function(keys, args) error('boom') end)",
  "redis.register_function('swallow', function(keys, args) redis.pcall('incr', keys[1]); return 'ok' end)",
  "redis.register_function{function_name='ro_write', callback=function(keys) return redis.call('set', keys[1], 'x') end, flags={'no-writes'}}",
].join("\n");

/** The statistics INFO shows: commandstats without usec, errorstats, total_error_replies. */
async function statistics(c: RawClient): Promise<Record<string, string>> {
  const raw = await c.call("INFO", "everything");
  const body = raw.slice(raw.indexOf("\r\n") + 2);
  const out: Record<string, string> = {};
  for (const line of body.split("\r\n")) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const name = line.slice(0, i);
    const value = line.slice(i + 1);
    if (name.startsWith("cmdstat_")) out[name] = value.split(",").filter((f) => !f.startsWith("usec")).join(",");
    else if (name.startsWith("errorstat_") || name === "total_error_replies") out[name] = value;
  }
  return out;
}

/** Each case: the commands (after a reset), run on both servers, replies and statistics compared. */
const CASES: Array<[string, string[][]]> = [
  ["error_reply returned", [["EVAL", "return redis.error_reply('MYERR custom error')", "0"]]],
  ["error table returned", [["EVAL", "return {err='OTHER table error'}", "0"]]],
  ["error_reply without a code", [["EVAL", "return redis.error_reply('nocode')", "0"]]],
  ["error_reply with a code longer than 31 bytes", [["EVAL", "return redis.error_reply('THISISAVERYLONGERRORCODEOFMORETHAN32 x')", "0"]]],
  ["error codes with ':' and '#' (shown as '_' by INFO)", [["EVAL", "return redis.error_reply('odd:code# x')", "0"], ["EVAL", "return redis.error_reply('wrapped: y')", "0"]]],
  ["error_reply with newlines", [["EVAL", "return redis.error_reply('NL one\\ntwo\\n')", "0"]]],
  ["inner redis.call error raised", [["SET", "s", "abc"], ["EVAL", "return redis.call('incr', KEYS[1])", "1", "s"]]],
  ["inner redis.pcall error returned", [["SET", "s", "abc"], ["EVAL", "return redis.pcall('incr', KEYS[1])", "1", "s"]]],
  ["inner redis.pcall error swallowed", [["SET", "s", "abc"], ["EVAL", "redis.pcall('incr', KEYS[1]); return 1", "1", "s"]]],
  ["inner error then a successful call", [["SET", "s", "abc"], ["EVAL", "redis.pcall('incr', KEYS[1]); redis.call('set', 'x', '1'); return redis.error_reply('LATE error')", "1", "s"]]],
  ["error caught by pcall and returned as string", [["SET", "s", "abc"], ["EVAL", "local ok, e = pcall(redis.call, 'incr', KEYS[1]); return e", "1", "s"]]],
  ["error caught by pcall and raised again", [["SET", "s", "abc"], ["EVAL", "local ok, e = pcall(redis.call, 'incr', KEYS[1]); error(e)", "1", "s"]]],
  ["error table caught by pcall and re-raised as table", [["SET", "s", "abc"], ["EVAL", "local e = redis.pcall('incr', KEYS[1]); error(e)", "1", "s"]]],
  ["unknown command raised", [["EVAL", "return redis.call('nosuchcommand')", "0"]]],
  ["unknown command by pcall, returned", [["EVAL", "return redis.pcall('nosuchcommand')", "0"]]],
  ["wrong arity from a script", [["EVAL", "return redis.call('set', 'k')", "0"]]],
  ["command not allowed from scripts", [["EVAL", "return redis.pcall('multi')", "0"]]],
  ["write in EVAL_RO", [["EVAL_RO", "return redis.call('set', 'k', 'v')", "0"]]],
  ["bad argument type", [["EVAL", "return redis.call('get', {})", "0"]]],
  ["no arguments to redis.call", [["EVAL", "return redis.pcall()", "0"]]],
  ["Lua runtime error", [["EVAL", "error('boom')", "0"]]],
  ["error raised with a table", [["EVAL", "error({err='CUSTOM raised table'})", "0"]]],
  ["calling a nil value", [["EVAL", "return nosuch()", "0"]]],
  ["redis.setresp with a bad version", [["EVAL", "redis.setresp(5)", "0"]]],
  ["compile error", [["EVAL", "return +", "0"]]],
  ["errors nested in an array", [["SET", "s", "abc"], ["EVAL", "return {1, redis.error_reply('A nested'), redis.pcall('incr', KEYS[1]), redis.pcall('incr', KEYS[1])}", "1", "s"]]],
  ["errors nested in a RESP3 map", [["SET", "s", "abc"], ["EVAL", "redis.setresp(3); return {map={a=redis.error_reply('M nested'), b=redis.pcall('incr', KEYS[1])}}", "1", "s"]]],
  ["EVALSHA of an erroring script", [["SCRIPT", "LOAD", "return redis.error_reply('SHAERR x')"], ["EVALSHA", "SHA1PLACEHOLDER", "0"]]],
  ["EVALSHA unknown script", [["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"]]],
  ["FCALL returning an error", [["FCALL", "ret_error", "0"]]],
  ["FCALL inner error raised", [["SET", "s", "abc"], ["FCALL", "raise_inner", "1", "s"]]],
  ["FCALL inner error by pcall returned", [["SET", "s", "abc"], ["FCALL", "pcall_inner", "1", "s"]]],
  ["FCALL Lua error", [["FCALL", "raise_lua", "0"]]],
  ["FCALL inner error swallowed", [["SET", "s", "abc"], ["FCALL", "swallow", "1", "s"]]],
  ["FCALL write in a no-writes function", [["FCALL", "ro_write", "1", "k"]]],
  ["FCALL_RO of a writing function", [["FCALL_RO", "raise_inner", "1", "s"]]],
  ["script error inside MULTI", [["SET", "s", "abc"], ["MULTI"], ["EVAL", "return redis.call('incr', KEYS[1])", "1", "s"], ["EVAL", "return redis.error_reply('TX err')", "0"], ["EXEC"]]],
];

test("script errors leave the statistics redis-server leaves", async () => {
  const { r2, p2 } = pair;
  const sha = (await r2.call("SCRIPT", "LOAD", "return redis.error_reply('SHAERR x')")).slice(5, 45);
  for (const c of [r2, p2]) {
    expect(await c.call("FUNCTION", "FLUSH")).toBe("+OK\r\n");
    expect((await c.call("FUNCTION", "LOAD", LIB)).startsWith("$")).toBe(true);
  }
  const failures: string[] = [];
  for (const [name, commands] of CASES) {
    const before = await Promise.all([r2.call("FLUSHALL"), p2.call("FLUSHALL"), r2.call("CONFIG", "RESETSTAT"), p2.call("CONFIG", "RESETSTAT")]);
    expect(before).toEqual(["+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n"]);
    for (const cmd of commands) {
      const argv = cmd.map((a) => (a === "SHA1PLACEHOLDER" ? sha : a));
      const [x, y] = await Promise.all([r2.call(...argv), p2.call(...argv)]);
      if (x !== y) failures.push(`${name}: ${JSON.stringify(argv)}\n   redis:     ${JSON.stringify(x)}\n   replicant: ${JSON.stringify(y)}`);
    }
    const [sa, sb] = await Promise.all([statistics(r2), statistics(p2)]);
    for (const k of new Set([...Object.keys(sa), ...Object.keys(sb)])) {
      if (sa[k] !== sb[k]) failures.push(`${name}: ${k}\n   redis:     ${sa[k] ?? "(none)"}\n   replicant: ${sb[k] ?? "(none)"}`);
    }
  }
  if (failures.length) console.log(failures.join("\n"));
  expect(failures).toEqual([]);
}, 60000);
