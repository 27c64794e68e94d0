// encodeCommand (protocol/reply-parser.ts): its all-strings fast path writes the same bytes as a
// plain concatenation, whatever the argument lengths (digit counts), and mixed arguments too.

import { expect, test } from "bun:test";
import { encodeCommand } from "../../src/protocol/reply-parser.ts";

function reference(args: Array<string | number | Uint8Array>): Buffer {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === "string" ? Buffer.from(a, "latin1") : typeof a === "number" ? Buffer.from(String(a)) : Buffer.from(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

test("the same bytes as a plain concatenation", () => {
  const cases: Array<Array<string | number | Uint8Array>> = [
    ["PING"],
    ["SET", "k", ""],
    ["SET", "k\u00e9\u00ff\u0000", "v\r\n"],
    Array.from({ length: 12 }, (_, i) => "x".repeat(i * 997)),
    ["A".repeat(99999), "B".repeat(100000)],
    ["SELECT", 3, Uint8Array.of(0, 1, 2)],
  ];
  for (const args of cases) expect(encodeCommand(args).equals(reference(args))).toBe(true);
});
