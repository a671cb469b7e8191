import { describe, expect, it } from 'vitest';
import { actOf } from '../../src-main/agent/agent-actions.js';
import { agentHostStatus } from '../../src-main/agent/agent-status.js';

const meta = { host: '10.0.0.2:22', name: 'hostB', role: 'secondary' as const, how: 'direct' as const };

describe('what an agent did, for the drill report and the event history', () => {
  it('an agent that acted: its action, exit code, times and the reason of the decision that acted', () => {
    const st = agentHostStatus(
      meta,
      {
        mode: 'peer',
        role: 'secondary',
        state: 'took-over',
        armed: false,
        reason: 'acted',
        action: { last: 'failover', running: false, rc: 0, duration_ms: 27, started_at: 1000, finished_at: 1027 },
        decisions: [
          { at: 't1', from: 'waiting', to: 'protected', action: 'none', reason: 'crossover steady' },
          { at: 't2', from: 'protected', to: 'acting', action: 'failover', reason: 'primary silent on both paths for 303 ms: take over' },
        ],
      },
      [],
    );
    const a = actOf(st);
    expect(a).toMatchObject({ name: 'hostB', role: 'secondary', action: 'failover', rc: 0, state: 'took-over', startedAt: 1000, finishedAt: 1027 });
    expect(a.reason).toBe('primary silent on both paths for 303 ms: take over');
  });

  it('an agent that did not act (or did not answer) reads as no action, with its state', () => {
    expect(actOf({ ...agentHostStatus(meta, null, []), state: 'unreachable' })).toMatchObject({ action: null, rc: null, state: 'unreachable' });
  });
});
