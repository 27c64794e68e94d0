// Counts the command handlers registered in the command table, and lists what Redis 7.0
// declares that has none:  bun test/differential/count-commands.ts

import tableJson from "../../src/core/redis-command-table.json";
import { commandTable } from "../../src/commands/families.ts";
import type { CommandMeta } from "../../src/core/command-spec.ts";

const table = commandTable();
let topWithHandler = 0;
let subWithHandler = 0;
let containers = 0;
for (const spec of table.all) {
  if (spec.handler) topWithHandler++;
  if (spec.subcommands) {
    containers++;
    for (const sub of spec.subcommands.values()) if (sub.handler) subWithHandler++;
  }
}
const missingTop: string[] = [];
const missingSub: string[] = [];
const declared = (tableJson as { commands: CommandMeta[] }).commands;
for (const meta of declared) {
  const spec = table.get(meta.name);
  if (!spec) {
    missingTop.push(meta.name);
    continue;
  }
  for (const sub of meta.subcommands ?? []) {
    const s = spec.subcommands?.get(sub.name.slice(sub.name.indexOf("|") + 1));
    if (!s?.handler) missingSub.push(sub.name);
  }
}
const declaredSubs = declared.reduce((n, m) => n + (m.subcommands?.length ?? 0), 0);
console.log(`commands in the table: ${table.all.length} of Redis 7.0's ${declared.length} (${topWithHandler} with a handler of their own, ${containers} containers)`);
console.log(`subcommands with a handler: ${subWithHandler} of ${declaredSubs}`);
console.log(`handlers registered: ${topWithHandler + subWithHandler}`);
console.log(`commands without a handler: ${missingTop.join(" ")}`);
console.log(`subcommands without a handler: ${missingSub.join(" ")}`);
