// The container image as deploy/Dockerfile describes it, without a container engine: a root
// filesystem holding only the compiled binary and the shared libraries it links against (what
// distroless/cc brings: glibc and its loader), the Dockerfile's nonroot user (65532), WORKDIR
// /data and ENTRYPOINT, with /proc mounted in a private mount namespace as every container
// runtime mounts it. The server starts from the ENTRYPOINT as that user, syncs from a master,
// answers the HEALTHCHECK command, and saves into /data when stopped.
//
// Needs the compiled binary (REPLICANT_BIN), root, unshare, chroot and ldd; skipped with one line
// otherwise. The Dockerfile is parsed, so the test follows it when it changes.

import { afterAll, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { RespClient } from "../helpers/resp-client.ts";
import { freePort, parseInfo, removeDir, replicantCommand, startRedis, tempDir, waitFor } from "../helpers/servers.ts";

const ROOT = resolve(import.meta.dir, "../..");
const NONROOT = 65532; // distroless's "nonroot" user, which the :nonroot image runs as

const missing = !process.env.REPLICANT_BIN
  ? "the compiled binary (REPLICANT_BIN)"
  : process.getuid?.() !== 0
    ? "root"
    : (["unshare", "chroot", "ldd", "mount"].find((t) => !Bun.which(t)) ?? null);

/** A JSON-array instruction of the Dockerfile (ENTRYPOINT [...], HEALTHCHECK ... CMD [...]). */
function dockerArray(dockerfile: string, pattern: RegExp): string[] {
  const m = dockerfile.match(pattern);
  if (!m) throw new Error(`deploy/Dockerfile: no match for ${pattern}`);
  return JSON.parse(m[1]!) as string[];
}

/** Copies `from` to the same path under `root`. */
function copyInto(root: string, from: string, to = from): void {
  mkdirSync(join(root, dirname(to)), { recursive: true });
  copyFileSync(from, join(root, to));
}

if (missing) console.log(`skipped: container image check in a minimal root filesystem (needs ${missing})`);
else {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  test("the Dockerfile's image: starts as nonroot from its ENTRYPOINT, syncs, answers its HEALTHCHECK, saves into /data", async () => {
    const dockerfile = readFileSync(join(ROOT, "deploy/Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM gcr\.io\/distroless\/cc-debian12:nonroot$/m);
    const entrypoint = dockerArray(dockerfile, /^ENTRYPOINT (\[.*\])$/m);
    const healthcheck = dockerArray(dockerfile, /^HEALTHCHECK .*CMD (\[.*\])$/m);
    const workdir = dockerfile.match(/^WORKDIR (\S+)$/m)![1]!;
    const bin = replicantCommand()[0]!;

    const root = tempDir("rootfs-");
    chmodSync(root, 0o755); // the image's / as the nonroot user sees it
    cleanup.push(() => removeDir(root));
    copyInto(root, bin, entrypoint[0]!);
    // The loader and libraries the binary links against, at the paths ldd reports.
    const ldd = Bun.spawnSync(["ldd", bin]).stdout.toString();
    for (const m of ldd.matchAll(/(\/\S+) \(0x/g)) copyInto(root, m[1]!);
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc/passwd"), `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n`);
    for (const d of ["proc", "tmp", workdir.slice(1)]) mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, "tmp"), 0o1777);
    chownSync(join(root, workdir.slice(1)), NONROOT, NONROOT);

    const master = await startRedis();
    cleanup.push(() => master.stop());
    const seed = await RespClient.connect(master.port);
    for (let i = 0; i < 100; i++) await seed.call("SET", `k${i}`, `v${i}`);
    await seed.call("HSET", "h", "f", "v");

    // As a container runtime runs it: a private mount namespace with /proc mounted, the image's
    // root and user, the ENTRYPOINT (which sets --dir to the WORKDIR) plus the run's arguments.
    const run = (argv: string[]) => ["unshare", "--mount", "--fork", "sh", "-c", `mount -t proc proc "$0/proc" && exec chroot --userspec=${NONROOT}:${NONROOT} "$0" "$@"`, root, ...argv];

    const port = freePort();
    const server = Bun.spawn(run([...entrypoint, "--port", String(port), "--replicaof", "127.0.0.1", String(master.port)]), { stdout: "ignore", stderr: "inherit" });
    cleanup.push(() => {
      server.kill("SIGKILL");
    });
    const c = await waitFor("the server in the image", async () => RespClient.connect(port).catch(() => null), 20000);
    cleanup.push(() => c.close());
    await waitFor("the sync", async () => parseInfo(await c.call("INFO", "replication")).master_link_status === "up", 20000);
    expect(await c.call("DBSIZE")).toBe(101);
    expect(await c.call("HGET", "h", "f")).toBe("v");
    expect(parseInfo(await c.call("INFO", "server")).executable).toBe(entrypoint[0]);

    // The HEALTHCHECK, in the image too, against the port this run listens on.
    const health = Bun.spawnSync(run([...healthcheck.map((a) => (a === "6379" ? String(port) : a))]), { timeout: 10000 });
    expect(health.exitCode).toBe(0);
    // ... and it fails once nothing answers there.
    const other = freePort();
    const sick = Bun.spawnSync(run([...healthcheck.map((a) => (a === "6379" ? String(other) : a))]), { timeout: 10000 });
    expect(sick.exitCode).not.toBe(0);

    await c.call("SHUTDOWN", "SAVE").catch(() => null);
    expect(await server.exited).toBe(0);
    const rdb = join(root, workdir.slice(1), "dump.rdb");
    expect(existsSync(rdb)).toBe(true);
    expect(Bun.spawnSync(["stat", "-c", "%u", rdb]).stdout.toString().trim()).toBe(String(NONROOT));
  });
}
