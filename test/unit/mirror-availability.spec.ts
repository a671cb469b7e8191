import { describe, expect, it } from 'vitest';
import type { FindingDTO, PreflightReport } from '../../src-main/contract/preflight.js';
import { drbdAvailability, unavailableStatus, type StoredPreflight } from '../../src-main/mirror/availability.js';

const A = '198.18.82.11:22';
const B = '198.18.82.12:22';
const summary = (hostId: string, name: string): PreflightReport['hosts'][number] => ({
  hostId,
  name,
  kernel: '6.1.0-40-amd64',
  accel: 'tcg',
  qemu: '7.2.19',
  drbd: null,
  memoryMiB: 4096,
  gatherMs: 80,
});
const noModule = (host: string): FindingDTO => ({
  id: 'drbd-module',
  level: 'fail',
  blocks: 'mirror',
  what: 'No DRBD kernel module for kernel 6.1.0-40-amd64',
  why: 'Neither /proc/drbd nor `modinfo drbd` found it.',
  fix: 'apt-get install -y linux-image-amd64 && reboot',
  host,
});
const stored = (findings: FindingDTO[], hosts = [summary(A, 'hostA'), summary(B, 'hostB')]): StoredPreflight => ({
  at: 1_700_000_000_000,
  refs: hosts.map((h) => h.hostId),
  report: { hosts, findings, verdict: { tier: 'lockstep', why: '' }, clockOffsetSeconds: 0, seconds: 1 },
});

describe('drbdAvailability: can this pair have a DRBD mirror, per its last preflight', () => {
  it('is unknown without a preflight, or when the preflight checked other hosts', () => {
    expect(drbdAvailability(undefined, [A, B]).state).toBe('unknown');
    expect(drbdAvailability(stored([]), [A, '198.18.82.13:22']).state).toBe('unknown');
    expect(drbdAvailability(stored([], [summary(A, 'hostA')]), [A, B]).state).toBe('unknown');
  });

  it('is available when no DRBD rule failed (other failures do not matter here)', () => {
    const kvm: FindingDTO = { id: 'kvm', level: 'warn', what: 'No KVM', why: '', fix: '', host: 'hostA' };
    expect(drbdAvailability(stored([kvm, { ...noModule('hostA'), level: 'ok' }]), [B, A])).toEqual({ state: 'available' });
  });

  it('is unavailable with every host’s reason and fix, without repeating a fix', () => {
    const utils: FindingDTO = {
      id: 'drbd-utils',
      level: 'fail',
      what: 'drbd-utils (drbdadm) is not installed',
      why: '',
      fix: 'apt-get install -y drbd-utils',
      host: 'hostB',
    };
    const a = drbdAvailability(stored([noModule('hostA'), noModule('hostB'), utils]), [A, B]);
    expect(a).toMatchObject({
      state: 'unavailable',
      why: 'hostA: No DRBD kernel module for kernel 6.1.0-40-amd64; hostB: No DRBD kernel module for kernel 6.1.0-40-amd64; hostB: drbd-utils (drbdadm) is not installed',
      hosts: [
        { host: A, name: 'hostA' },
        { host: B, name: 'hostB' },
      ],
      checkedAt: 1_700_000_000_000,
    });
    if (a.state !== 'unavailable') throw new Error('unreachable');
    expect(a.fix.split('; ')).toEqual([
      'on hostA: apt-get install -y linux-image-amd64 && reboot',
      'on hostB: apt-get install -y linux-image-amd64 && reboot',
      'on hostB: apt-get install -y drbd-utils',
    ]);
  });
});

describe('unavailableStatus: the mirror status of a pair without DRBD', () => {
  const a = drbdAvailability(stored([noModule('hostA'), noModule('hostB')]), [A, B]);
  if (a.state !== 'unavailable') throw new Error('expected unavailable');

  it('says Protect makes a full copy, and whether the user chose to go on for exactly these hosts', () => {
    expect(unavailableStatus(a, undefined)).toMatchObject({ state: 'unavailable', diskSync: 'full-copy', continued: false });
    expect(unavailableStatus(a, { hosts: [B, A], at: 1 }).continued).toBe(true);
    expect(unavailableStatus(a, { hosts: [A, '198.18.82.13:22'], at: 1 }).continued).toBe(false);
  });
});
