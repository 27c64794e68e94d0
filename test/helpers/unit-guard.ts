// Preloaded by `bun run test:unit`: unit tests (files named *.unit.test.ts) start no process and
// open no connection, so that they run in seconds on any machine, with no redis-server and no
// build. One that tries fails here at once: it belongs in the full suite (name it *.test.ts).

for (const name of ["spawn", "spawnSync", "connect", "listen"] as const) {
  (Bun as unknown as Record<string, unknown>)[name] = () => {
    throw new Error(`Bun.${name} in a unit test (*.unit.test.ts): unit tests start no server and open no socket; make it a plain *.test.ts`);
  };
}
