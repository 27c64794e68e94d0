// The delayed replica's spool (replication/delay-spool.ts): records read back in order with
// their arrival times, across a change of replication ID (a new segment); a torn last record cut
// on open; dropped ranges replaced by a no-op of the same length that a master-link parser
// consumes whole without running anything but PING.

import { afterAll, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DelaySpool, noopOfLength } from "../../src/replication/delay-spool.ts";
import { RequestParser } from "../../src/protocol/request-parser.ts";

const root = mkdtempSync(join(tmpdir(), "delay-spool-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ID_A = "a".repeat(40);
const ID_B = "b".repeat(40);

function readAll(spool: DelaySpool, from: number): { bytes: string; arrivals: number[] } {
  const c = spool.cursor(from);
  let bytes = "";
  const arrivals: number[] = [];
  for (;;) {
    const a = c.peekArrival();
    const piece = c.take();
    if (piece === null) break;
    arrivals.push(a!);
    bytes += piece.toString("latin1");
  }
  c.close();
  return { bytes, arrivals };
}

test("records come back in order from any offset, across a new segment for a new replication ID", () => {
  const dir = join(root, "order");
  const spool = DelaySpool.create(dir, ID_A, 100);
  spool.append(Buffer.from("hello "), 1000, ID_A);
  spool.append(Buffer.from("world"), 2000, ID_A);
  spool.append(Buffer.from("!!"), 3000, ID_B);
  expect([spool.start, spool.end, spool.replid]).toEqual([100, 113, ID_B]);
  expect(readdirSync(dir).filter((n) => n.endsWith(".seg")).length).toBe(2);
  expect(readAll(spool, 100)).toEqual({ bytes: "hello world!!", arrivals: [1000, 2000, 3000] });
  expect(readAll(spool, 108).bytes).toBe("rld!!");
  expect(readAll(spool, 113).bytes).toBe("");
  // A cursor stops at a limit inside a record.
  const c = spool.cursor(100);
  expect(c.take(103)!.toString()).toBe("hel");
  expect(c.take()!.toString()).toBe("lo ");
  c.close();
  spool.close();
  const again = DelaySpool.open(dir, () => {})!;
  expect([again.start, again.end, again.replid]).toEqual([100, 113, ID_B]);
  // Segments wholly before an offset go (never the last).
  again.release(111);
  expect(again.start).toBe(111);
  again.destroy();
});

test("a torn last record (a crash mid-write) is cut off on open, and appending goes on after it", () => {
  const dir = join(root, "torn");
  const spool = DelaySpool.create(dir, ID_A, 0);
  spool.append(Buffer.from("*1\r\n$4\r\nPING\r\n"), 1, ID_A);
  spool.append(Buffer.from("*1\r\n$8\r\nFLUSHALL\r\n"), 2, ID_A);
  spool.close();
  const seg = join(dir, readdirSync(dir).find((n) => n.endsWith(".seg"))!);
  truncateSync(seg, statSync(seg).size - 3);
  const warnings: string[] = [];
  const reopened = DelaySpool.open(dir, (m) => warnings.push(m))!;
  expect(warnings.join()).toContain("incomplete record");
  expect(reopened.end).toBe(14);
  reopened.append(Buffer.from("*1\r\n$4\r\nPING\r\n"), 3, ID_A);
  expect(readAll(reopened, 0).bytes).toBe("*1\r\n$4\r\nPING\r\n".repeat(2));
  reopened.close();
  // Garbage after the last record (a header whose CRC does not match) is cut the same way.
  appendFileSync(seg, Buffer.alloc(40, 7));
  const again = DelaySpool.open(dir, () => {})!;
  expect(again.end).toBe(28);
  again.destroy();
});

test("a dropped range reads back as a no-op of its length, durably", () => {
  const dir = join(root, "drops");
  const spool = DelaySpool.create(dir, ID_A, 10);
  const flush = "*1\r\n$8\r\nFLUSHALL\r\n";
  const set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$30\r\n" + "v".repeat(30) + "\r\n";
  spool.append(Buffer.from(flush.slice(0, 5)), 1, ID_A);
  spool.append(Buffer.from(flush.slice(5) + set), 2, ID_A);
  spool.drop(10, 10 + flush.length);
  spool.drop(10 + flush.length, 10 + flush.length + set.length);
  spool.close();
  const again = DelaySpool.open(dir, () => {})!;
  const bytes = readAll(again, 10).bytes;
  expect(bytes.length).toBe(flush.length + set.length);
  const parser = new RequestParser({ maxBulkLength: 1 << 30, fromMaster: true });
  parser.feed(Buffer.from(bytes, "latin1"));
  const commands: string[][] = [];
  for (let argv = parser.next(); argv !== null; argv = parser.next()) commands.push(argv);
  expect(commands.map((c) => c[0])).toEqual(["PING"]);
  again.destroy();
});

test("noopOfLength: every length is consumed whole, as PING or keep-alive newlines only", () => {
  for (let n = 0; n <= 400; n++) {
    const noop = noopOfLength(n);
    expect(noop.length).toBe(n);
    const parser = new RequestParser({ maxBulkLength: 1 << 30, fromMaster: true });
    parser.feed(Buffer.concat([noop, Buffer.from("*1\r\n$4\r\nECHO\r\n")]));
    let consumed = 0;
    const names: string[] = [];
    for (let argv = parser.next(); argv !== null; argv = parser.next()) {
      names.push(argv[0]!);
      consumed += parser.lastCommandBytes;
    }
    // The ECHO after it parses: the no-op left the stream in step; its bytes all counted.
    expect(names.at(-1)).toBe("ECHO");
    expect(names.slice(0, -1).every((x) => x === "PING")).toBe(true);
    expect(consumed).toBe(n + 14);
  }
  expect(noopOfLength(5000).subarray(0, 14).toString()).toBe("*2\r\n$4\r\nPING\r\n");
});
