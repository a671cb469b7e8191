import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, stop } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp.js';

const home = tempDir();
let srv: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  srv = await startServer({ LOCKSTEP_HOME: home.path });
});
afterAll(async () => {
  await stop(srv.child);
  home.remove();
});

function tryOpen(url: string, headers: Record<string, string> = {}): Promise<{ opened: true; ws: WebSocket } | { opened: false; status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ opened: true, ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode ?? 0 }));
    ws.once('error', () => resolve({ opened: false, status: 0 }));
  });
}

function request(
  ws: WebSocket,
  msg: unknown,
): Promise<{ id: unknown; result: { ok: boolean; value?: unknown; error?: { code: string; message: string; fix?: string } } }> {
  return new Promise((resolve) => {
    const onMsg = (raw: WebSocket.RawData) => {
      const m = JSON.parse(String(raw)) as { id?: unknown; result?: never };
      if ('result' in m) {
        ws.off('message', onMsg);
        resolve(m as never);
      }
    };
    ws.on('message', onMsg);
    ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  });
}

describe('web mode server', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a WebSocket without the token, with a wrong token, or from a foreign Origin', async () => {
    expect(await tryOpen(`ws://127.0.0.1:${srv.port}/api`)).toEqual({ opened: false, status: 401 });
    expect(await tryOpen(`ws://127.0.0.1:${srv.port}/api?token=wrong`)).toEqual({ opened: false, status: 401 });
    expect(await tryOpen(`ws://127.0.0.1:${srv.port}/api?token=${srv.token}`, { Origin: 'http://evil.example' })).toEqual({ opened: false, status: 403 });
    expect(await tryOpen(`ws://127.0.0.1:${srv.port}/api?token=${srv.token}`, { Host: 'attacker.example' })).toEqual({ opened: false, status: 421 });
  });

  it('guards a VM’s screen (/vnc) like the API: token, Origin, Host; a bad side is refused before any upgrade', async () => {
    const vnc = `ws://127.0.0.1:${srv.port}/vnc?side=primary`;
    expect(await tryOpen(vnc)).toEqual({ opened: false, status: 401 });
    expect(await tryOpen(`${vnc}&token=wrong`)).toEqual({ opened: false, status: 401 });
    expect(await tryOpen(`${vnc}&token=${srv.token}`, { Origin: 'http://evil.example' })).toEqual({ opened: false, status: 403 });
    expect(await tryOpen(`${vnc}&token=${srv.token}`, { Host: 'attacker.example' })).toEqual({ opened: false, status: 421 });
    expect(await tryOpen(`ws://127.0.0.1:${srv.port}/vnc?side=third&token=${srv.token}`)).toEqual({ opened: false, status: 400 });
    // with the token and nothing protected: the socket opens and closes at once, saying why
    const ok = await tryOpen(`${vnc}&token=${srv.token}`);
    expect(ok.opened).toBe(true);
    if (!ok.opened) return;
    const closed = await new Promise<{ code: number; reason: string }>((r) => ok.ws.once('close', (code, reason) => r({ code, reason: String(reason) })));
    expect(closed.code).toBe(4404);
    expect(closed.reason).toMatch(/No guest is running|no screen|No protected guest/);
  });

  it('serves the renderer with a CSP and refuses path traversal', async () => {
    const index = await fetch(`${srv.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await index.text()).toContain('<div id="app">');
    const trav = await fetch(`${srv.url}/..%2f..%2fpackage.json`);
    expect(trav.status).toBe(404);
  });

  it('answers commands with the token, and pushes events', async () => {
    const o = await tryOpen(`ws://127.0.0.1:${srv.port}/api?token=${srv.token}`, { Origin: srv.url });
    expect(o.opened).toBe(true);
    if (!o.opened) return;
    const ws = o.ws;
    const info = await request(ws, { id: 1, cmd: 'app.info', input: {} });
    expect(info).toMatchObject({ id: 1, result: { ok: true, value: { door: 'web' } } });
    const pushed = new Promise<unknown>((resolve) =>
      ws.on('message', (raw) => {
        const m = JSON.parse(String(raw)) as { event?: { type: string; record?: { message: string } } };
        if (m.event?.type === 'event-logged' && m.event.record?.message === 'over the socket') resolve(m.event);
      }),
    );
    await request(ws, { id: 2, cmd: 'events.note', input: { message: 'over the socket' } });
    await expect(pushed).resolves.toBeTruthy();
    ws.close();
  });

  it('malformed requests get a clear error and change nothing', async () => {
    const o = await tryOpen(`ws://127.0.0.1:${srv.port}/api?token=${srv.token}`);
    if (!o.opened) throw new Error('should open');
    const ws = o.ws;
    const before = await request(ws, { id: 0, cmd: 'events.list', input: { limit: 1000 } });
    expect((await request(ws, 'not json')).result.error?.code).toBe('bad-request');
    expect((await request(ws, { id: 3, cmd: 'drop.tables', input: {} })).result.error?.code).toBe('unknown-command');
    expect((await request(ws, { id: 4, cmd: 'events.note', input: { message: 42 } })).result.error?.code).toBe('bad-request');
    expect((await request(ws, { id: 5, cmd: 'events.note', input: { message: 'x', extra: '<script>' } })).result.error?.code).toBe('bad-request');
    expect((await request(ws, [1, 2, 3])).result.error?.code).toBe('unknown-command');
    const after = await request(ws, { id: 6, cmd: 'events.list', input: { limit: 1000 } });
    expect(after.result.value).toEqual(before.result.value);
    ws.close();
  });
});
