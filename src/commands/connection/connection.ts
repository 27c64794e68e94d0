// Connection commands: PING, ECHO, QUIT, AUTH, HELLO, SELECT, RESET and CLIENT.

import { clientInfoLine } from "../../core/client-info.ts";
import { replicationOf } from "../../replication/replication.ts";
import { ClientKind, ReplyMode, type Client } from "../../core/client.ts";
import { REDIS_COMPAT_VERSION } from "../../common/version.ts";
import { i64Arg, int32Arg, intArg, isOption } from "../../core/args.ts";
import { DB_OUT_OF_RANGE, SYNTAX, WRONGPASS, fail } from "../../core/errors.ts";
import { isSubscribed } from "../../core/pubsub.ts";
import type { HandlerMap } from "../../core/command-spec.ts";
import { PausePurpose, PauseType } from "../../core/client-pause.ts";
import { replyHelp } from "../scripting/scripting.ts";
import type { User } from "../../core/acl/user.ts";

/** ACLAuthenticateUser: the client becomes the user, or WRONGPASS (the failure is in ACL LOG). */
function authenticate(c: Client, user: string, password: string, commandName: string): void {
  if (!c.server.acl.authenticate(c, user, password, commandName)) fail(WRONGPASS);
}

function validClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

function replyHello(c: Client): void {
  const r = c.reply;
  r.map(7);
  r.bulk("server");
  r.bulk("redis");
  r.bulk("version");
  r.bulk(REDIS_COMPAT_VERSION);
  r.bulk("proto");
  r.int(r.resp);
  r.bulk("id");
  r.int(c.id);
  r.bulk("mode");
  r.bulk("standalone");
  r.bulk("role");
  r.bulk(c.server.replication.masterHost === null ? "master" : "replica");
  r.bulk("modules");
  r.array(0);
}

/** CLIENT KILL filters (new style) or the old `CLIENT KILL addr` form. */
function clientKill(c: Client, argv: string[]): void {
  const server = c.server;
  if (argv.length === 3) {
    const target = [...server.clients.values()].find((x) => x.addr === argv[2]);
    if (!target) fail("ERR No such client");
    killClient(c, target);
    c.reply.ok();
    return;
  }
  if (argv.length % 2 !== 0) fail(SYNTAX);
  let id: number | null = null;
  let addr: string | null = null;
  let laddr: string | null = null;
  let type: string | null = null;
  let user: User | null = null;
  let skipMe = true;
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i]!.toLowerCase();
    const val = argv[i + 1]!;
    if (opt === "id") {
      id = intArg(val, "ERR client-id should be greater than 0");
      if (id <= 0) fail("ERR client-id should be greater than 0");
    } else if (opt === "addr") addr = val;
    else if (opt === "laddr") laddr = val;
    else if (opt === "type") {
      type = val.toLowerCase();
      if (!["normal", "master", "replica", "slave", "pubsub"].includes(type)) fail(`ERR Unknown client type '${val}'`);
    } else if (opt === "user") {
      const u = server.acl.users.get(val);
      if (!u) fail(`ERR No such user '${val}'`);
      user = u;
    }
    else if (opt === "skipme") {
      if (isOption(val, "yes")) skipMe = true;
      else if (isOption(val, "no")) skipMe = false;
      else fail(SYNTAX);
    } else fail(SYNTAX);
  }
  let killed = 0;
  for (const x of [...server.clients.values()]) {
    if (id !== null && x.id !== id) continue;
    if (addr !== null && x.addr !== addr) continue;
    if (laddr !== null && x.laddr !== laddr) continue;
    if (user !== null && x.user !== user) continue;
    if (type !== null) {
      const t = x.kind === ClientKind.Master ? "master" : x.kind === ClientKind.Replica ? "replica" : isSubscribed(x) ? "pubsub" : "normal";
      if (t !== (type === "slave" ? "replica" : type)) continue;
    }
    if (x === c && skipMe) continue;
    killClient(c, x);
    killed++;
  }
  c.reply.int(killed);
}

function killClient(c: Client, target: Client): void {
  if (target === c) {
    c.closeAfterReply = true;
    return;
  }
  if (target.kind === ClientKind.Master) {
    replicationOf(c.server).killMasterLink();
    return;
  }
  target.conn?.close();
}

export const handlers: HandlerMap = {
  ping(c, argv) {
    if (argv.length > 2) fail("ERR wrong number of arguments for 'ping' command");
    if (c.reply.resp === 2 && isSubscribed(c)) {
      c.reply.array(2);
      c.reply.bulk("pong");
      c.reply.bulk(argv.length === 2 ? argv[1]! : "");
      return;
    }
    if (argv.length === 2) c.reply.bulk(argv[1]!);
    else c.reply.simple("PONG");
  },

  echo(c, argv) {
    c.reply.bulk(argv[1]!);
  },

  quit(c) {
    c.reply.ok();
    c.closeAfterReply = true;
  },

  auth(c, argv) {
    if (argv.length > 3) fail(SYNTAX);
    c.redact(1);
    if (argv.length === 3) c.redact(2);
    if (argv.length === 2 && c.server.acl.defaultUser.noPass) {
      fail("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
    }
    if (argv.length === 2) authenticate(c, "default", argv[1]!, argv[0]!);
    else authenticate(c, argv[1]!, argv[2]!, argv[0]!);
    c.reply.ok();
  },

  hello(c, argv) {
    let proto = c.reply.resp as number;
    let i = 1;
    if (argv.length >= 2) {
      const v = intArg(argv[1]!, "ERR Protocol version is not an integer or out of range");
      if (v < 2 || v > 3) fail("NOPROTO unsupported protocol version");
      proto = v;
      i = 2;
    }
    // Options take effect in order, as Redis's: a SETNAME before a failing AUTH stays.
    for (; i < argv.length; i++) {
      const left = argv.length - i - 1;
      if (isOption(argv[i]!, "auth") && left >= 2) {
        c.redact(i + 1);
        c.redact(i + 2);
        authenticate(c, argv[i + 1]!, argv[i + 2]!, argv[0]!);
        i += 2;
      } else if (isOption(argv[i]!, "setname") && left >= 1) {
        const name = argv[i + 1]!;
        if (!validClientName(name)) fail("ERR Client names cannot contain spaces, newlines or special characters.");
        c.name = name;
        i += 1;
      } else fail(`ERR Syntax error in HELLO option '${argv[i]}'`);
    }
    if (!c.authenticated) fail("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    c.reply.resp = proto as 2 | 3;
    replyHello(c);
  },

  select(c, argv) {
    const index = int32Arg(argv[1]!);
    const db = c.server.dbs[index];
    if (!db || index < 0) fail(DB_OUT_OF_RANGE);
    c.db = db;
    c.reply.ok();
  },

  reset(c) {
    c.server.onClientClosed(c);
    c.multi = null;
    c.dirtyCas = false;
    c.channels = null;
    c.patterns = null;
    c.db = c.server.dbs[0]!;
    c.reply.resp = 2;
    c.replyMode = ReplyMode.On;
    c.name = "";
    // clientSetDefaultAuth: back to the default user, authenticated if it needs no password.
    c.user = c.server.acl.defaultUser;
    c.authenticated = c.server.acl.defaultAuthenticated();
    c.reply.simple("RESET");
  },

  "client|id"(c) {
    c.reply.int(c.id);
  },

  "client|getname"(c) {
    if (c.name) c.reply.bulk(c.name);
    else c.reply.nullBulk();
  },

  "client|setname"(c, argv) {
    const name = argv[2]!;
    if (!validClientName(name)) fail("ERR Client names cannot contain spaces, newlines or special characters.");
    c.name = name;
    c.reply.ok();
  },

  "client|list"(c, argv) {
    let filter: ((x: Client) => boolean) | null = null;
    if (argv.length > 2) {
      if (isOption(argv[2]!, "type") && argv.length === 4) {
        const t = argv[3]!.toLowerCase();
        const want = t === "slave" ? "replica" : t;
        if (!["normal", "master", "replica", "pubsub"].includes(want)) fail(`ERR Unknown client type '${argv[3]}'`);
        filter = (x) => (x.kind === ClientKind.Master ? "master" : x.kind === ClientKind.Replica ? "replica" : isSubscribed(x) ? "pubsub" : "normal") === want;
      } else if (isOption(argv[2]!, "id") && argv.length >= 4) {
        const ids = new Set<number>();
        for (let i = 3; i < argv.length; i++) {
          const id = intArg(argv[i]!, "ERR Invalid client ID");
          if (id <= 0) fail("ERR Invalid client ID");
          ids.add(id);
        }
        filter = (x) => ids.has(x.id);
      } else fail(SYNTAX);
    }
    let out = "";
    for (const x of c.server.clients.values()) {
      if (filter && !filter(x)) continue;
      out += clientInfoLine(x) + "\n";
    }
    c.reply.verbatim(out);
  },

  "client|info"(c) {
    c.reply.verbatim(clientInfoLine(c) + "\n");
  },

  "client|kill"(c, argv) {
    clientKill(c, argv);
  },

  "client|unblock"(c, argv) {
    // CLIENT UNBLOCK <id> [TIMEOUT|ERROR]: the reason is checked before the id, as Redis does.
    if (argv.length > 4) fail("ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.");
    let withError = false;
    if (argv.length === 4) {
      if (isOption(argv[3]!, "error")) withError = true;
      else if (!isOption(argv[3]!, "timeout")) fail("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }
    const id = i64Arg(argv[2]!);
    const target = typeof id === "number" ? c.server.clients.get(id) : undefined;
    c.reply.int(target && c.server.blocking.unblock(target, withError) ? 1 : 0);
  },

  "client|no-evict"(c, argv) {
    if (isOption(argv[2]!, "on")) c.noEvict = true;
    else if (isOption(argv[2]!, "off")) c.noEvict = false;
    else fail(SYNTAX);
    c.reply.ok();
  },

  "client|reply"(c, argv) {
    const mode = argv[2]!.toLowerCase();
    if (mode !== "on" && mode !== "off" && mode !== "skip") fail(SYNTAX);
    if (mode === "on") {
      c.replyMode = ReplyMode.On;
      c.reply.ok();
    } else if (mode === "off") c.replyMode = ReplyMode.Off;
    else if (c.replyMode !== ReplyMode.Off) c.replyMode = ReplyMode.SkipNext;
  },

  "client|pause"(c, argv) {
    // CLIENT PAUSE timeout [WRITE|ALL]: timeout in ms from now (getTimeoutFromObjectOrReply).
    if (argv.length > 4) fail(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try CLIENT HELP.`);
    let type = PauseType.All;
    if (argv.length === 4) {
      if (isOption(argv[3]!, "write")) type = PauseType.Write;
      else if (!isOption(argv[3]!, "all")) fail("ERR CLIENT PAUSE mode must be WRITE or ALL");
    }
    const ms = i64Arg(argv[2]!, "ERR timeout is not an integer or out of range");
    if (ms < 0) fail("ERR timeout is negative");
    const now = Date.now();
    // Redis 7.0 adds the time without an overflow check: a timeout past 2^63 ms wraps to the
    // past, a pause that is over at once.
    const overflows = BigInt(ms) > 2n ** 63n - 1n - BigInt(now);
    c.server.pause.pause(PausePurpose.ClientCommand, ms === 0 || overflows ? 0 : now + Number(ms), type);
    c.reply.ok();
  },

  "client|unpause"(c) {
    c.server.pause.unpause(PausePurpose.ClientCommand);
    c.reply.ok();
  },

  "client|help"(c) {
    replyHelp(c, "CLIENT", [
      "CACHING (YES|NO)",
      "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
      "GETREDIR",
      "    Return the client ID we are redirecting to when tracking is enabled.",
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are:",
      "    * ADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made from the specified address",
      "    * LADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made to specified local address",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Kill connections by type.",
      "    * USER <username>",
      "      Kill connections authenticated by <username>.",
      "    * SKIPME (YES|NO)",
      "      Skip killing current connection (default: yes).",
      "LIST [options ...]",
      "    Return information about client connections. Options:",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Return clients of specified type.",
      "UNPAUSE",
      "    Stop the current client pause, resuming traffic.",
      "PAUSE <timeout> [WRITE|ALL]",
      "    Suspend all, or just write, clients for <timeout> milliseconds.",
      "REPLY (ON|OFF|SKIP)",
      "    Control the replies sent to the current connection.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "UNBLOCK <clientid> [TIMEOUT|ERROR]",
      "    Unblock the specified blocked client.",
      "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
      "         [OPTIN] [OPTOUT] [NOLOOP]",
      "    Control server assisted client side caching.",
      "TRACKINGINFO",
      "    Report tracking status for the current connection.",
      "NO-EVICT (ON|OFF)",
      "    Protect current client connection from eviction.",
    ]);
  },
};

