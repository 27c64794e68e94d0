// The client ports: `port` (plain TCP) and `tls-port` (TLS), each on every bind address, one
// Client per connection. Data flows one way:
// socket bytes -> RequestParser -> processCommand -> ReplyWriter -> one write per batch.

import type { Socket, TCPSocketListener, TLSOptions, UnixSocketListener } from "bun";
import { chmodSync, unlinkSync } from "node:fs";
import { Client } from "../core/client.ts";
import { SocketConnection } from "../core/connection.ts";
import { processInput } from "../core/input.ts";
import type { Server } from "../core/server.ts";
import { buildTlsContext, checkClientCertificate, tlsWanted, verifyModeFor, type ClientAuth, type TlsContext } from "../core/tls.ts";

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
function handleClientData(c: Client, chunk: Buffer): void {
  const server = c.server;
  server.stats.netInputBytes += chunk.length;
  server.stats.totalReadsProcessed++;
  // One clock read for the client's idle time and its first command's start.
  const now = performance.now();
  c.lastInteraction = server.unixMsAt(now);
  if (c.closeAfterReply) return;
  c.parser.feed(chunk);
  processInput(c, now);
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
 * "* ::*" is one listener on "::" (IPv4 clients show as ::ffff:a.b.c.d, which plainAddress
 * turns back into a.b.c.d), and "::" when IPv6 is optional and unavailable falls back to "0.0.0.0".
 */
function bindHosts(addresses: string[]): Array<{ host: string; optional: boolean; fallback?: string }> {
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
    } else specific.push({ host: addr, optional });
  }
  const out: Array<{ host: string; optional: boolean; fallback?: string }> = [];
  if (anyV6) out.push({ host: "::", optional: !v6Required, fallback: anyV4 ? "0.0.0.0" : undefined });
  else if (anyV4) out.push({ host: "0.0.0.0", optional: false });
  for (const sp of specific) if (!out.some((o) => o.host === sp.host)) out.push(sp);
  return out.length ? out : [{ host: "0.0.0.0", optional: false }];
}

/** "::ffff:127.0.0.1" (an IPv4 client of a dual-stack socket) as "127.0.0.1". */
function plainAddress(addr: string): string {
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
 * Registers a connection (plain: at accept; TLS: once the handshake accepted it; unix socket) as
 * a Client (acceptCommonHandler + clientAcceptHandler): refused past maxclients, and in
 * protected mode with no password for the default user, refused unless it comes from the
 * loopback interface or the unix socket (islocalClient: 127.0.0.1, ::1).
 */
function acceptClient(server: Server, socket: Socket<SocketData>, hostname: string, port: number, unixPath: string | null = null): void {
  const conn =
    unixPath !== null
      ? new SocketConnection(socket, unixPath, 0, unixPath, 0)
      : new SocketConnection(socket, plainAddress(socket.remoteAddress), (socket as any).remotePort ?? 0, plainAddress(socket.localAddress ?? hostname), (socket as any).localPort ?? port);
  conn.onLargeRelease = () => server.requestCollection();
  const refuse = (text: string) => {
    server.stats.rejectedConnections++;
    socket.data = { client: null, conn };
    conn.write(Buffer.from(text));
    conn.closeAfterFlush();
  };
  if (server.clients.size >= server.config.num("maxclients")) return refuse("-ERR max number of clients reached\r\n");
  if (server.config.bool("protected-mode") && server.defaultUserHasNoPassword()) {
    const ip = conn.remoteAddress;
    if (unixPath === null && ip !== "127.0.0.1" && ip !== "::1") return refuse(PROTECTED_MODE_DENIED);
  }
  const client = new Client(server, conn);
  client.unixSocket = unixPath !== null;
  socket.data = { client, conn };
  server.stats.totalConnectionsReceived++;
  server.clients.set(client.id, client);
  const keepAlive = server.config.num("tcp-keepalive");
  if (unixPath === null && keepAlive > 0) socket.setKeepAlive(true, keepAlive * 1000);
}

/**
 * The listening sockets of one server. Ports change at run time (CONFIG SET port / tls-port,
 * and a new TLS context needs a new TLS listener): the old listeners stop accepting, their
 * connections stay, as with Redis's changeListenPort.
 */
export class Listeners {
  private plain: Listener[] = [];
  private tls: Listener[] = [];
  private unix: UnixSocketListener<SocketData> | null = null;

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

  /** unixsocket / unixsocketperm: a stale socket file from an earlier run is replaced (anetUnixServer). */
  listenUnix(path: string, perm: number): void {
    if (path === "") return;
    try {
      unlinkSync(path);
    } catch {}
    const server = this.server;
    this.unix = Bun.listen<SocketData>({ unix: path, socket: this.handlers(null, path, 0, path) });
    if (perm) chmodSync(path, perm);
    server.log.notice(`The server is now ready to accept connections at ${path}`);
  }

  /** Whether anything listens (Redis exits "Configured to not listen anywhere" otherwise). */
  get listening(): boolean {
    return this.plain.length > 0 || this.tls.length > 0 || this.unix !== null;
  }

  /** Stops listening; open connections are closed too unless `closeConnections` is false. */
  stop(closeConnections = true): void {
    for (const l of [...this.plain, ...this.tls]) l.stop(closeConnections);
    this.unix?.stop(closeConnections);
    this.plain = [];
    this.tls = [];
    this.unix = null;
  }

  private replace(old: Listener[], port: number, ctx: TlsContext | undefined): Listener[] {
    // A new port is bound before the old one closes, so a failure leaves the old one serving;
    // the same port (a new TLS context) has to be released first.
    const samePort = old.length > 0 && old[0]!.port === port;
    if (samePort || port === 0) this.stopAll(old);
    const fresh: Listener[] = [];
    try {
      if (port !== 0) {
        for (const { host, optional, fallback } of bindHosts(this.server.config.bindAddresses)) {
          try {
            fresh.push(this.listen(host, port, ctx));
          } catch (e) {
            if (fallback !== undefined) {
              this.server.log.warning(`Could not create server TCP listening socket ${host}:${port}: IPv6 unavailable, listening on ${fallback} only`);
              fresh.push(this.listen(fallback, port, ctx));
            } else if (optional) {
              this.server.log.warning(`Could not create server TCP listening socket ${host}:${port}: ${(e as Error).message} (skipped: optional address)`);
            } else throw e;
          }
        }
      }
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
    const tls: TLSOptions | undefined = ctx?.server;
    return Bun.listen<SocketData>({ hostname, port, tls, socket: this.handlers(ctx ?? null, hostname, port, null) });
  }

  /** The socket handlers of one listener: plain, TLS (ctx) or the unix socket (unixPath). */
  private handlers(ctx: TlsContext | null, hostname: string, port: number, unixPath: string | null) {
    const server = this.server;
    return {
      open(socket: Socket<SocketData>) {
        if (!ctx) return acceptClient(server, socket, hostname, port, unixPath);
        // tls-auth-clients is read per connection (Redis's connCreateAcceptedTLS), so
        // CONFIG SET applies to the next client without a new listener.
        socket.data = { client: null, conn: null };
        socket.setVerifyMode(...verifyModeFor(server.config.str("tls-auth-clients") as ClientAuth));
      },
      handshake(socket: Socket<SocketData>, success: boolean, authorizationError: Error | null) {
        if (!ctx) return;
        const auth = server.config.str("tls-auth-clients") as ClientAuth;
        // A failed handshake (no shared protocol version, no certificate where one is required)
        // is reported in the TLS library's words, as Redis logs OpenSSL's.
        const refused = !success && authorizationError ? authorizationError.message : checkClientCertificate(ctx, auth, socket, authorizationError);
        if (refused) {
          server.log.warning(`Error accepting a client connection: ${refused}`);
          socket.terminate();
          return;
        }
        acceptClient(server, socket, hostname, port);
      },
      data(socket: Socket<SocketData>, chunk: Buffer) {
        const c = socket.data?.client;
        if (c) handleClientData(c, chunk);
      },
      drain(socket: Socket<SocketData>) {
        socket.data?.conn?.drain();
      },
      close(socket: Socket<SocketData>) {
        const d = socket.data;
        if (!d?.client) return;
        d.conn!.peerClosed();
        server.clients.delete(d.client.id);
        server.onClientClosed(d.client);
      },
      error(socket: Socket<SocketData>, err: Error) {
        // A TLS handshake that fails (no certificate with tls-auth-clients yes, a bad record)
        // ends here before any client exists: Redis logs those as failed accepts.
        if (ctx && !socket.data?.client) server.log.warning(`Error accepting a client connection: ${err.message}`);
        else server.log.verbose(`Client error: ${err.message}`);
      },
    };
  }
}
