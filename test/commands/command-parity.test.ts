// The command table against redis-server 7.0.15's: COMMAND COUNT / LIST (with its filters) /
// INFO name the same commands and subcommands (ours also serves the commands taken from Redis
// 7.4, see redis-command-table-newer.json); the commands a non-cluster redis-server answers
// with an error answer the same; LOLWUT draws what Redis draws.

import { expect, test } from "bun:test";
import newerTable from "../../src/core/redis-command-table-newer.json";
import ownTable from "../../src/core/replicant-command-table.json";
import { sideBySide } from "../helpers/side-by-side.ts";

/** The commands Redis 7.0 does not have that we serve (for newer masters' replicas). */
const NEWER = (newerTable as { commands: Array<{ name: string }> }).commands.map((c) => c.name).filter((n) => n.startsWith("h") && n !== "hscan");
/** Replicant's own commands (REPLICADELAY), top-level names, and with their subcommands. */
const OWN = (ownTable as { commands: Array<{ name: string; subcommands?: Array<{ name: string }> }> }).commands;
const OWN_NAMES = OWN.map((c) => c.name);
const ONLY_NEWER = new Set([...NEWER, ...OWN_NAMES, ...OWN.flatMap((c) => (c.subcommands ?? []).map((s) => s.name))]);

const pair = sideBySide();
const { both, same } = pair;

const sorted = (v: unknown) => (v as string[]).slice().sort();

test("COMMAND COUNT and COMMAND LIST: Redis's commands and subcommands, and the 7.4 ones we add", async () => {
  const [theirs, mine] = await both("COMMAND", "LIST");
  expect(sorted(mine)).toEqual(sorted([...(theirs as string[]), ...ONLY_NEWER]));
  const [countTheirs, countMine] = await both("COMMAND", "COUNT");
  expect(countTheirs).toBe(240);
  expect(countMine).toBe(240 + NEWER.length + OWN_NAMES.length);
  // Filters apply to subcommands too.
  for (const filter of [["PATTERN", "cl*"], ["PATTERN", "*|*"], ["PATTERN", "CLIENT|K*"], ["ACLCAT", "slow"], ["ACLCAT", "Dangerous"], ["ACLCAT", "nosuch"], ["MODULE", "x"]]) {
    const [a, b] = await both("COMMAND", "LIST", "FILTERBY", ...filter);
    expect({ filter, names: sorted(b).filter((n) => !ONLY_NEWER.has(n)) }).toEqual({ filter, names: sorted(a) });
  }
  for (const bad of [["x"], ["FILTERBY"], ["FILTERBY", "PATTERN"], ["FILTERBY", "nosuch", "x"], ["FILTERBY", "PATTERN", "x", "y"]]) await same("COMMAND", "LIST", ...bad);
});

test("COMMAND INFO: every command and subcommand as Redis describes it, 'parent|sub' names", async () => {
  const [theirs, mine] = await both("COMMAND", "INFO");
  const byName = (v: unknown) => new Map((v as unknown[][]).map((e) => [e[0] as string, e]));
  const a = byName(theirs);
  const b = byName(mine);
  for (const [name, info] of a) {
    if (ONLY_NEWER.has(name) || ["zrank", "zrevrank", "hscan", "xread"].includes(name)) continue;
    const ourInfo = b.get(name) as unknown[];
    expect({ name, info: ourInfo && [...ourInfo.slice(0, 9), sortedByName(ourInfo[9])] }).toEqual({ name, info: [...info.slice(0, 9), sortedByName(info[9])] });
  }
  await same("COMMAND", "INFO", "get", "client|kill", "CLUSTER|INFO", "nosuch", "get|x", "client|nosuch|x");
});

function sortedByName(subs: unknown): unknown {
  return (subs as unknown[][]).slice().sort((x, y) => String(x[0]).localeCompare(String(y[0])));
}

test("without cluster support: CLUSTER, READONLY, READWRITE, ASKING answer as redis-server does", async () => {
  for (const cmd of [["READONLY"], ["READWRITE"], ["ASKING"], ["CLUSTER", "INFO"], ["CLUSTER", "HELP"], ["CLUSTER", "NODES"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"], ["CLUSTER", "KEYSLOT", "k"], ["CLUSTER", "MYID"], ["CLUSTER", "RESET", "HARD"]]) {
    expect(await same(...cmd)).toBe("-ERR This instance has cluster support disabled");
  }
  for (const cmd of [["CLUSTER"], ["CLUSTER", "NOSUCH"], ["CLUSTER", "MYID", "x"], ["CLUSTER", "KEYSLOT"], ["READONLY", "x"], ["ASKING", "x"]]) await same(...cmd);
  // Inside MULTI: queued, then the error at EXEC.
  await same("MULTI");
  await same("READONLY");
  await same("CLUSTER", "INFO");
  await same("EXEC");
});

test("RESTORE-ASKING is RESTORE", async () => {
  await same("SET", "src", "value");
  const [payload] = await both("DUMP", "src");
  await same("RESTORE-ASKING", "dst", 0, payload as string);
  await same("GET", "dst");
  await same("RESTORE-ASKING", "dst", 0, payload as string);
  await same("RESTORE-ASKING", "dst", 0, payload as string, "REPLACE", "ABSTTL");
  await same("RESTORE-ASKING", "dst2", 0, "bad payload");
  await same("DEL", "src", "dst");
});

test("LOLWUT: Redis 7.0.15's text; VERSION 5's deterministic rows and VERSION 6's layout as Redis draws them", async () => {
  for (const args of [[], ["10"], ["VERSION"], ["VERSION", "7"], ["VERSION", "-1"], ["VERSION", "x"], ["VERSION", "5", "x"], ["VERSION", "6", "1", "x"], ["VERSION", "99999999999999999999"]]) await same("LOLWUT", ...args);
  // Schotter's first two rows of squares are not randomized: with two rows only, the whole
  // drawing is the same (including Redis's single-precision rounding).
  for (const args of [["5", "66", "8", "2"], ["5", "7", "3", "2"], ["5", "33", "7", "2"], ["5", "1000", "200", "2"], ["5", "-5", "-5", "-5"], ["5", "2", "1", "1"]]) await same("LOLWUT", "VERSION", ...args);
  // Random rows: the same size, the first rows identical, the same caption.
  const [a, b] = (await both("LOLWUT", "VERSION", "5")) as [string, string];
  expect(b.split("\n").length).toBe(a.split("\n").length);
  expect(b.split("\n").slice(0, 8)).toEqual(a.split("\n").slice(0, 8));
  expect(b.split("\n").slice(-2)).toEqual(a.split("\n").slice(-2));
  const [six, ourSix] = (await both("LOLWUT", "VERSION", "6", "30", "8")) as [string, string];
  const cells = (s: string) => s.split("\n").slice(0, 8).map((l) => l.split("\x1b[0m").length - 1);
  expect(cells(ourSix)).toEqual(cells(six));
  expect(ourSix.split("\n").slice(-3)).toEqual(six.split("\n").slice(-3));
  const colours = (s: string) => new Set(s.match(/\x1b\[[0-9;]+m /g));
  for (const c of colours(ourSix)) expect(["\x1b[0;30;40m ", "\x1b[0;90;100m ", "\x1b[0;37;47m ", "\x1b[0;97;107m "]).toContain(c);
});
