// Users from files, side by side with redis-server 7.0.15: the ACL file (loaded at start, ACL
// LOAD, ACL SAVE; the file Replicant writes loads in redis-server and the other way round),
// `user` lines of a config file, their errors at start-up, and requirepass as the default
// user's password.

import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, replicantCommand, removeDir, tempDir } from "../helpers/servers.ts";
import { normalizeRules, startPair, type Pair } from "./acl-helpers.ts";

const pairs: Pair[] = [];
afterAll(async () => {
  for (const p of pairs) await p.stop();
});

async function pairWithFiles(files: Record<string, string>, extra: string[], configFile?: string): Promise<Pair> {
  const redisDir = tempDir("redis-acl-");
  const repDir = tempDir("replicant-acl-");
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(redisDir, name), text);
    writeFileSync(join(repDir, name), text);
  }
  const p = await startPair(extra, { redisDir, repDir, configFile });
  pairs.push(p);
  return p;
}

const HASH = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"; // sha256("secret")

const ACL_FILE = [
  "user default on nopass ~* &* +@all",
  "user alice on >alicepw ~cached:* &notify.* -@all +get +set +@hash",
  `user bob on #${HASH} %R~read:* %W~write:* resetchannels +@read +@write -@dangerous`,
  "user carol off nopass allkeys allchannels allcommands -debug",
  "user dave on >d1 >d2 ~x (+get ~sel:*) (+set %W~w &c)",
  "user eve on nopass resetkeys ~a ~b resetchannels &ch -@all +select|0 +config|get +client|id",
  "",
].join("\n");

test("aclfile: loaded at start, ACL SAVE writes Redis's format, each server loads the other's file", async () => {
  const p = await pairWithFiles({ "users.acl": ACL_FILE }, ["--aclfile", "users.acl"]);
  const cs = await p.conns();
  await p.same(cs, "ACL", "LIST");
  await p.same(cs, "ACL", "GETUSER", "dave");
  await p.same(cs, "ACL", "SETUSER", "frank", "on", ">f", "+@all", "-@admin", "~*", "(+get ~g)");
  await p.same(cs, "ACL", "DELUSER", "carol");
  await p.same(cs, "ACL", "SAVE");
  const redisFile = readFileSync(join(p.redis.dir, "users.acl"), "latin1");
  const repFile = readFileSync(join(p.rep.dir, "users.acl"), "latin1");
  expect(normalizeRules(repFile.replaceAll("\n", "\r\n"))).toBe(normalizeRules(redisFile.replaceAll("\n", "\r\n")));
  // Swap the files: each loads what the other wrote.
  writeFileSync(join(p.redis.dir, "users.acl"), repFile);
  writeFileSync(join(p.rep.dir, "users.acl"), redisFile);
  await p.same(cs, "ACL", "LOAD");
  await p.same(cs, "ACL", "LIST");
  const fresh = await p.conns("frank", "f");
  await p.same(fresh, "GET", "g");
  await p.same(fresh, "CONFIG", "GET", "port").then(() => undefined);
});

test("ACL LOAD: all or nothing, Redis's error texts; users replaced, their connections closed", async () => {
  const p = await pairWithFiles({ "users.acl": ACL_FILE }, ["--aclfile", "users.acl"]);
  const admin = await p.conns();
  const alice = await p.conns("alice", "alicepw");
  const defaultConn = await p.conns();
  const bad = [
    "user alice on >x\nuser alice on\n",
    "users alice on\n",
    "user\n",
    "user ok on\nbad line here\nuser ok2 badrule +nosuch -@nosuch\n",
    "user x on +nosuch1 +nosuch2 badrule badrule2\n",
    // ("user x on (+get" crashes redis-server 7.0: an unmatched selector after another rule.)
    "user x (+get\n",
    "user x on %~k\n",
    "user x on #abc\n",
    "user x on allkeys ~k\n",
    "# a comment\nuser x on\n",
    "user x\ton\n",
    "\n\n   \nuser  x on\n",
  ];
  for (const text of bad) {
    for (const s of [p.redis, p.rep]) writeFileSync(join(s.dir, "users.acl"), text);
    await p.same(admin, "ACL", "LOAD");
  }
  await p.same(admin, "ACL", "LIST");
  await p.same(alice, "GET", "cached:1");
  // A good file: alice's connection (her user object is replaced) is closed; default's kept.
  for (const s of [p.redis, p.rep]) writeFileSync(join(s.dir, "users.acl"), "user alice on >new ~* +@all\r\nuser zed off\n");
  await p.same(admin, "ACL", "LOAD");
  await p.same(alice, "GET", "cached:1");
  await p.same(defaultConn, "PING");
  await p.same(admin, "ACL", "LIST");
  // No such file.
  for (const s of [p.redis, p.rep]) removeDir(join(s.dir, "users.acl"));
  await p.same(admin, "ACL", "LOAD");
  await p.same(admin, "ACL", "LIST");
});

test("the ACL file without a default user: default is reset to its initial rules (requirepass lost)", async () => {
  const p = await pairWithFiles({ "users.acl": "user someone on nopass +@all\n" }, ["--aclfile", "users.acl", "--requirepass", "pw"]);
  const cs = await p.conns();
  await p.same(cs, "PING");
  await p.same(cs, "ACL", "LIST");
  await p.same(cs, "CONFIG", "GET", "requirepass");
});

test("user lines in the config file; requirepass is then overridden by a `user default` line", async () => {
  const conf = ["user default on >defpw ~* &* +@all", "user alice on >apw ~a* +get (+set ~b*)", "user bob on nopass +@read", "user carol", "requirepass ignored", ""].join("\n");
  const q = await pairWithFiles({ "redis.conf": conf }, [], "redis.conf");
  const cs = await q.conns();
  await q.same(cs, "PING");
  await q.same(cs, "AUTH", "ignored");
  await q.same(cs, "AUTH", "defpw");
  await q.same(cs, "ACL", "LIST");
  await q.same(cs, "CONFIG", "GET", "requirepass");
  const a = await q.conns("alice", "apw");
  await q.same(a, "GET", "a1");
  await q.same(a, "SET", "b1", "x");
  await q.same(a, "SET", "a1", "x");
  await q.same(a, "ACL", "WHOAMI");
  // ACL LOAD / SAVE need an ACL file.
  await q.same(cs, "ACL", "SAVE");
  await q.same(cs, "ACL", "LOAD");
});

/** Runs a server that must fail to start; its output. */
async function failedStart(cmd: string[], cwd: string): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 10000);
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  expect(await proc.exited).toBe(1);
  return out + err;
}

/** The lines of a failed start that say why: log messages without pid and time, config errors. */
function reasons(output: string): string[] {
  return output
    .split("\n")
    .map((l) => l.replace(/^\d+:[A-Z] \d\d \w{3} \d{4} [\d:.]+ [.\-*#] /, ""))
    .filter((l) => /^(>>>|Error|Critical|Aborting|Configuring|Spaces|Bad directive)/.test(l));
}

test("start-up errors: bad user lines, users and an ACL file together, a bad ACL file, bad rules at load", async () => {
  const cases: Array<{ conf: string; acl?: string; args?: string[] }> = [
    { conf: "user alice on badrule" },
    { conf: "user alice (+get" },
    { conf: "user alice on (+get" },
    { conf: 'user alice on "(+get ~x)" %~x' },
    { conf: "user alice on\nuser alice off" },
    { conf: "user alice on +nosuchcmd" },
    { conf: 'user "al ice" on' },
    { conf: "user" },
    { conf: "user alice on", args: ["--aclfile", "users.acl"], acl: "user x on\n" },
    { conf: "port 0", args: ["--aclfile", "users.acl"], acl: "user x on +nosuch\nuser x on\n" },
    { conf: "port 0", args: ["--aclfile", "missing.acl"] },
  ];
  for (const c of cases) {
    const outs: string[][] = [];
    for (const bin of [["redis-server"], replicantCommand()]) {
      const dir = tempDir("acl-start-");
      writeFileSync(join(dir, "t.conf"), c.conf + "\n");
      if (c.acl) writeFileSync(join(dir, "users.acl"), c.acl);
      const port = freePort();
      outs.push(reasons(await failedStart([...bin, "t.conf", "--port", String(port), "--save", "", ...(c.args ?? [])], dir)));
      removeDir(dir);
    }
    expect(outs[0]!.length).toBeGreaterThan(0);
    expect({ conf: c.conf, reasons: outs[1] }).toEqual({ conf: c.conf, reasons: outs[0]! });
  }
});

test("requirepass: the default user's password; CONFIG SET requirepass changes it", async () => {
  const p = await pairWithFiles({}, ["--requirepass", "pw1"]);
  const cs = await p.conns();
  await p.same(cs, "PING");
  await p.same(cs, "AUTH", "nope");
  await p.same(cs, "AUTH", "pw1");
  await p.same(cs, "ACL", "LIST");
  await p.same(cs, "ACL", "GETUSER", "default");
  await p.same(cs, "CONFIG", "SET", "requirepass", "pw2");
  await p.same(cs, "CONFIG", "GET", "requirepass");
  await p.same(cs, "ACL", "LIST");
  const c2 = await p.conns();
  await p.same(c2, "AUTH", "pw1");
  await p.same(c2, "AUTH", "default", "pw2");
  // A password added by ACL SETUSER is not requirepass's: CONFIG GET keeps the old text.
  await p.same(cs, "ACL", "SETUSER", "default", ">pw3");
  await p.same(cs, "CONFIG", "GET", "requirepass");
  const c3 = await p.conns();
  await p.same(c3, "AUTH", "pw3");
  await p.same(cs, "CONFIG", "SET", "requirepass", "");
  await p.same(cs, "ACL", "LIST");
  const c4 = await p.conns();
  await p.same(c4, "PING");
  await p.same(c4, "AUTH", "x");
  expect(String(await p.rep.call("CLIENT", "LIST"))).toContain("user=default");
});
