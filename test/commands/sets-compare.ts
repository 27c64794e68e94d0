// Test support for the hash and set differential tests (hashes.test.ts, sets.test.ts): reply
// comparisons for what Redis leaves unordered or random, and a runner that can reconcile the two
// servers after a random removal (SPOP), so a random workload keeps both datasets equal.
//
// Raw replies (latin1 RESP text, from RawClient) are compared: exactly where Redis's order is
// deterministic (listpack hashes, intsets), as multisets where it is a hashtable's order.

import type { RespClient } from "../helpers/resp-client.ts";
import { RawClient, replyEnd, type Step } from "../helpers/raw-client.ts";

export interface Reply {
  /** The type line, e.g. "*3" or "~2" or "$5". */
  header: string;
  /** Raw text of each child of an aggregate (empty for scalars). */
  items: string[];
}

/** Splits a raw reply into its header and the raw text of its children. */
export function splitReply(raw: string): Reply {
  const buf = Buffer.from(raw, "latin1");
  const nl = buf.indexOf(10);
  const header = raw.slice(0, nl - 1);
  const type = header[0];
  const items: string[] = [];
  if (type === "*" || type === "~" || type === "%" || type === ">") {
    let n = Number(header.slice(1));
    if (type === "%") n *= 2;
    let at = nl + 1;
    for (let i = 0; i < n; i++) {
      const end = replyEnd(buf, at);
      items.push(buf.latin1Slice(at, end));
      at = end;
    }
  }
  return { header, items };
}

/** The bulk string payload of a raw `$n` reply (null for a null). */
export function bulkText(raw: string): string | null {
  if (!raw.startsWith("$") || raw.startsWith("$-1")) return null;
  const nl = raw.indexOf("\r\n");
  return raw.slice(nl + 2, raw.length - 2);
}

const show = (s: string) => JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}...` : s);

/** Children as units: single replies, or pairs (flat field/value lists, RESP3 maps). */
function units(r: Reply, pairs: boolean): string[] {
  if (!pairs && r.header[0] !== "%") return [...r.items];
  const out: string[] = [];
  for (let i = 0; i < r.items.length; i += 2) out.push(r.items[i]! + r.items[i + 1]!);
  return out;
}

/** Equal as multisets of children (of pairs with `pairs`), same type and length. */
export function unordered(pairs = false) {
  return (expected: string, actual: string): string | null => {
    if (expected === actual) return null;
    const a = splitReply(expected);
    const b = splitReply(actual);
    if (a.header !== b.header || a.items.length === 0) return `expected ${show(expected)}, got ${show(actual)}`;
    const ua = units(a, pairs).sort();
    const ub = units(b, pairs).sort();
    for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return `different elements: expected ${show(expected)}, got ${show(actual)}`;
    return null;
  };
}

/**
 * Shared state between the steps of one run: a step's comparison can record Redis's reply for
 * a later step to use (the encoding of a key, the members of a set).
 */
export class Recorder {
  encoding = new Map<string, string>();
  members = new Map<string, string[]>();
  pairs = new Map<string, Map<string, string>>();

  /** `OBJECT ENCODING key`, compared exactly, remembered for `key`. */
  encodingStep(key: string): Step {
    return {
      cmd: ["OBJECT", "ENCODING", key],
      compare: (a, b) => {
        this.encoding.set(key, bulkText(a) ?? "none");
        return a === b ? null : `encoding ${show(a)} vs ${show(b)}`;
      },
    };
  }

  /** Exact where the last recorded encoding of `key` has a deterministic order, else unordered. */
  orderedIfCompact(key: string, pairs = false) {
    const loose = unordered(pairs);
    return (a: string, b: string): string | null => {
      const enc = this.encoding.get(key);
      if (enc === "listpack" || enc === "intset") return a === b ? null : `(${enc}) expected ${show(a)}, got ${show(b)}`;
      return loose(a, b);
    };
  }

  /** A read of the whole value (SMEMBERS / HGETALL) that records Redis's members or pairs. */
  recordingRead(key: string, cmd: string[], pairs: boolean): Step {
    const cmp = this.orderedIfCompact(key, pairs);
    return {
      cmd,
      compare: (a, b) => {
        const r = splitReply(a);
        const items = r.items.map((x) => bulkText(x) ?? "");
        if (pairs) {
          const m = new Map<string, string>();
          for (let i = 0; i < items.length; i += 2) m.set(items[i]!, items[i + 1]!);
          this.pairs.set(key, m);
        } else this.members.set(key, items);
        return cmp(a, b);
      },
    };
  }
}

/**
 * Random elements (SRANDMEMBER, HRANDFIELD, SPOP): same type and length, distinct when asked,
 * each an element of `universe` (Redis's recorded content of the key). With values, a RESP2
 * reply is flat field/value pairs and a RESP3 one nested pairs; each value must be the field's.
 */
export function randomElements(universe: () => string[] | Map<string, string> | undefined, distinct: boolean, withValues: boolean) {
  return (expected: string, actual: string): string | null => {
    if (expected.startsWith("$") && actual.startsWith("$") && !expected.startsWith("$-1") && !actual.startsWith("$-1")) {
      // One random element (SRANDMEMBER k, HRANDFIELD k, SPOP k).
      const u = universe();
      const m = bulkText(actual)!;
      if (u instanceof Map ? !u.has(m) : u && !u.includes(m)) return `${show(m)} is not an element`;
      return null;
    }
    if (expected.startsWith("-") || actual.startsWith("-") || !expected.match(/^[*~]/)) return expected === actual ? null : `expected ${show(expected)}, got ${show(actual)}`;
    const a = splitReply(expected);
    const b = splitReply(actual);
    if (a.header !== b.header) return `expected ${show(expected)}, got ${show(actual)}`;
    const u = universe();
    const fields: string[] = [];
    const check = (field: string, value: string | null): string | null => {
      fields.push(field);
      if (u instanceof Map) {
        if (!u.has(field)) return `${show(field)} is not a field`;
        if (value !== null && u.get(field) !== value) return `${show(field)} has value ${show(value)}`;
      } else if (u && !u.includes(field)) return `${show(field)} is not a member`;
      return null;
    };
    for (let i = 0; i < b.items.length; i++) {
      const item = b.items[i]!;
      let err: string | null;
      if (withValues && item.startsWith("*")) {
        const pair = splitReply(item).items.map((x) => bulkText(x) ?? "");
        err = check(pair[0]!, pair[1]!);
      } else if (withValues) {
        err = check(bulkText(item) ?? "", bulkText(b.items[i + 1]!) ?? "");
        i++;
      } else err = check(bulkText(item) ?? "", null);
      if (err) return `${err} in ${show(actual)}`;
    }
    if (distinct && new Set(fields).size !== fields.length) return `duplicates in ${show(actual)}`;
    return null;
  };
}

/** A step whose replies may leave the two servers different; `reconcile` returns what to send to each to make them equal again. */
export interface ReconcilingStep extends Step {
  reconcile?: (expected: string, actual: string) => { redis: string[][]; replicant: string[][] };
}

/**
 * Like runDifferential (pipelined batches, first mismatches reported), but a batch ends at a
 * step with `reconcile`, whose commands are then sent before the run goes on.
 */
export async function runReconciling(redis: RawClient, replicant: RawClient, steps: ReconcilingStep[], limit = 10, batch = 200): Promise<string[]> {
  const errors: string[] = [];
  let i = 0;
  while (i < steps.length && errors.length < limit) {
    let end = i;
    while (end < steps.length && end - i < batch) {
      end++;
      if (steps[end - 1]!.reconcile) break;
    }
    const chunk = steps.slice(i, end);
    const cmds = chunk.map((s) => s.cmd);
    const [a, b] = await Promise.all([redis.pipeline(cmds), replicant.pipeline(cmds)]);
    for (let k = 0; k < chunk.length && errors.length < limit; k++) {
      const step = chunk[k]!;
      const err = step.compare ? step.compare(a[k]!, b[k]!) : a[k] === b[k] ? null : `expected ${show(a[k]!)}, got ${show(b[k]!)}`;
      if (err) errors.push(`#${i + k} ${JSON.stringify(step.cmd).slice(0, 300)}: ${err}`);
    }
    const last = chunk[chunk.length - 1]!;
    if (last.reconcile) {
      const fix = last.reconcile(a[chunk.length - 1]!, b[chunk.length - 1]!);
      const [ra, rb] = await Promise.all([redis.pipeline(fix.redis), replicant.pipeline(fix.replicant)]);
      for (const r of [...ra, ...rb]) if (r.startsWith("-")) errors.push(`reconciling after #${end - 1}: ${r}`);
    }
    i = end;
  }
  return errors;
}

/** The bulk strings of a flat (or set) reply of bulks. */
export function bulkItems(raw: string): string[] {
  if (!raw.match(/^[*~]/)) return [];
  return splitReply(raw).items.map((x) => bulkText(x) ?? "");
}

/** Ascending numeric order of canonical integers (intset order). */
export function compareInts(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export { RawClient };

/**
 * A raw replica: sends SYNC to a master (redis-server or Replicant), skips the RDB payload and
 * collects the commands of the replication stream that follows, as arrays of latin1 strings.
 */
export class StreamTap {
  readonly commands: string[][] = [];
  private buf: Buffer = Buffer.alloc(0);
  private rdbDone = false;
  private socket: import("bun").Socket<undefined> | null = null;

  static async open(port: number): Promise<StreamTap> {
    const tap = new StreamTap();
    tap.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, chunk) {
          tap.onData(chunk);
        },
      },
    });
    tap.socket.write("SYNC\r\n");
    return tap;
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (!this.rdbDone) {
      let at = 0;
      while (at < this.buf.length && this.buf[at] === 10) at++; // keepalive newlines
      const nl = this.buf.indexOf(10, at);
      if (nl < 0) return;
      const len = Number(this.buf.latin1Slice(at + 1, nl - 1));
      if (this.buf.length < nl + 1 + len) return;
      this.buf = this.buf.subarray(nl + 1 + len);
      this.rdbDone = true;
    }
    let pos = 0;
    while (pos < this.buf.length) {
      if (this.buf[pos] === 10) {
        pos++;
        continue;
      }
      const end = replyEnd(this.buf, pos);
      if (end < 0) break;
      const r = splitReply(this.buf.latin1Slice(pos, end));
      this.commands.push(r.items.map((x) => bulkText(x) ?? ""));
      pos = end;
    }
    this.buf = this.buf.subarray(pos);
  }

  /** Waits until a command whose words start with `prefix` arrived; returns everything before it. */
  async until(prefix: string[], timeoutMs = 15000): Promise<string[][]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const i = this.commands.findIndex((c) => prefix.every((w, k) => c[k] === w));
      if (i >= 0) return this.commands.slice(0, i).filter((c) => c[0] !== "PING" && c[0]?.toUpperCase() !== "SELECT");
      await Bun.sleep(20);
    }
    throw new Error(`no ${prefix.join(" ")} in the replication stream; got ${JSON.stringify(this.commands).slice(0, 500)}`);
  }

  close(): void {
    this.socket?.end();
  }
}

/** Waits until the tap's sync is over (a write shows up in its stream, not in the RDB). */
export async function tapReady(tap: StreamTap, client: RespClient): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await client.call("SET", "tap:ready", String(i));
    await Bun.sleep(25);
    if (tap.commands.some((c) => c[0] === "SET" && c[1] === "tap:ready")) return;
  }
  throw new Error("the raw replica never got a stream");
}


/**
 * The keyspace notifications (notify-keyspace-events KEA) a server publishes while `commands`
 * run one by one, as [channel, message] pairs. notify-keyspace-events is restored afterwards.
 */
export async function keyspaceEvents(connect: () => Promise<RespClient>, commands: string[][]): Promise<string[][]> {
  const sub = await connect();
  const cl = await connect();
  try {
    await cl.call("CONFIG", "SET", "notify-keyspace-events", "KEA");
    await sub.call("PSUBSCRIBE", "__key*__:*");
    for (const cmd of commands) await cl.call(...cmd);
    // The end marker is a set command (SET's own notification belongs to the strings family).
    await cl.call("SADD", "events:end", "x");
    const deadline = Date.now() + 5000;
    const done = () => sub.pushes.some((p) => Array.isArray(p) && p[2] === "__keyspace@0__:events:end");
    while (!done() && Date.now() < deadline) await Bun.sleep(10);
    return sub.pushes
      .filter((p): p is string[] => Array.isArray(p) && p[0] === "pmessage")
      .map((p) => [String(p[2]), String(p[3])])
      .filter((p) => !p[0]!.includes("events:end") && p[1] !== "events:end");
  } finally {
    await cl.call("CONFIG", "SET", "notify-keyspace-events", "");
    sub.close();
    cl.close();
  }
}
