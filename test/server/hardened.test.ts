// A hardened redis.conf, unchanged, for Replicant and for redis-server 7.0.15: TLS only (client
// certificates required) on the client port and on the link to a TLS master, ACLs from an
// aclfile (the default user off, a read-only user, an admin, a replication user on the master
// side), protected mode, renamed and removed commands, DEBUG / MODULE / protected configs off, a
// unix socket. Both replicas sync the same data through it, and every client gets the same
// replies: the attacks of issue 9 are refused the same way.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestCertificates, openssl, run } from "../helpers/certs.ts";
import { RespClient } from "../helpers/resp-client.ts";
import { freePort, removeDir, startRedis, startReplicant, tempDir, waitFor, type ServerProcess, type TlsAccess } from "../helpers/servers.ts";
import { errorText } from "../helpers/side-by-side.ts";

if (!openssl) console.log("test/server/hardened.test.ts: skipped, openssl is not installed");

const started: ServerProcess[] = [];
const dirs: string[] = [];
let certs = "";
let master: ServerProcess;
const replicas: Record<"redis" | "ours", { server: ServerProcess; dir: string; port: number }> = {} as never;

afterAll(async () => {
  for (const s of started) await s.stop();
  for (const d of dirs) removeDir(d);
});

const cert = (name: string) => join(certs, name);
const access = (port: number, withCert = true): TlsAccess => ({
  port,
  options: {
    ca: readFileSync(cert("ca.crt"), "latin1"),
    ...(withCert ? { cert: readFileSync(cert("client.crt"), "latin1"), key: readFileSync(cert("client.key"), "latin1") } : {}),
    rejectUnauthorized: false,
  },
});

const RENAMED_CONFIG = "CONFIG-8c1f2e";

function hardenedConf(dir: string, port: number, masterPort: number): string {
  return `# A hardened replica
bind 127.0.0.1 -::1
protected-mode yes
port 0
tls-port ${port}
tls-cert-file ${cert("server.crt")}
tls-key-file ${cert("server.key")}
tls-ca-cert-file ${cert("ca.crt")}
tls-auth-clients yes
tls-replication yes
replicaof 127.0.0.1 ${masterPort}
masteruser repl
masterauth repl-secret
aclfile ${join(dir, "users.acl")}
rename-command CONFIG ${RENAMED_CONFIG}
rename-command FLUSHALL ""
rename-command FLUSHDB ""
enable-debug-command no
enable-module-command no
enable-protected-configs no
unixsocket ${join(dir, "redis.sock")}
unixsocketperm 700
dir ${dir}
dbfilename dump.rdb
save ""
`;
}

const USERS = `user default off
user reader on >read-secret ~* &* +@read +@connection -@dangerous
user admin on >admin-secret ~* &* +@all
`;

/** The same commands on a fresh client of each replica: their replies, side by side. */
async function both(cmds: Array<Array<string | number>>, withCert = true): Promise<[unknown[], unknown[]]> {
  const out: unknown[][] = [];
  for (const kind of ["redis", "ours"] as const) {
    const { port } = replicas[kind];
    const c = await RespClient.connect(port, "127.0.0.1", access(port, withCert).options);
    const replies: unknown[] = [];
    for (const cmd of cmds) replies.push(errorText(await c.call(...cmd)));
    c.close();
    out.push(replies);
  }
  return [out[0]!, out[1]!];
}

async function same(cmds: Array<Array<string | number>>): Promise<unknown[]> {
  const [a, b] = await both(cmds);
  expect(b).toEqual(a);
  return b;
}

describe.skipIf(!openssl)("a hardened redis.conf, as redis-server 7.0.15 runs it", () => {
  beforeAll(async () => {
    certs = await makeTestCertificates();
    dirs.push(certs);
    const masterPort = freePort();
    master = await startRedis(
      [
        "--port", "0", "--tls-port", String(masterPort), "--tls-cert-file", cert("server.crt"), "--tls-key-file", cert("server.key"), "--tls-ca-cert-file", cert("ca.crt"),
        "--tls-auth-clients", "yes", "--user", "repl", "on", ">repl-secret", "+psync", "+replconf", "+ping", "--user", "default", "on", "nopass", "~*", "&*", "+@all",
      ],
      { tls: access(masterPort) },
    );
    started.push(master);
    const m = await master.client();
    await m.pipeline([["SET", "k", "v"], ["HSET", "h", "f", "1"], ["SET", "a".repeat(40), "long"], ["RPUSH", "l", "x", "y"]]);
    for (const kind of ["redis", "ours"] as const) {
      const dir = tempDir(`hardened-${kind}-`);
      dirs.push(dir);
      const port = freePort();
      writeFileSync(join(dir, "users.acl"), USERS);
      const file = join(dir, "redis.conf");
      writeFileSync(file, hardenedConf(dir, port, masterPort));
      const opts = { port, dir, configFile: file, configOnly: true, tls: access(port) };
      const server = kind === "redis" ? await startRedis([], opts) : await startReplicant([], opts);
      started.push(server);
      replicas[kind] = { server, dir, port };
    }
  });

  test("both replicas sync over TLS as the replication user, and follow the master's writes", async () => {
    await master.call("SET", "later", "written after the start");
    for (const kind of ["redis", "ours"] as const) {
      const { port } = replicas[kind];
      await waitFor(`${kind} replica synced`, async () => {
        const c = await RespClient.connect(port, "127.0.0.1", access(port).options);
        try {
          await c.call("AUTH", "admin", "admin-secret");
          return (await c.call("GET", "later")) === "written after the start";
        } finally {
          c.close();
        }
      });
    }
    const r = await same([["AUTH", "admin", "admin-secret"], ["DBSIZE"], ["GET", "k"], ["HGETALL", "h"], ["LRANGE", "l", 0, -1], [RENAMED_CONFIG, "GET", "masteruser"]]);
    expect(r).toContain("v");
    // And the master saw them authenticate as "repl".
    const clients = String(await master.call("CLIENT", "LIST", "TYPE", "replica"));
    expect(clients.match(/user=repl/g)?.length).toBe(2);
  });

  test("nobody gets in without a user: NOAUTH, the default user is off, wrong passwords are logged", async () => {
    await same([["PING"], ["GET", "k"], ["AUTH", "nopass"], ["AUTH", "default", ""], ["AUTH", "reader", "wrong"], ["HELLO", 3, "AUTH", "admin", "wrong"], ["KEYS", "*"]]);
    const [a, b] = await both([["AUTH", "admin", "admin-secret"], ["ACL", "LOG"]]);
    const reasons = (log: unknown) => (log as unknown[][]).map((e) => [e[1], e[3], e[5], e[7], e[9]]); // count, reason, context, object, username
    expect(reasons(b[1])).toEqual(reasons(a[1]));
    // Without a client certificate the TLS handshake itself is refused.
    for (const kind of ["redis", "ours"] as const) {
      const r = await run(["redis-cli", "-p", String(replicas[kind].port), "--tls", "--cacert", cert("ca.crt"), "PING"]);
      expect(`${kind}: ${r.out.trim() === "PONG" ? "PONG" : "refused"}`).toBe(`${kind}: refused`);
    }
  });

  test("the read-only user reads, and is refused writes, admin commands and dangerous ones", async () => {
    await same([
      ["AUTH", "reader", "read-secret"],
      ["ACL", "WHOAMI"],
      ["GET", "k"],
      ["SET", "k", "x"],
      ["DEL", "k"],
      ["KEYS", "*"],
      [RENAMED_CONFIG, "GET", "dir"],
      ["CONFIG", "GET", "dir"],
      ["EVAL", "return redis.call('set', 'k', 'x')", 0],
      ["SUBSCRIBE", "ch"],
    ]);
  });

  test("the admin is held by the replica's rules: READONLY, renamed and removed commands, DEBUG/MODULE/protected configs off", async () => {
    const r = await same([
      ["AUTH", "admin", "admin-secret"],
      ["SET", "k", "x"],
      ["CONFIG", "SET", "dir", "/tmp"],
      [RENAMED_CONFIG, "SET", "dir", "/tmp"],
      [RENAMED_CONFIG, "SET", "dbfilename", "evil.so"],
      [RENAMED_CONFIG, "SET", "maxmemory-policy", "allkeys-lru"],
      ["FLUSHALL"],
      ["FLUSHDB"],
      ["DEBUG", "SLEEP", 3],
      ["MODULE", "LOAD", "/tmp/evil.so"],
      ["MODULE", "LIST"],
      // The glob of issue 9: instant, not exponential, over a 40-byte key.
      ["KEYS", "a*a*a*a*a*a*a*a*a*a*a*a*b"],
      ["SCAN", 0, "MATCH", "*a*a*a*a*a*a*a*a*a*a*a*b", "COUNT", 100],
    ]);
    expect(String(r[3])).toContain("can't set protected config");
    // HTTP sent to the port (a cross-protocol attack from a browser): the connection is closed.
    for (const kind of ["redis", "ours"] as const) {
      const { port } = replicas[kind];
      const c = await RespClient.connect(port, "127.0.0.1", access(port).options);
      const outcome = await c.call("POST", "/", "HTTP/1.1").then(
        () => "answered",
        () => "closed",
      );
      expect(`${kind}: ${outcome}`).toBe(`${kind}: closed`);
    }
  });

  test("the unix socket answers as the TLS port does (NOAUTH for strangers), with its permissions", async () => {
    for (const kind of ["redis", "ours"] as const) {
      const sock = join(replicas[kind].dir, "redis.sock");
      const cli = await run(["redis-cli", "-s", sock, "PING"]);
      expect(`${kind}: ${cli.out.trim()}`).toBe(`${kind}: NOAUTH Authentication required.`);
      const authed = await run(["redis-cli", "-s", sock, "--user", "reader", "--pass", "read-secret", "--no-auth-warning", "GET", "k"]);
      expect(`${kind}: ${authed.out.trim()}`).toMatch(new RegExp(`^${kind}: (v|x)$`));
      const mode = (await run(["stat", "-c", "%a", sock])).out.trim();
      expect(`${kind}: ${mode}`).toBe(`${kind}: 700`);
    }
  });
});
