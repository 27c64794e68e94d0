// From source text to a callable function: parse, resolve, compile to closures.

import { compileFunction } from "./compiler.ts";
import { chunkId, LuaSyntaxError } from "./lexer.ts";
import { parseChunk } from "./parser.ts";
import type { LuaState } from "./state.ts";
import type { LuaFunction, LuaTable } from "./value.ts";

/**
 * luaL_loadbuffer: compiles a chunk whose environment is `env`. Throws LuaSyntaxError with
 * Lua's message on a syntax error.
 */
export function loadChunk(S: LuaState, src: string, source: string, env: LuaTable): LuaFunction {
  if (src.charCodeAt(0) === 27) throw new LuaSyntaxError(`${chunkId(source)}: bad header in precompiled chunk`);
  const proto = parseChunk(src, source);
  return compileFunction(S, proto, { src, source, factories: [], functions: null })(null, env);
}
