import { request } from 'node:http';

/** One GET of the guest's counter; never throws. */
export function probeHttpOnce(address: string, timeoutMs: number): Promise<{ ok: true; count: number } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: address, port: 80, path: '/', agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          const j = JSON.parse(body) as { count?: unknown };
          resolve(typeof j.count === 'number' ? { ok: true, count: j.count } : { ok: false, error: 'no count' });
        } catch {
          resolve({ ok: false, error: 'not JSON' });
        }
      });
      res.on('error', (e) => resolve({ ok: false, error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ ok: false, error: e.message }));
    req.end();
  });
}
