/**
 * The downtime meter: runs where a client of the guest sits (the lab's client namespace:
 * `ip netns exec NS node meter.js ADDRESS SECONDS`). Polls the counter over HTTP every
 * 10 ms (one request at a time, 1 s timeout) while holding one TCP stream, and prints one
 * JSON line with every sample, so gaps are measured on the client's clock.
 */
import type { DowntimeSample } from '../contract/lockstep.js';
import { followStream, getCounter } from './guest-client.js';

export interface MeterResult {
  startedAt: number;
  samples: DowntimeSample[];
  stream: { lines: number; longestGapMs: number; survived: boolean; wentBackwards: boolean; error?: string };
}

/** Moves the meter's end while it runs (e.g. "until 6 s after the failover finished"). */
export interface MeterControl {
  endAt?: number;
}

export async function runMeter(address: string, seconds: number, intervalMs = 10, control: MeterControl = {}): Promise<MeterResult> {
  const startedAt = Date.now();
  control.endAt = startedAt + seconds * 1000;
  const end = () => control.endAt!;
  const samples: DowntimeSample[] = [];
  const s = { lines: 0, longestGapMs: 0, survived: true, wentBackwards: false, error: undefined as string | undefined };
  let lastLine = Date.now();
  let lastSeq = -1;
  const stream = followStream(address, 7000, (line) => {
    const m = /seq=(\d+)/.exec(line);
    if (!m) return;
    const seq = Number(m[1]);
    if (seq < lastSeq) s.wentBackwards = true;
    lastSeq = seq;
    s.lines++;
    s.longestGapMs = Math.max(s.longestGapMs, Date.now() - lastLine);
    lastLine = Date.now();
  });
  void stream.ended.then((why) => {
    if (Date.now() < end()) {
      s.survived = false;
      s.error ??= why;
    }
  });
  while (Date.now() < end()) {
    const t0 = Date.now();
    const r = await getCounter(address, { timeoutMs: 1000 });
    samples.push(r.ok ? { t: t0 - startedAt, ms: Date.now() - t0, count: r.count } : { t: t0 - startedAt, ms: null });
    const wait = intervalMs - (Date.now() - t0);
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  }
  s.longestGapMs = Math.max(s.longestGapMs, Date.now() - lastLine);
  if (s.lines === 0) s.survived = false;
  stream.socket.destroy();
  return { startedAt, samples, stream: s };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  // a line "end-in MS" on stdin moves the end to MS from now
  const control: MeterControl = {};
  process.stdin.on('data', (d: Buffer) => {
    const m = /end-in (\d+)/.exec(String(d));
    if (m) control.endAt = Date.now() + Number(m[1]);
  });
  runMeter(process.argv[2]!, Number(process.argv[3] ?? 10), 10, control).then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(String(e) + '\n');
      process.exit(1);
    },
  );
}
