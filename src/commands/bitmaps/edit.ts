// Editing a few bytes of an immutable latin1 string without copying it into a Buffer and back.
//
// Values are JS strings (one char per byte). Turning a 12 KB string into a Buffer and back costs
// microseconds (latin1Slice is far slower than memcpy); changing a handful of bytes is better
// done by reading through charCodeAt and rebuilding the string from slices around the changed
// bytes: JSC makes that a rope and flattens it later with one memcpy. SETBIT, BITFIELD and
// dense PFADD use this. Over a large bitmap (a ChunkedString, see bitmaps-chunked.ts) the edits
// go to its chunks instead.

import type { ChunkedString } from "./chunked.ts";

/** Records byte changes over a base string; `get` sees them, `apply` builds the new string. */
export class StringEditor {
  private base = "";
  private tree: ChunkedString | null = null;
  private readonly positions: number[] = [];
  private readonly values: number[] = [];
  /** Position -> index into positions/values, once there are many edits. */
  private index: Map<number, number> | null = null;

  /**
   * Starts over on a new base (the editor is reused: no allocation per command): a string, or
   * a chunk tree whose bytes are read and edited in place.
   */
  reset(base: string | ChunkedString): void {
    if (typeof base === "string") {
      this.base = base;
      this.tree = null;
    } else {
      this.base = "";
      this.tree = base;
    }
    this.positions.length = 0;
    this.values.length = 0;
    this.index = null;
  }

  get length(): number {
    return this.tree ? this.tree.length : this.base.length;
  }

  get editCount(): number {
    return this.positions.length;
  }

  private find(pos: number): number {
    if (this.index) return this.index.get(pos) ?? -1;
    const p = this.positions;
    for (let i = p.length - 1; i >= 0; i--) if (p[i] === pos) return i;
    return -1;
  }

  /** The byte at `pos` (0 past the end, like Redis's zero padding). */
  get(pos: number): number {
    const i = this.find(pos);
    if (i !== -1) return this.values[i]!;
    if (this.tree) return this.tree.byteAt(pos);
    return pos < this.base.length ? this.base.charCodeAt(pos) : 0;
  }

  /** Sets the byte at `pos` (must be inside the base). */
  set(pos: number, value: number): void {
    const i = this.find(pos);
    if (i !== -1) {
      this.values[i] = value & 0xff;
      return;
    }
    this.positions.push(pos);
    this.values.push(value & 0xff);
    if (this.index) this.index.set(pos, this.positions.length - 1);
    else if (this.positions.length > 16) {
      this.index = new Map();
      for (let k = 0; k < this.positions.length; k++) this.index.set(this.positions[k]!, k);
    }
  }

  /** The base with the edits applied (for a tree: applied to it, and its new root returned). */
  apply(): string {
    const n = this.positions.length;
    if (this.tree) return n === 0 ? this.tree.root : this.tree.applyEdits(this.positions, this.values);
    if (n === 0) return this.base;
    const s = this.base;
    if (n === 1) {
      const p = this.positions[0]!;
      return s.slice(0, p) + String.fromCharCode(this.values[0]!) + s.slice(p + 1);
    }
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => this.positions[a]! - this.positions[b]!);
    let out = "";
    let from = 0;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const p = this.positions[i]!;
      out += s.slice(from, p) + String.fromCharCode(this.values[i]!);
      from = p + 1;
    }
    return out + s.slice(from);
  }
}
