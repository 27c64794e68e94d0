// Geo commands (Redis 7.0 geo.c). A geo set is a sorted set whose scores are 52-bit geohashes:
// GEOADD computes them and runs ZADD (it is also propagated as that ZADD), the read commands
// decode them, and the searches walk the 9 geohash boxes around the center exactly as Redis
// does (geo-hash.ts), so results, their order and their formatting match it.

import type { Client } from "../../core/client.ts";
import { ZSetValue } from "../../store/zset.ts";
import { fail, NOT_FLOAT, NOT_INTEGER, SYNTAX, WRONGTYPE } from "../../core/errors.ts";
import { boxScores, decodeScore, GEO_LAT_MAX, GEO_LAT_MIN, GEO_LONG_MAX, GEO_LONG_MIN, geohashGetDistance, geoScoreString, type GeoShape, isZeroHash, searchAreas, standardGeohash, withinShape } from "./hash.ts";
import { pqsort, stableSort } from "./sort.ts";
import { deleteKey, lookupRead, readZSet, signalModified } from "../../core/keyspace.ts";
import { NotifyClass, notifyKeyspaceEvent } from "../../core/pubsub.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { storeZSet, zaddCommand } from "../zsets/add.ts";
import { formatDistance, formatF6, replyHuman } from "../zsets/format.ts";
import { parseLong, strictDoubleArg } from "../zsets/parse.ts";

/** extractLongLatOrReply: two floats, then the coordinate limits. */
function longLatArg(argv: string[], at: number, xy: number[]): void {
  xy[0] = strictDoubleArg(argv[at]!, NOT_FLOAT);
  xy[1] = strictDoubleArg(argv[at + 1]!, NOT_FLOAT);
  if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN || xy[1] > GEO_LAT_MAX) {
    fail(`ERR invalid longitude,latitude pair ${formatF6(xy[0])},${formatF6(xy[1])}`);
  }
}

/** Meters per unit (extractUnitOrReply). */
function unitArg(text: string): number {
  switch (text.toLowerCase()) {
    case "m":
      return 1;
    case "km":
      return 1000;
    case "ft":
      return 0.3048;
    case "mi":
      return 1609.34;
    default:
      return fail("ERR unsupported unit provided. please use M, KM, FT, MI");
  }
}

/** A member's position, or false when it is not in the set. */
function memberPosition(z: ZSetValue, member: string, xy: number[]): boolean {
  const score = z.score(member);
  if (score === undefined) return false;
  decodeScore(score, xy);
  return true;
}

// ---------------------------------------------------------------------------------------------
// GEOADD, GEOPOS, GEODIST, GEOHASH

function geoadd(c: Client, argv: string[]): void {
  let longIdx = 2;
  let xx = false;
  let nx = false;
  while (longIdx < argv.length) {
    const opt = argv[longIdx]!.toLowerCase();
    if (opt === "nx") nx = true;
    else if (opt === "xx") xx = true;
    else if (opt === "ch") {
      // handled by ZADD
    } else break;
    longIdx++;
  }
  if ((argv.length - longIdx) % 3 || (xx && nx)) fail(SYNTAX);
  const elements = (argv.length - longIdx) / 3;
  const zargv: string[] = new Array(longIdx + elements * 2);
  zargv[0] = "zadd";
  for (let i = 1; i < longIdx; i++) zargv[i] = argv[i]!;
  const xy = [0, 0];
  for (let i = 0; i < elements; i++) {
    longLatArg(argv, longIdx + i * 3, xy);
    zargv[longIdx + i * 2] = geoScoreString(xy[0]!, xy[1]!);
    zargv[longIdx + 1 + i * 2] = argv[longIdx + i * 3 + 2]!;
  }
  // Replicas receive the ZADD with the computed scores.
  c.propagateAs = zargv;
  zaddCommand(c, zargv);
}

function geopos(c: Client, argv: string[]): void {
  const z = readZSet(c, argv[1]!);
  c.reply.array(argv.length - 2);
  const xy = [0, 0];
  for (let j = 2; j < argv.length; j++) {
    if (!z || !memberPosition(z, argv[j]!, xy)) c.reply.nullArray();
    else {
      c.reply.array(2);
      replyHuman(c, xy[0]!);
      replyHuman(c, xy[1]!);
    }
  }
}

function geodist(c: Client, argv: string[]): void {
  let toMeter = 1;
  if (argv.length === 5) toMeter = unitArg(argv[4]!);
  else if (argv.length > 5) fail(SYNTAX);
  const z = readZSet(c, argv[1]!);
  if (!z) {
    c.reply.nullBulk();
    return;
  }
  const a = [0, 0];
  const b = [0, 0];
  if (!memberPosition(z, argv[2]!, a) || !memberPosition(z, argv[3]!, b)) {
    c.reply.nullBulk();
    return;
  }
  c.reply.bulk(formatDistance(geohashGetDistance(a[0]!, a[1]!, b[0]!, b[1]!) / toMeter));
}

function geohash(c: Client, argv: string[]): void {
  const z = readZSet(c, argv[1]!);
  c.reply.array(argv.length - 2);
  const xy = [0, 0];
  for (let j = 2; j < argv.length; j++) {
    if (!z || !memberPosition(z, argv[j]!, xy)) c.reply.nullBulk();
    else c.reply.bulk(standardGeohash(xy[0]!, xy[1]!));
  }
}

// ---------------------------------------------------------------------------------------------
// GEORADIUS, GEORADIUSBYMEMBER (and _RO), GEOSEARCH, GEOSEARCHSTORE (georadiusGeneric)

const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

const SORT_NONE = 0;
const SORT_ASC = 1;
const SORT_DESC = 2;

interface GeoPoint {
  longitude: number;
  latitude: number;
  dist: number;
  score: number;
  member: string;
}

/** extractDistanceOrReply: radius and unit; returns [radius, conversion]. */
function distanceArgs(argv: string[], at: number): [number, number] {
  const d = strictDoubleArg(argv[at]!, "ERR need numeric radius");
  if (d < 0) fail("ERR radius cannot be negative");
  return [d, unitArg(argv[at + 1]!)];
}

/** Appends the members of one score interval [min, max) that are inside the shape (geoGetPointsInRange). */
function pointsInRange(z: ZSetValue, min: number, max: number, shape: GeoShape, out: GeoPoint[], limit: number): void {
  const range = { min, max, minex: false, maxex: true };
  const node = z.cursor(z.firstInScoreRange(range));
  const pos = [0, 0, 0];
  while (node.next()) {
    if (!(node.score < max)) break;
    if (withinShape(shape, node.score, pos)) {
      out.push({ longitude: pos[0]!, latitude: pos[1]!, dist: pos[2]!, score: node.score, member: node.member });
    }
    if (out.length && limit && out.length >= limit) break;
  }
}

/** membersOfAllNeighbors: the 9 boxes in order, skipping zeroed ones and a repeat of the last one searched. */
function membersOfAllNeighbors(z: ZSetValue, shape: GeoShape, out: GeoPoint[], limit: number): void {
  const boxes = searchAreas(shape);
  let lastProcessed = 0;
  for (let i = 0; i < boxes.length; i++) {
    const box = boxes[i]!;
    if (isZeroHash(box)) continue;
    if (lastProcessed && box.bits === boxes[lastProcessed]!.bits && box.step === boxes[lastProcessed]!.step) continue;
    if (out.length && limit && out.length >= limit) break;
    const [min, max] = boxScores(box);
    pointsInRange(z, min, max, shape, out, limit);
    lastProcessed = i;
  }
}

const sortAsc = (a: GeoPoint, b: GeoPoint) => (a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1);
const sortDesc = (a: GeoPoint, b: GeoPoint) => -sortAsc(a, b);

/** (long long) of a score, as WITHHASH replies it. */
function scoreAsLongLong(score: number): number | bigint {
  if (Number.isSafeInteger(score)) return score;
  if (!(score >= -9223372036854775808 && score < 9223372036854775808)) return -9223372036854775808n;
  const t = Math.trunc(score);
  return Number.isSafeInteger(t) ? t : BigInt(t);
}

function georadiusGeneric(c: Client, argv: string[], srcKeyIndex: number, flags: number): void {
  let storeKey: string | null = null;
  let storeDist = false;
  const v = lookupRead(c, argv[srcKeyIndex]!);
  if (v !== undefined && !(v instanceof ZSetValue)) fail(WRONGTYPE);
  const z = v as ZSetValue | undefined;
  const shape: GeoShape = { circular: true, xy: [0, 0], conversion: 0, radius: 0, width: 0, height: 0, bounds: [0, 0, 0, 0] };
  let baseArgs: number;
  if (flags & RADIUS_COORDS) {
    baseArgs = 6;
    longLatArg(argv, 2, shape.xy);
    [shape.radius, shape.conversion] = distanceArgs(argv, baseArgs - 2);
  } else if (flags & RADIUS_MEMBER && !z) {
    baseArgs = 5;
  } else if (flags & RADIUS_MEMBER) {
    baseArgs = 5;
    if (!memberPosition(z!, argv[2]!, shape.xy)) fail("ERR could not decode requested zset member");
    [shape.radius, shape.conversion] = distanceArgs(argv, baseArgs - 2);
  } else {
    baseArgs = 2;
    if (flags & GEOSEARCHSTORE) {
      baseArgs = 3;
      storeKey = argv[1]!;
    }
  }

  let withDist = false;
  let withHash = false;
  let withCoords = false;
  let fromMember = false;
  let fromLoc = false;
  let byRadius = false;
  let byBox = false;
  let sort = SORT_NONE;
  let any = false;
  let count = 0;
  const remaining = argv.length - baseArgs;
  for (let i = 0; i < remaining; i++) {
    const at = baseArgs + i;
    const arg = argv[at]!.toLowerCase();
    if (arg === "withdist") withDist = true;
    else if (arg === "withhash") withHash = true;
    else if (arg === "withcoord") withCoords = true;
    else if (arg === "any") any = true;
    else if (arg === "asc") sort = SORT_ASC;
    else if (arg === "desc") sort = SORT_DESC;
    else if (arg === "count" && i + 1 < remaining) {
      const n = parseLong(argv[at + 1]!);
      if (n === null) fail(NOT_INTEGER);
      if (n <= 0) fail("ERR COUNT must be > 0");
      count = n;
      i++;
    } else if (arg === "store" && i + 1 < remaining && !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)) {
      storeKey = argv[at + 1]!;
      storeDist = false;
      i++;
    } else if (arg === "storedist" && i + 1 < remaining && !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)) {
      storeKey = argv[at + 1]!;
      storeDist = true;
      i++;
    } else if (arg === "storedist" && flags & GEOSEARCH && flags & GEOSEARCHSTORE) {
      storeDist = true;
    } else if (arg === "frommember" && i + 1 < remaining && flags & GEOSEARCH && !fromLoc) {
      if (z && !memberPosition(z, argv[at + 1]!, shape.xy)) fail("ERR could not decode requested zset member");
      fromMember = true;
      i++;
    } else if (arg === "fromlonlat" && i + 2 < remaining && flags & GEOSEARCH && !fromMember) {
      longLatArg(argv, at + 1, shape.xy);
      fromLoc = true;
      i += 2;
    } else if (arg === "byradius" && i + 2 < remaining && flags & GEOSEARCH && !byBox) {
      [shape.radius, shape.conversion] = distanceArgs(argv, at + 1);
      shape.circular = true;
      byRadius = true;
      i += 2;
    } else if (arg === "bybox" && i + 3 < remaining && flags & GEOSEARCH && !byRadius) {
      shape.width = strictDoubleArg(argv[at + 1]!, "ERR need numeric width");
      shape.height = strictDoubleArg(argv[at + 2]!, "ERR need numeric height");
      if (shape.height < 0 || shape.width < 0) fail("ERR height or width cannot be negative");
      shape.conversion = unitArg(argv[at + 3]!);
      shape.circular = false;
      byBox = true;
      i += 3;
    } else fail(SYNTAX);
  }

  if (storeKey !== null && (withDist || withHash || withCoords)) {
    fail(`ERR ${flags & GEOSEARCHSTORE ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS"} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
  }
  if (flags & GEOSEARCH && !(fromMember || fromLoc)) fail(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${argv[0]}`);
  if (flags & GEOSEARCH && !(byRadius || byBox)) fail(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]}`);
  if (any && !count) fail("ERR the ANY argument requires COUNT argument");

  if (!z) {
    if (storeKey !== null) {
      if (deleteKey(c, storeKey)) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", storeKey);
      c.reply.int(0);
    } else c.reply.array(0);
    return;
  }

  if (count !== 0 && sort === SORT_NONE && !any) sort = SORT_ASC;

  const points: GeoPoint[] = [];
  membersOfAllNeighbors(z, shape, points, any ? count : 0);

  if (points.length === 0 && storeKey === null) {
    c.reply.array(0);
    return;
  }
  const resultLength = points.length;
  const returned = count === 0 || resultLength < count ? resultLength : count;
  if (sort !== SORT_NONE) {
    const cmp = sort === SORT_ASC ? sortAsc : sortDesc;
    if (returned === resultLength) stableSort(points, cmp);
    else pqsort(points, cmp, 0, returned - 1);
  }

  if (storeKey === null) {
    let optionLength = 0;
    if (withDist) optionLength++;
    if (withCoords) optionLength++;
    if (withHash) optionLength++;
    c.reply.array(returned);
    for (let i = 0; i < returned; i++) {
      const gp = points[i]!;
      if (optionLength) c.reply.array(optionLength + 1);
      c.reply.bulk(gp.member);
      if (withDist) c.reply.bulk(formatDistance(gp.dist / shape.conversion));
      if (withHash) c.reply.int(scoreAsLongLong(gp.score));
      if (withCoords) {
        c.reply.array(2);
        replyHuman(c, gp.longitude);
        replyHuman(c, gp.latitude);
      }
    }
    return;
  }
  if (returned) {
    const entries: Array<[string, number]> = new Array(returned);
    let maxLen = 0;
    for (let i = 0; i < returned; i++) {
      const gp = points[i]!;
      entries[i] = [gp.member, storeDist ? gp.dist / shape.conversion : gp.score];
      if (gp.member.length > maxLen) maxLen = gp.member.length;
    }
    storeZSet(c, storeKey, entries, maxLen);
    // setKey counted one change; Redis counts one per stored element.
    if (returned > 1) signalModified(c, storeKey, c.db, returned - 1);
    notifyKeyspaceEvent(c, NotifyClass.Zset, flags & GEOSEARCH ? "geosearchstore" : "georadiusstore", storeKey);
  } else if (deleteKey(c, storeKey)) notifyKeyspaceEvent(c, NotifyClass.Generic, "del", storeKey);
  c.reply.int(returned);
}

export const handlers: HandlerMap = {
  geoadd,
  geopos,
  geodist,
  geohash,
  georadius(c, argv) {
    georadiusGeneric(c, argv, 1, RADIUS_COORDS);
  },
  georadiusbymember(c, argv) {
    georadiusGeneric(c, argv, 1, RADIUS_MEMBER);
  },
  georadius_ro(c, argv) {
    georadiusGeneric(c, argv, 1, RADIUS_COORDS | RADIUS_NOSTORE);
  },
  georadiusbymember_ro(c, argv) {
    georadiusGeneric(c, argv, 1, RADIUS_MEMBER | RADIUS_NOSTORE);
  },
  geosearch(c, argv) {
    georadiusGeneric(c, argv, 1, GEOSEARCH);
  },
  geosearchstore(c, argv) {
    georadiusGeneric(c, argv, 2, GEOSEARCH | GEOSEARCHSTORE);
  },
};
