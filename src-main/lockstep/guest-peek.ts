import { request } from 'node:http';
import { LockstepError } from '../contract/index.js';

export interface GuestPeek {
  count: number;
  boot: string;
  host: string;
  ms: number;
  address: string;
}

/** One GET of the demo guest's counter from this machine (the desktop is on the guests' public network). */
export function peekGuest(address: string, timeoutMs = 1500): Promise<GuestPeek> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port: 80, path: '/', agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d.slice(0, 4096)));
      res.on('end', () => {
        try {
          const j = JSON.parse(body) as { count: number; boot: string; host: string };
          if (typeof j.count !== 'number') throw new Error('no count');
          resolve({ count: j.count, boot: String(j.boot), host: String(j.host), ms: Date.now() - t0, address });
        } catch {
          reject(new LockstepError({ code: 'guest-bad-answer', message: `The guest at ${address} answered something that is not its counter.` }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) =>
      reject(
        new LockstepError({
          code: 'guest-unreachable',
          message: `The guest at ${address} does not answer (${e.message}).`,
          fix: 'Check the pair on the Dashboard.',
        }),
      ),
    );
    req.end();
  });
}
