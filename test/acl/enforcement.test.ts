// ACL enforcement side by side with redis-server 7.0.15: AUTH and HELLO AUTH, NOPERM for
// commands, keys (with their read/write access) and channels, inside MULTI and scripts, the ACL
// log's entries, connections of deleted users and of users losing channels, CLIENT LIST's
// user= and CLIENT KILL USER.

import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import { parse, show, startPair, type Pair, type RawConn } from "./acl-helpers.ts";

let pair: Pair;
beforeAll(async () => {
  pair = await startPair();
});
afterAll(async () => {
  await pair?.stop();
});

/** ACL LOG entries without what differs by nature (age, the client's id, address, ages). */
async function sameLog(cs: [RawConn, RawConn], ...args: string[]): Promise<unknown> {
  const [a, b] = await pair.both(cs, "ACL", "LOG", ...args);
  const strip = (raw: string) =>
    (show(parse(raw)) as unknown[][]).map((entry) => {
      const out: unknown[] = [];
      for (let i = 0; i < entry.length; i += 2) {
        const k = entry[i];
        let v = entry[i + 1];
        if (k === "age-seconds") v = typeof v === "string" && Number(v) >= 0 && Number(v) < 30;
        if (k === "client-info") v = (v as string).split(" ").filter((f) => /^(name|db|flags|sub|psub|multi|cmd|user|resp)=/.test(f)).join(" ");
        out.push(k, v);
      }
      return out;
    });
  expect(strip(b)).toEqual(strip(a));
  return strip(b);
}

test("AUTH and HELLO AUTH: users, passwords, disabled users, WRONGPASS, the default user", async () => {
  const admin = await pair.conns();
  await pair.same(admin, "ACL", "SETUSER", "alice", "on", ">apw", ">second", "+@all", "~*");
  await pair.same(admin, "ACL", "SETUSER", "bob", "off", ">bpw", "+@all");
  await pair.same(admin, "ACL", "SETUSER", "open", "on", "nopass", "+acl|whoami");
  await pair.same(admin, "ACL", "LOG", "RESET");
  const cs = await pair.conns();
  await pair.same(cs, "AUTH", "alice", "wrong");
  await pair.same(cs, "ACL", "WHOAMI");
  await pair.same(cs, "AUTH", "alice", "apw");
  await pair.same(cs, "ACL", "WHOAMI");
  await pair.same(cs, "AUTH", "alice", "second");
  await pair.same(cs, "AUTH", "bob", "bpw");
  await pair.same(cs, "AUTH", "nosuchuser", "x");
  await pair.same(cs, "auth", "nosuchuser", "x");
  await pair.same(cs, "AUTH", "open", "anything");
  await pair.same(cs, "ACL", "WHOAMI");
  await pair.same(cs, "AUTH", "somepass");
  await pair.same(cs, "AUTH", "a", "b", "c");
  await pair.same(cs, "AUTH");
  await pair.same(cs, "AUTH", "default", "whatever");
  await pair.same(cs, "ACL", "WHOAMI");
  // HELLO AUTH: options in order; a failed AUTH leaves the protocol as it was.
  const hs = await pair.conns();
  await pair.same(hs, "HELLO", "3", "AUTH", "alice", "nope");
  await pair.same(hs, "HELLO", "3", "SETNAME", "named", "AUTH", "alice", "nope");
  await pair.same(hs, "CLIENT", "GETNAME");
  await pair.same(hs, "HELLO", "2", "AUTH", "bob", "bpw");
  await pair.same(hs, "HELLO", "2", "AUTH", "alice");
  await pair.both(hs, "HELLO", "3", "AUTH", "alice", "apw", "SETNAME", "x");
  await pair.same(hs, "ACL", "WHOAMI");
  await pair.same(hs, "CLIENT", "GETNAME");
  await sameLog(admin);
  await pair.same(admin, "ACL", "DELUSER", "alice", "bob", "open");
});

test("NOPERM for commands, subcommands and first arguments; NOAUTH first", async () => {
  const admin = await pair.conns();
  await pair.same(admin, "ACL", "SETUSER", "limited", "on", ">pw", "~*", "&*", "+get", "+config|get", "+select|1", "+client|id", "+acl|whoami", "+multi", "+exec");
  await pair.same(admin, "ACL", "LOG", "RESET");
  const cs = await pair.conns("limited", "pw");
  await pair.same(cs, "GET", "x");
  await pair.same(cs, "SET", "x", "1");
  await pair.same(cs, "CONFIG", "GET", "maxmemory");
  await pair.same(cs, "CONFIG", "SET", "maxmemory", "0");
  await pair.same(cs, "CONFIG", "RESETSTAT");
  await pair.same(cs, "SELECT", "1");
  await pair.same(cs, "SELECT", "2");
  await pair.both(cs, "CLIENT", "ID");
  await pair.same(cs, "CLIENT", "KILL", "ID", "12345");
  await pair.same(cs, "ACL", "WHOAMI");
  await pair.same(cs, "ACL", "LIST");
  await pair.same(cs, "NOSUCHCOMMAND");
  await pair.same(cs, "GET");
  await pair.same(cs, "PING");
  // AUTH and HELLO are allowed to everyone (no_auth).
  await pair.same(cs, "AUTH", "limited", "pw");
  await sameLog(admin);
  await sameLog(admin, "3");
  await pair.same(admin, "ACL", "DELUSER", "limited");
});

test("NOPERM for keys: read and write patterns follow the key specs' flags", async () => {
  const admin = await pair.conns();
  await pair.same(admin, "FLUSHALL");
  await pair.same(admin, "MSET", "r1", "a", "w1", "b", "rw1", "c");
  await pair.same(admin, "RPUSH", "rlist", "3", "1", "2");
  await pair.same(admin, "ACL", "SETUSER", "keys", "on", ">pw", "+@all", "%R~r*", "%W~w*", "~rw*", "&*");
  await pair.same(admin, "ACL", "LOG", "RESET");
  const cs = await pair.conns("keys", "pw");
  const cases: Array<Array<string | number>> = [
    ["GET", "r1"],
    ["GET", "w1"],
    ["GET", "rw1"],
    ["GET", "other"],
    ["SET", "w1", "x"],
    ["SET", "r1", "x"],
    ["SET", "w1", "x", "GET"],
    ["SET", "rw1", "y", "GET"],
    ["APPEND", "w1", "x"],
    ["APPEND", "rw1", "x"],
    ["DEL", "w1x"],
    ["DEL", "r1"],
    ["EXISTS", "r1", "w1"],
    ["MSET", "w2", "1", "rw2", "2"],
    ["MSET", "w2", "1", "r2", "2"],
    ["MGET", "r1", "rw1"],
    ["MGET", "r1", "w1", "other"],
    ["COPY", "r1", "w3"],
    ["COPY", "w1", "w4"],
    ["RENAME", "rw1", "w5"],
    ["LMOVE", "rlist", "wlist", "LEFT", "RIGHT"],
    ["SORT", "rlist"],
    ["SORT", "rlist", "STORE", "wsorted"],
    ["SORT", "rlist", "STORE", "rsorted"],
    ["SORT", "rlist", "BY", "nosort"],
    ["SORT", "rlist", "BY", "w*"],
    ["SORT", "rlist", "GET", "#"],
    ["SORT_RO", "rlist"],
    ["BITFIELD", "r1", "GET", "u8", "0"],
    ["BITFIELD", "r1", "SET", "u8", "0", "1"],
    ["BITFIELD", "rw1", "INCRBY", "u8", "0", "1"],
    ["BITFIELD_RO", "r1", "GET", "u8", "0"],
    ["EVAL", "return 1", "1", "w1"],
    ["EVAL", "return 1", "2", "r1", "other"],
    ["EVAL", "return 1", "0"],
    ["XADD", "wstream", "1-1", "f", "v"],
    ["XREAD", "STREAMS", "rstream", "0"],
    ["XREAD", "STREAMS", "wstream", "0"],
    ["ZUNIONSTORE", "wz", "2", "rz1", "rz2"],
    ["ZUNIONSTORE", "rz", "1", "rz1"],
    ["GEORADIUS", "rgeo", "0", "0", "1", "km", "STORE", "other"],
    ["OBJECT", "ENCODING", "r1"],
    ["OBJECT", "ENCODING", "w1"],
    ["TOUCH", "w1"],
    ["TYPE", "w1"],
    ["DBSIZE"],
    ["FLUSHDB"],
    ["DEBUG", "OBJECT", "r1"],
  ];
  for (const c of cases) await pair.same(cs, ...c);
  await sameLog(admin, "100");
  await pair.same(admin, "ACL", "DELUSER", "keys");
});

test("NOPERM for channels: PUBLISH, SUBSCRIBE, PSUBSCRIBE (literal patterns), SSUBSCRIBE, SPUBLISH", async () => {
  const admin = await pair.conns();
  await pair.same(admin, "ACL", "SETUSER", "chans", "on", ">pw", "+@all", "~*", "resetchannels", "&news.*", "&exact", "&pat*");
  await pair.same(admin, "ACL", "LOG", "RESET");
  const cases: Array<Array<string | number>> = [
    ["PUBLISH", "news.1", "m"],
    ["PUBLISH", "sport", "m"],
    ["PUBLISH", "exact", "m"],
    ["SPUBLISH", "news.2", "m"],
    ["SPUBLISH", "sport", "m"],
    ["SUBSCRIBE", "news.1", "exact"],
    ["SUBSCRIBE", "news.1", "sport"],
    ["PSUBSCRIBE", "news.*"],
    ["PSUBSCRIBE", "news.1"],
    ["PSUBSCRIBE", "pat*"],
    ["PSUBSCRIBE", "pat"],
    ["SSUBSCRIBE", "news.3"],
    ["SSUBSCRIBE", "sport"],
    ["UNSUBSCRIBE", "sport"],
    ["PUNSUBSCRIBE", "sport*"],
    ["SUNSUBSCRIBE", "sport"],
    ["PUBSUB", "CHANNELS"],
  ];
  for (const c of cases) {
    // Each on a fresh connection (a successful SUBSCRIBE leaves it in subscribed mode).
    const cs = await pair.conns("chans", "pw");
    await pair.same(cs, ...c);
    for (const x of cs) x.close();
  }
  await sameLog(admin, "100");
  // acl-pubsub-default allchannels: new users (and reset) get &*.
  await pair.same(admin, "CONFIG", "SET", "acl-pubsub-default", "allchannels");
  await pair.same(admin, "ACL", "SETUSER", "newer");
  await pair.same(admin, "ACL", "SETUSER", "chans", "reset");
  await pair.same(admin, "ACL", "SETUSER", "sel", "(+get)");
  await pair.same(admin, "ACL", "LIST");
  await pair.same(admin, "CONFIG", "SET", "acl-pubsub-default", "resetchannels");
  await pair.same(admin, "ACL", "SETUSER", "sel", "(+set)");
  await pair.same(admin, "ACL", "GETUSER", "sel");
  await pair.same(admin, "ACL", "DELUSER", "chans", "newer", "sel");
});

test("MULTI: a refused command aborts the transaction; rules changed before EXEC are checked again", async () => {
  const admin = await pair.conns();
  await pair.same(admin, "ACL", "SETUSER", "tx", "on", ">pw", "+@all", "-set", "~k*", "&*");
  await pair.same(admin, "ACL", "LOG", "RESET");
  const cs = await pair.conns("tx", "pw");
  await pair.same(cs, "MULTI");
  await pair.same(cs, "GET", "k1");
  await pair.same(cs, "SET", "k1", "v");
  await pair.same(cs, "GET", "other");
  await pair.same(cs, "EXEC");
  await pair.same(cs, "MULTI");
  await pair.same(cs, "GET", "k1");
  await pair.same(cs, "INCR", "k2");
  await pair.same(cs, "GET", "k3");
  // Another connection takes rights away meanwhile.
  await pair.same(admin, "ACL", "SETUSER", "tx", "-incr", "resetkeys", "~k1", "~k2");
  await pair.same(cs, "EXEC");
  await sameLog(admin);
  await pair.same(admin, "ACL", "DELUSER", "tx");
});

test("scripts: redis.call and pcall check the caller's user; redis.acl_check_cmd", async () => {
  const admin = await pair.conns();
  await pair.same(admin, "ACL", "SETUSER", "lua", "on", ">pw", "+eval", "+evalsha", "+fcall", "+function", "+get", "~allowed*", "&ch");
  await pair.same(admin, "ACL", "LOG", "RESET");
  await pair.same(admin, "FUNCTION", "LOAD", "REPLACE", "#!lua name=acltest\nredis.register_function('f', function(keys, args) return redis.call('set', keys[1], 'x') end)");
  const cs = await pair.conns("lua", "pw");
  const scripts: string[] = [
    "return redis.call('get', 'allowed1')",
    "return redis.call('get', 'other')",
    "return redis.call('set', 'allowed1', 'v')",
    "return redis.pcall('set', 'allowed1', 'v')",
    "return redis.pcall('get', 'denied')",
    "return redis.call('publish', 'other', 'm')",
    "return redis.call('publish', 'ch', 'm')",
    "return {redis.acl_check_cmd('get', 'allowed2'), redis.acl_check_cmd('get', 'x'), redis.acl_check_cmd('set', 'a', 'b')}",
    "return redis.acl_check_cmd('nosuchcommand')",
    "return redis.acl_check_cmd()",
  ];
  for (const s of scripts) await pair.same(cs, "EVAL", s, "0");
  await pair.same(cs, "EVAL", "return redis.call('get', KEYS[1])", "1", "denied");
  await pair.same(cs, "FCALL", "f", "1", "allowed1");
  await pair.same(admin, "ACL", "SETUSER", "lua", "+set");
  await pair.same(cs, "FCALL", "f", "1", "allowed1");
  await sameLog(admin, "100");
  await pair.same(admin, "FUNCTION", "DELETE", "acltest");
  await pair.same(admin, "ACL", "DELUSER", "lua");
});

test("ACL LOG: grouping of like entries, count, acllog-max-len, RESET", async () => {
  const admin = await pair.conns();
  await pair.same(admin, "ACL", "SETUSER", "logged", "on", ">pw", "+get", "~a");
  await pair.same(admin, "ACL", "LOG", "RESET");
  const cs = await pair.conns("logged", "pw");
  for (let i = 0; i < 3; i++) await pair.same(cs, "GET", "b");
  for (let i = 0; i < 2; i++) await pair.same(cs, "SET", "a", "1");
  await pair.same(cs, "GET", "b");
  for (let i = 0; i < 12; i++) await pair.same(cs, "GET", `k${i}`);
  // The first GET b is now beyond the 10 newest: a new entry.
  await pair.same(cs, "GET", "b");
  await sameLog(admin, "100");
  await sameLog(admin, "2");
  await pair.same(admin, "CONFIG", "SET", "acllog-max-len", "5");
  await pair.same(cs, "GET", "c");
  await sameLog(admin);
  await pair.same(admin, "CONFIG", "SET", "acllog-max-len", "128");
  await pair.same(admin, "ACL", "LOG", "RESET");
  await sameLog(admin);
  await pair.same(admin, "ACL", "DELUSER", "logged");
});

test("deleted users' connections are closed; CLIENT LIST user=; CLIENT KILL USER", async () => {
  const admin = await pair.conns();
  await pair.same(admin, "ACL", "SETUSER", "gone", "on", ">pw", "+@all", "~*");
  await pair.same(admin, "ACL", "SETUSER", "kept", "on", ">pw", "+@all", "~*");
  const g = await pair.conns("gone", "pw");
  const k = await pair.conns("kept", "pw");
  for (const [r, x] of [g, k]) {
    const [a, b] = await Promise.all([r.send("CLIENT", "INFO"), x.send("CLIENT", "INFO")]);
    expect(b.match(/ user=\S+/)![0]).toBe(a.match(/ user=\S+/)![0]);
  }
  await pair.same(admin, "CLIENT", "KILL", "USER", "nosuch");
  await pair.same(admin, "CLIENT", "KILL", "USER", "kept");
  await pair.same(k, "PING");
  await pair.same(admin, "ACL", "DELUSER", "gone");
  await pair.same(g, "PING");
  // A user deleting itself still gets the reply, then the connection closes.
  await pair.same(admin, "ACL", "SETUSER", "self", "on", ">pw", "+@all");
  const s = await pair.conns("self", "pw");
  await pair.same(s, "ACL", "DELUSER", "self");
  await pair.same(s, "PING");
  await pair.same(admin, "ACL", "DELUSER", "kept");
});

test("subscribers lose their connection when the channels they hold are taken away", async () => {
  const admin = await pair.conns();
  await pair.same(admin, "ACL", "SETUSER", "sub", "on", ">pw", "+@all", "resetchannels", "&a*", "&b", "&c");
  const s1 = await pair.conns("sub", "pw");
  const s2 = await pair.conns("sub", "pw");
  const s3 = await pair.conns("sub", "pw");
  await pair.same(s1, "SUBSCRIBE", "a1");
  await pair.same(s2, "PSUBSCRIBE", "a*");
  await pair.same(s3, "SUBSCRIBE", "c");
  // A superset: nobody is disconnected.
  await pair.same(admin, "ACL", "SETUSER", "sub", "&d");
  await pair.same(s1, "PING");
  // &a* goes: the pattern subscriber (a literal match needed) and the channel one lose it.
  await pair.same(admin, "ACL", "SETUSER", "sub", "resetchannels", "&a1", "&c");
  await pair.same(s1, "PING");
  await pair.same(s2, "PING");
  await pair.same(s3, "PING");
  await pair.same(admin, "ACL", "DELUSER", "sub");
});

test("the default user: off, nopass, a password; new connections follow it", async () => {
  const admin = await pair.conns();
  await pair.same(admin, "ACL", "SETUSER", "root", "on", ">rootpw", "+@all", "~*", "&*");
  await pair.same(admin, "ACL", "SETUSER", "default", ">defpw");
  const fresh = await pair.conns();
  await pair.same(fresh, "GET", "x");
  await pair.same(fresh, "AUTH", "wrong");
  await pair.same(fresh, "AUTH", "defpw");
  await pair.same(fresh, "GET", "x");
  // nopass again: a connection that never authenticated may run commands.
  const waiting = await pair.conns();
  await pair.same(waiting, "PING");
  await pair.same(admin, "ACL", "SETUSER", "default", "nopass");
  await pair.same(waiting, "PING");
  await pair.same(admin, "ACL", "SETUSER", "default", "off");
  const off = await pair.conns();
  await pair.same(off, "PING");
  await pair.same(off, "AUTH", "x");
  await pair.same(off, "AUTH", "default", "x");
  await pair.same(off, "AUTH", "root", "rootpw");
  await pair.same(off, "ACL", "SETUSER", "default", "on", "-@all", "+ping");
  await pair.same(off, "ACL", "GETUSER", "default");
  const limitedDefault = await pair.conns();
  await pair.same(limitedDefault, "PING");
  await pair.same(limitedDefault, "GET", "x");
  await pair.same(limitedDefault, "RESET");
  await pair.same(off, "ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*", "+@all");
  await pair.same(off, "ACL", "LIST");
  await pair.same(admin, "ACL", "DELUSER", "root");
});

test("error statistics after all of the above: NOPERM, WRONGPASS, NOAUTH counted as Redis counts them", async () => {
  const admin = await pair.conns();
  await pair.same(admin, "INFO", "errorstats");
  const [a, b] = await pair.both(admin, "INFO", "commandstats");
  const calls = (raw: string) =>
    raw
      .split("\r\n")
      .filter((l) => l.startsWith("cmdstat_"))
      .map((l) => l.replace(/usec=\d+,usec_per_call=[\d.]+,/, ""))
      .filter((l) => !/^cmdstat_(info|client\|info|client\|id|hello)/.test(l))
      .sort();
  expect(calls(b)).toEqual(calls(a));
});

test("an unauthenticated client whose replies pass 16 KiB is closed, nothing sent (Debian's CVE-2025-21605 fix)", async () => {
  const p = await startPair(["--requirepass", "pw"]);
  try {
    for (const n of [100, 481, 482, 2000]) {
      const got = await Promise.all(
        [p.redis, p.rep].map(
          (s) =>
            new Promise<string>((resolve) => {
              let bytes = 0;
              const sock = net.connect({ host: "127.0.0.1", port: s.port });
              sock.on("connect", () => sock.write("PING\r\n".repeat(n)));
              sock.on("data", (d) => (bytes += d.length));
              sock.on("close", () => resolve(`closed after ${bytes} bytes`));
              setTimeout(() => {
                sock.destroy();
                resolve(`open with ${bytes} bytes`);
              }, 500);
            }),
        ),
      );
      expect({ n, replicant: got[1] }).toEqual({ n, replicant: got[0]! });
    }
  } finally {
    await p.stop();
  }
});
