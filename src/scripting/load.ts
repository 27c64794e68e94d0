// From source text to a callable function: parse, resolve, compile to closures.

import { compileFunction } from "./compiler.ts";
import { parseChunk } from "./parser.ts";
import type { LuaState } from "./state.ts";
import type { LuaFunction, LuaTable } from "./value.ts";

/**
 * luaL_loadbuffer: compiles a chunk whose environment is `env`. Throws LuaSyntaxError with
 * Lua's message on a syntax error.
 */
export function loadChunk(S: LuaState, src: string, source: string, env: LuaTable): LuaFunction {
  // No binary chunks: Redis's Lua parses every chunk as text (its f_parser has no undump), so
  // bytecode fails with a syntax error at its ESC byte.
  const proto = parseChunk(src, source);
  return compileFunction(S, proto, { src, source, factories: [], functions: null })(null, env);
}
