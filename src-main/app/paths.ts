import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json (works from src-main/ under vitest and from dist/main/). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the project root (package.json + native/)');
}

export const nativeDir = (): string => join(projectRoot(), 'native');
export const distDir = (): string => join(projectRoot(), 'dist');
