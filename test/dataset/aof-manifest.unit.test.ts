// The AOF manifest (dataset/aof-manifest.ts): Redis 7.0's format and errors
// (aofLoadManifestFromFile), and our keys on incr lines, which Redis skips.

import { describe, expect, test } from "bun:test";
import { currentSeqs, formatManifest, ManifestError, parseManifest } from "../../src/dataset/aof-manifest.ts";

const REPLID = "0123456789abcdef0123456789abcdef01234567";

describe("parseManifest", () => {
  test("Redis's lines, comments and unknown keys", () => {
    const m = parseManifest(["# a comment", "file appendonly.aof.3.base.rdb seq 3 type b", "file appendonly.aof.2.incr.aof seq 2 type h", "file appendonly.aof.4.incr.aof seq 4 type i future key", "file appendonly.aof.5.incr.aof seq 5 type i", ""].join("\n"));
    expect(m.base).toEqual({ name: "appendonly.aof.3.base.rdb", seq: 3, type: "b" });
    expect(m.history.map((f) => f.name)).toEqual(["appendonly.aof.2.incr.aof"]);
    expect(m.incr.map((f) => [f.name, f.seq, f.stream])).toEqual([
      ["appendonly.aof.4.incr.aof", 4, undefined],
      ["appendonly.aof.5.incr.aof", 5, undefined],
    ]);
    expect(currentSeqs(m)).toEqual({ base: 3, incr: 5 });
  });

  test("our keys: the stream's offset, replid, where it starts in the file, the master's version", () => {
    const m = parseManifest(`file a.1.incr.aof seq 1 type i startoffset 12345 replid ${REPLID} streamstart 23 masterver 7.0.15\n`);
    expect(m.incr[0]!.stream).toEqual({ startOffset: 12345, replid: REPLID, streamStart: 23, masterVersion: "7.0.15" });
    // A replid that is not one is no stream information at all.
    expect(parseManifest("file a.1.incr.aof seq 1 type i startoffset 1 replid xyz\n").incr[0]!.stream).toBeUndefined();
  });

  test("a file name with spaces, quotes or newlines is quoted as Redis writes it (sdscatrepr), and read back", () => {
    const name = ' file "seq" \n\n.aof\\x\t ';
    const text = formatManifest({ base: { name, seq: 2, type: "b" }, history: [], incr: [], incrSeq: 0 });
    expect(text).toBe('file " file \\"seq\\" \\n\\n.aof\\\\x\\t " seq 2 type b\n');
    expect(parseManifest(text).base!.name).toBe(name);
  });

  test("round trip", () => {
    const text = `file a.2.base.aof seq 2 type b\nfile a.1.base.rdb seq 1 type h\nfile a.2.incr.aof seq 2 type i startoffset 7 replid ${REPLID} streamstart 0\nfile a.3.incr.aof seq 3 type i startoffset 99 replid ${REPLID} streamstart 23 masterver valkey-8.0.1\n`;
    expect(formatManifest(parseManifest(text))).toBe(text);
  });

  test("Redis's errors", () => {
    const error = (text: string) => {
      try {
        parseManifest(text);
        return null;
      } catch (e) {
        expect(e).toBeInstanceOf(ManifestError);
        return (e as Error).message;
      }
    };
    expect(error("")).toBe("Found an empty AOF manifest");
    expect(error("file a seq 1\n")).toBe("Invalid AOF manifest file format");
    expect(error("file a seq 1 type b extra\n")).toBe("Invalid AOF manifest file format");
    expect(error("\n")).toBe("Invalid AOF manifest file format");
    expect(error("file a/b seq 1 type b\n")).toBe("File can't be a path, just a filename");
    expect(error("file a seq 1 type b\nfile b seq 2 type b\n")).toBe("Found duplicate base file information");
    expect(error("file a seq 2 type i\nfile b seq 2 type i\n")).toBe("Found a non-monotonic sequence number");
    expect(error("file a seq 1 type x\n")).toBe("Unknown AOF file type");
    expect(error("file a seq 0 type b\n")).toBe("Invalid AOF manifest file format");
    expect(error(`file ${"a".repeat(1100)} seq 1 type b\n`)).toBe("The AOF manifest file contains too long line");
  });
});
