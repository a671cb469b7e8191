/**
 * DRBD under faults on the KERNEL lab (user-mode Linux hosts, real DRBD 8.4). One file, one lab
 * boot (~1–3 min), in order:
 *  1. a host's disk full while `mirror setup` writes its config → a clear error naming the fix, and
 *     neither host changed (no config, no metadata, no resource up);
 *  2. the app SIGKILLed mid initial sync → the rerun resumes the same plan at the sync step, nothing
 *     is done twice, the disks end identical;
 *  3. a host's kernel killed (power cut) mid resync, brought back by `lab up --kernel` (same disk)
 *     → the resync completes and the disks end identical.
 * A sync on this lab takes seconds: the test slows the crossover cable (tbf on hostB's tap, on the
 * machine) while it needs a sync in progress, and lifts it afterwards.
 * Invariants: no plan left running, disks identical (`mirror verify` 0 out of sync + checksums), and
 * after `lab down` no namespace, kernel or mount of the lab left.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabStatus, LinkStatus, MirrorStatusDTO } from '../../src-main/contract/index.js';
import { labEnv } from '../helpers/lab-env.js';
import { killNow, labCli, waitFor, waitWhileRunning } from '../helpers/lab-cli.js';
import { currentStep, expectMirrorIdentical, expectNoHalfDonePlans, expectNoLeftovers, journal } from './invariants.js';
import { alive, dataDisk, fixtureArgv, mustOnHost, onHost, sha, stopKernels, syncPercent, type LabHost, type Up } from '../helpers/kernel-lab.js';

const PREFIX = 'lfk';
const { env, home } = labEnv(PREFIX, '198.18.83');
const cli = labCli(env);
let lab: Up;
let A: LabHost;
let B: LabHost;
let dataBytes = 0;

/** hostB's crossover tap on the machine (in the lab's wire namespace): what DRBD's copy to B crosses. */
const tapOf = (h: LabHost) => `${PREFIX}${h.name.slice(-1).toLowerCase()}${h.nics.findIndex((n) => n.role === 'crossover')}`;
function slowCable(h: LabHost, rate: string): void {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', `${PREFIX}-wire`, 'tc', 'qdisc', 'replace', 'dev', tapOf(h), 'root', 'tbf', 'rate', rate, 'burst', '64kb', 'latency', '400ms'],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`tc on ${tapOf(h)}: ${r.stderr}`);
}
/** Lifts the slowdown (a tap made again by a reboot has none: tolerated). */
const fastCable = (h: LabHost) => spawnSync('ip', ['netns', 'exec', `${PREFIX}-wire`, 'tc', 'qdisc', 'del', 'dev', tapOf(h), 'root'], { encoding: 'utf8' });

beforeAll(() => {
  cli.json(['lab', 'down']);
  lab = cli.ok<Up>(['lab', 'up', '--kernel']);
  [A, B] = lab.hosts as [LabHost, LabHost];
  cli.ok(['hosts', 'add-lab']);
  expect(cli.ok<LinkStatus>(['link', 'setup', 'hostA', 'hostB'])).toMatchObject({ state: 'up' });
});

afterAll(async () => {
  if (cli.json(['lab', 'down']).ok !== true && lab) stopKernels(home.path, PREFIX, lab.hosts);
  await expectNoLeftovers(PREFIX, home.path);
  home.remove();
});

async function disksEqual(primary: LabHost, secondary: LabHost): Promise<void> {
  expect(await sha(lab, secondary, dataDisk(secondary), dataBytes)).toBe(await sha(lab, primary, '/dev/drbd0', dataBytes));
}

/** What `mirror setup` may change on a host: its config file, DRBD metadata on the disk, a configured resource. */
async function mirrorFootprint(h: LabHost): Promise<{ files: string; signature: string; configured: string }> {
  const out = await mustOnHost(lab, h, [
    'sh',
    '-c',
    'ls -1 /etc/drbd.d | grep -v "^global_common.conf$" | grep -v "^\\.fill$" || true; echo @@; blkid -p -o value -s TYPE "$1" || true; echo @@; cat /proc/drbd 2>/dev/null | grep -E "^ *0:" || true',
    'sh',
    dataDisk(h),
  ]);
  const [files = '', signature = '', configured = ''] = out.split('@@').map((x) => x.trim());
  return { files, signature, configured };
}

describe('fault: DRBD setup and sync under faults (kernel lab)', () => {
  it('hostB’s disk full while the config is written: a clear error naming the fix; neither host changed', async () => {
    // /etc/drbd.d on hostB becomes a 64 KiB tmpfs, filled to the last byte
    await mustOnHost(lab, B, [
      'sh',
      '-c',
      'cp /etc/drbd.d/global_common.conf /run/gc.conf && mount -t tmpfs -o size=64k tmpfs /etc/drbd.d && cp /run/gc.conf /etc/drbd.d/global_common.conf && { dd if=/dev/zero of=/etc/drbd.d/.fill bs=4k 2>/dev/null || true; }',
    ]);
    try {
      const before = [await mirrorFootprint(A), await mirrorFootprint(B)];
      const r = cli.json<MirrorStatusDTO>(['mirror', 'setup']);
      expect(r.ok).toBe(false);
      expect(r.error).toMatchObject({ code: 'host-disk-full', host: `${B.address}:22`, step: 'mirror-config' });
      expect(r.error!.message).toContain('hostB');
      expect(r.error!.cause).toContain('No space left on device');
      expect(r.error!.fix).toContain('Free space on hostB');
      expect(r.error!.fix).toContain('lockstep mirror setup');
      // nothing changed on either host (hostA's config was written beside, never put in place)
      expect([await mirrorFootprint(A), await mirrorFootprint(B)]).toEqual(before);
      expect(before[0]).toEqual({ files: '', signature: '', configured: '' });
      expectNoHalfDonePlans(home.path);
      expect(
        journal(home.path)
          .filter((p) => p.kind === 'mirror.setup')
          .map((p) => p.state),
      ).toEqual(['failed']);
      expect(cli.ok<MirrorStatusDTO>(['mirror', 'status']).state).not.toMatch(/connected|syncing/);
    } finally {
      await mustOnHost(lab, B, fixtureArgv(['umount', '/etc/drbd.d']));
    }
  });

  it('the app SIGKILLed mid initial sync: the rerun resumes the same plan at the sync step, nothing is done twice, the disks end identical', async () => {
    // DRBD syncs with checksums (csums-alg): blocks that already match cross no cable, and two blank
    // disks match everywhere. 124 MiB that hostB lacks must cross it, ~4 MB/s: half a minute of sync.
    // From 4 MiB on: data in the first blocks makes `drbdadm create-md` ask (the app refuses a busy disk).
    await mustOnHost(lab, A, [
      'sh',
      '-c',
      'yes lockstep-initial-sync | head -c 130023424 | dd of="$1" bs=1M seek=4 iflag=fullblock oflag=direct status=none',
      'sh',
      dataDisk(A),
    ]);
    slowCable(B, '32mbit');
    let interruptedId = '';
    let killedAt: number | null = null;
    try {
      const run = cli.spawnCli(['mirror', 'setup']);
      await waitWhileRunning(run, () => (currentStep(home.path, 'mirror.setup')?.step === 'mirror-sync' ? true : undefined), 240_000, 'the sync step');
      await waitWhileRunning(run, async () => ((await syncPercent(lab, B)) ?? 0) > 2 || undefined, 120_000, 'DRBD to copy a few percent', 500);
      await killNow(run.child);
      killedAt = await syncPercent(lab, A);
      const seen = killedAt === null ? (await onHost(lab, A, ['cat', '/proc/drbd'])).stdout : '';
      expect(killedAt, `the sync was still running when the app died (hostA's /proc/drbd: ${seen})`).not.toBeNull();
      const interrupted = journal(home.path).filter((p) => p.kind === 'mirror.setup' && p.state === 'running');
      expect(interrupted).toHaveLength(1);
      interruptedId = interrupted[0]!.id;
    } finally {
      fastCable(B);
    }
    const t0 = Date.now();
    const m = cli.ok<MirrorStatusDTO>(['mirror', 'setup']);
    console.log(`killed at ${killedAt}% synced; the rerun finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(m).toMatchObject({ state: 'connected', a: { role: 'Primary', diskState: 'UpToDate' }, b: { role: 'Secondary', diskState: 'UpToDate' } });
    // resumed, not restarted: the interrupted plan finished, no new one beside it (the failed one of the disk-full test stays failed)
    const plans = journal(home.path).filter((p) => p.kind === 'mirror.setup');
    expect(plans.map((p) => p.state)).toEqual(['failed', 'done']);
    expect(plans[1]!.id).toBe(interruptedId);
    const byId = Object.fromEntries(plans[1]!.steps.map((s) => [s.id, s]));
    for (const id of ['mirror-disks', 'mirror-module', 'mirror-config', 'mirror-metadata', 'mirror-up']) expect(byId[id]!.applied, id).toBeLessThanOrEqual(1);
    expect(byId['mirror-metadata']!.applied, 'create-md ran once').toBe(1);
    expect(byId['mirror-sync']!.applied, 'the sync step: once before the kill, at most once after').toBeLessThanOrEqual(2);
    expect(['done', 'skipped']).toContain(byId['mirror-sync']!.state);
    expectNoHalfDonePlans(home.path);
    dataBytes = Number((await mustOnHost(lab, A, ['blockdev', '--getsize64', '/dev/drbd0'])).trim());
    await disksEqual(A, B);
    expectMirrorIdentical(cli);
  });

  it('hostB’s kernel killed (power cut) mid resync and brought back by `lab up --kernel`: the resync completes, the disks end identical', async () => {
    // a resync A → B (slowed), then B's kernel dies in the middle of it: 96 MiB written on hostA while
    // apart, so they differ from hostB's blocks (a resync of matching blocks crosses no cable: csums-alg)
    await mustOnHost(lab, A, ['drbdadm', 'disconnect', 'r0']);
    await mustOnHost(lab, A, ['sh', '-c', 'yes lockstep-resync | head -c 100663296 | dd of=/dev/drbd0 bs=1M seek=64 iflag=fullblock oflag=direct status=none']);
    slowCable(B, '32mbit');
    await mustOnHost(lab, A, ['drbdadm', 'connect', 'r0']);
    await waitFor(async () => ((await syncPercent(lab, B)) ?? 0) > 2 || undefined, 60_000, 'the resync to be under way', 500);
    const pid = B.pids[0]!;
    process.kill(-pid, 'SIGKILL'); // the kernel's whole process group: a pulled plug
    await waitFor(() => (alive(pid) ? undefined : true), 15_000, 'hostB to die');
    fastCable(B);
    // the primary goes on taking writes while its peer is away
    await mustOnHost(lab, A, [
      'sh',
      '-c',
      'yes lockstep-while-apart | head -c 8388608 | dd of=/dev/drbd0 bs=1M seek=32 iflag=fullblock oflag=direct status=none',
    ]);
    expect(cli.ok<MirrorStatusDTO>(['mirror', 'status'])).toMatchObject({ b: { role: 'unreachable' } });
    expect(cli.ok<LabStatus>(['lab', 'status']).state).toBe('partial');

    // the lab brings back only the dead host, with its own disk and keys (hostA keeps running)
    const again = cli.ok<Up>(['lab', 'up', '--kernel']);
    expect(again.hosts.map((h) => [h.name, h.fingerprint])).toEqual(lab.hosts.map((h) => [h.name, h.fingerprint]));
    expect(again.hosts[0]!.pids).toEqual(A.pids);
    expect(alive(A.pids[0]!)).toBe(true);
    B = again.hosts[1]!;
    expect((await onHost(lab, A, ['drbdadm', 'role', 'r0'])).stdout.trim()).toMatch(/^Primary/);
    // lab hosts keep no network config across a reboot: the link comes back by setting it up again
    expect(cli.ok<LinkStatus>(['link', 'setup', 'hostA', 'hostB'])).toMatchObject({ state: 'up' });
    const m = cli.ok<MirrorStatusDTO>(['mirror', 'setup']);
    expect(m).toMatchObject({ state: 'connected', a: { role: 'Primary', diskState: 'UpToDate' }, b: { role: 'Secondary', diskState: 'UpToDate' } });
    expectNoHalfDonePlans(home.path);
    await disksEqual(A, B);
    // what was written while apart is on hostB's disk
    expect((await mustOnHost(lab, B, ['sh', '-c', 'dd if="$1" bs=1M skip=32 count=1 iflag=direct status=none | head -c 21', 'sh', dataDisk(B)])).trim()).toBe(
      'lockstep-while-apart',
    );
    expectMirrorIdentical(cli);
  });
});
