import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaintenanceStatus } from '../../src-main/contract/index.js';
import { MAINTENANCE_FIGURES } from '../../src-main/contract/index.js';
import { leftovers } from '../../src-main/virtual-lab/observe.js';
import { maintenanceLab } from '../helpers/maintenance-lab.js';

/**
 * Host maintenance (issue 20) on the namespace lab: the primary's host (a planned switchover, the host
 * powered off and on for real, exit --failback) while an ordinary HTTP client and a TCP stream watch the
 * guest. Prints the bench figures as `name: value`. The secondary's host (no switchover) is
 * test/long/maintenance-secondary.spec.ts, run by `npm run bench` (CI's time budget); the maintenance
 * bench cycles both hosts too.
 */
const PREFIX = 'lmt';
const m = maintenanceLab(PREFIX, '198.18.76');
const { run, value, figures } = m;

beforeAll(() => m.up(), 900_000);
afterAll(() => m.down());

describe('host maintenance: reboot the primary host while the guest stays online (namespace hosts, COLO under TCG)', () => {
  it('refuses what it cannot do, with a fix', () => {
    const none = run(['host', 'maintenance', 'exit', 'hostA']);
    expect(none.error).toMatchObject({ code: 'not-in-maintenance' });
    expect(value(run<MaintenanceStatus>(['host', 'maintenance', 'status']), 'status').state).toBe('none');
  });

  it("the primary's host: planned switchover to hostB, hostA powered off and on, exit --failback re-protects and makes hostA primary again", async () => {
    await m.cycle('hostA', 'hostB', 'primary', true);
  }, 900_000);

  it('prints the bench figures; lab down leaves nothing', async () => {
    const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);
    console.log(`${MAINTENANCE_FIGURES.switchoverGapMs.bench}: ${max(figures.switchoverGapMs)}`);
    console.log(`${MAINTENANCE_FIGURES.unprotectedSeconds.bench}: ${max(figures.unprotectedSeconds)}`);
    console.log(`${MAINTENANCE_FIGURES.resyncBytes.bench}: ${max(figures.resyncBytes)}`);
    expect(figures.switchoverGapMs.length).toBe(1);
    expect(figures.switchoverGapMs[0]).toBeLessThan(10_000);
    m.down();
    expect(await leftovers(PREFIX)).toEqual([]);
  });
});
