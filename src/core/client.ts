// One client of the server: a TCP client, our master's link (commands applied with the master's
// privileges, replies discarded), or a sub-replica. Handlers receive the Client and reach
// everything through it: c.server (the one server context), c.db (selected database), c.reply.

import { DiscardingReplyWriter, ReplyWriter } from "../protocol/reply-writer.ts";
import { RequestParser } from "../protocol/request-parser.ts";
import type { Database } from "../store/database.ts";
import type { KeyWait } from "./blocking.ts";
import type { Connection } from "./connection.ts";
import type { CommandSpec } from "./command-spec.ts";
import type { Server } from "./server.ts";
import { processInput } from "./input.ts";
import { isSubscribed } from "./pubsub.ts";
import type { User } from "./acl/user.ts";
import type { ClientTracking } from "./tracking.ts";
import type { BusyScript } from "./scripts/busy.ts";

interface MultiState {
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

/** PROTO_REPLY_CHUNK_BYTES: the static reply buffer, beyond which an unauthenticated client is closed. */
const UNAUTHENTICATED_REPLY_LIMIT = 16 * 1024;

function formatAddr(ip: string, port: number, unix: boolean): string {
  return !unix && ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** CLIENT REPLY: whether the replies of the client's commands are sent (Redis's CLIENT_REPLY_* flags). */
export const enum ReplyMode {
  On,
  /** CLIENT REPLY OFF: no reply until CLIENT REPLY ON. */
  Off,
  /** CLIENT REPLY SKIP was the command just run: the next command's reply is dropped. */
  SkipNext,
  /** The reply of the command running now is dropped. */
  Skip,
}

export class Client {
  readonly id: number;
  name = "";
  db: Database;
  reply: ReplyWriter;
  readonly parser: RequestParser;
  kind: ClientKind = ClientKind.Normal;
  /**
   * Authenticated (AUTH, HELLO AUTH, or the default user needs no password): see Acl.authRequired,
   * which also lets unauthenticated clients through while the default user is nopass.
   */
  authenticated: boolean;
  /** Connected through the unix socket (CLIENT LIST flag U; always local for protected mode). */
  unixSocket = false;
  /** The ACL user the client runs as; null for our master's link, which may do anything. */
  user: User | null;
  /**
   * The transaction EXEC is running (c.multi is already cleared): Redis's CLIENT_MULTI is still
   * set then, which the ACL log's context and CLIENT LIST's flags / multi= show.
   */
  inExec: MultiState | null = null;
  /** For the client of a script's commands: the client that ran the script (ACL log). */
  scriptCaller: Client | null = null;
  multi: MultiState | null = null;
  /** Keys WATCHed by this client: "<db>\0<key>" entries; set when one is modified. */
  watched: Set<string> | null = null;
  /** CLIENT REPLY ON / OFF / SKIP (core/dispatch.ts drops the replies). */
  replyMode = ReplyMode.On;
  /**
   * While a command whose reply is dropped runs: where its output starts in `reply` (-1
   * otherwise). Pushes (pub/sub messages and confirmations) are still sent, as Redis's
   * CLIENT_PUSHING: keepPush moves each over the dropped output before it.
   */
  silencedFrom = -1;

  /** A push written to `reply` from `start` while the command's output is dropped: kept. */
  keepPush(start: number): void {
    const from = this.silencedFrom;
    if (from < 0 || start < from) return;
    this.reply.moveTail(start, from);
    this.silencedFrom = this.reply.length;
  }
  /** The watch tags ("<db>\0<key>") of keys that were expired when watched (core/multi.ts). */
  watchedExpired: Set<string> | null = null;
  dirtyCas = false;
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  lastCommand = "NULL";
  /** The last name core/dispatch.ts resolveCommand looked up, and what it found. */
  lookedUpName = "";
  lookedUpSpec: CommandSpec | undefined = undefined;
  closeAfterReply = false;
  /** CLIENT NO-EVICT ON: never closed by maxmemory-clients (core/client-eviction.ts). */
  noEvict = false;
  /** Pub/sub channels and patterns this client is subscribed to. */
  channels: Set<string> | null = null;
  patterns: Set<string> | null = null;
  /** Shard channels (SSUBSCRIBE) this client is subscribed to (core/pubsub-shard.ts). */
  shardChannels: Set<string> | null = null;
  /** Library name/version from CLIENT SETINFO / HELLO (Redis 7.2 clients send them). */
  libName = "";
  libVersion = "";
  /** Rewritten form of the running command to propagate, set by handlers (SET EX -> PXAT...). */
  propagateAs: string[] | null = null;
  /** Extra commands a handler asks to propagate after its own (SPOP with count -> SREM...). */
  alsoPropagate: string[][] | null = null;
  /** A handler that must not be propagated even though it changed data. */
  preventPropagation = false;
  /**
   * Arguments of the running command that the slow log and MONITOR must not show (passwords of
   * AUTH, HELLO AUTH, sensitive CONFIG SET values): Redis's redactClientCommandArgument.
   */
  redactedArgs: number[] | null = null;
  /** Replica bookkeeping for sub-replicas (set by the master side). */
  replica: unknown = null;
  /**
   * A blocking command (WAIT, BLPOP...) is waiting: no further input is processed until the
   * blocking code replies and calls resumeInput().
   */
  blocked = false;
  /** What this client waits for when blocked on keys (BLPOP...); see core/blocking.ts. */
  keyWait: KeyWait | null = null;
  /** The blocked command was sent under CLIENT REPLY OFF / SKIP: its reply is dropped when it comes. */
  blockedReplySilenced = false;
  /** Blocking commands act as their non-blocking forms (inside EXEC: Redis's CLIENT_DENY_BLOCKING). */
  denyBlocking = false;
  /** In MONITOR mode: shown every command the server runs (core/monitor.ts). */
  monitor = false;
  /** Client-side caching (CLIENT TRACKING ON): its mode; null while off (core/tracking.ts). */
  tracking: ClientTracking | null = null;
  /**
   * A script this client's command runs yielded (it is the busy script): the command, and what
   * called it, finish when the script ends (BusyScript.then). The client reads no input meanwhile.
   */
  pendingScript: BusyScript | null = null;

  constructor(
    readonly server: Server,
    readonly conn: Connection | null,
    kind: ClientKind = ClientKind.Normal,
  ) {
    this.id = server.nextClientId++;
    this.kind = kind;
    this.db = server.dbs[0]!;
    // Connected clients borrow their reply buffer from the server's pool for each batch.
    this.reply = kind === ClientKind.Master ? new DiscardingReplyWriter() : new ReplyWriter(conn !== null && kind === ClientKind.Normal ? server.replyBuffers : null);
    const acl = server.acl;
    this.user = kind === ClientKind.Master ? null : acl.defaultUser;
    this.authenticated = kind === ClientKind.Master || acl.defaultAuthenticated();
    this.parser = new RequestParser({
      maxBulkLength: server.config.num("proto-max-bulk-len"),
      fromMaster: kind === ClientKind.Master,
      authRequired: () => acl.authRequired(this),
      onHugeArgument: () => server.requestCollection(),
    });
  }

  /** Keeps argument `index` of the running command out of the slow log and MONITOR. */
  redact(index: number): void {
    (this.redactedArgs ??= []).push(index);
  }

  get isMaster(): boolean {
    return this.kind === ClientKind.Master;
  }

  /** "ip:port" as CLIENT LIST and logs print it. */
  /** ip:port as Redis's formatPeer writes it: [ip]:port for IPv6, path:0 for the unix socket. */
  get addr(): string {
    if (!this.conn) return "";
    return formatAddr(this.conn.remoteAddress, this.conn.remotePort, this.unixSocket);
  }

  get laddr(): string {
    if (!this.conn) return "";
    return formatAddr(this.conn.localAddress, this.conn.localPort, this.unixSocket);
  }

  /** islocalClient: the unix socket, or the loopback interface (127.0.0.1 / ::1 exactly). */
  get isLocal(): boolean {
    if (this.unixSocket) return true;
    const ip = this.conn?.remoteAddress;
    return ip === "127.0.0.1" || ip === "::1";
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
    // The AOF is written before any reply goes out (Redis's beforeSleep order).
    const before = this.server.beforeReply;
    if (before !== null && before(this)) return;
    const conn = this.conn;
    if (conn) {
      // A client that has not authenticated may not make us buffer replies (CVE-2025-21605, as
      // patched in Debian's 7.0.15): replies past Redis's 16 KiB reply buffer go to its reply
      // list, whose first block is over the 1 KiB allowed: the client is closed, nothing sent.
      if (r.length > UNAUTHENTICATED_REPLY_LIMIT && !this.authenticated && this.kind === ClientKind.Normal && this.server.acl.authRequired(this)) {
        this.server.log.warning(`Client ${this.describe()} scheduled to be closed ASAP for overcoming of output buffer limits.`);
        r.reset();
        conn.close();
        return;
      }
      // A batch of replies that outgrew the standard buffer is handed to the connection as is: a
      // client that reads slowly does not cost its replies twice.
      const large = r.takeLarge();
      if (large !== null) conn.writeOwned(large);
      else conn.write(r.view());
      // Bytes the kernel did not take wait in our queue: bound them (replicas have their own check).
      if (conn.pendingBytes !== 0 && this.kind === ClientKind.Normal) this.checkOutputLimits(conn);
    }
    r.reset();
  }

  /** When the soft output limit was first exceeded (ms), or 0 (Redis's soft_limit_reached_time). */
  private softLimitSince = 0;

  /**
   * client-output-buffer-limit normal / pubsub, as Redis's checkClientOutputBufferLimits: over
   * the hard limit, or over the soft limit for longer than its seconds, the client is closed
   * (its unsent output dropped). A slow subscriber cannot make us allocate without bound.
   */
  private checkOutputLimits(conn: Connection): void {
    const limits = this.server.config.outputBufferLimits;
    const limit = isSubscribed(this) ? limits.pubsub : limits.normal;
    const used = conn.pendingBytes;
    let over = limit.hard > 0 && used >= limit.hard;
    if (!over && limit.soft > 0 && used >= limit.soft) {
      const now = Date.now();
      if (this.softLimitSince === 0) this.softLimitSince = now;
      else if (now - this.softLimitSince >= limit.softSeconds * 1000) over = true;
    } else if (!over) {
      this.softLimitSince = 0;
    }
    if (!over) return;
    this.server.log.warning(`Client ${this.describe()} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    conn.close();
  }

  /** The short client description of Redis's log lines (catClientInfoString's first fields). */
  describe(): string {
    return `id=${this.id} addr=${this.addr} laddr=${this.laddr} name=${this.name} age=${Math.floor((Date.now() - this.createdAt) / 1000)} idle=${Math.floor((Date.now() - this.lastInteraction) / 1000)}`;
  }
}

