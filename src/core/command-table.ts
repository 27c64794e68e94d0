// The command table: Redis's declared metadata (redis-command-table.json, dumped from
// redis-server 7.0.15's COMMAND) joined with our handlers, one module per command family
// (the list of families is commands/families.ts: the core does not know the commands).
// A command Redis declares but we have no handler for is treated as unknown.
//
// redis-command-table-newer.json (dumped from redis-server 7.4.1) declares what newer masters
// added that a replica of theirs must serve (hash field expiration, ZRANK WITHSCORE, HSCAN
// NOVALUES, XREAD +): its entries replace or join 7.0's. replicant-command-table.json declares
// the commands of our own (REPLICADELAY) in the same form.

import { type Config, ConfigError } from "../config/config.ts";
import tableJson from "./redis-command-table.json";
import newerJson from "./redis-command-table-newer.json";
import ownJson from "./replicant-command-table.json";
import { CommandFlag, flagsFromNames, type CommandMeta, type CommandSpec, type HandlerMap } from "./command-spec.ts";
import { AclCatalogue } from "./acl/catalogue.ts";

export class CommandTable {
  private readonly byName = new Map<string, CommandSpec>();
  /** Every command Redis declares, by original name, as ACL rules see them. */
  readonly acl = new AclCatalogue();
  /** Implemented top-level commands, for COMMAND / COMMAND COUNT. */
  readonly all: CommandSpec[] = [];

  add(spec: CommandSpec): void {
    this.all.push(spec);
    this.byName.set(spec.name, spec);
    this.byName.set(spec.name.toUpperCase(), spec);
  }

  /** Looks a command name up case-insensitively (exact-case hits avoid lowercasing). */
  get(name: string): CommandSpec | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  /**
   * rename-command: the command answers to `to` only ("" removes it, also from COMMAND's
   * list). Returns Redis's error text, or null.
   */
  rename(from: string, to: string): string | null {
    const spec = this.get(from);
    if (!spec) return "No such command in rename-command";
    for (const [name, s] of this.byName) if (s === spec) this.byName.delete(name);
    if (to === "") {
      this.all.splice(this.all.indexOf(spec), 1);
      return null;
    }
    if (this.get(to)) return "Target command name already exists";
    this.byName.set(to.toLowerCase(), spec);
    this.byName.set(to.toUpperCase(), spec);
    return null;
  }

  /** A command or, for "parent|sub", a subcommand (Redis's lookupCommandBySds). */
  getByFullName(fullname: string): CommandSpec | undefined {
    const bar = fullname.indexOf("|");
    if (bar < 0) return this.get(fullname);
    if (fullname.indexOf("|", bar + 1) >= 0) return undefined;
    return this.get(fullname.slice(0, bar))?.subcommands?.get(fullname.slice(bar + 1).toLowerCase());
  }

  /** Whether Redis declares the name as a container command (for "unknown subcommand" errors). */
  isContainer(name: string): boolean {
    return !!this.get(name)?.subcommands;
  }
}

function specFrom(meta: CommandMeta, handlers: Map<string, HandlerMap[string]>, catalogue: AclCatalogue): CommandSpec | null {
  let subcommands: Map<string, CommandSpec> | null = null;
  if (meta.subcommands) {
    subcommands = new Map();
    for (const sub of meta.subcommands) {
      const s = specFrom(sub, handlers, catalogue);
      if (s) subcommands.set(sub.name.slice(sub.name.indexOf("|") + 1), s);
    }
    if (subcommands.size === 0 && !handlers.has(meta.name)) return null;
  }
  const handler = handlers.get(meta.name) ?? null;
  if (!handler && !subcommands) return null;
  return { name: meta.name, arity: meta.arity, flags: flagsFromNames(meta.flags), meta, handler, subcommands, acl: catalogue.get(meta.name)! };
}

/** Applies the config's rename-command lines; a bad one is a start-up error, as in Redis. */
export function applyRenamedCommands(table: CommandTable, config: Config): void {
  for (const r of config.renamedCommands) {
    const err = table.rename(r.from, r.to);
    if (err) throw new ConfigError(err, r.line?.number, r.line?.text);
  }
}

/** The table of every command Redis declares that one of `families` handles (commands/families.ts). */
export function buildCommandTable(families: readonly HandlerMap[]): CommandTable {
  const handlers = new Map<string, HandlerMap[string]>();
  for (const family of families) {
    for (const [name, h] of Object.entries(family)) {
      if (handlers.has(name)) throw new Error(`command ${name} has two handlers`);
      handlers.set(name, h);
    }
  }
  const table = new CommandTable();
  const known = new Set<string>();
  const metas = new Map<string, CommandMeta>();
  for (const meta of (tableJson as { commands: CommandMeta[] }).commands) metas.set(meta.name, meta);
  const inRedis70 = new Set(metas.keys());
  for (const meta of (newerJson as { commands: CommandMeta[] }).commands) metas.set(meta.name, meta);
  // Replicant's own commands (REPLICADELAY), declared in the same form.
  for (const meta of (ownJson as { commands: CommandMeta[] }).commands) metas.set(meta.name, meta);
  for (const meta of metas.values()) {
    known.add(meta.name);
    for (const s of meta.subcommands ?? []) known.add(s.name);
    table.acl.add(meta, inRedis70.has(meta.name));
    const spec = specFrom(meta, handlers, table.acl);
    if (spec) table.add(spec);
  }
  for (const name of handlers.keys()) {
    if (!known.has(name)) throw new Error(`handler for ${name}, which no command table declares`);
  }
  for (const name of MAY_REPLICATE) {
    const spec = table.get(name);
    if (spec) spec.flags |= CommandFlag.MayReplicate;
  }
  return table;
}

/**
 * Commands Redis flags CMD_MAY_REPLICATE, a flag COMMAND does not report (so not in the JSON):
 * a write pause (CLIENT PAUSE WRITE, FAILOVER) holds them too.
 */
const MAY_REPLICATE = ["eval", "evalsha", "fcall", "publish", "spublish", "pfcount"];
