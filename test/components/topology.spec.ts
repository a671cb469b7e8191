import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Topology from '../../src-renderer/components/Topology.svelte';
import { topologyModel } from '../../src-renderer/lib/topology.js';
import type { LinkStatus, PairStatus } from '../../src-main/contract/index.js';

const hosts = [
  { name: 'hostA', hostId: '198.18.77.11:22' },
  { name: 'hostB', hostId: '198.18.77.12:22' },
];
const link: LinkStatus = {
  state: 'up',
  a: { host: hosts[0]!.hostId, name: 'hostA', nic: 'eth2', mac: '02:00:00:00:00:01', address: '10.99.0.1/30', mtu: 9000, persistence: 'none' },
  b: { host: hosts[1]!.hostId, name: 'hostB', nic: 'eth1', mac: '02:00:00:00:00:02', address: '10.99.0.2/30', mtu: 9000, persistence: 'none' },
  subnet: '10.99.0.0/30',
  mtu: 9000,
  picture: 'hostA eth2 ⇄ hostB eth1',
  measured: { rttP50Ms: 0.08, rttP99Ms: 0.2, mibPerSec: 1500, tool: 'iperf3' },
  notes: [],
};
const side = (host: string, colo: 'primary' | 'secondary') => ({ host, name: 'demo', colo });

describe('topology picture', () => {
  it('idle pair: not protected, no cable yet', () => {
    render(Topology, { model: topologyModel({ hosts, link: null, mirror: null, pair: null }) });
    expect(screen.getByTestId('headline').dataset.tone).toBe('idle');
    expect(screen.getByTestId('cable').dataset.state).toBe('none');
    expect(screen.getAllByTestId('topology-host').map((h) => h.dataset.role)).toEqual(['idle', 'idle']);
  });

  it('lockstep: says protected in words a visitor understands, marks primary and secondary, shows the link', () => {
    const pair: PairStatus = {
      state: 'lockstep',
      primary: side(hosts[0]!.hostId, 'primary'),
      secondary: side(hosts[1]!.hostId, 'secondary'),
      since: 0,
      checkpoints: 40,
      checkpointsPerSecond: 0.5,
      checkpointPauseMsP50: 49,
      lastCheckpointAt: 0,
      diskSync: 'full-copy',
      guestAddress: '198.18.77.50',
    };
    render(Topology, { model: topologyModel({ hosts, link, mirror: null, pair }) });
    expect(screen.getByTestId('headline').textContent).toContain('Protected — a host can fail and the guest keeps running');
    expect(screen.getAllByTestId('topology-host').map((h) => h.dataset.role)).toEqual(['primary', 'secondary']);
    expect(screen.getByTestId('cable').dataset.state).toBe('up');
    expect(screen.getByRole('img').getAttribute('aria-label')).toContain('eth2 ⇄ eth1');
    expect(screen.getByRole('img').getAttribute('aria-label')).toContain('0.50 checkpoints/s');
  });

  it('failed over: warns that the guest runs on one host and names the failed one', () => {
    const pair: PairStatus = {
      state: 'failed-over',
      survivor: side(hosts[1]!.hostId, 'primary'),
      lost: side(hosts[0]!.hostId, 'primary'),
      at: 0,
      guestAddress: '198.18.77.50',
    };
    render(Topology, { model: topologyModel({ hosts, link, mirror: null, pair }) });
    expect(screen.getByTestId('headline').dataset.tone).toBe('warn');
    expect(screen.getByTestId('headline').textContent).toContain('hostA failed');
    expect(screen.getAllByTestId('topology-host').map((h) => h.dataset.role)).toEqual(['lost', 'survivor']);
  });

  it('lockstep on DRBD: the disk layer says apart in lockstep, and what the last re-protect resynced', () => {
    const pair: PairStatus = {
      state: 'lockstep',
      primary: side(hosts[0]!.hostId, 'primary'),
      secondary: side(hosts[1]!.hostId, 'secondary'),
      since: 0,
      checkpoints: 40,
      checkpointsPerSecond: 0.5,
      checkpointPauseMsP50: 120,
      lastCheckpointAt: 0,
      diskSync: 'drbd',
      disk: { resource: 'r0', device: '/dev/drbd0' },
      lastResync: { how: 'drbd', bytes: 4 * 2 ** 20, seconds: 0.06, verifiedOutOfSyncBytes: 0, at: 0 },
      guestAddress: '198.18.77.50',
    };
    const drbdSide = (h: (typeof hosts)[number]) => ({ host: h.hostId, name: h.name, disk: '/dev/ubda', role: 'Primary', diskState: 'UpToDate' });
    const mirror = {
      state: 'standalone',
      resource: 'r0',
      device: '/dev/drbd0',
      a: drbdSide(hosts[0]!),
      b: drbdSide(hosts[1]!),
      percent: null,
      rateKiBps: null,
      etaSeconds: null,
      outOfSyncKiB: 4,
      underPair: 'split-in-lockstep',
    } as const;
    render(Topology, { model: topologyModel({ hosts, link, mirror, pair }) });
    expect(screen.getByRole('img').getAttribute('aria-label')).toContain('DRBD apart in lockstep: each side records its writes');
    expect(screen.getByTestId('headline').textContent).toContain('Disk on DRBD r0 (/dev/drbd0). Last re-protect: DRBD resynced 4 MiB.');
  });
});
