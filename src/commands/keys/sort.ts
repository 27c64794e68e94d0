// SORT / SORT_RO (Redis 7.0 sort.c): sorts a list, set or sorted set numerically or
// lexicographically (ALPHA), optionally by external keys (BY pattern, `*` replaced by the
// element, `->field` for a hash field), with LIMIT, GET patterns and STORE into a list.
//
// Details kept from Redis because they show in results:
// - numeric ties are broken by a binary comparison of the elements; ALPHA without STORE uses
//   strcoll (the C.UTF-8 / C locale: a byte comparison that stops at the first NUL), with
//   STORE a binary comparison;
// - scores are parsed with strtod (leading spaces, hex, "inf" accepted; trailing garbage, NaN
//   and ERANGE, including subnormals, are errors), a missing BY key sorts as 0 / first;
// - glibc's qsort is a stable merge sort; with BY and a partial LIMIT Redis uses pqsort;
// - BY without `*` means "don't sort" (except for sets with STORE, which are sorted ALPHA);
// - sorting a sorted set converts it to the skiplist encoding, as Redis does (not propagated);
// - an intset is iterated in ascending numeric order.

import { KeyFlag } from "../../core/command-keys.ts";
import type { Client } from "../../core/client.ts";
import { ListValue } from "../../store/list.ts";
import { HashValue, SetValue, ZSetValue } from "../../store/values.ts";
import { fail, NOT_INTEGER, SYNTAX, WRONGTYPE } from "../../core/errors.ts";
import { pqsort } from "../geo/sort.ts";
import { deleteKey, lookupRead, lookupWrite, signalModified } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import { forgetStringEncoding } from "../strings/encoding.ts";
import { parseLongLong } from "../strings/parse.ts";
import { strtod } from "../zsets/parse.ts";

interface SortItem {
  obj: string;
  score: number;
  /** ALPHA BY: the value sorted by (null when the BY key is missing). */
  cmpobj: string | null;
}

/** The text up to the first NUL, as C string functions see it. */
function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

function binaryCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** strcoll in the C / C.UTF-8 locale: byte order, up to the first NUL. */
function collate(a: string, b: string): number {
  return binaryCompare(cString(a), cString(b));
}

/** lookupKeyByPattern: the value of the key (or hash field) named by `pattern` for `subst`. */
function lookupByPattern(c: Client, pattern: string, subst: string): string | null {
  if (pattern.charCodeAt(0) === 35 && (pattern.length === 1 || pattern.charCodeAt(1) === 0)) return subst;
  const spat = cString(pattern);
  const p = spat.indexOf("*");
  if (p < 0) return null;
  const f = spat.indexOf("->", p + 1);
  let fieldlen = 0;
  let field: string | null = null;
  if (f >= 0 && f + 2 < spat.length) {
    fieldlen = pattern.length - f - 2;
    field = pattern.slice(f + 2);
  }
  const postfixlen = pattern.length - (p + 1) - (field !== null ? fieldlen + 2 : 0);
  const key = pattern.slice(0, p) + subst + pattern.slice(p + 1, p + 1 + postfixlen);
  const o = lookupRead(c, key);
  if (o === undefined) return null;
  if (field !== null) {
    if (!(o instanceof HashValue)) return null;
    return o.get(field) ?? null;
  }
  return typeof o === "string" ? o : null;
}

const DBL_MIN = 2.2250738585072014e-308;

/** strtod as SORT checks it: null on trailing garbage (before a NUL), NaN or ERANGE. */
function sortScore(text: string): number | null {
  const nul = text.indexOf("\0");
  const limit = nul < 0 ? text.length : nul;
  const r = strtod(text, 0, limit);
  if (r.end !== limit) return null;
  const v = r.value;
  if (Number.isNaN(v) || r.overflow || r.underflowToZero) return null;
  if (v !== 0 && Math.abs(v) < DBL_MIN) return null;
  return v;
}

function longArg(text: string): number {
  const v = parseLongLong(text);
  if (v === null) fail(NOT_INTEGER);
  return Number(v);
}

function elementsOf(value: ListValue | SetValue | ZSetValue): string[] {
  if (value instanceof ListValue) return value.toArray();
  if (value instanceof SetValue) {
    const arr = [...value];
    if (value.encoding === "intset") {
      arr.sort((a, b) => {
        const x = BigInt(a);
        const y = BigInt(b);
        return x < y ? -1 : x > y ? 1 : 0;
      });
    }
    return arr;
  }
  const out: string[] = [];
  for (const [m] of value.entries()) out.push(m);
  return out;
}

export function sortCommand(c: Client, argv: string[], readonly: boolean): void {
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let dontsort = false;
  let sortby: string | null = null;
  let storekey: string | null = null;
  const getops: string[] = [];
  // BY and GET patterns read keys no argument names: only for a user who may read any key.
  const fullKeyAccess = c.server.acl.hasUnrestrictedKeyAccess(c, readonly ? "sort_ro" : "sort", argv, KeyFlag.Access);
  for (let j = 2; j < argv.length; j++) {
    const leftargs = argv.length - j - 1;
    const opt = argv[j]!.toLowerCase();
    if (opt === "asc") desc = false;
    else if (opt === "desc") desc = true;
    else if (opt === "alpha") alpha = true;
    else if (opt === "limit" && leftargs >= 2) {
      limitStart = longArg(argv[j + 1]!);
      limitCount = longArg(argv[j + 2]!);
      j += 2;
    } else if (!readonly && opt === "store" && leftargs >= 1) {
      storekey = argv[++j]!;
    } else if (opt === "by" && leftargs >= 1) {
      sortby = argv[++j]!;
      if (!cString(sortby).includes("*")) dontsort = true;
      else if (!fullKeyAccess) fail("ERR BY option of SORT denied due to insufficient ACL permissions.");
    } else if (opt === "get" && leftargs >= 1) {
      if (!fullKeyAccess) fail("ERR GET option of SORT denied due to insufficient ACL permissions.");
      getops.push(argv[++j]!);
    } else {
      fail(SYNTAX);
    }
  }

  const found = lookupRead(c, argv[1]!);
  if (found !== undefined && !(found instanceof ListValue || found instanceof SetValue || found instanceof ZSetValue)) fail(WRONGTYPE);
  const sortval = found ?? new ListValue();

  // A set's order is not deterministic: stored or returned to a script (which must be
  // replicable) it is sorted ALPHA (Redis's CLIENT_SCRIPT rule).
  if (dontsort && sortval instanceof SetValue && (storekey !== null || c.scriptCaller !== null)) {
    dontsort = false;
    alpha = true;
    sortby = null;
  }
  if (sortval instanceof ZSetValue) sortval.encoding = "skiplist";

  const total = sortval instanceof ListValue ? sortval.length : sortval instanceof SetValue ? sortval.size : sortval.size;
  let vectorlen = total;
  let start = Math.min(Math.max(limitStart, 0), vectorlen);
  limitCount = Math.min(Math.max(limitCount, -1), vectorlen);
  let end = limitCount < 0 ? vectorlen - 1 : start + limitCount - 1;
  if (start >= vectorlen) {
    start = vectorlen - 1;
    end = vectorlen - 2;
  }
  if (end >= vectorlen) end = vectorlen - 1;

  const ordered = sortval instanceof ListValue || sortval instanceof ZSetValue;
  if (ordered && dontsort && (start !== 0 || end !== vectorlen - 1)) vectorlen = end - start + 1;

  let vector: SortItem[];
  if (ordered && dontsort) {
    // The native order (reversed with DESC), just the LIMIT range.
    vector = [];
    if (sortval instanceof ListValue) {
      if (end >= start) {
        const len = sortval.length;
        let idx = desc ? len - start - 1 : start;
        while (vector.length < vectorlen && idx >= 0 && idx < len) {
          vector.push({ obj: sortval.at(idx)!, score: 0, cmpobj: null });
          idx += desc ? -1 : 1;
        }
        end -= start;
        start = 0;
      }
    } else {
      const z = sortval as ZSetValue;
      const zlen = z.size;
      const node = z.cursor(desc ? zlen - start - 1 : start, desc);
      for (let n = 0; n < vectorlen && node.next(); n++) vector.push({ obj: node.member, score: 0, cmpobj: null });
      end -= start;
      start = 0;
    }
  } else {
    vector = elementsOf(sortval).map((obj) => ({ obj, score: 0, cmpobj: null }));
  }

  let conversionError = false;
  if (!dontsort) {
    for (const item of vector) {
      let byval: string | null;
      if (sortby !== null) {
        byval = lookupByPattern(c, sortby, item.obj);
        if (byval === null) continue;
      } else byval = item.obj;
      if (alpha) {
        if (sortby !== null) item.cmpobj = byval;
      } else {
        const score = sortScore(byval);
        if (score === null) conversionError = true;
        else item.score = score;
      }
    }
    const store = storekey !== null;
    const byPattern = sortby !== null;
    const cmp = (a: SortItem, b: SortItem): number => {
      let r: number;
      if (!alpha) {
        r = a.score > b.score ? 1 : a.score < b.score ? -1 : binaryCompare(a.obj, b.obj);
      } else if (byPattern) {
        if (a.cmpobj === null || b.cmpobj === null) r = a.cmpobj === b.cmpobj ? 0 : a.cmpobj === null ? -1 : 1;
        else r = store ? binaryCompare(a.cmpobj, b.cmpobj) : collate(a.cmpobj, b.cmpobj);
      } else {
        r = store ? binaryCompare(a.obj, b.obj) : collate(a.obj, b.obj);
      }
      return desc ? -r : r;
    };
    if (sortby !== null && (start !== 0 || end !== vector.length - 1)) pqsort(vector, cmp, start, end);
    else vector.sort(cmp);
  }

  const outputlen = getops.length ? getops.length * (end - start + 1) : end - start + 1;
  if (conversionError) fail("ERR One or more scores can't be converted into double");
  if (storekey === null) {
    const r = c.reply;
    r.array(outputlen);
    for (let j = start; j <= end; j++) {
      const obj = vector[j]!.obj;
      if (getops.length === 0) r.bulk(obj);
      for (const pattern of getops) {
        const val = lookupByPattern(c, pattern, obj);
        if (val === null) r.nullBulk();
        else r.bulk(val);
      }
    }
    return;
  }
  const list = new ListValue(Math.max(outputlen, 4));
  list.encoding = "quicklist";
  for (let j = start; j <= end; j++) {
    const obj = vector[j]!.obj;
    if (getops.length === 0) list.pushTail(obj);
    else for (const pattern of getops) list.pushTail(lookupByPattern(c, pattern, obj) ?? "");
  }
  const db = c.db;
  if (outputlen > 0) {
    lookupWrite(c, storekey); // setKey's lookup: an expired destination is deleted as such first
    db.setPersistent(storekey, list);
    forgetStringEncoding(db, storekey);
    notifyKeyspaceEvent(c, NotifyClass.List, "sortstore", storekey);
    signalModified(c, storekey, db, outputlen);
  } else if (deleteKey(c, storekey)) {
    notifyKeyspaceEvent(c, NotifyClass.Generic, "del", storekey);
  }
  c.reply.int(outputlen);
}
