/**
 * The process guard of web mode: `lockstep serve` with LOCKSTEP_TEST_FAULTS=stray throws a late
 * rejection (nobody awaits it) and an uncaught exception shortly after it starts. Without the guard
 * Node prints a stack trace and exits; with it, both become events and the server keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, stop } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp.js';

const home = tempDir();
let srv: Awaited<ReturnType<typeof startServer>>;
let exited: string | null = null;
let stderr = '';

beforeAll(async () => {
  srv = await startServer({ LOCKSTEP_HOME: home.path, LOCKSTEP_TEST_FAULTS: 'stray' });
  srv.child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
  srv.child.once('exit', (code, signal) => (exited = String(code ?? signal)));
});
afterAll(async () => {
  await stop(srv.child);
  home.remove();
});

function call(ws: WebSocket, id: number, cmd: string, input: unknown): Promise<{ ok: boolean; value?: unknown }> {
  return new Promise((resolve) => {
    const onMsg = (raw: WebSocket.RawData) => {
      const m = JSON.parse(String(raw)) as { id?: number; result?: { ok: boolean; value?: unknown } };
      if (m.id === id && m.result) {
        ws.off('message', onMsg);
        resolve(m.result);
      }
    };
    ws.on('message', onMsg);
    ws.send(JSON.stringify({ id, cmd, input }));
  });
}

describe('web mode: a stray rejection', () => {
  it('is logged as an event and the server goes on serving', async () => {
    // the faults fire 200 and 400 ms after start: wait well past them
    await new Promise((r) => setTimeout(r, 1500));
    expect(exited, `the server exited: ${stderr}`).toBeNull();
    expect(stderr).not.toMatch(/\n\s+at /);
    const index = await fetch(`${srv.url}/`);
    expect(index.status).toBe(200);
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api?token=${srv.token}`, { headers: { Origin: srv.url } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    expect(await call(ws, 1, 'app.info', {})).toMatchObject({ ok: true, value: { door: 'web' } });
    const events = (await call(ws, 2, 'events.list', { limit: 100 })).value as { level: string; message: string; data?: { code?: string; kind?: string } }[];
    const strays = events.filter((e) => e.data?.code === 'internal-stray');
    expect(strays.map((e) => e.data?.kind).sort()).toEqual(['uncaught-exception', 'unhandled-rejection']);
    for (const e of strays) {
      expect(e.level).toBe('error');
      expect(e.message).toMatch(/injected/);
    }
    ws.close();
  });
});
