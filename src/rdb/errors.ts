// Errors of RDB parsing. Every failure on bad input is an RdbError naming the byte offset (from
// the first byte of the file) and what was expected there, so that a failed full sync can be
// logged usefully; anything else escaping the reader is a bug.

export type RdbErrorKind =
  /** The input ended before the RDB did. */
  | "truncated"
  /** The bytes do not follow the format. */
  | "corrupt"
  /** The CRC-64 trailer does not match. */
  | "checksum"
  /** A valid RDB using something this reader cannot load (future version, pre-GA module type). */
  | "unsupported"
  /** A length this implementation cannot hold (a JS string over 2^31 - 1 chars...). */
  | "too-large"
  /** The same key twice in one database (Redis refuses to load such a file). */
  | "duplicate-key";

export class RdbError extends Error {
  override readonly name = "RdbError";
  constructor(
    readonly kind: RdbErrorKind,
    /** Byte offset in the RDB where the problem was found (-1 when not applicable). */
    readonly offset: number,
    message: string,
  ) {
    super(offset >= 0 ? `${message} (at offset ${offset})` : message);
  }
}

/**
 * Thrown by the decoders of embedded structures (listpack, ziplist, intset, zipmap, LZF) with
 * an offset relative to the structure; the reader turns it into an RdbError for the record.
 */
export class StructureError extends Error {
  override readonly name = "StructureError";
  constructor(
    readonly structure: string,
    readonly innerOffset: number,
    message: string,
  ) {
    super(`${structure}: ${message} (at byte ${innerOffset} of the ${structure})`);
  }
}
