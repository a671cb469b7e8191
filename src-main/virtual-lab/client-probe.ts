/**
 * The lab's client: runs INSIDE the client namespace (`ip netns exec NS node client-probe.js …`)
 * and reports what a user of the guest saw. Prints one JSON line (ClientProbeResult).
 */
import type { ClientProbeResult } from '../contract/lab.js';
import { followStream, getCounter } from '../hosts/guest-client.js';

/**
 * Polls the counter for `seconds`. `untilRecovered`: ends early once answers stopped for at least
 * a second and came back (three answers since), so a restart is seen whole without a fixed wait.
 */
export async function probeHttp(
  host: string,
  port: number,
  path: string,
  seconds: number,
  intervalMs: number,
  untilRecovered = false,
): Promise<ClientProbeResult> {
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
  let failedSince: number | null = null;
  let answersSinceGap = -1;
  do {
    const t0 = Date.now();
    r.attempts++;
    const a = await getCounter(host, { port, path, timeoutMs: 1000 });
    if (a.ok) {
      r.answers++;
      if (a.count <= lastCount) r.wentBackwards = true;
      lastCount = a.count;
      const seen = { count: a.count, boot: a.boot, host: a.host };
      r.first ??= seen;
      r.last = seen;
      if (Date.now() - lastGood >= r.longestGapMs) {
        r.longestGapMs = Date.now() - lastGood;
        r.longestGapEndedAt = Date.now();
      }
      if (failedSince !== null) r.failedRunMs = Math.max(r.failedRunMs ?? 0, Date.now() - failedSince);
      if (Date.now() - lastGood >= 1000) answersSinceGap = 0;
      else if (answersSinceGap >= 0) answersSinceGap++;
      failedSince = null;
      lastGood = Date.now();
      if (untilRecovered && answersSinceGap >= 3) break;
    } else {
      r.failures++;
      r.error = a.error;
      failedSince ??= t0;
    }
    const wait = intervalMs - (Date.now() - t0);
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  } while (Date.now() < end);
  if (Date.now() - lastGood > r.longestGapMs) {
    r.longestGapMs = Date.now() - lastGood;
    r.longestGapEndedAt = Date.now();
  }
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
    let last = Date.now();
    let lastCount = -1;
    const stream = followStream(host, port, (line) => {
      const m = /count=(\d+)/.exec(line);
      if (!m) return;
      const count = Number(m[1]);
      r.answers++;
      if (count < lastCount) r.wentBackwards = true;
      lastCount = count;
      r.first ??= line;
      r.last = line;
      r.longestGapMs = Math.max(r.longestGapMs, Date.now() - last);
      last = Date.now();
    });
    stream.socket.on('connect', () => (last = Date.now()));
    let done = false;
    const finish = (err?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.socket.destroy();
      r.longestGapMs = Math.max(r.longestGapMs, Date.now() - last);
      if (err) {
        r.failures++;
        r.error = err;
      }
      resolve(r);
    };
    const timer = setTimeout(() => finish(), seconds * 1000);
    void stream.ended.then((why) => finish(r.answers || why !== 'closed by the guest' ? why : 'connection closed'));
  });
}

async function main(argv: string[]): Promise<void> {
  const [kind, host, port, path, seconds, interval, until] = argv;
  const res =
    kind === 'stream'
      ? await probeStream(host!, Number(port), Number(seconds))
      : await probeHttp(host!, Number(port), path!, Number(seconds), Number(interval), until === 'until-recovered');
  process.stdout.write(JSON.stringify(res) + '\n');
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(String(e) + '\n');
    process.exit(1);
  });
}
