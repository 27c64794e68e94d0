// The spool of a delayed replica (replica-apply-delay): the master's stream, written to files in
// `dir/replica-delay-spool/` as it arrives, with each received chunk's arrival time, and read
// back in order once old enough. It is what makes an hour of delay cost disk rather than memory,
// and what a restart continues from (the RDB holds what was applied, the spool what was
// received after it, so the PSYNC asks for what follows the spool).
//
// Layout: segment files named by the stream offset of their first byte (20 digits, so names sort
// by offset), each a 64-byte header (magic, the replication ID the stream belonged to, the start
// offset) and records: a 16-byte header (data length u32, CRC-32 of the data u32, arrival unix ms
// f64) and the stream bytes. A record whose header or data is incomplete or whose CRC does not
// match ends the spool (a write torn by a crash): the file is cut there on open. A new segment
// starts past SEGMENT_BYTES and when the replication ID changes. Segments wholly before what the
// last RDB save holds (and wholly applied) are removed.
//
// Commands an operator drops (REPLICADELAY DROP) are not edited in the files: their byte ranges
// are appended to `drops` and replaced when read back by a no-op of the same length (the stream
// offsets of everything after them, ours and our replicas', stay the master's).

import { appendFileSync, closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import { writevFully } from "../common/fd-writer.ts";

const MAGIC = "RPLDLY01";
const SEGMENT_HEADER = 64;
const RECORD_HEADER = 16;
/** A new segment starts once the current one holds this much (old ones are removed whole). */
const SEGMENT_BYTES = 64 * 1024 * 1024;
/** Larger records than this are not ours (a corrupt length): the spool ends there. */
const MAX_RECORD = 1024 * 1024 * 1024;

export const SPOOL_DIR = "replica-delay-spool";
/** A held snapshot (a full sync not applied yet) and the stream after it, beside the spool. */
export const NEXT_DIR = "replica-delay-spool.next";

interface Segment {
  path: string;
  replid: string;
  /** Stream offsets of the first byte and of the byte after the last. */
  start: number;
  end: number;
  /** File size (where the next record goes). */
  size: number;
}

/** A byte range [start, end) of the stream an operator dropped. */
interface DroppedRange {
  start: number;
  end: number;
}

export class DelaySpool {
  private segments: Segment[] = [];
  /** The last segment's descriptor, open for appending. */
  private fd = -1;
  private unsynced = false;
  private drops: DroppedRange[] = [];

  private constructor(public dir: string) {}

  /** A new, empty spool for the stream from `offset` on (what was there is removed). */
  static create(dir: string, replid: string, offset: number): DelaySpool {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const spool = new DelaySpool(dir);
    spool.startSegment(replid, offset);
    return spool;
  }

  /**
   * The spool left in `dir` by an earlier run, its torn tail cut off, or null when there is none
   * (or nothing usable: the caller then starts afresh). Throws nothing for bad contents.
   */
  static open(dir: string, warn: (msg: string) => void): DelaySpool | null {
    if (!existsSync(dir)) return null;
    const spool = new DelaySpool(dir);
    const names = readdirSync(dir).filter((n) => /^\d{20}\.seg$/.test(n)).sort();
    for (const name of names) {
      const path = join(dir, name);
      const seg = scanSegment(path, warn);
      if (seg === null) break;
      const prev = spool.segments.at(-1);
      if (prev !== undefined && prev.end !== seg.start) {
        warn(`Delay spool: ${name} does not continue ${prev.path}: the spool ends before it.`);
        break;
      }
      spool.segments.push(seg);
      if (seg.size < fileSize(path)) {
        warn(`Delay spool: ${name} ends with an incomplete record (a write cut by a crash): cut at ${seg.size} bytes.`);
        const fd = openSync(path, "r+");
        ftruncateSync(fd, seg.size);
        closeSync(fd);
        break;
      }
    }
    // Segments after a break are not part of the stream we hold.
    const kept = new Set(spool.segments.map((s) => s.path));
    for (const name of names) if (!kept.has(join(dir, name))) rmSync(join(dir, name), { force: true });
    if (spool.segments.length === 0) return null;
    spool.fd = openSync(spool.segments.at(-1)!.path, "r+");
    spool.drops = readDrops(join(dir, "drops"));
    return spool;
  }

  /** Stream offsets: the first byte held, and the byte after the last received. */
  get start(): number {
    return this.segments[0]!.start;
  }
  get end(): number {
    return this.segments.at(-1)!.end;
  }
  /** The replication ID of the newest bytes (what a PSYNC after them names). */
  get replid(): string {
    return this.segments.at(-1)!.replid;
  }

  /** Appends bytes of the stream received at `arrival` (unix ms), under replication ID `replid`. */
  append(data: Uint8Array, arrival: number, replid: string): void {
    let seg = this.segments.at(-1)!;
    if (seg.replid !== replid || (seg.size >= SEGMENT_BYTES && seg.end > seg.start)) seg = this.startSegment(replid, seg.end);
    const header = Buffer.allocUnsafe(RECORD_HEADER);
    header.writeUInt32LE(data.length, 0);
    header.writeUInt32LE(Bun.hash.crc32(data) >>> 0, 4);
    header.writeDoubleLE(arrival, 8);
    writevFully(this.fd, [header, data], seg.size);
    seg.size += RECORD_HEADER + data.length;
    seg.end += data.length;
    this.unsynced = true;
  }

  /** fsync of what was appended since the last one (once a second, as appendfsync everysec). */
  sync(): void {
    if (!this.unsynced || this.fd < 0) return;
    this.unsynced = false;
    fsyncSync(this.fd);
  }

  /** Removes the segments that end at or before `offset` (never the last one). */
  release(offset: number): void {
    while (this.segments.length > 1 && this.segments[0]!.end <= offset) {
      rmSync(this.segments.shift()!.path, { force: true });
    }
    if (this.drops.length > 0 && this.drops[0]!.end <= this.start) {
      this.drops = this.drops.filter((d) => d.end > this.start);
      writeDrops(join(this.dir, "drops"), this.drops);
    }
  }

  /** Records that the stream bytes [start, end) are not to be applied (durably, before returning). */
  drop(start: number, end: number): void {
    this.drops.push({ start, end });
    this.drops.sort((a, b) => a.start - b.start);
    const path = join(this.dir, "drops");
    appendFileSync(path, `${start} ${end}\n`);
    const fd = openSync(path, "r");
    fsyncSync(fd);
    closeSync(fd);
  }

  /** Whether [start, end) was dropped. */
  isDropped(start: number, end: number): boolean {
    return this.drops.some((d) => d.start === start && d.end === end);
  }

  /** A reader of the stream from `offset` (within [start, end]). */
  cursor(offset: number): SpoolCursor {
    return new SpoolCursor(this, offset);
  }

  /** Moves the spool's directory to `dir` (replacing what is there), its files staying open. */
  moveTo(dir: string): void {
    this.sync();
    rmSync(dir, { recursive: true, force: true });
    renameSync(this.dir, dir);
    for (const seg of this.segments) seg.path = join(dir, basename(seg.path));
    this.dir = dir;
  }

  /** Closes and removes every file. */
  destroy(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.segments = [];
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Closes the files (they stay for the next start). */
  close(): void {
    this.sync();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** @internal for SpoolCursor */
  segmentAt(offset: number): Segment | null {
    for (const s of this.segments) if (offset < s.end || (offset === s.end && s === this.segments.at(-1))) return offset >= s.start ? s : null;
    return null;
  }

  /** @internal for SpoolCursor: the segment after `seg`, if any. */
  nextSegment(seg: Segment): Segment | null {
    const i = this.segments.indexOf(seg);
    return i >= 0 && i + 1 < this.segments.length ? this.segments[i + 1]! : null;
  }

  /** Replaces dropped ranges within `data` (which starts at stream offset `at`). */
  maskDrops(data: Buffer, at: number): Buffer {
    let copy: Buffer | null = null;
    const end = at + data.length;
    for (const d of this.drops) {
      if (d.start >= end) break;
      if (d.end <= at) continue;
      copy ??= Buffer.from(data);
      const filler = noopOfLength(d.end - d.start);
      const from = Math.max(d.start, at);
      const to = Math.min(d.end, end);
      filler.copy(copy, from - at, from - d.start, to - d.start);
    }
    return copy ?? data;
  }

  private startSegment(replid: string, offset: number): Segment {
    this.sync();
    if (this.fd >= 0) closeSync(this.fd);
    const path = join(this.dir, `${String(offset).padStart(20, "0")}.seg`);
    const header = Buffer.alloc(SEGMENT_HEADER);
    header.write(MAGIC, 0, "latin1");
    header.write(replid.padEnd(40, "0").slice(0, 40), 8, "latin1");
    header.writeDoubleLE(offset, 48);
    this.fd = openSync(path, "w+", 0o600);
    writeFully(this.fd, header, 0);
    fsyncSync(this.fd);
    const seg: Segment = { path, replid, start: offset, end: offset, size: SEGMENT_HEADER };
    this.segments.push(seg);
    return seg;
  }
}

/** One record's place: where its data is in the file, its stream offset, its arrival. */
interface RecordAt {
  seg: Segment;
  /** File position of the data. */
  pos: number;
  length: number;
  /** Stream offset of the data's first byte. */
  offset: number;
  arrival: number;
}

/** Reads the stream back from an offset, record by record (see DelaySpool). */
export class SpoolCursor {
  /** The record holding `offset`, once found. */
  private rec: RecordAt | null = null;
  private fd = -1;
  private fdPath = "";

  constructor(
    private readonly spool: DelaySpool,
    /** Stream offset of the next byte to read. */
    public offset: number,
  ) {}

  /** Arrival time of the next byte's record, or null when everything received was read. */
  peekArrival(): number | null {
    const r = this.locate();
    return r === null ? null : r.arrival;
  }

  /**
   * The next bytes, from `offset` to the end of their record or to `limit` (a stream offset),
   * dropped commands replaced; null when nothing is left (below `limit`).
   */
  take(limit = Infinity, masked = true): Buffer | null {
    const r = this.locate();
    if (r === null) return null;
    const skip = this.offset - r.offset;
    const n = Math.min(r.length - skip, limit - this.offset);
    if (n <= 0) return null;
    const data = Buffer.allocUnsafe(n);
    readFully(this.fdFor(r.seg), data, r.pos + skip);
    const at = this.offset;
    this.offset += n;
    return masked ? this.spool.maskDrops(data, at) : data;
  }

  /** Closes its file. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private locate(): RecordAt | null {
    let r = this.rec;
    if (r !== null && this.offset < r.offset + r.length) return r;
    // The next record: after the current one, or found from its segment's start.
    let seg: Segment | null;
    let pos: number;
    let offset: number;
    if (r !== null && this.offset === r.offset + r.length) {
      seg = r.seg;
      pos = r.pos + r.length;
      offset = this.offset;
    } else {
      seg = this.spool.segmentAt(this.offset);
      if (seg === null) return null;
      pos = SEGMENT_HEADER;
      offset = seg.start;
    }
    const header = Buffer.allocUnsafe(RECORD_HEADER);
    for (;;) {
      if (pos >= seg.size) {
        const next = this.spool.nextSegment(seg);
        if (next === null) return null;
        seg = next;
        pos = SEGMENT_HEADER;
        offset = seg.start;
        continue;
      }
      readFully(this.fdFor(seg), header, pos);
      const length = header.readUInt32LE(0);
      r = { seg, pos: pos + RECORD_HEADER, length, offset, arrival: header.readDoubleLE(8) };
      if (this.offset < offset + length) {
        this.rec = r;
        return r;
      }
      pos += RECORD_HEADER + length;
      offset += length;
    }
  }

  private fdFor(seg: Segment): number {
    if (this.fdPath !== seg.path) {
      this.close();
      this.fd = openSync(seg.path, "r");
      this.fdPath = seg.path;
    }
    return this.fd;
  }
}

/**
 * A command that does nothing, exactly `n` bytes long: PING with a padding argument (what a
 * master sends; a replica's reply to its master is discarded), with one newline more where no
 * PING has that length (a newline alone is the keep-alive masters send, counted by the offset).
 * Below 20 bytes (the shortest PING with an argument), newlines only.
 */
export function noopOfLength(n: number): Buffer {
  if (n < 20) return Buffer.alloc(n, "\n");
  // *2\r\n$4\r\nPING\r\n$<k>\r\n<k bytes>\r\n is 19 + digits(k) + k bytes.
  let k = n - 20;
  while (k > 0 && 19 + String(k).length + k > n) k--;
  const ping = Buffer.from(`*2\r\n$4\r\nPING\r\n$${k}\r\n${"-".repeat(k)}\r\n`, "latin1");
  return ping.length === n ? ping : Buffer.concat([ping, Buffer.alloc(n - ping.length, "\n")]);
}

function scanSegment(path: string, warn: (msg: string) => void): Segment | null {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const header = Buffer.alloc(SEGMENT_HEADER);
    if (size < SEGMENT_HEADER || readSync(fd, header, 0, SEGMENT_HEADER, 0) !== SEGMENT_HEADER || header.toString("latin1", 0, 8) !== MAGIC) {
      warn(`Delay spool: ${path} is not a spool segment: the spool ends before it.`);
      return null;
    }
    const start = header.readDoubleLE(48);
    const seg: Segment = { path, replid: header.toString("latin1", 8, 48), start, end: start, size: SEGMENT_HEADER };
    const rh = Buffer.alloc(RECORD_HEADER);
    while (seg.size + RECORD_HEADER <= size) {
      readFully(fd, rh, seg.size);
      const length = rh.readUInt32LE(0);
      if (length > MAX_RECORD || seg.size + RECORD_HEADER + length > size) break;
      const data = Buffer.allocUnsafe(length);
      readFully(fd, data, seg.size + RECORD_HEADER);
      if (Bun.hash.crc32(data) >>> 0 !== rh.readUInt32LE(4)) break;
      seg.size += RECORD_HEADER + length;
      seg.end += length;
    }
    return seg;
  } finally {
    closeSync(fd);
  }
}

function fileSize(path: string): number {
  const fd = openSync(path, "r");
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

function readDrops(path: string): DroppedRange[] {
  if (!existsSync(path)) return [];
  const drops: DroppedRange[] = [];
  for (const line of readFileSync(path, "latin1").split("\n")) {
    const m = /^(\d+) (\d+)$/.exec(line);
    if (m) drops.push({ start: Number(m[1]), end: Number(m[2]) });
  }
  return drops.sort((a, b) => a.start - b.start);
}

/** Rewrites the drops file (write, fsync, rename: a crash leaves the old or the new one). */
function writeDrops(path: string, drops: DroppedRange[]): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  writeSync(fd, drops.map((d) => `${d.start} ${d.end}\n`).join(""));
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

function writeFully(fd: number, data: Uint8Array, pos: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, pos + done);
}

function readFully(fd: number, into: Buffer, pos: number): void {
  let got = 0;
  while (got < into.length) {
    const n = readSync(fd, into, got, into.length - got, pos + got);
    if (n === 0) throw new Error("the delay spool ended early");
    got += n;
  }
}
