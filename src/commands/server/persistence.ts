// Persistence commands: SAVE, BGSAVE [SCHEDULE], BGREWRITEAOF (dataset/aof-rewrite.ts), LASTSAVE,
// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. The saving itself lives in dataset/persistence.ts, the shutdown sequence
// (waiting for lagging replicas) in commands/server/shutdown.ts.

import { bgsaveInProgress, saveSync, scheduleBgsave, startBgsave } from "../../dataset/persistence.ts";
import { commandStats } from "../../core/dispatch.ts";
import { abortShutdown, prepareForShutdown } from "./shutdown.ts";
import { aofRewriteInProgress, startAofRewrite } from "../../dataset/aof-rewrite.ts";
import { fail, SYNTAX } from "../../core/errors.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

const BGSAVE_IN_PROGRESS = "ERR Background save already in progress";

export const handlers: HandlerMap = {
  save(c) {
    const server = c.server;
    if (bgsaveInProgress(server)) fail(BGSAVE_IN_PROGRESS);
    server.persistence.saves++;
    if (!saveSync(server)) fail("ERR");
    c.reply.ok();
  },

  bgsave(c, argv) {
    if (argv.length > 1 && !(argv.length === 2 && argv[1]!.toLowerCase() === "schedule")) fail(SYNTAX);
    const server = c.server;
    if (bgsaveInProgress(server)) fail(BGSAVE_IN_PROGRESS);
    if (aofRewriteInProgress(server)) {
      // Another "child" holds the dataset: only SCHEDULE (or EXEC) waits for it.
      if (argv.length !== 2 && !c.denyBlocking) {
        fail("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
      }
      scheduleBgsave(server);
      c.reply.simple("Background saving scheduled");
      return;
    }
    if (c.denyBlocking) {
      // Inside EXEC (Redis's in_exec): started by the next cron.
      scheduleBgsave(server);
      c.reply.simple("Background saving scheduled");
      return;
    }
    const r = startBgsave(server);
    // A full sync being served holds the dataset snapshot, as Redis's replication child does.
    if (r !== "started") fail(BGSAVE_IN_PROGRESS);
    c.reply.simple("Background saving started");
  },

  bgrewriteaof(c) {
    const r = startAofRewrite(c.server, c.denyBlocking);
    if (r === "in-progress") fail("ERR Background append only file rewriting already in progress");
    if (r === "error") fail("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
    c.reply.simple(r === "scheduled" ? "Background append only file rewriting scheduled" : "Background append only file rewriting started");
  },

  lastsave(c) {
    c.reply.int(c.server.persistence.lastSaveTime);
  },

  shutdown(c, argv) {
    let save = false;
    let nosave = false;
    let now = false;
    let force = false;
    let abort = false;
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i]!.toLowerCase();
      if (a === "nosave") nosave = true;
      else if (a === "save") save = true;
      else if (a === "now") now = true;
      else if (a === "force") force = true;
      else if (a === "abort") abort = true;
      else fail(SYNTAX);
    }
    if ((abort && (save || nosave || now || force)) || (save && nosave)) fail(SYNTAX);
    const server = c.server;
    if (abort) {
      // Only a shutdown waiting for lagging replicas can be aborted.
      const told = abortShutdown(server);
      if (told === null) fail("ERR No shutdown in progress.");
      // The errors the blocked clients got were counted while this command ran: Redis's call()
      // then counts it as a failed call (incrCommandStatsOnError sees new error replies).
      if (told > 0) commandStats(c, c.lastCommand).failed++;
      c.reply.ok();
      return;
    }
    if (!now && c.denyBlocking) fail("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client");
    // A busy script: only SHUTDOWN NOSAVE (the server exits, the script with it).
    const busy = server.scripting.busy;
    if (!nosave && busy !== null) fail(busy.busyError);
    const outcome = prepareForShutdown(server, { save, nosave, force, now }, c);
    if (outcome === "failed") fail("ERR Errors trying to SHUTDOWN. Check logs.");
    // "waiting": the client stays blocked until the server exits (or an error if cancelled).
    // "exit": like Redis, no reply: the connection just closes.
    if (outcome === "exit") c.closeAfterReply = true;
  },
};
