// An ACL selector (acl.c aclSelector): the commands, keys and channels one set of rules allows.
// A user has a root selector (the rules written outside parentheses) and any number of
// "(...)" selectors; a command is allowed when one selector allows it whole.

import { COMMAND_BITS, FUTURE_COMMANDS_BIT, categoryFlag, type AclCatalogue, type AclCommand } from "./catalogue.ts";
import { asciiEqualsIgnoreCase } from "../command-keys.ts";
import { splitArgs } from "../../config/split-args.ts";

export const enum SelectorFlag {
  Root = 1 << 0,
  AllKeys = 1 << 1,
  AllCommands = 1 << 2,
  AllChannels = 1 << 3,
}

/** Key pattern permissions (ACL_READ_PERMISSION, ACL_WRITE_PERMISSION). */
export const enum KeyPerm {
  Read = 1 << 0,
  Write = 1 << 1,
  All = Read | Write,
}

export interface KeyPattern {
  pattern: string;
  flags: number;
}

/**
 * Why a rule was refused: the errno values of ACLSetUser/ACLSetSelector, each with its
 * ACLSetUserStringError text.
 */
export const enum RuleError {
  /** EINVAL */
  Syntax = 1,
  /** ENOENT */
  UnknownCommand,
  /** EEXIST */
  KeyAfterAll,
  /** EISDIR */
  ChannelAfterAll,
  /** ENODEV */
  NoSuchPassword,
  /** EBADMSG */
  BadHash,
  /** EALREADY */
  DuplicateUser,
  /** ECHILD */
  FirstArgOfSubcommand,
}

export function ruleErrorText(e: RuleError): string {
  switch (e) {
    case RuleError.UnknownCommand:
      return "Unknown command or category name in ACL";
    case RuleError.Syntax:
      return "Syntax error";
    case RuleError.KeyAfterAll:
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    case RuleError.ChannelAfterAll:
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
    case RuleError.NoSuchPassword:
      return "The password you are trying to remove from the user does not exist";
    case RuleError.BadHash:
      return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    case RuleError.DuplicateUser:
      return "Duplicate user found. A user can only be defined once in config files";
    case RuleError.FirstArgOfSubcommand:
      return "Allowing first-arg of a subcommand is not supported";
  }
}

/** ACLStringHasSpaces: usernames and patterns may not hold whitespace (C's isspace) or NUL. */
export function hasSpaces(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 32 || (c >= 9 && c <= 13)) return true;
  }
  return false;
}

/** Hooks a rule may need: the command catalogue, and the log for the first-arg deprecation warning. */
export interface RuleContext {
  catalogue: AclCatalogue;
  /** acl-pubsub-default: SelectorFlag.AllChannels or 0, given to every new selector. */
  pubsubDefault: number;
  warn(message: string): void;
}

export class Selector {
  flags: number;
  /** One bit per command id (allowed_commands). */
  readonly allowed = new Uint32Array(COMMAND_BITS / 32);
  /** First arguments allowed for a command whose bit is not set ("+select|0"), by command id. */
  firstArgs: Map<number, string[]> | null = null;
  patterns: KeyPattern[] = [];
  channels: string[] = [];

  constructor(flags: number) {
    this.flags = flags;
  }

  copy(): Selector {
    const s = new Selector(this.flags);
    s.allowed.set(this.allowed);
    if (this.firstArgs) s.firstArgs = new Map([...this.firstArgs].map(([id, args]) => [id, [...args]]));
    s.patterns = this.patterns.map((p) => ({ pattern: p.pattern, flags: p.flags }));
    s.channels = [...this.channels];
    return s;
  }

  hasBit(id: number): boolean {
    return (this.allowed[id >>> 5]! & (1 << (id & 31))) !== 0;
  }

  /** ACLSetSelectorCommandBit: clearing any bit also ends "all commands". */
  setBit(id: number, value: boolean): void {
    if (value) this.allowed[id >>> 5]! |= 1 << (id & 31);
    else {
      this.allowed[id >>> 5]! &= ~(1 << (id & 31));
      this.flags &= ~SelectorFlag.AllCommands;
    }
  }

  canRunFutureCommands(): boolean {
    return this.hasBit(FUTURE_COMMANDS_BIT);
  }

  /** ACLChangeSelectorPerm: a container's rule applies to all its subcommands too. */
  changePerm(cmd: AclCommand, allow: boolean): void {
    this.setBit(cmd.id, allow);
    this.firstArgs?.delete(cmd.id);
    if (cmd.subcommands) for (const sub of cmd.subcommands) this.setBit(sub.id, allow);
  }

  /**
   * ACLSetSelectorCommandBitsForCategoryLogic: every command of the category, containers with
   * all their subcommands, then each subcommand by its own categories.
   */
  changeCategory(commands: readonly AclCommand[], flag: number, allow: boolean): void {
    for (const cmd of commands) {
      if (cmd.categories & flag) this.changePerm(cmd, allow);
      if (cmd.subcommands) this.changeCategory(cmd.subcommands, flag, allow);
    }
  }

  setAllCommands(allow: boolean): void {
    this.allowed.fill(allow ? 0xffffffff : 0);
    if (allow) this.flags |= SelectorFlag.AllCommands;
    else this.flags &= ~SelectorFlag.AllCommands;
    this.firstArgs = null;
  }

  /** ACLAddAllowedFirstArg: once per argument, compared case-insensitively. */
  addFirstArg(id: number, arg: string): void {
    if (!this.firstArgs) this.firstArgs = new Map();
    let list = this.firstArgs.get(id);
    if (!list) this.firstArgs.set(id, (list = []));
    if (!list.some((a) => asciiEqualsIgnoreCase(a, arg))) list.push(arg);
  }

  /**
   * ACLSetSelector: applies one rule. Returns null, or why the rule is refused (the selector
   * may have been changed partly, as in Redis: callers work on a copy).
   */
  apply(ctx: RuleContext, op: string): RuleError | null {
    const lower = op.length <= 13 ? asciiLowerShort(op) : "";
    if (lower === "allkeys" || lower === "~*") {
      this.flags |= SelectorFlag.AllKeys;
      this.patterns = [];
    } else if (lower === "resetkeys") {
      this.flags &= ~SelectorFlag.AllKeys;
      this.patterns = [];
    } else if (lower === "allchannels" || lower === "&*") {
      this.flags |= SelectorFlag.AllChannels;
      this.channels = [];
    } else if (lower === "resetchannels") {
      this.flags &= ~SelectorFlag.AllChannels;
      this.channels = [];
    } else if (lower === "allcommands" || lower === "+@all") {
      this.setAllCommands(true);
    } else if (lower === "nocommands" || lower === "-@all") {
      this.setAllCommands(false);
    } else if (op[0] === "~" || op[0] === "%") {
      return this.addKeyPattern(op);
    } else if (op[0] === "&") {
      if (this.flags & SelectorFlag.AllChannels) return RuleError.ChannelAfterAll;
      const pattern = op.slice(1);
      if (hasSpaces(pattern)) return RuleError.Syntax;
      if (!this.channels.includes(pattern)) this.channels.push(pattern);
      this.flags &= ~SelectorFlag.AllChannels;
    } else if (op[0] === "+" && op[1] !== "@") {
      return this.allowCommand(ctx, op);
    } else if (op[0] === "-" && op[1] !== "@") {
      const cmd = ctx.catalogue.lookup(op.slice(1));
      if (!cmd) return RuleError.UnknownCommand;
      this.changePerm(cmd, false);
    } else if ((op[0] === "+" || op[0] === "-") && op[1] === "@") {
      const flag = categoryFlag(op.slice(2));
      if (!flag) return RuleError.UnknownCommand;
      this.changeCategory(ctx.catalogue.commands, flag, op[0] === "+");
    } else {
      return RuleError.Syntax;
    }
    return null;
  }

  /**
   * ~pattern, %R~pattern, %W~pattern, %RW~pattern. As patched for CVE-2024-31227 and
   * CVE-2024-51741 (Debian's 7.0.15): '%' needs R and/or W, nothing else before the '~'.
   * "%R" alone is a read pattern "" (Redis accepts it so).
   */
  private addKeyPattern(op: string): RuleError | null {
    if (this.flags & SelectorFlag.AllKeys) return RuleError.KeyAfterAll;
    let flags = 0;
    let offset = 1;
    if (op[0] === "%") {
      let ok = true;
      for (; offset < op.length; offset++) {
        const ch = op[offset]!;
        if ((ch === "R" || ch === "r") && !(flags & KeyPerm.Read)) flags |= KeyPerm.Read;
        else if ((ch === "W" || ch === "w") && !(flags & KeyPerm.Write)) flags |= KeyPerm.Write;
        else if (ch === "~") {
          offset++;
          break;
        } else {
          ok = false;
          break;
        }
      }
      if (!flags || !ok) return RuleError.Syntax;
    } else {
      flags = KeyPerm.All;
    }
    const pattern = op.slice(offset);
    if (hasSpaces(pattern)) return RuleError.Syntax;
    const existing = this.patterns.find((p) => p.pattern === pattern);
    // The same pattern again adds its permissions to the one already there.
    if (existing) existing.flags |= flags;
    else this.patterns.push({ pattern, flags });
    this.flags &= ~SelectorFlag.AllKeys;
    return null;
  }

  /** +command, +container|sub, +command|first-arg. */
  private allowCommand(ctx: RuleContext, op: string): RuleError | null {
    const name = op.slice(1);
    const bar = name.lastIndexOf("|");
    if (bar < 0) {
      const cmd = ctx.catalogue.lookup(name);
      if (!cmd) return RuleError.UnknownCommand;
      this.changePerm(cmd, true);
      return null;
    }
    const cmd = ctx.catalogue.lookup(name.slice(0, bar));
    // The first-arg itself cannot be checked.
    if (!cmd) return RuleError.UnknownCommand;
    if (cmd.parent) return RuleError.FirstArgOfSubcommand;
    const sub = name.slice(bar + 1);
    // C string: a NUL ends the first argument there.
    const firstArg = sub.includes("\0") ? sub.slice(0, sub.indexOf("\0")) : sub;
    if (firstArg.length === 0) return RuleError.Syntax;
    if (cmd.subcommands) {
      const subcmd = ctx.catalogue.lookup(name);
      if (!subcmd) return RuleError.UnknownCommand;
      this.changePerm(subcmd, true);
    } else {
      // Allowing SELECT 0 only, or DEBUG OBJECT (DEBUG has no subcommands in the table).
      ctx.warn(`Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +${name})`);
      this.addFirstArg(cmd.id, firstArg);
    }
    return null;
  }
}

/** Lowercases ASCII letters of a short rule (the keywords are compared case-insensitively). */
function asciiLowerShort(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i];
  }
  return out;
}

/**
 * aclCreateSelectorFromOpSet: "(rule rule ...)" split as sdssplitargs does (quotes allowed) into
 * a new selector. Unbalanced quotes give an empty selector, as Redis's (its split fails and no
 * rule is applied).
 */
export function selectorFromOpSet(ctx: RuleContext, opset: string): Selector | RuleError {
  const s = new Selector(ctx.pubsubDefault);
  const rules = splitArgs(opset.slice(1, -1)) ?? [];
  for (const rule of rules) {
    const err = s.apply(ctx, rule);
    if (err !== null) return err;
  }
  return s;
}
