/**
 * The ONLY file that knows which door the renderer talks through:
 * Electron's preload bridge (`window.lockstep`) or the local server's WebSocket.
 */
import type { AppEvent, CommandName, Input, Output, Result } from '../src-main/contract/index.js';

export interface Door {
  kind: 'electron' | 'web';
  invoke(name: string, input: unknown): Promise<unknown>;
  onEvent(listener: (e: AppEvent) => void): () => void;
  onConnection?(listener: (state: ConnectionState) => void): () => void;
  /** the WebSocket URL of a VM's screen (RFB) on the local server; absent: this door has none */
  displayUrl?(side: 'primary' | 'secondary'): string;
}

export type ConnectionState = 'connecting' | 'open' | 'closed' | 'unauthorized';

interface Bridge {
  door: 'electron';
  invoke(name: string, input: unknown): Promise<unknown>;
  onEvent(listener: (e: unknown) => void): () => void;
}

function electronDoor(): Door | null {
  const bridge = (globalThis as unknown as { lockstep?: Bridge }).lockstep;
  if (!bridge) return null;
  return { kind: 'electron', invoke: (n, i) => bridge.invoke(n, i), onEvent: (l) => bridge.onEvent((e) => l(e as AppEvent)) };
}

/** Reads the per-launch token from the URL fragment once, then keeps it for this tab only. */
function takeToken(): string {
  const m = /token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (m?.[1]) {
    sessionStorage.setItem('lockstep-token', m[1]);
    history.replaceState(null, '', location.pathname + location.search);
    return m[1];
  }
  return sessionStorage.getItem('lockstep-token') ?? '';
}

export function webDoor(url: string, token: string, WS: typeof WebSocket = WebSocket): Door {
  let ws: WebSocket | undefined;
  let nextId = 1;
  let retry = 250;
  let state: ConnectionState = 'connecting';
  const pending = new Map<number, (r: unknown) => void>();
  const queue: string[] = [];
  const eventListeners = new Set<(e: AppEvent) => void>();
  const connListeners = new Set<(s: ConnectionState) => void>();
  const setState = (s: ConnectionState) => {
    state = s;
    connListeners.forEach((l) => l(s));
  };
  const connect = () => {
    setState('connecting');
    const sock = new WS(`${url}?token=${encodeURIComponent(token)}`);
    ws = sock;
    let opened = false;
    sock.onopen = () => {
      opened = true;
      retry = 250;
      setState('open');
      while (queue.length) sock.send(queue.shift()!);
    };
    sock.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as { id?: number; result?: unknown; event?: AppEvent };
      if (msg.event) eventListeners.forEach((l) => l(msg.event!));
      else if (typeof msg.id === 'number') {
        pending.get(msg.id)?.(msg.result);
        pending.delete(msg.id);
      }
    };
    sock.onclose = () => {
      for (const [, resolve] of pending)
        resolve({
          ok: false,
          error: { code: 'disconnected', message: 'Lost the connection to the app.', fix: 'It reconnects by itself; if not, restart the app.' },
        });
      pending.clear();
      // a refused token and a stopped server both close the socket unopened: ask the server over HTTP which it is
      if (!opened && retry >= 4000)
        void fetch(url.replace(/^ws/, 'http'), { method: 'HEAD' }).then(
          () => setState('unauthorized'),
          () => setState('closed'),
        );
      else setState('closed');
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 8000);
    };
  };
  connect();
  return {
    kind: 'web',
    invoke(name, input) {
      const id = nextId++;
      const text = JSON.stringify({ id, cmd: name, input });
      return new Promise((resolve) => {
        pending.set(id, resolve);
        if (ws && ws.readyState === WS.OPEN) ws.send(text);
        else queue.push(text);
      });
    },
    onEvent(l) {
      eventListeners.add(l);
      return () => eventListeners.delete(l);
    },
    onConnection(l) {
      connListeners.add(l);
      l(state);
      return () => connListeners.delete(l);
    },
    displayUrl: (side) => `${url.replace(/\/api$/, '/vnc')}?side=${side}&token=${encodeURIComponent(token)}`,
  };
}

let door: Door | undefined;

export function setDoor(d: Door): void {
  door = d;
}

function getDoor(): Door {
  if (!door) {
    door = electronDoor() ?? webDoor(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`, takeToken());
  }
  return door;
}

export const api = {
  call<K extends CommandName>(name: K, input: Input<K>): Promise<Result<Output<K>>> {
    return getDoor().invoke(name, input) as Promise<Result<Output<K>>>;
  },
  onEvent(listener: (e: AppEvent) => void): () => void {
    return getDoor().onEvent(listener);
  },
  onConnection(listener: (s: ConnectionState) => void): () => void {
    const d = getDoor();
    if (d.onConnection) return d.onConnection(listener);
    listener('open');
    return () => {};
  },
  /** where a VM's graphical console is served (web mode's local server); null: not in this window */
  displayUrl(side: 'primary' | 'secondary'): string | null {
    return getDoor().displayUrl?.(side) ?? null;
  },
  get kind(): 'electron' | 'web' {
    return getDoor().kind;
  },
};
