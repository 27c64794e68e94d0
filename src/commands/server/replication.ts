// Replication commands: REPLICAOF / SLAVEOF, REPLCONF, WAIT, FAILOVER. (PSYNC / SYNC, served to
// our own replicas, belong to the master side; FAILOVER's state machine to master-failover.ts.)

import { clientInfoLine } from "../../core/client-info.ts";
import { replicationOf } from "../../replication/replication.ts";
import { ClientKind, type Client } from "../../core/client.ts";
import { intArg, isOption } from "../../core/args.ts";
import { NOT_INTEGER, SYNTAX, fail } from "../../core/errors.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

function replicaof(c: Client, argv: string[]): void {
  const server = c.server;
  const link = replicationOf(server).link;
  if (replicationOf(server).failover.active) fail("ERR REPLICAOF not allowed while failing over.");
  if (isOption(argv[1]!, "no") && isOption(argv[2]!, "one")) {
    if (server.replication.masterHost !== null) {
      link.unsetMaster();
      server.log.notice(`MASTER MODE enabled (user request from '${clientInfoLine(c)}')`);
    }
    c.reply.ok();
    return;
  }
  if (c.kind === ClientKind.Replica) fail("ERR Command is not valid when client is a replica.");
  const port = intArg(argv[2]!, NOT_INTEGER);
  if (port < 0 || port > 65535) fail("ERR Invalid master port");
  const repl = replicationOf(server);
  if (repl.masterHost !== null && repl.masterHost.toLowerCase() === argv[1]!.toLowerCase() && repl.masterPort === port) {
    server.log.notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
    c.reply.simple("OK Already connected to specified master");
    return;
  }
  link.setMaster(argv[1]!, port);
  server.log.notice(`REPLICAOF ${argv[1]}:${port} enabled (user request from '${clientInfoLine(c)}')`);
  c.reply.ok();
}

export const handlers: HandlerMap = {
  replicaof: replicaof,
  slaveof: replicaof,

  psync(c, argv) {
    replicationOf(c.server).syncCommand(c, argv);
  },

  sync(c, argv) {
    replicationOf(c.server).syncCommand(c, argv);
  },

  replconf(c, argv) {
    if (argv.length % 2 === 0) fail(SYNTAX);
    const server = c.server;
    for (let i = 1; i < argv.length; i += 2) {
      const opt = argv[i]!.toLowerCase();
      if (opt === "getack") {
        // Our master asks where we are: answer on the replication link, out of band.
        if (c.isMaster) replicationOf(server).link.sendAck();
        return;
      }
      if (opt === "ack") {
        replicationOf(server).onReplicaAck(c, argv.slice(i + 1));
        return;
      }
      const error = replicationOf(server).onReplconf(c, opt, argv[i + 1]!);
      if (error !== null) fail(error.startsWith("ERR Unrecognized") ? `ERR Unrecognized REPLCONF option: ${argv[i]}` : error);
    }
    c.reply.ok();
  },

  failover(c, argv) {
    replicationOf(c.server).failover.command(c, argv);
  },

  wait(c, argv) {
    const server = c.server;
    if (server.replication.masterHost !== null) {
      fail(
        "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
      );
    }
    const numReplicas = intArg(argv[1]!);
    const timeout = intArg(argv[2]!, "ERR timeout is not an integer or out of range");
    if (timeout < 0) fail("ERR timeout is negative");
    replicationOf(server).wait(c, numReplicas, timeout);
  },
};
