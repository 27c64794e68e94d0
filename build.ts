// Compiles the whole server into one self-contained executable: dist/replicant.
// Host-only build (cross targets would download a runtime, which this workplace cannot).
import { $ } from "bun";

const outfile = "dist/replicant";
const started = performance.now();
await $`bun build --compile --minify --sourcemap --no-compile-autoload-dotenv --no-compile-autoload-bunfig src/main.ts --outfile ${outfile}`.quiet();
const size = Bun.file(outfile).size;
console.log(`built ${outfile} (${(size / 1e6).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
