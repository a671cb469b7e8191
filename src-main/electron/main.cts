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
}

const rendererIndex = join(__dirname, '..', 'renderer', 'index.html');

async function loadCore(): Promise<CoreLike> {
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
  const core = await loadCore();
  ipcMain.handle('lockstep:invoke', (event, name: unknown, input: unknown) => {
    const url = event.senderFrame?.url ?? '';
    if (!url.startsWith('file://')) return { ok: false, error: { code: 'forbidden', message: 'Request from an unexpected frame.' } };
    return core.invoke(name, input);
  });
  const win = createWindow();
  const off = core.onWindowEvents((e) => {
    if (!win.isDestroyed()) win.webContents.send('lockstep:event', e);
  });
  app.on('window-all-closed', () => {
    off();
    void core.close().then(() => app.quit());
  });
});
