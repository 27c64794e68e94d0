// Regenerates src/commands/redis-command-docs.json from a running redis-server: every command's
// documentation exactly as `COMMAND DOCS` reports it (summary, since, group, complexity,
// doc_flags, deprecated_since, replaced_by, history, the argument tree, subcommands), the data
// behind our COMMAND DOCS (commands/server/command-docs.ts), which redis-cli reads for its hints.
//   bun test/tools/dump-command-docs.ts <port>
// With --only, the named commands only, into another file: the commands
// redis-command-table-newer.json takes from a newer Redis (src/commands/redis-command-docs-newer.json,
// from a redis-server 7.4):
//   bun test/tools/dump-command-docs.ts <port> --only hexpire,zrank,... --out src/commands/redis-command-docs-newer.json
//
// The file keeps the reply's structure: a map per command (and per argument) in Redis's key
// order, flag sets as lists of names, in the shape of a 7.0 reply. It is read only when
// COMMAND DOCS is called.
import { RespClient } from "../helpers/resp-client.ts";

const port = Number(process.argv[2] ?? 6379);
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const only = flag("--only")?.split(",");
const out = flag("--out") ?? "src/commands/redis-command-docs.json";
const client = await RespClient.connect(port);
// RESP3: maps come as maps, so that a map and an array are told apart.
await client.call("HELLO", "3");
const reply = (await client.call("COMMAND", "DOCS")) as Map<string, unknown>;
const version = String(await client.call("INFO", "server")).match(/redis_version:(\S+)/)?.[1];

/** The keys of an argument's map in a 7.0 reply (7.2 added display_text: dropped from newer servers' docs). */
const ARGUMENT_KEYS = new Set(["name", "type", "key_spec_index", "token", "summary", "since", "deprecated_since", "flags", "arguments"]);

function plain(v: unknown, inArguments = false): unknown {
  if (v instanceof Map) {
    const entries = [...v].filter(([k]) => !inArguments || ARGUMENT_KEYS.has(k as string));
    return Object.fromEntries(entries.map(([k, x]) => [k, plain(x, k === "arguments")]));
  }
  if (Array.isArray(v)) return v.map((x) => plain(x, inArguments));
  return v;
}

const names = [...reply.keys()].filter((n) => !only || only.includes(n)).sort();
const commands: Record<string, unknown> = {};
for (const name of names) commands[name] = plain(reply.get(name));
await Bun.write(out, JSON.stringify({ redisVersion: version, commands }) + "\n");
console.log(`wrote the docs of ${names.length} commands from redis ${version}`);
client.close();
