// The keys ACLs check, as COMMAND GETKEYS / GETKEYSANDFLAGS show them (both use Redis's
// getKeysFromCommandWithSpecs): key specs with their flags, and the getkeys procedures where the
// specs cannot say. Side by side with redis-server 7.0.15.

import { afterAll, beforeAll, test } from "bun:test";
import { startPair, type Pair } from "./acl-helpers.ts";

let pair: Pair;
beforeAll(async () => {
  pair = await startPair();
});
afterAll(async () => {
  await pair?.stop();
});

const COMMANDS: string[][] = [
  ["GET", "k"],
  ["SET", "k", "v"],
  ["SET", "k", "v", "GET"],
  ["SET", "k", "v", "EX", "10", "get"],
  ["MSET", "a", "1", "b", "2"],
  ["MSET", "a", "1", "b"],
  ["MGET", "a", "b", "c"],
  ["DEL", "a", "b"],
  ["COPY", "a", "b", "DB", "1"],
  ["RENAME", "a", "b"],
  ["LMOVE", "a", "b", "LEFT", "RIGHT"],
  ["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"],
  ["BLPOP", "a", "b", "0"],
  ["LMPOP", "2", "a", "b", "LEFT"],
  ["LMPOP", "0", "a", "LEFT"],
  ["LMPOP", "x", "a", "LEFT"],
  ["BLMPOP", "0", "2", "a", "b", "LEFT"],
  ["ZMPOP", "1", "z", "MIN"],
  ["BZMPOP", "0", "1", "z", "MIN"],
  ["ZUNIONSTORE", "d", "2", "a", "b"],
  ["ZUNIONSTORE", "d", "3", "a", "b"],
  ["ZINTERSTORE", "d", "1", "a", "WEIGHTS", "2"],
  ["ZDIFFSTORE", "d", "2", "a", "b"],
  ["ZUNION", "2", "a", "b"],
  ["ZINTER", "2", "a", "b", "WITHSCORES"],
  ["ZDIFF", "1", "a"],
  ["ZINTERCARD", "2", "a", "b", "LIMIT", "1"],
  ["SINTERCARD", "2", "a", "b"],
  ["SINTERCARD", "-1", "a", "b"],
  ["ZRANGESTORE", "d", "s", "0", "-1"],
  ["EVAL", "return 1", "2", "a", "b", "arg"],
  ["EVAL", "return 1", "0"],
  ["EVAL", "return 1", "3", "a"],
  ["EVALSHA", "abc", "1", "a"],
  ["EVAL_RO", "return 1", "1", "a"],
  ["FCALL", "f", "1", "a", "x"],
  ["FCALL_RO", "f", "2", "a", "b"],
  ["SORT", "l"],
  ["SORT", "l", "BY", "w*", "GET", "#", "STORE", "d"],
  ["SORT", "l", "STORE", "d1", "STORE", "d2"],
  ["SORT", "l", "LIMIT", "0", "1", "STORE", "d"],
  ["SORT", "l", "store"],
  ["SORT_RO", "l", "BY", "x"],
  ["MIGRATE", "h", "1", "k", "0", "100"],
  ["MIGRATE", "h", "1", "", "0", "100", "KEYS", "a", "b"],
  ["MIGRATE", "h", "1", "", "0", "100", "AUTH", "p", "KEYS", "a"],
  ["MIGRATE", "h", "1", "", "0", "100", "AUTH2", "u", "p", "KEYS", "a", "b"],
  ["MIGRATE", "h", "1", "k", "0", "100", "KEYS", "a"],
  ["GEORADIUS", "g", "0", "0", "1", "km"],
  ["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d"],
  ["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d", "STOREDIST", "e"],
  ["GEORADIUSBYMEMBER", "g", "m", "1", "km", "STOREDIST", "d"],
  ["GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"],
  ["XREAD", "STREAMS", "a", "b", "0", "0"],
  ["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "a", "0"],
  ["XREAD", "STREAMS", "a", "b", "0"],
  ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "s1", "s2", ">", ">"],
  ["BITFIELD", "k", "GET", "u8", "0"],
  ["BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1"],
  ["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1"],
  ["BITFIELD", "k", "BOGUS"],
  ["BITFIELD_RO", "k", "GET", "u8", "0"],
  ["BITOP", "AND", "d", "a", "b"],
  ["OBJECT", "ENCODING", "k"],
  ["XINFO", "STREAM", "s"],
  ["XGROUP", "CREATE", "s", "g", "$"],
  ["MEMORY", "USAGE", "k"],
  ["PFMERGE", "d", "a", "b"],
  ["PFCOUNT", "a", "b"],
  ["SMOVE", "a", "b", "m"],
  ["RPOPLPUSH", "a", "b"],
  ["EXISTS", "a", "b", "c"],
  ["TOUCH", "a"],
  ["WATCH", "a", "b"],
  ["LCS", "a", "b"],
  ["GETEX", "k", "PERSIST"],
  ["GETDEL", "k"],
  ["HSET", "h", "f", "v"],
  ["HGETALL", "h"],
  ["PING"],
  ["PING", "x", "y"],
  ["PUBLISH", "c", "m"],
  ["NOSUCH", "x"],
  ["CONFIG", "GET", "x"],
  ["CONFIG", "NOSUCH"],
  ["GET"],
  ["GET", "a", "b"],
  ["DEL"],
  ["DUMP", "k"],
  ["RESTORE", "k", "0", "payload"],
  ["SPUBLISH", "c", "m"],
  ["SSUBSCRIBE", "c"],
  ["SUBSCRIBE", "c"],
];

test("COMMAND GETKEYS and GETKEYSANDFLAGS over many commands, and their errors", async () => {
  const cs = await pair.conns();
  for (const cmd of COMMANDS) {
    await pair.same(cs, "COMMAND", "GETKEYS", ...cmd);
    await pair.same(cs, "COMMAND", "GETKEYSANDFLAGS", ...cmd);
  }
  await pair.same(cs, "COMMAND", "GETKEYS");
  await pair.both(cs, "HELLO", "3");
  for (const cmd of COMMANDS.slice(0, 20)) await pair.same(cs, "COMMAND", "GETKEYSANDFLAGS", ...cmd);
});
