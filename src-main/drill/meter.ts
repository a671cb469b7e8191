/**
 * The downtime meter: runs where a client of the guest sits (the lab's client namespace:
 * `ip netns exec NS node meter.js ADDRESS SECONDS`). Polls the counter over HTTP every
 * 10 ms (one request at a time, 1 s timeout) while holding one TCP stream, and prints one
 * JSON line with every sample, so gaps are measured on the client's clock.
 */
import { connect } from 'node:net';
import type { DowntimeSample } from '../contract/lockstep.js';
import { probeHttpOnce } from './http-once.js';

export interface MeterResult {
  startedAt: number;
  samples: DowntimeSample[];
  stream: { lines: number; longestGapMs: number; survived: boolean; wentBackwards: boolean; error?: string };
}

export async function runMeter(address: string, seconds: number, intervalMs = 10): Promise<MeterResult> {
  const startedAt = Date.now();
  const end = startedAt + seconds * 1000;
  const samples: DowntimeSample[] = [];
  const stream = { lines: 0, longestGapMs: 0, survived: true, wentBackwards: false, error: undefined as string | undefined };
  let lastLine = Date.now();
  let lastSeq = -1;
  const sock = connect({ host: address, port: 7000 });
  sock.setEncoding('utf8');
  let buf = '';
  sock.on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const m = /seq=(\d+)/.exec(line);
      if (!m) continue;
      const seq = Number(m[1]);
      if (seq < lastSeq) stream.wentBackwards = true;
      lastSeq = seq;
      stream.lines++;
      stream.longestGapMs = Math.max(stream.longestGapMs, Date.now() - lastLine);
      lastLine = Date.now();
    }
  });
  sock.on('error', (e) => {
    stream.survived = false;
    stream.error = e.message;
  });
  sock.on('close', () => {
    if (Date.now() < end) {
      stream.survived = false;
      stream.error ??= 'closed by the guest';
    }
  });
  while (Date.now() < end) {
    const t0 = Date.now();
    const r = await probeHttpOnce(address, 1000);
    samples.push(r.ok ? { t: t0 - startedAt, ms: Date.now() - t0, count: r.count } : { t: t0 - startedAt, ms: null });
    const wait = intervalMs - (Date.now() - t0);
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  }
  stream.longestGapMs = Math.max(stream.longestGapMs, Date.now() - lastLine);
  if (stream.lines === 0) stream.survived = false;
  sock.destroy();
  return { startedAt, samples, stream };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  runMeter(process.argv[2]!, Number(process.argv[3] ?? 10)).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (e: unknown) => {
      process.stderr.write(String(e) + '\n');
      process.exit(1);
    },
  );
}
