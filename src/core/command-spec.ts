// Commands are data: each has Redis's declared name, arity, flags and key positions (taken
// from redis-server 7.0's own COMMAND output, see redis-command-table.json) and a handler of
// ours. The dispatcher checks arity, auth, READONLY, MASTERDOWN and LOADING once, centrally,
// from these flags; handlers only deal with their type.

import type { Client } from "./client.ts";
import type { AclCommand } from "./acl/catalogue.ts";
import type { CommandStats } from "./server.ts";

/** Runs a command. Replies go to c.reply; errors are thrown as CommandError. */
export type Handler = (c: Client, argv: string[]) => void;

export const enum CommandFlag {
  Write = 1 << 0,
  ReadOnly = 1 << 1,
  DenyOom = 1 << 2,
  Admin = 1 << 3,
  PubSub = 1 << 4,
  NoScript = 1 << 5,
  Blocking = 1 << 6,
  Loading = 1 << 7,
  Stale = 1 << 8,
  SkipMonitor = 1 << 9,
  SkipSlowlog = 1 << 10,
  Fast = 1 << 11,
  NoAuth = 1 << 12,
  MayReplicate = 1 << 13,
  NoMulti = 1 << 14,
  AllowBusy = 1 << 15,
  NoMandatoryKeys = 1 << 16,
  Sentinel = 1 << 17,
  OnlySentinel = 1 << 18,
  NoAsyncLoading = 1 << 19,
  Movablekeys = 1 << 20,
}

const FLAG_NAMES: Record<string, CommandFlag> = {
  write: CommandFlag.Write,
  readonly: CommandFlag.ReadOnly,
  denyoom: CommandFlag.DenyOom,
  admin: CommandFlag.Admin,
  pubsub: CommandFlag.PubSub,
  noscript: CommandFlag.NoScript,
  blocking: CommandFlag.Blocking,
  loading: CommandFlag.Loading,
  stale: CommandFlag.Stale,
  skip_monitor: CommandFlag.SkipMonitor,
  skip_slowlog: CommandFlag.SkipSlowlog,
  fast: CommandFlag.Fast,
  no_auth: CommandFlag.NoAuth,
  may_replicate: CommandFlag.MayReplicate,
  no_multi: CommandFlag.NoMulti,
  allow_busy: CommandFlag.AllowBusy,
  no_mandatory_keys: CommandFlag.NoMandatoryKeys,
  sentinel: CommandFlag.Sentinel,
  only_sentinel: CommandFlag.OnlySentinel,
  no_async_loading: CommandFlag.NoAsyncLoading,
  movablekeys: CommandFlag.Movablekeys,
};

export function flagsFromNames(names: string[]): number {
  let f = 0;
  for (const n of names) f |= FLAG_NAMES[n] ?? 0;
  return f;
}

/** Redis's declared metadata of a command, as COMMAND reports it. */
export interface CommandMeta {
  name: string;
  arity: number;
  flags: string[];
  first: number;
  last: number;
  step: number;
  categories: string[];
  tips?: string[];
  keySpecs?: unknown[];
  subcommands?: CommandMeta[];
}

export interface CommandSpec {
  /** Lowercase name; "parent|sub" for subcommands (Redis's fullname). */
  name: string;
  arity: number;
  flags: number;
  meta: CommandMeta;
  handler: Handler | null;
  /** Subcommands by lowercase name, for container commands (CONFIG, CLIENT, XINFO...). */
  subcommands: Map<string, CommandSpec> | null;
  /** The command as ACL rules see it: its bit, categories and key specs. */
  acl: AclCommand;
  /**
   * Flags that depend on the arguments (Redis's getCommandFlags): EVAL and FCALL take the
   * flags of the script they run. Set by the scripting state; absent for other commands.
   */
  dynamicFlags?: (c: Client, argv: string[]) => number;
  /** The command's INFO commandstats entry, cached by dispatch while `statsOf` is the server's map. */
  stats?: CommandStats;
  statsOf?: Map<string, CommandStats>;
}

/** What a command family module exports: handlers by command name ("config|get" for subcommands). */
export type HandlerMap = Record<string, Handler>;
