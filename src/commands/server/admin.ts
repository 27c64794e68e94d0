// Server commands: INFO, CONFIG, COMMAND, DBSIZE, ROLE, TIME, LASTSAVE, SHUTDOWN, SLOWLOG,
// LATENCY (server-latency.ts). MEMORY is memory.ts, DEBUG debug.ts.

import { lookupAclCommand } from "../../core/acl/lookup.ts";
import { replicationOf } from "../../replication/replication.ts";
import { lookupDirective } from "../../config/config.ts";
import { overwriteConfigFile, rewrittenConfig } from "../../config/rewrite.ts";
import { strerror } from "../../dataset/persistence.ts";
import type { ReplyWriter } from "../../protocol/reply-writer.ts";
import { infoString } from "./info.ts";
import type { Client } from "../../core/client.ts";
import type { Server } from "../../core/server.ts";
import { roleState } from "../../replication/link-state.ts";
import { allowProtectedAction } from "../../core/dispatch.ts";
import { isOption } from "../../core/args.ts";
import { SYNTAX, fail } from "../../core/errors.ts";
import { globMatch } from "../../common/glob.ts";
import { CommandFlag, type CommandMeta, type CommandSpec, type HandlerMap } from "../../core/command-spec.ts";
import { keyFlagNames, keysWithSpecs } from "../../core/command-keys.ts";
import { replyCommandDocs } from "./command-docs.ts";
import { handlers as persistenceHandlers } from "./persistence.ts";
import { handlers as latencyHandlers } from "./latency.ts";

/** Key specs as COMMAND INFO sends them: maps, flag lists as status strings. */
function replyKeySpecValue(r: ReplyWriter, key: string, v: unknown): void {
  if (Array.isArray(v)) {
    r.array(v.length);
    for (const x of v) {
      if (key === "flags" && typeof x === "string") r.simple(x);
      else replyKeySpecValue(r, "", x);
    }
  } else if (typeof v === "number") r.int(v);
  else if (typeof v === "string") r.bulk(v);
  else if (v && typeof v === "object") {
    const entries = Object.entries(v);
    r.map(entries.length);
    for (const [k, x] of entries) {
      r.bulk(k);
      replyKeySpecValue(r, k, x);
    }
  } else r.nullBulk();
}

function replyCommandInfo(r: ReplyWriter, meta: CommandMeta, implemented: CommandSpec | undefined): void {
  r.array(10);
  r.bulk(meta.name);
  r.int(meta.arity);
  r.set(meta.flags.length);
  for (const f of meta.flags) r.simple(f);
  r.int(meta.first);
  r.int(meta.last);
  r.int(meta.step);
  r.set(meta.categories.length);
  for (const cat of meta.categories) r.simple(cat);
  const tips = meta.tips ?? [];
  r.set(tips.length);
  for (const t of tips) r.simple(t);
  const specs = meta.keySpecs ?? [];
  r.array(specs.length);
  for (const s of specs) replyKeySpecValue(r, "", s);
  const subs = implemented?.subcommands ? [...implemented.subcommands.values()] : [];
  r.array(subs.length);
  for (const s of subs) replyCommandInfo(r, s.meta, s);
}

/**
 * COMMAND GETKEYS / GETKEYSANDFLAGS (getKeysSubcommandImpl): the keys the command's key specs
 * (or its getkeys procedure) find, as ACLs see them.
 */
function getKeys(c: Client, argv: string[], withFlags: boolean): void {
  const sub = argv.slice(2);
  const cmd = lookupAclCommand(c, sub);
  if (!cmd) fail("ERR Invalid command specified");
  if (!cmd.keys.hasKeys) fail("ERR The command has no key arguments");
  if ((cmd.arity > 0 && cmd.arity !== sub.length) || sub.length < -cmd.arity) fail("ERR Invalid number of arguments specified for command");
  const keys = keysWithSpecs(cmd.keys, sub);
  if (keys.length === 0) {
    if (cmd.flags & CommandFlag.NoMandatoryKeys) c.reply.array(0);
    else fail("ERR Invalid arguments specified for command");
    return;
  }
  const r = c.reply;
  r.array(keys.length);
  for (const k of keys) {
    if (!withFlags) {
      r.bulk(sub[k.pos]!);
      continue;
    }
    r.array(2);
    r.bulk(sub[k.pos]!);
    const names = keyFlagNames(k.flags);
    r.set(names.length);
    for (const n of names) r.simple(n);
  }
}

function roleReply(c: Client): void {
  const repl = replicationOf(c.server);
  const r = c.reply;
  if (repl.masterHost === null) {
    const replicas = repl.replicaRoleEntries();
    r.array(3);
    r.bulk("master");
    r.int(repl.masterReplOffset);
    r.array(replicas.length);
    for (const [ip, port, offset] of replicas) {
      r.array(3);
      r.bulk(ip);
      r.bulk(String(port));
      r.bulk(String(offset));
    }
    return;
  }
  const link = repl.link;
  r.array(5);
  r.bulk("slave");
  r.bulk(repl.masterHost);
  r.int(repl.masterPort);
  r.bulk(roleState(link.state));
  r.int(link.masterClient ? repl.masterReplOffset : -1);
}

/**
 * Rewrites the config file (rewriteConfig): the running values over the file's lines, the
 * users as ACL LIST shows them unless an aclfile holds them. `forceAll`: every directive,
 * defaults included. Throws on failure.
 */
export function rewriteConfigFile(server: Server, forceAll = false): void {
  const path = server.config.configFile!;
  const repl = replicationOf(server);
  const acl = server.acl;
  const users = server.config.str("aclfile") ? null : acl.sortedUsers().map((u) => `user ${u.name} ${acl.describe(u)}`);
  const content = rewrittenConfig(path, server.config, { master: repl.masterHost === null ? null : { host: repl.masterHost, port: repl.masterPort }, cwd: process.cwd(), users, forceAll });
  overwriteConfigFile(path, content);
}

function configSet(c: Client, argv: string[]): void {
  if (argv.length % 2 !== 0 || argv.length < 4) fail("ERR wrong number of arguments for 'config|set' command");
  const config = c.server.config;
  const pairs: Array<[string, string]> = [];
  const seen = new Set<string>();
  // Passwords stay out of the slow log and MONITOR even when the command fails (Redis redacts
  // every sensitive value before it checks anything).
  for (let i = 2; i < argv.length; i += 2) if (lookupDirective(argv[i]!)?.sensitive) c.redact(i + 1);
  for (let i = 2; i < argv.length; i += 2) {
    const d = lookupDirective(argv[i]!);
    if (!d) fail(`ERR Unknown option or number of arguments for CONFIG SET - '${argv[i]}'`);
    if (!d.mutable) fail(`ERR CONFIG SET failed (possibly related to argument '${argv[i]}') - can't set immutable config`);
    if (d.protectedConfig && !allowProtectedAction(c, "enable-protected-configs")) {
      fail(`ERR CONFIG SET failed (possibly related to argument '${argv[i]}') - can't set protected config`);
    }
    if (seen.has(d.name)) fail(`ERR CONFIG SET failed (possibly related to argument '${argv[i]}') - duplicate parameter`);
    seen.add(d.name);
    pairs.push([d.name, argv[i + 1]!]);
  }
  // All or nothing, as Redis 7: remember the old values and restore them on any failure.
  const old = pairs.map(([name]) => [name, config.format(lookupDirective(name)!)] as const);
  const restore = () => {
    for (const [n, v] of old) {
      const od = lookupDirective(n)!;
      // (As if from the file, so that immutable ones go back too; dir moves back as well.)
      config.apply(n, od.kind === "special" || od.multi ? v.split(" ") : [v], n !== "dir");
    }
  };
  for (const [name, value] of pairs) {
    const d = lookupDirective(name)!;
    const args = d.kind === "special" || d.multi ? value.split(" ").filter((x, _i, all) => x !== "" || all.length === 1) : [value];
    const err = config.apply(name, args.length ? args : [""], false);
    if (err) {
      restore();
      fail(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${err}`);
    }
  }
  // Then what the new values need done (a port to listen on, a TLS context), only for values
  // that changed; a failure puts the old values back and applies them again.
  const changed = old.filter(([name, was]) => config.format(lookupDirective(name)!) !== was).map(([name]) => name);
  const failed = config.runAppliers(changed);
  if (failed) {
    const log = c.server.log;
    log.warning(`Failed applying new configuration. Possibly related to new ${failed.name} setting. Restoring previous settings.`);
    restore();
    const again = config.runAppliers(changed);
    if (again) log.warning(`Failed applying restored configuration. Possibly related to ${again.name} setting: ${again.error}`);
    fail(`ERR CONFIG SET failed (possibly related to argument '${failed.name}') - ${failed.error}`);
  }
  c.reply.ok();
}

export const handlers: HandlerMap = {
  info(c, argv) {
    c.reply.verbatim(infoString(c.server, argv.slice(1)));
  },

  dbsize(c) {
    c.reply.int(c.db.size);
  },

  role(c) {
    roleReply(c);
  },

  time(c) {
    const us = BigInt(Date.now()) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
    c.reply.array(2);
    c.reply.bulk(String(us / 1000000n));
    c.reply.bulk(String(us % 1000000n));
  },

  // SAVE, BGSAVE, LASTSAVE, SHUTDOWN: server-persistence.ts.
  ...persistenceHandlers,

  "config|get"(c, argv) {
    const pairs = c.server.config.getMatching(argv.slice(2), (p, t) => globMatch(p, t, true));
    c.reply.map(pairs.length);
    for (const [k, v] of pairs) {
      c.reply.bulk(k);
      c.reply.bulk(v);
    }
  },

  "config|set"(c, argv) {
    configSet(c, argv);
  },

  "config|resetstat"(c) {
    const s = c.server.stats;
    s.totalCommandsProcessed = 0;
    s.totalConnectionsReceived = 0;
    s.keyspaceHits = 0;
    s.keyspaceMisses = 0;
    s.expiredKeys = 0;
    s.evictedKeys = 0;
    s.evictedClients = 0;
    s.totalErrorReplies = 0;
    s.unexpectedErrorReplies = 0;
    s.netInputBytes = 0;
    s.netOutputBytes = 0;
    s.netReplInputBytes = 0;
    s.netReplOutputBytes = 0;
    s.rejectedConnections = 0;
    s.syncFull = 0;
    s.syncPartialOk = 0;
    s.syncPartialErr = 0;
    // A new map, not cleared: dispatch's per-spec cache of an entry is tied to the map (core/dispatch.ts).
    s.commands = new Map();
    s.errors.clear();
    c.reply.ok();
  },

  "config|rewrite"(c) {
    const server = c.server;
    if (!server.config.configFile) fail("ERR The server is running without a config file");
    try {
      rewriteConfigFile(server);
    } catch (e) {
      const why = strerror(e);
      server.log.warning(`CONFIG REWRITE failed: ${why}`);
      fail(`ERR Rewriting config file: ${why}`);
    }
    server.log.warning("CONFIG REWRITE executed with success.");
    c.reply.ok();
  },

  "config|help"(c) {
    c.reply.bulkArray([
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "REWRITE",
      "    Rewrite the configuration file.",
      "HELP",
      "    Print this help.",
    ]);
  },

  command(c, argv) {
    if (argv.length > 1) fail(`ERR unknown subcommand '${argv[1]}'. Try COMMAND HELP.`);
    const all = c.server.commands.all;
    c.reply.array(all.length);
    for (const spec of all) replyCommandInfo(c.reply, spec.meta, spec);
  },

  "command|count"(c) {
    c.reply.int(c.server.commands.all.length);
  },

  "command|list"(c, argv) {
    // Every command and, after each container, its subcommands (commandListWithoutFilter).
    let specs: CommandSpec[] = [];
    for (const s of c.server.commands.all) {
      specs.push(s);
      if (s.subcommands) specs.push(...s.subcommands.values());
    }
    if (argv.length === 5 && isOption(argv[2]!, "filterby")) {
      const kind = argv[3]!.toLowerCase();
      const arg = argv[4]!;
      if (kind === "pattern") specs = specs.filter((s) => globMatch(arg, s.name, true));
      else if (kind === "aclcat") specs = specs.filter((s) => s.meta.categories.includes(`@${arg.toLowerCase()}`));
      // No modules are loaded: no command belongs to one.
      else if (kind === "module") specs = [];
      else fail(SYNTAX);
    } else if (argv.length !== 2) fail(SYNTAX);
    c.reply.bulkArray(specs.map((s) => s.name));
  },

  "command|info"(c, argv) {
    const names = argv.length > 2 ? argv.slice(2) : c.server.commands.all.map((s) => s.name);
    c.reply.array(names.length);
    for (const n of names) {
      const spec = c.server.commands.getByFullName(n);
      if (spec) replyCommandInfo(c.reply, spec.meta, spec);
      else c.reply.nullBulk();
    }
  },

  "command|docs"(c, argv) {
    const table = c.server.commands;
    replyCommandDocs(c.reply, argv.length === 2 ? table.all : argv.slice(2).map((n) => table.getByFullName(n)));
  },

  "command|getkeys"(c, argv) {
    getKeys(c, argv, false);
  },

  "command|getkeysandflags"(c, argv) {
    getKeys(c, argv, true);
  },

  "command|help"(c) {
    c.reply.bulkArray(["COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "(no subcommand)", "    Return details about all Redis commands.", "COUNT", "INFO [<command-name> ...]", "LIST", "DOCS", "GETKEYS <full-command>", "GETKEYSANDFLAGS <full-command>", "HELP"]);
  },

  // SLOWLOG, LATENCY: server-latency.ts.
  ...latencyHandlers,
};

