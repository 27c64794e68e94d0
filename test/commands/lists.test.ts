// Lists: the ring buffer against an array model, then Replicant against a real redis-server
// 7.0: the same commands to both (the edge cases of the Redis docs, then a seeded random
// workload), replies compared byte for byte in RESP2 and RESP3. Blocking behaviour and
// replication are in lists-blocking.test.ts.

import { beforeAll, describe, expect, test } from "bun:test";
import { ListValue } from "../../src/store/list.ts";
import { RawClient, runDifferential, type Step } from "../helpers/raw-client.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";
import { serverPair } from "../helpers/side-by-side.ts";

// ---------------------------------------------------------------------------------------------
// The ring buffer

describe("ListValue ring buffer", () => {
  test("random operations agree with an array (ends, index, insert, ranges, LREM, growth and shrink)", () => {
    const seed = seedFromEnv("LIST_RING_SEED");
    const rand = rng(seed);
    const list = new ListValue();
    let model: string[] = [];
    const value = () => `v${Math.floor(rand() * 12)}`;
    for (let step = 0; step < 40000; step++) {
      const op = rand();
      // Phases of growth and of shrinking so the capacity moves both ways.
      const growing = Math.floor(step / 5000) % 2 === 0;
      if (op < (growing ? 0.3 : 0.1)) {
        const v = value();
        list.pushTail(v);
        model.push(v);
      } else if (op < (growing ? 0.6 : 0.2)) {
        const v = value();
        list.pushHead(v);
        model.unshift(v);
      } else if (op < 0.45) {
        expect(list.popHead()).toBe(model.shift());
      } else if (op < 0.7) {
        expect(list.popTail()).toBe(model.pop());
      } else if (op < 0.75) {
        const i = Math.floor(rand() * (model.length + 1));
        const v = value();
        list.insertAt(i, v);
        model.splice(i, 0, v);
      } else if (op < 0.8 && model.length) {
        const i = Math.floor(rand() * model.length);
        const n = 1 + Math.floor(rand() * Math.min(5, model.length - i));
        list.removeRange(i, n);
        model.splice(i, n);
      } else if (op < 0.83) {
        const n = Math.floor(rand() * 4);
        list.removeHead(n);
        model.splice(0, n);
      } else if (op < 0.86) {
        const n = Math.floor(rand() * 4);
        list.removeTail(n);
        model.splice(Math.max(0, model.length - n), n);
      } else if (op < 0.88) {
        const v = value();
        const limit = Math.floor(rand() * 3);
        const fromTail = rand() < 0.5;
        let removed = 0;
        const drop = (x: string) => {
          if (x !== v || (limit !== 0 && removed >= limit)) return false;
          removed++;
          return true;
        };
        if (!fromTail) model = model.filter((x) => !drop(x));
        else model = model.reverse().filter((x) => !drop(x)).reverse();
        expect(list.removeMatching(v, limit, fromTail)).toBe(removed);
      } else if (op < 0.9 && model.length) {
        const i = Math.floor(rand() * model.length);
        const v = value();
        list.set(i, v);
        model[i] = v;
      } else {
        expect(list.length).toBe(model.length);
        const i = Math.floor(rand() * (model.length + 2)) - 1;
        expect(list.at(i)).toBe(i >= 0 ? model[i] : undefined);
        expect(list.indexOf("v3")).toBe(model.indexOf("v3"));
      }
      if (step % 1000 === 0) expect(list.toArray()).toEqual(model);
    }
    expect(list.toArray()).toEqual(model);
    expect([...list]).toEqual(model);
  });

  test("capacity doubles when full and halves when a quarter full, above a floor", () => {
    const list = new ListValue();
    for (let i = 0; i < 10000; i++) list.pushTail(String(i));
    expect(list.capacity).toBe(16384);
    for (let i = 0; i < 9990; i++) list.popHead();
    expect(list.length).toBe(10);
    expect(list.capacity).toBeLessThanOrEqual(64);
    expect(list.toArray()).toEqual(Array.from({ length: 10 }, (_, i) => String(9990 + i)));
    list.removeTail(10);
    expect(list.length).toBe(0);
    expect(list.popHead()).toBeUndefined();
    expect(list.popTail()).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Against redis-server, reply for reply

const pair = serverPair();
let r2: RawClient;
let p2: RawClient;
beforeAll(() => {
  [r2, p2] = pair.clients;
});

const LONG_MAX = "9223372036854775807";
const LONG_MIN = "-9223372036854775808";

/** The documented edge cases, command by command. Never a blocking command that could block. */
function edgeCases(): string[][] {
  const cmds: string[][] = [];
  const add = (...c: string[]) => cmds.push(c);
  add("FLUSHALL");
  // Pushes
  add("RPUSH", "l:a", "a", "b", "c", "d", "e");
  add("LPUSH", "l:a", "x", "y");
  add("LRANGE", "l:a", "0", "-1");
  add("LLEN", "l:a");
  add("LLEN", "l:missing");
  add("LPUSHX", "l:missing", "v");
  add("RPUSHX", "l:missing", "v");
  add("EXISTS", "l:missing");
  add("LPUSHX", "l:a", "p", "q");
  add("RPUSHX", "l:a", "r");
  add("LRANGE", "l:a", "0", "-1");
  add("RPUSH", "l:bin", "\x00\xff\r\n", "", "é");
  add("LRANGE", "l:bin", "0", "-1");
  add("TYPE", "l:a");
  add("OBJECT", "ENCODING", "l:a");
  // WRONGTYPE everywhere
  add("SET", "l:s", "str");
  for (const c of [
    ["LPUSH", "l:s", "v"],
    ["RPUSH", "l:s", "v"],
    ["LPUSHX", "l:s", "v"],
    ["RPUSHX", "l:s", "v"],
    ["LLEN", "l:s"],
    ["LRANGE", "l:s", "0", "1"],
    ["LINDEX", "l:s", "0"],
    ["LINDEX", "l:s", "notanint"],
    ["LSET", "l:s", "0", "x"],
    ["LSET", "l:s", "x", "x"],
    ["LPOP", "l:s"],
    ["LPOP", "l:s", "2"],
    ["RPOP", "l:s", "0"],
    ["LPOS", "l:s", "a"],
    ["LPOS", "l:s", "a", "COUNT", "x"],
    ["LREM", "l:s", "0", "a"],
    ["LTRIM", "l:s", "0", "1"],
    ["LINSERT", "l:s", "before", "a", "b"],
    ["LINSERT", "l:s", "middle", "a", "b"],
    ["LMOVE", "l:s", "l:a", "left", "right"],
    ["LMOVE", "l:a", "l:s", "left", "left"],
    ["RPOPLPUSH", "l:a", "l:s"],
    ["RPOPLPUSH", "l:s", "l:a"],
    ["LMPOP", "1", "l:s", "left"],
    ["LMPOP", "2", "l:missing", "l:s", "left"],
    ["LMPOP", "2", "l:a", "l:s", "left"],
    ["BLPOP", "l:s", "1"],
    ["BLPOP", "l:missing", "l:s", "1"],
    ["BRPOP", "l:s", "-1"],
    ["BLMOVE", "l:a", "l:s", "left", "left", "0"],
    ["BLMOVE", "l:s", "l:a", "left", "left", "0"],
    ["BRPOPLPUSH", "l:a", "l:s", "0"],
    ["BLMPOP", "0", "1", "l:s", "left"],
  ])
    add(...c);
  add("LRANGE", "l:a", "0", "-1");
  // LINDEX
  add("DEL", "l:i");
  add("RPUSH", "l:i", "a", "b", "c");
  for (const i of ["0", "1", "2", "3", "-1", "-3", "-4", "100", "-100", LONG_MAX, LONG_MIN, "1.5", "-0", "+1", " 1", "01", "", "99999999999999999999"]) add("LINDEX", "l:i", i);
  add("LINDEX", "l:missing", "x");
  // LSET
  add("LSET", "l:missing", "0", "x");
  add("LSET", "l:missing", "x", "x");
  add("LSET", "l:i", "0", "A");
  add("LSET", "l:i", "-1", "C");
  add("LSET", "l:i", "3", "x");
  add("LSET", "l:i", "-4", "x");
  add("LSET", "l:i", "x", "x");
  add("LRANGE", "l:i", "0", "-1");
  // LRANGE
  add("DEL", "l:r");
  add("RPUSH", "l:r", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
  for (const [a, b] of [
    ["0", "-1"],
    ["-3", "-1"],
    ["2", "1"],
    ["100", "200"],
    ["-100", "100"],
    ["0", "0"],
    ["-1", "-1"],
    ["9", "9"],
    ["10", "10"],
    ["5", "-6"],
    ["5", "-7"],
    [LONG_MIN, LONG_MAX],
    [LONG_MAX, LONG_MIN],
    ["x", "1"],
    ["1", "x"],
    ["-0", "1"],
  ])
    add("LRANGE", "l:r", a!, b!);
  add("LRANGE", "l:missing", "0", "-1");
  add("LRANGE", "l:missing", "x", "-1");
  // LTRIM
  for (const [a, b] of [
    ["1", "-2"],
    ["0", "-1"],
    ["-100", "100"],
    ["2", "1"],
    ["1", "1"],
    ["x", "0"],
  ]) {
    add("DEL", "l:t");
    add("RPUSH", "l:t", "a", "b", "c", "d", "e");
    add("LTRIM", "l:t", a!, b!);
    add("LRANGE", "l:t", "0", "-1");
    add("EXISTS", "l:t");
  }
  add("LTRIM", "l:missing", "0", "1");
  add("LTRIM", "l:missing", "x", "1");
  add("DEL", "l:t");
  add("RPUSH", "l:t", "a", "b", "c");
  add("LTRIM", "l:t", LONG_MIN, LONG_MIN);
  add("EXISTS", "l:t");
  // LREM
  for (const count of ["0", "1", "2", "-1", "-2", "100", "-100", LONG_MIN, "x"]) {
    add("DEL", "l:m");
    add("RPUSH", "l:m", "a", "b", "a", "c", "a", "b", "a");
    add("LREM", "l:m", count, "a");
    add("LRANGE", "l:m", "0", "-1");
  }
  add("LREM", "l:m", "0", "zzz");
  add("LREM", "l:m", "0", "b");
  add("LREM", "l:m", "0", "c");
  add("EXISTS", "l:m");
  add("LREM", "l:missing", "0", "a");
  add("LREM", "l:missing", "x", "a");
  // LINSERT
  add("DEL", "l:n");
  add("RPUSH", "l:n", "a", "b", "c", "b");
  add("LINSERT", "l:n", "BEFORE", "b", "x");
  add("LINSERT", "l:n", "after", "b", "y");
  add("LINSERT", "l:n", "After", "c", "z");
  add("LINSERT", "l:n", "before", "a", "first");
  add("LINSERT", "l:n", "after", "b", "last?");
  add("LINSERT", "l:n", "before", "nothere", "x");
  add("LINSERT", "l:n", "sideways", "a", "x");
  add("LINSERT", "l:missing", "before", "a", "x");
  add("LINSERT", "l:missing", "sideways", "a", "x");
  add("LRANGE", "l:n", "0", "-1");
  // LPOS
  add("DEL", "l:p");
  add("RPUSH", "l:p", "a", "b", "c", "1", "2", "3", "c", "c", "a");
  for (const opts of [
    [],
    ["RANK", "1"],
    ["RANK", "2"],
    ["RANK", "3"],
    ["RANK", "4"],
    ["RANK", "-1"],
    ["RANK", "-2"],
    ["RANK", "-3"],
    ["RANK", "-4"],
    ["RANK", "0"],
    ["RANK", "x"],
    ["RANK", LONG_MIN],
    ["RANK", LONG_MIN, "COUNT", "2"],
    ["RANK", LONG_MAX],
    ["COUNT", "0"],
    ["COUNT", "1"],
    ["COUNT", "2"],
    ["COUNT", "-1"],
    ["COUNT", "x"],
    ["COUNT", "0", "RANK", "2"],
    ["COUNT", "2", "RANK", "-1"],
    ["COUNT", "0", "RANK", "-2"],
    ["MAXLEN", "0"],
    ["MAXLEN", "1"],
    ["MAXLEN", "3"],
    ["MAXLEN", "-1"],
    ["MAXLEN", "x"],
    ["RANK", "-1", "MAXLEN", "1"],
    ["RANK", "-1", "MAXLEN", "2"],
    ["COUNT", "0", "MAXLEN", "7"],
    ["COUNT", "0", "RANK", "-1", "MAXLEN", "3"],
    ["RANK", "2", "RANK", "1"],
    ["RANK"],
    ["COUNT"],
    ["FOO", "1"],
    ["rank", "1", "count", "1", "maxlen", "1"],
  ]) {
    add("LPOS", "l:p", "c", ...opts);
    add("LPOS", "l:p", "a", ...opts);
  }
  add("LPOS", "l:p", "zzz");
  add("LPOS", "l:p", "zzz", "COUNT", "0");
  add("LPOS", "l:p", "1");
  add("LPOS", "l:missing", "a");
  add("LPOS", "l:missing", "a", "COUNT", "0");
  add("LPOS", "l:missing", "a", "RANK", "0");
  add("LPOS", "l:missing", "a", "FOO");
  // LPOP / RPOP
  for (const cmd of ["LPOP", "RPOP"]) {
    add("DEL", "l:o");
    add("RPUSH", "l:o", "1", "2", "3", "4", "5", "6");
    add(cmd, "l:o");
    add(cmd, "l:o", "0");
    add(cmd, "l:o", "1");
    add(cmd, "l:o", "2");
    add(cmd, "l:o", "-1");
    add(cmd, "l:o", "x");
    add(cmd, "l:o", "1", "2");
    add(cmd, "l:o", "100");
    add("EXISTS", "l:o");
    add(cmd, "l:o");
    add(cmd, "l:o", "1");
    add(cmd, "l:o", "0");
    add(cmd, "l:o", "-1");
    add("RPUSH", "l:o", "only");
    add(cmd, "l:o");
    add("EXISTS", "l:o");
  }
  // LMOVE / RPOPLPUSH
  add("DEL", "l:src", "l:dst");
  add("RPUSH", "l:src", "1", "2", "3", "4");
  for (const [a, b] of [
    ["left", "left"],
    ["left", "right"],
    ["right", "left"],
    ["RIGHT", "RIGHT"],
  ]) {
    add("LMOVE", "l:src", "l:dst", a!, b!);
    add("LRANGE", "l:dst", "0", "-1");
  }
  add("LMOVE", "l:src", "l:dst", "up", "left");
  add("LMOVE", "l:src", "l:dst", "left", "down");
  add("LMOVE", "l:missing", "l:dst", "up", "left");
  add("LMOVE", "l:missing", "l:dst", "left", "left");
  add("EXISTS", "l:src");
  add("RPOPLPUSH", "l:dst", "l:dst");
  add("LRANGE", "l:dst", "0", "-1");
  add("LMOVE", "l:dst", "l:dst", "left", "right");
  add("LRANGE", "l:dst", "0", "-1");
  add("RPUSH", "l:one", "x");
  add("LMOVE", "l:one", "l:one", "left", "right");
  add("LRANGE", "l:one", "0", "-1");
  add("RPOPLPUSH", "l:one", "l:new");
  add("EXISTS", "l:one");
  add("LRANGE", "l:new", "0", "-1");
  add("RPOPLPUSH", "l:missing", "l:new");
  // LMPOP
  add("DEL", "l:x", "l:y");
  add("RPUSH", "l:y", "a", "b", "c", "d", "e");
  for (const c of [
    ["LMPOP", "0", "l:y", "left"],
    ["LMPOP", "-1", "l:y", "left"],
    ["LMPOP", "x", "l:y", "left"],
    ["LMPOP", "3", "l:y", "left"],
    ["LMPOP", "2", "l:y", "left"],
    ["LMPOP", "1", "l:y"],
    ["LMPOP", "1", "l:y", "up"],
    ["LMPOP", "1", "l:y", "left", "COUNT", "0"],
    ["LMPOP", "1", "l:y", "left", "COUNT", "-1"],
    ["LMPOP", "1", "l:y", "left", "COUNT", "x"],
    ["LMPOP", "1", "l:y", "left", "COUNT"],
    ["LMPOP", "1", "l:y", "left", "COUNT", "1", "COUNT", "1"],
    ["LMPOP", "1", "l:y", "left", "FOO"],
    ["LMPOP", LONG_MAX, "l:y", "left"],
    ["LMPOP", "2", "l:x", "l:y", "left"],
    ["LMPOP", "2", "l:x", "l:y", "RIGHT", "COUNT", "2"],
    ["LMPOP", "2", "l:x", "l:y", "left", "count", "100"],
    ["LMPOP", "2", "l:x", "l:y", "left"],
    ["EXISTS", "l:y"],
  ])
    add(...c);
  // Blocking commands where data is there, or with bad arguments (they never block here)
  add("RPUSH", "l:b", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16");
  for (const c of [
    ["BLPOP", "l:missing", "l:b", "0"],
    ["BRPOP", "l:b", "l:missing", "0.5"],
    ["BLPOP", "l:b", "1.5"],
    ["BLMPOP", "0", "2", "l:missing", "l:b", "left", "COUNT", "2"],
    ["BLMPOP", "0", "1", "l:b", "right"],
    ["BLMOVE", "l:b", "l:b2", "left", "right", "0"],
    ["BLMOVE", "l:b", "l:b2", "RIGHT", "Left", "0.01"],
    ["BRPOPLPUSH", "l:b", "l:b2", "0"],
    ["LRANGE", "l:b2", "0", "-1"],
    // timeouts, checked before the keys
    ["BLPOP", "l:b", "-1"],
    ["BLPOP", "l:b", "x"],
    ["BLPOP", "l:b", ""],
    ["BLPOP", "l:b", " 1"],
    ["BLPOP", "l:b", "inf"],
    ["BLPOP", "l:b", "-inf"],
    ["BLPOP", "l:b", "nan"],
    ["BLPOP", "l:b", "1e400"],
    ["BLPOP", "l:b", "-0.0001"],
    ["BLPOP", "l:b", "99999999999999999999"],
    ["BLMOVE", "l:b", "l:b2", "left", "right", "-1"],
    ["BLMOVE", "l:b", "l:b2", "up", "right", "-1"],
    ["BRPOPLPUSH", "l:b", "l:b2", "x"],
    ["BLMPOP", "x", "1", "l:b", "left"],
    ["BLMPOP", "-1", "1", "l:b", "left"],
    ["BLMPOP", "-1", "0", "l:b", "left"],
    ["BLMPOP", "-1", "1", "l:b", "up"],
    ["BLMPOP", "-1", "1", "l:b", "left", "COUNT", "0"],
    ["BLMPOP", "0", "1", "l:b", "left", "COUNT", "0"],
  ])
    add(...c);
  // Inside MULTI nothing blocks: the timeout replies (and a null bulk for BLMOVE/BRPOPLPUSH)
  add("MULTI");
  add("BLPOP", "l:missing", "0");
  add("BRPOP", "l:missing", "l:missing2", "0");
  add("BLMPOP", "0", "1", "l:missing", "left");
  add("BLMOVE", "l:missing", "l:b2", "left", "left", "0");
  add("BRPOPLPUSH", "l:missing", "l:b2", "0");
  add("BLPOP", "l:b", "0");
  add("BLPOP", "l:b", "-1");
  add("EXEC");
  add("MULTI");
  add("RPUSH", "l:mx", "a");
  add("BLPOP", "l:mx", "0");
  add("BLPOP", "l:mx", "0");
  add("EXEC");
  add("EXISTS", "l:mx");
  // Arity, checked centrally
  add("LPUSH", "l:a");
  add("LPOP");
  add("LINDEX", "l:a");
  add("BLPOP", "l:a");
  add("LMPOP", "1");
  add("BLMPOP", "0", "1", "l:a");
  add("KEYS", "l:*");
  return cmds;
}

describe("lists against redis-server, reply for reply", () => {
  for (const resp of [2, 3]) {
    test(`documented edge cases (RESP${resp})`, async () => {
      if (resp === 3) {
        await Promise.all([r2.call("HELLO", "3"), p2.call("HELLO", "3")]);
      }
      const steps: Step[] = edgeCases().map((cmd) => ({ cmd }));
      // KEYS order is a hash order in Redis: compare sorted.
      const last = steps[steps.length - 1]!;
      last.compare = (a, b) => (JSON.stringify(a.split("\r\n").sort()) === JSON.stringify(b.split("\r\n").sort()) ? null : `expected ${a}, got ${b}`);
      const errors = await runDifferential(r2, p2, steps, 30, 100);
      expect(errors).toEqual([]);
      if (resp === 3) await Promise.all([r2.call("HELLO", "2"), p2.call("HELLO", "2")]);
    });
  }

  test("seeded random workload (RESP2 and RESP3), then every list equal", async () => {
    const seed = seedFromEnv("LIST_DIFF_SEED");
    const rand = rng(seed);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    const keys = ["w:0", "w:1", "w:2", "w:3", "w:4", "w:str"];
    const listKey = () => pick(keys.slice(0, 5));
    const anyKey = () => (rand() < 0.05 ? "w:str" : listKey());
    const val = () => pick(["a", "b", "c", "d", "1", "2", "10", "-1", "", "\x00"]);
    const vals = () => Array.from({ length: int(1, 4) }, val);
    const side = () => pick(["left", "right", "LEFT", "Right"]);
    const step = (): string[] => {
      const r = rand();
      if (r < 0.12) return ["RPUSH", anyKey(), ...vals()];
      if (r < 0.24) return ["LPUSH", anyKey(), ...vals()];
      if (r < 0.27) return [pick(["LPUSHX", "RPUSHX"]), anyKey(), ...vals()];
      if (r < 0.35) return rand() < 0.5 ? [pick(["LPOP", "RPOP"]), anyKey()] : [pick(["LPOP", "RPOP"]), anyKey(), String(int(0, 4))];
      if (r < 0.38) return ["LLEN", anyKey()];
      if (r < 0.43) return ["LINDEX", anyKey(), String(int(-7, 7))];
      if (r < 0.46) return ["LSET", anyKey(), String(int(-7, 7)), val()];
      if (r < 0.52) return ["LRANGE", anyKey(), String(int(-8, 8)), String(int(-8, 8))];
      if (r < 0.55) return ["LTRIM", anyKey(), String(int(-8, 8)), String(int(-8, 8))];
      if (r < 0.59) return ["LREM", anyKey(), String(int(-3, 3)), val()];
      if (r < 0.65) {
        const opts: string[] = [];
        if (rand() < 0.5) opts.push("RANK", String(pick([-3, -2, -1, 1, 2, 3])));
        if (rand() < 0.5) opts.push("COUNT", String(int(0, 3)));
        if (rand() < 0.3) opts.push("MAXLEN", String(int(0, 6)));
        return ["LPOS", anyKey(), val(), ...opts];
      }
      if (r < 0.69) return ["LINSERT", anyKey(), pick(["BEFORE", "AFTER"]), val(), val()];
      if (r < 0.75) return ["LMOVE", anyKey(), anyKey(), side(), side()];
      if (r < 0.78) return ["RPOPLPUSH", anyKey(), anyKey()];
      if (r < 0.84) {
        const ks = Array.from({ length: int(1, 3) }, anyKey);
        const opt = rand() < 0.5 ? ["COUNT", String(int(1, 5))] : [];
        return ["LMPOP", String(ks.length), ...ks, side(), ...opt];
      }
      if (r < 0.86) return ["SET", "w:str", "x"];
      if (r < 0.88) return ["DEL", listKey()];
      return ["EXISTS", anyKey()];
    };
    const blockingInMulti = (): string[][] => {
      const k = listKey();
      const inner = pick([
        ["BLPOP", k, listKey(), "0"],
        ["BRPOP", k, "0"],
        ["BLMPOP", "0", "2", k, listKey(), side(), "COUNT", String(int(1, 3))],
        ["BLMOVE", k, listKey(), side(), side(), "0"],
        ["BRPOPLPUSH", k, listKey(), "0"],
      ]);
      return [["MULTI"], step(), inner, step(), ["EXEC"]];
    };
    for (const resp of ["2", "3"]) {
      await Promise.all([r2.call("HELLO", resp), p2.call("HELLO", resp)]);
      const steps: Step[] = [];
      for (let i = 0; i < 3000; i++) {
        if (rand() < 0.03) for (const cmd of blockingInMulti()) steps.push({ cmd });
        else steps.push({ cmd: step() });
      }
      const errors = await runDifferential(r2, p2, steps, 10, 200);
      expect(errors).toEqual([]);
      const finals: Step[] = keys.map((k) => ({ cmd: ["LRANGE", k, "0", "-1"] }));
      expect(await runDifferential(r2, p2, finals)).toEqual([]);
    }
    await Promise.all([r2.call("HELLO", "2"), p2.call("HELLO", "2")]);
  }, 60000);
});
