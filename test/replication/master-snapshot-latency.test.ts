// DatasetSnapshot over 1M keys with writes between the steps: no step of the walk blocks for
// long. A timing test (it takes seconds, and a loaded machine adds its own): in the full suite,
// not in `bun run test:unit`; master-snapshot.unit.test.ts checks what the walk yields.

import { expect, test } from "bun:test";
import { DatasetSnapshot, type SnapshotRecord } from "../../src/dataset/snapshot.ts";
import { Database } from "../../src/store/database.ts";

test("1M keys: no step of the walk blocks for long", () => {
  const db = new Database(0);
  for (let i = 0; i < 1_000_000; i++) db.set(`key:${i}`, `value:${i}`);
  Bun.gc(true); // the collection of building the dataset is not the walk's
  const snap = new DatasetSnapshot([db]);
  const out: SnapshotRecord[] = [];
  let worst = 0;
  let total = 0;
  let more = true;
  let i = 0;
  const t0 = performance.now();
  while (more) {
    const s = performance.now();
    out.length = 0;
    more = snap.next(4096, out);
    total += out.length;
    worst = Math.max(worst, performance.now() - s);
    // writes between steps, some to keys not reached yet, some deletions
    db.set(`key:${(i * 7919) % 1_000_000}`, "changed");
    db.delete(`key:${(i * 104729 + 13) % 1_000_000}`);
    i++;
  }
  const elapsed = performance.now() - t0;
  console.log(`1M-key walk: ${elapsed.toFixed(0)} ms, worst step ${worst.toFixed(1)} ms, ${snap.copiedOnWrite} kept`);
  expect(total).toBe(1_000_000);
  // The old per-key visited Set stalled 50-110 ms as it grew; a loaded machine adds its own.
  expect(worst).toBeLessThan(250);
});
