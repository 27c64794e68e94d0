// The value a key holds. A plain JS string is a Redis string (latin1: one char per byte);
// every other type is an object. `typeof v === "string"` is the fast path for the commonest type.

import { HashValue } from "./hash.ts";
import { objectBytes, stringBytes, typedArrayBytes } from "./memory-size.ts";
import { ListValue } from "./list.ts";
import { SetValue } from "./set.ts";
import { StreamValue } from "./stream.ts";
import { ZSetValue } from "./zset.ts";

/**
 * A module value from an RDB, kept opaque: we cannot interpret it, but we keep the bytes
 * exactly as the master serialized them (type id + payload), so TYPE and DUMP still work.
 */
export class ModuleValue {
  constructor(
    /** The module type name (9 chars) from the 64-bit module id. */
    readonly typeName: string,
    readonly moduleId: bigint,
    /** The serialized value after the module id, up to and including the module EOF opcode. */
    readonly payload: Buffer,
  ) {}
}

export type RedisValue = string | ListValue | HashValue | SetValue | ZSetValue | StreamValue | ModuleValue;

/** The name TYPE replies with. */
export function typeOf(v: RedisValue): string {
  if (typeof v === "string") return "string";
  if (v instanceof ListValue) return "list";
  if (v instanceof HashValue) return "hash";
  if (v instanceof SetValue) return "set";
  if (v instanceof ZSetValue) return "zset";
  if (v instanceof StreamValue) return "stream";
  return v.typeName;
}

/**
 * What a value costs on the heap (MEMORY USAGE), estimated as Redis's objectComputeSize does:
 * aggregates kept as Maps, Sets or arrays of strings have their elements sampled, `samples`
 * at most (Infinity: all).
 */
export function memoryUsageOf(v: RedisValue, samples: number): number {
  if (typeof v === "string") return stringBytes(v);
  if (v instanceof ModuleValue) return objectBytes(3) + stringBytes(v.typeName) + typedArrayBytes(v.payload.length);
  return v.memoryUsage(samples);
}

export { HashValue, ListValue, SetValue, StreamValue, ZSetValue };
