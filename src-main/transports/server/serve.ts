import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Core } from '../../app/core.js';
import { findBrowser, browserAppArgs } from './browser.js';
import { startWebServer } from './web-server.js';
import { injectTestFaults, installProcessGuard } from '../../app/process-guard.js';

export const rendererDir = fileURLToPath(new URL('../../../renderer', import.meta.url));

/** `lockstep serve`: web mode, optionally opened in a Chromium --app window. Runs until signalled. */
export async function serveWebMode(opts: { port?: number; open: boolean }): Promise<number> {
  if (!existsSync(join(rendererDir, 'index.html'))) {
    console.error(`error: the renderer is not built (${rendererDir}/index.html missing).\nfix:   npm run build`);
    return 1;
  }
  const core = new Core({ door: 'web' });
  // a stray rejection must not take the app (and every plan it runs) down: it becomes an event
  const unguard = installProcessGuard((s) => {
    console.error(`error: ${s.error.message}`);
    core.reportStray(s);
  });
  core.startBackground();
  const server = await startWebServer(core, { staticDir: rendererDir, port: opts.port });
  core.bus.log('info', 'app', `Web mode listening on ${server.url}`);
  console.log(`Lockstep Lab is running in web mode.\nOpen: ${server.appUrl}`);
  console.log(`LOCKSTEP_URL=${server.appUrl}`);
  injectTestFaults();
  let browser: ReturnType<typeof spawn> | undefined;
  if (opts.open) {
    const exe = findBrowser();
    const display = process.env.DISPLAY || process.env.WAYLAND_DISPLAY;
    if (exe && display) {
      browser = spawn(exe, browserAppArgs(server.appUrl, join(core.home, 'browser-profile')), { stdio: 'ignore', detached: false });
      browser.on('exit', () => {
        console.log('The app window was closed; stopping.');
        process.kill(process.pid, 'SIGTERM');
      });
      console.log(`Opened an app window with ${exe}.`);
    } else {
      console.log(
        exe
          ? 'No display found (DISPLAY/WAYLAND_DISPLAY unset): open the URL above in a browser.'
          : 'No Chromium/Chrome found: open the URL above in a browser.',
      );
    }
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  browser?.kill();
  await server.close();
  await core.runner.idle();
  await core.close();
  unguard();
  return 0;
}
