// `npm start`: build if needed, then open the app — Electron when its binary is
// present, otherwise web mode in a Chromium --app window (or print the URL).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`error: Lockstep Lab needs Node 22 or newer (this is ${process.versions.node}).\nfix:   bash .ci/setup`);
  process.exit(2);
}

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const stamp = join(root, 'dist', '.built');
const sourcesAt = Math.max(newest(join(root, 'src-main')), newest(join(root, 'src-renderer')), newest(join(root, 'native')));
if (!existsSync(stamp) || statSync(stamp).mtimeMs < sourcesAt) {
  console.log('Building Lockstep Lab…');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const electronBin = join(root, 'node_modules', 'electron', 'dist', 'electron');
const args = process.argv.slice(2);
const child =
  existsSync(electronBin) && !args.includes('--web')
    ? spawn(electronBin, [root, ...args.filter((a) => a !== '--web')], { stdio: 'inherit' })
    : spawn(process.execPath, [join(root, 'dist/main/transports/cli/bin.js'), 'serve', ...args.filter((a) => a !== '--web')], { stdio: 'inherit' });
if (!existsSync(electronBin)) console.log('Electron binary not present: running in web mode (same renderer, same API).');
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
