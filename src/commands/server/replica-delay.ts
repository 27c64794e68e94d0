// REPLICADELAY: an operator's view of, and hand on, what a delayed replica (replica-apply-delay)
// received from its master and has not applied yet (replication/apply-delay.ts). Pending
// commands are named by the master's replication offset right after each, the number a feed
// record or the master's own offset gives; replies follow SLOWLOG GET's shape.

import { i64Arg } from "../../core/args.ts";
import { fail } from "../../core/errors.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { replicationOf } from "../../replication/replication.ts";
import { replyHelp } from "../scripting/scripting.ts";

export const handlers: HandlerMap = {
  "replicadelay|list"(c, argv) {
    if (argv.length > 3) fail(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try REPLICADELAY HELP.`);
    let count = 10;
    if (argv.length === 3) {
      const n = i64Arg(argv[2]!, "ERR count should be greater than or equal to -1");
      if (n < -1) fail("ERR count should be greater than or equal to -1");
      count = n === -1 ? Number.MAX_SAFE_INTEGER : Number(n);
    }
    const pending = replicationOf(c.server).link.delayControl.pendingCommands(count);
    const r = c.reply;
    r.array(pending.length);
    for (const p of pending) {
      r.array(4);
      r.int(p.end);
      r.int(p.arrival);
      r.int(p.db);
      r.bulkArray(p.argv);
    }
  },
  "replicadelay|apply"(c, argv) {
    const stream = replicationOf(c.server).link.delayControl;
    if (argv.length === 2) stream.releaseEarly(Infinity, Infinity, false);
    else if (argv.length === 4 && argv[2]!.toUpperCase() === "OFFSET") stream.releaseEarly(Number(i64Arg(argv[3]!, "ERR offset is not an integer or out of range")), 0, false);
    else if (argv.length === 4 && argv[2]!.toUpperCase() === "BEFORE") stream.releaseEarly(0, Number(i64Arg(argv[3]!, "ERR time is not an integer or out of range")), false);
    else fail("ERR syntax error");
    c.reply.ok();
  },
  "replicadelay|drop"(c, argv) {
    const stream = replicationOf(c.server).link.delayControl;
    const offsets = argv.slice(2).map((a) => Number(i64Arg(a, "ERR offset is not an integer or out of range")));
    let dropped = 0;
    for (const end of offsets) if (stream.dropPending(end)) dropped++;
    c.reply.int(dropped);
  },
  "replicadelay|discard"(c) {
    c.reply.int(replicationOf(c.server).link.delayControl.discardDelay());
  },
  "replicadelay|help"(c) {
    replyHelp(c, "REPLICADELAY", [
      "LIST [<count>]",
      "    Return the oldest <count> commands received from the master and not applied yet",
      "    (default: 10, -1 means all). Each is: the master's replication offset after it,",
      "    its arrival (unix time in milliseconds), its database, its arguments.",
      "APPLY [OFFSET <offset> | BEFORE <unix-time-milliseconds>]",
      "    Apply now every pending command, those up to <offset>, or those received before",
      "    the time, without waiting for replica-apply-delay.",
      "DROP <offset> [<offset> ...]",
      "    Never apply the pending commands that end at these offsets (see LIST). Returns how",
      "    many were dropped.",
      "DISCARD",
      "    Forget every pending command; the replica resynchronizes from what it applied.",
      "    Returns how many commands were discarded.",
    ]);
  },
};
