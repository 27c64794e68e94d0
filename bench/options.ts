// The benchmarks' command-line options: `--name value` and `--flag`.

const args = process.argv.slice(2);

/** The value of `--name` (the last one given: a child process gets its own after the parent's). */
export function opt(name: string, def: string): string {
  const i = args.lastIndexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
}

/** Whether `--name` was given. */
export function flag(name: string): boolean {
  return args.includes(`--${name}`);
}
