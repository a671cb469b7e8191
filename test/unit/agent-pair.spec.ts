import { describe, expect, it } from 'vitest';
import { agentPair } from '../../src-main/app/agent-pair.js';
import type { PairRecord } from '../../src-main/lockstep/pair-record.js';

const base = {
  primary: '198.18.77.12:22',
  secondary: '198.18.77.11:22',
  accel: 'tcg',
  qemuMajor: 7,
  xa: '10.99.0.2',
  xb: '10.99.0.1',
  guestAddress: '198.18.77.50',
  guestCidr: '198.18.77.50/24',
  since: 7,
  diskSync: 'drbd',
} as const;

describe('what the core hands the host agents of the pair', () => {
  it('a re-protected pair: the primary still runs the QEMU started as the secondary, its file set goes with it', () => {
    const r: PairRecord = { ...base, state: 'lockstep', primaryVm: 'secondary', replNode: 'replication3' };
    expect(agentPair(r)).toEqual({
      state: 'lockstep',
      since: 7,
      primary: base.primary,
      secondary: base.secondary,
      xa: base.xa,
      xb: base.xb,
      vmFiles: { primary: 'secondary', secondary: 'secondary' },
      replNode: 'replication3',
    });
  });

  it('a fresh pair uses the primary set; only lockstep and failed-over are told apart', () => {
    expect(agentPair({ ...base, state: 'starting' })).toMatchObject({ state: 'other', vmFiles: { primary: 'primary', secondary: 'secondary' } });
    expect(agentPair({ ...base, state: 'starting' })).not.toHaveProperty('replNode');
    expect(agentPair({ ...base, state: 'failed-over', failedAt: 1, lost: base.secondary }).state).toBe('failed-over');
  });
});
