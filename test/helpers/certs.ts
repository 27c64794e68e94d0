// Test certificates made with openssl, for the TLS tests: a CA, a server and a client
// certificate it signed (no subjectAltName, as Redis's own gen-test-certs.sh: neither server
// compares host names), an untrusted self-signed one, the server key encrypted with "s3cret",
// and a directory holding the CA under its hashed name (openssl rehash).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./servers.ts";

export const openssl = Bun.which("openssl");

/** Runs a command (in `cwd`), its output and exit code. */
export async function run(cmd: string[], cwd?: string): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 20000 });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, out: out + err };
}

/** Makes the certificates in a new temporary directory and returns it. Needs `openssl`. */
export async function makeTestCertificates(): Promise<string> {
  const dir = tempDir("replicant-tls-");
  const mustRun = async (cmd: string[]) => {
    const r = await run(cmd, dir);
    if (r.code !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.out}`);
  };
  const ssl = openssl!;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await mustRun([ssl, "req", "-x509", "-new", "-nodes", ...ec, "-sha256", "-days", "2", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/O=Replicant Test/CN=Certificate Authority"]);
  for (const name of ["server", "client"]) {
    await mustRun([ssl, "req", "-new", "-nodes", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/O=Replicant Test/CN=${name}`]);
    await mustRun([ssl, "x509", "-req", "-sha256", "-days", "2", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`]);
  }
  await mustRun([ssl, "req", "-x509", "-new", "-nodes", ...ec, "-sha256", "-days", "2", "-keyout", "untrusted.key", "-out", "untrusted.crt", "-subj", "/O=Elsewhere/CN=untrusted"]);
  await mustRun([ssl, "pkey", "-in", "server.key", "-aes256", "-passout", "pass:s3cret", "-out", "server-encrypted.key"]);
  mkdirSync(join(dir, "ca-dir"));
  await Bun.write(join(dir, "ca-dir/ca.pem"), Bun.file(join(dir, "ca.crt")));
  await mustRun([ssl, "rehash", join(dir, "ca-dir")]);
  return dir;
}
