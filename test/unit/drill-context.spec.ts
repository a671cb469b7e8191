// The core hands drills the pair through a narrow context: the VM files a drill kills, the record it
// leaves after the agent acted, and the agents read when the drill runs (the core sets them late).
import { describe, expect, it } from 'vitest';
import { drillContext } from '../../src-main/app/drill-context.js';
import type { LockstepService } from '../../src-main/lockstep/lockstep-service.js';
import type { PairRecord } from '../../src-main/lockstep/pair-record.js';
import { reprotectedPair } from '../helpers/pair-record.js';

const base = reprotectedPair;

function fakeLockstep(record: PairRecord | undefined) {
  const saved: PairRecord[] = [];
  const svc = {
    deps: { hosts: {}, bus: {}, lab: {}, distDir: '/dist' },
    record: () => record,
    status: async () => ({ state: 'unprotected' }),
    pairs: { set: (r: PairRecord) => saved.push(r) },
    agents: undefined as LockstepService['agents'],
  };
  return { svc, saved, ctx: drillContext(svc as unknown as LockstepService) };
}

describe('the drill context the core hands over', () => {
  it("names the VM files of each role as the record has them (the survivor runs the secondary's files)", () => {
    const { ctx } = fakeLockstep(base);
    const p = ctx.pair()!;
    expect(p).toMatchObject({ primary: base.primary, secondary: base.secondary, guestAddress: base.guestAddress });
    expect(p.vm('primary')).toEqual({ pid: '/run/lockstep/vm/secondary.pid', qmp: '/run/lockstep/vm/secondary-qmp.sock' });
    expect(p.vm('secondary').pid).toBe('/run/lockstep/vm/secondary.pid');
    expect(ctx.vmPidFiles).toEqual(['/run/lockstep/vm/primary.pid', '/run/lockstep/vm/secondary.pid']);
    expect(fakeLockstep(undefined).ctx.pair()).toBeUndefined();
  });

  it('records the failover the agent made, and reads the agents when the drill runs', async () => {
    const { svc, saved, ctx } = fakeLockstep(base);
    expect(ctx.agents).toBeUndefined();
    await expect(ctx.pair()!.armAgents()).rejects.toMatchObject({ code: 'no-agents' });
    const agents = { ensureArmed: async () => 'already' as const, waitAction: async () => null, lastActions: async () => [] };
    svc.agents = agents as unknown as LockstepService['agents'];
    expect(ctx.agents).toBe(agents);
    expect(await ctx.pair()!.armAgents()).toBe('already');
    ctx.pair()!.failedOver('secondary-took-over', 9);
    expect(saved[0]).toMatchObject({ state: 'failed-over', failedAt: 9, lost: base.primary, primary: base.secondary });
  });
});
