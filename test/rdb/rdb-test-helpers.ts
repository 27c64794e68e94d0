// Helpers shared by the RDB reader tests: a sink that records everything the parser reports,
// plain views of values, a seeded random generator, chunked feeding, and a reference intset
// decoder.

import { StructureError } from "../../src/encoding/structure-error.ts";
import { plainValue, type ByteStringCodec } from "../../src/rdb/export.ts";
import { RdbParser, type PreGaFunctionLibrary, type RdbReaderOptions, type RdbSink } from "../../src/rdb/reader.ts";
import type { RedisValue } from "../../src/store/values.ts";

export interface RecordedKey {
  db: number;
  key: string;
  value: RedisValue;
  expireMs: number;
  lruIdle: number;
  lfuFreq: number;
  /** The RDB type byte (encoding on disk). */
  type: number;
  fieldTtls?: Map<string, number>;
}

/** Records every sink call, in order. */
export class Recorder implements RdbSink {
  parser: RdbParser | null = null;
  readonly keys: RecordedKey[] = [];
  readonly index = new Map<string, RecordedKey>();
  readonly auxFields = new Map<string, string>();
  auxCount = 0;
  readonly functions: string[] = [];
  readonly preGaFunctions: PreGaFunctionLibrary[] = [];
  readonly moduleAuxRecords: Array<{ moduleId: bigint; payload: Buffer }> = [];
  readonly slotInfos: Array<[number, number, number]> = [];
  readonly empty: Array<{ db: number; key: string; type: number }> = [];
  readonly selected = new Set<number>();
  readonly resizes: Array<[number, number, number]> = [];
  private pendingTtls: Map<string, number> | null = null;

  key(db: number, key: string, value: RedisValue, expireMs: number, lruIdle: number, lfuFreq: number): void {
    const rec: RecordedKey = { db, key, value, expireMs, lruIdle, lfuFreq, type: this.parser?.valueType ?? -1 };
    if (this.pendingTtls) rec.fieldTtls = this.pendingTtls;
    this.pendingTtls = null;
    this.keys.push(rec);
    this.index.set(`${db}\u0000${key}`, rec);
  }
  aux(name: string, value: string): void {
    this.auxFields.set(name, value);
    this.auxCount++;
  }
  resizeDb(db: number, size: number, expires: number): void {
    this.resizes.push([db, size, expires]);
  }
  selectDb(db: number): void {
    this.selected.add(db);
  }
  function(code: string): void {
    this.functions.push(code);
  }
  functionPreGa(library: PreGaFunctionLibrary): void {
    this.preGaFunctions.push(library);
  }
  moduleAux(moduleId: bigint, payload: Buffer): void {
    this.moduleAuxRecords.push({ moduleId, payload });
  }
  slotInfo(slot: number, size: number, expiresSize: number): void {
    this.slotInfos.push([slot, size, expiresSize]);
  }
  hashFieldTtls(_db: number, _key: string, ttls: Map<string, number>): void {
    this.pendingTtls = ttls;
  }
  emptyKey(db: number, key: string): void {
    this.empty.push({ db, key, type: this.parser?.valueType ?? -1 });
  }

  get(key: string, db = 0): RecordedKey | undefined {
    return this.index.get(`${db}\u0000${key}`);
  }
}

/** Byte strings stay latin1 JS strings (one char per byte). */
export const latin1Codec: ByteStringCodec<string> = { bytes: (s) => s, buffer: (b) => b.toString("latin1") };

/** A value as plain data with latin1 strings (see plainValue). */
export function plain(v: RedisValue, ttls?: Map<string, number>): unknown {
  return plainValue(v, latin1Codec, false, ttls);
}

/** The latin1 form (one char per byte) of text given as a JS (UTF-16) string. */
export function u8(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

export interface ParseOutcome {
  rec: Recorder;
  parser: RdbParser;
  error: Error | null;
}

/** Parses `data` in one piece (or in chunks of sizes drawn from `chunkSizes`). */
export function parseRdb(data: Buffer, options: RdbReaderOptions = {}, chunkSizes?: () => number): ParseOutcome {
  const rec = new Recorder();
  const parser = new RdbParser(rec, { maxDatabases: 64, ...options });
  rec.parser = parser;
  try {
    if (!chunkSizes) parser.feed(data);
    else {
      for (let p = 0; p < data.length; ) {
        const n = Math.max(1, chunkSizes());
        parser.feed(data.subarray(p, p + n));
        p += n;
      }
    }
    parser.end();
    return { rec, parser, error: null };
  } catch (e) {
    return { rec, parser, error: e as Error };
  }
}

/** A digest of everything recorded, to compare two parses of the same bytes. */
export function digest(rec: Recorder): string {
  const h = new Bun.CryptoHasher("sha1");
  for (const k of rec.keys) {
    h.update(JSON.stringify([k.db, k.key, k.expireMs, k.lruIdle, k.lfuFreq, k.type, plain(k.value, k.fieldTtls)], (_, v) => (typeof v === "bigint" ? `${v}n` : v)));
  }
  h.update(JSON.stringify([[...rec.auxFields], rec.functions, rec.preGaFunctions, rec.moduleAuxRecords.map((m) => [String(m.moduleId), m.payload.toString("hex")]), rec.slotInfos, rec.empty]));
  return h.digest("hex");
}

/**
 * A reference intset decoder (the members as decimal strings, validating size, width and
 * order with the messages of src/encoding/intset.ts), written plainly to check the store's
 * intset form and the encoder against.
 */
export function decodeIntset(buf: Uint8Array, start: number, end: number): string[] {
  const fail = (at: number, message: string): never => {
    throw new StructureError("intset", at, message);
  };
  const size = end - start;
  if (size < 8) fail(0, `${size} bytes is too short for an intset`);
  const view = Buffer.from(buf.buffer, buf.byteOffset + start, size);
  const width = view.readUInt32LE(0);
  if (width !== 2 && width !== 4 && width !== 8) fail(0, `invalid element width ${width}`);
  const length = view.readUInt32LE(4);
  if (8 + length * width !== size) fail(4, `${length} elements of ${width} bytes do not fill ${size} bytes`);
  const out: string[] = [];
  let prev: bigint | null = null;
  for (let i = 0, p = 8; i < length; i++, p += width) {
    const v = width === 2 ? BigInt(view.readInt16LE(p)) : width === 4 ? BigInt(view.readInt32LE(p)) : view.readBigInt64LE(p);
    if (prev !== null && !(v > prev)) fail(p, "elements are not strictly ascending");
    prev = v;
    out.push(String(v));
  }
  return out;
}
