// The client port: Bun.listen, one Client per connection. Data flows one way:
// socket bytes -> RequestParser -> processCommand -> ReplyWriter -> one write per batch.

import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import { chmodSync, unlinkSync } from "node:fs";
import { Client } from "./client.ts";
import { SocketConnection } from "./connection.ts";
import { processInput } from "./input.ts";
import type { Server } from "./server.ts";

interface SocketData {
  client: Client;
  conn: SocketConnection;
}

/** Feeds received bytes to a client and runs every complete command. */
export function handleClientData(c: Client, chunk: Buffer): void {
  const server = c.server;
  server.stats.netInputBytes += chunk.length;
  server.stats.totalReadsProcessed++;
  c.lastInteraction = Date.now();
  if (c.closeAfterReply) return;
  c.parser.feed(chunk);
  processInput(c);
  // client-query-buffer-limit: a command that keeps coming without end (a huge bulk length
  // announced, an endless inline line) closes the client before it takes all the memory.
  if (!c.isMaster && c.parser.pendingBytes > server.config.num("client-query-buffer-limit") && !c.closeAfterReply) {
    server.log.warning(`Closing client that reached max query buffer length: ${c.describe()} qbuf=${c.parser.pendingBytes}`);
    c.closeAfterReply = true;
    c.conn?.closeAfterFlush();
  }
}

/**
 * The hosts to listen on for Redis's bind list. "*" is every IPv4 address, "::*" every IPv6 one
 * ("-" in front: skip it when unavailable). Bun's IPv6 sockets are dual-stack (no V6ONLY), so
 * "* ::*" is one listener on "::" (IPv4 clients show as ::ffff:a.b.c.d, which Client reports
 * as a.b.c.d), and "::" when IPv6 is optional and unavailable falls back to "0.0.0.0".
 */
export function bindHosts(addresses: string[]): Array<{ host: string; optional: boolean; fallback?: string }> {
  let anyV4 = false;
  let anyV6 = false;
  let v6Required = false;
  const specific: Array<{ host: string; optional: boolean }> = [];
  for (const raw of addresses) {
    const optional = raw.startsWith("-");
    const addr = optional ? raw.slice(1) : raw;
    if (addr === "*") anyV4 = true;
    else if (addr === "::*") {
      anyV6 = true;
      if (!optional) v6Required = true;
    }
    else specific.push({ host: addr, optional });
  }
  const out: Array<{ host: string; optional: boolean; fallback?: string }> = [];
  if (anyV6) out.push({ host: "::", optional: !v6Required, fallback: anyV4 ? "0.0.0.0" : undefined });
  else if (anyV4) out.push({ host: "0.0.0.0", optional: false });
  for (const sp of specific) if (!out.some((o) => o.host === sp.host)) out.push(sp);
  return out.length ? out : [{ host: "0.0.0.0", optional: false }];
}

/** "::ffff:127.0.0.1" (an IPv4 client of a dual-stack socket) as "127.0.0.1". */
export function plainAddress(addr: string): string {
  return addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
}

/** The text Redis sends a refused non-loopback client in protected mode (networking.c). */
const PROTECTED_MODE_DENIED =
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
  "In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: " +
  "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
  "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
  "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
  "4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/**
 * A new connection (acceptCommonHandler + clientAcceptHandler): refused past maxclients, and in
 * protected mode with no password for the default user, refused unless it comes from the
 * loopback interface or the unix socket (islocalClient: 127.0.0.1, ::1).
 */
function acceptClient(server: Server, socket: Socket<SocketData>, conn: SocketConnection, unix: boolean): Client | null {
  const refuse = (text: string) => {
    server.stats.rejectedConnections++;
    conn.write(Buffer.from(text));
    conn.closeAfterFlush();
    return null;
  };
  if (server.clients.size >= server.config.num("maxclients")) return refuse("-ERR max number of clients reached\r\n");
  const client = new Client(server, conn);
  client.unixSocket = unix;
  socket.data = { client, conn };
  if (server.config.bool("protected-mode") && server.defaultUserHasNoPassword()) {
    const ip = conn.remoteAddress;
    if (!unix && ip !== "127.0.0.1" && ip !== "::1") {
      socket.data = undefined as unknown as SocketData;
      return refuse(PROTECTED_MODE_DENIED);
    }
  }
  server.stats.totalConnectionsReceived++;
  server.clients.set(client.id, client);
  const keepAlive = server.config.num("tcp-keepalive");
  if (!unix && keepAlive > 0) socket.setKeepAlive(true, keepAlive * 1000);
  return client;
}

function socketHandlers(server: Server, unixPath: string | null) {
  return {
    open(socket: Socket<SocketData>) {
      const conn =
        unixPath !== null
          ? new SocketConnection(socket, unixPath, 0, unixPath, 0)
          : new SocketConnection(socket, plainAddress(socket.remoteAddress), (socket as any).remotePort ?? 0, plainAddress(socket.localAddress ?? ""), (socket as any).localPort ?? server.listeningPort);
      acceptClient(server, socket, conn, unixPath !== null);
    },
    data(socket: Socket<SocketData>, chunk: Buffer) {
      const d = socket.data;
      if (d) handleClientData(d.client, chunk);
    },
    drain(socket: Socket<SocketData>) {
      socket.data?.conn.drain();
    },
    close(socket: Socket<SocketData>) {
      const d = socket.data;
      if (!d) return;
      d.conn.closed = true;
      server.clients.delete(d.client.id);
      server.onClientClosed(d.client);
    },
    error(_socket: Socket<SocketData>, err: Error) {
      server.log.verbose(`Client error: ${err.message}`);
    },
  };
}

export function startListeners(server: Server): Array<TCPSocketListener<SocketData> | UnixSocketListener<SocketData>> {
  const port = server.config.num("port");
  const listeners: Array<TCPSocketListener<SocketData> | UnixSocketListener<SocketData>> = [];
  let boundPort = port;
  // Port 0: no TCP listener (Redis's meaning), e.g. with only a unix socket.
  if (port !== 0) {
    for (const { host, optional, fallback } of bindHosts(server.config.bindAddresses)) {
      let l: TCPSocketListener<SocketData>;
      try {
        l = Bun.listen<SocketData>({ hostname: host, port: boundPort, socket: socketHandlers(server, null) });
      } catch (e) {
        if (fallback !== undefined) {
          server.log.warning(`Could not create server TCP listening socket ${host}:${boundPort}: IPv6 unavailable, listening on ${fallback} only`);
          l = Bun.listen<SocketData>({ hostname: fallback, port: boundPort, socket: socketHandlers(server, null) });
        } else if (optional) {
          server.log.warning(`Could not create server TCP listening socket ${host}:${boundPort}: ${(e as Error).message} (skipped: optional address)`);
          continue;
        } else throw e;
      }
      boundPort = l.port;
      server.listeningPort = boundPort;
      listeners.push(l);
    }
  }
  server.listeningPort = boundPort;
  const unixPath = server.config.str("unixsocket");
  if (unixPath !== "") {
    // A stale socket file from an earlier run is replaced, as Redis's anetUnixServer does.
    try {
      unlinkSync(unixPath);
    } catch {}
    const u = Bun.listen<SocketData>({ unix: unixPath, socket: socketHandlers(server, unixPath) });
    const perm = server.config.num("unixsocketperm");
    if (perm) chmodSync(unixPath, perm);
    listeners.push(u);
    server.log.notice(`The server is now ready to accept connections at ${unixPath}`);
  }
  if (listeners.length === 0) throw new Error("Configured to not listen anywhere");
  return listeners;
}
