/**
 * The whole product on the kernel lab (real DRBD 8.4 inside each host, QEMU COLO under TCG inside
 * them): link → DRBD mirror → the guest in lockstep ON the mirror's device → drills with the host
 * agents armed → re-protect that resyncs only what changed, verified online. Driven through the CLI;
 * the test looks at the hosts over SSH only (the serving host's disk, where the guest's disk lives).
 * The faults during a resync (the app killed, the returned host killed) are in
 * test/long/colo-drbd-resync-faults.spec.ts, run by `npm run bench` (CI's time budget).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabStatus, MirrorStatusDTO, PairStatus } from '../../src-main/contract/index.js';
import { coloDrbdLab, coloInKernelHosts, inLockstep } from '../helpers/colo-drbd-lab.js';
import { onHost, type Up } from '../helpers/kernel-lab.js';

const COLO_IN_KERNEL_HOSTS = coloInKernelHosts('colo-drbd');
const t = coloDrbdLab('ud', '198.18.76');
const { run, value } = t;

beforeAll(() => {
  if (COLO_IN_KERNEL_HOSTS) t.up();
}, 600_000);

afterAll(() => {
  if (!COLO_IN_KERNEL_HOSTS) return t.home.remove();
  t.down();
}, 600_000);

describe.skipIf(!COLO_IN_KERNEL_HOSTS)('the guest in lockstep on DRBD (kernel lab): drills, and re-protect that resyncs only what changed', () => {
  it('protect puts the guest on the DRBD device: no disk image anywhere, DRBD apart in lockstep', async () => {
    const s = inLockstep(value(run<PairStatus>(['lockstep', 'protect', 'hostA', 'hostB'])));
    expect([s.primary.name, s.secondary.name]).toEqual(['hostA', 'hostB']);
    expect(s.diskSync).toBe('drbd');
    expect(s.disk).toEqual({ resource: 'r0', device: '/dev/drbd0' });
    // nothing was copied as a file: the disk image exists on neither host (the app read and wrote none)
    for (const h of ['hostA', 'hostB']) expect((await onHost(t.lab, t.host(h), ['test', '-e', '/var/lib/lockstep/guest/disk.img'])).code).toBe(1);
    const events = value(run<{ message: string }[]>(['events', 'list', '--query', 'Disk copied']));
    expect(events).toEqual([]);
    const m = value(run<MirrorStatusDTO>(['mirror', 'status']));
    expect(m).toMatchObject({ state: 'standalone', underPair: 'split-in-lockstep' });
    expect(await t.count()).toBeGreaterThanOrEqual(0);
  }, 900_000);

  it("kill-primary-vm: hostB's agent takes over on its DRBD side; re-protect resyncs only what changed onto hostA", async () => {
    const d = await t.drill('kill-primary-vm', 'hostB');
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostB' } });
    t.reprotect('hostB', 'hostA');
  }, 900_000);

  it("power-off-host (hostB, now primary): hostA's agent fails back; after power-on re-protect resyncs and verifies", async () => {
    const d = await t.drill('power-off-host', 'hostA');
    expect(d.after).toMatchObject({ state: 'failed-over', survivor: { name: 'hostA' }, lost: { name: 'hostB' } });
    t.lab = value(run<Up>(['lab', 'power', 'hostB', 'on']));
    const s = t.reprotect('hostA', 'hostB');
    expect(s.lastResync!.sourceBitmapBytes).not.toBeNull();
    // the guest serves from the DRBD device, and its disk there has what a client was last given
    const n = await t.count();
    let onDisk: number | null = null;
    for (let i = 0; i < 20 && (onDisk ?? -1) < n; i++, await new Promise((r) => setTimeout(r, 500))) onDisk = await t.countOnDevice('hostA');
    expect(onDisk).toBeGreaterThanOrEqual(n);
  }, 900_000);

  it('lab status: both kernel hosts up after the power cycle', () => {
    const st = value(run<LabStatus>(['lab', 'status']));
    expect(st.state === 'up' && st.hosts.every((h) => h.power === 'on')).toBe(true);
  }, 900_000);
});
