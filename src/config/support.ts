// What Replicant does with each redis.conf directive it does not act on. Redis is the
// specification, and a directive that is accepted and silently ignored is a trap: a user who
// writes "appendonly yes" expects an AOF. So every directive is one of:
//
// - honoured (the rest of the code reads it);
// - refused when set to a value we cannot honour (this table): the start stops with the reason,
//   CONFIG SET fails with it;
// - accepted with no effect because what it tunes does not exist in Replicant (allocator,
//   rehashing, defragmentation, I/O threads, transparent huge pages, the process title, the
//   listen backlog): listed in NO_EFFECT, documented in docs/configuration.md.

import type { Config } from "./config.ts";

interface Refusal {
  /** Whether the current value can be honoured. */
  ok: (config: Config) => boolean;
  why: string;
}

const notYes = (name: string) => (c: Config) => !c.bool(name);

const REFUSED: Record<string, Refusal> = {
  "aof-timestamp-enabled": { ok: notYes("aof-timestamp-enabled"), why: "aof-timestamp-enabled yes is not supported: the AOF holds the replication stream as is (no timestamp annotations)" },
  "cluster-enabled": { ok: notYes("cluster-enabled"), why: "cluster mode is not supported" },
  "syslog-enabled": { ok: notYes("syslog-enabled"), why: "syslog is not supported: use logfile, or stdout under a supervisor" },
  "bind-source-addr": { ok: (c) => c.str("bind-source-addr") === "", why: "bind-source-addr is not supported: Bun's sockets cannot choose their source address" },
  "socket-mark-id": { ok: (c) => c.num("socket-mark-id") === 0, why: "socket-mark-id is not supported: Bun's sockets cannot set SO_MARK" },
  "oom-score-adj": { ok: (c) => c.str("oom-score-adj") === "no", why: "oom-score-adj is not supported yet" },
  "rdb-del-sync-files": { ok: notYes("rdb-del-sync-files"), why: "rdb-del-sync-files yes is not supported yet" },
};

/** The reason the directive's current value cannot be honoured, or null. */
export function refusal(name: string, config: Config): string | null {
  const r = REFUSED[name];
  return r === undefined || r.ok(config) ? null : r.why;
}

/**
 * Directives accepted with no effect: what they tune has no counterpart in Replicant. (Those of
 * cluster mode only matter once cluster-enabled is on, which is refused.)
 */
export const NO_EFFECT = [
  "activerehashing",
  "activedefrag",
  "active-defrag-cycle-min",
  "active-defrag-cycle-max",
  "active-defrag-threshold-lower",
  "active-defrag-threshold-upper",
  "active-defrag-ignore-bytes",
  "active-defrag-max-scan-fields",
  "jemalloc-bg-thread",
  "disable-thp",
  "io-threads",
  "io-threads-do-reads",
  "set-proc-title",
  "proc-title-template",
  "tcp-backlog",
  "dynamic-hz",
  "active-expire-effort",
  "list-compress-depth",
  "lazyfree-lazy-eviction",
  "lazyfree-lazy-server-del",
  "lazyfree-lazy-user-flush",
  "replica-lazy-flush",
  "repl-disable-tcp-nodelay",
  "crash-log-enabled",
  "crash-memcheck-enabled",
  "use-exit-on-panic",
  "ignore-warnings",
  "watchdog-period",
  "sanitize-dump-payload",
];
