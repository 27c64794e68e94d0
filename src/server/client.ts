// One client of the server: a TCP client, our master's link (commands applied with the master's
// privileges, replies discarded), or a sub-replica. Handlers receive the Client and reach
// everything through it: c.server (the one server context), c.db (selected database), c.reply.

import { DiscardingReplyWriter, ReplyWriter } from "../protocol/reply-writer.ts";
import { RequestParser } from "../protocol/request-parser.ts";
import type { Database } from "../store/database.ts";
import type { KeyWait } from "./blocking.ts";
import type { Connection } from "./connection.ts";
import type { Server } from "./server.ts";
import { processInput } from "./input.ts";

export interface MultiState {
  /** Queued commands with the spec they resolved to. */
  queue: string[][];
  /** Set when a command failed to queue: EXEC then replies EXECABORT. */
  aborted: boolean;
  /** Union of the queued commands' flags (for READONLY/MASTERDOWN checks of EXEC). */
  flags: number;
}

export const enum ClientKind {
  Normal = 0,
  /** The link to our master: its commands are applied silently. */
  Master = 1,
  /** A replica of ours (after PSYNC/SYNC). */
  Replica = 2,
}

export class Client {
  readonly id: number;
  name = "";
  db: Database;
  reply: ReplyWriter;
  readonly parser: RequestParser;
  kind: ClientKind = ClientKind.Normal;
  authenticated: boolean;
  user = "default";
  multi: MultiState | null = null;
  /** Keys WATCHed by this client: "<db>\0<key>" entries; set when one is modified. */
  watched: Set<string> | null = null;
  dirtyCas = false;
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  lastCommand = "NULL";
  closeAfterReply = false;
  /** Pub/sub channels and patterns this client is subscribed to. */
  channels: Set<string> | null = null;
  patterns: Set<string> | null = null;
  /** Library name/version from CLIENT SETINFO / HELLO (Redis 7.2 clients send them). */
  libName = "";
  libVersion = "";
  /** Rewritten form of the running command to propagate, set by handlers (SET EX -> PXAT...). */
  propagateAs: string[] | null = null;
  /** Extra commands a handler asks to propagate after its own (SPOP with count -> SREM...). */
  alsoPropagate: string[][] | null = null;
  /** A handler that must not be propagated even though it changed data. */
  preventPropagation = false;
  /** Replica bookkeeping for sub-replicas (set by the master side). */
  replica: unknown = null;
  /**
   * A blocking command (WAIT, BLPOP...) is waiting: no further input is processed until the
   * blocking code replies and calls resumeInput().
   */
  blocked = false;
  /** What this client waits for when blocked on keys (BLPOP...); see server/blocking.ts. */
  keyWait: KeyWait | null = null;
  /** Blocking commands act as their non-blocking forms (inside EXEC: Redis's CLIENT_DENY_BLOCKING). */
  denyBlocking = false;

  constructor(
    readonly server: Server,
    readonly conn: Connection | null,
    kind: ClientKind = ClientKind.Normal,
  ) {
    this.id = server.nextClientId++;
    this.kind = kind;
    this.db = server.dbs[0]!;
    this.reply = kind === ClientKind.Master ? new DiscardingReplyWriter() : new ReplyWriter();
    this.authenticated = kind === ClientKind.Master || !server.config.str("requirepass");
    this.parser = new RequestParser({
      maxBulkLength: server.config.num("proto-max-bulk-len"),
      fromMaster: kind === ClientKind.Master,
      authRequired: () => !this.authenticated,
    });
  }

  get isMaster(): boolean {
    return this.kind === ClientKind.Master;
  }

  /** "ip:port" as CLIENT LIST and logs print it. */
  get addr(): string {
    if (!this.conn) return "";
    const ip = this.conn.remoteAddress;
    return `${ip.includes(":") ? ip : ip}:${this.conn.remotePort}`;
  }

  get laddr(): string {
    if (!this.conn) return "";
    return `${this.conn.localAddress}:${this.conn.localPort}`;
  }

  /** After a blocking command replied: runs the commands that arrived meanwhile. */
  resumeInput(): void {
    this.blocked = false;
    processInput(this);
  }

  /** Sends the replies accumulated so far. */
  flush(): void {
    const r = this.reply;
    if (r.length === 0) return;
    if (this.conn) this.conn.write(r.view());
    r.reset();
  }
}
