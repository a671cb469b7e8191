import { describe, expect, it } from 'vitest';
import { parseCheckpoints, primaryArgs, secondaryArgs, type VmSpec } from '../../src-main/lockstep/colo-args.js';
import { analyseSamples } from '../../src-main/drill/analyse.js';
import { hedgeAfterMs } from '../../src-main/drill/meter.js';
import { parseCounterSlots } from '../helpers/guest-disk.js';
import { splitQmpLines } from '../../src-main/hosts/qmp.js';

const spec = (role: 'primary' | 'secondary', qemuMajor = 7): VmSpec => ({
  role,
  accel: 'tcg',
  qemuMajor,
  memory: '131080k',
  boot: { kind: 'kernel', kernel: '/k', initrd: '/i', append: 'console=ttyS0' },
  mac: '52:54:00:4c:53:01',
  tap: 'lsvm0',
  run: '/run/lockstep/vm',
  xa: '10.99.0.1',
  xb: '10.99.0.2',
  disk: '/d.img',
  active: '/a.qcow2',
  hidden: '/h.qcow2',
});

describe('COLO command lines', () => {
  it('secondary: waits for the primary (-incoming defer), redirects over the crossover, replication disk with overlays', () => {
    const a = secondaryArgs(spec('secondary')).join(' ');
    expect(a).toContain('-incoming defer');
    expect(a).toContain('socket,id=red0,host=10.99.0.1,port=9003,reconnect=1');
    expect(a).toContain('driver=replication,mode=secondary');
    expect(a).toContain('file.file.filename=/a.qcow2');
    expect(a).toContain('vhost=off,vnet_hdr=off');
    expect(a).toContain('-m 131080k');
    expect(secondaryArgs(spec('secondary', 10)).join(' ')).toContain('reconnect-ms=1000');
  });
  it('primary: paused (-S), quorum disk, colo-compare with its own iothread', () => {
    const a = primaryArgs(spec('primary')).join(' ');
    expect(a).toMatch(/ -S$/);
    expect(a).toContain('driver=quorum,read-pattern=fifo,vote-threshold=1,children.0.driver=raw');
    expect(a).toContain(
      'colo-compare,id=comp0,primary_in=compare0-0,secondary_in=compare1,outdev=compare_out0,iothread=iothread1,compare_timeout=3000,expired_scan_cycle=1000',
    );
    expect(a).toContain('-accel tcg,tb-size=128');
  });
});

describe('checkpoints from the trace', () => {
  it('counts checkpoints and measures each pause (request → vmstate-loaded)', () => {
    const trace = [
      "31316@1795598051.858527:colo_receive_message Receive 'checkpoint-ready' message",
      "31316@1795598053.860248:colo_send_message Send 'checkpoint-request' message",
      "31316@1795598053.952396:colo_receive_message Receive 'vmstate-loaded' message",
      "31316@1795598055.860143:colo_send_message Send 'checkpoint-request' message",
      "31316@1795598056.003364:colo_receive_message Receive 'vmstate-loaded' message",
      "31316@1795598057.860053:colo_send_message Send 'checkpoint-request' message",
    ].join('\n');
    const cp = parseCheckpoints(trace);
    expect(cp.checkpoints).toBe(3);
    expect(cp.pausesMs.map(Math.round)).toEqual([92, 143]);
  });
});

describe('QMP framing', () => {
  it('splits complete JSON lines and keeps the unfinished tail', () => {
    const r = splitQmpLines('{"QMP":{}}\r\n{"return":{},"id":1}\n{"event":"ST');
    expect(r.messages).toEqual([{ QMP: {} }, { return: {}, id: 1 }]);
    expect(r.rest).toBe('{"event":"ST');
  });
});

describe('downtime analysis', () => {
  it('longest gap from the last good answer, failures counted, counter going back caught', () => {
    const a = analyseSamples([
      { t: 0, ms: 20, count: 1 },
      { t: 100, ms: 20, count: 2 },
      { t: 200, ms: null },
      { t: 1300, ms: 40, count: 3 },
      { t: 1400, ms: 20, count: 2 },
    ]);
    expect(a).toMatchObject({ attempts: 5, failures: 1, longestGapMs: 1220, wentBackwards: true, answersAfterLastFailure: 2 });
    expect(a.gapsMs).toEqual([1220]);
  });
});

describe('downtime analysis with overlapping polls', () => {
  it('orders answers by arrival: a slow answer is not a step back, a stale count after a newer one is', () => {
    const base = [
      { t: 0, ms: 150, count: 1 },
      { t: 10, ms: 150, count: 2 },
      { t: 20, ms: 400, count: 5 }, // held by a retransmission, arrives late
      { t: 30, ms: null }, // never answered
      { t: 400, ms: 30, count: 3 },
      { t: 410, ms: 30, count: 4 },
    ];
    const a = analyseSamples(base);
    expect(a).toMatchObject({ attempts: 6, failures: 1, wentBackwards: false, answersAfterLastFailure: 2 });
    // answers arrive at 150, 160, 420, 430, 440: the longest silence is 160 → 420
    expect(a.longestGapMs).toBe(260);
    expect(a.gapsMs).toEqual([260]);
    expect(a.faultGapMs).toBeNull();
    expect(analyseSamples(base, { at: 200 }).faultGapMs).toBe(260);
    expect(analyseSamples(base, { at: 155 }).faultGapMs).toBe(10);
    // injected at 155, handled at 300: the outage's silence (160 → 420) is found though it began after the injection
    expect(analyseSamples(base, { at: 155, handledAt: 300 }).faultGapMs).toBe(260);
    // a poll started after count 5 arrived (420) must not read 4
    expect(analyseSamples([...base, { t: 450, ms: 20, count: 4 }]).wentBackwards).toBe(true);
  });
});

describe('meter hedging', () => {
  it('starts a second poll after twice the recent median latency, within 100–500 ms', () => {
    expect(hedgeAfterMs([])).toBe(500);
    expect(hedgeAfterMs([150, 160, 900, 140, 170])).toBe(320);
    expect(hedgeAfterMs([5, 6, 7])).toBe(100);
    expect(hedgeAfterMs([400, 450, 420])).toBe(500);
  });
});

describe('guest counter slots on disk', () => {
  const slot = (n: number, sum: number) => Buffer.from(`LSGCOUNT1 n=${n} boot=abc sum=${sum}`.padEnd(511) + '\n', 'latin1');
  const good = (n: number) => slot(n, Number(((BigInt(n) % 4294967291n) * 65599n + 12345n) % 4294967291n));
  it('takes the highest slot whose check holds; a torn slot is counted, not trusted', () => {
    expect(parseCounterSlots(Buffer.concat([good(42), good(41)]))).toEqual({ count: 42, torn: 0 });
    expect(parseCounterSlots(Buffer.concat([slot(44, 1), good(43)]))).toEqual({ count: 43, torn: 1 });
    expect(parseCounterSlots(Buffer.alloc(1024))).toEqual({ count: null, torn: 0 });
  });
});
