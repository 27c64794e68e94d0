// Regenerates src/core/redis-command-table.json from a running redis-server:
// the declared interface of every command (arity, flags, key positions, ACL categories,
// subcommands) exactly as `COMMAND` reports it. Replicant's handlers are its own; this file
// only makes arity checks, flags and COMMAND INFO replies match Redis.
//   bun test/tools/dump-command-table.ts <port>
// With --only, the named commands only, into another file: the commands newer Redis versions
// added or changed that Replicant serves (src/core/redis-command-table-newer.json, from a
// redis-server 7.4):
//   bun test/tools/dump-command-table.ts <port> --only hexpire,zrank,... --out src/core/redis-command-table-newer.json
import { RespClient } from "../helpers/resp-client.ts";

const port = Number(process.argv[2] ?? 6379);
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const only = flag("--only")?.split(",");
const out = flag("--out") ?? "src/core/redis-command-table.json";
const client = await RespClient.connect(port);
const reply = (await client.call("COMMAND")) as any[];
const version = String(await client.call("INFO", "server")).match(/redis_version:(\S+)/)?.[1];

function entry(e: any[]): any {
  const [name, arity, flags, first, last, step, categories, tips, keySpecs, subcommands] = e;
  const out: any = { name, arity, flags, first, last, step, categories };
  if (tips?.length) out.tips = tips;
  if (keySpecs?.length) out.keySpecs = keySpecs.map(flatten);
  if (subcommands?.length) out.subcommands = subcommands.map(entry);
  return out;
}
function flatten(v: any): any {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, flatten(x)]));
  if (Array.isArray(v)) {
    // RESP2 maps arrive as flat arrays of key/value pairs.
    if (v.length % 2 === 0 && v.every((x, i) => i % 2 === 1 || typeof x === "string")) {
      const keys = v.filter((_, i) => i % 2 === 0);
      if (keys.length && keys.every((k) => /^[a-z_]+$/.test(k))) return Object.fromEntries(keys.map((k, i) => [k, flatten(v[i * 2 + 1])]));
    }
    return v.map(flatten);
  }
  return v;
}
const table = reply
  .map(entry)
  .filter((e) => !only || only.includes(e.name))
  .sort((a, b) => a.name.localeCompare(b.name));
await Bun.write(out, JSON.stringify({ redisVersion: version, commands: table }, null, 0) + "\n");
console.log(`wrote ${table.length} commands from redis ${version}`);
client.close();
