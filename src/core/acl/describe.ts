// Users back as rules (acl.c ACLDescribeUser / ACLDescribeSelectorCommandRules): what ACL LIST,
// ACL GETUSER and ACL SAVE show. The command rules are rebuilt from the bitmap: "+@all" or
// "-@all", then the categories that fit best, then single commands, so the text is Redis's own
// except for the order of the single commands (Redis walks a hash table: its order differs from
// one redis-server process to the next; ours is the command table's).

import { CATEGORY_NAMES, type AclCatalogue, type AclCommand } from "./catalogue.ts";
import { KeyPerm, Selector, SelectorFlag, type KeyPattern, type RuleContext } from "./selector.ts";
import { USER_FLAG_NAMES, type User } from "./user.ts";

/** sdsCatPatternString: "~p", "%R~p" or "%W~p". */
function patternText(p: KeyPattern): string {
  if (p.flags === KeyPerm.All) return `~${p.pattern}`;
  if (p.flags === KeyPerm.Read) return `%R~${p.pattern}`;
  return `%W~${p.pattern}`;
}

/** ACLCountCategoryBitsForSelector: commands of the category whose bit is on / off. */
function countCategory(commands: readonly AclCommand[], s: Selector, flag: number, counts: { on: number; off: number }): void {
  for (const cmd of commands) {
    if (cmd.categories & flag) {
      if (s.hasBit(cmd.id)) counts.on++;
      else counts.off++;
    }
    if (cmd.subcommands) countCategory(cmd.subcommands, s, flag, counts);
  }
}

/** ACLDescribeSelectorCommandRulesSingleCommands: the commands the categories did not get right. */
function singleCommandRules(s: Selector, fake: Selector, commands: readonly AclCommand[], out: string[]): void {
  for (const cmd of commands) {
    const userBit = s.hasBit(cmd.id);
    if (userBit !== fake.hasBit(cmd.id)) {
      out.push(`${userBit ? "+" : "-"}${cmd.fullName}`);
      fake.changePerm(cmd, userBit);
    }
    if (cmd.subcommands) singleCommandRules(s, fake, cmd.subcommands, out);
    const firstArgs = userBit ? undefined : s.firstArgs?.get(cmd.id);
    if (firstArgs) for (const arg of firstArgs) out.push(`+${cmd.fullName}|${arg}`);
  }
}

/**
 * ACLDescribeSelectorCommandRules: the rules that rebuild the selector's command bitmap. Starting
 * from +@all (if it can run future commands) or -@all, the category with the most commands in
 * common and the fewest differences is applied while one has more in common than not; single
 * commands fix the rest.
 */
export function describeCommandRules(catalogue: AclCatalogue, s: Selector): string {
  const ctx: RuleContext = { catalogue, pubsubDefault: 0, warn() {} };
  const additive = !s.canRunFutureCommands();
  const rules: string[] = [additive ? "-@all" : "+@all"];
  const fake = new Selector(0);
  fake.apply(ctx, rules[0]!);
  // `temp` starts as the user's bitmap; each applied category is undone on it, so later
  // categories are scored on what is left to explain.
  const temp = new Selector(0);
  temp.allowed.set(s.allowed);
  const applied = new Array<boolean>(CATEGORY_NAMES.length).fill(false);
  const counts = { on: 0, off: 0 };
  for (;;) {
    let best = -1;
    let minDiff = 0x7fffffff;
    let maxSame = 0;
    for (let j = 0; j < CATEGORY_NAMES.length; j++) {
      if (applied[j]) continue;
      counts.on = counts.off = 0;
      countCategory(catalogue.commands, temp, 1 << j, counts);
      const diff = additive ? counts.off : counts.on;
      const same = additive ? counts.on : counts.off;
      if (same > diff && (diff < minDiff || (diff === minDiff && same > maxSame))) {
        best = j;
        minDiff = diff;
        maxSame = same;
      }
    }
    if (best === -1) break;
    const name = CATEGORY_NAMES[best]!;
    rules.push(`${additive ? "+@" : "-@"}${name}`);
    fake.changeCategory(catalogue.commands, 1 << best, additive);
    temp.changeCategory(catalogue.commands, 1 << best, !additive);
    applied[best] = true;
  }
  singleCommandRules(s, fake, catalogue.commands, rules);
  return rules.join(" ");
}

/** ACLDescribeSelector: keys, channels, then commands. */
function describeSelector(catalogue: AclCatalogue, s: Selector): string {
  let out = "";
  if (s.flags & SelectorFlag.AllKeys) out += "~* ";
  else for (const p of s.patterns) out += `${patternText(p)} `;
  if (s.flags & SelectorFlag.AllChannels) out += "&* ";
  else {
    out += "resetchannels ";
    for (const ch of s.channels) out += `&${ch} `;
  }
  return out + describeCommandRules(catalogue, s);
}

/** ACLDescribeUser: "on #<hash> ~* &* +@all (...)", as ACL LIST and the ACL file show a user. */
export function describeUser(catalogue: AclCatalogue, u: User): string {
  if (u.described !== null) return u.described;
  let out = "";
  for (const [name, bit] of USER_FLAG_NAMES) if (u.flags & bit) out += `${name} `;
  for (const p of u.passwords) out += `#${p} `;
  for (const s of u.selectors) {
    const text = describeSelector(catalogue, s);
    out += s.flags & SelectorFlag.Root ? text : ` (${text})`;
  }
  u.described = out;
  return out;
}

/** ACL GETUSER's "keys" field: "~*", or the patterns joined by spaces. */
export function keysField(s: Selector): string {
  if (s.flags & SelectorFlag.AllKeys) return "~*";
  return s.patterns.map(patternText).join(" ");
}

/** ACL GETUSER's "channels" field: "&*", or the patterns joined by spaces. */
export function channelsField(s: Selector): string {
  if (s.flags & SelectorFlag.AllChannels) return "&*";
  return s.channels.map((c) => `&${c}`).join(" ");
}
