// Option parsers shared by the tools' subcommands (`rdb export`, `feed`): the same option, the
// same rule and the same message.

import { InvalidArgumentError } from "commander";

export function parseDb(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError("a database number (0, 1, ...) is expected");
  return Number(v);
}

export function parseFormat(v: string): "jsonl" | "msgpack" {
  if (v !== "jsonl" && v !== "msgpack") throw new InvalidArgumentError("jsonl or msgpack");
  return v;
}
