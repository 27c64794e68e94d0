// `replicant rdb check|export`: the RDB tools (see src/rdb/, docs/rdb-tools.md). Registered on
// the main program. Exit status: 0 when the file is sound, 1 with a one-line reason on stderr.
import { existsSync, statSync, writeSync } from "node:fs";
import type { Command } from "commander";
import { parseDb, parseFormat } from "./cli-options.ts";
import { checkRdbFile, formatCheckReport } from "./rdb/check.ts";
import { RdbError } from "./rdb/errors.ts";
import { exportRdbFile, type ExportFormat } from "./rdb/export.ts";
import { OutputClosedError } from "./common/fd-writer.ts";
import { strerror } from "./dataset/persistence.ts";
import { LiveLine, Progress } from "./core/progress.ts";

/** Synchronous writes: the process exits right after, and a pipe may be non-blocking. */
function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Bun.sleepSync(1);
    }
  }
}

function fail(command: string, message: string): never {
  writeAll(2, `rdb ${command}: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(1);
}

function requireFile(command: string, file: string): void {
  if (!existsSync(file)) fail(command, `cannot open ${file}: no such file`);
  if (!statSync(file).isFile()) fail(command, `cannot read ${file}: not a regular file`);
}

/**
 * Progress on standard error (core/progress.ts): a live line when it is a terminal that the
 * command's own output does not share, else a line every few seconds (none for a short run).
 */
function toolProgress(command: string, file: string, quiet: boolean, outputOnTerminal: boolean): { update(bytes: number, keys: number): void; end(): void } | null {
  if (quiet) return null;
  const live = outputOnTerminal ? null : LiveLine.on(process.stderr, (text) => writeAll(2, text));
  const progress = new Progress(`rdb ${command}`, statSync(file).size, (line) => (live ? undefined : writeAll(2, `${line}\n`)), { live });
  return { update: (bytes, keys) => progress.update(bytes, keys), end: () => progress.end() };
}

export function registerRdbCommands(program: Command): void {
  const rdb = program.command("rdb").description("RDB file tools (docs/rdb-tools.md)");
  rdb
    .command("check")
    .argument("<file>", "the RDB file")
    .option("--no-checksum", "do not verify the CRC-64 trailer")
    .option("-q, --quiet", "no progress on standard error")
    .description("verify an RDB file (like redis-check-rdb): version, AUX fields, keys per db and type, expiries, checksum")
    .action((file: string, opts: { checksum: boolean; quiet?: boolean }) => {
      requireFile("check", file);
      const progress = toolProgress("check", file, opts.quiet === true, false);
      const report = checkRdbFile(file, { verifyChecksum: opts.checksum, onProgress: progress?.update });
      progress?.end();
      writeAll(1, `${formatCheckReport(report).join("\n")}\n`);
      if (report.error) fail("check", report.error.message);
      process.exit(0);
    });
  rdb
    .command("export")
    .argument("<file>", "the RDB file")
    .option("--format <format>", "jsonl (JSON lines) or msgpack (a stream of MessagePack objects)", parseFormat, "jsonl" as ExportFormat)
    .option("--db <n>", "only keys of this database", parseDb)
    .option("--match <pattern>", "only keys matching this glob-style pattern (as SCAN MATCH)")
    .option("--out <file>", "write to this file instead of standard output")
    .option("-q, --quiet", "no progress on standard error")
    .description("write every key (db, key, type, value, expiry) as JSON lines or MessagePack")
    .action((file: string, opts: { format: ExportFormat; db?: number; match?: string; out?: string; quiet?: boolean }) => {
      requireFile("export", file);
      const progress = toolProgress("export", file, opts.quiet === true, !opts.out && process.stdout.isTTY === true);
      let summary;
      try {
        summary = exportRdbFile(file, { ...opts, onProgress: progress?.update });
      } catch (e) {
        progress?.end();
        if (e instanceof RdbError) fail("export", e.message);
        // The reader of a pipe stopped reading (| head): nothing more to do.
        if (e instanceof OutputClosedError) process.exit(0);
        // The output file cannot be written (no such directory, no permission, disk full...).
        const code = (e as NodeJS.ErrnoException).code;
        if (code && opts.out) fail("export", `cannot write ${opts.out}: ${strerror(e)}`);
        throw e;
      }
      progress?.end();
      if (opts.out) writeAll(2, `rdb export: ${summary.keysExported} of ${summary.keysRead} keys written to ${opts.out}\n`);
      // A selection that selects nothing is most likely a mistake (a wrong db or pattern): say so.
      if (summary.keysExported === 0 && summary.keysRead > 0 && (opts.db !== undefined || opts.match !== undefined)) {
        const what = [opts.db !== undefined ? `--db ${opts.db}` : "", opts.match !== undefined ? `--match '${opts.match}'` : ""].filter(Boolean).join(" ");
        fail("export", `no key selected by ${what} (the file has ${summary.keysRead} keys)`);
      }
      process.exit(0);
    });
}
