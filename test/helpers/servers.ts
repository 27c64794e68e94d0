// Spawning real redis-server processes and Replicant processes on free ports for integration
// tests. Nothing is mocked: masters are Debian's redis-server. A missing binary fails the test
// loudly (test/ensure-deps.ts installs them when the suite is run through `bun run test`).

import type { Subprocess, TLSOptions } from "bun";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { RespClient, type RespValue } from "./resp-client.ts";

const ROOT = resolve(import.meta.dir, "../..");

/** Picks a port nobody listens on (bind to 0, read, release). */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 15000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    await Bun.sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
}

export interface ServerProcess {
  port: number;
  dir: string;
  proc: Subprocess;
  /** Everything the process wrote to stdout/stderr so far. */
  output(): string;
  client(): Promise<RespClient>;
  /** One-shot command on a fresh connection. */
  call(...args: Array<string | number>): Promise<RespValue>;
  stop(signal?: NodeJS.Signals | number): Promise<void>;
  /** Waits until the output contains the text (or matches the regexp). */
  waitForLog(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
}

function requireBinary(name: string): string {
  const path = Bun.which(name);
  if (!path) throw new Error(`${name} is not installed: run the test suite with \`bun run test\` (it installs redis-server and redis-tools) or apt-get install -y redis-server redis-tools`);
  return path;
}

/** How tests reach a server over TLS: its tls-port and the client's TLS options. */
export interface TlsAccess {
  port: number;
  options: TLSOptions;
}

async function spawnServer(cmd: string[], port: number, dir: string, cwd: string, tls?: TlsAccess): Promise<ServerProcess> {
  const proc = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let out = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) out += decoder.decode(chunk);
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  const clients: RespClient[] = [];
  const server: ServerProcess = {
    port,
    dir,
    proc,
    output: () => out,
    async client() {
      const c = await RespClient.connect(port, "127.0.0.1", tls?.options);
      clients.push(c);
      return c;
    },
    async call(...args) {
      const c = await RespClient.connect(port, "127.0.0.1", tls?.options);
      try {
        return await c.call(...args);
      } finally {
        c.close();
      }
    },
    async stop(signal = "SIGKILL") {
      for (const c of clients) c.close();
      if (proc.exitCode === null && !proc.killed) {
        proc.kill(signal);
        await proc.exited;
      }
    },
    async waitForLog(pattern, timeoutMs = 15000) {
      await waitFor(`log ${pattern} in output of ${cmd.join(" ")}`, () => (typeof pattern === "string" ? out.includes(pattern) : pattern.test(out)), timeoutMs);
    },
  };
  try {
    await waitFor(`${cmd[0]} on port ${port} to answer PING`, async () => {
      if (proc.exitCode !== null) throw new Error(`exited with code ${proc.exitCode}: ${out.slice(-2000)}`);
      const r = await server.call("PING");
      return r === "PONG" || (r as { message?: string })?.message?.startsWith("NOAUTH");
    });
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  }
  return server;
}

export function tempDir(prefix = "replicant-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * How a test server starts: `configFile` comes first, as redis-server wants it, then our
 * options (port, bind, dir...) unless `configOnly` (the file alone says how to run), then the
 * test's own. With `tls`, the server is reached over TLS at tls.port.
 */
export interface ServerOptions {
  port?: number;
  dir?: string;
  tls?: TlsAccess;
  configFile?: string;
  configOnly?: boolean;
}

/**
 * Starts a real redis-server (no persistence, fast diskless sync) with extra directives; `bin`
 * runs another server binary (a master of ../shared/masters) instead of Debian's.
 */
export async function startRedis(extra: string[] = [], opts: ServerOptions & { bin?: string } = {}): Promise<ServerProcess> {
  const bin = opts.bin ?? requireBinary("redis-server");
  const port = opts.port ?? freePort();
  const dir = opts.dir ?? tempDir("redis-");
  const conf = opts.configFile ? [opts.configFile] : [];
  const args = opts.configOnly
    ? [bin, ...conf, ...extra]
    : [bin, ...conf, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--repl-diskless-sync-delay", "0", ...extra];
  return spawnServer(args, opts.tls?.port ?? port, dir, dir, opts.tls);
}

/**
 * The command that runs Replicant: REPLICANT_BIN (the compiled binary; `bun run test` sets it
 * to dist/replicant after building) or, by default, the sources through bun.
 */
export function replicantCommand(): string[] {
  const bin = process.env.REPLICANT_BIN;
  if (bin) {
    const path = resolve(ROOT, bin);
    if (!existsSync(path)) throw new Error(`REPLICANT_BIN=${bin} does not exist: run \`bun run build\``);
    return [path];
  }
  return [process.execPath, join(ROOT, "src/main.ts")];
}

/**
 * Starts Replicant on a free port with extra directives. With `tls`, the returned server is
 * reached over TLS at tls.port (for servers whose extra directives include `--port 0`).
 */
export async function startReplicant(extra: string[] = [], opts: ServerOptions = {}): Promise<ServerProcess> {
  const port = opts.port ?? freePort();
  const dir = opts.dir ?? tempDir();
  const conf = opts.configFile ? [opts.configFile] : [];
  const args = opts.configOnly ? [...replicantCommand(), ...conf, ...extra] : [...replicantCommand(), ...conf, "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, ...extra];
  return spawnServer(args, opts.tls?.port ?? port, dir, dir, opts.tls);
}

export function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {}
}

/** Parses an INFO reply into a field map. */
export function parseInfo(text: RespValue): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of String(text).split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export async function info(server: ServerProcess, section = "everything"): Promise<Record<string, string>> {
  return parseInfo(await server.call("INFO", section));
}

/** Waits until a replica reports master_link_status:up and its offset equals the master's. */
export async function waitForSync(master: ServerProcess, replica: ServerProcess, timeoutMs = 30000): Promise<void> {
  await waitFor(
    `replica :${replica.port} in sync with master :${master.port}`,
    async () => {
      const r = await info(replica, "replication");
      if (r.master_link_status !== "up") return false;
      const m = await info(master, "replication");
      return m.master_repl_offset === r.slave_repl_offset;
    },
    timeoutMs,
    50,
  );
}

/**
 * Stops servers and removes their directories, one after the other; undefined entries (a
 * beforeAll that failed half-way) are passed over. A test file's afterAll:
 * `afterAll(() => stopServers([redis, ours]))`, or with `started` and `track` below.
 */
export async function stopServers(servers: Iterable<ServerProcess | undefined>): Promise<void> {
  for (const s of servers) {
    if (!s) continue;
    await s.stop();
    removeDir(s.dir);
  }
}

/**
 * For files that start servers as they go: `const track = tracker(started)`, then
 * `const s = await track(startRedis())` records it for `afterAll(() => stopServers(started))`.
 */
export function tracker(started: ServerProcess[]): <T extends ServerProcess>(p: Promise<T>) => Promise<T> {
  return async (p) => {
    const s = await p;
    started.push(s);
    return s;
  };
}
