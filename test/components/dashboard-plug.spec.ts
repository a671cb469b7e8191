import { render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import { setDoor } from '../../src-renderer/api.js';
import DashboardView from '../../src-renderer/views/DashboardView.svelte';
import { lockstep as inLockstep } from './pair-fixtures.js';

const lockstep = { ...inLockstep, secondaryOutput: 'flowing' as const };
import { pairState } from '../../src-renderer/stores/pair.svelte.js';
import { tasks } from '../../src-renderer/stores/tasks.svelte.js';

describe('Dashboard: Pull the plug', () => {
  it('is disabled with the reason while a re-protect runs, even when the last status said lockstep; free once it is done', async () => {
    setDoor({
      kind: 'web',
      invoke: async (name) => (name === 'lockstep.status' ? { ok: true, value: lockstep } : { ok: false, error: { code: 'x', message: 'not here' } }),
      onEvent: () => () => {},
    });
    pairState.pair = lockstep;
    const plan = {
      id: 'p1',
      kind: 'lockstep.reprotect',
      title: 'Re-protect: hostA stays primary',
      state: 'running' as const,
      createdAt: 1,
      updatedAt: 1,
      steps: [],
    };
    tasks.byId = { p1: plan };
    render(DashboardView);
    await tick();
    const pull = screen.getByRole('button', { name: 'Pull the plug…' }) as HTMLButtonElement;
    expect(pull.disabled).toBe(true);
    expect(screen.getByTestId('plug-blocked').textContent).toBe('Wait: “Re-protect: hostA stays primary” is running.');

    tasks.byId = { p1: { ...plan, state: 'done' } };
    await tick();
    expect(pull.disabled).toBe(false);
    expect(screen.queryByTestId('plug-blocked')).toBeNull();

    pairState.pair = { ...lockstep, secondaryOutput: 'stalled' };
    await tick();
    expect(pull.disabled).toBe(true);
    expect(screen.getByTestId('plug-blocked').textContent).toMatch(/stalled: re-protect first/);
  });
});
