// Where time goes, as Redis 7.0 records it:
// - the slow log (slowlog.c): commands that took slowlog-log-slower-than microseconds or more,
//   newest first, at most slowlog-max-len, arguments cut as Redis cuts them;
// - the latency monitor (latency.c): events ("command", "fast-command", "expire-cycle"...) that
//   took latency-monitor-threshold ms or more, one sample per second per event (the worst), the
//   last 160 kept;
// - per-command latency histograms (latency-tracking): LATENCY HISTOGRAM and INFO
//   latencystats' percentiles. Redis uses an HdrHistogram (2 significant digits); here buckets
//   grow by 2^(1/32), a percentile within ~2% of the exact value, the power-of-two boundaries
//   LATENCY HISTOGRAM reports exact.

import type { Client } from "./client.ts";
import type { Config } from "../config/config.ts";

const SLOWLOG_ENTRY_MAX_ARGC = 32;
const SLOWLOG_ENTRY_MAX_STRING = 128;

interface SlowlogEntry {
  id: number;
  /** Unix seconds. */
  time: number;
  /** Microseconds. */
  duration: number;
  args: string[];
  peer: string;
  name: string;
}

export class Slowlog {
  /** Newest first. */
  entries: SlowlogEntry[] = [];
  private nextId = 0;

  constructor(private readonly config: Config) {}

  /** slowlogPushEntryIfNeeded: `argv` as the client sent it (redacted arguments shown so). */
  record(c: Client, argv: string[], usec: number): void {
    const threshold = this.config.hot.slowlogLogSlowerThan;
    if (threshold < 0 || usec < threshold) return;
    const argc = Math.min(argv.length, SLOWLOG_ENTRY_MAX_ARGC);
    const args: string[] = [];
    for (let j = 0; j < argc; j++) {
      if (argc !== argv.length && j === argc - 1) {
        args.push(`... (${argv.length - argc + 1} more arguments)`);
        break;
      }
      const a = c.redactedArgs?.includes(j) ? "(redacted)" : argv[j]!;
      // A cut argument is copied: a substring would keep the whole (maybe huge) argument alive.
      args.push(a.length > SLOWLOG_ENTRY_MAX_STRING ? `${Buffer.from(a.slice(0, SLOWLOG_ENTRY_MAX_STRING), "latin1").latin1Slice()}... (${a.length - SLOWLOG_ENTRY_MAX_STRING} more bytes)` : a);
    }
    this.entries.unshift({ id: this.nextId++, time: Math.floor(Date.now() / 1000), duration: Math.round(usec), args, peer: c.addr, name: c.name });
    this.trim();
  }

  trim(): void {
    const max = this.config.num("slowlog-max-len");
    if (this.entries.length > max) this.entries.length = max;
  }

  reset(): void {
    this.entries = [];
  }
}

/** One event's samples: a ring of the last 160 seconds that had one. */
export interface LatencySeries {
  /** [unix seconds, ms] in time order. */
  samples: Array<[number, number]>;
  max: number;
}

const LATENCY_TS_LEN = 160;

export class LatencyMonitor {
  readonly events = new Map<string, LatencySeries>();

  constructor(private readonly config: Config) {}

  /** latencyAddSampleIfNeeded: only past latency-monitor-threshold (0: off). */
  addIfNeeded(event: string, ms: number): void {
    const threshold = this.config.hot.latencyMonitorThreshold;
    if (threshold === 0 || ms < threshold) return;
    const now = Math.floor(Date.now() / 1000);
    let ts = this.events.get(event);
    if (!ts) this.events.set(event, (ts = { samples: [], max: 0 }));
    const latency = Math.floor(ms);
    if (latency > ts.max) ts.max = latency;
    const last = ts.samples[ts.samples.length - 1];
    if (last && last[0] === now) {
      if (latency > last[1]) last[1] = latency;
      return;
    }
    ts.samples.push([now, latency]);
    if (ts.samples.length > LATENCY_TS_LEN) ts.samples.shift();
  }

  /** latencyResetEvent: how many were reset. */
  reset(event?: string): number {
    if (event === undefined) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    return this.events.delete(event) ? 1 : 0;
  }
}

/** Buckets per doubling of a histogram (2^(1/32) apart: a percentile within ~2.2%). */
const SUB = 32;
/** Redis's LATENCY_HISTOGRAM_MIN_VALUE / MAX_VALUE: 1 ns .. 1 s; slower calls count as 1 s. */
const MAX_NS = 1e9;
/** Bucket i holds values up to 2^(i/SUB) ns; 2^30 ns is past the maximum. */
const DOUBLINGS = 30;
/** LATENCY HISTOGRAM's first boundary, 1024 ns (2^10), then doubling. */
const FIRST_REPORTED = 10;

/** Per-command latency distribution (nanoseconds) for LATENCY HISTOGRAM and INFO latencystats. */
export class CommandHistogram {
  calls = 0;
  private readonly counts = new Float64Array(DOUBLINGS * SUB + 1);

  record(ns: number): void {
    this.calls++;
    const v = Math.min(MAX_NS, ns);
    const i = v <= 1 ? 0 : Math.ceil(Math.log2(v) * SUB);
    this.counts[i]!++;
  }

  /** The value (ns) at a percentile (0-100): the upper end of the bucket holding it. */
  percentileNs(p: number): number {
    if (this.calls === 0) return 0;
    const target = Math.max(1, Math.ceil((p / 100) * this.calls));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= target) return Math.min(MAX_NS, Math.floor(2 ** (i / SUB)));
    }
    return MAX_NS;
  }

  /**
   * LATENCY HISTOGRAM's buckets: [bound in µs, calls at or below it] at 1024 ns doubling, only
   * where the count grew. The bounds are those Redis's HdrHistogram (2 significant digits)
   * reports: the top of the 2^n ns value's equivalence range, 2^(n-7) wide (1, 2, 4, 8, 16, 33,
   * 66, 132... µs), the last one 2^30 ns.
   */
  cumulativeBuckets(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let seen = 0;
    let previous = 0;
    let i = 0;
    for (let n = FIRST_REPORTED; previous < this.calls && n <= DOUBLINGS; n++) {
      for (; i <= n * SUB; i++) seen += this.counts[i]!;
      const bound = n < DOUBLINGS ? Math.floor((2 ** n + 2 ** (n - 7) - 1) / 1000) : Math.floor(2 ** n / 1000);
      if (seen > previous) out.push([bound, seen]);
      previous = seen;
    }
    return out;
  }
}
