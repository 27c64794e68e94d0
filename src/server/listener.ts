// The client ports: `port` (plain TCP) and `tls-port` (TLS), each on every bind address, one
// Client per connection. Data flows one way:
// socket bytes -> RequestParser -> processCommand -> ReplyWriter -> one write per batch.

import type { Socket, TCPSocketListener, TLSOptions } from "bun";
import { Client } from "./client.ts";
import { SocketConnection } from "./connection.ts";
import { processInput } from "./input.ts";
import type { Server } from "./server.ts";
import { buildTlsContext, checkClientCertificate, tlsWanted, verifyModeFor, type ClientAuth, type TlsContext } from "./tls.ts";

/** The directives whose change needs a new TLS context (Redis's applyTlsCfg / applyTLSPort). */
const TLS_CONTEXT_DIRECTIVES = [
  "tls-port",
  "tls-cert-file",
  "tls-key-file",
  "tls-key-file-pass",
  "tls-client-cert-file",
  "tls-client-key-file",
  "tls-client-key-file-pass",
  "tls-ca-cert-file",
  "tls-ca-cert-dir",
  "tls-dh-params-file",
  "tls-protocols",
  "tls-ciphers",
  "tls-ciphersuites",
  "tls-prefer-server-ciphers",
  "tls-session-caching",
  "tls-session-cache-size",
  "tls-session-cache-timeout",
  "tls-replication",
  "tls-cluster",
];

interface SocketData {
  /** Null while a TLS handshake is under way: the client exists once it is accepted. */
  client: Client | null;
  conn: SocketConnection | null;
}

type Listener = TCPSocketListener<SocketData>;

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

/** Registers a connection (plain: at accept; TLS: once the handshake accepted it) as a Client. */
function acceptClient(server: Server, socket: Socket<SocketData>, hostname: string, port: number): void {
  const local = socket.localAddress ?? hostname;
  const conn = new SocketConnection(socket, socket.remoteAddress, (socket as any).remotePort ?? 0, local, (socket as any).localPort ?? port);
  const client = new Client(server, conn);
  socket.data = { client, conn };
  server.stats.totalConnectionsReceived++;
  if (server.clients.size >= server.config.num("maxclients")) {
    server.stats.rejectedConnections++;
    conn.write(Buffer.from("-ERR max number of clients reached\r\n"));
    conn.closeAfterFlush();
    return;
  }
  server.clients.set(client.id, client);
}

/**
 * The listening sockets of one server. Ports change at run time (CONFIG SET port / tls-port,
 * and a new TLS context needs a new TLS listener): the old listeners stop accepting, their
 * connections stay, as with Redis's changeListenPort.
 */
export class Listeners {
  private plain: Listener[] = [];
  private tls: Listener[] = [];

  constructor(private readonly server: Server) {}

  /** Listens on `port` (0: not at all). Throws if a bind fails; the previous sockets then stay. */
  listenPlain(port: number): void {
    this.plain = this.replace(this.plain, port, undefined);
    this.server.listeningPort = port;
  }

  /** Listens with TLS on `port` (0: not at all) with the given context. Throws like listenPlain. */
  listenTls(port: number, ctx: TlsContext | null): void {
    if (port !== 0 && !ctx) throw new Error("TLS is not configured");
    this.tls = this.replace(this.tls, port, ctx ?? undefined);
    this.server.tlsListeningPort = port;
  }

  /** What CONFIG SET port / tls-port / tls-* must do: listen again, with a new TLS context if need be. */
  registerConfigAppliers(): void {
    const { config, log } = this.server;
    config.onApply(["port"], () => {
      const port = config.num("port");
      try {
        this.listenPlain(port);
      } catch (e) {
        log.warning(`Could not create server TCP listening socket *:${port}: ${(e as Error).message}`);
        return "Unable to listen on this port. Check server logs.";
      }
      return null;
    });
    config.onApply(TLS_CONTEXT_DIRECTIVES, () => {
      let ctx = this.server.tls;
      if (tlsWanted(config)) {
        try {
          ctx = buildTlsContext(config);
        } catch (e) {
          log.warning((e as Error).message);
          return "Unable to update TLS configuration. Check server logs.";
        }
      }
      // Bun fixes a listener's TLS context when it listens: a new context takes a new listener,
      // which the next client reaches (the tls-port is released and bound again at once).
      const port = config.num("tls-port");
      try {
        this.listenTls(port, ctx);
      } catch (e) {
        log.warning(`Could not create server TLS listening socket *:${port}: ${(e as Error).message}`);
        return "Unable to listen on this port. Check server logs.";
      }
      this.server.tls = ctx;
      return null;
    });
  }

  stop(): void {
    for (const l of [...this.plain, ...this.tls]) l.stop(true);
    this.plain = [];
    this.tls = [];
  }

  private replace(old: Listener[], port: number, ctx: TlsContext | undefined): Listener[] {
    // A new port is bound before the old one closes, so a failure leaves the old one serving;
    // the same port (a new TLS context) has to be released first.
    const samePort = old.length > 0 && old[0]!.port === port;
    if (samePort || port === 0) this.stopAll(old);
    const fresh: Listener[] = [];
    try {
      if (port !== 0) for (const hostname of bindHosts(this.server.config.bindAddresses)) fresh.push(this.listen(hostname, port, ctx));
    } catch (e) {
      this.stopAll(fresh);
      throw e;
    }
    if (!samePort) this.stopAll(old);
    return fresh;
  }

  private stopAll(listeners: Listener[]): void {
    for (const l of listeners) l.stop(false);
    listeners.length = 0;
  }

  private listen(hostname: string, port: number, ctx: TlsContext | undefined): Listener {
    const server = this.server;
    const tls: TLSOptions | undefined = ctx?.server;
    return Bun.listen<SocketData>({
      hostname,
      port,
      tls,
      socket: {
        open(socket) {
          if (!ctx) return acceptClient(server, socket, hostname, port);
          // tls-auth-clients is read per connection (Redis's connCreateAcceptedTLS), so
          // CONFIG SET applies to the next client without a new listener.
          socket.data = { client: null, conn: null };
          socket.setVerifyMode(...verifyModeFor(server.config.str("tls-auth-clients") as ClientAuth));
        },
        handshake(socket, success, authorizationError) {
          const auth = server.config.str("tls-auth-clients") as ClientAuth;
          // A failed handshake (no shared protocol version, no certificate where one is required)
          // is reported in the TLS library's words, as Redis logs OpenSSL's.
          const refused =
            !success && authorizationError ? authorizationError.message : checkClientCertificate(ctx!, auth, socket, authorizationError);
          if (refused) {
            server.log.warning(`Error accepting a client connection: ${refused}`);
            socket.terminate();
            return;
          }
          acceptClient(server, socket, hostname, port);
        },
        data(socket, chunk) {
          const c = socket.data.client;
          if (c) handleClientData(c, chunk);
        },
        drain(socket) {
          socket.data.conn?.drain();
        },
        close(socket) {
          const d = socket.data;
          if (!d?.client) return;
          d.conn!.closed = true;
          server.clients.delete(d.client.id);
          server.onClientClosed(d.client);
        },
        error(socket, err) {
          // A TLS handshake that fails (no certificate with tls-auth-clients yes, a bad record)
          // ends here before any client exists: Redis logs those as failed accepts.
          if (ctx && !socket.data?.client) server.log.warning(`Error accepting a client connection: ${err.message}`);
          else server.log.verbose(`Client error: ${err.message}`);
        },
      },
    });
  }
}
