// Exposes the contract to the sandboxed renderer; nothing else crosses.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

contextBridge.exposeInMainWorld('lockstep', {
  door: 'electron',
  invoke: (name: string, input: unknown): Promise<unknown> => ipcRenderer.invoke('lockstep:invoke', name, input),
  onEvent: (listener: (e: unknown) => void): (() => void) => {
    const wrapped = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on('lockstep:event', wrapped);
    return () => ipcRenderer.removeListener('lockstep:event', wrapped);
  },
});
