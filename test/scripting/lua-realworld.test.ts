// Scripts of the kind applications run (locks, rate limiters, sliding windows, queues,
// leaderboards, JSON documents, batches), run with the same keys and arguments on redis-server
// and on Replicant: replies byte-identical, datasets equal afterwards.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { compareCommands, describeMismatches, startPair, type Pair } from "./compare.ts";

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
});

afterAll(async () => {
  await pair?.stop();
});

const RELEASE_LOCK = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

const TOKEN_BUCKET = `
local key = KEYS[1]
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - ts) * refill)
local allowed = tokens >= cost
if allowed then tokens = tokens - cost end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', key, math.ceil(capacity / refill * 1000))
return { allowed and 1 or 0, tostring(tokens) }`;

const SLIDING_WINDOW = `
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('EXPIRE', key, window)
  return {1, limit - count - 1}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}`;

const ENQUEUE = `
local id = redis.call('INCR', KEYS[1])
local job = cjson.encode({id = id, name = ARGV[1], attempts = 0, data = cjson.decode(ARGV[2])})
redis.call('HSET', KEYS[2], id, job)
redis.call('LPUSH', KEYS[3], id)
return id`;

const TAKE = `
local id = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
if not id then return false end
local job = cjson.decode(redis.call('HGET', KEYS[3], id))
job.attempts = job.attempts + 1
redis.call('HSET', KEYS[3], id, cjson.encode(job))
return {id, job.name, job.attempts}`;

const ACK = `
local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
if removed == 1 then redis.call('HDEL', KEYS[2], ARGV[1]) end
return removed`;

const LEADERBOARD = `
for i = 1, #ARGV, 2 do redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i]) end
local top = redis.call('ZREVRANGE', KEYS[1], 0, 4, 'WITHSCORES')
local out = {}
for i = 1, #top, 2 do out[#out + 1] = top[i] .. ':' .. top[i + 1] end
return out`;

const JSON_DOC = `
local doc = redis.call('GET', KEYS[1])
local t = doc and cjson.decode(doc) or {items = {}, count = 0}
table.insert(t.items, {name = ARGV[1], qty = tonumber(ARGV[2])})
t.count = t.count + 1
local encoded = cjson.encode(t)
redis.call('SET', KEYS[1], encoded)
return encoded`;

const BATCH_SET = `
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i] or 'default')
end
return #KEYS`;

const COUNTERS = `
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], 3600) end
local ttl = redis.call('TTL', KEYS[1])
return {n, ttl > 3500 and 'ttl-ok' or tostring(ttl)}`;

const HASH_STATS = `
local vals = redis.call('HVALS', KEYS[1])
local sum, min, max = 0, math.huge, -math.huge
for _, v in ipairs(vals) do
  local n = tonumber(v)
  sum = sum + n
  if n < min then min = n end
  if n > max then max = n end
end
return {#vals, tostring(sum), tostring(min), tostring(max), string.format('%.3f', #vals > 0 and sum / #vals or 0)}`;

describe("application scripts", () => {
  test("locks, buckets, windows, queues, leaderboards, documents, batches", async () => {
    const cmds: string[][] = [
      ["SET", "lock:a", "owner1"],
      ["EVAL", RELEASE_LOCK, "1", "lock:a", "owner2"],
      ["EVAL", RELEASE_LOCK, "1", "lock:a", "owner1"],
      ["EVAL", RELEASE_LOCK, "1", "lock:a", "owner1"],
    ];
    for (let i = 0; i < 12; i++) cmds.push(["EVAL", TOKEN_BUCKET, "1", "bucket:u1", "10", "0.5", String(1000 + i * 3), String(1 + (i % 3))]);
    for (let i = 0; i < 12; i++) cmds.push(["EVAL", SLIDING_WINDOW, "1", "window:u1", String(100 + i * 7), "30", "4", `req${i}`]);
    for (let i = 0; i < 6; i++) cmds.push(["EVAL", ENQUEUE, "3", "q:id", "q:jobs", "q:waiting", `job${i}`, JSON.stringify({ n: i, tags: ["a", "b"], deep: { x: i / 4 } })]);
    for (let i = 0; i < 4; i++) cmds.push(["EVAL", TAKE, "3", "q:waiting", "q:active", "q:jobs"]);
    cmds.push(["EVAL", ACK, "2", "q:active", "q:jobs", "1"], ["EVAL", ACK, "2", "q:active", "q:jobs", "99"]);
    cmds.push(["EVAL", LEADERBOARD, "1", "lb", "alice", "10", "bob", "7.5", "carol", "12", "alice", "3", "dave", "0.25"]);
    for (let i = 0; i < 5; i++) cmds.push(["EVAL", JSON_DOC, "1", "doc:1", `item${i}`, String(i * 2)]);
    cmds.push(["EVAL", BATCH_SET, "4", "b1", "b2", "b3", "b4", "v1", "v2"]);
    for (let i = 0; i < 3; i++) cmds.push(["EVAL", COUNTERS, "1", "ctr", String(5 + i)]);
    cmds.push(["HSET", "stats", "a", "1", "b", "2.5", "c", "-4", "d", "10"], ["EVAL", HASH_STATS, "1", "stats"], ["EVAL", HASH_STATS, "1", "nostats"]);
    const ms = await compareCommands(pair.r2, pair.p2, cmds);
    if (ms.length) console.log(describeMismatches(ms));
    expect(ms.length).toBe(0);
    const [a, b] = await Promise.all([pair.redis.client(), pair.replicant.client()]);
    expect(diffDatasets(await snapshotDataset(a), await snapshotDataset(b))).toEqual([]);
  });
});
