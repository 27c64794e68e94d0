// The architecture check: the layers of docs/architecture.md as they are in the imports.
//
//   bun test/tools/check-architecture.ts [--json]
//
// Reports, over src/ (type imports included: a type is a dependency of the design too):
// - folder cycles: strongly connected components of the graph "folder A imports folder B";
// - exports that no other file imports (src/, test/, bench/, build.ts; read from the import
//   statements, so a name merely mentioned elsewhere is not a use), and exported mutable
//   bindings (`export let`); imports it cannot resolve to names are listed, and an export form
//   it cannot read stops it with an error;
// - what the change feed (src/feed-cli.ts, src/feed/) runs: a tool beside the server, it must not
//   reach the server's code at run time (value imports followed transitively; `import type`
//   erased): see FEED_OUT_OF_BOUNDS;
// - the largest files.
// Exits 1 when there is a folder cycle, an exported `let`, an unused export, or the feed
// reaches the server.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const SRC = join(ROOT, "src");

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** A file's relative imports, resolved to absolute paths (both `import` and `export ... from`). */
function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const spec = m[1] ?? m[2]!;
    out.push(resolve(dirname(file), spec));
  }
  return out;
}

/** The layer a file belongs to: its first folder under src/ ("." for src/ itself). */
function folderOf(file: string): string {
  const rel = relative(SRC, file);
  const i = rel.indexOf("/");
  return i < 0 ? "." : rel.slice(0, i);
}

/** Tarjan's strongly connected components. */
function components(nodes: string[], edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return out;
}

const files = walk(SRC);
const texts = new Map(files.map((f) => [f, readFileSync(f, "utf8")]));
const folderEdges = new Map<string, Set<string>>();
const edgeWhy = new Map<string, string[]>();
for (const [file, text] of texts) {
  const from = folderOf(file);
  for (const target of importsOf(file, text)) {
    if (!target.startsWith(SRC)) continue;
    const to = folderOf(target.endsWith(".ts") || target.endsWith(".json") ? target : `${target}.ts`);
    if (to === from) continue;
    if (!folderEdges.has(from)) folderEdges.set(from, new Set());
    folderEdges.get(from)!.add(to);
    const key = `${from} -> ${to}`;
    if (!edgeWhy.has(key)) edgeWhy.set(key, []);
    edgeWhy.get(key)!.push(`${relative(ROOT, file)} -> ${relative(ROOT, target)}`);
  }
}
const folders = [...new Set(files.map(folderOf))].sort();
const cycles = components(folders, folderEdges);

// Exports nobody imports: a name a src file exports that no other file (src/, test/, bench/,
// build.ts) imports from it. Uses are read from the import statements, not from text that
// happens to contain the name; what cannot be resolved to names (a namespace object passed
// around, `export *`, a dynamic import not destructured) is listed, never silently accepted.
const testFiles = walk(join(ROOT, "test"));
const benchDir = join(ROOT, "bench");
const others = [...testFiles, ...(statSync(benchDir, { throwIfNoEntry: false }) ? walk(benchDir) : []), join(ROOT, "build.ts")];
const everyText = new Map<string, string>([...texts, ...others.map((f) => [f, readFileSync(f, "utf8")] as [string, string])]);

/** A module specifier resolved to a file (".ts" added when absent, as Bun resolves it). */
function resolveSpec(from: string, spec: string): string {
  const p = resolve(dirname(from), spec);
  return /\.(ts|tsx|json)$/.test(p) ? p : `${p}.ts`;
}

/** Names in `{ a, b as c, type d }`: [imported or local name, name on the other side]. */
function specifierList(list: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of list.split(",")) {
    const item = raw.replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "").trim().replace(/^type\s+/, "");
    if (!item) continue;
    const m = /^(\w+)(?:\s+as\s+(\w+))?$/.exec(item);
    if (!m) throw new Error(`check-architecture: cannot read the import/export specifier ${JSON.stringify(item)}`);
    out.push([m[1]!, m[2] ?? m[1]!]);
  }
  return out;
}

/** The text without comments and string literals (where a module's name is only a word). */
function codeOnly(text: string): string {
  return text.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`/g, "");
}

/** What each src file exports: name -> its line (1-based). */
const exported = new Map<string, Map<string, number>>();
const lineAt = (text: string, index: number) => text.slice(0, index).split("\n").length;
for (const [file, text] of texts) {
  const names = new Map<string, number>();
  exported.set(file, names);
  const declRe = /^export\s+(?:declare\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?|const\s+enum|const|let|var|abstract\s+class|class|interface|type|enum|namespace)\s+(\w+)/gm;
  for (const m of text.matchAll(declRe)) names.set(m[1]!, lineAt(text, m.index!));
  for (const m of text.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) for (const [, as] of specifierList(m[1]!)) names.set(as, lineAt(text, m.index!));
  for (const m of text.matchAll(/^export\s+default\s+(?!(?:async\s+)?(?:function|class)\b)/gm)) names.set("default", lineAt(text, m.index!));
  // Any other `export` at the start of a line is a form this check does not read: say so.
  for (const m of text.matchAll(/^export\b.*$/gm)) {
    if (!/^export\s+(?:declare\s+|default\s+)?(?:async\s+)?(?:function\*?|const|let|var|abstract\s+class|class|interface|type|enum|namespace)\b|^export\s+(?:type\s+)?\{|^export\s+\*|^export\s+default\b/.test(m[0])) {
      throw new Error(`check-architecture: ${relative(ROOT, file)}:${lineAt(text, m.index!)}: an export form it cannot read: ${m[0]}`);
    }
  }
}

/** Names some other file imports from each src file; and the uses that name nothing. */
const imported = new Map<string, Set<string>>();
const unresolved: string[] = [];
const use = (target: string, name: string) => {
  if (!imported.has(target)) imported.set(target, new Set());
  imported.get(target)!.add(name);
};
const useAll = (target: string, why: string) => {
  if (!exported.has(target)) return;
  unresolved.push(`${relative(ROOT, target)}: every export counted as used (${why})`);
  for (const name of exported.get(target)!.keys()) use(target, name);
};
for (const [file, text] of everyText) {
  const where = relative(ROOT, file);
  // import d, { a, b as c } from "./x"; import * as ns from "./x"; import type { T } from "./x"
  const importRe = /(?:^|\n)\s*import\s+(?:type\s+)?([^;]*?)\s+from\s+["'](\.[^"']+)["']/g;
  for (const m of text.matchAll(importRe)) {
    const target = resolveSpec(file, m[2]!);
    if (!exported.has(target)) continue;
    let clause = m[1]!.trim();
    const braces = /\{([^}]*)\}/.exec(clause);
    if (braces) {
      for (const [name] of specifierList(braces[1]!)) use(target, name);
      clause = clause.replace(braces[0], "");
    }
    const ns = /\*\s+as\s+(\w+)/.exec(clause);
    if (ns) {
      clause = clause.replace(ns[0], "");
      // Members named on the namespace; passing the object itself names nothing.
      for (const u of text.matchAll(new RegExp(`\\b${ns[1]}\\.(\\w+)`, "g"))) use(target, u[1]!);
      if (new RegExp(`\\b${ns[1]}\\b(?!\\.\\w)`).test(codeOnly(text.replace(m[0], "")))) useAll(target, `${where} uses the namespace ${ns[1]} as a value`);
    }
    if (/\w/.test(clause.replace(/,/g, ""))) use(target, "default");
  }
  // export { a, b as c } from "./x"; export * from "./x"
  for (const m of text.matchAll(/(?:^|\n)\s*export\s+(?:type\s+)?\{([^}]*)\}\s*from\s+["'](\.[^"']+)["']/g)) {
    const target = resolveSpec(file, m[2]!);
    for (const [name] of specifierList(m[1]!)) use(target, name);
  }
  for (const m of text.matchAll(/(?:^|\n)\s*export\s+\*\s*(?:as\s+\w+\s+)?from\s+["'](\.[^"']+)["']/g)) useAll(resolveSpec(file, m[1]!), `export * in ${where}`);
  // import("./x"): destructured, or a member of it; else every export.
  for (const m of text.matchAll(/import\(\s*["'](\.[^"']+)["']\s*\)/g)) {
    const target = resolveSpec(file, m[1]!);
    if (!exported.has(target)) continue;
    const before = text.slice(Math.max(0, m.index! - 200), m.index!);
    const after = text.slice(m.index! + m[0].length, m.index! + m[0].length + 40);
    const destructured = /\{([^}]*)\}\s*=\s*(?:await\s+)?$/.exec(before);
    const member = /^\)?\.(\w+)/.exec(after);
    if (destructured) for (const [name] of specifierList(destructured[1]!.replace(/:\s*\w+/g, ""))) use(target, name);
    else if (member) use(target, member[1]!);
    else useAll(target, `a dynamic import in ${where}`);
  }
}

const unused: string[] = [];
const exportedLets: string[] = [];
for (const [file, text] of texts) {
  for (const m of text.matchAll(/^export\s+let\s+(\w+)/gm)) exportedLets.push(`${relative(ROOT, file)}: ${m[1]}`);
  const used = imported.get(file);
  for (const [name, line] of exported.get(file)!) if (!used?.has(name)) unused.push(`${relative(ROOT, file)}:${line}: ${name}`);
}

// The change feed reads the master's stream and RDB with the shared layers (protocol, rdb,
// store, common) and finds keys with core's pure key-spec reader and Redis's command metadata;
// nothing that holds or serves a dataset (server, commands, dataset, replication other than the
// EOF-mark detector, the rest of core).
const FEED_OUT_OF_BOUNDS = [/^server\//, /^commands\//, /^dataset\//, /^scripting\//, /^replication\/(?!eof-mark\.ts$)/, /^core\/(?!command-keys\.ts$|redis-command-table(-newer)?\.json$)/];

/** Relative imports that are values at run time (not `import type`, not only `type` names). */
function valueImportsOf(file: string, text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s+["'](\.[^"']+)["']/g;
  for (const m of text.matchAll(re)) {
    if (m[2]) continue;
    const braces = /^\{([^}]*)\}$/.exec(m[3]!.trim());
    if (braces && braces[1]!.split(",").every((x) => !x.trim() || /^type\s/.test(x.trim()))) continue;
    out.push(resolveSpec(file, m[4]!));
  }
  return out;
}

const feedRoots = files.filter((f) => relative(SRC, f) === "feed-cli.ts" || relative(SRC, f).startsWith("feed/"));
const feedReach = new Map<string, string>();
const feedQueue = [...feedRoots];
for (const f of feedRoots) feedReach.set(f, relative(ROOT, f));
while (feedQueue.length) {
  const f = feedQueue.pop()!;
  const text = texts.get(f);
  if (text === undefined) continue;
  for (const t of valueImportsOf(f, text)) {
    if (feedReach.has(t)) continue;
    feedReach.set(t, `${feedReach.get(f)} -> ${relative(ROOT, t)}`);
    feedQueue.push(t);
  }
}
const feedViolations = [...feedReach].filter(([f]) => FEED_OUT_OF_BOUNDS.some((re) => re.test(relative(SRC, f)))).map(([, path]) => path);

const sizes = files.map((f) => [relative(ROOT, f), texts.get(f)!.split("\n").length] as const).sort((a, b) => b[1] - a[1]);

if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ cycles, edges: Object.fromEntries([...folderEdges].map(([k, v]) => [k, [...v].sort()])), unused, unresolved, exportedLets, feedViolations, largest: sizes.slice(0, 10) }, null, 2));
} else {
  console.log("Folder imports:");
  for (const f of folders) console.log(`  ${f.padEnd(12)} -> ${[...(folderEdges.get(f) ?? [])].sort().join(", ")}`);
  console.log(cycles.length ? `Folder cycles (${cycles.length}):` : "No folder cycle.");
  for (const c of cycles) {
    console.log(`  ${c.join(" <-> ")}`);
    for (const a of c) for (const b of c) if (edgeWhy.has(`${a} -> ${b}`)) console.log(`    ${a} -> ${b}: ${edgeWhy.get(`${a} -> ${b}`)!.length} imports, e.g. ${edgeWhy.get(`${a} -> ${b}`)![0]}`);
  }
  console.log(`Exported mutable bindings: ${exportedLets.length}`);
  for (const l of exportedLets) console.log(`  ${l}`);
  console.log(feedViolations.length ? `The feed reaches the server (${feedViolations.length}):` : "The feed reaches no server code.");
  for (const v of feedViolations) console.log(`  ${v}`);
  console.log(`Exports no other file imports: ${unused.length}`);
  for (const u of unused) console.log(`  ${u}`);
  if (unresolved.length) console.log(`Imports that name no export (every export of the module counted as used): ${unresolved.length}`);
  for (const u of unresolved) console.log(`  ${u}`);
  console.log("Largest files:");
  for (const [f, n] of sizes.slice(0, 8)) console.log(`  ${String(n).padStart(5)} ${f}`);
}
process.exit(cycles.length || exportedLets.length || unused.length || feedViolations.length ? 1 : 0);
