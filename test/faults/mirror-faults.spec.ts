/**
 * DRBD under faults on the KERNEL lab (user-mode Linux hosts, real DRBD 8.4). One file, one lab
 * boot (~1–2 min): the app killed mid initial sync, then a host killed mid resync.
 * Invariants: the interrupted plan resumes at its step (nothing done twice), the sync completes,
 * no half-done plan is left, and the disks end identical (`mirror verify` + checksums).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkStatus, MirrorStatusDTO } from '../../src-main/contract/index.js';
import { labEnv } from '../helpers/lab-env.js';
import { killNow, labCli, waitFor } from './cli-json.js';
import { currentStep, expectMirrorIdentical, expectNoHalfDonePlans, journal } from './invariants.js';
import { alive, mustOnHost, rebootLabHost, sha, stopKernels, syncPercent, type LabHost, type Up } from './kernel-lab.js';

const PREFIX = 'lfk';
const { env, home } = labEnv(PREFIX, '198.18.83');
const cli = labCli(env);
let lab: Up;
let A: LabHost;
let B: LabHost;
let dataBytes = 0;

beforeAll(() => {
  cli.json(['lab', 'down']);
  lab = cli.ok<Up>(['lab', 'up', '--kernel']);
  [A, B] = lab.hosts as [LabHost, LabHost];
  cli.ok(['hosts', 'add-lab']);
  expect(cli.ok<LinkStatus>(['link', 'setup', 'hostA', 'hostB'])).toMatchObject({ state: 'up' });
});

afterAll(() => {
  if (cli.json(['lab', 'down']).ok !== true && lab) stopKernels(home.path, PREFIX, lab.hosts);
  home.remove();
});

async function disksEqual(primary: LabHost, secondary: LabHost): Promise<void> {
  expect(await sha(lab, secondary, '/dev/ubda', dataBytes)).toBe(await sha(lab, primary, '/dev/drbd0', dataBytes));
}

describe('fault: DRBD sync interrupted (kernel lab)', () => {
  it('the app SIGKILLed mid initial sync: the rerun resumes the same plan at the sync step, nothing is done twice, the disks end identical', async () => {
    const run = cli.spawnCli(['mirror', 'setup']);
    // kill point: the journal says the sync step is applying and DRBD has copied something
    await waitFor(() => (currentStep(home.path, 'mirror.setup')?.step === 'mirror-sync' ? true : undefined), 180_000, 'the sync step');
    const pct = await waitFor(async () => ((await syncPercent(lab, B)) ?? 0) > 0 || undefined, 60_000, 'DRBD to start copying', 200);
    expect(pct).toBe(true);
    await killNow(run.child);
    const killedAt = await syncPercent(lab, A);
    expect(killedAt, 'the sync was still running when the app died').not.toBeNull();
    const [interrupted] = journal(home.path).filter((p) => p.kind === 'mirror.setup');
    expect(interrupted).toMatchObject({ state: 'running' });

    const t0 = Date.now();
    const m = cli.ok<MirrorStatusDTO>(['mirror', 'setup']);
    console.log(`killed at ${killedAt}% synced; the rerun finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(m).toMatchObject({ state: 'connected', a: { role: 'Primary', diskState: 'UpToDate' }, b: { role: 'Secondary', diskState: 'UpToDate' } });
    // resumed, not restarted: the one plan, finished; steps before the sync ran once (create-md once)
    const plans = journal(home.path).filter((p) => p.kind === 'mirror.setup');
    expect(plans.map((p) => [p.id, p.state])).toEqual([[interrupted!.id, 'done']]);
    const byId = Object.fromEntries(plans[0]!.steps.map((s) => [s.id, s]));
    for (const id of ['mirror-disks', 'mirror-module', 'mirror-config', 'mirror-metadata', 'mirror-up']) expect(byId[id]!.applied, id).toBeLessThanOrEqual(1);
    expect(byId['mirror-metadata']!.applied).toBe(1);
    expect(['done', 'skipped']).toContain(byId['mirror-sync']!.state);
    expectNoHalfDonePlans(home.path);
    dataBytes = Number((await mustOnHost(lab, A, ['blockdev', '--getsize64', '/dev/drbd0'])).trim());
    await disksEqual(A, B);
    expectMirrorIdentical(cli);
  });

  it('a host killed (power cut) mid resync and booted again: DRBD resyncs and the disks end identical', async () => {
    // a full resync A → B, then B's kernel dies in the middle of it
    await mustOnHost(lab, A, ['drbdadm', 'invalidate-remote', 'r0']);
    await waitFor(async () => ((await syncPercent(lab, B)) ?? 0) > 1 || undefined, 60_000, 'the resync to be under way', 200);
    const pid = B.pids[0]!;
    process.kill(-pid, 'SIGKILL'); // the whole UML process group
    await waitFor(() => (alive(pid) ? undefined : true), 15_000, 'hostB to die');
    // the primary goes on taking writes while its peer is away
    await mustOnHost(lab, A, [
      'sh',
      '-c',
      'yes lockstep-while-apart | head -c 8388608 | dd of=/dev/drbd0 bs=1M seek=32 iflag=fullblock oflag=direct status=none',
    ]);
    expect(cli.ok<MirrorStatusDTO>(['mirror', 'status'])).toMatchObject({ b: { role: 'unreachable' } });

    rebootLabHost(home.path, PREFIX, B);
    // lab hosts keep no network config across a reboot: the link comes back by setting it up again
    expect(cli.ok<LinkStatus>(['link', 'setup', 'hostA', 'hostB'])).toMatchObject({ state: 'up' });
    const m = cli.ok<MirrorStatusDTO>(['mirror', 'setup']);
    expect(m).toMatchObject({ state: 'connected', a: { role: 'Primary', diskState: 'UpToDate' }, b: { role: 'Secondary', diskState: 'UpToDate' } });
    expectNoHalfDonePlans(home.path);
    await disksEqual(A, B);
    expectMirrorIdentical(cli);
  });
});
