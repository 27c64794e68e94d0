// `feed --db N --match <glob>`: which records of the stream and of the snapshot are emitted.
//
// A stream command's keys are found as Redis finds them (getKeysFromCommandWithSpecs), from
// Redis's declared command metadata (core/redis-command-table*.json) through the pure key-spec
// reader core/command-keys.ts: the feed needs nothing else of the server, and knows the keys of
// every command Redis declares, the ones a newer master adds (7.4's hash field TTLs) included.
//
// The rules (docs/feed.md, "Filters"):
// - --db N: a command is emitted when the stream's current db is N, except FLUSHALL, which
//   empties db N too and is always emitted.
// - --match: a command with keys is emitted when at least one of its keys matches; a command
//   without keys (FLUSHDB, FLUSHALL, SWAPDB, FUNCTION ..., PUBLISH) is emitted, as it may
//   change matching keys.

import { compileKeyInfo, keysWithSpecs, type KeyInfo } from "../core/command-keys.ts";
import type { CommandMeta } from "../core/command-spec.ts";
import tableJson from "../core/redis-command-table.json";
import newerJson from "../core/redis-command-table-newer.json";
import { globMatcher } from "../common/glob.ts";

interface FilterOptions {
  db?: number;
  match?: string;
}

/** Key specs by lowercase name ("parent|sub" for subcommands), compiled when first asked. */
class KeyFinder {
  private readonly metas = new Map<string, CommandMeta>();
  private readonly compiled = new Map<string, KeyInfo>();

  constructor() {
    const add = (m: CommandMeta) => {
      this.metas.set(m.name, m);
      for (const s of m.subcommands ?? []) this.metas.set(s.name, s);
    };
    for (const m of (tableJson as { commands: CommandMeta[] }).commands) add(m);
    for (const m of (newerJson as { commands: CommandMeta[] }).commands) add(m);
  }

  private info(name: string): KeyInfo | null {
    let info = this.compiled.get(name);
    if (info) return info;
    const meta = this.metas.get(name);
    if (!meta) return null;
    info = compileKeyInfo(meta);
    this.compiled.set(name, info);
    return info;
  }

  /** The keys of a command, or null when Redis declares no such command. */
  keys(argv: string[]): string[] | null {
    const name = argv[0]!.toLowerCase();
    let info = this.info(name);
    if (info === null) return null;
    if (argv.length > 1 && this.metas.get(name)!.subcommands) info = this.info(`${name}|${argv[1]!.toLowerCase()}`) ?? info;
    return keysWithSpecs(info, argv).map((k) => argv[k.pos]!);
  }
}

export class RecordFilter {
  private readonly keyFinder: KeyFinder | null;
  private readonly matches: ((key: string) => boolean) | null;
  readonly db: number | undefined;

  constructor(options: FilterOptions) {
    this.db = options.db;
    this.matches = options.match === undefined ? null : globMatcher(options.match);
    this.keyFinder = this.matches ? new KeyFinder() : null;
  }

  /** Whether a snapshot key is emitted. */
  key(db: number, key: string): boolean {
    if (this.db !== undefined && db !== this.db) return false;
    return this.matches === null || this.matches(key);
  }

  /** Whether a stream command, run in `db`, is emitted. */
  command(db: number, argv: string[]): boolean {
    if (this.db !== undefined && db !== this.db && argv[0]!.toLowerCase() !== "flushall") return false;
    if (this.matches === null) return true;
    const keys = this.keyFinder!.keys(argv);
    if (keys === null || keys.length === 0) return true;
    for (const k of keys) if (this.matches(k)) return true;
    return false;
  }
}
