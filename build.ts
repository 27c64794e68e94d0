// Compiles the whole server into one self-contained executable.
//
//   bun run build                 dist/replicant for this machine (what the tests run), with a
//                                 source map beside it for readable stack traces
//   bun run build:release         every Linux target Bun supports: dist/replicant-linux-x64,
//                                 -x64-baseline (CPUs without AVX2), -arm64, and -musl variants
//                                 (Alpine), plus SHA256SUMS; no source maps (--sourcemap adds them)
//   bun build.ts --release --target linux-arm64   one release target
//
// Cross targets need Bun's runtime for that target, which `bun build` fetches from the npm
// registry the first time.
import { $ } from "bun";
import { mkdirSync, writeFileSync } from "node:fs";

const RELEASE_TARGETS = ["linux-x64", "linux-x64-baseline", "linux-arm64", "linux-x64-musl", "linux-arm64-musl"];
// --bytecode: the sources ship precompiled to JSC bytecode, so a start does not parse ~2 MB of
// JavaScript first (measured: `replicant --version` 0.13 s -> 0.05 s; a replica's full sync
// starts that much sooner). ESM keeps main.ts's top-level await.
const FLAGS = ["--compile", "--minify", "--bytecode", "--format=esm", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig"];

const args = process.argv.slice(2);
const release = args.includes("--release");
const sourcemap = args.includes("--sourcemap") || !release;
const only = args.indexOf("--target") >= 0 ? [args[args.indexOf("--target") + 1]!] : null;

async function compile(outfile: string, target: string | null): Promise<void> {
  const started = performance.now();
  const extra = [...(sourcemap ? ["--sourcemap"] : []), ...(target ? [`--target=bun-${target}`] : [])];
  await $`bun build ${FLAGS} ${extra} src/main.ts --outfile ${outfile}`.quiet();
  const size = Bun.file(outfile).size;
  console.log(`built ${outfile} (${(size / 1e6).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

mkdirSync("dist", { recursive: true });
if (!release) {
  await compile("dist/replicant", null);
} else {
  const sums: string[] = [];
  for (const target of only ?? RELEASE_TARGETS) {
    const name = `replicant-${target}`;
    await compile(`dist/${name}`, target);
    const hash = new Bun.CryptoHasher("sha256").update(await Bun.file(`dist/${name}`).arrayBuffer()).digest("hex");
    sums.push(`${hash}  ${name}`);
  }
  writeFileSync("dist/SHA256SUMS", `${sums.join("\n")}\n`);
  console.log(`wrote dist/SHA256SUMS (${sums.length} files)`);
}
