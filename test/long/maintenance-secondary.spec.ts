import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaintenanceStatus } from '../../src-main/contract/index.js';
import { leftovers } from '../../src-main/virtual-lab/observe.js';
import { maintenanceLab } from '../helpers/maintenance-lab.js';

/**
 * Host maintenance on the secondary's host (namespace lab): no switchover, hostB powered off and on for
 * real, exit re-protects; the guest served the whole time on hostA. Run by `npm run bench` (group
 * `long`); the primary's host is test/lab/maintenance.spec.ts in `npm test`.
 */
const PREFIX = 'lms';
const m = maintenanceLab(PREFIX, '198.18.78');

beforeAll(() => m.up(), 900_000);
afterAll(() => m.down());

describe('host maintenance on the secondary host (namespace hosts, COLO under TCG)', () => {
  it("the secondary's host: no switchover, hostB powered off and on, exit re-protects", async () => {
    await m.cycle('hostB', 'hostA', 'secondary');
    const st = m.value(m.run<MaintenanceStatus>(['host', 'maintenance', 'status']), 'status');
    expect(st.state).toBe('protected');
  }, 900_000);

  it('lab down leaves nothing', async () => {
    m.down();
    expect(await leftovers(PREFIX)).toEqual([]);
  });
});
