/**
 * Lockstep under faults on the namespace lab (TCG): the app SIGKILLed mid-protect (twice, in two
 * steps), then the primary's public link cut, then the secondary's output stalled (in lockstep, and
 * during a protect), then the app SIGKILLed mid re-protect, then a host's disk full during protect.
 * Invariants after every scenario:
 * - no acknowledged write lost: the guest's counter on disk (a checksummed slot, read from the
 *   machine) is never below the last count a client was given, and the next answer is above it;
 * - the counter never goes backwards (each drill's own check, and across scenarios);
 * - never two primaries serving: at most one guest VM runs on the pair (QEMU processes counted
 *   from the machine, not through the app);
 * - nothing half-done: no plan left running, the interrupted plan itself resumed, one VM per role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PairStatus } from '../../src-main/contract/index.js';
import { killNow, waitWhileRunning } from '../helpers/lab-cli.js';
import { coloLab } from './colo-lab.js';
import { diskCount } from '../helpers/guest-disk.js';
import { currentStep, expectNoHalfDonePlans, journal } from './invariants.js';

const lab = coloLab();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The kill point: protect is applying `step` and its VM already runs on `host`. */
const applyingWithVm = (run: { ended(): string | null }, step: string, host: 'hostA' | 'hostB') =>
  waitWhileRunning(
    run,
    () => {
      const c = currentStep(lab.home, 'lockstep.protect');
      return c?.step === step && c.state === 'applying' && lab.vms()[host] === 1 ? c : undefined;
    },
    300_000,
    `protect to be starting the ${step}`,
    20,
  );

beforeAll(() => lab.up());
afterAll(() => lab.down());

describe('fault: lockstep (namespace hosts, TCG)', () => {
  it('the app killed mid-protect, in the secondary step and then in the primary step: the same plan resumes; one VM per host; lockstep', async () => {
    // first kill: the secondary QEMU is up on hostB, the primary not yet started
    const first = lab.cli.spawnCli(['lockstep', 'protect', 'hostA', 'hostB']);
    const at1 = await applyingWithVm(first, 'secondary', 'hostB');
    await killNow(first.child);
    expect(lab.cli.ok<PairStatus>(['lockstep', 'status']).state).toBe('starting');

    // second kill: the rerun resumed the plan; killed while the primary joins the secondary
    const second = lab.cli.spawnCli(['lockstep', 'protect', 'hostA', 'hostB']);
    const at2 = await applyingWithVm(second, 'primary', 'hostA');
    await sleep(1500); // into the join: proxies connected, migration under way
    await killNow(second.child);
    expect(at2.planId, 'the rerun resumed the interrupted plan').toBe(at1.planId);
    console.log(`killed mid-protect in ${at1.step}, then in ${at2.step}; VMs left running: ${JSON.stringify(lab.vms())}`);

    const s = lab.cli.ok<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB']);
    expect(s).toMatchObject({ state: 'lockstep', primary: { name: 'hostA' }, secondary: { name: 'hostB' } });
    const plans = lab.protectPlans();
    expect(
      plans.map((p) => [p.id, p.state]),
      'one plan, resumed twice and finished',
    ).toEqual([[at1.planId, 'done']]);
    const applied = Object.fromEntries(plans[0]!.steps.map((x) => [x.id, x.applied]));
    // done before the first kill: never redone; the interrupted steps at most once more
    expect(applied).toMatchObject({ stage: 1, network: 1 });
    expect(applied.secondary).toBeLessThanOrEqual(2);
    expect(applied.primary).toBeLessThanOrEqual(2);
    expectNoHalfDonePlans(lab.home);
    expect(lab.vms(), 'exactly one VM per host: nothing started twice').toEqual({ hostA: 1, hostB: 1 });
    await lab.peek();
    lab.expectDiskHoldsAcked('hostA');
  });

  it('cut-public-link: the secondary takes over, the isolated primary is fenced; TCP kept; the counter continues; re-protect after power-on', async () => {
    await lab.peek();
    const d = lab.drill('cut-public-link');
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' }, lost: { name: 'hostA' } });
    expect(d.timeline.map((e) => e.what).join(' | ')).toMatch(/public link cut.*app fenced the isolated primary.*colo-failover done/);
    expect(d.http.faultGapMs).not.toBeNull();
    expect(lab.vms(), 'never two primaries: the isolated one is off').toEqual({ hostA: 0, hostB: 1 });
    await lab.peek();
    lab.cli.ok(['lab', 'power', 'hostA', 'on']);
    const s = lab.cli.ok<PairStatus>(['lockstep', 'reprotect']);
    expect(s).toMatchObject({ state: 'lockstep', primary: { name: 'hostB' }, secondary: { name: 'hostA' } });
    expect(lab.vms()).toEqual({ hostA: 1, hostB: 1 });
    await lab.peek();
    lab.expectDiskHoldsAcked('hostB');
    console.log(
      `cut-public-link: detection ${d.detectionMs} ms, gap across the fault ${d.http.faultGapMs} ms, stream silence ${d.stream.longestGapMs} ms; acknowledged count ${lab.acked()}`,
    );
  });

  it("the secondary's output stops reaching the comparer: status says stalled; re-protect lets the primary continue alone and a fresh secondary joins; the count continues", async () => {
    await lab.peek();
    lab.stallSecondary('hostA');
    const seen: string[] = [];
    for (let i = 0; i < 40 && seen.at(-1) !== 'stalled'; i++) {
      lab.cli.json(['guest', 'peek']); // the traffic the comparer judges by (answers wait for checkpoints now)
      const st = lab.cli.ok<PairStatus>(['lockstep', 'status']);
      seen.push(st.state === 'lockstep' ? (st.secondaryOutput ?? 'none') : st.state);
      await sleep(500);
    }
    expect(seen.at(-1), `the watchdog saw: ${seen.join(' ')}`).toBe('stalled');
    const before = journal(lab.home).filter((p) => p.kind === 'lockstep.reprotect').length;
    const s = lab.cli.ok<PairStatus>(['lockstep', 'reprotect']);
    expect(s).toMatchObject({ state: 'lockstep', primary: { name: 'hostB' }, secondary: { name: 'hostA' } });
    expect(journal(lab.home).filter((p) => p.kind === 'lockstep.reprotect').length, 'one re-protect plan ran').toBe(before + 1);
    expect(lab.vms(), 'one VM per host: the stalled secondary was replaced').toEqual({ hostA: 1, hostB: 1 });
    await lab.peek();
    const after = lab.cli.ok<PairStatus>(['lockstep', 'status']);
    expect(after.state === 'lockstep' && after.secondaryOutput).not.toBe('stalled');
    lab.expectDiskHoldsAcked('hostB');
    expectNoHalfDonePlans(lab.home);
  });

  it('a secondary that stalls while protect waits for the guest to serve is replaced by protect itself: it returns in lockstep, serving', async () => {
    lab.cli.ok(['lockstep', 'stop']);
    const before = journal(lab.home).filter((p) => p.kind === 'lockstep.reprotect').length;
    const run = lab.cli.spawnCli(['lockstep', 'protect', 'hostB', 'hostA']);
    // COLO is up (the record says lockstep) and the guest is still booting: protect is waiting for it to serve
    await waitWhileRunning(
      run,
      () => (lab.cli.json<PairStatus>(['lockstep', 'status']).value?.state === 'lockstep' ? true : undefined),
      300_000,
      'protect to reach lockstep',
      0,
    );
    lab.stallSecondary('hostA');
    const r = (await run.result()) as { ok: boolean; value: PairStatus; error?: unknown };
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.value).toMatchObject({ state: 'lockstep', primary: { name: 'hostB' }, secondary: { name: 'hostA' } });
    expect(journal(lab.home).filter((p) => p.kind === 'lockstep.reprotect').length, 'protect replaced the secondary once').toBe(before + 1);
    expect(lab.vms()).toEqual({ hostA: 1, hostB: 1 });
    await lab.peek();
    lab.expectDiskHoldsAcked('hostB');
    expectNoHalfDonePlans(lab.home);
  });

  it('the app killed mid re-protect, while the disk is copied to the returned host: the rerun resumes the same plan; lockstep with roles swapped; the count continues', async () => {
    await lab.peek();
    const d = lab.drill('kill-primary-vm');
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostA' } });
    const run = lab.cli.spawnCli(['lockstep', 'reprotect']);
    const at = await waitWhileRunning(
      run,
      () => {
        const c = currentStep(lab.home, 'lockstep.reprotect');
        return c?.step === 'resync' && c.state === 'applying' ? c : undefined;
      },
      300_000,
      're-protect to be copying the disk',
      20,
    );
    await killNow(run.child);
    expect(lab.cli.ok<PairStatus>(['lockstep', 'status']).state).toBe('starting');
    await lab.peek(); // the survivor keeps serving while nobody drives the re-protect

    const s = lab.cli.ok<PairStatus>(['lockstep', 'reprotect']);
    expect(s).toMatchObject({ state: 'lockstep', primary: { name: 'hostA' }, secondary: { name: 'hostB' } });
    const plan = journal(lab.home).find((p) => p.id === at.planId)!;
    expect(plan.state, 'the interrupted plan itself resumed and finished').toBe('done');
    const applied = Object.fromEntries(plan.steps.map((x) => [x.id, x.applied]));
    expect(applied, 'done before the kill: never redone').toMatchObject({ returned: 1, network: 1, secondary: 1, lockstep: 1 });
    expect(applied.resync).toBeLessThanOrEqual(2);
    expect(lab.vms(), 'one VM per host').toEqual({ hostA: 1, hostB: 1 });
    await lab.peek();
    lab.expectDiskHoldsAcked('hostA');
    expectNoHalfDonePlans(lab.home);
  });

  it('hostB’s disk full while protect copies the guest to it: a clear error naming the fix; no VM, no partial file left; protect works once there is room', async () => {
    lab.cli.ok(['lockstep', 'stop']);
    const countA = diskCount(lab.home, 'lx', 'hostA').count;
    // hostB's /var/lib/lockstep becomes a 12 MiB tmpfs: room for the kernel and initrd, not for the 16 MiB disk
    lab.onHost('hostB', 'mount -t tmpfs -o size=12m tmpfs /var/lib/lockstep');
    try {
      const r = lab.cli.json<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB']);
      expect(r.ok).toBe(false);
      expect(r.error).toMatchObject({ code: 'host-disk-full', step: 'stage' });
      expect(r.error!.message).toMatch(/^hostB has no room for .*disk\.img: it needs 16\.0 MiB/);
      expect(r.error!.fix).toContain('Free space on hostB');
      expect(r.error!.fix).toContain('lockstep lockstep protect hostA hostB');
      expect(lab.vms(), 'nothing started').toEqual({ hostA: 0, hostB: 0 });
      expect(lab.onHost('hostB', 'find /var/lib/lockstep -name "*.part" -o -name disk.img'), 'no partial upload left on hostB').toBe('');
      expect(diskCount(lab.home, 'lx', 'hostA').count, "hostA's disk untouched").toBe(countA);
      expect(lab.cli.ok<PairStatus>(['lockstep', 'status'])).toMatchObject({ state: 'unprotected' });
      expectNoHalfDonePlans(lab.home);
    } finally {
      lab.onHost('hostB', 'umount /var/lib/lockstep');
    }
    expect(lab.cli.ok<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB'])).toMatchObject({ state: 'lockstep', primary: { name: 'hostA' } });
    await lab.peek();
    lab.expectDiskHoldsAcked('hostA');
  });
});
