// Running a differential workload: the steps of each phase go, pipelined in batches, to a
// redis-server and to Replicant (or to one server only, for the replication test), with the
// TTL tokens resolved at send time; replies are compared as each step says.

import { ReplyParser, RespError, type RespValue } from "../../src/protocol/reply-parser.ts";
import { RawClient, replyEnd } from "../helpers/raw-client.ts";
import { ABSOLUTE_LATER, type Compare, DATABASES, type Phase, type Step, TTL_AT, TTL_MS } from "./workload.ts";

export { RawClient };

/** Parses one raw reply (latin1 RESP) into a value. */
export function parseReply(raw: string): RespValue {
  const p = new ReplyParser();
  p.feed(Buffer.from(raw, "latin1"));
  const v = p.next();
  if (v === undefined) throw new Error(`incomplete reply ${JSON.stringify(raw.slice(0, 100))}`);
  return v;
}

/** The raw elements of a top-level array reply (null when it is not an array). */
export function rawElements(raw: string): string[] | null {
  if (raw[0] !== "*" && raw[0] !== "~" && raw[0] !== "%") return null;
  const buf = Buffer.from(raw, "latin1");
  const nl = buf.indexOf(10);
  let n = Number(buf.latin1Slice(1, nl - 1));
  if (n < 0) return null;
  // A RESP3 map: its keys and values, flat (as RESP2 would send them).
  if (raw[0] === "%") n *= 2;
  const out: string[] = [];
  let at = nl + 1;
  for (let i = 0; i < n; i++) {
    const end = replyEnd(buf, at);
    out.push(buf.latin1Slice(at, end));
    at = end;
  }
  return out;
}

function multisetEqual(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}

function pairs(elems: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < elems.length; i += 2) out.push(elems[i]! + (elems[i + 1] ?? ""));
  return out;
}

function unorderedEqual(a: string, b: string, paired: boolean): boolean {
  if (a === b) return true;
  const x = rawElements(a);
  const y = rawElements(b);
  if (x === null || y === null) return false;
  // RESP3 sends pairs (HRANDFIELD WITHVALUES, ZRANDMEMBER WITHSCORES) as nested arrays.
  const nested = x.length > 0 && x[0]![0] === "*";
  return paired && !nested ? multisetEqual(pairs(x), pairs(y)) : multisetEqual(x, y);
}

/** A SCAN-family reply [cursor, elements]: cursor "0" on both, elements as a multiset. */
function scanEqual(a: string, b: string, paired: boolean): boolean {
  if (a === b) return true;
  const x = rawElements(a);
  const y = rawElements(b);
  if (x === null || y === null || x.length !== 2 || y.length !== 2) return false;
  return x[0] === y[0] && unorderedEqual(x[1]!, y[1]!, paired);
}

/** Encodings whose iteration order is insertion (listpack) or sorted (intset) order. */
const COMPACT = new Set(["listpack", "intset", "ziplist"]);
/**
 * Encodings whose DUMP payload follows from the logical value alone (not streams: their
 * consumer groups carry delivery and seen times).
 */
const DUMP_EXACT = new Set(["listpack", "intset", "embstr", "int", "raw", "skiplist"]);

const TIME_LABELS = new Set(["idle", "seen-time", "active-time", "inactive"]);
const STREAM_ID = /^\d+-\d+$/;

/** Masks what depends on the moment a server ran a command: times and idle times. */
export function maskTimes(v: RespValue): RespValue {
  if (typeof v === "number" && v >= 1e12) return "<time>";
  // RESP3 maps (XINFO): compared as their flat key/value list.
  if (v instanceof Map) return maskTimes([...v.entries()].flat());
  if (!Array.isArray(v)) return v;
  // XPENDING extended entries: [id, consumer, idle ms, deliveries].
  if (v.length === 4 && typeof v[0] === "string" && STREAM_ID.test(v[0]) && typeof v[1] === "string" && typeof v[2] === "number" && typeof v[3] === "number") {
    return [v[0], v[1], "<idle>", v[3]];
  }
  const out: RespValue[] = [];
  for (let i = 0; i < v.length; i++) {
    const item = v[i]!;
    if (typeof item === "string" && TIME_LABELS.has(item) && i + 1 < v.length && typeof v[i + 1] === "number") {
      out.push(item, "<time>");
      i++;
    } else out.push(maskTimes(item));
  }
  return out;
}

function show(s: string): string {
  return JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}...` : s);
}

function intOf(raw: string): number | null {
  return raw[0] === ":" ? Number(raw.slice(1, raw.indexOf("\r"))) : null;
}

/** Compares two replies; `prev` is redis-server's reply to the step before (an OBJECT ENCODING). */
export function compareReplies(cmp: Compare, a: string, b: string, prev: string | undefined): string | null {
  if (a === b) return null;
  const encoding = prev?.startsWith("$") ? prev.split("\r\n")[1] : undefined;
  const bad = () => {
    if (a.length < 250 && b.length < 250) return `expected ${show(a)}, got ${show(b)}`;
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    const from = Math.max(0, i - 40);
    return `expected ${show(a.slice(0, 120))}... got ${show(b.slice(0, 120))}...; first difference at byte ${i} (${a.charCodeAt(i)} vs ${b.charCodeAt(i)}): ${show(a.slice(from, i + 80))} vs ${show(b.slice(from, i + 80))}`;
  };
  switch (cmp) {
    case "exact":
      return bad();
    case "unordered":
      return unorderedEqual(a, b, false) ? null : bad();
    case "unordered-pairs":
      return unorderedEqual(a, b, true) ? null : bad();
    case "ordered-if-compact":
    case "ordered-if-compact-pairs":
      if (encoding !== undefined && COMPACT.has(encoding)) return `${bad()} (encoding ${encoding}: order matters)`;
      return unorderedEqual(a, b, cmp === "ordered-if-compact-pairs") ? null : bad();
    case "scan":
    case "scan-pairs":
      if (encoding !== undefined && COMPACT.has(encoding)) return `${bad()} (encoding ${encoding}: order matters)`;
      return scanEqual(a, b, cmp === "scan-pairs") ? null : bad();
    case "shape": {
      if (a[0] !== b[0]) return bad();
      const x = rawElements(a);
      const y = rawElements(b);
      if ((x === null) !== (y === null) || (x && y && x.length !== y.length)) return bad();
      if (a[0] === "-") return bad();
      return null;
    }
    case "ttl-s":
    case "ttl-ms": {
      const x = intOf(a);
      const y = intOf(b);
      if (x === null || y === null) return bad();
      if (x < 0 || y < 0) return x === y ? null : bad();
      return Math.abs(x - y) <= (cmp === "ttl-s" ? 1 : 250) ? null : bad();
    }
    case "stream-timed":
      return JSON.stringify(maskTimes(parseReply(a)), replacer) === JSON.stringify(maskTimes(parseReply(b)), replacer) ? null : bad();
    case "dump":
      if (encoding !== undefined && DUMP_EXACT.has(encoding)) return `${bad()} (encoding ${encoding})`;
      return a[0] === b[0] && (a[0] === "$") === (b[0] === "$") ? null : bad();
  }
}

function replacer(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof RespError) return `-${v.message}`;
  if (v instanceof Map) return [...v.entries()];
  return v;
}

export interface Diff {
  phase: number;
  step: number;
  cmd: string[];
  error: string;
  /** The earlier commands naming one of this command's arguments, with both replies. */
  history: string[];
}

const HISTORY = 4000;
/** How long before its deadline a phase stops sending (a batch takes well under this). */
const SAFETY_MS = 250;

export interface RunStats {
  commands: number;
  /** redis-server's replies per command name: ok / error. */
  outcomes: Map<string, { ok: number; err: number }>;
  /** redis-server's error replies by command and error text (first words). */
  errors: Map<string, number>;
  diffs: Diff[];
  /** Phases cut short because they ran too close to their TTL deadline. */
  overruns: number;
  /** Where: "phase:step" (for a replay of the same run). */
  cuts: string[];
}

function resolveTokens(cmd: string[], deadline: number): string[] {
  let out: string[] | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const a = cmd[i]!;
    if (a !== TTL_MS && a !== TTL_AT) continue;
    out ??= cmd.slice();
    out[i] = a === TTL_MS ? String(Math.max(1, deadline - Date.now())) : String(deadline + ABSOLUTE_LATER);
  }
  return out ?? cmd;
}

function commandName(cmd: string[]): string {
  const name = cmd[0]!.toUpperCase();
  return name === "XGROUP" || name === "XINFO" || name === "OBJECT" ? `${name} ${cmd[1]?.toUpperCase()}` : name;
}

export interface RunOptions {
  /** The second server; without it the steps only go to `first` (the replication master). */
  second?: RawClient;
  /** Wait for each phase's TTL deadline before the next phase (reply comparison). */
  waitDeadlines: boolean;
  batch?: number;
  maxDiffs?: number;
  /** Called between batches (the replication test kills links from here). */
  between?: () => Promise<void> | void;
}

/**
 * Runs the phases. The TTL deadline of a phase is a multiple of how long the previous phase
 * took, so that the phase ends well before it.
 */
export async function runPhases(first: RawClient, phases: Phase[], opts: RunOptions): Promise<RunStats> {
  const stats: RunStats = { commands: 0, outcomes: new Map(), errors: new Map(), diffs: [], overruns: 0, cuts: [] };
  const batchSize = opts.batch ?? 150;
  const maxDiffs = opts.maxDiffs ?? 25;
  let budget = 1500;
  // Recent commands and replies, to show what led to a difference.
  const log: Array<{ cmd: string[]; a: string; b: string; db: number }> = [];
  // The selected database as redis-server's replies show it (a queued SELECT applies at EXEC).
  let db = 0;
  let queuedDb: number | null = null;
  for (let p = 0; p < phases.length && stats.diffs.length < maxDiffs; p++) {
    const steps = phases[p]!.steps;
    const started = Date.now();
    const deadline = started + budget;
    let prevA: string | undefined;
    let prevB: string | undefined;
    for (let i = 0; i < steps.length && stats.diffs.length < maxDiffs; ) {
      // Running late (a loaded machine): the rest of the phase is skipped on both servers, so
      // that no command runs near the moment its phase's keys expire.
      if (opts.waitDeadlines && Date.now() > deadline - SAFETY_MS) {
        stats.overruns++;
        stats.cuts.push(`${p}:${i}`);
        break;
      }
      // A batch ends before a step built from the previous step's replies.
      const chunk: Step[] = [];
      const cmds: string[][] = [];
      while (i < steps.length && chunk.length < batchSize) {
        const step = steps[i]!;
        if (step.derive && chunk.length > 0) break;
        let cmd = step.cmd;
        if (step.derive) {
          const derived = prevA === undefined ? null : step.derive(prevA, prevB ?? prevA);
          if (derived === null) {
            i++;
            continue;
          }
          cmd = derived;
        }
        chunk.push(step);
        cmds.push(resolveTokens(cmd, deadline));
        i++;
        if (step.blocking) break;
      }
      if (chunk.length === 0) continue;
      const [a, b] = await Promise.all([first.pipeline(cmds), opts.second ? opts.second.pipeline(cmds) : Promise.resolve(null)]);
      for (let k = 0; k < chunk.length; k++) {
        const step = chunk[k]!;
        const ra = a[k]!;
        stats.commands++;
        const name = commandName(cmds[k]!);
        let o = stats.outcomes.get(name);
        if (!o) stats.outcomes.set(name, (o = { ok: 0, err: 0 }));
        if (ra[0] === "-") {
          o.err++;
          const what = `${name}: ${ra.slice(1, 40).split("\r")[0]}`;
          stats.errors.set(what, (stats.errors.get(what) ?? 0) + 1);
        } else o.ok++;
        if (b) {
          const rb = b[k]!;
          const error = compareReplies(step.cmp, ra, rb, k > 0 ? a[k - 1] : prevA);
          const cmd = cmds[k]!;
          const upper = cmd[0]!.toUpperCase();
          if (upper === "SELECT" && ra === "+OK\r\n") db = Number(cmd[1]);
          else if (upper === "SELECT" && ra === "+QUEUED\r\n") queuedDb = Number(cmd[1]);
          else if (upper === "EXEC" || upper === "DISCARD") {
            if (upper === "EXEC" && queuedDb !== null && ra[0] === "*") db = queuedDb;
            queuedDb = null;
          }
          log.push({ cmd, a: ra, b: rb, db });
          if (log.length > HISTORY) log.splice(0, log.length - HISTORY);
          if (error !== null && stats.diffs.length < maxDiffs) {
            const names = new Set(cmds[k]!.slice(1).filter((x) => x.includes(":")));
            let inBlock = false;
            const history = log
              .slice(0, -1)
              .filter((e) => {
                const named = e.cmd.some((x) => names.has(x));
                const crossDb = e.cmd[0] === "MOVE" || e.cmd.includes("DB");
                if (named && e.a === "+QUEUED\r\n") inBlock = true;
                if (e.cmd[0] === "EXEC" || e.cmd[0] === "DISCARD") {
                  const show = inBlock;
                  inBlock = false;
                  return show;
                }
                return e.cmd[0] === "SWAPDB" || (e.db === db && e.cmd[0] === "FLUSHDB") || (named && (e.db === db || crossDb));
              })
              .slice(-25)
              .map((e) => `db${e.db} ${JSON.stringify(e.cmd).slice(0, 200)} -> ${show(e.a).slice(0, 120)}${e.a === e.b ? "" : ` / ${show(e.b).slice(0, 120)}`}`);
            const recent = log.slice(-Number(process.env.DIFF_RECENT ?? 0) - 1, -1).map((e) => `   recent: db${e.db} ${JSON.stringify(e.cmd).slice(0, 200)} -> ${show(e.a).slice(0, 120)}${e.a === e.b ? "" : ` / ${show(e.b).slice(0, 120)}`}`);
            stats.diffs.push({ phase: p, step: i - chunk.length + k, cmd: cmds[k]!, error: `(db${db}) ${error}`, history: [...history, ...recent] });
          }
        }
      }
      prevA = a[chunk.length - 1];
      prevB = b ? b[chunk.length - 1] : undefined;
      if (opts.between) await opts.between();
    }
    const took = Date.now() - started;
    if (process.env.DIFF_VERBOSE) console.log(`phase ${p}: ${steps.length} steps in ${took} ms (budget ${budget} ms)`);
    if (opts.waitDeadlines) {
      const wait = deadline + ABSOLUTE_LATER + 30 - Date.now();
      if (wait > 0) await Bun.sleep(wait);
      // Expired keys that active expiry has not reached yet differ between the servers (Redis
      // samples): a full SCAN of every database removes them on both before the next phase.
      const sweep = DATABASES.flatMap((db) => [["SELECT", String(db)], ["SCAN", "0", "COUNT", "100000"]]);
      await Promise.all([first.pipeline(sweep), opts.second ? opts.second.pipeline(sweep) : null]);
    }
    budget = Math.max(400, Math.min(8000, 2.5 * took + 300));
  }
  return stats;
}

export function formatDiffs(diffs: Diff[]): string {
  return diffs.map((d) => `phase ${d.phase} step ${d.step} ${JSON.stringify(d.cmd).slice(0, 300)}: ${d.error}`).join("\n");
}

/** The first difference with the commands that led to it. */
export function formatFirstDiff(diffs: Diff[]): string {
  const d = diffs[0];
  if (!d) return "";
  return `first difference, after:\n  ${d.history.join("\n  ")}\n${formatDiffs([d])}`;
}

export function formatOutcomes(outcomes: Map<string, { ok: number; err: number }>): string {
  return [...outcomes.entries()]
    .sort((x, y) => (x[0] < y[0] ? -1 : 1))
    .map(([name, o]) => `${name} ${o.ok}/${o.err}`)
    .join(", ");
}

/**
 * A PSUBSCRIBEd connection that records every keyspace notification as "channel message"
 * (both servers run with notify-keyspace-events set).
 */
export class EventCollector {
  readonly events: string[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private constructor(private socket: import("bun").Socket<undefined>) {}

  static async connect(port: number, pattern = "__key*@*__:*"): Promise<EventCollector> {
    let collector!: EventCollector;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, chunk) {
          collector.onData(chunk);
        },
      },
    });
    collector = new EventCollector(socket);
    socket.write(`*2\r\n$10\r\nPSUBSCRIBE\r\n$${pattern.length}\r\n${pattern}\r\n`);
    await waitUntil(() => collector.subscribed);
    return collector;
  }

  private subscribed = false;

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      const end = replyEnd(this.buf, pos);
      if (end < 0) break;
      const v = parseReply(this.buf.latin1Slice(pos, end));
      pos = end;
      if (Array.isArray(v) && v[0] === "pmessage") this.events.push(`${v[2]} ${v[3]}`);
      else if (Array.isArray(v) && v[0] === "psubscribe") this.subscribed = true;
    }
    this.buf = this.buf.subarray(pos);
  }

  /** Waits until an event with this text arrived. */
  async waitFor(event: string): Promise<void> {
    await waitUntil(() => this.events.includes(event));
  }

  close(): void {
    this.socket.end();
  }
}

async function waitUntil(cond: () => boolean, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for keyspace events");
    await Bun.sleep(5);
  }
}

/**
 * Compares two event sequences, "expired" events aside (active expiry deletes keys at moments
 * of its own on each server). Returns the first difference with some context, or null.
 */
export function compareEvents(a: string[], b: string[]): string | null {
  const keep = (e: string) => !/^__keyevent@\d+__:expired /.test(e) && !(e.startsWith("__keyspace@") && e.endsWith(" expired"));
  const x = a.filter(keep);
  const y = b.filter(keep);
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  if (i === x.length && i === y.length) return null;
  return `keyspace events differ at #${i} of ${x.length}/${y.length}:\n  redis-server: ${JSON.stringify(x.slice(Math.max(0, i - 6), i + 6))}\n  Replicant:    ${JSON.stringify(y.slice(Math.max(0, i - 6), i + 6))}`;
}
