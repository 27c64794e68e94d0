// MULTI / EXEC / DISCARD / WATCH / UNWATCH. Queueing happens in the dispatcher (which also
// flags the transaction when a command is rejected); EXEC runs the queue atomically
// (core/dispatch.ts execTransaction); the watches are the core's (core/multi.ts).

import type { HandlerMap } from "../../core/command-spec.ts";
import { fail } from "../../core/errors.ts";
import { execTransaction } from "../../core/dispatch.ts";
import { discardTransaction, setWatchedWhileExpired, unwatchAll, watchedKeyExpired } from "../../core/multi.ts";

export const handlers: HandlerMap = {
  multi(c) {
    if (c.multi) fail("ERR MULTI calls can not be nested");
    c.multi = { queue: [], aborted: false, flags: 0 };
    c.reply.ok();
  },

  exec(c) {
    if (!c.multi) fail("ERR EXEC without MULTI");
    if (watchedKeyExpired(c)) c.dirtyCas = true;
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
    discardTransaction(c);
    c.reply.ok();
  },

  watch(c, argv) {
    if (c.multi) fail("ERR WATCH inside MULTI is not allowed");
    const server = c.server;
    if (!c.watched) c.watched = new Set();
    const db = c.db;
    for (let i = 1; i < argv.length; i++) {
      const k = `${db.id}\0${argv[i]}`;
      if (c.watched.has(k)) continue;
      c.watched.add(k);
      let set = server.watchedKeys.get(k);
      if (!set) server.watchedKeys.set(k, (set = new Set()));
      set.add(c);
      if (!server.loading && db.isExpired(argv[i]!, server.cmdTime)) setWatchedWhileExpired(c, k, true);
    }
    c.reply.ok();
  },

  unwatch(c) {
    unwatchAll(c);
    c.reply.ok();
  },
};
