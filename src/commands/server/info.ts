// INFO in redis-server 7.0's exact field format (server.c genRedisInfoString): tools such as
// redis-cli, Sentinel, exporters and client libraries parse these lines. Fields that have no
// meaning here (jemalloc internals, AOF, io threads) are reported with their idle values.

import { replicationOf } from "../../replication/replication.ts";
import { saveProgress } from "../../dataset/persistence.ts";
import { aofRewriteState } from "../../dataset/aof-rewrite.ts";
import { aofOf, AofState } from "../../dataset/aof.ts";
import { totalmem, type as osType, release as osRelease, arch } from "node:os";
import { REDIS_COMPAT_VERSION } from "../../common/version.ts";
import type { Server } from "../../core/server.ts";
import { MEM_ALLOCATOR, memoryOverhead } from "../../core/memory.ts";

const DEFAULT_SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "module_list", "errorstats", "cluster", "keyspace"];
const ALL_SECTIONS = [...DEFAULT_SECTIONS.filter((s) => s !== "module_list"), "modules", "commandstats", "latencystats"];

/** Redis's bytesToHuman: 895.12K, 6.35M, 23.54G. */
function bytesToHuman(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(2)}K`;
  if (n < 1024 * 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(2)}M`;
  if (n < 1024 ** 4) return `${(n / 1024 ** 3).toFixed(2)}G`;
  return `${(n / 1024 ** 4).toFixed(2)}T`;
}

function secondsAgo(ms: number): number {
  return Math.floor((Date.now() - ms) / 1000);
}

type Section = (server: Server) => string[];

const sections: Record<string, Section> = {
  server(server) {
    const uptime = Math.floor((Date.now() - server.startedAt) / 1000);
    const hz = server.config.num("hz");
    return [
      `redis_version:${REDIS_COMPAT_VERSION}`,
      "redis_git_sha1:00000000",
      "redis_git_dirty:0",
      "redis_build_id:0",
      "redis_mode:standalone",
      `os:${osType()} ${osRelease()} ${arch() === "x64" ? "x86_64" : arch()}`,
      "arch_bits:64",
      "monotonic_clock:POSIX clock_gettime",
      "multiplexing_api:epoll",
      "atomicvar_api:c11-builtin",
      "gcc_version:0.0.0",
      `process_id:${process.pid}`,
      `process_supervised:${server.supervision}`,
      `run_id:${server.runId}`,
      `tcp_port:${server.listeningPort}`,
      `server_time_usec:${Date.now() * 1000}`,
      `uptime_in_seconds:${uptime}`,
      `uptime_in_days:${Math.floor(uptime / 86400)}`,
      `hz:${hz}`,
      `configured_hz:${hz}`,
      `lru_clock:${Math.floor(Date.now() / 1000) & ((1 << 24) - 1)}`,
      `executable:${process.execPath}`,
      `config_file:${server.config.configFile}`,
      "io_threads_active:0",
      `replicant_bun_version:${Bun.version}`,
    ];
  },
  clients(server) {
    return [
      `connected_clients:${countNormalClients(server)}`,
      "cluster_connections:0",
      `maxclients:${server.config.num("maxclients")}`,
      "client_recent_max_input_buffer:0",
      "client_recent_max_output_buffer:0",
      `blocked_clients:${server.blocking.blockedClients()}`,
      `tracking_clients:${server.tracking.clients}`,
      `clients_in_timeout_table:${server.blocking.clientsWithTimeout()}`,
    ];
  },
  memory(server) {
    // The figures MEMORY STATS reports too (core/memory.ts).
    const mh = memoryOverhead(server);
    const used = mh.totalAllocated;
    const rss = mh.rss;
    const peak = mh.peakAllocated;
    const maxmemory = server.config.num("maxmemory");
    const total = totalmem();
    const scripts = mh.luaCaches + mh.functionsCaches;
    return [
      `used_memory:${used}`,
      `used_memory_human:${bytesToHuman(used)}`,
      `used_memory_rss:${rss}`,
      `used_memory_rss_human:${bytesToHuman(rss)}`,
      `used_memory_peak:${peak}`,
      `used_memory_peak_human:${bytesToHuman(peak)}`,
      `used_memory_peak_perc:${mh.peakPerc.toFixed(2)}%`,
      `used_memory_overhead:${mh.overheadTotal}`,
      `used_memory_startup:${mh.startupAllocated}`,
      `used_memory_dataset:${mh.dataset}`,
      `used_memory_dataset_perc:${mh.datasetPerc.toFixed(2)}%`,
      `allocator_allocated:${mh.allocatorAllocated}`,
      `allocator_active:${mh.allocatorActive}`,
      `allocator_resident:${mh.allocatorResident}`,
      `total_system_memory:${total}`,
      `total_system_memory_human:${bytesToHuman(total)}`,
      // Scripts compile into the heap (counted in used_memory), not into a separate VM.
      "used_memory_lua:0",
      "used_memory_vm_eval:0",
      "used_memory_lua_human:0B",
      `used_memory_scripts_eval:${mh.luaCaches}`,
      `number_of_cached_scripts:${server.scripting.cachedScripts}`,
      `number_of_functions:${server.scripting.registry.functionCount()}`,
      `number_of_libraries:${server.functions.size}`,
      "used_memory_vm_functions:0",
      "used_memory_vm_total:0",
      "used_memory_vm_total_human:0B",
      `used_memory_functions:${mh.functionsCaches}`,
      `used_memory_scripts:${scripts}`,
      `used_memory_scripts_human:${bytesToHuman(scripts)}`,
      `maxmemory:${maxmemory}`,
      `maxmemory_human:${bytesToHuman(maxmemory)}`,
      `maxmemory_policy:${server.config.str("maxmemory-policy")}`,
      `allocator_frag_ratio:${mh.allocatorFrag.toFixed(2)}`,
      `allocator_frag_bytes:${mh.allocatorFragBytes}`,
      `allocator_rss_ratio:${mh.allocatorRss.toFixed(2)}`,
      `allocator_rss_bytes:${mh.allocatorRssBytes}`,
      `rss_overhead_ratio:${mh.rssExtra.toFixed(2)}`,
      `rss_overhead_bytes:${mh.rssExtraBytes}`,
      `mem_fragmentation_ratio:${mh.totalFrag.toFixed(2)}`,
      `mem_fragmentation_bytes:${mh.totalFragBytes}`,
      `mem_not_counted_for_evict:${mh.clientsReplicas}`,
      `mem_replication_backlog:${mh.replBacklog}`,
      `mem_total_replication_buffers:${mh.replBacklog + mh.clientsReplicas}`,
      `mem_clients_slaves:${mh.clientsReplicas}`,
      `mem_clients_normal:${mh.clientsNormal}`,
      "mem_cluster_links:0",
      "mem_aof_buffer:0",
      `mem_allocator:${MEM_ALLOCATOR}`,
      "active_defrag_running:0",
      "lazyfree_pending_objects:0",
      "lazyfreed_objects:0",
    ];
  },
  persistence(server) {
    const p = server.persistence;
    const aof = aofRewriteState(server);
    const aofFile = aofOf(server);
    const link = replicationOf(server).link;
    return [
      `loading:${server.loading ? 1 : 0}`,
      `async_loading:${link.syncInProgress && link.asyncLoading ? 1 : 0}`,
      ...(server.loading && server.loadProgress ? server.loadProgress.infoLines() : []),
      "current_cow_peak:0",
      "current_cow_size:0",
      "current_cow_size_age:0",
      "current_fork_perc:0.00",
      `current_save_keys_processed:${saveProgress(server).processed}`,
      `current_save_keys_total:${saveProgress(server).total}`,
      `rdb_changes_since_last_save:${server.dirty}`,
      `rdb_bgsave_in_progress:${p.bgsaveInProgressSince ? 1 : 0}`,
      `rdb_last_save_time:${p.lastSaveTime}`,
      `rdb_last_bgsave_status:${p.lastBgsaveStatus}`,
      `rdb_last_bgsave_time_sec:${p.lastBgsaveTimeSec}`,
      `rdb_current_bgsave_time_sec:${p.bgsaveInProgressSince ? secondsAgo(p.bgsaveInProgressSince) : -1}`,
      `rdb_saves:${p.saves}`,
      "rdb_last_cow_size:0",
      `rdb_last_load_keys_expired:${p.lastLoadKeysExpired}`,
      `rdb_last_load_keys_loaded:${p.lastLoadKeysLoaded}`,
      `aof_enabled:${aofFile.state !== AofState.Off ? 1 : 0}`,
      `aof_rewrite_in_progress:${aof.job ? 1 : 0}`,
      `aof_rewrite_scheduled:${aof.scheduled ? 1 : 0}`,
      `aof_last_rewrite_time_sec:${aof.lastTimeSec}`,
      `aof_current_rewrite_time_sec:${aof.job ? secondsAgo(aof.job.startedMs) : -1}`,
      `aof_last_bgrewrite_status:${aof.lastStatus}`,
      `aof_rewrites:${aof.rewrites}`,
      `aof_rewrites_consecutive_failures:${aof.consecutiveFailures}`,
      `aof_last_write_status:${aofFile.lastWriteOk ? "ok" : "err"}`,
      "aof_last_cow_size:0",
      "module_fork_in_progress:0",
      "module_fork_last_cow_size:0",
      ...(server.config.bool("appendonly") ? aofFile.infoLines(aof.scheduled) : []),
    ];
  },
  stats(server) {
    const s = server.stats;
    return [
      `total_connections_received:${s.totalConnectionsReceived}`,
      `total_commands_processed:${s.totalCommandsProcessed}`,
      `instantaneous_ops_per_sec:${server.instantaneousOps()}`,
      `total_net_input_bytes:${s.netInputBytes}`,
      `total_net_output_bytes:${s.netOutputBytes}`,
      `total_net_repl_input_bytes:${s.netReplInputBytes}`,
      `total_net_repl_output_bytes:${s.netReplOutputBytes}`,
      "instantaneous_input_kbps:0.00",
      "instantaneous_output_kbps:0.00",
      "instantaneous_input_repl_kbps:0.00",
      "instantaneous_output_repl_kbps:0.00",
      `rejected_connections:${s.rejectedConnections}`,
      `sync_full:${s.syncFull}`,
      `sync_partial_ok:${s.syncPartialOk}`,
      `sync_partial_err:${s.syncPartialErr}`,
      `expired_keys:${s.expiredKeys}`,
      "expired_stale_perc:0.00",
      "expired_time_cap_reached_count:0",
      "expire_cycle_cpu_milliseconds:0",
      `evicted_keys:${s.evictedKeys}`,
      `evicted_clients:${s.evictedClients}`,
      `total_eviction_exceeded_time:${server.eviction.exceededTimes().total}`,
      `current_eviction_exceeded_time:${server.eviction.exceededTimes().current}`,
      `keyspace_hits:${s.keyspaceHits}`,
      `keyspace_misses:${s.keyspaceMisses}`,
      `pubsub_channels:${server.channels.size}`,
      `pubsub_patterns:${server.patterns.size}`,
      "pubsubshard_channels:0",
      "latest_fork_usec:0",
      "total_forks:0",
      `migrate_cached_sockets:${server.migrateSockets.size}`,
      "slave_expires_tracked_keys:0",
      "active_defrag_hits:0",
      "active_defrag_misses:0",
      "active_defrag_key_hits:0",
      "active_defrag_key_misses:0",
      "total_active_defrag_time:0",
      "current_active_defrag_time:0",
      `tracking_total_keys:${server.tracking.table.size}`,
      `tracking_total_items:${server.tracking.totalItems}`,
      `tracking_total_prefixes:${server.tracking.prefixes.size}`,
      `unexpected_error_replies:${s.unexpectedErrorReplies}`,
      `total_error_replies:${s.totalErrorReplies}`,
      "dump_payload_sanitizations:0",
      `total_reads_processed:${s.totalReadsProcessed}`,
      `total_writes_processed:${s.totalWritesProcessed}`,
      "io_threaded_reads_processed:0",
      "io_threaded_writes_processed:0",
      "reply_buffer_shrinks:0",
      "reply_buffer_expands:0",
    ];
  },
  replication(server) {
    const repl = replicationOf(server);
    const link = repl.link;
    const cfg = server.config;
    const lines = [`role:${repl.masterHost === null ? "master" : "slave"}`];
    if (repl.masterHost !== null) {
      let applied = 1;
      let read = 1;
      if (link.masterClient || link.delayed) {
        applied = repl.masterReplOffset;
        read = link.readReplOffset;
      } else if (link.cached) {
        applied = link.cached.offset;
        read = link.cached.offset;
      }
      const connected = repl.isLinkUp();
      lines.push(
        `master_host:${repl.masterHost}`,
        `master_port:${repl.masterPort}`,
        `master_link_status:${connected ? "up" : "down"}`,
        `master_last_io_seconds_ago:${link.masterClient ? secondsAgo(link.lastInteraction) : -1}`,
        `master_sync_in_progress:${link.syncInProgress ? 1 : 0}`,
        `slave_read_repl_offset:${read}`,
        `slave_repl_offset:${applied}`,
      );
      lines.push(...link.delayInfoLines());
      // Valkey 8's fields for the stream a dual-channel sync buffers while it loads.
      if (server.config.bool("dual-channel-replication-enabled")) lines.push(`replicas_repl_buffer_size:${link.dualBufferBytes}`, `replicas_repl_buffer_peak:${link.dualBufferPeak}`, `replicas_repl_buffer_spilled:${link.dualSpilledBytes}`);
      if (link.syncInProgress) {
        const total = link.syncTotalBytes;
        const readBytes = link.syncReadBytes;
        const perc = total > 0 ? (readBytes / total) * 100 : 0;
        lines.push(
          `master_sync_total_bytes:${total}`,
          `master_sync_read_bytes:${readBytes}`,
          `master_sync_left_bytes:${total - readBytes}`,
          `master_sync_perc:${perc.toFixed(2)}`,
          `master_sync_last_io_seconds_ago:${link.lastIoSecondsAgo()}`,
        );
      }
      if (!connected) lines.push(`master_link_down_since_seconds:${link.linkDownSince ? secondsAgo(link.linkDownSince) : -1}`);
      lines.push(`slave_priority:${cfg.num("replica-priority")}`, `slave_read_only:${cfg.bool("replica-read-only") ? 1 : 0}`, `replica_announced:${cfg.bool("replica-announced") ? 1 : 0}`);
    }
    const replicas = repl.replicaInfoLines();
    lines.push(`connected_slaves:${replicas.length}`);
    if (cfg.num("min-replicas-to-write") && cfg.num("min-replicas-max-lag")) lines.push(`min_slaves_good_slaves:${repl.goodReplicasCount()}`);
    lines.push(...replicas);
    const b = repl.backlog;
    lines.push(
      `master_failover_state:${repl.failoverState()}`,
      `master_replid:${repl.replid}`,
      `master_replid2:${repl.replid2}`,
      `master_repl_offset:${repl.masterReplOffset}`,
      `second_repl_offset:${repl.secondReplidOffset}`,
      `repl_backlog_active:${b ? 1 : 0}`,
      `repl_backlog_size:${cfg.num("repl-backlog-size")}`,
      `repl_backlog_first_byte_offset:${b ? b.firstByteOffset : 0}`,
      `repl_backlog_histlen:${b ? b.histlen : 0}`,
    );
    return lines;
  },
  cpu() {
    const u = process.resourceUsage();
    const sys = (u.systemCPUTime / 1e6).toFixed(6);
    const user = (u.userCPUTime / 1e6).toFixed(6);
    return [`used_cpu_sys:${sys}`, `used_cpu_user:${user}`, "used_cpu_sys_children:0.000000", "used_cpu_user_children:0.000000", `used_cpu_sys_main_thread:${sys}`, `used_cpu_user_main_thread:${user}`];
  },
  modules() {
    return [];
  },
  module_list() {
    return [];
  },
  commandstats(server) {
    const lines: string[] = [];
    for (const [name, s] of [...server.stats.commands].sort()) {
      if (!s.calls && !s.rejected && !s.failed) continue;
      const perCall = s.calls ? (s.usec / s.calls).toFixed(2) : "0.00";
      lines.push(`cmdstat_${name}:calls=${s.calls},usec=${s.usec},usec_per_call=${perCall},rejected_calls=${s.rejected},failed_calls=${s.failed}`);
    }
    return lines;
  },
  errorstats(server) {
    // Codes in byte order (rax); '#', ':' and newlines shown as '_' (getSafeInfoString).
    return [...server.stats.errors]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([code, n]) => `errorstat_${code.replace(/[#:\r\n]/g, "_")}:count=${n}`);
  },
  latencystats(server) {
    // latency_percentiles_usec_<command>:p50=...,p99=... (latency-tracking-info-percentiles).
    const percentiles = server.config.str("latency-tracking-info-percentiles").split(" ").filter(Boolean);
    const lines: string[] = [];
    for (const [name, s] of [...server.stats.commands].sort()) {
      if (!s.histogram) continue;
      const values = percentiles.map((p) => `p${p}=${(s.histogram!.percentileNs(Number(p)) / 1000).toFixed(3)}`);
      lines.push(`latency_percentiles_usec_${name}:${values.join(",")}`);
    }
    return lines;
  },
  cluster() {
    return ["cluster_enabled:0"];
  },
  keyspace(server) {
    const lines: string[] = [];
    for (const db of server.dbs) {
      if (db.size === 0) continue;
      lines.push(`db${db.id}:keys=${db.size},expires=${db.expiresSize},avg_ttl=${server.averageTtl(db)}`);
    }
    return lines;
  },
};

const TITLES: Record<string, string> = {
  server: "Server",
  clients: "Clients",
  memory: "Memory",
  persistence: "Persistence",
  stats: "Stats",
  replication: "Replication",
  cpu: "CPU",
  modules: "Modules",
  module_list: "Modules",
  commandstats: "Commandstats",
  errorstats: "Errorstats",
  latencystats: "Latencystats",
  cluster: "Cluster",
  keyspace: "Keyspace",
};

const ORDER = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "module_list", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"];

function countNormalClients(server: Server): number {
  let n = 0;
  for (const c of server.clients.values()) if (!c.isMaster) n++;
  return n;
}

/** The INFO text for the requested section names (none: the default sections). */
export function infoString(server: Server, requested: string[]): string {
  const wanted = new Set<string>();
  if (requested.length === 0) for (const s of DEFAULT_SECTIONS) wanted.add(s);
  for (const raw of requested) {
    const r = raw.toLowerCase();
    if (r === "default") for (const s of DEFAULT_SECTIONS) wanted.add(s);
    else if (r === "all") for (const s of ALL_SECTIONS.filter((x) => x !== "modules")) wanted.add(s);
    else if (r === "everything") for (const s of ALL_SECTIONS) wanted.add(s);
    else wanted.add(r);
  }
  if (wanted.has("modules")) wanted.delete("module_list");
  const parts: string[] = [];
  for (const name of ORDER) {
    if (!wanted.has(name)) continue;
    const lines = sections[name]!(server);
    parts.push([`# ${TITLES[name]}`, ...lines].join("\r\n") + "\r\n");
  }
  return parts.join("\r\n");
}
