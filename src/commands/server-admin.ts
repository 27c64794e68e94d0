// Server commands: INFO, CONFIG, COMMAND, DBSIZE, ROLE, TIME, LASTSAVE, SHUTDOWN, SLOWLOG,
// LATENCY, MEMORY, DEBUG (the parts tools use), MONITOR is not supported.

import { lookupDirective } from "../config/config.ts";
import type { ReplyWriter } from "../protocol/reply-writer.ts";
import { infoString } from "../server/info.ts";
import type { Client } from "../server/client.ts";
import { resolveCommand } from "../server/dispatch.ts";
import { roleState } from "../replication/replica-link.ts";
import { intArg, isOption } from "./args.ts";
import { SYNTAX, fail } from "./errors.ts";
import { globMatch } from "./glob.ts";
import { lookupRead } from "./keyspace.ts";
import type { CommandMeta, CommandSpec, HandlerMap } from "./types.ts";
import { typeOf } from "../store/values.ts";
import { handlers as persistenceHandlers } from "./server-persistence.ts";

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

/** Key positions of a command from its declared first/last/step (COMMAND GETKEYS). */
function keysOf(spec: CommandSpec, argv: string[]): string[] {
  const m = spec.meta;
  if (m.first <= 0) return [];
  const last = m.last < 0 ? argv.length + m.last : m.last;
  const keys: string[] = [];
  for (let i = m.first; i <= last && i < argv.length; i += m.step || 1) keys.push(argv[i]!);
  return keys;
}

function roleReply(c: Client): void {
  const repl = c.server.replication;
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
  r.int(link.master ? repl.masterReplOffset : -1);
}

function configSet(c: Client, argv: string[]): void {
  if (argv.length % 2 !== 0 || argv.length < 4) fail("ERR wrong number of arguments for 'config|set' command");
  const config = c.server.config;
  const pairs: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (let i = 2; i < argv.length; i += 2) {
    const d = lookupDirective(argv[i]!);
    if (!d || d.hidden) fail(`ERR Unknown option or number of arguments for CONFIG SET - '${argv[i]}'`);
    if (!d.mutable) fail(`ERR CONFIG SET failed (possibly related to argument '${argv[i]}') - can't set immutable config`);
    if (seen.has(d.name)) fail(`ERR CONFIG SET failed (possibly related to argument '${argv[i]}') - duplicate parameter`);
    seen.add(d.name);
    pairs.push([d.name, argv[i + 1]!]);
  }
  // All or nothing, as Redis 7: remember the old values and restore them on any failure.
  const old = pairs.map(([name]) => [name, config.format(lookupDirective(name)!)] as const);
  for (const [name, value] of pairs) {
    const d = lookupDirective(name)!;
    const args = d.kind === "special" || d.multi ? value.split(" ").filter((x, i, all) => x !== "" || all.length === 1) : [value];
    const err = config.apply(name, args.length ? args : [""], false);
    if (err) {
      for (const [n, v] of old) {
        const od = lookupDirective(n)!;
        config.apply(n, od.kind === "special" || od.multi ? v.split(" ") : [v], true);
      }
      fail(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${err}`);
    }
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
    s.commands.clear();
    s.errors.clear();
    c.reply.ok();
  },

  "config|rewrite"(c) {
    if (!c.server.config.configFile) fail("ERR The server is running without a config file");
    fail("ERR Rewriting config file: not supported by Replicant");
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
    let names = c.server.commands.all.map((s) => s.name);
    if (argv.length === 5 && isOption(argv[2]!, "filterby")) {
      const kind = argv[3]!.toLowerCase();
      const arg = argv[4]!;
      if (kind === "pattern") names = names.filter((n) => globMatch(arg, n, true));
      else if (kind === "aclcat") names = c.server.commands.all.filter((s) => s.meta.categories.includes(`@${arg.toLowerCase()}`)).map((s) => s.name);
      else if (kind === "module") names = [];
      else fail(SYNTAX);
    } else if (argv.length !== 2) fail(SYNTAX);
    c.reply.bulkArray(names);
  },

  "command|info"(c, argv) {
    const names = argv.length > 2 ? argv.slice(2) : c.server.commands.all.map((s) => s.name);
    c.reply.array(names.length);
    for (const n of names) {
      const spec = c.server.commands.get(n);
      if (spec) replyCommandInfo(c.reply, spec.meta, spec);
      else c.reply.nullBulk();
    }
  },

  "command|docs"(c, argv) {
    // Documentation is not bundled: an empty map is what Redis returns for unknown names.
    void argv;
    c.reply.map(0);
  },

  "command|getkeys"(c, argv) {
    const sub = argv.slice(2);
    const spec = resolveCommand(c, sub);
    if (!spec) fail("ERR Invalid command specified");
    if ((spec.arity > 0 && spec.arity !== sub.length) || sub.length < -spec.arity) fail("ERR Invalid number of arguments specified for command");
    const keys = keysOf(spec, sub);
    if (keys.length === 0) fail("ERR The command has no key arguments");
    c.reply.bulkArray(keys);
  },

  "command|help"(c) {
    c.reply.bulkArray(["COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "(no subcommand)", "    Return details about all Redis commands.", "COUNT", "INFO [<command-name> ...]", "LIST", "DOCS", "GETKEYS <full-command>", "HELP"]);
  },

  "slowlog|get"(c) {
    c.reply.array(0);
  },
  "slowlog|len"(c) {
    c.reply.int(0);
  },
  "slowlog|reset"(c) {
    c.reply.ok();
  },

  "latency|latest"(c) {
    c.reply.array(0);
  },
  "latency|reset"(c) {
    c.reply.int(0);
  },

  "memory|usage"(c, argv) {
    const v = lookupRead(c, argv[2]!);
    if (v === undefined) return c.reply.nullBulk();
    // An estimate: key and value bytes plus per-object overhead of the JS heap.
    const t = typeOf(v);
    let size = 56 + argv[2]!.length;
    if (typeof v === "string") size += v.length;
    else if (t === "list" || t === "set" || t === "hash" || t === "zset") size += 64 * ((v as { size?: number; length?: number }).size ?? (v as { length: number }).length ?? 0);
    c.reply.int(size);
  },

  "memory|doctor"(c) {
    c.reply.verbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.");
  },

  "debug"(c, argv) {
    const sub = argv[1]!.toLowerCase();
    if (sub === "sleep") {
      const secs = Number(argv[2] ?? 0);
      Bun.sleepSync(Math.max(0, secs * 1000));
      return c.reply.ok();
    }
    if (sub === "set-active-expire") return c.reply.ok();
    if (sub === "set-disable-deny-scripts" && argv.length === 3) {
      // Scripts may call commands flagged noscript (Redis's test suite uses it; atoi semantics).
      c.server.scriptDisableDenyScript = (Number.parseInt(argv[2]!, 10) || 0) !== 0;
      return c.reply.ok();
    }
    if (sub === "replybuffer") return c.reply.ok();
    if (sub === "jmap" || sub === "gc") {
      Bun.gc(true);
      return c.reply.ok();
    }
    fail(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`);
  },
};

void intArg;
