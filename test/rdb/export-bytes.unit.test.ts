// The byte-string convention shared by `rdb export` and `feed` (src/rdb/export.ts): valid UTF-8
// as text (a leading BOM kept), anything else as base64 (JSON) or bin (MessagePack).

import { expect, test } from "bun:test";
import { jsonBytes, msgpackBytes } from "../../src/rdb/export.ts";

test("UTF-8 text, kept whole; other bytes as base64 / bin; latin1 strings and Buffers alike", () => {
  const bom = "\xef\xbb\xbfA";
  expect(jsonBytes.bytes(bom)).toBe("\ufeffA");
  expect(jsonBytes.buffer(Buffer.from(bom, "latin1"))).toBe("\ufeffA");
  expect(jsonBytes.bytes("h\xc3\xa9")).toBe("hé");
  expect(jsonBytes.bytes("\xc3\x28")).toEqual({ base64: "wyg=" });
  expect(jsonBytes.buffer(Buffer.from([0xc3, 0x28]))).toEqual({ base64: "wyg=" });
  expect(msgpackBytes.bytes("\xff")).toEqual(Buffer.from([0xff]));
  expect(msgpackBytes.buffer(Buffer.from("ok"))).toBe("ok");
});
