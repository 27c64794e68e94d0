// Whether a user may run a command with these arguments (acl.c ACLCheckAllUserCommandPerm):
// some selector must allow the command (or its first argument), every key it names (with the
// read/write access its key specs declare) and every channel it publishes or subscribes to.

import { asciiEqualsIgnoreCase, KeyFlag, keysWithSpecs, type KeyRef } from "../command-keys.ts";
import { globMatch } from "../../common/glob.ts";
import { ChannelFlag, type AclCommand } from "./catalogue.ts";
import { KeyPerm, SelectorFlag, type Selector } from "./selector.ts";
import type { User } from "./user.ts";

/** ACL_DENIED_*: the values order the reasons (a key or channel beats the command). */
export const enum Denied {
  Command = 1,
  Key = 2,
  Auth = 3,
  Channel = 4,
}

export interface Denial {
  reason: Denied;
  /** Index in argv of the key or channel refused (0 for a command). */
  pos: number;
}

/** The R/W permissions a key's spec flags ask for (ACLSelectorCheckKey). */
function keyPermsNeeded(specFlags: number): number {
  let perms = 0;
  if (specFlags & KeyFlag.Access) perms |= KeyPerm.Read;
  if (specFlags & (KeyFlag.Insert | KeyFlag.Delete | KeyFlag.Update)) perms |= KeyPerm.Write;
  return perms;
}

/** ACLSelectorCheckKey. A key found with no flags (a getkeys procedure) needs any pattern. */
function selectorAllowsKey(s: Selector, key: string, specFlags: number): boolean {
  if (s.flags & SelectorFlag.AllKeys) return true;
  const needed = keyPermsNeeded(specFlags);
  for (const p of s.patterns) {
    if ((p.flags & needed) !== needed) continue;
    if (globMatch(p.pattern, key)) return true;
  }
  return false;
}

/**
 * ACLCheckChannelAgainstList: a channel name matches the patterns as globs; a PSUBSCRIBE pattern
 * only an identical pattern (string compare).
 */
export function channelAllowedBy(patterns: readonly string[], channel: string, isPattern: boolean): boolean {
  for (const p of patterns) {
    if (isPattern ? cString(p) === cString(channel) : globMatch(p, channel)) return true;
  }
  return false;
}

/** strcmp compares up to the first NUL. */
function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

/** Keys of a command, computed at most once for all the selectors of a check. */
interface KeyCache {
  keys: KeyRef[] | null;
}

/** ACLSelectorCheckCmd: null when this selector allows the command, else why not. */
function selectorCheck(s: Selector, cmd: AclCommand, argv: string[], cache: KeyCache): Denial | null {
  if (!(s.flags & SelectorFlag.AllCommands) && !cmd.noAuth && !s.hasBit(cmd.id)) {
    // Allowed with some first arguments only ("+select|0")?
    const args = argv.length >= 2 ? s.firstArgs?.get(cmd.id) : undefined;
    if (!args) return { reason: Denied.Command, pos: 0 };
    const arg = argv[cmd.parent ? 2 : 1];
    if (arg === undefined || !args.some((a) => asciiEqualsIgnoreCase(a, cString(arg)))) return { reason: Denied.Command, pos: 0 };
  }
  if (!(s.flags & SelectorFlag.AllKeys) && cmd.keys.hasKeys) {
    if (cache.keys === null) cache.keys = keysWithSpecs(cmd.keys, argv);
    for (const k of cache.keys) {
      if (!selectorAllowsKey(s, argv[k.pos]!, k.flags)) return { reason: Denied.Key, pos: k.pos };
    }
  }
  const ch = cmd.channels;
  if (!(s.flags & SelectorFlag.AllChannels) && ch !== null && ch.flags & (ChannelFlag.Publish | ChannelFlag.Subscribe)) {
    const stop = ch.count === -1 ? argv.length : Math.min(argv.length, ch.start + ch.count);
    const isPattern = (ch.flags & ChannelFlag.Pattern) !== 0;
    for (let i = ch.start; i < stop; i++) {
      if (!channelAllowedBy(s.channels, argv[i]!, isPattern)) return { reason: Denied.Channel, pos: i };
    }
  }
  return null;
}

/**
 * ACLCheckAllUserCommandPerm: null if some selector allows the command, else the denial to
 * report: the command when no selector allows it, otherwise the highest reason, and for equal
 * reasons the last argument refused.
 */
export function checkCommand(user: User, cmd: AclCommand, argv: string[]): Denial | null {
  if (user.fullAccess) return null;
  const cache: KeyCache = { keys: null };
  let relevant: Denial = { reason: Denied.Command, pos: 0 };
  for (const s of user.selectors) {
    const d = selectorCheck(s, cmd, argv, cache);
    if (d === null) return null;
    if (d.reason > relevant.reason || (d.reason === relevant.reason && d.pos > relevant.pos)) relevant = d;
  }
  return relevant;
}

/**
 * ACLUserCheckCmdWithUnrestrictedKeyAccess: a selector that allows the command also allows
 * every key for this access (SORT's BY and GET patterns read keys no argument names).
 */
export function userHasUnrestrictedKeyAccess(user: User, cmd: AclCommand, argv: string[], specFlags: number): boolean {
  const cache: KeyCache = { keys: null };
  const needed = keyPermsNeeded(specFlags);
  for (const s of user.selectors) {
    if (selectorCheck(s, cmd, argv, cache) !== null) continue;
    if (s.flags & SelectorFlag.AllKeys) return true;
    for (const p of s.patterns) if ((p.flags & needed) === needed && p.pattern === "*") return true;
  }
  return false;
}
