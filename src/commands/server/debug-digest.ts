// DEBUG DIGEST and DIGEST-VALUE (debug.c computeDatasetDigest, xorObjectDigest): a SHA1-based
// fingerprint of the dataset, the one Redis's own test suite uses to compare a master with its
// replicas. Unordered collections xor their elements' digests, ordered ones mix them in (each
// step SHA1s the running digest), so that two servers holding the same data give the same hex
// string whatever their internal order. Computed exactly as Redis does: the same data gives
// the same digest on redis-server and here.

import { NOT_FOUND, type Database } from "../../store/database.ts";
import { formatDouble } from "../../protocol/format-double.ts";
import { HashValue, ListValue, SetValue, StreamValue, ZSetValue, type RedisValue } from "../../store/values.ts";

const enum ObjType {
  String = 0,
  List = 1,
  Set = 2,
  ZSet = 3,
  Hash = 4,
  Module = 5,
  Stream = 6,
}

function sha1(data: Uint8Array): Buffer {
  return new Bun.CryptoHasher("sha1").update(data).digest() as Buffer;
}

function bytes(s: string): Buffer {
  return Buffer.from(s, "latin1");
}

/** xorDigest: digest ^= SHA1(data). */
function xorDigest(digest: Buffer, data: Uint8Array): void {
  const h = sha1(data);
  for (let j = 0; j < 20; j++) digest[j]! ^= h[j]!;
}

/** mixDigest: digest = SHA1(digest ^ SHA1(data)). */
function mixDigest(digest: Buffer, data: Uint8Array): void {
  xorDigest(digest, data);
  sha1(digest).copy(digest);
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** xorObjectDigest: the value's digest mixed into `digest`, and "!!expire!!" if it has a TTL. */
function xorObjectDigest(db: Database, key: string, digest: Buffer, v: RedisValue): void {
  const ele = Buffer.alloc(20);
  if (typeof v === "string") {
    mixDigest(digest, u32be(ObjType.String));
    mixDigest(digest, bytes(v));
  } else if (v instanceof ListValue) {
    mixDigest(digest, u32be(ObjType.List));
    for (const e of v) mixDigest(digest, bytes(e));
  } else if (v instanceof SetValue) {
    mixDigest(digest, u32be(ObjType.Set));
    for (const m of v) xorDigest(digest, bytes(m));
  } else if (v instanceof ZSetValue) {
    mixDigest(digest, u32be(ObjType.ZSet));
    for (const n = v.cursor(0); n.next(); ) {
      ele.fill(0);
      mixDigest(ele, bytes(n.member));
      mixDigest(ele, bytes(formatDouble(n.score)));
      xorDigest(digest, ele);
    }
  } else if (v instanceof HashValue) {
    mixDigest(digest, u32be(ObjType.Hash));
    v.forEach((value, field) => {
      ele.fill(0);
      mixDigest(ele, bytes(field));
      mixDigest(ele, bytes(value));
      xorDigest(digest, ele);
    });
  } else if (v instanceof StreamValue) {
    mixDigest(digest, u32be(ObjType.Stream));
    for (const e of v.entries) {
      mixDigest(digest, bytes(`${e.id.ms}.${e.id.seq}`));
      for (const f of e.fields) mixDigest(digest, bytes(f));
    }
  } else {
    // A module value: Redis mixes what the module's digest callback gives; we have no module.
    mixDigest(digest, u32be(ObjType.Module));
  }
  if (db.getExpire(key) !== undefined) xorDigest(digest, bytes("!!expire!!"));
}

/** computeDatasetDigest, as the 40 hex digits DEBUG DIGEST replies. */
export function datasetDigest(dbs: readonly Database[]): string {
  const final = Buffer.alloc(20);
  const digest = Buffer.alloc(20);
  for (const db of dbs) {
    if (db.size === 0) continue;
    mixDigest(final, u32be(db.id));
    for (let s = db.nextSlot(0); s !== NOT_FOUND; s = db.nextSlot(s + 1)) {
      const key = db.keyAt(s);
      const v = db.peekValueAt(s);
      digest.fill(0);
      mixDigest(digest, bytes(key));
      xorObjectDigest(db, key, digest, v);
      // (xorDigest: the SHA1 of the key's digest goes into the result, as Redis does.)
      xorDigest(final, digest);
    }
  }
  return final.toString("hex");
}

/** DEBUG DIGEST-VALUE's digest of one key (all zeros when missing; logically expired keys count). */
export function valueDigest(db: Database, key: string): string {
  const digest = Buffer.alloc(20);
  const v = db.get(key);
  if (v !== undefined) xorObjectDigest(db, key, digest, v);
  return digest.toString("hex");
}
