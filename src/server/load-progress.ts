// The progress of a long load (the dataset file at start, a full sync from our master), so that
// it can be watched: INFO's loading_* fields as Redis fills them (startLoading /
// loadingAbsProgress), and a log line every few seconds with bytes, keys, rate and an ETA.
// A streamed ($EOF:) transfer has no size: its ETA comes from the key counts the RDB announces
// in its RESIZEDB records.

import type { Logger } from "./log.ts";

/** How often a progress line is logged. */
const LOG_EVERY_MS = 5000;

export class LoadProgress {
  /** Unix seconds when the load started (loading_start_time). */
  readonly startTime = Math.floor(Date.now() / 1000);
  private readonly started = performance.now();
  private lastLog = performance.now();
  loadedBytes = 0;
  keysLoaded = 0;
  keysExpected = 0;
  /** The RDB's AUX used-mem, when seen (loading_rdb_used_mem). */
  rdbUsedMem = 0;

  constructor(
    /** What loads: "Loading RDB", "MASTER <-> REPLICA sync". */
    private readonly what: string,
    /** Bytes in all, or -1 when unknown (a streamed transfer). */
    readonly totalBytes: number,
    private readonly log: Logger,
  ) {}

  /** Bytes and keys so far; logs a line when the last one is old enough. */
  update(loadedBytes: number, keysLoaded: number, keysExpected: number): void {
    this.loadedBytes = loadedBytes;
    this.keysLoaded = keysLoaded;
    this.keysExpected = keysExpected;
    const now = performance.now();
    if (now - this.lastLog < LOG_EVERY_MS) return;
    this.lastLog = now;
    this.log.notice(`${this.what}: ${this.describe()}`);
  }

  /** The fraction done, from bytes when the size is known, else from the announced keys; -1 if neither. */
  fraction(): number {
    if (this.totalBytes > 0) return Math.min(1, this.loadedBytes / this.totalBytes);
    if (this.keysExpected > 0) return Math.min(1, this.keysLoaded / this.keysExpected);
    return -1;
  }

  /** Seconds left at the rate so far (loading_eta_seconds), 1 when unknown as Redis says. */
  etaSeconds(): number {
    const f = this.fraction();
    const elapsed = (performance.now() - this.started) / 1000;
    if (f <= 0 || elapsed <= 0) return 1;
    return Math.max(0, Math.round((elapsed / f) * (1 - f)));
  }

  describe(): string {
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    const elapsed = Math.max(0.001, (performance.now() - this.started) / 1000);
    const f = this.fraction();
    const size = this.totalBytes >= 0 ? `${mb(this.loadedBytes)} of ${mb(this.totalBytes)}` : `${mb(this.loadedBytes)}`;
    const keys = this.keysExpected > 0 ? `${this.keysLoaded} of ~${this.keysExpected} keys` : `${this.keysLoaded} keys`;
    const pct = f >= 0 ? ` (${(f * 100).toFixed(1)}%)` : "";
    const eta = f > 0 ? `, ETA ${this.etaSeconds()} s` : "";
    return `${size}${pct}, ${keys}, ${mb(this.loadedBytes / elapsed)}/s${eta}`;
  }

  /** INFO persistence's loading_* lines (after loading / async_loading). */
  infoLines(): string[] {
    const f = this.fraction();
    return [
      `loading_start_time:${this.startTime}`,
      `loading_total_bytes:${Math.max(0, this.totalBytes)}`,
      `loading_rdb_used_mem:${this.rdbUsedMem}`,
      `loading_loaded_bytes:${this.loadedBytes}`,
      `loading_loaded_perc:${(Math.max(0, f) * 100).toFixed(2)}`,
      `loading_eta_seconds:${this.etaSeconds()}`,
    ];
  }
}
