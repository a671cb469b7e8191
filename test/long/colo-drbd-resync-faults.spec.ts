/**
 * Faults during a DRBD resync under the guest in lockstep (kernel lab): the app killed mid-resync, and
 * the returned host killed mid-resync. Each is a full story of minutes (drill, 600 MiB written while
 * apart, re-protect cut off, the rerun), so they run in `npm run bench` (group `long`) rather than in
 * `npm test`, whose CI budget they would overrun; DRBD's own mid-resync faults stay in npm test
 * (test/faults/mirror-faults.spec.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientProbeResult, PairStatus } from '../../src-main/contract/index.js';
import { WRITE_MIB, coloDrbdLab, coloInKernelHosts, inLockstep } from '../helpers/colo-drbd-lab.js';
import { killNow, waitWhileRunning } from '../helpers/lab-cli.js';
import { syncPercent, type Up } from '../helpers/kernel-lab.js';

const COLO_IN_KERNEL_HOSTS = coloInKernelHosts('colo-drbd resync faults');
const t = coloDrbdLab('uf', '198.18.77');
const { run, value } = t;
const resyncStarted = async () => ((await syncPercent(t.lab, t.host('hostA'))) !== null ? true : undefined);

beforeAll(() => {
  if (!COLO_IN_KERNEL_HOSTS) return;
  t.up();
  const s = inLockstep(value(run<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB'])));
  expect([s.primary.name, s.secondary.name, s.diskSync]).toEqual(['hostA', 'hostB', 'drbd']);
}, 900_000);

afterAll(() => {
  if (!COLO_IN_KERNEL_HOSTS) return t.home.remove();
  t.down();
}, 600_000);

describe.skipIf(!COLO_IN_KERNEL_HOSTS)('faults during the resync under the guest in lockstep (kernel lab)', () => {
  it('the app killed mid-resync: the survivor serves on while DRBD resyncs without the app; the rerun resumes that resync', async () => {
    await t.drill('kill-secondary', 'hostA', { role: 'primary', action: /^(continue-alone|degraded)$/ });
    await t.writeWhileApart('hostA', 'app-killed');
    const client = t.clientFor(40);
    const first = t.spawnCli(['lockstep', 'reprotect']);
    await waitWhileRunning(first, resyncStarted, 300_000, 'the resync to start', 200);
    await killNow(first.child);
    expect(await t.count(10), 'the survivor still answers').toBeGreaterThanOrEqual(0);
    await t.expectServedThroughout(client);
    // the rerun: the resync the killed app started is the one it reports. Its join (COLO's first
    // checkpoint carries the guest's RAM to the new secondary) holds the guest's answers meanwhile:
    // printed here, a known limit (the join is not live yet), not asserted
    const join = t.clientFor(60);
    t.reprotect('hostA', 'hostB', { writtenApart: WRITE_MIB * 2 ** 20 });
    const j = (await join.result()) as { ok: boolean; value: ClientProbeResult };
    console.log(`re-protect's join as a client saw it: longest gap ${j.value.longestGapMs} ms (${j.value.answers}/${j.value.attempts} answers)`);
    expect(j.value.wentBackwards).toBe(false);
  }, 900_000);

  it('the returned host killed mid-resync: the survivor serves on; after power-on re-protect finishes the resync and verifies', async () => {
    await t.drill('kill-secondary', 'hostA', { role: 'primary', action: /^(continue-alone|degraded)$/ });
    await t.writeWhileApart('hostA', 'host-killed');
    const client = t.clientFor(60);
    const first = t.spawnCli(['lockstep', 'reprotect']);
    await waitWhileRunning(first, resyncStarted, 300_000, 'the resync to start', 200);
    value(run(['lab', 'power', 'hostB', 'off']));
    const failed = await first.result();
    expect(failed.ok, 'the re-protect whose host died fails').toBe(false);
    expect(await t.count(10), 'the survivor still answers').toBeGreaterThanOrEqual(0);
    await t.expectServedThroughout(client);
    t.lab = value(run<Up>(['lab', 'power', 'hostB', 'on']));
    t.reprotect('hostA', 'hostB', { writtenApart: WRITE_MIB * 2 ** 20, resumed: true, verify: true });
  }, 900_000);
});
