// Run by `bun run test` before the suite: makes sure the real redis-server and redis-tools the
// integration tests talk to are installed (from Debian's packages), and fails loudly if not;
// with ../shared/redis-tests beside the clone, also tclsh for Redis's own test suite.

import { spawnSync } from "bun";
import { existsSync } from "node:fs";
import { join } from "node:path";

function have(cmd: string): boolean {
  return Bun.which(cmd) !== null;
}

/** apt-get install, after an apt-get update if the first try fails (a fresh machine may have no package lists). */
function aptInstall(packages: string[]): number {
  const asRoot = process.getuid?.() === 0 ? [] : ["sudo"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => spawnSync([...asRoot, "apt-get", "install", "-y", ...packages], { env, stdout: "inherit", stderr: "inherit" }).exitCode;
  let code = install();
  if (code !== 0) {
    spawnSync([...asRoot, "apt-get", "update"], { env, stdout: "inherit", stderr: "inherit" });
    code = install();
  }
  return code;
}

const REDIS_TOOLS = ["redis-server", "redis-cli", "redis-benchmark"];
if (REDIS_TOOLS.some((c) => !have(c))) {
  console.log(`ensure-deps: ${REDIS_TOOLS.filter((c) => !have(c)).join(", ")} missing; installing redis-server and redis-tools from Debian's packages`);
  const code = aptInstall(["redis-server", "redis-tools"]);
  const still = REDIS_TOOLS.filter((c) => !have(c));
  if (code !== 0 || still.length) {
    console.error(`ensure-deps: FAILED to install ${still.join(", ")} (apt-get exit ${code}). The tests need a real redis-server.`);
    process.exit(1);
  }
}
// Redis's own test suite (test/redis-suite/, when ../shared/redis-tests is beside the clone)
// runs on tclsh: Debian's tcl package.
if (existsSync(join(import.meta.dir, "../../shared/redis-tests/run-suites.sh")) && !have("tclsh")) {
  console.log("ensure-deps: tclsh missing; installing tcl from Debian's packages (for Redis's own test suite)");
  aptInstall(["tcl"]);
  if (!have("tclsh")) console.log("ensure-deps: tcl could not be installed; Redis's own suite will be skipped");
}
// Debian starts a redis-server service on 6379 when systemd runs; tests use their own ports.
const v = spawnSync(["redis-server", "--version"]).stdout.toString().trim();
console.log(`ensure-deps: ${v}`);
