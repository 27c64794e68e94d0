// The ACL log (acl.c addACLLogEntry, ACL LOG): recent denials, newest first, at most
// acllog-max-len entries. A denial like one of the 10 newest (same reason, context, object and
// user, within a minute) bumps that entry's count and moves it to the front instead.

import { Denied } from "./check.ts";

export const enum LogContext {
  Toplevel = 0,
  Multi = 1,
  Lua = 2,
}

interface AclLogEntry {
  count: number;
  reason: Denied;
  context: LogContext;
  /** The command's full name, the key, the channel, or AUTH's argv[0]. */
  object: string;
  username: string;
  /** Unix ms of the last occurrence. */
  time: number;
  /** CLIENT LIST's line of the client, at the last occurrence. */
  clientInfo: string;
}

const GROUPING_MS = 60_000;
const SCAN = 10;

export function reasonText(r: Denied): string {
  switch (r) {
    case Denied.Command:
      return "command";
    case Denied.Key:
      return "key";
    case Denied.Channel:
      return "channel";
    case Denied.Auth:
      return "auth";
  }
}

export function contextText(c: LogContext): string {
  return c === LogContext.Toplevel ? "toplevel" : c === LogContext.Multi ? "multi" : "lua";
}

export class AclLog {
  /** Newest first. */
  entries: AclLogEntry[] = [];

  add(entry: AclLogEntry, maxLen: number): void {
    const scan = Math.min(SCAN, this.entries.length);
    for (let i = 0; i < scan; i++) {
      const e = this.entries[i]!;
      if (e.reason === entry.reason && e.context === entry.context && Math.abs(e.time - entry.time) <= GROUPING_MS && e.object === entry.object && e.username === entry.username) {
        e.clientInfo = entry.clientInfo;
        e.time = entry.time;
        e.count++;
        this.entries.splice(i, 1);
        this.entries.unshift(e);
        return;
      }
    }
    this.entries.unshift(entry);
    if (this.entries.length > maxLen) this.entries.length = maxLen;
  }

  reset(): void {
    this.entries = [];
  }
}
