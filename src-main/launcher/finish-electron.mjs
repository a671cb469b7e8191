// Nothing to rewrite today: tsc emits main.cjs / preload.cjs from the .cts sources.
// Kept as the hook where the shell's build checks its own invariants.
import { existsSync, readFileSync } from 'node:fs';
const dir = new URL('../../dist/electron/', import.meta.url);
for (const f of ['main.cjs', 'preload.cjs']) {
  if (!existsSync(new URL(f, dir))) throw new Error(`dist/electron/${f} missing after tsc`);
}
// Only the shell may import electron: fail the build if the core ever does.
const core = readFileSync(new URL('../main/app/core.js', dir), 'utf8');
if (/from ['"]electron['"]|require\(['"]electron['"]\)/.test(core)) throw new Error('the core imports electron');
