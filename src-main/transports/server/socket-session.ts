import type { WebSocket } from 'ws';
import type { Core } from '../../app/core.js';

/**
 * One browser tab. Client → server: `{id, cmd, input}`; server → client:
 * `{id, result}` (the Result envelope) and `{event}` pushes.
 */
export function attachSocket(core: Core, ws: WebSocket): void {
  const off = core.onWindowEvents((event) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event }));
  });
  ws.on('close', off);
  // a frame over maxPayload, a reset connection: without a listener the 'error' event would end
  // the whole server (every other window with it); ws closes this socket itself (1009 "too big"
  // after sending the close frame, or 1006), so there is nothing more to do here
  ws.on('error', () => undefined);
  ws.on('message', async (raw, isBinary) => {
    let msg: unknown;
    try {
      if (isBinary) throw new Error('binary frame');
      msg = JSON.parse(String(raw));
    } catch {
      ws.send(
        JSON.stringify({
          id: null,
          result: { ok: false, error: { code: 'bad-request', message: 'Request is not JSON text.', fix: 'Send {"id":1,"cmd":"app.info","input":{}}' } },
        }),
      );
      return;
    }
    const m = (typeof msg === 'object' && msg !== null ? msg : {}) as { id?: unknown; cmd?: unknown; input?: unknown };
    const id = typeof m.id === 'number' || typeof m.id === 'string' ? m.id : null;
    const result = await core.invoke(m.cmd, m.input);
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, result }));
  });
}
