import { describe, expect, it } from 'vitest';
import type { PairStatus, PlanDTO } from '../../src-main/contract/index.js';
import { drillRefusal } from '../../src-main/drill/drill-refusal.js';
import { plugBlocker } from '../../src-renderer/lib/plug-ready.js';

const A = { host: '10.0.0.1:22', name: 'hostA', colo: 'primary' as const };
const B = { host: '10.0.0.2:22', name: 'hostB', colo: 'secondary' as const };
const lockstep = (secondaryOutput?: 'flowing' | 'stalled' | 'waiting'): PairStatus => ({
  state: 'lockstep',
  primary: A,
  secondary: B,
  since: 0,
  checkpoints: 3,
  checkpointsPerSecond: 0.5,
  checkpointPauseMsP50: 40,
  lastCheckpointAt: 0,
  diskSync: 'full-copy',
  guestAddress: '10.0.0.50',
  ...(secondaryOutput ? { secondaryOutput } : {}),
});
const reprotecting: PairStatus = { state: 'starting', primary: A, secondary: B, step: 'reprotecting' };
const plan = (kind: string, state: PlanDTO['state']): PlanDTO => ({ id: kind, kind, title: `the ${kind}`, state, createdAt: 0, updatedAt: 0, steps: [] });

describe('a drill is refused by the pair state, with what is going on and what to do', () => {
  it('runs in lockstep with the secondary talking or idle', () => {
    expect(drillRefusal(lockstep('flowing'))).toBeNull();
    expect(drillRefusal(lockstep('waiting'))).toBeNull();
    expect(drillRefusal(lockstep())).toBeNull();
  });
  it("a pair running the user's own VM: runs when a port of it was named (the meter watches it), refused with the fix otherwise", () => {
    const vm = { source: 'hostA:/img.qcow2', memoryMiB: 256, cpus: 1 };
    expect(drillRefusal({ ...lockstep('flowing'), vm: { ...vm, port: 6379 } } as PairStatus)).toBeNull();
    const e = drillRefusal({ ...lockstep('flowing'), vm } as PairStatus)!;
    expect(e.code).toBe('drill-no-port');
    expect(e.message).toContain('hostA:/img.qcow2');
    expect(e.fix).toContain('--disk hostA:/img.qcow2 --memory 256 --cpus 1 --port');
    // the stalled secondary is refused for a user VM too
    expect(drillRefusal({ ...lockstep('stalled'), vm: { ...vm, port: 6379 } } as PairStatus)?.code).toBe('secondary-stalled');
  });
  it('a re-protect running says wait, not "protect first"', () => {
    const e = drillRefusal(reprotecting)!;
    expect(e.code).toBe('pair-starting');
    expect(e.message).toMatch(/re-protect is running/);
    expect(e.fix).toMatch(/Wait until the Dashboard says Protected/);
  });
  it('a stalled secondary, a failover, maintenance and nothing protected each name their own fix', () => {
    expect(drillRefusal(lockstep('stalled'))).toMatchObject({ code: 'secondary-stalled', fix: expect.stringMatching(/Re-protect/) });
    expect(drillRefusal({ state: 'failed-over', survivor: B, lost: A, at: 0, guestAddress: 'x' })).toMatchObject({
      fix: expect.stringMatching(/Re-protect first/),
    });
    expect(drillRefusal({ state: 'maintenance', survivor: B, host: A, since: 0, guestAddress: 'x' })?.fix).toContain('maintenance exit hostA');
    expect(drillRefusal({ state: 'unprotected', why: 'none' })?.fix).toContain('Protect the guest first');
  });
});

describe('the Pull the plug button says why it cannot be pressed', () => {
  it('is free in lockstep with nothing running', () => {
    expect(plugBlocker(lockstep('flowing'), [plan('lockstep.reprotect', 'done')])).toBeNull();
  });
  it('waits while a plan changes the pair, even when the last status still said lockstep', () => {
    expect(plugBlocker(lockstep('flowing'), [plan('lockstep.reprotect', 'running')])).toBe('Wait: “the lockstep.reprotect” is running.');
    expect(plugBlocker(lockstep('flowing'), [plan('link.setup', 'running')])).toBeNull();
  });
  it('names a re-protect in progress, a stalled secondary, and no pair', () => {
    expect(plugBlocker(reprotecting, [])).toBe('Wait: a re-protect is running.');
    expect(plugBlocker(lockstep('stalled'), [])).toMatch(/stalled: re-protect first/);
    expect(plugBlocker(null, [])).toBe('Available once the guest runs in lockstep.');
  });
});
