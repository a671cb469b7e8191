import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillMode, DrillReport, LabStatus, PairStatus } from '../../src-main/contract/index.js';
import { leftovers } from '../../src-main/virtual-lab/observe.js';
import { cli } from '../helpers/processes.js';
import { diskCount } from '../helpers/guest-disk.js';
import { labEnv } from '../helpers/lab-env.js';

// Every drill mode in turn on one pair, with a re-protect after each: roles swap, the second drill fails back.
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

/** A drill that must pass, with the guest's counter never going backwards across it. */
async function drill(mode: DrillMode): Promise<DrillReport> {
  const before = await count(10);
  const r = value(run<DrillReport>(['drill', 'run', mode]));
  if (r.verdict !== 'passed') console.log(mode, JSON.stringify({ timeline: r.timeline, http: { ...r.http, samples: undefined }, stream: r.stream }));
  expect(r.reasons).toEqual([]);
  expect(r.verdict).toBe('passed');
  expect(r.http.wentBackwards).toBe(false);
  expect(r.stream.survived).toBe(true);
  expect(await count(10)).toBeGreaterThanOrEqual(before);
  // no acknowledged write lost: the serving host's disk holds every count a client was given in the drill
  // (read from the machine; a survivor that was the secondary commits its overlay to it within moments)
  const acked = Math.max(before, ...r.http.samples.map((x) => x.count ?? 0));
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
  cli(['lockstep', 'stop'], env);
  cli(['lab', 'down'], env);
  home.remove();
});

describe('re-protect after every drill mode; the next drill fails back (namespace hosts, TCG)', () => {
  it('protects: primary on hostA, secondary on hostB', async () => {
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostA', 'hostB']);
    await checkpointsAdvance();
    await count(); // the guest has booted inside COLO and answers
  });

  it('re-protect while in lockstep is success and changes nothing', () => {
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'reprotect'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostA', 'hostB']);
  });

  it('kill-primary-vm: hostB takes over; re-protect brings hostA back as the secondary (roles swapped)', async () => {
    const d = await drill('kill-primary-vm');
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' } });
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'reprotect'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostB', 'hostA']);
    expect(s.diskSync).toBe('full-copy');
    await checkpointsAdvance();
  });

  it('power-off-host (hostB, now primary): fails back to hostA; re-protect waits for power, then swaps again', async () => {
    const d = await drill('power-off-host');
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

  it('kill-secondary: the primary continues alone; re-protect restores lockstep with the same roles', async () => {
    const d = await drill('kill-secondary');
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostA' }, lost: { name: 'hostB' } });
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'reprotect'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostA', 'hostB']);
    await checkpointsAdvance();
  });

  it('cut-crossover: never two primaries, the primary serves alone; re-protect after the link returns', async () => {
    const d = await drill('cut-crossover');
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostA' } });
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'reprotect'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostA', 'hostB']);
    await checkpointsAdvance();
  });

  it('stop ends every VM; lab down leaves nothing', async () => {
    expect(value(run<PairStatus>(['lockstep', 'stop'])).state).toBe('unprotected');
    value(run(['lab', 'down']));
    expect(await leftovers(PREFIX)).toEqual([]);
  });
});
