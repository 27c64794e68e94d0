// ACL: users and their permissions (acl.c aclCommand). The rules, checks and files are in
// core/acl/; this module parses the subcommands' arguments and writes Redis's replies.

import { lookupAclCommand } from "../../core/acl/lookup.ts";
import { randomBytes } from "node:crypto";
import type { Client } from "../../core/client.ts";
import { i64Arg } from "../../core/args.ts";
import { fail } from "../../core/errors.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { CATEGORY_NAMES, categoryFlag } from "../../core/acl/catalogue.ts";
import { checkCommand, Denied } from "../../core/acl/check.ts";
import { channelsField, describeCommandRules, keysField } from "../../core/acl/describe.ts";
import { contextText, reasonText } from "../../core/acl/log.ts";
import { hasSpaces, type Selector } from "../../core/acl/selector.ts";
import { USER_FLAG_NAMES } from "../../core/acl/user.ts";

const NO_ACLFILE =
  "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/** addReplySubcommandSyntaxError: the subcommand exists but not with this many arguments. */
function subcommandSyntaxError(argv: string[]): never {
  fail(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${asciiUpper(argv[0]!)} HELP.`);
}

function asciiUpper(s: string): string {
  return s.replace(/[a-z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 32));
}

/** aclAddReplySelectorDescription: commands, keys, channels (3 map fields). */
function replySelector(c: Client, s: Selector): void {
  const r = c.reply;
  r.bulk("commands");
  r.bulk(describeCommandRules(c.server.acl.catalogue, s));
  r.bulk("keys");
  r.bulk(keysField(s));
  r.bulk("channels");
  r.bulk(channelsField(s));
}

export const handlers: HandlerMap = {
  "acl|setuser"(c, argv) {
    // Nothing of a user's definition shows in the slow log or MONITOR (Redis redacts it all).
    for (let i = 2; i < argv.length; i++) c.redact(i);
    const name = argv[2]!;
    if (hasSpaces(name)) fail("ERR Usernames can't contain spaces or null characters");
    const error = c.server.acl.setUser(name, argv.slice(3));
    if (error !== null) fail(`ERR ${error}`);
    c.reply.ok();
  },

  "acl|deluser"(c, argv) {
    const acl = c.server.acl;
    for (let j = 2; j < argv.length; j++) if (argv[j] === "default") fail("ERR The 'default' user cannot be removed");
    let deleted = 0;
    for (let j = 2; j < argv.length; j++) if (acl.deleteUser(argv[j]!)) deleted++;
    c.reply.int(deleted);
  },

  "acl|getuser"(c, argv) {
    const u = c.server.acl.users.get(argv[2]!);
    const r = c.reply;
    if (!u) {
      r.nullBulk();
      return;
    }
    r.map(6);
    r.bulk("flags");
    const flags = USER_FLAG_NAMES.filter(([, bit]) => u.flags & bit);
    r.set(flags.length);
    for (const [name] of flags) r.bulk(name);
    r.bulk("passwords");
    r.bulkArray(u.passwords);
    // The root selector at the top level, as before selectors existed.
    replySelector(c, u.root);
    r.bulk("selectors");
    r.array(u.selectors.length - 1);
    for (const s of u.selectors.slice(1)) {
      r.map(3);
      replySelector(c, s);
    }
  },

  "acl|list"(c) {
    const acl = c.server.acl;
    const users = acl.sortedUsers();
    c.reply.array(users.length);
    for (const u of users) c.reply.bulk(`user ${u.name} ${acl.describe(u)}`);
  },

  "acl|users"(c) {
    c.reply.bulkArray(c.server.acl.sortedUsers().map((u) => u.name));
  },

  "acl|whoami"(c) {
    if (c.user) c.reply.bulk(c.user.name);
    else c.reply.nullBulk();
  },

  "acl|load"(c) {
    if (c.server.config.str("aclfile") === "") fail(NO_ACLFILE);
    const errors = c.server.acl.loadFile();
    if (errors !== null) fail(`ERR ${errors}`);
    c.reply.ok();
  },

  "acl|save"(c) {
    if (c.server.config.str("aclfile") === "") fail(NO_ACLFILE);
    if (!c.server.acl.saveFile()) fail("ERR There was an error trying to save the ACLs. Please check the server logs for more information");
    c.reply.ok();
  },

  "acl|cat"(c, argv) {
    if (argv.length === 2) {
      c.reply.bulkArray(CATEGORY_NAMES);
      return;
    }
    if (argv.length !== 3) subcommandSyntaxError(argv);
    const flag = categoryFlag(argv[2]!);
    if (!flag) fail(`ERR Unknown category '${argv[2]!.slice(0, 128)}'`);
    const names: string[] = [];
    for (const cmd of c.server.acl.catalogue.all()) if (cmd.categories & flag) names.push(cmd.fullName);
    c.reply.bulkArray(names);
  },

  "acl|genpass"(c, argv) {
    if (argv.length > 3) subcommandSyntaxError(argv);
    let bits = 256;
    if (argv.length === 3) {
      const v = i64Arg(argv[2]!);
      bits = typeof v === "bigint" ? (v < 0n ? -1 : Infinity) : v;
    }
    if (bits <= 0 || bits > 4096) fail("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096");
    const chars = Math.floor((bits + 3) / 4);
    c.reply.bulk(randomBytes(Math.ceil(chars / 2)).toString("hex").slice(0, chars));
  },

  "acl|log"(c, argv) {
    if (argv.length > 3) subcommandSyntaxError(argv);
    const log = c.server.acl.log;
    let count = 10;
    if (argv.length === 3) {
      if (argv[2]!.toLowerCase() === "reset") {
        log.reset();
        c.reply.ok();
        return;
      }
      const v = i64Arg(argv[2]!);
      count = typeof v === "bigint" ? (v < 0n ? 0 : Infinity) : Math.max(0, v);
    }
    const entries = log.entries.slice(0, Math.min(count, log.entries.length));
    const r = c.reply;
    const now = Date.now();
    r.array(entries.length);
    for (const e of entries) {
      r.map(7);
      r.bulk("count");
      r.int(e.count);
      r.bulk("reason");
      r.bulk(reasonText(e.reason));
      r.bulk("context");
      r.bulk(contextText(e.context));
      r.bulk("object");
      r.bulk(e.object);
      r.bulk("username");
      r.bulk(e.username);
      r.bulk("age-seconds");
      r.double((now - e.time) / 1000);
      r.bulk("client-info");
      r.bulk(e.clientInfo);
    }
  },

  "acl|dryrun"(c, argv) {
    const acl = c.server.acl;
    const u = acl.users.get(argv[2]!);
    if (!u) fail(`ERR User '${argv[2]}' not found`);
    const cmdArgv = argv.slice(3);
    const cmd = lookupAclCommand(c, cmdArgv);
    if (!cmd) fail(`ERR Command '${argv[3]}' not found`);
    if ((cmd.arity > 0 && cmd.arity !== cmdArgv.length) || cmdArgv.length < -cmd.arity) fail(`ERR wrong number of arguments for '${cmd.fullName}' command`);
    const denied = checkCommand(u, cmd, cmdArgv);
    if (denied === null) {
      c.reply.ok();
      return;
    }
    if (denied.reason === Denied.Command) c.reply.bulk(`This user has no permissions to run the '${cmd.fullName}' command`);
    else if (denied.reason === Denied.Key) c.reply.bulk(`This user has no permissions to access the '${cmdArgv[denied.pos]}' key`);
    else c.reply.bulk(`This user has no permissions to access the '${cmdArgv[denied.pos]}' channel`);
  },

  "acl|help"(c, argv) {
    const lines = [
      `${asciiUpper(argv[0]!)} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
      "CAT [<category>]",
      "    List all commands that belong to <category>, or all command categories",
      "    when no category is specified.",
      "DELUSER <username> [<username> ...]",
      "    Delete a list of users.",
      "DRYRUN <username> <command> [<arg> ...]",
      "    Returns whether the user can execute the given command without executing the command.",
      "GETUSER <username>",
      "    Get the user's details.",
      "GENPASS [<bits>]",
      "    Generate a secure 256-bit user password. The optional `bits` argument can",
      "    be used to specify a different size.",
      "LIST",
      "    Show users details in config file format.",
      "LOAD",
      "    Reload users from the ACL file.",
      "LOG [<count> | RESET]",
      "    Show the ACL log entries.",
      "SAVE",
      "    Save the current config to the ACL file.",
      "SETUSER <username> <attribute> [<attribute> ...]",
      "    Create or modify a user with the specified attributes.",
      "USERS",
      "    List all the registered usernames.",
      "WHOAMI",
      "    Return the current connection username.",
      "HELP",
      "    Prints this help.",
    ];
    c.reply.array(lines.length);
    for (const l of lines) c.reply.simple(l);
  },
};
