// TLS as Redis 7.0 configures it (tls.c: tlsConfigure, createSSLContext,
// connCreateAcceptedTLS), on Bun's own TLS (BoringSSL inside Bun): the tls-* directives become
// the options of Bun.listen (tls-port) and Bun.connect (tls-replication), and the checks of a
// peer's certificate that OpenSSL makes for Redis are made here where Bun's differ.
//
// Every directive is honoured or refused: what Bun does not expose (TLS 1.3 cipher suites, DH
// parameters, TLS 1.0/1.1, the session cache's size and lifetime) stops the start, or fails
// CONFIG SET, with a line naming the directive. docs/tls.md has the list.

import type { Socket, TLSOptions } from "bun";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import type { Config } from "../config/config.ts";

/** A TLS setting that cannot be used; the message is the log line (Redis's text where it has one). */
export class TlsConfigError extends Error {}

export type ClientAuth = "yes" | "no" | "optional";

export interface TlsContext {
  /** Bun.listen's options for tls-port; the client-certificate request is set per socket. */
  readonly server: TLSOptions;
  /** Bun.connect's options for the link to our master (tls-replication). */
  readonly client: TLSOptions;
  /**
   * Whether tls-ca-cert-file / tls-ca-cert-dir gave any certificate. Without one, Redis's
   * OpenSSL store is empty and no peer verifies; Bun would fall back to its built-in roots.
   */
  readonly hasCa: boolean;
}

// SSL_OP_* bits, the same in BoringSSL and OpenSSL; Bun passes `secureOptions` to SSL_CTX_set_options.
const SSL_OP_NO_TICKET = 0x00004000;
const SSL_OP_CIPHER_SERVER_PREFERENCE = 0x00400000;
const SSL_OP_NO_TLSv1_2 = 0x08000000;
const SSL_OP_NO_TLSv1_3 = 0x20000000;

/** Redis configures TLS when something uses it: a TLS port, TLS replication, or a TLS cluster bus. */
export function tlsWanted(config: Config): boolean {
  return config.num("tls-port") !== 0 || config.bool("tls-replication") || config.bool("tls-cluster");
}

/**
 * The TLS context for the current configuration, validated as tlsConfigure validates it (the
 * certificates and keys are loaded, not just named). Throws TlsConfigError.
 */
export function buildTlsContext(config: Config): TlsContext {
  const certFile = config.str("tls-cert-file");
  const keyFile = config.str("tls-key-file");
  if (!certFile) throw new TlsConfigError("No tls-cert-file configured!");
  if (!keyFile) throw new TlsConfigError("No tls-key-file configured!");
  const caFile = config.str("tls-ca-cert-file");
  const caDir = config.str("tls-ca-cert-dir");
  if ((config.str("tls-auth-clients") !== "no" || config.bool("tls-cluster") || config.bool("tls-replication")) && !caFile && !caDir) {
    throw new TlsConfigError(
      "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!",
    );
  }
  const protocolOptions = protocolsToOptions(config.str("tls-protocols"));
  refuseUnsupported(config);

  const ca = [...(caFile ? loadCaFile(caFile) : []), ...(caDir ? loadCaDir(caDir) : [])];
  const ciphers = config.str("tls-ciphers") || undefined;
  if (ciphers) {
    try {
      createSecureContext({ ciphers });
    } catch {
      throw new TlsConfigError(`Failed to configure ciphers: ${ciphers}`);
    }
  }
  const common: TLSOptions = { ca: ca.length ? ca : undefined, ciphers, secureOptions: protocolOptions };

  const server: TLSOptions = {
    ...common,
    ...loadCertificateAndKey(certFile, keyFile, config.str("tls-key-file-pass")),
    secureOptions:
      protocolOptions |
      (config.bool("tls-prefer-server-ciphers") ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0) |
      // Without tickets Bun resumes no session at all (it keeps no server-side cache), which is
      // what Redis's SSL_SESS_CACHE_OFF gives its clients too.
      (config.bool("tls-session-caching") ? 0 : SSL_OP_NO_TICKET),
  };

  // Redis's outgoing connections present tls-client-cert-file only when it and its key are both
  // set; otherwise the server certificate (redis_tls_client_ctx falls back to redis_tls_ctx).
  const clientCert = config.str("tls-client-cert-file");
  const clientKey = config.str("tls-client-key-file");
  const identity =
    clientCert && clientKey
      ? loadCertificateAndKey(clientCert, clientKey, config.str("tls-client-key-file-pass"))
      : { cert: server.cert, key: server.key, passphrase: server.passphrase };
  // rejectUnauthorized is off because Bun would also match the host name against the
  // certificate, which Redis does not do: checkMasterCertificate verifies the chain instead.
  const client: TLSOptions = { ...common, ...identity, rejectUnauthorized: false };
  return { server, client, hasCa: ca.length > 0 };
}

/** tls-protocols as parseProtocolsConfig reads it, as the SSL_OP_NO_* bits that Bun applies. */
function protocolsToOptions(text: string): number {
  if (text === "") return 0; // Redis's default, TLSv1.2 and TLSv1.3, is also Bun's only range.
  let tls12 = false;
  let tls13 = false;
  const old: string[] = [];
  // Single spaces, as sdssplitlen splits: "a  b" has an empty token, which is invalid.
  for (const token of text.split(" ")) {
    const t = token.toLowerCase();
    if (t === "tlsv1.2") tls12 = true;
    else if (t === "tlsv1.3") tls13 = true;
    else if (t === "tlsv1" || t === "tlsv1.1") old.push(token);
    else throw new TlsConfigError("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.");
  }
  if (old.length) {
    throw new TlsConfigError(
      `tls-protocols '${text}' cannot be honoured: Bun's TLS speaks TLSv1.2 and TLSv1.3 only, and has no setting that enables ${old.join(" or ")}`,
    );
  }
  return (tls12 ? 0 : SSL_OP_NO_TLSv1_2) | (tls13 ? 0 : SSL_OP_NO_TLSv1_3);
}

/** Settings Redis applies through OpenSSL calls that Bun's TLS options have no equivalent for. */
function refuseUnsupported(config: Config): void {
  const refuse = (directive: string, why: string) => {
    throw new TlsConfigError(`${directive} cannot be honoured: ${why}`);
  };
  if (config.str("tls-ciphersuites")) {
    refuse("tls-ciphersuites", "Bun's TLS library (BoringSSL) has a fixed list of TLSv1.3 cipher suites and no setting to change it");
  }
  if (config.str("tls-dh-params-file")) {
    refuse("tls-dh-params-file", "Bun's TLS library (BoringSSL) has no DHE cipher suites, so DH parameters cannot be used");
  }
  // With caching off Redis ignores these two; with it on, Bun keeps its own ticket lifetime and
  // has no server-side cache to size, so only the defaults (documented as Bun's) are accepted.
  if (config.bool("tls-session-caching")) {
    if (config.num("tls-session-cache-size") !== 20480) {
      refuse("tls-session-cache-size", "Bun's TLS has no server-side session cache to size (sessions resume through tickets only)");
    }
    if (config.num("tls-session-cache-timeout") !== 300) {
      refuse("tls-session-cache-timeout", "Bun's TLS has no setting for the session lifetime (its tickets last 2 hours with TLSv1.2, 2 days with TLSv1.3)");
    }
  }
}

function readText(path: string): string {
  return readFileSync(path, "latin1");
}

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === "ENOENT") return "No such file or directory";
  if (err.code === "EACCES") return "Permission denied";
  return err.message;
}

/** A certificate chain file and its private key, loaded and checked against each other. */
function loadCertificateAndKey(certFile: string, keyFile: string, passphrase: string): Pick<TLSOptions, "cert" | "key" | "passphrase"> {
  let cert: string;
  let leaf: X509Certificate;
  try {
    cert = readText(certFile);
    leaf = new X509Certificate(cert);
  } catch (e) {
    throw new TlsConfigError(`Failed to load certificate: ${certFile}: ${errorText(e)}`);
  }
  let key: string;
  try {
    key = readText(keyFile);
    const parsed = createPrivateKey({ key, passphrase: passphrase || undefined });
    if (!leaf.checkPrivateKey(parsed)) throw new Error("key values mismatch");
  } catch (e) {
    throw new TlsConfigError(`Failed to load private key: ${keyFile}: ${errorText(e)}`);
  }
  return { cert, key, passphrase: passphrase || undefined };
}

const PEM_CERTIFICATE = /-----BEGIN (?:TRUSTED )?CERTIFICATE-----[\s\S]*?-----END (?:TRUSTED )?CERTIFICATE-----/g;

/** The certificates of a PEM file, each checked; none at all is an error, as for OpenSSL. */
function certificatesIn(text: string): string[] {
  const pems = text.match(PEM_CERTIFICATE) ?? [];
  for (const pem of pems) new X509Certificate(pem);
  return pems;
}

function loadCaFile(path: string): string[] {
  try {
    const pems = certificatesIn(readText(path));
    if (pems.length === 0) throw new Error("no certificate or crl found");
    return pems;
  } catch (e) {
    throw new TlsConfigError(`Failed to configure CA certificate(s) file/directory: ${errorText(e)}`);
  }
}

/**
 * tls-ca-cert-dir: OpenSSL looks certificates up there by subject hash, in files named
 * <hash>.<n> (what `openssl rehash` / c_rehash create). Bun takes the certificates themselves,
 * so those files are read now. A directory that cannot be read holds no CA, as for OpenSSL,
 * which does not check it at start either.
 */
function loadCaDir(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const pems: string[] = [];
  for (const name of names.sort()) {
    if (!/^[0-9a-f]{8}\.\d+$/.test(name)) continue;
    try {
      pems.push(...certificatesIn(readText(join(dir, name))));
    } catch {
      // OpenSSL skips a file it cannot use when it looks a certificate up.
    }
  }
  return pems;
}

/**
 * Whether an accepted TLS client may stay, as Redis's SSL_set_verify modes decide (called once
 * the handshake is done): "yes" requires a certificate that verifies against the CA, "optional"
 * asks for one and refuses only one that does not verify, "no" asks for none. Returns the
 * reason to refuse, or null.
 */
export function checkClientCertificate(ctx: TlsContext, auth: ClientAuth, socket: Socket<any>, authorizationError: Error | null): string | null {
  if (auth === "no") return null;
  const presented = socket.getPeerCertificate() != null;
  if (!presented) return auth === "yes" ? "peer did not return a certificate" : null;
  if (!ctx.hasCa) return "certificate verify failed: unable to get local issuer certificate";
  if (authorizationError) return `certificate verify failed: ${authorizationError.message}`;
  return null;
}

/** The client-certificate request for a socket just accepted: Bun's setVerifyMode arguments. */
export function verifyModeFor(auth: ClientAuth): [requestCert: boolean, rejectUnauthorized: boolean] {
  return auth === "no" ? [false, false] : auth === "optional" ? [true, false] : [true, true];
}

/**
 * Our master's certificate must verify against the CA (Redis's SSL_VERIFY_PEER), but its host
 * name is not compared with the certificate, as Redis 7.0 does not. Returns the reason to
 * refuse, or null.
 */
export function checkMasterCertificate(ctx: TlsContext, authorizationError: Error | null): string | null {
  if (!ctx.hasCa) return "certificate verify failed: unable to get local issuer certificate";
  if (!authorizationError) return null;
  // Bun checks the name only after the chain verified, so this error means the chain is good.
  if ((authorizationError as NodeJS.ErrnoException).code === "ERR_TLS_CERT_ALTNAME_INVALID") return null;
  return `certificate verify failed: ${authorizationError.message}`;
}
