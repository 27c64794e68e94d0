// Stream commands: Replicant against a real redis-server 7.0, the same commands to both and the
// replies compared byte for byte, in RESP2 and RESP3: directed cases for every command, option
// and error path; seeded random layouts (node splits by stream-node-max-entries/bytes,
// tombstones, trimming, radix-tree counts); a seeded consumer-group workload; blocking reads.
// Time-dependent integers (seen-time, delivery times, idle times) are masked, nothing else.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeDir, type ServerProcess, startRedis, startReplicant } from "../helpers/servers.ts";
import { KEYS, Workload } from "./streams-workload.ts";
import { RawClient, replyEnd, runDifferential, type Step } from "../helpers/raw-client.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

let redis: ServerProcess;
let ours: ServerProcess;

beforeAll(async () => {
  [redis, ours] = await Promise.all([startRedis(), startReplicant()]);
});

afterAll(async () => {
  for (const s of [redis, ours]) {
    if (!s) continue;
    await s.stop();
    removeDir(s.dir);
  }
});

async function clients(resp: 2 | 3 = 2): Promise<[RawClient, RawClient]> {
  const a = await RawClient.connect(redis.port);
  const b = await RawClient.connect(ours.port);
  if (resp === 3) await Promise.all([a.call("HELLO", "3"), b.call("HELLO", "3")]);
  await Promise.all([a.call("FLUSHALL"), b.call("FLUSHALL")]);
  return [a, b];
}

// ---------------------------------------------------------------------------------------------
// Raw replies as trees, with the clock-dependent integers masked

interface Node {
  t: string;
  v: string | Node[];
}

function parseTree(raw: string): Node {
  const buf = Buffer.from(raw, "latin1");
  let pos = 0;
  const walk = (): Node => {
    const t = String.fromCharCode(buf[pos]!);
    const nl = buf.indexOf(10, pos);
    const line = buf.latin1Slice(pos + 1, nl - 1);
    pos = nl + 1;
    if (t === "$" || t === "=" || t === "!") {
      const n = Number(line);
      if (n < 0) return { t, v: "null" };
      const v = buf.latin1Slice(pos, pos + n);
      pos += n + 2;
      return { t, v };
    }
    if (t === "*" || t === "~" || t === ">" || t === "%" || t === "|") {
      let n = Number(line);
      if (n < 0) return { t, v: "null" };
      if (t === "%" || t === "|") n *= 2;
      const kids: Node[] = [];
      for (let i = 0; i < n; i++) kids.push(walk());
      return { t, v: kids };
    }
    return { t, v: line };
  };
  const root = walk();
  if (pos !== buf.length || replyEnd(buf, 0) !== buf.length) throw new Error(`trailing bytes in reply ${JSON.stringify(raw.slice(0, 200))}`);
  return root;
}

/** Masks seen-time / idle values, and PEL delivery times (integers that are Unix ms). */
function maskTimes(n: Node): Node {
  if (typeof n.v === "string") return n.t === ":" && Number(n.v) > 1e12 ? { t: ":", v: "<unix-ms>" } : n;
  const kids = n.v.map(maskTimes);
  for (let i = 0; i + 1 < kids.length; i++) {
    const k = kids[i]!;
    if (k.t === "$" && (k.v === "idle" || k.v === "seen-time") && kids[i + 1]!.t === ":") kids[i + 1] = { t: ":", v: "<time>" };
  }
  return { t: n.t, v: kids };
}

/** XPENDING's extended form: [id, consumer, idle, count] per entry; the idle is the clock's. */
function maskPendingIdle(n: Node): Node {
  if (typeof n.v === "string") return n;
  return { t: n.t, v: n.v.map((e) => (Array.isArray(e.v) && e.v.length === 4 && e.v[2]!.t === ":" ? { t: e.t, v: [e.v[0]!, e.v[1]!, { t: ":", v: "<idle>" }, e.v[3]!] } : e)) };
}

function timeMasked(cmd: string[]): Step["compare"] {
  const name = cmd[0]!.toUpperCase();
  const extendedPending = name === "XPENDING" && cmd.length > 3;
  return (expected, actual) => {
    const norm = (raw: string) => {
      const t = maskTimes(parseTree(raw));
      return JSON.stringify(extendedPending ? maskPendingIdle(t) : t);
    };
    const [e, a] = [norm(expected), norm(actual)];
    return e === a ? null : `expected ${expected.slice(0, 600)}, got ${actual.slice(0, 600)}`;
  };
}

const step = (cmd: string[]): Step => ({ cmd, compare: timeMasked(cmd) });

// ---------------------------------------------------------------------------------------------
// Directed cases

const DIRECTED: string[][] = [
  ["XADD", "s", "1-1", "a", "1"],
  ["XADD", "s", "1-*", "a", "2"],
  ["XADD", "s", "2", "b", "3", "c", "4"],
  ["XADD", "s", "MAXLEN", "~", "10", "3-*", "a", "5"],
  ["XLEN", "s"],
  ["XRANGE", "s", "-", "+"],
  ["XRANGE", "s", "(1-1", "+", "COUNT", "2"],
  ["XREVRANGE", "s", "+", "-", "COUNT", "1"],
  ["XRANGE", "s", "-", "+", "COUNT", "0"],
  ["XRANGE", "s", "-", "+", "COUNT", "-1"],
  ["XRANGE", "nokey", "-", "+"],
  ["XRANGE", "s", "(-", "+"],
  ["XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"],
  ["XRANGE", "s", "-", "(0-0"],
  ["XRANGE", "s", "abc", "+"],
  ["XRANGE", "s", "-", "+", "COUNT"],
  ["XADD", "s", "0-0", "a", "1"],
  ["XADD", "s", "1-1", "a", "1"],
  ["XADD", "s", "3-*", "a"],
  ["XADD", "s", "MAXLEN", "-1", "3-*", "a", "1"],
  ["XADD", "s", "MAXLEN", "5", "MINID", "1", "3-*", "a", "1"],
  ["XADD", "s", "LIMIT", "5", "3-*", "a", "1"],
  ["XADD", "s", "MAXLEN", "5", "LIMIT", "5", "3-*", "a", "1"],
  ["XADD", "s", "MAXLEN", "~", "5", "LIMIT", "-1", "3-*", "a", "1"],
  ["XADD", "nokey", "NOMKSTREAM", "3-*", "a", "1"],
  ["EXISTS", "nokey"],
  ["XDEL", "s", "1-1", "9-9"],
  ["XDEL", "s", "bad"],
  ["XINFO", "STREAM", "s"],
  ["XTRIM", "s", "MAXLEN", "2"],
  ["XTRIM", "s"],
  ["XTRIM", "s", "LIMIT", "2"],
  ["XTRIM", "s", "FOO", "2"],
  ["XTRIM", "s", "MINID", "~", "2"],
  ["XSETID", "s", "1-1"],
  ["XSETID", "s", "99999999999999-0", "ENTRIESADDED", "1"],
  ["XSETID", "s", "99999999999999-0", "ENTRIESADDED", "100", "MAXDELETEDID", "99999999999999-1"],
  ["XSETID", "s", "99999999999999-0", "ENTRIESADDED", "100", "MAXDELETEDID", "5-1"],
  ["XSETID", "nokey", "1-1"],
  ["XINFO", "STREAM", "s"],
  ["XINFO", "STREAM", "s", "FULL"],
  ["XINFO", "STREAM", "s", "FULL", "COUNT", "1"],
  ["XINFO", "STREAM", "s", "BAD"],
  ["XINFO", "STREAM", "nokey"],
  ["XINFO", "HELP"],
  ["XGROUP", "HELP"],
  ["XINFO", "FOO"],
  ["XGROUP", "CREATE", "s", "g", "0"],
  ["XGROUP", "CREATE", "s", "g", "0"],
  ["XGROUP", "CREATE", "nokey", "g", "$"],
  ["XGROUP", "CREATE", "nokey2", "g", "$", "MKSTREAM"],
  ["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "-2"],
  ["XGROUP", "CREATE", "s", "g3", "$", "ENTRIESREAD", "3", "BAD"],
  ["XGROUP", "SETID", "s", "nog", "0"],
  ["XGROUP", "CREATECONSUMER", "s", "g", "alice"],
  ["XGROUP", "CREATECONSUMER", "s", "g", "alice"],
  ["XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0"],
  ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "$"],
  ["XREADGROUP", "GROUP", "nog", "bob", "STREAMS", "s", ">"],
  ["XREAD", "STREAMS", "s", "0"],
  ["XREAD", "COUNT", "1", "STREAMS", "s", "s", "0", "0"],
  ["XREAD", "STREAMS", "s", ">"],
  ["XREAD", "STREAMS", "s"],
  ["XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"],
  ["XREAD", "BLOCK", "-1", "STREAMS", "s", "0"],
  ["XREAD", "BLOCK", "abc", "STREAMS", "s", "0"],
  ["XPENDING", "s", "g"],
  ["XPENDING", "s", "g", "-", "+", "10"],
  ["XPENDING", "s", "g", "IDLE", "0", "-", "+", "10", "bob"],
  ["XPENDING", "s", "g", "-", "+", "10", "nobody"],
  ["XPENDING", "s", "nog"],
  ["XPENDING", "s", "g", "-"],
  ["XACK", "s", "g", "bad"],
  ["XCLAIM", "s", "g", "carol", "0", "0-1", "JUSTID"],
  ["XCLAIM", "s", "g", "carol", "abc", "0-1"],
  ["XCLAIM", "s", "g", "carol", "0", "0-1", "FOO"],
  ["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "0"],
  ["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "1", "JUSTID"],
  ["XINFO", "GROUPS", "s"],
  ["XINFO", "CONSUMERS", "s", "nog"],
  ["XGROUP", "DELCONSUMER", "s", "g", "bob"],
  ["XGROUP", "DESTROY", "s", "g"],
  ["XGROUP", "DESTROY", "s", "g"],
  ["XINFO", "STREAM", "s", "FULL"],
  ["XGROUP", "FOO", "s", "g"],
  ["XGROUP", "CREATE", "s"],
  ["XADD", "e", "5-18446744073709551615", "a", "1"],
  ["XADD", "e", "5-*", "a", "1"],
  ["XADD", "e", "18446744073709551615-18446744073709551614", "a", "1"],
  ["XADD", "e", "18446744073709551615-*", "a", "1"],
  ["XADD", "e", "3-*", "a", "1"],
  ["XINFO", "STREAM", "e"],
  ["XADD", "f", "+5", "a", "1"],
  ["XADD", "f", " 6-1", "a", "1"],
  ["XADD", "f", "7-+1", "a", "1"],
  ["XADD", "f", "8--0", "a", "1"],
  ["XADD", "f", "9--1", "a", "1"],
  ["XADD", "f", "-1", "a", "1"],
  ["XADD", "f", "010-1", "a", "1"],
  ["XADD", "f", "11-1-1", "a", "1"],
  ["XADD", "f", "12-", "a", "1"],
  ["XADD", "f", "18446744073709551616-1", "a", "1"],
  ["XADD", "f", "13-18446744073709551616", "a", "1"],
  ["XADD", "f", "14-*5", "a", "1"],
  ["XADD", "f", "-", "a", "1"],
  ["XADD", "f", "+", "a", "1"],
  ["XRANGE", "f", "-", "+"],
  ["XRANGE", "f", "7", "8"],
  ["XRANGE", "f", "(7", "(9"],
  ["XRANGE", "f", "((7", "+"],
  ["XRANGE", "f", "(", "+"],
  ["XRANGE", "f", "(-", "+"],
  ["XRANGE", "f", "-", "(+"],
  ["XREVRANGE", "f", "(9", "(6-1"],
  ["XDEL", "f", "6-1", "7-1"],
  ["XINFO", "STREAM", "f", "FULL", "COUNT", "0"],
  ["XADD", "g", "MINID", "~", "5", "1-1", "a", "b"],
  ["XADD", "g", "MINID", "=", "5", "LIMIT", "3", "2-1", "a", "b"],
  ["XADD", "g", "MAXLEN", "~", "0", "LIMIT", "0", "3-1", "a", "b"],
  ["XADD", "g", "MAXLEN", "=", "0", "4-1", "a", "b"],
  ["XINFO", "STREAM", "g", "FULL"],
  ["XADD", "g", "NOMKSTREAM", "MAXLEN", "1", "5-1", "a", "b"],
  ["XADD", "g", "NOMKSTREAM", "MAXLEN", "1", "5-1", "a"],
  ["XADD", "g", "NOMKSTREAM", "MAXLEN", "1"],
  ["XADD", "g", "NOMKSTREAM", "NOMKSTREAM", "NOMKSTREAM"],
  ["XADD", "g", "MAXLEN", "1", "LIMIT", "1", "LIMIT", "2"],
  ["XTRIM", "g", "MAXLEN", "~", "0", "LIMIT", "0"],
  ["XTRIM", "g", "MINID", "9", "LIMIT", "0"],
  ["XTRIM", "g", "MINID", "-"],
  ["XTRIM", "g", "MAXLEN", "~"],
  ["XTRIM", "g", "MAXLEN", "="],
  ["XTRIM", "g", "MAXLEN", "=", "~"],
  ["XINFO", "STREAM", "g", "FULL"],
  ["SET", "str", "x"],
  ["XADD", "str", "3-*", "a", "1"],
  ["XLEN", "str"],
  ["XRANGE", "str", "-", "+"],
  ["XREAD", "STREAMS", "str", "0"],
  ["XINFO", "STREAM", "str"],
  ["XGROUP", "CREATE", "str", "g", "0"],
  ["XACK", "str", "g", "0-1"],
  ["XPENDING", "str", "g"],
  ["XCLAIM", "str", "g", "c", "0", "0-1"],
  ["XAUTOCLAIM", "str", "g", "c", "0", "0"],
  ["XSETID", "str", "1-1"],
  ["XDEL", "str", "1-1"],
  ["XTRIM", "str", "MAXLEN", "1"],
  ["XGROUP", "CREATE", "g", "grp", "$", "ENTRIESREAD", "10"],
  ["XINFO", "GROUPS", "g"],
  ["XGROUP", "SETID", "g", "grp", "+"],
  ["XINFO", "GROUPS", "g"],
  ["XGROUP", "SETID", "g", "grp", "0", "ENTRIESREAD", "-1"],
  ["XGROUP", "SETID", "g", "grp", "0", "ENTRIESREAD"],
  ["XGROUP", "SETID", "g", "grp", "0", "MKSTREAM"],
  ["XGROUP", "CREATE", "g", "grp2", "(5", "MKSTREAM"],
  ["XGROUP", "CREATE", "newk", "grp", "0", "ENTRIESREAD", "5", "MKSTREAM"],
  ["XINFO", "STREAM", "newk", "FULL"],
  ["XREADGROUP", "GROUP", "grp", "c1", "NOACK", "STREAMS", "newk", ">"],
  ["XINFO", "CONSUMERS", "newk", "grp"],
  ["XGROUP", "CREATECONSUMER", "newk", "nogrp", "c"],
  ["XGROUP", "DELCONSUMER", "newk", "grp", "nobody"],
  ["XREADGROUP", "GROUP", "grp", "c1", "STREAMS", "newk", "0", "extra"],
  ["XREADGROUP", "GROUP", "grp", "STREAMS", "newk", ">"],
  ["XREADGROUP", "STREAMS", "newk", ">"],
  ["XREADGROUP", "GROUP", "grp", "c1", "COUNT", "-5", "STREAMS", "newk", ">"],
  ["XREAD", "COUNT", "x", "STREAMS", "newk", "0"],
  ["XREAD", "NOACK", "STREAMS", "newk", "0"],
  ["XREAD", "STREAMS", "newk", "nokey", "0", "1-x"],
  ["XREAD", "STREAMS", "nokey", "str", "0", "0"],
  ["XREAD", "STREAMS", "str", "nokey", "0", "0"],
  ["XPENDING", "newk", "grp", "IDLE", "5", "-", "+"],
  ["XPENDING", "newk", "grp", "IDLE", "x", "-", "+", "5"],
  ["XPENDING", "newk", "grp", "-", "+", "x"],
  ["XPENDING", "newk", "grp", "(-", "+", "5"],
  ["XPENDING", "newk", "grp", "-", "+", "5", "c", "extra"],
  ["XPENDING", "newk", "grp", "-", "+", "5", "c", "extra", "extra2"],
  ["XPENDING", "newk", "grp", "-", "+"],
  ["XAUTOCLAIM", "newk", "grp", "c", "x", "0"],
  ["XAUTOCLAIM", "newk", "grp", "c", "0", "x"],
  ["XAUTOCLAIM", "newk", "grp", "c", "0", "0", "COUNT", "x"],
  ["XAUTOCLAIM", "newk", "grp", "c", "0", "0", "COUNT", "576460752303423488"],
  ["XAUTOCLAIM", "newk", "grp", "c", "0", "0", "COUNT", "576460752303423487"],
  ["XAUTOCLAIM", "newk", "grp", "c", "0", "0", "FOO"],
  ["XAUTOCLAIM", "newk", "nogrp", "c", "0", "0"],
  ["XCLAIM", "newk", "grp", "c", "0", "0-1", "IDLE", "x"],
  ["XCLAIM", "newk", "grp", "c", "0", "0-1", "TIME", "x"],
  ["XCLAIM", "newk", "grp", "c", "0", "0-1", "RETRYCOUNT", "x"],
  ["XCLAIM", "newk", "grp", "c", "0", "0-1", "LASTID", "x"],
  ["XCLAIM", "newk", "grp", "c", "0", "0-1", "IDLE"],
  ["XCLAIM", "newk", "nogrp", "c", "x", "0-1"],
  ["XCLAIM", "newk", "grp", "c", "0", "0-1", "LASTID", "99-0"],
  ["XINFO", "GROUPS", "newk"],
  ["XINFO", "CONSUMERS", "newk", "grp"],
  ["XSETID", "newk", "1-1", "ENTRIESADDED", "-1"],
  ["XSETID", "newk", "1-1", "ENTRIESADDED"],
  ["XSETID", "newk", "1-1", "MAXDELETEDID", "2-2"],
  ["XSETID", "newk", "+"],
  ["XINFO", "STREAM", "newk", "FULL", "COUNT"],
  ["XINFO", "STREAM", "newk", "FULL", "COUNT", "x"],
  ["XINFO", "STREAM", "newk", "FULL", "CNT", "1"],
  ["XINFO", "STREAM", "newk", "FULL", "COUNT", "-1"],
  ["XINFO", "CONSUMERS", "newk"],
  ["XINFO", "GROUPS", "newk", "x"],
  ["XINFO", "HELP", "x"],
  ["XGROUP", "HELP", "x"],
  ["XGROUP", "DESTROY", "newk"],
  ["COPY", "f", "f-copy"],
  ["XINFO", "STREAM", "f-copy", "FULL"],
  ["COPY", "newk", "newk-copy"],
  ["XADD", "newk-copy", "999-1", "a", "b"],
  ["XREADGROUP", "GROUP", "grp", "c9", "STREAMS", "newk-copy", ">"],
  ["XINFO", "STREAM", "newk-copy", "FULL"],
  ["XINFO", "STREAM", "newk", "FULL"],
  ["OBJECT", "ENCODING", "newk-copy"],
  ["TYPE", "newk-copy"],
];

const BLOCKING_INSIDE_MULTI: string[][] = [
  ["XADD", "m", "1-1", "a", "1"],
  ["MULTI"],
  ["XREAD", "BLOCK", "0", "STREAMS", "m", "$"],
  ["XREAD", "BLOCK", "0", "STREAMS", "m", "0"],
  ["XGROUP", "CREATE", "m", "g", "$"],
  ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "m", ">"],
  ["EXEC"],
  ["XINFO", "STREAM", "m", "FULL"],
];

describe("stream commands against redis-server", () => {
  for (const resp of [2, 3] as const) {
    test(`directed cases of every command, option and error (RESP${resp})`, async () => {
      const [a, b] = await clients(resp);
      const errors = await runDifferential(a, b, [...DIRECTED, ...BLOCKING_INSIDE_MULTI].map(step), 20, 1);
      a.close();
      b.close();
      expect(errors).toEqual([]);
    });
  }

  test("random layouts: node splits, tombstones, trimming and radix-tree counts after every command", async () => {
    const seed = seedFromEnv("STREAM_LAYOUT_SEED");
    const rand = rng(seed);
    const [a, b] = await clients();
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const int = (n: number) => Math.floor(rand() * n);
    for (let round = 0; round < 4; round++) {
      const steps: Step[] = [];
      const key = `layout${round}`;
      const config = [String(pick([0, 1, 3, 7, 100])), String(pick([0, 90, 150, 300, 4096]))];
      steps.push({ cmd: ["CONFIG", "SET", "stream-node-max-entries", config[0]!] }, { cmd: ["CONFIG", "SET", "stream-node-max-bytes", config[1]!] });
      let ms = 1;
      const ids: string[] = [];
      for (let i = 0; i < 700; i++) {
        ms += pick([0, 1, 1, 2, 100, 100000, 2 ** 33]);
        const fields: string[] = [];
        const nf = 1 + int(4);
        for (let k = 0; k < nf; k++) {
          fields.push(pick(["a", "b", "c", `field${k}`]));
          fields.push(pick([String(int(2000000) - 1000000), "x".repeat(int(70)), String(int(2 ** 53)), String(int(400) - 200), "-0", "007", "1".repeat(20)]));
        }
        const r = rand();
        if (r < 0.65) {
          const id = rand() < 0.5 ? `${ms}-*` : `${ms}-${int(6)}`;
          steps.push({ cmd: ["XADD", key, ...(rand() < 0.1 ? ["MAXLEN", pick(["~", "="]), String(int(200))] : []), id, ...fields] });
          ids.push(id.replace("*", "0"));
        } else if (r < 0.82 && ids.length) {
          steps.push({ cmd: ["XDEL", key, pick(ids), ...(rand() < 0.4 ? [pick(ids), pick(ids)] : [])] });
        } else if (r < 0.88) {
          steps.push({ cmd: ["XTRIM", key, "MAXLEN", pick(["~", "=", "~"]), String(int(300)), ...(rand() < 0.2 ? ["LIMIT", String(int(50))] : [])].filter((x) => x !== "") });
        } else if (r < 0.94) {
          steps.push({ cmd: ["XTRIM", key, "MINID", pick(["~", "="]), `${int(ms + 1)}-${int(3)}`] });
        } else {
          steps.push({ cmd: ["XREVRANGE", key, "+", "-", "COUNT", String(1 + int(5))] });
        }
        steps.push({ cmd: ["XINFO", "STREAM", key] });
        if (i % 50 === 0) steps.push({ cmd: ["XINFO", "STREAM", key, "FULL", "COUNT", "0"] });
      }
      steps.push({ cmd: ["XRANGE", key, "-", "+"] }, { cmd: ["XLEN", key] });
      const errors = await runDifferential(a, b, steps, 10);
      expect({ config, errors }).toEqual({ config, errors: [] });
    }
    await Promise.all([a.call("CONFIG", "SET", "stream-node-max-entries", "100"), b.call("CONFIG", "SET", "stream-node-max-entries", "100")]);
    await Promise.all([a.call("CONFIG", "SET", "stream-node-max-bytes", "4096"), b.call("CONFIG", "SET", "stream-node-max-bytes", "4096")]);
    a.close();
    b.close();
  }, 120000);

  test("a seeded consumer-group workload: every reply, then XINFO STREAM FULL, XINFO GROUPS/CONSUMERS, XPENDING", async () => {
    const seed = seedFromEnv("STREAM_GROUPS_SEED");
    const [a, b] = await clients();
    const start = Date.now() + 3_600_000;
    const w = new Workload(rng(seed), start + 1);
    const steps: Step[] = KEYS.map((k) => step(["XADD", k, `${start}-0`, "init", "1"]));
    for (let i = 0; i < 3000; i++) {
      const cmd = w.next(i > 2000);
      steps.push(step(cmd));
      if (cmd[0] === "XADD" && cmd.includes("*")) w.ms++; // keep explicit IDs ahead of "*"
      if (i % 100 === 0) {
        for (const k of KEYS) steps.push(step(["XINFO", "STREAM", k, "FULL"]), step(["XINFO", "GROUPS", k]), step(["XPENDING", k, "g1", "-", "+", "20"]), step(["XINFO", "CONSUMERS", k, "g2"]));
      }
    }
    const errors = await runDifferential(a, b, steps, 10, 50);
    a.close();
    b.close();
    expect(errors).toEqual([]);
  }, 120000);
});

// ---------------------------------------------------------------------------------------------
// Blocking reads: the same scenario on both servers, every reply compared

type Scenario = (port: number) => Promise<string[]>;

async function bothServers(scenario: Scenario): Promise<void> {
  const [a, b] = await clients();
  a.close();
  b.close();
  const expected = await scenario(redis.port);
  const actual = await scenario(ours.port);
  if (process.env.STREAM_DEBUG) console.log(JSON.stringify(expected));
  expect(actual).toEqual(expected);
}

/** Connections, a way to wait until `n` clients are blocked, and the replies so far. */
async function session(port: number, n: number) {
  const cs = await Promise.all(Array.from({ length: n }, () => RawClient.connect(port)));
  const admin = await RawClient.connect(port);
  const blocked = async (count: number) => {
    for (let i = 0; i < 400; i++) {
      const info = await admin.call("INFO", "clients");
      if (info.includes(`blocked_clients:${count}\r\n`)) return;
      await Bun.sleep(5);
    }
    throw new Error(`never saw ${count} blocked clients`);
  };
  const close = () => {
    for (const c of cs) c.close();
    admin.close();
  };
  return { cs, admin, blocked, close };
}

describe("blocking XREAD / XREADGROUP against redis-server", () => {
  test("XREAD BLOCK: served by XADD (with $, on a missing key, several keys), COUNT, timeout", () =>
    bothServers(async (port) => {
      const { cs, admin, blocked, close } = await session(port, 3);
      const [c1, c2, c3] = cs as [RawClient, RawClient, RawClient];
      const out: string[] = [];
      const p1 = c1.call("XREAD", "BLOCK", "0", "STREAMS", "nokey", "other", "$", "$");
      const p2 = c2.call("XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "other", "0-0");
      await blocked(2);
      out.push(await admin.call("XADD", "other", "5-1", "f", "v"));
      out.push(await p1, await p2);
      // Entries added inside MULTI are served together after EXEC, up to the blocked COUNT.
      const p3 = c3.call("XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "other", "$");
      await blocked(1);
      out.push(...(await admin.pipeline([["MULTI"], ["XADD", "other", "6-1", "a", "1"], ["XADD", "other", "6-2", "a", "2"], ["XADD", "other", "6-3", "a", "3"], ["EXEC"]])));
      out.push(await p3);
      // A wrong type does not unblock XREAD; it times out with a null reply.
      const p4 = c1.call("XREAD", "BLOCK", "300", "STREAMS", "str", "$");
      await blocked(1);
      out.push(await admin.call("SET", "str", "x"));
      out.push(await p4);
      // ("+" is Redis 7.4's last entry, compared with redis-server 7.4 in hash-field-ttl.test.ts.)
      out.push(await c2.call("XREAD", "BLOCK", "50", "STREAMS", "other", "++"));
      // Only XADD wakes a reader: XDEL, XTRIM, XSETID do not, even past its ID (tombstones).
      out.push(...(await admin.pipeline([["XADD", "tomb", "1-1", "a", "1"], ["XADD", "tomb", "1-2", "a", "2"], ["XADD", "tomb", "1-3", "a", "3"], ["XDEL", "tomb", "1-3"]])));
      const p5 = c3.call("XREAD", "BLOCK", "0", "STREAMS", "tomb", "1-2");
      await blocked(1);
      out.push(...(await admin.pipeline([["XDEL", "tomb", "1-1"], ["XTRIM", "tomb", "MAXLEN", "0"], ["XSETID", "tomb", "9-0"]])));
      await Bun.sleep(50);
      await blocked(1);
      out.push(await admin.call("XADD", "tomb", "10-0", "b", "1"));
      out.push(await p5);
      close();
      return out;
    }));

  test("XREADGROUP BLOCK: served by XADD in blocking order, PEL entries, NOACK, group destroyed, key deleted", () =>
    bothServers(async (port) => {
      const { cs, admin, blocked, close } = await session(port, 3);
      const [c1, c2, c3] = cs as [RawClient, RawClient, RawClient];
      const out: string[] = [];
      out.push(await admin.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM"));
      const p1 = c1.call("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "k", ">");
      const p2 = c2.call("XREADGROUP", "GROUP", "g", "bob", "NOACK", "BLOCK", "0", "STREAMS", "k", ">");
      await blocked(2);
      out.push(await admin.call("XADD", "k", "1-1", "f", "v"));
      out.push(await p1);
      // bob waits on: the group's last ID moved past the only entry.
      out.push(await admin.call("XADD", "k", "1-2", "f", "w"));
      out.push(await p2);
      out.push(await admin.call("XPENDING", "k", "g"));
      out.push(await admin.call("XINFO", "GROUPS", "k"));
      const p3 = c1.call("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "k", ">");
      await blocked(1);
      out.push(await admin.call("XGROUP", "DESTROY", "k", "g"));
      out.push(await p3);
      out.push(await admin.call("XGROUP", "CREATE", "k", "g2", "$"));
      const p4 = c3.call("XREADGROUP", "GROUP", "g2", "carol", "BLOCK", "0", "STREAMS", "k", ">");
      await blocked(1);
      out.push(await admin.call("DEL", "k"));
      out.push(await p4);
      out.push(await c3.call("PING"));
      close();
      return out;
    }));
});
