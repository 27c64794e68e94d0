// `replicant feed`: the change feed (src/feed/, docs/feed.md). Registered on the main program.
// Exit status: 0 after SIGINT / SIGTERM (checkpointed) or when the reader of standard output
// went away, 1 on an error (with a one-line reason on stderr), 2 when the master can no longer
// continue from the checkpoint (a gap) and --on-gap is not resnapshot.

import { InvalidArgumentError, Option, type Command } from "commander";
import { parseDb, parseFormat } from "./cli-options.ts";
import { Feed, say, type FeedOptions } from "./feed/feed.ts";
import { FeedError } from "./feed/errors.ts";
import type { FeedFormat } from "./feed/records.ts";

function parseYesNo(v: string): boolean {
  if (v !== "yes" && v !== "no") throw new InvalidArgumentError("yes or no");
  return v === "yes";
}

function parseOnGap(v: string): FeedOptions["onGap"] {
  if (v !== "exit" && v !== "resnapshot") throw new InvalidArgumentError("exit or resnapshot");
  return v;
}

function parseMs(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError("a number of milliseconds (at least 1)");
  return Number(v);
}

/** What commander gives: FeedOptions but for the master's address, still one option. */
type CliOptions = Omit<FeedOptions, "host" | "port" | "quiet"> & { replicaof: string[]; quiet?: boolean };

export function registerFeedCommand(program: Command): void {
  program
    .command("feed")
    .description("connect as a replica and write every write as a record (JSON lines or MessagePack) that resumes exactly from a checkpoint (docs/feed.md)")
    .requiredOption("--replicaof <host port...>", "the master (a redis-server, or a Replicant replica)")
    .option("--format <format>", "jsonl (JSON lines) or msgpack (a stream of MessagePack objects)", parseFormat, "jsonl" as FeedFormat)
    .option("--checkpoint <file>", "where the position is kept; a restart with it continues exactly (PSYNC)")
    .option("--db <n>", "only records of this database", parseDb)
    .option("--match <pattern>", "only keys matching this glob-style pattern (as SCAN MATCH)")
    .addOption(new Option("--snapshot <yes|no>", "emit the master's keys first (RESTORE records) on a full sync").argParser(parseYesNo).default(true, "yes"))
    .option("--out <file>", "write to this file instead of standard output (cut back to the checkpoint on restart)")
    .option("--on-gap <exit|resnapshot>", "when the master can no longer continue from the checkpoint: exit 2, or take a new snapshot", parseOnGap, "exit" as FeedOptions["onGap"])
    .option("--masterauth <password>", "AUTH to the master with this password")
    .option("--masteruser <user>", "the user for AUTH (with --masterauth)")
    .option("--checkpoint-interval <ms>", "how often the checkpoint is written while records flow", parseMs, 1000)
    .option("-q, --quiet", "no connection messages on standard error")
    .action(async (opts: CliOptions) => {
      const fail = (message: string, code = 1): never => {
        say(message);
        process.exit(code);
      };
      if (opts.replicaof.length === 1) opts.replicaof = opts.replicaof[0]!.split(/\s+/);
      if (opts.replicaof.length !== 2) fail("--replicaof needs <host> <port>");
      const [host, portText] = opts.replicaof as [string, string];
      const port = Number(portText);
      if (!/^\d+$/.test(portText) || port < 1 || port > 65535) fail(`bad port '${portText}'`);
      if (opts.masteruser !== undefined && opts.masterauth === undefined) fail("--masteruser needs --masterauth");
      let feed: Feed;
      try {
        feed = new Feed({ ...opts, host, port, quiet: opts.quiet === true });
      } catch (e) {
        if (e instanceof FeedError) fail(e.message, e.exitCode);
        if ((e as NodeJS.ErrnoException).code) fail((e as Error).message);
        throw e;
      }
      process.on("SIGINT", () => feed.stop());
      process.on("SIGTERM", () => feed.stop());
      process.exit(await feed.start());
    });
}
