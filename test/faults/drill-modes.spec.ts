import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentStatus, DrillMode, DrillReport, LabStatus, PairStatus } from '../../src-main/contract/index.js';
import { leftovers } from '../../src-main/virtual-lab/observe.js';
import { cli } from '../helpers/processes.js';
import { diskCount } from '../helpers/guest-disk.js';
import { labEnv } from '../helpers/lab-env.js';

// Every drill mode in turn on one pair, with a re-protect after each: roles swap, the second drill fails back.
// The host agents are armed for every drill (deployed by the drill itself after a re-protect) and they, not
// the app, fail over: the report and the event history say which agent did what.
// After each drill: no acknowledged write lost (the serving host's disk, read from the machine).
const PREFIX = 'ld';
const { env, home } = labEnv(PREFIX, '198.18.80');

type Out<T> = { ok: boolean; value: T; error?: { code: string; message: string; fix?: string } };
function run<T>(args: string[]): Out<T> {
  // protect, re-protect and drills take a while under TCG on a busy machine
  const r = cli([...args, '--json'], env, 300_000);
  try {
    return JSON.parse(r.stdout) as never;
  } catch {
    throw new Error(`not JSON from ${args.join(' ')}: ${r.stdout} ${r.stderr}`);
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const value = <T>(o: Out<T>): T => {
  if (!o.ok) throw new Error(JSON.stringify(o.error));
  return o.value;
};
type Lockstep = Extract<PairStatus, { state: 'lockstep' }>;
const inLockstep = (s: PairStatus): Lockstep => {
  if (s.state !== 'lockstep') throw new Error(`expected lockstep, got ${JSON.stringify(s)}`);
  return s;
};
/** The guest's counter, as a visitor reads it (retried: it may still be booting, or paused by a checkpoint). */
async function count(tries = 120): Promise<number> {
  for (let i = 1; ; i++) {
    const r = run<{ count: number }>(['guest', 'peek']);
    if (r.ok) return r.value.count;
    if (i >= tries) throw new Error(JSON.stringify(r.error));
    await sleep(1000);
  }
}

/** Checkpoints advance in lockstep (at least two more within 20 s). */
async function checkpointsAdvance(): Promise<Lockstep> {
  const first = inLockstep(value(run<PairStatus>(['lockstep', 'status'])));
  for (let i = 0; i < 20; i++) {
    await sleep(1000);
    const now = inLockstep(value(run<PairStatus>(['lockstep', 'status'])));
    if (now.checkpoints >= first.checkpoints + 2) return now;
  }
  throw new Error('checkpoints did not advance');
}

const AGENT_ACTION = { secondary: 'failover', primary: /^(continue-alone|degraded)$/ } as const;

/**
 * A drill that must pass, with the guest's counter never going backwards across it; `actor` is the
 * host whose agent must act (and the other's must not).
 */
async function drill(mode: DrillMode, actor: { name: string; role: 'primary' | 'secondary' }): Promise<DrillReport> {
  const before = await count(10);
  const r = value(run<DrillReport>(['drill', 'run', mode]));
  const { samples: _h, ...http } = r.http;
  const fig = { gaps: r.gaps, breakdown: r.breakdown, agents: r.agents, ordinary: { ...r.ordinary, samples: undefined } };
  console.log(`${mode}: ${JSON.stringify(fig)}`);
  if (r.verdict !== 'passed') console.log(mode, JSON.stringify({ timeline: r.timeline, http, stream: r.stream }));
  expect(r.reasons).toEqual([]);
  expect(r.verdict).toBe('passed');
  expect(r.http.wentBackwards).toBe(false);
  expect(r.stream.survived).toBe(true);
  // the agents acted, not the app: the actor's agent ran the one failover sequence, the other agent did not act
  const acted = r.agents?.find((a) => a.name === actor.name);
  expect(acted, JSON.stringify(r.agents)).toMatchObject({ role: actor.role, rc: 0 });
  expect(acted!.action).toMatch(actor.role === 'secondary' ? AGENT_ACTION.secondary : AGENT_ACTION.primary);
  expect(r.agents?.filter((a) => a.name !== actor.name && a.action && (a.startedAt ?? 0) >= r.startedAt)).toEqual([]);
  // the figures a plain client saw: all three named, the headline the worst of ordinary and stream
  expect(r.gaps!.headlineMs).toBe(Math.max(r.gaps!.ordinaryClientMs ?? 0, r.gaps!.streamMs));
  expect(r.ordinary!.attempts).toBeGreaterThan(20);
  expect(r.breakdown!.detectionMs).toBeGreaterThan(0);
  expect(r.breakdown!.failoverDoneMs).toBeGreaterThanOrEqual(r.breakdown!.detectionMs!);
  // the event history says which agent did what
  const events = value(run<{ message: string }[]>(['events', 'list', '--query', `Drill ${mode}: ${actor.name}'s agent (${actor.role}) ran`]));
  expect(events.length, `event history of ${mode}`).toBeGreaterThan(0);
  expect(await count(10)).toBeGreaterThanOrEqual(before);
  // no acknowledged write lost: the serving host's disk holds every count a client was given in the drill
  // (read from the machine; a survivor that was the secondary commits its overlay to it within moments)
  const acked = Math.max(before, ...r.http.samples.map((x) => x.count ?? 0), ...(r.ordinary?.samples ?? []).map((x) => x.count ?? 0));
  const host = r.after.state === 'failed-over' ? r.after.survivor.name : r.after.state === 'lockstep' ? r.after.primary.name : null;
  expect(host, `a host serves after ${mode}`).not.toBeNull();
  let onDisk: number | null = null;
  for (let i = 0; i < 20 && (onDisk ?? -1) < acked; i++, await sleep(500)) onDisk = diskCount(home.path, PREFIX, host!).count;
  expect(onDisk, `${host}'s disk holds the last acknowledged count ${acked}`).toBeGreaterThanOrEqual(acked);
  return r;
}

beforeAll(() => {
  cli(['lab', 'down'], env);
  value(run<LabStatus>(['lab', 'up']));
  value(run(['hosts', 'add-lab']));
});
afterAll(() => {
  cli(['agent', 'stop'], env);
  cli(['lockstep', 'stop'], env);
  cli(['lab', 'down'], env);
  home.remove();
});

describe('every drill mode with the host agents armed: the agents fail over; re-protect after each (namespace hosts, TCG)', () => {
  it('protects: primary on hostA, secondary on hostB; the agents arm', async () => {
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostA', 'hostB']);
    await checkpointsAdvance();
    await count(); // the guest has booted inside COLO and answers
    const a = value(run<AgentStatus>(['agent', 'deploy']));
    expect(a.state === 'deployed' && a.hosts.every((h) => h.armed)).toBe(true);
  });

  it('re-protect while in lockstep is success and changes nothing', () => {
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'reprotect'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostA', 'hostB']);
  });

  it("kill-primary-vm: hostB's agent takes over; re-protect brings hostA back as the secondary (roles swapped)", async () => {
    const d = await drill('kill-primary-vm', { name: 'hostB', role: 'secondary' });
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' } });
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'reprotect'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostB', 'hostA']);
    expect(s.diskSync).toBe('full-copy');
    await checkpointsAdvance();
  });

  it("power-off-host (hostB, now primary): hostA's agent fails back; re-protect waits for power, then swaps again", async () => {
    const d = await drill('power-off-host', { name: 'hostA', role: 'secondary' });
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostA' }, lost: { name: 'hostB' } });
    const lab = value(run<LabStatus>(['lab', 'status']));
    expect(lab.state === 'up' && lab.hosts.find((h) => h.name === 'hostB')?.power).toBe('off');
    // the host is still off: a clear error naming the fix, and the survivor keeps serving alone
    const early = run<PairStatus>(['lockstep', 'reprotect']);
    expect(early.ok).toBe(false);
    expect(early.error?.code).toBe('host-still-down');
    expect(early.error?.fix).toContain('lab power hostB on');
    expect(value(run<PairStatus>(['lockstep', 'status'])).state).toBe('failed-over');
    value(run<LabStatus>(['lab', 'power', 'hostB', 'on']));
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'reprotect'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostA', 'hostB']);
    await checkpointsAdvance();
  });

  it("cut-public-link (hostA): the app fences the cut-off primary, hostB's agent takes over; re-protect after power-on", async () => {
    const d = await drill('cut-public-link', { name: 'hostB', role: 'secondary' });
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' }, lost: { name: 'hostA' } });
    expect(d.timeline.map((e) => e.what).join('\n')).toContain('app fenced the isolated primary');
    value(run<LabStatus>(['lab', 'power', 'hostA', 'on']));
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'reprotect'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostB', 'hostA']);
    await checkpointsAdvance();
  });

  it("kill-secondary: hostB's agent (primary) continues alone; re-protect restores lockstep with the same roles", async () => {
    const d = await drill('kill-secondary', { name: 'hostB', role: 'primary' });
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' }, lost: { name: 'hostA' } });
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'reprotect'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostB', 'hostA']);
    await checkpointsAdvance();
  });

  it("cut-crossover: hostB's agent (primary) continues alone (degraded), never two primaries; re-protect after the link returns", async () => {
    const d = await drill('cut-crossover', { name: 'hostB', role: 'primary' });
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' } });
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'reprotect'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostB', 'hostA']);
    await checkpointsAdvance();
  });

  it('stop ends every VM and the agents; lab down leaves nothing', async () => {
    expect(value(run<AgentStatus>(['agent', 'stop'])).state).toBe('stopped');
    expect(value(run<PairStatus>(['lockstep', 'stop'])).state).toBe('unprotected');
    value(run(['lab', 'down']));
    expect(await leftovers(PREFIX)).toEqual([]);
  });
});
