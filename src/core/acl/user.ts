// An ACL user (acl.c user): on/off, password hashes, and its selectors (the root one first).
// Clients keep a reference to their User: ACL SETUSER changes the object in place, so a new rule
// applies to connections already authenticated as the user.

import { createHash, timingSafeEqual } from "node:crypto";
import { RuleError, Selector, SelectorFlag, selectorFromOpSet, type RuleContext } from "./selector.ts";

export const enum UserFlag {
  Enabled = 1 << 0,
  Disabled = 1 << 1,
  NoPass = 1 << 2,
  SanitizePayload = 1 << 3,
  SanitizePayloadSkip = 1 << 4,
}

/** User flags in the order ACL LIST and ACL GETUSER show them (ACLUserFlags). */
export const USER_FLAG_NAMES: ReadonlyArray<readonly [string, number]> = [
  ["on", UserFlag.Enabled],
  ["off", UserFlag.Disabled],
  ["nopass", UserFlag.NoPass],
  ["skip-sanitize-payload", UserFlag.SanitizePayloadSkip],
  ["sanitize-payload", UserFlag.SanitizePayload],
];

/** ACLHashPassword: SHA-256 of the password's bytes, as 64 lowercase hex digits. */
function hashPassword(password: string): string {
  return createHash("sha256").update(Buffer.from(password, "latin1")).digest("hex");
}

/** ACLCheckPasswordHash: exactly 64 characters of 0-9 a-f. */
function isPasswordHash(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

const ALL_ACCESS = SelectorFlag.AllKeys | SelectorFlag.AllCommands | SelectorFlag.AllChannels;

export class User {
  flags = UserFlag.Disabled;
  /** SHA-256 hex hashes, in the order they were added. */
  passwords: string[] = [];
  /** The root selector first, then the "(...)" ones. */
  selectors: Selector[];
  /**
   * Some selector allows every command, key and channel: the dispatcher skips the ACL check
   * for this user (the default user's case), so permissions cost nothing per command.
   */
  fullAccess = false;
  /** ACLDescribeUser's text, kept until the user changes (acl_string). */
  described: string | null = null;

  constructor(
    readonly name: string,
    pubsubDefault: number,
  ) {
    this.selectors = [new Selector(SelectorFlag.Root | pubsubDefault)];
  }

  get root(): Selector {
    return this.selectors[0]!;
  }

  get enabled(): boolean {
    return (this.flags & UserFlag.Disabled) === 0;
  }

  get noPass(): boolean {
    return (this.flags & UserFlag.NoPass) !== 0;
  }

  /** ACLCopyUser: takes another user's rules (the name stays). */
  copyFrom(other: User): void {
    this.flags = other.flags;
    this.passwords = [...other.passwords];
    this.selectors = other.selectors.map((s) => s.copy());
    this.described = other.described;
    this.fullAccess = other.fullAccess;
  }

  /** A detached copy to stage changes on (ACLStringSetUser's temporary user). */
  clone(): User {
    const u = new User(this.name, 0);
    u.copyFrom(this);
    return u;
  }

  /** Recomputes what is derived from the rules; to call after any change. */
  changed(): void {
    this.described = null;
    this.fullAccess = this.selectors.some((s) => (s.flags & ALL_ACCESS) === ALL_ACCESS);
  }

  /** ACLCheckUserCredentials, past the user lookup: enabled, and nopass or a matching password. */
  checkPassword(password: string): boolean {
    if (this.flags & UserFlag.Disabled) return false;
    if (this.flags & UserFlag.NoPass) return true;
    const given = Buffer.from(hashPassword(password), "latin1");
    let ok = false;
    // Every hash is compared, in constant time, whatever matched before.
    for (const p of this.passwords) if (timingSafeEqual(given, Buffer.from(p, "latin1"))) ok = true;
    return ok;
  }

  /**
   * ACLSetUser: one rule (user flags, passwords, selectors, or a rule of the root selector).
   * Returns null or why the rule is refused. Call changed() after a batch of rules.
   */
  apply(ctx: RuleContext, op: string): RuleError | null {
    if (op.length === 0) return null;
    const lower = op.length <= 21 ? op.toLowerCase() : "";
    if (lower === "on") {
      this.flags = (this.flags | UserFlag.Enabled) & ~UserFlag.Disabled;
    } else if (lower === "off") {
      this.flags = (this.flags | UserFlag.Disabled) & ~UserFlag.Enabled;
    } else if (lower === "skip-sanitize-payload") {
      this.flags = (this.flags | UserFlag.SanitizePayloadSkip) & ~UserFlag.SanitizePayload;
    } else if (lower === "sanitize-payload") {
      this.flags = (this.flags | UserFlag.SanitizePayload) & ~UserFlag.SanitizePayloadSkip;
    } else if (lower === "nopass") {
      this.flags |= UserFlag.NoPass;
      this.passwords = [];
    } else if (lower === "resetpass") {
      this.flags &= ~UserFlag.NoPass;
      this.passwords = [];
    } else if (op[0] === ">" || op[0] === "#") {
      let hash: string;
      if (op[0] === ">") hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!isPasswordHash(hash)) return RuleError.BadHash;
      }
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.flags &= ~UserFlag.NoPass;
    } else if (op[0] === "<" || op[0] === "!") {
      let hash: string;
      if (op[0] === "<") hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!isPasswordHash(hash)) return RuleError.BadHash;
      }
      const i = this.passwords.indexOf(hash);
      if (i < 0) return RuleError.NoSuchPassword;
      this.passwords.splice(i, 1);
    } else if (op[0] === "(" && op[op.length - 1] === ")") {
      const s = selectorFromOpSet(ctx, op);
      if (!(s instanceof Selector)) return s;
      this.selectors.push(s);
    } else if (lower === "clearselectors") {
      this.selectors.length = 1;
    } else if (lower === "reset") {
      this.apply(ctx, "resetpass");
      this.apply(ctx, "resetkeys");
      this.apply(ctx, "resetchannels");
      if (ctx.pubsubDefault & SelectorFlag.AllChannels) this.apply(ctx, "allchannels");
      this.apply(ctx, "off");
      this.apply(ctx, "sanitize-payload");
      this.apply(ctx, "clearselectors");
      this.apply(ctx, "-@all");
    } else {
      return this.root.apply(ctx, op);
    }
    return null;
  }
}

/** ACLCreateDefaultUser: +@all ~* &* on nopass. */
export function createDefaultUser(ctx: RuleContext): User {
  const u = new User("default", ctx.pubsubDefault);
  for (const rule of ["+@all", "~*", "&*", "on", "nopass"]) u.apply(ctx, rule);
  u.changed();
  return u;
}
