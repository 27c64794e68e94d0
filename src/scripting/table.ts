// Lua 5.1 tables, ported from ltable.c: an array part and a hash part of 2^n nodes with
// Brent's variation of chained scatter tables, the same hash functions (luaS_hash for
// strings, the double's words for numbers) and the same growth rules (rehash/computesizes).
// Porting the layout, not just the semantics, makes what depends on it come out as in Redis:
// the order of pairs()/next(), the border # picks in tables with holes, cjson.encode's key
// order, table.sort's result with inconsistent comparators.
//
// Keys and values are LuaValues (undefined is nil). A node whose value became nil keeps its
// key until the next rehash, as in Lua.

import type { LuaValue } from "./value.ts";

const MAXBITS = 26;
const MAXASIZE = 1 << MAXBITS;

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** luaS_hash: the hash Lua computes for every string when it is created. */
export function strHash(s: string): number {
  const l = s.length;
  let h = l >>> 0;
  const step = (l >> 5) + 1;
  for (let l1 = l; l1 >= step; l1 -= step) h = (h ^ ((h << 5) + (h >>> 2) + s.charCodeAt(l1 - 1))) >>> 0;
  return h;
}

let nextObjectId = 1;

/** Something with an identity Lua hashes by address (tables, functions, userdata). */
export interface Identified {
  id: number;
}

/** A stable pseudo-address for an object (Lua hashes tables/functions by their pointer). */
export function objectId(o: Identified): number {
  if (o.id === 0) o.id = nextObjectId++;
  return o.id;
}

function pointerHash(o: Identified): number {
  // Addresses of objects are multiples of 8 and spread: mimic that.
  return (objectId(o) * 40 + 0x5555000) >>> 0;
}

function ceilLog2(x: number): number {
  // ceil(log2(x)) for x >= 1
  let r = 0;
  let v = x - 1;
  while (v > 0) {
    v >>>= 1;
    r++;
  }
  return r;
}

/** arrayindex(): the key as an array index, or -1. */
function arrayIndex(key: LuaValue): number {
  if (typeof key === "number" && (key | 0) === key) return key;
  return -1;
}

export class LuaTableError extends Error {}

const DUMMY_K: LuaValue[] = [undefined];
const DUMMY_V: LuaValue[] = [undefined];
const DUMMY_N = new Int32Array([-1]);

export class LuaTable implements Identified {
  /** Array part: t[1..arr.length] (holes are undefined). */
  arr: LuaValue[];
  private nk: LuaValue[] = DUMMY_K;
  private nv: LuaValue[] = DUMMY_V;
  private nn: Int32Array = DUMMY_N;
  private lsize = 0;
  private dummy = true;
  private lastfree = 0;
  metatable: LuaTable | null = null;
  /** Redis's protected tables: any write raises "Attempt to modify a readonly table". */
  readonly = false;
  id = 0;

  constructor(narray = 0, nhash = 0) {
    this.arr = narray > 0 ? new Array<LuaValue>(narray).fill(undefined) : [];
    if (nhash > 0) this.setNodeVector(nhash);
  }

  // ------------------------------------------------------------------ lookups

  private mainPosition(key: LuaValue): number {
    const size = 1 << this.lsize;
    switch (typeof key) {
      case "number": {
        if (key === 0) return 0;
        F64[0] = key;
        const a = (U32[0]! + U32[1]!) >>> 0;
        return a % ((size - 1) | 1);
      }
      case "string":
        return strHash(key) & (size - 1);
      case "boolean":
        return (key ? 1 : 0) & (size - 1);
      default:
        return pointerHash(key as unknown as Identified) % ((size - 1) | 1);
    }
  }

  /** Node holding `key`, or -1. */
  private findNode(key: LuaValue): number {
    if (this.dummy) return -1;
    let n = this.mainPosition(key);
    const nk = this.nk;
    const nn = this.nn;
    do {
      if (nk[n] === key) return n;
      n = nn[n]!;
    } while (n !== -1);
    return -1;
  }

  get(key: LuaValue): LuaValue {
    if (typeof key === "number") return this.getNum(key);
    if (typeof key === "string") return this.getStr(key);
    if (key === undefined) return undefined;
    const n = this.findNode(key);
    return n < 0 ? undefined : this.nv[n];
  }

  getNum(key: number): LuaValue {
    const i = key - 1;
    if ((i | 0) === i && i >= 0 && i < this.arr.length) return this.arr[i];
    if (key !== key || this.dummy) return undefined;
    const n = this.findNode(key);
    return n < 0 ? undefined : this.nv[n];
  }

  getStr(key: string): LuaValue {
    if (this.dummy) return undefined;
    let n = strHash(key) & ((1 << this.lsize) - 1);
    const nk = this.nk;
    const nn = this.nn;
    do {
      if (nk[n] === key) return this.nv[n];
      n = nn[n]!;
    } while (n !== -1);
    return undefined;
  }

  /** getStr with the hash precomputed (constant keys in compiled code). */
  getStrH(key: string, hash: number): LuaValue {
    if (this.dummy) return undefined;
    let n = hash & ((1 << this.lsize) - 1);
    const nk = this.nk;
    const nn = this.nn;
    do {
      if (nk[n] === key) return this.nv[n];
      n = nn[n]!;
    } while (n !== -1);
    return undefined;
  }

  // ------------------------------------------------------------------ stores

  /** luaH_set + store, without readonly or metamethod checks (callers do those). */
  set(key: LuaValue, value: LuaValue): void {
    if (typeof key === "number") {
      const i = key - 1;
      if ((i | 0) === i && i >= 0 && i < this.arr.length) {
        this.arr[i] = value;
        return;
      }
      if (key !== key) throw new LuaTableError("table index is NaN");
    } else if (key === undefined) throw new LuaTableError("table index is nil");
    const n = this.findNode(key);
    if (n >= 0) {
      this.nv[n] = value;
      return;
    }
    this.newKey(key, value);
  }

  /** luaH_setnum for an integer key. */
  setInt(key: number, value: LuaValue): void {
    const i = key - 1;
    if (i >= 0 && i < this.arr.length) {
      this.arr[i] = value;
      return;
    }
    this.set(key, value);
  }

  private getFreePos(): number {
    while (this.lastfree > 0) {
      this.lastfree--;
      if (this.nk[this.lastfree] === undefined) return this.lastfree;
    }
    return -1;
  }

  /** newkey(): inserts a key known to be absent, then stores the value. */
  private newKey(key: LuaValue, value: LuaValue): void {
    let mp = this.mainPosition(key);
    if (this.dummy || this.nv[mp] !== undefined) {
      const n = this.getFreePos();
      if (n < 0) {
        this.rehash(key);
        this.set(key, value);
        return;
      }
      const nk = this.nk;
      const nn = this.nn;
      let othern = this.mainPosition(nk[mp]);
      if (othern !== mp) {
        // The colliding node is out of its main position: move it to the free slot.
        while (nn[othern] !== mp) othern = nn[othern]!;
        nn[othern] = n;
        nk[n] = nk[mp];
        this.nv[n] = this.nv[mp];
        nn[n] = nn[mp]!;
        nn[mp] = -1;
        this.nv[mp] = undefined;
      } else {
        // The colliding node is in its main position: the new key goes to the free slot.
        nn[n] = nn[mp]!;
        nn[mp] = n;
        mp = n;
      }
    }
    this.nk[mp] = key;
    this.nv[mp] = value;
  }

  // ------------------------------------------------------------------ rehash

  private setNodeVector(size: number): void {
    if (size === 0) {
      this.nk = DUMMY_K;
      this.nv = DUMMY_V;
      this.nn = DUMMY_N;
      this.lsize = 0;
      this.dummy = true;
      this.lastfree = 0;
      return;
    }
    const lsize = ceilLog2(size);
    if (lsize > MAXBITS) throw new LuaTableError("table overflow");
    const n = 1 << lsize;
    this.nk = new Array<LuaValue>(n).fill(undefined);
    this.nv = new Array<LuaValue>(n).fill(undefined);
    this.nn = new Int32Array(n).fill(-1);
    this.lsize = lsize;
    this.dummy = false;
    this.lastfree = n;
  }

  private static countInt(key: LuaValue, nums: number[]): number {
    const k = arrayIndex(key);
    if (k > 0 && k <= MAXASIZE) {
      nums[ceilLog2(k)]!++;
      return 1;
    }
    return 0;
  }

  private numUseArray(nums: number[]): number {
    let ause = 0;
    let i = 1;
    const size = this.arr.length;
    for (let lg = 0, ttlg = 1; lg <= MAXBITS; lg++, ttlg *= 2) {
      let lc = 0;
      let lim = ttlg;
      if (lim > size) {
        lim = size;
        if (i > lim) break;
      }
      for (; i <= lim; i++) if (this.arr[i - 1] !== undefined) lc++;
      nums[lg]! += lc;
      ause += lc;
    }
    return ause;
  }

  private rehash(extraKey: LuaValue): void {
    const nums = new Array<number>(MAXBITS + 1).fill(0);
    let nasize = this.numUseArray(nums);
    let totaluse = nasize;
    // numusehash
    if (!this.dummy) {
      for (let i = (1 << this.lsize) - 1; i >= 0; i--) {
        if (this.nv[i] !== undefined) {
          nasize += LuaTable.countInt(this.nk[i], nums);
          totaluse++;
        }
      }
    }
    nasize += LuaTable.countInt(extraKey, nums);
    totaluse++;
    // computesizes
    let a = 0;
    let na = 0;
    let n = 0;
    for (let i = 0, twotoi = 1; twotoi / 2 < nasize; i++, twotoi *= 2) {
      if (nums[i]! > 0) {
        a += nums[i]!;
        if (a > twotoi / 2) {
          n = twotoi;
          na = a;
        }
      }
      if (a === nasize) break;
    }
    this.resize(n, totaluse - na);
  }

  private resize(nasize: number, nhsize: number): void {
    const oldasize = this.arr.length;
    const oldK = this.nk;
    const oldV = this.nv;
    const oldDummy = this.dummy;
    const oldhsize = 1 << this.lsize;
    if (nasize > oldasize) for (let i = oldasize; i < nasize; i++) this.arr.push(undefined);
    this.setNodeVector(nhsize);
    if (nasize < oldasize) {
      const vanishing = this.arr.slice(nasize);
      this.arr.length = nasize;
      for (let i = 0; i < vanishing.length; i++) {
        const v = vanishing[i];
        if (v !== undefined) this.setInt(nasize + i + 1, v);
      }
    }
    if (!oldDummy) {
      for (let i = oldhsize - 1; i >= 0; i--) {
        const v = oldV[i];
        if (v !== undefined) this.set(oldK[i], v);
      }
    }
  }

  /** luaH_resizearray (SETLIST with more values than the constructor announced). */
  resizeArray(nasize: number): void {
    this.resize(nasize, this.dummy ? 0 : 1 << this.lsize);
  }

  // ------------------------------------------------------------------ length and traversal

  private unboundSearch(j: number): number {
    let i = j;
    j++;
    while (this.getNum(j) !== undefined) {
      i = j;
      j *= 2;
      if (j > 2147483647) {
        i = 1;
        while (this.getNum(i) !== undefined) i++;
        return i - 1;
      }
    }
    while (j - i > 1) {
      const m = Math.floor((i + j) / 2);
      if (this.getNum(m) === undefined) j = m;
      else i = m;
    }
    return i;
  }

  /** luaH_getn: a border (the # operator). */
  length(): number {
    let j = this.arr.length;
    if (j > 0 && this.arr[j - 1] === undefined) {
      let i = 0;
      while (j - i > 1) {
        const m = Math.floor((i + j) / 2);
        if (this.arr[m - 1] === undefined) j = m;
        else i = m;
      }
      return i;
    }
    if (this.dummy) return j;
    return this.unboundSearch(j);
  }

  /**
   * luaH_next: the entry after `key` (nil starts), as [key, value], or null at the end.
   * Throws for a key that is not in the table ("invalid key to 'next'").
   */
  next(key: LuaValue): [LuaValue, LuaValue] | null {
    let i: number;
    const asize = this.arr.length;
    if (key === undefined) i = -1;
    else {
      const k = arrayIndex(key);
      if (k > 0 && k <= asize) i = k - 1;
      else {
        const n = this.findNode(key);
        if (n < 0) throw new LuaTableError("invalid key to 'next'");
        i = n + asize;
      }
    }
    for (i++; i < asize; i++) {
      const v = this.arr[i];
      if (v !== undefined) return [i + 1, v];
    }
    if (this.dummy) return null;
    const size = 1 << this.lsize;
    for (i -= asize; i < size; i++) {
      const v = this.nv[i];
      if (v !== undefined) return [this.nk[i], v];
    }
    return null;
  }

  /** Whether the hash part is empty (no node ever used). */
  get hashIsEmpty(): boolean {
    return this.dummy;
  }
}
