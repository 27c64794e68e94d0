// Memory accounting: the figures INFO memory, MEMORY STATS and MEMORY DOCTOR report (Redis's
// getMemoryOverheadData and getMemoryDoctorReport, object.c), and what maxmemory compares with.
//
// Redis's used_memory is its allocator's count of live allocations: it falls as soon as a key is
// deleted. The runtime's heap size does not (garbage stays until a collection), so used_memory
// here is an account of what the server holds on purpose, kept as Redis's is, from its parts:
// what the server allocated to start (its heap then, less the heap its code holds, as Redis's
// figure leaves out its executable), each keyspace's index, record chunks and aggregates
// (keyspace-index.ts's accountedBytes, the aggregates estimated as MEMORY USAGE does,
// store/memory-size.ts), client buffers, the replication backlog and the script caches. What the
// runtime holds beyond that (garbage not yet collected, the JIT, fragmentation) shows in the RSS
// and the fragmentation figures, as the allocator's overhead does in Redis's.
//
// Resident memory: a Bun process holds tens of MB that are not its heap (the runtime's code,
// the JIT, its own heaps), measured once at start as the RSS beyond the heap then. It plays
// the part of Redis's non-allocator RSS (rss-overhead, what Lua or modules add); the rest of
// the RSS is the heap's (allocator.resident).

import { heapSize } from "bun:jsc";
import { mapBytes, objectBytes, SLOT_BYTES, stringBytes } from "../store/memory-size.ts";
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";

/** What the non-data parts cost (clients, scripts), refreshed at most once a millisecond. */
export interface OverheadSample {
  at: number;
  clientsNormal: number;
  clientsReplicas: number;
  luaCaches: number;
  functionsCaches: number;
}

/** The clients' and scripts' share of used_memory (walks every client: sampled once per ms). */
function overheadOf(server: Server, fresh = false): OverheadSample {
  const now = performance.now();
  let o = server.memoryOverheadSample;
  if (o !== null && !fresh && now - o.at < 1) return o;
  let clientsReplicas = 0;
  let clientsNormal = 0;
  for (const c of server.clients.values()) {
    if (c.conn !== null && c.conn.closed) continue; // closed, not yet forgotten: holds nothing
    if (c.replica) clientsReplicas += clientMemory(c);
    else clientsNormal += clientMemory(c);
  }
  o = { at: now, clientsNormal, clientsReplicas, luaCaches: luaCachesBytes(server), functionsCaches: functionsCachesBytes(server) };
  server.memoryOverheadSample = o;
  return o;
}

/** What the databases hold (indexes, records, aggregates). */
function datasetBytes(server: Server): number {
  let n = 0;
  for (const db of server.dbs) n += db.ks.accountedBytes;
  return n;
}

/**
 * used_memory: the heap an empty server held at start plus what it holds now on purpose
 * (see the header). `fresh`: walk the clients now rather than use the last millisecond's sum.
 */
export function usedMemory(server: Server, fresh = true): number {
  const o = overheadOf(server, fresh);
  return server.startupMemory.used + datasetBytes(server) + server.replication.backlogBytes() + o.clientsNormal + o.clientsReplicas + o.luaCaches + o.functionsCaches;
}

/**
 * What maxmemory is compared with (getMaxmemoryState): used_memory without what replicas'
 * output buffers hold (Redis counts the shared replication buffer beyond the backlog as theirs).
 */
export function memoryCountedForEviction(server: Server, fresh = false): number {
  const o = overheadOf(server, fresh);
  return server.startupMemory.used + datasetBytes(server) + server.replication.backlogBytes() + o.clientsNormal + o.luaCaches + o.functionsCaches;
}

/** What the server holds right after start, before any data (used_memory_startup). */
export interface StartupMemory {
  used: number;
  /** RSS the runtime holds beyond its heap (code, JIT, its own allocations). */
  runtimeRss: number;
}

/**
 * The heap the program's code holds once loaded (compiled functions, module records: ~3-4 MB),
 * measured before the server allocates anything. It plays the part of redis-server's
 * executable, which its used_memory does not count either.
 */
export function measureCodeHeap(): number {
  Bun.gc(true);
  return heapSize();
}

/**
 * Measures the start-up figures (after a full collection, so that they are the live heap):
 * what the server itself allocated to start (its tables, the command table, the databases:
 * ~1 MB, as redis-server's), without `codeHeap`.
 */
export function measureStartupMemory(codeHeap = 0): StartupMemory {
  Bun.gc(true);
  const mu = process.memoryUsage();
  const heap = heapSize();
  return { used: Math.max(0, heap - codeHeap), runtimeRss: Math.max(0, mu.rss - heap) };
}

/**
 * A connected client's own objects (the Client, its socket, parser and reply writer), measured
 * as the RSS growth per idle connection (5,000 connections: 13.5 MB). An idle client holds no
 * reply buffer: it borrows one from the server's pool for each batch of replies; buffered input
 * and output (replies by their length) come on top.
 */
const CLIENT_BYTES = 2700;

/** What a client holds: its objects and its buffered input and output (Redis's getClientMemoryUsage). */
export function clientMemory(c: Client): number {
  // Replies by what they hold, not the lent buffer's size: writing one small push to many idle
  // clients (tracking invalidations of evicted keys) must not look like 16 KB each.
  return CLIENT_BYTES + (c.conn?.pendingBytes ?? 0) + c.reply.length + c.parser.pendingBytes + c.parser.partialArgsBytes;
}

interface DbOverhead {
  id: number;
  main: number;
  expires: number;
}

/** Redis's struct redisMemOverhead, with our figures. */
interface MemoryOverhead {
  peakAllocated: number;
  totalAllocated: number;
  startupAllocated: number;
  replBacklog: number;
  clientsReplicas: number;
  clientsNormal: number;
  luaCaches: number;
  functionsCaches: number;
  dbs: DbOverhead[];
  overheadTotal: number;
  totalKeys: number;
  bytesPerKey: number;
  dataset: number;
  datasetPerc: number;
  peakPerc: number;
  allocatorAllocated: number;
  allocatorActive: number;
  allocatorResident: number;
  allocatorFrag: number;
  allocatorFragBytes: number;
  allocatorRss: number;
  allocatorRssBytes: number;
  rssExtra: number;
  rssExtraBytes: number;
  totalFrag: number;
  totalFragBytes: number;
  rss: number;
  /** The part of the RSS the runtime held at start beyond its heap. */
  runtimeRss: number;
}

/** Records the peak (Redis's stat_peak_memory, updated by the cron and when reported). */
export function trackPeakMemory(server: Server, used = usedMemory(server)): number {
  if (used > server.memoryPeak) server.memoryPeak = used;
  return server.memoryPeak;
}

/**
 * A script compiled by our Lua engine (its syntax tree and closures), measured as the heap
 * growth per cached script: about 1.5 KB plus 45 bytes per character of source. Redis keeps
 * compiled scripts in the Lua VM, outside used_memory; ours are on the heap, so they count
 * here rather than as data.
 */
function compiledScriptBytes(source: string): number {
  return 1500 + 45 * source.length;
}

/** EVAL's script cache: the Map, each entry's record, SHA, body and compiled form (evalScriptsMemory). */
function luaCachesBytes(server: Server): number {
  const scripts = server.scripting.scripts;
  let bytes = mapBytes(scripts.size);
  for (const s of scripts.values()) bytes += objectBytes(4) + stringBytes(s.sha) + stringBytes(s.body) + compiledScriptBytes(s.body);
  return bytes;
}

/** Function libraries: the Maps of libraries and functions, code, names, compiled forms (functionsMemoryOverhead). */
function functionsCachesBytes(server: Server): number {
  const libs = server.scripting.registry.libraries();
  let bytes = mapBytes(libs.length) + mapBytes(server.scripting.registry.functionCount());
  for (const lib of libs) {
    bytes += objectBytes(4) + stringBytes(lib.name) + stringBytes(lib.code) + compiledScriptBytes(lib.code) + mapBytes(lib.functions.size);
    for (const fn of lib.functions.values()) bytes += objectBytes(4) + stringBytes(fn.name) + (fn.description === null ? 0 : stringBytes(fn.description));
  }
  return bytes;
}

export function memoryOverhead(server: Server): MemoryOverhead {
  const mu = process.memoryUsage();
  const o = overheadOf(server, true);
  const used = usedMemory(server, false);
  const rss = mu.rss;
  const peak = trackPeakMemory(server, used);
  const startup = server.startupMemory.used;
  let total = startup;

  // Replica links hold their output beyond the backlog (Redis counts the shared replication
  // buffer beyond the backlog's size as the replicas').
  const replBacklog = server.replication.backlogBytes();
  const clientsReplicas = o.clientsReplicas;
  const clientsNormal = o.clientsNormal;
  total += replBacklog + clientsReplicas + clientsNormal;
  const luaCaches = o.luaCaches;
  const functionsCaches = o.functionsCaches;
  total += luaCaches + functionsCaches;

  const dbs: DbOverhead[] = [];
  let totalKeys = 0;
  for (const db of server.dbs) {
    if (db.size === 0) continue;
    totalKeys += db.size;
    // The keyspace's index (records are data, as Redis's keys and values are) and its array of
    // volatile keys.
    const main = db.ks.table.byteLength;
    const expires = db.expiresSize === 0 ? 0 : db.ks.volatile.refs.byteLength + (db.fieldTtlKeys.size === 0 ? 0 : db.fieldTtlKeys.size * SLOT_BYTES);
    dbs.push({ id: db.id, main, expires });
    total += main + expires;
  }

  // The heap's cells reserve more than they hold (Redis's allocator "active" memory).
  const active = Math.max(used, mu.heapTotal + mu.external);
  const runtimeRss = server.startupMemory.runtimeRss;
  const resident = Math.max(active, rss - runtimeRss);
  const overheadTotal = Math.min(used, total);
  const net = used > startup ? used - startup : 1;
  const dataset = used - overheadTotal;
  return {
    peakAllocated: peak,
    totalAllocated: used,
    startupAllocated: startup,
    replBacklog,
    clientsReplicas,
    clientsNormal,
    luaCaches,
    functionsCaches,
    dbs,
    overheadTotal,
    totalKeys,
    bytesPerKey: totalKeys ? Math.floor(net / totalKeys) : 0,
    dataset,
    datasetPerc: (dataset * 100) / net,
    peakPerc: (used * 100) / peak,
    allocatorAllocated: used,
    allocatorActive: active,
    allocatorResident: resident,
    allocatorFrag: active / used,
    allocatorFragBytes: active - used,
    allocatorRss: resident / active,
    allocatorRssBytes: resident - active,
    rssExtra: rss / resident,
    rssExtraBytes: rss - resident,
    totalFrag: rss / used,
    totalFragBytes: rss - used,
    rss,
    runtimeRss,
  };
}

const MB = 1024 * 1024;

/**
 * MEMORY DOCTOR (getMemoryDoctorReport) over our figures. Two adaptations, because the runtime
 * is not Redis's allocator: "empty" is judged on the memory grown since start (an empty Bun
 * process already holds a few MB of heap where Redis holds about one), and the RSS check
 * leaves out the RSS the runtime held at start (its code and JIT, tens of MB that are not
 * fragmentation).
 */
export function memoryDoctorReport(server: Server): string {
  const mh = memoryOverhead(server);
  let numReports = 0;
  let empty = false;
  let bigPeak = false;
  let highFrag = false;
  let highAllocFrag = false;
  let highAllocRss = false;
  let bigReplicaBuf = false;
  let bigClientBuf = false;
  let manyScripts = false;
  if (mh.totalAllocated - mh.startupAllocated < 5 * MB) {
    empty = true;
    numReports++;
  } else {
    if (mh.peakAllocated / mh.totalAllocated > 1.5) {
      bigPeak = true;
      numReports++;
    }
    const heapRss = mh.rss - mh.runtimeRss;
    if (heapRss / mh.totalAllocated > 1.4 && heapRss - mh.totalAllocated > 10 * MB) {
      highFrag = true;
      numReports++;
    }
    if (mh.allocatorFrag > 1.1 && mh.allocatorFragBytes > 10 * MB) {
      highAllocFrag = true;
      numReports++;
    }
    if (mh.allocatorRss > 1.1 && mh.allocatorRssBytes > 10 * MB) {
      highAllocRss = true;
      numReports++;
    }
    // (No "High process RSS overhead" check: the RSS beyond the heap's is taken to be the
    // runtime's, which cannot be told apart from what Redis would call non-allocator RSS.)
    let replicas = 0;
    let clients = 0;
    for (const c of server.clients.values()) {
      if (c.replica) replicas++;
      else clients++;
    }
    if (clients > 0 && mh.clientsNormal / clients > 1024 * 200) {
      bigClientBuf = true;
      numReports++;
    }
    if (replicas > 0 && mh.clientsReplicas > 10 * MB) {
      bigReplicaBuf = true;
      numReports++;
    }
    if (server.scripting.scripts.size > 1000) {
      manyScripts = true;
      numReports++;
    }
  }
  if (numReports === 0) return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
  if (empty) {
    return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
  }
  let s = "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
  if (bigPeak) {
    s +=
      " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n";
  }
  if (highFrag) {
    s += ` * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is "${MEM_ALLOCATOR}".\n\n`;
  }
  if (highAllocFrag) {
    s +=
      " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n";
  }
  if (highAllocRss) {
    s +=
      " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n";
  }
  if (bigReplicaBuf) {
    s +=
      " * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). This likely means that there is some replica instance that is struggling receiving data, either because it is too slow or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and the CLIENT LIST command to check the output buffers of each replica.\n\n";
  }
  if (bigClientBuf) {
    s +=
      " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n";
  }
  if (manyScripts) {
    s +=
      " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n";
  }
  return s + "I'm here to keep you safe, Sam. I want to help you.\n";
}

/** What INFO's mem_allocator and MEMORY DOCTOR name as the allocator. */
export const MEM_ALLOCATOR = "bun";
