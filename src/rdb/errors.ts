// Errors of RDB parsing. Every failure on bad input is an RdbError naming the byte offset (from
// the first byte of the file) and what was expected there, so that a failed full sync can be
// logged usefully; anything else escaping the reader is a bug. (The decoders of embedded
// structures throw a StructureError, src/encoding/structure-error.ts, which the reader turns
// into an RdbError for the record.)

type RdbErrorKind =
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
