// The commands ACL rules name, as Redis's server.orig_commands: every command Redis declares
// (also those Replicant does not implement, so `+monitor` or `-cluster` are valid rules), by
// their original names (rename-command does not change ACLs), each with the id of its bit in a
// selector's command bitmap, its ACL categories, and its compiled key specs.

import { compileKeyInfo, type KeyInfo } from "../command-keys.ts";
import { CommandFlag, flagsFromNames, type CommandMeta } from "../command-spec.ts";

/** ACL categories in Redis's order (acl.c ACLCommandCategories): ACL CAT lists them so. */
export const CATEGORY_NAMES = [
  "keyspace",
  "read",
  "write",
  "set",
  "sortedset",
  "list",
  "hash",
  "string",
  "bitmap",
  "hyperloglog",
  "geo",
  "stream",
  "pubsub",
  "admin",
  "fast",
  "slow",
  "blocking",
  "dangerous",
  "connection",
  "transaction",
  "scripting",
] as const;

/** The category's bit, or 0 for an unknown name (case-insensitive, as strcasecmp). */
export function categoryFlag(name: string): number {
  const lower = asciiLower(name);
  const i = (CATEGORY_NAMES as readonly string[]).indexOf(lower);
  return i < 0 ? 0 : 1 << i;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 32));
}

/** Pub/sub arguments (db.c commands_with_channels): CMD_CHANNEL_* flags. */
export const enum ChannelFlag {
  Pattern = 1 << 0,
  Publish = 1 << 1,
  Subscribe = 1 << 2,
  Unsubscribe = 1 << 3,
}

interface ChannelSpec {
  flags: number;
  start: number;
  /** How many arguments are channels, -1 for all the remaining ones. */
  count: number;
}

const CHANNEL_SPECS: Record<string, ChannelSpec> = {
  subscribe: { flags: ChannelFlag.Subscribe, start: 1, count: -1 },
  ssubscribe: { flags: ChannelFlag.Subscribe, start: 1, count: -1 },
  unsubscribe: { flags: ChannelFlag.Unsubscribe, start: 1, count: -1 },
  sunsubscribe: { flags: ChannelFlag.Unsubscribe, start: 1, count: -1 },
  psubscribe: { flags: ChannelFlag.Pattern | ChannelFlag.Subscribe, start: 1, count: -1 },
  punsubscribe: { flags: ChannelFlag.Pattern | ChannelFlag.Unsubscribe, start: 1, count: -1 },
  publish: { flags: ChannelFlag.Publish, start: 1, count: 1 },
  spublish: { flags: ChannelFlag.Publish, start: 1, count: 1 },
};

/** A command as ACLs see it. */
export interface AclCommand {
  /** Index of its bit in a selector's command bitmap. */
  readonly id: number;
  /** "get", or "config|get" for a subcommand (Redis's fullname). */
  readonly fullName: string;
  /** Bits of CATEGORY_NAMES. */
  readonly categories: number;
  readonly parent: AclCommand | null;
  /** Subcommands of a container command, in table order. */
  readonly subcommands: readonly AclCommand[] | null;
  /** CMD_NO_AUTH commands (AUTH, HELLO) pass any command rule. */
  readonly noAuth: boolean;
  readonly arity: number;
  /** CommandFlag bits (also for commands Replicant does not implement). */
  readonly flags: number;
  readonly keys: KeyInfo;
  readonly channels: ChannelSpec | null;
}

/**
 * USER_COMMAND_BITS_COUNT: the size of a selector's bitmap. Its last bit is never a command's:
 * +@all sets it, so that a user can be described as "+@all minus..." (future commands allowed).
 */
export const COMMAND_BITS = 1024;
export const FUTURE_COMMANDS_BIT = COMMAND_BITS - 1;

export class AclCatalogue {
  /** Top-level commands, in table order (Redis iterates a dict: its order is arbitrary). */
  readonly commands: AclCommand[] = [];
  /** Every command and subcommand by lowercase full name. */
  private readonly byName = new Map<string, AclCommand>();
  private nextId = 0;

  /**
   * Adds a command (and its subcommands) from Redis's metadata; returns it. `withCategories`
   * false: a command Redis 7.0 does not have (served for newer masters' replicas) is in no
   * category, so that every category, ACL CAT and every described user are 7.0's; +@all or
   * naming it allows it.
   */
  add(meta: CommandMeta, withCategories = true, parent: AclCommand | null = null): AclCommand {
    const id = this.nextId++;
    if (this.nextId === FUTURE_COMMANDS_BIT) this.nextId++;
    if (id >= FUTURE_COMMANDS_BIT) throw new Error("ACL command bitmap too small");
    let categories = 0;
    if (withCategories) for (const cat of meta.categories) categories |= categoryFlag(cat.startsWith("@") ? cat.slice(1) : cat);
    const subs: AclCommand[] | null = meta.subcommands ? [] : null;
    const flags = flagsFromNames(meta.flags);
    const cmd: AclCommand = {
      id,
      fullName: meta.name,
      categories,
      parent,
      subcommands: subs,
      noAuth: (flags & CommandFlag.NoAuth) !== 0,
      arity: meta.arity,
      flags,
      keys: compileKeyInfo(meta),
      channels: CHANNEL_SPECS[meta.name] ?? null,
    };
    this.byName.set(meta.name, cmd);
    if (parent === null) this.commands.push(cmd);
    if (subs) for (const sub of meta.subcommands!) subs.push(this.add(sub, withCategories, cmd));
    return cmd;
  }

  /** By lowercase full name ("config|get"); for implemented specs. */
  get(fullName: string): AclCommand | undefined {
    return this.byName.get(fullName);
  }

  /**
   * ACLLookupCommand (lookupCommandBySdsLogic over orig_commands): "name" or "container|sub",
   * case-insensitive; a "|" part of a command without subcommands, or more than two parts, is
   * no command.
   */
  lookup(name: string): AclCommand | undefined {
    const parts = asciiLower(name).split("|");
    if (parts.length > 2) return undefined;
    const base = this.byName.get(parts[0]!);
    if (!base || base.parent) return undefined;
    if (parts.length === 1) return base;
    if (!base.subcommands) return undefined;
    return this.byName.get(`${parts[0]}|${parts[1]}`);
  }

  /** Every command and subcommand, containers before their subcommands. */
  *all(): Generator<AclCommand> {
    for (const c of this.commands) {
      yield c;
      if (c.subcommands) yield* c.subcommands;
    }
  }
}
