// Redis's string2ll, exactly: optional '-', then "0" alone or [1-9][0-9]*, within int64, at
// most 20 chars. Unlike args.ts's parseI64 it refuses "-0", as Redis does ("INCRBY k -0" is
// "value is not an integer or out of range").

import { isInt64Text } from "./encoding.ts";

/** The int64 value of `text`, a number when it is a safe integer and a bigint otherwise; null if invalid. */
export function parseLongLong(text: string): number | bigint | null {
  if (!isInt64Text(text)) return null;
  if (text.length < 16) return Number(text);
  const n = Number(text);
  if (Number.isSafeInteger(n)) return n;
  return BigInt(text);
}
