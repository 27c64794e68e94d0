// A prototype of the load path docs/keyspace-design.md proposes: RDB string records decoded
// straight into a Keyspace, bytes to bytes, with no JS string or object per key. Only what a
// dump of string keys holds (AUX, SELECTDB, RESIZEDB, expiry opcodes, IDLE/FREQ, string records
// in every string encoding: raw, integer, LZF); anything else throws. The real loader would be
// src/rdb/reader.ts with a byte sink for strings; this is for the benchmarks.

import { lzfDecompressInto } from "../src/rdb/lzf.ts";
import { Keyspace } from "../src/store/keyspace/keyspace.ts";

const TWO_POW_32 = 4294967296;

export interface DecodeResult {
  keys: number;
  dbs: Map<number, Keyspace>;
}

/** Decodes a whole RDB (strings only) into one keyspace per database. */
export function decodeStringRdb(buf: Uint8Array, newKeyspace: (expectedKeys: number) => Keyspace): DecodeResult {
  if (String.fromCharCode(...buf.subarray(0, 5)) !== "REDIS") throw new Error("not an RDB");
  let p = 9;
  const dbs = new Map<number, Keyspace>();
  let db = 0;
  let ks: Keyspace | null = null;
  let expire = -1;
  let keys = 0;
  // Where the last string read lives: in `buf` or in a scratch buffer (integers, LZF).
  let sBuf: Uint8Array = buf;
  let sStart = 0;
  let sLen = 0;
  // Two scratch buffers: the key's (if it needed one) must survive reading the value.
  const scratch = [Buffer.allocUnsafe(1 << 16), Buffer.allocUnsafe(1 << 16)];
  let lenIsEncoded = false;

  const readLength = (): number => {
    const first = buf[p++]!;
    const type = first >> 6;
    lenIsEncoded = false;
    if (type === 0) return first & 0x3f;
    if (type === 1) return ((first & 0x3f) << 8) | buf[p++]!;
    if (type === 3) {
      lenIsEncoded = true;
      return first & 0x3f;
    }
    if (first === 0x80) {
      const v = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
      p += 4;
      return v;
    }
    if (first === 0x81) {
      const hi = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
      const lo = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!) >>> 0;
      p += 8;
      return hi * TWO_POW_32 + lo;
    }
    throw new Error(`bad length byte ${first}`);
  };

  /** Reads a string into (sBuf, sStart, sLen); `which` picks the scratch buffer if one is needed. */
  const readString = (which: number): void => {
    const len = readLength();
    if (!lenIsEncoded) {
      sBuf = buf;
      sStart = p;
      sLen = len;
      p += len;
      return;
    }
    let out = scratch[which]!;
    if (len === 3) {
      const clen = readLength();
      const ulen = readLength();
      if (ulen > out.length) out = scratch[which] = Buffer.allocUnsafe(ulen);
      lzfDecompressInto(buf, p, p + clen, out, ulen);
      p += clen;
      sBuf = out;
      sStart = 0;
      sLen = ulen;
      return;
    }
    let v: number;
    if (len === 0) v = (buf[p++]! << 24) >> 24;
    else if (len === 1) {
      v = ((buf[p]! | (buf[p + 1]! << 8)) << 16) >> 16;
      p += 2;
    } else if (len === 2) {
      v = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
      p += 4;
    } else throw new Error(`bad string encoding ${len}`);
    sBuf = out;
    sStart = 0;
    sLen = out.latin1Write(String(v), 0);
  };

  for (;;) {
    const op = buf[p++]!;
    if (op === 0xff) break; // EOF (checksum not verified here)
    if (op === 0xfa) {
      readString(0);
      readString(1);
      continue;
    }
    if (op === 0xfe) {
      db = readLength();
      ks = dbs.get(db) ?? null;
      continue;
    }
    if (op === 0xfb) {
      const size = readLength();
      readLength();
      if (ks === null) {
        ks = newKeyspace(size);
        dbs.set(db, ks);
      }
      continue;
    }
    if (op === 0xfc) {
      const lo = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
      const hi = (buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24)) >>> 0;
      p += 8;
      expire = hi * TWO_POW_32 + lo;
      continue;
    }
    if (op === 0xfd) {
      expire = ((buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0) * 1000;
      p += 4;
      continue;
    }
    if (op === 0xf8) {
      readLength();
      continue;
    }
    if (op === 0xf9) {
      p++;
      continue;
    }
    if (op !== 0) throw new Error(`record type ${op} is not handled by this prototype (strings only)`);
    if (ks === null) {
      ks = newKeyspace(0);
      dbs.set(db, ks);
    }
    readString(0);
    const kBuf = sBuf;
    const kStart = sStart;
    const kLen = sLen;
    readString(1);
    if (!ks.addBytes(kBuf, kStart, kLen, sBuf, sStart, sLen, expire)) throw new Error("duplicate key in RDB");
    expire = -1;
    keys++;
  }
  return { keys, dbs };
}
