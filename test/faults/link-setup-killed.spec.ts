/**
 * The app SIGKILLed in the middle of `link setup` on the namespace lab, then run again.
 * Invariants: the same journaled plan resumes at the interrupted step (the steps before it are
 * not run again), nothing is done twice (one address per cable end, nothing persisted twice),
 * nothing is half-done (link up, the same result as an uninterrupted run), no plan left running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkStatus } from '../../src-main/contract/index.js';
import { killNow, waitWhileRunning } from '../helpers/lab-cli.js';
import { currentStep, expectNoHalfDonePlans, expectNoLeftovers, journal, labProcesses } from './invariants.js';
import { inet, linkShape, mtuOf, NS_PREFIX, nsLab, operstate, persistedFiles, type LinkUp, type Up } from './ns-lab.js';

const lab = nsLab();
const cli = lab.cli;
let up: Up;
let baseline: LinkUp;
let processesBefore: string[];
let mtuBefore: number[];
const filesBefore = persistedFiles();

beforeAll(() => {
  up = lab.up();
  processesBefore = labProcesses(up);
  mtuBefore = [mtuOf(up.hosts[0]!, xo(0)), mtuOf(up.hosts[1]!, xo(1))];
  // the reference: an uninterrupted run, then undone
  baseline = cli.ok<LinkUp>(['link', 'setup', 'hostA', 'hostB']);
  expect(cli.ok<LinkStatus>(['link', 'remove'])).toEqual({ state: 'none' });
});
afterAll(async () => {
  lab.down();
  await expectNoLeftovers(NS_PREFIX);
});

const xo = (i: 0 | 1) => up.hosts[i]!.nics.find((n) => n.role === 'crossover')!.name;

describe('fault: the app killed mid `link setup`', () => {
  it.each(['link-address', 'link-mtu'])(
    'killed in %s: the rerun resumes that step of the same plan; one address per end; same link as uninterrupted',
    async (killStep) => {
      const run = cli.spawnCli(['link', 'setup', 'hostA', 'hostB']);
      // kill points with something half-done on the hosts: link-address once hostA carries its
      // address; link-mtu once the jumbo trial set MTU 9000 (the cable here takes 1500 only)
      const halfDone = () => (killStep === 'link-address' ? inet(up.hosts[0]!, xo(0)).length > 0 : mtuOf(up.hosts[0]!, xo(0)) === 9000);
      const at = await waitWhileRunning(
        run,
        () => {
          const c = currentStep(lab.home, 'link.setup');
          if (c?.step === 'link-record' || (c?.step === killStep && c.state === 'applying' && halfDone())) return c;
          return undefined;
        },
        240_000,
        `link setup to be half-way through ${killStep}`,
        10,
      );
      await killNow(run.child);
      expect(at.step, 'the kill landed in the step under test').toBe(killStep);
      console.log(
        `killed in ${killStep}: hostA ${xo(0)} ${inet(up.hosts[0]!, xo(0)).join(',') || 'no address'} MTU ${mtuOf(up.hosts[0]!, xo(0))}; hostB ${xo(1)} ${inet(up.hosts[1]!, xo(1)).join(',') || 'no address'} MTU ${mtuOf(up.hosts[1]!, xo(1))}`,
      );
      const before = journal(lab.home).find((p) => p.id === at.planId)!;
      expect(before.state).toBe('running');
      const doneBefore = before.steps.filter((s) => s.state === 'done' || s.state === 'skipped');

      const again = cli.ok<LinkUp>(['link', 'setup', 'hostA', 'hostB']);
      expect(linkShape(again)).toEqual(linkShape(baseline));
      const plans = journal(lab.home).filter((p) => p.kind === 'link.setup' && p.state !== 'done');
      expect(plans, 'no link plan left unfinished').toEqual([]);
      const after = journal(lab.home).find((p) => p.id === at.planId)!;
      expect(after.state, 'the interrupted plan itself was resumed and finished').toBe('done');
      // the steps finished before the kill were not run again
      for (const s of doneBefore)
        expect(
          after.steps.find((x) => x.id === s.id),
          s.id,
        ).toEqual(s);
      for (const s of after.steps) expect(s.applied, s.id).toBeLessThanOrEqual(s.id === killStep ? 2 : 1);
      expect(journal(lab.home).filter((p) => p.kind === 'link.setup').length, 'no second plan beside it').toBe(2 + (killStep === 'link-mtu' ? 1 : 0));
      // on the hosts: exactly the one /30 per end, link up both ways
      expect(inet(up.hosts[0]!, xo(0))).toEqual([again.a.address]);
      expect(inet(up.hosts[1]!, xo(1))).toEqual([again.b.address]);
      for (const i of [0, 1] as const) expect(operstate(up.hosts[i]!, xo(i))).not.toBe('DOWN');
      // the MTU the app reports is the one both NICs carry
      expect([mtuOf(up.hosts[0]!, xo(0)), mtuOf(up.hosts[1]!, xo(1))]).toEqual([again.mtu, again.mtu]);
      expect(cli.ok<LinkStatus>(['link', 'status'])).toMatchObject({ state: 'up', a: { address: again.a.address } });
      expect(persistedFiles()).toEqual(filesBefore);
      expectNoHalfDonePlans(lab.home);
      expect(cli.ok<LinkStatus>(['link', 'remove'])).toEqual({ state: 'none' });
      expect(inet(up.hosts[0]!, xo(0))).toEqual([]);
      expect([mtuOf(up.hosts[0]!, xo(0)), mtuOf(up.hosts[1]!, xo(1))], 'both NICs back at their MTU').toEqual(mtuBefore);
      // nothing the killed app started is still running on the hosts
      expect(labProcesses(up)).toEqual(processesBefore);
    },
  );
});
