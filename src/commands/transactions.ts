// MULTI / EXEC / DISCARD / WATCH / UNWATCH. Queueing happens in the dispatcher (which also
// flags the transaction when a command is rejected); EXEC runs the queue atomically: nothing
// else runs in between, since commands execute synchronously on one thread.

import type { Client } from "../server/client.ts";
import { execTransaction } from "../server/dispatch.ts";
import { fail } from "./errors.ts";
import type { HandlerMap } from "./types.ts";

function unwatchAll(c: Client): void {
  const watched = c.watched;
  if (!watched) return;
  const server = c.server;
  for (const k of watched) {
    const set = server.watchedKeys.get(k);
    if (!set) continue;
    set.delete(c);
    if (set.size === 0) server.watchedKeys.delete(k);
  }
  c.watched = null;
  c.dirtyCas = false;
}

export const handlers: HandlerMap = {
  multi(c) {
    if (c.multi) fail("ERR MULTI calls can not be nested");
    c.multi = { queue: [], aborted: false, flags: 0 };
    c.reply.ok();
  },

  exec(c) {
    if (!c.multi) fail("ERR EXEC without MULTI");
    if (c.dirtyCas && !c.multi.aborted) {
      // A watched key changed: the transaction does not run.
      c.multi = null;
      unwatchAll(c);
      c.reply.nullArray();
      return;
    }
    unwatchAll(c);
    execTransaction(c);
  },

  discard(c) {
    if (!c.multi) fail("ERR DISCARD without MULTI");
    c.multi = null;
    unwatchAll(c);
    c.reply.ok();
  },

  watch(c, argv) {
    if (c.multi) fail("ERR WATCH inside MULTI is not allowed");
    const server = c.server;
    if (!c.watched) c.watched = new Set();
    for (let i = 1; i < argv.length; i++) {
      const k = `${c.db.id}\0${argv[i]}`;
      if (c.watched.has(k)) continue;
      c.watched.add(k);
      let set = server.watchedKeys.get(k);
      if (!set) server.watchedKeys.set(k, (set = new Set()));
      set.add(c);
    }
    c.reply.ok();
  },

  unwatch(c) {
    unwatchAll(c);
    c.reply.ok();
  },
};
