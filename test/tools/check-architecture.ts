// The architecture check: the layers of docs/architecture.md as they are in the imports.
//
//   bun test/tools/check-architecture.ts [--json]
//
// Reports, over src/ (type imports included: a type is a dependency of the design too):
// - folder cycles: strongly connected components of the graph "folder A imports folder B";
// - exports that nothing imports (src/ or test/), and exported mutable bindings (`export let`);
// - the largest files.
// Exits 1 when there is a folder cycle, an exported `let`, or an unused export.

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

// Exports nobody imports: names exported by a src file and named nowhere else in src/ or test/.
const testFiles = walk(join(ROOT, "test"));
const benchDir = join(ROOT, "bench");
const others = [...testFiles, ...(statSync(benchDir, { throwIfNoEntry: false }) ? walk(benchDir) : []), join(ROOT, "build.ts")];
const everyText = [...texts.entries(), ...others.map((f) => [f, readFileSync(f, "utf8")] as [string, string])];
const unused: string[] = [];
const exportedLets: string[] = [];
for (const [file, text] of texts) {
  for (const m of text.matchAll(/^export\s+let\s+(\w+)/gm)) exportedLets.push(`${relative(ROOT, file)}: ${m[1]}`);
  for (const m of text.matchAll(/^export\s+(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum|const enum|abstract class)\s+(\w+)/gm)) {
    const name = m[1]!;
    const word = new RegExp(`\\b${name}\\b`);
    const usedElsewhere = everyText.some(([f, t]) => f !== file && word.test(t));
    if (!usedElsewhere) unused.push(`${relative(ROOT, file)}: ${name}`);
  }
}

const sizes = files.map((f) => [relative(ROOT, f), texts.get(f)!.split("\n").length] as const).sort((a, b) => b[1] - a[1]);

if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ cycles, edges: Object.fromEntries([...folderEdges].map(([k, v]) => [k, [...v].sort()])), unused, exportedLets, largest: sizes.slice(0, 10) }, null, 2));
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
  console.log(`Exports nothing else names: ${unused.length}`);
  for (const u of unused) console.log(`  ${u}`);
  console.log("Largest files:");
  for (const [f, n] of sizes.slice(0, 8)) console.log(`  ${String(n).padStart(5)} ${f}`);
}
process.exit(cycles.length || exportedLets.length || unused.length ? 1 : 0);
