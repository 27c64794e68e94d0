// What scripts may not do, or get in a fixed order, so that they replicate: SORT BY a constant
// of a set is sorted ALPHA inside a script (CLIENT_SCRIPT), XREAD / XREADGROUP with BLOCK are
// refused from scripts. Side by side with redis-server.

import { test } from "bun:test";
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
