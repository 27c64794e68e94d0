// CLIENT TRACKING, CLIENT CACHING, CLIENT GETREDIR and CLIENT TRACKINGINFO: client-side caching
// as a client turns it on and inspects it (networking.c clientCommand). The tables and the
// invalidation messages are core/tracking.ts's.

import type { Client } from "../../core/client.ts";
import type { TrackingOptions } from "../../core/tracking.ts";
import { i64Arg, isOption } from "../../core/args.ts";
import { SYNTAX, fail } from "../../core/errors.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { commandStats, countErrorReply } from "../../core/dispatch.ts";

/** Redis formats prefixes with %s: a C string, cut at its first NUL byte. */
function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

/** stringCheckPrefix: two prefixes overlap when one starts the other (so the same keys match). */
function overlap(a: string, b: string): boolean {
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}

/**
 * checkPrefixCollisionsOrReply: the new prefixes may overlap neither the client's prefixes nor
 * each other. Returns the error, and whether to go on anyway: Redis 7.0 returns the index of the
 * prefix that overlaps a later one given with it as its verdict, so from the second prefix on
 * the client gets the error and then, tracking being enabled all the same, +OK. We do the same.
 */
function prefixCollision(c: Client, prefixes: readonly string[]): { error: string; goOn: boolean } | null {
  const held = c.tracking?.prefixes ?? null;
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    if (held !== null) {
      for (const existing of [...held].sort()) {
        if (overlap(existing, p)) {
          return { error: `ERR Prefix '${cString(p)}' overlaps with an existing prefix '${cString(existing)}'. Prefixes for a single client must not overlap.`, goOn: false };
        }
      }
    }
    for (let j = i + 1; j < prefixes.length; j++) {
      if (overlap(p, prefixes[j]!)) {
        return { error: `ERR Prefix '${cString(p)}' overlaps with another provided prefix '${cString(prefixes[j]!)}'. Prefixes for a single client must not overlap.`, goOn: i !== 0 };
      }
    }
  }
  return null;
}

export const handlers: HandlerMap = {
  "client|tracking"(c, argv) {
    const server = c.server;
    let redirect = 0;
    const options: TrackingOptions = { bcast: false, optin: false, optout: false, noloop: false };
    const prefixes: string[] = [];
    for (let j = 3; j < argv.length; j++) {
      const opt = argv[j]!;
      const moreArgs = argv.length - 1 - j;
      if (isOption(opt, "redirect") && moreArgs) {
        j++;
        if (redirect !== 0) fail("ERR A client can only redirect to a single other client");
        const id = i64Arg(argv[j]!);
        // The target must exist now; if it goes away later, messages are lost (flag R).
        if (typeof id !== "number" || !server.clients.has(id)) fail("ERR The client ID you want redirect to does not exist");
        redirect = id;
      } else if (isOption(opt, "bcast")) options.bcast = true;
      else if (isOption(opt, "optin")) options.optin = true;
      else if (isOption(opt, "optout")) options.optout = true;
      else if (isOption(opt, "noloop")) options.noloop = true;
      else if (isOption(opt, "prefix") && moreArgs) {
        j++;
        prefixes.push(argv[j]!);
      } else fail(SYNTAX);
    }
    const mode = argv[2]!;
    if (isOption(mode, "on")) {
      if (!options.bcast && prefixes.length !== 0) fail("ERR PREFIX option requires BCAST mode to be enabled");
      const t = c.tracking;
      if (t !== null && t.bcast !== options.bcast) {
        fail("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
      }
      if (options.bcast && (options.optin || options.optout)) fail("ERR OPTIN and OPTOUT are not compatible with BCAST");
      if (options.optin && options.optout) fail("ERR You can't specify both OPTIN mode and OPTOUT mode");
      if (t !== null && ((options.optin && t.optout) || (options.optout && t.optin))) {
        fail("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
      }
      const collision = options.bcast ? prefixCollision(c, prefixes) : null;
      if (collision !== null) {
        if (!collision.goOn) fail(collision.error);
        // An error reply, counted as call() counts one, followed by the +OK below.
        c.reply.error(collision.error);
        countErrorReply(server, collision.error);
        commandStats(c, "client|tracking").failed++;
      }
      server.tracking.enable(c, redirect, options, prefixes);
    } else if (isOption(mode, "off")) {
      server.tracking.disable(c);
    } else fail(SYNTAX);
    c.reply.ok();
  },

  "client|caching"(c, argv) {
    const t = c.tracking;
    if (t === null) fail("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    const opt = argv[2]!;
    if (isOption(opt, "yes")) {
      if (!t.optin) fail("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
    } else if (isOption(opt, "no")) {
      if (!t.optout) fail("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
    } else fail(SYNTAX);
    t.caching = true;
    c.reply.ok();
  },

  "client|getredir"(c) {
    c.reply.int(c.tracking !== null ? c.tracking.redirect : -1);
  },

  "client|trackinginfo"(c) {
    const t = c.tracking;
    const r = c.reply;
    r.map(3);
    r.bulk("flags");
    const flags = [t !== null ? "on" : "off"];
    if (t !== null) {
      if (t.bcast) flags.push("bcast");
      if (t.optin) {
        flags.push("optin");
        if (t.caching) flags.push("caching-yes");
      }
      if (t.optout) {
        flags.push("optout");
        if (t.caching) flags.push("caching-no");
      }
      if (t.noloop) flags.push("noloop");
      if (t.brokenRedirect) flags.push("broken_redirect");
    }
    r.set(flags.length);
    for (const f of flags) r.bulk(f);
    r.bulk("redirect");
    r.int(t !== null ? t.redirect : -1);
    r.bulk("prefixes");
    const prefixes = t?.prefixes ? [...t.prefixes].sort() : [];
    r.bulkArray(prefixes);
  },
};
