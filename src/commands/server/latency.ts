// SLOWLOG and LATENCY, with Redis 7.0's replies and texts. The recording is in core/latency.ts
// (fed by dispatch's call()); these read and reset it.

import type { Client } from "../../core/client.ts";
import type { CommandHistogram } from "../../core/latency.ts";
import { latencyDoctorReport, latencyGraph } from "./latency-report.ts";
import { i64Arg } from "../../core/args.ts";
import { fail } from "../../core/errors.ts";
import { replyHelp } from "../scripting/scripting.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

/** LATENCY HISTOGRAM's per-command entry: a map of calls and the cumulative buckets. */
function replyHistogram(c: Client, name: string, h: CommandHistogram): void {
  const r = c.reply;
  r.bulk(name);
  r.map(2);
  r.bulk("calls");
  r.int(h.calls);
  r.bulk("histogram_usec");
  const buckets = h.cumulativeBuckets();
  r.map(buckets.length);
  for (const [usec, count] of buckets) {
    r.int(usec);
    r.int(count);
  }
}

export const handlers: HandlerMap = {
  "slowlog|get"(c, argv) {
    const slowlog = c.server.slowlog;
    let count = 10;
    if (argv.length > 3) fail(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try SLOWLOG HELP.`);
    if (argv.length === 3) {
      const n = i64Arg(argv[2]!, "ERR count should be greater than or equal to -1");
      if (n < -1) fail("ERR count should be greater than or equal to -1");
      count = n === -1 ? slowlog.entries.length : Number(n);
    }
    const entries = slowlog.entries.slice(0, count);
    const r = c.reply;
    r.array(entries.length);
    for (const e of entries) {
      r.array(6);
      r.int(e.id);
      r.int(e.time);
      r.int(e.duration);
      r.bulkArray(e.args);
      r.bulk(e.peer);
      r.bulk(e.name);
    }
  },
  "slowlog|len"(c) {
    c.reply.int(c.server.slowlog.entries.length);
  },
  "slowlog|reset"(c) {
    c.server.slowlog.reset();
    c.reply.ok();
  },
  "slowlog|help"(c) {
    replyHelp(c, "SLOWLOG", [
      "GET [<count>]",
      "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
      "    Entries are made of:",
      "    id, timestamp, time in microseconds, arguments array, client IP and port,",
      "    client name",
      "LEN",
      "    Return the length of the slowlog.",
      "RESET",
      "    Reset the slowlog.",
    ]);
  },

  "latency|latest"(c) {
    const r = c.reply;
    const events = c.server.latency.events;
    r.array(events.size);
    for (const [event, ts] of events) {
      const last = ts.samples[ts.samples.length - 1]!;
      r.array(4);
      r.bulk(event);
      r.int(last[0]);
      r.int(last[1]);
      r.int(ts.max);
    }
  },
  "latency|history"(c, argv) {
    const ts = c.server.latency.events.get(argv[2]!);
    const samples = ts?.samples ?? [];
    c.reply.array(samples.length);
    for (const [time, ms] of samples) {
      c.reply.array(2);
      c.reply.int(time);
      c.reply.int(ms);
    }
  },
  "latency|reset"(c, argv) {
    const monitor = c.server.latency;
    if (argv.length === 2) return c.reply.int(monitor.reset());
    let n = 0;
    for (const event of argv.slice(2)) n += monitor.reset(event);
    c.reply.int(n);
  },
  "latency|graph"(c, argv) {
    const ts = c.server.latency.events.get(argv[2]!);
    if (!ts) fail(`ERR No samples available for event '${argv[2]}'`);
    c.reply.verbatim(latencyGraph(argv[2]!, ts));
  },
  "latency|doctor"(c) {
    c.reply.verbatim(latencyDoctorReport(c.server.latency, c.server.config));
  },
  "latency|histogram"(c, argv) {
    const stats = c.server.stats.commands;
    const chosen: Array<[string, CommandHistogram]> = [];
    const add = (name: string) => {
      const h = stats.get(name)?.histogram;
      if (h) chosen.push([name, h]);
    };
    if (argv.length === 2) {
      for (const name of [...stats.keys()].sort()) add(name);
    } else {
      for (const arg of argv.slice(2)) {
        // A name as COMMAND INFO takes it: "config|set", or a container for all its subcommands.
        const [parent, sub] = arg.toLowerCase().split("|", 2) as [string, string | undefined];
        const spec = c.server.commands.get(parent);
        if (!spec) continue;
        if (sub !== undefined) {
          if (spec.subcommands?.has(sub)) add(`${spec.name}|${sub}`);
          continue;
        }
        add(spec.name);
        if (spec.subcommands) for (const s of spec.subcommands.values()) add(s.name);
      }
    }
    c.reply.map(chosen.length);
    for (const [name, h] of chosen) replyHistogram(c, name, h);
  },
  "latency|help"(c) {
    replyHelp(c, "LATENCY", [
      "DOCTOR",
      "    Return a human readable latency analysis report.",
      "GRAPH <event>",
      "    Return an ASCII latency graph for the <event> class.",
      "HISTORY <event>",
      "    Return time-latency samples for the <event> class.",
      "LATEST",
      "    Return the latest latency samples for all events.",
      "RESET [<event> ...]",
      "    Reset latency data of one or more <event> classes.",
      "    (default: reset all data for all event classes)",
      "HISTOGRAM [COMMAND ...]",
      "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
      "    If no commands are specified then all histograms are replied.",
    ]);
  },
};
