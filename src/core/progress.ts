// The progress of a long operation, reported the same way for all of them: a full sync, an RDB
// load (at start-up or the synced file), SAVE / BGSAVE, and the `rdb check` / `rdb export`
// tools.
//
// - A line every LOG_EVERY_MS with bytes, keys, rate and an ETA, through the output given (the
//   server's log at notice level, the tools' standard error):
//     Loading RDB: 40.0 MB of 109.1 MB (36.7%), 1097728 of ~3000020 keys, 7.7 MB/s, ETA 9 s
// - On a terminal, a live line redrawn in place (`\r`) a few times a second and erased when the
//   operation ends; log lines written meanwhile go above it. Never written to a file or a pipe.
// - For loads, INFO's loading_* fields as Redis fills them (startLoading / loadingAbsProgress).
//
// The fraction done comes from bytes when the total is known, else from keys: those a streamed
// ($EOF:) transfer's RDB announces in its RESIZEDB records, or those a save knows it will write.

/** How often a progress line is logged. */
const LOG_EVERY_MS = 5000;
/** How often the live line is redrawn. */
const DRAW_EVERY_MS = 200;

interface TextStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** One line of a terminal that shows the state of an operation, rewritten in place. */
export class LiveLine {
  private shown = "";
  private lastDraw = -Infinity;

  private constructor(
    private readonly out: TextStream,
    private readonly write: (text: string) => void,
  ) {}

  /**
   * A live line on `stream` when it is a terminal; null otherwise (files, pipes, /dev/null).
   * `write` replaces stream.write (the tools write synchronously, in order with their output).
   */
  static on(stream: TextStream, write?: (text: string) => void): LiveLine | null {
    return stream.isTTY ? new LiveLine(stream, write ?? ((text) => stream.write(text))) : null;
  }

  /** Shows `text` (at most every DRAW_EVERY_MS unless forced), cut to the terminal's width. */
  show(text: string, force = false): void {
    const now = performance.now();
    if (!force && now - this.lastDraw < DRAW_EVERY_MS) return;
    this.lastDraw = now;
    // A terminal that does not say its width (0, as a bare pty): 80 columns.
    const columns = this.out.columns;
    const width = columns !== undefined && columns > 20 ? columns - 1 : 79;
    this.draw(text.length > width ? text.slice(0, width) : text);
  }

  /** Erases the line (the operation ended). */
  clear(): void {
    if (this.shown === "") return;
    this.shown = "";
    this.write("\r\x1b[K");
  }

  /** Writes whole lines (a log line) above the live line, which is drawn again below them. */
  above(write: () => void): void {
    const shown = this.shown;
    this.clear();
    write();
    if (shown !== "") this.draw(shown);
  }

  private draw(text: string): void {
    this.shown = text;
    this.write(`\r${text}\x1b[K`);
  }
}

interface ProgressOptions {
  /** The keys expected are exact (a save), not announced hints (a load): no "~". */
  exactKeys?: boolean;
  /** The terminal's live line, if any. */
  live?: LiveLine | null;
  /** Milliseconds between two periodic lines (default LOG_EVERY_MS). */
  everyMs?: number;
}

export class Progress {
  /** Unix seconds when the operation started (loading_start_time). */
  readonly startTime = Math.floor(Date.now() / 1000);
  private readonly started = performance.now();
  private lastLog = performance.now();
  private readonly live: LiveLine | null;
  private readonly exactKeys: boolean;
  private readonly everyMs: number;
  bytesDone = 0;
  keysDone = 0;
  keysExpected = 0;
  /** The RDB's AUX used-mem, when seen (loading_rdb_used_mem). */
  rdbUsedMem = 0;

  constructor(
    /** What runs: "Loading RDB", "MASTER <-> REPLICA sync", "Background saving"... */
    readonly what: string,
    /** Bytes in all, or -1 when unknown (a streamed transfer, a save). */
    readonly totalBytes: number,
    /** Where the periodic line goes. */
    private readonly output: (line: string) => void,
    options: ProgressOptions = {},
  ) {
    this.live = options.live ?? null;
    this.exactKeys = options.exactKeys ?? false;
    this.everyMs = options.everyMs ?? LOG_EVERY_MS;
  }

  /** Bytes and keys so far; a line when the last one is old enough, the live line redrawn. */
  update(bytesDone: number, keysDone: number, keysExpected = this.keysExpected): void {
    this.bytesDone = bytesDone;
    this.keysDone = keysDone;
    this.keysExpected = keysExpected;
    const now = performance.now();
    if (this.live !== null) this.live.show(`${this.what}: ${this.describe()}`);
    if (now - this.lastLog < this.everyMs) return;
    this.lastLog = now;
    this.output(`${this.what}: ${this.describe()}`);
  }

  /** The operation ended (done or not): the live line goes. */
  end(): void {
    this.live?.clear();
  }

  /** The fraction done, from bytes when the size is known, else from keys; -1 if neither. */
  fraction(): number {
    if (this.totalBytes > 0) return Math.min(1, this.bytesDone / this.totalBytes);
    if (this.keysExpected > 0) return Math.min(1, this.keysDone / this.keysExpected);
    return -1;
  }

  /** Seconds left at the rate so far (loading_eta_seconds), 1 when unknown as Redis says. */
  etaSeconds(): number {
    const f = this.fraction();
    const elapsed = (performance.now() - this.started) / 1000;
    if (f <= 0 || elapsed <= 0) return 1;
    return Math.max(0, Math.round((elapsed / f) * (1 - f)));
  }

  /** "40.0 MB of 109.1 MB (36.7%), 1097728 of ~3000020 keys, 7.7 MB/s, ETA 9 s". */
  describe(): string {
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    const elapsed = Math.max(0.001, (performance.now() - this.started) / 1000);
    const f = this.fraction();
    const size = this.totalBytes >= 0 ? `${mb(this.bytesDone)} of ${mb(this.totalBytes)}` : `${mb(this.bytesDone)}`;
    const keys = this.keysExpected > 0 ? `${this.keysDone} of ${this.exactKeys ? "" : "~"}${this.keysExpected} keys` : `${this.keysDone} keys`;
    const pct = f >= 0 ? ` (${(f * 100).toFixed(1)}%)` : "";
    const eta = f > 0 ? `, ETA ${this.etaSeconds()} s` : "";
    return `${size}${pct}, ${keys}, ${mb(this.bytesDone / elapsed)}/s${eta}`;
  }

  /** INFO persistence's loading_* lines (after loading / async_loading). */
  infoLines(): string[] {
    const f = this.fraction();
    return [
      `loading_start_time:${this.startTime}`,
      `loading_total_bytes:${Math.max(0, this.totalBytes)}`,
      `loading_rdb_used_mem:${this.rdbUsedMem}`,
      `loading_loaded_bytes:${this.bytesDone}`,
      `loading_loaded_perc:${(Math.max(0, f) * 100).toFixed(2)}`,
      `loading_eta_seconds:${this.etaSeconds()}`,
    ];
  }
}
