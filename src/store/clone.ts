// Deep copies of values: COPY, and copy-on-write snapshots (a value about to be modified
// while a snapshot still needs its old state). Strings are immutable JS strings: shared.

import { HashValue } from "./hash.ts";
import { ListValue } from "./list.ts";
import { SetValue } from "./set.ts";
import { StreamValue } from "./stream.ts";
import { ZSetValue } from "./zset.ts";
import type { RedisValue } from "./values.ts";

export function cloneValue(v: RedisValue): RedisValue {
  if (typeof v === "string") return v;
  if (v instanceof ListValue) return v.clone();
  // Packed hashes and sets share their immutable string: O(1).
  if (v instanceof HashValue) return v.clone();
  if (v instanceof SetValue) return v.clone();
  if (v instanceof ZSetValue) return v.clone();
  if (v instanceof StreamValue) return cloneStream(v);
  // Module values are immutable blobs.
  return v;
}

/**
 * A stream copy keeps the node layout (listpack boundaries and tombstones), the counters and
 * the groups with their PELs, as Redis's streamDup does: the copy answers XINFO like the original.
 */
function cloneStream(s: StreamValue): StreamValue {
  return s.clone();
}
