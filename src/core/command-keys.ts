// Which arguments of a command are keys, as Redis 7.0 finds them (db.c): from the command's key
// specs with their flags (getKeysFromCommandWithSpecs: ACL key checks, COMMAND GETKEYS) or,
// where the specs cannot say (variable flags, an incomplete or unknown spec), from the command's
// own getkeys procedure. Everything works from Redis's declared metadata, so the keys of a
// command we do not implement are known too.

import type { CommandMeta } from "./command-spec.ts";

/** Key spec flags (server.h CMD_KEY_*), in the order GETKEYSANDFLAGS prints them. */
export const enum KeyFlag {
  RO = 1 << 0,
  RW = 1 << 1,
  OW = 1 << 2,
  RM = 1 << 3,
  Access = 1 << 4,
  Update = 1 << 5,
  Insert = 1 << 6,
  Delete = 1 << 7,
  NotKey = 1 << 8,
  Incomplete = 1 << 9,
  VariableFlags = 1 << 10,
}

const KEY_FLAG_NAMES: ReadonlyArray<readonly [string, number]> = [
  ["RO", KeyFlag.RO],
  ["RW", KeyFlag.RW],
  ["OW", KeyFlag.OW],
  ["RM", KeyFlag.RM],
  ["access", KeyFlag.Access],
  ["update", KeyFlag.Update],
  ["insert", KeyFlag.Insert],
  ["delete", KeyFlag.Delete],
  ["not_key", KeyFlag.NotKey],
  ["incomplete", KeyFlag.Incomplete],
  ["variable_flags", KeyFlag.VariableFlags],
];

/** The names of a key's flags, in Redis's order (addReplyFlagsForKeyArgs). */
export function keyFlagNames(flags: number): string[] {
  const out: string[] = [];
  for (const [name, bit] of KEY_FLAG_NAMES) if (flags & bit) out.push(name);
  return out;
}

/** One key found in argv: its index and the flags of the spec (or procedure) that found it. */
export interface KeyRef {
  pos: number;
  flags: number;
}

type BeginSearch = { kind: "index"; pos: number } | { kind: "keyword"; keyword: string; startfrom: number } | { kind: "unknown" };
type FindKeys = { kind: "range"; lastkey: number; keystep: number; limit: number } | { kind: "keynum"; keynumidx: number; firstkey: number; keystep: number } | { kind: "unknown" };

interface KeySpec {
  flags: number;
  bs: BeginSearch;
  fk: FindKeys;
}

interface RawKeySpec {
  flags?: string[];
  begin_search?: { type?: string; spec?: Record<string, unknown> | unknown[] };
  find_keys?: { type?: string; spec?: Record<string, unknown> | unknown[] };
}

type GetKeysProc = (argv: string[]) => KeyRef[];

/** What the command table says about a command's keys, compiled once per command. */
export interface KeyInfo {
  readonly specs: readonly KeySpec[];
  /** At least one spec is a real key (not not_key). */
  readonly hasKeySpec: boolean;
  /** At least one spec has variable_flags: its getkeys procedure knows better. */
  readonly hasVarFlags: boolean;
  readonly proc: GetKeysProc | null;
  /** doesCommandHaveKeys: a getkeys procedure or a real key spec. */
  readonly hasKeys: boolean;
}

function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

function compileSpec(raw: RawKeySpec): KeySpec {
  let flags = 0;
  for (const f of raw.flags ?? []) {
    const hit = KEY_FLAG_NAMES.find(([n]) => n === f);
    if (hit) flags |= hit[1];
  }
  const b = raw.begin_search;
  const bspec = (b?.spec ?? {}) as Record<string, unknown>;
  let bs: BeginSearch = { kind: "unknown" };
  if (b?.type === "index") bs = { kind: "index", pos: num(bspec.index) };
  else if (b?.type === "keyword") bs = { kind: "keyword", keyword: String(bspec.keyword ?? ""), startfrom: num(bspec.startfrom) };
  const f = raw.find_keys;
  const fspec = (f?.spec ?? {}) as Record<string, unknown>;
  let fk: FindKeys = { kind: "unknown" };
  if (f?.type === "range") fk = { kind: "range", lastkey: num(fspec.lastkey), keystep: num(fspec.keystep), limit: num(fspec.limit) };
  else if (f?.type === "keynum") fk = { kind: "keynum", keynumidx: num(fspec.keynumidx), firstkey: num(fspec.firstkey), keystep: num(fspec.keystep) };
  return { flags, bs, fk };
}

/** strcasecmp for latin1 strings: only ASCII letters fold, as in the "C" locale. */
export function asciiEqualsIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

// ---- The getkeys procedures of Redis 7.0 (db.c *GetKeys), by the command's get_keys_function ----

/** C's atoi: leading spaces, a sign, digits up to the first other character; 0 if none. */
function atoi(s: string): number {
  const n = parseInt(s, 10);
  return Number.isNaN(n) ? 0 : n;
}

/** genericGetKeys: a key count at keyCountOfs, keys from firstKeyOfs, an optional store key (listed last). */
function genericGetKeys(storeKeyOfs: number, keyCountOfs: number, firstKeyOfs: number, keyStep: number): GetKeysProc {
  return (argv) => {
    const count = atoi(argv[keyCountOfs] ?? "");
    // A count the command will refuse: no keys (the command replies its syntax error).
    if (count < 1 || count > Math.trunc((argv.length - firstKeyOfs) / keyStep)) return [];
    const keys: KeyRef[] = [];
    for (let i = 0; i < count; i++) keys.push({ pos: firstKeyOfs + i * keyStep, flags: 0 });
    if (storeKeyOfs) keys.push({ pos: storeKeyOfs, flags: 0 });
    return keys;
  };
}

/** sortGetKeys: the sorted key, and the last STORE's key (options with arguments skipped). */
const sortGetKeys: GetKeysProc = (argv) => {
  const keys: KeyRef[] = [{ pos: 1, flags: KeyFlag.RO | KeyFlag.Access }];
  let store: KeyRef | null = null;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (asciiEqualsIgnoreCase(arg, "limit")) i += 2;
    else if (asciiEqualsIgnoreCase(arg, "get") || asciiEqualsIgnoreCase(arg, "by")) i += 1;
    // Not skipped: Redis's loop looks at the stored key again as an option name.
    else if (asciiEqualsIgnoreCase(arg, "store") && i + 1 < argv.length) store = { pos: i + 1, flags: KeyFlag.OW | KeyFlag.Update };
  }
  if (store) keys.push(store);
  return keys;
};

const sortRoGetKeys: GetKeysProc = () => [{ pos: 1, flags: KeyFlag.RO | KeyFlag.Access }];

const migrateGetKeys: GetKeysProc = (argv) => {
  let first = 3;
  let count = 1;
  if (argv.length > 6) {
    for (let i = 6; i < argv.length; i++) {
      const arg = argv[i]!;
      if (asciiEqualsIgnoreCase(arg, "keys")) {
        // KEYS with a key argument too is a syntax error MIGRATE reports: no keys here.
        if (argv[3]!.length > 0) count = 0;
        else {
          first = i + 1;
          count = argv.length - first;
        }
        break;
      }
      if (asciiEqualsIgnoreCase(arg, "auth")) i += 1;
      else if (asciiEqualsIgnoreCase(arg, "auth2")) i += 2;
    }
  }
  const keys: KeyRef[] = [];
  for (let i = 0; i < count; i++) keys.push({ pos: first + i, flags: KeyFlag.RW | KeyFlag.Access | KeyFlag.Delete });
  return keys;
};

const georadiusGetKeys: GetKeysProc = (argv) => {
  let stored = -1;
  for (let i = 5; i < argv.length; i++) {
    const arg = argv[i]!;
    // STORE and STOREDIST: the last one given wins, as in GEORADIUS itself.
    if ((asciiEqualsIgnoreCase(arg, "store") || asciiEqualsIgnoreCase(arg, "storedist")) && i + 1 < argv.length) {
      stored = i + 1;
      i++;
    }
  }
  const keys: KeyRef[] = [{ pos: 1, flags: 0 }];
  if (stored !== -1) keys.push({ pos: stored, flags: 0 });
  return keys;
};

const xreadGetKeys: GetKeysProc = (argv) => {
  let streamsPos = -1;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (asciiEqualsIgnoreCase(arg, "block") || asciiEqualsIgnoreCase(arg, "count")) i++;
    else if (asciiEqualsIgnoreCase(arg, "group")) i += 2;
    else if (asciiEqualsIgnoreCase(arg, "noack")) continue;
    else if (asciiEqualsIgnoreCase(arg, "streams")) {
      streamsPos = i;
      break;
    } else break;
  }
  const count = streamsPos === -1 ? 0 : argv.length - streamsPos - 1;
  if (streamsPos === -1 || count === 0 || count % 2 !== 0) return [];
  const keys: KeyRef[] = [];
  for (let i = streamsPos + 1; i < argv.length - count / 2; i++) keys.push({ pos: i, flags: 0 });
  return keys;
};

/** setGetKeys: SET with GET reads the key too. */
const setGetKeys: GetKeysProc = (argv) => {
  for (let i = 3; i < argv.length; i++) if (asciiEqualsIgnoreCase(argv[i]!, "get")) return [{ pos: 1, flags: KeyFlag.RW | KeyFlag.Access | KeyFlag.Update }];
  return [{ pos: 1, flags: KeyFlag.OW | KeyFlag.Update }];
};

/** bitfieldGetKeys: read-only when every operation is a GET (a syntax error counts as a write). */
const bitfieldGetKeys: GetKeysProc = (argv) => {
  let readonly = true;
  for (let i = 2; i < argv.length; i++) {
    const rest = argv.length - i - 1;
    const arg = argv[i]!;
    if (asciiEqualsIgnoreCase(arg, "get") && rest >= 2) i += 2;
    else if ((asciiEqualsIgnoreCase(arg, "set") || asciiEqualsIgnoreCase(arg, "incrby")) && rest >= 3) {
      readonly = false;
      break;
    } else if (asciiEqualsIgnoreCase(arg, "overflow") && rest >= 1) i += 1;
    else {
      readonly = false;
      break;
    }
  }
  return [{ pos: 1, flags: readonly ? KeyFlag.RO | KeyFlag.Access : KeyFlag.RW | KeyFlag.Access | KeyFlag.Update }];
};

/** The commands of Redis 7.0 with a get_keys_function (src/commands/*.json). */
const GETKEYS_PROCS: Record<string, GetKeysProc> = {
  bitfield: bitfieldGetKeys,
  migrate: migrateGetKeys,
  sort: sortGetKeys,
  sort_ro: sortRoGetKeys,
  georadius: georadiusGetKeys,
  georadiusbymember: georadiusGetKeys,
  blmpop: genericGetKeys(0, 2, 3, 1),
  bzmpop: genericGetKeys(0, 2, 3, 1),
  lmpop: genericGetKeys(0, 1, 2, 1),
  zmpop: genericGetKeys(0, 1, 2, 1),
  eval: genericGetKeys(0, 2, 3, 1),
  evalsha: genericGetKeys(0, 2, 3, 1),
  eval_ro: genericGetKeys(0, 2, 3, 1),
  evalsha_ro: genericGetKeys(0, 2, 3, 1),
  fcall: genericGetKeys(0, 2, 3, 1),
  fcall_ro: genericGetKeys(0, 2, 3, 1),
  sintercard: genericGetKeys(0, 1, 2, 1),
  zdiff: genericGetKeys(0, 1, 2, 1),
  zinter: genericGetKeys(0, 1, 2, 1),
  zintercard: genericGetKeys(0, 1, 2, 1),
  zunion: genericGetKeys(0, 1, 2, 1),
  zdiffstore: genericGetKeys(1, 2, 3, 1),
  zinterstore: genericGetKeys(1, 2, 3, 1),
  zunionstore: genericGetKeys(1, 2, 3, 1),
  xread: xreadGetKeys,
  xreadgroup: xreadGetKeys,
  set: setGetKeys,
};

/** Compiles a command's key specs (once, when the command table is built). */
export function compileKeyInfo(meta: CommandMeta): KeyInfo {
  const specs = ((meta.keySpecs ?? []) as RawKeySpec[]).map(compileSpec);
  const hasKeySpec = specs.some((s) => !(s.flags & KeyFlag.NotKey));
  const proc = GETKEYS_PROCS[meta.name] ?? null;
  return {
    specs,
    hasKeySpec,
    hasVarFlags: specs.some((s) => (s.flags & KeyFlag.VariableFlags) !== 0),
    proc,
    hasKeys: proc !== null || hasKeySpec,
  };
}

/** string2ll, for the key count a keynum spec reads; null when not an integer. */
function strictInt(s: string): number | null {
  if (s.length === 0 || s.length > 20 || !/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * getKeysUsingKeySpecs: the keys every spec finds, or null when a spec is invalid for these
 * arguments (unknown kind, bad key count, out of range, incomplete). With `partial`, invalid
 * specs are skipped instead (GET_KEYSPEC_RETURN_PARTIAL); with `includeNotKeys`, not_key specs
 * count too (GET_KEYSPEC_INCLUDE_NOT_KEYS).
 */
function keysFromSpecs(info: KeyInfo, argv: string[], partial = false, includeNotKeys = false): KeyRef[] | null {
  const argc = argv.length;
  const keys: KeyRef[] = [];
  for (const spec of info.specs) {
    if (spec.flags & KeyFlag.NotKey && !includeNotKeys) continue;
    let first = 0;
    let invalid = false;
    const bs = spec.bs;
    if (bs.kind === "index") first = bs.pos;
    else if (bs.kind === "keyword") {
      // From startfrom forwards to the next-to-last argument, or backwards from the end.
      const start = bs.startfrom > 0 ? bs.startfrom : argc + bs.startfrom;
      const end = bs.startfrom > 0 ? argc - 1 : 1;
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (asciiEqualsIgnoreCase(argv[i]!, bs.keyword)) {
          first = i + 1;
          break;
        }
      }
      if (!first) continue; // keyword absent: this spec finds nothing
    } else invalid = true;
    let last = 0;
    let step = 1;
    const fk = spec.fk;
    if (!invalid) {
      if (fk.kind === "range") {
        step = fk.keystep;
        if (fk.lastkey >= 0) last = first + fk.lastkey;
        else if (!fk.limit) last = argc + fk.lastkey;
        else last = first + (Math.trunc((argc - first) / fk.limit) + fk.lastkey);
      } else if (fk.kind === "keynum") {
        step = fk.keystep;
        if (fk.keynumidx >= argc) invalid = true;
        else {
          const at = first + fk.keynumidx;
          const n = at < argc ? strictInt(argv[at]!) : null;
          if (n === null || n < 0) invalid = true;
          else {
            first += fk.firstkey;
            last = first + n - 1;
          }
        }
      } else invalid = true;
    }
    // First or last out of bounds: a syntax error the command reports.
    if (!invalid && (last >= argc || last < first || first >= argc)) invalid = true;
    if (!invalid) {
      for (let i = first; i <= last; i += step || 1) keys.push({ pos: i, flags: spec.flags });
      // Incomplete specs count as invalid after their keys were added (for `partial`).
      if (spec.flags & KeyFlag.Incomplete) invalid = true;
    }
    if (invalid) {
      if (partial) continue;
      return null;
    }
  }
  return keys;
}

/**
 * getKeysFromCommandWithSpecs (ACL key checks, COMMAND GETKEYS): the key specs when they are reliable for this
 * command and arguments, else the command's getkeys procedure.
 */
export function keysWithSpecs(info: KeyInfo, argv: string[]): KeyRef[] {
  if (info.hasKeySpec && !info.hasVarFlags) {
    const keys = keysFromSpecs(info, argv);
    if (keys !== null) return keys;
  }
  return info.proc ? info.proc(argv) : [];
}

/**
 * getKeysFromCommand, what client-side caching remembers of a read: the command's getkeys
 * procedure, else its legacy range (COMMAND's first / last / step). A variadic command with
 * too few arguments for its range finds no keys, as in Redis.
 */
export function keysFromLegacyRange(info: KeyInfo, meta: CommandMeta, argv: string[]): KeyRef[] {
  if (info.proc !== null) return info.proc(argv);
  const first = meta.first;
  if (first === 0) return [];
  // COMMAND's last key is absolute (negative: from the end), unlike the spec's relative one.
  let last = meta.last;
  if (last < 0) last = argv.length + last;
  const step = meta.step;
  const keys: KeyRef[] = [];
  for (let j = first; j <= last; j += step) {
    if (j >= argv.length || j < first) return [];
    keys.push({ pos: j, flags: 0 });
    if (step <= 0) break;
  }
  return keys;
}
