import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shellCommand } from '../../src-main/hosts/shell-quote.js';
import {
  chooseThroughputTool,
  linkFigures,
  parseIperf3,
  parseListening,
  parsePingRtt,
  parseStreamThroughput,
  parseThroughput,
  parseToolPresence,
  percentile,
  rttArgv,
  summarizeRtt,
  throughputPlan,
  toolPresenceArgv,
} from '../../src-main/link/measure.js';

const fx = (name: string) => readFileSync(new URL(`../fixtures/link/${name}`, import.meta.url), 'utf8');
const MiB = 1024 * 1024;

describe('link RTT', () => {
  it('100 samples from real iputils output; min/avg/max agree with ping’s own summary', () => {
    const text = fx('ping-rtt.txt');
    expect(rttArgv('10.99.0.2')).toEqual(['ping', '-n', '-c', '100', '-i', '0.05', '-W', '1', '10.99.0.2']);
    const r = parsePingRtt(text);
    expect(r).toMatchObject({ transmitted: 100, received: 100, lossPct: 0 });
    expect(r.samplesMs).toHaveLength(100);
    const [min, avg, max] = /rtt min\/avg\/max\/mdev = ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(text)!.slice(1).map(Number);
    const s = summarizeRtt(text);
    expect(s).toMatchObject({ samples: 100, minMs: min, maxMs: max, lossPct: 0 });
    // ping averages its microsecond times; the lines print three decimals
    expect(r.samplesMs.reduce((x, y) => x + y, 0) / 100).toBeCloseTo(avg!, 2);
    expect(s.p50Ms).toBeGreaterThanOrEqual(min!);
    expect(s.p99Ms).toBeGreaterThanOrEqual(s.p50Ms);
    expect(s.p99Ms).toBeLessThanOrEqual(max!);
  });

  it('busybox output, duplicates dropped', () => {
    expect(parsePingRtt(fx('busybox-ping-rtt.txt'))).toEqual({ samplesMs: [0.043, 0.08, 0.081, 0.088, 0.085], transmitted: 5, received: 5, lossPct: 0 });
    const dup = '64 bytes from 10.99.0.2: icmp_seq=1 ttl=64 time=0.1 ms\n64 bytes from 10.99.0.2: icmp_seq=1 ttl=64 time=0.3 ms (DUP!)\n';
    expect(parsePingRtt(dup).samplesMs).toEqual([0.1]);
  });

  it('nearest-rank percentiles', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('nothing came back: a clear error (peer down, or the /30 broadcast pinged by mistake)', () => {
    expect(() => summarizeRtt(fx('ping-rtt-peer-down.txt'), '10.99.0.2')).toThrow(
      expect.objectContaining({
        code: 'link-unreachable',
        message: 'No echo came back from 10.99.0.2 over the link.',
        causeText: expect.stringContaining('100% packet loss'),
      }),
    );
    expect(() => summarizeRtt(fx('ping-broadcast.txt'))).toThrow(expect.objectContaining({ causeText: expect.stringContaining('ping broadcast') }));
    expect(parsePingRtt(fx('ping-rtt-peer-down.txt')).lossPct).toBe(100);
  });
});

describe('link throughput', () => {
  const o = { a: '10.99.0.1', b: '10.99.0.2' };

  it('picks the tool both hosts have', () => {
    expect(parseToolPresence(fx('tools.txt'))).toEqual(new Set(['iperf3', 'socat', 'busybox']));
    expect(toolPresenceArgv().slice(3)).toEqual(['sh', 'iperf3', 'socat', 'busybox']);
    const all = new Set(['iperf3', 'socat', 'busybox']);
    expect(chooseThroughputTool(all, all).tool).toBe('iperf3');
    expect(chooseThroughputTool(all, new Set(['socat', 'busybox'])).tool).toBe('socat');
    expect(chooseThroughputTool(new Set(['busybox', 'iperf3']), new Set(['busybox', 'socat'])).tool).toBe('busybox-nc');
    expect(() => chooseThroughputTool(all, new Set())).toThrow(
      expect.objectContaining({
        code: 'link-no-measure-tool',
        fix: expect.stringMatching(/^Install iperf3 on both hosts: Debian\/Ubuntu\/Proxmox: apt-get install -y iperf3; RHEL/),
      }),
    );
  });

  it('plans server (bounded by timeout), readiness check and client, between the link addresses only', () => {
    const ip = throughputPlan('iperf3', o);
    expect(ip.server.argv).toEqual(['timeout', '60', 'iperf3', '-s', '-1', '-B', '10.99.0.2', '-p', '5201']);
    expect(ip.ready.argv).toEqual(['ss', '-Hltn', 'sport = :5201']);
    expect(ip.client.argv).toEqual(['iperf3', '-c', '10.99.0.2', '-B', '10.99.0.1', '-p', '5201', '-t', '5', '-J']);
    const so = throughputPlan('socat', { ...o, port: 5202, mib: 2048 });
    expect(so.server.argv).toEqual(['timeout', '60', 'socat', '-u', '-b', '1048576', 'TCP-LISTEN:5202,bind=10.99.0.2,reuseaddr', 'OPEN:/dev/null']);
    expect(so.client.argv.slice(3)).toEqual(['sh', String(2048 * MiB), '10.99.0.2', '5202', '10.99.0.1']);
    const bb = throughputPlan('busybox-nc', o);
    expect(bb.server.argv).toEqual(['timeout', '60', 'busybox', 'nc', '-l', '-p', '5201', '-e', 'dd', 'of=/dev/null', 'bs=1M']);
    expect(bb.client.argv.slice(3)).toEqual(['sh', '1024', '10.99.0.2', '5201']);
    for (const c of [ip, so, bb].flatMap((x) => [x.server, x.ready, x.client])) expect(() => shellCommand(c.argv)).not.toThrow();
    expect(parseListening(fx('ss-listening.txt'))).toBe(true);
    expect(parseListening('')).toBe(false);
  });

  it('iperf3 -J (real): MiB/s as received; an error field is an error even with exit 0', () => {
    const t = parseIperf3(fx('iperf3.json'));
    const end = (JSON.parse(fx('iperf3.json')) as { end: { sum_received: { bytes: number; seconds: number; bits_per_second: number } } }).end.sum_received;
    expect(t.bytes).toBe(end.bytes);
    expect(t.mibPerSec).toBeCloseTo(end.bits_per_second / 8 / MiB, 0);
    expect(t.mibPerSec).toBeGreaterThan(100);
    expect(() => parseIperf3(fx('iperf3-refused.json'))).toThrow(
      expect.objectContaining({ code: 'link-measure-failed', causeText: 'unable to connect to server: Connection refused' }),
    );
    expect(() => parseIperf3('iperf3: error - unable to connect')).toThrow(/did not print JSON/);
  });

  it('the fallback streams (real output of socat and busybox nc clients)', () => {
    const so = parseStreamThroughput({ stdout: fx('socat-client.stdout'), stderr: '' }, 1024);
    const [t0, t1] = /t0=([\d.]+) t1=([\d.]+)/.exec(fx('socat-client.stdout'))!.slice(1).map(Number);
    expect(so.bytes).toBe(1024 * MiB);
    expect(so.mibPerSec).toBeCloseTo(1024 / (t1! - t0!), 3);
    const bb = parseStreamThroughput({ stdout: fx('busybox-client.stdout'), stderr: fx('busybox-client.stderr') }, 256);
    expect(bb.bytes).toBe(256 * MiB);
    expect(bb.mibPerSec).toBeGreaterThan(10);
    expect(() => parseStreamThroughput({ stdout: fx('busybox-client.stdout'), stderr: fx('busybox-client.stderr') }, 512)).toThrow(/Only 256 of 512 MiB/);
    expect(() => parseStreamThroughput({ stdout: 'lockstep-throughput rc=1 t0=1.00 t1=1.20', stderr: 'Connection refused' }, 1)).toThrow(/exit 1/);
    expect(() => parseStreamThroughput({ stdout: 'lockstep-throughput rc=0 t0=1.00 t1=1.00', stderr: '' }, 1)).toThrow(/too quick/);
    expect(() => parseStreamThroughput({ stdout: '', stderr: 'sh: socat: not found' }, 1)).toThrow(expect.objectContaining({ code: 'link-measure-failed' }));
    expect(parseThroughput(throughputPlan('socat', o), { stdout: fx('socat-client.stdout'), stderr: '' }).mibPerSec).toBe(so.mibPerSec);
  });

  it('the figures for the dashboard and the bench', () => {
    const f = linkFigures(summarizeRtt(fx('ping-rtt.txt')), { bytes: 1, seconds: 1, mibPerSec: 1584.123 }, 'iperf3');
    expect(Object.keys(f)).toEqual(['link_rtt_p50_ms', 'link_rtt_p99_ms', 'link_mib_s', 'tool']);
    expect(f.link_mib_s).toBe(1584.1);
  });
});
