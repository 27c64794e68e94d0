// A client described as CLIENT LIST / CLIENT INFO show it (Redis's catClientInfoString): also
// what the log, the ACL log and DEBUG's crash report print of a client.

import { ClientKind, type Client } from "./client.ts";
import { isSubscribed, shardSubscriptionCount } from "./pubsub.ts";
import { Tracking } from "./tracking.ts";

function clientFlags(c: Client): string {
  let f = "";
  if (c.monitor) f += "O";
  else if (c.kind === ClientKind.Replica) f += "S";
  if (c.kind === ClientKind.Master) f += "M";
  if (isSubscribed(c)) f += "P";
  if (c.multi || c.inExec) f += "x";
  if (c.blocked) f += "b";
  if (c.tracking !== null) f += Tracking.flags(c);
  if (c.dirtyCas) f += "d";
  if (c.closeAfterReply) f += "c";
  if (c.noEvict) f += "e";
  if (c.unixSocket) f += "U";
  return f || "N";
}

/** One CLIENT LIST / CLIENT INFO line in Redis 7.0's field order. */
export function clientInfoLine(c: Client): string {
  const now = Date.now();
  const age = Math.floor((now - c.createdAt) / 1000);
  const idle = Math.floor((now - c.lastInteraction) / 1000);
  // The read buffer (all of it for the client whose command runs, as Redis trims it after the
  // batch), the reply buffer's size and what waits in the socket's queue: tot-mem is their sum.
  const qbuf = c === c.server.currentClient ? c.parser.bufferedBytes : c.parser.pendingBytes;
  const rbs = c.reply.capacity;
  const omem = c.conn?.pendingBytes ?? 0;
  const argvMem = c.parser.partialArgsBytes;
  const cmd = c.inExec ? "exec" : c.lastCommand;
  const multi = c.multi ?? c.inExec;
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${c.conn ? 8 : -1} name=${c.name} age=${age} idle=${idle} flags=${clientFlags(c)} ` +
    `db=${c.db.id} sub=${c.channels?.size ?? 0} psub=${c.patterns?.size ?? 0} ssub=${shardSubscriptionCount(c)} multi=${multi ? multi.queue.length : -1} ` +
    `qbuf=${qbuf} qbuf-free=0 argv-mem=${argvMem} multi-mem=0 rbs=${rbs} rbp=${c.reply.length} obl=0 oll=0 omem=${omem} tot-mem=${qbuf + argvMem + rbs + omem} events=r ` +
    `cmd=${cmd} user=${c.user?.name ?? "(superuser)"} redir=${c.tracking !== null ? c.tracking.redirect : -1} resp=${c.reply.resp}`
  );
}
