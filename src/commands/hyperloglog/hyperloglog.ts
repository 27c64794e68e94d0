// HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST (hyperloglog.c).
//
// An HLL is an ordinary string value (clients GET it, SET it back, replicas receive PFADD and
// PFMERGE and must build the same bytes), so every byte follows Redis: see hll-core.ts.
//
// Strings are immutable latin1 JS strings. Dense PFADD is the hot path: it reads registers with
// charCodeAt and rebuilds the value from slices around the few bytes that change (a rope that
// JSC flattens with one memcpy), instead of copying 12 KB into a Buffer and back. Sparse HLLs
// (at most hll-sparse-max-bytes) are edited in a Buffer.
//
// Cached cardinality: PFADD/PFMERGE set the "invalid" bit; PFCOUNT of one key recomputes and
// writes the cache back (a modification: dirty++, so a master propagates that PFCOUNT and its
// replicas rewrite their copy the same way).

import type { Client } from "../../core/client.ts";
import { isOption } from "../../core/args.ts";
import { CommandError, WRONGTYPE, fail } from "../../core/errors.ts";
import {
  HLL_CARD_MSB,
  HLL_DENSE,
  HLL_DENSE_SIZE,
  HLL_HDR_SIZE,
  HLL_REGISTERS,
  HLL_REGISTER_MAX,
  HLL_SPARSE,
  HllBytes,
  INVALID_HLL,
  NOT_HLL,
  createHll,
  decodeSparse,
  denseGet,
  denseSet,
  denseSetRegister,
  hllAdd,
  hllCount,
  hllCountRaw,
  hllMerge,
  hllPattern,
  isValidHll,
  patternCount,
  patternIndex,
  sparseSet,
  sparseToDense,
} from "./hll-core.ts";
import { StringEditor } from "../bitmaps/edit.ts";
import { lookupRead, lookupWrite, setKey, signalModified } from "../../core/keyspace.ts";
import { noteStringEncoding } from "../strings/encoding.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

/** Reused buffer for reading a value's bytes (counting, merging): valid until the next call. */
let scratch = Buffer.alloc(HLL_DENSE_SIZE + 64);

function bytesOf(s: string): Buffer {
  if (s.length + 1 > scratch.length) scratch = Buffer.alloc(s.length + 64);
  scratch.latin1Write(s, 0);
  scratch[s.length] = 0; // what Redis finds past the end of its sds: the terminator
  return scratch;
}

/** Registers merged by PFCOUNT (several keys) and PFMERGE. */
const maxRegisters = new Uint8Array(HLL_REGISTERS);

/** A key's value as a valid HLL string; throws Redis's errors (wrong type, not an HLL). */
function checkHll(v: unknown): string {
  if (typeof v !== "string") throw new CommandError(WRONGTYPE);
  if (!isValidHll(v)) throw new CommandError(NOT_HLL);
  return v;
}

function sparseMaxBytes(c: Client): number {
  return c.server.config.num("hll-sparse-max-bytes");
}

// ---- Dense PFADD on the string itself ----

const editor = new StringEditor();

/** Elements per PFADD up to which the dense string-editing path is used. */
const DENSE_EDIT_MAX_ELEMENTS = 32;

/** Elements of the last denseAdd() that raised a register (Redis's `updated`, for dirty). */
let lastDenseChanges = 0;

/** PFADD of argv[2..] to a dense HLL string: the new string, or null if no register changed. */
function denseAdd(s: string, argv: string[]): string | null {
  const ed = editor;
  ed.reset(s);
  let changes = 0;
  for (let j = 2; j < argv.length; j++) {
    const pattern = hllPattern(argv[j]!);
    const count = patternCount(pattern);
    const bit = patternIndex(pattern) * 6;
    const pos = HLL_HDR_SIZE + (bit >>> 3);
    const fb = bit & 7;
    const b0 = ed.get(pos);
    const b1 = ed.get(pos + 1); // past the last register: 0, as Redis reads its sds terminator
    const old = ((b0 >> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX;
    if (count <= old) continue;
    changes++;
    ed.set(pos, (b0 & ~(HLL_REGISTER_MAX << fb)) | (count << fb));
    if (pos + 1 < HLL_DENSE_SIZE) ed.set(pos + 1, (b1 & ~(HLL_REGISTER_MAX >> (8 - fb))) | (count >> (8 - fb)));
  }
  lastDenseChanges = changes;
  if (changes === 0) return null;
  ed.set(HLL_CARD_MSB, ed.get(HLL_CARD_MSB) | 0x80);
  const out = ed.apply();
  ed.reset("");
  return out;
}

// ---- Commands ----

/**
 * Every PF* command that finds or creates an HLL holds it as a raw sds (createHLLObject,
 * dbUnshareStringValue), whatever its size: OBJECT ENCODING says "raw" from then on.
 */
function keepRaw(db: Client["db"], key: string): void {
  const v = db.get(key);
  if (typeof v === "string") noteStringEncoding(db, key, v, "raw");
}

function pfadd(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const db = c.db;
  const v = lookupWrite(c, key);
  let h: HllBytes;
  let updated = 0;
  if (v === undefined) {
    h = createHll();
    updated++;
  } else {
    const s = checkHll(v);
    if (s.charCodeAt(4) === HLL_DENSE && argv.length - 2 <= DENSE_EDIT_MAX_ELEMENTS) {
      const next = denseAdd(s, argv);
      if (next !== null) {
        db.set(key, next);
        signalModified(c, key, db, lastDenseChanges);
        notifyKeyspaceEvent(c, NotifyClass.String, "pfadd", key);
      }
      keepRaw(db, key);
      c.reply.int(next !== null ? 1 : 0);
      return;
    }
    h = HllBytes.fromLatin1(s, 64);
  }
  const maxBytes = sparseMaxBytes(c);
  for (let j = 2; j < argv.length; j++) {
    const r = hllAdd(h, argv[j]!, maxBytes);
    if (r === 1) updated++;
    else if (r === -1) {
      // Redis edits the value in place and stops at the corrupt spot: what was added stays
      // (without dirty/signal), exactly like hyperloglog.c.
      if (updated) db.set(key, h.toLatin1());
      keepRaw(db, key);
      fail(INVALID_HLL);
    }
  }
  if (updated) {
    h.invalidateCache();
    db.set(key, h.toLatin1());
    signalModified(c, key, db, updated);
    notifyKeyspaceEvent(c, NotifyClass.String, "pfadd", key);
  }
  keepRaw(db, key);
  c.reply.int(updated ? 1 : 0);
}

/** The cached cardinality of a valid-cache HLL string (bytes 8..15, little endian). */
function cachedCard(s: string): number | bigint {
  const lo = (s.charCodeAt(8) | (s.charCodeAt(9) << 8) | (s.charCodeAt(10) << 16) | (s.charCodeAt(11) << 24)) >>> 0;
  const hi = (s.charCodeAt(12) | (s.charCodeAt(13) << 8) | (s.charCodeAt(14) << 16) | (s.charCodeAt(15) << 24)) >>> 0;
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function withCachedCard(s: string, card: number): string {
  let bytes = "";
  let n = card;
  for (let i = 0; i < 8; i++) {
    bytes += String.fromCharCode(n % 256);
    n = Math.floor(n / 256);
  }
  return s.slice(0, 8) + bytes + s.slice(HLL_HDR_SIZE);
}

function pfcount(c: Client, argv: string[]): void {
  if (argv.length > 2) {
    // The cardinality of the union: merge into raw registers, nothing is modified.
    const max = maxRegisters;
    max.fill(0);
    for (let j = 1; j < argv.length; j++) {
      const v = lookupRead(c, argv[j]!);
      if (v === undefined) continue;
      const s = checkHll(v);
      if (!hllMerge(max, bytesOf(s), s.length)) fail(INVALID_HLL);
    }
    c.reply.int(hllCountRaw(max));
    return;
  }
  const key = argv[1]!;
  const v = lookupRead(c, key);
  if (v === undefined) {
    c.reply.int(0);
    return;
  }
  const s = checkHll(v);
  keepRaw(c.db, key);
  if ((s.charCodeAt(HLL_CARD_MSB) & 0x80) === 0) {
    c.reply.int(cachedCard(s));
    return;
  }
  const card = hllCount(bytesOf(s), s.length);
  if (card < 0) fail(INVALID_HLL);
  c.db.set(key, withCachedCard(s, card));
  keepRaw(c.db, key);
  signalModified(c, key);
  c.reply.int(card);
}

function pfmerge(c: Client, argv: string[]): void {
  const max = maxRegisters;
  max.fill(0);
  let useDense = false;
  for (let j = 1; j < argv.length; j++) {
    const v = lookupRead(c, argv[j]!);
    if (v === undefined) continue;
    const s = checkHll(v);
    if (s.charCodeAt(4) === HLL_DENSE) useDense = true;
    // What our master accepted applies here as it did there (its check may predate the fix).
    if (!hllMerge(max, bytesOf(s), s.length, c.isMaster)) fail(INVALID_HLL);
  }
  const dest = argv[1]!;
  const v = lookupWrite(c, dest);
  // An existing destination was validated as a source above.
  const h = v === undefined ? createHll() : HllBytes.fromLatin1(v as string, 64);
  if (useDense && !sparseToDense(h)) fail(INVALID_HLL);
  const maxBytes = sparseMaxBytes(c);
  for (let j = 0; j < HLL_REGISTERS; j++) {
    const m = max[j]!;
    if (m === 0) continue;
    if (h.buf[4] === HLL_DENSE) denseSet(h.buf, HLL_HDR_SIZE, j, m);
    else if (h.buf[4] === HLL_SPARSE) sparseSet(h, j, m, maxBytes);
  }
  h.invalidateCache();
  setKey(c, dest, h.toLatin1(), true);
  keepRaw(c.db, dest);
  // Redis reports PFMERGE as a "pfadd" event (a mass add).
  notifyKeyspaceEvent(c, NotifyClass.String, "pfadd", dest);
  c.reply.ok();
}

function pfdebug(c: Client, argv: string[]): void {
  const sub = argv[1]!;
  const key = argv[2]!;
  const v = lookupWrite(c, key);
  if (v === undefined) fail("ERR The specified key does not exist");
  const s = checkHll(v);
  const sparse = s.charCodeAt(4) === HLL_SPARSE;
  if (isOption(sub, "getreg")) {
    let bytes: Uint8Array;
    if (sparse) {
      const h = HllBytes.fromLatin1(s);
      if (!sparseToDense(h)) fail(INVALID_HLL);
      c.db.set(key, h.toLatin1());
      keepRaw(c.db, key);
      c.server.dirty++; // the encoding changed: propagate (Redis does not signal the key)
      bytes = h.buf;
    } else bytes = bytesOf(s);
    c.reply.array(HLL_REGISTERS);
    for (let j = 0; j < HLL_REGISTERS; j++) c.reply.int(denseGet(bytes, HLL_HDR_SIZE, j));
  } else if (isOption(sub, "decode")) {
    if (!sparse) fail("ERR HLL encoding is not sparse");
    c.reply.bulk(decodeSparse(bytesOf(s), s.length));
  } else if (isOption(sub, "encoding")) {
    c.reply.simple(sparse ? "sparse" : "dense");
  } else if (isOption(sub, "todense")) {
    if (sparse) {
      const h = HllBytes.fromLatin1(s);
      if (!sparseToDense(h)) fail(INVALID_HLL);
      c.db.set(key, h.toLatin1());
      keepRaw(c.db, key);
      c.server.dirty++;
      c.reply.int(1);
    } else c.reply.int(0);
  } else {
    fail(`ERR Unknown PFDEBUG subcommand '${sub}'`);
  }
}

/**
 * PFSELFTEST: Redis checks register access and the estimator's error up to 10M elements (a few
 * seconds). We run the same checks on a smaller scale (100k elements) so the command stays fast.
 */
function pfselftest(c: Client): void {
  const dense = Buffer.alloc(HLL_DENSE_SIZE + 1);
  const values = new Uint8Array(HLL_REGISTERS);
  for (let cycle = 0; cycle < 10; cycle++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = (Math.random() * 64) | 0;
      values[i] = r;
      denseSetRegister(dense, HLL_HDR_SIZE, i, r);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const val = denseGet(dense, HLL_HDR_SIZE, i);
      if (val !== values[i]) fail(`TESTFAILED Register ${i} should be ${values[i]} but is ${val}`);
    }
  }
  dense.fill(0, HLL_HDR_SIZE);
  dense[4] = HLL_DENSE;
  const sparse = createHll();
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const maxBytes = sparseMaxBytes(c);
  const seed = Math.floor(Math.random() * 2 ** 31);
  let checkpoint = 1;
  for (let j = 1; j <= 100000; j++) {
    const ele = `${j ^ seed}`;
    const pattern = hllPattern(ele);
    denseSet(dense, HLL_HDR_SIZE, patternIndex(pattern), patternCount(pattern));
    hllAdd(sparse, ele, maxBytes);
    if (j === checkpoint) {
      if (j < maxBytes / 2 && sparse.buf[4] !== HLL_SPARSE) fail("TESTFAILED sparse encoding not used");
      const cardDense = hllCount(dense, HLL_DENSE_SIZE);
      if (cardDense !== hllCount(sparse.buf, sparse.len)) fail("TESTFAILED dense/sparse disagree");
      let maxerr = Math.ceil(relerr * 6 * checkpoint);
      if (j === 10) maxerr = 1;
      const abserr = Math.abs(checkpoint - cardDense);
      if (abserr > maxerr) fail(`TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`);
      checkpoint *= 10;
    }
  }
  c.reply.ok();
}

export const handlers: HandlerMap = {
  pfadd,
  pfcount,
  pfmerge,
  pfdebug,
  pfselftest,
};
