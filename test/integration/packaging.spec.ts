import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp.js';

const require = createRequire(import.meta.url);
const asar = require('@electron/asar') as { listPackage(p: string, o: object): string[] };
const tmp = tempDir('lockstep-pack-');
afterAll(() => tmp.remove());

/** Electron's binary cannot be downloaded here: a stub dist stands in for it (packaging only). */
function stubElectronDist(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'electron'), '#!/bin/sh\necho stub electron\n');
  chmodSync(join(dir, 'electron'), 0o755);
  writeFileSync(join(dir, 'version'), require('electron/package.json').version as string);
  writeFileSync(join(dir, 'LICENSE'), 'stub');
  writeFileSync(join(dir, 'LICENSES.chromium.html'), 'stub');
  mkdirSync(join(dir, 'resources'), { recursive: true });
}

describe('electron-builder --dir (offline, stub Electron dist)', () => {
  it('packs the app: core, shell, renderer in app.asar; only this platform’s native module unpacked', () => {
    const dist = join(tmp.path, 'electron-dist');
    stubElectronDist(dist);
    const out = join(tmp.path, 'out');
    const r = spawnSync(join(root, 'node_modules/.bin/electron-builder'), ['--dir', '--linux', `-c.electronDist=${dist}`, `-c.directories.output=${out}`], {
      cwd: root,
      encoding: 'utf8',
      timeout: 180_000,
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const resources = join(out, 'linux-unpacked', 'resources');
    const files = asar.listPackage(join(resources, 'app.asar'), { isPack: false });
    for (const f of [
      '/package.json',
      '/dist/main/app/core.js',
      '/dist/main/transports/server/web-server.js',
      '/dist/electron/main.cjs',
      '/dist/electron/preload.cjs',
      '/dist/renderer/index.html',
    ]) {
      expect(files, f).toContain(f);
    }
    expect(files.some((f) => f.includes('/test/'))).toBe(false);
    const prebuilds = join(resources, 'app.asar.unpacked/node_modules/better-sqlite3/prebuilds');
    expect(existsSync(prebuilds)).toBe(true);
    expect(readdirSync(prebuilds)).toEqual([`linux-${process.arch}.node`]);
  });
});
