// Running a client's buffered input: every complete command, in order, until the input is
// exhausted, the client blocks (WAIT, BLPOP...) or must close. Shared by the listener (new
// bytes) and by unblocking (resumeInput), so a blocked client's pipelined commands run after
// its blocking command has replied, as in Redis.

import { ProtocolError } from "../protocol/request-parser.ts";
import { PREFETCH_MAX } from "../store/keyspace/keyspace-index.ts";
import type { Client } from "./client.ts";
import { processCommand } from "./dispatch.ts";

/**
 * Replies past this size are handed to the connection before the batch's next command: a batch
 * of big replies (a pipeline of GETs of 1 MB values) then queues them as they come instead of
 * growing one buffer by doubling (measured: 512 MB of unread replies peaked at 1.6 GB RSS).
 * Not less: pieces of 1 or 16 MB kept 150 MB of a closed client's replies resident for ~11 s
 * (until the runtime's own full collection; the one asked for at the close did not free them),
 * 64 MB ones for 2-3 s as one buffer did (test/server/memory-release.test.ts). 512 MB of unread
 * replies now peak at 830 MB RSS (redis-server 530).
 */
const FLUSH_WITHIN_BATCH = 64 * 1024 * 1024;

/** Scratch for the keys a pipeline will look up (prefetchPipeline; used within one call, so shared). */
const pipelineKeys = new Int32Array(PREFETCH_MAX * 4);

/**
 * A pipeline's keys (and the members it names in a large aggregate) read ahead before its
 * commands run (Database.prefetch), so that their cache misses overlap: the two or three misses
 * of each lookup were a fifth of the server's time under `redis-benchmark -P 16` of GET or
 * HGET. Covers the next PREFETCH_MAX commands at most; returns how many commands to run
 * before reading ahead again (1 when there was nothing to read ahead: a lone command's lookup
 * has nothing to overlap with).
 */
export function prefetchPipeline(c: Client): number {
  // A keyspace that fits the caches has no misses to overlap: the peek would be pure cost.
  if (!c.db.worthPrefetching) return PREFETCH_MAX;
  const n = c.parser.peekArguments(pipelineKeys, PREFETCH_MAX);
  if (n < 2) return 1;
  c.db.prefetch(c.parser.readBuffer, pipelineKeys, n);
  return n;
}

/** Runs the client's complete commands; `now` is performance.now() when the caller has just read it. */
export function processInput(c: Client, now = performance.now()): void {
  const server = c.server;
  // The batch's first command starts now; each next one where the previous one ended (call()).
  server.batchClock = now;
  let ahead = 0;
  try {
    while (!c.closeAfterReply && !c.blocked) {
      if (--ahead <= 0) ahead = prefetchPipeline(c);
      const argv = c.parser.next();
      if (argv === null) break;
      processCommand(c, argv);
      if (c.reply.length > FLUSH_WITHIN_BATCH) {
        sendReplies(c);
        // Closed for its output buffer limit (or the peer went away): its next commands do not
        // run (Redis stops reading a client flagged CLOSE_ASAP).
        if (c.conn !== null && c.conn.closed) break;
        server.batchClock = performance.now();
      }
    }
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    // Redis's addReplyError: "-ERR Protocol error: ...".
    c.reply.error(`ERR ${e.reply}`);
    server.log.verbose(`Protocol error (${e.reason}) from client: id=${c.id} addr=${c.addr}`);
    c.closeAfterReply = true;
  } finally {
    // Outside a batch (timers, a master's stream, a script that yielded) the clock is read.
    server.batchClock = -1;
  }
  if (c.reply.length) sendReplies(c);
  if (c.closeAfterReply) c.conn?.closeAfterFlush();
  // Its command's script yielded: the client's reply and its next commands come when it ends
  // (a client that went away meanwhile is done: Redis frees it then).
  if (c.pendingScript !== null) {
    c.pendingScript.then(() => {
      if (c.conn?.closed) {
        c.blocked = false;
        return;
      }
      c.resumeInput();
    });
  }
}

function sendReplies(c: Client): void {
  c.server.stats.netOutputBytes += c.reply.length;
  c.server.stats.totalWritesProcessed++;
  c.flush();
}
