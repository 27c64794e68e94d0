// LATENCY DOCTOR's report and LATENCY GRAPH's sparkline, worded and drawn as Redis 7.0 does
// (latency.c createLatencyReport, sparkline.c), for the events Replicant records: command,
// fast-command, expire-cycle.

import { readFileSync } from "node:fs";
import type { Config } from "../../config/config.ts";
import type { LatencyMonitor, LatencySeries } from "../../core/latency.ts";

interface EventStats {
  samples: number;
  avg: number;
  mad: number;
  /** Seconds from the oldest sample to now (at least 1). */
  period: number;
}

/** analyzeLatencyForEvent: average and mean absolute deviation (integer ms, as Redis). */
function analyze(ts: LatencySeries): EventStats {
  const n = ts.samples.length;
  if (n === 0) return { samples: 0, avg: 0, mad: 0, period: 0 };
  let sum = 0;
  let oldest = Infinity;
  for (const [time, ms] of ts.samples) {
    sum += ms;
    if (time < oldest) oldest = time;
  }
  const avg = Math.floor(sum / n);
  let dev = 0;
  for (const [, ms] of ts.samples) dev += Math.abs(avg - ms);
  const period = Math.floor(Date.now() / 1000) - oldest || 1;
  return { samples: n, avg, mad: Math.floor(dev / n), period };
}

/** Transparent huge pages in use by this process (Redis's THPGetAnonHugePagesSize). */
function anonHugePagesBytes(): number {
  try {
    const m = /^AnonHugePages:\s+(\d+) kB/m.exec(readFileSync("/proc/self/smaps_rollup", "latin1"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function latencyDoctorReport(monitor: LatencyMonitor, config: Config): string {
  const threshold = config.num("latency-monitor-threshold");
  if (monitor.events.size === 0 && threshold === 0) {
    return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
  }
  let report = "";
  const advise = new Set<string>();
  let eventNum = 0;
  for (const [event, ts] of monitor.events) {
    eventNum++;
    if (eventNum === 1) report += "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
    const ls = analyze(ts);
    report += `${eventNum}. ${event}: ${ls.samples} latency spikes (average ${ls.avg}ms, mean deviation ${ls.mad}ms, period ${(ls.period / ls.samples).toFixed(2)} sec). Worst all time event ${ts.max}ms.`;
    if (event === "command") {
      const slower = config.num("slowlog-log-slower-than");
      if (slower < 0) advise.add("slowlog-enabled");
      else if (Math.floor(slower / 1000) > threshold) advise.add("slowlog-tuning");
      advise.add("slowlog-inspect");
      advise.add("large-objects");
    } else if (event === "fast-command") {
      advise.add("scheduler");
    } else if (event === "expire-cycle") {
      advise.add("hz");
      advise.add("large-objects");
    }
    report += "\n";
  }
  if (anonHugePagesBytes() > 0) advise.add("thp");

  if (eventNum === 0 && advise.size === 0) {
    return report + "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";
  }
  if (advise.size === 0) {
    return report + "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n";
  }
  report += "\nI have a few advices for you:\n\n";
  if (advise.has("slowlog-enabled")) {
    report += `- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than ${threshold * 1000}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n`;
  }
  if (advise.has("slowlog-tuning")) {
    report += `- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${threshold * 1000}'.\n`;
  }
  if (advise.has("slowlog-inspect")) {
    report += "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n";
  }
  if (advise.has("scheduler")) {
    report +=
      "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
      "  1) Lower the system load.\n" +
      "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
      '  3) Check if you have a "noisy neighbour" problem.\n' +
      "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
      "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n";
  }
  if (advise.has("hz") && config.num("hz") < 100) {
    report += "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n";
  }
  if (advise.has("large-objects")) {
    report += "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n";
  }
  if (advise.has("thp")) {
    report += "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n";
  }
  return report;
}

const GRAPH_COLS = 80;
const GRAPH_ROWS = 4;
const FILL = "_o#";

/** How long ago, as the graph's labels: 12s, 5m, 3h, 2d. */
function ago(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** One block of at most 80 samples (sparklineRenderRange with SPARKLINE_FILL). */
function renderRange(values: number[], labels: string[], min: number, max: number): string {
  const steps = FILL.length * GRAPH_ROWS;
  const relmax = max - min || 1;
  const lines: string[] = [];
  for (let row = 0; ; row++) {
    let any = false;
    const chars = new Array<string>(values.length).fill(" ");
    if (row < GRAPH_ROWS) {
      for (let j = 0; j < values.length; j++) {
        const step = Math.min(steps - 1, Math.max(0, Math.trunc(((values[j]! - min) * steps) / relmax)));
        const idx = step - (GRAPH_ROWS - row - 1) * FILL.length;
        any = true;
        if (idx >= 0 && idx < FILL.length) chars[j] = FILL[idx]!;
        else if (idx >= FILL.length) chars[j] = "|";
      }
    } else if (row === GRAPH_ROWS) {
      // The blank line between the graph and its labels (label_margin_top).
      any = true;
    } else {
      const at = row - GRAPH_ROWS - 1;
      for (let j = 0; j < values.length; j++) {
        if (labels[j]!.length > at) {
          any = true;
          chars[j] = labels[j]![at]!;
        }
      }
    }
    if (!any) break;
    lines.push(chars.join(""));
  }
  return lines.map((l) => `${l}\n`).join("");
}

export function latencyGraph(event: string, ts: LatencySeries): string {
  const now = Math.floor(Date.now() / 1000);
  const values = ts.samples.map(([, ms]) => ms);
  const labels = ts.samples.map(([time]) => ago(now - time));
  const min = values.length ? Math.min(...values) : 0;
  const max = values.length ? Math.max(...values) : 0;
  let graph = `${event} - high ${max} ms, low ${min} ms (all time high ${ts.max} ms)\n${"-".repeat(GRAPH_COLS)}\n`;
  for (let j = 0; j < values.length; j += GRAPH_COLS) {
    if (j !== 0) graph += "\n";
    graph += renderRange(values.slice(j, j + GRAPH_COLS), labels.slice(j, j + GRAPH_COLS), min, max);
  }
  return graph;
}
