import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockstepError, type AppEvent } from '../../src-main/contract/index.js';
import { EventBus } from '../../src-main/events/event-bus.js';
import { Store } from '../../src-main/store/store.js';
import { sleep } from '../../src-main/tasks/cancel.js';
import { RateEstimator } from '../../src-main/tasks/progress.js';
import { TaskRunner } from '../../src-main/tasks/runner.js';
import { self } from '../../src-main/tasks/owner.js';
import type { PlanKind, Step } from '../../src-main/tasks/step.js';

interface World {
  state: Set<string>;
  applies: string[];
}

function stepFor(world: World, id: string, opts: { failVerify?: boolean; slow?: number } = {}): Step<unknown> {
  return {
    id,
    title: `make ${id}`,
    probe: async () => world.state.has(id),
    apply: async (ctx) => {
      world.applies.push(id);
      if (opts.slow) {
        for (let i = 1; i <= 5; i++) {
          await sleep(opts.slow / 5, ctx.signal);
          ctx.progress({ fraction: i / 5, message: `${id} ${i}/5` });
        }
      }
      if (!opts.failVerify) world.state.add(id);
    },
    verify: async () => {
      if (!world.state.has(id)) throw new LockstepError({ code: 'not-converged', message: `${id} is still missing`, fix: `create ${id}` });
    },
  };
}

describe('TaskRunner', () => {
  let store: Store;
  let bus: EventBus;
  let runner: TaskRunner;
  let world: World;
  let events: AppEvent[];

  beforeEach(() => {
    store = Store.open(':memory:');
    bus = new EventBus(store.events);
    runner = new TaskRunner(store.plans, bus);
    world = { state: new Set(), applies: [] };
    events = [];
    bus.on((e) => events.push(e));
  });
  afterEach(() => store.close());

  const kind = (steps: () => Step<unknown>[]): PlanKind<unknown> => ({ kind: 'test', title: () => 'Test plan', steps });

  it('runs probe → apply → verify in order and journals each step', async () => {
    runner.register(kind(() => [stepFor(world, 'a'), stepFor(world, 'b')]));
    const plan = await runner.run('test', {});
    expect(plan.state).toBe('done');
    expect(plan.steps.map((s) => [s.id, s.state, s.applied])).toEqual([
      ['a', 'done', 1],
      ['b', 'done', 1],
    ]);
    expect(world.applies).toEqual(['a', 'b']);
    expect(events.some((e) => e.type === 'task-updated' && e.plan.state === 'done')).toBe(true);
  });

  it('"already so" is success: a second run applies nothing', async () => {
    runner.register(kind(() => [stepFor(world, 'a'), stepFor(world, 'b')]));
    await runner.run('test', {});
    const again = await runner.run('test', {});
    expect(again.state).toBe('done');
    expect(again.steps.map((s) => s.state)).toEqual(['skipped', 'skipped']);
    expect(world.applies).toEqual(['a', 'b']);
  });

  it('a failed verify stops the plan with the step and its fix', async () => {
    runner.register(kind(() => [stepFor(world, 'a', { failVerify: true }), stepFor(world, 'b')]));
    const plan = await runner.run('test', {});
    expect(plan.state).toBe('failed');
    expect(plan.error).toMatchObject({ code: 'not-converged', step: 'a', fix: 'create a' });
    expect(plan.steps[1]!.state).toBe('pending');
    expect(world.applies).toEqual(['a']);
  });

  it('tries a step again after an error its plan kind names as transient (probe first), a bounded number of times', async () => {
    let drops = 2;
    const flaky: Step<unknown> = {
      ...stepFor(world, 'b'),
      apply: async () => {
        world.applies.push('b');
        if (drops-- > 0) throw new LockstepError({ code: 'ssh-dropped', message: 'The SSH connection dropped.' });
        world.state.add('b');
      },
    };
    runner.register({ ...kind(() => [stepFor(world, 'a'), flaky]), retry: { codes: ['ssh-dropped'], attempts: 3 } });
    const plan = await runner.run('test', {});
    expect(plan.state).toBe('done');
    expect(world.applies).toEqual(['a', 'b', 'b', 'b']);
    expect(plan.steps.map((s) => [s.id, s.state, s.applied])).toEqual([
      ['a', 'done', 1],
      ['b', 'done', 3],
    ]);
    // the same error past the bound, or an error not named, ends the plan
    drops = 5;
    world.state.delete('b');
    const again = await runner.run('test', {});
    expect(again.state).toBe('failed');
    expect(again.error).toMatchObject({ code: 'ssh-dropped', step: 'b' });
  }, 20_000);

  it('reports progress and can be cancelled mid-step', async () => {
    runner.register(kind(() => [stepFor(world, 'a', { slow: 1000 }), stepFor(world, 'b')]));
    const { id, done } = runner.start('test', {});
    await new Promise<void>((resolve) => {
      const off = bus.on((e) => {
        if (e.type === 'task-updated' && e.plan.progress && (e.plan.progress.fraction ?? 0) > 0) {
          off();
          resolve();
        }
      });
    });
    runner.cancel(id);
    const plan = await done;
    expect(plan.state).toBe('cancelled');
    expect(plan.steps[0]!.state).toBe('cancelled');
    expect(plan.error?.code).toBe('cancelled');
    expect(world.applies).toEqual(['a']);
  });

  it('resumes a plan whose owner died, re-probing the interrupted step', async () => {
    runner.register(kind(() => [stepFor(world, 'a'), stepFor(world, 'b'), stepFor(world, 'c')]));
    // a plan journaled by a process that no longer exists, interrupted in step b after its effect happened
    store.plans.create({
      id: 'dead-plan-0001',
      kind: 'test',
      title: 'Test plan',
      params: {},
      steps: ['a', 'b', 'c'].map((id) => ({ id, title: id })),
      ownerPid: 2 ** 22 + 7,
      ownerStart: '1',
    });
    store.plans.setStep('dead-plan-0001', 'a', { state: 'done' });
    store.plans.setStep('dead-plan-0001', 'b', { state: 'applying', appliedInc: true });
    world.state.add('a').add('b');
    const resumed = runner.resumeInterrupted();
    expect(resumed.map((r) => r.id)).toEqual(['dead-plan-0001']);
    const plan = await resumed[0]!.done;
    expect(plan.state).toBe('done');
    expect(plan.steps.map((s) => s.state)).toEqual(['done', 'skipped', 'done']);
    expect(world.applies).toEqual(['c']);
  });

  it('does not steal a plan whose owner is alive, but takes one whose PID was reused', () => {
    runner.register(kind(() => [stepFor(world, 'a')]));
    store.plans.create({
      id: 'live-plan-0001',
      kind: 'test',
      title: 't',
      params: {},
      steps: [{ id: 'a', title: 'a' }],
      ownerPid: self.pid,
      ownerStart: self.start,
    });
    expect(runner.resumeInterrupted()).toEqual([]);
    // same PID, different start time: a reused PID, so the owner is dead
    store.plans.create({
      id: 'reused-pid-0001',
      kind: 'test',
      title: 't',
      params: {},
      steps: [{ id: 'a', title: 'a' }],
      ownerPid: process.pid,
      ownerStart: 'not-my-start',
    });
    expect(runner.resumeInterrupted().map((r) => r.id)).toEqual(['reused-pid-0001']);
  });
});

describe('RateEstimator', () => {
  it('computes fraction, rate and ETA from samples', () => {
    const r = new RateEstimator(1000, 'B', 1);
    expect(r.sample(0, 0, 'start')).toEqual({ fraction: 0, message: 'start' });
    const p = r.sample(100, 1000, 'go');
    expect(p.fraction).toBeCloseTo(0.1);
    expect(p.rate).toBeCloseTo(100);
    expect(p.etaSeconds).toBeCloseTo(9);
  });
  it('smooths the rate', () => {
    const r = new RateEstimator(1000, 'B', 0.5);
    r.sample(0, 0, '');
    r.sample(100, 1000, '');
    expect(r.sample(400, 2000, '').rate).toBeCloseTo(200);
  });
});

describe('Store', () => {
  it('migrates once and searches events safely', () => {
    const s = Store.open(':memory:');
    const b = new EventBus(s.events);
    b.log('info', 'lab', 'host A up', { host: 'hostA' });
    b.log('warn', 'lab', "100% ready; drop table events; --'");
    expect(s.events.list({ limit: 10, query: '100%' }).map((e) => e.source)).toEqual(['lab']);
    expect(s.events.list({ limit: 10, query: 'hostA' })).toHaveLength(1);
    expect(s.events.list({ limit: 10, query: '_' })).toHaveLength(0);
    expect(s.events.list({ limit: 1 })[0]!.message).toContain('drop table');
    s.close();
  });
});
