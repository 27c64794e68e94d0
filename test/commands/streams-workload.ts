// A seeded random stream workload for the replication and propagation tests, and the state
// of the streams it touches as XRANGE / XINFO show it (with the fields that legitimately
// differ between servers masked).

import { type RespClient, RespError, type RespValue } from "../helpers/resp-client.ts";

export const KEYS = ["s1", "s2", "s3"];
const GROUPS = ["g1", "g2", "grp-3"];
const CONSUMERS = ["alice", "bob", "carol", "dave"];

/** A seeded workload generator that remembers the IDs it added. */
export class Workload {
  readonly ids = new Map<string, string[]>();
  /** Replies per command name: ok / error, to show (and check) what the workload exercised. */
  readonly outcomes = new Map<string, { ok: number; err: number }>();
  /** The ms part of explicit IDs, an hour ahead of the clock by default: "*" then continues their sequence (streamNextID). */
  ms: number;
  constructor(
    readonly rand: () => number,
    startMs = Date.now() + 3_600_000,
  ) {
    this.ms = startMs;
    for (const k of KEYS) this.ids.set(k, []);
  }

  private pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.rand() * a.length)]!;
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  private someId(key: string): string {
    const ids = this.ids.get(key)!;
    if (ids.length === 0 || this.rand() < 0.1) return `${this.ms - this.int(5000)}-${this.int(3)}`;
    return this.pick(ids.slice(-200));
  }

  private fields(): string[] {
    const out: string[] = [];
    const n = 1 + this.int(3);
    const sameShape = this.rand() < 0.6;
    for (let i = 0; i < n; i++) {
      out.push(sameShape ? `f${i}` : this.pick(["f0", "name", "x", `k${this.int(5)}`]));
      const r = this.rand();
      out.push(r < 0.3 ? String(this.int(100000) - 50000) : r < 0.5 ? String(this.int(2 ** 52) * 1000) : "v".repeat(this.int(60)));
    }
    return out;
  }

  private trim(): string[] {
    const r = this.rand();
    if (r < 0.5) return [];
    const approx = this.pick(["~", "=", ""]);
    const spec = approx ? [approx] : [];
    if (r < 0.8) return ["MAXLEN", ...spec, String(this.int(120)), ...(approx === "~" && this.rand() < 0.3 ? ["LIMIT", String(this.int(30))] : [])];
    return ["MINID", ...spec, String(this.ms - this.int(3000))];
  }

  /** The next command and, for XADD, what to remember of its reply. */
  next(history: boolean): string[] {
    const key = this.pick(KEYS);
    const group = this.pick(GROUPS);
    const consumer = this.pick(CONSUMERS);
    const r = this.rand();
    if (r < 0.4) {
      this.ms += this.pick([0, 1, 1, 3, 50]);
      const idForm = this.rand();
      const id = idForm < 0.6 ? "*" : idForm < 0.8 ? `${this.ms}-*` : `${this.ms}-${this.int(4)}`;
      return ["XADD", key, ...(this.rand() < 0.05 ? ["NOMKSTREAM"] : []), ...this.trim(), id, ...this.fields()];
    }
    if (r < 0.47) return ["XDEL", key, this.someId(key), ...(this.rand() < 0.3 ? [this.someId(key)] : [])];
    if (r < 0.5) {
      const t = this.trim();
      return ["XTRIM", key, ...(t.length ? t : ["MAXLEN", "~", String(this.int(200))])];
    }
    if (r < 0.53) {
      const id = this.pick(["$", "0", this.someId(key)]);
      return ["XGROUP", "CREATE", key, group, id, ...(this.rand() < 0.3 ? ["MKSTREAM"] : []), ...(this.rand() < 0.2 ? ["ENTRIESREAD", String(this.int(50))] : [])];
    }
    if (r < 0.55) return ["XGROUP", "SETID", key, group, this.pick(["$", "0", this.someId(key)]), ...(this.rand() < 0.4 ? ["ENTRIESREAD", String(this.int(50) - 1)] : [])];
    if (r < 0.56) return ["XGROUP", "DESTROY", key, group];
    if (r < 0.58) return ["XGROUP", "CREATECONSUMER", key, group, consumer];
    if (r < 0.59) return ["XGROUP", "DELCONSUMER", key, group, consumer];
    if (r < 0.72) {
      const keys = this.rand() < 0.2 ? [key, this.pick(KEYS)] : [key];
      const ids = keys.map(() => (history && this.rand() < 0.4 ? this.pick(["0", this.someId(key)]) : ">"));
      return ["XREADGROUP", "GROUP", group, consumer, ...(this.rand() < 0.7 ? ["COUNT", String(1 + this.int(8))] : []), ...(this.rand() < 0.15 ? ["NOACK"] : []), "STREAMS", ...keys, ...ids];
    }
    if (r < 0.8) return ["XACK", key, group, this.someId(key), ...(this.rand() < 0.5 ? [this.someId(key), this.someId(key)] : [])];
    if (r < 0.88) {
      const opts: string[] = [];
      if (this.rand() < 0.3) opts.push("IDLE", String(this.int(100000)));
      if (this.rand() < 0.3) opts.push("RETRYCOUNT", String(this.int(10)));
      if (this.rand() < 0.3) opts.push("FORCE");
      if (this.rand() < 0.3) opts.push("JUSTID");
      if (this.rand() < 0.2) opts.push("LASTID", this.someId(key));
      return ["XCLAIM", key, group, consumer, this.pick(["0", "0", "3600000"]), this.someId(key), ...(this.rand() < 0.5 ? [this.someId(key)] : []), ...opts];
    }
    if (r < 0.95) {
      return ["XAUTOCLAIM", key, group, consumer, this.pick(["0", "0", "3600000"]), this.pick(["0", "-", this.someId(key)]), ...(this.rand() < 0.6 ? ["COUNT", String(1 + this.int(10))] : []), ...(this.rand() < 0.3 ? ["JUSTID"] : [])];
    }
    if (r < 0.97) {
      this.ms += 10;
      return ["XSETID", key, `${this.ms}-${this.int(3)}`, ...(this.rand() < 0.5 ? ["ENTRIESADDED", String(1000 + this.int(1000))] : []), ...(this.rand() < 0.3 ? ["MAXDELETEDID", `${this.ms - 5}-0`] : [])];
    }
    return ["XTRIM", key, "MINID", this.pick(["~", "="]), this.someId(key)];
  }

  /** Runs `n` commands on the master (pipelined in batches), remembering the added IDs. */
  async run(c: RespClient, n: number, history: boolean): Promise<void> {
    for (let done = 0; done < n; ) {
      const batch: string[][] = [];
      for (let i = 0; i < 50 && done < n; i++, done++) batch.push(this.next(history));
      const replies = await c.pipeline(batch);
      for (let i = 0; i < batch.length; i++) {
        const cmd = batch[i]!;
        const reply = replies[i];
        if (cmd[0] === "XADD" && typeof reply === "string") this.ids.get(cmd[1]!)!.push(reply);
        const name = cmd[0] === "XGROUP" ? `XGROUP ${cmd[1]}` : cmd[0]!;
        let o = this.outcomes.get(name);
        if (!o) this.outcomes.set(name, (o = { ok: 0, err: 0 }));
        if (reply instanceof RespError) o.err++;
        else o.ok++;
      }
    }
  }
}

/**
 * An XINFO reply with the fields that legitimately differ masked: a consumer's seen-time always
 * (the clock of the server that applied the command); with `vsMaster`, also a group's
 * entries-read and lag, which a Redis 7.0 replica does not follow either (XREADGROUP propagates
 * as XCLAIM ... LASTID, which moves the last ID but not the read counter).
 */
export function mask(v: RespValue, vsMaster: boolean): RespValue {
  if (!Array.isArray(v)) return v;
  const out: RespValue[] = [];
  for (let i = 0; i < v.length; i++) {
    const item = v[i]!;
    if ((item === "seen-time" || (vsMaster && (item === "entries-read" || item === "lag"))) && i + 1 < v.length && !Array.isArray(v[i + 1])) {
      out.push(item, `<${item}>`);
      i++;
    } else {
      out.push(mask(item, vsMaster));
    }
  }
  return out;
}

export async function streamState(c: RespClient, vsMaster: boolean): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const key of KEYS) {
    const type = await c.call("TYPE", key);
    if (type !== "stream") {
      out[key] = type;
      continue;
    }
    out[key] = {
      range: await c.call("XRANGE", key, "-", "+"),
      full: mask(await c.call("XINFO", "STREAM", key, "FULL", "COUNT", 0), vsMaster),
      groups: mask(await c.call("XINFO", "GROUPS", key), vsMaster),
      encoding: await c.call("OBJECT", "ENCODING", key),
    };
  }
  return out;
}

