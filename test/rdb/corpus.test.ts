// The RDB corpus: ~260 dumps collected from other projects (shared/corpus/rdb, beside the
// repository; never copied into it), each described by a row of its MANIFEST.md. Every file is
// either read with the content the manifest describes, or refused with the intended error.
//
// Checked for every file read: the key count and the RDB type of each key (the manifest's
// own structural scan), databases selected, keys with expiry / LFU / LRU, AUX redis-ver,
// checksum status, bytes after the RDB, function / module-aux / slot-info records, module ids,
// stream group / PEL / consumer totals; then sample values where the manifest quotes them
// (applied to byte-identical copies too), and the same result when the bytes arrive in random
// chunks (the parser is restartable at any byte).
//
// The corpus lives in the shared folder that CI lays beside the clone (../shared, always there in
// CI); a user's fresh clone has none, and then this file prints one line saying it is skipped.

import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { moduleEncodingVersion, moduleTypeName, rdbTypeName } from "../../src/rdb/constants.ts";
import { RdbError } from "../../src/rdb/errors.ts";
import { loadRdbBuffer } from "../../src/rdb/loader.ts";
import { Database } from "../../src/store/database.ts";
import { ModuleValue } from "../../src/store/values.ts";
import { StreamValue } from "../../src/store/stream.ts";
import { SHARED, sharedPath } from "../helpers/shared.ts";
import { digest, parseRdb, plain, u8, type ParseOutcome, type Recorder } from "./rdb-test-helpers.ts";
import { rng } from "../helpers/seeded.ts";

const CORPUS = join(SHARED, "corpus/rdb");
const MANIFEST = join(CORPUS, "MANIFEST.md");

// ------------------------------------------------------------------ manifest

interface ManifestRow {
  file: string;
  version: number;
  size: number;
  expected: string;
  structure: string;
}

function parseManifest(text: string): Map<string, ManifestRow> {
  const rows = new Map<string, ManifestRow>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const cells = line.replace(/^\|\s*/, "").replace(/\s*\|\s*$/, "").split(" | ");
    if (cells.length !== 7) continue;
    const file = cells[0]!.replace(/`/g, "");
    if (!/\.(rdb|aof)$/.test(file)) continue;
    rows.set(file, { file, version: Number(cells[3]), size: Number(cells[4]), expected: cells[5]!, structure: cells[6]! });
  }
  return rows;
}

/** The manifest's structural scan of one file. */
interface Structure {
  keys: number;
  types: Map<string, number>;
  dbs: number[] | null;
  ops: Map<string, number>;
  redisVer: string | null;
  valkeyVer: string | null;
  crc: "ok" | "none" | "zero" | "mismatch" | "unknown";
  bytesAfterEof: number;
  /** name/encverN -> count (values), and aux:name/encverN -> count. */
  modules: Map<string, number>;
  stream: { nodes: number; groups: number; pel: number; consumers: number } | null;
  stopped: string | null;
}

function parseStructure(s: string): Structure {
  const st: Structure = {
    keys: 0,
    types: new Map(),
    dbs: null,
    ops: new Map(),
    redisVer: null,
    valkeyVer: null,
    crc: "unknown",
    bytesAfterEof: 0,
    modules: new Map(),
    stream: null,
    stopped: null,
  };
  for (const part of s.split("; ")) {
    let m: RegExpExecArray | null;
    if ((m = /^(\d+) keys?(?:: (.*))?$/.exec(part))) {
      st.keys = Number(m[1]);
      for (const t of (m[2] ?? "").split(", ").filter(Boolean)) {
        const [name, n] = t.split("×");
        st.types.set(name!, Number(n));
      }
    } else if ((m = /^redis-ver (\S+)$/.exec(part))) st.redisVer = m[1]!;
    else if ((m = /^valkey-ver (\S+)$/.exec(part))) st.valkeyVer = m[1]!;
    else if ((m = /^dbs ([\d,]+)$/.exec(part))) st.dbs = m[1]!.split(",").map(Number);
    else if ((m = /^ops (.*)$/.exec(part))) {
      for (const op of m[1]!.split(" ")) {
        const [name, n] = op.split("×");
        st.ops.set(name!, Number(n));
      }
    } else if (part === "CRC ok") st.crc = "ok";
    else if (part === "no CRC (v<5)") st.crc = "none";
    else if (part === "CRC=0 (disabled)") st.crc = "zero";
    else if (part === "CRC MISMATCH") st.crc = "mismatch";
    else if ((m = /^(\d+) bytes after EOF$/.exec(part))) st.bytesAfterEof = Number(m[1]);
    else if ((m = /^modules (.*)$/.exec(part))) {
      for (const mod of m[1]!.split(", ")) {
        const [name, n] = mod.split("×");
        st.modules.set(name!, Number(n));
      }
    } else if ((m = /^stream: (\d+) lp-nodes, (\d+) groups, (\d+) PEL, (\d+) consumers$/.exec(part))) {
      st.stream = { nodes: Number(m[1]), groups: Number(m[2]), pel: Number(m[3]), consumers: Number(m[4]) };
    } else if ((m = /^scan stopped: (.*)$/.exec(part))) st.stopped = m[1]!;
  }
  return st;
}

// ------------------------------------------------------------------ files refused on purpose

interface Refusal {
  kind: RdbError["kind"];
  message: RegExp;
  why: string;
}

const REFUSED: Record<string, Refusal> = {
  "redis/corrupt_ziplist.rdb": { kind: "corrupt", message: /ziplist/, why: "deliberately corrupt ziplist (Redis refuses it too)" },
  "valkey/corrupt_ziplist.rdb": { kind: "corrupt", message: /ziplist/, why: "deliberately corrupt ziplist (Redis refuses it too)" },
  "librdb/invalid_chksum_v8.rdb": { kind: "checksum", message: /checksum mismatch/, why: "wrong CRC-64 on purpose" },
  "librdb/future_v19.rdb": { kind: "unsupported", message: /unsupported RDB version 99/, why: "future RDB version 99" },
  "replicator/module.rdb": {
    kind: "unsupported",
    message: /module 'hellotype' not supported.*pre-GA module format/,
    why: "pre-GA module value (type 6): cannot be skipped without the module",
  },
  "noderdbtools/error_reporting.rdb": { kind: "corrupt", message: /offset 48/, why: "deliberately broken sorted set" },
};

// ------------------------------------------------------------------ per-file content checks

type Check = (r: Recorder, o: ParseOutcome) => void;

function str(r: Recorder, key: string, db = 0): unknown {
  const k = r.get(key, db);
  if (!k) throw new Error(`key '${key}' not found in db ${db}`);
  return plain(k.value);
}

function val(r: Recorder, key: string, db = 0): unknown {
  return str(r, key, db);
}

/** Hash as a field -> value object (latin1 strings). */
function hash(r: Recorder, key: string, db = 0): Record<string, string> {
  const pairs = val(r, key, db) as Array<[string, string]>;
  return Object.fromEntries(pairs.map(([f, v]) => [f, v]));
}

function zset(r: Recorder, key: string, db = 0): Record<string, number> {
  const pairs = val(r, key, db) as Array<[string, number]>;
  return Object.fromEntries(pairs);
}

function sorted(xs: unknown): string[] {
  return [...(xs as string[])].sort();
}

function stream(r: Recorder, key: string, db = 0): StreamValue {
  const v = r.get(key, db)?.value;
  if (!(v instanceof StreamValue)) throw new Error(`key '${key}' is not a stream`);
  return v;
}

function ids(s: StreamValue): string[] {
  return [...s.entries].map((e) => `${e.id.ms}-${e.id.seq}`);
}

const id = (x: { ms: unknown; seq: unknown }) => `${x.ms}-${x.seq}`;

const encodingsValues: Check = (r) => {
  expect(val(r, "compressible")).toBe("a".repeat(137));
  expect(hash(r, "hash")).toEqual({ a: "1", aa: "10", aaa: "100", b: "2", bb: "20", bbb: "200", c: "3", cc: "30", ccc: "300", ddd: "400", eee: "5000000000" });
  expect(hash(r, "hash_zipped")).toEqual({ a: "1", b: "2", c: "3" });
  const l = ["1", "2", "3", "a", "b", "c", "100000", "6000000000"];
  expect(val(r, "list")).toEqual([...l, ...l, ...l]);
  expect(val(r, "list_zipped")).toEqual(l);
  expect(val(r, "number")).toBe("10");
  expect(sorted(val(r, "set"))).toEqual(sorted(["1", "100000", "2", "3", "6000000000", "a", "b", "c"]));
  expect(sorted(val(r, "set_zipped_1"))).toEqual(["1", "2", "3", "4"]);
  expect(sorted(val(r, "set_zipped_2"))).toEqual(["100000", "200000", "300000", "400000"]);
  expect(sorted(val(r, "set_zipped_3"))).toEqual(sorted(["1000000000", "2000000000", "3000000000", "4000000000", "5000000000", "6000000000"]));
  expect(val(r, "string")).toBe("Hello World");
  expect(zset(r, "zset")).toEqual({ a: 1, b: 2, c: 3, aa: 10, bb: 20, cc: 30, aaa: 100, bbb: 200, ccc: 300, aaaa: 1000, cccc: 123456789, bbbb: 5000000000 });
  expect(val(r, "zset_zipped")).toEqual([["a", 1], ["b", 2], ["c", 3]]);
};

const zipmapDoesntCompress: Check = (r) => expect(hash(r, "zimap_doesnt_compress")).toEqual({ MKD1G6: "2", YNNXK: "F7TI" });

/** The 24-member sorted set librdb stores in four encodings. */
const LIBRDB_ZSET: Record<string, number> = {
  a8: Infinity,
  a9: Infinity,
  a10: -Infinity,
};
const librdbZset: Check = (r) => {
  const z = zset(r, "myzset");
  expect(Object.keys(z).length).toBe(24);
  for (const [m, s] of Object.entries(LIBRDB_ZSET)) expect(z[m]).toBe(s);
  const scores = Object.values(z);
  for (const s of [9007199254740992, -9007199254740992, 1125899906842624, -1125899906842624, 1.000033e25, -4.329000123123131e28, 0, 2.2, -1.1, 8.888888, -9.99999, 255, -255, 65536, -65536, -1]) {
    expect(scores).toContain(s);
  }
  librdbZsets.push(z);
};
const librdbZsets: Array<Record<string, number>> = [];

const CHECKS: Record<string, Check | undefined> = {
  "redis/corrupt_empty_keys.rdb": (r) => {
    expect(r.keys.length).toBe(0);
    expect(r.empty.length).toBe(9);
  },
  "keydb/corrupt_empty_keys.rdb": (r) => {
    expect(r.keys.length).toBe(0);
    expect(r.empty.length).toBe(8);
  },
  "redis/encodings.rdb": encodingsValues,
  "kvrocks/encodings_ver10.rdb": encodingsValues,
  "redis/hash-ziplist.rdb": (r) => expect(hash(r, "hash")).toEqual({ f1: "v1", f2: "v2" }),
  "redis/hash-zipmap.rdb": (r) => expect(hash(r, "hash")).toEqual({ f1: "v1", f2: "v2" }),
  "redis/list-quicklist.rdb": (r) => {
    expect(val(r, "x")).toBe("7");
    expect(val(r, "list")).toEqual(["7"]);
  },
  "redis/rdb-preamble.aof": (r, o) => {
    expect(val(r, "k1")).toBe("v1");
    expect(val(r, "k2")).toBe("v2");
    expect(r.auxFields.get("aof-preamble")).toBe("1");
    expect(o.parser.trailingBytes).toBe(52);
  },
  "redis/scriptbackup.rdb": (r) => {
    expect(r.keys.length).toBe(0);
    expect(r.auxFields.get("lua")).toBe("return redis.call('set', 'foo', 'bar')");
  },
  "redis/zset-ziplist.rdb": (r) => expect(val(r, "zset")).toEqual([["one", 1], ["two", 2]]),
  "rdbtools/dictionary.rdb": (r) => {
    const h = hash(r, "force_dictionary");
    expect(Object.keys(h).length).toBe(1000);
    expect(h.ZMU5WEJDG7KU89AOG5LJT6K7HMNB3DEI43M6EYTJ83VRJ6XNXQ).toBe("T63SOS8DQJF0Q0VJEZ0D1IQFCYTIPSBOUIAI9SB0OV57MQR1FI");
    expect(h.UHS5ESW4HLK8XOGTM39IK1SJEUGVV9WOPK6JYA5QBZSJU84491).toBe("6VULTCV52FXJ8MGVSFTZVAGK2JXZMGQ5F8OVJI0X6GEDDR27RZ");
  },
  "rdbtools/easily_compressible_string_key.rdb": (r) => expect(val(r, "a".repeat(200))).toBe("Key that redis should compress easily"),
  "rdbtools/empty_database.rdb": (r) => expect(r.keys.length).toBe(0),
  "rdbtools/hash_as_ziplist.rdb": (r) => expect(hash(r, "zipmap_compresses_easily")).toEqual({ a: "aa", aa: "aaaa", aaaaa: "aaaaaaaaaaaaaa" }),
  "rdbtools/integer_keys.rdb": (r) => {
    expect(val(r, "125")).toBe("Positive 8 bit integer");
    expect(val(r, "43947")).toBe("Positive 16 bit integer");
    expect(val(r, "183358245")).toBe("Positive 32 bit integer");
    expect(val(r, "-123")).toBe("Negative 8 bit integer");
    expect(val(r, "-29477")).toBe("Negative 16 bit integer");
    expect(val(r, "-183358245")).toBe("Negative 32 bit integer");
  },
  "rdbtools/intset_16.rdb": (r) => expect(sorted(val(r, "intset_16"))).toEqual(["32764", "32765", "32766"]),
  "rdbtools/intset_32.rdb": (r) => expect(sorted(val(r, "intset_32"))).toEqual(["2147418108", "2147418109", "2147418110"]),
  "rdbtools/intset_64.rdb": (r) => expect(sorted(val(r, "intset_64"))).toEqual(["9223090557583032316", "9223090557583032317", "9223090557583032318"]),
  "rdbtools/keys_with_expiry.rdb": (r) => {
    expect(val(r, "expires_ms_precision")).toBe("2022-12-25 10:11:12.573 UTC");
    expect(r.get("expires_ms_precision")!.expireMs).toBe(1671963072573);
  },
  "rdbtools/linkedlist.rdb": (r) => {
    const l = val(r, "force_linkedlist") as string[];
    expect(l.length).toBe(1000);
    expect(l).toContain("JYY4GIFI0ETHKP4VAJF5333082J4R1UPNPLE329YT0EYPGHSJQ");
    expect(l).toContain("TKBXHJOX9Q99ICF4V78XTCA2Y1UYW6ERL35JCIL1O0KSGXS58S");
  },
  "rdbtools/multiple_databases.rdb": (r) => {
    expect(val(r, "key_in_zeroth_database", 0)).toBe("zero");
    expect(val(r, "key_in_second_database", 2)).toBe("second");
  },
  "rdbtools/non_ascii_values.rdb": (r) => {
    expect(val(r, "int_value")).toBe("123");
    expect(val(r, "ascii")).toBe("\x00! ~0\n\t\rAb");
    expect(val(r, "bin")).toBe("\x00$ ~0\x7f\xff\n\xaa\t\x80\rAb");
    expect(val(r, "printable")).toBe("!+ Ab^~");
    expect(val(r, "378")).toBe("int_key_name");
    expect(val(r, "utf8")).toBe(u8("בדיקה𐀏123עברית"));
  },
  "rdbtools/parser_filters.rdb": (r) => {
    const k = r.keys.filter((x) => /^k[0-9]$/.test(x.key)).map((x) => x.key);
    expect(k.sort()).toEqual(["k1", "k3"]);
    expect(val(r, "k1")).toBe("ssssssss");
    expect(val(r, "k3")).toBe("wwwwwwww");
    expect(r.keys.filter((x) => plainType(x.value) === "zset").map((x) => x.key).sort()).toEqual(["z1", "z2", "z3", "z4"]);
  },
  "rdbtools/rdb_version_5_with_checksum.rdb": (r) => {
    expect(val(r, "abcd")).toBe("efgh");
    expect(val(r, "foo")).toBe("bar");
    expect(val(r, "bar")).toBe("baz");
    expect(val(r, "abcdef")).toBe("abcdef");
    expect(val(r, "longerstring")).toBe("thisisalongerstring.idontknowwhatitmeans");
  },
  "rdbtools/rdb_version_8_with_64b_length_and_scores.rdb": (r) => {
    expect(val(r, "foo")).toBe("bar");
    const z = zset(r, "bigset");
    expect(Object.keys(z).length).toBe(1000);
    expect(z.finalfield).toBeCloseTo(2.718, 4);
  },
  "rdbtools/redis_40_with_module.rdb": (r, o) => {
    expect(val(r, "simplekey")).toBe("someval");
    const m = r.get("foo")!.value as ModuleValue;
    expect(m).toBeInstanceOf(ModuleValue);
    expect(m.typeName).toBe("ReJSON-RL");
    expect(o.parser.trailingBytes).toBe(40);
  },
  "rdbtools/redis_50_with_streams.rdb": (r) => {
    encodingsValues(r, null as never);
    const s = stream(r, "mystream");
    expect(s.length).toBe(4);
  },
  "rdbtools/redis_60_with_module_aux.rdb": (r) => {
    expect(r.keys.length).toBe(0);
    expect(moduleTypeName(r.moduleAuxRecords[0]!.moduleId)).toBe("test__rdb");
  },
  "rdbtools/regular_set.rdb": (r) => expect(sorted(val(r, "regular_set"))).toEqual(sorted(["alpha", "beta", "gamma", "delta", "phi", "kappa"])),
  "rdbtools/regular_sorted_set.rdb": (r) => {
    const scores = Object.values(zset(r, "force_sorted_set")).sort((a, b) => a - b);
    expect(scores.length).toBe(500);
    scores.forEach((s, x) => expect(s).toBeCloseTo(x / 100, 10));
  },
  "rdbtools/sorted_set_as_ziplist.rdb": (r) =>
    expect(zset(r, "sorted_set_as_ziplist")).toEqual({ "8b6ba6718a786daefa69438148361901": 1, cb7a24bb7528f934b841b34c3a73e0c7: 2.37, "523af537946b79c4f8369ed39ba78605": 3.423 }),
  "rdbtools/uncompressible_string_keys.rdb": (r) => {
    const byLen = new Map(r.keys.map((k) => [k.key.length, plain(k.value)]));
    expect(byLen.get(60)).toBe("Key length within 6 bits");
    expect(byLen.get(16382)).toBe("Key length more than 6 bits but less than 14 bits");
    expect(byLen.get(16386)).toBe("Key length more than 14 bits but less than 32");
  },
  "rdbtools/ziplist_that_compresses_easily.rdb": (r) => expect(val(r, "ziplist_compresses_easily")).toEqual([6, 12, 18, 24, 30, 36].map((n) => "a".repeat(n))),
  "rdbtools/ziplist_that_doesnt_compress.rdb": (r) => expect(val(r, "ziplist_doesnt_compress")).toEqual(["aj2410", "cc953a17a8e096e76a44169ad3f9ac87c5f8248a403274416179aa9fbd852344"]),
  "rdbtools/ziplist_with_integers.rdb": (r) =>
    expect(val(r, "ziplist_with_integers")).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, -2, 13, 25, -61, 63, 16380, -16000, 65535, -65523, 4194304, "9223372036854775807"].map(String),
    ),
  "rdbtools/zipmap_that_compresses_easily.rdb": (r) => expect(hash(r, "zipmap_compresses_easily")).toEqual({ a: "aa", aa: "aaaa", aaaaa: "aaaaaaaaaaaaaa" }),
  "rdbtools/zipmap_that_doesnt_compress.rdb": zipmapDoesntCompress,
  "hdt3213/zipmap_big_len.rdb": zipmapDoesntCompress,
  "rdbtools/zipmap_with_big_values.rdb": (r) => {
    const h = hash(r, "zipmap_with_big_values");
    expect(h["253bytes"]!.length).toBe(253);
    expect(h["254bytes"]!.length).toBe(254);
    expect(h["255bytes"]!.length).toBe(255);
    expect(h["300bytes"]!.length).toBe(300);
    expect(h["20kbytes"]!.length).toBe(20000);
  },
  "replicator/dump-huge-kv.rdb": (r) => {
    expect(val(r, "s")).toBe(u8("中国银行全球门户网站"));
    expect(Object.keys(hash(r, "k10")).length).toBe(10);
    expect((val(r, "list10") as string[]).length).toBe(10);
    expect((val(r, "set") as string[]).length).toBe(10);
    expect((val(r, "zset") as string[]).length).toBe(10);
  },
  "replicator/dump-lfu.rdb": (r) => {
    expect(r.get("key")!.expireMs).toBe(1528592896226);
    expect(r.get("key")!.lfuFreq).toBe(4);
    expect(r.get("key1")!.lfuFreq).toBe(1);
  },
  "replicator/dump-lru.rdb": (r) => {
    expect(r.get("key")!.expireMs).toBe(1528592665231);
    expect(r.get("key")!.lruIdle).toBe(4);
    expect(r.get("key1")!.lruIdle).toBe(1914611);
  },
  "replicator/dump-module-2.rdb": (r) => expect((r.get("modulekey")!.value as ModuleValue).typeName).toBe("hellotype"),
  "replicator/dump-slot.rdb": (r) => {
    for (const [k, v] of [["c{slot2}", "c"], ["f{slot6}", "f"], ["d{slot3}", "d"], ["a{slot}", "b"], ["b{slot}", "b"]]) expect(val(r, k!)).toBe(v!);
    expect([...r.slotInfos].sort((a, b) => a[0] - b[0])).toEqual([
      [98, 1, 0],
      [230, 1, 0],
      [4163, 1, 0],
      [4772, 2, 0],
    ]);
  },
  "replicator/dump-stream.rdb": (r) => {
    const withGroups = r.keys.map((k) => k.value).find((v) => v instanceof StreamValue && v.groups.has("g1")) as StreamValue;
    const g = (n: string) => withGroups.groups.get(n)!;
    expect([...withGroups.groups.keys()].sort()).toEqual(["g1", "g2", "g3", "g4"]);
    expect(g("g1").pending.size).toBe(4);
    expect([...g("g1").consumers.values()].map((c) => c.pending.size)).toEqual([2, 2]);
    expect(g("g2").pending.size).toBe(1);
    expect([...g("g2").consumers.values()].map((c) => c.pending.size)).toEqual([1]);
    expect(g("g3").pending.size).toBe(2);
    expect([...g("g3").consumers.values()][0]!.pending.size).toBe(2);
    expect(g("g4").pending.size).toBe(0);
    const trim = ids(stream(r, "trim"));
    expect(trim).not.toContain("1528512149341-0");
    expect(trim).not.toContain("1528512149742-0");
    const numsFields = [...stream(r, "nums").entries].flatMap((e) => e.fields.filter((_, i) => i % 2 === 0));
    for (const f of ["-2", "-2000", "-20000", "-200000", "-20000000", "-2000000000", "-200000000000", "-20000000000000", "-20", "-200"]) expect(numsFields).toContain(f);
  },
  "replicator/dump-stream1.rdb": (r) => {
    const trim = stream(r, "trim");
    expect(ids(trim)).not.toContain("1528512149341-0");
    expect(ids(trim)).not.toContain("1528512149742-0");
  },
  "replicator/dump-ttlhash.rdb": (r) => {
    expect(Object.keys(hash(r, "iterttlhash")).length).toBe(128);
    expect(Object.keys(hash(r, "ttlhash1")).length).toBe(1024);
    expect(Object.keys(hash(r, "ttlhash")).length).toBe(3);
  },
  "replicator/dumpV11.rdb": (r) => {
    expect((val(r, "setlistpack") as string[]).length).toBe(4);
    expect(r.get("setlistpack")!.type).toBe(20);
    expect(stream(r, "mystream").groups.size).toBe(6);
  },
  "replicator/dumpV7.rdb": (r) => {
    expect(val(r, "abcd")).toBe("abcd");
    expect(val(r, "foo")).toBe("bar");
    expect(val(r, "aaa")).toBe("bbb");
  },
  "replicator/dumpV8.rdb": (r) => {
    expect(r.keys.length).toBe(92499);
    expect(r.auxCount).toBe(7);
  },
  "replicator/function.rdb": (r) => {
    const libs = Object.fromEntries(r.preGaFunctions.map((l) => [l.name, l]));
    expect(libs.lib2).toEqual({ name: "lib2", engine: "LUA", description: null, code: "local function test2() return 2 end redis.register_function('test2', test2)" });
    expect(libs.lib1).toEqual({ name: "lib1", engine: "LUA", description: "description function", code: "local function test1() return 1 end redis.register_function('test1', test1)" });
  },
  "replicator/function2.rdb": (r) => expect(r.functions).toEqual(["#!lua name=mylib \n redis.register_function('myfunc', function(keys, args) return args[1] end)"]),
  "replicator/listpack-bug.rdb": (r) => {
    expect(r.keys.length).toBe(237);
    expect(r.functions.length).toBe(3);
  },
  "replicator/stream2.rdb": (r) => {
    const s = stream(r, "mystream");
    expect(s.length).toBe(9);
    expect(id(s.firstId)).toBe("1646121872530-0");
    expect(id(s.maxDeletedId)).toBe("1646121870418-0");
    expect(Number(s.entriesAdded)).toBe(16);
    expect(s.groups.size).toBe(6);
    expect(Number(s.groups.get("g3")!.entriesRead)).toBe(3);
    expect(Number(s.groups.get("g4")!.entriesRead)).toBe(4);
  },
  "hdt3213/expiration.rdb": (r) => {
    expect(r.get("noexpire")!.expireMs).toBe(-1);
    const e = r.get("expired")!.expireMs;
    expect(e).toBeGreaterThanOrEqual(1751731200000);
    expect(e).toBeLessThanOrEqual(1751817600000);
  },
  "hdt3213/function.rdb": (r) => expect(r.functions).toEqual(["#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 'hello' end)"]),
  "hdt3213/hash_as_listpack_with_hfe.rdb": (r) => {
    const k = r.get("listpack-hfe")!;
    expect(hash(r, "listpack-hfe")).toEqual({ F1: "V1", F2: "V2", F3: "V3" });
    expect(Object.fromEntries(k.fieldTtls!)).toEqual({ F1: 2755482478325, F3: 2755484483878 });
  },
  "hdt3213/hash_with_hfe.rdb": (r) => {
    const k = r.get("hash-hfe")!;
    expect(hash(r, "hash-hfe")).toEqual(Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((i) => [`F${i}`, `V${i}`])));
    expect(Object.fromEntries(k.fieldTtls!)).toEqual({ F1: 2755482424661, F2: 2755483429282, F3: 2755484433842 });
  },
  "hdt3213/issue27.rdb": (r) => {
    const s = stream(r, "mytest");
    expect(s.length).toBe(10098);
    expect(id(s.firstId)).toBe("1704268581841-1");
    expect(id(s.lastId)).toBe("1704268585354-1");
    expect(Number(s.entriesAdded)).toBe(19998);
    expect(id(s.maxDeletedId)).toBe("0-0");
    expect(s.groups.size).toBe(0);
    for (const e of s.entries) expect(e.fields).toEqual(["info", "abcd"]);
  },
  "hdt3213/listpack.rdb": (r) => {
    expect(val(r, "l")).toEqual(["1", "20000", "aaaa", "4", "16380", "-16380", "1048576", "268435456", "8589934592"]);
    const z = zset(r, "z");
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((i) => z[String(i)])).toEqual([1, 2000, 0, 16380, -16380, 1048576, -1048576, 268435456, -268435456, 8589934592, -8589934592, -2000]);
    expect(hash(r, "h")).toEqual({
      1: "1",
      2: "2000",
      3: "a".repeat(16),
      4: "16380",
      5: "-16380",
      6: "1048576",
      7: "-1048576",
      8: "268435456",
      9: "-268435456",
      10: "8589934592",
      11: "8589934592",
    });
  },
  "hdt3213/memory.rdb": (r) => {
    expect(hash(r, "hash")).toEqual({ ca32mbn2k3tp41iu: "ca32mbn2k3tp41iu", mddbhxnzsbklyp8c: "mddbhxnzsbklyp8c" });
    expect(val(r, "s")).toBe("aaaaaaa");
    expect(val(r, "e")).toBe("zxcvb");
    expect(r.get("e")!.expireMs).toBe(Date.parse("2022-02-18T06:15:29.180+08:00"));
    expect(val(r, "list")).toEqual(["7fbn7xhcnu", "lmproj6c2e", "e5lom29act", "yy3ux925do"]);
    expect(zset(r, "zset")).toEqual({ zn4ejjo4ths63irg: 1, "1ik4jifkg6olxf5n": 2 });
  },
  "hdt3213/quicklist.rdb": (r) => expect(val(r, "list")).toEqual(["eb5foapxep8846is", "ns8ra7iy34tpvt", "2dmoobfe4vlmok1f", "bmnctno6rrxjs5yl", "sq1c36x0ixv50jqm", "jfds2extynrj6l"]),
  "hdt3213/set_listpack.rdb": (r) => expect(sorted(val(r, "s"))).toEqual(["a", "b", "c", "d"]),
  "hdt3213/stream_listoacks_3.rdb": (r) => {
    const s = stream(r, "mystream");
    expect([...s.entries].map((e) => [id(e.id), e.fields])).toEqual([["1704557973866-0", ["name", "Sara", "surname", "OConnor"]]]);
    const g = s.groups.get("consumer-group-name")!;
    expect(id(g.lastId)).toBe("1704557973866-0");
    expect(Number(g.entriesRead)).toBe(1);
    const pe = [...g.pending.values()];
    expect(pe.map((p) => [id(p.id), p.deliveryTime, p.deliveryCount, p.consumer])).toEqual([["1704557973866-0", 1704557998397, 1, "consumer-name"]]);
    const c = g.consumers.get("consumer-name")!;
    expect([c.seenTime, c.activeTime]).toEqual([1704557998397, 1704557998397]);
  },
  "hdt3213/stream_listpacks_2.rdb": (r) => {
    const s = stream(r, "astream");
    expect([...s.entries].map((e) => [id(e.id), e.fields])).toEqual([
      ["1681085300799-0", ["a", "1", "b", "2", "c", "3"]],
      ["1681085312465-0", ["a", "2", "b", "3", "c", "4"]],
    ]);
    expect(Number(s.entriesAdded)).toBe(2);
    expect(id(s.maxDeletedId)).toBe("0-0");
    expect(s.groups.size).toBe(0);
  },
  "hdt3213/tree.rdb": (r) => expect(r.keys.map((k) => k.key).sort()).toEqual(["a", "ab", "abb", "abba", "abbd", "abc", "b"]),
  "hdt3213/valkey_hash2_with_hfe.rdb": (r, o) => {
    expect(o.parser.valkey).toBe(true);
    expect(o.parser.version).toBe(80);
    expect(hash(r, "hash2-hfe")).toEqual({ F1: "V1", F2: "V2", F3: "V3" });
    expect(Object.fromEntries(r.get("hash2-hfe")!.fieldTtls!)).toEqual({ F1: 2715785640000, F2: 2400425640000 });
    expect(r.auxFields.get("valkey-ver")).toBe("9.0.1");
  },
  "rdbrs/multidb-skipping.rdb": (r) => {
    expect(val(r, "foo", 0)).toBe("bar");
    expect(val(r, "foo", 1)).toBe("bar");
  },
  "rdbrs/quicklist_with_multiple_nodes.rdb": (r) => expect(val(r, "quicklist")).toEqual(["baaaaaaaaaaaaaaam", "baz", "3", "2", "1", "bar", "foo"]),
  "rdbrs/quicklist_with_one_node.rdb": (r) => expect(val(r, "quicklist")).toEqual(["baaaaaaaaaaaaaaam", "baz", "3", "2", "1", "bar", "foo"]),
  "dragonfly/RDB_TYPE_STREAM_LISTPACKS_2.rdb": (r) => {
    const s = stream(r, "mystream");
    expect(s.length).toBe(2);
    expect(id(s.lastId)).toBe("1732613360686-0");
    expect(id(s.maxDeletedId)).toBe("0-0");
    expect(Number(s.entriesAdded)).toBe(2);
    expect(id(s.firstId)).toBe("1732613352350-0");
    expect(s.groups.size).toBe(1);
  },
  "dragonfly/RDB_TYPE_STREAM_LISTPACKS_3.rdb": (r) => {
    const s = stream(r, "mystream");
    expect(s.length).toBe(2);
    expect(id(s.lastId)).toBe("1732614679549-0");
    expect(Number(s.entriesAdded)).toBe(2);
    expect(id(s.firstId)).toBe("1732614676541-0");
    expect(s.groups.size).toBe(1);
  },
  "dragonfly/hll.rdb": (r) => {
    expect((val(r, "key-sparse") as string).startsWith("HYLL")).toBe(true);
    expect((val(r, "key-dense") as string).startsWith("HYLL")).toBe(true);
  },
  "dragonfly/ignore_expiry.rdb": (r) => {
    expect(val(r, "test")).toBe("expkey");
    expect(val(r, "test2")).toBe("expkey");
    expect(r.get("test")!.expireMs).toBeGreaterThan(0);
    expect(r.get("test2")!.expireMs).toBeGreaterThan(0);
  },
  "dragonfly/redis6_small.rdb": (r) => {
    expect(r.keys.filter((k) => k.db === 0).map((k) => k.key).sort()).toEqual(["hset_ht", "hset_zl", "intkey", "intset", "list1", "list2", "set1", "strkey", "zset_sl", "zset_zl"]);
    expect(val(r, "intkey")).toBe("1234567");
    expect(val(r, "strkey")).toBe("abcdefghjjjjjjjjjj");
    expect(sorted(val(r, "intset"))).toEqual(sorted(["111", "222", "1234", "3333", "4444", "67899", "76554"]));
    expect(r.get("set1")!.expireMs).toBe(1747008000000);
    const db1 = r.keys.filter((k) => k.db === 1);
    expect(db1.map((k) => k.key).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `longggggggggggggggkeyyyyyyyyyyyyy:${i}`));
    for (const k of db1) expect((plain(k.value) as string).length).toBe(128);
  },
  "dragonfly/redis6_stream.rdb": (r) => {
    const k0 = stream(r, "key:0");
    expect([...k0.groups.keys()].sort()).toEqual(["g1", "g2"]);
    expect(k0.groups.get("g1")!.consumers.size).toBe(0);
    expect(k0.groups.get("g1")!.pending.size).toBe(0);
    expect(id(k0.groups.get("g1")!.lastId)).toBe("1655444851524-3");
    expect(k0.groups.get("g2")!.consumers.size).toBe(1);
    expect(k0.groups.get("g2")!.pending.size).toBe(0);
    expect(id(k0.groups.get("g2")!.lastId)).toBe("1655444851523-1");
    expect([...stream(r, "key:1").groups.keys()]).toEqual(["g2"]);
    expect(stream(r, "key:2").groups.size).toBe(0);
  },
  "dragonfly/redis7_small.rdb": (r) => {
    // The manifest names the members; the listpack holds them in this order.
    expect(val(r, "my-list")).toEqual(["list2", "list1"]);
    expect(hash(r, "my-hset")).toEqual({ acme: "44", field: "22" });
    expect(sorted(val(r, "my-set"))).toEqual(["acme", "redis"]);
    expect((val(r, "zset") as Array<[string, number]>).map((p) => p[0])).toEqual(["einstein", "schrodinger"]);
  },
  "dragonfly/redis_json.rdb": (r) => {
    for (const k of ["json-str", "json-arr", "json-obj"]) expect((r.get(k)!.value as ModuleValue).typeName).toBe("ReJSON-RL");
  },
  "librdb/100_lists.rdb": (r) => expect(r.keys.map((k) => k.key).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `mylist${i + 1}`).sort()),
  "librdb/cluster_slot_info.rdb": (r) => {
    expect(val(r, "abc")).toBe("abc");
    expect(r.slotInfos).toEqual([[7638, 1, 0]]);
  },
  "librdb/empty.rdb": (r) => expect(r.keys.length).toBe(0),
  "librdb/function.rdb": (r) => expect(r.functions[0]).toContain("myfunc"),
  "librdb/function2.rdb": (r) => {
    expect(r.functions.map((c) => /name=(\S+)/.exec(c)![1]).sort()).toEqual(["mylib", "mylib2"]);
    for (let i = 90; i <= 99; i++) expect(val(r, `key_${i}`)).toBe(`value_${i}`);
  },
  "librdb/hash_lp_v11.rdb": (r) => {
    expect(hash(r, "hash1")).toEqual({ field2: "2", field3: "3", field4: "value4.0", field5: "5.0", 6: "6" });
    expect(hash(r, "hash2")).toEqual({ field7: "value7", field8: "value8", 9: "value9", field10: "value10", field11: "11", 12: "12.0" });
  },
  "librdb/hash_lp_with_hexpire_v12.rdb": (r) => {
    expect(hash(r, "myhash")).toEqual({ field1: "value1", field2: "value2", field3: "value3" });
    expect(r.get("myhash")!.fieldTtls?.size ?? 0).toBeGreaterThan(0);
  },
  "librdb/hash_v3.rdb": (r) => expect(hash(r, "myhash1")).toEqual(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [String(i + 1), String(i + 1)]))),
  "librdb/hash_with_expire_v12.rdb": (r) => {
    expect(hash(r, "myhash")).toEqual({ field1: "value1", field2: "value2", field3: "value3" });
    expect(r.get("myhash")!.fieldTtls?.size ?? 0).toBeGreaterThan(0);
  },
  "librdb/hash_zl_v6.rdb": (r) => expect(hash(r, "myhash")).toEqual({ 1: "2", 3: "4", 5: "6", "7.0": "8.0", str1: "str2", str3: "str4" }),
  "librdb/hash_zm_v2.rdb": (r) =>
    expect(hash(r, "myhash")).toEqual({ 1: "1", 2: "2", 3: "3", "1.1": "1.1", "1.2": "1.2", "1.3": "1.3", aaa1: "aaa1", aaa2: "aaa2", aaa3: "aaa3" }),
  "librdb/mem_policy_lfu.rdb": (r) => {
    expect(val(r, "abcdefghijk")).toBe("012345789abcdefghik");
    expect(r.get("abcdefghijk")!.lfuFreq).toBe(5);
  },
  "librdb/mem_policy_lru.rdb": (r) => {
    expect(val(r, "abcdefghijk")).toBe("012345789abcdefghik");
    expect(r.get("abcdefghijk")!.lruIdle).toBe(24);
  },
  "librdb/misc_with_stream.rdb": (r) => {
    expect(val(r, "rcc")).toBe("1");
    expect(val(r, "rcs")).toBe("asdf");
    expect(r.moduleAuxRecords.map((m) => moduleTypeName(m.moduleId))).toEqual(["test__rdb", "test__rdb"]);
  },
  "librdb/module.rdb": (r) => {
    const m = r.get("key1")!.value as ModuleValue;
    expect([m.typeName, moduleEncodingVersion(m.moduleId)]).toEqual(["test__rdb", 1]);
  },
  "librdb/module_aux.rdb": (r) => {
    expect(val(r, "x", 9)).toBe("1");
    expect(r.moduleAuxRecords.length).toBe(2);
  },
  "librdb/module_aux_empty.rdb": (r) => expect(r.moduleAuxRecords.map((m) => moduleTypeName(m.moduleId))).toEqual(["graphdata", "graphdata"]),
  "librdb/module_aux_v12.rdb": (r) => expect((r.get("mykey")!.value as ModuleValue).typeName).toBe("test__rdb"),
  "librdb/multiple_dbs.rdb": (r) => {
    expect(val(r, "x", 0)).toBe("0");
    expect(val(r, "y", 1)).toBe("1");
    expect(val(r, "z", 2)).toBe("2");
  },
  "librdb/multiple_lists_strings.rdb": (r) => {
    expect(val(r, "string2")).toBe("Hi there!");
    expect(val(r, "string1")).toBe("blaa");
    expect(val(r, "lzf_compressed")).toBe("c".repeat(118));
    expect(val(r, "mylist1")).toEqual(["v1"]);
    expect(val(r, "mylist2")).toEqual(["v2", "v1"]);
    expect(val(r, "mylist3")).toEqual(["v3", "v2", "v1"]);
  },
  "librdb/plain_list_v6.rdb": (r) => expect(val(r, "ll")).toEqual(new Array(513).fill("1")),
  "librdb/plain_set_v6.rdb": (r) => expect(sorted(val(r, "myset"))).toEqual(sorted(["a1", "1.3", "b2", "2", "3", "1.1", "1.2", "x".repeat(81), "c3", "1"])),
  "librdb/plain_zset_2_v11.rdb": librdbZset,
  "librdb/plain_zset_v6.rdb": librdbZset,
  "librdb/zset_lp_v11.rdb": librdbZset,
  "librdb/zset_zl_v6.rdb": librdbZset,
  "librdb/quicklist2_v11.rdb": (r) => expect(val(r, "mylist")).toEqual(["val3", "val2", "val1"]),
  "librdb/redis_ent_opcode_ram_lru.rdb": (r) => {
    expect(val(r, "a")).toBe("b");
    expect(val(r, "e")).toBe("f");
    expect(val(r, "c")).toBe("d");
  },
  "librdb/script.rdb": (r) => expect(r.auxFields.get("lua")).toBe("return 'Hello from Lua!'"),
  "librdb/script_legacy.rdb": (r) => expect(r.auxFields.get("\xdb__lua_script__48c949b7bad3ffd14e1059100eb202831fc1b16c__\xdb")).toBe("return 'Hello from Lua!'"),
  "librdb/set_expired_v11.rdb": (r) => {
    expect(val(r, "mykey")).toBe("myval");
    expect(r.get("mykey")!.expireMs).toBeLessThan(Date.now());
  },
  "librdb/set_not_expired_v11.rdb": (r) => {
    expect(val(r, "mykey")).toBe("myval");
    expect(r.get("mykey")!.expireMs).toBeGreaterThan(Date.now());
  },
  "librdb/set_is_v11.rdb": (r) => expect(sorted(val(r, "myintest"))).toEqual(sorted(["1", "2", "3", "4", "5", "1234567890"])),
  "librdb/set_lp_v11.rdb": (r) => expect(sorted(val(r, "myset"))).toEqual(sorted(["1", "2", "3", "1.1", "1.2", "1.3", "a", "b", "c"])),
  "librdb/single_key.rdb": (r) => expect(val(r, "xxx")).toBe("111"),
  "librdb/stream_v11.rdb": (r) => {
    const s = stream(r, "mystream");
    const entries = [...s.entries];
    expect(entries.length).toBe(6);
    expect(id(entries[0]!.id)).toBe("1695649068107-0");
    expect(id(entries[5]!.id)).toBe("1695893015933-0");
    expect(entries.slice(0, 5).map((e) => e.fields)).toEqual([1, 2, 3, 4, 5].map((i) => ["message", `Message${i}`]));
    expect(entries[5]!.fields).toEqual(["field1", "value1", "field2", "value2", "field3", "value3"]);
    const a = s.groups.get("groupA")!;
    expect([id(a.lastId), Number(a.entriesRead), a.pending.size, [...a.consumers.keys()].sort()]).toEqual(["1695649446276-0", 4, 1, ["consumerA1", "consumerA2"]]);
    const b = s.groups.get("groupB")!;
    expect([id(b.lastId), Number(b.entriesRead), [...b.consumers.keys()]]).toEqual(["1695649069139-0", 3, ["consumerB1"]]);
  },
  "librdb/string_int_encoded.rdb": (r) => {
    expect(r.keys.length).toBe(57);
    for (const k of r.keys) expect(`str::${plain(k.value)}`).toBe(k.key);
  },
  "librdb/string_lzf.rdb": (r) => {
    expect(val(r, "x".repeat(26))).toBe("A".repeat(64));
    expect(val(r, "y".repeat(50))).toBe("B".repeat(116));
  },
  "keydb/expire.rdb": (r) => {
    expect(val(r, "testkey")).toBe("foo");
    expect(r.get("testkey")!.expireMs).toBeGreaterThan(0);
  },
  "keydb/expireonload.rdb": (r) => expect(r.get("testkey")!.expireMs).toBeGreaterThan(0),
  "keydb/integer.rdb": (r) => expect(val(r, "testkey")).toBe("231231"),
  "keydb/integer_shared.rdb": (r) => expect(val(r, "testkey")).toBe("1"),
  "keydb/multidb.rdb": (r) => expect(val(r, "testkey", 3)).toBe("bar"),
  "keydb/string.rdb": (r) => expect(val(r, "testkey")).toBe("foo"),
  "keydb/replica.rdb": (r) => {
    expect(r.keys.length).toBe(0);
    for (const a of ["repl-stream-db", "repl-id", "repl-offset"]) expect(r.auxFields.has(a)).toBe(true);
  },
  "keydb/redis-module-save.rdb": (r) => {
    for (let i = 1; i <= 5; i++) expect((r.get(`key${i}`)!.value as ModuleValue).typeName).toBe("test___dt");
  },
  "keydb/redis-save.rdb": (r) => {
    expect(val(r, "string")).toBe("ABC123");
    expect(val(r, "int")).toBe("1234567890");
  },
  "rdbcli/all.rdb": (r) => {
    const per = new Map<string, number>();
    for (const k of r.keys) per.set(plainType(k.value), (per.get(plainType(k.value)) ?? 0) + 1);
    expect(Object.fromEntries(per)).toEqual({ zset: 17, set: 20, string: 85, stream: 11, module: 1, list: 23, hash: 113 });
  },
  "rdbcli/filter1.rdb": (r) => expect(r.keys.map((k) => [k.db, k.key])).toEqual([[1, "hll1"]]),
  "cupcake/keys_with_mixed_expiry.rdb": (r) => {
    expect(r.get("key01")!.expireMs).toBeGreaterThan(0);
    expect(r.get("key04")!.expireMs).toBeGreaterThan(0);
    expect(r.get("key02")!.expireMs).toBe(-1);
    expect(r.get("key03")!.expireMs).toBe(-1);
    expect(val(r, "key01")).toBe("this does expire");
    expect(val(r, "key02")).toBe("this does not expire");
  },
  "cupcake/rdb_v7_list_quicklist.rdb": (r) => {
    expect(val(r, "foo")).toEqual(["bar", "baz", "boo"]);
    expect(r.auxFields.get("redis-ver")).toBe("3.2.0");
    expect(r.resizes).toEqual([[0, 1, 0]]);
  },
  "noderdbtools/empty_string.rdb": (r) => expect(val(r, "")).toBe("abc"),
  "noderdbtools/keys_with_expiry_secs.rdb": (r) => {
    expect(val(r, "foo")).toBe("bar");
    expect(r.get("foo")!.expireMs).toBe(1374939348000);
  },
  "noderdbtools/sorted_set.rdb": (r) => expect(zset(r, "abc")).toEqual({ def: 1.2, ghi: 1.7649999999999999 }),
  "noderdbtools/utf8.rdb": (r) => expect(val(r, u8("£"))).toBe(u8("©")),
  "redisport/empty_database.rdb": (r) => expect(r.keys.length).toBe(0),
  "redisport/empty_database_nochecksum.rdb": (r, o) => {
    expect(r.keys.length).toBe(0);
    expect(o.parser.checksumVerified).toBe(false);
  },
  "redisport/list_decode.rdb": (r) => {
    const l = val(r, "list") as string[];
    expect(l.length).toBe(1000000);
    for (let i = 0; i < l.length; i += 997) expect(l[i]).toBe(String(i));
    expect(l[999999]).toBe("999999");
  },
  "hulkrdbtools/dump2.2.rdb": (r, o) => {
    expect(o.parser.version).toBe(1);
    expect(val(r, "aaaa")).toBe("bbbb");
  },
  "hulkrdbtools/dump2.4.rdb": (r) => {
    expect(val(r, "aaa")).toBe("bbbb");
    expect(val(r, "ccc")).toBe("ddd");
  },
  "hulkrdbtools/dump2.8.rdb": (r) => expect(val(r, "mykey")).toBe("Hello"),
  "rdbtools3/misc.rdb": (r) => {
    expect(val(r, "str2", 1)).toBe("123456789");
    expect(hash(r, "hset1", 1)).toEqual({ aa: "10" });
    expect(sorted(val(r, "set1", 1))).toEqual(["1", "2"]);
    expect(hash(r, "some_long_hash_key_name", 1)).toEqual({ even_more_longer_hash_key_field_name: "a".repeat(48) });
    expect(val(r, "zset1", 1)).toEqual([["one", 1], ["two", 2]]);
    expect(val(r, "1", 1)).toBe("aa");
    const exp = r.get("str3_exp", 2)!.expireMs;
    expect(exp % 1000).toBe(0);
    expect(Math.abs(exp - Date.parse("2013-02-22T23:22:31Z"))).toBeLessThanOrEqual(14 * 3600 * 1000);
    expect(val(r, "list1", 2)).toEqual(["1234567890", "a".repeat(22), "2", "1"]);
  },
  "godis/test.rdb": (r) => {
    expect(val(r, "str")).toBe("str");
    expect(val(r, "list")).toEqual(["1", "2", "3", "4"]);
    expect(hash(r, "hash")).toEqual({ 1: "1" });
    expect((val(r, "set") as string[]).length).toBe(1);
  },
  "redisjson/backward.rdb": (r) => {
    for (const k of ["simple", "complex"]) {
      const m = r.get(k)!.value as ModuleValue;
      expect([m.typeName, moduleEncodingVersion(m.moduleId)]).toEqual(["ReJSON-RL", 0]);
    }
  },
  "redistimeseries/1.4.9_with_avg_ctx.rdb": (r) => expect(r.keys.map((k) => k.key).sort()).toEqual(["ts1", "ts2"]),
  "redistimeseries/1.0.1.rdb": timeSeries,
  "redistimeseries/1.0.3.rdb": timeSeries,
  "redistimeseries/1.2.5.rdb": timeSeries,
  "redistimeseries/1.2.6.rdb": timeSeries,
  "redistimeseries/1.2.7.rdb": timeSeries,
  "redistimeseries/1.4.5.rdb": timeSeries,
  "redistimeseries/1.4.7.rdb": timeSeries,
  "redistimeseries/1.4.9.rdb": timeSeries,
  "redistimeseries/1.8.13.rdb": timeSeries,
  "replicator/binarydump.rdb": (r) => {
    expect([plainType(r.get("seri1")!.value), plainType(r.get("seri2")!.value), plainType(r.get("seri3")!.value)]).toEqual(["string", "hash", "list"]);
    expect(val(r, "seri1") as string).toContain(u8("中文测试wuqioewqoi jdklsajf"));
    expect(JSON.stringify(val(r, "seri2"))).toContain(JSON.stringify(u8("中文测试12131")).slice(1, -1));
    expect(JSON.stringify(val(r, "seri3"))).toContain(JSON.stringify(u8("中文测试jfskdfjslf")).slice(1, -1));
  },
  "replicator/dumpV10.rdb": (r) => {
    expect(Object.fromEntries(r.keys.map((k) => [k.key, plainType(k.value)]))).toEqual({
      quicklist_listpack_plain: "list",
      quicklist_listpack_pack: "list",
      zset_listpack: "zset",
      hash_listpack: "hash",
    });
  },
  // The manifest says "101 SESSION:* hash ziplists": there are 101 hash ziplists, 100 of them SESSION:*, and `myhash`.
  "replicator/dumpV6.rdb": (r) => {
    expect(r.keys.filter((k) => k.key.startsWith("SESSION:") && plainType(k.value) === "hash").length).toBe(100);
    expect(r.keys.filter((k) => k.type === 13).length).toBe(101);
    expect(plainType(r.get("myhash")!.value)).toBe("hash");
  },
  "replicator/dumpV9.rdb": (r) => expect(plainType(r.get("list1")!.value)).toBe("list"),
  "redisshake/appendonly.aof.2.base.rdb": (r) => {
    expect(r.auxFields.get("aof-base")).toBe("1");
    const intsets = r.keys.filter((k) => k.type === 11);
    expect(intsets.length).toBe(9990);
    for (const k of intsets) expect(k.key).toMatch(/^\d+$/);
  },
  "rdbrs/hash_list_pack.rdb": (r) => {
    const k = r.keys.find((x) => x.key.startsWith("\x02\x00\x00\x00driver_id"))!;
    expect(k.key).toContain("my_project");
    expect(Object.keys(Object.fromEntries(plain(k.value) as Array<[string, string]>))).toEqual(expect.arrayContaining(["_ts:driver_hourly_stats", "_ts:driver_hourly_stats_fresh"]));
  },
  "dragonfly/empty.rdb": (r) => expect([r.keys.length, r.auxFields.get("redis-ver")]).toEqual([0, "255.255.255"]),
  "keydb/empty.rdb": (r) => expect(r.keys.length).toBe(0),
  "keydb/set.rdb": (r) => {
    expect(plainType(r.get("setkey")!.value)).toBe("set");
    expect(r.auxFields.has("mvcc-tstamp")).toBe(true);
  },
  "hulkrdbtools/dump2.6.rdb": (r) => {
    expect(val(r, "aaaa")).toBe("fbbbb");
    expect([plainType(r.get("l1")!.value), plainType(r.get("zs")!.value), plainType(r.get("hs")!.value)]).toEqual(["list", "zset", "hash"]);
  },
};

/** RedisTimeSeries dumps: 200 TSDB-TYPE series named after cities. */
function timeSeries(r: Recorder): void {
  expect(r.keys.length).toBe(200);
  for (const k of r.keys) {
    expect((k.value as ModuleValue).typeName).toBe("TSDB-TYPE");
    expect(k.key).toMatch(/^AverageTemperature(Uncertainty)?:/);
  }
}

function plainType(v: unknown): string {
  if (typeof v === "string") return "string";
  if (v instanceof ModuleValue) return "module";
  if (v instanceof StreamValue) return "stream";
  const name = (v as object).constructor.name;
  return { ListValue: "list", SetValue: "set", ZSetValue: "zset", HashValue: "hash" }[name] ?? name;
}

// ------------------------------------------------------------------ the walk

/** The manifest's type name for a key's RDB type byte. */
function manifestTypeName(type: number, valkey: boolean): string {
  if (valkey && type === 22) return "valkey_hash2";
  return rdbTypeName(type);
}

function checkStructure(row: ManifestRow, o: ParseOutcome): void {
  const st = parseStructure(row.structure);
  const { rec, parser } = o;
  // Keys and their RDB types (empty aggregates count: the scan saw them).
  const types = new Map<string, number>();
  for (const k of [...rec.keys, ...rec.empty]) {
    const t = manifestTypeName(k.type, parser.valkey);
    types.set(t, (types.get(t) ?? 0) + 1);
  }
  expect(rec.keys.length + rec.empty.length).toBe(st.keys);
  expect(Object.fromEntries(types)).toEqual(Object.fromEntries(st.types));
  expect(parser.version).toBe(row.version);
  // Databases selected.
  const dbs = [...rec.selected].sort((a, b) => a - b);
  if (st.dbs) expect(dbs).toEqual(st.dbs);
  else expect(dbs.every((d) => d === 0)).toBe(true);
  // Opcodes.
  const ops = st.ops;
  const expiring = rec.keys.filter((k) => k.expireMs !== -1).length + 0;
  expect(expiring).toBe((ops.get("EXPIRETIME_MS") ?? 0) + (ops.get("EXPIRETIME") ?? 0));
  expect(rec.keys.filter((k) => k.lfuFreq !== -1).length).toBe(ops.get("FREQ") ?? 0);
  expect(rec.keys.filter((k) => k.lruIdle !== -1).length).toBe(ops.get("IDLE") ?? 0);
  expect(rec.slotInfos.length).toBe(ops.get("SLOT_INFO") ?? 0);
  expect(rec.moduleAuxRecords.length).toBe(ops.get("MODULE_AUX") ?? 0);
  expect(rec.functions.length).toBe(ops.get("FUNCTION2") ?? 0);
  expect(rec.preGaFunctions.length).toBe(ops.get("FUNCTION_PRE_GA") ?? 0);
  // AUX.
  if (st.redisVer) expect(rec.auxFields.get("redis-ver")).toBe(st.redisVer);
  if (st.valkeyVer) expect(rec.auxFields.get("valkey-ver")).toBe(st.valkeyVer);
  // Checksum and what follows the RDB.
  if (st.crc === "ok") expect(parser.checksumVerified).toBe(true);
  else expect(parser.checksumVerified).toBe(false);
  if (st.crc === "none") expect(parser.version).toBeLessThan(5);
  const after = st.bytesAfterEof > 0 ? st.bytesAfterEof - (parser.version >= 5 ? 8 : 0) : 0;
  expect(parser.trailingBytes).toBe(after);
  // Module ids.
  const modules = new Map<string, number>();
  for (const k of rec.keys) {
    if (k.value instanceof ModuleValue) {
      const name = `${k.value.typeName}/encver${moduleEncodingVersion(k.value.moduleId)}`;
      modules.set(name, (modules.get(name) ?? 0) + 1);
    }
  }
  for (const m of rec.moduleAuxRecords) {
    const name = `aux:${moduleTypeName(m.moduleId)}/encver${moduleEncodingVersion(m.moduleId)}`;
    modules.set(name, (modules.get(name) ?? 0) + 1);
  }
  expect(Object.fromEntries(modules)).toEqual(Object.fromEntries(st.modules));
  // Stream totals.
  const streams = rec.keys.map((k) => k.value).filter((v): v is StreamValue => v instanceof StreamValue);
  if (st.stream) {
    let groups = 0;
    let pel = 0;
    let consumers = 0;
    let nodes = 0;
    for (const s of streams) {
      groups += s.groups.size;
      nodes += s.nodeCount;
      for (const g of s.groups.values()) {
        pel += g.pending.size;
        consumers += g.consumers.size;
      }
    }
    expect({ groups, pel, consumers, nodes }).toEqual({ groups: st.stream.groups, pel: st.stream.pel, consumers: st.stream.consumers, nodes: st.stream.nodes });
  } else {
    expect(streams.length).toBe(0);
  }
}

const corpusPresent = sharedPath("corpus/rdb/MANIFEST.md", "the RDB corpus test (~260 real RDB files read with the content their manifest describes)") !== null;

function corpusFiles(): string[] {
  const files: string[] = [];
  for (const d of readdirSync(CORPUS).sort()) {
    const p = join(CORPUS, d);
    if (!statSync(p).isDirectory()) continue;
    for (const f of readdirSync(p).sort()) files.push(`${d}/${f}`);
  }
  return files;
}

if (corpusPresent) {
  const manifest = parseManifest(readFileSync(MANIFEST, "utf8"));
  const files = corpusFiles();
  const read: string[] = [];
  const refused: string[] = [];
  const seed = Number(process.env.RDB_CORPUS_SEED ?? 20261201);
  console.log(`RDB corpus: ${CORPUS} (${files.length} files; chunked-feed seed ${seed}, set RDB_CORPUS_SEED to change)`);

  test("every file of the corpus has a manifest row, and its size matches", () => {
    const missing = files.filter((f) => !manifest.has(f));
    expect(missing).toEqual([]);
    for (const f of files) expect(statSync(join(CORPUS, f)).size).toBe(manifest.get(f)!.size);
    const absent = [...manifest.keys()].filter((f) => !existsSync(join(CORPUS, f)));
    // Rows kept for files removed after collection (the manifest's note says so).
    for (const f of absent) expect(f).toMatch(/^(goredisparser|nmdanny)\//);
  });

  /** Sources of byte-identical files: "Byte-identical to `x`" in the expected column. */
  const sameAs = (row: ManifestRow): string | undefined => /Byte-identical to `([^`]+)`/.exec(row.expected)?.[1];

  describe("corpus", () => {
    for (const file of files) {
      const row = manifest.get(file);
      if (!row) continue;
      test(file, () => {
        const data = readFileSync(join(CORPUS, file));
        const refusal = REFUSED[file];
        const o = parseRdb(data);
        if (refusal) {
          expect(o.error).toBeInstanceOf(RdbError);
          const e = o.error as RdbError;
          expect(e.kind).toBe(refusal.kind);
          expect(e.message).toMatch(refusal.message);
          expect(e.message).toMatch(/at offset \d+/);
          refused.push(`${file}: ${refusal.why} -> ${e.message}`);
          return;
        }
        if (o.error) throw o.error;
        checkStructure(row, o);
        const check: Check | undefined = CHECKS[file] ?? CHECKS[sameAs(row) ?? ""];
        check?.(o.rec, o);
        // Same result when the bytes come in random chunks (restart at any byte).
        const r = rng(seed ^ data.length);
        const chunked = parseRdb(data, {}, () => 1 + Math.floor(r() * r() * 8192));
        if (chunked.error) throw chunked.error;
        expect(digest(chunked.rec)).toBe(digest(o.rec));
        // And the loader into Databases (what a full sync runs) accepts it, unless the file
        // holds a key twice in one database: redis-server 7.0 refuses those ("RDB has
        // duplicated key"), and so does the loader (redis-rdb-cli's merged test files).
        const dbs = Array.from({ length: 16 }, (_, i) => new Database(i));
        const seen = new Set<string>();
        const dup = o.rec.keys.find((k) => seen.size === seen.add(`${k.db}\u0000${k.key}`).size);
        if (dup) {
          expect(() => loadRdbBuffer(data, dbs)).toThrow(`RDB has duplicated key '${dup.key}' in DB ${dup.db}`);
          read.push(`${file}: ${o.rec.keys.length} keys read; the loader refuses it as redis-server does: duplicated key '${dup.key}' in DB ${dup.db}`);
          return;
        }
        const loaded = loadRdbBuffer(data, dbs);
        expect(loaded.sink.keysLoaded).toBe(o.rec.keys.length);
        read.push(`${file}: ${o.rec.keys.length} keys${check ? " (values checked)" : ""}`);
      });
    }
  });

  test("the four encodings of librdb's 24-member sorted set agree", () => {
    // Up to the sign of zero: a -0 score survives in a ziplist ("-0" as a string, kept by
    // Redis when it converts the ziplist), but small plain zsets become listpacks on load and
    // Redis stores an integral score as an integer there (double2ll(-0) = 0).
    expect(librdbZsets.length).toBe(4);
    const unsigned = (z: Record<string, number>) => Object.fromEntries(Object.entries(z).map(([m, s]) => [m, s === 0 ? 0 : s]));
    for (const z of librdbZsets.slice(1)) expect(unsigned(z)).toEqual(unsigned(librdbZsets[0]!));
  });

  test("corpus without the checksum check: the bad-CRC file reads", () => {
    const o = parseRdb(readFileSync(join(CORPUS, "librdb/invalid_chksum_v8.rdb")), { verifyChecksum: false });
    if (o.error) throw o.error;
    expect([val(o.rec, "x2"), val(o.rec, "etc"), val(o.rec, "x")]).toEqual(["y2", "etcy", "y"]);
  });

  test("corpus summary", () => {
    const checked = files.filter((f) => CHECKS[f] ?? CHECKS[sameAs(manifest.get(f)!) ?? ""]).length;
    console.log(`RDB corpus: ${read.length} files read, ${refused.length} refused on purpose, ${checked} with values checked against the manifest`);
    for (const line of refused) console.log(`  refused ${line}`);
    for (const line of read.filter((l) => l.includes("loader refuses"))) console.log(`  ${line}`);
    expect(read.length + refused.length).toBe(files.length);
  });
}
