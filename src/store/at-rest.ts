// Small aggregates at rest: the bytes a keyspace record holds for a hash, set, list or sorted
// set in its packed form, so that a key nobody has touched since a load costs its record only
// (no JS object, no string; a 4-field hash ~100 bytes instead of ~450 of RSS).
//
// A Packed record (keyspace/record.ts) holds a tag, a meta word and the packed data: the
// value's own packed string (store/packed-entries.ts, packed-intset.ts, zset-packed.ts) as
// bytes. The tag says the type and what OBJECT ENCODING reports; the meta word is what the
// type needs beside the data (a count, or the set's representation word). Decoding is one
// latin1 slice and one object: the first command that needs the value gets the object, and
// the record then holds it (Database.valueAt).

import { HashValue } from "./hash.ts";
import { ListValue } from "./list.ts";
import { SetValue } from "./set.ts";
import { ZSetValue } from "./zset.ts";
import type { RedisValue } from "./values.ts";

const enum Tag {
  HashListpack = 1,
  HashHashtable = 2,
  SetIntset = 3,
  SetListpack = 4,
  SetHashtable = 5,
  ListQuicklist = 6,
  ListListpack = 7,
  ZSetListpack = 8,
}

/** What restFormOf() found: valid until its next call. */
export const restForm = { tag: 0, meta: 0, data: "" };

/**
 * Whether `v` can be held at rest; if so fills `restForm`. Strings, streams, module values and
 * aggregates in their big forms (Maps, rings, indexes) cannot.
 */
export function restFormOf(v: RedisValue): boolean {
  let tag: Tag;
  if (v instanceof HashValue) tag = v.encoding === "listpack" ? Tag.HashListpack : Tag.HashHashtable;
  else if (v instanceof SetValue) tag = v.encoding === "intset" ? Tag.SetIntset : v.encoding === "listpack" ? Tag.SetListpack : Tag.SetHashtable;
  else if (v instanceof ListValue) tag = v.encoding === "quicklist" ? Tag.ListQuicklist : Tag.ListListpack;
  else if (v instanceof ZSetValue) tag = Tag.ZSetListpack;
  else return false;
  const data = v.restData;
  if (data === null) return false;
  restForm.tag = tag;
  restForm.meta = v.restMeta;
  restForm.data = data;
  return true;
}

/**
 * restFormOf for a value a command already worked on (the cron puts idle ones back at rest):
 * not while an HSCAN / SSCAN iteration keeps its state on the object.
 */
export function restFormAgain(v: RedisValue): boolean {
  if ((v instanceof HashValue || v instanceof SetValue) && v.scanCursors !== null) return false;
  return restFormOf(v);
}

/** The value a Packed record holds. */
export function valueFromRest(tag: number, meta: number, data: string): RedisValue {
  switch (tag as Tag) {
    case Tag.HashListpack:
      return HashValue.fromRest(data, meta, "listpack");
    case Tag.HashHashtable:
      return HashValue.fromRest(data, meta, "hashtable");
    case Tag.SetIntset:
      return SetValue.fromRest(data, meta, "intset");
    case Tag.SetListpack:
      return SetValue.fromRest(data, meta, "listpack");
    case Tag.SetHashtable:
      return SetValue.fromRest(data, meta, "hashtable");
    case Tag.ListQuicklist:
      return ListValue.fromRest(data, meta, "quicklist");
    case Tag.ListListpack:
      return ListValue.fromRest(data, meta, "listpack");
    case Tag.ZSetListpack:
      return ZSetValue.fromRest(data, meta);
  }
  throw new Error(`corrupt keyspace record: packed value tag ${tag}`);
}

/** The name TYPE replies with for a Packed record's tag (no decoding). */
/** Whether a Packed record's tag is a set's (its meta: SetValue's representation word, see restSetCount). */
export function isSetTag(tag: number): boolean {
  return tag >= Tag.SetIntset && tag <= Tag.SetHashtable;
}

/** Whether a Packed record's tag is a hash's (its data: packed field/value entries, meta: the count). */
export function isHashTag(tag: number): boolean {
  return tag === Tag.HashListpack || tag === Tag.HashHashtable;
}

export function restTypeName(tag: number): string {
  return tag <= Tag.HashHashtable ? "hash" : tag <= Tag.SetHashtable ? "set" : tag <= Tag.ListListpack ? "list" : "zset";
}
