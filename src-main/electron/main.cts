// The Electron shell: the ONLY place (with preload.cts) that imports `electron`.
// It hosts the same core as the other doors and forwards the contract over IPC.
import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface CoreLike {
  invoke(name: unknown, input: unknown): Promise<unknown>;
  onEvent(listener: (e: unknown) => void): () => void;
  onWindowEvents(listener: (e: unknown) => void): () => void;
  startBackground(): void;
  close(): Promise<void>;
  reportStray(s: { kind: StrayKind; error: unknown }): void;
}

type StrayKind = 'unhandled-rejection' | 'uncaught-exception';
interface GuardLike {
  strayError(kind: StrayKind, err: unknown): { message: string };
}

let core: CoreLike | undefined;
let guard: GuardLike | undefined;

// The process guard: a stray rejection or exception is logged as an event and the window stays
// (Electron's default shows a dialog or ends the main process mid-plan).
function stray(kind: StrayKind) {
  return (err: unknown) => {
    try {
      if (core && guard) core.reportStray({ kind, error: guard.strayError(kind, err) });
      else console.error(`error: ${kind}: ${err instanceof Error ? err.message : String(err)}`);
    } catch {
      // the reporter failed too (store closed): the app still lives
    }
  };
}
process.on('unhandledRejection', stray('unhandled-rejection'));
process.on('uncaughtException', stray('uncaught-exception'));

const rendererIndex = join(__dirname, '..', 'renderer', 'index.html');

async function loadCore(): Promise<CoreLike> {
  guard = (await import(pathToFileURL(join(__dirname, '..', 'main', 'app', 'process-guard.js')).href)) as GuardLike;
  const coreMod = (await import(pathToFileURL(join(__dirname, '..', 'main', 'app', 'core.js')).href)) as { Core: new (o: object) => CoreLike };
  const core = new coreMod.Core({ door: 'electron', electronUserData: app.getPath('userData') });
  core.startBackground();
  return core;
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    title: 'Lockstep Lab',
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  // No remote content: the window only ever shows the packaged renderer.
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  void win.loadFile(rendererIndex);
  return win;
}

void app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  const c = await loadCore();
  core = c;
  ipcMain.handle('lockstep:invoke', (event, name: unknown, input: unknown) => {
    const url = event.senderFrame?.url ?? '';
    if (!url.startsWith('file://')) return { ok: false, error: { code: 'forbidden', message: 'Request from an unexpected frame.' } };
    return c.invoke(name, input);
  });
  const win = createWindow();
  const off = c.onWindowEvents((e) => {
    if (!win.isDestroyed()) win.webContents.send('lockstep:event', e);
  });
  app.on('window-all-closed', () => {
    off();
    void c.close().then(() => app.quit());
  });
});
