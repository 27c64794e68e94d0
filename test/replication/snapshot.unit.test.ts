import { describe, expect, test } from "bun:test";
import { DatasetSnapshot, type SnapshotRecord } from "../../src/dataset/snapshot.ts";
import { Database } from "../../src/store/database.ts";
import { HashValue, ListValue } from "../../src/store/values.ts";
import { describeValue, lcg, recordLine, state } from "./snapshot-state.ts";

function records(rs: SnapshotRecord[]): string[] {
  return rs.map(recordLine).sort();
}

describe("DatasetSnapshot (copy-on-write at the key level)", () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    test(`random mutations during the walk never leak into the snapshot (seed ${seed})`, () => {
      const r = lcg(seed);
      const dbs = [new Database(0), new Database(1), new Database(2)];
      for (const db of dbs) {
        for (let i = 0; i < 300; i++) {
          const k = `k${i}`;
          if (r(4) === 0) db.set(k, ListValue.from([`a${i}`, `b${i}`]));
          else if (r(4) === 0) db.set(k, new HashValue([[`f${i}`, `v${i}`]]));
          else db.set(k, `v${i}`);
          if (r(5) === 0) db.setExpire(k, 1e12 + i);
        }
      }
      const expected = state(dbs);
      const snap = new DatasetSnapshot(dbs);
      const seen: string[] = [];
      let more = true;
      while (more) {
        // Records reference live values: serialize them at once, as the RDB writer does.
        const out: SnapshotRecord[] = [];
        more = snap.next(1 + r(20), out);
        seen.push(...records(out));
        // Interleave writes of every kind.
        for (let j = 0; j < 15; j++) {
          const db = dbs[r(3)]!;
          const k = `k${r(400)}`;
          switch (r(8)) {
            case 0:
              db.set(k, `new${j}`);
              break;
            case 1:
              db.delete(k);
              break;
            case 2:
              db.setExpire(k, 2e12);
              break;
            case 3:
              db.removeExpire(k);
              break;
            case 4: {
              const v = db.get(k);
              if (v instanceof ListValue) {
                db.beforeChange(k);
                v.pushTail("mutated");
              }
              break;
            }
            case 5: {
              const v = db.get(k);
              if (v instanceof HashValue) {
                db.beforeChange(k);
                v.set("mut", "x");
              }
              break;
            }
            case 6:
              if (r(50) === 0) dbs[1]!.swapContents(dbs[2]!);
              break;
            case 7:
              if (r(80) === 0) db.clear();
              break;
          }
        }
      }
      expect(seen.sort()).toEqual(expected);
      expect(snap.isFinished).toBe(true);
      for (const db of dbs) expect(db.snapshot).toBeNull();
    });
  }
});

describe("DatasetSnapshot: aggregates that move while the walk runs", () => {
  // The kept records of a walk are registered by object, across the dataset's keyspaces: an
  // aggregate moved elsewhere, then changed in place, is copied for the walk first.
  function walkAll(snap: DatasetSnapshot): string[] {
    const out: SnapshotRecord[] = [];
    while (snap.next(7, out));
    return records(out);
  }

  test("RENAME then an in-place change: the walk sees the old key with the old value", () => {
    const db = new Database(0);
    for (let i = 0; i < 50; i++) db.set(`k${i}`, ListValue.from([`a${i}`]));
    const expected = state([db]);
    const snap = new DatasetSnapshot([db]);
    const v = db.get("k49") as ListValue;
    db.delete("k49");
    db.set("moved", v);
    db.beforeChange("moved");
    v.pushTail("changed");
    expect(walkAll(snap)).toEqual(expected);
    expect(describeValue(db.get("moved"))).toBe("list:a49,changed");
  });

  test("MOVE into a database that FLUSHDB emptied during the walk, then a change", () => {
    const dbs = [new Database(0), new Database(1)];
    for (let i = 0; i < 50; i++) dbs[1]!.set(`k${i}`, ListValue.from([`a${i}`]));
    dbs[0]!.set("x", "y");
    const expected = state(dbs);
    const snap = new DatasetSnapshot(dbs);
    dbs[0]!.clear(); // a new keyspace, that no walk reads
    const v = dbs[1]!.get("k49") as ListValue;
    dbs[1]!.delete("k49");
    dbs[0]!.set("k49", v);
    dbs[0]!.beforeChange("k49");
    v.pushTail("changed");
    expect(walkAll(snap)).toEqual(expected);
  });
});
