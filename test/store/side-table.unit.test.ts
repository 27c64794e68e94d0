// The side table's cost account (used_memory, maxmemory): entries measured lazily, a few per
// read of the total, the rest counted as the average measured entry until they are measured.

import { describe, expect, test } from "bun:test";
import { SideTable } from "../../src/store/keyspace/side-table.ts";

const measure = (v: unknown) => (v as { cost: number }).cost;

describe("SideTable costs", () => {
  test("added, changed and released entries: the total follows once measured", () => {
    const t = new SideTable(measure);
    const a = { cost: 100 };
    const i = t.add(a);
    t.add({ cost: 50 });
    expect(t.bytes).toBe(150);
    a.cost = 300; // changed in place: nothing counts it until it is marked
    expect(t.bytes).toBe(150);
    t.mark(i);
    expect(t.bytes).toBe(350);
    t.release(i);
    expect(t.bytes).toBe(50);
  });

  test("a million new entries: reading the total measures a few (256) and estimates the rest; the cron's slices finish the job", () => {
    const t = new SideTable(measure);
    for (let i = 0; i < 1_000_000; i++) t.add({ cost: 10 + (i % 2) * 10 });
    const estimate = t.bytes;
    expect(Math.abs(estimate - 15_000_000)).toBeLessThan(1_000_000);
    t.measureUntil(performance.now() + 10_000);
    expect(t.bytes).toBe(15_000_000);
  });

  test("released while waiting to be measured, then reused: counted once", () => {
    const t = new SideTable(measure);
    const i = t.add({ cost: 40 });
    t.release(i);
    const j = t.add({ cost: 70 });
    expect(j).toBe(i);
    t.measureUntil(performance.now() + 1000);
    expect(t.bytes).toBe(70);
    expect(t.size).toBe(1);
  });
});
