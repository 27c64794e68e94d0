// Run by `bun run test` before the suite: makes sure the real redis-server and redis-tools the
// integration tests talk to are installed (from Debian's packages), and fails loudly if not.

import { spawnSync } from "bun";
import { existsSync } from "node:fs";
import { join } from "node:path";

function have(cmd: string): boolean {
  return Bun.which(cmd) !== null;
}

const missing = ["redis-server", "redis-cli", "redis-benchmark"].filter((c) => !have(c));
if (missing.length) {
  console.log(`ensure-deps: ${missing.join(", ")} missing; installing redis-server and redis-tools from Debian's packages`);
  const asRoot = process.getuid?.() === 0 ? [] : ["sudo"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  let r = spawnSync([...asRoot, "apt-get", "install", "-y", "redis-server", "redis-tools"], { env, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) {
    // A fresh machine may have no package lists yet.
    spawnSync([...asRoot, "apt-get", "update"], { env, stdout: "inherit", stderr: "inherit" });
    r = spawnSync([...asRoot, "apt-get", "install", "-y", "redis-server", "redis-tools"], { env, stdout: "inherit", stderr: "inherit" });
  }
  const still = ["redis-server", "redis-cli", "redis-benchmark"].filter((c) => !have(c));
  if (r.exitCode !== 0 || still.length) {
    console.error(`ensure-deps: FAILED to install ${still.join(", ")} (apt-get exit ${r.exitCode}). The tests need a real redis-server.`);
    process.exit(1);
  }
}
// Redis's own test suite (test/redis-suite/, when ../shared/redis-tests is beside the clone)
// runs on tclsh: Debian's tcl package.
if (existsSync(join(import.meta.dir, "../../shared/redis-tests/run-suites.sh")) && !have("tclsh")) {
  console.log("ensure-deps: tclsh missing; installing tcl from Debian's packages (for Redis's own test suite)");
  const asRoot = process.getuid?.() === 0 ? [] : ["sudo"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  let r = spawnSync([...asRoot, "apt-get", "install", "-y", "tcl"], { env, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) {
    spawnSync([...asRoot, "apt-get", "update"], { env, stdout: "inherit", stderr: "inherit" });
    r = spawnSync([...asRoot, "apt-get", "install", "-y", "tcl"], { env, stdout: "inherit", stderr: "inherit" });
  }
  if (!have("tclsh")) console.log("ensure-deps: tcl could not be installed; Redis's own suite will be skipped");
}
// Debian starts a redis-server service on 6379 when systemd runs; tests use their own ports.
const v = spawnSync(["redis-server", "--version"]).stdout.toString().trim();
console.log(`ensure-deps: ${v}`);
