// The feed's records, as JSON lines or MessagePack objects (docs/feed.md, "Records"):
//
//   {"offset": <master offset after the command>, "db": <n>, "args": ["SET", "k", "v"]}
//
// plus "snapshot": true on the records of a full sync's snapshot, and "replid" on the record
// that starts one. Arguments are byte strings with `rdb export`'s convention (rdb/export.ts): a
// JSON string when the bytes are valid UTF-8, else {"base64": ...}; in MessagePack a str, else
// a bin. Arguments arrive as latin1 strings (one char per byte, protocol/request-parser.ts).

import { Packr } from "msgpackr";
import { jsonBytes, msgpackBytes } from "../rdb/export.ts";

export type FeedFormat = "jsonl" | "msgpack";

export interface FeedRecord {
  offset: number;
  db: number;
  /** latin1 strings (the stream's arguments), or Buffers (a snapshot's DUMP payloads). */
  args: ReadonlyArray<string | Buffer>;
  snapshot?: boolean;
  replid?: string;
}

export class RecordEncoder {
  private readonly json: boolean;
  private readonly packr = new Packr({ useRecords: false, variableMapSize: true });

  constructor(format: FeedFormat) {
    this.json = format === "jsonl";
  }

  encode(r: FeedRecord): Buffer | string {
    if (this.json) {
      const args = JSON.stringify(r.args.map((a) => (typeof a === "string" ? jsonBytes.bytes(a) : jsonBytes.buffer(a))));
      const extra = (r.snapshot ? `,"snapshot":true` : "") + (r.replid !== undefined ? `,"replid":${JSON.stringify(r.replid)}` : "");
      return `{"offset":${r.offset},"db":${r.db},"args":${args}${extra}}\n`;
    }
    const out: Record<string, unknown> = { offset: r.offset, db: r.db, args: r.args.map((a) => (typeof a === "string" ? msgpackBytes.bytes(a) : msgpackBytes.buffer(a))) };
    if (r.snapshot) out.snapshot = true;
    if (r.replid !== undefined) out.replid = r.replid;
    return this.packr.pack(out);
  }
}
