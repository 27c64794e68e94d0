import { describe, expect, test } from "bun:test";
import { ReplyBufferPool, ReplyWriter } from "../../src/protocol/reply-writer.ts";
import { formatDouble, formatG } from "../../src/protocol/format-double.ts";
import { ReplyParser } from "../../src/protocol/reply-parser.ts";

function written(fn: (w: ReplyWriter) => void, resp: 2 | 3 = 2): string {
  const w = new ReplyWriter();
  w.resp = resp;
  fn(w);
  return w.view().toString("latin1");
}

describe("ReplyWriter", () => {
  test("RESP2 basics", () => {
    expect(written((w) => w.ok())).toBe("+OK\r\n");
    expect(written((w) => w.error("ERR bad\r\nthing"))).toBe("-ERR bad  thing\r\n");
    expect(written((w) => w.int(-42))).toBe(":-42\r\n");
    expect(written((w) => w.bulk("h\xe9\x00"))).toBe("$3\r\nh\xe9\x00\r\n");
    expect(written((w) => w.nullBulk())).toBe("$-1\r\n");
    expect(written((w) => w.nullArray())).toBe("*-1\r\n");
    expect(written((w) => w.map(2))).toBe("*4\r\n");
    expect(written((w) => w.double(1.5))).toBe("$3\r\n1.5\r\n");
    expect(written((w) => w.bool(true))).toBe(":1\r\n");
  });

  test("a deferred array length goes in front of its elements, after what came before", () => {
    expect(
      written((w) => {
        w.ok();
        const mark = w.beginDeferredArray();
        w.bulk("a");
        w.bulk("b".repeat(40000)); // grows the buffer meanwhile
        w.endDeferredArray(mark, 2);
        w.int(1);
      }),
    ).toBe(`+OK\r\n*2\r\n$1\r\na\r\n$40000\r\n${"b".repeat(40000)}\r\n:1\r\n`);
    expect(written((w) => w.endDeferredArray(w.beginDeferredArray(), 0))).toBe("*0\r\n");
  });

  test("RESP3 forms", () => {
    expect(written((w) => w.nullBulk(), 3)).toBe("_\r\n");
    expect(written((w) => w.map(2), 3)).toBe("%2\r\n");
    expect(written((w) => w.set(1), 3)).toBe("~1\r\n");
    expect(written((w) => w.double(1.1), 3)).toBe(",1.1000000000000001\r\n");
    expect(written((w) => w.verbatim("ab"), 3)).toBe("=6\r\ntxt:ab\r\n");
    expect(written((w) => w.bool(false), 3)).toBe("#f\r\n");
  });

  test("grows past its initial capacity and round-trips through the reply parser", () => {
    const w = new ReplyWriter();
    const values = Array.from({ length: 5000 }, (_, i) => "v".repeat(i % 97) + i);
    w.bulkArray(values);
    const p = new ReplyParser();
    p.feed(Buffer.from(w.view()));
    expect(p.next()).toEqual(values);
  });
});

describe("double formatting as Redis 7.0 (%.17g)", () => {
  const cases: Array<[number, string]> = [
    [0, "0"],
    [1, "1"],
    [-2.5, "-2.5"],
    [1.1, "1.1000000000000001"],
    [0.1, "0.10000000000000001"],
    [3.14159, "3.1415899999999999"],
    [1e20, "1e+20"],
    [1.5e-7, "1.4999999999999999e-07"],
    [123456789012345680, "1.2345678901234568e+17"],
    [12345678901234567, "12345678901234568"],
    [0.0001, "0.0001"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
  ];
  for (const [d, s] of cases) test(`${d} -> ${s}`, () => expect(formatDouble(d)).toBe(s));
  test("other precisions", () => {
    expect(formatG(2.5, 6)).toBe("2.5");
    expect(formatG(1234567, 6)).toBe("1.23457e+06");
  });
});

describe("reply headers written digit by digit", () => {
  test("integers, array lengths and bulk lengths of every digit count, short and long bodies", () => {
    // Both sides of the 32-bit digit loop (up to 2^31 - 1) and every power of ten up to 2^53.
    const values = [0, 1, 9, 10, 99, 100, 999, 1000, 12345, 999999, 1000000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 7, 2 ** 40, Number.MAX_SAFE_INTEGER];
    for (let x = 1; x <= 1e15; x *= 10) values.push(x - 1, x, x + 1);
    for (let i = 0; i < 2000; i++) values.push(Math.floor(Math.random() * 2 ** (1 + (i % 53))));
    for (const n of values) {
      expect(written((w) => w.int(n))).toBe(`:${n}\r\n`);
      expect(written((w) => w.array(n))).toBe(`*${n}\r\n`);
    }
    for (const n of [-1, -12345, 2 ** 60, 1.5]) expect(written((w) => w.int(n))).toBe(`:${n}\r\n`);
    expect(written((w) => w.int(2n ** 63n - 1n))).toBe(":9223372036854775807\r\n");
    expect(written((w) => w.array(-1))).toBe("*-1\r\n");
    for (const len of [0, 1, 23, 24, 25, 100, 1000, 70000]) {
      const body = String.fromCharCode(...Array.from({ length: Math.min(len, 256) }, (_, i) => i)).repeat(Math.ceil(len / 256)).slice(0, len);
      expect(written((w) => w.bulk(body))).toBe(`$${len}\r\n${body}\r\n`);
    }
  });
});

describe("reply buffers lent by a pool", () => {
  test("an idle writer holds no buffer; a batch borrows one, the next writer gets it back", () => {
    const pool = new ReplyBufferPool();
    const a = new ReplyWriter(pool);
    const b = new ReplyWriter(pool);
    expect(a.capacity).toBe(0);
    a.bulk("hello");
    expect(a.capacity).toBe(16384);
    expect(a.view().toString("latin1")).toBe("$5\r\nhello\r\n");
    const lent = a.view().buffer;
    a.reset();
    expect(a.capacity).toBe(0);
    b.int(7);
    expect(b.view().buffer).toBe(lent);
    expect(b.view().toString("latin1")).toBe(":7\r\n");
  });

  test("a reply bigger than the standard buffer grows past it; the big one is not pooled", () => {
    const pool = new ReplyBufferPool();
    const w = new ReplyWriter(pool);
    const big = "x".repeat(40000);
    w.bulk("a");
    w.bulk(big);
    expect(w.view().toString("latin1")).toBe(`$1\r\na\r\n$40000\r\n${big}\r\n`);
    w.reset();
    w.bulk(big);
    expect(w.capacity).toBeGreaterThanOrEqual(40000);
    w.reset();
    expect(new ReplyWriter(pool).capacity).toBe(0);
  });
});
