// The geohash arithmetic of Redis 7.0 (geohash.c, geohash_helper.c), reproduced operation by
// operation so that scores, decoded coordinates, search boxes and distances come out
// bit-identical: a GEOADD score is the 52-bit interleaving of the latitude (even bits) and
// longitude (odd bits) offsets in [-85.05112878, 85.05112878] x [-180, 180]; a radius or box
// search looks at the geohash box of the center plus its 8 neighbours at a step chosen from the
// radius, and filters the candidates by haversine distance.
//
// 64-bit values are kept as two uint32 halves on the hot paths (decoding a score) and as
// BigInt where a query computes its 9 boxes.

const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;

const D_R = Math.PI / 180.0;
const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;

const degRad = (ang: number) => ang * D_R;
const radDeg = (ang: number) => ang / D_R;

/** Spreads the 16 low bits of v to the even positions of a 32-bit value. */
function spread16(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v >>> 0;
}

/** Gathers the even bits of a 32-bit value into 16 bits. */
function compact16(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

/** interleave64(x, y): x bits at even positions, y bits at odd ones; as [hi, lo] uint32. */
function interleave(x: number, y: number): [number, number] {
  const lo = (spread16(x) | (spread16(y) << 1)) >>> 0;
  const hi = (spread16(x >>> 16) | (spread16(y >>> 16) << 1)) >>> 0;
  return [hi, lo];
}

interface GeoHashBits {
  bits: bigint;
  step: number;
}

interface GeoHashRange {
  min: number;
  max: number;
}

interface GeoHashArea {
  hash: GeoHashBits;
  longitude: GeoHashRange;
  latitude: GeoHashRange;
}

const STD_LONG: GeoHashRange = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
const STD_LAT: GeoHashRange = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };

/** C's (uint32_t) of a double known to be in [0, 2^32). */
const toU32 = (d: number) => Math.trunc(d) >>> 0;

/** geohashEncode; null when the coordinates are outside the supported limits. Returns [hi, lo]. */
function encodeParts(longRange: GeoHashRange, latRange: GeoHashRange, longitude: number, latitude: number, step: number): [number, number] | null {
  if (longitude > GEO_LONG_MAX || longitude < GEO_LONG_MIN || latitude > GEO_LAT_MAX || latitude < GEO_LAT_MIN) return null;
  if (latitude < latRange.min || latitude > latRange.max || longitude < longRange.min || longitude > longRange.max) return null;
  let latOffset = (latitude - latRange.min) / (latRange.max - latRange.min);
  let longOffset = (longitude - longRange.min) / (longRange.max - longRange.min);
  latOffset *= 2 ** step;
  longOffset *= 2 ** step;
  return interleave(toU32(latOffset), toU32(longOffset));
}

function geohashEncode(longRange: GeoHashRange, latRange: GeoHashRange, longitude: number, latitude: number, step: number): GeoHashBits | null {
  const p = encodeParts(longRange, latRange, longitude, latitude, step);
  if (!p) return null;
  return { bits: (BigInt(p[0]) << 32n) | BigInt(p[1]), step };
}

/** The 52-bit score GEOADD stores, as the decimal string ZADD receives (sdsfromlonglong). */
export function geoScoreString(longitude: number, latitude: number): string {
  const p = encodeParts(STD_LONG, STD_LAT, longitude, latitude, GEO_STEP_MAX)!;
  if (p[0] < 0x200000) return String(p[0] * 4294967296 + p[1]);
  return ((BigInt(p[0]) << 32n) | BigInt(p[1])).toString();
}

/** The standard 11-character geohash (latitude range -90..90) of a decoded point. */
export function standardGeohash(longitude: number, latitude: number): string {
  const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz";
  const h = geohashEncode({ min: -180, max: 180 }, { min: -90, max: 90 }, longitude, latitude, 26);
  const bits = h ? h.bits : 0n;
  let out = "";
  for (let i = 0; i < 11; i++) {
    const idx = i === 10 ? 0 : Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn);
    out += alphabet[idx];
  }
  return out;
}

/** C's (uint64_t) of a double on x86-64 (cvttsd2si, with the 2^63 adjustment), as [hi, lo]. */
function doubleToU64Parts(d: number): [number, number] {
  if (d >= 0 && d < 9007199254740992) {
    const t = Math.trunc(d);
    const hi = Math.floor(t / 4294967296);
    return [hi, t - hi * 4294967296];
  }
  let v: bigint;
  if (d < 9223372036854775808) {
    // Signed truncation; out of range (or -inf) gives 0x8000000000000000.
    v = d >= -9223372036854775808 ? BigInt(Math.trunc(d)) : -9223372036854775808n;
  } else {
    const r = d - 9223372036854775808;
    v = (r < 9223372036854775808 ? BigInt(Math.trunc(r)) : -9223372036854775808n) ^ -9223372036854775808n;
  }
  v = BigInt.asUintN(64, v);
  return [Number(v >> 32n), Number(v & 0xffffffffn)];
}

/** Decodes a stored score (decodeGeohash: step 26, center of the box, clamped). xy = [lon, lat]. */
export function decodeScore(score: number, xy: number[]): void {
  const [hi, lo] = doubleToU64Parts(score);
  decodeParts(hi, lo, GEO_STEP_MAX, STD_LONG, STD_LAT, xy);
}

function decodeParts(hi: number, lo: number, step: number, longRange: GeoHashRange, latRange: GeoHashRange, xy: number[]): void {
  const ilato = ((compact16(hi) << 16) | compact16(lo)) >>> 0;
  const ilono = ((compact16(hi >>> 1) << 16) | compact16(lo >>> 1)) >>> 0;
  const latScale = latRange.max - latRange.min;
  const longScale = longRange.max - longRange.min;
  const div = 2 ** step;
  const latMin = latRange.min + (ilato * 1.0 / div) * latScale;
  const latMax = latRange.min + ((((ilato + 1) >>> 0) * 1.0) / div) * latScale;
  const lonMin = longRange.min + (ilono * 1.0 / div) * longScale;
  const lonMax = longRange.min + ((((ilono + 1) >>> 0) * 1.0) / div) * longScale;
  let lon = (lonMin + lonMax) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (latMin + latMax) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  xy[0] = lon;
  xy[1] = lat;
}

/** geohashDecode of a box: its longitude and latitude ranges. */
function decodeArea(hash: GeoHashBits): GeoHashArea {
  const hi = Number((hash.bits >> 32n) & 0xffffffffn);
  const lo = Number(hash.bits & 0xffffffffn);
  const ilato = ((compact16(hi) << 16) | compact16(lo)) >>> 0;
  const ilono = ((compact16(hi >>> 1) << 16) | compact16(lo >>> 1)) >>> 0;
  const latScale = GEO_LAT_MAX - GEO_LAT_MIN;
  const longScale = GEO_LONG_MAX - GEO_LONG_MIN;
  const div = 2 ** hash.step;
  return {
    hash,
    latitude: {
      min: GEO_LAT_MIN + (ilato * 1.0 / div) * latScale,
      max: GEO_LAT_MIN + ((((ilato + 1) >>> 0) * 1.0) / div) * latScale,
    },
    longitude: {
      min: GEO_LONG_MIN + (ilono * 1.0 / div) * longScale,
      max: GEO_LONG_MIN + ((((ilono + 1) >>> 0) * 1.0) / div) * longScale,
    },
  };
}

const MASK64 = 0xffffffffffffffffn;
const AAAA = 0xaaaaaaaaaaaaaaaan;
const FIVE = 0x5555555555555555n;

function moveX(hash: GeoHashBits, d: number): GeoHashBits {
  if (d === 0) return hash;
  let x = hash.bits & AAAA;
  const y = hash.bits & FIVE;
  const shift = BigInt(64 - hash.step * 2);
  const zz = FIVE >> shift;
  if (d > 0) x = (x + (zz + 1n)) & MASK64;
  else {
    x = x | zz;
    x = (x - (zz + 1n)) & MASK64;
  }
  x &= AAAA >> shift;
  return { bits: x | y, step: hash.step };
}

function moveY(hash: GeoHashBits, d: number): GeoHashBits {
  if (d === 0) return hash;
  const x = hash.bits & AAAA;
  let y = hash.bits & FIVE;
  const shift = BigInt(64 - hash.step * 2);
  const zz = AAAA >> shift;
  if (d > 0) y = (y + (zz + 1n)) & MASK64;
  else {
    y = y | zz;
    y = (y - (zz + 1n)) & MASK64;
  }
  y &= FIVE >> shift;
  return { bits: x | y, step: hash.step };
}

interface Neighbors {
  north: GeoHashBits;
  east: GeoHashBits;
  west: GeoHashBits;
  south: GeoHashBits;
  north_east: GeoHashBits;
  south_east: GeoHashBits;
  north_west: GeoHashBits;
  south_west: GeoHashBits;
}

function neighborsOf(h: GeoHashBits): Neighbors {
  return {
    east: moveY(moveX(h, 1), 0),
    west: moveY(moveX(h, -1), 0),
    south: moveY(moveX(h, 0), -1),
    north: moveY(moveX(h, 0), 1),
    north_west: moveY(moveX(h, -1), 1),
    north_east: moveY(moveX(h, 1), 1),
    south_east: moveY(moveX(h, 1), -1),
    south_west: moveY(moveX(h, -1), -1),
  };
}

const ZERO: GeoHashBits = { bits: 0n, step: 0 };

/** A search shape: circle (radius) or box (width x height), in the unit given by `conversion`. */
export interface GeoShape {
  circular: boolean;
  /** Center: [longitude, latitude]. */
  xy: number[];
  /** Meters per unit. */
  conversion: number;
  radius: number;
  width: number;
  height: number;
  bounds: number[];
}

function geohashEstimateStepsByRadius(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

function boundingBox(shape: GeoShape): void {
  const longitude = shape.xy[0]!;
  const latitude = shape.xy[1]!;
  const height = shape.conversion * (shape.circular ? shape.radius : shape.height / 2);
  const width = shape.conversion * (shape.circular ? shape.radius : shape.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const longDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(latitude + latDelta)));
  const longDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(latitude - latDelta)));
  const southern = latitude < 0;
  shape.bounds[0] = southern ? longitude - longDeltaBottom : longitude - longDeltaTop;
  shape.bounds[2] = southern ? longitude + longDeltaBottom : longitude + longDeltaTop;
  shape.bounds[1] = latitude - latDelta;
  shape.bounds[3] = latitude + latDelta;
}

/** The 9 boxes to search, in Redis's order (center, N, S, E, W, NE, NW, SE, SW); zeroed ones skipped later. */
export function searchAreas(shape: GeoShape): GeoHashBits[] {
  boundingBox(shape);
  const [minLon, minLat, maxLon, maxLat] = shape.bounds as [number, number, number, number];
  const longitude = shape.xy[0]!;
  const latitude = shape.xy[1]!;
  let radiusMeters = shape.circular ? shape.radius : Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2));
  radiusMeters *= shape.conversion;
  let steps = geohashEstimateStepsByRadius(radiusMeters, latitude);
  let hash = geohashEncode(STD_LONG, STD_LAT, longitude, latitude, steps) ?? { bits: 0n, step: steps };
  let n = neighborsOf(hash);
  let area = decodeArea(hash);
  let decrease = false;
  if (decodeArea(n.north).latitude.max < maxLat) decrease = true;
  if (decodeArea(n.south).latitude.min > minLat) decrease = true;
  if (decodeArea(n.east).longitude.max < maxLon) decrease = true;
  if (decodeArea(n.west).longitude.min > minLon) decrease = true;
  if (steps > 1 && decrease) {
    steps--;
    hash = geohashEncode(STD_LONG, STD_LAT, longitude, latitude, steps) ?? { bits: 0n, step: steps };
    n = neighborsOf(hash);
    area = decodeArea(hash);
  }
  if (steps >= 2) {
    if (area.latitude.min < minLat) {
      n.south = ZERO;
      n.south_west = ZERO;
      n.south_east = ZERO;
    }
    if (area.latitude.max > maxLat) {
      n.north = ZERO;
      n.north_east = ZERO;
      n.north_west = ZERO;
    }
    if (area.longitude.min < minLon) {
      n.west = ZERO;
      n.south_west = ZERO;
      n.north_west = ZERO;
    }
    if (area.longitude.max > maxLon) {
      n.east = ZERO;
      n.south_east = ZERO;
      n.north_east = ZERO;
    }
  }
  return [hash, n.north, n.south, n.east, n.west, n.north_east, n.north_west, n.south_east, n.south_west];
}

/** The score interval [min, max) of the members inside a box (scoresOfGeoHashBox). */
export function boxScores(hash: GeoHashBits): [number, number] {
  const shift = BigInt(52 - hash.step * 2);
  const min = BigInt.asUintN(64, hash.bits << shift);
  const max = BigInt.asUintN(64, (hash.bits + 1n) << shift);
  return [Number(min), Number(max)];
}

export function isZeroHash(h: GeoHashBits): boolean {
  return h.bits === 0n && h.step === 0;
}

function latDistance(lat1d: number, lat2d: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2d) - degRad(lat1d));
}

/** Haversine distance in meters (geohashGetDistance). */
export function geohashGetDistance(lon1d: number, lat1d: number, lon2d: number, lat2d: number): number {
  const lon1r = degRad(lon1d);
  const lon2r = degRad(lon2d);
  const v = Math.sin((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1d, lat2d);
  const lat1r = degRad(lat1d);
  const lat2r = degRad(lat2d);
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

/**
 * geoWithinShape: decodes the score into out[0] (longitude) and out[1] (latitude), puts the
 * distance from the center in meters into out[2], and tells whether the point is inside.
 */
export function withinShape(shape: GeoShape, score: number, out: number[]): boolean {
  decodeScore(score, out);
  const x1 = shape.xy[0]!;
  const y1 = shape.xy[1]!;
  const x2 = out[0]!;
  const y2 = out[1]!;
  if (shape.circular) {
    const d = geohashGetDistance(x1, y1, x2, y2);
    out[2] = d;
    return !(d > shape.radius * shape.conversion);
  }
  const widthM = shape.width * shape.conversion;
  const heightM = shape.height * shape.conversion;
  if (latDistance(y2, y1) > heightM / 2) return false;
  if (geohashGetDistance(x2, y2, x1, y2) > widthM / 2) return false;
  out[2] = geohashGetDistance(x1, y1, x2, y2);
  return true;
}
