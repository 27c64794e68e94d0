// What the core keeps of persistence (dataset/persistence.ts does the saving and loading):
// the bookkeeping INFO persistence and LASTSAVE show, and the write refusal after a failed save.

import type { Server } from "./server.ts";

/** Persistence bookkeeping for INFO persistence, LASTSAVE and the save points. */
export interface Persistence {
  /** Changes since the last successful save (rdb_changes_since_last_save). */
  lastSaveTime: number;
  lastBgsaveStatus: "ok" | "err";
  lastBgsaveTimeSec: number;
  bgsaveInProgressSince: number;
  saves: number;
  lastLoadKeysLoaded: number;
  lastLoadKeysExpired: number;
  /** The AOF's last write failed (aof_last_write_status:err): the error, or null (dataset/aof.ts). */
  aofWriteError: string | null;
  /** The replication offset the last successful save holds (a delayed replica keeps its spool from there). */
  lastSaveReplOffset: number;
}

const MISCONF =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/**
 * Redis's writeCommandsDeniedByDiskError: after a failed background save, with save points
 * and stop-writes-on-bgsave-error, or while the AOF cannot be written, writes (and PING) are
 * refused with this error; else null.
 */
export function diskErrorDenyingWrites(server: Server): string | null {
  if (server.persistence.lastBgsaveStatus === "err" && server.config.savePoints.length > 0 && server.config.bool("stop-writes-on-bgsave-error")) return MISCONF;
  const aof = server.persistence.aofWriteError;
  if (aof !== null) return `MISCONF Errors writing to the AOF file: ${aof}`;
  return null;
}
