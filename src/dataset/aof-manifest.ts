// The manifest of a multi-part AOF (Redis 7.0's appenddirname/<appendfilename>.manifest): one
// line per file, `file <name> seq <n> type b|h|i`, the base first, then history files, then the
// incremental files in order. Read as aof.c's aofLoadManifestFromFile reads it: `#` lines are
// skipped, a line is key/value pairs (at least three), unknown keys are ignored. That lets an
// incremental file carry what we know about its bytes, in keys of our own that redis-server
// skips:
//
//   startoffset <n>  the replication offset of the first stream byte of the file
//   replid <id>      the replication history those offsets belong to
//   streamstart <n>  the file position where the stream bytes begin (after our SELECT preamble)
//   masterver <v>    the version of the master the stream comes from (a replica's)
//
// With them the offset of any byte of the file is known: startoffset + (position - streamstart).

import { splitArgs } from "../config/split-args.ts";

type AofFileType = "b" | "h" | "i";

export interface AofFileInfo {
  name: string;
  seq: number;
  type: AofFileType;
  /** Ours (incremental files): where the file's stream sits in the replication history. */
  stream?: { startOffset: number; replid: string; streamStart: number; masterVersion: string | null };
}

export interface AofManifest {
  base: AofFileInfo | null;
  history: AofFileInfo[];
  incr: AofFileInfo[];
  /**
   * The last incr sequence number used (curr_incr_file_seq): the last incr file's when read from
   * disk, kept when the incr files become history, so the next one continues the numbering.
   */
  incrSeq: number;
}

export function emptyManifest(): AofManifest {
  return { base: null, history: [], incr: [], incrSeq: 0 };
}

export class ManifestError extends Error {
  constructor(
    message: string,
    readonly line: string | null = null,
    readonly lineNumber = 0,
  ) {
    super(message);
  }
}

/** MANIFEST_MAX_LINE. */
const MAX_LINE = 1024;

/** Parses a manifest as Redis 7.0 does, with its error texts (aofLoadManifestFromFile). */
export function parseManifest(text: string): AofManifest {
  const m = emptyManifest();
  const lines = text.split("\n");
  // The text after the last "\n" is a line without its newline (or nothing).
  const last = lines.pop()!;
  if (lines.length === 0 && last === "") throw new ManifestError("Found an empty AOF manifest");
  if (last !== "") lines.push(last);
  let maxSeq = 0;
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    n++;
    if (raw.startsWith("#")) continue;
    if (raw.length >= MAX_LINE || (i === lines.length - 1 && last !== "")) throw new ManifestError("The AOF manifest file contains too long line", raw, n);
    const line = raw.trim();
    if (line === "") throw new ManifestError("Invalid AOF manifest file format", line, n);
    const argv = splitArgs(line);
    if (argv === null || argv.length < 6 || argv.length % 2 !== 0) throw new ManifestError("Invalid AOF manifest file format", line, n);
    const kv = new Map<string, string>();
    for (let j = 0; j < argv.length; j += 2) kv.set(argv[j]!.toLowerCase(), argv[j + 1]!);
    const name = kv.get("file");
    const seq = Number.parseInt(kv.get("seq") ?? "0", 10) || 0;
    const type = kv.get("type")?.[0];
    if (!name || !seq || !type) throw new ManifestError("Invalid AOF manifest file format", line, n);
    if (name.includes("/")) throw new ManifestError("File can't be a path, just a filename", line, n);
    const info: AofFileInfo = { name, seq, type: type as AofFileType };
    const start = kv.get("startoffset");
    const replid = kv.get("replid");
    if (start !== undefined && replid !== undefined && /^\d+$/.test(start) && /^[0-9a-f]{40}$/.test(replid)) {
      const streamStart = Number(kv.get("streamstart") ?? "0");
      info.stream = { startOffset: Number(start), replid, streamStart: Number.isSafeInteger(streamStart) && streamStart >= 0 ? streamStart : 0, masterVersion: kv.get("masterver") ?? null };
    }
    if (type === "b") {
      if (m.base) throw new ManifestError("Found duplicate base file information", line, n);
      m.base = info;
    } else if (type === "h") m.history.push(info);
    else if (type === "i") {
      if (seq <= maxSeq) throw new ManifestError("Found a non-monotonic sequence number", line, n);
      m.incr.push(info);
      m.incrSeq = maxSeq = seq;
    } else throw new ManifestError("Unknown AOF file type", line, n);
  }
  return m;
}

/** A manifest's text, in Redis's order (getAofManifestAsString), with our keys on incremental files. */
export function formatManifest(m: AofManifest): string {
  let out = "";
  const line = (f: AofFileInfo) => {
    out += `file ${quoteName(f.name)} seq ${f.seq} type ${f.type}`;
    const s = f.stream;
    if (s && f.type === "i") {
      out += ` startoffset ${s.startOffset} replid ${s.replid} streamstart ${s.streamStart}`;
      if (s.masterVersion !== null && /^[\w.-]+$/.test(s.masterVersion)) out += ` masterver ${s.masterVersion}`;
    }
    out += "\n";
  };
  if (m.base) line(m.base);
  for (const f of m.history) line(f);
  for (const f of m.incr) line(f);
  return out;
}

/**
 * A file name as Redis writes it in the manifest: quoted and escaped (sdscatrepr) when it has
 * a space, a quote, a backslash or a character that is not printable (sdsneedsrepr), so that
 * the line splits back into the same arguments (an appendfilename may hold any of them).
 */
function quoteName(name: string): string {
  if (!/[^\x21-\x7e]|["\\]/.test(name)) return name;
  let out = '"';
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    const code = name.charCodeAt(i) & 0xff;
    if (ch === "\\" || ch === '"') out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else out += "\\x" + code.toString(16).padStart(2, "0");
  }
  return out + '"';
}

/** The highest sequence numbers in use (curr_base_file_seq, curr_incr_file_seq). */
export function currentSeqs(m: AofManifest): { base: number; incr: number } {
  return { base: m.base?.seq ?? 0, incr: m.incrSeq };
}
