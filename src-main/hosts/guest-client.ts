/**
 * A client of the demo guest, as a visitor sees it: one GET of the counter, or the
 * long-lived TCP stream read line by line. Used by the downtime meter, the lab's client
 * probe and the booth's counter; never throws.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

/** connectMs: how long the TCP connect took (absent: it never connected) */
export type CounterAnswer = { ok: true; count: number; boot: string; host: string; connectMs?: number } | { ok: false; error: string; connectMs?: number };

export function getCounter(address: string, opts: { port?: number; path?: string; timeoutMs?: number } = {}): Promise<CounterAnswer> {
  const t0 = Date.now();
  let connectMs: number | undefined;
  return new Promise<CounterAnswer>((resolve) => {
    const req = request(
      { host: address, port: opts.port ?? 80, path: opts.path ?? '/', agent: false, timeout: opts.timeoutMs ?? 1000, headers: { connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d.slice(0, 4096)));
        res.on('end', () => {
          try {
            const j = JSON.parse(body) as { count?: unknown; boot?: unknown; host?: unknown };
            if (res.statusCode !== 200 || typeof j.count !== 'number') resolve({ ok: false, error: `bad answer (HTTP ${res.statusCode})` });
            else resolve({ ok: true, count: j.count, boot: String(j.boot), host: String(j.host) });
          } catch {
            resolve({ ok: false, error: 'not JSON' });
          }
        });
        res.on('error', (e) => resolve({ ok: false, error: e.message }));
      },
    );
    req.on('socket', (sock) => sock.once('connect', () => (connectMs = Date.now() - t0)));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ ok: false, error: e.message }));
    req.end();
  }).then((a) => (connectMs === undefined ? a : { ...a, connectMs }));
}

/** Holds the guest's TCP stream; `onLine` gets each complete line; `ended` resolves with why it ended. */
export function followStream(address: string, port: number, onLine: (line: string) => void): { socket: Socket; ended: Promise<string> } {
  const socket = connect({ host: address, port });
  socket.setEncoding('utf8');
  let buf = '';
  socket.on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  const ended = new Promise<string>((resolve) => {
    socket.on('error', (e) => resolve(e.message));
    socket.on('close', () => resolve('closed by the guest'));
  });
  return { socket, ended };
}
