// `replicant rdb check` and `replicant rdb export`, run as a user would (the real command line,
// as a child process), on dumps written by redis-server here and on files of the corpus.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unpackMultiple } from "msgpackr";
import { removeDir, replicantCommand, startRedis, tempDir } from "../helpers/servers.ts";
import { sharedPath } from "../helpers/shared.ts";
import { checkRdbFile, formatCheckReport } from "../../src/rdb/check.ts";

const CORPUS = sharedPath("corpus/rdb", "`rdb check` / `rdb export` of RDB corpus files (the dumps written here are still checked)");
const corpus = (f: string) => join(CORPUS!, f);

function run(...args: string[]): { code: number; stdout: string; stderr: string; bytes: Buffer } {
  const p = Bun.spawnSync([...replicantCommand(), "rdb", ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString("utf8"), stderr: p.stderr.toString("utf8"), bytes: Buffer.from(p.stdout) };
}

let dir = "";
let dump = "";
const BINARY_KEY = "bin\x00\xff\xfekey";
const BINARY_VALUE = "\x80\x81\x82 not utf-8 \xc3";

beforeAll(async () => {
  dir = tempDir("rdb-cli-");
  const server = await startRedis([], { dir });
  try {
    const c = await server.client();
    await c.pipeline([
      ["SET", "greeting", Buffer.from("héllo wörld", "utf8")],
      ["SET", BINARY_KEY, BINARY_VALUE],
      ["SET", "ttl", "soon", "PX", 3_600_000],
      ["RPUSH", "list", "a", "b", "3"],
      ["SADD", "set", "x", "y"],
      ["ZADD", "zset", 1.5, "one", "inf", "top", "-inf", "bottom"],
      ["HSET", "hash", "f", "v", "n", "1"],
      ["XADD", "stream", "1-1", "k", "v"],
      ["XGROUP", "CREATE", "stream", "grp", "0"],
      ["XREADGROUP", "GROUP", "grp", "alice", "STREAMS", "stream", ">"],
      ["SELECT", "5"],
      ["SET", "user:1", "in db5"],
      ["SET", "user:2", "in db5 too"],
      ["SET", "other", "x"],
      ["SELECT", "0"],
    ]);
    await c.call("FUNCTION", "LOAD", "#!lua name=clilib\nredis.register_function('clifn', function() return 1 end)");
    expect(await c.call("SAVE")).toBe("OK");
  } finally {
    await server.stop();
  }
  dump = join(dir, "dump.rdb");
});

afterAll(() => removeDir(dir));

describe("rdb check", () => {
  test("a sound dump: version, AUX, keys per db and type, expiries, functions, checksum; exit 0", () => {
    const r = run("check", dump);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("RDB version 10");
    expect(r.stdout).toContain("AUX FIELD redis-ver = '7.0.15'");
    expect(r.stdout).toContain("[db 0] 8 keys, 1 with an expiry (0 already expired)");
    expect(r.stdout).toContain("[db 0] types: string 3, list 1, set 1, zset 1, hash 1, stream 1");
    expect(r.stdout).toContain("[db 5] 3 keys, 0 with an expiry");
    expect(r.stdout).toContain("1 function libraries: clilib");
    expect(r.stdout).toContain("Checksum OK");
    expect(r.stdout).toContain("[info] 11 keys in 2 databases");
    expect(r.stdout.trimEnd().endsWith("RDB looks OK")).toBe(true);
  });

  test("a truncated dump: exit 1 and one line naming the offset", () => {
    const data = readFileSync(dump);
    const cut = join(dir, "cut.rdb");
    writeFileSync(cut, data.subarray(0, Math.floor(data.length / 2)));
    const r = run("check", cut);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/^rdb check: RDB truncated: the input ended while reading .* \(at offset \d+\)$/);
  });

  test("a wrong checksum: exit 1; --no-checksum reads it", () => {
    const data = Buffer.from(readFileSync(dump));
    data[data.length - 1] = data[data.length - 1]! ^ 0xff;
    const bad = join(dir, "badcrc.rdb");
    writeFileSync(bad, data);
    const r = run("check", bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rdb check: RDB checksum mismatch: .*\(at offset \d+\)\n$/);
    const r2 = run("check", "--no-checksum", bad);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toContain("Checksum not checked");
  });

  if (CORPUS) {
    test("corpus files: a corrupt ziplist, a future version, a zero checksum, an AOF tail, a duplicated key, a pre-GA module", () => {
      const corrupt = run("check", corpus("redis/corrupt_ziplist.rdb"));
      expect(corrupt.code).toBe(1);
      expect(corrupt.stderr).toMatch(/^rdb check: corrupt RDB in the record at offset 470 \(hash_ziplist key 'key:000000000091'\): ziplist: .*\n$/);
      // redis-check-rdb says "16 keys read": it counts the key whose value is broken.
      expect(corrupt.stdout).toContain("[info] 15 keys read before the error");
      const future = run("check", corpus("librdb/future_v19.rdb"));
      expect(future.code).toBe(1);
      expect(future.stderr).toBe("rdb check: unsupported RDB version 99 (this reader handles 1 to 12) (at offset 0)\n");
      const zero = run("check", corpus("librdb/script.rdb"));
      expect(zero.code).toBe(0);
      expect(zero.stdout).toContain("Checksum not checked: the file carries 0");
      const aof = run("check", corpus("redis/rdb-preamble.aof"));
      expect(aof.code).toBe(0);
      expect(aof.stdout).toContain("52 bytes after the end of the RDB (ignored)");
      const old = run("check", corpus("hulkrdbtools/dump2.2.rdb"));
      expect(old.code).toBe(0);
      expect(old.stdout).toContain("No checksum (RDB version < 5)");
      const dup = run("check", corpus("rdbcli/12.rdb"));
      expect(dup.code).toBe(1);
      expect(dup.stderr).toBe("rdb check: RDB has duplicated key 'key1' in DB 0 (redis-server refuses to load such a file) (at offset 102314)\n");
      const module = run("check", corpus("replicator/module.rdb"));
      expect(module.code).toBe(1);
      expect(module.stderr).toContain("module 'hellotype' not supported");
    });
  }

  test("the duplicate check keeps fingerprints only: colliding ones are read again and told apart", () => {
    // A mask of 3 bits makes nearly every key a suspect: the second pass must find no
    // duplicate in a sound dump, and the report must be the one of a plain check.
    const plain = checkRdbFile(dump, { now: 1 });
    const colliding = checkRdbFile(dump, { now: 1, fingerprintMask: 7 });
    expect(colliding.error).toBeNull();
    expect(formatCheckReport(colliding)).toEqual(formatCheckReport(plain));
    if (CORPUS) {
      const dup = checkRdbFile(corpus("rdbcli/12.rdb"), { fingerprintMask: 7 });
      expect(dup.error?.message).toBe("RDB has duplicated key 'key1' in DB 0 (redis-server refuses to load such a file) (at offset 102314)");
    }
  });

  test("-q: no progress lines; without it none either for a short run on a pipe", () => {
    const quiet = run("check", "-q", dump);
    const normal = run("check", dump);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
    expect(normal.stderr).toBe("");
    expect(quiet.stdout).toBe(normal.stdout);
  });

  test("a missing file: exit 1", () => {
    const r = run("check", join(dir, "nope.rdb"));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`rdb check: cannot open ${join(dir, "nope.rdb")}: no such file\n`);
  });
});

/** A JSON byte string back to latin1 bytes. */
function bytes(v: unknown): string {
  if (typeof v === "string") return Buffer.from(v, "utf8").toString("latin1");
  return Buffer.from((v as { base64: string }).base64, "base64").toString("latin1");
}

/** A msgpack byte string back to latin1 bytes. */
function mpBytes(v: unknown): string {
  if (typeof v === "string") return Buffer.from(v, "utf8").toString("latin1");
  return Buffer.from(v as Uint8Array).toString("latin1");
}

describe("rdb export", () => {
  test("jsonl: every key with db, type, value and expiry; non-UTF-8 bytes as base64", () => {
    const r = run("export", dump);
    expect(r.code).toBe(0);
    const records = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(records.length).toBe(11);
    const by = new Map(records.map((x) => [`${x.db}/${bytes(x.key)}`, x]));
    expect(by.get("0/greeting").value).toBe("héllo wörld");
    const bin = by.get(`0/${BINARY_KEY}`);
    expect(bin.key).toEqual({ base64: Buffer.from(BINARY_KEY, "latin1").toString("base64") });
    expect(bytes(bin.value)).toBe(BINARY_VALUE);
    expect(by.get("0/ttl").expire_ms).toBeGreaterThan(Date.now());
    expect(by.get("0/greeting").expire_ms).toBeNull();
    expect(by.get("0/list")).toEqual({ db: 0, key: "list", type: "list", expire_ms: null, value: ["a", "b", "3"] });
    expect(by.get("0/set").value.sort()).toEqual(["x", "y"]);
    expect(by.get("0/zset").value).toEqual([["bottom", "-inf"], ["one", 1.5], ["top", "inf"]]);
    expect(Object.fromEntries(by.get("0/hash").value)).toEqual({ f: "v", n: "1" });
    const st = by.get("0/stream").value;
    expect(st.entries).toEqual([["1-1", ["k", "v"]]]);
    expect(st.groups[0].name).toBe("grp");
    expect(st.groups[0].pending.map((p: unknown[]) => p.slice(0, 2))).toEqual([["1-1", "alice"]]);
    expect(st.groups[0].consumers[0].name).toBe("alice");
    expect(by.get("5/user:1").value).toBe("in db5");
  });

  test("--db and --match filter; --out writes a file", () => {
    const r = run("export", dump, "--db", "5", "--match", "user:*");
    expect(r.code).toBe(0);
    const keys = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(keys.map((k) => [k.db, k.key]).sort()).toEqual([
      [5, "user:1"],
      [5, "user:2"],
    ]);
    const out = join(dir, "out.jsonl");
    const w = run("export", dump, "--match", "l?st", "--out", out);
    expect(w.code).toBe(0);
    expect(w.stdout).toBe("");
    expect(w.stderr).toBe(`rdb export: 1 of 11 keys written to ${out}\n`);
    expect(JSON.parse(readFileSync(out, "utf8")).key).toBe("list");
  });

  test("msgpack: the same records, bytes as bin", () => {
    const r = run("export", dump, "--format", "msgpack");
    expect(r.code).toBe(0);
    const records = unpackMultiple(r.bytes) as Array<Record<string, unknown>>;
    expect(records.length).toBe(11);
    const by = new Map(records.map((x) => [`${x.db}/${mpBytes(x.key)}`, x]));
    expect(mpBytes(by.get(`0/${BINARY_KEY}`)!.value)).toBe(BINARY_VALUE);
    expect(by.get(`0/${BINARY_KEY}`)!.key).toBeInstanceOf(Uint8Array);
    expect(by.get("0/zset")!.value).toEqual([["bottom", -Infinity], ["one", 1.5], ["top", Infinity]]);
    expect(by.get("0/greeting")!.value).toBe("héllo wörld");
  });

  if (CORPUS) {
    test("corpus: hash field TTLs, module values, streams with deleted entries", () => {
      const h = JSON.parse(run("export", corpus("hdt3213/hash_with_hfe.rdb")).stdout);
      expect(h.value).toContainEqual(["F1", "V1", 2755482424661]);
      expect(h.value).toContainEqual(["F4", "V4"]);
      const m = JSON.parse(run("export", corpus("librdb/module.rdb")).stdout);
      expect(m).toMatchObject({ key: "key1", type: "module", value: { module: "test__rdb", encver: 1 } });
      expect(typeof m.value.payload.base64).toBe("string");
      const lines = run("export", corpus("replicator/dump-stream1.rdb"), "--match", "trim").stdout.trimEnd().split("\n");
      const trim = JSON.parse(lines[0]!).value;
      expect(trim.entries.map((e: [string]) => e[0])).not.toContain("1528512149341-0");
    });
  }

  if (CORPUS) {
    test("a broken file: the records before the problem, then exit 1 with the reason", () => {
      const r = run("export", corpus("redis/corrupt_ziplist.rdb"));
      expect(r.code).toBe(1);
      expect(r.stdout.trimEnd().split("\n").length).toBe(15);
      expect(r.stderr).toMatch(/^rdb export: corrupt RDB in the record at offset 470 .*\n$/);
    });
  }

  if (CORPUS) {
    test("the reader of the output goes away (| head): a quiet exit 0", async () => {
      const proc = Bun.spawn([...replicantCommand(), "rdb", "export", corpus("replicator/dumpV8.rdb")], { stdout: "pipe", stderr: "pipe" });
      const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      await reader.cancel();
      expect(await proc.exited).toBe(0);
      expect(await new Response(proc.stderr as ReadableStream<Uint8Array>).text()).toBe("");
    });
  }

  test("an output file that cannot be written, a selection of nothing: a clear message, exit 1", () => {
    const out = run("export", dump, "--out", "/nonexistent/dir/x.jsonl");
    expect(out.code).toBe(1);
    expect(out.stderr).toBe("rdb export: cannot write /nonexistent/dir/x.jsonl: No such file or directory\n");
    const db = run("export", dump, "--db", "99");
    expect(db.code).toBe(1);
    expect(db.stderr).toMatch(/^rdb export: no key selected by --db 99 \(the file has \d+ keys\)\n$/);
    const match = run("export", dump, "--match", "no-such-key-*");
    expect(match.code).toBe(1);
    expect(match.stderr).toContain("no key selected by --match 'no-such-key-*'");
  });

  test("bad options: a clear message", () => {
    const r = run("export", dump, "--format", "xml");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("jsonl or msgpack");
  });
});
