import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { PairStatus } from '../../src-main/contract/index.js';
import { setDoor } from '../../src-renderer/api.js';
import MaintenancePanel from '../../src-renderer/components/MaintenancePanel.svelte';
import { confirmer } from '../../src-renderer/lib/confirm.svelte.js';
import { lockstep, side } from './pair-fixtures.js';
import { pairState } from '../../src-renderer/stores/pair.svelte.js';

/** A door that answers status calls and records every command (nothing acts). */
function fakeDoor(pair: PairStatus) {
  const calls: { name: string; input: unknown }[] = [];
  setDoor({
    kind: 'web',
    invoke: async (name, input) => {
      calls.push({ name, input });
      if (name === 'lockstep.status') return { ok: true, value: pair };
      if (name === 'host.maintenance') return { ok: true, value: { state: 'none', why: 'No host is in maintenance.', last: null } };
      return { ok: false, error: { code: 'x', message: 'not here' } };
    },
    onEvent: () => () => {},
  });
  return calls;
}
const enters = (calls: { name: string; input: unknown }[]) =>
  calls.filter((c) => c.name === 'host.maintenance' && (c.input as { action: string }).action === 'enter');

describe('MaintenancePanel', () => {
  it('one button per host naming what it does; a click asks once, Cancel does nothing, confirm enters maintenance on that host', async () => {
    const calls = fakeDoor(lockstep);
    pairState.pair = lockstep;
    render(MaintenancePanel);
    const a = screen.getByRole('button', { name: 'Maintenance on hostA…' });
    expect(screen.getByRole('button', { name: 'Maintenance on hostB…' })).toBeTruthy();
    expect(screen.getByTestId('maintenance-panel').textContent).toContain('Moves the guest to hostB (a planned switchover, TCP kept)');
    expect(screen.getByTestId('maintenance-panel').textContent).toContain('Stops the secondary VM on hostB');

    await fireEvent.click(a);
    expect(confirmer.current?.title).toBe('Put hostA in maintenance?');
    expect(confirmer.current?.destroys.join(' ')).toContain('the primary VM on hostA: the guest moves to hostB first');
    expect(confirmer.current?.confirmLabel).toBe('Put hostA in maintenance');
    confirmer.answer(false);
    await tick();
    expect(enters(calls)).toEqual([]);

    await fireEvent.click(a);
    confirmer.answer(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(enters(calls)).toEqual([{ name: 'host.maintenance', input: { action: 'enter', host: 'hostA' } }]);
  });

  it('in maintenance: says plainly what may be done, and failback asks before the second switchover', async () => {
    const inMaintenance: PairStatus = {
      state: 'maintenance',
      survivor: side('hostB', 'none'),
      host: side('hostA', 'none'),
      since: 0,
      guestAddress: '198.18.77.50',
    };
    const calls = fakeDoor(inMaintenance);
    pairState.pair = inMaintenance;
    render(MaintenancePanel);
    expect(screen.getByTestId('maintenance-say').textContent).toContain('hostA can be rebooted now; the guest runs unprotected on hostB.');
    await fireEvent.click(screen.getByRole('checkbox'));
    await fireEvent.click(screen.getByRole('button', { name: /end maintenance and re-protect/ }));
    expect(confirmer.current?.title).toBe('End maintenance and move the guest back to hostA?');
    confirmer.answer(false);
    await tick();
    expect(calls.filter((c) => c.name === 'host.maintenance' && (c.input as { action: string }).action === 'exit')).toEqual([]);
  });
});
