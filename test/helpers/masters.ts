// The masters Replicant is tested against: Debian's redis-server (always; the core suite's
// master) and, when ../shared is beside the clone, the other versions in ../shared/masters
// (Redis 6.2, 7.2, 7.4, Valkey 8). Each master kind knows its version, so a test can start a
// same-version replica as its control and a workload can use the commands that version has.

import { join } from "node:path";
import { sharedPath } from "./shared.ts";

export interface MasterKind {
  /** "redis-7.0.15 (Debian)", "redis-7.4.1", "valkey-8.0.1". */
  label: string;
  /** The server binary (also used for the same-version control replica). */
  bin: string;
  family: "redis" | "valkey";
  /** [major, minor, patch] of the server (Valkey's own numbering). */
  version: [number, number, number];
}

/** Debian's redis-server from PATH. */
export function debianRedis(): MasterKind {
  const bin = Bun.which("redis-server");
  if (!bin) throw new Error("redis-server is not installed: run the suite with `bun run test` (it installs it)");
  const out = Bun.spawnSync([bin, "--version"]).stdout.toString();
  const m = /v=(\d+)\.(\d+)\.(\d+)/.exec(out);
  if (!m) throw new Error(`cannot read redis-server's version from ${JSON.stringify(out)}`);
  const version: [number, number, number] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return { label: `redis-${version.join(".")} (Debian)`, bin, family: "redis", version };
}

const SHARED_MASTERS = ["redis-6.2.16", "redis-7.2.6", "redis-7.4.1", "valkey-8.0.1"];

/** The masters of ../shared/masters, or [] (after one line saying so) when the folder is absent. */
export function sharedMasters(what: string): MasterKind[] {
  const dir = sharedPath("masters", what);
  if (!dir) return [];
  return SHARED_MASTERS.map((file) => {
    const [family, v] = file.split("-") as ["redis" | "valkey", string];
    const version = v.split(".").map(Number) as [number, number, number];
    return { label: file, bin: join(dir, file), family, version };
  });
}

/** The version as one comparable number: 7.4.1 -> 70401. Valkey 8 speaks Redis 7.2's formats. */
export function redisCompat(m: MasterKind): number {
  // Valkey forked from Redis 7.2.4: its 7.2 and 8.x speak Redis 7.2's commands and RDB 11.
  if (m.family === "valkey") return 70204;
  return m.version[0] * 10000 + m.version[1] * 100 + m.version[2];
}

/**
 * Directive names the master knows for the compact-encoding limits: Redis 6.2 has only the
 * ziplist names (7.0 added the listpack ones as the primary names).
 */
export function encodingDirectives(m: MasterKind, limits: string[]): string[] {
  if (redisCompat(m) >= 70000) return limits;
  return limits.map((a) => a.replace("-listpack-", "-ziplist-"));
}
