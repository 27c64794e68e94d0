// The command stream -> records (src/feed/stream.ts) and the filters (src/feed/filter.ts):
// offsets count every byte, SELECT / PING / REPLCONF are not records, a transaction is written
// whole at its EXEC and the position moves only at its boundaries.

import { describe, expect, test } from "bun:test";
import { encodeCommand } from "../../src/protocol/reply-parser.ts";
import { RecordFilter } from "../../src/feed/filter.ts";
import type { FeedRecord } from "../../src/feed/records.ts";
import { CommandStream } from "../../src/feed/stream.ts";

function stream(filter = new RecordFilter({}), offset = 100, db = 0) {
  const records: FeedRecord[] = [];
  const acks: number[] = [];
  const s = new CommandStream(offset, db, filter, { record: (r) => records.push(r), getAck: (o) => acks.push(o) });
  return { s, records, acks };
}

const bytes = (...cmds: string[][]) => Buffer.concat(cmds.map((c) => encodeCommand(c)));

describe("CommandStream", () => {
  test("offsets count every byte; SELECT, PING and REPLCONF are not records", () => {
    const { s, records, acks } = stream();
    const cmds = [["SELECT", "3"], ["SET", "k", "v"], ["PING"], ["REPLCONF", "GETACK", "*"], ["DEL", "k"]];
    const all = bytes(...cmds);
    // Fed a byte at a time: the parser's state survives between chunks.
    for (let i = 0; i < all.length; i++) s.feed(all.subarray(i, i + 1));
    const end = (n: number) => 100 + bytes(...cmds.slice(0, n)).length;
    expect(records).toEqual([
      { offset: end(2), db: 3, args: ["SET", "k", "v"] },
      { offset: end(5), db: 3, args: ["DEL", "k"] },
    ]);
    // The ACK carries the offset before the GETACK itself (as Redis's replica sends it).
    expect(acks).toEqual([end(3)]);
    expect(s.boundaryOffset).toBe(100 + all.length);
    expect(s.boundaryDb).toBe(3);
  });

  test("a transaction is written at its EXEC, each record with its own offset; the position moves at EXEC only", () => {
    const { s, records } = stream();
    s.feed(bytes(["MULTI"], ["SET", "a", "1"]));
    expect(records).toEqual([]);
    expect(s.boundaryOffset).toBe(100);
    expect(s.ackOffset).toBe(100);
    s.feed(bytes(["INCR", "n"], ["EXEC"]));
    expect(records.map((r) => r.args[0])).toEqual(["MULTI", "SET", "INCR", "EXEC"]);
    const offsets = records.map((r) => r.offset);
    expect([...offsets].sort((x, y) => x - y)).toEqual(offsets);
    expect(new Set(offsets).size).toBe(4);
    expect(s.boundaryOffset).toBe(offsets[3]!);
  });

  test("keep-alive newlines count into the offset", () => {
    const { s, records } = stream();
    s.feed(Buffer.from("\n\n"));
    s.feed(bytes(["SET", "a", "1"]));
    expect(records[0]!.offset).toBe(100 + 2 + bytes(["SET", "a", "1"]).length);
  });
});

describe("RecordFilter", () => {
  test("--db: that db's commands, and FLUSHALL from any", () => {
    const f = new RecordFilter({ db: 1 });
    expect(f.command(1, ["SET", "a", "1"])).toBe(true);
    expect(f.command(0, ["SET", "a", "1"])).toBe(false);
    expect(f.command(0, ["flushall"])).toBe(true);
    expect(f.key(1, "a")).toBe(true);
    expect(f.key(2, "a")).toBe(false);
  });

  test("--match: a command with a matching key (found from Redis's key specs); keyless commands pass", () => {
    const f = new RecordFilter({ match: "user:*" });
    expect(f.command(0, ["SET", "user:1", "v"])).toBe(true);
    expect(f.command(0, ["SET", "other", "user:1"])).toBe(false);
    expect(f.command(0, ["MSET", "a", "1", "user:2", "2"])).toBe(true);
    expect(f.command(0, ["RENAME", "other", "user:x"])).toBe(true);
    expect(f.command(0, ["ZUNIONSTORE", "dst", "2", "user:a", "b"])).toBe(true);
    expect(f.command(0, ["ZUNIONSTORE", "dst", "2", "a", "b"])).toBe(false);
    // A subcommand's keys: XGROUP CREATE <key>.
    expect(f.command(0, ["XGROUP", "CREATE", "user:s", "g", "$"])).toBe(true);
    expect(f.command(0, ["XGROUP", "CREATE", "s", "g", "$"])).toBe(false);
    // 7.4's hash field TTLs (the newer table).
    expect(f.command(0, ["HPEXPIREAT", "user:h", "1", "FIELDS", "1", "f"])).toBe(true);
    expect(f.command(0, ["FLUSHDB"])).toBe(true);
    expect(f.command(0, ["FUNCTION", "LOAD", "code"])).toBe(true);
    expect(f.key(0, "user:1")).toBe(true);
    expect(f.key(0, "x")).toBe(false);
  });
});
