import { describe, expect, it } from 'vitest';
import { dfAvailableKiB } from '../../src-main/hosts/remote-files.js';
import { crossoverAddressesShown } from '../../src-main/lockstep/crossover-addresses.js';
import { comparerInputs, judgeFlow, parseSsTcp, STALL_AFTER_MS, STALL_MIN_PRIMARY_BYTES, type FlowSample } from '../../src-main/lockstep/comparer-flow.js';

// `ss -tniH state established '( sport = :9004 or sport = :9001 )'` on a primary host (captured in the lab)
const SS = `0      0      10.99.0.1:9004 10.99.0.2:47264
\t bbr wscale:10,10 rto:200 rtt:0.023/0.011 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:10 bytes_received:24315 segs_out:635 segs_in:637 data_segs_in:635
0      0      127.0.0.1:9001 127.0.0.1:41488
\t bbr wscale:10,10 rto:204 rtt:0.026/0.028 mss:32768 cwnd:18 bytes_sent:1495 bytes_acked:1495 segs_out:36 segs_in:38 data_segs_out:36 snd_wnd:65536
`;

const s = (at: number, primaryOut: number, secondaryIn: number): FlowSample => ({ at, primaryOut, secondaryIn });

describe('the comparer inputs (ss)', () => {
  it('reads each socket and its byte counters', () => {
    expect(parseSsTcp(SS)).toEqual([
      { local: '10.99.0.1', localPort: 9004, peer: '10.99.0.2', peerPort: 47264, bytesSent: 0, bytesReceived: 24315 },
      { local: '127.0.0.1', localPort: 9001, peer: '127.0.0.1', peerPort: 41488, bytesSent: 1495, bytesReceived: 0 },
    ]);
    expect(comparerInputs(parseSsTcp(SS), 7)).toEqual({ at: 7, primaryOut: 1495, secondaryIn: 24315 });
  });

  it('IPv6 endpoints, no sockets, and garbage lines give what they can', () => {
    expect(parseSsTcp('0 0 [::1]:9001 [::1]:5000\n\t bytes_sent:10\n')).toMatchObject([{ local: '::1', localPort: 9001, bytesSent: 10 }]);
    expect(parseSsTcp('')).toEqual([]);
    expect(parseSsTcp('\t bytes_sent:10\nnonsense\n')).toEqual([]);
    expect(comparerInputs([], 1)).toEqual({ at: 1, primaryOut: 0, secondaryIn: 0 });
  });
});

describe('judging the flow', () => {
  it('the secondary said something: flowing, and the baseline moves', () => {
    expect(judgeFlow(s(0, 100, 50), s(1000, 200, 51))).toEqual({ flow: 'flowing', base: s(1000, 200, 51) });
  });

  it('the primary talks and the secondary is silent for long enough: stalled', () => {
    const base = s(0, 100, 0);
    expect(judgeFlow(base, s(STALL_AFTER_MS, 100 + STALL_MIN_PRIMARY_BYTES, 0)).flow).toBe('stalled');
    expect(judgeFlow(base, s(STALL_AFTER_MS - 1, 50_000, 0)).flow, 'not long enough').toBe('waiting');
    expect(judgeFlow(base, s(60_000, 99 + STALL_MIN_PRIMARY_BYTES, 0)).flow, 'too little said by the primary').toBe('waiting');
  });

  it('silence on both sides restarts the clock: traffic after a quiet hour is not a stall', () => {
    const quiet = judgeFlow(s(0, 100, 10), s(3_600_000, 100, 10));
    expect(quiet).toEqual({ flow: 'waiting', base: s(3_600_000, 100, 10) });
    expect(judgeFlow(quiet.base, s(3_600_500, 50_000, 10)).flow).toBe('waiting');
  });

  it('counters that went down (new sockets) start a new baseline', () => {
    expect(judgeFlow(s(0, 5000, 5000), s(9000, 10, 0))).toEqual({ flow: 'waiting', base: s(9000, 10, 0) });
  });
});

describe('the lab crossover addresses on a NIC', () => {
  it('finds every lab crossover address (a host once given both roles’ addresses)', () => {
    const shown = '7: eth1    inet 10.99.0.1/30 scope global eth1\\       valid_lft forever\n7: eth1    inet 10.99.0.2/30 scope global eth1\\ \n';
    expect(crossoverAddressesShown(shown)).toEqual(['10.99.0.1', '10.99.0.2']);
    expect(crossoverAddressesShown('7: eth1    inet 192.168.5.1/24 scope global eth1')).toEqual([]);
  });
});

describe('free space on a host (df -Pk)', () => {
  it('reads the available KiB, or null when df said something else', () => {
    const df = 'Filesystem     1024-blocks  Used Available Capacity Mounted on\ntmpfs                12288  9316      2972      76% /var/lib/lockstep\n';
    expect(dfAvailableKiB(df)).toBe(2972);
    expect(dfAvailableKiB('df: /nowhere: No such file or directory\n')).toBeNull();
    expect(dfAvailableKiB('')).toBeNull();
  });
});
