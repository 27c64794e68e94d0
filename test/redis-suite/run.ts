// Redis's own test suite as our conformance suite (issue 15): runs ../shared/redis-tests'
// run-suites.sh on the built binary (Replicant only) and fails when a suite has a failure that
// test/redis-suite/expected-failures.txt does not list. Every entry there names its test, why
// it fails and the issue that will remove it, so the file only shrinks; entries that pass again
// are reported, to be removed.
//
//   bun run test:redis                      every unit and integration suite (~20 min on 2 cores, measured)
//   bun run test:redis unit/type/list ...   some suites
//   bun run test:redis --quick              the fixed subset the test suite runs in CI
//
// Needs ../shared/redis-tests (laid beside the clone in CI), tclsh and redis-server; without
// them it prints one line saying what it skipped and exits 0.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const RUNNER = resolve(ROOT, "../shared/redis-tests/run-suites.sh");
const EXPECTED = join(import.meta.dir, "expected-failures.txt");

/** Suites stable and quick enough to run on every CI run (a few minutes together). */
export const QUICK_SUITES = [
  "unit/type/string",
  "unit/type/incr",
  "unit/type/hash",
  "unit/type/list",
  "unit/keyspace",
  "unit/bitops",
  "unit/sort",
  "unit/protocol",
  "unit/auth",
  "unit/acl",
  "integration/psync2",
  "integration/psync2-reg",
  "integration/failover",
];

/**
 * Suites run-suites.sh does not list but that we run too: all their tests are external:skip, and
 * a path that does not start with "unit/" makes the script spawn servers for it.
 */
const EXTRA_SUITES = ["./unit/maxmemory"];

export interface Expected {
  suite: string;
  test: string;
  reason: string;
  issue: string;
}

/** The expected failures: `suite | test | reason | #issue` lines, # comments. */
export function readExpected(text: string): Expected[] {
  const out: Expected[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const parts = line.split(" | ").map((p) => p.trim());
    if (parts.length !== 4 || !/^#\d+$/.test(parts[3]!)) throw new Error(`expected-failures.txt:${i + 1}: want 'suite | test | reason | #issue', got: ${line}`);
    out.push({ suite: parts[0]!, test: parts[1]!, reason: parts[2]!, issue: parts[3]! });
  }
  return out;
}

/** What went wrong in one suite's output: failed tests by name, and suite-level problems. */
export function failuresOf(out: string, meta: string): string[] {
  const failed = new Set<string>();
  for (const line of out.split("\n")) {
    const err = /^\[err\]: (.*?)(?: in tests\/\S+\.tcl)?$/.exec(line);
    if (err) failed.add(err[1]!.trim());
    else if (line.startsWith("[exception]")) failed.add("(exception)");
    else if (line.includes("[TIMEOUT]")) failed.add("(timeout)");
  }
  if (/rc=(124|137)/.test(meta)) failed.add("(killed)");
  if (meta.includes("server_died=1")) failed.add("(crash)");
  return [...failed];
}

function have(cmd: string): boolean {
  return Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;
}

export function missingPrerequisite(bin: string): string | null {
  if (!existsSync(RUNNER)) return "../shared/redis-tests is not beside the clone";
  if (!have("tclsh")) return "tclsh is not installed (Debian package tcl)";
  if (!have("redis-server") || !have("redis-cli")) return "redis-server / redis-cli are not installed";
  if (!existsSync(bin)) return `${bin} is not built (bun run build)`;
  return null;
}

export interface Outcome {
  unexpected: string[];
  nowPassing: Expected[];
  table: string;
}

/** Runs the suites and compares with the expected failures. */
export function runSuites(bin: string, suites: string[]): Outcome {
  const work = mkdtempSync(join(tmpdir(), "redis-suite-"));
  let keep: string | null = null;
  try {
    // PID_SHIM=0: the harness finds " PID: " in our start-up logo (always-show-logo, which its
    // config sets), printed once we listen; the wrapper's own line came before that.
    const env = { ...process.env, TARGETS: "replicant", ROOT: work, PID_SHIM: "0" };
    const r = Bun.spawnSync(["bash", RUNNER, bin, "all", ...suites], { env, stdout: "pipe", stderr: "inherit" });
    let table = r.stdout.toString();
    if (suites.length === 0) {
      // Every suite: the script's lists, then ours (its table does not show them: one line each).
      Bun.spawnSync(["bash", RUNNER, bin, "all", ...EXTRA_SUITES], { env, stdout: "ignore", stderr: "inherit" });
      for (const s of EXTRA_SUITES) {
        const out = join(work, "results", "replicant", `${s.replaceAll("/", "_")}.out`);
        const text = existsSync(out) ? readFileSync(out, "utf8") : "";
        const ok = text.match(/^\[ok\]:/gm)?.length ?? 0;
        const bad = (text.match(/^\[err\]:/gm)?.length ?? 0) + (text.match(/^\[exception\]/gm)?.length ?? 0);
        table += `${`${s} (spawned)`.padEnd(42)} ${"-".padEnd(24)} ${ok}/${bad}/${ok + bad}\n`;
      }
    }
    const expected = readExpected(readFileSync(EXPECTED, "utf8"));
    const results = join(work, "results", "replicant");
    const unexpected: string[] = [];
    const seen = new Set<string>();
    const ran = new Set<string>();
    for (const f of existsSync(results) ? readdirSync(results) : []) {
      if (!f.endsWith(".out")) continue;
      const key = f.slice(0, -4);
      const suite = key.replaceAll("_", "/");
      ran.add(suite);
      const meta = existsSync(join(results, `${key}.meta`)) ? readFileSync(join(results, `${key}.meta`), "utf8") : "";
      for (const name of failuresOf(readFileSync(join(results, f), "utf8"), meta)) {
        const e = expected.find((x) => x.suite === suite && x.test === name);
        if (e) seen.add(`${suite}|${name}`);
        else unexpected.push(`${suite}: ${name}`);
      }
    }
    const nowPassing = expected.filter((e) => ran.has(e.suite) && !seen.has(`${e.suite}|${e.test}`));
    // Kept when something failed unexpectedly: each suite's output and its servers' logs.
    if (unexpected.length > 0) keep = results;
    return { unexpected, nowPassing, table: keep === null ? table : `${table}\nthe suites' output and server logs: ${keep}\n` };
  } finally {
    if (keep === null) rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const bin = resolve(ROOT, process.env.REPLICANT_BIN ?? "dist/replicant");
  const missing = missingPrerequisite(bin);
  if (missing !== null) {
    console.log(`test:redis skipped: ${missing}`);
    process.exit(0);
  }
  const suites = args.includes("--quick") ? QUICK_SUITES : args.filter((a) => !a.startsWith("--"));
  const { unexpected, nowPassing, table } = runSuites(bin, suites);
  console.log(table);
  for (const e of nowPassing) console.log(`now passing (remove it from expected-failures.txt): ${e.suite} | ${e.test}`);
  if (unexpected.length > 0) {
    console.log(`${unexpected.length} unexpected failure(s):`);
    for (const u of unexpected) console.log(`  ${u}`);
    process.exit(1);
  }
  console.log("no unexpected failure");
}
