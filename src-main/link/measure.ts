/**
 * Pure: measure the link. RTT from `ping` (p50/p99), throughput from `iperf3 -J` where both
 * hosts have it, else the app's own measurement: a stream of zeros over TCP between the two
 * link addresses only (socat, or busybox nc), timed on the sending host.
 */
import { LockstepError } from '../contract/index.js';
import { installFixAnyDistro } from '../hosts/distro.js';
import { cmd, type Argv, type HostCommand } from '../hosts/command.js';

const MiB = 1024 * 1024;

// ── RTT ─────────────────────────────────────────────────────────────────────────────────

/** 100 echoes 50 ms apart (5 s; ≥ 2 ms apart is allowed without root). */
export function rttArgv(peer: string, opts: { count?: number; intervalS?: number } = {}): Argv {
  return ['ping', '-n', '-c', String(opts.count ?? 100), '-i', String(opts.intervalS ?? 0.05), '-W', '1', peer];
}

export interface PingRtt {
  samplesMs: number[];
  transmitted: number;
  received: number;
  /** percent, 0–100 */
  lossPct: number;
}

/** Pure: iputils (`icmp_seq=1 … time=0.045 ms`) or busybox (`seq=0 … time=0.050 ms`) ping output; duplicates dropped. */
export function parsePingRtt(text: string): PingRtt {
  const samplesMs: number[] = [];
  for (const line of text.split('\n')) {
    if (/\(DUP!\)/.test(line)) continue;
    const m = /bytes from .*seq=\d+ .*time[=<]([\d.]+) ms/.exec(line);
    if (m) samplesMs.push(Number(m[1]));
  }
  const s = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  const transmitted = s ? Number(s[1]) : samplesMs.length;
  const received = s ? Number(s[2]) : samplesMs.length;
  return { samplesMs, transmitted, received, lossPct: transmitted ? Math.round(((transmitted - received) / transmitted) * 1000) / 10 : 100 };
}

/** Nearest-rank percentile (p in 0–100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((x, y) => x - y);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export interface RttSummary {
  samples: number;
  p50Ms: number;
  /** with fewer than 100 samples this is (close to) the maximum */
  p99Ms: number;
  minMs: number;
  maxMs: number;
  lossPct: number;
}

/** Pure: ping output → the figures; throws `link-unreachable` when nothing came back. */
export function summarizeRtt(text: string, peer = 'the peer'): RttSummary {
  const r = parsePingRtt(text);
  if (r.samplesMs.length === 0) {
    throw new LockstepError({
      code: 'link-unreachable',
      message: `No echo came back from ${peer} over the link.`,
      cause: text.trim().split('\n').slice(-3).join(' ').slice(0, 200),
      fix: 'Check that both ends are up with their /30 addresses (`ip -br addr`) and that no firewall drops ICMP on the link NICs, then run `lockstep link setup` again.',
      step: 'link-measure',
    });
  }
  return {
    samples: r.samplesMs.length,
    p50Ms: percentile(r.samplesMs, 50),
    p99Ms: percentile(r.samplesMs, 99),
    minMs: Math.min(...r.samplesMs),
    maxMs: Math.max(...r.samplesMs),
    lossPct: r.lossPct,
  };
}

// ── which throughput tool ───────────────────────────────────────────────────────────────

export type ThroughputTool = 'iperf3' | 'socat' | 'busybox-nc';

/** Lists which of the tools a host has (one path per line; missing ones print nothing). */
export function toolPresenceArgv(): Argv {
  return ['sh', '-c', 'for p; do command -v "$p" || true; done', 'sh', 'iperf3', 'socat', 'busybox'];
}

export function parseToolPresence(stdout: string): Set<string> {
  return new Set(
    stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .map((l) => l.slice(l.lastIndexOf('/') + 1)),
  );
}

/** Pure: the same tool must be on both hosts; iperf3 first, then socat, then busybox nc. */
export function chooseThroughputTool(a: ReadonlySet<string>, b: ReadonlySet<string>): { tool: ThroughputTool; why: string } {
  if (a.has('iperf3') && b.has('iperf3')) return { tool: 'iperf3', why: 'iperf3 on both hosts' };
  if (a.has('socat') && b.has('socat')) return { tool: 'socat', why: 'no iperf3 on both hosts: a timed stream of zeros through socat' };
  if (a.has('busybox') && b.has('busybox'))
    return {
      tool: 'busybox-nc',
      why: 'no iperf3 or socat on both hosts: a timed stream of zeros through busybox nc (a lower bound on links faster than ~100 MiB/s)',
    };
  throw new LockstepError({
    code: 'link-no-measure-tool',
    message: 'Neither iperf3, socat nor busybox is on both hosts, so the link throughput cannot be measured.',
    fix: `Install iperf3 on both hosts: ${installFixAnyDistro(['iperf3'])}`,
    step: 'link-measure',
  });
}

// ── the plan: server on B (run concurrently, bounded by `timeout`), wait until it listens, client on A ──

export interface ThroughputPlan {
  tool: ThroughputTool;
  /** side B, runs in the foreground until one transfer is done or `timeout` ends it; start it without awaiting */
  server: HostCommand;
  /** side B, poll until `parseListening` says yes (then start the client) */
  ready: HostCommand;
  /** side A; its stdout/stderr go to `parseThroughput` */
  client: HostCommand;
  /** how much the fallback sends, in MiB */
  mib: number;
}

export interface ThroughputOptions {
  /** A's link address (10.99.0.1) */
  a: string;
  /** B's link address (10.99.0.2) */
  b: string;
  port?: number;
  /** iperf3 test length */
  seconds?: number;
  /** fallback transfer size */
  mib?: number;
  /** the server gives up after this */
  timeoutS?: number;
}

/**
 * The fallback clients print one marker line, timed on the sending host with /proc/uptime
 * (10 ms steps; every Linux has it), so SSH's own latency is not in the figure.
 * socat reads /dev/zero itself (readbytes, 1 MiB buffers): measured 1706 MiB/s against
 * iperf3's 1645 on the lab's veth, where `dd | socat` with socat's default 8 KiB buffer gave 202.
 */
const SOCAT_CLIENT =
  'read t0 _ </proc/uptime; /usr/bin/env socat -u -b 1048576 OPEN:/dev/zero,readbytes="$1" TCP:"$2":"$3",bind="$4"; rc=$?; read t1 _ </proc/uptime; echo "lockstep-throughput rc=$rc t0=$t0 t1=$t1"';
/** busybox nc copies in small blocks: ~100 MiB/s here, so on faster links this is a lower bound. */
const BUSYBOX_CLIENT =
  'read t0 _ </proc/uptime; busybox dd if=/dev/zero bs=1M count="$1" | busybox nc "$2" "$3"; rc=$?; read t1 _ </proc/uptime; echo "lockstep-throughput rc=$rc t0=$t0 t1=$t1"';

export function listeningArgv(port: number): Argv {
  return ['ss', '-Hltn', `sport = :${port}`];
}

export function parseListening(stdout: string): boolean {
  return /\bLISTEN\b/.test(stdout);
}

export function throughputPlan(tool: ThroughputTool, o: ThroughputOptions): ThroughputPlan {
  const port = String(o.port ?? 5201);
  const timeout = String(o.timeoutS ?? 60);
  const mib = o.mib ?? 1024;
  const ready = cmd('B', listeningArgv(Number(port)), `is the ${tool} server listening on ${port}?`);
  switch (tool) {
    case 'iperf3':
      return {
        tool,
        mib,
        server: cmd('B', ['timeout', timeout, 'iperf3', '-s', '-1', '-B', o.b, '-p', port], `iperf3 server on ${o.b}:${port} (one test)`),
        ready,
        client: cmd('A', ['iperf3', '-c', o.b, '-B', o.a, '-p', port, '-t', String(o.seconds ?? 5), '-J'], `iperf3 from ${o.a} to ${o.b}`),
      };
    case 'socat':
      return {
        tool,
        mib,
        server: cmd(
          'B',
          ['timeout', timeout, 'socat', '-u', '-b', '1048576', `TCP-LISTEN:${port},bind=${o.b},reuseaddr`, 'OPEN:/dev/null'],
          `sink on ${o.b}:${port} (one connection)`,
        ),
        ready,
        client: cmd('A', ['sh', '-c', SOCAT_CLIENT, 'sh', String(mib * MiB), o.b, port, o.a], `send ${mib} MiB of zeros from ${o.a} to ${o.b}`),
      };
    case 'busybox-nc':
      return {
        tool,
        mib,
        // busybox nc cannot bind an address; the client reaches it through the link address only
        server: cmd('B', ['timeout', timeout, 'busybox', 'nc', '-l', '-p', port, '-e', 'dd', 'of=/dev/null', 'bs=1M'], `sink on port ${port} (one connection)`),
        ready,
        client: cmd('A', ['sh', '-c', BUSYBOX_CLIENT, 'sh', String(mib), o.b, port], `send ${mib} MiB of zeros to ${o.b}`),
      };
  }
}

export interface Throughput {
  mibPerSec: number;
  bytes: number;
  seconds: number;
}

function measureFailed(message: string, cause: string): LockstepError {
  return new LockstepError({
    code: 'link-measure-failed',
    message,
    cause: cause.trim().slice(0, 300),
    fix: 'Check that nothing else uses the port on host B and that no firewall blocks TCP between the link addresses, then run `lockstep link setup` again (it only measures what is already set up).',
    step: 'link-measure',
  });
}

interface Iperf3Json {
  error?: string;
  end?: {
    sum_received?: { bytes?: number; seconds?: number; bits_per_second?: number };
    sum_sent?: { bytes?: number; seconds?: number; bits_per_second?: number; retransmits?: number };
  };
}

/** Pure: `iperf3 -J` (client side) → MiB/s as received by B. iperf3 3.12 exits 0 even on "error", so the field decides. */
export function parseIperf3(json: string): Throughput & { retransmits?: number } {
  let v: Iperf3Json;
  try {
    v = JSON.parse(json) as Iperf3Json;
  } catch {
    throw measureFailed('iperf3 did not print JSON.', json);
  }
  if (v.error) throw measureFailed(`iperf3 failed: ${v.error}.`, v.error);
  const s = v.end?.sum_received ?? v.end?.sum_sent;
  if (!s || !s.bytes || !s.seconds) throw measureFailed('iperf3 reported no transfer.', json);
  const out: Throughput & { retransmits?: number } = { bytes: s.bytes, seconds: s.seconds, mibPerSec: s.bytes / s.seconds / MiB };
  if (typeof v.end?.sum_sent?.retransmits === 'number') out.retransmits = v.end.sum_sent.retransmits;
  return out;
}

/**
 * Pure: the fallback client's output → MiB/s. The sender must have exited 0 and, where dd
 * fed it (busybox), all `mib` blocks must have left dd.
 */
export function parseStreamThroughput(out: { stdout: string; stderr: string }, mib: number): Throughput {
  const m = /lockstep-throughput rc=(\d+) t0=([\d.]+) t1=([\d.]+)/.exec(out.stdout);
  if (!m) throw measureFailed('The throughput stream did not finish.', out.stderr || out.stdout);
  if (m[1] !== '0') throw measureFailed(`The throughput stream failed (exit ${m[1]}).`, out.stderr);
  const rec = /(\d+)\+(\d+) records out/.exec(out.stderr);
  if (rec && Number(rec[1]) !== mib) throw measureFailed(`Only ${rec[1]} of ${mib} MiB left the sender.`, out.stderr);
  const bytes = mib * MiB;
  const seconds = Math.round((Number(m[3]) - Number(m[2])) * 100) / 100;
  if (!(seconds > 0)) throw measureFailed('The transfer was too quick to time; send more.', out.stderr);
  return { bytes, seconds, mibPerSec: bytes / seconds / MiB };
}

/** Pure: the client's output, whichever tool ran. */
export function parseThroughput(plan: ThroughputPlan, out: { stdout: string; stderr: string }): Throughput {
  return plan.tool === 'iperf3' ? parseIperf3(out.stdout) : parseStreamThroughput(out, plan.mib);
}

/** What the dashboard and `npm run bench` show. */
export interface LinkFigures {
  link_rtt_p50_ms: number;
  link_rtt_p99_ms: number;
  link_mib_s: number;
  tool: ThroughputTool;
}

export function linkFigures(rtt: RttSummary, tp: Throughput, tool: ThroughputTool): LinkFigures {
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return { link_rtt_p50_ms: r3(rtt.p50Ms), link_rtt_p99_ms: r3(rtt.p99Ms), link_mib_s: Math.round(tp.mibPerSec * 10) / 10, tool };
}
