// FUNCTION DUMP / RESTORE payloads (functions.c): one RDB_OPCODE_FUNCTION2 record per library
// (the opcode, then the library code as an RDB string, LZF-compressed when Redis would), the
// RDB version as 2 bytes little endian, and the CRC-64 of all that, 8 bytes little endian.

import { OP_FUNCTION2, OP_FUNCTION_PRE_GA } from "../../rdb/constants.ts";
import { lzfDecompress } from "../../rdb/lzf.ts";
import { finishDumpPayload, RDB_VERSION, RdbWriter, rdbWriteOptions } from "../../rdb/writer.ts";
import type { Server } from "../../core/server.ts";

export function encodeFunctionsPayload(server: Server, codes: string[]): Buffer {
  const w = new RdbWriter({ ...rdbWriteOptions(server.config), checksum: false }, 256);
  for (const code of codes) w.functionLibrary(code);
  return finishDumpPayload(w, RDB_VERSION);
}

/** Reads an RDB length at pos: [value, next pos, encoded?] or null when truncated. */
function readLength(p: Buffer, pos: number, end: number): [number, number, boolean] | null {
  if (pos >= end) return null;
  const b = p[pos]!;
  const type = b >> 6;
  if (type === 0) return [b & 0x3f, pos + 1, false];
  if (type === 1) {
    if (pos + 2 > end) return null;
    return [((b & 0x3f) << 8) | p[pos + 1]!, pos + 2, false];
  }
  if (type === 3) return [b & 0x3f, pos + 1, true];
  if (b === 0x80) {
    if (pos + 5 > end) return null;
    return [p.readUInt32BE(pos + 1), pos + 5, false];
  }
  if (b === 0x81) {
    if (pos + 9 > end) return null;
    const v = p.readBigUInt64BE(pos + 1);
    if (v > BigInt(end)) return null;
    return [Number(v), pos + 9, false];
  }
  return null;
}

/** rdbGenericLoadStringObject: the string at pos, or null when malformed/truncated. */
function readString(p: Buffer, pos: number, end: number): [string, number] | null {
  const l = readLength(p, pos, end);
  if (!l) return null;
  const [len, at, encoded] = l;
  if (!encoded) {
    if (at + len > end) return null;
    return [p.latin1Slice(at, at + len), at + len];
  }
  switch (len) {
    case 0:
      if (at + 1 > end) return null;
      return [String(p.readInt8(at)), at + 1];
    case 1:
      if (at + 2 > end) return null;
      return [String(p.readInt16LE(at)), at + 2];
    case 2:
      if (at + 4 > end) return null;
      return [String(p.readInt32LE(at)), at + 4];
    case 3: {
      const cl = readLength(p, at, end);
      if (!cl || cl[2]) return null;
      const ul = readLength(p, cl[1], end);
      if (!ul || ul[2]) return null;
      const start = ul[1];
      if (start + cl[0] > end || ul[0] > 512 * 1024 * 1024) return null;
      try {
        const out = lzfDecompress(p, start, start + cl[0], ul[0]);
        return [out.latin1Slice(0, out.length), start + cl[0]];
      } catch {
        return null;
      }
    }
    default:
      return null;
  }
}

/** The library codes of a verified payload, or the error text. */
export function decodeFunctionsPayload(p: Buffer): string[] | string {
  const end = p.length - 10;
  const codes: string[] = [];
  let pos = 0;
  while (pos < end) {
    const type = p[pos++]!;
    if (type !== OP_FUNCTION2 && type !== OP_FUNCTION_PRE_GA) return "given type is not a function";
    if (type === OP_FUNCTION_PRE_GA) return "Pre-GA function format not supported";
    const s = readString(p, pos, end);
    if (!s) return "Failed loading library payload";
    codes.push(s[0]);
    pos = s[1];
  }
  return codes;
}
