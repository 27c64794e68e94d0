// Seeded randomness for random workloads and model tests: a fixed default seed per test (derived
// from its name, printed), `$NAME` to repeat a run, RANDOM_SEEDS=1 to explore new seeds.

/** mulberry32: a small fast PRNG, uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of a random workload: `$name` if set; else a fixed seed derived from the name, so
 * the suite is deterministic (CI must not flake); RANDOM_SEEDS=1 draws fresh ones to explore.
 * Printed either way, for replay.
 */
export function seedFromEnv(name: string): number {
  const v = process.env[name];
  let seed: number;
  if (v) seed = Number(v);
  else if (process.env.RANDOM_SEEDS === "1") seed = Math.floor(Math.random() * 2 ** 31);
  else {
    let h = 2166136261;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
    seed = (h >>> 0) % 2 ** 31;
  }
  console.log(`${name}=${seed}`);
  return seed;
}

/** xorshift32 with helpers: uniform in [0, 1), an integer below n, an element of a list. */
export function xorshift(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}
