/**
 * The lab's client: runs INSIDE the client namespace (`ip netns exec NS node client-probe.js …`)
 * and reports what a user of the guest saw. Prints one JSON line (ClientProbeResult).
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { ClientProbeResult } from '../contract/lab.js';

function httpGet(host: string, port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export async function probeHttp(host: string, port: number, path: string, seconds: number, intervalMs: number): Promise<ClientProbeResult> {
  const r: ClientProbeResult = {
    probe: 'http',
    target: `http://${host}:${port}${path}`,
    attempts: 0,
    answers: 0,
    failures: 0,
    longestGapMs: 0,
    wentBackwards: false,
  };
  const end = Date.now() + seconds * 1000;
  let lastGood = Date.now();
  let lastCount = -1;
  do {
    const t0 = Date.now();
    r.attempts++;
    try {
      const { status, body } = await httpGet(host, port, path, 1000);
      const j = JSON.parse(body) as { count?: number };
      if (status !== 200 || typeof j.count !== 'number') throw new Error(`bad answer ${status}`);
      r.answers++;
      if (j.count <= lastCount) r.wentBackwards = true;
      lastCount = j.count;
      r.first ??= j;
      r.last = j;
      r.longestGapMs = Math.max(r.longestGapMs, Date.now() - lastGood);
      lastGood = Date.now();
    } catch (e) {
      r.failures++;
      r.error = (e as Error).message;
    }
    const wait = intervalMs - (Date.now() - t0);
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  } while (Date.now() < end);
  r.longestGapMs = Math.max(r.longestGapMs, Date.now() - lastGood);
  if (r.answers > 0 && r.failures === 0) delete r.error;
  return r;
}

export function probeStream(host: string, port: number, seconds: number): Promise<ClientProbeResult> {
  const r: ClientProbeResult = {
    probe: 'stream',
    target: `tcp://${host}:${port}`,
    attempts: 1,
    answers: 0,
    failures: 0,
    longestGapMs: 0,
    wentBackwards: false,
  };
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let buf = '';
    let last = Date.now();
    let lastCount = -1;
    const finish = (err?: string) => {
      clearTimeout(timer);
      sock.destroy();
      r.longestGapMs = Math.max(r.longestGapMs, Date.now() - last);
      if (err) {
        r.failures++;
        r.error = err;
      }
      resolve(r);
    };
    const timer = setTimeout(() => finish(), seconds * 1000);
    sock.setEncoding('utf8');
    sock.on('connect', () => (last = Date.now()));
    sock.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const m = /count=(\d+)/.exec(line);
        if (!m) continue;
        const count = Number(m[1]);
        r.answers++;
        if (count < lastCount) r.wentBackwards = true;
        lastCount = count;
        r.first ??= line;
        r.last = line;
        r.longestGapMs = Math.max(r.longestGapMs, Date.now() - last);
        last = Date.now();
      }
    });
    sock.on('error', (e) => finish(e.message));
    sock.on('close', () => finish(r.answers ? 'stream closed by the guest' : 'connection closed'));
  });
}

async function main(argv: string[]): Promise<void> {
  const [kind, host, port, path, seconds, interval] = argv;
  const res =
    kind === 'stream'
      ? await probeStream(host!, Number(port), Number(seconds))
      : await probeHttp(host!, Number(port), path!, Number(seconds), Number(interval));
  process.stdout.write(JSON.stringify(res) + '\n');
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(String(e) + '\n');
    process.exit(1);
  });
}
