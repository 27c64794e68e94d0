// The error of the decoders of Redis's embedded structures (listpack, intset, ziplist, zipmap,
// LZF). src/encoding/ holds the byte formats that both the store (which keeps small values in
// packed forms and loads them straight from a blob) and the RDB reader decode; it sits below
// both, so neither has to import the other for a codec.

/**
 * A malformed embedded structure, with an offset relative to the structure; the RDB reader
 * turns it into an RdbError for the record.
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
