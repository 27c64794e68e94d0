// Redis's reverse-binary SCAN cursor (dict.c dictScan), for a table of 2^n buckets: the cursor
// is incremented in its reversed bit order, so the buckets visited so far stay visited when the
// table doubles (bucket b becomes b and b + size, both still ahead or both behind) or halves.

/** The cursor after `v` for a table whose bucket mask is `mask`; 0 when the walk is complete. */
export function nextScanCursor(v: number, mask: number): number {
  v |= ~mask;
  v = reverseBits(v);
  v = (v + 1) | 0;
  return reverseBits(v) >>> 0;
}

function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return (v >>> 16) | (v << 16);
}
