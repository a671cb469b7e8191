import { describe, expect, it } from 'vitest';
import { agentPair } from '../../src-main/app/agent-pair.js';
import { reprotectedPair as base } from '../helpers/pair-record.js';

describe('what the core hands the host agents of the pair', () => {
  it('a re-protected pair: the primary still runs the QEMU started as the secondary, its file set goes with it', () => {
    expect(agentPair({ ...base, replNode: 'replication3' })).toEqual({
      state: 'lockstep',
      since: 1,
      primary: base.primary,
      secondary: base.secondary,
      xa: base.xa,
      xb: base.xb,
      vmFiles: { primary: 'secondary', secondary: 'secondary' },
      replNode: 'replication3',
    });
  });

  it('a fresh pair uses the primary set; only lockstep and failed-over are told apart', () => {
    const fresh = { ...base, state: 'starting', primaryVm: undefined } as const;
    expect(agentPair(fresh)).toMatchObject({ state: 'other', vmFiles: { primary: 'primary', secondary: 'secondary' } });
    expect(agentPair(fresh)).not.toHaveProperty('replNode');
    expect(agentPair({ ...base, state: 'failed-over', failedAt: 1, lost: base.secondary }).state).toBe('failed-over');
  });
});
