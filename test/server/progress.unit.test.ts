// How long operations report their progress (core/progress.ts): the periodic line's format,
// the fraction from bytes or from keys, INFO's loading_* fields, and the terminal's live line
// (drawn in place, cut to the width, erased at the end, log lines written above it).

import { describe, expect, test } from "bun:test";
import { LiveLine, Progress } from "../../src/core/progress.ts";

const LINE = /^(?<what>[^:]+): (?<bytes>\d+\.\d MB)( of (?<total>\d+\.\d MB))?( \((?<pct>\d+\.\d)%\))?, (?<keys>\d+)( of ~?(?<expected>\d+))? keys, \d+\.\d MB\/s(, ETA (?<eta>\d+) s)?$/;

describe("Progress", () => {
  test("a line with bytes of the total, keys, rate and ETA, at most every everyMs", async () => {
    const lines: string[] = [];
    const p = new Progress("Loading RDB", 100 * 1048576, (l) => lines.push(l), { everyMs: 40 });
    p.update(10 * 1048576, 1000, 30000);
    expect(lines).toEqual([]);
    await Bun.sleep(60);
    p.update(25 * 1048576, 2500, 30000);
    p.update(26 * 1048576, 2600, 30000);
    expect(lines.length).toBe(1);
    const m = LINE.exec(lines[0]!)!;
    expect(m).not.toBeNull();
    expect(m.groups).toMatchObject({ what: "Loading RDB", bytes: "25.0 MB", total: "100.0 MB", pct: "25.0", keys: "2500", expected: "30000" });
    expect(lines[0]).toContain("of ~30000 keys");
    expect(Number(m.groups!.eta)).toBeGreaterThanOrEqual(0);
  });

  test("without a size (a streamed transfer, a save) the fraction comes from the keys", () => {
    const p = new Progress("Background saving", -1, () => {}, { exactKeys: true });
    p.update(5 * 1048576, 250, 1000);
    expect(p.fraction()).toBe(0.25);
    expect(p.describe()).toMatch(/^5\.0 MB \(25\.0%\), 250 of 1000 keys, [\d.]+ MB\/s, ETA \d+ s$/);
    const unknown = new Progress("MASTER <-> REPLICA sync", -1, () => {});
    unknown.update(1048576, 10, 0);
    expect(unknown.fraction()).toBe(-1);
    expect(unknown.describe()).toMatch(/^1\.0 MB, 10 keys, [\d.]+ MB\/s$/);
    expect(unknown.etaSeconds()).toBe(1);
  });

  test("INFO's loading_* fields", () => {
    const p = new Progress("Loading RDB", 2000, () => {});
    p.rdbUsedMem = 12345;
    p.update(500, 10, 0);
    const fields = Object.fromEntries(p.infoLines().map((l) => l.split(":") as [string, string]));
    expect(fields).toMatchObject({ loading_total_bytes: "2000", loading_rdb_used_mem: "12345", loading_loaded_bytes: "500", loading_loaded_perc: "25.00" });
    expect(Number(fields.loading_start_time)).toBeGreaterThan(1.7e9);
  });
});

describe("LiveLine", () => {
  const terminal = (columns = 60) => {
    let out = "";
    return { stream: { isTTY: true, columns, write: (t: string) => (out += t) }, text: () => out };
  };

  test("only on a terminal", () => {
    expect(LiveLine.on({ isTTY: false, write: () => true })).toBeNull();
    expect(LiveLine.on({ write: () => true })).toBeNull();
  });

  test("drawn in place with \\r, cut to the width, throttled unless forced, erased at the end", () => {
    const t = terminal(30);
    const live = LiveLine.on(t.stream)!;
    live.show("Loading RDB: 1.0 MB of 10.0 MB (10.0%), 5 keys", true);
    expect(t.text()).toBe(`\r${"Loading RDB: 1.0 MB of 10.0 MB".slice(0, 29)}\x1b[K`);
    live.show("again too soon");
    expect(t.text()).not.toContain("again");
    live.show("forced", true);
    expect(t.text().endsWith("\rforced\x1b[K")).toBe(true);
    live.clear();
    expect(t.text().endsWith("\r\x1b[K")).toBe(true);
    const before = t.text();
    live.clear();
    expect(t.text()).toBe(before);
  });

  test("a terminal that does not give its width (a bare pty says 0): 80 columns", () => {
    const t = terminal(0);
    LiveLine.on(t.stream)!.show("x".repeat(100), true);
    expect(t.text()).toBe(`\r${"x".repeat(79)}\x1b[K`);
  });

  test("a log line goes above the live line, which is drawn again under it", () => {
    const t = terminal();
    const live = LiveLine.on(t.stream)!;
    live.show("progress 1", true);
    live.above(() => t.stream.write("12:M log line\n"));
    expect(t.text()).toBe("\rprogress 1\x1b[K\r\x1b[K12:M log line\n\rprogress 1\x1b[K");
    // With nothing shown, a log line is written as it is.
    live.clear();
    const before = t.text();
    live.above(() => t.stream.write("another\n"));
    expect(t.text()).toBe(`${before}another\n`);
  });

  test("Progress redraws the live line on update and erases it at end()", () => {
    const t = terminal(100);
    const live = LiveLine.on(t.stream)!;
    const p = new Progress("rdb check", 1048576, () => {}, { live });
    p.update(524288, 7);
    expect(t.text()).toMatch(/^\rrdb check: 0\.5 MB of 1\.0 MB \(50\.0%\), 7 keys, [\d.]+ MB\/s, ETA \d+ s\x1b\[K$/);
    p.end();
    expect(t.text().endsWith("\r\x1b[K")).toBe(true);
  });
});
