// Running `replicant feed` as a user would (the real command line, as a child process), reading
// its records back, and replaying them onto a server.

import type { Subprocess } from "bun";
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unpackMultiple } from "msgpackr";
import { RespClient, RespError } from "../helpers/resp-client.ts";
import { replicantCommand } from "../helpers/servers.ts";

export interface FeedProcess {
  proc: Subprocess;
  stderr(): string;
  /** Standard output so far (when run without --out). */
  stdout(): Buffer;
  exited: Promise<number>;
}

/** Every feed started, for killAllFeeds() in a file's afterAll (a failed test leaves one running). */
const running = new Set<Subprocess>();

export function killAllFeeds(): void {
  for (const p of running) p.kill("SIGKILL");
  running.clear();
}

/** Starts a feed; its standard output and error go to files, read back by stdout() / stderr(). */
export function startFeed(args: string[]): FeedProcess {
  const dir = mkdtempSync(join(tmpdir(), "feed-out-"));
  const outPath = join(dir, "stdout");
  const errPath = join(dir, "stderr");
  const outFd = openSync(outPath, "w");
  const errFd = openSync(errPath, "w");
  const proc = Bun.spawn([...replicantCommand(), "feed", ...args], { stdin: "ignore", stdout: outFd, stderr: errFd });
  closeSync(outFd);
  closeSync(errFd);
  running.add(proc);
  const exited = proc.exited.then((code) => {
    running.delete(proc);
    return code;
  });
  return {
    proc,
    stderr: () => readFileSync(errPath, "utf8"),
    stdout: () => readFileSync(outPath),
    exited,
  };
}

/** A record as read back: args as byte strings (latin1, one char per byte). */
export interface ReadRecord {
  offset: number;
  db: number;
  args: string[];
  snapshot?: boolean;
  replid?: string;
}

function jsonArg(a: unknown): string {
  if (typeof a === "string") return Buffer.from(a, "utf8").toString("latin1");
  const b64 = (a as { base64?: unknown }).base64;
  if (typeof b64 !== "string") throw new Error(`not a byte string: ${JSON.stringify(a)}`);
  return Buffer.from(b64, "base64").toString("latin1");
}

function msgpackArg(a: unknown): string {
  if (typeof a === "string") return Buffer.from(a, "utf8").toString("latin1");
  if (a instanceof Uint8Array) return Buffer.from(a).toString("latin1");
  throw new Error(`not a byte string: ${String(a)}`);
}

export function parseRecords(data: Buffer, format: "jsonl" | "msgpack"): ReadRecord[] {
  if (format === "jsonl") {
    const text = data.toString("utf8");
    if (text.length && !text.endsWith("\n")) throw new Error("the output ends with an incomplete line");
    return text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => {
        const r = JSON.parse(l);
        return { ...r, args: (r.args as unknown[]).map(jsonArg) };
      });
  }
  if (data.length === 0) return [];
  return (unpackMultiple(data) as Array<Record<string, unknown>>).map((r) => ({ ...(r as unknown as ReadRecord), args: (r.args as unknown[]).map(msgpackArg) }));
}

export function readRecords(file: string, format: "jsonl" | "msgpack" = "jsonl"): ReadRecord[] {
  return parseRecords(readFileSync(file), format);
}

/** Replays records onto a server (SELECT on a change of db); throws on an error reply. */
export async function replay(records: ReadRecord[], port: number): Promise<void> {
  const c = await RespClient.connect(port);
  try {
    let db = -1;
    for (let i = 0; i < records.length; i += 500) {
      const batch: string[][] = [];
      for (const r of records.slice(i, i + 500)) {
        if (r.db !== db) {
          batch.push(["SELECT", String(r.db)]);
          db = r.db;
        }
        batch.push(r.args);
      }
      const replies = await c.pipeline(batch);
      replies.forEach((rep, j) => {
        if (rep instanceof RespError) throw new Error(`replaying ${JSON.stringify(batch[j]!.map((a) => a.slice(0, 40)))}: ${rep.message}`);
        if (Array.isArray(rep)) for (const x of rep) if (x instanceof RespError) throw new Error(`replaying a transaction: ${x.message}`);
      });
    }
  } finally {
    c.close();
  }
}

/** The offsets of stream records (not snapshot ones) strictly increase: no duplicate. */
export function offsetsStrictlyIncrease(records: ReadRecord[]): string | null {
  let last = -1;
  for (const r of records) {
    if (r.snapshot) {
      if (r.offset < last) return `snapshot record at offset ${r.offset} after ${last}`;
      last = r.offset;
      continue;
    }
    if (r.offset <= last) return `record ${JSON.stringify(r.args.slice(0, 3))} at offset ${r.offset} after ${last}`;
    last = r.offset;
  }
  return null;
}
