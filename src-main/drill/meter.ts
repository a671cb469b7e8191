/**
 * The downtime meter: runs where a client of the guest sits (the lab's client namespace:
 * `ip netns exec NS node meter.js ADDRESS SECONDS`). Polls the counter over HTTP every
 * 10 ms, one poll at a time (a new connection each, 3 s deadline), while holding one TCP
 * stream; prints one JSON line with every sample, so gaps are measured on the client's clock.
 * A poll stuck on the dying primary (its SYN or request lost: the kernel retries only after
 * 1 s) is hedged: once it has waited twice the recent median latency (100–500 ms) another
 * poll starts beside it (at most MAX_IN_FLIGHT), so the survivor's first answer is seen when
 * it comes, not a second later. Slow polls still count when they answer. That hedged figure
 * is what the service could deliver, not what a client sees: beside it run an ordinary client
 * (plain-client.ts: one request at a time, a fresh connection each, 1 s timeout, no hedging) and
 * a watch of the client's wire (the first frames from the survivor).
 * A user VM (issue 21) is watched on the TCP port named at protect (`tcp=PORT`): every poll is a
 * TCP connect + close (tcp-probe.ts), and the stream is one idle connection held open, whose
 * survival is checked (its silence says nothing: no counter lines, so its gaps are not measured).
 */
import type { DowntimeSample } from '../contract/lockstep.js';
import { followStream } from '../hosts/guest-client.js';
import { ordinaryClient, probeOf, watchWire, type WireFrame } from './plain-client.js';
import { holdTcp } from './tcp-probe.js';

const MAX_IN_FLIGHT = 6;
const POLL_TIMEOUT_MS = 3000;

/** Pure: how long a poll may wait before another one is started beside it. */
export function hedgeAfterMs(recentLatencies: number[]): number {
  if (!recentLatencies.length) return 500;
  const sorted = [...recentLatencies].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return Math.min(500, Math.max(100, 2 * median));
}

export interface MeterResult {
  startedAt: number;
  samples: DowntimeSample[];
  stream: {
    lines: number;
    longestGapMs: number;
    survived: boolean;
    wentBackwards: boolean;
    error?: string;
    /** silences over 100 ms: [from, to] in ms since the meter started */
    gaps?: [number, number][];
  };
  /** the ordinary client's requests (fresh connection each, one at a time, 1 s timeout) */
  ordinary?: DowntimeSample[];
  /** first frames from the guest on the client's wire after a silence */
  wire?: WireFrame[];
}

/** Moves the meter's end while it runs (e.g. "until 6 s after the failover finished"). */
export interface MeterControl {
  endAt?: number;
}

export async function runMeter(address: string, seconds: number, intervalMs = 10, control: MeterControl = {}, port?: number): Promise<MeterResult> {
  const startedAt = Date.now();
  control.endAt = startedAt + seconds * 1000;
  const end = () => control.endAt!;
  const samples: DowntimeSample[] = [];
  const s = { lines: 0, longestGapMs: 0, survived: true, wentBackwards: false, error: undefined as string | undefined, gaps: [] as [number, number][] };
  const wire = watchWire(address, startedAt);
  const probe = probeOf(address, port);
  const ordinary = ordinaryClient(address, startedAt, end, 10, probe);
  let lastLine = Date.now();
  let lastSeq = -1;
  const stream =
    port !== undefined
      ? holdTcp(address, port)
      : followStream(address, 7000, (line) => {
          const m = /seq=(\d+)/.exec(line);
          if (!m) return;
          const seq = Number(m[1]);
          if (seq < lastSeq) s.wentBackwards = true;
          lastSeq = seq;
          s.lines++;
          const now = Date.now();
          s.longestGapMs = Math.max(s.longestGapMs, now - lastLine);
          if (now - lastLine > 100 && s.lines > 1) s.gaps.push([lastLine - startedAt, now - startedAt]);
          lastLine = now;
        });
  void stream.ended.then((why) => {
    if (Date.now() < end()) {
      s.survived = false;
      s.error ??= why;
    }
  });
  const inFlight = new Set<Promise<void>>();
  const recent: number[] = [];
  let newestStart = 0;
  let next = Date.now();
  while (Date.now() < end()) {
    const stalled = inFlight.size > 0 && Date.now() - newestStart >= hedgeAfterMs(recent);
    if (inFlight.size === 0 || (stalled && inFlight.size < MAX_IN_FLIGHT)) {
      const t0 = Date.now();
      newestStart = t0;
      const p: Promise<void> = probe(POLL_TIMEOUT_MS).then((r) => {
        const ms = Date.now() - t0;
        samples.push(r.ok ? { t: t0 - startedAt, ms, ...(r.count !== undefined ? { count: r.count } : {}) } : { t: t0 - startedAt, ms: null });
        if (r.ok) {
          recent.push(ms);
          if (recent.length > 20) recent.shift();
        }
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
    next += intervalMs;
    const wait = next - Date.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    else next = Date.now();
  }
  await Promise.all(inFlight);
  const plain = await ordinary;
  samples.sort((a, b) => a.t - b.t);
  if (port === undefined) {
    s.longestGapMs = Math.max(s.longestGapMs, Date.now() - lastLine);
    if (s.lines === 0) s.survived = false;
  }
  stream.socket.destroy();
  return { startedAt, samples, stream: s, ordinary: plain, wire: wire.stop() };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  // a line "end-in MS" on stdin moves the end to MS from now
  const control: MeterControl = {};
  process.stdin.on('data', (d: Buffer) => {
    const m = /end-in (\d+)/.exec(String(d));
    if (m) control.endAt = Date.now() + Number(m[1]);
  });
  // "plain": the ordinary client alone (an idle guest's steady state, for the bench); "tcp=PORT": a user VM's port
  const opts = process.argv.slice(4);
  const plainOnly = opts.includes('plain');
  const tcp = opts.map((o) => /^tcp=(\d{1,5})$/.exec(o)).find(Boolean);
  const port = tcp ? Number(tcp[1]) : undefined;
  const address = process.argv[2]!;
  const started = Date.now();
  const run: Promise<unknown> = plainOnly
    ? ordinaryClient(address, started, () => started + Number(process.argv[3] ?? 10) * 1000, 10, probeOf(address, port)).then((ordinary) => ({
        startedAt: started,
        ordinary,
      }))
    : runMeter(address, Number(process.argv[3] ?? 10), 10, control, port);
  run.then(
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
