// MEMORY (object.c's memoryCommand): USAGE estimates what a key costs on the heap
// (store/memory-size.ts), STATS and DOCTOR report the server's figures (core/memory.ts).

import { memoryDoctorReport, memoryOverhead, trackPeakMemory } from "../../core/memory.ts";
import { NOT_FOUND } from "../../store/database.ts";
import { NOT_INTEGER, SYNTAX, fail } from "../../core/errors.ts";
import { replyHelp } from "../scripting/scripting.ts";
import { parseLongLong } from "../strings/parse.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

/** Elements sampled in an aggregate by default (OBJ_COMPUTE_SIZE_DEF_SAMPLES). */
const DEFAULT_SAMPLES = 5;

const HELP = [
  "DOCTOR",
  "    Return memory problems reports.",
  "MALLOC-STATS",
  "    Return internal statistics report from the memory allocator.",
  "PURGE",
  "    Attempt to purge dirty pages for reclamation by the allocator.",
  "STATS",
  "    Return information about the memory usage of the server.",
  "USAGE <key> [SAMPLES <count>]",
  "    Return memory in bytes used by <key> and its value. Nested values are",
  "    sampled up to <count> times (default: 5, 0 means sample all).",
];

export const handlers: HandlerMap = {
  "memory|help"(c) {
    replyHelp(c, "MEMORY", HELP);
  },

  "memory|usage"(c, argv) {
    let samples = DEFAULT_SAMPLES;
    for (let j = 3; j < argv.length; j++) {
      if (argv[j]!.toLowerCase() === "samples" && j + 1 < argv.length) {
        const n = parseLongLong(argv[j + 1]!);
        if (n === null) fail(NOT_INTEGER);
        if (n < 0) fail(SYNTAX);
        samples = n === 0 ? Infinity : Number(n);
        j++;
      } else fail(SYNTAX);
    }
    // As Redis (dictFind): the key as stored, even when logically expired, without touching it.
    const key = argv[2]!;
    const db = c.db;
    const slot = db.find(key);
    if (slot === NOT_FOUND) return c.reply.null();
    c.reply.int(db.memoryUsageAt(slot, samples));
  },

  "memory|stats"(c) {
    const mh = memoryOverhead(c.server);
    const r = c.reply;
    // Ratios are single-precision floats in Redis: sent as such they read the same way.
    const ratio = (x: number) => r.double(Math.fround(x));
    r.map(27 + mh.dbs.length);
    const field = (name: string, n: number) => {
      r.bulk(name);
      r.int(n);
    };
    field("peak.allocated", mh.peakAllocated);
    field("total.allocated", mh.totalAllocated);
    field("startup.allocated", mh.startupAllocated);
    field("replication.backlog", mh.replBacklog);
    field("clients.slaves", mh.clientsReplicas);
    field("clients.normal", mh.clientsNormal);
    field("cluster.links", 0);
    field("aof.buffer", 0);
    field("lua.caches", mh.luaCaches);
    field("functions.caches", mh.functionsCaches);
    for (const db of mh.dbs) {
      r.bulk(`db.${db.id}`);
      r.map(3);
      field("overhead.hashtable.main", db.main);
      field("overhead.hashtable.expires", db.expires);
      field("overhead.hashtable.slot-to-keys", 0);
    }
    field("overhead.total", mh.overheadTotal);
    field("keys.count", mh.totalKeys);
    field("keys.bytes-per-key", mh.bytesPerKey);
    field("dataset.bytes", mh.dataset);
    r.bulk("dataset.percentage");
    ratio(mh.datasetPerc);
    r.bulk("peak.percentage");
    ratio(mh.peakPerc);
    field("allocator.allocated", mh.allocatorAllocated);
    field("allocator.active", mh.allocatorActive);
    field("allocator.resident", mh.allocatorResident);
    r.bulk("allocator-fragmentation.ratio");
    ratio(mh.allocatorFrag);
    field("allocator-fragmentation.bytes", mh.allocatorFragBytes);
    r.bulk("allocator-rss.ratio");
    ratio(mh.allocatorRss);
    field("allocator-rss.bytes", mh.allocatorRssBytes);
    r.bulk("rss-overhead.ratio");
    ratio(mh.rssExtra);
    field("rss-overhead.bytes", mh.rssExtraBytes);
    r.bulk("fragmentation");
    ratio(mh.totalFrag);
    field("fragmentation.bytes", mh.totalFragBytes);
  },

  "memory|malloc-stats"(c) {
    // What Redis answers when not built with jemalloc: the runtime's allocators publish no report.
    c.reply.bulk("Stats not supported for the current allocator");
  },

  "memory|doctor"(c) {
    c.reply.verbatim(memoryDoctorReport(c.server));
  },

  "memory|purge"(c) {
    // Redis asks jemalloc to return dirty pages; the runtime's equivalent is a full collection,
    // which frees garbage and gives its pages back.
    Bun.gc(true);
    // The heap's size is exact right after a collection: a good time to record the peak.
    trackPeakMemory(c.server);
    c.reply.ok();
  },
};
