// The ACL state of one server (acl.c's globals Users, DefaultUser, ACLLog): the users, the
// default user every new connection starts as, authentication, the denial log, and the users'
// life cycle - ACL SETUSER / DELUSER, `user` lines of the config file, the ACL file (ACL LOAD,
// ACL SAVE, aclfile at start-up), requirepass as the default user's password.

import { clientInfoLine } from "../client-info.ts";
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import type { Client } from "../client.ts";
import { ConfigError, type Config } from "../../config/config.ts";
import type { Server } from "../server.ts";
import { isSubscribed } from "../pubsub.ts";
import { shardChannelsOf } from "../pubsub-shard.ts";
import type { AclCatalogue, AclCommand } from "./catalogue.ts";
import { channelAllowedBy, checkCommand, Denied, userHasUnrestrictedKeyAccess, type Denial } from "./check.ts";
import { describeUser } from "./describe.ts";
import { AclLog, LogContext } from "./log.ts";
import { hasSpaces, RuleError, ruleErrorText, SelectorFlag, type RuleContext } from "./selector.ts";
import { createDefaultUser, User, UserFlag } from "./user.ts";

/** A `user` line of the config file, validated and kept for start-up (UsersToLoad). */
interface ConfiguredUser {
  name: string;
  /** Its rules, with "(...)" selectors spread over several words joined. */
  rules: string[];
}

/**
 * ACLMergeSelectorArguments: a selector may be written over several arguments ("(+get", "~x)"):
 * they are joined with spaces. Returns the index of the argument that opens an unclosed
 * selector when there is one.
 */
function mergeSelectorArgs(args: readonly string[]): string[] | { unmatched: number } {
  const merged: string[] = [];
  let open = -1;
  let selector = "";
  for (let j = 0; j < args.length; j++) {
    const op = args[j]!;
    if (op[0] === "(" && op[op.length - 1] !== ")") {
      selector = op;
      open = j;
      continue;
    }
    if (open !== -1) {
      selector += ` ${op}`;
      if (op[op.length - 1] === ")") {
        open = -1;
        merged.push(selector);
      }
      continue;
    }
    merged.push(op);
  }
  return open !== -1 ? { unmatched: open } : merged;
}

/**
 * Validates a config file's `user <name> <rules...>` line (ACLAppendUserForLoading). Unknown
 * commands pass here (Redis reports them when the users load). Returns the user, or the error
 * text for the line; as Redis's, it quotes the line's word at the failing rule's index.
 */
function validateUserLine(ctx: RuleContext, args: readonly string[], loaded: readonly ConfiguredUser[]): ConfiguredUser | string {
  const argv = ["user", ...args];
  const declError = (index: number, e: RuleError) => `Error in user declaration '${argv[index]}': ${ruleErrorText(e)}`;
  if (loaded.some((u) => u.name === args[0])) return declError(1, RuleError.DuplicateUser);
  const merged = mergeSelectorArgs(args.slice(1));
  // The unmatched case reports a stale errno in Redis: start-up's is ENOENT.
  if (!Array.isArray(merged)) return declError(merged.unmatched, RuleError.UnknownCommand);
  const fake = new User("", ctx.pubsubDefault);
  for (let j = 0; j < merged.length; j++) {
    const err = fake.apply(ctx, merged[j]!);
    if (err !== null && err !== RuleError.UnknownCommand) return declError(j, err);
  }
  return { name: args[0]!, rules: merged };
}

/**
 * The config file's users, validated in order (Redis does it while reading the file): a bad
 * line stops the start with Redis's error for it.
 */
export function configuredUsers(ctx: RuleContext, config: Config): ConfiguredUser[] {
  const users: ConfiguredUser[] = [];
  for (const { args, line } of config.userLines) {
    const u = validateUserLine(ctx, args, users);
    if (typeof u === "string") throw new ConfigError(u, line?.number, line?.text);
    users.push(u);
  }
  return users;
}

export class Acl {
  /** By name; listed in byte order (Redis keeps them in a radix tree). */
  users = new Map<string, User>();
  /** The user of new connections. Never replaced: ACL LOAD copies into it. */
  readonly defaultUser: User;
  readonly log = new AclLog();
  readonly ctx: RuleContext;

  constructor(private readonly server: Server) {
    const config = server.config;
    const log = server.log;
    this.ctx = {
      catalogue: server.commands.acl,
      get pubsubDefault() {
        return config.str("acl-pubsub-default") === "allchannels" ? SelectorFlag.AllChannels : 0;
      },
      warn: (m) => log.warning(m),
    };
    this.defaultUser = createDefaultUser(this.ctx);
    this.users.set("default", this.defaultUser);
    this.updateDefaultUserPassword(config.str("requirepass"));
    config.onChange((name) => {
      if (name === "requirepass") this.updateDefaultUserPassword(config.str("requirepass"));
    });
  }

  get catalogue(): AclCatalogue {
    return this.ctx.catalogue;
  }

  /** Users in Redis's order (the radix tree's: byte order of the names). */
  sortedUsers(): User[] {
    return [...this.users.keys()].sort().map((n) => this.users.get(n)!);
  }

  describe(u: User): string {
    return describeUser(this.catalogue, u);
  }

  /** ACLUpdateDefaultUserPassword: requirepass is the default user's one password ("" = nopass). */
  updateDefaultUserPassword(password: string): void {
    const u = this.defaultUser;
    u.apply(this.ctx, "resetpass");
    u.apply(this.ctx, password ? `>${password}` : "nopass");
    u.changed();
  }

  /** authRequired: unless the default user is on and needs no password, a client must AUTH. */
  authRequired(c: Client): boolean {
    if (c.authenticated) return false;
    const d = this.defaultUser.flags;
    return (d & UserFlag.NoPass) === 0 || (d & UserFlag.Disabled) !== 0;
  }

  /** Whether a new connection starts authenticated (as the default user). */
  defaultAuthenticated(): boolean {
    const d = this.defaultUser.flags;
    return (d & UserFlag.NoPass) !== 0 && (d & UserFlag.Disabled) === 0;
  }

  /**
   * ACLAuthenticateUser: on success the client becomes the user; a failure is logged (reason
   * auth, object the command's name as sent).
   */
  authenticate(c: Client, username: string, password: string, commandName: string): boolean {
    const u = this.users.get(username);
    if (u !== undefined && u.checkPassword(password)) {
      c.authenticated = true;
      c.user = u;
      return true;
    }
    this.logDenial(c, Denied.Auth, this.context(c), commandName, username);
    return false;
  }

  /** The ACL log context of a command of this client: multi inside MULTI (and during EXEC). */
  context(c: Client): LogContext {
    return c.multi !== null || c.inExec !== null ? LogContext.Multi : LogContext.Toplevel;
  }

  /** Checks a command for the client's user (none for our master: it may do anything). */
  check(c: Client, cmd: AclCommand, argv: string[]): Denial | null {
    const user = c.user;
    if (user === null || user.fullAccess) return null;
    return checkCommand(user, cmd, argv);
  }

  /**
   * addACLLogEntry. `object` is what was refused; `username` defaults to the client's user. A
   * script's denial shows the client that ran the script.
   */
  logDenial(c: Client, reason: Denied, context: LogContext, object: string, username?: string): void {
    const server = this.server;
    const real = c.scriptCaller ?? c;
    this.log.add(
      {
        count: 1,
        reason,
        context,
        object,
        username: username ?? c.user?.name ?? "(superuser)",
        time: Date.now(),
        clientInfo: clientInfoLine(real),
      },
      server.config.num("acllog-max-len"),
    );
  }

  /** Logs a denial found by check(): the object is the command's name, or the argument refused. */
  logCheckDenial(c: Client, d: Denial, context: LogContext, cmd: AclCommand, argv: string[]): void {
    this.logDenial(c, d.reason, context, d.reason === Denied.Command ? cmd.fullName : argv[d.pos]!);
  }

  /** ACLUserCheckCmdWithUnrestrictedKeyAccess for the client (SORT BY / GET patterns). */
  hasUnrestrictedKeyAccess(c: Client, fullName: string, argv: string[], specFlags: number): boolean {
    const user = c.user;
    if (user === null || user.fullAccess) return true;
    const cmd = this.catalogue.get(fullName);
    return cmd !== undefined && userHasUnrestrictedKeyAccess(user, cmd, argv, specFlags);
  }

  /**
   * ACLStringSetUser (ACL SETUSER): all rules staged on a copy, applied only if every one is
   * valid; subscribers of the user lose channels no longer allowed. Returns the error text.
   */
  setUser(name: string, rules: readonly string[]): string | null {
    const merged = mergeSelectorArgs(rules);
    if (!Array.isArray(merged)) return `Unmatched parenthesis in acl selector starting at '${rules[merged.unmatched]}'.`;
    const existing = this.users.get(name);
    const staged = existing ? existing.clone() : new User(name, this.ctx.pubsubDefault);
    for (const op of merged) {
      const err = staged.apply(this.ctx, op);
      if (err !== null) return `Error in ACL SETUSER modifier '${op}': ${ruleErrorText(err)}`;
    }
    staged.changed();
    if (existing) {
      this.killPubsubClientsIfNeeded(staged, existing);
      existing.copyFrom(staged);
    } else {
      const u = new User(name, 0);
      u.copyFrom(staged);
      this.users.set(name, u);
    }
    return null;
  }

  /** ACL DELUSER's deletion: the user's connections are closed (after this reply, for ours). */
  deleteUser(name: string): boolean {
    const u = this.users.get(name);
    if (!u) return false;
    this.users.delete(name);
    this.killClientsOf(new Set([u]));
    return true;
  }

  /** ACLFreeUserAndKillClients: back to the default user, unauthenticated, and closed. */
  private killClientsOf(users: Set<User>): void {
    const server = this.server;
    for (const c of [...server.clients.values()]) {
      if (c.user === null || !users.has(c.user)) continue;
      c.user = this.defaultUser;
      c.authenticated = false;
      // The client running this command still gets its reply.
      if (c === server.currentClient) c.closeAfterReply = true;
      else c.conn?.close();
    }
  }

  /**
   * ACLKillPubsubClientsIfNeeded: when the user's new channel rules are not a superset of the
   * old ones, its subscribers are checked and those holding a subscription no longer allowed
   * are disconnected.
   */
  private killPubsubClientsIfNeeded(next: User, original: User): void {
    if (next.selectors.some((s) => s.flags & SelectorFlag.AllChannels)) return;
    const upcoming: string[] = [];
    for (const s of next.selectors) upcoming.push(...s.channels);
    let superset = true;
    for (const s of original.selectors) {
      if (s.flags & SelectorFlag.AllChannels || s.channels.some((ch) => !upcoming.includes(ch))) {
        superset = false;
        break;
      }
    }
    if (superset) return;
    const server = this.server;
    for (const c of [...server.clients.values()]) {
      if (c.user !== original || !isSubscribed(c)) continue;
      let kill = false;
      for (const p of c.patterns ?? []) if (!channelAllowedBy(upcoming, p, true)) kill = true;
      if (!kill) for (const ch of c.channels ?? []) if (!channelAllowedBy(upcoming, ch, false)) kill = true;
      if (!kill) for (const ch of shardChannelsOf(c)) if (!channelAllowedBy(upcoming, ch, false)) kill = true;
      if (!kill) continue;
      if (c === server.currentClient) c.closeAfterReply = true;
      else c.conn?.close();
    }
  }

  // ---- Start-up: config file users and the ACL file ----

  /**
   * ACLLoadUsersAtStartup: config file users, or the ACL file (not both). Returns the warning
   * that stops the start, or null.
   */
  loadAtStartup(configured: readonly ConfiguredUser[]): string | null {
    const aclfile = this.server.config.str("aclfile");
    const log = this.server.log;
    if (aclfile !== "" && configured.length !== 0) {
      return "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.";
    }
    for (const def of configured) {
      if (hasSpaces(def.name)) {
        log.warning("Spaces not allowed in ACL usernames");
        return "Critical error while loading ACLs. Exiting.";
      }
      let u = this.users.get(def.name);
      if (!u) {
        u = new User(def.name, this.ctx.pubsubDefault);
        this.users.set(def.name, u);
      } else {
        // Only the default user exists before: a `user default` line starts it from scratch.
        u.apply(this.ctx, "reset");
      }
      for (const rule of def.rules) {
        const err = u.apply(this.ctx, rule);
        if (err !== null) {
          u.changed();
          log.warning(`Error loading ACL rule '${rule}' for the user named '${def.name}': ${ruleErrorText(err)}`);
          return "Critical error while loading ACLs. Exiting.";
        }
      }
      u.changed();
      if (u.flags & UserFlag.Disabled) {
        log.notice(`The user '${def.name}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.`);
      }
    }
    if (aclfile !== "") {
      const errors = this.loadFile();
      if (errors !== null) return `Aborting Redis startup because of ACL errors: ${errors}`;
    }
    return null;
  }

  /**
   * ACLLoadFromFile (ACL LOAD, aclfile at start): every line `user <name> <rules...>` (words split
   * on single spaces, no quoting); all or nothing. On success the default user takes the file's
   * rules (or the initial ones if the file has none) and every other user is replaced: their
   * connections are closed, as Redis frees the old users. Returns the errors, or null.
   */
  loadFile(): string | null {
    const filename = this.server.config.str("aclfile");
    let text: string;
    try {
      text = readFileSync(filename, "latin1");
    } catch (e) {
      return `Error loading ACLs, opening file '${filename}': ${errnoText(e)}`;
    }
    const users = new Map<string, User>();
    let errors = "";
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const linenum = i + 1;
      const line = trimChars(lines[i]!, " \t\r\n");
      if (line === "") continue;
      const argv = line.split(" ");
      if (argv[0] !== "user" || argv.length < 2) {
        errors += `${filename}:${linenum} should start with user keyword followed by the username. `;
        continue;
      }
      const name = argv[1]!;
      if (hasSpaces(name)) {
        errors += `'${filename}:${linenum}: username '${name}' contains invalid characters. `;
        continue;
      }
      if (users.has(name)) {
        errors += `WARNING: Duplicate user '${name}' found on line ${linenum}. `;
        continue;
      }
      const u = new User(name, this.ctx.pubsubDefault);
      users.set(name, u);
      const merged = mergeSelectorArgs(argv.slice(2));
      if (!Array.isArray(merged)) {
        errors += `${filename}:${linenum}: Unmatched parenthesis in selector definition.`;
        continue;
      }
      let syntaxError = false;
      for (const raw of merged) {
        const op = trimChars(raw, "\t\r\n");
        const err = u.apply(this.ctx, op);
        if (err === null) continue;
        // Unknown commands are named (no secret in them); of other errors only the first.
        if (err === RuleError.UnknownCommand) errors += `${filename}:${linenum}: Error in applying operation '${op}': ${ruleErrorText(err)}. `;
        else if (!syntaxError) {
          errors += `${filename}:${linenum}: ${ruleErrorText(err)}. `;
          syntaxError = true;
        }
      }
      u.changed();
    }
    if (errors !== "") return `${errors}WARNING: ACL errors detected, no change to the previously active ACL rules was performed`;
    const newDefault = users.get("default") ?? createDefaultUser(this.ctx);
    this.defaultUser.copyFrom(newDefault);
    users.set("default", this.defaultUser);
    const old = new Set(this.users.values());
    old.delete(this.defaultUser);
    this.users = users;
    this.killClientsOf(old);
    return null;
  }

  /** ACLSaveToFile: every user as an ACL file line, written to a temporary file then renamed. */
  saveFile(): boolean {
    const filename = this.server.config.str("aclfile");
    const log = this.server.log;
    let text = "";
    for (const u of this.sortedUsers()) text += `user ${u.name} ${this.describe(u)}\n`;
    const tmp = `${filename}.tmp-${process.pid}-${Date.now()}`;
    let fd = -1;
    let step = "Opening temp ACL file for ACL SAVE";
    try {
      fd = openSync(tmp, "w", 0o644);
      step = "Writing ACL file for ACL SAVE";
      const bytes = Buffer.from(text, "latin1");
      if (writeSync(fd, bytes) !== bytes.length) throw new Error("short write");
      closeSync(fd);
      fd = -1;
      step = "Renaming ACL file for ACL SAVE";
      renameSync(tmp, filename);
      return true;
    } catch (e) {
      log.warning(`${step}: ${errnoText(e)}`);
      if (fd !== -1) closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {}
      return false;
    }
  }
}

/** sdstrim: the characters of `set` removed from both ends. */
function trimChars(s: string, set: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && set.includes(s[a]!)) a++;
  while (b > a && set.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** strerror's text for a Node file-system error ("No such file or directory"). */
function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const texts: Record<string, string> = {
    ENOENT: "No such file or directory",
    EACCES: "Permission denied",
    EISDIR: "Is a directory",
    ENOTDIR: "Not a directory",
    EROFS: "Read-only file system",
    ENOSPC: "No space left on device",
  };
  return (err.code && texts[err.code]) ?? err.message;
}
