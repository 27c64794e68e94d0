// The checkpoint file (--checkpoint): where the feed stands in the master's history, so that a
// restarted feed continues with PSYNC <replid> <offset + 1>.
//
//   {"replid": "<40 hex>", "offset": <n>, "db": <n>, "out_bytes": <n or null>, "options": {...}}
//
// - offset: the master offset of the last byte of the stream whose records are all written
//   (records are only checkpointed at a transaction's boundary, never inside MULTI ... EXEC);
// - db: the stream's selected db at that offset (a master sends SELECT only when its db changes,
//   and a partial resync does not send it again, so the db is part of the position);
// - out_bytes: with --out, the output file's length at that point (a restart cuts it back);
// - options: format, db and match filters, which a restart must not change (the output would
//   mix two selections).
//
// Written with write-temp + fsync + rename + fsync of the directory: a reader (or a restart
// after SIGKILL or a power loss) sees the previous checkpoint or the new one, never a mix.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { FeedError } from "./errors.ts";

export interface FeedPosition {
  replid: string;
  offset: number;
  db: number;
}

export interface CheckpointOptions {
  format: string;
  db: number | null;
  match: string | null;
}

interface Checkpoint extends FeedPosition {
  outBytes: number | null;
  options: CheckpointOptions;
}

/** The checkpoint in `path`, or null when there is none yet. Throws FeedError on a bad file. */
export function readCheckpoint(path: string): Checkpoint | null {
  if (!existsSync(path)) return null;
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new FeedError(`cannot read the checkpoint ${path}: ${(e as Error).message}`);
  }
  const bad = (what: string) => new FeedError(`the checkpoint ${path} is not a feed checkpoint: ${what}`);
  if (typeof data !== "object" || data === null) throw bad("not a JSON object");
  const { replid, offset, db, out_bytes: outBytes, options } = data as Record<string, unknown>;
  if (typeof replid !== "string" || !/^[0-9a-f]{40}$/.test(replid)) throw bad("replid is not 40 hex digits");
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw bad("offset is not a non-negative integer");
  if (!Number.isSafeInteger(db) || (db as number) < 0) throw bad("db is not a non-negative integer");
  if (outBytes !== null && (!Number.isSafeInteger(outBytes) || (outBytes as number) < 0)) throw bad("out_bytes is not a length");
  const o = options as Record<string, unknown> | undefined;
  if (typeof o !== "object" || o === null || typeof o.format !== "string") throw bad("options missing");
  return {
    replid,
    offset: offset as number,
    db: db as number,
    outBytes: outBytes as number | null,
    options: { format: o.format, db: (o.db as number | null) ?? null, match: (o.match as string | null) ?? null },
  };
}

/** Writes the checkpoint atomically and durably (see the file's comment). */
export function writeCheckpoint(path: string, cp: Checkpoint): void {
  const text = `${JSON.stringify({ replid: cp.replid, offset: cp.offset, db: cp.db, out_bytes: cp.outBytes, options: cp.options })}\n`;
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** The options of this run differ from the checkpoint's: the reason, or null. */
export function optionsMismatch(saved: CheckpointOptions, now: CheckpointOptions): string | null {
  for (const k of ["format", "db", "match"] as const) {
    if (saved[k] !== now[k]) return `the checkpoint was written with --${k} ${saved[k] ?? "(none)"}, this run has ${now[k] ?? "(none)"}`;
  }
  return null;
}
