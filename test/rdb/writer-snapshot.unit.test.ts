// The incremental RDB of a DatasetSnapshot (dataset/snapshot-rdb.ts): chunks of about the
// size asked, which concatenated are one valid RDB holding the dataset exactly as it was when
// the snapshot started, although keys change, disappear and appear between the chunks.
//
// Random content is seeded; the seed is printed (RDB_SNAPSHOT_SEED to choose one).

import { describe, expect, test } from "bun:test";
import { Config } from "../../src/config/config.ts";
import { DatasetSnapshot } from "../../src/dataset/snapshot.ts";
import { createSnapshotRdb } from "../../src/dataset/snapshot-rdb.ts";
import type { Server } from "../../src/core/server.ts";
import { assembleServer } from "../../src/server/assemble.ts";
import { HashValue } from "../../src/store/hash.ts";
import { ListValue } from "../../src/store/list.ts";
import { parseRdb, plain } from "./rdb-test-helpers.ts";
import { rng } from "../helpers/seeded.ts";

const SEED = Number(process.env.RDB_SNAPSHOT_SEED ?? (process.env.RANDOM_SEEDS === "1" ? Date.now() % 1000000 : 20261201));
console.log(`writer-snapshot: seed ${SEED} (RDB_SNAPSHOT_SEED=${SEED} to repeat)`);

function server(): Server {
  const s = assembleServer(new Config());
  s.functions.set("lib", { engine: "lua", code: "#!lua name=lib\nredis.register_function('f', function() return 1 end)" });
  return s;
}

describe("snapshot RDB", () => {
  test("chunks make one RDB of the dataset as it was at the start, whatever changes meanwhile", () => {
    const r = rng(SEED);
    const s = server();
    const expected = new Map<string, unknown>();
    for (const dbi of [0, 3, 9]) {
      const db = s.dbs[dbi]!;
      for (let i = 0; i < 3000; i++) {
        const key = `k${i}`;
        if (i % 10 === 0) {
          const l = ListValue.from(Array.from({ length: 1 + (i % 50) }, (_, j) => `e${j}`));
          db.set(key, l);
        } else if (i % 10 === 1) {
          const h = new HashValue();
          h.set("f", String(i));
          db.set(key, h);
        } else db.set(key, `value-${i}-${"x".repeat(i % 40)}`);
        if (i % 7 === 0) db.setExpire(key, 4102444800000 + i);
      }
      for (const [k, v] of db.entries()) expected.set(`${dbi}:${k}`, [plain(v), db.getExpire(k) ?? -1]);
    }
    const snapshot = new DatasetSnapshot(s.dbs);
    const source = createSnapshotRdb(s, snapshot, 1234);
    const chunks: Buffer[] = [];
    for (;;) {
      const chunk = source.next(4096);
      if (chunk === null) break;
      chunks.push(chunk);
      // Between chunks: writes of every kind on random keys of every database.
      for (let n = 0; n < 50; n++) {
        const db = s.dbs[[0, 3, 9][Math.floor(r() * 3)]!]!;
        const key = `k${Math.floor(r() * 3200)}`;
        const what = Math.floor(r() * 5);
        if (what === 0) db.delete(key);
        else if (what === 1) db.set(key, "overwritten");
        else if (what === 2) db.setExpire(key, 1);
        else if (what === 3) {
          const v = db.get(key);
          if (v instanceof ListValue) {
            db.beforeChange(key);
            (db.get(key) as ListValue).pushTail("appended");
          }
        } else db.clear();
      }
    }
    expect(chunks.length).toBeGreaterThan(20);
    for (const c of chunks.slice(0, -1)) expect(c.length).toBeLessThan(4096 + 4096);
    const { rec, error, parser } = parseRdb(Buffer.concat(chunks));
    expect(error).toBeNull();
    expect(parser.checksumVerified).toBe(true);
    expect(rec.auxFields.get("repl-offset")).toBe("1234");
    expect(rec.functions.length).toBe(1);
    const got = new Map<string, unknown>();
    for (const k of rec.keys) got.set(`${k.db}:${k.key}`, [plain(k.value), k.expireMs]);
    expect(got.size).toBe(expected.size);
    for (const [k, v] of expected) expect(got.get(k)).toEqual(v);
    expect(rec.resizes).toEqual([[0, 3000, 429], [3, 3000, 429], [9, 3000, 429]]);
    expect(s.dbs.every((db) => db.snapshot === null)).toBe(true);
  });

  test("abort releases the snapshot", () => {
    const s = server();
    s.dbs[0]!.set("a", "1");
    const snapshot = new DatasetSnapshot(s.dbs);
    const source = createSnapshotRdb(s, snapshot, 0);
    expect(source.next(10)).not.toBeNull();
    source.abort();
    expect(s.dbs[0]!.snapshot).toBeNull();
  });
});
