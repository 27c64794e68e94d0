// Function libraries (FUNCTION LOAD / FCALL). The server keeps the libraries' code in
// server.functions (name -> {engine, code}): that is what RDB files, full syncs and FUNCTION
// DUMP carry, and what a full sync replaces. Compiled libraries (their registered functions,
// flags and Lua closures) are derived from it here and rebuilt when it changes, so a library
// that arrived in an RDB is callable by FCALL right after the load.

import { splitArgs } from "../../config/split-args.ts";
import type { RedisLua, RegisteredFunction } from "../../scripting/engine.ts";

interface LibraryEntry {
  engine: string;
  code: string;
}

/** server.functions: a Map that counts its changes, so derived state knows when to rebuild. */
export class LibraryStore extends Map<string, LibraryEntry> {
  version = 0;

  override set(key: string, value: LibraryEntry): this {
    this.version++;
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    this.version++;
    return super.delete(key);
  }

  override clear(): void {
    this.version++;
    super.clear();
  }
}

export interface CompiledLibrary {
  name: string;
  code: string;
  entry: LibraryEntry;
  functions: Map<string, RegisteredFunction>;
}

export interface LibraryMetadata {
  name: string;
  engine: string;
  /** The code after the shebang line (from its newline on, keeping line numbers). */
  body: string;
}

const NAME_ERROR = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/** functionExtractLibMetaData: the shebang "#!<engine> name=<lib>". Throws the error text. */
function libraryMetadata(code: string): LibraryMetadata {
  if (!code.startsWith("#!")) throw new Error("Missing library metadata");
  const nl = code.indexOf("\n");
  if (nl < 0) throw new Error("Invalid library metadata");
  const parts = splitArgs(code.slice(0, nl).split("\0", 1)[0]!);
  if (!parts || parts.length === 0) throw new Error("Invalid library metadata");
  const engine = parts[0]!.slice(2);
  let name: string | null = null;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.slice(0, 5).toLowerCase() === "name=") {
      if (name !== null) throw new Error("Invalid metadata value, name argument was given multiple times");
      name = part.slice(5);
      continue;
    }
    throw new Error(`Invalid metadata value given: ${part}`);
  }
  if (name === null) throw new Error("Library name was not given");
  return { name, engine, body: code.slice(nl) };
}

function validName(name: string): boolean {
  return /^[a-zA-Z0-9_]+$/.test(name);
}

/** The checks functionsCreateWithLibraryCtx makes before running the code. Throws the error text. */
export function checkedMetadata(code: string): LibraryMetadata {
  const meta = libraryMetadata(code);
  if (!validName(meta.name)) throw new Error(NAME_ERROR);
  if (meta.engine.toUpperCase() !== "LUA") throw new Error(`Engine '${meta.engine}' not found`);
  return meta;
}

/** Runs a library's code to collect its functions (engine->create). Throws the error text. */
export function runLibrary(engine: RedisLua, meta: LibraryMetadata, timeoutMs: number): Map<string, RegisteredFunction> {
  const r = engine.loadLibrary(meta.body, timeoutMs);
  if (typeof r === "string") throw new Error(r);
  if (r.size === 0) throw new Error("No functions registered");
  return r;
}

export function compileLibrary(engine: RedisLua, code: string, timeoutMs: number): { meta: LibraryMetadata; functions: Map<string, RegisteredFunction> } {
  const meta = checkedMetadata(code);
  return { meta, functions: runLibrary(engine, meta, timeoutMs) };
}

/** The compiled view of server.functions, with the function-name index FCALL uses. */
export class FunctionRegistry {
  private compiled = new Map<string, CompiledLibrary>();
  private index = new Map<string, { lib: CompiledLibrary; fn: RegisteredFunction }>();
  private seenVersion = -1;

  constructor(
    private readonly store: LibraryStore,
    private readonly engine: () => RedisLua,
    private readonly warn: (msg: string) => void,
  ) {}

  /** Rebuilds compiled libraries that changed in the store (RDB loads, full syncs). */
  sync(): void {
    if (this.seenVersion === this.store.version) return;
    const next = new Map<string, CompiledLibrary>();
    for (const [name, entry] of this.store) {
      const old = this.compiled.get(name);
      if (old && old.entry === entry) {
        next.set(name, old);
        continue;
      }
      try {
        const { functions } = compileLibrary(this.engine(), entry.code, 0);
        next.set(name, { name, code: entry.code, entry, functions });
      } catch (e) {
        this.warn(`Function library '${name}' could not be loaded: ${(e as Error).message}`);
      }
    }
    this.compiled = next;
    this.indexFunctions(next.values());
    this.seenVersion = this.store.version;
  }

  libraries(): CompiledLibrary[] {
    this.sync();
    return [...this.compiled.values()];
  }

  library(name: string): CompiledLibrary | undefined {
    this.sync();
    return this.compiled.get(name);
  }

  /** A function by name, case-insensitively as Redis's functions dict (FCALL test finds TEST). */
  findFunction(name: string): { lib: CompiledLibrary; fn: RegisteredFunction } | undefined {
    this.sync();
    return this.index.get(name.toLowerCase());
  }

  private indexFunctions(libs: Iterable<CompiledLibrary>): void {
    this.index = new Map();
    for (const lib of libs) {
      for (const fn of lib.functions.values()) {
        const key = fn.name.toLowerCase();
        if (!this.index.has(key)) this.index.set(key, { lib, fn });
      }
    }
  }

  functionCount(): number {
    this.sync();
    return this.index.size;
  }

  /** Installs already compiled libraries (FUNCTION LOAD / RESTORE) without compiling them again. */
  install(libs: CompiledLibrary[], removed: string[]): void {
    this.sync();
    for (const name of removed) this.store.delete(name);
    for (const lib of libs) this.store.set(lib.name, lib.entry);
    for (const name of removed) this.compiled.delete(name);
    for (const lib of libs) this.compiled.set(lib.name, lib);
    this.indexFunctions(this.compiled.values());
    this.seenVersion = this.store.version;
  }

  /** FUNCTION FLUSH (and FUNCTION RESTORE FLUSH before installing). */
  clear(): void {
    this.store.clear();
    this.compiled = new Map();
    this.index = new Map();
    this.seenVersion = this.store.version;
  }
}
