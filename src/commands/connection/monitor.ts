// The MONITOR command: the client joins the server's monitors, which the core feeds
// (core/monitor.ts).

import type { HandlerMap } from "../../core/command-spec.ts";
import { fail } from "../../core/errors.ts";

export const handlers: HandlerMap = {
  monitor(c) {
    // A client that expects one reply per command (inside MULTI, scripts) cannot monitor.
    if (c.denyBlocking || c.multi) fail("ERR MONITOR isn't allowed for DENY BLOCKING client");
    if (c.monitor || c.replica !== null) return; // already a monitor (or a replica): ignored
    c.monitor = true;
    c.server.monitors.add(c);
    c.reply.ok();
  },
};
