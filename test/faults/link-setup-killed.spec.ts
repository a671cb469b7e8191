/**
 * The app SIGKILLed in the middle of `link setup` on the namespace lab, then run again.
 * Invariants: the same journaled plan resumes at the interrupted step (the steps before it are
 * not run again), nothing is done twice (one address per cable end, nothing persisted twice),
 * nothing is half-done (link up, the same result as an uninterrupted run), no plan left running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkStatus } from '../../src-main/contract/index.js';
import { killNow, waitFor } from './cli-json.js';
import { currentStep, expectNoHalfDonePlans, journal } from './invariants.js';
import { inet, linkShape, nsLab, operstate, persistedFiles, type LinkUp, type Up } from './ns-lab.js';

const lab = nsLab();
const cli = lab.cli;
let up: Up;
let baseline: LinkUp;
const filesBefore = persistedFiles();

beforeAll(() => {
  up = lab.up();
  // the reference: an uninterrupted run, then undone
  baseline = cli.ok<LinkUp>(['link', 'setup', 'hostA', 'hostB']);
  expect(cli.ok<LinkStatus>(['link', 'remove'])).toEqual({ state: 'none' });
});
afterAll(() => lab.down());

const xo = (i: 0 | 1) => up.hosts[i]!.nics.find((n) => n.role === 'crossover')!.name;

describe('fault: the app killed mid `link setup`', () => {
  it.each(['link-address', 'link-measure'])(
    'killed in %s: the rerun resumes that step of the same plan; one address per end; same link as uninterrupted',
    async (killStep) => {
      const run = cli.spawnCli(['link', 'setup', 'hostA', 'hostB']);
      const at = await waitFor(
        () => {
          const c = currentStep(lab.home, 'link.setup');
          return c && (c.step === killStep || c.step === 'link-record') ? c : undefined;
        },
        60_000,
        `link setup to reach ${killStep}`,
        10,
      );
      await killNow(run.child);
      expect(at.step, 'the kill landed in the step under test').toBe(killStep);
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
      expect(journal(lab.home).filter((p) => p.kind === 'link.setup').length, 'no second plan beside it').toBe(2 + (killStep === 'link-measure' ? 1 : 0));
      // on the hosts: exactly the one /30 per end, link up both ways
      expect(inet(up.hosts[0]!, xo(0))).toEqual([again.a.address]);
      expect(inet(up.hosts[1]!, xo(1))).toEqual([again.b.address]);
      for (const i of [0, 1] as const) expect(operstate(up.hosts[i]!, xo(i))).not.toBe('DOWN');
      expect(cli.ok<LinkStatus>(['link', 'status'])).toMatchObject({ state: 'up', a: { address: again.a.address } });
      expect(persistedFiles()).toEqual(filesBefore);
      expectNoHalfDonePlans(lab.home);
      expect(cli.ok<LinkStatus>(['link', 'remove'])).toEqual({ state: 'none' });
      expect(inet(up.hosts[0]!, xo(0))).toEqual([]);
    },
  );
});
