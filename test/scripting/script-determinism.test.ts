// What scripts may not do, or get in a fixed order, so that they replicate: SORT BY a constant
// of a set is sorted ALPHA inside a script (CLIENT_SCRIPT), XREAD / XREADGROUP with BLOCK are
// refused from scripts. Side by side with redis-server.

import { expect, test } from "bun:test";
import { sideBySide } from "../helpers/side-by-side.ts";

const s = sideBySide(["--save", ""]);

test("SORT BY <constant> of a set inside a script is ordered (and with GET)", async () => {
  await s.same("DEL", "myset");
  await s.same("SADD", "myset", ..."a b c d e f g h i l m n o p q r s t u v z aa aaa azz".split(" "));
  await s.same("EVAL", "return redis.call('sort',KEYS[1],'by','_')", 1, "myset");
  await s.same("EVAL", "return redis.call('sort',KEYS[1],'by','_','get','#','get','_:*')", 1, "myset");
});

test("XREAD and XREADGROUP with BLOCK are refused from scripts; without BLOCK they run", async () => {
  await s.same("DEL", "s");
  await s.same("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
  await s.same("EVAL", "return redis.pcall('xread','STREAMS','s','$')", 1, "s");
  await s.same("EVAL", "return redis.pcall('xread','BLOCK',0,'STREAMS','s','$')", 1, "s");
  await s.same("EVAL", "return redis.pcall('xreadgroup','group','g','c','STREAMS','s','>')", 1, "s");
  await s.same("EVAL", "return redis.pcall('xreadgroup','group','g','c','BLOCK',0,'STREAMS','s','>')", 1, "s");
});

test("no binary chunks: string.dump's output fails to load as Redis's Lua fails (a syntax error at ESC)", async () => {
  await s.same("EVAL", "return loadstring(string.dump(function() return 1 end))()", 0);
  await s.same("EVAL", "local f, e = loadstring(string.dump(function() return 1 end)); return e", 0);
  await s.same("EVAL", "return string.dump(1)", 0);
  await s.same("EVAL", "local f, e = loadstring('x = 1 \\0 y'); return e", 0);
});

test("a script returning a self-referencing table: Redis's nesting, then 'reached lua stack limit'", async () => {
  const script = "local a = {}; local b = {a}; a[1] = b; return a";
  const raw = async (port: number) => {
    let out = "";
    const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data(_s, d) { out += d.toString("latin1"); } } });
    sock.write(`*3\r\n$4\r\nEVAL\r\n$${script.length}\r\n${script}\r\n$1\r\n0\r\n`);
    for (let i = 0; i < 200 && !out.endsWith("stack limit\r\n"); i++) await Bun.sleep(10);
    sock.end();
    return out;
  };
  const theirs = await raw(s.redis.port);
  expect(theirs.endsWith("-ERR reached lua stack limit\r\n")).toBe(true);
  expect(await raw(s.ours.port)).toBe(theirs);
});
