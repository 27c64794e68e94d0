// Serializing a DatasetSnapshot as an RDB, a chunk at a time (for full syncs we serve and for
// BGSAVE). PLACEHOLDER until the RDB writer lands: it wires src/rdb/writer.ts in.

import type { Server } from "../server/server.ts";
import type { DatasetSnapshot } from "./snapshot.ts";

export interface RdbChunkSource {
  /** The next chunk of about maxBytes, or null when the RDB is complete. */
  next(maxBytes: number): Buffer | null;
  /** Stops early (the snapshot is released). */
  abort(): void;
}

export function createSnapshotRdb(_server: Server, snapshot: DatasetSnapshot, _replOffset: number): RdbChunkSource {
  return {
    next() {
      snapshot.detach();
      throw new Error("RDB writer not available yet");
    },
    abort() {
      snapshot.detach();
    },
  };
}
