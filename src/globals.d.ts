// Node's fast latin1 codec methods, which Bun implements but bun-types does not declare.
// latin1 maps bytes to chars 1:1, so binary-safe keys and values round-trip through strings.
declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    latin1Write(text: string, offset?: number, length?: number): number;
  }
}
export {};
