import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { argsToConfigText, Config, ConfigError, configFromArgs, loadConfigText, parseMemory } from "../../src/config/config.ts";
import { splitArgs } from "../../src/config/split-args.ts";
import { globMatch } from "../../src/common/glob.ts";

describe("config", () => {
  test("defaults are Redis 7.0.15's", () => {
    const c = new Config();
    expect(c.num("port")).toBe(6379);
    expect(c.num("repl-timeout")).toBe(60);
    expect(c.str("repl-diskless-load")).toBe("disabled");
    expect(c.bool("replica-read-only")).toBe(true);
    expect(c.num("repl-backlog-size")).toBe(1048576);
    expect(c.savePoints).toEqual([
      { seconds: 3600, changes: 1 },
      { seconds: 300, changes: 100 },
      { seconds: 60, changes: 10000 },
    ]);
    expect(c.replicaOf).toBeNull();
  });

  test("command-line options as redis-server takes them", () => {
    const c = configFromArgs(["--port", "6380", "--replicaof", "10.0.0.1", "6379", "--repl-diskless-load", "swapdb", "--save", "", "--masterauth", "s3cr3t"]);
    expect(c.num("port")).toBe(6380);
    expect(c.replicaOf).toEqual({ host: "10.0.0.1", port: 6379 });
    expect(c.str("repl-diskless-load")).toBe("swapdb");
    expect(c.savePoints).toEqual([]);
    expect(c.str("masterauth")).toBe("s3cr3t");
    expect(argsToConfigText(["--save", "--port", "1"]).text).toBe('save ""\nport "1"');
  });

  test("a redis.conf file with aliases, units, quotes, includes; options override it", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    writeFileSync(join(dir, "inc.conf"), "hz 20\n");
    writeFileSync(
      join(dir, "redis.conf"),
      `# comment\nslaveof master.local 7000\nrepl-backlog-size 10mb\nmaxmemory 1gb\nslave-read-only no\nrequirepass "pa ss"\nsave 900 1\nsave 300 10\ninclude ${join(dir, "inc.conf")}\nclient-output-buffer-limit replica 256mb 64mb 60\n`,
    );
    const c = configFromArgs([join(dir, "redis.conf"), "--port", "7001"]);
    expect(c.replicaOf).toEqual({ host: "master.local", port: 7000 });
    expect(c.num("repl-backlog-size")).toBe(10 * 1024 * 1024);
    expect(c.num("maxmemory")).toBe(1024 ** 3);
    expect(c.bool("replica-read-only")).toBe(false);
    expect(c.str("requirepass")).toBe("pa ss");
    expect(c.savePoints).toEqual([
      { seconds: 900, changes: 1 },
      { seconds: 300, changes: 10 },
    ]);
    expect(c.num("hz")).toBe(20);
    expect(c.num("port")).toBe(7001);
    expect(c.outputBufferLimits.replica).toEqual({ hard: 268435456, soft: 67108864, softSeconds: 60 });
    expect(c.configFile).toBe(join(dir, "redis.conf"));
  });

  const bad: Array<[string, string]> = [
    ["foo bar", "Bad directive or wrong number of arguments"],
    ["port abc", "argument couldn't be parsed into an integer"],
    ["port 70000", "argument must be between 0 and 65535 inclusive"],
    ["replica-read-only maybe", "argument must be 'yes' or 'no'"],
    ["repl-diskless-load sometimes", "argument(s) must be one of the following: disabled, on-empty-db, swapdb"],
    ["maxmemory lots", "argument must be a memory value"],
    ['requirepass "unbalanced', "Unbalanced quotes in configuration line"],
  ];
  for (const [line, message] of bad) {
    test(`rejects '${line}'`, () => {
      let err: unknown;
      try {
        loadConfigText(new Config(), `# first\n${line}\n`);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe(message);
      expect((err as ConfigError).lineNumber).toBe(2);
    });
  }

  test("memory units as memtoull", () => {
    expect(parseMemory("1k")).toBe(1000);
    expect(parseMemory("1KB")).toBe(1024);
    expect(parseMemory("2mb")).toBe(2 * 1048576);
    expect(parseMemory("3g")).toBe(3e9);
    expect(parseMemory("-1")).toBeNull();
    expect(parseMemory("1tb")).toBeNull();
  });

  test("CONFIG GET formatting and patterns", () => {
    const c = new Config();
    const get = (p: string) => c.getMatching([p], (a, b) => globMatch(a, b, true));
    expect(get("maxmemory")).toEqual([["maxmemory", "0"]]);
    expect(get("repl-diskless-*").map((x) => x[0]).sort()).toEqual(["repl-diskless-load", "repl-diskless-sync", "repl-diskless-sync-delay", "repl-diskless-sync-max-replicas"]);
    expect(get("slave-read-only")).toEqual([["slave-read-only", "yes"]]);
    expect(get("client-output-buffer-limit")[0]![1]).toBe("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
  });

  test("CONFIG SET rules: immutable, validation", () => {
    const c = new Config();
    expect(c.apply("databases", ["4"], false)).toBe("can't set immutable config");
    expect(c.apply("repl-timeout", ["0"], false)).toBe("argument must be between 1 and 2147483647 inclusive");
    expect(c.apply("repl-timeout", ["5"], false)).toBeNull();
    expect(c.num("repl-timeout")).toBe(5);
  });
});

describe("splitArgs (sdssplitargs)", () => {
  test("quoting rules", () => {
    expect(splitArgs(`set "a b" 'c d' e\\x41`)).toEqual(["set", "a b", "c d", "e\\x41"]);
    expect(splitArgs(`"\\x41\\n\\t" 'it\\'s'`)).toEqual(["A\n\t", "it's"]);
    expect(splitArgs(`""`)).toEqual([""]);
    expect(splitArgs(`"abc"def`)).toBeNull();
    expect(splitArgs(`"abc`)).toBeNull();
    expect(splitArgs(`   `)).toEqual([]);
  });
});

describe("glob matching (stringmatchlen)", () => {
  const cases: Array<[string, string, boolean]> = [
    ["*", "anything", true],
    ["h?llo", "hello", true],
    ["h?llo", "hllo", false],
    ["h*llo", "heeeello", true],
    ["h[ae]llo", "hallo", true],
    ["h[ae]llo", "hillo", false],
    ["h[^e]llo", "hallo", true],
    ["h[^e]llo", "hello", false],
    ["h[a-b]llo", "hbllo", true],
    ["h\\*llo", "h*llo", true],
    ["h\\*llo", "hello", false],
    ["user:*:name", "user:42:name", true],
    ["*a*b*c*", "xxaxxbxxcxx", true],
    ["a[", "a[", false],
    ["", "", true],
  ];
  for (const [p, s, m] of cases) test(`${p} ~ ${s} = ${m}`, () => expect(globMatch(p, s)).toBe(m));
});
