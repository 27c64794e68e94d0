// Sets: Replicant against a real redis-server 7.0 (the same commands to both, replies compared
// byte for byte in RESP2 and RESP3 where Redis's order is deterministic - intsets ascending -
// and as multisets where it is a hashtable's), OBJECT ENCODING transitions, a seeded random
// workload (SPOP reconciled between the two), SSCAN, and replication both ways: Replicant as
// the replica of a redis-server master (beside a redis-server replica as the reference for
// encodings), and Replicant as the master of a redis-server replica (our propagated forms).

import { beforeAll, describe, expect, test } from "bun:test";
import { HashValue } from "../../src/store/hash.ts";
import { isIntsetMember, SetValue } from "../../src/store/set.ts";
import { removeDir, startRedis, startReplicant } from "../helpers/servers.ts";
import { bulkItems, bulkText, RawClient, randomElements, Recorder, type ReconcilingStep, runReconciling, splitReply, keyspaceEvents, StreamTap, tapReady, unordered } from "./sets-compare.ts";
import { runDifferential, runDifferentialResp3, type Step } from "../helpers/raw-client.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";
import { checkAsMaster, checkAsReplica } from "../helpers/replicated-workload.ts";
import { serverPair } from "../helpers/side-by-side.ts";

// ---------------------------------------------------------------------------------------------
// The store: random picks, pops and encodings against a model

describe("SetValue / HashValue random index", () => {
  test("random picks and pops stay members, and sizes agree with a model, under mixed operations", () => {
    const rand = rng(seedFromEnv("SET_INDEX_SEED"));
    const s = new SetValue();
    s.encoding = "hashtable";
    const h = new HashValue();
    const model = new Set<string>();
    for (let step = 0; step < 100000; step++) {
      const r = rand();
      const m = `m${Math.floor(rand() * 300)}`;
      if (r < 0.4) {
        s.add(m);
        h.setField(m, "v");
        model.add(m);
      } else if (r < 0.6) {
        expect(s.delete(m)).toBe(model.has(m));
        expect(h.delete(m)).toBe(model.has(m));
        model.delete(m);
      } else if (r < 0.8 && model.size) {
        expect(model.has(s.randomMember())).toBe(true);
        expect(model.has(h.randomField())).toBe(true);
      } else if (model.size) {
        const x = s.popRandom();
        expect(model.has(x)).toBe(true);
        model.delete(x);
        h.delete(x);
      }
      expect(s.size).toBe(model.size);
    }
  });

  test("picks are uniform after removals and re-additions", () => {
    const s = new SetValue(["a", "b", "c", "d", "e"]);
    s.randomMember();
    s.delete("b");
    s.add("b");
    s.delete("c");
    s.add("f");
    const counts = new Map<string, number>();
    const n = 200000;
    for (let i = 0; i < n; i++) {
      const x = s.randomMember();
      counts.set(x, (counts.get(x) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(["a", "b", "d", "e", "f"]);
    for (const v of counts.values()) expect(Math.abs(v - n / 5)).toBeLessThan(n / 50);
  });

  test("addMember keeps Redis's intset rules", () => {
    for (const m of ["0", "-1", "9223372036854775807", "-9223372036854775808", "12"]) expect(isIntsetMember(m)).toBe(true);
    for (const m of ["", "-", "-0", "01", "+1", " 1", "1 ", "9223372036854775808", "-9223372036854775809", "1.0", "0x1"]) expect(isIntsetMember(m)).toBe(false);
    const s = new SetValue();
    s.encoding = "intset";
    expect(s.addMember("3", 3)).toBe(true);
    expect(s.addMember("3", 3)).toBe(false);
    s.addMember("-1", 3);
    s.addMember("2", 3);
    expect(s.encoding).toBe("intset");
    expect([...s.ordered()]).toEqual(["-1", "2", "3"]);
    s.addMember("4", 3);
    expect(s.encoding as string).toBe("hashtable");
    const t = new SetValue();
    t.encoding = "intset";
    t.addMember("1", 10);
    t.addMember("x", 10);
    expect(t.encoding as string).toBe("hashtable");
  });
});

const pair = serverPair();
let r2: RawClient;
let p2: RawClient;
beforeAll(() => {
  [r2, p2] = pair.clients;
});

const c = (...args: Array<string | number>): Step => ({ cmd: args.map(String) });
const loose = (...args: Array<string | number>): Step => ({ cmd: args.map(String), compare: unordered() });
/** Random replies: same type and length (content checked elsewhere). */
const shape = (...args: Array<string | number>): Step => ({ cmd: args.map(String), compare: randomElements(() => undefined, false, false) });
const distinctShape = (...args: Array<string | number>): Step => ({ cmd: args.map(String), compare: randomElements(() => undefined, true, false) });

async function both(...args: string[]): Promise<void> {
  await Promise.all([r2.call(...args), p2.call(...args)]);
}

/** Hand-written cases: errors, edge values, replies of every shape. Keys use the prefix `e:`. */
function edgeCases(): Step[] {
  const k = "e:s";
  const i = "e:ints";
  return [
    c("SADD", i, "3", "-1", "20", "0", "9223372036854775807", "-9223372036854775808", "7"),
    c("SMEMBERS", i),
    c("OBJECT", "ENCODING", i),
    c("SADD", i, "3", "3", "4"),
    c("SCARD", i),
    c("SISMEMBER", i, "3"),
    c("SISMEMBER", i, "03"),
    c("SISMEMBER", i, "nope"),
    c("SMISMEMBER", i, "3", "nope", "-1", "+3"),
    c("SMISMEMBER", "e:none", "a", "b"),
    c("SISMEMBER", "e:none", "a"),
    c("SCARD", "e:none"),
    c("SMEMBERS", "e:none"),
    c("SADD", "e:ints2", "5", "1", "100", "3"),
    c("SINTER", i, "e:ints2"),
    c("SUNION", i, "e:ints2"),
    c("SDIFF", i, "e:ints2"),
    c("SDIFF", "e:ints2", i),
    c("SINTER", i, "e:none"),
    c("SUNION", "e:none", "e:ints2", "e:none"),
    c("SDIFF", "e:none", "e:ints2"),
    c("SDIFF", i, i),
    c("SDIFF", i, "e:none", i),
    c("SINTERCARD", "2", i, "e:ints2"),
    c("SINTERCARD", "2", i, "e:ints2", "LIMIT", "0"),
    c("SINTERCARD", "2", i, "e:ints2", "limit", "1"),
    c("SINTERCARD", "1", i, "LIMIT", "3"),
    c("SINTERCARD", "2", i, "e:none"),
    c("SINTERCARD", "0", i),
    c("SINTERCARD", "-1", i),
    c("SINTERCARD", "abc", i),
    c("SINTERCARD", "3", i, "e:ints2"),
    c("SINTERCARD", "1", i, "LIMIT"),
    c("SINTERCARD", "1", i, "LIMIT", "-1"),
    c("SINTERCARD", "1", i, "LIMIT", "abc"),
    c("SINTERCARD", "1", i, "FOO", "1"),
    c("SINTERCARD", "1"),
    c("SINTERCARD", "9223372036854775808", i),
    // Members an intset refuses: the set becomes a hashtable for good.
    c("SADD", "e:odd", "1", "2"),
    c("SADD", "e:odd", "9223372036854775808"),
    c("OBJECT", "ENCODING", "e:odd"),
    c("SREM", "e:odd", "9223372036854775808"),
    c("OBJECT", "ENCODING", "e:odd"),
    ...["-0", "01", "+1", " 1", "1 ", "0x1", "1.0", "", "-"].flatMap((m, n) => [c("SADD", `e:canon${n}`, "5", m), c("OBJECT", "ENCODING", `e:canon${n}`), c("SCARD", `e:canon${n}`)]),
    c("SADD", "e:first", "abc", "1"),
    c("OBJECT", "ENCODING", "e:first"),
    // SREM / key removal
    c("SADD", k, "a", "b", "c"),
    c("SREM", k, "a", "zz", "a"),
    c("SREM", k, "b", "c", "d"),
    c("EXISTS", k),
    c("SREM", "e:none", "a"),
    // SMOVE
    c("SADD", "e:src", "1", "2", "x"),
    c("SMOVE", "e:src", "e:dst", "1"),
    c("OBJECT", "ENCODING", "e:dst"),
    c("SMOVE", "e:src", "e:dst", "x"),
    c("OBJECT", "ENCODING", "e:dst"),
    c("SMOVE", "e:src", "e:dst", "nope"),
    c("SMOVE", "e:src", "e:src", "2"),
    c("SMOVE", "e:src", "e:src", "nope"),
    c("SMOVE", "e:src", "e:dst2", "2"),
    c("EXISTS", "e:src"),
    c("OBJECT", "ENCODING", "e:dst2"),
    c("SMEMBERS", "e:dst2"),
    c("SMOVE", "e:none", "e:dst", "1"),
    c("SADD", "e:dst2", "1"),
    c("SMOVE", "e:dst", "e:dst2", "1"),
    c("SCARD", "e:dst"),
    c("SCARD", "e:dst2"),
    // WRONGTYPE (and the order of checks)
    c("SET", "e:str", "x"),
    c("SADD", "e:str", "a"),
    c("SREM", "e:str", "a"),
    c("SMEMBERS", "e:str"),
    c("SISMEMBER", "e:str", "a"),
    c("SMISMEMBER", "e:str", "a"),
    c("SCARD", "e:str"),
    c("SPOP", "e:str"),
    c("SPOP", "e:str", "2"),
    c("SPOP", "e:str", "-2"),
    c("SRANDMEMBER", "e:str"),
    c("SRANDMEMBER", "e:str", "2"),
    c("SRANDMEMBER", "e:str", "abc"),
    c("SMOVE", "e:str", "e:dst2", "a"),
    c("SMOVE", "e:dst2", "e:str", "a"),
    c("SMOVE", "e:dst2", "e:str", "1"),
    c("SMOVE", "e:none", "e:str", "a"),
    c("SINTER", "e:none", "e:str"),
    c("SINTER", i, "e:str"),
    c("SUNION", i, "e:str"),
    c("SDIFF", "e:none", "e:str"),
    c("SINTERCARD", "2", "e:none", "e:str"),
    c("SINTERSTORE", "e:d", "e:str", i),
    c("SUNIONSTORE", "e:d", i, "e:str"),
    c("SDIFFSTORE", "e:d", i, "e:str"),
    c("SINTERSTORE", "e:str", i),
    c("TYPE", "e:str"),
    c("SET", "e:str", "x"),
    c("SSCAN", "e:str", "0"),
    c("SSCAN", "e:str", "0", "COUNT", "0"),
    c("SSCAN", "e:str", "abc"),
    // wrong number of arguments
    c("SADD", k),
    c("SREM", k),
    c("SMEMBERS"),
    c("SMEMBERS", k, "x"),
    c("SISMEMBER", k),
    c("SMISMEMBER", k),
    c("SCARD"),
    c("SPOP"),
    c("SPOP", k, "1", "2"),
    c("SRANDMEMBER"),
    c("SRANDMEMBER", k, "1", "2"),
    c("SMOVE", k, k),
    c("SINTER"),
    c("SINTERSTORE", k),
    c("SUNIONSTORE", k),
    c("SDIFFSTORE", k),
    c("SSCAN", k),
    // STORE forms
    c("SINTERSTORE", "e:d", i, "e:ints2"),
    c("SMEMBERS", "e:d"),
    c("OBJECT", "ENCODING", "e:d"),
    c("SUNIONSTORE", "e:d", i, "e:ints2"),
    c("SMEMBERS", "e:d"),
    c("SDIFFSTORE", "e:d", i, "e:ints2"),
    c("SMEMBERS", "e:d"),
    c("SINTERSTORE", "e:d", i, "e:none"),
    c("EXISTS", "e:d"),
    c("SUNIONSTORE", "e:d", i),
    c("EXPIRE", "e:d", "1000"),
    c("SUNIONSTORE", "e:d", i, "e:ints2"),
    c("TTL", "e:d"),
    c("SDIFFSTORE", "e:d", i, i),
    c("EXISTS", "e:d"),
    c("SUNIONSTORE", "e:d", "e:none"),
    c("SET", "e:d", "string"),
    c("SDIFFSTORE", "e:d", "e:none", i),
    c("EXISTS", "e:d"),
    c("SUNIONSTORE", "e:d", "e:odd", "e:first"),
    c("OBJECT", "ENCODING", "e:d"),
    c("SINTERSTORE", "e:d", "e:odd", "e:odd"),
    c("OBJECT", "ENCODING", "e:d"),
    c("SMEMBERS", "e:d"),
    c("SINTERSTORE", i, i, "e:ints2"),
    c("SMEMBERS", i),
    // SPOP / SRANDMEMBER arguments and deterministic cases
    c("SPOP", "e:none"),
    c("SPOP", "e:none", "3"),
    c("SPOP", "e:none", "0"),
    c("SPOP", "e:none", "-1"),
    c("SPOP", k, "-1"),
    c("SPOP", k, "abc"),
    c("SPOP", k, "1.5"),
    c("SPOP", k, "9223372036854775808"),
    c("SADD", "e:pop", "5", "-3", "11", "2"),
    c("SPOP", "e:pop", "0"),
    c("SPOP", "e:pop", "4"),
    c("EXISTS", "e:pop"),
    c("SADD", "e:pop", "5", "-3", "11", "2"),
    c("SPOP", "e:pop", "9223372036854775807"),
    c("SADD", "e:pop1", "only"),
    c("SPOP", "e:pop1"),
    c("EXISTS", "e:pop1"),
    c("SADD", "e:pop1", "only"),
    c("SPOP", "e:pop1", "1"),
    c("EXISTS", "e:pop1"),
    c("SRANDMEMBER", "e:none"),
    c("SRANDMEMBER", "e:none", "5"),
    c("SRANDMEMBER", "e:none", "-5"),
    c("SRANDMEMBER", "e:none", "0"),
    c("SRANDMEMBER", k, "abc"),
    c("SRANDMEMBER", k, "-9223372036854775808"),
    c("SRANDMEMBER", k, "9223372036854775808"),
    c("SRANDMEMBER", "e:ints2", "0"),
    c("SRANDMEMBER", "e:ints2", "4"),
    c("SRANDMEMBER", "e:ints2", "100"),
    c("SRANDMEMBER", "e:ints2", "9223372036854775807"),
    c("SRANDMEMBER", "e:pop1", "-3"),
    c("SADD", "e:pop1", "only"),
    c("SRANDMEMBER", "e:pop1"),
    c("SRANDMEMBER", "e:pop1", "-3"),
    c("SRANDMEMBER", "e:pop1", "1"),
    c("SPOP", "e:pop1"),
    shape("SRANDMEMBER", "e:ints2", "-10"),
    distinctShape("SRANDMEMBER", "e:ints2", "2"),
    distinctShape("SRANDMEMBER", "e:ints2", "1"),
    // SSCAN of an intset: everything at once, ascending, MATCH applied, COUNT not
    c("SSCAN", i, "0"),
    c("SSCAN", i, "0", "COUNT", "1"),
    c("SSCAN", i, "0", "MATCH", "*2*"),
    c("SSCAN", i, "0", "match", "-*", "count", "2"),
    c("SSCAN", i, "0", "MATCH", "*"),
    c("SSCAN", i, "0", "COUNT", "0"),
    c("SSCAN", i, "0", "COUNT", "-1"),
    c("SSCAN", i, "0", "COUNT", "abc"),
    c("SSCAN", i, "0", "COUNT"),
    c("SSCAN", i, "0", "FOO", "bar"),
    c("SSCAN", i, "0", "TYPE", "string"),
    c("SSCAN", i, "abc"),
    c("SSCAN", i, "-1"),
    c("SSCAN", i, " 1"),
    c("SSCAN", i, "18446744073709551616"),
    c("SSCAN", "e:none", "0"),
    c("SSCAN", "e:none", "0", "COUNT", "0"),
    c("SSCAN", "e:none", "abc"),
    c("SSCAN", "e:dst2", "0"),
  ];
}

describe("sets against redis-server 7.0", () => {
  test("edge cases (RESP2)", async () => {
    const errors = await runDifferential(r2, p2, edgeCases(), 30);
    expect(errors).toEqual([]);
  });

  test("edge cases (RESP3)", async () => {
    const errors = await runDifferentialResp3(pair.redis.port, pair.replicant.port, edgeCases(), 30);
    expect(errors).toEqual([]);
  });

  test("OBJECT ENCODING transitions with set-max-intset-entries", async () => {
    const steps: Step[] = [];
    const enc = (k: string) => c("OBJECT", "ENCODING", k);
    await both("CONFIG", "SET", "set-max-intset-entries", "4");
    try {
      steps.push(c("SADD", "t:a", "1", "2", "3", "4"), enc("t:a"), c("SADD", "t:a", "5"), enc("t:a"), c("SREM", "t:a", "5", "4", "3"), enc("t:a"));
      // One SADD of many members: the conversion happens in the middle.
      steps.push(c("SADD", "t:b", "9", "8", "7", "6", "5", "4"), enc("t:b"), c("SCARD", "t:b"));
      // STORE results are built from an intset: small integer results are intsets again.
      steps.push(c("SINTERSTORE", "t:c", "t:a", "t:a"), enc("t:c"), c("SMEMBERS", "t:c"));
      steps.push(c("SUNIONSTORE", "t:c", "t:a", "t:b"), enc("t:c"));
      steps.push(c("SDIFFSTORE", "t:c", "t:b", "t:a"), enc("t:c"));
      steps.push(c("SUNIONSTORE", "t:d", "t:a"), enc("t:d"), c("SMEMBERS", "t:d"));
      // SPOP with a count >= size replies the SUNION of the set: a hashtable of few integers
      // comes back ascending.
      steps.push(c("SADD", "t:e", "50", "40", "30", "20", "10"), c("SREM", "t:e", "10", "20"), enc("t:e"), c("SPOP", "t:e", "10"), c("EXISTS", "t:e"));
      // SPOP with a count leaving few members rebuilds the set: integers make an intset again.
      steps.push(c("SADD", "t:f", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), enc("t:f"), c("EXPIRE", "t:f", "1000"));
      steps.push(distinctShape("SPOP", "t:f", "9"), enc("t:f"), c("SCARD", "t:f"), c("TTL", "t:f"));
      steps.push(c("SADD", "t:g", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), distinctShape("SPOP", "t:g", "2"), enc("t:g"), c("SCARD", "t:g"));
      // SDIFF's second algorithm adds the whole first set before removing: a hashtable result
      // even when small. 24 integers minus four sets of 5: 24*5/2 = 60 > 24 + 20.
      const first = Array.from({ length: 24 }, (_, n) => String(n));
      steps.push(c("SADD", "t:h", ...first));
      for (let s = 0; s < 4; s++) steps.push(c("SADD", `t:h${s}`, ...first.slice(s * 5, s * 5 + 5)));
      steps.push(c("SDIFFSTORE", "t:hd", "t:h", "t:h0", "t:h1", "t:h2", "t:h3"), enc("t:hd"), loose("SMEMBERS", "t:hd"));
      // ... and the first algorithm keeps only what survives: an intset.
      steps.push(c("SDIFFSTORE", "t:hd1", "t:h", "t:h0"), enc("t:hd1"));
      steps.push(c("SADD", "t:small", "1", "2", "3"), c("SADD", "t:big", ...first));
      steps.push(c("SDIFFSTORE", "t:hd2", "t:big", "t:small"), enc("t:hd2"));
      // A limit lowered under an existing intset: only an actual addition converts it.
      steps.push(c("SADD", "t:low", "1", "2", "3"), c("CONFIG", "SET", "set-max-intset-entries", "2"), c("SADD", "t:low", "1"), enc("t:low"), c("SREM", "t:low", "1"), enc("t:low"));
      steps.push(c("SADD", "t:low", "1"), enc("t:low"), c("CONFIG", "SET", "set-max-intset-entries", "4"));
      // Limit 0: every set of integers is a hashtable at once.
      steps.push(c("CONFIG", "SET", "set-max-intset-entries", "0"), c("SADD", "t:z", "1"), enc("t:z"), c("SMOVE", "t:a", "t:z2", "1"), enc("t:z2"));
      const errors = await runDifferential(r2, p2, steps, 30);
      expect(errors).toEqual([]);
    } finally {
      await both("CONFIG", "SET", "set-max-intset-entries", "512");
    }
  });

  for (const [label, limit, spread] of [
    ["default limits", 512, 200],
    ["small limits", 6, 12],
  ] as const) {
    test(`random workload, ${label}`, async () => {
      await both("CONFIG", "SET", "set-max-intset-entries", String(limit));
      try {
        const g = gen(seedFromEnv("SET_RANDOM_SEED"), `w${limit}:`, spread, limit);
        await both("SET", `w${limit}:str`, "x");
        const steps: ReconcilingStep[] = [];
        for (let n = 0; n < 2500; n++) steps.push(...randomSteps(g, false));
        const errors = await runReconciling(r2, p2, steps, 10);
        expect(errors).toEqual([]);
        const rec = new Recorder();
        const final: Step[] = g.allKeys.flatMap((k) => [rec.encodingStep(k), rec.recordingRead(k, ["SMEMBERS", k], false), c("TTL", k)]);
        expect(await runDifferential(r2, p2, final)).toEqual([]);
        expect(await compareScans(g.allKeys)).toEqual([]);
      } finally {
        await both("CONFIG", "SET", "set-max-intset-entries", "512");
      }
    }, 90000);
  }

  test("Replicant refuses a random reply with repetitions past 2^24 elements (Redis would grow its buffer without bound)", async () => {
    await p2.call("SADD", "cap:s", "a", "b");
    await p2.call("HSET", "cap:h", "a", "1");
    expect(await p2.call("SRANDMEMBER", "cap:s", "-16777217")).toStartWith("-ERR count is too large");
    expect(await p2.call("HRANDFIELD", "cap:h", "-9223372036854775807")).toStartWith("-ERR count is too large");
    expect(await p2.call("HRANDFIELD", "cap:h", "-4611686018427387903", "WITHVALUES")).toStartWith("-ERR count is too large");
    expect(bulkItems(await p2.call("SRANDMEMBER", "cap:s", "-3000")).length).toBe(3000);
    // Counts without repetitions are bounded by the size: no cap needed.
    expect(bulkItems(await p2.call("SRANDMEMBER", "cap:s", "9223372036854775807")).length).toBe(2);
  });

  test("keyspace notifications are Redis's", async () => {
    const commands = [
      ["SADD", "n:a", "1", "2", "3"],
      ["SADD", "n:a", "1"],
      ["SREM", "n:a", "9"],
      ["SREM", "n:a", "1"],
      ["SMOVE", "n:a", "n:b", "2"],
      ["SMOVE", "n:a", "n:b", "3"],
      ["SMOVE", "n:a", "n:b", "3"],
      ["SADD", "n:c", "x", "y", "z", "w", "v", "u", "t"],
      ["SPOP", "n:c"],
      ["SPOP", "n:c", "2"],
      ["SPOP", "n:c", "0"],
      ["SPOP", "n:c", "10"],
      ["SADD", "n:d", "q"],
      ["SPOP", "n:d"],
      ["SINTERSTORE", "n:e", "n:b", "n:b"],
      ["SUNIONSTORE", "n:e", "n:b"],
      ["SDIFFSTORE", "n:e", "n:b"],
      ["SDIFFSTORE", "n:e", "n:b", "n:b"],
      ["SADD", "n:e", "1"],
      ["SINTERSTORE", "n:e", "n:b", "n:none"],
      ["SINTERSTORE", "n:e", "n:b", "n:none"],
      ["SREM", "n:b", "2", "3"],
      ["SRANDMEMBER", "n:b"],
    ];
    const [a, b] = await Promise.all([keyspaceEvents(() => pair.redis.client(), commands), keyspaceEvents(() => pair.replicant.client(), commands)]);
    expect(a.length).toBeGreaterThan(20);
    expect(b).toEqual(a);
  });

  test("SSCAN of a hashtable: every member exactly once, also with changes between calls", async () => {
    const members = Array.from({ length: 300 }, (_, n) => `m${n}`);
    await p2.call("SADD", "sc:s", ...members);
    const seen = new Map<string, number>();
    let cursor = "0";
    let calls = 0;
    do {
      const raw = await p2.call("SSCAN", "sc:s", cursor, "COUNT", "7");
      const [cur, arr] = splitReply(raw).items;
      cursor = bulkText(cur!)!;
      for (const m of bulkItems(arr!)) seen.set(m, (seen.get(m) ?? 0) + 1);
      // Churn: remove members already returned, add new ones.
      await p2.call("SREM", "sc:s", `m${calls}`);
      await p2.call("SADD", "sc:s", `new${calls}`);
      calls++;
    } while (cursor !== "0" && calls < 1000);
    expect(cursor).toBe("0");
    for (const m of members) expect(seen.get(m)).toBe(1);
    expect(calls).toBeGreaterThan(30);
    // MATCH filters after the walk: fewer members per call, same cursors.
    const matched: string[] = [];
    cursor = "0";
    do {
      const raw = await p2.call("SSCAN", "sc:s", cursor, "MATCH", "m1*", "COUNT", "50");
      const [cur, arr] = splitReply(raw).items;
      cursor = bulkText(cur!)!;
      matched.push(...bulkItems(arr!));
    } while (cursor !== "0");
    const expected = bulkItems(await p2.call("SMEMBERS", "sc:s")).filter((m) => m.startsWith("m1"));
    expect(matched.sort()).toEqual(expected.sort());
  });
});

/** Full SSCAN of every key on both servers, compared as sets (exactly for intsets). */
async function compareScans(keys: string[]): Promise<string[]> {
  const errors: string[] = [];
  for (const key of keys) {
    const scanAll = async (client: RawClient) => {
      const out: string[] = [];
      let cursor = "0";
      let first = "";
      do {
        const raw = await client.call("SSCAN", key, cursor, "COUNT", "5");
        if (!first) first = raw;
        if (raw.startsWith("-")) return { members: [raw], first };
        const [cur, arr] = splitReply(raw).items;
        cursor = bulkText(cur!)!;
        out.push(...bulkItems(arr!));
      } while (cursor !== "0");
      return { members: [...new Set(out)].sort(), first };
    };
    const [a, b] = await Promise.all([scanAll(r2), scanAll(p2)]);
    if (JSON.stringify(a.members) !== JSON.stringify(b.members)) errors.push(`SSCAN ${key}: ${JSON.stringify(a.members).slice(0, 300)} vs ${JSON.stringify(b.members).slice(0, 300)}`);
    const enc = bulkText(await r2.call("OBJECT", "ENCODING", key));
    if (enc === "intset" && a.first !== b.first) errors.push(`SSCAN ${key} (intset): ${a.first.slice(0, 300)} vs ${b.first.slice(0, 300)}`);
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Random workload

interface Gen {
  rand: () => number;
  int: (lo: number, hi: number) => number;
  pick: <T>(xs: readonly T[]) => T;
  prefix: string;
  spread: number;
  limit: number;
  /** Sets of any members, sets of integers only, destinations. */
  mixed: string[];
  ints: string[];
  dsts: string[];
  allKeys: string[];
}

function gen(seed: number, prefix: string, spread: number, limit: number): Gen {
  const rand = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const mixed = [0, 1, 2, 3].map((n) => `${prefix}s${n}`);
  const ints = [0, 1, 2].map((n) => `${prefix}i${n}`);
  const dsts = [0, 1].map((n) => `${prefix}d${n}`);
  return { rand, int, pick, prefix, spread, limit, mixed, ints, dsts, allKeys: [...mixed, ...ints, ...dsts] };
}

function intMember(g: Gen): string {
  const r = g.rand();
  if (r < 0.02) return g.pick(["9223372036854775807", "-9223372036854775808", "4294967296", "-2147483649", "65536"]);
  return String(g.int(-g.spread, g.spread));
}

function member(g: Gen, key: string): string {
  if (g.ints.includes(key) || g.rand() < 0.5) return intMember(g);
  const r = g.rand();
  if (r < 0.03) return g.pick(["", "01", "-0", "+5", "9223372036854775808", "x".repeat(80)]);
  return `m${g.int(0, g.spread)}`;
}

function members(g: Gen, key: string, max: number): string[] {
  return Array.from({ length: g.int(1, max) }, () => member(g, key));
}

function setKey(g: Gen): string {
  const r = g.rand();
  if (r < 0.03) return `${g.prefix}str`;
  if (r < 0.06) return `${g.prefix}none`;
  if (r < 0.5) return g.pick(g.mixed);
  if (r < 0.9) return g.pick(g.ints);
  return g.pick(g.dsts);
}

function sourceKeys(g: Gen, n: number): string[] {
  return Array.from({ length: n }, () => (g.rand() < 0.6 ? g.pick(g.ints) : setKey(g)));
}

const cmd = (...args: string[]): ReconcilingStep => ({ cmd: args });

/** One logical operation: a command plus the steps that check it (encodings, contents). */
function randomSteps(g: Gen, writesOnly: boolean): ReconcilingStep[] {
  const rec = new Recorder();
  const r = g.rand();
  if (r < 0.3) {
    const k = setKey(g);
    return [cmd("SADD", k, ...members(g, k, g.rand() < 0.1 ? g.limit + 3 : 4))];
  }
  if (r < 0.4) {
    const k = setKey(g);
    return [cmd("SREM", k, ...members(g, k, 4))];
  }
  if (r < 0.46) {
    const src = setKey(g);
    return [cmd("SMOVE", src, setKey(g), member(g, src))];
  }
  if (r < 0.52) {
    // SPOP: random on both sides; each side then removes what the other popped.
    const k = setKey(g);
    return [
      {
        cmd: ["SPOP", k],
        compare: (a, b) => (a.startsWith("$") === b.startsWith("$") && a.startsWith("$-1") === b.startsWith("$-1") ? null : `expected ${a}, got ${b}`),
        reconcile: (a, b) => {
          const x = bulkText(a);
          const y = bulkText(b);
          return { redis: y === null ? [] : [["SREM", k, y]], replicant: x === null ? [] : [["SREM", k, x]] };
        },
      },
    ];
  }
  if (r < 0.57) {
    const k = g.pick([...g.mixed, ...g.ints]);
    const count = g.pick([0, 1, 2, 3, g.int(1, g.spread), g.int(1, 8), 1000]);
    const before = rec.recordingRead(k, ["SMEMBERS", k], false);
    return [
      rec.encodingStep(k),
      before,
      {
        cmd: ["SPOP", k, String(count)],
        compare: (a, b) => {
          const all = rec.members.get(k) ?? [];
          const compact = rec.encoding.get(k) === "intset" || (all.length <= g.limit && all.every((m) => /^-?[1-9][0-9]*$|^0$/.test(m) && BigInt(m) >= -(2n ** 63n) && BigInt(m) < 2n ** 63n));
          if (count >= all.length && compact) return a === b ? null : `whole-set SPOP: expected ${a}, got ${b}`;
          return randomElements(() => all, true, false)(a, b);
        },
        // Remove what either side popped from both, then rebuild the key the same way on both
        // (Redis may have rebuilt it from the members it kept, which changes its encoding).
        reconcile: (a, b) => {
          const all = rec.members.get(k) ?? [];
          if (a.startsWith("-") || all.length === 0) return { redis: [], replicant: [] };
          const gone = new Set([...bulkItems(a), ...bulkItems(b)]);
          const left = all.filter((m) => !gone.has(m)).sort();
          const fix = [["DEL", k], ...(left.length ? [["SADD", k, ...left]] : [])];
          return { redis: fix, replicant: fix };
        },
      },
    ];
  }
  if (r < 0.66) {
    const dst = g.rand() < 0.8 ? g.pick(g.dsts) : setKey(g);
    const op = g.pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
    const steps = [cmd(op, dst, ...sourceKeys(g, g.int(1, 4)))];
    if (!writesOnly) steps.push(rec.encodingStep(dst), { cmd: ["SMEMBERS", dst], compare: rec.orderedIfCompact(dst) });
    return steps;
  }
  if (r < 0.68) return [cmd("EXPIRE", setKey(g), String(g.int(100, 1000)))];
  if (writesOnly) return [cmd("SADD", g.pick(g.ints), intMember(g))];
  // reads
  const k = setKey(g);
  const q = g.rand();
  if (q < 0.12) return [cmd("SCARD", k)];
  if (q < 0.24) return [cmd("SISMEMBER", k, member(g, k))];
  if (q < 0.34) return [cmd("SMISMEMBER", k, ...members(g, k, 4))];
  if (q < 0.5) return [rec.encodingStep(k), { cmd: ["SMEMBERS", k], compare: rec.orderedIfCompact(k) }];
  if (q < 0.62) return [{ cmd: [g.pick(["SINTER", "SUNION", "SDIFF"]), ...sourceKeys(g, g.int(1, 4))], compare: unordered() }];
  if (q < 0.7) return [cmd("SINTERCARD", "2", ...sourceKeys(g, 2), ...(g.rand() < 0.5 ? ["LIMIT", String(g.int(0, 5))] : []))];
  if (q < 0.85) {
    const count = g.pick([-5, -1, 1, 2, 5, 50, 1000]);
    return [
      rec.encodingStep(k),
      rec.recordingRead(k, ["SMEMBERS", k], false),
      {
        cmd: ["SRANDMEMBER", k, String(count)],
        compare: (a, b) => {
          const all = rec.members.get(k) ?? [];
          if (count >= all.length && rec.encoding.get(k) === "intset") return a === b ? null : `whole intset: expected ${a}, got ${b}`;
          if (count >= all.length) return unordered()(a, b);
          return randomElements(() => all, count > 0, false)(a, b);
        },
      },
    ];
  }
  if (q < 0.9) return [rec.encodingStep(k), { cmd: ["SRANDMEMBER", k], compare: randomElements(() => undefined, false, false) }];
  return [
    rec.encodingStep(k),
    {
      cmd: ["SSCAN", k, "0", ...(g.rand() < 0.5 ? ["MATCH", g.pick(["*1*", "m*", "-*", "*"])] : []), ...(g.rand() < 0.5 ? ["COUNT", String(g.int(1, 20))] : [])],
      compare: (a, b) => {
        if (rec.encoding.get(k) !== "hashtable") return a === b ? null : `expected ${a}, got ${b}`;
        const [ca, xa] = splitReply(a).items;
        const [cb, xb] = splitReply(b).items;
        if (bulkText(ca!) === "0" && bulkText(cb!) === "0") return unordered()(xa!, xb!);
        return null;
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Replication

/** The same workload as a plain command list (writes, the random ones included). */
function replicationWorkload(seed: number): string[][] {
  const g = gen(seed, "r:", 30, 8);
  const commands: string[][] = [["SET", "r:str", "x"]];
  for (let n = 0; n < 3000; n++) for (const s of randomSteps(g, true)) if (!s.cmd.includes("ENCODING") && s.cmd[0] !== "SMEMBERS") commands.push(s.cmd);
  // Deterministic coverage of the propagated forms: SPOP count >= size (DEL), SPOP leaving few
  // (rebuilt set, SREMs), SPOP of one (SREM), SRANDMEMBER (not propagated).
  const many = Array.from({ length: 40 }, (_, n) => String(n * 3));
  commands.push(["SADD", "r:p0", ...many], ["SPOP", "r:p0", "38"], ["SADD", "r:p1", ...many, "x"], ["SPOP", "r:p1", "5"], ["SPOP", "r:p1"]);
  commands.push(["SADD", "r:p2", "a", "b"], ["SPOP", "r:p2", "10"], ["SADD", "r:p3", "1", "2", "3"], ["SRANDMEMBER", "r:p3", "-5"], ["EXPIRE", "r:p0", "500"]);
  commands.push(["SADD", "r:p4", ...many], ["SMOVE", "r:p4", "r:p5", "3"], ["SMOVE", "r:p4", "r:p5", "nope"], ["SINTERSTORE", "r:p6", "r:p4", "r:p0"]);
  return commands;
}

describe("sets through replication", () => {
  test("propagated forms of SPOP (SREM, MULTI/SREM.../EXEC, DEL) are Redis's, from redis-server and from Replicant", async () => {
    const shapes: string[][][] = [];
    for (const start of [startRedis, startReplicant]) {
      const master = await start([]);
      const tap = await StreamTap.open(master.port);
      const mc = await master.client();
      try {
        await tapReady(tap, mc);
        await mc.call("SET", "tap:begin", "1");
        const ten = Array.from({ length: 10 }, (_, n) => String(n + 1));
        await mc.call("SADD", "p:s", ...ten);
        await mc.call("SPOP", "p:s");
        await mc.call("SPOP", "p:s", "2"); // 9 members: popped one by one
        await mc.call("SPOP", "p:s", "6"); // 7 members, 1 stays: the set is rebuilt
        await mc.call("SPOP", "p:s", "5"); // the last one: the key goes
        await mc.call("SPOP", "p:none", "3");
        await mc.call("SADD", "p:t", "a");
        await mc.call("SPOP", "p:t", "0");
        await mc.call("SRANDMEMBER", "p:t", "-3");
        await mc.call("SMOVE", "p:t", "p:u", "a");
        // Inside a transaction: one MULTI/EXEC around everything.
        await mc.call("SADD", "p:m", "a", "b", "c", "d", "e", "f", "g", "h");
        await mc.call("MULTI");
        await mc.call("SPOP", "p:m", "2");
        await mc.call("SPOP", "p:m");
        await mc.call("SCARD", "p:m");
        await mc.call("EXEC");
        await mc.call("SET", "tap:end", "1");
        const all = await tap.until(["SET", "tap:end"]);
        const seq = all.slice(all.findIndex((c) => c[1] === "tap:begin") + 1);
        const popped = seq.filter((c) => c[0] === "SREM" && c[1] === "p:s").map((c) => c[2]!);
        expect(new Set(popped).size).toBe(popped.length);
        for (const m of popped) expect(ten).toContain(m);
        shapes.push(seq.map((c) => (c[0] === "SREM" ? ["SREM", c[1]!, "?"] : c)));
        expect(new Set(seq.filter((c) => c[0] === "SREM" && c[1] === "p:m").map((c) => c[2])).size).toBe(3);
      } finally {
        tap.close();
        mc.close();
        await master.stop();
        removeDir(master.dir);
      }
    }
    const srem = ["SREM", "p:s", "?"];
    const expected = [
      ["SADD", "p:s", ...Array.from({ length: 10 }, (_, n) => String(n + 1))],
      srem,
      ["MULTI"],
      srem,
      srem,
      ["EXEC"],
      ["MULTI"],
      ...Array.from({ length: 6 }, () => srem),
      ["EXEC"],
      ["DEL", "p:s"],
      ["SADD", "p:t", "a"],
      ["SMOVE", "p:t", "p:u", "a"],
      ["SADD", "p:m", "a", "b", "c", "d", "e", "f", "g", "h"],
      ["MULTI"],
      ["SREM", "p:m", "?"],
      ["SREM", "p:m", "?"],
      ["SREM", "p:m", "?"],
      ["EXEC"],
    ];
    expect(shapes[0]).toEqual(expected);
    expect(shapes[1]).toEqual(expected);
  }, 60000);

  test("redis-server master, Replicant replica (and a redis-server replica): identical datasets and encodings", async () => {
    // Small intsets, so that the workload crosses the limit often.
    await checkAsReplica(["--set-max-intset-entries", "8"], replicationWorkload(seedFromEnv("SET_REPL_SEED")), { minKeys: 8, encodings: ["intset", "hashtable"] });
  }, 90000);

  test("Replicant master, redis-server replica: what we propagate (SREM, DEL, MULTI) rebuilds the same data", async () => {
    await checkAsMaster(replicationWorkload(seedFromEnv("SET_MASTER_SEED")), 8);
  }, 90000);
});



describe("sets held at rest (after a load), read in place", () => {
  const loaded = serverPair(["--enable-debug-command", "yes"]);
  test("SISMEMBER, SMISMEMBER, SCARD and WRONGTYPE are Redis's", async () => {
    const [r, p] = loaded.clients;
    const bin = String.fromCharCode(0, 255, 13, 10, 128);
    const setup: Step[] = [
      c("SADD", "rest:lp", "a", "", bin, "x".repeat(40), "b"),
      c("SADD", "rest:ht", "m1", "m2", "3", "y".repeat(100)),
      c("SADD", "rest:int", 1, -5, 70000),
      c("HSET", "rest:hash", "f", "v"),
      c("SET", "rest:str", "x"),
      c("DEBUG", "RELOAD"),
    ];
    expect(await runDifferential(r, p, setup, 30)).toEqual([]);
    const reads: Step[] = [];
    for (const k of ["rest:lp", "rest:ht", "rest:int", "rest:missing", "rest:hash", "rest:str"]) {
      for (const m of ["a", "", bin, "x".repeat(40), "x", "m1", "3", "y".repeat(100), "1", "-5", "70000", "2"]) reads.push(c("SISMEMBER", k, m));
      reads.push(c("SMISMEMBER", k, "a", "m2", "nope", "-5", bin), c("SCARD", k));
    }
    expect(await runDifferential(r, p, reads, 30)).toEqual([]);
    expect(await runDifferentialResp3(loaded.redis.port, loaded.replicant.port, reads, 30)).toEqual([]);
  });
});
