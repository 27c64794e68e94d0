import { describe, expect, test } from "bun:test";
import { ProtocolError, RequestParser } from "../../src/protocol/request-parser.ts";

function parseAll(input: Buffer | string, chunkSizes?: number[], opts: Partial<ConstructorParameters<typeof RequestParser>[0]> = {}) {
  const p = new RequestParser({ maxBulkLength: 512 * 1024 * 1024, ...opts });
  const bytes = typeof input === "string" ? Buffer.from(input, "latin1") : input;
  const out: Array<{ argv: string[]; bytes: number }> = [];
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    const size = chunkSizes ? chunkSizes[i++ % chunkSizes.length]! : bytes.length;
    p.feed(bytes.subarray(pos, pos + size));
    pos += size;
    for (let argv = p.next(); argv; argv = p.next()) out.push({ argv, bytes: p.lastCommandBytes });
  }
  return out;
}

describe("RequestParser", () => {
  test("multibulk commands with exact byte counts", () => {
    const input = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$3\r\nxyz\r\n*1\r\n$4\r\nPING\r\n";
    const r = parseAll(input);
    expect(r.map((x) => x.argv)).toEqual([["SET", "a", "xyz"], ["PING"]]);
    expect(r[0]!.bytes + r[1]!.bytes).toBe(input.length);
    expect(r[1]!.bytes).toBe(14);
  });

  test("any chunking gives the same commands and byte counts", () => {
    const parts: string[] = [];
    for (let i = 0; i < 200; i++) {
      const v = "v".repeat(i * 7);
      parts.push(`*3\r\n$3\r\nSET\r\n$${String(i).length + 1}\r\nk${i}\r\n$${v.length}\r\n${v}\r\n`);
    }
    const input = parts.join("");
    const whole = parseAll(input);
    for (const sizes of [[1], [2, 3], [7], [13, 1, 64], [4096]]) {
      expect(parseAll(input, sizes)).toEqual(whole);
    }
    expect(whole.reduce((n, x) => n + x.bytes, 0)).toBe(input.length);
  });

  test("binary-safe arguments round-trip through latin1", () => {
    const value = Buffer.from([0, 1, 2, 13, 10, 255, 128, 36, 42]);
    const input = Buffer.concat([Buffer.from(`*2\r\n$3\r\nGET\r\n$${value.length}\r\n`), value, Buffer.from("\r\n")]);
    const [cmd] = parseAll(input, [3]);
    expect(Buffer.from(cmd!.argv[1]!, "latin1").equals(value)).toBe(true);
  });

  test("a large bulk argument arriving in many chunks", () => {
    const big = "x".repeat(3 * 1024 * 1024 + 17);
    const input = `*2\r\n$4\r\nECHO\r\n$${big.length}\r\n${big}\r\n*1\r\n$4\r\nPING\r\n`;
    const r = parseAll(input, [65536]);
    expect(r.length).toBe(2);
    expect(r[0]!.argv[1]!.length).toBe(big.length);
    expect(r[0]!.argv[1] === big).toBe(true);
    expect(r[1]!.argv).toEqual(["PING"]);
  });

  test("inline commands, quotes, empty lines", () => {
    const r = parseAll('PING\r\nSET k "a b\\x41"\n\r\n  \r\nGET k\r\n');
    expect(r.map((x) => x.argv)).toEqual([["PING"], ["SET", "k", "a bA"], ["GET", "k"]]);
  });

  test("empty multibulk is skipped and its bytes count into the next command", () => {
    const r = parseAll("*0\r\n*1\r\n$4\r\nPING\r\n");
    expect(r).toEqual([{ argv: ["PING"], bytes: 18 }]);
  });

  const errors: Array<[string, string]> = [
    ["*abc\r\n", "Protocol error: invalid multibulk length"],
    ["*1\r\n!3\r\nfoo\r\n", "Protocol error: expected '$', got '!'"],
    ["*1\r\n$-5\r\n", "Protocol error: invalid bulk length"],
    ["*1\r\n$01\r\n", "Protocol error: invalid bulk length"],
    ['SET "unbalanced\r\n', "Protocol error: unbalanced quotes in request"],
  ];
  for (const [input, reply] of errors) {
    test(`protocol error: ${JSON.stringify(input)}`, () => {
      expect(() => parseAll(input)).toThrow(ProtocolError);
      try {
        parseAll(input);
      } catch (e) {
        expect((e as ProtocolError).reply).toBe(reply);
      }
    });
  }

  test("too big inline request / bulk length beyond proto-max-bulk-len", () => {
    expect(() => parseAll("x".repeat(70 * 1024))).toThrow("too big inline request");
    expect(() => parseAll("*1\r\n$2000000\r\n", undefined, { maxBulkLength: 1024 * 1024 })).toThrow("invalid bulk length");
  });

  test("a huge declared multibulk count does not allocate up front", () => {
    const p = new RequestParser({ maxBulkLength: 1024 });
    p.feed(Buffer.from("*2147483647\r\n$1\r\na\r\n"));
    expect(p.next()).toBeNull();
  });

  test("unauthenticated clients are limited like Redis", () => {
    const opts = { authRequired: () => true };
    expect(() => parseAll("*11\r\n", undefined, opts)).toThrow("unauth mbulk count");
    expect(() => parseAll("*1\r\n$16385\r\n", undefined, opts)).toThrow("unauth bulk length");
  });

  test("from the master: inline commands are a desync, newlines are keep-alives", () => {
    expect(parseAll("\n\n*1\r\n$4\r\nPING\r\n", undefined, { fromMaster: true })).toEqual([{ argv: ["PING"], bytes: 16 }]);
    expect(() => parseAll("PING\r\n", undefined, { fromMaster: true })).toThrow(ProtocolError);
    expect(() => parseAll("*1\r\n$4\r\nPINGxx", undefined, { fromMaster: true })).toThrow(ProtocolError);
  });

  test("peekArguments: the key and third argument of each complete multibulk ahead, nothing consumed", () => {
    const p = new RequestParser({ maxBulkLength: 512 * 1024 * 1024 });
    const input = "*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n*3\r\n$4\r\nHGET\r\n$1\r\nh\r\n$7\r\nfield:2\r\n*4\r\n$4\r\nHSET\r\n$0\r\n\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$3\r\nabc";
    const buf = Buffer.from(input, "latin1");
    p.feed(buf);
    const out = new Int32Array(16 * 4);
    const n = p.peekArguments(out, 16);
    // The fourth command is not complete.
    expect(n).toBe(3);
    const arg = (k: number, which: 0 | 1) => (out[k * 4 + which * 2 + 1]! < 0 ? null : p.readBuffer.latin1Slice(out[k * 4 + which * 2]!, out[k * 4 + which * 2]! + out[k * 4 + which * 2 + 1]!));
    expect([arg(0, 0), arg(0, 1), arg(1, 0), arg(1, 1), arg(2, 0), arg(2, 1)]).toEqual(["key:1", null, "h", "field:2", "", "f"]);
    expect(p.peekArguments(out, 2)).toBe(2);
    // Nothing was consumed: the commands come out as before.
    expect(p.next()).toEqual(["GET", "key:1"]);
    expect(p.next()).toEqual(["HGET", "h", "field:2"]);
    // From the next command on.
    expect(p.peekArguments(out, 16)).toBe(1);
    expect(p.next()).toEqual(["HSET", "", "f", "v"]);
    expect(p.next()).toBeNull();
    // Inside a command, nothing.
    expect(p.peekArguments(out, 16)).toBe(0);
  });

  test("peekArguments stops at an inline command, a one-argument command or a malformed one", () => {
    const out = new Int32Array(16 * 4);
    const peek = (input: string) => {
      const p = new RequestParser({ maxBulkLength: 512 * 1024 * 1024 });
      p.feed(Buffer.from(input, "latin1"));
      return p.peekArguments(out, 16);
    };
    const get = "*2\r\n$3\r\nGET\r\n$1\r\na\r\n";
    expect(peek(get + "PING\r\n" + get)).toBe(1);
    expect(peek(get + "*1\r\n$4\r\nPING\r\n" + get)).toBe(1);
    expect(peek(get + "*2\r\n$3\r\nGET\r\n$x\r\na\r\n")).toBe(1);
    expect(peek(get + "*-1\r\n" + get)).toBe(1);
    expect(peek(get + "*2\r\n$3\r\nGET\r\n$99999999999\r\na\r\n")).toBe(1);
    expect(peek(get.repeat(20))).toBe(16);
  });
});
