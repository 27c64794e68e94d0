// CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO (networking.c's clientCommand): the options
// of server-assisted client-side caching, checked as Redis checks them; the tracking itself is
// server/tracking.ts.

import type { Client } from "../server/client.ts";
import { fail, SYNTAX } from "./errors.ts";
import { parseLongLong } from "./strings-parse.ts";
import type { HandlerMap } from "./types.ts";

function tracking(c: Client, argv: string[]): void {
  let redirect = 0;
  const options = { bcast: false, optin: false, optout: false, noloop: false };
  const prefixes: string[] = [];
  for (let j = 3; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j]!.toLowerCase();
    if (opt === "redirect" && more) {
      j++;
      if (redirect !== 0) fail("ERR A client can only redirect to a single other client");
      const id = parseLongLong(argv[j]!);
      if (id === null) fail("ERR value is not an integer or out of range");
      redirect = Number(id);
      // Checked now, though it may go away later (then the redirect is "broken").
      if (!c.server.clients.has(redirect)) fail("ERR The client ID you want redirect to does not exist");
    } else if (opt === "bcast") options.bcast = true;
    else if (opt === "optin") options.optin = true;
    else if (opt === "optout") options.optout = true;
    else if (opt === "noloop") options.noloop = true;
    else if (opt === "prefix" && more) prefixes.push(argv[++j]!);
    else fail(SYNTAX);
  }
  const mode = argv[2]!.toLowerCase();
  const t = c.tracking;
  if (mode === "on") {
    if (!options.bcast && prefixes.length) fail("ERR PREFIX option requires BCAST mode to be enabled");
    if (t && t.bcast !== options.bcast) fail("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
    if (options.bcast && (options.optin || options.optout)) fail("ERR OPTIN and OPTOUT are not compatible with BCAST");
    if (options.optin && options.optout) fail("ERR You can't specify both OPTIN mode and OPTOUT mode");
    if (t && ((options.optin && t.optout) || (options.optout && t.optin))) fail("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
    if (options.bcast) {
      const collision = c.server.tracking.prefixCollision(c, prefixes);
      if (collision !== null) fail(collision);
    }
    c.server.tracking.enable(c, redirect, options, prefixes);
  } else if (mode === "off") {
    c.server.tracking.disable(c);
  } else fail(SYNTAX);
  c.reply.ok();
}

export const handlers: HandlerMap = {
  "client|tracking": tracking,

  "client|caching"(c, argv) {
    const t = c.tracking;
    if (t === null) fail("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    const opt = argv[2]!.toLowerCase();
    if (opt === "yes") {
      if (!t.optin) fail("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
    } else if (opt === "no") {
      if (!t.optout) fail("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
    } else fail(SYNTAX);
    t.caching = true;
    c.reply.ok();
  },

  "client|getredir"(c) {
    c.reply.int(c.tracking ? c.tracking.redirect : -1);
  },

  "client|trackinginfo"(c) {
    const t = c.tracking;
    const r = c.reply;
    r.map(3);
    r.bulk("flags");
    const flags = [t ? "on" : "off"];
    if (t) {
      if (t.bcast) flags.push("bcast");
      if (t.optin) flags.push("optin");
      if (t.optin && t.caching) flags.push("caching-yes");
      if (t.optout) flags.push("optout");
      if (t.optout && t.caching) flags.push("caching-no");
      if (t.noloop) flags.push("noloop");
      if (t.brokenRedirect) flags.push("broken_redirect");
    }
    r.set(flags.length);
    for (const f of flags) r.bulk(f);
    r.bulk("redirect");
    r.int(t ? t.redirect : -1);
    r.bulk("prefixes");
    const prefixes = t ? [...t.prefixes].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : [];
    r.array(prefixes.length);
    for (const p of prefixes) r.bulk(p);
  },
};
