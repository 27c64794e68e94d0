// Log lines in redis-server's format, so existing log tooling and habits apply:
//   <pid>:<role> <dd Mon yyyy hh:mm:ss.mmm> <level char> <message>
// role: M master, S replica, C child; level: . debug, - verbose, * notice, # warning.

import { appendFileSync, writeSync } from "node:fs";
import { Progress, type LiveLine } from "./progress.ts";

type LogLevel = "debug" | "verbose" | "notice" | "warning";
const RANK: Record<LogLevel, number> = { debug: 0, verbose: 1, notice: 2, warning: 3 };
const MARK: Record<LogLevel, string> = { debug: ".", verbose: "-", notice: "*", warning: "#" };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function two(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

export class Logger {
  level: LogLevel = "notice";
  /** Empty: standard output. */
  file = "";
  role: () => string = () => "M";
  /** Test hook: every line also goes here. */
  sink: ((line: string) => void) | null = null;
  /**
   * The terminal's live progress line (core/progress.ts), when standard output is one: log
   * lines written to standard output go above it.
   */
  live: LiveLine | null = null;

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  log(level: LogLevel, message: string): void {
    if (RANK[level] < RANK[this.level]) return;
    const d = new Date();
    const ms = d.getMilliseconds();
    const stamp = `${two(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}`;
    const line = `${process.pid}:${this.role()} ${stamp} ${MARK[level]} ${message}\n`;
    this.sink?.(line);
    if (this.file) {
      try {
        appendFileSync(this.file, line);
        return;
      } catch {
        // Fall through to stdout: a log line is never worth crashing for.
      }
    }
    if (this.live !== null) this.live.above(() => process.stdout.write(line));
    else process.stdout.write(line);
  }

  /**
   * The progress of a long operation (core/progress.ts): a notice every few seconds, and the
   * live line on a terminal.
   */
  progress(what: string, totalBytes: number, exactKeys = false): Progress {
    return new Progress(what, totalBytes, (line) => this.notice(line), { live: this.live, exactKeys });
  }

  /**
   * Text as is, no prefix (Redis's LL_RAW), written synchronously: for a crash report, which
   * the process must not die before writing.
   */
  raw(text: string): void {
    this.sink?.(text);
    if (this.file) {
      try {
        appendFileSync(this.file, text);
        return;
      } catch {}
    }
    writeSync(1, text);
  }

  /** Text as is, no prefix, at notice level (Redis's LL_NOTICE|LL_RAW: the start-up logo). */
  rawNotice(text: string): void {
    if (!this.enabled("notice")) return;
    this.raw(text);
  }

  debug(m: string): void {
    this.log("debug", m);
  }
  verbose(m: string): void {
    this.log("verbose", m);
  }
  notice(m: string): void {
    this.log("notice", m);
  }
  warning(m: string): void {
    this.log("warning", m);
  }
}
