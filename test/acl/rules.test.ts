// ACL rules side by side with redis-server 7.0.15: ACL SETUSER with many rule strings (and the
// errors of bad ones), then ACL GETUSER / ACL LIST / ACL USERS / ACL DRYRUN must read back
// byte for byte as Redis's; ACL CAT, WHOAMI, GENPASS, HELP, DELUSER.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { parse, show, startPair, type Pair } from "./acl-helpers.ts";

let pair: Pair;
beforeAll(async () => {
  pair = await startPair();
});
afterAll(async () => {
  await pair?.stop();
});

/** Rule sets that must be accepted; each builds a fresh user. */
const GOOD_RULES: string[][] = [
  [],
  ["on"],
  ["off"],
  ["on", ">secret"],
  ["on", ">a", ">b", ">a"],
  ["on", ">a", ">b", "<a"],
  ["on", "#" + "a".repeat(64)],
  ["on", "#" + "0123456789abcdef".repeat(4), "!" + "0123456789abcdef".repeat(4)],
  ["on", ">x", "nopass"],
  ["on", "nopass", ">x"],
  ["on", ">x", "resetpass"],
  ["nopass", "resetpass"],
  ["allkeys"],
  ["~*"],
  ["~foo", "~bar:*", "~foo"],
  ["%R~foo", "%W~bar", "%RW~baz", "%WR~qux"],
  ["%R~foo", "%W~foo"],
  ["%r~lower", "%w~x"],
  ["%R"],
  ["~"],
  ["~foo", "resetkeys", "~bar"],
  ["allkeys", "resetkeys"],
  ["&chan", "&other*", "&chan"],
  ["allchannels"],
  ["&*"],
  ["&x", "resetchannels"],
  ["allchannels", "resetchannels", "&y"],
  ["+@all"],
  ["allcommands"],
  ["-@all"],
  ["nocommands"],
  ["+get"],
  ["+GET", "+Set"],
  ["+@all", "-get"],
  ["+@all", "-@dangerous"],
  ["+@all", "-@dangerous", "+flushdb"],
  ["+@read"],
  ["+@read", "-@slow"],
  ["+@write", "+@read", "-@admin"],
  ["+@hash"],
  ["+@hash", "-hset"],
  ["+hset", "+hget", "+hdel", "+hlen", "+hexists", "+hkeys", "+hvals", "+hgetall", "+hincrby", "+hmget", "+hmset", "+hsetnx", "+hstrlen", "+hscan", "+hrandfield", "+hincrbyfloat"],
  ["+@set", "+@sortedset", "+@list"],
  ["+@string", "+@bitmap", "+@hyperloglog"],
  ["+@geo", "+@stream", "+@pubsub"],
  ["+@fast"],
  ["+@slow"],
  ["+@blocking"],
  ["+@connection", "+@transaction", "+@scripting"],
  ["+@keyspace", "-del"],
  ["+@admin"],
  ["+@all", "-@fast"],
  ["+@all", "-@slow", "+@fast"],
  ["+config"],
  ["+config|get"],
  ["+config", "-config|set"],
  ["+@all", "-config|set", "-client|kill"],
  ["+client|id", "+client|setname", "+client|getname"],
  ["+@all", "-client"],
  ["+@all", "-client", "+client|id"],
  ["+select|0"],
  ["+select|0", "+select|1", "+SELECT|0"],
  ["+debug|object"],
  ["+@all", "-select", "+select|0"],
  ["+select|0", "+select"],
  ["+select|0", "-select"],
  ["+select|0", "+@all"],
  ["+monitor", "+cluster|info"],
  ["+acl"],
  ["+acl|whoami", "+acl|cat"],
  ["-@all", "+@pubsub", "-publish"],
  ["on", ">p", "~k*", "&c*", "+@all", "-@dangerous", "(+get ~x*)"],
  ["(+get ~foo)"],
  ["(+get ~foo)", "(+set %W~bar &c)"],
  ["(", "+get", "~foo", ")"],
  ["(+get", "~foo)"],
  ["(+get", "~foo)", "(+set)"],
  ["(~x +@all)", "clearselectors"],
  ["()"],
  ["( +get )"],
  ["(%R~r* %W~w* +@read +@write)"],
  ["(allkeys allchannels allcommands)"],
  ["(&a &b resetchannels &c)"],
  ["on", ">p", "(+get)", "reset"],
  ["reset"],
  ["sanitize-payload"],
  ["skip-sanitize-payload"],
  ["skip-sanitize-payload", "sanitize-payload"],
  ["on", "off", "on"],
  [""],
  ["on", "", "+get"],
  ["+@all", "-@all", "+get"],
  ["+@read", "+@write", "+@admin", "+@dangerous", "+@slow", "+@fast", "+@blocking", "+@pubsub", "+@connection", "+@transaction", "+@scripting", "+@keyspace"],
  ["+@all", "-@keyspace", "-@read", "-@write"],
  ["+@all", "-@string", "-@hash", "-@list", "-@set", "-@sortedset"],
];

/** Rules Redis refuses: the error text must be its own, and the user must not change. */
const BAD_RULES: string[][] = [
  ["badrule"],
  ["+nosuchcommand"],
  ["-nosuchcommand"],
  ["+@nosuchcategory"],
  ["-@nosuchcategory"],
  ["+"],
  ["-"],
  ["+@"],
  ["+get|"],
  ["+config|nosuch"],
  ["+config|get|x"],
  ["-config|get|x"],
  ["+nosuch|x"],
  ["-select|0"],
  ["allkeys", "~foo"],
  ["~*", "%R~foo"],
  ["allchannels", "&foo"],
  ["&*", "&bar"],
  ["~foo bar"],
  ["&foo\tbar"],
  ["%"],
  ["%~foo"],
  ["%X~foo"],
  ["%RR~foo"],
  ["%RWR~foo"],
  ["%R~foo bar"],
  ["#abc"],
  ["#" + "A".repeat(64)],
  ["#" + "g".repeat(64)],
  ["!abc"],
  ["<nosuchpass"],
  ["!" + "b".repeat(64)],
  ["(+get"],
  ["on", "(+get ~x", "+set"],
  ["(badrule)"],
  ["(+nosuch)"],
  ["(allkeys ~foo)"],
  ["on", ">ok", "badrule"],
  ["ON!"],
];

test("ACL SETUSER / GETUSER / LIST round trips over many rule strings", async () => {
  const cs = await pair.conns();
  let i = 0;
  for (const rules of GOOD_RULES) {
    const name = `user${i++}`;
    expect(await pair.same(cs, "ACL", "SETUSER", name, ...rules)).toBe("+OK\r\n");
    await pair.same(cs, "ACL", "GETUSER", name);
    await pair.same(cs, "ACL", "DRYRUN", name, "GET", "foo");
    await pair.same(cs, "ACL", "DRYRUN", name, "SET", "bar", "1");
    await pair.same(cs, "ACL", "DRYRUN", name, "PUBLISH", "chan", "m");
    await pair.same(cs, "ACL", "DRYRUN", name, "SELECT", "0");
    await pair.same(cs, "ACL", "DRYRUN", name, "CONFIG", "GET", "x");
  }
  await pair.same(cs, "ACL", "LIST");
  await pair.same(cs, "ACL", "USERS");
  // In RESP3 too (GETUSER's flags are a set).
  await pair.both(cs, "HELLO", "3");
  for (let j = 0; j < GOOD_RULES.length; j += 7) await pair.same(cs, "ACL", "GETUSER", `user${j}`);
  await pair.same(cs, "ACL", "GETUSER", "user80");
  await pair.same(cs, "ACL", "GETUSER", "nosuchuser");
  await pair.both(cs, "HELLO", "2");
  await pair.same(cs, "ACL", "DELUSER", ...Array.from({ length: GOOD_RULES.length }, (_, k) => `user${k}`));
});

test("rules applied one call after another build the same user", async () => {
  const cs = await pair.conns();
  for (const rules of GOOD_RULES) {
    for (const r of rules) await pair.same(cs, "ACL", "SETUSER", "stepwise", r);
    await pair.same(cs, "ACL", "GETUSER", "stepwise");
  }
  await pair.same(cs, "ACL", "LIST");
  await pair.same(cs, "ACL", "DELUSER", "stepwise");
});

test("bad rules: Redis's errors, and the user is left as it was", async () => {
  const cs = await pair.conns();
  await pair.same(cs, "ACL", "SETUSER", "keeper", "on", ">pw", "~k", "+get");
  for (const rules of BAD_RULES) {
    const r = await pair.same(cs, "ACL", "SETUSER", "keeper", ...rules);
    expect(r.startsWith("-ERR")).toBe(true);
    await pair.same(cs, "ACL", "GETUSER", "keeper");
    // A new user is not created by a failed SETUSER.
    await pair.same(cs, "ACL", "SETUSER", "fresh", ...rules);
    await pair.same(cs, "ACL", "GETUSER", "fresh");
  }
  await pair.same(cs, "ACL", "SETUSER", "has space");
  await pair.same(cs, "ACL", "SETUSER", "nul\0name");
  await pair.same(cs, "ACL", "SETUSER", "tab\tname");
  await pair.same(cs, "ACL", "SETUSER", "x", ">multi\nline", "badrule\r\n");
  await pair.same(cs, "ACL", "USERS");
});

test("ACL CAT: the categories, and each one's commands (Redis's order varies: compared as sets)", async () => {
  const cs = await pair.conns();
  await pair.same(cs, "ACL", "CAT");
  for (const cat of show(parse(await cs[0].send("ACL", "CAT"))) as string[]) {
    const [a, b] = await pair.both(cs, "ACL", "CAT", cat);
    expect({ cat, names: (show(parse(b)) as string[]).sort() }).toEqual({ cat, names: (show(parse(a)) as string[]).sort() });
  }
  const [a, b] = await pair.both(cs, "ACL", "CAT", "HASH");
  expect((show(parse(b)) as string[]).sort()).toEqual((show(parse(a)) as string[]).sort());
  await pair.same(cs, "ACL", "CAT", "nosuch");
  await pair.same(cs, "ACL", "CAT", "x".repeat(300));
  await pair.same(cs, "ACL", "CAT", "read", "extra");
});

test("WHOAMI, USERS, HELP, GENPASS, LOG arguments, DELUSER, GETUSER arity", async () => {
  const cs = await pair.conns();
  await pair.same(cs, "ACL", "WHOAMI");
  await pair.same(cs, "ACL", "USERS");
  await pair.same(cs, "ACL", "HELP");
  await pair.same(cs, "acl", "help");
  await pair.same(cs, "ACL", "NOSUCH");
  await pair.same(cs, "ACL");
  await pair.same(cs, "ACL", "WHOAMI", "x");
  await pair.same(cs, "ACL", "GETUSER");
  await pair.same(cs, "ACL", "GETUSER", "a", "b");
  await pair.same(cs, "ACL", "SETUSER");
  await pair.same(cs, "ACL", "DELUSER");
  await pair.same(cs, "ACL", "DRYRUN", "default");
  for (const bits of ["1", "4", "5", "128", "255", "256", "4096"]) {
    const [a, b] = await pair.both(cs, "ACL", "GENPASS", bits);
    expect(b.length).toBe(a.length);
    expect(show(parse(b))).toMatch(/^[0-9a-f]+$/);
  }
  const [a, b] = await pair.both(cs, "ACL", "GENPASS");
  expect(b.length).toBe(a.length);
  for (const bad of ["0", "-1", "4097", "abc", "99999999999999999999", "1.5"]) await pair.same(cs, "ACL", "GENPASS", bad);
  await pair.same(cs, "ACL", "GENPASS", "1", "2");
  await pair.same(cs, "ACL", "LOG", "abc");
  await pair.same(cs, "ACL", "LOG", "1", "2");
  await pair.same(cs, "ACL", "LOG", "RESET");
  await pair.same(cs, "ACL", "LOG", "-5");
  await pair.same(cs, "ACL", "LOG", "0");
  await pair.same(cs, "ACL", "DELUSER", "default");
  await pair.same(cs, "ACL", "DELUSER", "nosuch", "default");
  await pair.same(cs, "ACL", "SETUSER", "d1");
  await pair.same(cs, "ACL", "SETUSER", "d2");
  await pair.same(cs, "ACL", "DELUSER", "d1", "d2", "d1", "nosuch");
  await pair.same(cs, "ACL", "LOAD");
  await pair.same(cs, "ACL", "SAVE");
});

test("ACL DRYRUN: commands, keys, channels, first args, selectors, arity, unknown users and commands", async () => {
  const cs = await pair.conns();
  await pair.same(cs, "ACL", "SETUSER", "dry", "on", "nopass", "+get", "+set", "+publish", "+subscribe", "+psubscribe", "+select|1", "+config|get", "%R~r*", "%W~w*", "~rw*", "&ch*", "(+hset ~h*)");
  const cases: string[][] = [
    ["get", "r1"],
    ["get", "w1"],
    ["get", "rw1"],
    ["set", "w1", "x"],
    ["set", "r1", "x"],
    ["set", "w1", "x", "GET"],
    ["set", "rw1", "x", "GET"],
    ["publish", "ch1", "m"],
    ["publish", "other", "m"],
    ["subscribe", "ch1", "ch2"],
    ["subscribe", "ch1", "nope"],
    ["psubscribe", "ch*"],
    ["psubscribe", "ch1"],
    ["select", "1"],
    ["select", "2"],
    ["config", "get", "x"],
    ["config", "set", "x", "y"],
    ["hset", "h1", "f", "v"],
    ["hset", "r1", "f", "v"],
    ["hget", "h1", "f"],
    ["del", "r1"],
    ["get"],
    ["get", "a", "b"],
    ["nosuchcmd", "x"],
    ["config", "nosuch"],
    ["config"],
    ["auth", "x"],
    ["monitor"],
  ];
  for (const c of cases) await pair.same(cs, "ACL", "DRYRUN", "dry", ...c);
  await pair.same(cs, "ACL", "DRYRUN", "nosuchuser", "get", "x");
});

test("commands newer than 7.0 (hash field expiry, served for 7.4 masters) are in no category: +@all or by name", async () => {
  const c = await pair.rep.client();
  expect(await c.call("ACL", "SETUSER", "hfe", "+@hash")).toBe("OK");
  expect(await c.call("ACL", "DRYRUN", "hfe", "HEXPIRE", "k", "10", "FIELDS", "1", "f")).toBe("This user has no permissions to run the 'hexpire' command");
  expect(await c.call("ACL", "SETUSER", "hfe", "+hexpire")).toBe("OK");
  expect(await c.call("ACL", "DRYRUN", "hfe", "HEXPIRE", "k", "10", "FIELDS", "1", "f")).toBe("This user has no permissions to access the 'k' key");
  expect(await c.call("ACL", "GETUSER", "hfe")).toContainEqual("-@all +@hash +hexpire");
  expect(await c.call("ACL", "SETUSER", "hfe2", "+@all", "-httl")).toBe("OK");
  expect(await c.call("ACL", "LIST")).toContainEqual("user hfe2 off resetchannels +@all -httl");
  expect(await c.call("ACL", "CAT", "hash")).not.toContainEqual("hexpire");
  await c.call("ACL", "DELUSER", "hfe", "hfe2");
});
