// One typed configuration built from a redis.conf and redis-server style command-line
// options. Parsing, validation and CONFIG GET formatting follow redis-server 7.0, so that
// existing config files, scripts and tools work unchanged.

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DIRECTIVES, type Directive } from "./directives.ts";
import { splitArgs } from "./split-args.ts";
import { refusal } from "./support.ts";

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly lineNumber?: number,
    readonly lineText?: string,
  ) {
    super(message);
  }
}

interface OutputBufferLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

type OutputBufferClass = "normal" | "replica" | "pubsub";

interface ReplicaOf {
  host: string;
  port: number;
}

const byName = new Map<string, Directive>();
for (const d of DIRECTIVES) {
  byName.set(d.name, d);
  if (d.alias) byName.set(d.alias, d);
}

export function lookupDirective(name: string): Directive | undefined {
  return byName.get(name.toLowerCase());
}

/** Every directive name CONFIG GET can match, aliases included (as Redis reports them). */
function allDirectiveNames(): string[] {
  const names: string[] = [];
  for (const d of DIRECTIVES) {
    if (d.hidden) continue;
    names.push(d.name);
    if (d.alias) names.push(d.alias);
  }
  return names;
}

type Value = boolean | number | string | string[];

/** Parses a memory value as Redis's memtoull does: 1k=1000, 1kb=1024, 1m, 1mb, 1g, 1gb. */
export function parseMemory(text: string): number | null {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? "b").toLowerCase();
  const mul =
    unit === "k" ? 1000 : unit === "kb" ? 1024 : unit === "m" ? 1e6 : unit === "mb" ? 1048576 : unit === "g" ? 1e9 : unit === "gb" ? 1073741824 : 1;
  return Number(m[1]) * mul;
}

function parseInteger(text: string): number | null {
  // Redis's string2ll: optional '-', digits, no leading zeros except "0", no '+', no spaces.
  if (!/^-?(0|[1-9]\d*)$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

type ChangeListener = (name: string) => void;

/**
 * Brings the server in line with directives CONFIG SET just changed (Redis's apply functions:
 * listening on a new port, a new TLS context). Returns an error text to have CONFIG SET fail
 * and restore the previous values.
 */
type ConfigApplier = () => string | null;

/** Config.hot's fields, by directive. */
const HOT: Record<string, keyof Config["hot"]> = {
  maxmemory: "maxmemory",
  "maxmemory-clients": "maxmemoryClients",
  "latency-monitor-threshold": "latencyMonitorThreshold",
  "slowlog-log-slower-than": "slowlogLogSlowerThan",
  "latency-tracking": "latencyTracking",
};

export class Config {
  private readonly values: Record<string, Value> = Object.create(null);
  /**
   * The directives every command reads (core/dispatch.ts, core/latency.ts), as plain fields: `values` has ~250
   * keys, a dictionary whose lookups cost ~5 ns each, five of them per command.
   */
  readonly hot = { maxmemory: 0, maxmemoryClients: 0, latencyMonitorThreshold: 0, slowlogLogSlowerThan: 0, latencyTracking: true };
  private readonly listeners: ChangeListener[] = [];
  private readonly appliers: Array<{ names: ReadonlySet<string>; apply: ConfigApplier }> = [];
  /**
   * List elements at least this long go into plain quicklist nodes when an RDB is written (Redis's
   * packed_threshold, 1 GB; DEBUG QUICKLIST-PACKED-THRESHOLD changes it: not a directive).
   */
  quicklistPackedThreshold = 1 << 30;
  /** The file the configuration was read from, for CONFIG REWRITE and INFO's config_file. */
  configFile = "";
  replicaOf: ReplicaOf | null = null;
  /**
   * rename-command lines, in order: the command table applies them (core/command-table.ts); the
   * line is kept for the start-up error when one names no command.
   */
  renamedCommands: Array<{ from: string; to: string; line?: ConfigLine }> = [];
  /**
   * `user <name> <rules...>` lines, in order: validated against the command table and loaded at
   * start-up by the ACL code (core/acl/acl.ts), as Redis's UsersToLoad.
   */
  userLines: Array<{ args: string[]; line?: ConfigLine }> = [];
  savePoints: Array<{ seconds: number; changes: number }> = [];
  bindAddresses: string[] = ["*", "-::*"];
  outputBufferLimits: Record<OutputBufferClass, OutputBufferLimit> = {
    normal: { hard: 0, soft: 0, softSeconds: 0 },
    replica: { hard: 268435456, soft: 67108864, softSeconds: 60 },
    pubsub: { hard: 33554432, soft: 8388608, softSeconds: 60 },
  };

  constructor() {
    for (const d of DIRECTIVES) {
      const args = (d.kind === "special" || d.multi) && d.default.length ? (splitArgs(d.default) ?? [d.default]) : [d.default];
      const err = this.assign(d, args, true);
      if (err) throw new Error(`bad default for ${d.name}: ${err}`);
    }
    for (const name of Object.keys(HOT)) this.refreshHot(name);
    this.saveSeenInFile = false;
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Registers what to do after CONFIG SET changed any of `names`. */
  onApply(names: string[], apply: ConfigApplier): void {
    this.appliers.push({ names: new Set(names), apply });
  }

  /**
   * Runs, once each, the appliers of the changed directives, in the order the directives were
   * given (as Redis's CONFIG SET). Stops at the first failure: its error and the directive.
   */
  runAppliers(changed: string[]): { name: string; error: string } | null {
    const done = new Set<ConfigApplier>();
    for (const name of changed) {
      for (const a of this.appliers) {
        if (!a.names.has(name) || done.has(a.apply)) continue;
        done.add(a.apply);
        const error = a.apply();
        if (error !== null) return { name, error };
      }
    }
    return null;
  }

  bool(name: string): boolean {
    return this.values[name] as boolean;
  }
  num(name: string): number {
    return this.values[name] as number;
  }
  str(name: string): string {
    return this.values[name] as string;
  }

  /** Sets one directive from its arguments, as in a config file line. Returns an error text. */
  apply(name: string, args: string[], fromFile: boolean): string | null {
    const d = lookupDirective(name);
    if (!d) return "Bad directive or wrong number of arguments";
    if (!fromFile && !d.mutable) return "can't set immutable config";
    const before = this.values[d.name];
    const err = this.assign(d, args, fromFile);
    if (err) return err;
    const refused = refusal(d.name, this);
    if (refused !== null) {
      this.values[d.name] = before!;
      this.refreshHot(d.name);
      return refused;
    }
    this.refreshHot(d.name);
    for (const l of this.listeners) l(d.name);
    return null;
  }

  private refreshHot(name: string): void {
    const field = HOT[name];
    if (field !== undefined) (this.hot as Record<string, Value>)[field] = this.values[name]!;
  }

  private assign(d: Directive, args: string[], fromFile: boolean): string | null {
    const one = args.length === 1 ? args[0]! : null;
    switch (d.kind) {
      case "bool": {
        if (one === null) return "wrong number of arguments";
        const v = one.toLowerCase();
        if (v !== "yes" && v !== "no") return "argument must be 'yes' or 'no'";
        this.values[d.name] = v === "yes";
        return null;
      }
      case "string": {
        if (one === null) return "wrong number of arguments";
        if (d.name === "dbfilename" && one.includes("/")) return "dbfilename can't be a path, just a filename";
        // isValidAOFfilename / isValidAOFdirname: names inside dir, never paths.
        if (d.name === "appendfilename" || d.name === "appenddirname") {
          const what = d.name === "appendfilename" ? "filename" : "dirname";
          if (one === "") return `${d.name} can't be empty`;
          if (one.includes("/")) return `${d.name} can't be a path, just a ${what}`;
        }
        this.values[d.name] = one;
        return null;
      }
      case "enum": {
        const list = d.multi ? args.join(" ").split(" ").filter(Boolean) : one === null ? null : [one];
        if (list === null) return "wrong number of arguments";
        const lowered = list.map((s) => s.toLowerCase());
        if (lowered.some((s) => !d.values!.includes(s))) {
          return `argument(s) must be one of the following: ${d.values!.join(", ")}`;
        }
        this.values[d.name] = d.multi ? lowered.join(" ") : lowered[0]!;
        return null;
      }
      case "int":
      case "memory": {
        if (one === null) return "wrong number of arguments";
        let n: number | null = null;
        if (d.kind === "memory") n = parseMemory(one);
        if (n === null && d.percent && one.endsWith("%")) {
          const p = parseInteger(one.slice(0, -1));
          if (p !== null && p >= 0) n = -p;
        }
        if (n === null && d.octal && /^[0-7]+$/.test(one)) n = parseInt(one, 8);
        if (n === null && d.kind === "int" && !d.octal) n = parseInteger(one);
        if (n === null) {
          return d.kind === "memory"
            ? d.percent
              ? "argument must be a memory or percent value"
              : "argument must be a memory value"
            : d.octal
              ? "argument couldn't be parsed as an octal number"
              : "argument couldn't be parsed into an integer";
        }
        if (d.percent && n < 0) {
          if (n < d.min!) return `percentage argument must be less or equal to ${-d.min!}`;
        } else if (n < d.min! || n > d.max!) {
          return `argument must be between ${d.min} and ${d.max} inclusive`;
        }
        this.values[d.name] = n;
        return null;
      }
      case "special":
        return this.assignSpecial(d.name, args, fromFile);
    }
  }

  private assignSpecial(name: string, args: string[], fromFile: boolean): string | null {
    switch (name) {
      case "dir": {
        if (args.length !== 1) return "wrong number of arguments";
        const dir = args[0]!;
        if (dir !== "./" || !fromFile) {
          if (!existsSync(dir)) return `No such file or directory`;
        }
        // CONFIG SET dir moves the process there (setConfigDirOption): SAVE and the sync
        // files go there, and CONFIG GET shows the working directory.
        if (!fromFile) {
          try {
            process.chdir(dir);
          } catch (e) {
            return (e as NodeJS.ErrnoException).code === "ENOTDIR" ? "Not a directory" : "No such file or directory";
          }
        }
        this.values.dir = dir;
        return null;
      }
      case "save": {
        // "save" with one empty argument (or "") disables saving; otherwise pairs.
        const flat = args.join(" ").split(" ").filter(Boolean);
        if (flat.length % 2 !== 0) return "Invalid save parameters";
        const points: Array<{ seconds: number; changes: number }> = [];
        for (let i = 0; i < flat.length; i += 2) {
          const seconds = parseInteger(flat[i]!);
          const changes = parseInteger(flat[i + 1]!);
          if (seconds === null || changes === null || seconds < 0 || changes < 0) return "Invalid save parameters";
          points.push({ seconds, changes });
        }
        // In a config file each "save" line adds a point; the first one replaces the default.
        if (fromFile && this.saveSeenInFile && points.length) this.savePoints.push(...points);
        else this.savePoints = points;
        if (fromFile) this.saveSeenInFile = true;
        this.values.save = this.savePoints.map((p) => `${p.seconds} ${p.changes}`).join(" ");
        return null;
      }
      case "client-output-buffer-limit": {
        const flat = args.join(" ").split(" ").filter(Boolean);
        if (flat.length % 4 !== 0 || flat.length === 0) return "Wrong number of arguments in buffer limit configuration.";
        const next = structuredClone(this.outputBufferLimits);
        for (let i = 0; i < flat.length; i += 4) {
          const cls = flat[i]!.toLowerCase();
          const key: OutputBufferClass | null =
            cls === "normal" ? "normal" : cls === "replica" || cls === "slave" ? "replica" : cls === "pubsub" ? "pubsub" : null;
          if (!key) return "Invalid client class specified in buffer limit configuration.";
          const hard = parseMemory(flat[i + 1]!);
          const soft = parseMemory(flat[i + 2]!);
          const secs = parseInteger(flat[i + 3]!);
          if (hard === null || soft === null || secs === null || secs < 0) return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
          next[key] = { hard, soft, softSeconds: secs };
        }
        this.outputBufferLimits = next;
        const f = (k: OutputBufferClass, label: string) => {
          const l = this.outputBufferLimits[k];
          return `${label} ${l.hard} ${l.soft} ${l.softSeconds}`;
        };
        this.values["client-output-buffer-limit"] = [f("normal", "normal"), f("replica", "slave"), f("pubsub", "pubsub")].join(" ");
        return null;
      }
      case "bind": {
        const flat = args.join(" ").split(" ").filter(Boolean);
        if (flat.length === 0) return "wrong number of arguments";
        this.bindAddresses = flat;
        this.values.bind = flat.join(" ");
        return null;
      }
      case "replicaof": {
        if (args.length === 1 && args[0] === "") {
          this.replicaOf = null;
          this.values.replicaof = "";
          return null;
        }
        if (args.length !== 2) return "wrong number of arguments";
        if (args[0]!.toLowerCase() === "no" && args[1]!.toLowerCase() === "one") {
          this.replicaOf = null;
          this.values.replicaof = "";
          return null;
        }
        const port = parseInteger(args[1]!);
        if (port === null || port < 0 || port > 65535) return "Invalid master port";
        this.replicaOf = { host: args[0]!, port };
        this.values.replicaof = `${args[0]} ${port}`;
        return null;
      }
      case "notify-keyspace-events": {
        if (args.length !== 1) return "wrong number of arguments";
        if (!/^[KEg$lshzxetmdnA]*$/.test(args[0]!)) return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
        this.values[name] = args[0]!;
        return null;
      }
      case "latency-tracking-info-percentiles": {
        // Doubles in [0, 100], shown as C's %f without trailing zeros; a single "" means none.
        const list = args.length === 1 && args[0] === "" ? [] : args;
        const out: string[] = [];
        for (const a of list) {
          if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(a)) return "Invalid latency-tracking-info-percentiles parameters";
          const p = Number(a);
          if (p > 100 || p < 0) return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
          out.push(trimmedDouble(p));
        }
        this.values[name] = out.join(" ");
        return null;
      }
      default: {
        // oom-score-adj-values: kept as given.
        this.values[name] = args.join(" ");
        return null;
      }
    }
  }

  private saveSeenInFile = false;

  /** The value as CONFIG GET prints it. */
  format(d: Directive): string {
    const v = this.values[d.name];
    if (d.name === "dir") return process.cwd();
    if (d.name === "notify-keyspace-events") return keyspaceEventsText(String(v ?? ""));
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (typeof v === "number") {
      if (d.percent && v < 0) return `${-v}%`;
      if (d.octal) return v.toString(8);
      return String(v);
    }
    return String(v ?? "");
  }

  /** CONFIG GET: pairs of (name, value) for every pattern given; aliases match too. */
  getMatching(patterns: string[], matches: (pattern: string, text: string) => boolean): Array<[string, string]> {
    const seen = new Set<string>();
    const out: Array<[string, string]> = [];
    for (const pattern of patterns) {
      const lower = pattern.toLowerCase();
      const exact = byName.get(lower);
      if (exact && !/[*?[\\]/.test(lower)) {
        if (!seen.has(lower)) {
          seen.add(lower);
          out.push([lower, this.format(exact)]);
        }
        continue;
      }
      for (const name of allDirectiveNames()) {
        if (seen.has(name) || !matches(lower, name)) continue;
        seen.add(name);
        out.push([name, this.format(byName.get(name)!)]);
      }
    }
    return out;
  }
}

/** One line of a configuration source, kept for error messages. */
interface ConfigLine {
  number: number;
  text: string;
}

function* configLines(text: string, baseDir: string, depth = 0): Generator<ConfigLine & { args: string[] | null }> {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const args = splitArgs(line);
    if (args && args.length && args[0]!.toLowerCase() === "include" && args.length === 2) {
      if (depth > 10) throw new ConfigError("Too many nested includes", i + 1, line);
      const path = resolve(baseDir, args[1]!);
      let included: string;
      try {
        included = readFileSync(path, "latin1");
      } catch (e) {
        throw new ConfigError(`Fatal error, can't open config file '${path}': ${(e as Error).message}`, i + 1, line);
      }
      yield* configLines(included, baseDir, depth + 1);
      continue;
    }
    yield { number: i + 1, text: line, args };
  }
}

/** Applies config-file text (redis.conf syntax) to a Config. Throws ConfigError like Redis. */
export function loadConfigText(config: Config, text: string, baseDir = process.cwd()): void {
  for (const line of configLines(text, baseDir)) {
    if (line.args === null) throw new ConfigError("Unbalanced quotes in configuration line", line.number, line.text);
    if (line.args.length === 0) continue;
    const [name, ...args] = line.args;
    const lower = name!.toLowerCase();
    // Not settable at run time, not in CONFIG GET: kept aside (Redis's loadServerConfigFromString).
    if (lower === "rename-command" && args.length === 2) {
      config.renamedCommands.push({ from: args[0]!, to: args[1]!, line: { number: line.number, text: line.text } });
      continue;
    }
    if (lower === "user" && args.length >= 1) {
      config.userLines.push({ args, line: { number: line.number, text: line.text } });
      continue;
    }
    if (lower === "loadmodule") throw new ConfigError("Replicant does not load modules (loadmodule): they are shared libraries built for redis-server's own process", line.number, line.text);
    const err = config.apply(name!, args.length ? args : [], true);
    if (err) {
      throw new ConfigError(
        err === "wrong number of arguments" ? "Bad directive or wrong number of arguments" : err,
        line.number,
        line.text,
      );
    }
  }
}

/**
 * Turns redis-server style arguments into config-file text, as redis-server does:
 * `[configfile] [--name value ...] ...`. Values are quoted so that they survive re-splitting.
 */
export function argsToConfigText(args: string[]): { configFile: string | null; text: string } {
  let configFile: string | null = null;
  let i = 0;
  if (args.length && !args[0]!.startsWith("-")) {
    configFile = args[0]!;
    i = 1;
  }
  const lines: string[] = [];
  let current: string[] | null = null;
  let lastWasValue = true;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (lastWasValue && a.startsWith("--")) {
      if (current) lines.push(current.join(" "));
      current = [a.slice(2)];
      lastWasValue = false;
      if (a.toLowerCase() === "--save" && (i === args.length - 1 || args[i + 1]!.startsWith("--"))) {
        current.push('""');
        lastWasValue = true;
      }
    } else {
      if (!current) throw new ConfigError(`Invalid argument '${a}': options must start with --`);
      current.push(quoteArg(a));
      lastWasValue = true;
    }
  }
  if (current) lines.push(current.join(" "));
  return { configFile, text: lines.join("\n") };
}

function quoteArg(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 32 || c > 126) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

/** Builds the Config from a command line: config file first, then the options. */
export function configFromArgs(args: string[]): Config {
  const config = new Config();
  const { configFile, text } = argsToConfigText(args);
  if (configFile) {
    let fileText: string;
    try {
      fileText = readFileSync(configFile, "latin1");
    } catch (e) {
      throw new ConfigError(`Fatal error, can't open config file '${resolve(configFile)}': ${(e as Error).message}`);
    }
    config.configFile = resolve(configFile);
    loadConfigText(config, fileText, process.cwd());
  }
  loadConfigText(config, text);
  return config;
}

/**
 * notify-keyspace-events as CONFIG GET shows it (keyspaceEventsFlagsToString): the classes in
 * Redis's order, "A" for all of them - which, as in Redis 7.0, hides "n" although it stays on.
 */
function keyspaceEventsText(text: string): string {
  const all = "g$lshzxetd";
  const has = (ch: string) => text.includes(ch) || (text.includes("A") && all.includes(ch));
  let out = "";
  if ([...all].every(has)) out = "A";
  else for (const ch of "g$lshzxetdn") if (has(ch)) out += ch;
  for (const ch of "KEm") if (has(ch)) out += ch;
  return out;
}

/** A double as C's "%f" with the trailing zeros (and a bare point) trimmed: 99.9, 50. */
function trimmedDouble(v: number): string {
  const s = v.toFixed(6);
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}
