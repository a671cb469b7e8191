import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const candidates = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'microsoft-edge'];

export function findBrowser(pathEnv = process.env.PATH ?? ''): string | undefined {
  for (const name of candidates) {
    for (const dir of pathEnv.split(delimiter)) {
      if (!dir) continue;
      const p = join(dir, name);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        // next
      }
    }
  }
  return undefined;
}

/** An app-style window with its own profile, no background traffic. */
export function browserAppArgs(url: string, profileDir: string): string[] {
  const args = [
    `--app=${url}`,
    `--user-data-dir=${profileDir}`,
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
  ];
  // as root Chromium needs --no-sandbox; --test-type hides its warning bar in the app window
  if (process.getuid?.() === 0) args.push('--no-sandbox', '--test-type');
  return args;
}
