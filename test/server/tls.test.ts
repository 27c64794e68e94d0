// TLS as redis-server 7.0.15 does it, checked side by side with the real server: tls-port with
// client certificates (tls-auth-clients yes / optional / no), the negotiated protocol and
// cipher, CONFIG SET at run time, replication over TLS in both directions (tls-replication),
// and the directives Bun's TLS cannot honour stopping the start. The certificates are made
// here with openssl (no openssl: the file is skipped with one line).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { datasetSize, diffDatasets, snapshotDataset } from "../helpers/dataset.ts";
import { RespClient, RespError } from "../helpers/resp-client.ts";
import { makeTestCertificates, openssl, run as runCommand } from "../helpers/certs.ts";
import { freePort, info, removeDir, replicantCommand, startRedis, startReplicant, tempDir, waitForSync, type ServerProcess, type TlsAccess, stopServers, tracker } from "../helpers/servers.ts";

if (!openssl) console.log("test/server/tls.test.ts: skipped, openssl is not installed");

const started: ServerProcess[] = [];
let certDir = "";
afterAll(async () => {
  await stopServers(started);
  if (certDir) removeDir(certDir);
});

const track = tracker(started);

const run = (cmd: string[], cwd = certDir) => runCommand(cmd, cwd);

/** Path of a file made in beforeAll. */
const f = (name: string) => join(certDir, name);

async function makeCertificates(): Promise<void> {
  certDir = await makeTestCertificates();
}

/** The server side of TLS for either server: certificate, key, CA. */
const serverTls = () => ["--tls-cert-file", f("server.crt"), "--tls-key-file", f("server.key"), "--tls-ca-cert-file", f("ca.crt")];

/** How the helpers reach a TLS port: with the client certificate (the server's is not checked here; redis-cli checks it below). */
const tlsAccess = (port: number): TlsAccess => ({
  port,
  options: { ca: readFileSync(f("ca.crt"), "latin1"), cert: readFileSync(f("client.crt"), "latin1"), key: readFileSync(f("client.key"), "latin1"), rejectUnauthorized: false },
});

type ClientIdentity = "CA-signed certificate" | "no certificate" | "untrusted certificate";
const IDENTITIES: ClientIdentity[] = ["CA-signed certificate", "no certificate", "untrusted certificate"];

/** PING over TLS with redis-cli (OpenSSL, verifying the server against the CA): "PONG" or "refused". */
async function cliPing(port: number, who: ClientIdentity): Promise<string> {
  const identity =
    who === "CA-signed certificate" ? ["--cert", f("client.crt"), "--key", f("client.key")] : who === "untrusted certificate" ? ["--cert", f("untrusted.crt"), "--key", f("untrusted.key")] : [];
  const r = await run(["redis-cli", "-p", String(port), "--tls", "--cacert", f("ca.crt"), ...identity, "PING"]);
  return r.out.trim() === "PONG" ? "PONG" : "refused";
}

/** A TLS-only server of each kind with the same directives. */
async function startPair(extra: string[]): Promise<{ redis: ServerProcess; ours: ServerProcess }> {
  const redisPort = freePort();
  const ourPort = freePort();
  const redis = await track(startRedis(["--port", "0", "--tls-port", String(redisPort), ...extra], { tls: tlsAccess(redisPort) }));
  const ours = await track(startReplicant(["--port", "0", "--tls-port", String(ourPort), ...extra], { tls: tlsAccess(ourPort) }));
  return { redis, ours };
}

/** Strings, a list, a hash, a set, a sorted set, a stream and one big value, over several databases. */
async function writeSome(c: RespClient, tag: string): Promise<void> {
  const cmds: Array<Array<string | number>> = [];
  for (const db of [0, 5]) {
    cmds.push(["SELECT", db]);
    for (let i = 0; i < 200; i++) cmds.push(["SET", `${tag}:s:${i}`, `value-${i}`]);
    for (let i = 0; i < 300; i++) {
      cmds.push(["RPUSH", `${tag}:list`, `e${i}`]);
      cmds.push(["HSET", `${tag}:hash`, `f${i}`, i]);
      cmds.push(["SADD", `${tag}:set`, `m${i}`]);
      cmds.push(["ZADD", `${tag}:zset`, i / 3, `m${i}`]);
    }
    for (let i = 0; i < 20; i++) cmds.push(["XADD", `${tag}:stream`, "*", "n", i]);
    cmds.push(["SET", `${tag}:big`, "x".repeat(2_000_000)]);
    cmds.push(["SET", `${tag}:ttl`, "v", "EX", 10000]);
  }
  cmds.push(["SELECT", 0]);
  await c.pipeline(cmds);
}

async function expectSameDataset(a: ServerProcess, b: ServerProcess): Promise<void> {
  const [x, y] = [await snapshotDataset(await a.client()), await snapshotDataset(await b.client())];
  expect(datasetSize(x)).toBeGreaterThan(0);
  expect(diffDatasets(x, y)).toEqual([]);
}

describe.skipIf(!openssl)("TLS, compared with redis-server 7.0.15", () => {
  beforeAll(makeCertificates);

  test("tls-auth-clients yes / optional / no: the same clients get PONG or are refused", async () => {
    // What redis-server 7.0.15 answers (checked below against the real server each run).
    const expected: Record<string, Record<ClientIdentity, string>> = {
      yes: { "CA-signed certificate": "PONG", "no certificate": "refused", "untrusted certificate": "refused" },
      optional: { "CA-signed certificate": "PONG", "no certificate": "PONG", "untrusted certificate": "refused" },
      no: { "CA-signed certificate": "PONG", "no certificate": "PONG", "untrusted certificate": "PONG" },
    };
    for (const mode of ["yes", "optional", "no"]) {
      const { redis, ours } = await startPair([...serverTls(), "--tls-auth-clients", mode]);
      for (const who of IDENTITIES) {
        const theirs = await cliPing(redis.port, who);
        expect(`${mode}, ${who}: ${await cliPing(ours.port, who)}`).toBe(`${mode}, ${who}: ${theirs}`);
        expect(theirs).toBe(expected[mode]![who]);
      }
      if (mode !== "no") await ours.waitForLog("Error accepting a client connection: certificate verify failed");
      await redis.stop();
      await ours.stop();
    }
  });

  test("tls-ca-cert-dir and tls-key-file-pass work as with redis-server; the plain port serves beside tls-port", async () => {
    const keyAndCaDir = ["--tls-cert-file", f("server.crt"), "--tls-key-file", f("server-encrypted.key"), "--tls-key-file-pass", "s3cret", "--tls-ca-cert-dir", f("ca-dir")];
    const redisTls = freePort();
    const ourTls = freePort();
    const redis = await track(startRedis(["--tls-port", String(redisTls), ...keyAndCaDir]));
    const ours = await track(startReplicant(["--tls-port", String(ourTls), ...keyAndCaDir]));
    // The CA found through the hashed directory decides, as tls-ca-cert-file does.
    for (const who of IDENTITIES) expect(`${who}: ${await cliPing(ourTls, who)}`).toBe(`${who}: ${await cliPing(redisTls, who)}`);
    const overTls = await RespClient.connect(ourTls, "127.0.0.1", tlsAccess(ourTls).options);
    expect(await overTls.call("SET", "k", "over TLS")).toBe("OK");
    expect(await ours.call("GET", "k")).toBe("over TLS");
    overTls.close();
    for (const s of [redis, ours]) expect(await s.call("CONFIG", "GET", "tls-port")).toEqual(["tls-port", String(s === redis ? redisTls : ourTls)]);
    // tls-session-caching yes (the default): a TLSv1.2 session is resumed by both.
    for (const port of [redisTls, ourTls]) {
      const client = ["-connect", `127.0.0.1:${port}`, "-CAfile", f("ca.crt"), "-cert", f("client.crt"), "-key", f("client.key"), "-tls1_2"];
      const session = f(`session-default-${port}.pem`);
      await run([openssl!, "s_client", ...client, "-sess_out", session]);
      expect((await run([openssl!, "s_client", ...client, "-sess_in", session])).out).toMatch(/^Reused, TLSv1.2/m);
    }
  });

  test("tls-protocols, tls-ciphers, tls-prefer-server-ciphers and tls-session-caching decide the handshake as with redis-server", async () => {
    const { redis, ours } = await startPair([
      ...serverTls(),
      "--tls-protocols",
      "TLSv1.2",
      "--tls-ciphers",
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
      "--tls-prefer-server-ciphers",
      "yes",
      "--tls-session-caching",
      "no",
    ]);
    const handshake = async (port: number, extra: string[], session = "") => {
      const args = [openssl!, "s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", f("ca.crt"), "-cert", f("client.crt"), "-key", f("client.key"), ...extra];
      if (session) args.push("-sess_in", session);
      const r = await run(args);
      const proto = /Protocol\s*:\s*(\S+)/.exec(r.out)?.[1] ?? "none";
      const cipher = /Cipher is (\S+)/.exec(r.out)?.[1] ?? "none";
      const resumed = /^Reused,/m.test(r.out) ? "resumed" : "new";
      return `${proto} ${cipher} ${resumed}`;
    };
    for (const [label, extra] of [
      ["TLSv1.3 only", ["-tls1_3"]],
      ["TLSv1.2, client prefers AES256", ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"]],
      ["TLSv1.2, a cipher outside tls-ciphers", ["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"]],
    ] as Array<[string, string[]]>) {
      expect(`${label}: ${await handshake(ours.port, extra)}`).toBe(`${label}: ${await handshake(redis.port, extra)}`);
    }
    expect(await handshake(ours.port, ["-tls1_2"])).toBe("TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 new");
    // tls-session-caching no: a saved session is not resumed by either server.
    for (const server of [redis, ours]) {
      const session = f(`session-${server.port}.pem`);
      await run([openssl!, "s_client", "-connect", `127.0.0.1:${server.port}`, "-CAfile", f("ca.crt"), "-cert", f("client.crt"), "-key", f("client.key"), "-tls1_2", "-sess_out", session]);
      expect(await handshake(server.port, ["-tls1_2"], session)).toEndWith(" new");
    }
  });

  test("CONFIG SET tls-port / tls-* / tls-auth-clients / port at run time: the same replies and effects", async () => {
    const redis = await track(startRedis());
    const ours = await track(startReplicant());
    const steps: Array<(tlsPort: number) => string[]> = [
      (p) => ["CONFIG", "SET", "tls-port", String(p)], // no certificate yet: refused
      () => ["CONFIG", "SET", "tls-cert-file", f("server.crt"), "tls-key-file", f("server.key"), "tls-ca-cert-file", f("ca.crt")],
      (p) => ["CONFIG", "SET", "tls-port", String(p)],
      () => ["CONFIG", "SET", "tls-ciphers", "NO-SUCH-CIPHER"],
      () => ["CONFIG", "SET", "tls-cert-file", f("no-such.crt")],
      () => ["CONFIG", "GET", "tls-cert-file"],
    ];
    const ports = new Map([
      [redis, freePort()],
      [ours, freePort()],
    ]);
    const replies = async (s: ServerProcess) => {
      const out: unknown[] = [];
      for (const step of steps) {
        const r = await s.call(...step(ports.get(s)!));
        out.push(r instanceof RespError ? r.message : r);
      }
      return out;
    };
    const theirs = await replies(redis);
    expect(await replies(ours)).toEqual(theirs);
    expect(theirs[0]).toBe("ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to update TLS configuration. Check server logs.");
    for (const s of [redis, ours]) {
      const port = ports.get(s)!;
      expect(await cliPing(port, "CA-signed certificate")).toBe("PONG");
      expect(await cliPing(port, "no certificate")).toBe("refused");
      expect(await s.call("CONFIG", "SET", "tls-auth-clients", "no")).toBe("OK");
      expect(await cliPing(port, "no certificate")).toBe("PONG");
      if (s === ours) {
        // Redis accepts this one; Bun cannot apply it, so CONFIG SET fails and the log says why.
        const r = await ours.call("CONFIG", "SET", "tls-ciphersuites", "TLS_AES_128_GCM_SHA256");
        expect((r as RespError).message).toBe("ERR CONFIG SET failed (possibly related to argument 'tls-ciphersuites') - Unable to update TLS configuration. Check server logs.");
        await ours.waitForLog("tls-ciphersuites cannot be honoured");
        expect(await ours.call("CONFIG", "GET", "tls-ciphersuites")).toEqual(["tls-ciphersuites", ""]);
        expect(await cliPing(port, "CA-signed certificate")).toBe("PONG");
      }
      expect(await s.call("CONFIG", "SET", "tls-port", "0")).toBe("OK");
      expect(await cliPing(port, "CA-signed certificate")).toBe("refused");
      // The plain port moves the same way (Redis's changeListenPort): the old one stops accepting.
      const newPort = freePort();
      expect(await s.call("CONFIG", "SET", "port", String(newPort))).toBe("OK");
      const moved = await RespClient.connect(newPort);
      expect(await moved.call("PING")).toBe("PONG");
      moved.close();
      expect(await RespClient.connect(s.port).then(() => "connected", () => "refused")).toBe("refused");
    }
  });

  test("Replicant replicates from a TLS-only redis-server master (tls-replication yes) and ends equal to it", async () => {
    const masterPort = freePort();
    const master = await track(startRedis(["--port", "0", "--tls-port", String(masterPort), ...serverTls()], { tls: tlsAccess(masterPort) }));
    const mc = await master.client();
    await writeSome(mc, "before");
    const link = ["--replicaof", "127.0.0.1", String(masterPort), "--tls-replication", "yes", "--tls-ca-cert-file", f("ca.crt")];
    // Presents tls-client-cert-file: its tls-cert-file is one the master would refuse.
    const withClientCert = await track(
      startReplicant([...link, "--tls-cert-file", f("untrusted.crt"), "--tls-key-file", f("untrusted.key"), "--tls-client-cert-file", f("client.crt"), "--tls-client-key-file", f("client.key")]),
    );
    // Without a client certificate, presents tls-cert-file, as Redis does.
    const withServerCert = await track(startReplicant([...link, "--tls-cert-file", f("server.crt"), "--tls-key-file", f("server.key")]));
    for (const replica of [withClientCert, withServerCert]) {
      await waitForSync(master, replica);
      await replica.waitForLog("MASTER <-> REPLICA sync: Finished with success");
    }
    await writeSome(mc, "after");
    await mc.call("DEL", "before:list");
    await mc.call("INCR", "counter");
    for (const replica of [withClientCert, withServerCert]) {
      await waitForSync(master, replica);
      await expectSameDataset(master, replica);
    }
  });

  test("a master whose certificate the CA did not sign is refused", async () => {
    const masterPort = freePort();
    const master = await track(startRedis(["--port", "0", "--tls-port", String(masterPort), ...serverTls()], { tls: tlsAccess(masterPort) }));
    const replica = await track(
      startReplicant([
        "--replicaof",
        "127.0.0.1",
        String(masterPort),
        "--tls-replication",
        "yes",
        "--tls-cert-file",
        f("client.crt"),
        "--tls-key-file",
        f("client.key"),
        "--tls-ca-cert-file",
        f("untrusted.crt"),
      ]),
    );
    await replica.waitForLog(/Error condition on socket for SYNC: certificate verify failed/);
    expect((await info(replica, "replication")).master_link_status).toBe("down");
    expect((await info(master, "replication")).connected_slaves).toBe("0");
  });

  test("a redis-server replica with tls-replication yes replicates from Replicant's TLS port, then continues with PSYNC", async () => {
    const tlsPort = freePort();
    const ours = await track(startReplicant(["--tls-port", String(tlsPort), ...serverTls(), "--repl-diskless-sync-delay", "0"]));
    const oc = await ours.client();
    await writeSome(oc, "before");
    const replica = await track(
      startRedis([
        "--replicaof",
        "127.0.0.1",
        String(tlsPort),
        "--tls-replication",
        "yes",
        "--tls-cert-file",
        f("client.crt"),
        "--tls-key-file",
        f("client.key"),
        "--tls-ca-cert-file",
        f("ca.crt"),
      ]),
    );
    await waitForSync(ours, replica);
    await writeSome(oc, "after");
    await waitForSync(ours, replica);
    await expectSameDataset(ours, replica);
    // The link drops; the replica comes back over TLS and continues where it was.
    await replica.call("CLIENT", "KILL", "TYPE", "master");
    await oc.call("SET", "while-reconnecting", "1");
    await replica.waitForLog("Successful partial resynchronization with master.");
    await waitForSync(ours, replica);
    await expectSameDataset(ours, replica);
    const stats = await info(ours, "stats");
    expect(stats.sync_full).toBe("1");
    expect(stats.sync_partial_ok).toBe("1");
  });

  describe("start-up errors", () => {
    /** Starts a server with these arguments and waits for it to exit by itself. */
    async function startFailing(cmd: string[]): Promise<{ code: number; out: string }> {
      const dir = tempDir();
      try {
        return await run([...cmd, "--dir", dir, "--save", ""], dir);
      } finally {
        removeDir(dir);
      }
    }
    const tlsBase = () => ["--port", "0", "--tls-port", String(freePort()), ...serverTls()];

    test("a directive Bun cannot honour stops the start with exit code 1, naming it", async () => {
      const cases: Array<[string, string[]]> = [
        ["tls-ciphersuites", ["--tls-ciphersuites", "TLS_AES_128_GCM_SHA256"]],
        ["tls-dh-params-file", ["--tls-dh-params-file", f("dh.pem")]],
        ["tls-protocols", ["--tls-protocols", "TLSv1.1 TLSv1.2"]],
        ["tls-session-cache-size", ["--tls-session-cache-size", "100"]],
        ["tls-session-cache-timeout", ["--tls-session-cache-timeout", "60"]],
      ];
      for (const [directive, extra] of cases) {
        const r = await startFailing([...replicantCommand(), ...tlsBase(), ...extra]);
        expect(`${directive}: exit ${r.code}`).toBe(`${directive}: exit 1`);
        expect(r.out).toContain(`# ${directive} `);
        expect(r.out).toContain("cannot be honoured: Bun's TLS");
        expect(r.out).toContain("Failed to configure TLS. Check logs for more info.");
      }
      // With TLS unused, as for redis-server, nothing is configured and nothing refused.
      const port = freePort();
      const idle = await track(startReplicant(["--tls-ciphersuites", "TLS_AES_128_GCM_SHA256"], { port }));
      expect(await idle.call("PING")).toBe("PONG");
    });

    test("the configurations redis-server refuses at start are refused with its message", async () => {
      const cases: Array<[string, string[]]> = [
        ["no certificate", ["--port", "0", "--tls-port", String(freePort())]],
        ["no CA with tls-auth-clients yes", ["--port", "0", "--tls-port", String(freePort()), "--tls-cert-file", f("server.crt"), "--tls-key-file", f("server.key")]],
        ["tls-replication without a CA", ["--port", String(freePort()), "--tls-replication", "yes", "--tls-cert-file", f("server.crt"), "--tls-key-file", f("server.key")]],
        ["a protocol name that does not exist", [...tlsBase(), "--tls-protocols", "TLSv1.4"]],
        ["a cipher list with no cipher", [...tlsBase(), "--tls-ciphers", "NO-SUCH-CIPHER"]],
        ["a missing certificate file", [...tlsBase(), "--tls-cert-file", f("no-such.crt")]],
        ["a CA file with no certificate", [...tlsBase(), "--tls-ca-cert-file", f("server.key")]],
        ["a key that is not the certificate's", [...tlsBase(), "--tls-key-file", f("client.key")]],
        ["an encrypted key with the wrong passphrase", [...tlsBase(), "--tls-key-file", f("server-encrypted.key"), "--tls-key-file-pass", "wrong"]],
        ["neither port nor tls-port", ["--port", "0"]],
      ];
      // The log line's message, cut where OpenSSL's own reason (which Bun words differently) starts.
      const firstError = (out: string) => {
        const line = out.split("\n").find((l) => / # (?!WARNING|Warning|oO0O|Replicant|Redis version|Configuration loaded)/.test(l)) ?? "";
        return line.replace(/^.*? # /, "").replace(/(Failed to (load certificate|load private key): [^:]+):.*/, "$1").replace(/(file\/directory):.*/, "$1");
      };
      for (const [label, extra] of cases) {
        const theirs = await startFailing(["redis-server", "--bind", "127.0.0.1", ...extra]);
        const ours = await startFailing([...replicantCommand(), "--bind", "127.0.0.1", ...extra]);
        expect(`${label}: exit ${ours.code}, ${firstError(ours.out)}`).toBe(`${label}: exit ${theirs.code}, ${firstError(theirs.out)}`);
        expect(theirs.code).toBe(1);
      }
    });
  });
});
