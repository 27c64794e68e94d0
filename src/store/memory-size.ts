// What values cost on the JavaScript heap, for MEMORY USAGE and MEMORY STATS. The unit is the
// one INFO used_memory reports: JavaScriptCore's heap size, i.e. the cells of live objects plus
// the memory they own outside the heap (string characters, typed array and Buffer bytes). The
// figures below were measured on Bun 1.4.5 (linux-x64) by filling the heap with each shape and
// dividing the growth after a full GC; bench/memory-usage.bench.ts checks the estimates of
// whole values against the real store. They are estimates in the sense Redis's are: the
// runtime's size classes round some allocations up by a few percent, a substring shares the
// characters of the string it was cut from, and capacities left by deletions are not seen.

/** A value slot in an array, object or Map: numbers and booleans are boxed into it, no cell. */
export const SLOT_BYTES = 8;

/**
 * A string: its 16-byte cell plus one byte per (latin1) character. The empty string and the
 * one-character strings are shared by the runtime and cost nothing.
 */
export function stringBytes(s: string): number {
  return s.length < 2 ? 0 : 16 + s.length;
}

/** An object of `fields` properties (a 16-byte header, 8 per property, in 16-byte size classes). */
export function objectBytes(fields: number): number {
  return (16 + fields * SLOT_BYTES + 15) & ~15;
}

/** An array with room for `capacity` elements (its cell, its storage header, the slots). */
export function arrayBytes(capacity: number): number {
  return 32 + capacity * SLOT_BYTES;
}

/** A typed array or Buffer of `byteLength` bytes (the view's cell and its backing store). */
export function typedArrayBytes(byteLength: number): number {
  return 64 + byteLength;
}

// JavaScriptCore's Map and Set tables, measured: up to 16384 entries the table holds a power
// of four entries (at least 4) and quadruples when full; beyond, it holds 1.5 entries per slot
// of a power-of-two table of at least 65536 slots, and doubles. (Shrinking as entries go is
// not modelled: the estimate is for the current count.)

function smallTableCapacity(n: number): number {
  let cap = 4;
  while (cap < n) cap *= 4;
  return cap;
}

function largeTableSlots(n: number): number {
  let slots = 65536;
  while (slots * 1.5 < n) slots *= 2;
  return slots;
}

/** Entries a Map's or Set's table has room for when it holds n (DEBUG HTSTATS's "table size"). */
export function tableSlots(n: number): number {
  return n > 16384 ? largeTableSlots(n) : smallTableCapacity(n);
}

/** A Map of n entries, without what its keys and values are (ints and doubles cost no more). */
export function mapBytes(n: number): number {
  if (n === 0) return 32;
  if (n > 16384) return 96 + 52 * largeTableSlots(n);
  const cap = smallTableCapacity(n);
  return cap === 4 ? 256 : cap === 16 ? 912 : cap === 64 ? 2704 : 96 + 40 * cap;
}

/** A Set of n entries, without its members. */
export function setBytes(n: number): number {
  if (n === 0) return 32;
  if (n > 16384) return 96 + 40 * largeTableSlots(n);
  const cap = smallTableCapacity(n);
  return cap === 4 ? 256 : cap === 16 ? 640 : cap === 64 ? 2704 : 96 + 32 * cap;
}
