// The import graph of src-main (and the renderer's size rule): which folder imports which.
// Pure over the files' text; used by test/unit/import-graph.spec.ts and runnable by hand:
//   node test/architecture/import-graph.mjs    prints the folder edges, cycles and rule breaks
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export function filesUnder(dir, exts) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, exts));
    else if (exts.some((e) => name.endsWith(e))) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** folder → set of folders it imports (relative imports inside src-main only). */
export function folderEdges(srcMain) {
  const edges = new Map();
  const fileEdges = [];
  for (const f of filesUnder(srcMain, ['.ts', '.cts', '.mts'])) {
    const from = relative(srcMain, dirname(f)).split('/')[0] || '.';
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      const target = resolve(dirname(f), spec);
      const rel = relative(srcMain, target);
      if (rel.startsWith('..')) continue;
      const to = rel.split('/')[0];
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from).add(to);
      fileEdges.push({ file: relative(srcMain, f), from, to });
    }
  }
  return { edges, fileEdges };
}

/** Every pair of folders that import each other directly or through others (strongly connected). */
export function cycles(edges) {
  const nodes = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((s) => [...s])])];
  const reach = (a) => {
    const seen = new Set();
    const stack = [...(edges.get(a) ?? [])];
    while (stack.length) {
      const n = stack.pop();
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...(edges.get(n) ?? []));
    }
    return seen;
  };
  const r = new Map(nodes.map((n) => [n, reach(n)]));
  const out = [];
  for (const a of nodes) for (const b of nodes) if (a < b && r.get(a).has(b) && r.get(b).has(a)) out.push(`${a} ⇄ ${b}`);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
  const { edges } = folderEdges(join(root, 'src-main'));
  for (const [a, s] of [...edges].sort()) console.log(`${a} → ${[...s].sort().join(', ')}`);
  console.log('cycles:', cycles(edges));
}
