// The client port: Bun.listen, one Client per connection. Data flows one way:
// socket bytes -> RequestParser -> processCommand -> ReplyWriter -> one write per batch.

import type { Socket, TCPSocketListener } from "bun";
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
}

function bindHosts(addresses: string[]): string[] {
  // Redis's "* -::*" means all IPv4 and (optionally) all IPv6 addresses. One listener on "::"
  // would accept both on a dual-stack host, but "0.0.0.0" is the safe common denominator.
  const hosts: string[] = [];
  for (const raw of addresses) {
    const optional = raw.startsWith("-");
    const addr = optional ? raw.slice(1) : raw;
    if (addr === "*") hosts.push("0.0.0.0");
    else if (addr === "::*") {
      if (!optional) hosts.push("::");
    } else hosts.push(addr);
  }
  return [...new Set(hosts.length ? hosts : ["0.0.0.0"])];
}

export function startListeners(server: Server): TCPSocketListener<SocketData>[] {
  const port = server.config.num("port");
  const listeners: TCPSocketListener<SocketData>[] = [];
  let boundPort = port;
  for (const hostname of bindHosts(server.config.bindAddresses)) {
    const l = Bun.listen<SocketData>({
      hostname,
      port: boundPort,
      socket: {
        open(socket: Socket<SocketData>) {
          const maxClients = server.config.num("maxclients");
          const local = socket.localAddress ?? hostname;
          const conn = new SocketConnection(socket, socket.remoteAddress, (socket as any).remotePort ?? 0, local, (socket as any).localPort ?? boundPort);
          const client = new Client(server, conn);
          socket.data = { client, conn };
          server.stats.totalConnectionsReceived++;
          if (server.clients.size >= maxClients) {
            server.stats.rejectedConnections++;
            conn.write(Buffer.from("-ERR max number of clients reached\r\n"));
            conn.closeAfterFlush();
            return;
          }
          server.clients.set(client.id, client);
        },
        data(socket, chunk) {
          handleClientData(socket.data.client, chunk);
        },
        drain(socket) {
          socket.data.conn.drain();
        },
        close(socket) {
          const d = socket.data;
          if (!d) return;
          d.conn.closed = true;
          server.clients.delete(d.client.id);
          server.onClientClosed(d.client);
        },
        error(socket, err) {
          server.log.verbose(`Client error: ${err.message}`);
        },
      },
    });
    boundPort = l.port;
    listeners.push(l);
  }
  server.listeningPort = boundPort;
  return listeners;
}
